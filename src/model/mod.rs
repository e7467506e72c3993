//! Plain data every layer shares: what the backends report, and what actions ask for and
//! report back. No I/O and no rules here; `domain` holds the rules over these values.

mod action;
mod hibernation;
pub mod keymap;
mod log;
mod period;
mod samples;
mod view;

pub use action::{ActionEvent, ActionKind, CancelFlag, HpaBounds, Observed, ScaleTarget};
pub use hibernation::{AT_ANNOTATION, BY_ANNOTATION, Hibernation, REPLICAS_ANNOTATION};
pub use log::{LogLevel, LogLine};
pub use period::{DeploymentLine, Gap, ModelLine, Totals};
pub use samples::*;
pub use view::View;

/// History length: 60 points of 10 s, the last ten minutes.
pub const HISTORY_POINTS: usize = 60;
pub const HISTORY_STEP_S: i64 = 10;
