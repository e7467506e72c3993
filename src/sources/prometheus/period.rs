//! What one window cost (the report's figures, and today's spend for the Cost view), from Prometheus instant queries over `[period]`.
//!
//! Token totals are exact for counters that did not reset in the window (last − first,
//! no extrapolation) and Prometheus' `increase()` for those that did; replica hours and
//! $/h queries are integrated with a subquery at a fixed step.

use crate::config::CostConfig;
use crate::domain::cost::{self, HOURS_PER_MONTH};
use crate::model::{DeploymentLine, Gap, ModelLine, Totals};
use crate::sources::Deployment;
use crate::sources::prometheus::api::{Client, Data, PromError};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// What one window cost, part by part, and what could not be computed.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub totals: Totals,
    pub by_model: Vec<ModelLine>,
    pub by_deployment: Vec<DeploymentLine>,
    pub gaps: Vec<Gap>,
    /// Every query failed to reach the server: the window says nothing.
    pub unreachable: Option<PromError>,
}

/// Subquery step: one point a minute for a day, coarser for longer periods, so a month is
/// still about 1,500 points per series.
pub fn step_s(period_s: i64) -> i64 {
    (period_s / 1440).max(60)
}

/// One row per series, keyed by `labels` in order (empty when a series lacks one). A
/// scalar is one row without labels; so every key has exactly `labels.len()` parts.
fn rows(data: &Data, labels: &[&str]) -> Vec<(Vec<String>, f64)> {
    match data {
        Data::Vector(series) => series
            .iter()
            .map(|s| {
                let key = labels
                    .iter()
                    .map(|l| s.labels.get(*l).cloned().unwrap_or_default())
                    .collect();
                (key, s.value)
            })
            .collect(),
        Data::Scalar(v) => vec![(vec![String::new(); labels.len()], *v)],
        _ => Vec::new(),
    }
}

/// The rows whose name (key part `at`, what a cost is booked to) is present, and whether
/// any lacked it: a series without its name cannot be priced and must not be booked to "".
fn named(rows: Vec<(Vec<String>, f64)>, at: usize) -> (Vec<(Vec<String>, f64)>, bool) {
    let before = rows.len();
    let kept: Vec<_> = rows
        .into_iter()
        .filter(|(k, _)| !k[at].is_empty())
        .collect();
    let lost = kept.len() < before;
    (kept, lost)
}

pub async fn window(client: &Client, c: &CostConfig, end: DateTime<Utc>, period_s: i64) -> Window {
    let p = format!("{period_s}s");
    let step = step_s(period_s);
    let counter = &c.token_counter;
    let tokens = format!(
        "sum by (model, direction) ((max_over_time({counter}[{p}]) - min_over_time({counter}[{p}])) \
         unless (resets({counter}[{p}]) > 0) or increase({counter}[{p}]))"
    );
    let replica_hours = format!(
        "sum by (namespace, deployment) (sum_over_time(kube_deployment_status_replicas[{p}:{step}s])) * {step} / 3600"
    );
    let replicas_now = "sum by (namespace, deployment) (kube_deployment_status_replicas)";
    let requests = "sum by (deployment, resource) (kube_pod_container_resource_requests)";
    let integrate = |q: &String| format!("sum(sum_over_time(({q})[{p}:{step}s])) * {step} / 3600");
    let storage_q = c.storage_query.as_ref().map(integrate);
    let network_q = c.network_query.as_ref().map(integrate);
    let ask = |q: Option<String>| async move {
        match q {
            Some(q) => Some(client.query(&q, end).await.map(|a| a.data)),
            None => None,
        }
    };
    let (tok, hours, now, req, storage, network) = tokio::join!(
        ask(Some(tokens)),
        ask(Some(replica_hours)),
        ask(Some(replicas_now.into())),
        ask(Some(requests.into())),
        ask(storage_q),
        ask(network_q),
    );
    let answers = Answers {
        tokens: tok.expect("always asked"),
        replica_hours: hours.expect("always asked"),
        replicas_now: now.expect("always asked"),
        requests: req.expect("always asked"),
        storage,
        network,
    };
    from_answers(answers, c, period_s)
}

/// The answers to one window's queries; `None` for the queries the config does not ask
/// (`[cost].storage_query`, `[cost].network_query`).
#[derive(Debug, Clone)]
pub struct Answers {
    pub tokens: Result<Data, PromError>,
    pub replica_hours: Result<Data, PromError>,
    pub replicas_now: Result<Data, PromError>,
    pub requests: Result<Data, PromError>,
    pub storage: Option<Result<Data, PromError>>,
    pub network: Option<Result<Data, PromError>>,
}

/// What the window cost, from whatever shape the answers have: the report must never fail
/// on a query that returns something unexpected (a scalar, a string, no labels).
pub fn from_answers(a: Answers, c: &CostConfig, period_s: i64) -> Window {
    let all = [
        Some(&a.tokens),
        Some(&a.replica_hours),
        Some(&a.replicas_now),
        Some(&a.requests),
        a.storage.as_ref(),
        a.network.as_ref(),
    ];
    let mut w = Window::default();
    if let Some(Some(Err(e))) = all
        .iter()
        .find(|a| matches!(a, Some(Err(e)) if e.is_transport()))
        && all.iter().all(|a| matches!(a, None | Some(Err(_))))
    {
        w.unreachable = Some(e.clone());
        return w;
    }
    let hours_in = period_s as f64 / 3600.0;
    models(&mut w, a.tokens, c);
    compute(&mut w, a.replica_hours, a.replicas_now, a.requests, c);
    w.totals.storage = fixed_or_query(
        &mut w.gaps,
        "storage",
        a.storage,
        c.storage_monthly,
        hours_in,
    );
    w.totals.network = fixed_or_query(
        &mut w.gaps,
        "network",
        a.network,
        c.network_monthly,
        hours_in,
    );
    w.totals.sum();
    w
}

