//! Actions, usable from the keys and headless: warmup, invalidate, scale, and their audit.
//!
//! An action runs as its own task and reports [`ActionEvent`]s to the App loop (or to the
//! headless command's printer). Cancellation is a `tokio_util`-free watch flag: the action
//! checks [`CancelFlag::is_cancelled`] between batches and stops, reporting what it did.

pub mod audit;
pub mod invalidate;
pub mod observed;
pub mod redis_target;
pub mod resp_conn;
pub mod scale;
pub mod scale_cli;
pub mod warmup;
pub mod warmup_http;
pub mod warmup_redis;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Shared only between an action task and whoever may cancel it; never app state.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    Warmup,
    Invalidate,
    Scale,
}

impl ActionKind {
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::Warmup => "warmup",
            ActionKind::Invalidate => "invalidate",
            ActionKind::Scale => "scale",
        }
    }
}

/// Progress and outcome of one running action.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionEvent {
    Progress {
        kind: ActionKind,
        done: u64,
        total: Option<u64>,
        per_sec: f64,
    },
    Finished {
        kind: ActionKind,
        /// Ok(summary) or Err(message); both are shown to the operator as they are.
        outcome: Result<String, String>,
    },
    /// A scale met a 409: the deployment changed after the operator looked, and nothing was
    /// changed. Carries what they decided on and what it is now, so the console can show the
    /// difference and ask again.
    ScaleConflict {
        namespace: String,
        name: String,
        target: scale::ScaleTarget,
        before: observed::Observed,
        now: observed::Observed,
        message: String,
    },
    /// What an invalidation would delete, counted by SCAN before the operator confirms.
    Preview {
        group: String,
        user_id: Option<String>,
        result: Result<(u64, Vec<String>), String>,
    },
}
