//! Node pools: a node's class (GPU / CPU / memory-optimised) and capacity type (spot or
//! on-demand) from its labels, and pods per pool.
//!
//! Pools are named `{class}-{spot|ondemand}` rather than after the cloud's node group, so
//! the cost model (which prices by the words "spot" and "reserved" in the pool name) and the
//! demo speak the same names on every cloud.

use crate::config::KubernetesConfig;
use crate::sources::NodePool;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeClass {
    Gpu,
    Cpu,
    Memory,
}

impl NodeClass {
    pub fn name(self) -> &'static str {
        match self {
            NodeClass::Gpu => "gpu",
            NodeClass::Cpu => "cpu",
            NodeClass::Memory => "memory",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlimNode {
    pub class: NodeClass,
    pub spot: bool,
}

impl SlimNode {
    pub fn pool(&self) -> String {
        let cap = if self.spot { "spot" } else { "ondemand" };
        format!("{}-{cap}", self.class.name())
    }
}

const CLASS_LABELS: [&str; 3] = ["node-type", "node.kubernetes.io/role", "workload-type"];
const INSTANCE_LABELS: [&str; 2] = [
    "node.kubernetes.io/instance-type",
    "beta.kubernetes.io/instance-type",
];
/// Karpenter, EKS managed node groups, GKE spot and preemptible, AKS scale-set priority.
const CAPACITY_LABELS: [&str; 5] = [
    "karpenter.sh/capacity-type",
    "eks.amazonaws.com/capacityType",
    "cloud.google.com/gke-spot",
    "cloud.google.com/gke-preemptible",
    "kubernetes.azure.com/scalesetpriority",
];

/// Which labels to read, the configured ones first.
#[derive(Debug, Clone, Default)]
pub struct NodeLabels {
    class: Option<String>,
    capacity: Option<String>,
}

impl NodeLabels {
    pub fn from_config(cfg: &KubernetesConfig) -> NodeLabels {
        NodeLabels {
            class: cfg.class_label.clone(),
            capacity: cfg.capacity_label.clone(),
        }
    }

    pub fn classify(&self, labels: &BTreeMap<String, String>, gpu_allocatable: bool) -> SlimNode {
        let get = |k: &str| labels.get(k).map(|v| v.to_ascii_lowercase());
        let named = self
            .class
            .iter()
            .map(String::as_str)
            .chain(CLASS_LABELS)
            .find_map(|k| get(k).and_then(|v| class_word(&v)));
        let gpu_flag = get("nvidia.com/gpu.present").as_deref() == Some("true")
            || labels.contains_key("cloud.google.com/gke-accelerator")
            || gpu_allocatable;
        let class = named
            .or(gpu_flag.then_some(NodeClass::Gpu))
            .or_else(|| {
                INSTANCE_LABELS
                    .iter()
                    .find_map(|k| get(k))
                    .map(|t| instance_class(&t))
            })
            .unwrap_or(NodeClass::Cpu);
        let spot = self
            .capacity
            .iter()
            .map(String::as_str)
            .chain(CAPACITY_LABELS)
            .find_map(get)
            .is_some_and(|v| matches!(v.as_str(), "spot" | "true" | "preemptible"));
        SlimNode { class, spot }
    }
}

fn class_word(v: &str) -> Option<NodeClass> {
    if v.contains("gpu") || v.contains("accelerat") {
        Some(NodeClass::Gpu)
    } else if v.contains("mem") {
        Some(NodeClass::Memory)
    } else if v.contains("cpu") || v.contains("compute") || v.contains("general") {
        Some(NodeClass::Cpu)
    } else {
        None
    }
}

/// The instance family says what a node is for: AWS p/g (GPU), r/x/z (memory); GCP a2/a3/g2
/// (GPU), *-highmem / ultramem / megamem (memory); Azure N (GPU), E/M (memory).
fn instance_class(t: &str) -> NodeClass {
    if let Some(size) = t.strip_prefix("standard_") {
        return match size.chars().next() {
            Some('n') => NodeClass::Gpu,
            Some('e') | Some('m') => NodeClass::Memory,
            _ => NodeClass::Cpu,
        };
    }
    if ["a2-", "a3-", "g2-"].iter().any(|p| t.starts_with(p)) {
        return NodeClass::Gpu;
    }
    if ["highmem", "ultramem", "megamem"]
        .iter()
        .any(|m| t.contains(m))
    {
        return NodeClass::Memory;
    }
    let family: String = t.chars().take_while(|c| *c != '.').collect();
    let mut chars = family.chars();
    match (chars.next(), chars.next()) {
        (Some('p' | 'g'), Some(d)) if d.is_ascii_digit() => NodeClass::Gpu,
        (Some('r' | 'x' | 'z'), Some(d)) if d.is_ascii_digit() => NodeClass::Memory,
        _ => NodeClass::Cpu,
    }
}

/// Nodes and pods per pool, and each deployment's pool (where most of its pods run).
pub fn pools<'a>(
    nodes: impl Iterator<Item = (&'a str, &'a SlimNode)>,
    pods: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> (Vec<NodePool>, HashMap<String, String>) {
    let mut node_pool: HashMap<&str, (String, SlimNode)> = HashMap::new();
    let mut out: BTreeMap<String, NodePool> = BTreeMap::new();
    for (name, n) in nodes {
        let pool = n.pool();
        let entry = out.entry(pool.clone()).or_insert_with(|| NodePool {
            name: pool.clone(),
            class: n.class.name().into(),
            spot: n.spot,
            nodes: 0,
            pods: 0,
        });
        entry.nodes += 1;
        node_pool.insert(name, (pool, *n));
    }
    let mut per_deployment: HashMap<&str, HashMap<&str, u32>> = HashMap::new();
    for (deployment, node) in pods {
        let Some((pool, _)) = node.and_then(|n| node_pool.get(n)) else {
            continue;
        };
        if let Some(p) = out.get_mut(pool) {
            p.pods += 1;
        }
        if let Some(d) = deployment {
            *per_deployment
                .entry(d)
                .or_default()
                .entry(pool.as_str())
                .or_default() += 1;
        }
    }
    let placement = per_deployment
        .into_iter()
        .filter_map(|(d, counts)| {
            // Ties go to the alphabetically first pool so the answer is stable between samples.
            let best = counts
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))?;
            Some((d.to_string(), best.0.to_string()))
        })
        .collect();
    (out.into_values().collect(), placement)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn classes_and_capacity_come_from_the_usual_labels() {
        let l = NodeLabels::default();
        let n = l.classify(
            &labels(&[
                ("node.kubernetes.io/instance-type", "g5.2xlarge"),
                ("karpenter.sh/capacity-type", "spot"),
            ]),
            false,
        );
        assert_eq!(n.pool(), "gpu-spot");
        let n = l.classify(
            &labels(&[
                ("node.kubernetes.io/instance-type", "r6i.large"),
                ("eks.amazonaws.com/capacityType", "ON_DEMAND"),
            ]),
            false,
        );
        assert_eq!(n.pool(), "memory-ondemand");
        let n = l.classify(
            &labels(&[
                ("node.kubernetes.io/instance-type", "n2-highmem-8"),
                ("cloud.google.com/gke-spot", "true"),
            ]),
            false,
        );
        assert_eq!(n.pool(), "memory-spot");
        let n = l.classify(
            &labels(&[
                ("node.kubernetes.io/instance-type", "Standard_D4s_v5"),
                ("kubernetes.azure.com/scalesetpriority", "spot"),
            ]),
            false,
        );
        assert_eq!(n.pool(), "cpu-spot");
        assert_eq!(
            l.classify(&labels(&[("nvidia.com/gpu.present", "true")]), false)
                .pool(),
            "gpu-ondemand"
        );
        assert_eq!(l.classify(&labels(&[]), true).class, NodeClass::Gpu);
    }

    #[test]
    fn configured_labels_come_first() {
        let l = NodeLabels {
            class: Some("example.com/kind".into()),
            capacity: Some("example.com/cap".into()),
        };
        let n = l.classify(
            &labels(&[
                ("example.com/kind", "memory-optimised"),
                ("example.com/cap", "spot"),
                ("node.kubernetes.io/instance-type", "p4d.24xlarge"),
            ]),
            false,
        );
        assert_eq!(n.pool(), "memory-spot");
    }
}
