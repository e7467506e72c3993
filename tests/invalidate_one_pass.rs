//! A group of several patterns is invalidated in one SCAN pass per master, and `--yes`
//! starts deleting at once (no counting pass first): what Redis spends on an invalidation
//! is one walk of its keyspace, whatever the number of patterns.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use support::redis::RedisServer;

fn write_config(dir: &Path, server: &RedisServer, extra: &str) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    let audit = dir.join("audit.jsonl");
    std::fs::write(
        &path,
        format!(
            "[redis]\nurl = \"{}\"\n[actions]\naudit_log = \"{}\"\n{extra}",
            server.url(),
            audit.display()
        ),
    )
    .unwrap();
    path
}

fn opsdeck(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `cmdstat_scan` calls so far.
fn scan_calls(server: &RedisServer) -> u64 {
    let info = server.cli(&["INFO", "commandstats"]);
    info.lines()
        .find_map(|l| l.strip_prefix("cmdstat_scan:calls="))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |n| n.parse().unwrap())
}

fn seed(server: &RedisServer, n: usize) {
    let mut pipe = String::new();
    for i in 0..n {
        pipe.push_str(&format!(
            "SET answer:{i} 1\r\nSET knowledge:{i} 1\r\nSET session:{i} 1\r\n"
        ));
    }
    server.pipe(&pipe);
}

#[test]
fn a_two_pattern_group_with_yes_walks_the_keyspace_once() {
    let server = RedisServer::start();
    let n = 3_000;
    seed(&server, n);
    // Overlapping patterns: a key both match is deleted and counted once.
    let extra = "[actions.invalidate]\nmax_keys_per_sec = 0\n\
                 [[actions.invalidate.groups]]\nname = \"faq\"\n\
                 patterns = [\"answer:*\", \"knowledge:*\", \"answer:1*\"]\n";
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server, extra);
    let before = scan_calls(&server);
    let out = opsdeck(&config, &["invalidate", "--group", "faq", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let calls = scan_calls(&server) - before;
    // One pass over 9000 keys at COUNT 500 is about 18 calls; a pass per pattern, or a
    // counting pass before deleting, at least doubles it.
    let one_pass = (3 * n / 500) as u64;
    assert!(
        calls <= one_pass + one_pass / 2,
        "{calls} SCAN calls for {} keys: more than one pass",
        3 * n
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("deleted {} keys", 2 * n)),
        "{}",
        text(&out)
    );
    assert_eq!(server.cli(&["DBSIZE"]).trim(), n.to_string());
    assert_eq!(
        server.cli(&["EXISTS", "session:1", "session:2999"]).trim(),
        "2"
    );
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    let end: serde_json::Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(end["outcome"], "ok");
    assert_eq!(end["parameters"]["deleted"], 2 * n);
}

#[test]
fn dry_run_and_the_preview_still_count_before_anything_is_deleted() {
    let server = RedisServer::start();
    seed(&server, 100);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server, "");
    let dry = opsdeck(
        &config,
        &["invalidate", "--group", "knowledge", "--dry-run"],
    );
    assert!(dry.status.success(), "{}", text(&dry));
    let stdout = String::from_utf8_lossy(&dry.stdout);
    assert!(
        stdout.contains("200 keys match answer:*, knowledge:*"),
        "{}",
        text(&dry)
    );
    assert!(stdout.contains("would delete 200 keys"), "{}", text(&dry));
    let unconfirmed = opsdeck(&config, &["invalidate", "--group", "knowledge"]);
    assert_eq!(unconfirmed.status.code(), Some(3), "{}", text(&unconfirmed));
    assert!(
        String::from_utf8_lossy(&unconfirmed.stdout).contains("200 keys match"),
        "the preview is shown before asking: {}",
        text(&unconfirmed)
    );
    assert_eq!(server.cli(&["DBSIZE"]).trim(), "300");
}
