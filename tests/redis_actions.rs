//! Warmup and invalidation against a real redis-server and a real 3-master cluster.

mod support;

use opsdeck::config::{CacheConfig, InvalidateConfig, RedisConfig};
use opsdeck::domain::cache_key::answer_key;
use opsdeck::ops::audit::Audit;
use opsdeck::ops::invalidate::{
    self, InvalidateError, InvalidateOptions, InvalidatePlan, InvalidateTarget, PatternError,
    invalidate, preview,
};
use opsdeck::ops::warmup::{WarmupError, WarmupOptions, parse_jsonl, warmup};
use opsdeck::ops::{ActionEvent, CancelFlag};
use support::redis::{RedisCluster, RedisServer};
use tokio::sync::mpsc;

fn audit() -> (tempfile::TempDir, Audit) {
    let dir = tempfile::tempdir().unwrap();
    let audit = Audit::new(dir.path().join("audit.jsonl"));
    (dir, audit)
}

fn audit_lines(a: &Audit) -> Vec<serde_json::Value> {
    std::fs::read_to_string(a.path())
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn events() -> (mpsc::Sender<ActionEvent>, mpsc::Receiver<ActionEvent>) {
    mpsc::channel(10_000)
}

const FILE: &str = r#"{"question": "How do I reset my password?", "answer": "Use the account page."}
{"question": "如何修改密码？", "answer": "在用户中心修改。", "context": "用户中心", "ttl_s": 600}
not json at all
{"question": "Where is my order 📦?", "answer": {"text": "Tracking page", "links": ["/t"]}}

{"answer": "no question"}
"#;

fn cli_ttl(server: &RedisServer, key: &str) -> i64 {
    server.cli(&["TTL", key]).parse().unwrap()
}

#[tokio::test]
async fn warmup_writes_exactly_the_good_lines_with_python_keys_values_and_ttls() {
    let server = RedisServer::start();
    let cache = CacheConfig::default();
    let opts = WarmupOptions::from_config(&cache);
    let plan = parse_jsonl(FILE, "faq.jsonl", &opts);
    assert_eq!(
        plan.bad.iter().map(|b| b.line).collect::<Vec<_>>(),
        vec![3, 6],
        "bad lines are reported by number"
    );
    let (_d, audit) = audit();
    let (tx, mut rx) = events();
    let report = warmup(
        &server.config(),
        &plan,
        &opts,
        &audit,
        &tx,
        &CancelFlag::default(),
    )
    .await
    .unwrap();
    assert_eq!(report.written, 3);
    assert_eq!(server.cli(&["DBSIZE"]), "3");

    // Keys as Python computes them (tests/fixtures/cache_keys.json has the same vectors).
    let k1 = "answer:746d024558127e531f58b2906fe71852";
    assert_eq!(answer_key("How do I reset my password?", None, "v1"), k1);
    assert_eq!(server.cli(&["GET", k1]), "\"Use the account page.\"");
    let ttl = cli_ttl(&server, k1);
    assert!(
        (86_390..=86_400).contains(&ttl),
        "default TTL 24 h, got {ttl}"
    );

    let k2 = answer_key("如何修改密码？", Some("用户中心"), "v1");
    assert_eq!(
        server.cli(&["GET", &k2]),
        r#""\u5728\u7528\u6237\u4e2d\u5fc3\u4fee\u6539\u3002""#
    );
    let ttl = cli_ttl(&server, &k2);
    assert!((590..=600).contains(&ttl), "line ttl_s, got {ttl}");

    let k3 = answer_key("Where is my order 📦?", None, "v1");
    assert_eq!(
        server.cli(&["GET", &k3]),
        r#"{"links": ["/t"], "text": "Tracking page"}"#
    );

    let mut saw_finished = false;
    while let Ok(ev) = rx.try_recv() {
        if let ActionEvent::Finished { outcome, .. } = ev {
            assert!(outcome.unwrap().contains("wrote 3 of 3"));
            saw_finished = true;
        }
    }
    assert!(saw_finished);
    let lines = audit_lines(&audit);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["outcome"], "started");
    assert_eq!(lines[1]["outcome"], "ok");
}

