//! Traffic against its own history (seed 8.1, 8.2): each service's QPS at this time
//! yesterday and a week ago, and yesterday's curve over the coming hour, moved to today, so
//! the console can say what the next hour brings before it comes. Built on the configured
//! `qps` query (wrapped in a subquery, so any expression works with `offset`), read every
//! [`EVERY`]: history does not change faster.

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

/// Reads the three answers for `at`.
pub async fn fetch(
    client: &Client,
    qps: &str,
    at: DateTime<Utc>,
) -> Result<TrafficHistory, PromError> {
    let day = client.query(&offset_query(qps, "1d"), at).await?.data;
    let week = client.query(&offset_query(qps, "7d"), at).await?.data;
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
    let mut names: Vec<&String> = day.keys().chain(week.keys()).chain(next.keys()).collect();
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
pub async fn run(cfg: PrometheusConfig, tx: mpsc::Sender<SourceUpdate>) {
    let fetch = |client: Client, cfg: PrometheusConfig| async move {
        fetch(&client, &cfg.queries.qps, Utc::now()).await
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
    }
}
