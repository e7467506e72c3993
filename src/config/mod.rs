//! config.toml: schema, defaults from the platform's design, lookup and validation.
//!
//! Every section is optional; a missing key takes the seed's default. Unknown keys are
//! rejected (`deny_unknown_fields`) so a typo never silently falls back to a default.

mod check;
pub mod glob;
mod interp;
mod keypath;
mod kube;
mod load;
pub mod redact;
mod validate;

pub use check::{check_config, summary};
pub use kube::{ContextSettings, KubernetesConfig};
pub use load::{ConfigError, implicit_candidates, load, lookup, lookup_with, parse};

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub ui: UiConfig,
    pub prometheus: Option<PrometheusConfig>,
    pub redis: Option<RedisConfig>,
    pub kubernetes: Option<KubernetesConfig>,
    pub cache: CacheConfig,
    pub actions: ActionsConfig,
    pub rules: Rules,
    pub cost: CostConfig,
    /// `[keys]`: action name → key(s), in place of the action's default keys.
    pub keys: BTreeMap<String, crate::model::keymap::KeyList>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    pub refresh_ms: u64,
    pub theme: String,
    pub read_only: bool,
    /// Seconds between automatic view changes for a wall screen; 0 keeps the view
    /// (on the wall, 0 means the wall's default, [`WALL_CYCLE_S`]).
    pub cycle_s: u64,
    /// The war-room wall: read-only whatever `read_only` says, views cycle, the headline
    /// figures in large type, a banner naming any critical figure.
    pub wall: bool,
}

/// Seconds between views on the wall when `[ui] cycle_s` is not set.
pub const WALL_CYCLE_S: u64 = 20;

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            refresh_ms: 1000,
            theme: "dark".into(),
            read_only: false,
            cycle_s: 0,
            wall: false,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum PromMode {
    #[default]
    Api,
    Scrape,
}

// Debug is written out in `redact.rs`: it masks the secrets.
#[derive(Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PrometheusConfig {
    pub url: String,
    pub mode: PromMode,
    pub targets: Vec<String>,
    pub timeout_ms: u64,
    pub bearer_token: Option<String>,
    pub bearer_token_file: Option<PathBuf>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub ca_file: Option<PathBuf>,
    /// How often the panels are queried, in ms. Unset: once per the server's
    /// `global.scrape_interval` (read from `/api/v1/status/config`), never faster than
    /// `[ui] refresh_ms`; see `sources::prometheus::pace`.
    pub refresh_ms: Option<u64>,
    /// When one Prometheus holds several clusters (Thanos, Mimir, federation): the label that
    /// names the cluster. The Latency view's services and the utilisation are then split by
    /// it, and each value maps to a kube context through `cluster_contexts` (default: the
    /// value is the context's name).
    pub cluster_label: Option<String>,
    pub cluster_contexts: BTreeMap<String, String>,
    pub queries: PromQueries,
}

impl PrometheusConfig {
    /// The queries as they are sent: with a `cluster_label`, every `by (service)` and
    /// `by (deployment)` grouping keeps that label too, so one series per service and cluster.
    pub fn sent_queries(&self) -> PromQueries {
        let mut q = self.queries.clone();
        if let Some(label) = self.cluster_label.as_deref().filter(|l| !l.is_empty()) {
            for text in [
                &mut q.qps,
                &mut q.error_rate,
                &mut q.p50_ms,
                &mut q.p95_ms,
                &mut q.p99_ms,
                &mut q.queue_length,
                &mut q.cpu_utilization,
                &mut q.memory_utilization,
            ] {
                *text = text
                    .replace("by (service)", &format!("by (service, {label})"))
                    .replace("by (service, le)", &format!("by (service, le, {label})"))
                    .replace("by (deployment)", &format!("by (deployment, {label})"));
            }
            q.split = Some(ClusterSplit {
                label: label.to_string(),
                contexts: self.cluster_contexts.clone(),
            });
        }
        q
    }
}

/// How a row's cluster label becomes a kube context.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClusterSplit {
    pub label: String,
    pub contexts: BTreeMap<String, String>,
}

