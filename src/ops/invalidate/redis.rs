//! An invalidation plan against Redis: SCAN (COUNT ~500) + UNLINK in batches on every
//! master, throttled to a keys/s ceiling, cancellable between batches, audited.
//! Never KEYS (blocks the server for the whole keyspace), never FLUSH* (deletes everything).

use super::{InvalidatePlan, PatternError};
use crate::config::{InvalidateConfig, RedisConfig};
use crate::ops::audit::Audit;
use crate::ops::redis_target::{self, Master, RedisTarget};
use crate::ops::{ActionEvent, ActionKind, CancelFlag};
use crate::sources::redis::conn::ConnectError;
use redis::aio::MultiplexedConnection;
use redis::cluster_routing::Slot;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::sync::mpsc;

#[derive(Debug, Clone, PartialEq)]
pub struct InvalidateOptions {
    pub dry_run: bool,
    /// Deletion ceiling (`[actions.invalidate] max_keys_per_sec`); 0 means no ceiling.
    pub max_keys_per_sec: u64,
    /// SCAN COUNT hint per call.
    pub scan_count: u64,
    /// Sample keys kept for the preview.
    pub sample_size: usize,
}

impl InvalidateOptions {
    pub fn from_config(cfg: &InvalidateConfig) -> InvalidateOptions {
        InvalidateOptions {
            dry_run: false,
            max_keys_per_sec: cfg.max_keys_per_sec,
            // SCAN is the longest command sent (~1.3 ms at COUNT 1000 on 500k keys, more on a
            // busy host); 500 halves it, far from SLOWLOG's 10 ms, at no cost in keys/s.
            scan_count: 500,
            sample_size: 10,
        }
    }
}

