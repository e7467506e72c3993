//! The demo's tenant quota: the platform's namespace under a ResourceQuota whose figures
//! follow the simulated replicas, so the Tenants section moves with the traffic; and its
//! AI tokens, as token queries grouped by namespace report them.

use super::model::Sim;
use crate::model::{ModelTokens, NamespaceTokens, QuotaUse, TenantQuota};
use std::collections::BTreeMap;

/// Hard limits of the demo's `cs-prod` quota: CPU cores, memory GiB, pods, GPUs.
const HARD: (f64, f64, f64, f64) = (30.0, 160.0, 40.0, 4.0);

/// Every model's tokens are the platform's own: they all come from `cs-prod`.
pub fn tokens_by_namespace(models: &[ModelTokens]) -> Vec<NamespaceTokens> {
    models
        .iter()
        .map(|m| NamespaceTokens {
            namespace: "cs-prod".into(),
            model: m.model.clone(),
            input_per_sec: m.input_per_sec,
            output_per_sec: m.output_per_sec,
        })
        .collect()
}

impl Sim {
    pub fn quotas(&self) -> Vec<TenantQuota> {
        let (mut cpu, mut mem, mut pods, mut gpus) = (0.0, 0.0, 0.0, 0.0);
        for d in &self.deployments {
            let n = d.spec.replicas as f64;
            cpu += n * d.spec.cpu_request_cores;
            mem += n * d.spec.memory_request_gib;
            pods += n;
            gpus += n * d.spec.gpus as f64;
        }
        let gib = 1024.0 * 1024.0 * 1024.0;
        let resources: BTreeMap<String, QuotaUse> = [
            ("requests.cpu", cpu, HARD.0),
            ("requests.memory", mem * gib, HARD.1 * gib),
            ("pods", pods, HARD.2),
            ("requests.nvidia.com/gpu", gpus, HARD.3),
        ]
        .into_iter()
        .map(|(k, used, hard)| (k.to_string(), QuotaUse { used, hard }))
        .collect();
        vec![TenantQuota {
            namespace: "cs-prod".into(),
            resources,
        }]
    }
}
