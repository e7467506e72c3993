//! The headless commands against a real redis-server: `snapshot --json` shows the window
//! and lifetime hit rates; `warmup` and `invalidate` act only on their target, refuse what
//! they must, and exit with the documented codes.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use support::redis::RedisServer;

fn write_config(dir: &Path, server: &RedisServer) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    let audit = dir.join("audit.jsonl");
    std::fs::write(
        &path,
        format!(
            "[ui]\nrefresh_ms = 1000\n[redis]\nurl = \"{}\"\n[actions]\naudit_log = \"{}\"\n",
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

/// Sends GETs in a steady 3 hits : 1 miss rhythm until stopped.
fn traffic(port: u16, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        let mut n = 0;
        let mut line = String::new();
        while !stop.load(Ordering::Relaxed) {
            writer
                .write_all(
                    b"GET answer:hot\r\nGET answer:hot\r\nGET answer:hot\r\nGET answer:cold\r\n",
                )
                .unwrap();
            for _ in 0..4 {
                line.clear();
                reader.read_line(&mut line).unwrap();
                if line.starts_with('$') && !line.starts_with("$-1") {
                    line.clear();
                    reader.read_line(&mut line).unwrap();
                }
            }
            n += 4;
        }
        n
    })
}

/// Pipelines `n` GETs of a key that does not exist.
fn misses(port: u16, n: usize) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(&b"GET answer:none\r\n".repeat(n)).unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    for _ in 0..n {
        line.clear();
        reader.read_line(&mut line).unwrap();
    }
}

