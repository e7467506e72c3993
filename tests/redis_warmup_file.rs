//! Warmup straight from a file (`opsdeck warmup --file`, the console's `w`): parsed while
//! earlier batches are written, on opsdeck's own RESP connection to a single server.

mod support;

use opsdeck::config::{CacheConfig, RedisConfig};
use opsdeck::domain::cache_key::answer_key;
use opsdeck::ops::audit::Audit;
use opsdeck::ops::warmup::{BadLine, WarmupError, WarmupOptions, WarmupTarget, warmup_file};
use opsdeck::ops::{ActionEvent, CancelFlag};
use std::path::Path;
use support::redis::{RedisCluster, RedisServer, redis_cli};
use tokio::sync::mpsc;

struct Run {
    result: Result<opsdeck::ops::warmup::WarmupReport, WarmupError>,
    bad: Vec<usize>,
    audit: Vec<serde_json::Value>,
    progress: Vec<(u64, Option<u64>)>,
}

async fn run(cfg: &RedisConfig, path: &Path, opts: &WarmupOptions, cancel: &CancelFlag) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let audit = Audit::new(dir.path().join("audit.jsonl"));
    let (tx, mut rx) = mpsc::channel(100_000);
    let mut bad = Vec::new();
    let mut on_bad = |b: &BadLine| bad.push(b.line);
    let target = WarmupTarget::Redis(cfg);
    let result = warmup_file(target, path, opts, &audit, &tx, cancel, &mut on_bad).await;
    let mut progress = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        if let ActionEvent::Progress { done, total, .. } = ev {
            progress.push((done, total));
        }
    }
    let audit = std::fs::read_to_string(audit.path())
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    Run {
        result,
        bad,
        audit,
        progress,
    }
}

fn write_file(dir: &Path, n: usize, bad_every: usize) -> std::path::PathBuf {
    let mut bytes = Vec::new();
    for i in 0..n {
        if bad_every > 0 && i % bad_every == 7 {
            bytes.extend_from_slice(b"{\"answer\": \"no question\"}\n\xff\xfe not utf-8\n\n");
        }
        let line = format!("{{\"question\": \"问 {i}\", \"answer\": \"a{i}\", \"ttl_s\": 300}}\n");
        bytes.extend_from_slice(line.as_bytes());
    }
    let path = dir.join("faq.jsonl");
    std::fs::write(&path, bytes).unwrap();
    path
}

#[tokio::test]
async fn acl_user_and_db_every_line_keyed_bad_lines_reported_audited_with_counts() {
    let server = RedisServer::start_with(&["--requirepass", "s3cret"]);
    let acl = ["-a", "s3cret", "--no-auth-warning"];
    let setuser = [
        &acl[..],
        &["ACL", "SETUSER", "ops", "on", ">pw", "~*", "+@all"],
    ]
    .concat();
    assert_eq!(redis_cli(server.port, &setuser), "OK");
    let mut cfg = server.config();
    cfg.url = Some(format!("redis://127.0.0.1:{}/3", server.port));
    cfg.username = Some("ops".into());
    cfg.password = Some("pw".into());
    let dir = tempfile::tempdir().unwrap();
    let n = 3_500;
    let path = write_file(dir.path(), n, 1000);
    let opts = WarmupOptions::from_config(&CacheConfig::default());
    let r = run(&cfg, &path, &opts, &CancelFlag::default()).await;
    let report = r.result.unwrap();
    assert_eq!((report.written, report.total), (n as u64, n as u64));
    assert_eq!(report.skipped, 8, "two bad lines in each of four places");
    // Line numbers count the bad and blank lines before them.
    assert_eq!(&r.bad[..4], &[8, 9, 1011, 1012]);
    let db3 = [&acl[..], &["-n", "3"]].concat();
    assert_eq!(
        redis_cli(server.port, &[&db3[..], &["DBSIZE"]].concat()),
        n.to_string()
    );
    let key = answer_key("问 42", None, "v1");
    let get = redis_cli(server.port, &[&db3[..], &["GET", &key]].concat());
    assert_eq!(get, "\"a42\"");
    let ttl: i64 = redis_cli(server.port, &[&db3[..], &["TTL", &key]].concat())
        .parse()
        .unwrap();
    assert!((290..=300).contains(&ttl), "line ttl_s, got {ttl}");
    assert_eq!(r.audit.len(), 2);
    assert_eq!(r.audit[0]["outcome"], "started");
    assert_eq!(r.audit[1]["outcome"], "ok");
    assert_eq!(r.audit[1]["parameters"]["entries"], n);
    assert_eq!(r.audit[1]["parameters"]["bad_lines"], 8);
    let last = r.progress.last().unwrap();
    assert_eq!(
        *last,
        (n as u64, Some(n as u64)),
        "the last tick has the exact total"
    );
}

#[tokio::test]
async fn unix_socket_and_refused_writes_are_reported_with_what_landed() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("redis.sock");
    let server = RedisServer::start_with(&["--unixsocket", sock.to_str().unwrap()]);
    let mut cfg = server.config();
    cfg.url = Some(format!("unix://{}", sock.display()));
    let path = write_file(dir.path(), 2_000, 0);
    let opts = WarmupOptions::from_config(&CacheConfig::default());
    let r = run(&cfg, &path, &opts, &CancelFlag::default()).await;
    assert_eq!(r.result.unwrap().written, 2_000);

    server.cli(&["FLUSHALL"]);
    server.cli(&["CONFIG", "SET", "maxmemory-policy", "noeviction"]);
    server.cli(&["CONFIG", "SET", "maxmemory", "1"]);
    let r = run(&cfg, &path, &opts, &CancelFlag::default()).await;
    let err = r.result.unwrap_err();
    assert!(
        matches!(err, WarmupError::Write { written: 0, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("OOM"), "the server's words: {err}");
    assert_eq!(r.audit[1]["outcome"], "failed");
}

#[tokio::test]
async fn cancelled_before_the_first_batch_writes_nothing_and_counts_the_file() {
    let server = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), 5_000, 1000);
    let opts = WarmupOptions::from_config(&CacheConfig::default());
    let cancel = CancelFlag::default();
    cancel.cancel();
    let r = run(&server.config(), &path, &opts, &cancel).await;
    let report = r.result.unwrap();
    assert!(report.cancelled);
    assert_eq!(
        (report.written, report.total, report.skipped),
        (0, 5_000, 10)
    );
    assert_eq!(server.cli(&["DBSIZE"]), "0");
    assert_eq!(r.audit[1]["outcome"], "cancelled");
}

#[tokio::test]
async fn a_missing_file_is_a_read_error_before_anything_is_audited() {
    let server = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let opts = WarmupOptions::from_config(&CacheConfig::default());
    let missing = dir.path().join("nope.jsonl");
    let r = run(&server.config(), &missing, &opts, &CancelFlag::default()).await;
    assert!(matches!(r.result, Err(WarmupError::Read { .. })));
    assert!(r.audit.is_empty());
}

#[tokio::test]
async fn a_cluster_is_written_by_slot_from_a_file() {
    let cluster = RedisCluster::start();
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), 1_500, 0);
    let opts = WarmupOptions::from_config(&CacheConfig::default());
    let r = run(&cluster.config(), &path, &opts, &CancelFlag::default()).await;
    assert_eq!(r.result.unwrap().written, 1_500);
    assert_eq!(cluster.total_keys(), 1_500);
}
