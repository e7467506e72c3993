//! The running cost model: what the platform costs per hour, by category.
//!
//! Compute: per pod, CPU request × price per vCPU-hour + memory request × price per
//! GiB-hour + GPUs × price per GPU-hour, times the node class multiplier. AI model: tokens
//! per second × price per 1K tokens × 3600 / 1000. A model without a price is reported as
//! missing, never priced at zero.

mod price;

pub use price::{
    MissingPrice, PodPrice, PriceSource, class_multiplier, model_per_hour, pod_price, pool_class,
    pool_multiplier, replica_change_per_hour, tokens_cost,
};

use crate::config::CostConfig;
use crate::model::{CostInputs, Deployment, ModelTokens, NamespaceTokens};
use serde::Serialize;
use std::collections::BTreeMap;

/// Hours in an average month (365.25 × 24 / 12), for monthly rates.
pub const HOURS_PER_MONTH: f64 = 730.5;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CostPerHour {
    pub compute: f64,
    pub storage: f64,
    pub network: f64,
    pub ai_model: f64,
    pub total: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeploymentCost {
    pub namespace: String,
    pub name: String,
    pub pool: String,
    pub replicas: u32,
    /// None when a price is missing (see `CostBreakdown::missing`).
    pub per_hour: Option<f64>,
    pub source: Option<PriceSource>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CostBreakdown {
    /// Sums of what could be priced; anything in `missing` is left out, not counted as 0.
    pub per_hour: CostPerHour,
    pub by_deployment: Vec<DeploymentCost>,
    pub by_model: Vec<(String, f64)>,
    /// AI model $/h per namespace, when the token queries carry a `namespace` or `tenant`
    /// label (see [`namespace_ai`]).
    pub ai_by_namespace: BTreeMap<String, NamespaceAi>,
    /// What could not be priced, each named once.
    pub missing: Vec<MissingPrice>,
}

/// Storage or network $/h: the query's answer when one is configured, else the monthly rate.
fn rate_or_monthly(
    query: Option<&String>,
    answer: Option<&Result<f64, String>>,
    monthly: f64,
) -> Result<f64, String> {
    match (query, answer) {
        (None, _) => Ok(monthly / HOURS_PER_MONTH),
        (Some(_), Some(Ok(v))) if v.is_finite() => Ok(*v),
        (Some(_), Some(Ok(v))) => Err(format!("the query answered {v}")),
        (Some(_), Some(Err(e))) => Err(e.clone()),
        (Some(_), None) => Err("the query has not answered yet".into()),
    }
}

/// One namespace's AI model $/h.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct NamespaceAi {
    /// What its priced models' input and output tokens cost.
    pub per_hour: f64,
    /// Some of its tokens are of a model without a price (named in `missing`): a lower bound.
    pub partial: bool,
}

/// Each namespace's token rates at their models' prices. Prompt-cache tokens are counted
/// per model only, so they are not in a namespace's figure.
pub fn namespace_ai(tokens: &[NamespaceTokens], c: &CostConfig) -> BTreeMap<String, NamespaceAi> {
    let mut out: BTreeMap<String, NamespaceAi> = BTreeMap::new();
    for t in tokens {
        let ns = out.entry(t.namespace.clone()).or_default();
        match model_per_hour(&t.model, t.input_per_sec, t.output_per_sec, 0.0, c) {
            Ok(v) if v.is_finite() => ns.per_hour += v,
            _ => ns.partial = true,
        }
    }
    out
}

pub fn breakdown(
    deployments: &[Deployment],
    models: &[ModelTokens],
    tokens_by_namespace: &[NamespaceTokens],
    inputs: &CostInputs,
    c: &CostConfig,
) -> CostBreakdown {
    let mut missing = Vec::new();
    let by_deployment: Vec<DeploymentCost> = deployments
        .iter()
        .map(|d| {
            let price = pod_price(d, c, &inputs.node_prices);
            let (per_hour, source) = match price {
                Ok(p) => (Some(d.replicas as f64 * p.per_hour), Some(p.source)),
                Err(m) => {
                    missing.push(m);
                    (None, None)
                }
            };
            DeploymentCost {
                namespace: d.namespace.clone(),
                name: d.name.clone(),
                pool: d.pool.clone(),
                replicas: d.replicas,
                per_hour,
                source,
            }
        })
        .collect();
    let mut by_model = Vec::new();
    for t in models {
        let cached = inputs
            .cached_input_per_sec
            .get(&t.model)
            .copied()
            .filter(|v| v.is_finite())
            .unwrap_or(0.0);
        match model_per_hour(&t.model, t.input_per_sec, t.output_per_sec, cached, c) {
            Ok(v) => by_model.push((t.model.clone(), v)),
            Err(m) => missing.push(m),
        }
    }
    let storage = rate_or_monthly(
        c.storage_query.as_ref(),
        inputs.storage_per_hour.as_ref(),
        c.storage_monthly,
    )
    .unwrap_or_else(|e| {
        missing.push(MissingPrice::Storage(e));
        0.0
    });
    let network = rate_or_monthly(
        c.network_query.as_ref(),
        inputs.network_per_hour.as_ref(),
        c.network_monthly,
    )
    .unwrap_or_else(|e| {
        missing.push(MissingPrice::Network(e));
        0.0
    });
    // Folded from 0.0: an empty float `sum()` is -0.0, which prints as "-0.00".
    let compute = by_deployment
        .iter()
        .filter_map(|d| d.per_hour)
        .fold(0.0, |a, b| a + b);
    // A model whose token rate is NaN (its query failed) must not turn the total into NaN.
    let ai_model = by_model
        .iter()
        .map(|(_, v)| *v)
        .filter(|v| v.is_finite())
        .fold(0.0, |a, b| a + b);
    missing.sort();
    missing.dedup();
    CostBreakdown {
        per_hour: CostPerHour {
            compute,
            storage,
            network,
            ai_model,
            total: compute + storage + network + ai_model,
        },
        by_deployment,
        by_model,
        ai_by_namespace: namespace_ai(tokens_by_namespace, c),
        missing,
    }
}

/// What a hibernated deployment saves per hour: its recorded replica count × the price of
/// one of its pods, at the prices in use now. None when it is not hibernated or its count
/// is unreadable.
pub fn hibernation_savings_per_hour(
    d: &Deployment,
    c: &CostConfig,
    nodes: &std::collections::BTreeMap<String, crate::model::NodePrice>,
) -> Option<Result<HibernationSaving, MissingPrice>> {
    let was = d.hibernated.as_ref()?.replicas?;
    Some(pod_price(d, c, nodes).map(|p| HibernationSaving {
        replicas: was,
        pod_per_hour: p.per_hour,
        per_hour: was as f64 * p.per_hour,
    }))
}

/// The figures a hibernation saving rests on, so the view can show its basis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HibernationSaving {
    pub replicas: u32,
    pub pod_per_hour: f64,
    pub per_hour: f64,
}

