//! The scale decision, made once and without I/O: what the operator saw plus what they ask
//! gives the change to send, its preview and its precondition.

use super::{Observed, ScaleError, ScaleRequest, ScaleTarget};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlannedChange {
    Replicas {
        from: u32,
        to: u32,
    },
    Hpa {
        hpa: String,
        min: (u32, u32),
        max: (u32, u32),
    },
}

/// What will be sent, against the state the operator saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalePlan {
    /// The kube context acted on, when several are watched: named in the preview.
    pub context: Option<String>,
    pub namespace: String,
    pub name: String,
    /// The request as asked: a conflict asks again with the same number.
    pub target: ScaleTarget,
    /// What the operator saw; a 409 reports the fresh state beside it.
    pub seen: Observed,
    pub change: PlannedChange,
    /// Precondition of the patch: the resourceVersion of the object patched (the deployment,
    /// or the HPA for an HPA edit) as the operator saw it.
    pub resource_version: String,
    /// Why the plan differs from the request, e.g. an HPA owns the replica count.
    pub note: Option<String>,
}

/// Refuses out-of-bounds input before any request: 0 ≤ replicas ≤ max_replicas,
/// 1 ≤ min ≤ max ≤ max_replicas.
pub fn check_bounds(target: ScaleTarget, max_replicas: u32) -> Result<(), ScaleError> {
    let refuse = |m: String| Err(ScaleError::Refused(m));
    match target {
        ScaleTarget::Replicas(n) if n > max_replicas => refuse(format!(
            "{n} replicas is over the limit of {max_replicas} ([actions] max_replicas)"
        )),
        ScaleTarget::Hpa { min: 0, .. } => {
            refuse("HPA minReplicas must be at least 1 (0 switches autoscaling off)".into())
        }
        ScaleTarget::Hpa {
            min,
            max: Some(max),
        } if min > max => refuse(format!("HPA minReplicas {min} is above maxReplicas {max}")),
        ScaleTarget::Hpa { min, max } if max.unwrap_or(min) > max_replicas => refuse(format!(
            "HPA replicas {} is over the limit of {max_replicas} ([actions] max_replicas)",
            max.unwrap_or(min)
        )),
        _ => Ok(()),
    }
}

/// The one place that decides between a replica change and an HPA edit. An HPA owns
/// `spec.replicas` (a manual scale is undone within 15 s), so a replica count asked of an
/// HPA-owned deployment becomes its minReplicas.
pub fn plan(
    req: &ScaleRequest,
    seen: &Observed,
    max_replicas: u32,
) -> Result<ScalePlan, ScaleError> {
    let target = req.label();
    let make = |change, resource_version: &str, note| ScalePlan {
        context: req.context.clone(),
        namespace: req.namespace.clone(),
        name: req.name.clone(),
        target: req.target,
        seen: seen.clone(),
        change,
        resource_version: resource_version.to_string(),
        note,
    };
    let Some(h) = &seen.hpa else {
        check_bounds(req.target, max_replicas)?;
        return match req.target {
            ScaleTarget::Replicas(to) => Ok(make(
                PlannedChange::Replicas {
                    from: seen.replicas,
                    to,
                },
                &seen.resource_version,
                None,
            )),
            ScaleTarget::Hpa { .. } => Err(ScaleError::Refused(format!(
                "{target} has no HorizontalPodAutoscaler: scale its replicas instead"
            ))),
        };
    };
    let (min, max, note) = match req.target {
        ScaleTarget::Replicas(n) => (
            n,
            h.max,
            Some(format!(
                "HPA {} owns the replica count of {target}: a direct scale would be undone within 15 s, so its minReplicas is set to {n} instead",
                h.name
            )),
        ),
        ScaleTarget::Hpa { min, max } => (min, max.unwrap_or(h.max), None),
    };
    if min < 1 {
        return Err(ScaleError::Refused(format!(
            "HPA {} minReplicas must be at least 1 (0 switches autoscaling off)",
            h.name
        )));
    }
    if min > max {
        return Err(ScaleError::Refused(format!(
            "HPA {} would get minReplicas {min} above its maxReplicas {max}: raise maxReplicas too",
            h.name
        )));
    }
    check_bounds(
        ScaleTarget::Hpa {
            min,
            max: Some(max),
        },
        max_replicas,
    )?;
    Ok(make(
        PlannedChange::Hpa {
            hpa: h.name.clone(),
            min: (h.min, min),
            max: (h.max, max),
        },
        &h.resource_version,
        note,
    ))
}

