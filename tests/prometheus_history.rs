//! Before the peak against a real prometheus whose TSDB is back-filled with yesterday's and
//! last week's traffic (`promtool tsdb create-blocks-from openmetrics`): the QPS a day and a
//! week ago, yesterday's next hour moved to today, and the pre-scale suggestion, each
//! checked against the curve written.

mod support;

use chrono::{DateTime, Utc};
use opsdeck::config::{Config, PrometheusConfig};
use opsdeck::model::{
    ClusterSample, Deployment, Hpa, HpaMetric, MetricsSample, Payload, ServiceLatency, SourceKind,
    SourceUpdate, Utilization,
};
use opsdeck::sources::prometheus::api::Client;
use opsdeck::sources::prometheus::history::{fetch, update};
use opsdeck::state::{Msg, State};
use std::fmt::Write;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::prometheus::free_port;

/// Yesterday, from 30 min before this time to 65 min after: 100 req/s rising to 700 an
/// hour after this time (10 req/s more each minute). A week ago: a flat 90 req/s.
fn yesterday_rate(minutes_from_now: f64) -> f64 {
    (100.0 + 10.0 * minutes_from_now.max(0.0)).min(700.0)
}

/// chat-api's counter, whose rate follows `rate`, one sample every 15 s over `[from, to]`
/// minutes around `anchor`.
fn counter(out: &mut String, anchor: i64, from: i64, to: i64, rate: impl Fn(f64) -> f64) {
    service_counter(out, "chat-api", anchor, from, to, rate);
}

fn service_counter(
    out: &mut String,
    service: &str,
    anchor: i64,
    from: i64,
    to: i64,
    rate: impl Fn(f64) -> f64,
) {
    let mut total = 0.0;
    let mut t = anchor + from * 60;
    while t <= anchor + to * 60 {
        writeln!(
            out,
            "http_requests_total{{service=\"{service}\"}} {total} {t}"
        )
        .unwrap();
        total += rate((t - anchor) as f64 / 60.0) * 15.0;
        t += 15;
    }
}

