//! The Prometheus source: latency, traffic, utilisation and token figures, from the HTTP
//! API (mode "api") or straight from the services' `/metrics` (mode "scrape").
//!
//! - `api`: the HTTP client, its errors and the API's JSON
//! - `panels`: the configured queries and how their answers become a `MetricsSample`
//! - `scrape`: exposition text, counter rates and bucket quantiles without a server
//! - `quantile`: `histogram_quantile`'s arithmetic
//! - `pace`: how often the panels are queried (the server's scrape interval)
//! - `prices`: the cost model's inputs (OpenCost, cached tokens, storage and network $/h)
//!
//! The task never touches `State`: it sends owned `SourceUpdate`s, and a slow or dead
//! server only delays this task, never the App loop.

pub mod alerts;
pub mod api;
pub mod history;
pub mod pace;
pub mod panels;
pub mod period;
mod poll;
pub mod prices;
pub mod quantile;
pub mod scrape;
pub mod today;

use crate::config::{PromMode, PromQueries, PrometheusConfig};
use crate::model::HISTORY_STEP_S;
use crate::sources::{MetricsSample, PanelProblem, Payload, RefreshNow, SourceKind, SourceUpdate};
use api::{Client, Data, PromError};
use chrono::{DateTime, Utc};
use pace::Pace;
use panels::{Panel, PanelAnswer, PanelValues};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::mpsc;

/// How far back the charts are filled on start.
pub const BACKFILL: chrono::Duration = chrono::Duration::minutes(30);

fn update(at: DateTime<Utc>, result: Result<MetricsSample, String>) -> SourceUpdate {
    SourceUpdate {
        context: None,
        at,
        source: SourceKind::Prometheus,
        payload: result.map(|m| Payload::Metrics(Box::new(m))),
    }
}

/// An update whose sample says how often it is renewed, so it is graded fresh that long.
fn paced(at: DateTime<Utc>, result: Result<MetricsSample, String>, pace: &Pace) -> SourceUpdate {
    update(
        at,
        result.map(|mut m| {
            m.pace_ms = Some(pace.ms());
            m
        }),
    )
}

/// The source task. API mode back-fills the charts, then runs one round of queries per
/// [`pace`] (the server's scrape interval, or `[prometheus] refresh_ms`); scrape mode
/// reads the targets once per `[prometheus] refresh_ms`, else per `refresh`. Failures are reported as
/// `Err` updates and retried on the next refresh, so recovery needs nobody. Ends when the
/// receiver is gone.
pub async fn run(cfg: PrometheusConfig, refresh: Duration, tx: mpsc::Sender<SourceUpdate>) {
    run_with(cfg, refresh, tx, RefreshNow::default()).await
}

/// `run`, also querying at once whenever `now` is triggered.
pub async fn run_with(
    cfg: PrometheusConfig,
    refresh: Duration,
    tx: mpsc::Sender<SourceUpdate>,
    now: RefreshNow,
) {
    match cfg.mode {
        PromMode::Api => run_api(cfg, refresh, tx, now).await,
        PromMode::Scrape => {
            let every = cfg.refresh_ms.map_or(refresh, Duration::from_millis);
            run_scrape(cfg, every, tx, now).await
        }
    }
}

fn ticker(refresh: Duration) -> tokio::time::Interval {
    ticker_at(tokio::time::Instant::now(), refresh)
}

/// A ticker whose first tick is at `start`.
fn ticker_at(start: tokio::time::Instant, refresh: Duration) -> tokio::time::Interval {
    let mut t = tokio::time::interval_at(start, refresh.max(Duration::from_millis(50)));
    // A round slower than the refresh delays the next one instead of bunching them up:
    // never more than one query per panel per refresh.
    t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    t
}

/// The client, made on first use; a setup error (bad CA file, unreadable token) is sent
/// as this round's error and tried again next round.
async fn client_or_report<'a>(
    client: &'a mut Option<Client>,
    cfg: &PrometheusConfig,
    tx: &mpsc::Sender<SourceUpdate>,
) -> Option<&'a Client> {
    if client.is_none() {
        match Client::new(cfg) {
            Ok(c) => *client = Some(c),
            Err(e) => {
                let _ = tx.send(update(Utc::now(), Err(e.to_string()))).await;
                return None;
            }
        }
    }
    client.as_ref()
}

