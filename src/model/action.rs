//! What actions report while they run, and the figures a scale decision is made on.

use super::{Deployment, Hibernation};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

/// Shared only between an action task and whoever may stop it; never app state. The
/// operator cancels (Esc, Ctrl-C); a signal (SIGTERM, SIGHUP) interrupts. Either way the
/// action stops between batches and writes its end line with the word for why.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicU8>);

const RUNNING: u8 = 0;
const CANCELLED: u8 = 1;
const INTERRUPTED: u8 = 2;

impl CancelFlag {
    pub fn cancel(&self) {
        let _ = self
            .0
            .compare_exchange(RUNNING, CANCELLED, Ordering::Relaxed, Ordering::Relaxed);
    }
    /// Stopped by a signal: the process is going away.
    pub fn interrupt(&self) {
        self.0.store(INTERRUPTED, Ordering::Relaxed);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed) != RUNNING
    }
    /// The audit outcome of an action that stopped on this flag: "cancelled" or
    /// "interrupted".
    pub fn word(&self) -> &'static str {
        match self.0.load(Ordering::Relaxed) {
            INTERRUPTED => "interrupted",
            _ => "cancelled",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    Warmup,
    Invalidate,
    Scale,
    Hibernate,
    Wake,
}

impl ActionKind {
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::Warmup => "warmup",
            ActionKind::Invalidate => "invalidate",
            ActionKind::Scale => "scale",
            ActionKind::Hibernate => "hibernate",
            ActionKind::Wake => "wake",
        }
    }
}

/// What an operator asks of a deployment's replica count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleTarget {
    /// A replica count; on an HPA-owned deployment it becomes the HPA's minReplicas.
    Replicas(u32),
    /// The HPA's minReplicas, and its maxReplicas when given.
    Hpa { min: u32, max: Option<u32> },
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
    /// A scale met a 409: the object changed after the operator looked, and nothing was
    /// changed. Carries what they decided on and what it is now, so the console can show the
    /// difference and ask again.
    ScaleConflict {
        /// The context acted on when several are watched (None with one).
        context: Option<String>,
        namespace: String,
        name: String,
        target: ScaleTarget,
        before: Box<Observed>,
        now: Box<Observed>,
        message: String,
    },
    /// A hibernate or wake met a 409: as [`ActionEvent::ScaleConflict`], for the hibernate
    /// dialog (`wake` says which of the two was asked).
    HibernateConflict {
        context: Option<String>,
        namespace: String,
        name: String,
        wake: bool,
        before: Box<Observed>,
        now: Box<Observed>,
        message: String,
    },
    /// What an invalidation would delete, counted by SCAN before the operator confirms.
    Preview {
        group: String,
        user_id: Option<String>,
        result: Result<(u64, Vec<String>), String>,
    },
}

/// What a scale decision is made on: the replica count, the HPA that owns it, and the
/// resourceVersions that turn a change made since into a 409.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    pub replicas: u32,
    pub hpa: Option<HpaBounds>,
    /// The deployment's resourceVersion: the precondition of a replica change.
    pub resource_version: String,
    /// Its hibernation annotations, when it is hibernated: what a wake restores.
    pub hibernated: Option<Hibernation>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HpaBounds {
    pub name: String,
    pub min: u32,
    pub max: u32,
    /// The HPA's own resourceVersion: the precondition of an edit of its min/max.
    pub resource_version: String,
}

impl Observed {
    /// What the console shows of `d`.
    pub fn of(d: &Deployment) -> Observed {
        Observed {
            replicas: d.replicas,
            hpa: d.hpa.as_ref().map(|h| HpaBounds {
                name: h.name.clone(),
                min: h.min,
                max: h.max,
                resource_version: h.resource_version.clone(),
            }),
            resource_version: d.resource_version.clone(),
            hibernated: d.hibernated.clone(),
        }
    }

    /// What differs from `before` in the figures an operator decides on, e.g.
    /// ["replicas 4 → 6", "HPA min 2 → 3"]; empty when only resourceVersions moved
    /// (a status update, say).
    pub fn changes_since(&self, before: &Observed) -> Vec<String> {
        let mut out = Vec::new();
        if self.replicas != before.replicas {
            out.push(format!("replicas {} → {}", before.replicas, self.replicas));
        }
        match (&before.hpa, &self.hpa) {
            (Some(b), Some(n)) if b.name != n.name => {
                out.push(format!("HPA {} → {}", b.name, n.name))
            }
            (Some(b), Some(n)) => {
                if b.min != n.min {
                    out.push(format!("HPA min {} → {}", b.min, n.min));
                }
                if b.max != n.max {
                    out.push(format!("HPA max {} → {}", b.max, n.max));
                }
            }
            (None, Some(n)) => out.push(format!("HPA {} now owns the replica count", n.name)),
            (Some(b), None) => out.push(format!("HPA {} is gone", b.name)),
            (None, None) => {}
        }
        let was = |h: &Hibernation| h.replicas.map_or("?".into(), |n| n.to_string());
        match (&before.hibernated, &self.hibernated) {
            (None, Some(h)) => out.push(format!("hibernated (was {})", was(h))),
            (Some(_), None) => out.push("woken (no longer hibernated)".into()),
            (Some(b), Some(h)) if b.replicas != h.replicas => {
                out.push(format!("recorded count {} → {}", was(b), was(h)))
            }
            _ => {}
        }
        out
    }

    /// Takes the newer resourceVersions of `now` when the figures are the same: a status
    /// update (a pod turning ready, the HPA's current metrics) is not a change the operator
    /// must confirm again.
    pub fn follow(&mut self, now: &Observed) {
        if !now.changes_since(self).is_empty() {
            return;
        }
        self.resource_version = now.resource_version.clone();
        if let (Some(mine), Some(theirs)) = (self.hpa.as_mut(), now.hpa.as_ref()) {
            mine.resource_version = theirs.resource_version.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(replicas: u32, hpa: Option<(u32, u32)>, rv: &str) -> Observed {
        Observed {
            replicas,
            hpa: hpa.map(|(min, max)| HpaBounds {
                name: "h".into(),
                min,
                max,
                resource_version: format!("h{rv}"),
            }),
            resource_version: rv.into(),
            hibernated: None,
        }
    }

    #[test]
    fn changes_name_what_an_operator_decides_on() {
        let before = seen(4, None, "1");
        assert_eq!(
            seen(6, None, "2").changes_since(&before),
            ["replicas 4 → 6"]
        );
        assert!(seen(4, None, "9").changes_since(&before).is_empty());
        assert_eq!(
            seen(4, Some((2, 20)), "2").changes_since(&before),
            ["HPA h now owns the replica count"]
        );
        assert_eq!(
            seen(5, Some((3, 30)), "2").changes_since(&seen(5, Some((2, 20)), "1")),
            ["HPA min 2 → 3", "HPA max 20 → 30"]
        );
    }

    #[test]
    fn following_takes_new_versions_only_for_the_same_figures() {
        let mut s = seen(5, Some((2, 20)), "1");
        s.follow(&seen(5, Some((2, 20)), "2"));
        assert_eq!(s.resource_version, "2");
        assert_eq!(s.hpa.as_ref().unwrap().resource_version, "h2");
        s.follow(&seen(5, Some((3, 20)), "3"));
        assert_eq!(s.hpa.as_ref().unwrap().resource_version, "h2");
    }
}
