//! Warmup's Redis route: batches of `SET key value EX ttl`, several in flight, on a plain
//! RESP connection to a single server (`resp_conn`), or on redis-rs for a cluster (pipelines
//! grouped by slot) and for TLS. From a file, a parser thread keys the next batches while
//! the server works through the ones sent, so reading the file costs little extra time.

use crate::config::RedisConfig;
use crate::ops::audit::Audit;
use crate::ops::redis_target::{self, ACTION_TIMEOUT, RedisTarget, Writer};
use crate::ops::resp_conn::RespConn;
use crate::ops::warmup::{
    BadLine, LineParser, WarmupEntry, WarmupError, WarmupOptions, WarmupPlan, WarmupReport,
    audit_params, audit_params_counts, per_sec, progress, refuse_if_strict,
};
use crate::ops::{ActionEvent, CancelFlag};
use crate::sources::redis::conn::{ConnectError, Endpoint};
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use redis::RedisError;
use redis::cluster_routing::Slot;
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;
use std::time::Instant;
use tokio::sync::mpsc;

/// Batches sent and not yet answered: enough that the server never waits for the next one.
const PIPELINE_DEPTH: usize = 4;
/// Batches the parser may run ahead of the writes, bounding the memory a large file takes.
const QUEUED_BATCHES: usize = 8;

type Bad<'a> = &'a mut (dyn FnMut(&BadLine) + Send);

pub(crate) async fn run_plan(
    redis_cfg: &RedisConfig,
    plan: &WarmupPlan,
    opts: &WarmupOptions,
    audit: &Audit,
    events: &mpsc::Sender<ActionEvent>,
    cancel: &CancelFlag,
) -> Result<WarmupReport, WarmupError> {
    let params = audit_params(plan, opts);
    refuse_if_strict(plan, opts, audit, &params)?;
    let source = Source::Plan {
        chunks: plan.entries.chunks(opts.batch_size.max(1)),
        total: plan.entries.len() as u64,
        bad: plan.bad.len() as u64,
    };
    let run = Run {
        redis_cfg,
        file: &plan.source,
        opts,
        audit,
        events,
        cancel,
    };
    run.go(params, source, &mut |_| {}).await
}

