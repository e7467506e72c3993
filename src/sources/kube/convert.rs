//! Kubernetes objects to the console's slim structs, at once on arrival.
//!
//! The watchers hand over whole objects (managedFields, annotations, every container's env);
//! keeping them would cost megabytes per thousand pods. Only the few fields the Scaling view,
//! the cost model and a scale patch need survive this module.

use super::pools::{NodeLabels, SlimNode};
use crate::domain::scaling::{
    self, Behavior, Policy, PolicyKind, ScalingRules, SelectPolicy, desired_for_metric,
};
use crate::sources::{HpaMetric, HpaNext};
use k8s_openapi::api::apps::v1::Deployment as K8sDeployment;
use k8s_openapi::api::autoscaling::v2::{
    HPAScalingRules, HorizontalPodAutoscaler, MetricSpec, MetricStatus, MetricTarget,
    MetricValueStatus,
};
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlimDeployment {
    pub namespace: String,
    pub name: String,
    pub replicas: u32,
    pub ready: u32,
    pub available: u32,
    pub updated: u32,
    pub cpu_request_cores: f64,
    pub memory_request_gib: f64,
    pub gpus: u32,
    pub resource_version: String,
    pub hibernated: Option<crate::model::Hibernation>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SlimHpa {
    pub namespace: String,
    pub name: String,
    /// The Deployment it scales; None when it targets something else.
    pub target: Option<String>,
    pub min: u32,
    pub max: u32,
    pub current: u32,
    pub desired: u32,
    pub metrics: Vec<HpaMetric>,
    pub behavior: Behavior,
    /// The largest replica count any metric asks for now, when a current value is known.
    pub raw_desired: Option<u32>,
    pub resource_version: String,
}

/// A pod is kept only as "which deployment, on which node".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlimPod {
    /// "namespace/deployment", None for pods no Deployment owns.
    pub deployment: Option<String>,
    pub node: Option<String>,
}

fn count(v: Option<i32>) -> u32 {
    v.unwrap_or(0).max(0) as u32
}

/// A Kubernetes quantity ("500m", "2Gi", "1.5", "100k") as a plain number.
pub fn quantity(q: &str) -> Option<f64> {
    let q = q.trim();
    let split = q
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(q.len());
    let (num, suffix) = q.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0f64.powi(4),
        "Pi" => 1024.0f64.powi(5),
        _ => return None,
    };
    Some(n * mult).filter(|v| v.is_finite())
}

fn q(v: &Option<Quantity>) -> Option<f64> {
    v.as_ref().and_then(|q| quantity(&q.0))
}

pub fn deployment(d: &K8sDeployment) -> SlimDeployment {
    let spec = d.spec.as_ref();
    let status = d.status.as_ref();
    let (mut cpu, mut mem, mut gpus) = (0.0, 0.0, 0.0);
    let containers = spec
        .and_then(|s| s.template.spec.as_ref())
        .map(|p| p.containers.as_slice())
        .unwrap_or_default();
    for c in containers {
        let Some(res) = &c.resources else { continue };
        if let Some(req) = &res.requests {
            cpu += req.get("cpu").and_then(|v| quantity(&v.0)).unwrap_or(0.0);
            mem += req
                .get("memory")
                .and_then(|v| quantity(&v.0))
                .unwrap_or(0.0);
        }
        // GPUs are extended resources: the limit is authoritative, requests must equal it.
        let gpu = |m: &Option<std::collections::BTreeMap<String, Quantity>>| {
            m.as_ref()
                .and_then(|m| m.get("nvidia.com/gpu"))
                .and_then(|v| quantity(&v.0))
        };
        gpus += gpu(&res.limits)
            .or_else(|| gpu(&res.requests))
            .unwrap_or(0.0);
    }
    SlimDeployment {
        namespace: d.metadata.namespace.clone().unwrap_or_default(),
        name: d.metadata.name.clone().unwrap_or_default(),
        // The API defaults spec.replicas to 1 when it is unset.
        replicas: count(Some(spec.and_then(|s| s.replicas).unwrap_or(1))),
        ready: count(status.and_then(|s| s.ready_replicas)),
        available: count(status.and_then(|s| s.available_replicas)),
        updated: count(status.and_then(|s| s.updated_replicas)),
        cpu_request_cores: cpu,
        memory_request_gib: mem / (1024.0 * 1024.0 * 1024.0),
        gpus: gpus.round() as u32,
        resource_version: d.metadata.resource_version.clone().unwrap_or_default(),
        hibernated: d
            .metadata
            .annotations
            .as_ref()
            .and_then(crate::model::Hibernation::from_annotations),
    }
}

