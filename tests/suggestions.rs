//! Savings suggestions end to end: every kind computed from what a real Prometheus scraped
//! off the test exporter (and a cluster as the Kubernetes source reports it), each figure
//! worked out by hand here; no kind shown when its inputs are missing, and the panel with
//! its "needs" lines at 80x24 and 160x48.

mod support;

use chrono::{DateTime, Duration as Span, TimeZone, Utc};
use opsdeck::commands::snapshot;
use opsdeck::config::{Config, KubernetesConfig, PrometheusConfig};
use opsdeck::sources::prometheus::{self, api::Client, prices};
use opsdeck::sources::{
    ClusterSample, Deployment, Payload, SourceKind, SourceUpdate, Vpa, VpaContainer, VpaResources,
};
use opsdeck::state::{Msg, State, View};
use std::time::Duration;
use support::console::render;
use support::exporter::{self, Exporter, Model};
use support::prometheus::Prometheus;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

fn dep(name: &str, pool: &str, cpu: f64, mem: f64, replicas: u32) -> Deployment {
    Deployment {
        namespace: "cs-prod".into(),
        name: name.into(),
        replicas,
        ready: replicas,
        available: replicas,
        cpu_request_cores: cpu,
        memory_request_gib: mem,
        pool: pool.into(),
        ..Default::default()
    }
}

/// The cluster as the Kubernetes source would report it: llm-gateway on spot with a VPA
/// recommending far less than it requests.
fn cluster() -> ClusterSample {
    let mut gateway = dep("llm-gateway", "cpu-spot", 0.5, 1.0, 3);
    gateway.vpa = Some(Vpa {
        name: "llm-gateway-vpa".into(),
        update_mode: "Off".into(),
        containers: vec![VpaContainer {
            name: "gateway".into(),
            target: VpaResources {
                cpu_cores: Some(0.2),
                memory_bytes: Some(0.3 * GIB),
            },
            ..Default::default()
        }],
    });
    ClusterSample {
        deployments: vec![
            dep("chat-api", "cpu-ondemand", 1.0, 2.0, 4),
            dep("retrieval", "memory-ondemand", 2.0, 8.0, 2),
            gateway,
            dep("report-export", "cpu-ondemand", 2.0, 4.0, 2),
        ],
        ..Default::default()
    }
}

fn update(at: DateTime<Utc>, source: SourceKind, payload: Payload) -> Msg {
    Msg::Source(SourceUpdate {
        at,
        source,
        context: None,
        payload: Ok(payload),
    })
}

