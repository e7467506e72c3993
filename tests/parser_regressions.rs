//! Inputs `scripts/fuzz.sh` (tests/fuzz_parsers.rs) found to panic, kept as plain tests.

use opsdeck::config::CostConfig;
use opsdeck::sources::prometheus::api::{Data, PromError, parse_response};
use opsdeck::sources::prometheus::period::{self, Answers};
use opsdeck::sources::redis::derive::{self, NodeReading};
use opsdeck::sources::redis::info::parse_info;
use std::time::Duration;

const SCALAR: &str =
    r#"{"status":"success","data":{"resultType":"scalar","result":[1795645401.339,"1.5"]}}"#;

fn scalar() -> Result<Data, PromError> {
    Ok(parse_response(SCALAR.as_bytes()).unwrap().data)
}

/// A cost query that answers a scalar (a custom token counter wrapped in `scalar()`, a
/// recording rule without labels) is a gap in the report, not a panic.
#[test]
fn report_window_survives_scalar_answers_to_labelled_queries() {
    let c = CostConfig::default();
    let answers = Answers {
        tokens: scalar(),
        replica_hours: scalar(),
        replicas_now: scalar(),
        requests: scalar(),
        storage: Some(scalar()),
        network: None,
    };
    let w = period::assemble(answers, &c, 86_400);
    assert_eq!(w.totals.storage, Some(1.5));
    assert!(w.gaps.iter().any(|g| g.part == "ai_model"), "{:?}", w.gaps);
    assert!(w.gaps.iter().any(|g| g.part == "compute"), "{:?}", w.gaps);
}

/// INFO accepts any u64, so two databases (or two cluster nodes) near the top of the
/// range must add up without overflowing: a panic in the source task, or a wrapped count.
#[test]
fn keyspace_counts_near_u64_max_saturate() {
    let info = parse_info(
        "db0:keys=9223372036854775808,expires=0,avg_ttl=0\r\n\
         db1:keys=9223372036854775807,expires=4294967295,avg_ttl=0\r\n\
         db2:keys=1,expires=0,avg_ttl=0\r\n",
    )
    .unwrap();
    assert_eq!(info.total_keys(), u64::MAX);
}

#[test]
fn cluster_counters_near_u64_max_saturate() {
    let text = "run_id:a\r\nkeyspace_hits:18446744073709551615\r\nkeyspace_misses:18446744073709551615\r\n\
                total_commands_processed:18446744073709551615\r\nconnected_clients:18446744073709551615\r\n\
                used_memory:18446744073709551615\r\nmaxmemory:18446744073709551615\r\n\
                db0:keys=18446744073709551615,expires=0\r\n";
    let zero = parse_info("run_id:a\r\nkeyspace_hits:0\r\nkeyspace_misses:0\r\n").unwrap();
    let big = parse_info(text).unwrap();
    let reading = |addr| NodeReading {
        addr,
        is_master: true,
        prev: Some(&zero),
        cur: &big,
        elapsed: Duration::from_secs(1),
        ping_ms: 0.5,
    };
    let w = derive::window(Some(&zero), &big, Duration::from_secs(1));
    assert_eq!(w.hit_rate, Some(0.5));
    let s = derive::sample(&[reading("10.0.0.1:7101"), reading("10.0.0.2:7102")], true);
    assert_eq!(s.hit_rate, Some(0.5));
    assert_eq!(s.hit_rate_lifetime, Some(0.5));
    assert_eq!(s.keys, u64::MAX);
    assert_eq!(s.used_memory_bytes, u64::MAX);
    assert_eq!(s.connected_clients, u64::MAX);
}
