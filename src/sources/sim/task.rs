//! The demo as a source task: it samples the simulation every refresh and runs the
//! operator's actions against it, with progress and audit like the real ones.

use super::Sim;
use crate::ops::audit::Audit;
use crate::ops::{ActionEvent, ActionKind};
use crate::sources::{Payload, SourceKind, SourceUpdate};
use crate::state::{ActionRequest, ScaleChange};
use chrono::{DateTime, Utc};
use serde_json::json;
use std::time::Duration;
use tokio::sync::mpsc;

/// Simulated write and delete speeds, keys per second.
const WARM_RATE: f64 = 8_000.0;
const DELETE_RATE: f64 = 50_000.0;
const DEMO_WARMUP_ENTRIES: u64 = 20_000;

#[derive(Debug)]
pub enum SimCommand {
    Run(ActionRequest),
    Cancel,
    Refresh,
}

#[derive(Debug, Clone)]
pub struct SimHandle {
    pub commands: mpsc::Sender<SimCommand>,
}

struct Job {
    kind: ActionKind,
    target: String,
    /// Prefixes to delete from, for invalidation.
    prefixes: Vec<String>,
    total: u64,
    done: u64,
    started: DateTime<Utc>,
}

pub fn spawn(
    seed: u64,
    refresh: Duration,
    updates: mpsc::Sender<SourceUpdate>,
    events: mpsc::Sender<ActionEvent>,
    audit: Audit,
) -> SimHandle {
    let (tx, rx) = mpsc::channel(16);
    let (sim, history) = backfill(seed, Utc::now());
    tokio::spawn(run(sim, history, refresh, updates, events, audit, rx));
    SimHandle { commands: tx }
}

pub fn samples(sim: &Sim, at: DateTime<Utc>) -> [SourceUpdate; 3] {
    let up = |source, payload| SourceUpdate {
        at,
        source,
        payload: Ok(payload),
    };
    [
        up(
            SourceKind::Prometheus,
            Payload::Metrics(Box::new(sim.metrics())),
        ),
        up(SourceKind::Redis, Payload::Cache(Box::new(sim.cache()))),
        up(
            SourceKind::Kubernetes,
            Payload::Cluster(Box::new(sim.cluster())),
        ),
    ]
}

/// A simulation at `now` and the samples of its last ten minutes, one per history step,
/// so charts are full from the first frame.
pub fn backfill(seed: u64, now: DateTime<Utc>) -> (Sim, Vec<SourceUpdate>) {
    let step = crate::state::HISTORY_STEP_S;
    let points = crate::state::HISTORY_POINTS as i64;
    let start = now - chrono::Duration::seconds(step * points);
    let mut sim = Sim::new(seed, start);
    let mut out = Vec::new();
    for i in 1..=points {
        let at = start + chrono::Duration::seconds(step * i);
        let at = at.min(now);
        sim.advance_to(at.timestamp());
        out.extend(samples(&sim, at));
    }
    (sim, out)
}

async fn run(
    mut sim: Sim,
    history: Vec<SourceUpdate>,
    refresh: Duration,
    updates: mpsc::Sender<SourceUpdate>,
    events: mpsc::Sender<ActionEvent>,
    audit: Audit,
    mut commands: mpsc::Receiver<SimCommand>,
) {
    let mut sample = tokio::time::interval(refresh);
    sample.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut work = tokio::time::interval(Duration::from_millis(200));
    let mut job: Option<Job> = None;
    for u in history {
        if updates.send(u).await.is_err() {
            return;
        }
    }
    loop {
        tokio::select! {
            _ = sample.tick() => {
                let now = Utc::now();
                sim.advance_to(now.timestamp());
                for u in samples(&sim, now) {
                    if updates.send(u).await.is_err() {
                        return;
                    }
                }
            }
            _ = work.tick(), if job.is_some() => {
                if let Some(j) = job.as_mut() {
                    step_job(&mut sim, j, &events).await;
                    if j.done >= j.total {
                        finish(job.take(), "ok", &events, &audit).await;
                    }
                }
            }
            cmd = commands.recv() => match cmd {
                None => return,
                Some(SimCommand::Refresh) => sample.reset_immediately(),
                Some(SimCommand::Cancel) => finish(job.take(), "cancelled", &events, &audit).await,
                Some(SimCommand::Run(req)) => {
                    if job.is_some() {
                        let kind = kind_of(&req);
                        let _ = events.send(ActionEvent::Finished {
                            kind,
                            outcome: Err("another action is running: wait for it or press Esc to cancel it".into()),
                        }).await;
                        continue;
                    }
                    job = start(&mut sim, req, &events, &audit).await;
                }
            },
        }
    }
}

