//! Warmup's Redis route: batches of `SET key value EX ttl`, several in flight, on a plain
//! RESP connection to a single server (`resp_conn`), or on redis-rs for a cluster (pipelines
//! grouped by slot) and for TLS. The batches come from `warmup_stream`.

use crate::config::RedisConfig;
use crate::ops::audit::Audit;
use crate::ops::redis_target::{self, ACTION_TIMEOUT, RedisTarget, Writer};
use crate::ops::resp_conn::RespConn;
use crate::ops::warmup::{
    WarmupEntry, WarmupError, WarmupOptions, WarmupPlan, WarmupReport, audit_params,
    audit_params_counts, per_sec, progress, refuse_if_strict,
};
use crate::ops::warmup_stream::{Bad, Encoding, Sets, Source};
use crate::ops::{ActionEvent, CancelFlag};
use crate::sources::redis::conn::{ConnectError, Endpoint};
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use redis::RedisError;
use redis::cluster_routing::Slot;
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;
use tokio::sync::mpsc;

/// Batches sent and not yet answered: enough that the server never waits for the next one.
const PIPELINE_DEPTH: usize = 4;

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
    let source = Source::plan(&plan.entries, plan.bad.len(), opts.batch_size);
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
    let source = Source::file(file, opts);
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

    /// How this sink wants a file's batches.
    fn encoding(&self) -> Encoding {
        match self {
            Sink::Resp(_) => Encoding::Resp,
            Sink::Redis { .. } => Encoding::Entries,
        }
    }

    async fn send(&mut self, batch: &Sets<'_>) -> redis::RedisResult<()> {
        match (self, batch) {
            (Sink::Resp(conn), Sets::Resp { buf, count }) => conn.send_encoded(buf, *count).await,
            (Sink::Resp(conn), Sets::Entries(batch)) => {
                let sets = batch
                    .iter()
                    .map(|e| (e.key.as_str(), e.value.as_str(), e.ttl_s));
                conn.send_sets(sets).await
            }
            (Sink::Redis { writer, in_flight }, Sets::Entries(batch)) => {
                in_flight.push(pipelines(writer, batch));
                Ok(())
            }
            (Sink::Redis { .. }, Sets::Resp { .. }) => {
                unreachable!("a file is encoded as RESP only for the plain connection")
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
            source
                .start(sink.encoding())
                .map_err(|e| self.read_err(e))?;
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
        if let Some((entries, bad)) = source.counted() {
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