impl ClusterSplit {
    pub fn context_of(&self, value: &str) -> String {
        self.contexts
            .get(value)
            .cloned()
            .unwrap_or_else(|| value.to_string())
    }
}

impl Default for PrometheusConfig {
    fn default() -> Self {
        PrometheusConfig {
            url: "http://127.0.0.1:9090".into(),
            mode: PromMode::Api,
            targets: Vec::new(),
            timeout_ms: 5000,
            bearer_token: None,
            bearer_token_file: None,
            username: None,
            password: None,
            ca_file: None,
            refresh_ms: None,
            cluster_label: None,
            cluster_contexts: BTreeMap::new(),
            queries: PromQueries::default(),
        }
    }
}

/// PromQL per figure. One series per service (label `service`), per deployment
/// (label `deployment`) or per model (label `model`), so one query feeds a whole table.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PromQueries {
    pub qps: String,
    pub error_rate: String,
    pub p50_ms: String,
    pub p95_ms: String,
    pub p99_ms: String,
    pub queue_length: String,
    pub cpu_utilization: String,
    pub memory_utilization: String,
    pub llm_input_tokens_per_sec: String,
    pub llm_output_tokens_per_sec: String,
    /// Cached (prompt-cache) input tokens, counted apart from `llm_input_tokens_per_sec`.
    /// Read with the cost figures, not as a panel: most platforms have none.
    pub llm_cached_input_tokens_per_sec: String,
    pub cdn_hit_rate: String,
    pub app_cache_hit_rate: String,
    /// Hit ratio (0..1) per cache key prefix, one series per label `prefix`. Optional:
    /// not queried when unset, since Redis alone cannot tell hits apart by prefix.
    pub cache_hit_rate_by_prefix: Option<String>,
    /// p95 CPU use over the last day, in cores, one series per deployment (all its pods
    /// together; divided by its replicas for a pod's). Read with the cost figures every few
    /// minutes for the right-size suggestion; "" turns it off.
    pub cpu_usage_p95_cores: String,
    /// p95 memory working set over the last day, in bytes, per deployment (as above).
    pub memory_usage_p95_bytes: String,
    /// Set from `[prometheus] cluster_label` when the queries are sent, never read from here.
    #[serde(skip)]
    pub split: Option<ClusterSplit>,
}

fn quantile(q: &str) -> String {
    format!(
        "histogram_quantile({q}, sum by (service, le) (rate(http_request_duration_seconds_bucket[1m]))) * 1000"
    )
}

impl Default for PromQueries {
    fn default() -> Self {
        PromQueries {
            qps: "sum by (service) (rate(http_requests_total[1m]))".into(),
            error_rate: "sum by (service) (rate(http_requests_total{code=~\"5..\"}[1m])) / sum by (service) (rate(http_requests_total[1m]))".into(),
            p50_ms: quantile("0.5"),
            p95_ms: quantile("0.95"),
            p99_ms: quantile("0.99"),
            queue_length: "sum by (service) (request_queue_length)".into(),
            cpu_utilization: "100 * sum by (deployment) (rate(container_cpu_usage_seconds_total[1m])) / sum by (deployment) (kube_pod_container_resource_requests{resource=\"cpu\"})".into(),
            memory_utilization: "100 * sum by (deployment) (container_memory_working_set_bytes) / sum by (deployment) (kube_pod_container_resource_requests{resource=\"memory\"})".into(),
            llm_input_tokens_per_sec: "sum by (model) (rate(llm_tokens_total{direction=\"input\"}[1m]))".into(),
            llm_output_tokens_per_sec: "sum by (model) (rate(llm_tokens_total{direction=\"output\"}[1m]))".into(),
            llm_cached_input_tokens_per_sec: "sum by (model) (rate(llm_tokens_total{direction=\"cached_input\"}[1m]))".into(),
            cdn_hit_rate: "sum(rate(cdn_cache_hits_total[5m])) / sum(rate(cdn_requests_total[5m]))".into(),
            app_cache_hit_rate: "sum(rate(app_cache_hits_total[5m])) / (sum(rate(app_cache_hits_total[5m])) + sum(rate(app_cache_misses_total[5m])))".into(),
            cache_hit_rate_by_prefix: None,
            cpu_usage_p95_cores: "quantile_over_time(0.95, (sum by (deployment) (rate(container_cpu_usage_seconds_total[5m])))[1d:5m])".into(),
            memory_usage_p95_bytes: "quantile_over_time(0.95, (sum by (deployment) (container_memory_working_set_bytes))[1d:5m])".into(),
            split: None,
        }
    }
}