pub fn pod(p: &Pod) -> Option<SlimPod> {
    let phase = p.status.as_ref().and_then(|s| s.phase.as_deref());
    // Finished pods hold no node capacity; counting them would inflate the pools.
    if matches!(phase, Some("Succeeded") | Some("Failed")) {
        return None;
    }
    let ns = p.metadata.namespace.as_deref().unwrap_or_default();
    let hash = p
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("pod-template-hash"));
    let deployment = p
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.kind == "ReplicaSet")
        .and_then(|o| {
            let hash = hash?;
            o.name.strip_suffix(&format!("-{hash}"))
        })
        .map(|d| format!("{ns}/{d}"));
    Some(SlimPod {
        deployment,
        node: p.spec.as_ref().and_then(|s| s.node_name.clone()),
    })
}

pub fn node(n: &Node, labels: &NodeLabels) -> SlimNode {
    let empty = Default::default();
    let l = n.metadata.labels.as_ref().unwrap_or(&empty);
    let gpu_allocatable = n
        .status
        .as_ref()
        .and_then(|s| s.allocatable.as_ref())
        .and_then(|a| a.get("nvidia.com/gpu"))
        .and_then(|v| quantity(&v.0))
        .is_some_and(|g| g > 0.0);
    labels.classify(l, gpu_allocatable)
}

pub fn hpa(h: &HorizontalPodAutoscaler) -> SlimHpa {
    let spec = h.spec.as_ref();
    let status = h.status.as_ref();
    let current = count(status.and_then(|s| s.current_replicas));
    let statuses = status
        .and_then(|s| s.current_metrics.as_deref())
        .unwrap_or_default();
    let metrics: Vec<HpaMetric> = spec
        .and_then(|s| s.metrics.as_deref())
        .unwrap_or_default()
        .iter()
        .filter_map(|m| metric(m, statuses))
        .collect();
    let raw_desired = metrics
        .iter()
        .filter_map(|m| Some(desired_for_metric(current, m.current?, m.target)))
        .max();
    SlimHpa {
        namespace: h.metadata.namespace.clone().unwrap_or_default(),
        name: h.metadata.name.clone().unwrap_or_default(),
        target: spec
            .filter(|s| s.scale_target_ref.kind == "Deployment")
            .map(|s| s.scale_target_ref.name.clone()),
        // minReplicas defaults to 1 in the API.
        min: count(Some(spec.and_then(|s| s.min_replicas).unwrap_or(1))),
        max: count(spec.map(|s| s.max_replicas)),
        current,
        desired: count(status.map(|s| s.desired_replicas)),
        metrics,
        behavior: behavior(spec.and_then(|s| s.behavior.as_ref())),
        raw_desired,
        resource_version: h.metadata.resource_version.clone().unwrap_or_default(),
    }
}

/// The HPA's next replica count by the controller's rules. The API does not expose the
/// recommendation history, so the controller's last decision (`status.desiredReplicas`)
/// stands in for the scale-down window: while it is above the ask, the window holds.
pub fn next(h: &SlimHpa) -> Option<HpaNext> {
    let raw = h.raw_desired?;
    let recent = if raw < h.current {
        vec![h.desired]
    } else {
        Vec::new()
    };
    let m = scaling::next_move(
        h.current,
        h.min,
        h.max,
        raw,
        &recent,
        h.current,
        &h.behavior,
    );
    Some(HpaNext {
        replicas: m.replicas,
        limited_by: m.limited_by,
    })
}

