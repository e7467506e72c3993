//! Cache warmup from a JSONL file of `{"question", "answer", "context"?, "ttl_s"?}`: one
//! `SET answer:<md5> <json answer> EX ttl` per line, keyed exactly as the platform's Python
//! services key them, written in pipelined batches, cancellable between batches, audited.
//! From a file, the Redis route (`warmup_redis`) parses while earlier batches are written.
//! With `[actions.warmup] http_url` the entries go to the service's own endpoint instead
//! (`warmup_http`).

use crate::config::{CacheConfig, Config, RedisConfig};
use crate::domain::cache_key::answer_key_into;
use crate::domain::py_json;
use crate::ops::audit::Audit;
use crate::ops::{ActionEvent, ActionKind, CancelFlag};
use crate::sources::redis::conn::ConnectError;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::path::Path;
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::sync::mpsc;

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

/// SETs per batch. With `warmup_redis`'s four batches in flight this keeps about 140 KB of
/// typical entries on the wire, which the socket buffers hold whole: the server then reads
/// what has already arrived. With batches of 1000 (560 KB in flight) the same writes took
/// Redis about 5 % longer (`scripts/bench-redis.sh`, interleaved runs).
pub const BATCH_SIZE: usize = 250;

impl WarmupOptions {
    pub fn from_config(cache: &CacheConfig) -> WarmupOptions {
        WarmupOptions {
            kb_version: cache.kb_version.clone(),
            ttl_override_s: None,
            default_ttl_s: cache.answer_ttl_s,
            dry_run: false,
            strict: false,
            batch_size: BATCH_SIZE,
        }
    }
}

/// One line ready to write.
#[derive(Debug, Clone, PartialEq)]
pub struct WarmupEntry {
    pub line: usize,
    /// The question and context as given: the HTTP warmup sends them, not the key.
    pub question: String,
    /// The line's `context`, any JSON value, as the JSON text the line gave.
    pub context_json: Option<String>,
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
    #[error(
        "wrote {written} keys, but the audit log's end line could not be written: {source} — fix [actions].audit_log and record this by hand"
    )]
    AuditEnd {
        written: u64,
        source: std::io::Error,
    },
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
pub(crate) struct Line<'a> {
    /// Borrowed from the line unless it holds escapes.
    #[serde(borrow)]
    pub(crate) question: Cow<'a, str>,
    /// Raw: rewritten straight to the stored text, without building a tree per line.
    #[serde(borrow)]
    answer: &'a RawValue,
    /// Raw, so the key sees the number `1` and `1.0` and big integers as the services do.
    #[serde(default, borrow)]
    pub(crate) context: Option<&'a RawValue>,
    #[serde(default)]
    ttl_s: Option<u64>,
}

/// One line keyed, borrowing the parser's buffers until the next line.
pub(crate) struct Keyed<'p> {
    pub(crate) key: &'p str,
    pub(crate) value: &'p str,
    pub(crate) ttl_s: u64,
    pub(crate) ttl_explicit: bool,
}

/// Turns lines into keys and stored values, in buffers it reuses for every line: a warmup
/// keys millions of lines, and keeping allocation out of that loop keeps it cheap.
pub(crate) struct LineParser<'a> {
    opts: &'a WarmupOptions,
    scratch: String,
    key: String,
    value: String,
}

