//! The Redis source against a real redis-server: INFO parses, hit rates are right, an
//! outage is reported and recovered from without help, and a cluster is aggregated.

mod support;

use opsdeck::sources::redis::{Sampler, run, sample_twice};
use opsdeck::sources::{Payload, SourceKind};
use std::time::Duration;
use support::redis::{RedisCluster, RedisServer};
use tokio::sync::mpsc;

#[tokio::test]
async fn window_hit_rate_and_lifetime_ratio_from_known_hits_and_misses() {
    let server = RedisServer::start();
    server.cli(&["SET", "answer:a", "1"]);
    server.cli(&["SET", "user:1:x", "1"]);
    // Lifetime: 4 hits, 4 misses before the window.
    for _ in 0..4 {
        server.cli(&["GET", "answer:a"]);
        server.cli(&["GET", "nope"]);
    }
    let mut sampler = Sampler::new(server.config(), Duration::from_secs(2)).unwrap();
    let first = sampler.sample().await.unwrap();
    assert_eq!(first.hit_rate, None, "no window on the first sample");
    assert_eq!(first.hit_rate_lifetime, Some(0.5));
    // Window: 9 hits, 1 miss.
    for _ in 0..9 {
        server.cli(&["GET", "answer:a"]);
    }
    server.cli(&["GET", "nope"]);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = sampler.sample().await.unwrap();
    assert_eq!(second.hit_rate, Some(0.9));
    assert_eq!(second.hit_rate_lifetime, Some(13.0 / 18.0));
    assert_eq!(second.keys, 2);
    assert_eq!(second.eviction_policy, "noeviction");
    assert!(second.hits_per_sec > 0.0 && second.ops_per_sec > 0.0);
    assert!(second.used_memory_bytes > 0 && second.connected_clients >= 1);
    assert!(second.ping_ms > 0.0 && second.ping_ms < 1000.0);
    assert!(second.nodes.is_empty());
}

#[tokio::test]
async fn sample_twice_reports_window_rate_and_prefix_counts() {
    let server = RedisServer::start();
    for i in 0..50 {
        server.cli(&["SET", &format!("answer:{i}"), "1"]);
    }
    server.cli(&["SET", "user:7:p", "1"]);
    let port = server.port;
    let traffic = tokio::task::spawn_blocking(move || {
        std::thread::sleep(Duration::from_millis(100));
        for _ in 0..3 {
            support::redis::redis_cli(port, &["GET", "answer:1"]);
        }
        support::redis::redis_cli(port, &["GET", "missing"]);
    });
    let sample = sample_twice(server.config(), Duration::from_millis(600))
        .await
        .unwrap();
    traffic.await.unwrap();
    assert_eq!(sample.hit_rate, Some(0.75));
    let counts: Vec<(String, u64)> = sample
        .prefixes
        .iter()
        .map(|p| (p.prefix.clone(), p.keys))
        .collect();
    assert_eq!(
        counts,
        vec![
            ("answer:".to_string(), 50),
            ("knowledge:".to_string(), 0),
            ("user:".to_string(), 1)
        ]
    );
}

#[tokio::test]
async fn outage_is_reported_and_recovered_from() {
    let mut server = RedisServer::start();
    let (tx, mut rx) = mpsc::channel(16);
    let task = tokio::spawn(run(server.config(), Duration::from_millis(200), tx));
    let first = rx.recv().await.unwrap();
    assert_eq!(first.source, SourceKind::Redis);
    assert!(matches!(first.payload, Ok(Payload::Cache(_))));

    server.stop();
    let err = loop {
        match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
            Ok(Some(u)) => {
                if let Err(e) = u.payload {
                    break e;
                }
            }
            other => panic!("no error update after the server stopped: {other:?}"),
        }
    };
    assert!(
        err.contains(&format!("127.0.0.1:{}", server.port)),
        "error names the server: {err}"
    );

    server.restart();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let u = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("recovered within 10 s")
            .unwrap();
        if let Ok(Payload::Cache(sample)) = u.payload {
            // Counters restarted from zero: rates must stay sane.
            assert!(sample.ops_per_sec >= 0.0 && sample.ops_per_sec < 100_000.0);
            break;
        }
    }
    task.abort();
}

#[tokio::test]
async fn unreachable_server_error_says_what_to_do() {
    let port = support::redis::free_port();
    let cfg = opsdeck::config::RedisConfig {
        url: Some(format!("redis://127.0.0.1:{port}/0")),
        ..Default::default()
    };
    let err = sample_twice(cfg, Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(err.contains("redis-server running"), "{err}");
}

#[tokio::test]
async fn wrong_password_error_names_the_setting() {
    let server = RedisServer::start_with(&["--requirepass", "s3cret"]);
    let mut cfg = server.config();
    let err = sample_twice(cfg.clone(), Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(err.contains("REDIS_PASSWORD"), "{err}");
    cfg.password = Some("s3cret".into());
    sample_twice(cfg, Duration::from_millis(100)).await.unwrap();
}

#[tokio::test]
async fn unix_socket_url() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("redis.sock");
    let server = RedisServer::start_with(&["--unixsocket", sock.to_str().unwrap()]);
    let mut cfg = server.config();
    cfg.url = Some(format!("unix://{}", sock.display()));
    let s = sample_twice(cfg, Duration::from_millis(100)).await.unwrap();
    assert!(s.connected_clients >= 1);
}

#[tokio::test]
async fn cluster_is_detected_and_sampled_per_node() {
    let cluster = RedisCluster::start();
    let mut cfg = cluster.config();
    cfg.cluster = false; // detected from INFO
    for i in 0..30 {
        let key = format!("answer:{i}");
        let port = cluster.nodes[0].port;
        let out = support::redis::redis_cli(port, &["-c", "SET", &key, "v"]);
        assert_eq!(out, "OK");
    }
    let s = sample_twice(cfg, Duration::from_millis(200)).await.unwrap();
    assert_eq!(s.nodes.len(), 3);
    assert_eq!(s.keys, 30);
    assert_eq!(s.nodes.iter().map(|n| n.keys).sum::<u64>(), 30);
    assert_eq!(s.prefixes[0].keys, 30);
}