fn close(got: f64, want: f64, what: &str) {
    // Prometheus' rates off a wall-clock exporter are exact to well under 1 %.
    assert!(
        (got - want).abs() <= 0.01 * want.abs() + 1e-9,
        "{what}: opsdeck {got} vs {want} by hand"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_kind_from_a_real_prometheus_equals_the_hand_computation() {
    support::install_crypto();
    let mut model = Model::default();
    // report-export: on the platform but nobody calls it.
    model.services.push(exporter::Service {
        name: "report-export".into(),
        rps: 0.0,
        error_ratio: 0.0,
        latency: [1.0; 7],
        queue: 0.0,
    });
    // Use of all pods together: retrieval 1 core and 6 GiB, report-export 0.1 core and
    // 0.5 GiB (chat-api and llm-gateway as the default model has them).
    for d in &mut model.deployments {
        if d.name == "retrieval" {
            (d.cpu_cores, d.memory_bytes) = (1.0, 6.0 * GIB);
        }
    }
    model.deployments.push(exporter::Deployment {
        name: "report-export".into(),
        cpu_cores: 0.1,
        cpu_request: 4.0,
        memory_bytes: 0.5 * GIB,
        memory_request: 8.0 * GIB,
    });
    let exporter = Exporter::start(model);
    let prom = Prometheus::start(&[exporter.server.addr]);
    // rate(...[1m]) is exact once a full minute of scrapes is in the window.
    tokio::time::sleep(Duration::from_secs(63)).await;

    let mut cfg = PrometheusConfig {
        url: prom.url(),
        timeout_ms: 5000,
        ..Default::default()
    };
    // The defaults' day-long window has no full 5-minute step in a one-minute TSDB: the
    // same query over the last 30 s of 1 s scrapes.
    let q = &mut cfg.queries;
    q.cpu_usage_p95_cores = "quantile_over_time(0.95, (sum by (deployment) (rate(container_cpu_usage_seconds_total[20s])))[30s:5s])".into();
    q.memory_usage_p95_bytes =
        "quantile_over_time(0.95, (sum by (deployment) (container_memory_working_set_bytes))[30s:5s])"
            .into();
    let mut config = Config {
        prometheus: Some(cfg.clone()),
        kubernetes: Some(KubernetesConfig::default()),
        ..Config::default()
    };
    config.cost.idle_hibernate_after_s = 30;

    // Two rounds 40 s apart, evaluated by Prometheus at those times: report-export's QPS is
    // 0 in both, so it has been idle for 40 s ≥ 30 s.
    let client = Client::new(&cfg).unwrap();
    let now = DateTime::<Utc>::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    let then = now - Span::seconds(40);
    let before = prometheus::query_round(&client, &cfg.queries, then)
        .await
        .unwrap();
    let latest = prometheus::query_round(&client, &cfg.queries, now)
        .await
        .unwrap();
    let inputs = prices::snapshot(&cfg, &prices::CostQueries::new(&cfg, &config.cost))
        .await
        .unwrap();
    let mut state = State::new(config, then, false);
    state.apply(update(
        then,
        SourceKind::Prometheus,
        Payload::Metrics(Box::new(before)),
    ));
    state.apply(update(
        now,
        SourceKind::Prometheus,
        Payload::Metrics(Box::new(latest)),
    ));
    state.apply(Msg::Source(inputs));
    state.apply(update(
        now,
        SourceKind::Kubernetes,
        Payload::Cluster(Box::new(cluster())),
    ));

    let s = state.suggestions();
    let by = |kind: &str, target: &str| {
        s.list
            .iter()
            .find(|x| x.kind.name() == kind && x.target == target)
            .unwrap_or_else(|| panic!("{kind} {target} in {:#?}\nmissing {:#?}", s.list, s.missing))
            .saving_per_hour
    };
    // AI models: gpt-4 (900 × 0.03 + 300 × 0.06) / 1000 × 3600 = 162 $/h, gpt-3.5-turbo
    // (4000 × 0.0015 + 1200 × 0.002) / 1000 × 3600 = 30.24 $/h: 192.24 $/h. The hit rate is
    // the services' own, 41 / (41 + 59) = 0.41 (no Redis here): 192.24 × (0.8 − 0.41) /
    // (1 − 0.41) = 127.073 $/h.
    close(by("cache", "cache"), 192.24 * 0.39 / 0.59, "cache");
    // 30 % of gpt-4's tokens at gpt-3.5-turbo's prices:
    // 0.3 × (0.045 − (900 × 0.0015 + 300 × 0.002) / 1000) × 3600 = 46.494 $/h.
    close(
        by("model_routing", "gpt-4 → gpt-3.5-turbo"),
        46.494,
        "routing",
    );
    // On-demand CPU pods at spot × 0.3: chat-api 4 × (0.04 + 2 × 0.005) × 0.7 = 0.14,
    // retrieval 2 × (2 × 0.04 + 8 × 0.005) × 0.7 = 0.168, report-export 2 × 0.10 × 0.7.
    close(by("spot", "cs-prod/chat-api"), 0.14, "spot chat-api");
    close(by("spot", "cs-prod/retrieval"), 0.168, "spot retrieval");
    close(
        by("spot", "cs-prod/report-export"),
        0.14,
        "spot report-export",
    );
    // retrieval per pod: 0.5 of 2 cores and 3 of 8 GiB → excess 1.5 cores + 5 GiB,
    // 2 × (1.5 × 0.04 + 5 × 0.005) = 0.17. report-export per pod: 0.05 of 2 cores and
    // 0.25 of 4 GiB → 2 × (1.95 × 0.04 + 3.75 × 0.005) = 0.1935. llm-gateway by its VPA
    // (0.2 of 0.5 cores, 0.3 of 1 GiB; Prometheus' 7 cores are not used) on spot:
    // 3 × (0.3 × 0.04 + 0.7 × 0.005) × 0.3 = 0.01395. chat-api uses 0.8 of 1 core.
    close(
        by("right_size", "cs-prod/retrieval"),
        0.17,
        "right-size retrieval",
    );
    close(
        by("right_size", "cs-prod/report-export"),
        0.1935,
        "right-size report-export",
    );
    close(
        by("right_size", "cs-prod/llm-gateway"),
        0.01395,
        "right-size llm-gateway",
    );
    // report-export idle for 40 s: its 2 pods × 0.10 $/h. chat-api has traffic and is
    // critical anyway.
    close(by("hibernate", "cs-prod/report-export"), 0.20, "hibernate");
    assert_eq!(s.list.len(), 9, "{:#?}", s.list);
    assert!(s.missing.is_empty(), "{:#?}", s.missing);

    // The snapshot carries the same figures with their basis.
    let json = snapshot::to_json(&state);
    let list = json["suggestions"].as_array().unwrap();
    assert_eq!(list.len(), 9);
    let first = &list[0];
    assert_eq!(first["kind"], "cache", "{first}");
    close(
        first["saving_per_month"].as_f64().unwrap(),
        192.24 * 0.39 / 0.59 * 730.5,
        "cache per month",
    );
    let basis = first["basis"].as_str().unwrap();
    assert!(
        basis.starts_with(
            "hit rate 41.0% (Prometheus app_cache_hit_rate) → 80.0% target at 120.0 req/s"
        ),
        "{basis}"
    );
    assert_eq!(json["suggestions_missing"], serde_json::json!([]));

    // The default p95 queries are PromQL this Prometheus accepts.
    let defaults = PrometheusConfig::default().queries;
    for q in [
        &defaults.cpu_usage_p95_cores,
        &defaults.memory_usage_p95_bytes,
    ] {
        client
            .query(q, now)
            .await
            .unwrap_or_else(|e| panic!("{q}: {e}"));
    }
}

/// Kubernetes answers, Prometheus is configured but down, no Redis: only what needs nothing
/// but the cluster and the prices is suggested (spot, and right-size by llm-gateway's VPA);
/// every other kind, and right-size for the deployments without a VPA, says what it needs,
/// in the snapshot and in the panel.
fn prometheus_down() -> State {
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 15, 30, 0).unwrap();
    let config = Config {
        prometheus: Some(PrometheusConfig {
            url: "http://127.0.0.1:1".into(),
            ..Default::default()
        }),
        kubernetes: Some(KubernetesConfig::default()),
        ..Config::default()
    };
    let mut state = State::new(config, now, false);
    state.apply(update(
        now,
        SourceKind::Kubernetes,
        Payload::Cluster(Box::new(cluster())),
    ));
    state.apply(Msg::Source(SourceUpdate {
        at: now,
        source: SourceKind::Prometheus,
        context: None,
        payload: Err("http://127.0.0.1:1: connection refused".into()),
    }));
    state.view = View::Cost;
    state
}

#[test]
fn no_kind_is_shown_without_its_inputs_and_each_says_what_it_needs() {
    let state = prometheus_down();
    let s = state.suggestions();
    let kinds: Vec<&str> = s.list.iter().map(|x| x.kind.name()).collect();
    assert_eq!(
        kinds,
        ["spot", "spot", "spot", "right_size"],
        "{:#?}",
        s.list
    );
    assert_eq!(s.list[3].target, "cs-prod/llm-gateway");
    let json = snapshot::to_json(&state);
    let missing: Vec<(String, String)> = json["suggestions_missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["kind"].as_str().unwrap().to_string(),
                m["needs"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let needs = |kind: &str| -> Vec<&str> {
        missing
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, n)| n.as_str())
            .collect()
    };
    assert_eq!(needs("cache").len(), 3, "{missing:#?}");
    assert!(needs("model_routing")[0].starts_with("LLM token rates per model"));
    // llm-gateway's VPA suffices; the others need the p95 queries.
    assert_eq!(
        needs("right_size"),
        [
            "p95 use of chat-api, retrieval, report-export: from [prometheus.queries] \
          cpu_usage_p95_cores (Prometheus API mode) or a VPA"
        ]
    );
    assert!(needs("hibernate")[0].contains("[prometheus.queries] qps"));
    assert!(needs("spot").is_empty());

    let screen = render(&state, 160, 48);
    assert!(
        screen.contains("needs · cache: the cache hit rate"),
        "{screen}"
    );
    assert!(
        screen.contains("needs · right-size: p95 use of chat-api"),
        "{screen}"
    );
    assert!(screen.contains("needs · hibernate"), "{screen}");
    assert!(!screen.contains("routing    "), "{screen}");
    insta::assert_snapshot!("prometheus_down_80x24", render(&state, 80, 24));
    insta::assert_snapshot!("prometheus_down_160x48", screen);
}

/// Nothing answered yet: every kind names its inputs, none shows a figure.
#[test]
fn before_any_source_answers_every_kind_is_missing() {
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 15, 30, 0).unwrap();
    let state = State::new(Config::default(), now, false);
    let s = state.suggestions();
    assert!(s.list.is_empty());
    for kind in opsdeck::domain::suggestions::Kind::ALL {
        assert!(
            s.missing.iter().any(|(k, _)| *k == kind),
            "{kind:?} names what it needs: {:#?}",
            s.missing
        );
    }
}