async fn run_api(
    cfg: PrometheusConfig,
    refresh: Duration,
    tx: mpsc::Sender<SourceUpdate>,
    now: RefreshNow,
) {
    let mut pacer = Pacer::new(&cfg, refresh);
    let queries = cfg.sent_queries();
    let mut tick = ticker(pacer.pace.every);
    let mut client = None;
    let mut backfilled = false;
    loop {
        now.wait(&mut tick).await;
        let c = match client_or_report(&mut client, &cfg, &tx).await {
            Some(c) => c,
            None if tx.is_closed() => return,
            None => continue,
        };
        // The back-fill takes the place of a round, so it too stays within one query per
        // panel per round; it is retried until it works once.
        let at = Utc::now();
        let result = if backfilled {
            query_round(c, &queries, at).await.map(|m| vec![(at, m)])
        } else {
            backfill(c, &queries, at).await
        };
        // The server is asked its scrape interval once it answers (not before: a hanging
        // server must not delay its error), at start and again after it was down.
        let updates = match result {
            Ok(samples) => {
                backfilled = true;
                pacer.ask(c, &mut tick).await;
                samples
                    .into_iter()
                    .map(|(at, m)| paced(at, Ok(m), &pacer.pace))
                    .collect()
            }
            Err(e) => {
                pacer.lost(&e);
                vec![update(at, Err(e.to_string()))]
            }
        };
        for u in updates {
            if tx.send(u).await.is_err() {
                return;
            }
        }
    }
}

/// The panels' pace as it is learnt: `[prometheus] refresh_ms`, else `refresh` until the
/// server says its scrape interval (asked again after the server was unreachable).
struct Pacer {
    pace: Pace,
    refresh: Duration,
    ask: bool,
    fallback_logged: bool,
}

impl Pacer {
    fn new(cfg: &PrometheusConfig, refresh: Duration) -> Pacer {
        Pacer {
            pace: Pace::initial(cfg.refresh_ms, refresh),
            refresh,
            ask: cfg.refresh_ms.is_none(),
            fallback_logged: false,
        }
    }

    /// Asks the server when due and moves `tick` to the pace it gives; a fallback is
    /// logged once.
    async fn ask(&mut self, c: &Client, tick: &mut tokio::time::Interval) {
        if !self.ask {
            return;
        }
        let Ok(p) = pace::ask(c, self.refresh).await else {
            return;
        };
        self.ask = false;
        if let Some(note) = p.fallback_note(&c.base_url())
            && !self.fallback_logged
        {
            tracing::warn!("{note}");
            self.fallback_logged = true;
        }
        if p.every != self.pace.every {
            *tick = ticker_at(tokio::time::Instant::now() + p.every, p.every);
        }
        self.pace = p;
    }

    /// A round failed: after a transport failure the server may come back reconfigured.
    fn lost(&mut self, e: &PromError) {
        self.ask |= self.pace.from != pace::PaceFrom::Configured && e.is_transport();
    }
}

/// One answer per panel, or the error shared by all of them when none answered: a server
/// that is down is one problem, not twelve.
#[allow(clippy::type_complexity)]
fn round_result<T>(
    answers: BTreeMap<Panel, Result<T, PromError>>,
) -> Result<BTreeMap<Panel, Result<T, String>>, PromError> {
    if answers.values().all(|a| a.is_err()) {
        let mut errors = answers.into_values().filter_map(Result::err);
        let first = errors.next();
        // Prefer the transport failure: "connection refused" explains twelve API errors.
        return Err(errors
            .chain(first.clone())
            .find(PromError::is_transport)
            .or(first)
            .unwrap_or(PromError::Setup {
                key: "queries",
                detail: "no panels are configured".into(),
            }));
    }
    Ok(answers
        .into_iter()
        .map(|(p, a)| (p, a.map_err(|e| e.to_string())))
        .collect())
}

/// One panel's rows from an API answer of any shape; what is not an instant vector or a
/// scalar becomes a warning, never a panic.
pub fn values_of(panel: Panel, data: Data, warnings: Vec<String>) -> PanelValues {
    values_split(panel, data, warnings, None)
}

/// `values_of`, rows split by cluster when `split` is set.
pub fn values_split(
    panel: Panel,
    data: Data,
    warnings: Vec<String>,
    split: Option<&crate::config::ClusterSplit>,
) -> PanelValues {
    match data {
        Data::Vector(series) => PanelValues::from_series_split(
            panel,
            series.iter().map(|s| (&s.labels, s.value)),
            warnings,
            split,
        ),
        Data::Scalar(v) => PanelValues::from_series(panel, [(&BTreeMap::new(), v)], warnings),
        Data::Matrix(_) | Data::Text(_) => {
            let mut warnings = warnings;
            warnings.push("the query does not return an instant vector or scalar".into());
            PanelValues {
                rows: BTreeMap::new(),
                warnings,
            }
        }
    }
}

/// One query per panel, all evaluated at `at`.
pub async fn query_round(
    client: &Client,
    queries: &PromQueries,
    at: DateTime<Utc>,
) -> Result<MetricsSample, PromError> {
    let results =
        futures::future::join_all(Panel::active(queries).into_iter().map(|p| async move {
            let a = client.query(p.query(queries), at).await;
            (
                p,
                a.map(|a| values_split(p, a.data, a.warnings, queries.split.as_ref())),
            )
        }))
        .await;
    Ok(panels::assemble(&round_result(
        results.into_iter().collect(),
    )?))
}

