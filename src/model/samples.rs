//! What the backends report, as plain data: every source (real or the demo) produces these,
//! the state keeps them, the rules and the views read them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// Which backend a figure comes from. The demo reports under all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Prometheus,
    Redis,
    Kubernetes,
}

impl SourceKind {
    pub const ALL: [SourceKind; 3] = [
        SourceKind::Prometheus,
        SourceKind::Redis,
        SourceKind::Kubernetes,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Prometheus => "prometheus",
            SourceKind::Redis => "redis",
            SourceKind::Kubernetes => "kubernetes",
        }
    }
}

/// One report from a source: a sample, or the reason there is none this time.
#[derive(Debug, Clone)]
pub struct SourceUpdate {
    pub at: DateTime<Utc>,
    pub payload: Result<Payload, String>,
    pub source: SourceKind,
    /// The kube context a Kubernetes update comes from, when the config names one; None
    /// from the other sources (and from a Kubernetes source on the current context).
    pub context: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Payload {
    Metrics(Box<MetricsSample>),
    Cache(Box<CacheSample>),
    Cluster(Box<ClusterSample>),
    /// Prices and $/h figures for the cost model; reported under Prometheus, never as an
    /// error of its own (the panels already say when Prometheus is down).
    CostInputs(Box<CostInputs>),
    /// What today has cost so far, from Prometheus range data.
    SpendToday(Box<SpendToday>),
    /// Prometheus' own firing and pending alerts; reported under Prometheus like the prices.
    PromAlerts(Vec<PromAlert>),
    /// Each namespace's ResourceQuota figures; reported under Kubernetes, never an error.
    Quotas(Vec<TenantQuota>),
    /// Each service's traffic yesterday and last week; reported under Prometheus.
    Traffic(Box<TrafficHistory>),
}

/// Each service's traffic against its own history, from Prometheus (`offset 1d`, `offset 7d`
/// and yesterday's curve over the coming hour, shifted by a day).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TrafficHistory {
    pub services: Vec<ServiceHistory>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServiceHistory {
    pub service: String,
    /// Requests per second at this time yesterday, and a week ago.
    pub qps_1d_ago: Option<f64>,
    pub qps_7d_ago: Option<f64>,
    /// Yesterday's curve from now to an hour from now, moved to today: (time, req/s).
    pub next_hour: Vec<(DateTime<Utc>, f64)>,
    /// The highest req/s over the last `[cost] idle_hibernate_after_s`; None when the data
    /// does not cover the window.
    pub window_peak_qps: Option<f64>,
}

/// A namespace's ResourceQuota figures: per resource as Kubernetes names it
/// (`requests.cpu`, `requests.memory`, `pods`, `requests.nvidia.com/gpu`...), used and hard
/// in base units (cores, bytes, count). With several quotas, the tightest per resource.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TenantQuota {
    pub namespace: String,
    pub resources: std::collections::BTreeMap<String, QuotaUse>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct QuotaUse {
    pub used: f64,
    pub hard: f64,
}

impl QuotaUse {
    /// used / hard; a hard limit of 0 with anything used is full.
    pub fn share(self) -> f64 {
        if self.hard > 0.0 {
            self.used / self.hard
        } else if self.used > 0.0 {
            f64::INFINITY
        } else {
            0.0
        }
    }
}

/// An alert of Prometheus' alerting rules.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PromAlert {
    pub name: String,
    /// The rule's `severity` label (empty when it has none).
    pub severity: String,
    /// Firing; otherwise pending (its `for:` has not elapsed yet).
    pub firing: bool,
    pub since: Option<DateTime<Utc>>,
    /// The `summary` annotation (else `description`).
    pub summary: String,
    pub runbook_url: Option<String>,
    /// The other labels (service, namespace...).
    pub labels: std::collections::BTreeMap<String, String>,
}

/// Spend since local midnight as Prometheus' counters tell it; `missing` names the parts
/// (e.g. compute without kube-state-metrics) the total leaves out, and why.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SpendToday {
    pub since: DateTime<Utc>,
    pub total: f64,
    pub missing: Vec<String>,
}

