//! The exact count of keys per prefix, on the operator's request (the `c` key in the Cache
//! view): a SCAN of every master within a budget of keys examined per second
//! (`[redis] scan_keys_per_sec`), so a large keyspace is never walked faster than the
//! operator allowed. One pass classifies every key by prefix locally (one SCAN for all
//! prefixes rather than one MATCH pass each). Progress is published as it goes.

use super::conn::{ConnectError, Endpoint};
use super::estimate::classify;
use redis::aio::MultiplexedConnection;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, watch};

/// A finished exact count, in config order, and when it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct PrefixCounts {
    pub counts: Vec<(String, u64)>,
    /// Keys walked.
    pub walked: u64,
    pub taken: Instant,
}

/// What the exact counter has to say: the last count, and the share walked of one running.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExactState {
    pub done: Option<PrefixCounts>,
    pub progress: Option<f64>,
}

/// The most keys asked for in one SCAN call; bigger replies would hold the server longer.
const MAX_COUNT: u64 = 1000;
const PUBLISH_EVERY: Duration = Duration::from_millis(500);

/// Counts every time `requests` is notified (until `out` has no receivers).
pub async fn count_on_request(
    masters: impl Fn() -> futures::future::BoxFuture<'static, Result<Vec<Endpoint>, ConnectError>>,
    prefixes: Vec<String>,
    keys_per_sec: u64,
    timeout: Duration,
    requests: Arc<Notify>,
    out: watch::Sender<ExactState>,
) {
    loop {
        tokio::select! {
            _ = requests.notified() => {}
            _ = out.closed() => return,
        }
        out.send_modify(|s| s.progress = Some(0.0));
        let result = async {
            let eps = masters().await?;
            one_pass(&eps, &prefixes, keys_per_sec, timeout, &out).await
        }
        .await;
        match result {
            Ok(counts) => out.send_modify(|s| {
                s.done = Some(counts);
                s.progress = None;
            }),
            Err(e) => {
                tracing::warn!("exact key count: {e}");
                out.send_modify(|s| s.progress = None);
            }
        }
    }
}

async fn one_pass(
    masters: &[Endpoint],
    prefixes: &[String],
    keys_per_sec: u64,
    timeout: Duration,
    out: &watch::Sender<ExactState>,
) -> Result<PrefixCounts, ConnectError> {
    let count = keys_per_sec.clamp(1, MAX_COUNT);
    let mut matched = vec![0u64; prefixes.len()];
    let mut walked = 0u64;
    let mut conns: Vec<(MultiplexedConnection, &Endpoint)> = Vec::new();
    let mut total = 0u64;
    for ep in masters {
        let mut conn = ep.connect(timeout).await?;
        let size: u64 = redis::cmd("DBSIZE")
            .query_async(&mut conn)
            .await
            .map_err(|e| ep.err(e))?;
        total += size;
        conns.push((conn, ep));
    }
    let mut last_publish = Instant::now();
    for (conn, ep) in &mut conns {
        let mut cursor: u64 = 0;
        loop {
            let batch_started = Instant::now();
            let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("COUNT")
                .arg(count)
                .query_async(conn)
                .await
                .map_err(|e| ep.err(e))?;
            let (n, m) = classify(keys.iter().map(Vec::as_slice), prefixes);
            walked += n;
            matched.iter_mut().zip(m).for_each(|(a, b)| *a += b);
            if last_publish.elapsed() >= PUBLISH_EVERY {
                let share = (walked as f64 / total.max(1) as f64).min(0.99);
                out.send_modify(|s| s.progress = Some(share));
                last_publish = Instant::now();
            }
            // SCAN COUNT is a hint; pace by what was actually examined.
            let budget = Duration::from_secs_f64(count.max(n) as f64 / keys_per_sec as f64);
            if let Some(rest) = budget.checked_sub(batch_started.elapsed()) {
                tokio::time::sleep(rest).await;
            }
            if next == 0 || out.is_closed() {
                break;
            }
            cursor = next;
        }
    }
    Ok(PrefixCounts {
        counts: prefixes.iter().cloned().zip(matched).collect(),
        walked,
        taken: Instant::now(),
    })
}