/// What the cache is worth: each hit is an LLM call not made. The average cost of a call is
/// the AI model $/h spread over the calls that reached a model (the misses); `attribution`
/// is the share of misses that go to a model (1.0 when every miss is an LLM call).
pub fn cache_savings_per_hour(
    ai_model_per_hour: f64,
    hits_per_sec: f64,
    misses_per_sec: f64,
    attribution: f64,
) -> Option<f64> {
    let llm_calls_per_hour = misses_per_sec * attribution * 3600.0;
    if llm_calls_per_hour <= 0.0 || !ai_model_per_hour.is_finite() {
        return None;
    }
    let per_call = ai_model_per_hour / llm_calls_per_hour;
    Some(hits_per_sec * attribution * 3600.0 * per_call)
}

/// $ per 1000 requests at the current rate, None without traffic.
pub fn per_1k_requests(total_per_hour: f64, requests_per_sec: f64) -> Option<f64> {
    (requests_per_sec > 0.0).then(|| total_per_hour / (requests_per_sec * 3600.0) * 1000.0)
}

/// Spend so far, integrated from $/h samples: adds the step from the previous sample.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Accrual {
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    last: Option<(chrono::DateTime<chrono::Utc>, f64)>,
    pub total: f64,
}

impl Accrual {
    /// Adds the spend between the previous sample and this one (trapezoid rule); a gap of
    /// more than ten minutes is not guessed at.
    pub fn add(&mut self, at: chrono::DateTime<chrono::Utc>, per_hour: f64) {
        if !per_hour.is_finite() {
            return;
        }
        if let Some((prev_at, prev)) = self.last {
            let hours = (at - prev_at).num_milliseconds() as f64 / 3_600_000.0;
            if hours > 0.0 && hours <= 1.0 / 6.0 {
                self.total += hours * (prev + per_hour) / 2.0;
            }
        }
        if self.since.is_none() {
            self.since = Some(at);
        }
        if self.last.is_none_or(|(t, _)| at >= t) {
            self.last = Some((at, per_hour));
        }
    }
}