/// What the cost model reads from Prometheus besides the panels. Each part is optional:
/// a cluster without OpenCost or a platform without prompt caching is normal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CostInputs {
    /// OpenCost's node prices by `instance_type`; empty without OpenCost.
    pub node_prices: BTreeMap<String, NodePrice>,
    /// Cached input tokens per second, by model.
    pub cached_input_per_sec: BTreeMap<String, f64>,
    /// `[cost].storage_query`'s $/h, or why there is none; None when no query is set.
    pub storage_per_hour: Option<Result<f64, String>>,
    pub network_per_hour: Option<Result<f64, String>>,
    /// p95 CPU use over the last day, cores, by deployment (all its pods together), from
    /// `[prometheus.queries] cpu_usage_p95_cores`; None when not asked (scrape mode, the
    /// query turned off), an error in Prometheus' words when it failed.
    pub cpu_usage_p95: Option<Result<BTreeMap<String, f64>, String>>,
    /// p95 memory working set over the last day, bytes, by deployment (as above).
    pub memory_usage_p95: Option<Result<BTreeMap<String, f64>, String>>,
}

/// OpenCost's prices of one instance type: per vCPU-hour, GiB-hour and GPU-hour.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct NodePrice {
    pub vcpu_hour: Option<f64>,
    pub gib_hour: Option<f64>,
    pub gpu_hour: Option<f64>,
}

/// Latency, traffic, utilisation and token figures (Prometheus or scrape).
///
/// A figure a panel could not give (query error, no data for that row, NaN) is `f64::NAN`
/// rather than an `Option`: every view already prints a non-finite figure as "—", the SLO
/// and scaling checks compare with `>`/`<`, which are false for NaN, and the charts skip
/// non-finite points. So a missing figure can never pass for a zero, and why it is
/// missing is in `problems`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MetricsSample {
    pub services: Vec<ServiceLatency>,
    /// Percent of requests, per deployment.
    pub utilization: Vec<Utilization>,
    /// Token rates per model, summed over whatever else the queries group by.
    pub models: Vec<ModelTokens>,
    /// Token rates per namespace and model, when the token queries carry a `namespace` (or
    /// `tenant`) label: what each tenant's AI traffic costs. Empty otherwise.
    pub tokens_by_namespace: Vec<NamespaceTokens>,
    /// 0..1, None when not reported.
    pub cdn_hit_rate: Option<f64>,
    pub app_cache_hit_rate: Option<f64>,
    /// Hit rate (0..1) per cache key prefix (label `prefix` of
    /// `[prometheus.queries] cache_hit_rate_by_prefix`), as the services count their own
    /// lookups; empty when that query is not configured. Kept apart from Redis' per-prefix
    /// key counts: the Cache view joins the two by prefix.
    pub cache_hit_rate_by_prefix: BTreeMap<String, f64>,
    /// How often the source queries, in ms (Prometheus' scrape interval or
    /// `[prometheus] refresh_ms`); None: every `[ui] refresh_ms`. A sample is fresh for
    /// this long, so staleness is graded against it.
    pub pace_ms: Option<u64>,
    /// Panels that failed or answered something other than a number this round.
    pub problems: Vec<PanelProblem>,
}

