//! SLO checks: which figures are outside the platform's targets right now.
//!
//! `check` is stateless; `Alerts::update` keeps when each alert started so the list can say
//! "since 03:12" and an alert that flickers off and on restarts its clock.

use crate::config::Rules;
use crate::domain::grade::{self, Grade};
use crate::model::{CacheSample, MetricsSample};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Critical,
}

impl Severity {
    /// The alert a grade raises, if any.
    pub fn of(g: Grade) -> Option<Severity> {
        match g {
            Grade::Warn => Some(Severity::Warning),
            Grade::Critical => Some(Severity::Critical),
            Grade::Ok | Grade::Unknown => None,
        }
    }
}

impl From<Severity> for Grade {
    fn from(s: Severity) -> Grade {
        match s {
            Severity::Warning => Grade::Warn,
            Severity::Critical => Grade::Critical,
        }
    }
}

/// One breached target. `key` identifies it across refreshes.
#[derive(Debug, Clone, PartialEq)]
pub struct Breach {
    pub key: String,
    pub severity: Severity,
    pub source: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub severity: Severity,
    pub source: String,
    pub message: String,
    pub since: DateTime<Utc>,
    #[serde(skip)]
    pub key: String,
}

/// The breached targets among the SLO figures (P95 and error rate per service, the cache's
/// hit rate and latency). Each figure's severity is its grade from [`grade`]: an alert
/// says exactly what the tile and the table colour say.
pub fn check(
    metrics: Option<&MetricsSample>,
    cache: Option<&CacheSample>,
    r: &Rules,
) -> Vec<Breach> {
    let mut out = Vec::new();
    let mut raise = |g: Grade, key: String, source: &'static str, message: String| {
        if let Some(severity) = Severity::of(g) {
            out.push(Breach {
                key,
                severity,
                source,
                message,
            });
        }
    };
    for s in metrics.iter().flat_map(|m| m.services.iter()) {
        raise(
            grade::of_p95(s.p95_ms, r),
            format!("p95:{}", s.name),
            "prometheus",
            format!("{} P95 {:.0} ms > {:.0} ms", s.name, s.p95_ms, r.p95_up_ms),
        );
        raise(
            grade::of_error_rate(s.error_rate, r),
            format!("errors:{}", s.name),
            "prometheus",
            format!(
                "{} error rate {} > {}",
                s.name,
                percent(s.error_rate),
                percent(r.error_rate_alert)
            ),
        );
    }
    if let Some(c) = cache {
        let hit = grade::of_hit_rate(c.hit_rate, r);
        // Below the alert line the alert names it; above it, the target that is missed.
        let line = if hit == Grade::Critical {
            format!("{:.0}%", r.hit_rate_alert * 100.0)
        } else {
            format!("{:.0}% target", r.hit_rate_target * 100.0)
        };
        raise(
            hit,
            "cache:hit_rate".into(),
            "redis",
            format!(
                "cache hit rate {:.1}% < {line}",
                c.hit_rate.unwrap_or(f64::NAN) * 100.0
            ),
        );
        raise(
            grade::of_cache_latency(c.ping_ms, r),
            "cache:ping".into(),
            "redis",
            format!(
                "cache latency {:.1} ms > {:.0} ms",
                c.ping_ms, r.cache_latency_ms
            ),
        );
    }
    out
}

/// An error rate as a percentage with enough digits to compare against 0.01 %.
pub fn percent(ratio: f64) -> String {
    let p = ratio * 100.0;
    if p >= 1.0 {
        format!("{p:.1}%")
    } else if p >= 0.1 {
        format!("{p:.2}%")
    } else {
        format!("{p:.3}%")
    }
}

/// Replaces the alert list with the current breaches, keeping each ongoing alert's start.
pub fn update(alerts: &mut Vec<Alert>, breaches: Vec<Breach>, now: DateTime<Utc>) {
    let mut next: Vec<Alert> = breaches
        .into_iter()
        .map(|b| {
            let since = alerts
                .iter()
                .find(|a| a.key == b.key)
                .map_or(now, |a| a.since);
            Alert {
                severity: b.severity,
                source: b.source.into(),
                message: b.message,
                since,
                key: b.key,
            }
        })
        .collect();
    next.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.since.cmp(&b.since)));
    *alerts = next;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ServiceLatency;
    use Severity::{Critical as C, Warning as W};

    /// Same figures, same grade: each alert's severity is the figure's grade, and a figure
    /// graded ok or unknown raises none.
    #[test]
    fn alert_severity_is_the_grade() {
        let r = Rules::default();
        for (p95, errors, hit, ping, expected) in [
            (900.0, 0.00005, Some(0.86), 1.0, [None, None, None, None]),
            (
                1500.0,
                0.001,
                Some(0.75),
                20.0,
                [Some(W), Some(W), Some(W), Some(W)],
            ),
            (
                2500.0,
                0.02,
                Some(0.60),
                500.0,
                [Some(C), Some(C), Some(C), Some(W)],
            ),
            (f64::NAN, f64::NAN, None, f64::NAN, [None, None, None, None]),
        ] {
            let metrics = MetricsSample {
                services: vec![ServiceLatency {
                    name: "chat".into(),
                    qps: 10.0,
                    error_rate: errors,
                    p95_ms: p95,
                    ..Default::default()
                }],
                ..Default::default()
            };
            let cache = CacheSample {
                hit_rate: hit,
                ping_ms: ping,
                ..Default::default()
            };
            let breaches = check(Some(&metrics), Some(&cache), &r);
            let severity = |key: &str| breaches.iter().find(|b| b.key == key).map(|b| b.severity);
            let grades = [
                grade::of_p95(p95, &r),
                grade::of_error_rate(errors, &r),
                grade::of_hit_rate(hit, &r),
                grade::of_cache_latency(ping, &r),
            ];
            let keys = ["p95:chat", "errors:chat", "cache:hit_rate", "cache:ping"];
            for ((key, g), want) in keys.into_iter().zip(grades).zip(expected) {
                assert_eq!(
                    severity(key),
                    want,
                    "{key} at {p95} {errors} {hit:?} {ping}"
                );
                assert_eq!(Severity::of(g), want, "{key} graded {g:?}");
            }
        }
    }
}
