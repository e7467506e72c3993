//! `rediss://` with `[redis] ca_file` against a real redis-server that speaks only TLS:
//! the source samples it, warmup and invalidate work over it, and a CA that did not sign
//! the server's certificate is a clear error, not a panic or a hang.

mod support;

use opsdeck::config::{CacheConfig, InvalidateConfig};
use opsdeck::ops::audit::Audit;
use opsdeck::ops::invalidate::{InvalidateOptions, InvalidateTarget, invalidate};
use opsdeck::ops::warmup::{WarmupOptions, parse_jsonl, warmup};
use opsdeck::ops::{ActionEvent, CancelFlag};
use opsdeck::sources::redis::{Sampler, sample_twice};
use std::time::Duration;
use support::redis::{RedisServer, new_ca};
use tokio::sync::mpsc;

fn events() -> (mpsc::Sender<ActionEvent>, mpsc::Receiver<ActionEvent>) {
    mpsc::channel(1_000)
}

#[tokio::test]
async fn source_samples_a_tls_server_with_the_configured_ca() {
    let server = RedisServer::start_tls();
    server.cli(&["SET", "answer:a", "1"]);
    server.cli(&["GET", "answer:a"]);
    server.cli(&["GET", "answer:missing"]);
    let cfg = server.config();
    assert!(
        cfg.url
            .as_deref()
            .unwrap()
            .starts_with("rediss://127.0.0.1:")
    );
    assert!(cfg.ca_file.is_some());

    let mut sampler = Sampler::new(cfg.clone(), Duration::from_secs(5)).unwrap();
    let first = sampler.sample().await.unwrap();
    assert_eq!(first.keys, 1);
    assert_eq!(first.hit_rate_lifetime, Some(0.5));

    // Long enough for the prefix scan's own TLS connection to finish its first pass.
    let s = sample_twice(cfg, Duration::from_millis(600)).await.unwrap();
    assert_eq!(s.prefixes[0].prefix, "answer:");
    assert_eq!(s.prefixes[0].keys, 1);
    assert!(s.ping_ms > 0.0);
}

#[tokio::test]
async fn warmup_and_invalidate_over_tls() {
    let server = RedisServer::start_tls();
    let dir = tempfile::tempdir().unwrap();
    let audit = Audit::new(dir.path().join("audit.jsonl"));
    let opts = WarmupOptions::from_config(&CacheConfig::default());
    let plan = parse_jsonl(
        "{\"question\": \"q1\", \"answer\": \"a1\"}\n{\"question\": \"q2\", \"answer\": \"a2\"}\n",
        "faq.jsonl",
        &opts,
    );
    let (tx, _rx) = events();
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
    assert_eq!(report.written, 2);
    server.cli(&["SET", "user:7:profile", "x"]);
    assert_eq!(server.cli(&["DBSIZE"]), "3");

    let groups = InvalidateConfig::default();
    let plan =
        opsdeck::ops::invalidate::plan(&InvalidateTarget::group("knowledge"), &groups).unwrap();
    let report = invalidate(
        &server.config(),
        &plan,
        &InvalidateOptions::from_config(&groups),
        &audit,
        &tx,
        &CancelFlag::default(),
    )
    .await
    .unwrap();
    assert_eq!(report.deleted, 2);
    assert_eq!(server.cli(&["DBSIZE"]), "1");
    assert_eq!(server.cli(&["EXISTS", "user:7:profile"]), "1");
}

#[tokio::test]
async fn a_ca_that_did_not_sign_the_server_is_a_clear_error() {
    let server = RedisServer::start_tls();
    let dir = tempfile::tempdir().unwrap();
    let other_ca = dir.path().join("other-ca.crt");
    new_ca(&other_ca, &dir.path().join("other-ca.key"), "some other CA");
    let mut cfg = server.config();
    cfg.ca_file = Some(other_ca.clone());

    let err = tokio::time::timeout(
        Duration::from_secs(10),
        sample_twice(cfg.clone(), Duration::from_millis(100)),
    )
    .await
    .expect("a TLS failure must not hang")
    .unwrap_err();
    assert!(
        err.contains(&format!("127.0.0.1:{}", server.port)),
        "names the server: {err}"
    );
    assert!(
        err.contains(&other_ca.display().to_string()),
        "names the CA file: {err}"
    );
    assert!(err.contains("ca_file"), "names the setting: {err}");

    // The actions report the same failure and write nothing.
    let audit = Audit::new(dir.path().join("audit.jsonl"));
    let opts = WarmupOptions::from_config(&CacheConfig::default());
    let plan = parse_jsonl("{\"question\": \"q\", \"answer\": \"a\"}\n", "f", &opts);
    let (tx, _rx) = events();
    let err = warmup(&cfg, &plan, &opts, &audit, &tx, &CancelFlag::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains(&other_ca.display().to_string()), "{err}");
    assert_eq!(server.cli(&["DBSIZE"]), "0");
}

#[tokio::test]
async fn a_ca_file_that_is_not_pem_is_refused_before_connecting() {
    let server = RedisServer::start_tls();
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("ca.crt");
    std::fs::write(&bogus, "not a certificate\n").unwrap();
    let mut cfg = server.config();
    cfg.ca_file = Some(bogus.clone());
    let err = sample_twice(cfg, Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(err.contains(&bogus.display().to_string()), "{err}");
    assert!(err.contains("PEM"), "says what is wrong with it: {err}");
}

#[tokio::test]
async fn rediss_to_a_plain_port_says_the_server_did_not_answer_in_tls() {
    let tls = RedisServer::start_tls();
    let plain = RedisServer::start();
    let mut cfg = tls.config();
    cfg.url = Some(format!("rediss://127.0.0.1:{}/0", plain.port));
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        sample_twice(cfg, Duration::from_millis(100)),
    )
    .await
    .expect("a TLS failure must not hang")
    .unwrap_err();
    assert!(err.contains(&format!("127.0.0.1:{}", plain.port)), "{err}");
    assert!(err.contains("TLS"), "{err}");
}
