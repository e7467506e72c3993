//! Cache warmup from a JSONL file of `{"question", "answer", "context"?, "ttl_s"?}`: one
//! `SET answer:<md5> <json answer> EX ttl` per line, keyed exactly as the platform's Python
//! services key them, written in pipelined batches, cancellable between batches, audited.
//! With `[actions.warmup] http_url` the entries go to the service's own endpoint instead
//! (`warmup_http`).

use crate::config::{CacheConfig, Config, RedisConfig};
use crate::domain::cache_key::{answer_key, python_json};
use crate::ops::audit::Audit;
use crate::ops::redis_target::{self, RedisTarget, Writer};
use crate::ops::{ActionEvent, ActionKind, CancelFlag};
use crate::sources::redis::conn::ConnectError;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use redis::cluster_routing::Slot;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::sync::mpsc;

/// Batches written concurrently on the one multiplexed connection.
const PIPELINE_DEPTH: usize = 4;

#[derive(Debug, Clone, PartialEq)]
pub struct WarmupOptions {
    pub kb_version: String,
    /// `--ttl`: overrides every line's `ttl_s`.
    pub ttl_override_s: Option<u64>,
    /// Used when neither the flag nor the line says (`[cache] answer_ttl_s`).
    pub default_ttl_s: u64,
    pub dry_run: bool,
    /// Refuse the whole file if any line is bad, before writing anything.
    pub strict: bool,
    pub batch_size: usize,
}

impl WarmupOptions {
    pub fn from_config(cache: &CacheConfig) -> WarmupOptions {
        WarmupOptions {
            kb_version: cache.kb_version.clone(),
            ttl_override_s: None,
            default_ttl_s: cache.answer_ttl_s,
            dry_run: false,
            strict: false,
            batch_size: 1000,
        }
    }
}

/// One line ready to write.
#[derive(Debug, Clone, PartialEq)]
pub struct WarmupEntry {
    pub line: usize,
    /// The question and context as given: the HTTP warmup sends them, not the key.
    pub question: String,
    pub context: Option<String>,
    pub key: String,
    pub value: String,
    pub ttl_s: u64,
    /// `ttl_s` came from the line or `--ttl`, not from the default; only then does the HTTP
    /// warmup send it, so the service applies its own default otherwise.
    pub ttl_explicit: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub line: usize,
    pub reason: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// What a file would write, shown before confirming.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WarmupPlan {
    pub source: String,
    pub entries: Vec<WarmupEntry>,
    pub bad: Vec<BadLine>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WarmupReport {
    pub target: String,
    pub written: u64,
    pub total: u64,
    pub skipped: usize,
    pub elapsed: Duration,
    pub keys_per_sec: f64,
    pub cancelled: bool,
    pub dry_run: bool,
    /// HTTP warmup: the status and the first line of the service's answer.
    pub response: Option<String>,
}

impl WarmupReport {
    pub fn summary(&self) -> String {
        let mut s = match &self.response {
            None => {
                let verb = if self.dry_run { "would write" } else { "wrote" };
                format!(
                    "warmup {}: {verb} {} of {} keys in {:.1} s ({:.0} keys/s)",
                    self.target,
                    self.written,
                    self.total,
                    self.elapsed.as_secs_f64(),
                    self.keys_per_sec
                )
            }
            Some(response) => {
                let verb = if self.dry_run { "would send" } else { "sent" };
                format!(
                    "warmup {}: {verb} {} of {} entries in {:.1} s: {response}",
                    self.target,
                    self.written,
                    self.total,
                    self.elapsed.as_secs_f64(),
                )
            }
        };
        if self.skipped > 0 {
            s.push_str(&format!(", {} bad lines skipped", self.skipped));
        }
        if self.cancelled {
            s.push_str(", cancelled");
        }
        s
    }
}

#[derive(Debug, Error)]
pub enum WarmupError {
    #[error("warmup file {path}: {source} — check the path given to --file")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("warmup file {path}: {} bad lines, nothing written (strict): {}", .bad.len(), first_bad(.bad))]
    Strict { path: String, bad: Vec<BadLine> },
    #[error("audit log: {0} — fix [actions].audit_log; actions do not run unaudited")]
    Audit(std::io::Error),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(
        "warmup {target}: write failed after {written} keys: {source} — rerun; SET is idempotent"
    )]
    Write {
        target: String,
        written: u64,
        source: redis::RedisError,
    },
    #[error(
        "warmup: no target — set [redis] url to write the cache, or [actions.warmup] http_url \
         to send the entries to the service's warmup endpoint"
    )]
    NoTarget,
    #[error("warmup {url}: {detail} — check [actions.warmup] http_url and that the service is up")]
    HttpSend { url: String, detail: String },
    #[error(
        "warmup {url}: no response within {ms} ms — the service may still be working on it: \
         check its logs before rerunning, or raise [actions.warmup] timeout_ms"
    )]
    HttpTimeout { url: String, ms: u128 },
    #[error(
        "warmup {url}: the service answered {response} — see its logs, fix the cause and rerun"
    )]
    HttpStatus { url: String, response: String },
}

