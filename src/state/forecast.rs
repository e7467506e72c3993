//! Before the peak: the pre-scale suggestions from what the state holds now (deployments,
//! their CPU and QPS from Prometheus, yesterday's curve).

use super::{State, Status};
use crate::domain::forecast::{self, Now, Prescale};
use crate::model::{ServiceHistory, SourceKind};

impl State {
    /// Yesterday's and last week's figures for a service, when Prometheus has them.
    pub fn service_history(&self, service: &str) -> Option<&ServiceHistory> {
        self.traffic
            .as_ref()?
            .services
            .iter()
            .find(|s| s.service == service)
    }

    /// Every HPA whose floor is below what the coming hour needs, soonest first.
    pub fn prescales(&self) -> Vec<Prescale> {
        if self.status(SourceKind::Prometheus) != Status::Ok {
            return Vec::new();
        }
        let Some(m) = self.metrics.value.as_ref() else {
            return Vec::new();
        };
        let mut out: Vec<Prescale> = self
            .cluster
            .value
            .iter()
            .flat_map(|c| c.deployments.iter())
            .filter_map(|d| {
                let qps = m.services.iter().find(|s| s.is_for(d))?.qps;
                let cpu_pct = m.utilization.iter().find(|u| u.is_for(d))?.cpu_pct;
                let history = self.service_history(&d.name)?;
                forecast::prescale(d, Now { qps, cpu_pct }, history)
            })
            .collect();
        out.sort_by_key(|p| p.before);
        out
    }
}
