//! The demo's deployments as the seed describes them: each with the seed's HPA, and the
//! embedding pods' VPA.

use crate::sources::{Deployment, Hpa, Vpa, VpaContainer, VpaResources};

pub(super) fn deployment(
    name: &str,
    pool: &str,
    cpu: f64,
    mem: f64,
    gpus: u32,
    replicas: u32,
) -> Deployment {
    Deployment {
        context: "demo".into(),
        namespace: "cs-prod".into(),
        name: name.into(),
        replicas,
        ready: replicas,
        available: replicas,
        updated: replicas,
        hpa: Some(Hpa {
            name: format!("{name}-hpa"),
            min: 2,
            max: 20,
            current: replicas,
            desired: replicas,
            metrics: Vec::new(),
            ..Default::default()
        }),
        cpu_request_cores: cpu,
        memory_request_gib: mem,
        gpus,
        pool: pool.into(),
        ..Default::default()
    }
}

/// A VPA like the seed's (updateMode Auto, min and max allowed per container), with bounds
/// around the embedding pods' own requests of 4 cores and 16 GiB.
pub(super) fn embedding_vpa() -> Vpa {
    const GI: f64 = 1024.0 * 1024.0 * 1024.0;
    let r = |cpu: f64, gib: f64| VpaResources {
        cpu_cores: Some(cpu),
        memory_bytes: Some(gib * GI),
    };
    Vpa {
        name: "embedding-vpa".into(),
        update_mode: "Auto".into(),
        containers: vec![VpaContainer {
            name: "embedding".into(),
            target: r(3.5, 14.0),
            lower_bound: r(2.5, 12.0),
            upper_bound: r(6.0, 20.0),
            min_allowed: r(1.0, 4.0),
            max_allowed: r(8.0, 32.0),
        }],
    }
}
