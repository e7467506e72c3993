//! One Prometheus holding two clusters (as Thanos or federation does): with
//! `[prometheus] cluster_label`, the Latency view's services and the utilisation are split by
//! that label, each value mapped to its kube context, and a deployment's scaling signals come
//! from its own cluster's series.

mod support;

use chrono::Utc;
use opsdeck::config::{Config, PrometheusConfig};
use opsdeck::model::{ClusterSample, Deployment, Payload, SourceKind, SourceUpdate};
use opsdeck::sources::prometheus::api::Client;
use opsdeck::sources::prometheus::query_round;
use opsdeck::state::{Msg, State};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::exporter::{Exporter, Model};
use support::prometheus::free_port;

/// The server, its address, and its config and data (removed with it).
struct Prom(Child, SocketAddr, #[allow(dead_code)] tempfile::TempDir);

impl Drop for Prom {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Scrapes `eu` as cluster="eu-west-1" and `us` as cluster="us-east-1".
fn prometheus(eu: SocketAddr, us: SocketAddr) -> Prom {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: platform\n    static_configs:\n      - targets: ['{eu}']\n        labels: {{cluster: eu-west-1}}\n      - targets: ['{us}']\n        labels: {{cluster: us-east-1}}\n"
    );
    std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let child = Command::new("prometheus")
        .arg(format!(
            "--config.file={}",
            dir.path().join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address={addr}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus is installed by scripts/test.sh");
    let deadline = Instant::now() + Duration::from_secs(30);
    while support::http::get(addr, "/-/ready").map(|r| r.0) != Some(200) {
        assert!(Instant::now() < deadline, "prometheus not ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    Prom(child, addr, dir)
}

fn deployment(context: &str) -> Deployment {
    Deployment {
        context: context.into(),
        namespace: "cs-prod".into(),
        name: "chat-api".into(),
        replicas: 3,
        ready: 3,
        ..Deployment::default()
    }
}

#[tokio::test]
async fn services_and_utilisation_split_by_cluster_map_to_contexts() {
    support::install_crypto();
    let eu = Exporter::start(Model::default());
    let mut us_model = Model::default();
    for s in &mut us_model.services {
        s.rps *= 3.0;
    }
    for d in &mut us_model.deployments {
        d.cpu_cores *= 2.0;
    }
    let us = Exporter::start(us_model);
    let prom = prometheus(eu.server.addr, us.server.addr);
    let cfg = PrometheusConfig {
        url: format!("http://{}", prom.1),
        cluster_label: Some("cluster".into()),
        cluster_contexts: [("eu-west-1", "prod-eu"), ("us-east-1", "prod-us")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        ..PrometheusConfig::default()
    };
    let client = Client::new(&cfg).unwrap();
    // Wait until both clusters' rates are there and have settled enough to tell apart:
    // the us side serves three times the traffic on twice the CPU.
    let deadline = Instant::now() + Duration::from_secs(40);
    let settled = |m: &opsdeck::model::MetricsSample| {
        let find = |ctx: &str| {
            let s = m
                .services
                .iter()
                .find(|s| s.name == "chat-api" && s.context.as_deref() == Some(ctx))?;
            let u = m
                .utilization
                .iter()
                .find(|u| u.deployment == "chat-api" && u.context.as_deref() == Some(ctx))?;
            Some((s.qps, u.cpu_pct))
        };
        matches!((find("prod-eu"), find("prod-us")),
            (Some((eq, ec)), Some((uq, uc))) if eq > 0.0 && uq > 2.0 * eq && ec > 0.0 && uc > 1.5 * ec)
    };
    let m = loop {
        let m = query_round(&client, &cfg.sent_queries(), Utc::now())
            .await
            .unwrap();
        if settled(&m) {
            break m;
        }
        assert!(
            Instant::now() < deadline,
            "never split: {:?} {:?}",
            m.services,
            m.utilization
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let chat = |ctx: &str| {
        m.services
            .iter()
            .find(|s| s.name == "chat-api" && s.context.as_deref() == Some(ctx))
            .unwrap_or_else(|| panic!("chat-api in {ctx}: {:?}", m.services))
    };
    let (eu_qps, us_qps) = (chat("prod-eu").qps, chat("prod-us").qps);
    // The us exporter serves three times the eu one's traffic: the two are not mixed (the
    // first minute's rates are young, so only the order is firm).
    assert!(
        eu_qps > 0.0 && us_qps > 2.0 * eu_qps,
        "eu {eu_qps} us {us_qps}"
    );
    assert_eq!(chat("prod-eu").label(), "chat-api · prod-eu");

    // The state joins each deployment to its own cluster's figures.
    let now = Utc::now();
    let cluster_cfg = Config {
        prometheus: Some(cfg.clone()),
        ..Config::default()
    };
    let mut state = State::new(cluster_cfg, now, false);
    let up = |source, payload| {
        Msg::Source(SourceUpdate {
            at: now,
            source,
            context: None,
            payload: Ok(payload),
        })
    };
    state.apply(up(
        SourceKind::Kubernetes,
        Payload::Cluster(Box::new(ClusterSample {
            context: "prod-eu".into(),
            deployments: vec![deployment("prod-eu"), deployment("prod-us")],
            pools: Vec::new(),
        })),
    ));
    state.apply(up(
        SourceKind::Prometheus,
        Payload::Metrics(Box::new(m.clone())),
    ));
    let cpu = |ctx: &str| {
        let u = m
            .utilization
            .iter()
            .find(|u| u.deployment == "chat-api" && u.context.as_deref() == Some(ctx))
            .expect("chat-api utilisation per cluster");
        u.cpu_pct
    };
    let signals_eu = state.signals(&deployment("prod-eu"));
    let signals_us = state.signals(&deployment("prod-us"));
    assert_eq!(signals_eu.cpu_pct, Some(cpu("prod-eu")));
    assert_eq!(signals_us.cpu_pct, Some(cpu("prod-us")));
    assert!(
        cpu("prod-us") > cpu("prod-eu") * 1.5,
        "{} vs {}",
        cpu("prod-us"),
        cpu("prod-eu")
    );
    let json = opsdeck::commands::snapshot::to_json(&state);
    let contexts: Vec<&str> = json["latency"]["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"] == "chat-api")
        .map(|s| s["context"].as_str().unwrap())
        .collect();
    assert_eq!(contexts, ["prod-eu", "prod-us"]);
}