pub(crate) async fn run_file(
    redis_cfg: &RedisConfig,
    path: &Path,
    opts: &WarmupOptions,
    audit: &Audit,
    events: &mpsc::Sender<ActionEvent>,
    cancel: &CancelFlag,
    on_bad: Bad<'_>,
) -> Result<WarmupReport, WarmupError> {
    let shown = path.display().to_string();
    let read_err = |source| WarmupError::Read {
        path: shown.clone(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let file_len = file.metadata().map_err(read_err)?.len();
    let (tx, rx) = mpsc::channel(QUEUED_BATCHES);
    let parser_opts = opts.clone();
    std::thread::Builder::new()
        .name("warmup-parse".into())
        .spawn(move || produce(file, &parser_opts, tx))
        .map_err(read_err)?;
    let source = Source::Stream {
        rx,
        file_len,
        bytes: 0,
        entries: 0,
        bad: 0,
        done: false,
    };
    let params = audit_params_counts(&shown, None, None, opts);
    let run = Run {
        redis_cfg,
        file: &shown,
        opts,
        audit,
        events,
        cancel,
    };
    run.go(params, source, on_bad).await
}

/// Up to `batch_size` entries, the bad lines met on the way, and the bytes they took.
struct Chunk {
    entries: Vec<WarmupEntry>,
    bad: Vec<BadLine>,
    bytes: u64,
}

fn produce(file: std::fs::File, opts: &WarmupOptions, tx: mpsc::Sender<std::io::Result<Chunk>>) {
    let batch = opts.batch_size.max(1);
    let fresh = || Chunk {
        entries: Vec::with_capacity(batch),
        bad: Vec::new(),
        bytes: 0,
    };
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut parser = LineParser::new(opts);
    let mut raw = Vec::new();
    let mut chunk = fresh();
    for line in 1.. {
        raw.clear();
        match reader.read_until(b'\n', &mut raw) {
            Ok(0) => break,
            Ok(n) => chunk.bytes += n as u64,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        }
        match parser.parse(line, raw.strip_suffix(b"\n").unwrap_or(&raw)) {
            Some(Ok(entry)) => chunk.entries.push(entry),
            Some(Err(bad)) => chunk.bad.push(bad),
            None => {}
        }
        // A closed channel means the writer stopped (cancelled or failed): so does the parser.
        if chunk.entries.len() >= batch
            && tx
                .blocking_send(Ok(std::mem::replace(&mut chunk, fresh())))
                .is_err()
        {
            return;
        }
    }
    let _ = tx.blocking_send(Ok(chunk));
}

enum Source<'a> {
    Plan {
        chunks: std::slice::Chunks<'a, WarmupEntry>,
        total: u64,
        bad: u64,
    },
    Stream {
        rx: mpsc::Receiver<std::io::Result<Chunk>>,
        file_len: u64,
        bytes: u64,
        entries: u64,
        bad: u64,
        done: bool,
    },
}

impl<'a> Source<'a> {
    async fn next(&mut self, on_bad: Bad<'_>) -> std::io::Result<Option<Cow<'a, [WarmupEntry]>>> {
        match self {
            Source::Plan { chunks, .. } => Ok(chunks.next().map(Cow::Borrowed)),
            Source::Stream {
                rx,
                bytes,
                entries,
                bad,
                done,
                ..
            } => loop {
                let Some(chunk) = rx.recv().await else {
                    *done = true;
                    return Ok(None);
                };
                let chunk = chunk?;
                *bytes += chunk.bytes;
                *entries += chunk.entries.len() as u64;
                *bad += chunk.bad.len() as u64;
                chunk.bad.iter().for_each(&mut *on_bad);
                if !chunk.entries.is_empty() {
                    return Ok(Some(Cow::Owned(chunk.entries)));
                }
            },
        }
    }

    /// Entries in the file; while a stream is still being read, extrapolated from the bytes
    /// read so far, so the progress bar has an ETA from the first batch.
    fn total(&self) -> u64 {
        match *self {
            Source::Plan { total, .. } => total,
            Source::Stream { entries, done, .. } if done => entries,
            Source::Stream {
                file_len,
                bytes,
                entries,
                ..
            } => {
                let left = file_len.saturating_sub(bytes) as f64;
                entries + (left * entries as f64 / bytes.max(1) as f64) as u64
            }
        }
    }

    fn bad(&self) -> u64 {
        match *self {
            Source::Plan { bad, .. } | Source::Stream { bad, .. } => bad,
        }
    }
}

/// Where batches go, and how their answers come back.
enum Sink {
    Resp(RespConn),
    Redis {
        writer: Writer,
        in_flight: FuturesUnordered<BoxFuture<'static, (usize, redis::RedisResult<()>)>>,
    },
}

impl Sink {
    async fn open(
        cfg: &RedisConfig,
        target: &RedisTarget,
        seeds: &[Endpoint],
    ) -> Result<Sink, ConnectError> {
        if !target.cluster
            && let Some(conn) = RespConn::connect(&seeds[0], ACTION_TIMEOUT).await
        {
            return Ok(Sink::Resp(conn?));
        }
        Ok(Sink::Redis {
            writer: redis_target::writer(cfg, target, seeds).await?,
            in_flight: FuturesUnordered::new(),
        })
    }

    fn in_flight(&self) -> usize {
        match self {
            Sink::Resp(conn) => conn.in_flight(),
            Sink::Redis { in_flight, .. } => in_flight.len(),
        }
    }

    async fn send(&mut self, batch: &[WarmupEntry]) -> redis::RedisResult<()> {
        match self {
            Sink::Resp(conn) => {
                let sets = batch
                    .iter()
                    .map(|e| (e.key.as_str(), e.value.as_str(), e.ttl_s));
                conn.send_sets(sets).await
            }
            Sink::Redis { writer, in_flight } => {
                in_flight.push(pipelines(writer, batch));
                Ok(())
            }
        }
    }

    /// Keys the server confirmed for one answered batch, and the first write it refused.
    async fn next_done(&mut self) -> redis::RedisResult<(u64, Option<RedisError>)> {
        match self {
            Sink::Resp(conn) => {
                let reply = conn.read_batch().await?;
                Ok((reply.ok as u64, reply.error))
            }
            Sink::Redis { in_flight, .. } => match in_flight.next().await {
                Some((n, Ok(()))) => Ok((n as u64, None)),
                Some((_, Err(e))) => Ok((0, Some(e))),
                None => Ok((0, None)),
            },
        }
    }
}

fn pipelines(
    writer: &Writer,
    batch: &[WarmupEntry],
) -> BoxFuture<'static, (usize, redis::RedisResult<()>)> {
    let n = batch.len();
    let set = |pipe: &mut redis::Pipeline, e: &WarmupEntry| {
        pipe.cmd("SET")
            .arg(&e.key)
            .arg(&e.value)
            .arg("EX")
            .arg(e.ttl_s)
            .ignore();
    };
    match writer {
        Writer::Single(conn) => {
            let mut pipe = redis::pipe();
            batch.iter().for_each(|e| set(&mut pipe, e));
            let mut conn = conn.clone();
            Box::pin(async move { (n, pipe.query_async::<()>(&mut conn).await) })
        }
        Writer::Cluster(conn) => {
            // A cluster pipeline must stay within one slot; group, then send all at once.
            let mut by_slot: HashMap<Slot, redis::Pipeline> = HashMap::new();
            for e in batch {
                set(
                    by_slot
                        .entry(Slot::for_key(&e.key))
                        .or_insert_with(redis::pipe),
                    e,
                );
            }
            let sends: Vec<_> = by_slot
                .into_values()
                .map(|pipe| {
                    let mut conn = conn.clone();
                    async move { pipe.query_async::<()>(&mut conn).await }
                })
                .collect();
            Box::pin(async move {
                let results = futures::future::join_all(sends).await;
                (
                    n,
                    results
                        .into_iter()
                        .collect::<redis::RedisResult<Vec<()>>>()
                        .map(|_| ()),
                )
            })
        }
    }
}

struct Run<'a> {
    redis_cfg: &'a RedisConfig,
    file: &'a str,
    opts: &'a WarmupOptions,
    audit: &'a Audit,
    events: &'a mpsc::Sender<ActionEvent>,
    cancel: &'a CancelFlag,
}