#[derive(Debug, Error)]
pub enum InvalidateError {
    #[error(transparent)]
    Pattern(#[from] PatternError),
    #[error("audit log: {0} — fix [actions].audit_log; actions do not run unaudited")]
    Audit(std::io::Error),
    #[error(
        "deleted {deleted} keys, but the audit log's end line could not be written: {source} — fix [actions].audit_log and record this by hand"
    )]
    AuditEnd {
        deleted: u64,
        source: std::io::Error,
    },
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("invalidate on redis {addr}: {source} after {deleted} keys deleted — rerun to finish")]
    Redis {
        addr: String,
        deleted: u64,
        source: redis::RedisError,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub target: String,
    pub patterns: Vec<String>,
    pub count: u64,
    pub samples: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InvalidateReport {
    pub target: String,
    pub patterns: Vec<String>,
    /// Keys deleted, or for a dry run the keys that match.
    pub deleted: u64,
    pub elapsed: Duration,
    pub keys_per_sec: f64,
    pub cancelled: bool,
    pub dry_run: bool,
}

impl InvalidateReport {
    pub fn summary(&self) -> String {
        let verb = if self.dry_run {
            "would delete"
        } else {
            "deleted"
        };
        format!(
            "invalidate {} ({}): {verb} {} keys in {:.1} s ({:.0} keys/s){}",
            self.target,
            self.patterns.join(", "),
            self.deleted,
            self.elapsed.as_secs_f64(),
            self.keys_per_sec,
            if self.cancelled { ", cancelled" } else { "" }
        )
    }
}

async fn scan_page(
    m: &mut Master,
    cursor: u64,
    pattern: &str,
    count: u64,
) -> redis::RedisResult<(u64, Vec<String>)> {
    redis::cmd("SCAN")
        .arg(cursor)
        .arg("MATCH")
        .arg(pattern)
        .arg("COUNT")
        .arg(count)
        .query_async(&mut m.conn)
        .await
}

/// Counts what `target` matches and keeps a few sample keys. Reads only.
pub async fn preview(
    redis_cfg: &RedisConfig,
    plan: &InvalidatePlan,
    opts: &InvalidateOptions,
) -> Result<Preview, InvalidateError> {
    let (target, patterns) = (&plan.target, &plan.patterns);
    let (rt, _) = RedisTarget::probe(redis_cfg).await?;
    let mut masters = redis_target::masters(redis_cfg, &rt).await?;
    let mut out = Preview {
        target: target.to_string(),
        patterns: patterns.clone(),
        count: 0,
        samples: Vec::new(),
    };
    for m in &mut masters {
        for p in patterns {
            let mut cursor = 0;
            loop {
                let (next, keys) =
                    scan_page(m, cursor, p, opts.scan_count)
                        .await
                        .map_err(|source| InvalidateError::Redis {
                            addr: m.addr.clone(),
                            deleted: 0,
                            source,
                        })?;
                out.count += keys.len() as u64;
                let room = opts.sample_size.saturating_sub(out.samples.len());
                out.samples.extend(keys.into_iter().take(room));
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
    }
    Ok(out)
}

/// Deletes what `target` matches (or, for a dry run, counts it). Sends progress and a final
/// `Finished` on `events`; audit lines before and after.
pub async fn invalidate(
    redis_cfg: &RedisConfig,
    plan: &InvalidatePlan,
    opts: &InvalidateOptions,
    audit: &Audit,
    events: &mpsc::Sender<ActionEvent>,
    cancel: &CancelFlag,
) -> Result<InvalidateReport, InvalidateError> {
    let result = run(redis_cfg, plan, opts, audit, events, cancel).await;
    let outcome = match &result {
        Ok(r) => Ok(r.summary()),
        Err(e) => Err(e.to_string()),
    };
    let _ = events
        .send(ActionEvent::Finished {
            kind: ActionKind::Invalidate,
            outcome,
        })
        .await;
    result
}

async fn run(
    redis_cfg: &RedisConfig,
    plan: &InvalidatePlan,
    opts: &InvalidateOptions,
    audit: &Audit,
    events: &mpsc::Sender<ActionEvent>,
    cancel: &CancelFlag,
) -> Result<InvalidateReport, InvalidateError> {
    let target = &plan.target;
    let patterns = plan.patterns.clone();
    let params = serde_json::json!({
        "target": target.to_string(),
        "patterns": patterns,
        "max_keys_per_sec": opts.max_keys_per_sec,
    });
    let (rt, _) = RedisTarget::probe(redis_cfg).await?;
    let mut masters = redis_target::masters(redis_cfg, &rt).await?;
    let audit_target = format!("{} on {}", target, rt.name);
    audit
        .append(
            "invalidate",
            &audit_target,
            params.clone(),
            opts.dry_run,
            "started",
            "",
        )
        .map_err(InvalidateError::Audit)?;
    let started = Instant::now();
    let mut deleted = 0u64;
    let mut cancelled = false;
    let outcome: Result<(), InvalidateError> = async {
        for m in &mut masters {
            for p in &patterns {
                let mut cursor = 0u64;
                let mut pending: Vec<String> = Vec::new();
                loop {
                    if cancel.is_cancelled() {
                        cancelled = true;
                        return Ok(());
                    }
                    // Delete the previous page while the next one is fetched.
                    let batch = std::mem::take(&mut pending);
                    let n = batch.len() as u64;
                    // Wait before deleting, not after: the ceiling then holds for every
                    // batch, the last one included.
                    throttle(deleted + n, opts.max_keys_per_sec, started).await;
                    let mut unlink_conn = m.conn.clone();
                    let unlink = unlink_keys(&mut unlink_conn, batch, rt.cluster, opts.dry_run);
                    let scan = scan_page(m, cursor, p, opts.scan_count);
                    let (unlinked, page) = tokio::join!(unlink, scan);
                    let redis_err = |source| InvalidateError::Redis {
                        addr: m.addr.clone(),
                        deleted,
                        source,
                    };
                    unlinked.map_err(redis_err)?;
                    deleted += n;
                    let (next, keys) = page.map_err(|source| InvalidateError::Redis {
                        addr: m.addr.clone(),
                        deleted,
                        source,
                    })?;
                    pending = keys;
                    if n > 0 {
                        let _ = events.try_send(ActionEvent::Progress {
                            kind: ActionKind::Invalidate,
                            done: deleted,
                            total: None,
                            per_sec: per_sec(deleted, started.elapsed()),
                        });
                    }
                    if next == 0 {
                        break;
                    }
                    cursor = next;
                }
                let n = pending.len() as u64;
                throttle(deleted + n, opts.max_keys_per_sec, started).await;
                unlink_keys(&mut m.conn, pending, rt.cluster, opts.dry_run)
                    .await
                    .map_err(|source| InvalidateError::Redis {
                        addr: m.addr.clone(),
                        deleted,
                        source,
                    })?;
                deleted += n;
            }
        }
        Ok(())
    }
    .await;
    let elapsed = started.elapsed();
    let report = InvalidateReport {
        target: target.to_string(),
        patterns,
        deleted,
        elapsed,
        keys_per_sec: per_sec(deleted, elapsed),
        cancelled,
        dry_run: opts.dry_run,
    };
    let (word, detail) = match &outcome {
        Ok(()) if cancelled => (cancel.word(), report.summary()),
        Ok(()) => ("ok", report.summary()),
        Err(e) => ("failed", e.to_string()),
    };
    // The end line carries what was done as a number, whatever the outcome.
    let mut params = params;
    params[if opts.dry_run { "matched" } else { "deleted" }] = deleted.into();
    if let Err(source) = audit.append(
        "invalidate",
        &audit_target,
        params,
        opts.dry_run,
        word,
        &detail,
    ) {
        // The keys are gone whatever happens to this line: say what was done.
        return Err(InvalidateError::AuditEnd { deleted, source });
    }
    outcome.map(|()| report)
}

/// Keeps the running average at or under the ceiling.
async fn throttle(done: u64, max_per_sec: u64, started: Instant) {
    if max_per_sec == 0 {
        return;
    }
    let due = Duration::from_secs_f64(done as f64 / max_per_sec as f64);
    if let Some(wait) = due.checked_sub(started.elapsed()) {
        tokio::time::sleep(wait).await;
    }
}

fn per_sec(n: u64, d: Duration) -> f64 {
    let s = d.as_secs_f64();
    if s > 0.0 { n as f64 / s } else { 0.0 }
}

/// Keys per UNLINK command.
const UNLINK_CHUNK: usize = 200;

async fn unlink_keys(
    conn: &mut MultiplexedConnection,
    keys: Vec<String>,
    cluster: bool,
    dry_run: bool,
) -> redis::RedisResult<()> {
    if keys.is_empty() || dry_run {
        return Ok(());
    }
    if !cluster {
        // Several short UNLINKs in one pipeline: same round trip, but no single command
        // holds the server long enough to show in SLOWLOG.
        let mut pipe = redis::pipe();
        for chunk in keys.chunks(UNLINK_CHUNK) {
            pipe.cmd("UNLINK").arg(chunk).ignore();
        }
        return pipe.query_async::<()>(conn).await;
    }
    // On a cluster node a multi-key command must stay within one slot.
    let mut by_slot: HashMap<Slot, Vec<String>> = HashMap::new();
    for k in keys {
        by_slot.entry(Slot::for_key(&k)).or_default().push(k);
    }
    let mut pipe = redis::pipe();
    for group in by_slot.into_values() {
        pipe.cmd("UNLINK").arg(group).ignore();
    }
    pipe.query_async::<()>(conn).await
}