/// Which of a metric status's values matches the target's type.
type PickCurrent = fn(&MetricValueStatus) -> Option<f64>;

fn metric(m: &MetricSpec, statuses: &[MetricStatus]) -> Option<HpaMetric> {
    let (name, target, current): (String, &MetricTarget, Option<&MetricValueStatus>) =
        match m.type_.as_str() {
            "Resource" => {
                let r = m.resource.as_ref()?;
                let cur = statuses
                    .iter()
                    .filter_map(|s| s.resource.as_ref())
                    .find(|s| s.name == r.name);
                (r.name.clone(), &r.target, cur.map(|s| &s.current))
            }
            "ContainerResource" => {
                let r = m.container_resource.as_ref()?;
                let cur = statuses
                    .iter()
                    .filter_map(|s| s.container_resource.as_ref())
                    .find(|s| s.name == r.name && s.container == r.container);
                (
                    format!("{}/{}", r.container, r.name),
                    &r.target,
                    cur.map(|s| &s.current),
                )
            }
            "Pods" => {
                let p = m.pods.as_ref()?;
                let cur = statuses
                    .iter()
                    .filter_map(|s| s.pods.as_ref())
                    .find(|s| s.metric.name == p.metric.name);
                (p.metric.name.clone(), &p.target, cur.map(|s| &s.current))
            }
            "Object" => {
                let o = m.object.as_ref()?;
                let cur = statuses
                    .iter()
                    .filter_map(|s| s.object.as_ref())
                    .find(|s| s.metric.name == o.metric.name);
                (o.metric.name.clone(), &o.target, cur.map(|s| &s.current))
            }
            "External" => {
                let e = m.external.as_ref()?;
                let cur = statuses
                    .iter()
                    .filter_map(|s| s.external.as_ref())
                    .find(|s| s.metric.name == e.metric.name);
                (e.metric.name.clone(), &e.target, cur.map(|s| &s.current))
            }
            _ => return None,
        };
    let (target_value, unit, pick): (Option<f64>, &str, PickCurrent) = match target.type_.as_str() {
        "Utilization" => (target.average_utilization.map(f64::from), "%", |c| {
            c.average_utilization.map(f64::from)
        }),
        "AverageValue" => (q(&target.average_value), "", |c| q(&c.average_value)),
        _ => (q(&target.value), "", |c| q(&c.value)),
    };
    Some(HpaMetric {
        name,
        current: current.and_then(pick),
        target: target_value?,
        unit: unit.into(),
    })
}

fn rules(base: &ScalingRules, r: Option<&HPAScalingRules>) -> ScalingRules {
    let Some(r) = r else { return base.clone() };
    ScalingRules {
        stabilization_s: r
            .stabilization_window_seconds
            .map_or(base.stabilization_s, |s| s.max(0) as u32),
        policies: r.policies.as_ref().map_or(base.policies.clone(), |ps| {
            ps.iter()
                .map(|p| Policy {
                    kind: if p.type_ == "Pods" {
                        PolicyKind::Pods
                    } else {
                        PolicyKind::Percent
                    },
                    value: p.value.max(0) as u32,
                    period_s: p.period_seconds.max(0) as u32,
                })
                .collect()
        }),
        select: match r.select_policy.as_deref() {
            Some("Min") => SelectPolicy::Min,
            Some("Disabled") => SelectPolicy::Disabled,
            Some("Max") => SelectPolicy::Max,
            _ => base.select,
        },
    }
}