fn models(w: &mut Window, answer: Result<Data, PromError>, c: &CostConfig) {
    let data = match answer {
        Ok(d) => d,
        Err(e) => return w.gaps.push(Gap::new("ai_model", e.to_string())),
    };
    let (rows, unlabelled) = named(rows(&data, &["model", "direction"]), 0);
    if unlabelled {
        w.gaps.push(Gap::new(
            "ai_model",
            format!(
                "{} answered without a `model` label — check [cost].token_counter",
                c.token_counter
            ),
        ));
    }
    let mut by_model: BTreeMap<String, [f64; 3]> = BTreeMap::new();
    for (key, v) in rows {
        let slot = by_model.entry(key[0].clone()).or_default();
        match key[1].as_str() {
            "input" => slot[0] += v,
            "output" => slot[1] += v,
            "cached_input" => slot[2] += v,
            _ => {}
        }
    }
    if by_model.is_empty() {
        if unlabelled {
            return;
        }
        w.gaps.push(Gap::new(
            "ai_model",
            format!(
                "no series {} in Prometheus for the period — check [cost].token_counter",
                c.token_counter
            ),
        ));
        return;
    }
    let mut total = 0.0;
    for (model, [input, output, cached]) in by_model {
        let cost = c
            .models
            .get(&model)
            .map(|p| cost::tokens_cost(p, input, output, cached));
        match cost {
            Some(v) => total += v,
            None => w.gaps.push(Gap::new(
                "ai_model",
                cost::MissingPrice::Model(model.clone()).to_string(),
            )),
        }
        w.by_model.push(ModelLine {
            model,
            input_tokens: input,
            output_tokens: output,
            cached_input_tokens: cached,
            cost,
        });
    }
    w.totals.ai_model = Some(total);
}

fn compute(
    w: &mut Window,
    hours: Result<Data, PromError>,
    now: Result<Data, PromError>,
    requests: Result<Data, PromError>,
    c: &CostConfig,
) {
    let (hours, unlabelled) = match hours {
        Ok(d) => named(rows(&d, &["namespace", "deployment"]), 1),
        Err(e) => return w.gaps.push(Gap::new("compute", e.to_string())),
    };
    if unlabelled {
        w.gaps.push(Gap::new(
            "compute",
            "kube_deployment_status_replicas answered without a `deployment` label",
        ));
    }
    if hours.is_empty() {
        if !unlabelled {
            w.gaps.push(Gap::new(
                "compute",
                "no kube-state-metrics series kube_deployment_status_replicas in Prometheus",
            ));
        }
        return;
    }
    let now: BTreeMap<String, f64> = now
        .map(|d| rows(&d, &["deployment"]))
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k[0].clone(), v))
        .collect();
    let mut req: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for (k, v) in requests
        .map(|d| rows(&d, &["deployment", "resource"]))
        .unwrap_or_default()
    {
        req.entry(k[0].clone()).or_default().insert(k[1].clone(), v);
    }
    let mut total = 0.0;
    for (key, replica_hours) in hours {
        let (namespace, name) = (key[0].clone(), key[1].clone());
        let replicas = now.get(&name).copied().unwrap_or(0.0);
        // The pod's shape now: requests over replicas. Prometheus does not say which pool
        // a deployment runs on, so its list price (on-demand) applies.
        let shape = req
            .get(&name)
            .filter(|_| replicas > 0.0)
            .map(|r| Deployment {
                name: name.clone(),
                cpu_request_cores: r.get("cpu").copied().unwrap_or(0.0) / replicas,
                memory_request_gib: r.get("memory").copied().unwrap_or(0.0)
                    / 1_073_741_824.0
                    / replicas,
                gpus: (r.get("nvidia_com_gpu").copied().unwrap_or(0.0) / replicas).round() as u32,
                ..Default::default()
            });
        let cost = match shape {
            None => {
                w.gaps.push(Gap::new(
                    "compute",
                    format!("no kube_pod_container_resource_requests for deployment {name}"),
                ));
                None
            }
            Some(d) => match cost::pod_price(&d, c, &BTreeMap::new()) {
                Ok(p) => Some(p.per_hour * replica_hours),
                Err(m) => {
                    w.gaps.push(Gap::new("compute", m.to_string()));
                    None
                }
            },
        };
        total += cost.unwrap_or(0.0);
        w.by_deployment.push(DeploymentLine {
            namespace,
            name,
            replica_hours,
            cost,
        });
    }
    w.totals.compute = Some(total);
}

fn fixed_or_query(
    gaps: &mut Vec<Gap>,
    part: &'static str,
    answer: Option<Result<Data, PromError>>,
    monthly: f64,
    hours: f64,
) -> Option<f64> {
    let data = match answer {
        None => return Some(monthly * hours / HOURS_PER_MONTH),
        Some(Ok(d)) => d,
        Some(Err(e)) => {
            gaps.push(Gap::new(part, format!("[cost].{part}_query: {e}")));
            return None;
        }
    };
    let values = rows(&data, &[]);
    match values.first() {
        Some((_, v)) if v.is_finite() => Some(*v),
        _ => {
            gaps.push(Gap::new(
                part,
                format!("[cost].{part}_query returned no data over the period"),
            ));
            None
        }
    }
}
