//! Running a plan on the embedded demo: the same plan as on real backends, progress at a
//! believable simulated rate, cancellable between batches, audited like the real thing, and
//! every result marked "(demo)".

use crate::model::{ActionEvent, ActionKind, CancelFlag};
use crate::ops::audit::Audit;
use crate::sources::sim::{Sim, SimHandle};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Batches per second of a simulated job.
const TICKS_PER_SEC: u64 = 5;

/// One simulated batch: the keys to act on; returns how many were acted on.
pub type Step = Arc<dyn Fn(&mut Sim, u64) -> u64 + Send + Sync>;

pub struct Job {
    pub kind: ActionKind,
    pub target: String,
    pub params: Value,
    pub total: u64,
    pub per_sec: f64,
    /// "wrote", "deleted": what the summary says was done to the keys.
    pub verb: &'static str,
}

/// Runs `job` against the demo, `step` once per batch, and reports as a real action does.
pub async fn run(
    sim: &SimHandle,
    job: Job,
    step: Step,
    audit: &Audit,
    events: &mpsc::Sender<ActionEvent>,
    cancel: &CancelFlag,
) {
    if let Err(e) = audit.append(
        job.kind.name(),
        &job.target,
        job.params.clone(),
        false,
        "started",
        "demo",
    ) {
        finish(
            events,
            job.kind,
            Err(format!("refused: cannot write the audit log ({e})")),
        )
        .await;
        return;
    }
    let started = Instant::now();
    let batch = ((job.per_sec as u64) / TICKS_PER_SEC).max(1);
    let mut tick = tokio::time::interval(Duration::from_millis(1000 / TICKS_PER_SEC));
    let mut done = 0u64;
    let mut cancelled = false;
    while done < job.total {
        tick.tick().await;
        if cancel.is_cancelled() {
            cancelled = true;
            break;
        }
        let n = batch.min(job.total - done);
        let step = step.clone();
        let Some(acted) = sim.with(move |s| step(s, n)).await else {
            break;
        };
        // The demo's keyspace may hold fewer keys than planned: stop when nothing is left.
        done += n;
        let _ = events.try_send(ActionEvent::Progress {
            kind: job.kind,
            done,
            total: Some(job.total),
            per_sec: job.per_sec,
        });
        if acted < n {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64().max(0.001);
    let detail = format!(
        "{} {done} of {} keys in {secs:.1}s ({:.0} keys/s) (demo)",
        job.verb,
        job.total,
        done as f64 / secs
    );
    let outcome = if cancelled { cancel.word() } else { "ok" };
    let mut params = job.params;
    params["done"] = done.into();
    let _ = audit.append(
        job.kind.name(),
        &job.target,
        params,
        false,
        outcome,
        &detail,
    );
    let result = if cancelled {
        Err(format!("{outcome}: {detail}"))
    } else {
        Ok(detail)
    };
    finish(events, job.kind, result).await;
}

pub async fn finish(
    events: &mpsc::Sender<ActionEvent>,
    kind: ActionKind,
    outcome: Result<String, String>,
) {
    let _ = events.send(ActionEvent::Finished { kind, outcome }).await;
}
