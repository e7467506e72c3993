//! Each figure graded against the platform's targets, once.
//!
//! The Overview tiles, the tables of the Cache and Latency views, the alert list and
//! `snapshot --json` all ask here, so a figure cannot be green in one place and alerting in
//! another. A figure that is missing or not finite (a failed query is `NaN`) is `Unknown`,
//! never `Ok`: a missing figure must not pass for a good one.
//!
//! The lines, from the seed's "Performance and cost" section and `[rules]`:
//!
//! | figure        | warn when                     | critical when              |
//! |---------------|-------------------------------|----------------------------|
//! | cache hit rate| below `hit_rate_target` (80 %)| below `hit_rate_alert` (70 %) |
//! | P95           | above `p95_up_ms`             | above twice that           |
//! | error rate    | above `error_rate_alert`      | above 100 times that       |
//! | queue length  | above `queue_up`              | above twice that           |
//! | cache latency | above `cache_latency_ms`      | never: a slow cache warns  |
//! | Redis memory  | above 80 % of maxmemory       | above 95 %                 |
//! | month's spend | —                             | above `monthly_budget`     |

use crate::config::Rules;
use crate::model::ServiceLatency;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Grade {
    Ok,
    Warn,
    Critical,
    /// Missing or not a finite number: nothing to grade.
    Unknown,
}

/// Share of maxmemory above which Redis is close to evicting or refusing writes.
pub const MEMORY_WARN: f64 = 0.80;
pub const MEMORY_CRITICAL: f64 = 0.95;

/// The error ratio of all traffic: failed requests over all requests, weighted by each
/// service's QPS. `None` when there is no traffic (nothing failed, but nothing succeeded
/// either) or a figure it needs is missing.
pub fn error_rate(services: &[ServiceLatency]) -> Option<f64> {
    let qps: f64 = services.iter().map(|s| s.qps).sum();
    let errors: f64 = services.iter().map(|s| s.qps * s.error_rate).sum();
    let rate = errors / qps;
    (qps > 0.0 && rate.is_finite()).then_some(rate)
}

/// Cache hit rate (0..1) over the last window; `None` when there was no traffic.
pub fn of_hit_rate(v: Option<f64>, r: &Rules) -> Grade {
    match v {
        Some(v) => higher_is_better(v, r.hit_rate_target, r.hit_rate_alert),
        None => Grade::Unknown,
    }
}

pub fn of_p95(ms: f64, r: &Rules) -> Grade {
    lower_is_better(ms, r.p95_up_ms, 2.0 * r.p95_up_ms)
}

/// An error ratio (0..1), of one service or of all traffic.
pub fn of_error_rate(ratio: f64, r: &Rules) -> Grade {
    lower_is_better(ratio, r.error_rate_alert, 100.0 * r.error_rate_alert)
}

pub fn of_queue(length: f64, r: &Rules) -> Grade {
    lower_is_better(length, r.queue_up, 2.0 * r.queue_up)
}

/// The cache's PING round trip.
pub fn of_cache_latency(ms: f64, r: &Rules) -> Grade {
    lower_is_better(ms, r.cache_latency_ms, f64::INFINITY)
}

/// Used memory as a share of maxmemory; `None` when Redis has no maxmemory.
pub fn memory_fraction(used: u64, max: u64) -> Option<f64> {
    (max > 0).then(|| used as f64 / max as f64)
}

pub fn of_memory_use(fraction: Option<f64>) -> Grade {
    match fraction {
        Some(f) => lower_is_better(f, MEMORY_WARN, MEMORY_CRITICAL),
        None => Grade::Unknown,
    }
}

/// Share of a namespace's quota in use at which it warns, and at which it is critical.
pub const QUOTA_WARN: f64 = 0.8;
pub const QUOTA_CRITICAL: f64 = 0.95;