/// The day-long p95 queries are the heaviest opsdeck asks: once per `USAGE_EVERY`, not each
/// round, while every round's cost inputs still carry their last answer.
#[tokio::test]
async fn p95_use_is_asked_once_per_interval_not_each_round() {
    use std::sync::{Arc, Mutex};
    use support::http::{HttpServer, Response};
    support::install_crypto();
    let asked = Arc::new(Mutex::new((0usize, 0usize)));
    let seen = asked.clone();
    let server = HttpServer::start(Arc::new(move |target: &str, _: &[(String, String)]| {
        let mut n = seen.lock().unwrap();
        if target.contains("quantile_over_time") {
            n.0 += 1;
        } else if target.contains("node_cpu_hourly_cost") {
            n.1 += 1;
        }
        Response {
            status: 200,
            content_type: "application/json",
            body: r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"deployment":"retrieval"},"value":[1,"2.5"]}]}}"#.into(),
        }
    }));
    let cfg = PrometheusConfig {
        url: server.url(),
        refresh_ms: Some(150),
        ..Default::default()
    };
    let queries = prices::CostQueries::new(&cfg, &Config::default().cost);
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let task = tokio::spawn(prices::run(cfg, queries, Duration::from_millis(150), tx));
    tokio::time::sleep(Duration::from_millis(1000)).await;
    task.abort();
    let (usage, rounds) = *asked.lock().unwrap();
    assert!(rounds >= 4, "{rounds} rounds");
    // One CPU and one memory query, at the first round only.
    assert_eq!(usage, 2, "p95 queries in {rounds} rounds");
    let mut updates = 0;
    while let Ok(u) = rx.try_recv() {
        let Ok(Payload::CostInputs(c)) = u.payload else {
            panic!("{:?}", u.payload)
        };
        let cpu = c.cpu_usage_p95.expect("asked").unwrap();
        assert_eq!(cpu.get("retrieval"), Some(&2.5));
        updates += 1;
    }
    assert!(updates >= 4, "{updates}");
}
