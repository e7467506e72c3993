//! SLO checks: which figures are outside the platform's targets right now.
//!
//! `check` is stateless; `Alerts::update` keeps when each alert started so the list can say
//! "since 03:12" and an alert that flickers off and on restarts its clock.

use crate::config::Rules;
use crate::model::{CacheSample, MetricsSample};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Critical,
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

pub fn check(
    metrics: Option<&MetricsSample>,
    cache: Option<&CacheSample>,
    r: &Rules,
) -> Vec<Breach> {
    let mut out = Vec::new();
    if let Some(m) = metrics {
        for s in &m.services {
            if s.p95_ms > r.p95_up_ms {
                out.push(Breach {
                    key: format!("p95:{}", s.name),
                    severity: if s.p95_ms > 2.0 * r.p95_up_ms {
                        Severity::Critical
                    } else {
                        Severity::Warning
                    },
                    source: "prometheus",
                    message: format!("{} P95 {:.0} ms > {:.0} ms", s.name, s.p95_ms, r.p95_up_ms),
                });
            }
            if s.error_rate > r.error_rate_alert {
                out.push(Breach {
                    key: format!("errors:{}", s.name),
                    severity: if s.error_rate > 100.0 * r.error_rate_alert {
                        Severity::Critical
                    } else {
                        Severity::Warning
                    },
                    source: "prometheus",
                    message: format!(
                        "{} error rate {} > {}",
                        s.name,
                        percent(s.error_rate),
                        percent(r.error_rate_alert)
                    ),
                });
            }
        }
    }
    if let Some(c) = cache {
        if let Some(h) = c.hit_rate
            && h < r.hit_rate_alert
        {
            out.push(Breach {
                key: "cache:hit_rate".into(),
                severity: Severity::Critical,
                source: "redis",
                message: format!(
                    "cache hit rate {:.1}% < {:.0}%",
                    h * 100.0,
                    r.hit_rate_alert * 100.0
                ),
            });
        }
        if c.ping_ms > r.cache_latency_ms {
            out.push(Breach {
                key: "cache:ping".into(),
                severity: Severity::Warning,
                source: "redis",
                message: format!(
                    "cache latency {:.1} ms > {:.0} ms",
                    c.ping_ms, r.cache_latency_ms
                ),
            });
        }
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