/// The last 30 minutes, one sample per chart step, oldest first.
pub async fn backfill(
    client: &Client,
    queries: &PromQueries,
    now: DateTime<Utc>,
) -> Result<Vec<(DateTime<Utc>, MetricsSample)>, PromError> {
    let start = now - BACKFILL;
    let results =
        futures::future::join_all(Panel::active(queries).into_iter().map(|p| async move {
            let a = client
                .query_range(p.query(queries), start, now, HISTORY_STEP_S)
                .await;
            (p, a)
        }))
        .await;
    let answers = round_result(results.into_iter().collect())?;
    // Regroup panel -> series -> points into time -> panel -> rows.
    let mut by_time: BTreeMap<i64, BTreeMap<Panel, PanelAnswer>> = BTreeMap::new();
    let steps = BACKFILL.num_seconds() / HISTORY_STEP_S;
    for k in 0..=steps {
        let t = start.timestamp_millis() + k * HISTORY_STEP_S * 1000;
        let slot = by_time.entry(t).or_default();
        for (p, a) in &answers {
            let v = match a {
                Err(e) => Err(e.clone()),
                Ok(_) => Ok(PanelValues::default()),
            };
            slot.insert(*p, v);
        }
    }
    for (p, a) in answers {
        let Ok(answer) = a else { continue };
        let Data::Matrix(series) = answer.data else {
            continue;
        };
        for s in series {
            for (t, v) in s.values {
                let ms = (t * 1000.0).round() as i64;
                if let Some(Some(Ok(vals))) = by_time.get_mut(&ms).map(|m| m.get_mut(&p)) {
                    let row = PanelValues::from_series_split(
                        p,
                        [(&s.labels, v)],
                        Vec::new(),
                        queries.split.as_ref(),
                    );
                    vals.rows.extend(row.rows);
                }
            }
        }
    }
    Ok(by_time
        .into_iter()
        .filter_map(|(ms, answers)| {
            let at = DateTime::<Utc>::from_timestamp_millis(ms)?;
            Some((at, panels::assemble(&answers)))
        })
        .collect())
}

async fn run_scrape(
    cfg: PrometheusConfig,
    refresh: Duration,
    tx: mpsc::Sender<SourceUpdate>,
    now: RefreshNow,
) {
    let mut tick = ticker(refresh);
    let clock = std::time::Instant::now();
    let mut client = None;
    let mut prev: Option<scrape::Observation> = None;
    loop {
        now.wait(&mut tick).await;
        let c = match client_or_report(&mut client, &cfg, &tx).await {
            Some(c) => c,
            None if tx.is_closed() => return,
            None => continue,
        };
        let at = Utc::now();
        let result = match scrape::observe(c, &cfg.targets, clock).await {
            Ok((cur, failures)) => {
                let sample = prev.as_ref().map(|p| scrape_sample(p, &cur, failures));
                prev = Some(cur);
                // The first read has nothing to take a rate against: wait for the second.
                match sample {
                    Some(s) => Ok(s),
                    None => continue,
                }
            }
            Err(e) => Err(e.to_string()),
        };
        if tx.send(update(at, result)).await.is_err() {
            return;
        }
    }
}

fn scrape_sample(
    prev: &scrape::Observation,
    cur: &scrape::Observation,
    failures: Vec<String>,
) -> MetricsSample {
    let mut m = panels::assemble(&scrape::panel_values(prev, cur));
    m.problems
        .extend(failures.into_iter().map(|message| PanelProblem {
            panel: "targets".into(),
            message,
        }));
    m
}

/// One sample for `opsdeck snapshot`: one round of queries in API mode; in scrape mode two
/// reads one refresh apart, since a rate needs two.
pub async fn snapshot(cfg: &PrometheusConfig, refresh: Duration) -> SourceUpdate {
    // Whole milliseconds, as the API takes them: the update's time is then exactly the
    // evaluation time, and a script can ask Prometheus the same question at `sources.prometheus.at`.
    let at = DateTime::<Utc>::from_timestamp_millis(Utc::now().timestamp_millis())
        .unwrap_or_else(Utc::now);
    let result = async {
        let client = Client::new(cfg)?;
        match cfg.mode {
            PromMode::Api => query_round(&client, &cfg.sent_queries(), at).await,
            PromMode::Scrape => {
                let clock = std::time::Instant::now();
                let (first, _) = scrape::observe(&client, &cfg.targets, clock).await?;
                tokio::time::sleep(refresh).await;
                let (second, failures) = scrape::observe(&client, &cfg.targets, clock).await?;
                Ok(scrape_sample(&first, &second, failures))
            }
        }
    }
    .await;
    let at = if cfg.mode == PromMode::Api {
        at
    } else {
        Utc::now()
    };
    update(at, result.map_err(|e| e.to_string()))
}
