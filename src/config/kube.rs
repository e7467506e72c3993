//! `[kubernetes]`: one cluster or several kubeconfig contexts watched at once, with
//! settings per context.
//!
//! ```toml
//! [kubernetes]
//! context = "prod-eu"                 # one context (a string), as before
//! # or several at once, each with its own watchers and health:
//! contexts = ["prod-eu", "prod-us"]
//! production = true                   # the default for every context
//! [kubernetes.context."prod-us"]      # settings for one context (a table)
//! read_only = true
//! ```
//! `context` is a string (the context to use) or a table of per-context settings; TOML
//! cannot make one key both, so with settings, one context is picked with `contexts`.

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, de::value::MapAccessDeserializer};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One context's own settings; an unset one follows `[kubernetes]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ContextSettings {
    /// Actions on this context ask for the target's name typed; `[kubernetes] production`
    /// when unset.
    pub production: Option<bool>,
    /// No action on this context (scale, hibernate, wake); the others keep theirs.
    pub read_only: bool,
    /// Namespaces to watch in this context; `[kubernetes] namespaces` when unset.
    pub namespaces: Option<Vec<String>>,
}

/// What `[kubernetes] context` holds: a context's name, or settings per context.
#[derive(Debug, Clone, PartialEq)]
enum ContextKey {
    Name(String),
    Settings(BTreeMap<String, ContextSettings>),
}