#[tokio::test]
async fn warmup_of_n_lines_makes_n_keys_and_flag_ttl_wins() {
    let server = RedisServer::start();
    let mut opts = WarmupOptions::from_config(&CacheConfig::default());
    opts.ttl_override_s = Some(120);
    opts.batch_size = 64;
    let n = 2_500;
    let text: String = (0..n)
        .map(|i| format!("{{\"question\": \"q{i}\", \"answer\": \"a{i}\", \"ttl_s\": 5}}\n"))
        .collect();
    let plan = parse_jsonl(&text, "gen", &opts);
    let (_d, audit) = audit();
    let (tx, _rx) = events();
    let r = warmup(
        &server.config(),
        &plan,
        &opts,
        &audit,
        &tx,
        &CancelFlag::default(),
    )
    .await
    .unwrap();
    assert_eq!(r.written, n);
    assert_eq!(server.cli(&["DBSIZE"]), n.to_string());
    let ttl = cli_ttl(&server, &answer_key("q7", None, "v1"));
    assert!(
        (110..=120).contains(&ttl),
        "--ttl overrides the line, got {ttl}"
    );
}

#[tokio::test]
async fn strict_refuses_before_writing_and_dry_run_writes_nothing() {
    let server = RedisServer::start();
    let mut opts = WarmupOptions::from_config(&CacheConfig::default());
    let (_d, audit) = audit();
    let (tx, _rx) = events();

    opts.strict = true;
    let plan = parse_jsonl(FILE, "faq.jsonl", &opts);
    let err = warmup(
        &server.config(),
        &plan,
        &opts,
        &audit,
        &tx,
        &CancelFlag::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, WarmupError::Strict { .. }));
    assert!(err.to_string().contains("line 3"), "{err}");
    assert_eq!(server.cli(&["DBSIZE"]), "0");

    opts.strict = false;
    opts.dry_run = true;
    let r = warmup(
        &server.config(),
        &plan,
        &opts,
        &audit,
        &tx,
        &CancelFlag::default(),
    )
    .await
    .unwrap();
    assert_eq!((r.written, r.dry_run), (3, true));
    assert_eq!(server.cli(&["DBSIZE"]), "0");
    let lines = audit_lines(&audit);
    assert_eq!(lines[0]["outcome"], "refused");
    assert_eq!(lines[1]["dry_run"], true);
}

#[tokio::test]
async fn cancelled_warmup_stops_between_batches_and_reports_it() {
    let server = RedisServer::start();
    let opts = WarmupOptions::from_config(&CacheConfig::default());
    let text: String = (0..5000)
        .map(|i| format!("{{\"question\": \"q{i}\", \"answer\": 1}}\n"))
        .collect();
    let plan = parse_jsonl(&text, "gen", &opts);
    let (_d, audit) = audit();
    let (tx, _rx) = events();
    let cancel = CancelFlag::default();
    cancel.cancel();
    let r = warmup(&server.config(), &plan, &opts, &audit, &tx, &cancel)
        .await
        .unwrap();
    assert!(r.cancelled);
    assert_eq!(server.cli(&["DBSIZE"]), r.written.to_string());
    assert_eq!(audit_lines(&audit)[1]["outcome"], "cancelled");
}

fn seed_users(server_port: u16, ids: &[&str]) {
    for id in ids {
        for k in 0..3 {
            let key = format!("user:{id}:k{k}");
            assert_eq!(
                support::redis::redis_cli(server_port, &["SET", &key, "v"]),
                "OK"
            );
        }
    }
}

fn keys(server: &RedisServer) -> Vec<String> {
    let out = server.cli(&["--scan"]);
    let mut v: Vec<String> = out.lines().map(String::from).collect();
    v.sort();
    v
}