/// Where the entries go.
#[derive(Debug, Clone, Copy)]
pub enum WarmupTarget<'a> {
    Redis(&'a RedisConfig),
    /// The service's own warmup endpoint, which then writes its cache itself.
    Http {
        url: &'a str,
        timeout: Duration,
    },
}

impl<'a> WarmupTarget<'a> {
    /// `http_url` wins over `[redis]`: a configured endpoint means the service owns its writes.
    pub fn from_config(config: &'a Config) -> Result<WarmupTarget<'a>, WarmupError> {
        let w = &config.actions.warmup;
        if let Some(url) = w.http_url.as_deref().filter(|u| !u.is_empty()) {
            let timeout = w
                .timeout_ms
                .map(Duration::from_millis)
                .unwrap_or(crate::ops::warmup_http::DEFAULT_TIMEOUT);
            return Ok(WarmupTarget::Http { url, timeout });
        }
        config
            .redis
            .as_ref()
            .map(WarmupTarget::Redis)
            .ok_or(WarmupError::NoTarget)
    }
}

fn first_bad(bad: &[BadLine]) -> String {
    let shown: Vec<String> = bad.iter().take(5).map(|b| b.to_string()).collect();
    shown.join("; ")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    question: String,
    answer: serde_json::Value,
    #[serde(default)]
    context: Option<String>,
    #[serde(default)]
    ttl_s: Option<u64>,
}

/// Parses JSONL text; blank lines are skipped silently, bad ones listed with their number.
pub fn parse_jsonl(text: &str, source: &str, opts: &WarmupOptions) -> WarmupPlan {
    let mut plan = WarmupPlan {
        source: source.to_string(),
        ..WarmupPlan::default()
    };
    for (idx, raw) in text.lines().enumerate() {
        let line = idx + 1;
        if raw.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Line>(raw) {
            Ok(l) if l.question.is_empty() => plan.bad.push(BadLine {
                line,
                reason: "empty question".into(),
            }),
            Ok(l) if l.ttl_s == Some(0) => plan.bad.push(BadLine {
                line,
                reason: "ttl_s must be at least 1".into(),
            }),
            Ok(l) => {
                let explicit = opts.ttl_override_s.or(l.ttl_s);
                plan.entries.push(WarmupEntry {
                    line,
                    key: answer_key(&l.question, l.context.as_deref(), &opts.kb_version),
                    value: python_json(&l.answer),
                    ttl_s: explicit.unwrap_or(opts.default_ttl_s),
                    ttl_explicit: explicit.is_some(),
                    question: l.question,
                    context: l.context,
                })
            }
            Err(e) => plan.bad.push(BadLine {
                line,
                reason: e.to_string(),
            }),
        }
    }
    plan
}

pub fn load(path: &Path, opts: &WarmupOptions) -> Result<WarmupPlan, WarmupError> {
    let text = std::fs::read_to_string(path).map_err(|source| WarmupError::Read {
        path: path.display().to_string(),
        source,
    })?;
    Ok(parse_jsonl(&text, &path.display().to_string(), opts))
}

pub(crate) fn progress(
    events: &mpsc::Sender<ActionEvent>,
    done: u64,
    total: u64,
    started: Instant,
) {
    // try_send: a busy console drops a progress tick rather than slow the writes.
    let _ = events.try_send(ActionEvent::Progress {
        kind: ActionKind::Warmup,
        done,
        total: Some(total),
        per_sec: per_sec(done, started.elapsed()),
    });
}

pub(crate) fn per_sec(n: u64, d: Duration) -> f64 {
    let s = d.as_secs_f64();
    if s > 0.0 { n as f64 / s } else { 0.0 }
}

/// Writes `plan` to Redis. Sends progress and a final `Finished` on `events`, appends audit
/// lines before and after, and stops between batches when `cancel` is set.
pub async fn warmup(
    redis_cfg: &RedisConfig,
    plan: &WarmupPlan,
    opts: &WarmupOptions,
    audit: &Audit,
    events: &mpsc::Sender<ActionEvent>,
    cancel: &CancelFlag,
) -> Result<WarmupReport, WarmupError> {
    let target = WarmupTarget::Redis(redis_cfg);
    warmup_to(target, plan, opts, audit, events, cancel).await
}

/// Runs the warmup against `target`, with the same events, audit and cancellation either way.
pub async fn warmup_to(
    target: WarmupTarget<'_>,
    plan: &WarmupPlan,
    opts: &WarmupOptions,
    audit: &Audit,
    events: &mpsc::Sender<ActionEvent>,
    cancel: &CancelFlag,
) -> Result<WarmupReport, WarmupError> {
    let result = match target {
        WarmupTarget::Redis(redis_cfg) => run(redis_cfg, plan, opts, audit, events, cancel).await,
        WarmupTarget::Http { url, timeout } => {
            crate::ops::warmup_http::run(url, timeout, plan, opts, audit, events, cancel).await
        }
    };
    let outcome = match &result {
        Ok(r) => Ok(r.summary()),
        Err(e) => Err(e.to_string()),
    };
    let _ = events
        .send(ActionEvent::Finished {
            kind: ActionKind::Warmup,
            outcome,
        })
        .await;
    result
}

/// The audit parameters both routes share.
pub(crate) fn audit_params(plan: &WarmupPlan, opts: &WarmupOptions) -> serde_json::Value {
    serde_json::json!({
        "file": plan.source,
        "entries": plan.entries.len(),
        "bad_lines": plan.bad.len(),
        "kb_version": opts.kb_version,
        "ttl_s": opts.ttl_override_s,
        "strict": opts.strict,
    })
}

/// `--strict` with bad lines: refused, and audited as such, before anything is sent.
pub(crate) fn refuse_if_strict(
    plan: &WarmupPlan,
    opts: &WarmupOptions,
    audit: &Audit,
    params: &serde_json::Value,
) -> Result<(), WarmupError> {
    if !opts.strict || plan.bad.is_empty() {
        return Ok(());
    }
    let err = WarmupError::Strict {
        path: plan.source.clone(),
        bad: plan.bad.clone(),
    };
    audit
        .append(
            "warmup",
            &plan.source,
            params.clone(),
            opts.dry_run,
            "refused",
            &err.to_string(),
        )
        .map_err(WarmupError::Audit)?;
    Err(err)
}

async fn run(
    redis_cfg: &RedisConfig,
    plan: &WarmupPlan,
    opts: &WarmupOptions,
    audit: &Audit,
    events: &mpsc::Sender<ActionEvent>,
    cancel: &CancelFlag,
) -> Result<WarmupReport, WarmupError> {
    let params = audit_params(plan, opts);
    let total = plan.entries.len() as u64;
    refuse_if_strict(plan, opts, audit, &params)?;
    let (target, seeds) = RedisTarget::probe(redis_cfg).await?;
    audit
        .append(
            "warmup",
            &target.name,
            params.clone(),
            opts.dry_run,
            "started",
            "",
        )
        .map_err(WarmupError::Audit)?;
    let started = Instant::now();
    let mut written = 0u64;
    let mut cancelled = false;
    let outcome = async {
        if opts.dry_run {
            written = total;
            return Ok(());
        }
        let writer = redis_target::writer(redis_cfg, &target, &seeds).await?;
        // Several batches in flight hide the round trip behind the next batch's encoding.
        let mut in_flight = FuturesUnordered::new();
        let mut batches = plan.entries.chunks(opts.batch_size.max(1));
        loop {
            while in_flight.len() < PIPELINE_DEPTH && !cancelled {
                if cancel.is_cancelled() {
                    cancelled = true;
                    break;
                }
                let Some(batch) = batches.next() else { break };
                let writer = writer.clone();
                in_flight
                    .push(async move { write_batch(writer, batch).await.map(|()| batch.len()) });
            }
            let Some(done) = in_flight.next().await else {
                break;
            };
            let n = done.map_err(|source| WarmupError::Write {
                target: target.name.clone(),
                written,
                source,
            })?;
            written += n as u64;
            progress(events, written, total, started);
        }
        Ok(())
    }
    .await;
    let elapsed = started.elapsed();
    let report = WarmupReport {
        target: target.name.clone(),
        written,
        total,
        skipped: plan.bad.len(),
        elapsed,
        keys_per_sec: per_sec(written, elapsed),
        cancelled,
        dry_run: opts.dry_run,
        response: None,
    };
    let (word, detail) = match &outcome {
        Ok(()) if cancelled => ("cancelled", report.summary()),
        Ok(()) => ("ok", report.summary()),
        Err(e) => ("failed", format!("{e}; {written} keys written")),
    };
    audit
        .append("warmup", &target.name, params, opts.dry_run, word, &detail)
        .map_err(WarmupError::Audit)?;
    outcome.map(|()| report)
}

async fn write_batch(writer: Writer, batch: &[WarmupEntry]) -> redis::RedisResult<()> {
    match writer {
        Writer::Single(mut conn) => {
            let mut pipe = redis::pipe();
            for e in batch {
                pipe.cmd("SET")
                    .arg(&e.key)
                    .arg(&e.value)
                    .arg("EX")
                    .arg(e.ttl_s)
                    .ignore();
            }
            pipe.query_async::<()>(&mut conn).await
        }
        Writer::Cluster(conn) => {
            // A cluster pipeline must stay within one slot; group, then send all at once.
            let mut by_slot: HashMap<Slot, redis::Pipeline> = HashMap::new();
            for e in batch {
                by_slot
                    .entry(Slot::for_key(&e.key))
                    .or_insert_with(redis::pipe)
                    .cmd("SET")
                    .arg(&e.key)
                    .arg(&e.value)
                    .arg("EX")
                    .arg(e.ttl_s)
                    .ignore();
            }
            let sends = by_slot.into_values().map(|pipe| {
                let mut conn = conn.clone();
                async move { pipe.query_async::<()>(&mut conn).await }
            });
            for r in futures::future::join_all(sends).await {
                r?;
            }
            Ok(())
        }
    }
}
