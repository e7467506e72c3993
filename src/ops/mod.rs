//! Actions: warmup, invalidate, scale, hibernate and wake. Each is decided once, as a plan, and run one way.
//!
//! An action has its request, its pure plan (validation, bounds, what it will touch, the
//! preview, what must still hold when it runs), its execution against the real backend and
//! against the demo, and its audit lines. The console's dialog and the headless command
//! build the same plan and hand it to the same execution; [`executor::Executor`] is where
//! the console sends a confirmed [`ActionPlan`].
//!
//! An action runs as its own task and reports [`ActionEvent`]s to the App loop (or to the
//! headless command's printer). It checks [`CancelFlag::is_cancelled`] between batches and
//! stops, reporting what it did.

pub mod audit;
pub mod demo;
pub mod executor;
pub mod hibernate;
pub mod invalidate;
pub mod redis_target;
pub mod resp_conn;
pub mod scale;
pub mod warmup;
pub mod warmup_demo;
pub mod warmup_http;
pub mod warmup_redis;
pub(crate) mod warmup_stream;

pub use crate::model::{ActionEvent, ActionKind, CancelFlag};

use std::path::PathBuf;

/// A confirmed action, ready to run: what the dialog showed and the operator accepted.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionPlan {
    /// The file is read and checked when the action runs (I/O stays off the App loop).
    Warmup {
        file: PathBuf,
    },
    Invalidate(invalidate::InvalidatePlan),
    /// Boxed, as Hibernate: the plan carries what the operator saw.
    Scale(Box<scale::ScalePlan>),
    /// Hibernate or wake, by the plan's lever. Boxed: it carries what the operator saw.
    Hibernate(Box<hibernate::HibernatePlan>),
}

impl ActionPlan {
    pub fn kind(&self) -> ActionKind {
        match self {
            ActionPlan::Warmup { .. } => ActionKind::Warmup,
            ActionPlan::Invalidate(_) => ActionKind::Invalidate,
            ActionPlan::Scale(_) => ActionKind::Scale,
            ActionPlan::Hibernate(p) => match p.lever {
                hibernate::Lever::Hibernate => ActionKind::Hibernate,
                hibernate::Lever::Wake => ActionKind::Wake,
            },
        }
    }

    /// One line for the Logs view and the status bar: what is being done, in words.
    pub fn describe(&self) -> String {
        match self {
            ActionPlan::Warmup { file } => format!("warmup from {}", file.display()),
            ActionPlan::Invalidate(p) => {
                format!("invalidate {} ({})", p.target, p.patterns.join(", "))
            }
            ActionPlan::Scale(p) => p.preview().replace('\n', "; "),
            ActionPlan::Hibernate(p) => p.preview().replace('\n', "; "),
        }
    }
}
