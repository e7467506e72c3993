//! Keys per prefix against a real redis-server: sampled estimates that hold the truth within
//! their ±, a console's cost to Redis measured from `INFO commandstats`, and the exact count
//! the operator asks for.

mod support;

use opsdeck::config::RedisConfig;
use opsdeck::model::{CacheSample, PrefixCount};
use opsdeck::sources::redis::{run_with, sample_twice};
use opsdeck::sources::{Payload, RefreshNow, SourceUpdate};
use std::collections::HashMap;
use std::fmt::Write;
use std::time::{Duration, Instant};
use support::redis::RedisServer;
use tokio::sync::mpsc;

/// 60k `answer:`, 10k `user:`, 30k others: 100k keys.
const TRUTH: [(&str, u64); 3] = [("answer:", 60_000), ("knowledge:", 0), ("user:", 10_000)];

fn loaded() -> RedisServer {
    let server = RedisServer::start();
    let mut cmds = String::new();
    for (prefix, n) in TRUTH.iter().chain(&[("other:", 30_000)]) {
        for i in 0..*n {
            writeln!(cmds, "SET {prefix}{i} v").unwrap();
        }
    }
    server.pipe(&cmds);
    assert_eq!(server.cli(&["DBSIZE"]), "100000");
    server
}

fn config(server: &RedisServer) -> RedisConfig {
    RedisConfig {
        prefixes: TRUTH.iter().map(|(p, _)| p.to_string()).collect(),
        ..server.config()
    }
}

fn assert_within_margin(prefixes: &[PrefixCount]) {
    assert_eq!(prefixes.len(), TRUTH.len());
    for (p, (name, truth)) in prefixes.iter().zip(TRUTH) {
        assert_eq!(p.prefix, name);
        assert!(!p.exact, "{p:?}");
        assert!(p.sampled >= 500, "{p:?}");
        // A 95 % interval misses one time in twenty; twice its width never in practice.
        let off = p.keys.abs_diff(truth);
        assert!(
            off <= 2 * p.margin,
            "{name}: {} ± {} vs {truth}",
            p.keys,
            p.margin
        );
        assert!(p.margin <= 6_000, "{name}: ±{} is no use", p.margin);
    }
}

#[tokio::test]
async fn a_snapshot_estimates_a_large_keyspace_within_its_margin() {
    let server = loaded();
    let sample = sample_twice(config(&server), Duration::from_millis(200))
        .await
        .unwrap();
    assert_within_margin(&sample.prefixes);
}

/// Calls and usec per command from `INFO commandstats`.
fn commandstats(server: &RedisServer) -> HashMap<String, (u64, u64)> {
    let text = server.cli(&["INFO", "commandstats"]);
    text.lines()
        .filter_map(|l| l.strip_prefix("cmdstat_"))
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            let field = |k: &str| -> Option<u64> {
                rest.split(',')
                    .find_map(|kv| kv.strip_prefix(k)?.strip_prefix('='))?
                    .parse()
                    .ok()
            };
            Some((name.to_string(), (field("calls")?, field("usec")?)))
        })
        .collect()
}

async fn latest(
    rx: &mut mpsc::Receiver<SourceUpdate>,
    until: impl Fn(&CacheSample) -> bool,
) -> CacheSample {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let update = tokio::time::timeout(left, rx.recv())
            .await
            .expect("no matching update within 30 s")
            .expect("source ended");
        if let Ok(Payload::Cache(c)) = update.payload
            && until(&c)
        {
            return *c;
        }
    }
}

#[tokio::test]
async fn a_console_costs_redis_a_few_commands_a_second_and_estimates_within_its_margin() {
    let server = loaded();
    let (tx, mut rx) = mpsc::channel(64);
    let refresh = Duration::from_millis(250);
    let before = commandstats(&server);
    let started = Instant::now();
    let task = tokio::spawn(run_with(
        config(&server),
        refresh,
        tx,
        RefreshNow::default(),
    ));
    // A page every 2 s: after 9 s, at least four pages (about 400 keys).
    tokio::time::sleep(Duration::from_secs(9)).await;
    let mut c = None;
    while let Ok(u) = rx.try_recv() {
        if let Ok(Payload::Cache(s)) = u.payload {
            c = Some(*s);
        }
    }
    let c = c.expect("the source sent updates");
    let secs = started.elapsed().as_secs_f64();
    task.abort();
    let after = commandstats(&server);
    let delta = |cmd: &str| {
        let (c0, u0) = before.get(cmd).copied().unwrap_or_default();
        let (c1, u1) = after.get(cmd).copied().unwrap_or_default();
        (c1 - c0, u1 - u0)
    };
    let (scans, _) = delta("scan");
    // One page per 2 s, whatever the refresh (4 per second here).
    assert!(
        (3..=6).contains(&scans),
        "{scans} SCAN pages in {secs:.1} s: not one per 2 s"
    );
    let others: u64 = ["info", "ping"].iter().map(|c| delta(c).0).sum();
    assert!(others as f64 <= secs * 2.0 / refresh.as_secs_f64() + 4.0);
    for p in &c.prefixes {
        assert!(p.age_s <= 3, "{p:?}");
        let truth = TRUTH.iter().find(|(n, _)| *n == p.prefix).unwrap().1;
        assert!(p.keys.abs_diff(truth) <= 2 * p.margin, "{p:?} vs {truth}");
    }
}

#[tokio::test]
async fn the_exact_count_walks_the_keyspace_when_asked_and_is_shown_exact() {
    let server = loaded();
    let cfg = RedisConfig {
        scan_keys_per_sec: 200_000,
        ..config(&server)
    };
    let (tx, mut rx) = mpsc::channel(64);
    let wake = RefreshNow::default();
    let task = tokio::spawn(run_with(cfg, Duration::from_millis(200), tx, wake.clone()));
    let first = latest(&mut rx, |c| !c.prefixes.is_empty()).await;
    assert!(first.prefixes.iter().all(|p| !p.exact));
    let scans_before = commandstats(&server)["scan"].0;
    wake.count_keys();
    let c = latest(&mut rx, |c| c.prefixes.iter().all(|p| p.exact)).await;
    task.abort();
    let got: Vec<(&str, u64, u64)> = c
        .prefixes
        .iter()
        .map(|p| (p.prefix.as_str(), p.keys, p.margin))
        .collect();
    assert_eq!(
        got,
        vec![
            ("answer:", 60_000, 0),
            ("knowledge:", 0, 0),
            ("user:", 10_000, 0)
        ]
    );
    assert!(c.prefixes.iter().all(|p| p.sampled == 100_000));
    // The walk took SCAN calls of at most 1,000 keys each.
    assert!(commandstats(&server)["scan"].0 - scans_before >= 100);
}

#[tokio::test]
async fn a_small_keyspace_is_counted_exactly_without_asking() {
    let server = RedisServer::start();
    for i in 0..12 {
        server.cli(&["SET", &format!("user:{i}"), "v"]);
    }
    let sample = sample_twice(config(&server), Duration::from_millis(100))
        .await
        .unwrap();
    let user = sample
        .prefixes
        .iter()
        .find(|p| p.prefix == "user:")
        .unwrap();
    assert_eq!((user.keys, user.margin, user.exact), (12, 0, true));
}