impl<'a> LineParser<'a> {
    pub(crate) fn new(opts: &'a WarmupOptions) -> LineParser<'a> {
        LineParser {
            opts,
            scratch: String::new(),
            key: String::new(),
            value: String::new(),
        }
    }

    /// `None` for a blank line, which is skipped without a report.
    pub(crate) fn parse(
        &mut self,
        line: usize,
        raw: &[u8],
    ) -> Option<Result<WarmupEntry, BadLine>> {
        self.parse_with(line, raw, |k, l| WarmupEntry {
            line,
            key: k.key.to_string(),
            value: k.value.to_string(),
            ttl_s: k.ttl_s,
            ttl_explicit: k.ttl_explicit,
            question: l.question.into_owned(),
            context_json: l.context.map(|c| c.get().to_string()),
        })
    }

    /// The line keyed and handed to `take`, with the line itself for what else it needs.
    pub(crate) fn parse_with<T>(
        &mut self,
        line: usize,
        raw: &[u8],
        take: impl FnOnce(Keyed<'_>, Line<'_>) -> T,
    ) -> Option<Result<T, BadLine>> {
        let bad = |reason: String| Some(Err(BadLine { line, reason }));
        if raw.trim_ascii().is_empty() {
            return None;
        }
        // Checked once as a whole, so the JSON reader does not check each string again.
        let text = match std::str::from_utf8(raw) {
            Ok(t) => t,
            Err(e) => return bad(format!("not UTF-8: {e}")),
        };
        let l = match serde_json::from_str::<Line>(text) {
            Ok(l) => l,
            Err(e) => return bad(e.to_string()),
        };
        if l.question.is_empty() {
            return bad("empty question".into());
        }
        if l.ttl_s == Some(0) {
            return bad("ttl_s must be at least 1".into());
        }
        let explicit = self.opts.ttl_override_s.or(l.ttl_s);
        self.key.clear();
        let keyed = answer_key_into(
            &mut self.scratch,
            &mut self.key,
            &l.question,
            l.context.map(RawValue::get),
            &self.opts.kb_version,
        );
        if let Err(e) = keyed {
            return bad(format!("context: {e}"));
        }
        // Stored as Python writes it (keys sorted, as `json.dumps(sort_keys=True)`), so the
        // services read back the value they would have written.
        self.value.clear();
        if let Err(e) = py_json::push_sorted(&mut self.value, l.answer.get()) {
            return bad(format!("answer: {e}"));
        }
        let keyed = Keyed {
            key: &self.key,
            value: &self.value,
            ttl_s: explicit.unwrap_or(self.opts.default_ttl_s),
            ttl_explicit: explicit.is_some(),
        };
        Some(Ok(take(keyed, l)))
    }
}

/// Parses JSONL text; blank lines are skipped silently, bad ones listed with their number.
pub fn parse_jsonl(text: &str, source: &str, opts: &WarmupOptions) -> WarmupPlan {
    parse_bytes(text.as_bytes(), source, opts)
}

fn parse_bytes(bytes: &[u8], source: &str, opts: &WarmupOptions) -> WarmupPlan {
    let mut plan = WarmupPlan {
        source: source.to_string(),
        ..WarmupPlan::default()
    };
    let mut parser = LineParser::new(opts);
    for (idx, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        match parser.parse(idx + 1, raw) {
            Some(Ok(entry)) => plan.entries.push(entry),
            Some(Err(bad)) => plan.bad.push(bad),
            None => {}
        }
    }
    plan
}

/// The whole file, checked: what `--strict`, `--dry-run` and the HTTP route work from.
pub fn load(path: &Path, opts: &WarmupOptions) -> Result<WarmupPlan, WarmupError> {
    // Bytes, not a String: a line that is not UTF-8 is one bad line, not a refused file.
    let bytes = std::fs::read(path).map_err(|source| WarmupError::Read {
        path: path.display().to_string(),
        source,
    })?;
    Ok(parse_bytes(&bytes, &path.display().to_string(), opts))
}

/// `total` is an estimate while a streamed file is still being read.
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
    let result = run_plan(target, plan, opts, audit, events, cancel).await;
    finish(events, result).await
}

/// Warmup from `path`, as `opsdeck warmup --file` and the console's `w` run it. Bad lines go
/// to `on_bad` as they are found. Writing to Redis, the file is parsed while earlier batches
/// are written; `--strict` (nothing may be written before the whole file is checked),
/// `--dry-run` and the HTTP route read the whole file first.
pub async fn warmup_file(
    target: WarmupTarget<'_>,
    path: &Path,
    opts: &WarmupOptions,
    audit: &Audit,
    events: &mpsc::Sender<ActionEvent>,
    cancel: &CancelFlag,
    on_bad: &mut (dyn FnMut(&BadLine) + Send),
) -> Result<WarmupReport, WarmupError> {
    let result = match target {
        WarmupTarget::Redis(redis_cfg) if !opts.strict && !opts.dry_run => {
            let run = crate::ops::warmup_redis::run_file(
                redis_cfg, path, opts, audit, events, cancel, on_bad,
            );
            run.await
        }
        _ => match load(path, opts) {
            Ok(plan) => {
                plan.bad.iter().for_each(&mut *on_bad);
                run_plan(target, &plan, opts, audit, events, cancel).await
            }
            Err(e) => Err(e),
        },
    };
    finish(events, result).await
}

async fn run_plan(
    target: WarmupTarget<'_>,
    plan: &WarmupPlan,
    opts: &WarmupOptions,
    audit: &Audit,
    events: &mpsc::Sender<ActionEvent>,
    cancel: &CancelFlag,
) -> Result<WarmupReport, WarmupError> {
    match target {
        WarmupTarget::Redis(redis_cfg) => {
            crate::ops::warmup_redis::run_plan(redis_cfg, plan, opts, audit, events, cancel).await
        }
        WarmupTarget::Http { url, timeout } => {
            crate::ops::warmup_http::run(url, timeout, plan, opts, audit, events, cancel).await
        }
    }
}

async fn finish(
    events: &mpsc::Sender<ActionEvent>,
    result: Result<WarmupReport, WarmupError>,
) -> Result<WarmupReport, WarmupError> {
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
    audit_params_counts(
        &plan.source,
        Some(plan.entries.len()),
        Some(plan.bad.len()),
        opts,
    )
}

/// `None` counts: a streamed file, not yet read to its end when the "started" line is written.
pub(crate) fn audit_params_counts(
    source: &str,
    entries: Option<usize>,
    bad_lines: Option<usize>,
    opts: &WarmupOptions,
) -> serde_json::Value {
    serde_json::json!({
        "file": source,
        "entries": entries,
        "bad_lines": bad_lines,
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
