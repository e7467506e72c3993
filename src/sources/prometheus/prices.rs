//! The cost model's inputs from Prometheus: OpenCost's node prices, cached input tokens,
//! the storage and network $/h queries, and each deployment's p95 CPU and memory use over
//! the last day (for the right-size suggestion; asked every [`USAGE_EVERY`], not each round:
//! a day-long subquery is the heaviest question opsdeck asks).
//!
//! A task of its own beside the panels, so the panel round keeps one query per panel and
//! a cluster without OpenCost costs three empty answers per round, nothing more. Its
//! failures are not the source's errors: the panels already report a dead server, and a
//! missing OpenCost is normal.

use super::api::{Client, Data};
use crate::config::{CostConfig, PromMode, PrometheusConfig};
use crate::sources::{CostInputs, NodePrice, Payload, SourceKind, SourceUpdate};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::mpsc;

/// OpenCost's series, by instance type: per vCPU-hour, per GiB-hour, per GPU-hour.
pub const OPENCOST_CPU: &str = "avg by (instance_type) (node_cpu_hourly_cost)";
pub const OPENCOST_RAM: &str = "avg by (instance_type) (node_ram_hourly_cost)";
pub const OPENCOST_GPU: &str = "avg by (instance_type) (node_gpu_hourly_cost)";

/// How often the p95 use queries are asked: their answer moves over hours, not seconds.
pub const USAGE_EVERY: Duration = Duration::from_secs(300);
/// How soon a failed (or empty) p95 use answer is asked again.
pub const USAGE_RETRY: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq)]
pub struct CostQueries {
    pub cached_input: String,
    pub storage: Option<String>,
    pub network: Option<String>,
    /// `[prometheus.queries] cpu_usage_p95_cores` / `memory_usage_p95_bytes`; None when "".
    pub cpu_usage: Option<String>,
    pub memory_usage: Option<String>,
}

impl CostQueries {
    pub fn new(prom: &PrometheusConfig, cost: &CostConfig) -> CostQueries {
        CostQueries {
            cached_input: prom.queries.llm_cached_input_tokens_per_sec.clone(),
            storage: cost.storage_query.clone(),
            network: cost.network_query.clone(),
            cpu_usage: Some(prom.queries.cpu_usage_p95_cores.clone()).filter(|q| !q.is_empty()),
            memory_usage: Some(prom.queries.memory_usage_p95_bytes.clone())
                .filter(|q| !q.is_empty()),
        }
    }
}

