//! Scale a deployment without fighting its HPA.
//!
//! No HPA: patch `deployments/scale` with the observed resourceVersion as a precondition, so
//! a change made since the operator looked gives 409 instead of being overwritten. An HPA
//! owns `spec.replicas` (a manual scale is undone within 15 s), so when one targets the
//! deployment the honest lever is its `minReplicas`/`maxReplicas`, edited by merge patch.
//! Bounds are checked before any request. Dry-run uses the server's `dryRun=All`: the
//! request is sent and checked (RBAC, preconditions, validation) but nothing is stored.

use super::audit::Audit;
pub use super::observed::{HpaBounds, Observed};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleTarget {
    Replicas(u32),
    /// The HPA's minReplicas, and its maxReplicas when given.
    Hpa {
        min: u32,
        max: Option<u32>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleRequest {
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
        "{target}: changed since it was read; it is now {now}. Nothing was changed: review and scale again"
    )]
    Conflict {
        target: String,
        now: String,
        /// The state re-read after the 409, for a console to ask again on; None when the
        /// re-read failed too.
        observed: Option<Observed>,
    },
    #[error("{target}: {message}")]
    Api { target: String, message: String },
    #[error("refused: cannot write the audit log ({0}); fix [actions].audit_log")]
    Audit(String),
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

/// What will be sent, against the state just read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalePlan {
    pub namespace: String,
    pub name: String,
    pub replicas: u32,
    pub change: PlannedChange,
    /// Precondition of the patch: the deployment's (or the HPA's) resourceVersion.
    pub resource_version: String,
    /// Why the plan differs from the request, e.g. an HPA owns the replica count.
    pub note: Option<String>,
}

impl ScalePlan {
    pub fn target(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
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
                self.namespace, self.name, min.0, min.1, max.0, max.1, self.replicas
            ),
        };
        if let Some(n) = &self.note {
            out = format!("{n}\n{out}");
        }
        out
    }

    fn parameters(&self) -> serde_json::Value {
        match &self.change {
            PlannedChange::Replicas { from, to } => json!({ "replicas": to, "from": from }),
            PlannedChange::Hpa { hpa, min, max } => json!({
                "hpa": hpa, "hpa_min": min.1, "hpa_max": max.1,
                "from_min": min.0, "from_max": max.0,
            }),
        }
    }
}

fn api_error(e: kube::Error, target: &str, ns: &str, verb: &str, resource: &str) -> ScaleError {
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
            message: format!("{verb} {resource}: {other}"),
        },
    }
}

/// Carries out scale requests against one cluster.
#[derive(Clone)]
pub struct Scaler {
    pub client: Client,
    pub max_replicas: u32,
    pub audit: Audit,
}

impl Scaler {
    /// Reads the deployment and the HPA that targets it, and says what will be sent.
    /// `observed` is the resourceVersion the operator saw; it becomes the precondition, so
    /// a change since then is a 409 rather than silently overwritten.
    pub async fn plan(
        &self,
        req: &ScaleRequest,
        observed: Option<&str>,
    ) -> Result<ScalePlan, ScaleError> {
        check_bounds(req.target, self.max_replicas)?;
        let target = req.label();
        let (d, owner) = self.read(&req.namespace, &req.name).await?;
        let replicas = Observed::read(&d, None).replicas;
        let plan = |change, rv: Option<String>, note| ScalePlan {
            namespace: req.namespace.clone(),
            name: req.name.clone(),
            replicas,
            change,
            resource_version: rv.unwrap_or_default(),
            note,
        };
        let Some(h) = owner else {
            return match req.target {
                ScaleTarget::Replicas(to) => Ok(plan(
                    PlannedChange::Replicas { from: replicas, to },
                    observed
                        .map(String::from)
                        .or(d.metadata.resource_version.clone()),
                    None,
                )),
                ScaleTarget::Hpa { .. } => Err(ScaleError::Refused(format!(
                    "{target} has no HorizontalPodAutoscaler: scale its replicas instead (--replicas N)"
                ))),
            };
        };
        let hname = h.metadata.name.clone().unwrap_or_default();
        let spec = h.spec.as_ref();
        let (min0, max0) = (
            spec.and_then(|s| s.min_replicas).unwrap_or(1).max(0) as u32,
            spec.map_or(0, |s| s.max_replicas.max(0) as u32),
        );
        let (min, max, note) = match req.target {
            ScaleTarget::Replicas(n) => (
                n,
                max0,
                Some(format!(
                    "HPA {hname} owns the replica count of {target}: a direct scale would be undone within 15 s, so its minReplicas is set to {n} instead"
                )),
            ),
            ScaleTarget::Hpa { min, max } => (min, max.unwrap_or(max0), None),
        };
        if min < 1 || min > max {
            return Err(ScaleError::Refused(format!(
                "HPA {hname} would get minReplicas {min} above maxReplicas {max}: raise the max too (--hpa-max)"
            )));
        }
        check_bounds(
            ScaleTarget::Hpa {
                min,
                max: Some(max),
            },
            self.max_replicas,
        )?;
        Ok(plan(
            PlannedChange::Hpa {
                hpa: hname,
                min: (min0, min),
                max: (max0, max),
            },
            h.metadata.resource_version.clone(),
            note,
        ))
    }

    /// The deployment and the HPA that targets it, as the API server has them now.
    async fn read(
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
        Ok(Observed::read(&d, h.as_ref()))
    }

    /// Sends the plan's patch, audited before and after. A 409 re-reads the object and
    /// reports its new state so the operator can decide again.
    pub async fn apply(&self, plan: &ScalePlan, dry_run: bool) -> Result<String, ScaleError> {
        let target = plan.target();
        self.audit
            .append(
                "scale",
                &target,
                plan.parameters(),
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
        // The change is made (or not) whatever happens to this line; report it, don't undo.
        if let Err(e) = self.audit.append(
            "scale",
            &target,
            plan.parameters(),
            dry_run,
            outcome,
            &detail,
        ) {
            tracing::warn!("audit log: {e}");
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
                let patch = json!({
                    "metadata": { "resourceVersion": plan.resource_version },
                    "spec": { "replicas": to },
                });
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
                let patch = json!({
                    "metadata": { "resourceVersion": plan.resource_version },
                    "spec": { "minReplicas": min.1, "maxReplicas": max.1 },
                });
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
                observed: Some(o),
            },
            Err(e) => ScaleError::Conflict {
                target,
                now: format!("unknown (re-reading failed: {e})"),
                observed: None,
            },
        }
    }
}