impl Run<'_> {
    async fn go(
        self,
        mut params: serde_json::Value,
        mut source: Source<'_>,
        on_bad: Bad<'_>,
    ) -> Result<WarmupReport, WarmupError> {
        let (target, seeds) = RedisTarget::probe(self.redis_cfg).await?;
        let (audit, opts) = (self.audit, self.opts);
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
        let write_err = |written, source| WarmupError::Write {
            target: target.name.clone(),
            written,
            source,
        };
        let outcome = async {
            if opts.dry_run {
                written = source.total();
                return Ok(());
            }
            let mut sink = Sink::open(self.redis_cfg, &target, &seeds).await?;
            let mut exhausted = false;
            loop {
                while sink.in_flight() < PIPELINE_DEPTH && !cancelled && !exhausted {
                    if self.cancel.is_cancelled() {
                        cancelled = true;
                        break;
                    }
                    let next = source
                        .next(&mut *on_bad)
                        .await
                        .map_err(|e| self.read_err(e))?;
                    match next {
                        Some(batch) => {
                            sink.send(&batch).await.map_err(|e| write_err(written, e))?
                        }
                        None => exhausted = true,
                    }
                }
                if sink.in_flight() == 0 {
                    break;
                }
                let (ok, refused) = sink.next_done().await.map_err(|e| write_err(written, e))?;
                written += ok;
                if let Some(e) = refused {
                    return Err(write_err(written, e));
                }
                progress(self.events, written, source.total(), started);
            }
            // The report counts the whole file, the part left unwritten included.
            while cancelled
                && source
                    .next(&mut *on_bad)
                    .await
                    .map_err(|e| self.read_err(e))?
                    .is_some()
            {}
            Ok(())
        }
        .await;
        let elapsed = started.elapsed();
        let report = WarmupReport {
            target: target.name.clone(),
            written,
            total: source.total(),
            skipped: source.bad() as usize,
            elapsed,
            keys_per_sec: per_sec(written, elapsed),
            cancelled,
            dry_run: opts.dry_run,
            response: None,
        };
        if let Source::Stream { entries, bad, .. } = source {
            params["entries"] = entries.into();
            params["bad_lines"] = bad.into();
        }
        let (word, detail) = match &outcome {
            Ok(()) if cancelled => (self.cancel.word(), report.summary()),
            Ok(()) => ("ok", report.summary()),
            Err(e) => ("failed", format!("{e}; {written} keys written")),
        };
        params["written"] = written.into();
        audit
            .append("warmup", &target.name, params, opts.dry_run, word, &detail)
            .map_err(|source| WarmupError::AuditEnd { written, source })?;
        outcome.map(|()| report)
    }

    fn read_err(&self, source: std::io::Error) -> WarmupError {
        WarmupError::Read {
            path: self.file.to_string(),
            source,
        }
    }
}
