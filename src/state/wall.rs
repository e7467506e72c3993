//! The wall's view of the figures: which headline figures are critical, and the cycle's
//! period. Pure reads of the state; the wall's drawing formats what this finds.

use super::{State, View};
use crate::config::WALL_CYCLE_S;
use crate::domain::cost::HOURS_PER_MONTH;
use crate::domain::grade::{self, Grade};

/// A headline figure past its critical line, and the view that shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Critical {
    pub figure: Figure,
    pub view: View,
}

/// The figure with what the banner needs to name it: its value and the line it crossed.
#[derive(Debug, Clone, PartialEq)]
pub enum Figure {
    /// Hit rate (0..1) under the alert line (0..1).
    HitRate { rate: f64, alert: f64 },
    /// The worst service's P95 over twice `p95_up_ms`.
    P95 {
        service: String,
        ms: f64,
        limit_ms: f64,
    },
    /// All traffic's error ratio over 100 times the alert line.
    ErrorRate { ratio: f64, limit: f64 },
    /// The month's projection at today's $/h over the budget.
    Spend { month: f64, budget: f64 },
}

impl State {
    /// Seconds between views: `[ui] cycle_s`, or the wall's default when it is 0.
    pub fn cycle_period(&self) -> u64 {
        match (self.config.ui.cycle_s, self.wall) {
            (0, true) => WALL_CYCLE_S,
            (s, _) => s,
        }
    }

    /// The headline figures graded critical now, in the order of the views that show them.
    pub fn critical_figures(&self) -> Vec<Critical> {
        let r = &self.config.rules;
        let mut out = Vec::new();
        if let Some(c) = &self.cache.value
            && grade::of_hit_rate(c.hit_rate, r) == Grade::Critical
        {
            out.push(Critical {
                figure: Figure::HitRate {
                    rate: c.hit_rate.unwrap_or(f64::NAN),
                    alert: r.hit_rate_alert,
                },
                view: View::Cache,
            });
        }
        let services = self.metrics.value.as_ref().map(|m| m.services.as_slice());
        let services = services.unwrap_or_default();
        if let Some(worst) = services
            .iter()
            .filter(|s| s.p95_ms.is_finite())
            .max_by(|a, b| a.p95_ms.total_cmp(&b.p95_ms))
            && grade::of_p95(worst.p95_ms, r) == Grade::Critical
        {
            out.push(Critical {
                figure: Figure::P95 {
                    service: worst.name.clone(),
                    ms: worst.p95_ms,
                    limit_ms: 2.0 * r.p95_up_ms,
                },
                view: View::Latency,
            });
        }
        if let Some(ratio) = grade::error_rate(services)
            && grade::of_error_rate(ratio, r) == Grade::Critical
        {
            out.push(Critical {
                figure: Figure::ErrorRate {
                    ratio,
                    limit: 100.0 * r.error_rate_alert,
                },
                view: View::Latency,
            });
        }
        if let (Some(c), Some(budget)) = (&self.cost, self.config.cost.monthly_budget) {
            let month = c.per_hour.total * HOURS_PER_MONTH;
            if grade::of_spend(month, budget) == Grade::Critical {
                out.push(Critical {
                    figure: Figure::Spend { month, budget },
                    view: View::Cost,
                });
            }
        }
        out
    }
}
