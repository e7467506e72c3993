//! Prices: what one pod and one model's tokens cost, and which price was used.
//!
//! A pod's price per resource comes from, in order: OpenCost's node prices for the pool's
//! instance type, the pool's table in `[cost.pools]`, the global `[cost]` prices. A price
//! that is nowhere is a [`MissingPrice`], never a zero.

use crate::config::{CostConfig, ModelPrice, NodeClass};
use crate::model::{Deployment, NodePrice};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// Where a pod's price came from, shown next to it so a surprising figure can be traced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PriceSource {
    /// The global `[cost]` prices, times the class multiplier.
    List,
    /// The pool's own table in `[cost.pools]`.
    Pool,
    /// OpenCost's `node_*_hourly_cost` in Prometheus.
    OpenCost,
}

impl PriceSource {
    pub fn label(self) -> &'static str {
        match self {
            PriceSource::List => "list",
            PriceSource::Pool => "pool",
            PriceSource::OpenCost => "opencost",
        }
    }
}

/// A part of the cost that could not be priced, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum MissingPrice {
    Model(String),
    Gpu { pool: String },
    Storage(String),
    Network(String),
}

impl fmt::Display for MissingPrice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MissingPrice::Model(m) => write!(
                f,
                "no price for model {m}: add [cost.models.\"{m}\"] input_per_1k and output_per_1k"
            ),
            MissingPrice::Gpu { pool } => write!(
                f,
                "no GPU price for pool {pool}: set [cost.pools.\"{pool}\"] gpu_hour"
            ),
            MissingPrice::Storage(why) => {
                write!(f, "no storage cost: {why} — check [cost].storage_query")
            }
            MissingPrice::Network(why) => {
                write!(f, "no network cost: {why} — check [cost].network_query")
            }
        }
    }
}