fn info_counter(server: &RedisServer, name: &str) -> f64 {
    let info = server.cli(&["INFO", "stats"]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn snapshot_json_shows_window_and_lifetime_hit_rates() {
    let server = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server);
    server.cli(&["SET", "answer:hot", "\"42\""]);
    // Before the window: 50k misses, so the lifetime ratio and the window differ.
    misses(server.port, 50_000);
    let before = info_counter(&server, "keyspace_hits")
        / (info_counter(&server, "keyspace_hits") + info_counter(&server, "keyspace_misses"));
    let stop = Arc::new(AtomicBool::new(false));
    let load = traffic(server.port, stop.clone());
    let out = opsdeck(&config, &["snapshot", "--json"]);
    stop.store(true, Ordering::Relaxed);
    let sent = load.join().unwrap();
    assert!(
        sent > 400,
        "traffic generator too slow to measure ({sent} GETs)"
    );
    let hits = info_counter(&server, "keyspace_hits");
    let misses = info_counter(&server, "keyspace_misses");
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    assert_eq!(json["sources"]["redis"]["status"], "ok", "{}", text(&out));
    let window = json["cache"]["hit_rate"].as_f64().unwrap();
    assert!(
        (window - 0.75).abs() < 0.02,
        "window hit rate {window}, traffic was 3:1"
    );
    let lifetime = json["cache"]["hit_rate_lifetime"].as_f64().unwrap();
    // The snapshot read the raw counters somewhere between these two readings.
    let after = hits / (hits + misses);
    assert!(
        before <= lifetime && lifetime <= after,
        "lifetime {lifetime} outside [{before}, {after}]"
    );
    assert!(
        lifetime < window - 0.05,
        "lifetime {lifetime} must include the early misses"
    );
    assert!(json["cache"]["hits_per_sec"].as_f64().unwrap() > 0.0);
    assert_eq!(json["sources"]["prometheus"]["status"], "disabled");
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn snapshot_with_redis_down_reports_the_error_and_exits_1() {
    let mut server = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server);
    server.stop();
    let out = opsdeck(&config, &["snapshot", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["sources"]["redis"]["status"], "error");
    assert!(
        json["sources"]["redis"]["error"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1")
    );
    assert!(json["cache"].is_null(), "no figures rather than zeros");
}

#[test]
fn warmup_command_writes_the_file_and_reports_bad_lines() {
    let server = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server);
    let file = dir.path().join("faq.jsonl");
    std::fs::write(
        &file,
        "{\"question\": \"退货政策是什么？\", \"answer\": \"30天内可退\"}\nnot json\n{\"question\": \"q2\", \"answer\": {\"text\": \"a2\"}, \"context\": \"vip\", \"ttl_s\": 60}\n",
    )
    .unwrap();
    let dry = opsdeck(
        &config,
        &["warmup", "--file", file.to_str().unwrap(), "--dry-run"],
    );
    assert!(dry.status.success(), "{}", text(&dry));
    assert_eq!(
        server.cli(&["DBSIZE"]).trim(),
        "0",
        "dry run writes nothing"
    );
    let strict = opsdeck(
        &config,
        &["warmup", "--file", file.to_str().unwrap(), "--strict"],
    );
    assert_eq!(strict.status.code(), Some(3), "{}", text(&strict));
    assert_eq!(
        server.cli(&["DBSIZE"]).trim(),
        "0",
        "strict refuses before writing"
    );
    let out = opsdeck(&config, &["warmup", "--file", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(":2: skipped"),
        "{}",
        text(&out)
    );
    assert_eq!(server.cli(&["DBSIZE"]).trim(), "2");
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert!(audit.lines().count() >= 2, "start and end lines: {audit}");
}

#[test]
fn invalidate_command_deletes_only_its_target_and_refuses_what_it_must() {
    let server = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server);
    for k in [
        "user:42:a",
        "user:42:b",
        "user:420:a",
        "answer:x",
        "knowledge:y",
    ] {
        server.cli(&["SET", k, "1"]);
    }
    let everything = opsdeck(&config, &["invalidate", "--pattern", "*", "--yes"]);
    assert_eq!(everything.status.code(), Some(3), "{}", text(&everything));
    let unconfirmed = opsdeck(&config, &["invalidate", "--user", "42"]);
    assert_eq!(
        unconfirmed.status.code(),
        Some(3),
        "no terminal and no --yes: {}",
        text(&unconfirmed)
    );
    let dry = opsdeck(&config, &["invalidate", "--user", "42", "--dry-run"]);
    assert!(dry.status.success(), "{}", text(&dry));
    assert!(
        String::from_utf8_lossy(&dry.stdout).contains("2 keys match"),
        "{}",
        text(&dry)
    );
    assert_eq!(server.cli(&["DBSIZE"]).trim(), "5");
    let out = opsdeck(&config, &["invalidate", "--user", "42", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        server.cli(&["EXISTS", "user:42:a", "user:42:b"]).trim(),
        "0"
    );
    assert_eq!(
        server
            .cli(&["EXISTS", "user:420:a", "answer:x", "knowledge:y"])
            .trim(),
        "3"
    );
    let group = opsdeck(&config, &["invalidate", "--group", "knowledge", "--yes"]);
    assert!(group.status.success(), "{}", text(&group));
    assert_eq!(
        server.cli(&["DBSIZE"]).trim(),
        "1",
        "only user:420:a is left"
    );
}

#[test]
fn read_only_refuses_warmup_and_invalidate_but_not_a_dry_run() {
    let server = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server);
    server.cli(&["SET", "user:42:a", "1"]);
    let file = dir.path().join("faq.jsonl");
    std::fs::write(&file, "{\"question\": \"q\", \"answer\": \"a\"}\n").unwrap();
    let inv = opsdeck(
        &config,
        &["--read-only", "invalidate", "--user", "42", "--yes"],
    );
    assert_eq!(inv.status.code(), Some(3), "{}", text(&inv));
    let warm = opsdeck(
        &config,
        &["--read-only", "warmup", "--file", file.to_str().unwrap()],
    );
    assert_eq!(warm.status.code(), Some(3), "{}", text(&warm));
    assert_eq!(
        server.cli(&["DBSIZE"]).trim(),
        "1",
        "nothing written, nothing deleted"
    );
    let dry = opsdeck(
        &config,
        &["--read-only", "invalidate", "--user", "42", "--dry-run"],
    );
    assert!(dry.status.success(), "{}", text(&dry));
    assert!(
        !dir.path().join("audit.jsonl").exists()
            || std::fs::read_to_string(dir.path().join("audit.jsonl"))
                .unwrap()
                .lines()
                .all(|l| l.contains("\"dry_run\":true"))
    );
}

/// SIGTERM during a throttled `invalidate --yes`: it stops between batches, the audit's end
/// line says "interrupted" with the keys deleted so far, and the exit status is 1.
#[test]
fn sigterm_interrupts_a_headless_invalidation_and_finishes_its_audit() {
    let server = RedisServer::start();
    let mut pipe = String::new();
    for i in 0..3000 {
        pipe.push_str(&format!("SET answer:{i} 1\r\n"));
    }
    server.pipe(&pipe);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server);
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml.push_str("[actions.invalidate]\nmax_keys_per_sec = 500\n");
    std::fs::write(&config, toml).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .arg("--config")
        .arg(&config)
        .args(["invalidate", "--group", "knowledge", "--yes"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let outcomes: Vec<&str> = lines
        .iter()
        .map(|l| l["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["started", "interrupted"], "{audit}");
    let deleted = lines[1]["parameters"]["deleted"].as_u64().unwrap();
    let left: u64 = server.cli(&["DBSIZE"]).trim().parse().unwrap();
    assert!(deleted > 0 && deleted < 3000, "deleted {deleted}");
    assert_eq!(deleted + left, 3000, "the end line counts what is gone");
}

/// `--ttl 0` is refused before anything is read or sent, whichever route the config picks.
#[test]
fn a_zero_ttl_is_refused_on_every_route() {
    let server = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("w.jsonl");
    std::fs::write(&file, "{\"question\":\"q\",\"answer\":\"a\"}\n").unwrap();
    let redis = write_config(dir.path(), &server);
    let http = dir.path().join("http.toml");
    std::fs::write(
        &http,
        "[actions.warmup]\nhttp_url = \"http://127.0.0.1:9/warmup\"\n",
    )
    .unwrap();
    for config in [&redis, &http] {
        let out = opsdeck(
            config,
            &["warmup", "--file", file.to_str().unwrap(), "--ttl", "0"],
        );
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("--ttl"),
            "{}",
            text(&out)
        );
    }
    assert_eq!(server.cli(&["DBSIZE"]).trim(), "0");
}

/// The audit names the OS account from the uid; `$USER` is only recorded beside it.
#[test]
fn the_audit_names_the_account_not_the_environment() {
    let server = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server);
    let out = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .arg("--config")
        .arg(&config)
        .args(["invalidate", "--group", "knowledge", "--dry-run"])
        .env("USER", "mallory")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let uid = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().next().map(String::from))
        .unwrap();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let account = passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.get(2) == Some(&uid.as_str())).then(|| f[0].to_string())
        })
        .unwrap_or(format!("uid {uid}"));
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    for line in audit.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["user"], account.as_str(), "{line}");
        assert_eq!(v["env_user"], "mallory", "{line}");
    }
}

