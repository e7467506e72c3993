//! `opsdeck check-config PATH` as scripts run it: exit status and stderr.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn check_config(path: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .arg("check-config")
        .arg(path)
        .env_remove("OPSDECK_CONFIG")
        .env_remove("OPSDECK_TEST_SURELY_UNSET_VAR")
        .output()
        .expect("run opsdeck")
}

#[test]

fn example_is_ok() {
    let path = repo().join("config.toml.example");
    let out = check_config(&path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("ok: {}", path.display())),
        "{stdout}"
    );
}

#[test]

fn every_invalid_fixture_exits_2_naming_file_line_and_key() {
    let dir = repo().join("tests/fixtures/config/invalid");
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 8);
    for path in fixtures {
        let body = std::fs::read_to_string(&path).unwrap();
        let spec = body.lines().next().unwrap().trim_start_matches("# expect:");
        let field = |name: &str| {
            spec.split_whitespace()
                .find_map(|p| p.strip_prefix(name))
                .unwrap()
                .to_string()
        };
        let (line, key) = (field("line="), field("key="));
        let out = check_config(&path);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {stderr}", path.display());
        let want = format!("{}:{line}: {key}: ", path.display());
        assert!(stderr.contains(&want), "expected `{want}` in: {stderr}");
    }
}