fn kind_of(req: &ActionRequest) -> ActionKind {
    match req {
        ActionRequest::Warmup { .. } => ActionKind::Warmup,
        ActionRequest::Invalidate { .. } => ActionKind::Invalidate,
        ActionRequest::Scale { .. } => ActionKind::Scale,
    }
}

async fn start(
    sim: &mut Sim,
    req: ActionRequest,
    events: &mpsc::Sender<ActionEvent>,
    audit: &Audit,
) -> Option<Job> {
    let kind = kind_of(&req);
    let (target, params) = match &req {
        ActionRequest::Warmup { file } => (file.clone(), json!({ "file": file, "demo": true })),
        ActionRequest::Invalidate { group, user_id } => (
            group.clone(),
            json!({ "group": group, "user_id": user_id, "demo": true }),
        ),
        ActionRequest::Scale {
            namespace,
            name,
            change,
            ..
        } => (
            format!("{namespace}/{name}"),
            match change {
                ScaleChange::Replicas(n) => json!({ "replicas": n, "demo": true }),
                ScaleChange::HpaMin(n) => json!({ "hpa_min": n, "demo": true }),
            },
        ),
    };
    if let Err(e) = audit.append(kind.name(), &target, params, false, "started", "demo") {
        let outcome = Err(format!("refused: cannot write the audit log ({e})"));
        let _ = events.send(ActionEvent::Finished { kind, outcome }).await;
        return None;
    }
    let job = |prefixes: Vec<String>, total| Job {
        kind,
        target: target.clone(),
        prefixes,
        total,
        done: 0,
        started: Utc::now(),
    };
    match req {
        ActionRequest::Warmup { .. } => Some(job(Vec::new(), DEMO_WARMUP_ENTRIES)),
        ActionRequest::Invalidate { group, user_id } => {
            let prefixes = match (group.as_str(), user_id) {
                ("knowledge", _) => vec!["answer:".to_string(), "knowledge:".to_string()],
                (_, Some(_)) => Vec::new(),
                _ => vec![format!("{group}:")],
            };
            // A single user holds a handful of keys in the demo.
            let total = if prefixes.is_empty() {
                12
            } else {
                prefixes.iter().map(|p| sim.prefix_keys(p)).sum()
            };
            Some(job(prefixes, total))
        }
        ActionRequest::Scale {
            namespace,
            name,
            change,
            ..
        } => {
            let result = match change {
                ScaleChange::Replicas(n) => sim
                    .scale(&namespace, &name, n)
                    .map(|before| format!("{namespace}/{name}: replicas {before} → {n}")),
                ScaleChange::HpaMin(n) => sim
                    .set_hpa_min(&namespace, &name, n)
                    .map(|before| format!("{namespace}/{name}: HPA minReplicas {before} → {n}")),
            };
            let outcome = if result.is_ok() { "ok" } else { "failed" };
            let detail = result.as_ref().map_or_else(|e| e.clone(), |s| s.clone());
            let _ = audit.append(kind.name(), &target, json!({}), false, outcome, &detail);
            let _ = events
                .send(ActionEvent::Finished {
                    kind,
                    outcome: result,
                })
                .await;
            None
        }
    }
}

async fn step_job(sim: &mut Sim, j: &mut Job, events: &mpsc::Sender<ActionEvent>) {
    let rate = if j.kind == ActionKind::Warmup {
        WARM_RATE
    } else {
        DELETE_RATE
    };
    let n = ((rate / 5.0) as u64).min(j.total - j.done);
    match j.kind {
        ActionKind::Warmup => sim.warm(n, j.total),
        _ => {
            let mut left = n;
            for p in &j.prefixes {
                left -= sim.invalidate(p, left);
            }
        }
    }
    j.done += n;
    let _ = events
        .send(ActionEvent::Progress {
            kind: j.kind,
            done: j.done,
            total: Some(j.total),
            per_sec: rate,
        })
        .await;
}

async fn finish(
    job: Option<Job>,
    outcome: &str,
    events: &mpsc::Sender<ActionEvent>,
    audit: &Audit,
) {
    let Some(j) = job else { return };
    let secs = (Utc::now() - j.started).num_milliseconds().max(1) as f64 / 1000.0;
    let verb = if j.kind == ActionKind::Warmup {
        "wrote"
    } else {
        "deleted"
    };
    let detail = format!(
        "{verb} {} of {} keys in {secs:.1}s ({:.0} keys/s)",
        j.done,
        j.total,
        j.done as f64 / secs
    );
    let _ = audit.append(
        j.kind.name(),
        &j.target,
        json!({ "done": j.done }),
        false,
        outcome,
        &detail,
    );
    let result = if outcome == "ok" {
        Ok(detail)
    } else {
        Err(format!("{outcome}: {detail}"))
    };
    let _ = events
        .send(ActionEvent::Finished {
            kind: j.kind,
            outcome: result,
        })
        .await;
}
