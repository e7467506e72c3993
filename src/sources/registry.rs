//! The one list of sources. The console, `snapshot` and the headless commands start
//! sources from here; adding a backend touches its folder and one entry in [`registry`].

use super::supervise::supervise;
use super::{Payload, RefreshNow, SourceKind, SourceUpdate, kube, prometheus, redis};
use crate::config::{Config, PromMode};
use futures::future::BoxFuture;
use std::time::Duration;
use tokio::sync::mpsc;

/// A backend the console watches.
pub trait Source: Send + Sync {
    /// Which slot of the state its updates fill.
    fn kind(&self) -> SourceKind;
    /// Runs for the console's lifetime, sending an update every refresh (or on change);
    /// `wake` asks for a sample now (the `r` key).
    fn run(
        &self,
        refresh: Duration,
        tx: mpsc::Sender<SourceUpdate>,
        wake: RefreshNow,
    ) -> BoxFuture<'static, ()>;
    /// One sample for `snapshot`, taken over one refresh where rates need two readings;
    /// None when this source has nothing to add to a snapshot.
    fn snapshot(&self, refresh: Duration) -> BoxFuture<'static, Option<SourceUpdate>>;
    /// The kube context its updates are about, so its failures mark that context alone.
    fn context(&self) -> Option<String> {
        None
    }
}

struct Redis(crate::config::RedisConfig);
struct Prometheus(crate::config::PrometheusConfig);
/// OpenCost prices, cached tokens, storage and network $/h, from Prometheus' API.
struct Prices(
    crate::config::PrometheusConfig,
    prometheus::prices::CostQueries,
);
/// Each service's traffic yesterday and last week, and its peak over the idle window
/// (`[cost] idle_hibernate_after_s`).
struct Traffic(crate::config::PrometheusConfig, u64);
/// Prometheus' own alerts.
struct Alerts(crate::config::PrometheusConfig);
/// Today's spend so far, from Prometheus range data.
struct Today(crate::config::PrometheusConfig, crate::config::CostConfig);
/// One kube context: `KubernetesConfig::clusters` gives one config per watched context.
struct Kubernetes(crate::config::KubernetesConfig);
/// Each namespace's ResourceQuota, for the Tenants section.
struct Quotas(crate::config::KubernetesConfig);

/// The sources `config` asks for, in the order a snapshot applies them.
pub fn registry(config: &Config) -> Vec<Box<dyn Source>> {
    let mut out: Vec<Box<dyn Source>> = Vec::new();
    if let Some(p) = config
        .prometheus
        .as_ref()
        .filter(|p| p.mode == PromMode::Api)
    {
        let queries = prometheus::prices::CostQueries::new(p, &config.cost);
        out.push(Box::new(Prices(p.clone(), queries)));
    }
    if let Some(r) = &config.redis {
        out.push(Box::new(Redis(r.clone())));
    }
    if let Some(p) = &config.prometheus {
        out.push(Box::new(Prometheus(p.clone())));
    }
    // One source per watched context, each with its own watchers and health.
    let clusters: Vec<_> = config
        .kubernetes
        .iter()
        .flat_map(|k| k.clusters())
        .collect();
    // Tenant quotas from the first context: namespaces are per cluster, and the Tenants
    // section has no context column yet.
    if let Some(k) = clusters.first() {
        out.push(Box::new(Quotas(k.clone())));
    }
    for k in clusters {
        out.push(Box::new(Kubernetes(k)));
    }
    if let Some(p) = config
        .prometheus
        .as_ref()
        .filter(|p| p.mode == PromMode::Api)
    {
        out.push(Box::new(Today(p.clone(), config.cost.clone())));
        out.push(Box::new(Alerts(p.clone())));
        let idle_window = config.cost.idle_hibernate_after_s;
        out.push(Box::new(Traffic(p.clone(), idle_window)));
    }
    out
}

/// Starts every source for the console, each restarted after a panic (which shows as
/// its error meanwhile, see [`supervise`]).
pub fn spawn_all(
    config: &Config,
    refresh: Duration,
    tx: &mpsc::Sender<SourceUpdate>,
    wake: &RefreshNow,
) {
    for source in registry(config) {
        let (to, wake) = (tx.clone(), wake.clone());
        supervise(source.kind(), source.context(), tx.clone(), move || {
            source.run(refresh, to.clone(), wake.clone())
        });
    }
}

/// One sample of every source at once, so a snapshot takes one refresh, not one per source.
pub async fn snapshot_all(config: &Config, refresh: Duration) -> Vec<SourceUpdate> {
    let all = registry(config);
    futures::future::join_all(all.iter().map(|s| s.snapshot(refresh)))
        .await
        .into_iter()
        .flatten()
        .collect()
}

impl Source for Redis {
    fn kind(&self) -> SourceKind {
        SourceKind::Redis
    }
    fn run(
        &self,
        refresh: Duration,
        tx: mpsc::Sender<SourceUpdate>,
        wake: RefreshNow,
    ) -> BoxFuture<'static, ()> {
        Box::pin(redis::run_with(self.0.clone(), refresh, tx, wake))
    }
    fn snapshot(&self, refresh: Duration) -> BoxFuture<'static, Option<SourceUpdate>> {
        let cfg = self.0.clone();
        Box::pin(async move {
            let payload = redis::sample_twice(cfg, refresh)
                .await
                .map(|c| Payload::Cache(Box::new(c)));
            Some(SourceUpdate {
                context: None,
                at: chrono::Utc::now(),
                source: SourceKind::Redis,
                payload,
            })
        })
    }
}

