//! Runs a scale plan against the API server. The patch carries the resourceVersion the
//! operator saw as its precondition, so a change made since gives 409 instead of being
//! overwritten; the 409 re-reads the object and reports its new state so the operator can
//! decide again. Dry-run uses the server's `dryRun=All`: the request is sent and checked
//! (RBAC, preconditions, validation) but nothing is stored.

use super::identity::Who;
use super::plan::{self, PlannedChange, ScalePlan, check_bounds};
use super::{HpaBounds, Observed, ScaleError, ScaleRequest};
use crate::ops::audit::Audit;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::json;

/// What the operator decides on, from the API objects.
pub(crate) fn observed(d: &Deployment, h: Option<&HorizontalPodAutoscaler>) -> Observed {
    Observed {
        replicas: d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1).max(0) as u32,
        hpa: h.map(|h| {
            let spec = h.spec.as_ref();
            HpaBounds {
                name: h.metadata.name.clone().unwrap_or_default(),
                min: spec.and_then(|s| s.min_replicas).unwrap_or(1).max(0) as u32,
                max: spec.map_or(0, |s| s.max_replicas.max(0) as u32),
                resource_version: h.metadata.resource_version.clone().unwrap_or_default(),
            }
        }),
        resource_version: d.metadata.resource_version.clone().unwrap_or_default(),
        hibernated: d
            .metadata
            .annotations
            .as_ref()
            .and_then(crate::model::Hibernation::from_annotations),
    }
}

/// A merge patch with the plan's precondition.
fn with_precondition(mut patch: serde_json::Value, plan: &ScalePlan) -> serde_json::Value {
    patch["metadata"] = json!({ "resourceVersion": plan.resource_version });
    patch
}

pub(crate) fn api_error(
    e: kube::Error,
    target: &str,
    ns: &str,
    verb: &str,
    resource: &str,
) -> ScaleError {
    match e {
        kube::Error::Api(s) if s.code == 403 => ScaleError::Forbidden {
            target: target.into(),
            verb: verb.into(),
            resource: resource.into(),
            namespace: ns.into(),
            message: s.message,
        },
        kube::Error::Api(s) if s.code == 404 => ScaleError::NotFound {
            target: target.into(),
            namespace: ns.into(),
        },
        other => ScaleError::Api {
            target: target.into(),
            message: format!(
                "{verb} {resource}: {}",
                crate::sources::kube::error_words(&other)
            ),
        },
    }
}

/// Carries out scale requests against one cluster.
#[derive(Clone)]
pub struct Scaler {
    pub client: Client,
    pub max_replicas: u32,
    pub audit: Audit,
    /// The kube context and identity the audit lines name.
    pub who: Who,
}

impl Scaler {
    /// Reads what the operator decides on now and plans `req` against it: the headless
    /// command shows this plan, the console plans against what its screen showed.
    pub async fn plan(&self, req: &ScaleRequest) -> Result<ScalePlan, ScaleError> {
        check_bounds(req.target, self.max_replicas)?;
        let seen = self.observe(&req.namespace, &req.name).await?;
        plan::plan(req, &seen, self.max_replicas)
    }

    /// The deployment and the HPA that targets it, as the API server has them now.
    pub(crate) async fn read(
        &self,
        ns: &str,
        name: &str,
    ) -> Result<(Deployment, Option<HorizontalPodAutoscaler>), ScaleError> {
        let target = format!("{ns}/{name}");
        let deployments: Api<Deployment> = Api::namespaced(self.client.clone(), ns);
        let d = deployments
            .get(name)
            .await
            .map_err(|e| api_error(e, &target, ns, "get", "deployments"))?;
        let hpas: Api<HorizontalPodAutoscaler> = Api::namespaced(self.client.clone(), ns);
        let owner = hpas
            .list(&ListParams::default())
            .await
            .map_err(|e| api_error(e, &target, ns, "list", "horizontalpodautoscalers"))?
            .items
            .into_iter()
            .find(|h| {
                h.spec.as_ref().is_some_and(|s| {
                    s.scale_target_ref.kind == "Deployment" && s.scale_target_ref.name == name
                })
            });
        Ok((d, owner))
    }

    /// The figures a scale decision is made on, read fresh.
    pub async fn observe(&self, ns: &str, name: &str) -> Result<Observed, ScaleError> {
        let (d, h) = self.read(ns, name).await?;
        Ok(observed(&d, h.as_ref()))
    }

