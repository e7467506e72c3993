//! The figures a scale decision is made on, and what changed in them since: a scale that
//! meets a 409 shows the operator this difference and asks again.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;

/// What a scale decision is made on: the replica count, the HPA that owns it, and the
/// deployment's resourceVersion (the precondition that turns a change since into a 409).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    pub replicas: u32,
    pub hpa: Option<HpaBounds>,
    pub resource_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HpaBounds {
    pub name: String,
    pub min: u32,
    pub max: u32,
}

impl Observed {
    /// What the console shows of `d`.
    pub fn of(d: &crate::sources::Deployment) -> Observed {
        Observed {
            replicas: d.replicas,
            hpa: d.hpa.as_ref().map(|h| HpaBounds {
                name: h.name.clone(),
                min: h.min,
                max: h.max,
            }),
            resource_version: d.resource_version.clone(),
        }
    }

    pub(super) fn read(d: &Deployment, h: Option<&HorizontalPodAutoscaler>) -> Observed {
        Observed {
            replicas: d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1).max(0) as u32,
            hpa: h.map(|h| {
                let spec = h.spec.as_ref();
                HpaBounds {
                    name: h.metadata.name.clone().unwrap_or_default(),
                    min: spec.and_then(|s| s.min_replicas).unwrap_or(1).max(0) as u32,
                    max: spec.map_or(0, |s| s.max_replicas.max(0) as u32),
                }
            }),
            resource_version: d.metadata.resource_version.clone().unwrap_or_default(),
        }
    }

    /// What differs from `before` in the figures an operator decides on, e.g.
    /// ["replicas 4 → 6", "HPA min 2 → 3"]; empty when only the resourceVersion moved
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
        out
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
            }),
            resource_version: rv.into(),
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
}
