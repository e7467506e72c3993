//! The running cost model: what the platform costs per hour, by category.
//!
//! Compute: per pod, CPU request × price per vCPU-hour + memory request × price per
//! GiB-hour + GPUs × price per GPU-hour, times the node class multiplier. AI model: tokens
//! per second × price per 1K tokens × 3600 / 1000. A model without a price is reported as
//! missing, never priced at zero.

use crate::config::CostConfig;
use crate::sources::{Deployment, ModelTokens};
use serde::Serialize;

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

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CostBreakdown {
    pub per_hour: CostPerHour,
    pub by_deployment: Vec<(String, f64)>,
    pub by_model: Vec<(String, f64)>,
    /// Models seen in traffic without a configured price.
    pub missing_prices: Vec<String>,
}

/// $/h of one pod of this deployment.
pub fn pod_per_hour(d: &Deployment, c: &CostConfig) -> f64 {
    let base = d.cpu_request_cores * c.vcpu_hour
        + d.memory_request_gib * c.gib_hour
        + d.gpus as f64 * c.gpu_hour;
    base * pool_multiplier(&d.pool, c)
}

/// Spot and reserved pools are recognised by name; everything else is on-demand.
pub fn pool_multiplier(pool: &str, c: &CostConfig) -> f64 {
    if pool.contains("spot") {
        c.spot_multiplier
    } else if pool.contains("reserved") {
        c.reserved_multiplier
    } else {
        1.0
    }
}

/// $/h of one model's traffic, or None when it has no price.
pub fn model_per_hour(t: &ModelTokens, c: &CostConfig) -> Option<f64> {
    let p = c.models.get(&t.model)?;
    Some((t.input_per_sec * p.input_per_1k + t.output_per_sec * p.output_per_1k) / 1000.0 * 3600.0)
}

pub fn breakdown(
    deployments: &[Deployment],
    models: &[ModelTokens],
    c: &CostConfig,
) -> CostBreakdown {
    let by_deployment: Vec<(String, f64)> = deployments
        .iter()
        .map(|d| (d.name.clone(), d.replicas as f64 * pod_per_hour(d, c)))
        .collect();
    let mut missing_prices = Vec::new();
    let mut by_model = Vec::new();
    for t in models {
        match model_per_hour(t, c) {
            Some(v) => by_model.push((t.model.clone(), v)),
            None => missing_prices.push(t.model.clone()),
        }
    }
    let compute = by_deployment.iter().map(|(_, v)| v).sum();
    let ai_model = by_model.iter().map(|(_, v)| v).sum();
    let storage = c.storage_monthly / HOURS_PER_MONTH;
    let network = c.network_monthly / HOURS_PER_MONTH;
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
        missing_prices,
    }
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

/// The $/h change of moving a deployment from `from` to `to` replicas.
pub fn replica_change_per_hour(d: &Deployment, from: u32, to: u32, c: &CostConfig) -> f64 {
    (to as f64 - from as f64) * pod_per_hour(d, c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(pool: &str, cpu: f64, mem: f64, gpus: u32, replicas: u32) -> Deployment {
        Deployment {
            name: "d".into(),
            pool: pool.into(),
            cpu_request_cores: cpu,
            memory_request_gib: mem,
            gpus,
            replicas,
            ..Default::default()
        }
    }

    #[test]
    fn pods_are_priced_by_request_and_pool() {
        let c = CostConfig::default();
        // 2 vCPU × 0.04 + 4 GiB × 0.005 = 0.10 on demand; spot × 0.30 = 0.03.
        assert!((pod_per_hour(&dep("cpu-ondemand", 2.0, 4.0, 0, 1), &c) - 0.10).abs() < 1e-12);
        assert!((pod_per_hour(&dep("cpu-spot", 2.0, 4.0, 0, 1), &c) - 0.03).abs() < 1e-12);
        // 1 GPU 2.50 + 4 vCPU 0.16 + 16 GiB 0.08 = 2.74.
        assert!((pod_per_hour(&dep("gpu-ondemand", 4.0, 16.0, 1, 1), &c) - 2.74).abs() < 1e-12);
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

    #[test]
    fn models_are_priced_per_1k_tokens_and_missing_prices_are_named() {
        let c = CostConfig::default();
        let models = vec![
            // gpt-4: (100 × 0.03 + 50 × 0.06) / 1000 × 3600 = 21.6 $/h
            ModelTokens {
                model: "gpt-4".into(),
                input_per_sec: 100.0,
                output_per_sec: 50.0,
            },
            ModelTokens {
                model: "mystery".into(),
                input_per_sec: 1.0,
                output_per_sec: 1.0,
            },
        ];
        let b = breakdown(&[], &models, &c);
        assert!((b.per_hour.ai_model - 21.6).abs() < 1e-9);
        assert_eq!(b.missing_prices, vec!["mystery".to_string()]);
    }
}
