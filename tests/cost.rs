//! The cost model end to end: the AI model $/h in `snapshot --json` and the totals of
//! `report --format json` against what the test exporter counted, through a real
//! Prometheus; and the scale dialog's preview against the model's difference.

mod support;

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use opsdeck::config::{Config, KubernetesConfig, NodeClass, PoolPrice};
use opsdeck::sources::{
    ClusterSample, CostInputs, Deployment, Hpa, NodePrice, Payload, SourceKind, SourceUpdate,
};
use opsdeck::state::{Msg, State, View};
use opsdeck::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::process::Command;
use std::time::Duration;
use support::exporter::{Exporter, Model};
use support::prometheus::Prometheus;

const CONFIG: &str = r#"
[cost.models."gpt-4"]
input_per_1k = 0.03
output_per_1k = 0.06
cached_input_per_1k = 0.015

[cost.models."gpt-3.5-turbo"]
input_per_1k = 0.0015
output_per_1k = 0.002
"#;

fn opsdeck(config: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

fn within_a_cent(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() < 0.01, "{what}: opsdeck {got} vs {want}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_and_report_price_what_the_exporter_counted() {
    support::install_crypto();
    let exporter = Exporter::start(Model {
        llm: vec![
            ("gpt-4".into(), 100.0, 50.0),
            ("gpt-3.5-turbo".into(), 1000.0, 400.0),
            ("mystery-llm".into(), 10.0, 10.0),
        ],
        llm_cached: vec![("gpt-4".into(), 20.0)],
        ..Model::default()
    });
    let prom = Prometheus::start(&[exporter.server.addr]);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!("[prometheus]\nurl = \"{}\"\n{CONFIG}", prom.url()),
    )
    .unwrap();
    // rate(...[1m]) is exact once a full minute of scrapes is in the window.
    tokio::time::sleep(Duration::from_secs(63)).await;

    let out = opsdeck(&config, &["snapshot", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let cost = &json["cost"];
    // gpt-4: (100 × 0.03 + 50 × 0.06 + 20 × 0.015) / 1000 × 3600 = 22.68 $/h
    // gpt-3.5-turbo: (1000 × 0.0015 + 400 × 0.002) / 1000 × 3600 = 8.28 $/h
    within_a_cent(cost["by_model"]["gpt-4"].as_f64().unwrap(), 22.68, "gpt-4");
    within_a_cent(
        cost["by_model"]["gpt-3.5-turbo"].as_f64().unwrap(),
        8.28,
        "gpt-3.5-turbo",
    );
    within_a_cent(
        cost["per_hour"]["ai_model"].as_f64().unwrap(),
        30.96,
        "AI model $/h",
    );
    assert_eq!(
        cost["missing_prices"],
        serde_json::json!([
            "no price for model mystery-llm: add [cost.models.\"mystery-llm\"] input_per_1k and output_per_1k"
        ]),
        "{cost}"
    );

    // Stop the tokens and let Prometheus scrape the final counters, so "what the exporter
    // counted" is one fixed number per series.
    exporter.set(|m| {
        for l in &mut m.llm {
            (l.1, l.2) = (0.0, 0.0);
        }
        m.llm_cached[0].1 = 0.0;
    });
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let last = exporter.counters();
    let first = exporter.first_scrape();
    let counted = |model: &str, direction: &str| {
        let key = format!("llm_tokens_total{{model=\"{model}\",direction=\"{direction}\"}}");
        last[&key] - first[&key]
    };
    let gpt4 = (
        counted("gpt-4", "input"),
        counted("gpt-4", "output"),
        counted("gpt-4", "cached_input"),
    );
    let gpt35 = (
        counted("gpt-3.5-turbo", "input"),
        counted("gpt-3.5-turbo", "output"),
    );
    let want_gpt4 = (gpt4.0 * 0.03 + gpt4.1 * 0.06 + gpt4.2 * 0.015) / 1000.0;
    let want_gpt35 = (gpt35.0 * 0.0015 + gpt35.1 * 0.002) / 1000.0;
    assert!(
        want_gpt4 + want_gpt35 > 0.5,
        "a minute of tokens was counted"
    );

    let out = opsdeck(&config, &["report", "--period", "day", "--format", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    // Parts are missing (no kube-state-metrics, a model without a price): exit 1.
    assert_eq!(out.status.code(), Some(1), "{report}\n{stderr}");
    let model = |name: &str| {
        report["by_model"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["model"] == name)
            .unwrap_or_else(|| panic!("{name} in {report}"))
            .clone()
    };
    let m4 = model("gpt-4");
    for (field, want) in [
        ("input_tokens", gpt4.0),
        ("output_tokens", gpt4.1),
        ("cached_input_tokens", gpt4.2),
    ] {
        let got = m4[field].as_f64().unwrap();
        assert!(
            (got - want).abs() < 1e-6 * want,
            "gpt-4 {field}: {got} vs {want}"
        );
    }
    within_a_cent(
        m4["cost"].as_f64().unwrap(),
        want_gpt4,
        "gpt-4 over the day",
    );
    within_a_cent(
        model("gpt-3.5-turbo")["cost"].as_f64().unwrap(),
        want_gpt35,
        "gpt-3.5-turbo over the day",
    );
    assert!(model("mystery-llm")["cost"].is_null(), "{report}");
    let totals = &report["totals"];
    println!(
        "snapshot AI model {} $/h (want 30.96); report AI model {} vs counted {}",
        cost["per_hour"]["ai_model"],
        totals["ai_model"],
        want_gpt4 + want_gpt35
    );
    within_a_cent(
        totals["ai_model"].as_f64().unwrap(),
        want_gpt4 + want_gpt35,
        "AI model over the day",
    );
    // The Cost view's "today" is the same window from local midnight, when the whole test
    // ran today.
    let now = chrono::Utc::now();
    if opsdeck::sources::prometheus::today::midnight(now) < now - chrono::Duration::seconds(90) {
        let out = opsdeck(&config, &["snapshot", "--json"]);
        let snap: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let today = &snap["cost"]["today"];
        within_a_cent(
            today["total"].as_f64().unwrap_or(f64::NAN),
            want_gpt4 + want_gpt35,
            "spend today",
        );
        assert!(
            today["missing"]
                .as_array()
                .is_some_and(|m| m.iter().any(|x| x.as_str().unwrap().starts_with("compute"))),
            "{today}"
        );
    }
    // Missing is missing: null and named, never zero.
    assert!(totals["compute"].is_null(), "{totals}");
    assert_eq!(report["complete"], false);
    let missing: Vec<String> = report["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            format!(
                "{}: {}",
                g["part"].as_str().unwrap(),
                g["reason"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        missing.contains(
            &"compute: no kube-state-metrics series kube_deployment_status_replicas in Prometheus"
                .to_string()
        ),
        "{missing:?}"
    );
    assert!(
        missing
            .iter()
            .any(|m| m.starts_with("ai_model: no price for model mystery-llm")),
        "{missing:?}"
    );
    // The day before had no tokens: no change figure rather than +100 %.
    assert!(report["change"]["total"].is_null(), "{report}");
    assert!(report["previous"]["ai_model"].is_null(), "{report}");

    let out = opsdeck(&config, &["report", "--period", "day"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(table.contains("not computed"), "{table}");
    assert!(table.contains("kube_deployment_status_replicas"), "{table}");
    let out = opsdeck(&config, &["report", "--period", "week", "--format", "csv"]);
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(
        csv.starts_with("kind,name,cost,previous_cost,detail\n"),
        "{csv}"
    );
    assert!(csv.contains("\nmissing,compute,,,"), "{csv}");
}

#[test]
fn report_without_prometheus_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[redis]\nurl = \"redis://127.0.0.1:1/0\"\n").unwrap();
    let out = opsdeck(&config, &["report", "--period", "month"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("[prometheus]"), "{stderr}");
}

fn dep(name: &str, pool: &str, cpu: f64, mem: f64, gpus: u32, replicas: u32) -> Deployment {
    Deployment {
        namespace: "cs-prod".into(),
        name: name.into(),
        replicas,
        ready: replicas,
        available: replicas,
        cpu_request_cores: cpu,
        memory_request_gib: mem,
        gpus,
        pool: pool.into(),
        ..Default::default()
    }
}

/// A cluster with a plain deployment on spot, an HPA-owned GPU deployment priced by
/// OpenCost and its pool table, and a GPU deployment in a pool without a GPU price.
fn cluster_state() -> State {
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 15, 30, 0).unwrap();
    let mut config = Config {
        kubernetes: Some(KubernetesConfig::default()),
        ..Config::default()
    };
    config.cost.pools.insert(
        "gpu-a100".into(),
        PoolPrice {
            gpu_hour: Some(4.0),
            class: Some(NodeClass::OnDemand),
            instance_type: Some("p4d".into()),
            ..Default::default()
        },
    );
    config
        .cost
        .pools
        .insert("gpu-h100".into(), PoolPrice::default());
    let mut state = State::new(config, now, false);
    let mut embed = dep("embed", "gpu-a100", 4.0, 16.0, 1, 4);
    embed.hpa = Some(Hpa {
        name: "embed-hpa".into(),
        min: 2,
        max: 10,
        current: 4,
        desired: 4,
        ..Default::default()
    });
    let deployments = vec![
        dep("api", "cpu-spot", 2.0, 4.0, 0, 3),
        embed,
        dep("rerank", "gpu-h100", 4.0, 16.0, 1, 1),
    ];
    let mut inputs = CostInputs::default();
    inputs.node_prices.insert(
        "p4d".into(),
        NodePrice {
            vcpu_hour: Some(0.05),
            gib_hour: Some(0.01),
            gpu_hour: None,
        },
    );
    for (source, payload) in [
        (
            SourceKind::Prometheus,
            Payload::CostInputs(Box::new(inputs)),
        ),
        (
            SourceKind::Kubernetes,
            Payload::Cluster(Box::new(ClusterSample {
                deployments,
                ..Default::default()
            })),
        ),
    ] {
        state.apply(Msg::Source(SourceUpdate {
            context: None,
            at: now,
            source,
            payload: Ok(payload),
        }));
    }
    state
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

/// Opens the scale dialog on deployment `i`, types `input` and renders the screen.
fn preview(i: usize, input: &str) -> (State, String) {
    let mut state = cluster_state();
    state.view = View::Scaling;
    state.selected = i;
    state.apply(key('s'));
    for c in input.chars() {
        state.apply(key(c));
    }
    let mut terminal = Terminal::new(TestBackend::new(100, 32)).unwrap();
    terminal
        .draw(|f| ui::draw(f, &state, &Theme::default_dark()))
        .unwrap();
    (state, terminal.backend().to_string())
}

#[test]
fn scale_preview_equals_the_models_difference_and_shows_its_basis() {
    // (deployment, typed, replicas after, hand-computed $/h change, the line shown)
    let cases = [
        // 4 more spot pods of (2 × 0.04 + 4 × 0.005) × 0.3 = 0.03: +0.12
        (0, "7", 7, 0.12, "+4 pods × $0.03/h = +$0.12/h"),
        (0, "1", 1, -0.06, "-2 pods × $0.03/h = -$0.06/h"),
        // HPA min 6 over 4 running: +2 pods at OpenCost CPU/RAM and the pool's GPU:
        // 4 × 0.05 + 16 × 0.01 + 4.0 = 4.36 each.
        (1, "6", 6, 8.72, "+2 pods × $4.36/h = +$8.72/h"),
        // HPA min 3 under 4 running moves nothing.
        (
            1,
            "3",
            4,
            0.0,
            "no change in pods: cost unchanged ($4.36/h a pod)",
        ),
    ];
    for (i, typed, to, by_hand, want) in cases {
        let (state, screen) = preview(i, typed);
        let d = state.visible_deployments()[i].clone();
        let model = state.replica_change_per_hour(&d, d.replicas, to).unwrap();
        assert!(
            (model - by_hand).abs() < 1e-9,
            "{}: {model} vs {by_hand}",
            d.name
        );
        assert!(
            screen.contains(want),
            "{} → {typed}: want {want:?} in\n{screen}",
            d.name
        );
    }
    let (_, screen) = preview(2, "2");
    assert!(
        screen.contains("+1 pod, cost unknown: no GPU price for pool gpu-h100"),
        "{screen}"
    );
}

#[test]
fn cost_view_names_price_sources_and_unpriced_parts() {
    let mut state = cluster_state();
    state.view = View::Cost;
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    terminal
        .draw(|f| ui::draw(f, &state, &Theme::default_dark()))
        .unwrap();
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains("not counted: no GPU price for pool gpu-h100"),
        "{screen}"
    );
    assert!(screen.contains("PRICE"), "{screen}");
    assert!(screen.contains("opencost"), "{screen}");
    assert!(screen.contains("OpenCost: p4d"), "{screen}");
    assert!(screen.contains("no price"), "{screen}");
    // 3 × 0.03 + 4 × 4.36 = 17.53 $/h; the unpriced pod is left out, not counted as 0.
    let c = state.cost.as_ref().unwrap();
    assert!(
        (c.per_hour.compute - 17.53).abs() < 1e-9,
        "{}",
        c.per_hour.compute
    );
}
