//! The loop the slower Prometheus readers share (alerts, traffic history): ask every
//! `every`, send each answer, and log a failure once per outage — the panels already show
//! when Prometheus is down, so these readers never report an error of their own.

use super::api::{Client, PromError};
use crate::config::PrometheusConfig;
use crate::model::SourceUpdate;
use std::future::Future;
use std::time::Duration;
use tokio::sync::mpsc;

/// Runs until the receiver is gone; `what` names the reader in the log.
pub async fn poll<T, F, Fut>(
    cfg: PrometheusConfig,
    every: Duration,
    what: &'static str,
    tx: mpsc::Sender<SourceUpdate>,
    fetch: F,
    update: fn(T) -> SourceUpdate,
) where
    F: Fn(Client, PrometheusConfig) -> Fut,
    Fut: Future<Output = Result<T, PromError>>,
{
    let Ok(client) = Client::new(&cfg) else {
        return;
    };
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tick.tick().await;
        match fetch(client.clone(), cfg.clone()).await {
            Ok(answer) => {
                failing = false;
                if tx.send(update(answer)).await.is_err() {
                    return;
                }
            }
            Err(e) if !failing => {
                failing = true;
                tracing::warn!("{what}: {e}");
            }
            Err(_) => {}
        }
    }
}