/// A key name with control characters is printed escaped: it cannot move the cursor or
/// recolour the operator's terminal.
#[test]
fn key_names_are_printed_with_control_characters_escaped() {
    let server = RedisServer::start();
    server.pipe("SET \"answer:\\x1b[2Jwipe\" 1\r\n");
    assert_eq!(server.cli(&["DBSIZE"]).trim(), "1");
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server);
    let out = opsdeck(
        &config,
        &["invalidate", "--group", "knowledge", "--dry-run"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains('\x1b'), "{stdout:?}");
    assert!(stdout.contains("answer:\\u{1b}[2Jwipe"), "{stdout}");
}

/// `--group` with `--user` fills that group's `{user_id}` only; patterns without two
/// literal characters and ids with ':' are refused before anything is read.
#[test]
fn invalidate_group_for_a_user_and_the_refusals() {
    let server = RedisServer::start();
    for k in ["session:42:a", "session:420:a", "user:42:p", "answer:1"] {
        server.cli(&["SET", k, "1"]);
    }
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server);
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml.push_str(
        "[[actions.invalidate.groups]]\nname = \"knowledge\"\npatterns = [\"answer:*\", \"knowledge:*\"]\n\
         [[actions.invalidate.groups]]\nname = \"user\"\npatterns = [\"user:{user_id}:*\"]\n\
         [[actions.invalidate.groups]]\nname = \"sessions\"\npatterns = [\"session:{user_id}:*\"]\n",
    );
    std::fs::write(&config, toml).unwrap();
    let out = opsdeck(
        &config,
        &[
            "invalidate",
            "--group",
            "sessions",
            "--user",
            " 42 ",
            "--yes",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut left: Vec<String> = server
        .cli(&["KEYS", "*"])
        .lines()
        .map(String::from)
        .collect();
    left.sort();
    assert_eq!(left, ["answer:1", "session:420:a", "user:42:p"]);
    for args in [
        &["invalidate", "--pattern", "*:*", "--yes"][..],
        &["invalidate", "--pattern", "?*:*", "--yes"],
        &["invalidate", "--pattern", "[^\\]]*", "--yes"],
        &["invalidate", "--user", "a:b", "--yes"],
        &["invalidate", "--user", "   ", "--yes"],
        &["invalidate", "--group", "knowledge", "--user", "7", "--yes"],
    ] {
        let out = opsdeck(&config, args);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).starts_with("refused: "),
            "{}",
            text(&out)
        );
    }
    assert_eq!(server.cli(&["DBSIZE"]).trim(), "3", "nothing else deleted");
}

/// Headless actions act on a config file's backends only: with `--demo` or with no config
/// file found they refuse (exit 2) and say where config is looked up.
#[test]
fn headless_actions_refuse_without_a_config_or_on_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_opsdeck"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("OPSDECK_CONFIG")
            .env("XDG_CONFIG_HOME", dir.path().join("xdg"))
            .env("HOME", dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    for args in [
        &["scale", "cs-prod/api", "--replicas", "3", "--yes"][..],
        &["invalidate", "--group", "knowledge", "--yes"],
        &["warmup", "--file", "x.jsonl"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("no config file found") && err.contains("--config"),
            "{err}"
        );
        let mut demo = vec!["--demo"];
        demo.extend_from_slice(args);
        let out = run(&demo);
        assert_eq!(out.status.code(), Some(2), "{demo:?}: {}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("--demo"),
            "{}",
            text(&out)
        );
    }
}
