//! The demo as a source task: it owns the simulation, samples it every refresh, and lets
//! the actions' demo executions (`ops::*::demo`) act on it through [`SimHandle::with`].

use super::Sim;
use crate::model::{HISTORY_POINTS, HISTORY_STEP_S, Payload, SourceKind, SourceUpdate};
use chrono::{DateTime, Utc};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Something to do to the simulation, on its own task.
pub type SimEdit = Box<dyn FnOnce(&mut Sim) + Send>;

pub enum SimCommand {
    Refresh,
    Edit(SimEdit),
}

impl std::fmt::Debug for SimCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SimCommand::Refresh => "Refresh",
            SimCommand::Edit(_) => "Edit",
        })
    }
}

#[derive(Debug, Clone)]
pub struct SimHandle {
    pub commands: mpsc::Sender<SimCommand>,
}

impl SimHandle {
    /// Runs `f` on the simulation and returns its answer; None when the demo has stopped.
    pub async fn with<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Sim) -> R + Send + 'static,
    ) -> Option<R> {
        let (tx, rx) = oneshot::channel();
        let edit: SimEdit = Box::new(move |sim| {
            let _ = tx.send(f(sim));
        });
        self.commands.send(SimCommand::Edit(edit)).await.ok()?;
        rx.await.ok()
    }
}

pub fn spawn(seed: u64, refresh: Duration, updates: mpsc::Sender<SourceUpdate>) -> SimHandle {
    let (tx, rx) = mpsc::channel(16);
    let (sim, history) = backfill(seed, Utc::now());
    tokio::spawn(run(sim, history, refresh, updates, rx));
    SimHandle { commands: tx }
}

pub fn samples(sim: &Sim, at: DateTime<Utc>) -> [SourceUpdate; 6] {
    let up = |source, payload| SourceUpdate {
        context: None,
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
        up(SourceKind::Kubernetes, Payload::Quotas(sim.quotas())),
        up(
            SourceKind::Prometheus,
            Payload::Traffic(Box::new(sim.traffic())),
        ),
        up(
            SourceKind::Prometheus,
            Payload::CostInputs(Box::new(super::usage::cost_inputs())),
        ),
    ]
}

/// A simulation at `now` and the samples of its last ten minutes, one per history step,
/// so charts are full from the first frame.
pub fn backfill(seed: u64, now: DateTime<Utc>) -> (Sim, Vec<SourceUpdate>) {
    let step = HISTORY_STEP_S;
    let points = HISTORY_POINTS as i64;
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
    mut commands: mpsc::Receiver<SimCommand>,
) {
    let mut sample = tokio::time::interval(refresh);
    sample.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
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
            cmd = commands.recv() => match cmd {
                None => return,
                Some(SimCommand::Refresh) => sample.reset_immediately(),
                Some(SimCommand::Edit(edit)) => edit(&mut sim),
            },
        }
    }
}