impl Serialize for MissingPrice {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PodPrice {
    pub per_hour: f64,
    pub source: PriceSource,
}

/// The pool's class: its `[cost.pools]` entry says, else the name ("spot", "reserved").
pub fn pool_class(pool: &str, c: &CostConfig) -> NodeClass {
    if let Some(class) = c.pools.get(pool).and_then(|p| p.class) {
        return class;
    }
    if pool.contains("spot") {
        NodeClass::Spot
    } else if pool.contains("reserved") {
        NodeClass::Reserved
    } else {
        NodeClass::OnDemand
    }
}

pub fn class_multiplier(class: NodeClass, c: &CostConfig) -> f64 {
    match class {
        NodeClass::OnDemand => 1.0,
        NodeClass::Spot => c.spot_multiplier,
        NodeClass::Reserved => c.reserved_multiplier,
    }
}

/// The multiplier of the global prices for a pool.
pub fn pool_multiplier(pool: &str, c: &CostConfig) -> f64 {
    class_multiplier(pool_class(pool, c), c)
}

/// $/h of one pod of this deployment, with where the price came from.
pub fn pod_price(
    d: &Deployment,
    c: &CostConfig,
    nodes: &BTreeMap<String, NodePrice>,
) -> Result<PodPrice, MissingPrice> {
    let pool = c.pools.get(&d.pool);
    let instance = pool
        .and_then(|p| p.instance_type.as_deref())
        .unwrap_or(&d.pool);
    let node = nodes.get(instance).copied().unwrap_or_default();
    let class = pool_multiplier(&d.pool, c);
    let mut source = if pool.is_some() {
        PriceSource::Pool
    } else {
        PriceSource::List
    };
    // OpenCost prices what the node really costs (spot included), so no class multiplier
    // applies to them; config prices are on-demand list prices and get the multiplier.
    let mut price = |opencost: Option<f64>, configured: Option<f64>| -> Option<f64> {
        match opencost.filter(|v| v.is_finite()) {
            Some(v) => {
                source = PriceSource::OpenCost;
                Some(v)
            }
            None => configured.map(|v| v * class),
        }
    };
    let cpu = price(
        node.vcpu_hour,
        Some(pool.and_then(|p| p.vcpu_hour).unwrap_or(c.vcpu_hour)),
    );
    let mem = price(
        node.gib_hour,
        Some(pool.and_then(|p| p.gib_hour).unwrap_or(c.gib_hour)),
    );
    let gpu = if d.gpus == 0 {
        Some(0.0)
    } else {
        let configured = match pool {
            Some(p) => p.gpu_hour,
            None => Some(c.gpu_hour),
        };
        price(node.gpu_hour, configured)
    };
    let gpu = gpu.ok_or_else(|| MissingPrice::Gpu {
        pool: d.pool.clone(),
    })?;
    Ok(PodPrice {
        per_hour: d.cpu_request_cores * cpu.unwrap_or(0.0)
            + d.memory_request_gib * mem.unwrap_or(0.0)
            + d.gpus as f64 * gpu,
        source,
    })
}

/// The $/h change of moving a deployment from `from` to `to` replicas.
pub fn replica_change_per_hour(
    d: &Deployment,
    from: u32,
    to: u32,
    c: &CostConfig,
    nodes: &BTreeMap<String, NodePrice>,
) -> Result<f64, MissingPrice> {
    Ok((to as f64 - from as f64) * pod_price(d, c, nodes)?.per_hour)
}

/// What these tokens cost at this price. Cached input without a cached price is charged as
/// input: that is what a provider without a cache discount bills.
pub fn tokens_cost(p: &ModelPrice, input: f64, output: f64, cached_input: f64) -> f64 {
    let cached = p.cached_input_per_1k.unwrap_or(p.input_per_1k);
    (input * p.input_per_1k + output * p.output_per_1k + cached_input * cached) / 1000.0
}

/// $/h of one model at these token rates (per second), or the missing price.
pub fn model_per_hour(
    model: &str,
    input_per_sec: f64,
    output_per_sec: f64,
    cached_per_sec: f64,
    c: &CostConfig,
) -> Result<f64, MissingPrice> {
    let p = c
        .models
        .get(model)
        .ok_or_else(|| MissingPrice::Model(model.to_string()))?;
    Ok(tokens_cost(p, input_per_sec, output_per_sec, cached_per_sec) * 3600.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PoolPrice;

    fn dep(pool: &str, cpu: f64, mem: f64, gpus: u32) -> Deployment {
        Deployment {
            name: "d".into(),
            pool: pool.into(),
            cpu_request_cores: cpu,
            memory_request_gib: mem,
            gpus,
            replicas: 1,
            ..Default::default()
        }
    }

    fn per_hour(d: &Deployment, c: &CostConfig, n: &BTreeMap<String, NodePrice>) -> f64 {
        pod_price(d, c, n).unwrap().per_hour
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn spot_and_gpu_pods_at_list_prices() {
        let c = CostConfig::default();
        let none = BTreeMap::new();
        // 2 vCPU × 0.04 + 4 GiB × 0.005 = 0.10 on demand; spot × 0.30 = 0.03.
        assert!(close(
            per_hour(&dep("cpu-ondemand", 2.0, 4.0, 0), &c, &none),
            0.10
        ));
        assert!(close(
            per_hour(&dep("cpu-spot", 2.0, 4.0, 0), &c, &none),
            0.03
        ));
        // Reserved × 0.60: 0.06.
        assert!(close(
            per_hour(&dep("reserved-a", 2.0, 4.0, 0), &c, &none),
            0.06
        ));
        // 1 GPU 2.50 + 4 vCPU 0.16 + 16 GiB 0.08 = 2.74.
        let gpu = pod_price(&dep("gpu-ondemand", 4.0, 16.0, 1), &c, &none).unwrap();
        assert!(close(gpu.per_hour, 2.74));
        assert_eq!(gpu.source, PriceSource::List);
        // A spot GPU pod: 2.74 × 0.30 = 0.822.
        assert!(close(
            per_hour(&dep("gpu-spot", 4.0, 16.0, 1), &c, &none),
            0.822
        ));
    }

    #[test]
    fn pool_prices_override_list_prices_and_the_name() {
        let mut c = CostConfig::default();
        c.pools.insert(
            "gpu-a100".into(),
            PoolPrice {
                vcpu_hour: Some(0.05),
                gpu_hour: Some(4.0),
                class: Some(NodeClass::Spot),
                ..Default::default()
            },
        );
        // A pool named "spot" but declared on-demand is on-demand.
        c.pools.insert(
            "spot-but-not".into(),
            PoolPrice {
                class: Some(NodeClass::OnDemand),
                ..Default::default()
            },
        );
        let none = BTreeMap::new();
        // (8 × 0.05 + 32 × 0.005 (global) + 2 × 4.0) × 0.30 = (0.4 + 0.16 + 8) × 0.3 = 2.568.
        let p = pod_price(&dep("gpu-a100", 8.0, 32.0, 2), &c, &none).unwrap();
        assert!(close(p.per_hour, 2.568), "{}", p.per_hour);
        assert_eq!(p.source, PriceSource::Pool);
        assert!(close(
            per_hour(&dep("spot-but-not", 2.0, 4.0, 0), &c, &none),
            0.10
        ));
    }

    #[test]
    fn a_described_pool_without_a_gpu_price_is_missing_not_zero() {
        let mut c = CostConfig::default();
        c.pools.insert("gpu-h100".into(), PoolPrice::default());
        let none = BTreeMap::new();
        let e = pod_price(&dep("gpu-h100", 4.0, 16.0, 1), &c, &none).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no GPU price for pool gpu-h100: set [cost.pools.\"gpu-h100\"] gpu_hour"
        );
        // Its CPU-only pods still have a price.
        assert!(close(
            per_hour(&dep("gpu-h100", 2.0, 4.0, 0), &c, &none),
            0.10
        ));
        assert_eq!(
            replica_change_per_hour(&dep("gpu-h100", 4.0, 16.0, 1), 1, 3, &c, &none),
            Err(e)
        );
    }

    #[test]
    fn opencost_prices_win_without_a_class_multiplier() {
        let mut c = CostConfig::default();
        c.pools.insert(
            "gpu-spot".into(),
            PoolPrice {
                gpu_hour: Some(3.0),
                instance_type: Some("g5.xlarge".into()),
                ..Default::default()
            },
        );
        let mut nodes = BTreeMap::new();
        nodes.insert(
            "g5.xlarge".to_string(),
            NodePrice {
                vcpu_hour: Some(0.03),
                gib_hour: Some(0.004),
                gpu_hour: None,
            },
        );
        // CPU and memory from OpenCost as they are: 4 × 0.03 + 16 × 0.004 = 0.184; the GPU
        // from the pool table at the spot multiplier: 3.0 × 0.3 = 0.9. Total 1.084.
        let p = pod_price(&dep("gpu-spot", 4.0, 16.0, 1), &c, &nodes).unwrap();
        assert!(close(p.per_hour, 1.084), "{}", p.per_hour);
        assert_eq!(p.source, PriceSource::OpenCost);
        // A pool whose name is the instance type needs no table.
        nodes.insert(
            "m5.large".to_string(),
            NodePrice {
                vcpu_hour: Some(0.048),
                gib_hour: Some(0.006),
                gpu_hour: None,
            },
        );
        assert!(close(
            per_hour(&dep("m5.large", 2.0, 8.0, 0), &c, &nodes),
            0.144
        ));
    }

    #[test]
    fn models_with_cached_input() {
        let mut c = CostConfig::default();
        // gpt-4 at 100 in/s, 50 out/s, 40 cached/s with cached 0.015:
        // (100 × 0.03 + 50 × 0.06 + 40 × 0.015) / 1000 × 3600 = 6.6 × 3.6 = 23.76 $/h.
        c.models.get_mut("gpt-4").unwrap().cached_input_per_1k = Some(0.015);
        assert!(close(
            model_per_hour("gpt-4", 100.0, 50.0, 40.0, &c).unwrap(),
            23.76
        ));
        // gpt-3.5-turbo has no cached price: cached tokens are billed as input.
        // (1000 × 0.0015 + 400 × 0.002 + 100 × 0.0015) / 1000 × 3600 = 2.45 × 3.6 = 8.82.
        let v = model_per_hour("gpt-3.5-turbo", 1000.0, 400.0, 100.0, &c).unwrap();
        assert!((v - 8.82).abs() < 1e-9, "{v}");
        assert_eq!(
            model_per_hour("claude-x", 1.0, 1.0, 0.0, &c)
                .unwrap_err()
                .to_string(),
            "no price for model claude-x: add [cost.models.\"claude-x\"] input_per_1k and output_per_1k"
        );
    }
}
