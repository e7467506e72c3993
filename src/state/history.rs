//! The charts' memory: a fixed window of each headline figure, and P95 per service.

use super::Series;
use crate::model::{HISTORY_POINTS, HISTORY_STEP_S};

#[derive(Debug, Clone, PartialEq)]
pub struct History {
    pub replicas: Series,
    pub hit_rate: Series,
    pub p95_ms: Series,
    pub error_rate: Series,
    pub qps: Series,
    pub cost_per_hour: Series,
    /// P95 per service, in the order Prometheus first reported them; at most
    /// [`CHARTED_SERVICES`], so a label explosion cannot grow memory without bound.
    pub p95_by_service: Vec<(String, Series)>,
}

/// How many services get a P95 history of their own.
pub const CHARTED_SERVICES: usize = 12;

impl History {
    pub(super) fn push_service_p95(&mut self, t: i64, name: &str, ms: f64) {
        let i = match self.p95_by_service.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None if self.p95_by_service.len() < CHARTED_SERVICES => {
                let s = Series::new(HISTORY_POINTS, HISTORY_STEP_S);
                self.p95_by_service.push((name.to_string(), s));
                self.p95_by_service.len() - 1
            }
            None => return,
        };
        self.p95_by_service[i].1.push(t, ms);
    }
}

impl Default for History {
    fn default() -> Self {
        let s = || Series::new(HISTORY_POINTS, HISTORY_STEP_S);
        History {
            replicas: s(),
            hit_rate: s(),
            p95_ms: s(),
            error_rate: s(),
            qps: s(),
            cost_per_hour: s(),
            p95_by_service: Vec::new(),
        }
    }
}
