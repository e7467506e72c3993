//! Tenants: each namespace's `ResourceQuota` figures (used / hard for CPU, memory, pods,
//! GPUs and whatever else the quota limits), listed every [`EVERY`] — quotas change rarely,
//! and one LIST of them is a few kilobytes. A cluster or a role without quotas leaves the
//! Tenants section empty and says so once in the log; it is never a source error.

use super::connect::{KubeError, connect};
use super::convert::quantity;
use crate::config::KubernetesConfig;
use crate::model::{Payload, QuotaUse, SourceKind, SourceUpdate, TenantQuota};
use chrono::Utc;
use k8s_openapi::api::core::v1::ResourceQuota;
use kube::Client;
use kube::api::{Api, ListParams};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::mpsc;

pub const EVERY: Duration = Duration::from_secs(30);

/// One namespace's figures per quota object, merged: where several quotas limit the same
/// resource, the tightest (highest used / hard) is the one that binds.
pub fn tenants(quotas: &[ResourceQuota]) -> Vec<TenantQuota> {
    let mut by_ns: BTreeMap<String, BTreeMap<String, QuotaUse>> = BTreeMap::new();
    for q in quotas {
        let Some(ns) = q.metadata.namespace.clone() else {
            continue;
        };
        let Some(status) = &q.status else {
            continue;
        };
        let (Some(hard), used) = (&status.hard, status.used.clone().unwrap_or_default()) else {
            continue;
        };
        let entry = by_ns.entry(ns).or_default();
        for (resource, h) in hard {
            let Some(hard) = quantity(&h.0) else {
                continue;
            };
            let used = used
                .get(resource)
                .and_then(|u| quantity(&u.0))
                .unwrap_or(0.0);
            let this = QuotaUse { used, hard };
            match entry.get(resource) {
                Some(old) if old.share() >= this.share() => {}
                _ => {
                    entry.insert(resource.clone(), this);
                }
            }
        }
    }
    by_ns
        .into_iter()
        .map(|(namespace, resources)| TenantQuota {
            namespace,
            resources,
        })
        .collect()
}

async fn list(client: &Client, namespaces: &[String]) -> Result<Vec<TenantQuota>, kube::Error> {
    let mut all = Vec::new();
    let apis: Vec<Api<ResourceQuota>> = if namespaces.is_empty() {
        vec![Api::all(client.clone())]
    } else {
        namespaces
            .iter()
            .map(|ns| Api::namespaced(client.clone(), ns))
            .collect()
    };
    for api in apis {
        all.extend(api.list(&ListParams::default()).await?.items);
    }
    Ok(tenants(&all))
}

fn update(t: Vec<TenantQuota>) -> SourceUpdate {
    SourceUpdate {
        at: Utc::now(),
        source: SourceKind::Kubernetes,
        context: None,
        payload: Ok(Payload::Quotas(t)),
    }
}

/// Lists quotas every [`EVERY`] and sends them until the receiver is gone.
pub async fn run(cfg: KubernetesConfig, tx: mpsc::Sender<SourceUpdate>) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut client = None;
    let mut said = false;
    loop {
        tick.tick().await;
        if client.is_none() {
            match connect(&cfg).await {
                Ok((c, _)) => client = Some(c),
                Err(e) => {
                    say_once(&mut said, &e.to_string());
                    continue;
                }
            }
        }
        let Some(c) = &client else { continue };
        match list(c, &cfg.namespaces).await {
            Ok(t) => {
                said = false;
                if tx.send(update(t)).await.is_err() {
                    return;
                }
            }
            Err(e) => say_once(&mut said, &e.to_string()),
        }
    }
}

fn say_once(said: &mut bool, e: &str) {
    if !*said {
        tracing::warn!("tenant quotas: {e} (the Tenants section stays empty)");
        *said = true;
    }
}

/// One LIST for `snapshot`, within `limit`.
pub async fn snapshot(cfg: KubernetesConfig, limit: Duration) -> Option<SourceUpdate> {
    let go = async {
        let (client, _) = connect(&cfg).await.map_err(|e: KubeError| e.to_string())?;
        list(&client, &cfg.namespaces)
            .await
            .map_err(|e| e.to_string())
    };
    match tokio::time::timeout(limit, go).await {
        Ok(Ok(t)) => Some(update(t)),
        Ok(Err(e)) => {
            tracing::warn!("tenant quotas: {e}");
            None
        }
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(ns: &str, hard: &[(&str, &str)], used: &[(&str, &str)]) -> ResourceQuota {
        let map = |kv: &[(&str, &str)]| {
            kv.iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        k8s_openapi::apimachinery::pkg::api::resource::Quantity(v.to_string()),
                    )
                })
                .collect()
        };
        let mut q = ResourceQuota::default();
        q.metadata.namespace = Some(ns.into());
        q.status = Some(k8s_openapi::api::core::v1::ResourceQuotaStatus {
            hard: Some(map(hard)),
            used: Some(map(used)),
        });
        q
    }

    #[test]
    fn quantities_become_base_units_and_the_tightest_quota_binds() {
        let t = tenants(&[
            quota(
                "cs-prod",
                &[
                    ("requests.cpu", "40"),
                    ("requests.memory", "64Gi"),
                    ("pods", "50"),
                ],
                &[
                    ("requests.cpu", "33500m"),
                    ("requests.memory", "48Gi"),
                    ("pods", "31"),
                ],
            ),
            quota("cs-prod", &[("pods", "40")], &[("pods", "31")]),
            quota("batch", &[("requests.nvidia.com/gpu", "4")], &[]),
        ]);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].namespace, "batch");
        assert_eq!(
            t[0].resources["requests.nvidia.com/gpu"],
            QuotaUse {
                used: 0.0,
                hard: 4.0
            }
        );
        let prod = &t[1].resources;
        assert_eq!(
            prod["requests.cpu"],
            QuotaUse {
                used: 33.5,
                hard: 40.0
            }
        );
        assert_eq!(
            prod["requests.memory"].hard,
            64.0 * 1024.0 * 1024.0 * 1024.0
        );
        assert_eq!(
            prod["pods"],
            QuotaUse {
                used: 31.0,
                hard: 40.0
            }
        );
    }
}