impl ScalePlan {
    pub fn target(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// Replicas once the change has taken effect: the new count, or for an HPA edit the
    /// current count brought within the new bounds.
    pub fn replicas_after(&self) -> u32 {
        match &self.change {
            PlannedChange::Replicas { to, .. } => *to,
            PlannedChange::Hpa { min, max, .. } => {
                self.seen.replicas.clamp(min.1, max.1.max(min.1))
            }
        }
    }

    pub fn preview(&self) -> String {
        let mut out = match &self.change {
            PlannedChange::Replicas { from, to } => format!(
                "scale deployment {}: replicas {from} → {to} (patch deployments/scale, resourceVersion {})",
                self.target(),
                self.resource_version
            ),
            PlannedChange::Hpa { hpa, min, max } => format!(
                "edit HPA {}/{hpa} of deployment {}: minReplicas {} → {}, maxReplicas {} → {} (now {} replicas)",
                self.namespace, self.name, min.0, min.1, max.0, max.1, self.seen.replicas
            ),
        };
        if let Some(c) = &self.context {
            out = format!("in context {c}: {out}");
        }
        if let Some(n) = &self.note {
            out = format!("{n}\n{out}");
        }
        out
    }

    /// The audit line's parameters: what was asked and what it was before.
    pub fn parameters(&self) -> serde_json::Value {
        match &self.change {
            PlannedChange::Replicas { from, to } => json!({ "replicas": to, "from": from }),
            PlannedChange::Hpa { hpa, min, max } => json!({
                "hpa": hpa, "hpa_min": min.1, "hpa_max": max.1,
                "from_min": min.0, "from_max": max.0,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::HpaBounds;

    fn req(target: ScaleTarget) -> ScaleRequest {
        ScaleRequest {
            context: None,
            namespace: "ns".into(),
            name: "api".into(),
            target,
        }
    }

    fn seen(hpa: Option<(u32, u32)>) -> Observed {
        Observed {
            replicas: 4,
            hpa: hpa.map(|(min, max)| HpaBounds {
                name: "api-hpa".into(),
                min,
                max,
                resource_version: "hpa-7".into(),
            }),
            resource_version: "dep-3".into(),
            hibernated: None,
        }
    }

    #[test]
    fn without_an_hpa_the_replicas_change_on_the_deployments_version() {
        let p = plan(&req(ScaleTarget::Replicas(6)), &seen(None), 50).unwrap();
        assert_eq!(p.change, PlannedChange::Replicas { from: 4, to: 6 });
        assert_eq!(p.resource_version, "dep-3");
        assert_eq!(p.replicas_after(), 6);
        assert!(
            plan(
                &req(ScaleTarget::Hpa { min: 2, max: None }),
                &seen(None),
                50
            )
            .is_err()
        );
    }

    #[test]
    fn an_hpa_owned_deployment_gets_its_min_edited_on_the_hpas_version() {
        let p = plan(&req(ScaleTarget::Replicas(6)), &seen(Some((2, 20))), 50).unwrap();
        assert_eq!(
            p.change,
            PlannedChange::Hpa {
                hpa: "api-hpa".into(),
                min: (2, 6),
                max: (20, 20)
            }
        );
        assert_eq!(p.resource_version, "hpa-7", "the HPA as seen, not re-read");
        assert_eq!(p.replicas_after(), 6);
        assert!(p.note.unwrap().contains("HPA api-hpa owns"));
        let lower = plan(&req(ScaleTarget::Replicas(2)), &seen(Some((3, 20))), 50).unwrap();
        assert_eq!(
            lower.replicas_after(),
            4,
            "current count within the new bounds"
        );
    }

    #[test]
    fn bounds_are_refused_in_the_fields_words() {
        let e = plan(&req(ScaleTarget::Replicas(25)), &seen(Some((2, 20))), 50).unwrap_err();
        assert_eq!(
            e.to_string(),
            "refused: HPA api-hpa would get minReplicas 25 above its maxReplicas 20: raise maxReplicas too"
        );
        let e = plan(&req(ScaleTarget::Replicas(0)), &seen(Some((2, 20))), 50).unwrap_err();
        assert!(e.to_string().contains("at least 1"), "{e}");
        let e = plan(&req(ScaleTarget::Replicas(51)), &seen(None), 50).unwrap_err();
        assert!(e.to_string().contains("max_replicas"), "{e}");
    }
}