/// The month at the current rate against the budget, and the cut against the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Outlook {
    pub month_projection: f64,
    /// projection / budget, when a budget is set.
    pub budget_use: Option<f64>,
    /// 1 - projection / baseline, when a baseline is set.
    pub reduction: Option<f64>,
}

pub fn outlook(total_per_hour: f64, budget: Option<f64>, baseline: Option<f64>) -> Outlook {
    let month_projection = total_per_hour * HOURS_PER_MONTH;
    Outlook {
        month_projection,
        budget_use: budget.filter(|b| *b > 0.0).map(|b| month_projection / b),
        reduction: baseline
            .filter(|b| *b > 0.0)
            .map(|b| 1.0 - month_projection / b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(name: &str, pool: &str, cpu: f64, mem: f64, gpus: u32, replicas: u32) -> Deployment {
        Deployment {
            name: name.into(),
            pool: pool.into(),
            cpu_request_cores: cpu,
            memory_request_gib: mem,
            gpus,
            replicas,
            ..Default::default()
        }
    }

    fn tokens(model: &str, input: f64, output: f64) -> ModelTokens {
        ModelTokens {
            model: model.into(),
            input_per_sec: input,
            output_per_sec: output,
        }
    }

    #[test]
    fn breakdown_by_category_deployment_and_model() {
        let mut c = CostConfig {
            storage_monthly: 730.5, // 1 $/h
            ..CostConfig::default()
        };
        c.models.get_mut("gpt-4").unwrap().cached_input_per_1k = Some(0.015);
        c.pools.insert("gpu-h100".into(), Default::default());
        let deps = [
            // 3 × (2 × 0.04 + 4 × 0.005) × 0.3 = 0.09
            dep("chat", "cpu-spot", 2.0, 4.0, 0, 3),
            // 2 × (4 × 0.04 + 16 × 0.005 + 2.5) = 5.48
            dep("llm", "gpu-ondemand", 4.0, 16.0, 1, 2),
            // no GPU price in a described pool: left out and named
            dep("embed", "gpu-h100", 4.0, 16.0, 1, 1),
        ];
        let models = [
            tokens("gpt-4", 100.0, 50.0),
            tokens("gpt-3.5-turbo", 1000.0, 400.0),
            tokens("mystery", 1.0, 1.0),
        ];
        let mut inputs = CostInputs::default();
        inputs.cached_input_per_sec.insert("gpt-4".into(), 40.0);
        let ns = |namespace: &str, model: &str, input: f64, output: f64| NamespaceTokens {
            namespace: namespace.into(),
            model: model.into(),
            input_per_sec: input,
            output_per_sec: output,
        };
        let by_ns = [
            ns("cs-prod", "gpt-4", 60.0, 30.0),
            ns("cs-trial", "gpt-4", 40.0, 20.0),
            ns("cs-trial", "mystery", 1.0, 1.0),
        ];
        let b = breakdown(&deps, &models, &by_ns, &inputs, &c);
        // cs-prod: (60 × 0.03 + 30 × 0.06) / 1000 × 3600 = 12.96; cs-trial: 8.64 and an
        // unpriced model. Prompt-cache tokens are per model only: not in either.
        let ai = |n: &str| b.ai_by_namespace[n];
        assert!((ai("cs-prod").per_hour - 12.96).abs() < 1e-9);
        assert!(!ai("cs-prod").partial);
        assert!((ai("cs-trial").per_hour - 8.64).abs() < 1e-9);
        assert!(ai("cs-trial").partial);
        let p = &b.per_hour;
        assert!((p.compute - 5.57).abs() < 1e-9, "{}", p.compute);
        // gpt-4 23.76 (with cached input) + gpt-3.5-turbo 8.28
        assert!((p.ai_model - 32.04).abs() < 1e-9, "{}", p.ai_model);
        assert!((p.storage - 1.0).abs() < 1e-12);
        assert_eq!(p.network, 0.0);
        assert!((p.total - (5.57 + 32.04 + 1.0)).abs() < 1e-9);
        assert_eq!(b.by_deployment[2].per_hour, None);
        assert_eq!(b.by_deployment[0].source, Some(PriceSource::List));
        let missing: Vec<String> = b.missing.iter().map(ToString::to_string).collect();
        assert_eq!(
            missing,
            [
                "no price for model mystery: add [cost.models.\"mystery\"] input_per_1k and output_per_1k",
                "no GPU price for pool gpu-h100: set [cost.pools.\"gpu-h100\"] gpu_hour",
            ]
        );
    }

    #[test]
    fn storage_and_network_queries_replace_monthly_rates() {
        let c = CostConfig {
            storage_query: Some("sum(storage_cost)".into()),
            network_query: Some("sum(egress_cost)".into()),
            network_monthly: 730.5,
            ..CostConfig::default()
        };
        let inputs = CostInputs {
            storage_per_hour: Some(Ok(2.5)),
            network_per_hour: Some(Err("no data: the query returned no series".into())),
            ..Default::default()
        };
        let b = breakdown(&[], &[], &[], &inputs, &c);
        assert_eq!(b.per_hour.storage, 2.5);
        // The failed query is missing, not the monthly rate and not counted.
        assert_eq!(b.per_hour.network, 0.0);
        assert_eq!(
            b.missing,
            [MissingPrice::Network(
                "no data: the query returned no series".into()
            )]
        );
        assert_eq!(
            b.missing[0].to_string(),
            "no network cost: no data: the query returned no series — check [cost].network_query"
        );
    }

    #[test]
    fn cache_savings_price_each_hit_as_an_average_llm_call() {
        // 100 misses/s cost 36 $/h → 0.0001 $ per call; 300 hits/s save 300 × 3600 × 0.0001.
        let saved = cache_savings_per_hour(36.0, 300.0, 100.0, 1.0).unwrap();
        assert!((saved - 108.0).abs() < 1e-9);
        assert_eq!(cache_savings_per_hour(36.0, 300.0, 0.0, 1.0), None);
        // 1000 $/h at 200 req/s is 1000 / 720000 × 1000 per 1k requests.
        assert!((per_1k_requests(1000.0, 200.0).unwrap() - 1.388_888_888_9).abs() < 1e-6);
    }

    #[test]
    fn accrual_integrates_and_skips_gaps() {
        use chrono::TimeZone;
        let t0 = chrono::Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap();
        let mut a = Accrual::default();
        a.add(t0, 10.0);
        a.add(t0 + chrono::Duration::minutes(6), 30.0); // 0.1 h × 20 = 2
        a.add(t0 + chrono::Duration::hours(2), 30.0); // gap: not counted
        assert!((a.total - 2.0).abs() < 1e-9);
        assert_eq!(a.since, Some(t0));
        let o = outlook(10.0, Some(14_610.0), Some(9_131.25));
        assert!((o.month_projection - 7_305.0).abs() < 1e-9);
        assert!((o.budget_use.unwrap() - 0.5).abs() < 1e-9);
        assert!((o.reduction.unwrap() - 0.2).abs() < 1e-9);
    }
}
