//! The source's own store of slim objects, one part per watch stream, and the
//! `ClusterSample` built from it.
//!
//! Each watch stream (a kind in a namespace, or cluster-wide) owns one part. A relist
//! (the first list, or after 410 Gone) fills a pending map that replaces the part's live map
//! only when the list is complete, so a half-listed cluster is never shown.

use super::convert::{self, SlimDeployment, SlimHpa, SlimPod};
use super::pools::{self, SlimNode};
use super::vpa::SlimVpa;
use crate::sources::{ClusterSample, Deployment, Hpa, Vpa};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub enum Slim {
    Deployment(SlimDeployment),
    Hpa(SlimHpa),
    Pod(SlimPod),
    Node(SlimNode),
    Vpa(SlimVpa),
}

/// One watch event, already slimmed. Keys are "namespace/name" (or "name" for nodes).
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Init,
    InitApply(String, Slim),
    InitDone,
    Apply(String, Slim),
    Delete(String),
}

#[derive(Debug, Default)]
struct Part {
    live: HashMap<String, Slim>,
    pending: Option<HashMap<String, Slim>>,
    synced: bool,
}

#[derive(Debug)]
pub struct Store {
    parts: Vec<Part>,
}

impl Store {
    pub fn new(parts: usize) -> Store {
        Store {
            parts: (0..parts).map(|_| Part::default()).collect(),
        }
    }

    /// Applies one change; true when what the console shows may have changed.
    pub fn apply(&mut self, part: usize, change: Change) -> bool {
        let Some(p) = self.parts.get_mut(part) else {
            return false;
        };
        match change {
            Change::Init => {
                p.pending = Some(HashMap::new());
                false
            }
            Change::InitApply(key, obj) => {
                p.pending.get_or_insert_with(HashMap::new).insert(key, obj);
                false
            }
            Change::InitDone => {
                p.live = p.pending.take().unwrap_or_default();
                p.live.shrink_to_fit();
                p.synced = true;
                true
            }
            Change::Apply(key, obj) => p.live.insert(key, obj.clone()).as_ref() != Some(&obj),
            Change::Delete(key) => p.live.remove(&key).is_some(),
        }
    }

    /// Every stream has listed once: a sample now shows the whole cluster.
    pub fn synced(&self) -> bool {
        self.parts.iter().all(|p| p.synced)
    }

    fn objects(&self) -> impl Iterator<Item = (&String, &Slim)> {
        self.parts.iter().flat_map(|p| p.live.iter())
    }

    pub fn sample(&self, context: &str) -> ClusterSample {
        let mut hpas: HashMap<(&str, &str), &SlimHpa> = HashMap::new();
        let mut vpas: HashMap<(&str, &str), &Vpa> = HashMap::new();
        let mut nodes = Vec::new();
        let mut pods = Vec::new();
        let mut deployments = Vec::new();
        for (key, obj) in self.objects() {
            match obj {
                Slim::Deployment(d) => deployments.push(d),
                Slim::Hpa(h) => {
                    if let Some(t) = &h.target {
                        hpas.insert((h.namespace.as_str(), t.as_str()), h);
                    }
                }
                Slim::Pod(p) => pods.push((p.deployment.as_deref(), p.node.as_deref())),
                Slim::Node(n) => nodes.push((key.as_str(), n)),
                Slim::Vpa(v) => {
                    if let Some(t) = &v.target {
                        vpas.insert((v.namespace.as_str(), t.as_str()), &v.vpa);
                    }
                }
            }
        }
        let (pools, placement) = pools::pools(nodes.into_iter(), pods.into_iter());
        deployments.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        let deployments = deployments
            .into_iter()
            .map(|d| {
                let hpa = hpas
                    .get(&(d.namespace.as_str(), d.name.as_str()))
                    .map(|h| Hpa {
                        name: h.name.clone(),
                        min: h.min,
                        max: h.max,
                        current: h.current,
                        desired: h.desired,
                        metrics: h.metrics.clone(),
                        behavior: convert::describe_behavior(&h.behavior),
                        next: convert::next(h),
                        resource_version: h.resource_version.clone(),
                    });
                Deployment {
                    context: context.to_string(),
                    namespace: d.namespace.clone(),
                    name: d.name.clone(),
                    replicas: d.replicas,
                    ready: d.ready,
                    available: d.available,
                    updated: d.updated,
                    hpa,
                    vpa: vpas
                        .get(&(d.namespace.as_str(), d.name.as_str()))
                        .map(|v| (*v).clone()),
                    cpu_request_cores: d.cpu_request_cores,
                    memory_request_gib: d.memory_request_gib,
                    gpus: d.gpus,
                    pool: placement
                        .get(&format!("{}/{}", d.namespace, d.name))
                        .cloned()
                        .unwrap_or_default(),
                    hibernated: d.hibernated.clone(),
                    resource_version: d.resource_version.clone(),
                }
            })
            .collect();
        ClusterSample {
            context: context.into(),
            deployments,
            pools,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(name: &str, replicas: u32) -> Slim {
        Slim::Deployment(SlimDeployment {
            namespace: "ns".into(),
            name: name.into(),
            replicas,
            ..Default::default()
        })
    }

    #[test]
    fn a_relist_replaces_the_part_only_when_complete() {
        let mut s = Store::new(1);
        s.apply(0, Change::Init);
        s.apply(0, Change::InitApply("ns/a".into(), dep("a", 1)));
        assert!(!s.synced());
        assert!(s.apply(0, Change::InitDone));
        assert!(s.synced());
        s.apply(0, Change::Init);
        s.apply(0, Change::InitApply("ns/b".into(), dep("b", 2)));
        // Mid-relist the old view stands.
        assert_eq!(s.sample("c").deployments[0].name, "a");
        s.apply(0, Change::InitDone);
        let names: Vec<_> = s
            .sample("c")
            .deployments
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(names, ["b"]);
        assert!(!s.apply(0, Change::Apply("ns/b".into(), dep("b", 2))));
        assert!(s.apply(0, Change::Delete("ns/b".into())));
    }
}