/// Each unset part of `behavior` takes Kubernetes' default, as the controller does.
pub fn behavior(
    b: Option<&k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscalerBehavior>,
) -> Behavior {
    let d = Behavior::default();
    Behavior {
        up: rules(&d.up, b.and_then(|b| b.scale_up.as_ref())),
        down: rules(&d.down, b.and_then(|b| b.scale_down.as_ref())),
    }
}

/// "up 100%/15s or 4 pods/15s (larger), no window · down 50%/60s, 300s window"
pub fn describe_behavior(b: &Behavior) -> String {
    let side = |name: &str, r: &ScalingRules| {
        if r.select == SelectPolicy::Disabled {
            return format!("{name} disabled");
        }
        let policies: Vec<String> = r
            .policies
            .iter()
            .map(|p| match p.kind {
                PolicyKind::Percent => format!("{}%/{}s", p.value, p.period_s),
                PolicyKind::Pods => format!("{} pods/{}s", p.value, p.period_s),
            })
            .collect();
        let pick = match (policies.len() > 1, r.select) {
            (true, SelectPolicy::Max) => " (larger)",
            (true, _) => " (smaller)",
            _ => "",
        };
        let window = match r.stabilization_s {
            0 => "no window".to_string(),
            s => format!("{s}s window"),
        };
        format!("{name} {}{pick}, {window}", policies.join(" or "))
    };
    format!("{} · {}", side("up", &b.up), side("down", &b.down))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_with_their_suffixes() {
        assert_eq!(quantity("500m"), Some(0.5));
        assert_eq!(quantity("2Gi"), Some(2.0 * 1024.0 * 1024.0 * 1024.0));
        assert_eq!(quantity("1.5"), Some(1.5));
        assert_eq!(quantity("100k"), Some(100_000.0));
        assert_eq!(quantity("1e3"), Some(1000.0));
        assert_eq!(quantity("abc"), None);
        assert_eq!(quantity("1Qi"), None);
    }

    #[test]
    fn unset_behaviour_is_kubernetes_default() {
        let b = behavior(None);
        assert_eq!(b, Behavior::default());
        assert_eq!(
            describe_behavior(&b),
            "up 100%/15s or 4 pods/15s (larger), no window · down 100%/15s, 300s window"
        );
    }

    #[test]
    fn a_falling_ask_waits_for_the_scale_down_window_and_unknowns_stay_explicit() {
        let h: HorizontalPodAutoscaler = serde_json::from_value(serde_json::json!({
            "metadata": { "name": "api-hpa", "namespace": "cs" },
            "spec": {
                "scaleTargetRef": { "kind": "Deployment", "name": "api" },
                "minReplicas": 2, "maxReplicas": 20,
                "metrics": [
                    { "type": "Resource", "resource": { "name": "cpu",
                        "target": { "type": "Utilization", "averageUtilization": 70 } } },
                    { "type": "Pods", "pods": { "metric": { "name": "inflight" },
                        "target": { "type": "AverageValue", "averageValue": "500m" } } }
                ],
                "behavior": { "scaleDown": { "policies": [
                    { "type": "Percent", "value": 50, "periodSeconds": 60 } ] } }
            },
            "status": { "currentReplicas": 6, "desiredReplicas": 6, "currentMetrics": [
                { "type": "Resource", "resource": { "name": "cpu",
                    "current": { "averageUtilization": 20 } } } ] }
        }))
        .unwrap();
        let slim = hpa(&h);
        assert_eq!(slim.target.as_deref(), Some("api"));
        assert_eq!(slim.behavior, Behavior::seed());
        // cpu asks ceil(6 × 20 / 70) = 2; the pods metric has no current value yet.
        assert_eq!(slim.raw_desired, Some(2));
        assert_eq!(slim.metrics[1].name, "inflight");
        assert_eq!(slim.metrics[1].current, None);
        assert_eq!(slim.metrics[1].target, 0.5);
        let n = next(&slim).unwrap();
        assert_eq!(n.replicas, 6);
        assert_eq!(n.limited_by.as_deref(), Some("stabilisation 300s"));
    }
}
