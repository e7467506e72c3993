//! Keys per configured prefix, counted by a background SCAN that stays within a budget of
//! keys examined per second, so a large keyspace is never walked faster than the operator
//! allowed. One pass classifies every key by prefix locally (one SCAN for all prefixes
//! rather than one MATCH pass each). Until the first pass ends, the count is extrapolated
//! from the part seen, which is why it is reported as an estimate with its age.

use super::conn::{ConnectError, Endpoint};
use redis::aio::MultiplexedConnection;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The latest per-prefix counts, in config order, and when they were taken.
#[derive(Debug, Clone, PartialEq)]
pub struct PrefixCounts {
    pub counts: Vec<(String, u64)>,
    pub taken: Instant,
    /// False while extrapolated from a first, partial pass.
    pub complete: bool,
}

/// The most keys asked for in one SCAN call; bigger replies would hold the server longer.
const MAX_COUNT: u64 = 1000;
/// Least pause between full passes; a small keyspace need not be rescanned every second.
const MIN_PASS_GAP: Duration = Duration::from_secs(30);
const PUBLISH_EVERY: Duration = Duration::from_secs(1);

/// Scans `masters` forever (until `out` has no receivers), publishing counts to `out`.
pub async fn count_prefixes_forever(
    masters: impl Fn() -> futures::future::BoxFuture<'static, Result<Vec<Endpoint>, ConnectError>>,
    prefixes: Vec<String>,
    keys_per_sec: u64,
    timeout: Duration,
    out: watch::Sender<Option<PrefixCounts>>,
) {
    if prefixes.is_empty() || keys_per_sec == 0 {
        return;
    }
    let mut have_complete = false;
    while !out.is_closed() {
        let started = Instant::now();
        let result = async {
            let eps = masters().await?;
            one_pass(&eps, &prefixes, keys_per_sec, timeout, &out, have_complete).await
        }
        .await;
        let gap = match result {
            Ok(counts) => {
                have_complete = true;
                out.send_replace(Some(counts));
                MIN_PASS_GAP.max(started.elapsed())
            }
            Err(e) => {
                tracing::debug!("prefix scan: {e}");
                Duration::from_secs(5)
            }
        };
        tokio::time::sleep(gap).await;
    }
}

async fn one_pass(
    masters: &[Endpoint],
    prefixes: &[String],
    keys_per_sec: u64,
    timeout: Duration,
    out: &watch::Sender<Option<PrefixCounts>>,
    have_complete: bool,
) -> Result<PrefixCounts, ConnectError> {
    let count = keys_per_sec.clamp(1, MAX_COUNT);
    let mut matched = vec![0u64; prefixes.len()];
    let mut examined = 0u64;
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
            examined += keys.len() as u64;
            for key in &keys {
                for (i, p) in prefixes.iter().enumerate() {
                    if key.starts_with(p.as_bytes()) {
                        matched[i] += 1;
                    }
                }
            }
            if !have_complete && last_publish.elapsed() >= PUBLISH_EVERY && examined > 0 {
                let scale = total.max(examined) as f64 / examined as f64;
                out.send_replace(Some(PrefixCounts {
                    counts: zip(prefixes, matched.iter().map(|m| (*m as f64 * scale) as u64)),
                    taken: Instant::now(),
                    complete: false,
                }));
                last_publish = Instant::now();
            }
            // SCAN COUNT is a hint; pace by what was actually examined.
            let budget =
                Duration::from_secs_f64(count.max(keys.len() as u64) as f64 / keys_per_sec as f64);
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
        counts: zip(prefixes, matched.into_iter()),
        taken: Instant::now(),
        complete: true,
    })
}

fn zip(prefixes: &[String], counts: impl Iterator<Item = u64>) -> Vec<(String, u64)> {
    prefixes.iter().cloned().zip(counts).collect()
}
