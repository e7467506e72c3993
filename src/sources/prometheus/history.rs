//! Traffic against its own history (seed 8.1, 8.2): each service's QPS at this time
//! yesterday and a week ago, and yesterday's curve over the coming hour, moved to today, so
//! the console can say what the next hour brings before it comes. Built on the configured
//! `qps` query (wrapped in a subquery, so any expression works with `offset`), read every
//! [`EVERY`]: history does not change faster. With it, each service's highest QPS over the
//! hibernate suggestion's idle window, so idleness Prometheus saw counts, not only what a
//! console saw since it started.

use super::api::{Client, Data, PromError};
use crate::config::PrometheusConfig;
use crate::model::{Payload, ServiceHistory, SourceKind, SourceUpdate, TrafficHistory};
use chrono::{DateTime, Duration as Span, TimeZone, Utc};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::mpsc;

pub const EVERY: Duration = Duration::from_secs(60);
/// One point a minute over the hour ahead.
const STEP_S: i64 = 60;

/// `expr`'s value `offset` ago (`1d`, `7d`), whatever `expr` is.
pub fn offset_query(expr: &str, offset: &str) -> String {
    format!("last_over_time(({expr})[5m:1m] offset {offset})")
}

/// `expr`'s highest value over the last `window_s`, for the services whose data covers nine
/// tenths of the window: a service that appeared since was not idle all along.
pub fn window_peak_query(expr: &str, window_s: u64) -> String {
    let points = (window_s / 60).max(1);
    let need = (points * 9 / 10).max(1);
    format!(
        "max_over_time(({expr})[{window_s}s:1m]) and (count_over_time(({expr})[{window_s}s:1m]) >= {need})"
    )
}

fn by_service(data: Data) -> BTreeMap<String, f64> {
    match data {
        Data::Vector(v) => v
            .into_iter()
            .filter_map(|s| Some((s.labels.get("service")?.clone(), s.value)))
            .filter(|(_, v)| v.is_finite())
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// Reads the four answers for `at`; `idle_window_s` is `[cost] idle_hibernate_after_s`.
pub async fn fetch(
    client: &Client,
    qps: &str,
    idle_window_s: u64,
    at: DateTime<Utc>,
) -> Result<TrafficHistory, PromError> {
    let day = client.query(&offset_query(qps, "1d"), at).await?.data;
    let week = client.query(&offset_query(qps, "7d"), at).await?.data;
    let peak = client
        .query(&window_peak_query(qps, idle_window_s), at)
        .await?
        .data;
    let peak = by_service(peak);
    let (start, end) = (at - Span::days(1), at - Span::days(1) + Span::hours(1));
    let curve = client.query_range(qps, start, end, STEP_S).await?.data;
    let (day, week) = (by_service(day), by_service(week));
    let mut next: BTreeMap<String, Vec<(DateTime<Utc>, f64)>> = BTreeMap::new();
    if let Data::Matrix(series) = curve {
        for s in series {
            let Some(name) = s.labels.get("service") else {
                continue;
            };
            let points = s
                .values
                .iter()
                .filter(|(_, v)| v.is_finite())
                .filter_map(|(t, v)| {
                    let when = Utc.timestamp_millis_opt((t * 1000.0) as i64).single()?;
                    Some((when + Span::days(1), *v))
                })
                .collect();
            next.insert(name.clone(), points);
        }
    }
    let mut names: Vec<&String> = day
        .keys()
        .chain(week.keys())
        .chain(next.keys())
        .chain(peak.keys())
        .collect();
    names.sort();
    names.dedup();
    Ok(TrafficHistory {
        services: names
            .into_iter()
            .map(|n| ServiceHistory {
                service: n.clone(),
                qps_1d_ago: day.get(n).copied(),
                qps_7d_ago: week.get(n).copied(),
                next_hour: next.get(n).cloned().unwrap_or_default(),
                window_peak_qps: peak.get(n).copied(),
            })
            .collect(),
    })
}

pub fn update(h: TrafficHistory) -> SourceUpdate {
    SourceUpdate {
        at: Utc::now(),
        source: SourceKind::Prometheus,
        context: None,
        payload: Ok(Payload::Traffic(Box::new(h))),
    }
}

/// Reads the history every [`EVERY`] until the receiver is gone.
pub async fn run(cfg: PrometheusConfig, idle_window_s: u64, tx: mpsc::Sender<SourceUpdate>) {
    let fetch = move |client: Client, cfg: PrometheusConfig| async move {
        fetch(&client, &cfg.queries.qps, idle_window_s, Utc::now()).await
    };
    super::poll::poll(cfg, EVERY, "traffic history", tx, fetch, update).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_expression_gets_its_offset_through_a_subquery() {
        assert_eq!(
            offset_query("sum by (service) (rate(http_requests_total[1m]))", "1d"),
            "last_over_time((sum by (service) (rate(http_requests_total[1m])))[5m:1m] offset 1d)"
        );
        assert_eq!(
            window_peak_query("q", 3600),
            "max_over_time((q)[3600s:1m]) and (count_over_time((q)[3600s:1m]) >= 54)"
        );
    }
}
