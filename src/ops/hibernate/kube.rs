//! Runs a hibernate or wake plan against the API server: one merge PATCH of the Deployment
//! (replicas and annotations together) carrying the resourceVersion the operator saw, so a
//! colleague's change since gives 409 instead of being overwritten; the 409 re-reads and
//! reports the new state. Audited before and after, as a scale is.

use super::{HibernateError, HibernatePlan, HibernateRequest, plan};
use crate::config::ActionsConfig;
use crate::ops::scale::Scaler;
use crate::ops::scale::kube::api_error;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};

/// Carries out hibernate and wake requests against one cluster.
#[derive(Clone)]
pub struct Hibernator {
    /// The client, audit and identity a scale uses.
    pub scaler: Scaler,
    pub actions: ActionsConfig,
}

impl Hibernator {
    /// Reads the deployment now and plans `req` against it (the headless command; the
    /// console plans against what its screen showed).
    pub async fn plan(&self, req: &HibernateRequest) -> Result<HibernatePlan, HibernateError> {
        let seen = self.scaler.observe(&req.namespace, &req.name).await?;
        plan(req, &seen, &self.actions)
    }

    /// Sends the plan's patch, audited before and after.
    pub async fn apply(
        &self,
        plan: &HibernatePlan,
        dry_run: bool,
    ) -> Result<String, HibernateError> {
        let target = plan.target();
        let action = plan.lever.name();
        if plan.resource_version.is_empty() {
            return Err(HibernateError::Refused(format!(
                "{target}: no resourceVersion was seen for it; refresh (r) and try again"
            )));
        }
        let who = &self.scaler.who;
        let audit = &self.scaler.audit;
        let mut params = plan.parameters();
        params["kube_context"] = who.context.clone().into();
        params["kube_identity"] = who.identity.clone().into();
        audit
            .append(
                action,
                &target,
                params.clone(),
                dry_run,
                "started",
                &plan.preview(),
            )
            .map_err(|e| HibernateError::Audit(e.to_string()))?;
        let result = self.patch(plan, dry_run).await;
        let (outcome, detail) = match &result {
            Ok(s) => ("ok", s.clone()),
            Err(e) => ("failed", e.to_string()),
        };
        if let Err(e) = audit.append(action, &target, params, dry_run, outcome, &detail) {
            return match result {
                Ok(done) => Err(HibernateError::AuditEnd {
                    done,
                    message: e.to_string(),
                }),
                Err(failed) => Err(failed),
            };
        }
        result
    }

    async fn patch(&self, plan: &HibernatePlan, dry_run: bool) -> Result<String, HibernateError> {
        let ns = plan.namespace.as_str();
        let target = plan.target();
        let mut pp = PatchParams::default();
        if dry_run {
            pp = pp.dry_run();
        }
        let by = format!(
            "{} ({})",
            crate::ops::audit::current_user(),
            self.scaler.who.identity
        );
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let body = plan.patch(&by, &at);
        let api: Api<Deployment> = Api::namespaced(self.scaler.client.clone(), ns);
        match api.patch(&plan.name, &pp, &Patch::Merge(&body)).await {
            Ok(_) if dry_run => Ok(format!(
                "{} (dry run: checked by the server, nothing stored)",
                plan.done()
            )),
            Ok(_) => Ok(plan.done()),
            Err(kube::Error::Api(s)) if s.code == 409 => Err(self.reread(plan).await),
            Err(e) => Err(api_error(e, &target, ns, "patch", "deployments")),
        }
    }

    async fn reread(&self, plan: &HibernatePlan) -> HibernateError {
        let target = plan.target();
        match self.scaler.observe(&plan.namespace, &plan.name).await {
            Ok(o) => HibernateError::Conflict {
                target,
                now: match &o.hibernated {
                    Some(h) => format!(
                        "{} replicas, hibernated (was {})",
                        o.replicas,
                        h.replicas.map_or("?".into(), |n| n.to_string())
                    ),
                    None => format!("{} replicas, not hibernated", o.replicas),
                },
                observed: Some(Box::new(o)),
            },
            Err(e) => HibernateError::Conflict {
                target,
                now: format!("unknown (re-reading failed: {e})"),
                observed: None,
            },
        }
    }
}