/// Why one panel (one configured query) gave no usable figure, in the backend's words.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PanelProblem {
    /// The config key of the query, e.g. "p95_ms".
    pub panel: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServiceLatency {
    pub name: String,
    /// The kube context it runs in, when `[prometheus] cluster_label` splits services by
    /// cluster; None otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    pub qps: f64,
    /// Ratio 0..1 of requests that failed.
    pub error_rate: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub queue_length: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Utilization {
    pub deployment: String,
    /// As `ServiceLatency::context`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    pub cpu_pct: f64,
    pub memory_pct: f64,
}

impl ServiceLatency {
    /// How the service is named on screen: `chat-api`, or `chat-api · prod-eu` when split
    /// by cluster.
    pub fn label(&self) -> String {
        match &self.context {
            Some(c) => format!("{} · {c}", self.name),
            None => self.name.clone(),
        }
    }

    /// Whether these are `d`'s figures: the same name, and the same context when the
    /// figures are split by cluster.
    pub fn is_for(&self, d: &Deployment) -> bool {
        self.name == d.name && self.context.as_ref().is_none_or(|c| *c == d.context)
    }
}

impl Utilization {
    /// As [`ServiceLatency::is_for`].
    pub fn is_for(&self, d: &Deployment) -> bool {
        self.deployment == d.name && self.context.as_ref().is_none_or(|c| *c == d.context)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModelTokens {
    pub model: String,
    pub input_per_sec: f64,
    pub output_per_sec: f64,
}

/// One namespace's token rates for one model.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NamespaceTokens {
    pub namespace: String,
    pub model: String,
    pub input_per_sec: f64,
    pub output_per_sec: f64,
}

/// What one Redis (or a cluster, aggregated) looked like over the last interval.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CacheSample {
    /// hits / (hits + misses) over the window; None when there was no traffic.
    pub hit_rate: Option<f64>,
    pub hit_rate_lifetime: Option<f64>,
    pub hits_per_sec: f64,
    pub misses_per_sec: f64,
    pub ops_per_sec: f64,
    pub used_memory_bytes: u64,
    pub maxmemory_bytes: u64,
    pub fragmentation: f64,
    pub evicted_keys_per_sec: f64,
    pub expired_keys_per_sec: f64,
    pub connected_clients: u64,
    pub ping_ms: f64,
    pub keys: u64,
    pub eviction_policy: String,
    /// Keys per configured prefix, in config order: estimated from sampled SCAN pages, or
    /// exact after a count the operator asked for.
    pub prefixes: Vec<PrefixCount>,
    /// Share of the keyspace an exact count in progress has walked (0..=1); None when none runs.
    pub exact_count_progress: Option<f64>,
    /// Per node, for a cluster; empty for a single server.
    pub nodes: Vec<CacheNode>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PrefixCount {
    pub prefix: String,
    /// Keys with the prefix: exact when `exact`, otherwise an estimate.
    pub keys: u64,
    /// Half-width of the estimate's 95 % interval (keys ± margin); 0 when exact.
    pub margin: u64,
    /// Counted key by key over the whole keyspace rather than estimated from a sample.
    pub exact: bool,
    /// Keys the estimate rests on (sampled), or walked for an exact count.
    pub sampled: u64,
    /// Seconds since the count or the estimate's newest sample was taken.
    pub age_s: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CacheNode {
    pub addr: String,
    pub hit_rate: Option<f64>,
    pub ops_per_sec: f64,
    pub used_memory_bytes: u64,
    pub keys: u64,
}

/// Deployments, their autoscalers and node pools.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClusterSample {
    pub context: String,
    pub deployments: Vec<Deployment>,
    pub pools: Vec<NodePool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Deployment {
    /// The kube context (cluster) it runs in; "demo" on the demo.
    pub context: String,
    pub namespace: String,
    pub name: String,
    /// spec.replicas
    pub replicas: u32,
    pub ready: u32,
    pub available: u32,
    pub updated: u32,
    pub hpa: Option<Hpa>,
    /// The VerticalPodAutoscaler targeting it, when the cluster serves VPAs and one does.
    pub vpa: Option<Vpa>,
    /// Per pod requests, for the cost model.
    pub cpu_request_cores: f64,
    pub memory_request_gib: f64,
    pub gpus: u32,
    /// Node pool the pods run on (e.g. "cpu-spot", "gpu-ondemand").
    pub pool: String,
    /// Set while hibernated: the count to restore, from its annotations.
    pub hibernated: Option<super::Hibernation>,
    /// metadata.resourceVersion as observed, the precondition of a scale patch.
    #[serde(skip)]
    pub resource_version: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Hpa {
    pub name: String,
    pub min: u32,
    pub max: u32,
    pub current: u32,
    pub desired: u32,
    pub metrics: Vec<HpaMetric>,
    /// The scaling behaviour in words, Kubernetes' defaults filled in where unset.
    pub behavior: String,
    /// What the controller sets next by `domain::scaling::next_move`, when known.
    pub next: Option<HpaNext>,
    /// metadata.resourceVersion as observed, the precondition of an edit of its min/max.
    #[serde(skip)]
    pub resource_version: String,
}

/// A VerticalPodAutoscaler (`autoscaling.k8s.io/v1`): how it may change the pods' requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Vpa {
    pub name: String,
    /// spec.updatePolicy.updateMode; "Auto" when unset, as the VPA admission controller reads it.
    pub update_mode: String,
    pub containers: Vec<VpaContainer>,
}

/// One container's recommendation (from the VPA's status) and its policy's bounds (from its
/// spec). A container named "*" is the policy for every container without its own.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VpaContainer {
    pub name: String,
    pub target: VpaResources,
    pub lower_bound: VpaResources,
    pub upper_bound: VpaResources,
    pub min_allowed: VpaResources,
    pub max_allowed: VpaResources,
}

/// CPU in cores and memory in bytes; None when the VPA says nothing about it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct VpaResources {
    pub cpu_cores: Option<f64>,
    pub memory_bytes: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HpaNext {
    pub replicas: u32,
    /// Why not simply the metrics' ask: "max 20", "policy 4 pods/15s", ...
    pub limited_by: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HpaMetric {
    /// e.g. "cpu", "memory", "queue_length"
    pub name: String,
    pub current: Option<f64>,
    pub target: f64,
    /// "%" for utilisation, "" for plain values.
    pub unit: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NodePool {
    pub name: String,
    /// "gpu" | "cpu" | "memory"
    pub class: String,
    pub spot: bool,
    pub nodes: u32,
    pub pods: u32,
}
