//! The client-side glob matcher (`config::glob::matches`) decides which scanned keys a
//! multi-pattern invalidation deletes, so it must agree with Redis' own `SCAN MATCH` on
//! every key and pattern, the odd ones included: unterminated classes, reversed and signed
//! ranges, escapes at the end, empty keys, bytes that are not UTF-8.

mod support;

use opsdeck::config::glob;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::collections::BTreeSet;
use support::redis::RedisServer;

/// Few symbols, so random patterns often hit keys; the glob syntax in full; a high byte
/// (a negative `char` in Redis' C) and NUL.
const ALPHABET: &[u8] = b"ab:*?[]^-\\\xc3\x00";

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(ALPHABET), 0..=max)
}

fn scan_match(conn: &mut redis::Connection, pattern: &[u8]) -> BTreeSet<Vec<u8>> {
    let mut found = BTreeSet::new();
    let mut cursor = 0u64;
    loop {
        let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000)
            .query(conn)
            .unwrap();
        found.extend(keys);
        if next == 0 {
            return found;
        }
        cursor = next;
    }
}

#[test]
fn matches_agrees_with_redis_scan_match() {
    let server = RedisServer::start();
    let client = redis::Client::open(server.url()).unwrap();
    let conn = std::cell::RefCell::new(client.get_connection().unwrap());
    let mut runner = TestRunner::new(Config {
        cases: 300,
        ..Config::default()
    });
    let case = (
        prop::collection::btree_set(bytes(6), 0..24),
        prop::collection::vec(bytes(7), 1..8),
    );
    runner
        .run(&case, |(keys, patterns)| {
            let conn = &mut *conn.borrow_mut();
            redis::cmd("FLUSHALL").query::<()>(conn).unwrap();
            for k in &keys {
                redis::cmd("SET").arg(k).arg(1).query::<()>(conn).unwrap();
            }
            for p in &patterns {
                let want = scan_match(conn, p);
                let got: BTreeSet<Vec<u8>> = keys
                    .iter()
                    .filter(|k| glob::matches(p, k))
                    .cloned()
                    .collect();
                prop_assert_eq!(&got, &want, "pattern {:?}", String::from_utf8_lossy(p));
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn pathological_patterns_stay_fast() {
    // CVE-2022-36021: nested stars on a long key were exponential before Redis 7.0.9.
    let key = vec![b'a'; 60];
    let pattern = b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
    let started = std::time::Instant::now();
    assert!(!glob::matches(pattern, &key));
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
}
