//! Today's spend so far, from Prometheus range data: the report's window from local
//! midnight to now, every few minutes. The Cost view falls back to the console's own
//! accrual (labelled "since HH:MM") when this has nothing.

use super::api::Client;
use super::period as fetch;
use crate::config::{CostConfig, PrometheusConfig};
use crate::sources::{Payload, SourceKind, SourceUpdate, SpendToday};
use chrono::{DateTime, Local, Utc};
use std::time::Duration;
use tokio::sync::mpsc;

/// A day's counters move slowly; five minutes keeps the range queries cheap.
const EVERY: Duration = Duration::from_secs(300);

/// Local midnight before `now`, in UTC.
pub fn midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    let local = now.with_timezone(&Local);
    local
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|m| m.and_local_timezone(Local).earliest())
        .map_or(now - chrono::Duration::hours(24), |m| m.with_timezone(&Utc))
}

/// One computation of today's spend; None when Prometheus could not be reached (the
/// panels already say so) or nothing could be computed.
pub async fn spend_today(
    client: &Client,
    cost: &CostConfig,
    now: DateTime<Utc>,
) -> Option<SpendToday> {
    let since = midnight(now);
    let seconds = (now - since).num_seconds();
    if seconds < 60 {
        return None;
    }
    let w = fetch::window(client, cost, now, seconds).await;
    if w.unreachable.is_some() {
        return None;
    }
    let parts = [
        w.totals.compute,
        w.totals.storage,
        w.totals.network,
        w.totals.ai_model,
    ];
    if parts.iter().all(Option::is_none) {
        return None;
    }
    Some(SpendToday {
        since,
        total: w.totals.total,
        missing: w
            .gaps
            .iter()
            .map(|g| format!("{}: {}", g.part, g.reason))
            .collect(),
    })
}

pub async fn run(cfg: PrometheusConfig, cost: CostConfig, tx: mpsc::Sender<SourceUpdate>) {
    let Ok(client) = Client::new(&cfg) else {
        return;
    };
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tick.tick().await;
        let now = Utc::now();
        if let Some(today) = spend_today(&client, &cost, now).await {
            let update = SourceUpdate {
                context: None,
                at: now,
                source: SourceKind::Prometheus,
                payload: Ok(Payload::SpendToday(Box::new(today))),
            };
            if tx.send(update).await.is_err() {
                return;
            }
        }
    }
}