/// The plan the console and the CLI both build, on the default groups.
fn plan_of(target: InvalidateTarget) -> InvalidatePlan {
    invalidate::plan(&target, &InvalidateConfig::default()).unwrap()
}

async fn run_invalidate(
    cfg: &RedisConfig,
    target: InvalidateTarget,
    dry_run: bool,
) -> Result<u64, InvalidateError> {
    let (_d, audit) = audit();
    let (tx, _rx) = events();
    let mut opts = InvalidateOptions::from_config(&InvalidateConfig::default());
    opts.dry_run = dry_run;
    opts.scan_count = 7; // several pages even on small data
    invalidate(
        cfg,
        &plan_of(target),
        &opts,
        &audit,
        &tx,
        &CancelFlag::default(),
    )
    .await
    .map(|r| r.deleted)
}

#[tokio::test]
async fn invalidating_user_42_leaves_user_420_and_metacharacter_ids_match_only_themselves() {
    let server = RedisServer::start();
    let ids = [
        "42", "420", "4", "*", "4?", "4*", "[42]", "4", "a\\b", "ab", "a\\\\b", "?",
    ];
    seed_users(server.port, &ids);
    server.cli(&["SET", "answer:x", "1"]);
    let before = keys(&server);
    let cfg = server.config();

    assert_eq!(
        run_invalidate(&cfg, InvalidateTarget::user("42"), true)
            .await
            .unwrap(),
        3
    );
    assert_eq!(keys(&server), before, "dry run deletes nothing");

    let p = preview(
        &cfg,
        &plan_of(InvalidateTarget::user("42")),
        &InvalidateOptions::from_config(&InvalidateConfig::default()),
    )
    .await
    .unwrap();
    assert_eq!(p.count, 3);
    assert!(p.samples.iter().all(|k| k.starts_with("user:42:")));

    for id in ["42", "*", "4?", "[42]", "a\\b", "?"] {
        let expected: Vec<String> = keys(&server)
            .into_iter()
            .filter(|k| !k.starts_with(&format!("user:{id}:")))
            .collect();
        let n = run_invalidate(&cfg, InvalidateTarget::user(id), false)
            .await
            .unwrap();
        assert_eq!(n, 3, "user {id:?}");
        assert_eq!(
            keys(&server),
            expected,
            "invalidating user {id:?} deleted only its keys"
        );
    }
    let left = keys(&server);
    for survivor in [
        "user:420:k0",
        "user:4:k0",
        "user:4*:k0",
        "user:ab:k0",
        "user:a\\\\b:k0",
        "answer:x",
    ] {
        assert!(
            left.contains(&survivor.to_string()),
            "{survivor} survives: {left:?}"
        );
    }
}

#[test]
fn patterns_without_a_literal_prefix_are_refused_before_anything_runs() {
    for p in ["*", "**", "?*", "*:*", "?*:*", "[^\\]]*"] {
        let refused = invalidate::plan(
            &InvalidateTarget::Pattern(p.into()),
            &InvalidateConfig::default(),
        );
        assert!(
            matches!(refused, Err(PatternError::NoLiteralPrefix(_))),
            "{p}: {refused:?}"
        );
    }
}

