//! The demo's traffic history: yesterday's curve is today's (the daily curve without
//! today's noise and bursts), last week's 8 % lower (the platform grows), so the Latency
//! view's comparison and the before-the-peak suggestion have something to say.

use super::model::{PEAK_QPS, Sim, daily_at};
use crate::model::{ServiceHistory, TrafficHistory};
use chrono::{TimeZone, Utc};

/// Last week's traffic against yesterday's.
const WEEK_AGO: f64 = 0.92;

impl Sim {
    pub fn traffic(&self) -> TrafficHistory {
        let now = self.t;
        let services = self
            .deployments
            .iter()
            .filter(|d| d.spec.replicas > 0 && self.qps > 0.0)
            .map(|d| {
                // This service's share of the platform's traffic, as it is now.
                let share = d.load / self.qps;
                let at = |t: i64| PEAK_QPS * daily_at(t) * share;
                let round = |v: f64| (v * 10.0).round() / 10.0;
                ServiceHistory {
                    service: d.spec.name.clone(),
                    qps_1d_ago: Some(round(at(now - 86_400))),
                    qps_7d_ago: Some(round(at(now - 7 * 86_400) * WEEK_AGO)),
                    next_hour: (0..=60)
                        .filter_map(|m| {
                            let t = now + m * 60;
                            Some((Utc.timestamp_opt(t, 0).single()?, round(at(t - 86_400))))
                        })
                        .collect(),
                    // Every demo service has traffic all day: none is idle.
                    window_peak_qps: None,
                }
            })
            .collect();
        TrafficHistory { services }
    }
}
