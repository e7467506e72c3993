//! The demo's p95 CPU and memory use over the last day, all pods of a deployment together,
//! as `[prometheus.queries] cpu_usage_p95_cores` / `memory_usage_p95_bytes` would answer
//! for a day of the demo's traffic curve: retrieval keeps far less in memory than its
//! requests, so the right-size suggestion has something to show.

use crate::model::CostInputs;
use std::collections::BTreeMap;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// (deployment, CPU cores, memory GiB) at the day's p95, all pods together. embedding has
/// a VPA (its recommendation is used instead); kb-indexer sleeps.
const P95: [(&str, f64, f64); 3] = [
    ("chat-api", 7.0, 6.0),
    ("retrieval", 5.0, 6.0),
    ("llm-gateway", 1.2, 2.4),
];

pub fn cost_inputs() -> CostInputs {
    let rows = |pick: fn(&(&str, f64, f64)) -> f64| -> BTreeMap<String, f64> {
        P95.iter().map(|r| (r.0.to_string(), pick(r))).collect()
    };
    CostInputs {
        cpu_usage_p95: Some(Ok(rows(|r| r.1))),
        memory_usage_p95: Some(Ok(rows(|r| r.2 * GIB))),
        ..CostInputs::default()
    }
}