struct Prom {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Prom {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn backfilled(now: DateTime<Utc>) -> Prom {
    let dir = tempfile::tempdir().unwrap();
    let day = now.timestamp() - 86_400;
    let week = now.timestamp() - 7 * 86_400;
    let mut om = String::from("# TYPE http_requests counter\n");
    // One series: the week-ago window first (a counter may restart; samples stay in order).
    counter(&mut om, week, -30, 10, |_| 90.0);
    counter(&mut om, day, -30, 65, yesterday_rate);
    // The last 70 minutes: report-export without a request; new-batch, also quiet, only
    // for the last 10, too short to know it idle for the hour.
    let at = now.timestamp();
    service_counter(&mut om, "report-export", at, -70, 0, |_| 0.0);
    service_counter(&mut om, "new-batch", at, -10, 0, |_| 0.0);
    om.push_str("# EOF\n");
    let input = dir.path().join("history.om");
    std::fs::write(&input, om).unwrap();
    let data = dir.path().join("data");
    let out = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&input)
        .arg(&data)
        .output()
        .expect("promtool (the prometheus package) is installed by scripts/test.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(
        dir.path().join("prometheus.yml"),
        "global:\n  scrape_interval: 15s\n",
    )
    .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let child = Command::new("prometheus")
        .arg(format!(
            "--config.file={}",
            dir.path().join("prometheus.yml").display()
        ))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!("--web.listen-address={addr}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while support::http::get(addr, "/-/ready").map(|r| r.0) != Some(200) {
        assert!(Instant::now() < deadline, "prometheus not ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    Prom {
        child,
        addr,
        _dir: dir,
    }
}

fn chat_api() -> Deployment {
    Deployment {
        namespace: "cs-prod".into(),
        name: "chat-api".into(),
        replicas: 4,
        ready: 4,
        hpa: Some(Hpa {
            name: "chat-api".into(),
            min: 3,
            max: 20,
            current: 4,
            desired: 4,
            metrics: vec![HpaMetric {
                name: "cpu".into(),
                current: Some(35.0),
                target: 70.0,
                unit: "%".into(),
            }],
            ..Hpa::default()
        }),
        ..Deployment::default()
    }
}

fn near(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() < 0.5, "{what}: {got} vs {want}");
}

#[tokio::test]
async fn yesterday_and_last_week_and_the_pre_scale_suggestion() {
    support::install_crypto();
    let now = Utc::now();
    let prom = backfilled(now);
    let cfg = PrometheusConfig {
        url: format!("http://{}", prom.addr),
        ..PrometheusConfig::default()
    };
    let client = Client::new(&cfg).unwrap();
    let h = fetch(&client, &cfg.queries.qps, 3600, now).await.unwrap();
    let s = h
        .services
        .iter()
        .find(|s| s.service == "chat-api")
        .expect("chat-api");
    // This time yesterday the curve was at its 100 req/s start; a week ago flat 90.
    near(s.qps_1d_ago.unwrap(), 100.0, "1d ago");
    near(s.qps_7d_ago.unwrap(), 90.0, "7d ago");
    // The coming hour is yesterday's, a day later: +10 req/s a minute from 100.
    assert!(s.next_hour.len() >= 58, "{} points", s.next_hour.len());
    // The idle window (an hour): report-export's peak is 0 over all of it; chat-api has
    // no data in it, new-batch only ten minutes: neither is known idle.
    let peak = |name: &str| {
        h.services
            .iter()
            .find(|s| s.service == name)
            .and_then(|s| s.window_peak_qps)
    };
    assert_eq!(peak("report-export"), Some(0.0), "{h:?}");
    assert_eq!((peak("chat-api"), peak("new-batch")), (None, None));
    for (t, v) in &s.next_hour {
        let minutes = (*t - now).num_milliseconds() as f64 / 60_000.0;
        assert!((-1.0..=61.0).contains(&minutes), "point at {t}");
        // rate[1m] looks back a minute: the value is the slope over the minute before t.
        let want = yesterday_rate(minutes - 0.5);
        assert!(
            (v - want).abs() <= 10.5,
            "at +{minutes:.1} min: {v} vs {want}"
        );
    }

    // The state: 4 pods serve 200 req/s at 35 % CPU: 100 req/s each at the 70 % target.
    // The peak (≈700 req/s) needs 7; HPA min is 3, enough up to 300 req/s (+20 min).
    let mut state = State::new(
        Config {
            prometheus: Some(cfg.clone()),
            kubernetes: Some(Default::default()),
            ..Config::default()
        },
        now,
        false,
    );
    let at = now;
    let up = |source, payload| {
        Msg::Source(SourceUpdate {
            at,
            source,
            context: None,
            payload: Ok(payload),
        })
    };
    state.apply(up(
        SourceKind::Kubernetes,
        Payload::Cluster(Box::new(ClusterSample {
            context: "test".into(),
            deployments: vec![chat_api(), report_export()],
            pools: Vec::new(),
        })),
    ));
    state.apply(up(
        SourceKind::Prometheus,
        Payload::Metrics(Box::new(MetricsSample {
            services: vec![
                ServiceLatency {
                    name: "chat-api".into(),
                    qps: 200.0,
                    ..ServiceLatency::default()
                },
                ServiceLatency {
                    name: "report-export".into(),
                    qps: 0.0,
                    ..ServiceLatency::default()
                },
            ],
            utilization: vec![Utilization {
                deployment: "chat-api".into(),
                context: None,
                cpu_pct: 35.0,
                memory_pct: 40.0,
            }],
            ..MetricsSample::default()
        })),
    ));
    state.apply(Msg::Source(update(h.clone())));
    let p = state.prescales();
    assert_eq!(p.len(), 1, "{p:?}");
    let p = &p[0];
    assert_eq!((p.min_now, p.min_needed), (3, 7));
    near(p.per_replica_qps, 100.0, "per replica");
    assert!(p.peak_qps > 600.0 && p.peak_qps <= 700.0, "{}", p.peak_qps);
    // 300 req/s is reached 20 minutes in: the floor must be up by then.
    let minutes = (p.before - now).num_seconds() as f64 / 60.0;
    assert!((19.0..=23.0).contains(&minutes), "before +{minutes:.1} min");
    // The Latency view names the time the floor must be up by, ahead of now.
    state.view = opsdeck::state::View::Latency;
    let screen = support::console::render(&state, 200, 50);
    let by = format!("raise it before {}", p.before.format("%H:%M"));
    assert!(screen.contains(&by), "{by} not on the Latency view");
    let json = opsdeck::commands::snapshot::to_json(&state);
    assert_eq!(json["prescale"][0]["hpa_min_needed"], 7);
    assert_eq!(json["traffic"][0]["service"], "chat-api");
    assert!(json["traffic"][0]["qps_7d_ago"].as_f64().is_some());
    // The console saw report-export for one sample; Prometheus saw it idle for the hour:
    // the hibernate suggestion is in the very first snapshot.
    let hibernate: Vec<&serde_json::Value> = json["suggestions"]
        .as_array()
        .expect("suggestions[]")
        .iter()
        .filter(|s| s["kind"] == "hibernate")
        .collect();
    assert_eq!(hibernate.len(), 1, "{}", json["suggestions"]);
    assert_eq!(hibernate[0]["target"], "cs-prod/report-export");
    // 2 pods × (2 × 0.04 + 4 × 0.005) $/h on the on-demand CPU pool.
    assert!((hibernate[0]["saving_per_hour"].as_f64().unwrap() - 0.20).abs() < 1e-9);
}

fn report_export() -> Deployment {
    Deployment {
        namespace: "cs-prod".into(),
        name: "report-export".into(),
        pool: "cpu-ondemand".into(),
        cpu_request_cores: 2.0,
        memory_request_gib: 4.0,
        replicas: 2,
        ready: 2,
        ..Deployment::default()
    }
}