#[tokio::test]
async fn knowledge_group_deletes_answers_and_knowledge_only_with_throttle() {
    let server = RedisServer::start();
    let mut pipe = String::new();
    for i in 0..3000 {
        pipe.push_str(&format!("SET answer:{i} 1\r\nSET knowledge:{i} 1\r\n"));
    }
    let mut child = std::process::Command::new("redis-cli")
        .args(["-p", &server.port.to_string(), "--pipe"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(pipe.as_bytes())
        .unwrap();
    child.wait().unwrap();
    server.cli(&["SET", "user:1:x", "1"]);
    let (_d, audit) = audit();
    let (tx, _rx) = events();
    let mut opts = InvalidateOptions::from_config(&InvalidateConfig::default());
    opts.max_keys_per_sec = 20_000;
    let r = invalidate(
        &server.config(),
        &plan_of(InvalidateTarget::group("knowledge")),
        &opts,
        &audit,
        &tx,
        &CancelFlag::default(),
    )
    .await
    .unwrap();
    assert_eq!(r.deleted, 6000);
    assert!(
        r.keys_per_sec <= 20_000.0 * 1.001,
        "throttled to the ceiling: {}",
        r.keys_per_sec
    );
    assert_eq!(keys(&server), vec!["user:1:x".to_string()]);
    let lines = audit_lines(&audit);
    assert_eq!(lines[1]["outcome"], "ok");
    assert!(
        lines[1]["detail"]
            .as_str()
            .unwrap()
            .contains("deleted 6000")
    );
}

#[tokio::test]
async fn cluster_warmup_and_invalidation_span_all_masters() {
    let cluster = RedisCluster::start();
    let cfg = cluster.config();
    let opts = WarmupOptions::from_config(&CacheConfig::default());
    let mut text = String::new();
    for i in 0..1500 {
        text.push_str(&format!("{{\"question\": \"q{i}\", \"answer\": \"a\"}}\n"));
    }
    let plan = parse_jsonl(&text, "gen", &opts);
    let (_d, audit) = audit();
    let (tx, _rx) = events();
    let r = warmup(&cfg, &plan, &opts, &audit, &tx, &CancelFlag::default())
        .await
        .unwrap();
    assert_eq!(r.written, 1500);
    assert_eq!(cluster.total_keys(), 1500);
    for n in &cluster.nodes {
        assert!(
            n.cli(&["DBSIZE"]).parse::<u64>().unwrap() > 300,
            "keys spread over every master"
        );
    }
    for id in ["42", "420"] {
        for k in 0..20 {
            let key = format!("user:{id}:k{k}");
            assert_eq!(
                support::redis::redis_cli(cluster.nodes[0].port, &["-c", "SET", &key, "v"]),
                "OK"
            );
        }
    }
    let n = run_invalidate(&cfg, InvalidateTarget::user("42"), false)
        .await
        .unwrap();
    assert_eq!(n, 20);
    assert_eq!(cluster.total_keys(), 1520);
    let n = run_invalidate(&cfg, InvalidateTarget::group("knowledge"), false)
        .await
        .unwrap();
    assert_eq!(n, 1500);
    assert_eq!(cluster.total_keys(), 20);
}

/// A cluster configured with `urls` (the default `url` left in place, as a config file
/// with only `urls` has it): the audit names a node of that cluster, never the unused
/// default 127.0.0.1:6379.
#[tokio::test]
async fn a_cluster_given_by_urls_is_the_server_named_in_the_audit() {
    let cluster = RedisCluster::start();
    let cfg = RedisConfig {
        urls: cluster.nodes.iter().map(|n| n.url()).collect(),
        cluster: true,
        ..RedisConfig::default()
    };
    assert!(cfg.url.is_some(), "the default url is still set");
    support::redis::redis_cli(cluster.nodes[0].port, &["-c", "SET", "answer:1", "v"]);
    let (_d, audit) = audit();
    let (tx, _rx) = events();
    let opts = InvalidateOptions::from_config(&InvalidateConfig::default());
    let r = invalidate(
        &cfg,
        &plan_of(InvalidateTarget::group("knowledge")),
        &opts,
        &audit,
        &tx,
        &CancelFlag::default(),
    )
    .await
    .unwrap();
    assert_eq!(r.deleted, 1);
    let first = format!("127.0.0.1:{}", cluster.nodes[0].port);
    for line in audit_lines(&audit) {
        let target = line["target"].as_str().unwrap();
        assert!(
            target.contains(&first) && !target.contains(":6379"),
            "{target}"
        );
    }
}
