//! Before the peak (seed 8.1, 8.2): what yesterday's curve says the next hour brings, and
//! whether the HPA's floor is high enough to meet it without waiting for the HPA to react
//! (pods take their time to start, and the first minutes of a peak are the slow ones).
//!
//! Capacity per replica is measured, not assumed: current QPS / ready replicas at the CPU
//! they run at now, scaled to the HPA's CPU target. The replicas a point of the curve needs
//! are its QPS over that capacity, rounded up.

use crate::model::{Deployment, ServiceHistory};
use chrono::{DateTime, Utc};

/// The highest point of the coming hour.
pub fn peak(next_hour: &[(DateTime<Utc>, f64)]) -> Option<(DateTime<Utc>, f64)> {
    next_hour
        .iter()
        .copied()
        .filter(|(_, v)| v.is_finite())
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// Raise the HPA's `minReplicas` to `min_needed` before `before`.
#[derive(Debug, Clone, PartialEq)]
pub struct Prescale {
    pub namespace: String,
    pub deployment: String,
    pub min_now: u32,
    pub min_needed: u32,
    pub peak_qps: f64,
    pub peak_at: DateTime<Utc>,
    /// The first minute of the curve that needs more than `min_now` replicas.
    pub before: DateTime<Utc>,
    /// Requests per second one replica serves at the HPA's CPU target.
    pub per_replica_qps: f64,
    pub cpu_target_pct: f64,
}

/// What now tells: `qps` served by the deployment's ready pods at `cpu_pct` of their requests.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub qps: f64,
    pub cpu_pct: f64,
}

/// A suggestion when the coming hour needs more replicas than the HPA's floor gives; None
/// without an HPA with a CPU target, without a usable reading now, or when the floor holds.
pub fn prescale(d: &Deployment, now: Now, history: &ServiceHistory) -> Option<Prescale> {
    let hpa = d.hpa.as_ref()?;
    let target = hpa
        .metrics
        .iter()
        .find(|m| m.name == "cpu" && m.unit == "%")?
        .target;
    let usable = |v: f64| v.is_finite() && v > 0.0;
    if !(usable(now.qps) && usable(now.cpu_pct) && usable(target) && d.ready > 0) {
        return None;
    }
    let per_replica = now.qps / d.ready as f64 * (target / now.cpu_pct);
    let needs = |qps: f64| (qps / per_replica).ceil().max(1.0) as u32;
    let (peak_at, peak_qps) = peak(&history.next_hour)?;
    let min_needed = needs(peak_qps).min(hpa.max);
    if min_needed <= hpa.min {
        return None;
    }
    let before = history
        .next_hour
        .iter()
        .find(|(_, v)| needs(*v) > hpa.min)
        .map(|(t, _)| *t)?;
    Some(Prescale {
        namespace: d.namespace.clone(),
        deployment: d.name.clone(),
        min_now: hpa.min,
        min_needed,
        peak_qps,
        peak_at,
        before,
        per_replica_qps: per_replica,
        cpu_target_pct: target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Hpa, HpaMetric};
    use chrono::TimeZone;

    fn dep(ready: u32, min: u32, max: u32) -> Deployment {
        Deployment {
            namespace: "cs-prod".into(),
            name: "chat-api".into(),
            replicas: ready,
            ready,
            hpa: Some(Hpa {
                min,
                max,
                metrics: vec![HpaMetric {
                    name: "cpu".into(),
                    current: None,
                    target: 70.0,
                    unit: "%".into(),
                }],
                ..Hpa::default()
            }),
            ..Deployment::default()
        }
    }

    fn curve(points: &[f64]) -> ServiceHistory {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 30, 14, 0, 0).unwrap();
        ServiceHistory {
            service: "chat-api".into(),
            next_hour: points
                .iter()
                .enumerate()
                .map(|(i, v)| (t0 + chrono::Duration::minutes(10 * i as i64), *v))
                .collect(),
            ..ServiceHistory::default()
        }
    }

    #[test]
    fn the_floor_is_raised_before_the_first_minute_that_needs_it() {
        // 4 pods serve 200 req/s at 35 % CPU: 50 req/s each, 100 at the 70 % target.
        let now = Now {
            qps: 200.0,
            cpu_pct: 35.0,
        };
        let h = curve(&[250.0, 380.0, 610.0, 540.0]);
        let p = prescale(&dep(4, 3, 20), now, &h).unwrap();
        assert_eq!((p.min_now, p.min_needed), (3, 7));
        assert!((p.per_replica_qps - 100.0).abs() < 1e-9);
        assert_eq!(p.peak_qps, 610.0);
        assert_eq!(p.peak_at, h.next_hour[2].0);
        // 380 req/s needs 4 > 3 replicas: the floor must be up by 14:10.
        assert_eq!(p.before, h.next_hour[1].0);
    }

    #[test]
    fn no_suggestion_when_the_floor_holds_or_an_input_is_missing() {
        let now = Now {
            qps: 200.0,
            cpu_pct: 35.0,
        };
        assert!(prescale(&dep(4, 7, 20), now, &curve(&[610.0])).is_none());
        assert!(prescale(&dep(4, 3, 20), now, &curve(&[])).is_none());
        assert!(prescale(&dep(0, 3, 20), now, &curve(&[610.0])).is_none());
        let idle = Now {
            qps: 0.0,
            cpu_pct: 35.0,
        };
        assert!(prescale(&dep(4, 3, 20), idle, &curve(&[610.0])).is_none());
        let mut no_hpa = dep(4, 3, 20);
        no_hpa.hpa = None;
        assert!(prescale(&no_hpa, now, &curve(&[610.0])).is_none());
        // Never beyond the HPA's max.
        let p = prescale(&dep(4, 3, 5), now, &curve(&[900.0])).unwrap();
        assert_eq!(p.min_needed, 5);
    }
}
