//! Hibernate and wake a deployment: to 0 replicas with its count recorded in an annotation
//! on the Deployment, and back to that count with the annotation removed, each in one PATCH
//! carrying the resourceVersion the operator saw.
//!
//! - `plan` (here): pure. From what the operator saw ([`Observed`]) and what they ask, the
//!   change, its preview and its precondition, or the refusal: a deployment matching
//!   `[actions] never_hibernate`, one already at 0, a wake of one not hibernated.
//! - `kube`: runs a plan against the API server; a 409 re-reads and reports what changed.
//! - `demo`: runs a plan against the embedded demo.
//! - `cli`: `opsdeck hibernate` and `opsdeck wake`, asking on the terminal.
//!
//! An HPA is left as it is: it stops acting while its target has 0 replicas and resumes
//! when wake restores the count.

pub mod cli;
pub mod demo;
pub mod kube;

use crate::config::ActionsConfig;
use crate::model::Observed;
pub use crate::ops::scale::ScaleError as HibernateError;
use serde_json::json;

/// Which of the two levers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lever {
    Hibernate,
    Wake,
}

impl Lever {
    pub fn name(self) -> &'static str {
        match self {
            Lever::Hibernate => "hibernate",
            Lever::Wake => "wake",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HibernateRequest {
    /// The kube context acted on, when several are watched.
    pub context: Option<String>,
    pub namespace: String,
    pub name: String,
    pub lever: Lever,
}

impl HibernateRequest {
    pub fn label(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// What will be sent, against the state the operator saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HibernatePlan {
    /// The kube context acted on, when several are watched: named in the preview.
    pub context: Option<String>,
    pub namespace: String,
    pub name: String,
    pub lever: Lever,
    /// What the operator saw; a 409 reports the fresh state beside it.
    pub seen: Observed,
    /// Replicas before and after.
    pub from: u32,
    pub to: u32,
    /// The precondition: the Deployment's resourceVersion as the operator saw it.
    pub resource_version: String,
    /// The HPA, when one owns the replica count, and what happens to it.
    pub note: Option<String>,
}

/// The one place that decides whether a hibernate or a wake may go ahead, and what it sends.
pub fn plan(
    req: &HibernateRequest,
    seen: &Observed,
    actions: &ActionsConfig,
) -> Result<HibernatePlan, HibernateError> {
    let target = req.label();
    let refuse = |why: String| Err(HibernateError::Refused(why));
    let (from, to) = match req.lever {
        Lever::Hibernate => {
            if let Some(glob) = actions.never_hibernate_match(&req.namespace, &req.name) {
                return refuse(format!(
                    "{target} is critical ([actions] never_hibernate has {glob:?}): it is never hibernated; scale it instead"
                ));
            }
            if let Some(h) = &seen.hibernated {
                let was = h.replicas.map_or("?".into(), |n| n.to_string());
                return refuse(format!(
                    "{target} is already hibernated (was {was}): wake it to restore its replicas"
                ));
            }
            if seen.replicas == 0 {
                return refuse(format!(
                    "{target} is already at 0 replicas: there is no count to record and nothing to hibernate"
                ));
            }
            (seen.replicas, 0)
        }
        Lever::Wake => {
            let Some(h) = &seen.hibernated else {
                return refuse(format!(
                    "{target} is not hibernated (no {} annotation): nothing to wake; scale it instead",
                    crate::model::REPLICAS_ANNOTATION
                ));
            };
            let Some(n) = h.replicas.filter(|n| *n > 0) else {
                return refuse(format!(
                    "{target}: its {} annotation is not a replica count above 0: scale it instead",
                    crate::model::REPLICAS_ANNOTATION
                ));
            };
            if n > actions.max_replicas {
                return refuse(format!(
                    "{target}: waking restores {n} replicas, over the limit of {} ([actions] max_replicas)",
                    actions.max_replicas
                ));
            }
            (seen.replicas, n)
        }
    };
    let note = seen.hpa.as_ref().map(|h| match req.lever {
        Lever::Hibernate => format!(
            "HPA {} (min {}, max {}) is left as it is: it stops acting while the deployment has 0 replicas",
            h.name, h.min, h.max
        ),
        Lever::Wake => format!(
            "HPA {} (min {}, max {}) resumes once the replicas are back",
            h.name, h.min, h.max
        ),
    });
    Ok(HibernatePlan {
        context: req.context.clone(),
        namespace: req.namespace.clone(),
        name: req.name.clone(),
        lever: req.lever,
        seen: seen.clone(),
        from,
        to,
        resource_version: seen.resource_version.clone(),
        note,
    })
}

impl HibernatePlan {
    pub fn target(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    pub fn preview(&self) -> String {
        let what = match self.lever {
            Lever::Hibernate => format!(
                "hibernate deployment {}: replicas {} → 0, recording {} in {} (patch deployments, resourceVersion {})",
                self.target(),
                self.from,
                self.from,
                crate::model::REPLICAS_ANNOTATION,
                self.resource_version
            ),
            Lever::Wake => format!(
                "wake deployment {}: replicas {} → {} as recorded, removing {} (patch deployments, resourceVersion {})",
                self.target(),
                self.from,
                self.to,
                crate::model::REPLICAS_ANNOTATION,
                self.resource_version
            ),
        };
        let what = match &self.context {
            Some(c) => format!("in context {c}: {what}"),
            None => what,
        };
        match &self.note {
            Some(n) => format!("{what}\n{n}"),
            None => what,
        }
    }

    /// The audit line's parameters: replicas before and after.
    pub fn parameters(&self) -> serde_json::Value {
        json!({ "replicas": self.to, "from": self.from, "hpa": self.seen.hpa.as_ref().map(|h| &h.name) })
    }

    /// The merge patch: replicas and annotations in one write, with the precondition.
    /// `by` and `at` name who hibernated it and when (hibernate only).
    pub fn patch(&self, by: &str, at: &str) -> serde_json::Value {
        use crate::model::{AT_ANNOTATION, BY_ANNOTATION, REPLICAS_ANNOTATION};
        let annotations = match self.lever {
            Lever::Hibernate => json!({
                REPLICAS_ANNOTATION: self.from.to_string(),
                BY_ANNOTATION: by,
                AT_ANNOTATION: at,
            }),
            Lever::Wake => json!({
                REPLICAS_ANNOTATION: null, BY_ANNOTATION: null, AT_ANNOTATION: null,
            }),
        };
        json!({
            "metadata": { "resourceVersion": self.resource_version, "annotations": annotations },
            "spec": { "replicas": self.to },
        })
    }

    /// What was done, in words: "cs-prod/ingest: hibernated, replicas 2 → 0".
    pub fn done(&self) -> String {
        let verb = match self.lever {
            Lever::Hibernate => "hibernated",
            Lever::Wake => "woken",
        };
        format!(
            "{}: {verb}, replicas {} → {}",
            self.target(),
            self.from,
            self.to
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Hibernation, HpaBounds};

    fn req(name: &str, lever: Lever) -> HibernateRequest {
        HibernateRequest {
            context: None,
            namespace: "cs-prod".into(),
            name: name.into(),
            lever,
        }
    }

    fn seen(replicas: u32, was: Option<u32>) -> Observed {
        Observed {
            replicas,
            hpa: None,
            resource_version: "7".into(),
            hibernated: was.map(|n| Hibernation {
                replicas: Some(n),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn hibernate_records_the_count_and_wake_restores_it() {
        let a = ActionsConfig::default();
        let p = plan(&req("ingest", Lever::Hibernate), &seen(4, None), &a).unwrap();
        assert_eq!((p.from, p.to, p.resource_version.as_str()), (4, 0, "7"));
        let body = p.patch("alice", "2026-01-01T00:00:00Z");
        assert_eq!(
            body["metadata"]["annotations"][crate::model::REPLICAS_ANNOTATION],
            "4"
        );
        assert_eq!(body["spec"]["replicas"], 0);
        assert_eq!(body["metadata"]["resourceVersion"], "7");
        let w = plan(&req("ingest", Lever::Wake), &seen(0, Some(4)), &a).unwrap();
        assert_eq!((w.from, w.to), (0, 4));
        let body = w.patch("", "");
        assert!(body["metadata"]["annotations"][crate::model::REPLICAS_ANNOTATION].is_null());
        assert_eq!(body["spec"]["replicas"], 4);
    }

    #[test]
    fn each_refusal_says_why() {
        let a = ActionsConfig::default();
        let e = |r, s| plan(&r, &s, &a).unwrap_err().to_string();
        assert!(e(req("chat-api", Lever::Hibernate), seen(4, None)).contains("\"chat-*\""));
        assert!(e(req("llm-gateway", Lever::Hibernate), seen(4, None)).contains("critical"));
        assert!(e(req("ingest", Lever::Hibernate), seen(0, None)).contains("already at 0"));
        assert!(
            e(req("ingest", Lever::Hibernate), seen(0, Some(3)))
                .contains("already hibernated (was 3)")
        );
        assert!(e(req("ingest", Lever::Wake), seen(2, None)).contains("is not hibernated"));
        assert!(e(req("ingest", Lever::Wake), seen(0, Some(99))).contains("max_replicas"));
        // Waking a critical deployment is always allowed.
        assert!(plan(&req("chat-api", Lever::Wake), &seen(0, Some(3)), &a).is_ok());
    }

    #[test]
    fn an_hpa_is_left_alone_and_named() {
        let mut s = seen(4, None);
        s.hpa = Some(HpaBounds {
            name: "ingest-hpa".into(),
            min: 2,
            max: 20,
            resource_version: "h".into(),
        });
        let p = plan(
            &req("ingest", Lever::Hibernate),
            &s,
            &ActionsConfig::default(),
        )
        .unwrap();
        assert!(
            p.note
                .unwrap()
                .contains("HPA ingest-hpa (min 2, max 20) is left as it is")
        );
        assert_eq!(
            p.resource_version, "7",
            "the deployment's version, not the HPA's"
        );
    }
}