impl<'de> Deserialize<'de> for ContextKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ContextKey;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a context name (context = \"prod-eu\") or a table of settings per context ([kubernetes.context.\"prod-eu\"])",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ContextKey, E> {
                Ok(ContextKey::Name(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ContextKey, A::Error> {
                BTreeMap::deserialize(MapAccessDeserializer::new(map)).map(ContextKey::Settings)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawKubernetes {
    context: Option<ContextKey>,
    namespaces: Vec<String>,
    production: bool,
    kubeconfig: Option<PathBuf>,
    class_label: Option<String>,
    capacity_label: Option<String>,
    contexts: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(from = "RawKubernetes")]
pub struct KubernetesConfig {
    /// The one context to use (`context = "NAME"` or `--context NAME`); the kubeconfig's
    /// current context when unset and `contexts` is empty.
    pub context: Option<String>,
    /// Several contexts watched at once (`contexts = [..]` or `--context a,b`).
    pub contexts: Vec<String>,
    /// `[kubernetes.context."NAME"]`: settings per context.
    pub settings: BTreeMap<String, ContextSettings>,
    pub namespaces: Vec<String>,
    pub production: bool,
    /// No action on this cluster: set on the config of one context from its settings
    /// (see [`KubernetesConfig::clusters`]), never in `[kubernetes]` itself.
    pub read_only: bool,
    /// A kubeconfig file instead of `$KUBECONFIG` / `~/.kube/config` / in-cluster.
    pub kubeconfig: Option<PathBuf>,
    /// Node label whose value names the node's class ("gpu", "memory", "cpu"); the built-in
    /// label list (`node-type`, `nvidia.com/gpu.present`, instance family) when unset.
    pub class_label: Option<String>,
    /// Node label telling spot from on-demand, tried before the Karpenter, EKS, GKE and AKS
    /// labels.
    pub capacity_label: Option<String>,
}

impl From<RawKubernetes> for KubernetesConfig {
    fn from(r: RawKubernetes) -> Self {
        let (context, settings) = match r.context {
            None => (None, BTreeMap::new()),
            Some(ContextKey::Name(n)) => (Some(n), BTreeMap::new()),
            Some(ContextKey::Settings(s)) => (None, s),
        };
        KubernetesConfig {
            context,
            contexts: r.contexts,
            settings,
            namespaces: r.namespaces,
            production: r.production,
            read_only: false,
            kubeconfig: r.kubeconfig,
            class_label: r.class_label,
            capacity_label: r.capacity_label,
        }
    }
}

impl KubernetesConfig {
    /// More than one context is watched: deployments, health and actions name theirs.
    pub fn several(&self) -> bool {
        self.contexts.len() > 1
    }

    /// The config of each watched cluster, in the configured order: one per name of
    /// `contexts`, else the one `context` (or the current one), each with its own
    /// settings applied and `contexts` emptied.
    pub fn clusters(&self) -> Vec<KubernetesConfig> {
        if self.contexts.is_empty() {
            vec![self.one(self.context.clone())]
        } else {
            self.contexts
                .iter()
                .map(|c| self.one(Some(c.clone())))
                .collect()
        }
    }

    /// The config of the cluster a deployment of `context` lives in: that context when
    /// several are watched, else the one cluster (whatever its name, so an in-cluster or
    /// current-context setup stays as it is).
    pub fn cluster_of(&self, context: &str) -> KubernetesConfig {
        if self.several() {
            return self.one(Some(context.to_string()));
        }
        let mut k = self.clusters().remove(0);
        // The current context, whatever its name: its settings apply once it is known.
        if let (None, Some(own)) = (&self.context, self.settings.get(context)) {
            k.production = own.production.unwrap_or(self.production);
            k.read_only = own.read_only;
        }
        k
    }

    /// The one cluster a headless action acts on: `--context NAME` when given (one of
    /// `contexts` when several are configured), else the only one configured.
    pub fn pick(&self, context: Option<&str>) -> Result<KubernetesConfig, String> {
        match context {
            Some(c) if c.contains(',') => Err(format!(
                "--context {c}: an action targets exactly one context; give one name"
            )),
            Some(c) if self.several() && !self.contexts.iter().any(|n| n == c) => Err(format!(
                "--context {c} is not one of [kubernetes] contexts ({}); pick one of them",
                self.contexts.join(", ")
            )),
            Some(c) => Ok(self.one(Some(c.to_string()))),
            None if self.several() => Err(format!(
                "several Kubernetes contexts are configured ({}): pick the one to act on with --context NAME",
                self.contexts.join(", ")
            )),
            None => Ok(self.clusters().remove(0)),
        }
    }

    /// `--context NAME` or `--context a,b`: one name keeps its meaning (the context to
    /// use), a comma list watches each.
    pub fn set_from_flag(&mut self, flag: &str) {
        let names: Vec<String> = flag
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(String::from)
            .collect();
        if names.len() > 1 {
            self.context = None;
            self.contexts = names;
        } else {
            self.context = names.into_iter().next();
            self.contexts.clear();
        }
    }

    fn one(&self, context: Option<String>) -> KubernetesConfig {
        let own = context
            .as_ref()
            .and_then(|c| self.settings.get(c))
            .cloned()
            .unwrap_or_default();
        KubernetesConfig {
            context,
            contexts: Vec::new(),
            production: own.production.unwrap_or(self.production),
            read_only: own.read_only,
            namespaces: own.namespaces.unwrap_or_else(|| self.namespaces.clone()),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> KubernetesConfig {
        #[derive(Deserialize)]
        struct W {
            kubernetes: KubernetesConfig,
        }
        toml::from_str::<W>(text).unwrap().kubernetes
    }

    #[test]
    fn a_string_picks_the_context_and_a_table_holds_settings() {
        let one = parse("[kubernetes]\ncontext = \"prod-eu\"\nproduction = true\n");
        assert_eq!(one.context.as_deref(), Some("prod-eu"));
        let c = one.clusters();
        assert_eq!(c.len(), 1);
        assert!(c[0].production && !c[0].read_only);

        let two = parse(
            "[kubernetes]\ncontexts = [\"prod-eu\", \"prod-us\"]\n[kubernetes.context.\"prod-us\"]\nread_only = true\nproduction = true\n",
        );
        let c = two.clusters();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].context.as_deref(), Some("prod-eu"));
        assert!(!c[0].production && !c[0].read_only);
        assert!(c[1].production && c[1].read_only);
        assert!(two.pick(None).unwrap_err().contains("--context NAME"));
        assert!(two.pick(Some("prod-xx")).is_err());
        assert!(two.pick(Some("prod-us")).unwrap().read_only);
    }

    #[test]
    fn the_flag_takes_one_name_or_a_comma_list() {
        let mut k = KubernetesConfig::default();
        k.set_from_flag("prod-eu,prod-us");
        assert_eq!(k.contexts, ["prod-eu", "prod-us"]);
        assert!(k.several());
        k.set_from_flag("prod-eu");
        assert_eq!(k.context.as_deref(), Some("prod-eu"));
        assert!(!k.several());
    }
}
