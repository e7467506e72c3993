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

/// The series of an instant query, keyed by `labels`' values. A scalar stands for one
/// series when no label is read; any other shape is an error naming what came back, so a
/// query rewritten into the wrong shape is a named gap, not a zero or a crash.
fn rows(data: &Data, labels: &[&str]) -> Result<Vec<(Vec<String>, f64)>, String> {
    let expected = if labels.is_empty() {
        "a single value was".to_string()
    } else {
        format!("series by {} were", labels.join(", "))
    };
    let got = match data {
        Data::Vector(series) => {
            return Ok(series
                .iter()
                .map(|s| {
                    let key = labels
                        .iter()
                        .map(|l| s.labels.get(*l).cloned().unwrap_or_default())
                        .collect();
                    (key, s.value)
                })
                .collect());
        }
        Data::Scalar(v) if labels.is_empty() => return Ok(vec![(Vec::new(), *v)]),
        Data::Scalar(_) => "a scalar",
        Data::Matrix(_) => "a range (matrix)",
        Data::Text(_) => "a string",
    };
    Err(format!("returned {got} where {expected} expected"))
}

/// The answers a window is built from; None for a query that is not configured.
#[derive(Debug, Clone)]
pub struct Answers {
    pub tokens: Result<Data, PromError>,
    pub replica_hours: Result<Data, PromError>,
    pub replicas_now: Result<Data, PromError>,
    pub requests: Result<Data, PromError>,
    pub storage: Option<Result<Data, PromError>>,
    pub network: Option<Result<Data, PromError>>,
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
    let ask = |q: String| async move { client.query(&q, end).await.map(|a| a.data) };
    let ask_optional = |q: Option<String>| async move {
        match q {
            Some(q) => Some(ask(q).await),
            None => None,
        }
    };
    let (tokens, replica_hours, replicas_now, requests, storage, network) = tokio::join!(
        ask(tokens),
        ask(replica_hours),
        ask(replicas_now.into()),
        ask(requests.into()),
        ask_optional(storage_q),
        ask_optional(network_q),
    );
    let answers = Answers {
        tokens,
        replica_hours,
        replicas_now,
        requests,
        storage,
        network,
    };
    assemble(answers, c, period_s)
}

/// The window from its answers: pure, so any answer (a shape the report does not expect
/// included) can be tried without a server.
pub fn assemble(a: Answers, c: &CostConfig, period_s: i64) -> Window {
    let mut w = Window::default();
    let required = [&a.tokens, &a.replica_hours, &a.replicas_now, &a.requests];
    let optional = [&a.storage, &a.network];
    let all_failed = required.iter().all(|r| r.is_err())
        && optional.iter().all(|o| matches!(o, None | Some(Err(_))));
    let transport = required
        .into_iter()
        .chain(optional.into_iter().flatten())
        .find_map(|r| r.as_ref().err().filter(|e| e.is_transport()));
    if all_failed && let Some(e) = transport {
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
    let rows = match rows(&data, &["model", "direction"]) {
        Ok(r) => r,
        Err(e) => {
            let e = format!("the token query {e} — check [cost].token_counter");
            return w.gaps.push(Gap::new("ai_model", e));
        }
    };
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
    let hours = match hours.map(|d| rows(&d, &["namespace", "deployment"])) {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            let e = format!("the replica-hours query {e}");
            return w.gaps.push(Gap::new("compute", e));
        }
        Err(e) => return w.gaps.push(Gap::new("compute", e.to_string())),
    };
    if hours.is_empty() {
        w.gaps.push(Gap::new(
            "compute",
            "no kube-state-metrics series kube_deployment_status_replicas in Prometheus",
        ));
        return;
    }
    // A failed or misshapen answer here leaves every deployment without a shape below,
    // each named there; the shape itself is named once.
    let mut read = |what: &str, answer: Result<Data, PromError>, labels: &[&str]| match answer
        .map(|d| rows(&d, labels))
    {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            w.gaps
                .push(Gap::new("compute", format!("the {what} query {e}")));
            Vec::new()
        }
        Err(_) => Vec::new(),
    };
    let now: BTreeMap<String, f64> = read("replicas", now, &["deployment"])
        .into_iter()
        .map(|(k, v)| (k[0].clone(), v))
        .collect();
    let mut req: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for (k, v) in read("resource requests", requests, &["deployment", "resource"]) {
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
    let values = match rows(&data, &[]) {
        Ok(v) => v,
        Err(e) => {
            gaps.push(Gap::new(part, format!("[cost].{part}_query {e}")));
            return None;
        }
    };
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
