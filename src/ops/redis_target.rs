//! The Redis connections an action needs: where writes go (slot-routed for a cluster) and
//! every master to SCAN, since a cluster's keyspace is split across its masters.

use crate::config::RedisConfig;
use crate::sources::redis::Sampler;
use crate::sources::redis::conn::{self, ConnectError, Endpoint};
use redis::aio::MultiplexedConnection;
use redis::cluster_async::ClusterConnection;
use std::time::Duration;

/// Actions are not refresh-bound; a command may take this long before the action fails.
pub const ACTION_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub enum Writer {
    Single(MultiplexedConnection),
    Cluster(ClusterConnection),
}

pub struct Master {
    pub addr: String,
    pub conn: MultiplexedConnection,
    pub ep: Endpoint,
}

pub struct RedisTarget {
    pub cluster: bool,
    /// Shown in audit lines and errors: the server, or the cluster's first seed.
    pub name: String,
}

impl RedisTarget {
    pub async fn probe(cfg: &RedisConfig) -> Result<(RedisTarget, Vec<Endpoint>), ConnectError> {
        let seeds = Endpoint::from_config(cfg)?;
        let cluster = conn::detect_cluster(cfg, &seeds[0], ACTION_TIMEOUT).await?;
        let name = if cluster {
            format!("cluster {}", seeds[0].addr)
        } else {
            seeds[0].addr.clone()
        };
        Ok((RedisTarget { cluster, name }, seeds))
    }
}

pub async fn writer(
    cfg: &RedisConfig,
    target: &RedisTarget,
    seeds: &[Endpoint],
) -> Result<Writer, ConnectError> {
    if target.cluster {
        let mut cfg = cfg.clone();
        cfg.cluster = true;
        Ok(Writer::Cluster(
            conn::cluster_connection(seeds, &cfg, ACTION_TIMEOUT).await?,
        ))
    } else {
        Ok(Writer::Single(seeds[0].connect(ACTION_TIMEOUT).await?))
    }
}

pub async fn masters(cfg: &RedisConfig, target: &RedisTarget) -> Result<Vec<Master>, ConnectError> {
    let mut cfg = cfg.clone();
    cfg.cluster = target.cluster;
    let eps = Sampler::new(cfg, ACTION_TIMEOUT)?.masters().await?;
    let mut out = Vec::with_capacity(eps.len());
    for ep in eps {
        out.push(Master {
            addr: ep.addr.clone(),
            conn: ep.connect(ACTION_TIMEOUT).await?,
            ep,
        });
    }
    Ok(out)
}