impl Source for Prometheus {
    fn kind(&self) -> SourceKind {
        SourceKind::Prometheus
    }
    fn run(
        &self,
        refresh: Duration,
        tx: mpsc::Sender<SourceUpdate>,
        wake: RefreshNow,
    ) -> BoxFuture<'static, ()> {
        Box::pin(prometheus::run_with(self.0.clone(), refresh, tx, wake))
    }
    fn snapshot(&self, refresh: Duration) -> BoxFuture<'static, Option<SourceUpdate>> {
        let cfg = self.0.clone();
        Box::pin(async move { Some(prometheus::snapshot(&cfg, refresh).await) })
    }
}

impl Source for Prices {
    fn kind(&self) -> SourceKind {
        SourceKind::Prometheus
    }
    fn run(
        &self,
        refresh: Duration,
        tx: mpsc::Sender<SourceUpdate>,
        _wake: RefreshNow,
    ) -> BoxFuture<'static, ()> {
        Box::pin(prometheus::prices::run(
            self.0.clone(),
            self.1.clone(),
            refresh,
            tx,
        ))
    }
    fn snapshot(&self, _refresh: Duration) -> BoxFuture<'static, Option<SourceUpdate>> {
        let (cfg, queries) = (self.0.clone(), self.1.clone());
        Box::pin(async move { prometheus::prices::snapshot(&cfg, &queries).await })
    }
}

impl Source for Today {
    fn kind(&self) -> SourceKind {
        SourceKind::Prometheus
    }
    fn run(
        &self,
        _refresh: Duration,
        tx: mpsc::Sender<SourceUpdate>,
        _wake: RefreshNow,
    ) -> BoxFuture<'static, ()> {
        Box::pin(prometheus::today::run(self.0.clone(), self.1.clone(), tx))
    }
    fn snapshot(&self, _refresh: Duration) -> BoxFuture<'static, Option<SourceUpdate>> {
        let (cfg, cost) = (self.0.clone(), self.1.clone());
        Box::pin(async move {
            let client = prometheus::api::Client::new(&cfg).ok()?;
            let now = chrono::Utc::now();
            let spend = prometheus::today::spend_today(&client, &cost, now).await?;
            Some(SourceUpdate {
                context: None,
                at: now,
                source: SourceKind::Prometheus,
                payload: Ok(Payload::SpendToday(Box::new(spend))),
            })
        })
    }
}

impl Source for Traffic {
    fn kind(&self) -> SourceKind {
        SourceKind::Prometheus
    }
    fn run(
        &self,
        _refresh: Duration,
        tx: mpsc::Sender<SourceUpdate>,
        _wake: RefreshNow,
    ) -> BoxFuture<'static, ()> {
        Box::pin(prometheus::history::run(self.0.clone(), self.1, tx))
    }
    fn snapshot(&self, _refresh: Duration) -> BoxFuture<'static, Option<SourceUpdate>> {
        let (cfg, window) = (self.0.clone(), self.1);
        Box::pin(async move {
            let client = prometheus::api::Client::new(&cfg).ok()?;
            let now = chrono::Utc::now();
            let h = prometheus::history::fetch(&client, &cfg.queries.qps, window, now);
            Some(prometheus::history::update(h.await.ok()?))
        })
    }
}

impl Source for Alerts {
    fn kind(&self) -> SourceKind {
        SourceKind::Prometheus
    }
    fn run(
        &self,
        _refresh: Duration,
        tx: mpsc::Sender<SourceUpdate>,
        _wake: RefreshNow,
    ) -> BoxFuture<'static, ()> {
        Box::pin(prometheus::alerts::run(self.0.clone(), tx))
    }
    fn snapshot(&self, _refresh: Duration) -> BoxFuture<'static, Option<SourceUpdate>> {
        let cfg = self.0.clone();
        Box::pin(async move {
            let client = prometheus::api::Client::new(&cfg).ok()?;
            let alerts = prometheus::alerts::fetch(&client).await.ok()?;
            Some(prometheus::alerts::update(alerts))
        })
    }
}

impl Source for Quotas {
    fn kind(&self) -> SourceKind {
        SourceKind::Kubernetes
    }
    fn run(
        &self,
        _refresh: Duration,
        tx: mpsc::Sender<SourceUpdate>,
        _wake: RefreshNow,
    ) -> BoxFuture<'static, ()> {
        Box::pin(kube::quota::run(self.0.clone(), tx))
    }
    fn snapshot(&self, _refresh: Duration) -> BoxFuture<'static, Option<SourceUpdate>> {
        Box::pin(kube::quota::snapshot(self.0.clone(), kube::SNAPSHOT_LIMIT))
    }
    fn context(&self) -> Option<String> {
        self.0.context.clone()
    }
}

impl Source for Kubernetes {
    fn kind(&self) -> SourceKind {
        SourceKind::Kubernetes
    }
    fn run(
        &self,
        _refresh: Duration,
        tx: mpsc::Sender<SourceUpdate>,
        _wake: RefreshNow,
    ) -> BoxFuture<'static, ()> {
        Box::pin(kube::run(self.0.clone(), tx))
    }
    fn snapshot(&self, _refresh: Duration) -> BoxFuture<'static, Option<SourceUpdate>> {
        let cfg = self.0.clone();
        Box::pin(async move { Some(kube::snapshot(cfg).await) })
    }
    fn context(&self) -> Option<String> {
        self.0.context.clone()
    }
}
