//! The audit file names who deleted whose keys: it is created owner-only (0600) whatever
//! the umask, and an existing file's mode is left exactly as its owner set it.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

/// A dry-run warmup through the endpoint route: nothing is sent, two audit lines are written.
fn warmup_dry_run(dir: &Path, audit: &Path) -> std::process::Output {
    let file = dir.join("faq.jsonl");
    std::fs::write(&file, "{\"question\": \"q\", \"answer\": \"a\"}\n").unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[actions]\naudit_log = {:?}\n\n[actions.warmup]\nhttp_url = \"http://127.0.0.1:1/warmup\"\n",
            audit.display().to_string()
        ),
    )
    .unwrap();
    let script = format!(
        "umask 022; exec {:?} --config {:?} warmup --file {:?} --dry-run",
        env!("CARGO_BIN_EXE_opsdeck"),
        config.display().to_string(),
        file.display().to_string()
    );
    Command::new("sh").args(["-c", &script]).output().unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_new_audit_file_is_owner_only_under_umask_022() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("logs").join("audit.jsonl");
    let out = warmup_dry_run(dir.path(), &audit);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&audit).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert_eq!(mode(&audit), 0o600);
}

#[test]
fn an_existing_audit_file_keeps_the_mode_its_owner_chose() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    for chosen in [0o640, 0o600, 0o644] {
        std::fs::write(&audit, "").unwrap();
        std::fs::set_permissions(&audit, std::fs::Permissions::from_mode(chosen)).unwrap();
        let out = warmup_dry_run(dir.path(), &audit);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(mode(&audit), chosen, "appending changes no mode");
    }
}
