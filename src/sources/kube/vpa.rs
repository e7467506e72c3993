//! VerticalPodAutoscalers (`autoscaling.k8s.io/v1`), when the cluster serves them.
//!
//! The VPA is a CRD: many clusters do not have it, and that is normal, not an error. So the
//! source asks discovery first and watches VPAs only when the group version serves
//! `verticalpodautoscalers`. The object is read into a small serde struct instead of
//! `DynamicObject`: unknown fields are dropped while parsing, so only the target, the update
//! mode, the container policies and the recommendation are ever held.

use super::convert::quantity;
use crate::sources::{Vpa, VpaContainer, VpaResources};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Client;
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::BTreeMap;

pub const GROUP: &str = "autoscaling.k8s.io";
pub const VERSION: &str = "v1";
pub const PLURAL: &str = "verticalpodautoscalers";

#[derive(Debug, Clone, Deserialize)]
pub struct VerticalPodAutoscaler {
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: VpaSpec,
    #[serde(default)]
    pub status: VpaStatus,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VpaSpec {
    pub target_ref: Option<TargetRef>,
    pub update_policy: Option<UpdatePolicy>,
    pub resource_policy: Option<ResourcePolicy>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TargetRef {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePolicy {
    pub update_mode: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourcePolicy {
    #[serde(default)]
    pub container_policies: Vec<ContainerPolicy>,
}

type Resources = BTreeMap<String, Quantity>;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPolicy {
    #[serde(default)]
    pub container_name: String,
    pub min_allowed: Option<Resources>,
    pub max_allowed: Option<Resources>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct VpaStatus {
    pub recommendation: Option<Recommendation>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recommendation {
    #[serde(default)]
    pub container_recommendations: Vec<ContainerRecommendation>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerRecommendation {
    #[serde(default)]
    pub container_name: String,
    pub target: Option<Resources>,
    pub lower_bound: Option<Resources>,
    pub upper_bound: Option<Resources>,
}

impl kube::Resource for VerticalPodAutoscaler {
    type DynamicType = ();
    type Scope = k8s_openapi::NamespaceResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        "VerticalPodAutoscaler".into()
    }
    fn group(_: &()) -> Cow<'_, str> {
        GROUP.into()
    }
    fn version(_: &()) -> Cow<'_, str> {
        VERSION.into()
    }
    fn plural(_: &()) -> Cow<'_, str> {
        PLURAL.into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// Whether the cluster serves VPAs. A group version that is not there answers 404; any
/// other failure is logged and read as "no VPAs", since the VPA line is an extra and the
/// other watches report a cluster that cannot be reached.
pub async fn served(client: &Client) -> bool {
    match client
        .list_api_group_resources(&format!("{GROUP}/{VERSION}"))
        .await
    {
        Ok(list) => list.resources.iter().any(|r| r.name == PLURAL),
        Err(kube::Error::Api(s)) if s.code == 404 => false,
        Err(e) => {
            tracing::warn!(
                "kubernetes: cannot tell whether VPAs are served ({}); not watching them",
                super::error_words(&e)
            );
            false
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SlimVpa {
    pub namespace: String,
    /// The Deployment it acts on; None when it targets something else.
    pub target: Option<String>,
    pub vpa: Vpa,
}

fn resources(r: &Option<Resources>) -> VpaResources {
    let get = |k: &str| r.as_ref()?.get(k).and_then(|q| quantity(&q.0));
    VpaResources {
        cpu_cores: get("cpu"),
        memory_bytes: get("memory"),
    }
}

pub fn slim(v: &VerticalPodAutoscaler) -> SlimVpa {
    let target = v
        .spec
        .target_ref
        .as_ref()
        .filter(|t| t.kind == "Deployment")
        .map(|t| t.name.clone());
    let policies = v
        .spec
        .resource_policy
        .as_ref()
        .map(|p| p.container_policies.as_slice())
        .unwrap_or_default();
    // A container's own policy wins over the "*" default, as in the VPA recommender.
    let policy = |name: &str| {
        policies
            .iter()
            .find(|p| p.container_name == name)
            .or_else(|| policies.iter().find(|p| p.container_name == "*"))
    };
    let recommended = v
        .status
        .recommendation
        .as_ref()
        .map(|r| r.container_recommendations.as_slice())
        .unwrap_or_default();
    let mut containers: Vec<VpaContainer> = recommended
        .iter()
        .map(|r| {
            let p = policy(&r.container_name);
            VpaContainer {
                name: r.container_name.clone(),
                target: resources(&r.target),
                lower_bound: resources(&r.lower_bound),
                upper_bound: resources(&r.upper_bound),
                min_allowed: resources(&p.and_then(|p| p.min_allowed.clone())),
                max_allowed: resources(&p.and_then(|p| p.max_allowed.clone())),
            }
        })
        .collect();
    // Policies without a recommendation yet (a new VPA) still show their bounds.
    let bounds_only = |p: &ContainerPolicy| VpaContainer {
        name: p.container_name.clone(),
        min_allowed: resources(&p.min_allowed),
        max_allowed: resources(&p.max_allowed),
        ..Default::default()
    };
    for p in policies.iter().filter(|p| p.container_name != "*") {
        if !containers.iter().any(|c| c.name == p.container_name) {
            containers.push(bounds_only(p));
        }
    }
    if containers.is_empty() {
        containers.extend(policies.iter().map(bounds_only));
    }
    let update_mode = v
        .spec
        .update_policy
        .as_ref()
        .and_then(|u| u.update_mode.clone())
        .unwrap_or_else(|| "Auto".into());
    SlimVpa {
        namespace: v.metadata.namespace.clone().unwrap_or_default(),
        target,
        vpa: Vpa {
            name: v.metadata.name.clone().unwrap_or_default(),
            update_mode,
            containers,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_seeds_vpa_keeps_target_mode_recommendation_and_bounds() {
        let v: VerticalPodAutoscaler = serde_json::from_value(json!({
            "apiVersion": "autoscaling.k8s.io/v1", "kind": "VerticalPodAutoscaler",
            "metadata": { "name": "customer-service-vpa", "namespace": "cs-prod",
                "managedFields": [{ "manager": "kubectl" }] },
            "spec": {
                "targetRef": { "apiVersion": "apps/v1", "kind": "Deployment", "name": "customer-service" },
                "updatePolicy": { "updateMode": "Auto" },
                "resourcePolicy": { "containerPolicies": [{ "containerName": "customer-service",
                    "minAllowed": { "cpu": "100m", "memory": "128Mi" },
                    "maxAllowed": { "cpu": "4", "memory": "8Gi" } }] }
            },
            "status": { "recommendation": { "containerRecommendations": [{
                "containerName": "customer-service",
                "target": { "cpu": "250m", "memory": "512Mi" },
                "lowerBound": { "cpu": "200m", "memory": "400Mi" },
                "upperBound": { "cpu": "1", "memory": "1Gi" },
                "uncappedTarget": { "cpu": "250m", "memory": "512Mi" } }] } }
        }))
        .unwrap();
        let s = slim(&v);
        assert_eq!(s.namespace, "cs-prod");
        assert_eq!(s.target.as_deref(), Some("customer-service"));
        assert_eq!(s.vpa.update_mode, "Auto");
        let c = &s.vpa.containers[..];
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].target.cpu_cores, Some(0.25));
        assert_eq!(c[0].target.memory_bytes, Some(512.0 * 1024.0 * 1024.0));
        assert_eq!(c[0].upper_bound.cpu_cores, Some(1.0));
        assert_eq!(c[0].min_allowed.cpu_cores, Some(0.1));
        assert_eq!(c[0].max_allowed.memory_bytes, Some(8.0 * 1024f64.powi(3)));
    }

    #[test]
    fn a_new_vpa_shows_its_default_policy_and_mode() {
        let v: VerticalPodAutoscaler = serde_json::from_value(json!({
            "metadata": { "name": "v", "namespace": "ns" },
            "spec": {
                "targetRef": { "kind": "StatefulSet", "name": "redis" },
                "resourcePolicy": { "containerPolicies": [{ "containerName": "*",
                    "maxAllowed": { "cpu": "2" } }] }
            }
        }))
        .unwrap();
        let s = slim(&v);
        assert_eq!(s.target, None, "only Deployments are shown");
        assert_eq!(s.vpa.update_mode, "Auto");
        assert_eq!(s.vpa.containers.len(), 1);
        assert_eq!(s.vpa.containers[0].name, "*");
        assert_eq!(s.vpa.containers[0].max_allowed.cpu_cores, Some(2.0));
        assert_eq!(s.vpa.containers[0].target, VpaResources::default());
    }
}
