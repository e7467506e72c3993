//! Objects as a real API server returns them: managedFields, annotations, owner references
//! and statuses included, so the source's slimming is exercised on realistic input.

use serde_json::{Value, json};

fn managed_fields(manager: &str) -> Value {
    json!([{
        "manager": manager, "operation": "Update", "apiVersion": "apps/v1",
        "time": "2026-01-10T08:00:00Z", "fieldsType": "FieldsV1",
        "fieldsV1": { "f:metadata": { "f:annotations": { ".": {} } }, "f:spec": { "f:replicas": {} } }
    }])
}

pub fn deployment(ns: &str, name: &str, replicas: u32, ready: u32) -> Value {
    json!({
        "metadata": {
            "name": name, "namespace": ns, "uid": format!("uid-{ns}-{name}"), "generation": 3,
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": { "app": name },
            "annotations": {
                "deployment.kubernetes.io/revision": "3",
                "kubectl.kubernetes.io/last-applied-configuration": "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\"}"
            },
            "managedFields": managed_fields("kubectl-client-side-apply"),
        },
        "spec": {
            "replicas": replicas,
            "selector": { "matchLabels": { "app": name } },
            "strategy": { "type": "RollingUpdate", "rollingUpdate": { "maxSurge": "25%", "maxUnavailable": "25%" } },
            "template": {
                "metadata": { "labels": { "app": name } },
                "spec": { "containers": [{
                    "name": name, "image": format!("registry.example.com/{name}:1.4.2"),
                    "env": [{ "name": "LOG_LEVEL", "value": "info" }],
                    "resources": {
                        "requests": { "cpu": "500m", "memory": "1Gi" },
                        "limits": { "cpu": "2", "memory": "2Gi" }
                    }
                }]}
            }
        },
        "status": {
            "observedGeneration": 3, "replicas": replicas, "readyReplicas": ready,
            "availableReplicas": ready, "updatedReplicas": replicas,
            "conditions": [{ "type": "Available", "status": "True", "reason": "MinimumReplicasAvailable" }]
        }
    })
}

/// The seed's HPA: CPU 70 %, memory 80 %, and an external queue-length metric whose current
/// value the metrics adapter has not reported (None).
pub fn hpa(
    ns: &str,
    deployment: &str,
    min: u32,
    max: u32,
    current: u32,
    cpu_now: Option<u32>,
    queue_now: Option<&str>,
) -> Value {
    let mut current_metrics = Vec::new();
    if let Some(c) = cpu_now {
        current_metrics.push(json!({ "type": "Resource", "resource": { "name": "cpu",
            "current": { "averageUtilization": c, "averageValue": "350m" } } }));
    }
    current_metrics.push(json!({ "type": "Resource", "resource": { "name": "memory",
        "current": { "averageUtilization": 55, "averageValue": "600Mi" } } }));
    if let Some(q) = queue_now {
        current_metrics.push(json!({ "type": "External", "external": {
            "metric": { "name": "queue_length" }, "current": { "value": q } } }));
    }
    json!({
        "metadata": {
            "name": format!("{deployment}-hpa"), "namespace": ns,
            "uid": format!("uid-hpa-{deployment}"),
            "managedFields": managed_fields("kube-controller-manager"),
        },
        "spec": {
            "scaleTargetRef": { "apiVersion": "apps/v1", "kind": "Deployment", "name": deployment },
            "minReplicas": min, "maxReplicas": max,
            "metrics": [
                { "type": "Resource", "resource": { "name": "cpu",
                    "target": { "type": "Utilization", "averageUtilization": 70 } } },
                { "type": "Resource", "resource": { "name": "memory",
                    "target": { "type": "Utilization", "averageUtilization": 80 } } },
                { "type": "External", "external": { "metric": { "name": "queue_length" },
                    "target": { "type": "Value", "value": "100" } } }
            ],
            "behavior": {
                "scaleDown": { "stabilizationWindowSeconds": 300,
                    "policies": [{ "type": "Percent", "value": 50, "periodSeconds": 60 }] }
            }
        },
        "status": {
            "currentReplicas": current, "desiredReplicas": current,
            "currentMetrics": current_metrics,
            "conditions": [{ "type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale" }]
        }
    })
}

pub fn pod(ns: &str, deployment: &str, i: usize, node: &str) -> Value {
    let hash = "5d9f8b7c6";
    json!({
        "metadata": {
            "name": format!("{deployment}-{hash}-{i:05}"), "namespace": ns,
            "uid": format!("uid-pod-{deployment}-{i}"),
            "labels": { "app": deployment, "pod-template-hash": hash },
            "ownerReferences": [{ "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "name": format!("{deployment}-{hash}"), "uid": "uid-rs", "controller": true }],
            "managedFields": managed_fields("kubelet"),
        },
        "spec": {
            "nodeName": node,
            "containers": [{ "name": deployment, "image": "registry.example.com/app:1.4.2",
                "resources": { "requests": { "cpu": "500m", "memory": "1Gi" } } }]
        },
        "status": { "phase": "Running", "podIP": "10.0.0.1",
            "conditions": [{ "type": "Ready", "status": "True" }] }
    })
}

pub fn node(name: &str, instance_type: &str, capacity: &str) -> Value {
    json!({
        "metadata": {
            "name": name, "uid": format!("uid-node-{name}"),
            "labels": {
                "kubernetes.io/hostname": name,
                "node.kubernetes.io/instance-type": instance_type,
                "karpenter.sh/capacity-type": capacity,
                "topology.kubernetes.io/zone": "eu-west-1a"
            },
            "managedFields": managed_fields("kubelet"),
        },
        "status": {
            "allocatable": { "cpu": "7910m", "memory": "31Gi", "pods": "110" },
            "conditions": [{ "type": "Ready", "status": "True" }]
        }
    })
}

/// The seed's VPA (updateMode Auto, min 100m/128Mi, max 4/8Gi for the app's container) with
/// the recommender's status as it writes it: memory in plain bytes, an uncapped target.
pub fn vpa(ns: &str, deployment: &str, cpu: &str, memory_bytes: u64) -> Value {
    json!({
        "metadata": {
            "name": format!("{deployment}-vpa"), "namespace": ns,
            "uid": format!("uid-vpa-{deployment}"), "generation": 1,
            "managedFields": managed_fields("recommender"),
        },
        "spec": {
            "targetRef": { "apiVersion": "apps/v1", "kind": "Deployment", "name": deployment },
            "updatePolicy": { "updateMode": "Auto" },
            "resourcePolicy": { "containerPolicies": [{ "containerName": deployment,
                "minAllowed": { "cpu": "100m", "memory": "128Mi" },
                "maxAllowed": { "cpu": "4", "memory": "8Gi" } }] }
        },
        "status": {
            "conditions": [{ "type": "RecommendationProvided", "status": "True",
                "lastTransitionTime": "2026-01-10T08:00:00Z" }],
            "recommendation": { "containerRecommendations": [{
                "containerName": deployment,
                "target": { "cpu": cpu, "memory": memory_bytes.to_string() },
                "lowerBound": { "cpu": "100m", "memory": "262144k" },
                "upperBound": { "cpu": "2", "memory": "2Gi" },
                "uncappedTarget": { "cpu": cpu, "memory": memory_bytes.to_string() }
            }] }
        }
    })
}
