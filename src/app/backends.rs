//! Where confirmed plans go: the one executor (real backends or the demo). Each action runs
//! as its own task and reports on the action channel; the loop only spawns and never waits.

use crate::model::CancelFlag;
use crate::ops::ActionPlan;
use crate::ops::executor::Executor;
use crate::ops::invalidate::InvalidatePlan;
use crate::sources::RefreshNow;
use crate::sources::sim::{SimCommand, SimHandle};
use crate::state::Msg;
use tokio::task::JoinHandle;

#[derive(Debug, Default)]
pub struct Backends {
    /// The demo, for `r`; its actions go through the executor like real ones.
    pub sim: Option<SimHandle>,
    pub executor: Option<Executor>,
    /// Wakes the live sources for `r`.
    pub refresh: RefreshNow,
    /// The running action: one at a time.
    running: Option<(CancelFlag, JoinHandle<()>)>,
    /// The invalidate dialog's preview count; a newer selection aborts it.
    preview: Option<JoinHandle<()>>,
}

impl Backends {
    pub fn new(executor: Executor, sim: Option<SimHandle>, refresh: RefreshNow) -> Backends {
        Backends {
            sim,
            executor: Some(executor),
            refresh,
            running: None,
            preview: None,
        }
    }

    pub fn refresh_now(&self) -> Option<Msg> {
        self.refresh.trigger();
        let sim = self.sim.as_ref()?;
        sim.commands
            .try_send(SimCommand::Refresh)
            .is_err()
            .then(|| Msg::Notice("the demo is busy: try again".into()))
    }

    /// Asks for an exact count of keys per prefix; the Cache view shows its progress.
    pub fn count_keys(&self) -> Msg {
        self.refresh.count_keys();
        if let Some(sim) = &self.sim {
            let edit = SimCommand::Edit(Box::new(|sim| sim.count_keys_exactly()));
            if sim.commands.try_send(edit).is_err() {
                return Msg::Notice("the demo is busy: try again".into());
            }
            let _ = sim.commands.try_send(SimCommand::Refresh);
        }
        Msg::Notice("counting keys per prefix exactly, within [redis] scan_keys_per_sec".into())
    }

    /// True while an action task has not ended.
    pub fn busy(&self) -> bool {
        self.running.as_ref().is_some_and(|(_, t)| !t.is_finished())
    }

    /// Starts `plan`; the message says it started, or why it did not.
    pub fn run(&mut self, plan: ActionPlan) -> Msg {
        let Some(executor) = &self.executor else {
            return Msg::Notice("no backend for this action is configured".into());
        };
        if self.busy() {
            return Msg::Notice(
                "another action is running: wait for it or press Esc to cancel it".into(),
            );
        }
        let kind = plan.kind();
        tracing::info!("{}: confirmed: {}", kind.name(), plan.describe());
        let cancel = CancelFlag::default();
        let task = executor.start(plan, cancel.clone());
        self.running = Some((cancel, task));
        Msg::ActionStarted(kind)
    }

    /// Counts what an invalidation would delete, off the loop; an older count still going
    /// is aborted, so only the selection on screen costs Redis a SCAN.
    pub fn preview(&mut self, plan: InvalidatePlan) {
        if let Some(old) = self.preview.take() {
            old.abort();
        }
        if let Some(executor) = &self.executor {
            self.preview = Some(executor.preview(plan));
        }
    }

    pub fn cancel(&mut self) -> Option<Msg> {
        let (flag, _) = self.running.as_ref().filter(|_| self.busy())?;
        flag.cancel();
        Some(Msg::Notice(
            "cancelling: the action stops after its current batch".into(),
        ))
    }

    /// Stops the running action (cancelled by the operator, or interrupted by a signal)
    /// and waits for it to write its end line, at most `limit`. Returns whether an action
    /// was running.
    pub async fn stop_and_wait(&mut self, interrupt: bool, limit: std::time::Duration) -> bool {
        let Some((flag, task)) = self.running.take() else {
            return false;
        };
        if task.is_finished() {
            return false;
        }
        if interrupt {
            flag.interrupt();
        } else {
            flag.cancel();
        }
        if tokio::time::timeout(limit, task).await.is_err() {
            tracing::warn!("the action did not stop within {} s", limit.as_secs_f64());
        }
        true
    }
}
