//! Scale a deployment without fighting its HPA.
//!
//! - `plan`: pure. From what the operator saw ([`Observed`]) and what they ask
//!   ([`ScaleRequest`]), the one decision: replicas or the HPA's min/max, the bounds, the
//!   preview text, and the precondition (the resourceVersion of the object they saw).
//! - `kube`: runs a plan against the API server (PATCH with that precondition; a 409 re-reads
//!   and reports what changed); reads a fresh [`Observed`] for the headless command.
//! - `demo`: runs a plan against the embedded demo.
//! - `cli`: `opsdeck scale`, asking on the terminal.
//!
//! The console's `s` dialog and `opsdeck scale` both build their plan with [`plan::plan`]
//! and run it with the same executor.

pub mod cli;
pub mod demo;
pub mod identity;
pub mod kube;
pub mod plan;

pub use crate::model::{HpaBounds, Observed, ScaleTarget};
pub use kube::Scaler;
pub use plan::{PlannedChange, ScalePlan, check_bounds};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleRequest {
    /// The kube context acted on, when several are watched.
    pub context: Option<String>,
    pub namespace: String,
    pub name: String,
    pub target: ScaleTarget,
}

impl ScaleRequest {
    /// `NAMESPACE/NAME` as the CLI takes it.
    pub fn parse_target(s: &str) -> Result<(String, String), String> {
        match s.split_once('/') {
            Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {
                Ok((ns.into(), name.into()))
            }
            _ => Err(format!(
                "{s:?}: give the deployment as NAMESPACE/NAME, e.g. cs-prod/answer-api"
            )),
        }
    }

    pub fn label(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ScaleError {
    #[error("refused: {0}")]
    Refused(String),
    #[error("{target}: no such deployment (check it with `kubectl -n {namespace} get deploy`)")]
    NotFound { target: String, namespace: String },
    #[error(
        "{target}: forbidden: the role cannot {verb} {resource} in namespace {namespace}; grant it as deploy/rbac.yaml's opsdeck-operator ClusterRole does ({message})"
    )]
    Forbidden {
        target: String,
        verb: String,
        resource: String,
        namespace: String,
        message: String,
    },
    #[error(
        "{target}: changed since it was read; it is now {now}. Nothing was changed: review and try again"
    )]
    Conflict {
        target: String,
        now: String,
        /// The state re-read after the 409, for asking again on; None when the re-read
        /// failed too.
        observed: Option<Box<Observed>>,
    },
    #[error("{target}: {message}")]
    Api { target: String, message: String },
    #[error("refused: cannot write the audit log ({0}); fix [actions].audit_log")]
    Audit(String),
    #[error(
        "{done}, but the audit log's end line could not be written ({message}): fix [actions].audit_log and record this change by hand"
    )]
    AuditEnd { done: String, message: String },
}

impl ScaleError {
    /// Exit code of the headless command: 3 refused, 1 failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            ScaleError::Refused(_) | ScaleError::Audit(_) => 3,
            _ => 1,
        }
    }
}