// Debug is written out in `redact.rs`: it masks the secrets.
#[derive(Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RedisConfig {
    pub url: Option<String>,
    pub urls: Vec<String>,
    pub cluster: bool,
    pub username: Option<String>,
    pub password: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub prefixes: Vec<String>,
    /// SCAN budget for the exact per-prefix count the operator asks for (`c`), keys
    /// examined per second. The running estimate costs one small page per 2 s instead.
    pub scan_keys_per_sec: u64,
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            url: Some("redis://127.0.0.1:6379/0".into()),
            urls: Vec::new(),
            cluster: false,
            username: None,
            password: None,
            ca_file: None,
            prefixes: default_prefixes(),
            scan_keys_per_sec: 20_000,
        }
    }
}

pub fn default_prefixes() -> Vec<String> {
    vec!["answer:".into(), "knowledge:".into(), "user:".into()]
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    pub kb_version: String,
    pub answer_ttl_s: u64,
    pub retrieval_ttl_s: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            kb_version: "v1".into(),
            answer_ttl_s: 86_400,
            retrieval_ttl_s: 3_600,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ActionsConfig {
    pub audit_log: PathBuf,
    pub max_replicas: u32,
    pub confirm_typed_over_keys: u64,
    /// Deployments hibernate refuses, as globs on NAME or NAMESPACE/NAME: the platform's
    /// entry (gateway, chat), which must never sleep.
    pub never_hibernate: Vec<String>,
    pub invalidate: InvalidateConfig,
    pub warmup: WarmupConfig,
}

impl Default for ActionsConfig {
    fn default() -> Self {
        ActionsConfig {
            audit_log: default_audit_log(),
            max_replicas: 50,
            confirm_typed_over_keys: 10_000,
            never_hibernate: vec![
                "*gateway*".into(),
                "chat-*".into(),
                "customer-service".into(),
            ],
            invalidate: InvalidateConfig::default(),
            warmup: WarmupConfig::default(),
        }
    }
}

impl ActionsConfig {
    /// The `never_hibernate` glob that names `namespace/name`, matched on the name alone
    /// or on NAMESPACE/NAME.
    pub fn never_hibernate_match(&self, namespace: &str, name: &str) -> Option<&str> {
        let full = format!("{namespace}/{name}");
        self.never_hibernate
            .iter()
            .find(|g| {
                glob::matches(g.as_bytes(), name.as_bytes())
                    || glob::matches(g.as_bytes(), full.as_bytes())
            })
            .map(String::as_str)
    }
}

/// `$XDG_STATE_HOME/opsdeck/audit.jsonl`, else `~/.local/state/opsdeck/audit.jsonl`.
pub fn default_audit_log() -> PathBuf {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("opsdeck").join("audit.jsonl")
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct InvalidateConfig {
    pub groups: Vec<InvalidateGroup>,
    /// Deletion ceiling, keys per second.
    pub max_keys_per_sec: u64,
}

impl Default for InvalidateConfig {
    fn default() -> Self {
        InvalidateConfig {
            groups: vec![
                InvalidateGroup {
                    name: "knowledge".into(),
                    patterns: vec!["answer:*".into(), "knowledge:*".into()],
                },
                InvalidateGroup {
                    name: "user".into(),
                    patterns: vec!["user:{user_id}:*".into()],
                },
            ],
            max_keys_per_sec: 200_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InvalidateGroup {
    pub name: String,
    pub patterns: Vec<String>,
}

// Debug is written out in `redact.rs`: it masks the secrets.
#[derive(Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct WarmupConfig {
    pub http_url: Option<String>,
    pub timeout_ms: Option<u64>,
}

/// The seed's scaling thresholds (section 8.1).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Rules {
    pub cpu_up: f64,
    pub cpu_down: f64,
    pub mem_up: f64,
    pub mem_down: f64,
    pub queue_up: f64,
    pub queue_down: f64,
    pub p95_up_ms: f64,
    /// Error ratio above which an alert is raised (0.0001 = 0.01 %).
    pub error_rate_alert: f64,
    pub hit_rate_target: f64,
    pub hit_rate_alert: f64,
    pub cache_latency_ms: f64,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            cpu_up: 70.0,
            cpu_down: 30.0,
            mem_up: 80.0,
            mem_down: 40.0,
            queue_up: 100.0,
            queue_down: 10.0,
            p95_up_ms: 1000.0,
            error_rate_alert: 0.0001,
            hit_rate_target: 0.80,
            hit_rate_alert: 0.70,
            cache_latency_ms: 10.0,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CostConfig {
    pub currency: String,
    pub vcpu_hour: f64,
    pub gib_hour: f64,
    pub gpu_hour: f64,
    pub spot_multiplier: f64,
    pub reserved_multiplier: f64,
    pub storage_monthly: f64,
    pub network_monthly: f64,
    pub monthly_budget: Option<f64>,
    pub monthly_baseline: Option<f64>,
    /// PromQL answering storage $/h; replaces `storage_monthly` when set.
    pub storage_query: Option<String>,
    /// PromQL answering network $/h; replaces `network_monthly` when set.
    pub network_query: Option<String>,
    /// Share of cache misses that end in an LLM call, for what the cache saves.
    pub cache_llm_share: f64,
    /// Share of the most expensive model's traffic the model-routing suggestion moves to
    /// the cheapest configured model (0..1).
    pub routing_share: f64,
    /// Seconds a deployment's service must have had no traffic before hibernating it is
    /// suggested.
    pub idle_hibernate_after_s: u64,
    /// Token counter for `opsdeck report`, labels `model` and `direction`
    /// (input, output, cached_input).
    pub token_counter: String,
    /// Prices per node pool or instance type (the deployment's pool name), overriding the
    /// global prices and the name-based class.
    pub pools: BTreeMap<String, PoolPrice>,
    pub models: BTreeMap<String, ModelPrice>,
}

/// Capacity class of a node pool: what the multiplier of the global prices is.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeClass {
    OnDemand,
    Spot,
    Reserved,
}

/// One pool's prices. A price left out falls back to the global one, except `gpu_hour`:
/// GPU prices differ by card, so a described pool without one has no GPU price.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PoolPrice {
    pub vcpu_hour: Option<f64>,
    pub gib_hour: Option<f64>,
    pub gpu_hour: Option<f64>,
    pub class: Option<NodeClass>,
    /// OpenCost's `instance_type` for this pool's nodes, when it is not the pool name.
    pub instance_type: Option<String>,
}

impl Default for CostConfig {
    fn default() -> Self {
        let mut models = BTreeMap::new();
        models.insert("gpt-4".into(), ModelPrice::new(0.03, 0.06));
        models.insert("gpt-3.5-turbo".into(), ModelPrice::new(0.0015, 0.002));
        CostConfig {
            currency: "USD".into(),
            vcpu_hour: 0.04,
            gib_hour: 0.005,
            gpu_hour: 2.50,
            spot_multiplier: 0.30,
            reserved_multiplier: 0.60,
            storage_monthly: 0.0,
            network_monthly: 0.0,
            monthly_budget: None,
            monthly_baseline: None,
            storage_query: None,
            network_query: None,
            cache_llm_share: 1.0,
            routing_share: 0.30,
            idle_hibernate_after_s: 3600,
            token_counter: "llm_tokens_total".into(),
            pools: BTreeMap::new(),
            models,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelPrice {
    pub input_per_1k: f64,
    pub output_per_1k: f64,
    #[serde(default)]
    pub cached_input_per_1k: Option<f64>,
}

impl ModelPrice {
    pub fn new(input_per_1k: f64, output_per_1k: f64) -> Self {
        ModelPrice {
            input_per_1k,
            output_per_1k,
            cached_input_per_1k: None,
        }
    }
}
