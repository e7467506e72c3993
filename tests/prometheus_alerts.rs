//! Prometheus' own alerts against a real prometheus evaluating a rule file: the firing one
//! and the pending one reach `snapshot --json` and the Alerts panel with their severity,
//! summary and runbook link.

mod support;

use chrono::Utc;
use opsdeck::config::{Config, PrometheusConfig};
use opsdeck::sources::prometheus::alerts::{fetch, update};
use opsdeck::sources::prometheus::api::Client;
use opsdeck::state::{Msg, State};
use opsdeck::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::{Duration, Instant};
use support::exporter::{Exporter, Model};
use support::prometheus::Prometheus;

const RULES: &str = r#"
groups:
  - name: platform
    interval: 1s
    rules:
      - alert: GatewayErrors
        expr: vector(1)
        labels: {severity: critical, service: llm-gateway}
        annotations:
          summary: "5xx over 1% for llm-gateway"
          runbook_url: "https://runbooks.example/gateway-errors"
      - alert: QueueBacklog
        expr: vector(1)
        for: 1h
        labels: {severity: warning}
        annotations: {summary: "queue over 100"}
"#;

#[tokio::test]
async fn firing_and_pending_alerts_reach_the_snapshot_and_the_alerts_panel() {
    support::install_crypto();
    let exporter = Exporter::start(Model::default());
    let prom = Prometheus::start_with_rules(&[exporter.server.addr], Some(RULES));
    let cfg = PrometheusConfig {
        url: prom.url(),
        ..PrometheusConfig::default()
    };
    let client = Client::new(&cfg).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let alerts = loop {
        let a = fetch(&client).await.unwrap();
        if a.len() == 2 {
            break a;
        }
        assert!(Instant::now() < deadline, "rules never fired: {a:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    // The binary: both alerts in the snapshot's alerts[], beside opsdeck's own.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, format!("[prometheus]\nurl = \"{}\"\n", prom.url())).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(["--config", config.to_str().unwrap(), "snapshot", "--json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let prom_alerts: Vec<&serde_json::Value> = json["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["source"] == "prometheus")
        .collect();
    assert_eq!(prom_alerts.len(), 2, "{json}");
    let gw = prom_alerts[0];
    assert_eq!(gw["name"], "GatewayErrors");
    assert_eq!(gw["state"], "firing");
    assert_eq!(gw["severity"], "critical");
    assert_eq!(gw["message"], "GatewayErrors: 5xx over 1% for llm-gateway");
    assert_eq!(gw["runbook_url"], "https://runbooks.example/gateway-errors");
    assert_eq!(gw["labels"]["service"], "llm-gateway");
    let since = chrono::DateTime::parse_from_rfc3339(gw["since"].as_str().unwrap()).unwrap();
    assert!((Utc::now() - since.with_timezone(&Utc)).num_seconds() < 60);
    let backlog = prom_alerts[1];
    assert_eq!(
        (&backlog["name"], &backlog["state"]),
        (&"QueueBacklog".into(), &"pending".into())
    );
    assert!(backlog["runbook_url"].is_null());

    // The console: the Alerts panel names them, with a text mark for the severity.
    let mut state = State::new(Config::default(), Utc::now(), false);
    state.apply(Msg::Source(update(alerts)));
    let mut terminal = Terminal::new(TestBackend::new(160, 40)).unwrap();
    terminal
        .draw(|f| ui::draw(f, &state, &Theme::default_dark()))
        .unwrap();
    let screen = terminal.backend().to_string();
    assert!(screen.contains("Alerts (2)"), "{screen}");
    assert!(
        screen.contains("!! GatewayErrors: 5xx over 1% for llm-gateway"),
        "{screen}"
    );
    assert!(
        screen.contains("runbook https://runbooks.example/gateway-errors"),
        "{screen}"
    );
    assert!(
        screen.contains("… QueueBacklog: queue over 100 (pending)"),
        "{screen}"
    );
}
