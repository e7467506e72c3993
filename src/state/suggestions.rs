//! The savings suggestions over what the state holds: each source's latest figures while it
//! answers (a source in error gives nothing, so its kinds say what they miss).

use super::{State, Status};
use crate::domain::suggestions::{self, Inputs, Suggestions};
use crate::model::SourceKind;

impl State {
    /// A source's last value counts while it is answering or merely late.
    fn usable(&self, kind: SourceKind) -> bool {
        matches!(self.status(kind), Status::Ok | Status::Stale)
    }

    pub fn suggestions(&self) -> Suggestions {
        let metrics = self
            .metrics
            .value
            .as_ref()
            .filter(|_| self.usable(SourceKind::Prometheus));
        let deployments = self
            .cluster
            .value
            .as_ref()
            .filter(|_| self.usable(SourceKind::Kubernetes))
            .map(|c| c.deployments.as_slice());
        let redis = self
            .cache
            .value
            .as_ref()
            .filter(|_| self.usable(SourceKind::Redis))
            .and_then(|c| c.hit_rate)
            .map(|h| (h, "Redis"));
        let app = metrics
            .and_then(|m| m.app_cache_hit_rate)
            .filter(|h| h.is_finite())
            .map(|h| (h, "Prometheus app_cache_hit_rate"));
        let models = metrics.map(|m| m.models.as_slice());
        // The AI model $/h only counts with token rates to rest on.
        let ai = self
            .cost
            .as_ref()
            .filter(|_| models.is_some_and(|m| !m.is_empty()))
            .map(|c| c.per_hour.ai_model);
        let inputs = &self.cost_inputs;
        suggestions::all(&Inputs {
            now: self.now,
            deployments,
            services: metrics.map(|m| m.services.as_slice()),
            models,
            cached_input: &inputs.cached_input_per_sec,
            node_prices: &inputs.node_prices,
            hit_rate: redis.or(app),
            ai_model_per_hour: ai,
            cpu_usage_p95: inputs.cpu_usage_p95.as_ref(),
            memory_usage_p95: inputs.memory_usage_p95.as_ref(),
            idle_since: &self.idle_since,
            cost: &self.config.cost,
            rules: &self.config.rules,
            actions: &self.config.actions,
        })
    }
}
