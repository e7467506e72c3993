//! An invalidation plan against Redis: one SCAN pass (COUNT ~500) per master for all of the
//! plan's patterns (`scan`), each page UNLINKed in batches while the next is fetched,
//! throttled to a keys/s ceiling, cancellable between batches, audited.
//! Never KEYS (blocks the server for the whole keyspace), never FLUSH* (deletes everything).

use super::scan::{self, KeyFilter};
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

fn redis_err(m: &Master, deleted: u64, source: redis::RedisError) -> InvalidateError {
    InvalidateError::Redis {
        addr: m.addr.clone(),
        deleted,
        source,
    }
}

/// Counts what `target` matches and keeps a few sample keys: one SCAN pass per master,
/// whatever the number of patterns. Reads only.
pub async fn preview(
    redis_cfg: &RedisConfig,
    plan: &InvalidatePlan,
    opts: &InvalidateOptions,
) -> Result<Preview, InvalidateError> {
    let (rt, _) = RedisTarget::probe(redis_cfg).await?;
    let mut masters = redis_target::masters(redis_cfg, &rt).await?;
    let filter = KeyFilter::new(&plan.patterns);
    let mut out = Preview {
        target: plan.target.to_string(),
        patterns: plan.patterns.clone(),
        count: 0,
        samples: Vec::new(),
    };
    for m in &mut masters {
        let mut cursor = 0;
        loop {
            let (next, keys) = scan::page(m, &filter, cursor, opts.scan_count)
                .await
                .map_err(|source| redis_err(m, 0, source))?;
            out.count += keys.len() as u64;
            let room = opts.sample_size.saturating_sub(out.samples.len());
            let shown = keys.iter().take(room);
            out.samples
                .extend(shown.map(|k| String::from_utf8_lossy(k).into_owned()));
            if next == 0 {
                break;
            }
            cursor = next;
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
    let mut params = serde_json::json!({
        "target": plan.target.to_string(),
        "patterns": plan.patterns,
        "max_keys_per_sec": opts.max_keys_per_sec,
    });
    let (rt, _) = RedisTarget::probe(redis_cfg).await?;
    let mut masters = redis_target::masters(redis_cfg, &rt).await?;
    let audit_target = format!("{} on {}", plan.target, rt.name);
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
    let mut sweep = Sweep {
        opts,
        events,
        cancel,
        cluster: rt.cluster,
        filter: KeyFilter::new(&plan.patterns),
        started: Instant::now(),
        deleted: 0,
        cancelled: false,
    };
    let mut outcome = Ok(());
    for m in &mut masters {
        outcome = sweep.master(m).await;
        if outcome.is_err() || sweep.cancelled {
            break;
        }
    }
    let elapsed = sweep.started.elapsed();
    let deleted = sweep.deleted;
    let report = InvalidateReport {
        target: plan.target.to_string(),
        patterns: plan.patterns.clone(),
        deleted,
        elapsed,
        keys_per_sec: per_sec(deleted, elapsed),
        cancelled: sweep.cancelled,
        dry_run: opts.dry_run,
    };
    let (word, detail) = match &outcome {
        Ok(()) if report.cancelled => (cancel.word(), report.summary()),
        Ok(()) => ("ok", report.summary()),
        Err(e) => ("failed", e.to_string()),
    };
    // The end line carries what was done as a number, whatever the outcome.
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

/// One invalidation's walk over the masters: what it deletes, throttled, cancellable.
struct Sweep<'a> {
    opts: &'a InvalidateOptions,
    events: &'a mpsc::Sender<ActionEvent>,
    cancel: &'a CancelFlag,
    cluster: bool,
    filter: KeyFilter,
    started: Instant,
    /// Keys deleted (UNLINK's own count), or for a dry run the keys that match.
    deleted: u64,
    cancelled: bool,
}

impl Sweep<'_> {
    /// One SCAN pass over `m`, each page's keys unlinked while the next page is fetched.
    async fn master(&mut self, m: &mut Master) -> Result<(), InvalidateError> {
        let mut cursor = 0u64;
        let mut pending: Vec<Vec<u8>> = Vec::new();
        loop {
            if self.cancel.is_cancelled() {
                self.cancelled = true;
                return Ok(());
            }
            let batch = std::mem::take(&mut pending);
            let n = batch.len() as u64;
            // Wait before deleting, not after: the ceiling then holds for every batch, the
            // last one included.
            throttle(self.deleted + n, self.opts.max_keys_per_sec, self.started).await;
            let mut unlink_conn = m.conn.clone();
            let unlink = unlink_keys(&mut unlink_conn, batch, self.cluster, self.opts.dry_run);
            let scan = scan::page(m, &self.filter, cursor, self.opts.scan_count);
            let (unlinked, page) = tokio::join!(unlink, scan);
            self.deleted += unlinked.map_err(|source| redis_err(m, self.deleted, source))?;
            let (next, keys) = page.map_err(|source| redis_err(m, self.deleted, source))?;
            pending = keys;
            if n > 0 {
                self.progress();
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
        let n = pending.len() as u64;
        throttle(self.deleted + n, self.opts.max_keys_per_sec, self.started).await;
        let unlinked = unlink_keys(&mut m.conn, pending, self.cluster, self.opts.dry_run).await;
        self.deleted += unlinked.map_err(|source| redis_err(m, self.deleted, source))?;
        self.progress();
        Ok(())
    }

    /// The count so far, as it goes: with `--yes` nothing counted the keys beforehand.
    fn progress(&self) {
        let _ = self.events.try_send(ActionEvent::Progress {
            kind: ActionKind::Invalidate,
            done: self.deleted,
            total: None,
            per_sec: per_sec(self.deleted, self.started.elapsed()),
        });
    }
}

/// Keeps the running average at or under the ceiling; 0 means no ceiling.
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

/// Unlinks `keys` and returns how many the server deleted; a dry run deletes nothing and
/// returns how many there are.
async fn unlink_keys(
    conn: &mut MultiplexedConnection,
    keys: Vec<Vec<u8>>,
    cluster: bool,
    dry_run: bool,
) -> redis::RedisResult<u64> {
    if keys.is_empty() || dry_run {
        return Ok(keys.len() as u64);
    }
    let mut pipe = redis::pipe();
    if !cluster {
        // Several short UNLINKs in one pipeline: same round trip, but no single command
        // holds the server long enough to show in SLOWLOG.
        for chunk in keys.chunks(UNLINK_CHUNK) {
            pipe.cmd("UNLINK").arg(chunk);
        }
    } else {
        // On a cluster node a multi-key command must stay within one slot.
        let mut by_slot: HashMap<Slot, Vec<Vec<u8>>> = HashMap::new();
        for k in keys {
            by_slot.entry(Slot::for_key(&k)).or_default().push(k);
        }
        for group in by_slot.into_values() {
            pipe.cmd("UNLINK").arg(group);
        }
    }
    let counts: Vec<u64> = pipe.query_async(conn).await?;
    Ok(counts.iter().sum())
}