    /// Sends the plan's patch, audited before and after. A 409 re-reads the object and
    /// reports its new state so the operator can decide again.
    pub async fn apply(&self, plan: &ScalePlan, dry_run: bool) -> Result<String, ScaleError> {
        let target = plan.target();
        // A plan without a precondition (a sample that carried no resourceVersion) would
        // write over whatever is there now: refuse it rather than send it unguarded.
        if plan.resource_version.is_empty() {
            return Err(ScaleError::Refused(format!(
                "{target}: no resourceVersion was seen for it; refresh (r) and scale again"
            )));
        }
        let mut params = plan.parameters();
        params["kube_context"] = self.who.context.clone().into();
        params["kube_identity"] = self.who.identity.clone().into();
        self.audit
            .append(
                "scale",
                &target,
                params.clone(),
                dry_run,
                "started",
                &plan.preview(),
            )
            .map_err(|e| ScaleError::Audit(e.to_string()))?;
        let result = self.patch(plan, dry_run).await;
        let (outcome, detail) = match &result {
            Ok(s) => ("ok", s.clone()),
            Err(e) => ("failed", e.to_string()),
        };
        // The change is made (or not) whatever happens to this line: never undo it, say it.
        if let Err(e) = self
            .audit
            .append("scale", &target, params, dry_run, outcome, &detail)
        {
            return match result {
                Ok(done) => Err(ScaleError::AuditEnd {
                    done,
                    message: e.to_string(),
                }),
                Err(failed) => Err(failed),
            };
        }
        result
    }

    async fn patch(&self, plan: &ScalePlan, dry_run: bool) -> Result<String, ScaleError> {
        let ns = plan.namespace.as_str();
        let target = plan.target();
        let mut pp = PatchParams::default();
        if dry_run {
            pp = pp.dry_run();
        }
        let suffix = if dry_run {
            " (dry run: checked by the server, nothing stored)"
        } else {
            ""
        };
        let conflict = |e: &kube::Error| matches!(e, kube::Error::Api(s) if s.code == 409);
        match &plan.change {
            PlannedChange::Replicas { from, to } => {
                let api: Api<Deployment> = Api::namespaced(self.client.clone(), ns);
                let patch = with_precondition(json!({ "spec": { "replicas": to } }), plan);
                match api
                    .patch_scale(&plan.name, &pp, &Patch::Merge(&patch))
                    .await
                {
                    Ok(_) => Ok(format!("{target}: replicas {from} → {to}{suffix}")),
                    Err(e) if conflict(&e) => Err(self.reread(plan).await),
                    Err(e) => Err(api_error(e, &target, ns, "patch", "deployments/scale")),
                }
            }
            PlannedChange::Hpa { hpa, min, max } => {
                let api: Api<HorizontalPodAutoscaler> = Api::namespaced(self.client.clone(), ns);
                let patch = with_precondition(
                    json!({ "spec": { "minReplicas": min.1, "maxReplicas": max.1 } }),
                    plan,
                );
                match api.patch(hpa, &pp, &Patch::Merge(&patch)).await {
                    Ok(_) => Ok(format!(
                        "{target}: HPA {hpa} min {} → {}, max {} → {}{suffix}",
                        min.0, min.1, max.0, max.1
                    )),
                    Err(e) if conflict(&e) => Err(self.reread(plan).await),
                    Err(e) => Err(api_error(
                        e,
                        &target,
                        ns,
                        "patch",
                        "horizontalpodautoscalers",
                    )),
                }
            }
        }
    }

    async fn reread(&self, plan: &ScalePlan) -> ScaleError {
        let target = plan.target();
        match self.observe(&plan.namespace, &plan.name).await {
            Ok(o) => ScaleError::Conflict {
                target,
                now: match (&plan.change, &o.hpa) {
                    (PlannedChange::Hpa { .. }, Some(h)) => format!(
                        "HPA {} min {} max {}, {} replicas",
                        h.name, h.min, h.max, o.replicas
                    ),
                    _ => format!(
                        "{} replicas (resourceVersion {})",
                        o.replicas, o.resource_version
                    ),
                },
                observed: Some(Box::new(o)),
            },
            Err(e) => ScaleError::Conflict {
                target,
                now: format!("unknown (re-reading failed: {e})"),
                observed: None,
            },
        }
    }
}
