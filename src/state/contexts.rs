//! Several kube contexts watched at once: each context's own sample and health, the
//! merged view the panels read (`State::cluster`), and `:ctx NAME` narrowing it to one.
//!
//! With one context (or the demo) nothing here is used: Kubernetes updates fill
//! `State::cluster` directly, exactly as they always have.

use super::{Health, Slot, State};
use crate::model::{ClusterSample, Deployment, Payload, SourceUpdate};

/// One watched context: what its source last said.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextSlot {
    pub name: String,
    pub slot: Slot<ClusterSample>,
}

/// The contexts of `[kubernetes] contexts` (or `--context a,b`) when more than one is
/// watched; empty otherwise.
pub(super) fn watched(config: &crate::config::Config) -> Vec<ContextSlot> {
    match &config.kubernetes {
        Some(k) if k.several() => k
            .contexts
            .iter()
            .map(|name| ContextSlot {
                name: name.clone(),
                slot: Slot::new(true),
            })
            .collect(),
        _ => Vec::new(),
    }
}

impl State {
    /// More than one context is watched: the Scaling view shows a CONTEXT column, the
    /// status bar one health per context.
    pub fn several_contexts(&self) -> bool {
        self.contexts.len() > 1
    }

    /// Each watched context's health, in the configured order (empty with one context).
    pub fn context_health(&self) -> Vec<(&str, Health<'_>)> {
        let (now, refresh) = (self.now, self.refresh_ms());
        self.contexts
            .iter()
            .map(|c| (c.name.as_str(), c.slot.health(now, refresh)))
            .collect()
    }

    /// Ready and desired replicas per context shown, in name order (empty with one
    /// context): what the Overview's replica tile names.
    pub fn replicas_by_context(&self) -> Vec<(&str, u32, u32)> {
        if !self.several_contexts() {
            return Vec::new();
        }
        let mut out: Vec<(&str, u32, u32)> = Vec::new();
        for d in self.cluster.value.iter().flat_map(|c| c.deployments.iter()) {
            match out.last_mut() {
                Some((c, ready, total)) if *c == d.context => {
                    *ready += d.ready;
                    *total += d.replicas;
                }
                _ => out.push((d.context.as_str(), d.ready, d.replicas)),
            }
        }
        out
    }

    /// The settings of `context`, as an action there must follow them.
    fn cluster_config(&self, context: &str) -> Option<crate::config::KubernetesConfig> {
        self.config
            .kubernetes
            .as_ref()
            .map(|k| k.cluster_of(context))
    }

    /// Actions in `context` ask for the target's name typed: `production` of that
    /// context's settings, else of `[kubernetes]`.
    pub fn production_in(&self, context: &str) -> bool {
        self.cluster_config(context).is_some_and(|k| k.production)
    }

    /// `read_only = true` in the settings of `context`: no action there.
    pub fn read_only_in(&self, context: &str) -> bool {
        self.cluster_config(context).is_some_and(|k| k.read_only)
    }

    /// The context an action on `d` names and connects to: its own when several are
    /// watched; None with one (the configured or current context, as before).
    pub fn action_context(&self, d: &Deployment) -> Option<String> {
        self.several_contexts().then(|| d.context.clone())
    }

    /// `:ctx NAME` narrows the console to one context, `:ctx` alone shows all again.
    pub(super) fn narrow_to(&mut self, name: &str) {
        if name.is_empty() {
            self.context_filter = None;
            self.notice = Some("ctx: every context".into());
        } else if self.contexts.iter().any(|c| c.name == name) {
            self.context_filter = Some(name.to_string());
            self.notice = Some(format!("ctx: only {name} (:ctx alone shows all)"));
        } else if self.contexts.is_empty() {
            self.notice = Some(
                "ctx: one context is watched; watch several with [kubernetes] contexts or --context a,b"
                    .into(),
            );
            return;
        } else {
            let names: Vec<&str> = self.contexts.iter().map(|c| c.name.as_str()).collect();
            self.notice = Some(format!(
                "ctx: unknown context {name:?}: one of {}",
                names.join(", ")
            ));
            return;
        }
        self.selected = 0;
        self.merge_contexts();
    }

    /// Files a Kubernetes update under its context; false when one context is watched
    /// (the caller fills `cluster` as before). An update without a context (a panic
    /// report of the supervisor) concerns every context.
    pub(super) fn apply_context_update(&mut self, u: &mut SourceUpdate) -> bool {
        if !self.several_contexts() {
            return false;
        }
        let named = match &u.payload {
            Ok(Payload::Cluster(k)) => Some(k.context.clone()),
            _ => u.context.clone(),
        };
        let payload = std::mem::replace(&mut u.payload, Err(String::new()));
        for c in &mut self.contexts {
            if named.as_ref().is_none_or(|n| *n == c.name) {
                c.slot.set(
                    u.at,
                    payload.clone().map(|p| match p {
                        Payload::Cluster(k) => *k,
                        _ => ClusterSample::default(),
                    }),
                );
            }
        }
        self.merge_contexts();
        true
    }

    /// Rebuilds `cluster` from the contexts shown: deployments grouped by context (in
    /// name order), the oldest good sample's time, the first error.
    fn merge_contexts(&mut self) {
        let shown: Vec<&ContextSlot> = self
            .contexts
            .iter()
            .filter(|c| self.context_filter.as_ref().is_none_or(|f| *f == c.name))
            .collect();
        let mut merged = Slot::new(true);
        let values: Vec<&ClusterSample> =
            shown.iter().filter_map(|c| c.slot.value.as_ref()).collect();
        if !values.is_empty() {
            let mut deployments: Vec<Deployment> = values
                .iter()
                .flat_map(|v| v.deployments.iter().cloned())
                .collect();
            deployments.sort_by(|a, b| a.context.cmp(&b.context));
            merged.value = Some(ClusterSample {
                context: values
                    .iter()
                    .map(|v| v.context.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                deployments,
                // Pools of the same name in two clusters are two pools: each is named
                // with its context (the panel only; deployments keep their pool's name).
                pools: values
                    .iter()
                    .flat_map(|v| {
                        v.pools.iter().map(|p| crate::model::NodePool {
                            name: format!("{}/{}", v.context, p.name),
                            ..p.clone()
                        })
                    })
                    .collect(),
            });
            merged.last_ok = shown.iter().filter_map(|c| c.slot.last_ok).min();
        }
        merged.error = shown.iter().find_map(|c| c.slot.error.clone());
        self.cluster = merged;
    }
}