/// Series values by one label; a series without it is skipped.
fn by_label(data: &Data, label: &str) -> BTreeMap<String, f64> {
    match data {
        Data::Vector(series) => series
            .iter()
            .filter(|s| s.value.is_finite())
            .filter_map(|s| Some((s.labels.get(label)?.clone(), s.value)))
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// A $/h query's answer: the sum of its series.
fn dollars_per_hour(answer: Result<Data, String>) -> Result<f64, String> {
    match answer? {
        Data::Scalar(v) => Ok(v),
        Data::Vector(s) if s.is_empty() => Err("no data: the query returned no series".into()),
        Data::Vector(s) => Ok(s.iter().map(|s| s.value).sum()),
        _ => Err("the query does not return an instant vector or scalar".into()),
    }
}

/// One query per input, all at `at`.
pub async fn sample(client: &Client, q: &CostQueries, at: DateTime<Utc>) -> CostInputs {
    let ask = |promql: Option<String>| async move {
        let promql = promql?;
        Some(
            client
                .query(&promql, at)
                .await
                .map(|a| a.data)
                .map_err(|e| e.to_string()),
        )
    };
    let (cpu, ram, gpu, cached, storage, network) = tokio::join!(
        ask(Some(OPENCOST_CPU.into())),
        ask(Some(OPENCOST_RAM.into())),
        ask(Some(OPENCOST_GPU.into())),
        ask(Some(q.cached_input.clone())),
        ask(q.storage.clone()),
        ask(q.network.clone()),
    );
    // Absent OpenCost or cached tokens: nothing to add, not an error.
    let rows = |a: Option<Result<Data, String>>, label: &str| match a {
        Some(Ok(d)) => by_label(&d, label),
        _ => BTreeMap::new(),
    };
    let mut node_prices: BTreeMap<String, NodePrice> = BTreeMap::new();
    for (k, v) in rows(cpu, "instance_type") {
        node_prices.entry(k).or_default().vcpu_hour = Some(v);
    }
    for (k, v) in rows(ram, "instance_type") {
        node_prices.entry(k).or_default().gib_hour = Some(v);
    }
    for (k, v) in rows(gpu, "instance_type") {
        node_prices.entry(k).or_default().gpu_hour = Some(v);
    }
    CostInputs {
        node_prices,
        cached_input_per_sec: rows(cached, "model"),
        storage_per_hour: storage.map(dollars_per_hour),
        network_per_hour: network.map(dollars_per_hour),
        cpu_usage_p95: None,
        memory_usage_p95: None,
    }
}

/// A p95 query's rows by `deployment`; no series at all is an error, not "no use".
fn by_deployment(answer: Result<Data, String>) -> Result<BTreeMap<String, f64>, String> {
    match answer? {
        Data::Vector(s) if s.is_empty() => Err("no data: the query returned no series".into()),
        d @ Data::Vector(_) => Ok(by_label(&d, "deployment")),
        _ => Err("the query does not return an instant vector".into()),
    }
}

/// The p95 CPU (cores) and memory (bytes) use per deployment, each None when its query is
/// turned off.
pub async fn usage(client: &Client, q: &CostQueries, at: DateTime<Utc>) -> Usage {
    let ask = |promql: Option<String>| async move {
        let promql = promql?;
        let answer = client.query(&promql, at).await;
        Some(by_deployment(
            answer.map(|a| a.data).map_err(|e| e.to_string()),
        ))
    };
    let (cpu, memory) = tokio::join!(ask(q.cpu_usage.clone()), ask(q.memory_usage.clone()));
    Usage { cpu, memory }
}

/// The last answer of the p95 use queries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    pub cpu: Option<Result<BTreeMap<String, f64>, String>>,
    pub memory: Option<Result<BTreeMap<String, f64>, String>>,
}

impl Usage {
    fn into(self, mut inputs: CostInputs) -> CostInputs {
        inputs.cpu_usage_p95 = self.cpu;
        inputs.memory_usage_p95 = self.memory;
        inputs
    }
}

pub fn update(at: DateTime<Utc>, inputs: CostInputs) -> SourceUpdate {
    SourceUpdate {
        context: None,
        at,
        source: SourceKind::Prometheus,
        payload: Ok(Payload::CostInputs(Box::new(inputs))),
    }
}

/// One reading for `opsdeck snapshot`; None in scrape mode.
pub async fn snapshot(cfg: &PrometheusConfig, queries: &CostQueries) -> Option<SourceUpdate> {
    if cfg.mode != PromMode::Api {
        return None;
    }
    let client = Client::new(cfg).ok()?;
    let at = Utc::now();
    let (inputs, usage) = tokio::join!(sample(&client, queries, at), usage(&client, queries, at));
    Some(update(at, usage.into(inputs)))
}

/// Reads the inputs at the panels' pace (see [`super::pace`]; the panel task logs a
/// fallback) until the receiver is gone. API mode only: scrape mode has no PromQL.
pub async fn run(
    cfg: PrometheusConfig,
    queries: CostQueries,
    refresh: Duration,
    tx: mpsc::Sender<SourceUpdate>,
) {
    let mut pace = super::pace::Pace::initial(cfg.refresh_ms, refresh);
    let mut tick = super::ticker(pace.every);
    let mut ask_pace = cfg.refresh_ms.is_none();
    let mut client = None;
    // The p95 use: its last answer and when it was asked.
    let mut last_usage: Option<(tokio::time::Instant, Usage)> = None;
    loop {
        tick.tick().await;
        let c = match &client {
            Some(c) => c,
            None => match Client::new(&cfg) {
                Ok(c) => client.insert(c),
                // The panel task reports a bad setup; nothing to add here.
                Err(_) => continue,
            },
        };
        if ask_pace && let Ok(p) = super::pace::ask(c, refresh).await {
            ask_pace = false;
            if p.every != pace.every {
                tick = super::ticker_at(tokio::time::Instant::now() + p.every, p.every);
            }
            pace = p;
        }
        let at = Utc::now();
        let inputs = sample(c, &queries, at).await;
        // Asked again after USAGE_EVERY; after a failure (or no data yet) sooner, but not
        // each round: a query that timed out would time out every round.
        let due = last_usage.as_ref().is_none_or(|(when, u)| {
            let failed = [&u.cpu, &u.memory]
                .iter()
                .any(|a| matches!(a, Some(Err(_))));
            when.elapsed() >= if failed { USAGE_RETRY } else { USAGE_EVERY }
        });
        if due {
            let u = usage(c, &queries, at).await;
            last_usage = Some((tokio::time::Instant::now(), u));
        }
        let u = last_usage
            .as_ref()
            .map(|(_, u)| u.clone())
            .unwrap_or_default();
        if tx.send(update(at, u.into(inputs))).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::prometheus::api::InstantSeries;

    #[test]
    fn a_dollar_query_without_series_is_missing_not_zero() {
        assert!(dollars_per_hour(Ok(Data::Vector(vec![]))).is_err());
        let s = |v| InstantSeries {
            labels: BTreeMap::new(),
            value: v,
        };
        assert_eq!(
            dollars_per_hour(Ok(Data::Vector(vec![s(1.5), s(2.0)]))),
            Ok(3.5)
        );
    }
}
