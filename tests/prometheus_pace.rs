//! The Prometheus source at the pace of its data: against a real `prometheus` scraping
//! every 2 s, the console queries each panel about once per 2 s (counted by the server's
//! own `prometheus_http_requests_total`), not once per `[ui] refresh_ms`; after the server
//! comes back with another interval it follows it; `[prometheus] refresh_ms` overrides it;
//! a server that does not serve its config gets the documented fallback.

mod support;

use opsdeck::config::PrometheusConfig;
use opsdeck::sources::prometheus::{self, panels::Panel};
use opsdeck::sources::{Payload, SourceUpdate};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::exporter::{Exporter, Model};
use support::http::{HttpServer, Response};
use support::prometheus::Prometheus;
use tokio::sync::mpsc;

/// Far faster than the scrape interval: a source paced by it would run 10 rounds per scrape.
const UI_REFRESH: Duration = Duration::from_millis(200);
const QUERY: &str = "/api/v1/query";

/// Runs the source and keeps every update it sends, with when it arrived.
fn run(cfg: PrometheusConfig) -> Arc<Mutex<Vec<(Instant, SourceUpdate)>>> {
    let (tx, mut rx) = mpsc::channel(256);
    tokio::spawn(prometheus::run(cfg, UI_REFRESH, tx));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = seen.clone();
    tokio::spawn(async move {
        while let Some(u) = rx.recv().await {
            keep.lock().unwrap().push((Instant::now(), u));
        }
    });
    seen
}

/// The pace the newest good sample carries.
fn pace_of(seen: &Mutex<Vec<(Instant, SourceUpdate)>>) -> Option<u64> {
    seen.lock()
        .unwrap()
        .iter()
        .rev()
        .find_map(|(_, u)| match &u.payload {
            Ok(Payload::Metrics(m)) => Some(m.pace_ms),
            _ => None,
        })?
}

/// Rounds of panel queries the server answered over `window`.
async fn rounds_over(prom: &Prometheus, window: Duration) -> f64 {
    let before = prom.requests(QUERY);
    tokio::time::sleep(window).await;
    (prom.requests(QUERY) - before) / Panel::ALL.len() as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panels_are_queried_once_per_scrape_interval_and_again_after_a_restart() {
    support::install_crypto();
    let exporter = Exporter::start(Model::default());
    let targets = [exporter.server.addr];
    let mut prom = Prometheus::start_every(&targets, "2s");
    let seen = run(PrometheusConfig {
        url: prom.url(),
        timeout_ms: 2000,
        ..Default::default()
    });
    // Past the start: the config read, the back-fill and the first round.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(prom.requests("/api/v1/status/config"), 1.0);
    assert_eq!(pace_of(&seen), Some(2000));
    let rounds = rounds_over(&prom, Duration::from_secs(10)).await;
    println!("rounds in 10 s at a 2 s scrape interval: {rounds}");
    // 5 at the server's pace; 50 at the UI's.
    assert!((4.0..=6.0).contains(&rounds), "{rounds} rounds in 10 s");

    // Down, then back with another interval: the source asks again and follows it.
    tokio::task::block_in_place(|| {
        prom.stop();
        std::thread::sleep(Duration::from_secs(3));
        prom.write_config(&targets, "1s");
        prom.restart();
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while pace_of(&seen) != Some(1000) {
        assert!(Instant::now() < deadline, "the pace never became 1 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let rounds = rounds_over(&prom, Duration::from_secs(6)).await;
    println!("rounds in 6 s at a 1 s scrape interval: {rounds}");
    assert!((5.0..=7.0).contains(&rounds), "{rounds} rounds in 6 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_refresh_ms_overrides_the_scrape_interval() {
    support::install_crypto();
    let exporter = Exporter::start(Model::default());
    let prom = Prometheus::start_every(&[exporter.server.addr], "2s");
    let seen = run(PrometheusConfig {
        url: prom.url(),
        timeout_ms: 2000,
        refresh_ms: Some(500),
        ..Default::default()
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rounds = rounds_over(&prom, Duration::from_secs(6)).await;
    println!("rounds in 6 s at refresh_ms = 500: {rounds}");
    assert!((10.0..=14.0).contains(&rounds), "{rounds} rounds in 6 s");
    assert_eq!(pace_of(&seen), Some(500));
    assert_eq!(
        prom.requests("/api/v1/status/config"),
        0.0,
        "an override needs no config read"
    );
}

/// A query front (Thanos, Mimir) answers queries but not `/api/v1/status/config`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_its_config_is_queried_at_the_fallback_pace() {
    support::install_crypto();
    let hits: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = hits.clone();
    let front = HttpServer::start(Arc::new(move |target: &str, _: &[(String, String)]| {
        let path = target.split('?').next().unwrap_or(target).to_string();
        log.lock().unwrap().push(path.clone());
        let body = match path.as_str() {
            "/api/v1/query" => r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
            "/api/v1/query_range" => {
                r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#
            }
            _ => {
                return Response {
                    status: 404,
                    content_type: "text/plain",
                    body: "404 page not found\n".into(),
                };
            }
        };
        Response {
            status: 200,
            content_type: "application/json",
            body: body.into(),
        }
    }));
    let seen = run(PrometheusConfig {
        url: front.url(),
        timeout_ms: 2000,
        ..Default::default()
    });
    tokio::time::sleep(Duration::from_secs(4)).await;
    let count = |p: &str| hits.lock().unwrap().iter().filter(|h| *h == p).count();
    assert_eq!(count("/api/v1/status/config"), 1);
    assert_eq!(
        count("/api/v1/query_range"),
        Panel::ALL.len(),
        "one back-fill"
    );
    assert_eq!(count(QUERY), 0, "the next round is 15 s after the first");
    assert_eq!(
        pace_of(&seen),
        Some(prometheus::pace::FALLBACK.as_millis() as u64)
    );
}

/// A sample is graded fresh for three of its own intervals, not three UI refreshes: a
/// 15 s pace shows "● prometheus 14s", not "stale".
#[test]
fn staleness_is_graded_against_the_sources_own_pace() {
    use chrono::{Duration as Span, Utc};
    use opsdeck::config::Config;
    use opsdeck::sources::{MetricsSample, SourceKind};
    use opsdeck::state::{Msg, State, Status};
    let now = Utc::now();
    let status_after = |pace_ms: Option<u64>, secs: i64| {
        let config = Config {
            prometheus: Some(PrometheusConfig::default()),
            ..Config::default()
        };
        let mut state = State::new(config, now, false);
        let m = MetricsSample {
            pace_ms,
            ..Default::default()
        };
        state.apply(Msg::Source(SourceUpdate {
            at: now,
            source: SourceKind::Prometheus,
            context: None,
            payload: Ok(Payload::Metrics(Box::new(m))),
        }));
        state.apply(Msg::Tick(now + Span::seconds(secs)));
        state.status(SourceKind::Prometheus)
    };
    assert_eq!(status_after(Some(15_000), 14), Status::Ok);
    assert_eq!(status_after(Some(15_000), 44), Status::Ok);
    assert_eq!(status_after(Some(15_000), 46), Status::Stale);
    // Without a pace of its own, [ui] refresh_ms (1 s) grades it.
    assert_eq!(status_after(None, 3), Status::Ok);
    assert_eq!(status_after(None, 14), Status::Stale);
}