/// A quota's used / hard: warn from 80 %, critical from 95 % (new pods are refused at 100 %).
pub fn of_quota_share(share: f64) -> Grade {
    if share.is_nan() {
        Grade::Unknown
    } else if share >= QUOTA_CRITICAL {
        Grade::Critical
    } else if share >= QUOTA_WARN {
        Grade::Warn
    } else {
        Grade::Ok
    }
}

/// This month's projected cost against `[cost] monthly_budget`.
pub fn of_spend(month: f64, budget: f64) -> Grade {
    lower_is_better(month, budget, budget)
}

/// Ok at or above `target`, warn down to `alert`, critical below it.
fn higher_is_better(v: f64, target: f64, alert: f64) -> Grade {
    if !v.is_finite() {
        Grade::Unknown
    } else if v >= target {
        Grade::Ok
    } else if v >= alert {
        Grade::Warn
    } else {
        Grade::Critical
    }
}

/// Ok at or under `limit`, warn up to `critical`, critical above it.
fn lower_is_better(v: f64, limit: f64, critical: f64) -> Grade {
    if !v.is_finite() {
        Grade::Unknown
    } else if v <= limit {
        Grade::Ok
    } else if v <= critical {
        Grade::Warn
    } else {
        Grade::Critical
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(qps: f64, error_rate: f64) -> ServiceLatency {
        ServiceLatency {
            name: "chat".into(),
            qps,
            error_rate,
            ..Default::default()
        }
    }

    #[test]
    fn seed_lines() {
        let r = Rules::default();
        assert_eq!(of_hit_rate(Some(0.86), &r), Grade::Ok);
        assert_eq!(of_hit_rate(Some(0.80), &r), Grade::Ok);
        assert_eq!(of_hit_rate(Some(0.75), &r), Grade::Warn);
        assert_eq!(of_hit_rate(Some(0.70), &r), Grade::Warn);
        assert_eq!(of_hit_rate(Some(0.69), &r), Grade::Critical);
        assert_eq!(of_p95(1000.0, &r), Grade::Ok);
        assert_eq!(of_p95(1500.0, &r), Grade::Warn);
        assert_eq!(of_p95(2500.0, &r), Grade::Critical);
        assert_eq!(of_error_rate(0.0001, &r), Grade::Ok);
        assert_eq!(of_error_rate(0.001, &r), Grade::Warn);
        assert_eq!(of_error_rate(0.02, &r), Grade::Critical);
        assert_eq!(of_queue(150.0, &r), Grade::Warn);
        assert_eq!(of_queue(250.0, &r), Grade::Critical);
        assert_eq!(of_cache_latency(5.0, &r), Grade::Ok);
        assert_eq!(of_cache_latency(500.0, &r), Grade::Warn);
        assert_eq!(of_memory_use(memory_fraction(85, 100)), Grade::Warn);
        assert_eq!(of_memory_use(memory_fraction(96, 100)), Grade::Critical);
        assert_eq!(of_spend(1001.0, 1000.0), Grade::Critical);
        assert_eq!(of_spend(1000.0, 1000.0), Grade::Ok);
    }

    #[test]
    fn missing_figures_are_unknown_not_ok() {
        let r = Rules::default();
        assert_eq!(of_hit_rate(None, &r), Grade::Unknown);
        assert_eq!(of_hit_rate(Some(f64::NAN), &r), Grade::Unknown);
        assert_eq!(of_p95(f64::NAN, &r), Grade::Unknown);
        assert_eq!(of_error_rate(f64::INFINITY, &r), Grade::Unknown);
        assert_eq!(of_memory_use(memory_fraction(10, 0)), Grade::Unknown);
    }

    #[test]
    fn error_rate_is_weighted_by_traffic_and_none_without_it() {
        let rate = error_rate(&[svc(900.0, 0.0), svc(100.0, 0.01)]).unwrap();
        assert!((rate - 0.001).abs() < 1e-12, "{rate}");
        assert_eq!(error_rate(&[]), None);
        assert_eq!(error_rate(&[svc(0.0, 0.0), svc(0.0, f64::NAN)]), None);
        assert_eq!(error_rate(&[svc(10.0, f64::NAN)]), None);
    }
}
