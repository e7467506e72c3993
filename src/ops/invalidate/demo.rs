//! An invalidation plan against the embedded demo: its patterns' literal prefixes are the
//! demo's key prefixes; deletion goes at a simulated rate with progress, Esc cancels.

use super::InvalidatePlan;
use crate::model::{ActionEvent, ActionKind, CancelFlag};
use crate::ops::audit::Audit;
use crate::ops::demo::{self, Job};
use crate::sources::sim::SimHandle;
use serde_json::json;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Simulated deletion speed, keys per second (the real ceiling's order of magnitude).
const DELETE_RATE: f64 = 50_000.0;
/// Keys one user holds in the demo, per pattern.
const USER_KEYS: u64 = 6;

/// The demo prefixes a plan's patterns reach, and how many keys that is.
async fn reach(sim: &SimHandle, plan: &InvalidatePlan) -> (Vec<String>, u64) {
    let prefixes: Vec<String> = plan
        .patterns
        .iter()
        .map(|p| p[..prefix_bytes(p)].to_string())
        .collect();
    let whole: Vec<String> = prefixes
        .iter()
        .filter(|p| plan.patterns.contains(&format!("{p}*")))
        .cloned()
        .collect();
    let narrow = (prefixes.len() - whole.len()) as u64 * USER_KEYS;
    let counted = whole.clone();
    let keys = sim
        .with(move |s| counted.iter().map(|p| s.prefix_keys(p)).sum::<u64>())
        .await
        .unwrap_or(0);
    (whole, keys + narrow)
}

/// Bytes of the pattern before its first metacharacter.
fn prefix_bytes(p: &str) -> usize {
    p.find(['*', '?', '[', '\\']).unwrap_or(p.len())
}

/// What the dialog's preview shows: the count the demo holds, and sample keys.
pub async fn preview(sim: &SimHandle, plan: &InvalidatePlan) -> Result<(u64, Vec<String>), String> {
    let (_, keys) = reach(sim, plan).await;
    let samples = plan
        .patterns
        .iter()
        .map(|p| p.replace('*', "3f9a…"))
        .take(3)
        .collect();
    Ok((keys, samples))
}

pub async fn run(
    sim: &SimHandle,
    plan: &InvalidatePlan,
    max_keys_per_sec: u64,
    audit: &Audit,
    events: &mpsc::Sender<ActionEvent>,
    cancel: &CancelFlag,
) {
    let (prefixes, total) = reach(sim, plan).await;
    let per_sec = match max_keys_per_sec {
        0 => DELETE_RATE,
        ceiling => DELETE_RATE.min(ceiling as f64),
    };
    let job = Job {
        kind: ActionKind::Invalidate,
        target: format!("{} on demo", plan.target),
        params: json!({
            "target": plan.target.to_string(),
            "patterns": plan.patterns,
            "max_keys_per_sec": max_keys_per_sec,
            "demo": true,
        }),
        total,
        per_sec,
        verb: "deleted",
    };
    let step = Arc::new(move |s: &mut crate::sources::sim::Sim, n: u64| {
        let mut left = n;
        for p in &prefixes {
            left -= s.invalidate(p, left);
        }
        // Narrow patterns (one user's keys) have no prefix count to take from.
        if prefixes.is_empty() { n } else { n - left }
    });
    demo::run(sim, job, step, audit, events, cancel).await;
}
