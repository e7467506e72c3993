//! No verdict without evidence, against the test API server and no Prometheus: an HPA at its
//! max with CPU over target says "up (at max)" (from the HPA's own currentMetrics) in the
//! snapshot (JSON, text, the real binary) and on the Scaling and Overview views; a
//! deployment without an HPA says `?`, never "hold".

mod support;

use chrono::Utc;
use opsdeck::config::Config;
use opsdeck::sources::{SourceUpdate, kube};
use opsdeck::state::{Msg, State, View};
use opsdeck::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::process::{Command, Stdio};
use support::kube_api::{Kind, KubeApi};
use support::kube_cluster::kcfg;
use support::kube_fixtures as fx;

/// llm-gateway at its HPA's max (20) with CPU at 91 % of a 70 % target, and ingest without
/// an HPA.
async fn cluster() -> KubeApi {
    let api = KubeApi::start().await;
    api.put(Kind::Node, fx::node("ip-10-0-1-1", "m6i.2xlarge", "spot"));
    api.put(
        Kind::Deployment,
        fx::deployment("cs-prod", "llm-gateway", 20, 20),
    );
    api.put(
        Kind::Hpa,
        fx::hpa("cs-prod", "llm-gateway", 2, 20, 20, Some(91), None),
    );
    api.put(Kind::Deployment, fx::deployment("cs-prod", "ingest", 2, 2));
    api
}

fn state(api: &KubeApi, u: SourceUpdate) -> State {
    let config = Config {
        kubernetes: Some(kcfg(api)),
        ..Default::default()
    };
    let mut state = State::new(config, Utc::now(), false);
    state.apply(Msg::Source(u));
    state
}

fn render(state: &State, view: View, w: u16, h: u16) -> String {
    let mut state = state.clone();
    state.view = view;
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::draw(f, &state, &Theme::default_dark()))
        .unwrap();
    t.backend().to_string()
}

/// The snapshot's deployment named `name`.
fn deployment<'a>(json: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    json["deployments"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["name"] == name))
        .unwrap_or_else(|| panic!("no deployment {name} in {json:#}"))
}

/// The screen line holding `needle`.
fn line_with<'a>(screen: &'a str, needle: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in\n{screen}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hpa_at_max_over_target_wants_up_and_cannot_and_no_hpa_no_prometheus_is_unknown() {
    let api = cluster().await;
    let state = state(&api, kube::snapshot(kcfg(&api)).await);

    let json = opsdeck::commands::snapshot::to_json(&state);
    let gw = &deployment(&json, "llm-gateway")["verdict"];
    assert_eq!(gw["direction"], "up", "{json:#}");
    assert_eq!(gw["at_limit"], true, "{json:#}");
    assert_eq!(
        gw["reasons"],
        serde_json::json!(["cpu 91% > 70% (HPA)", "HPA at max 20"])
    );
    let ingest = &deployment(&json, "ingest")["verdict"];
    assert_eq!(ingest["direction"], "unknown", "{json:#}");
    assert_eq!(ingest["at_limit"], false);
    assert_eq!(
        ingest["reasons"],
        serde_json::json!([
            "cpu unknown",
            "memory unknown",
            "queue unknown",
            "p95 unknown"
        ])
    );
    let text = opsdeck::commands::snapshot::to_text(&state);
    assert!(
        text.contains("llm-gateway 20/20 ready, rules: up (at max)"),
        "{text}"
    );
    assert!(text.contains("ingest 2/2 ready, rules: ?"), "{text}");

    // The Scaling view, wide and at 80 columns: the table's RULES column and the detail.
    for (w, h) in [(160, 48), (80, 24)] {
        let screen = render(&state, View::Scaling, w, h);
        let row = line_with(&screen, "llm-gateway");
        assert!(row.contains("up (at max)"), "{screen}");
        // The CPU the verdict used is shown, from the HPA: 91 % of its 70 % target.
        assert!(row.contains("91%"), "{screen}");
        assert!(!row.contains("hold"), "{screen}");
        let row = line_with(&screen, "ingest");
        assert!(row.split_whitespace().any(|cell| cell == "?"), "{screen}");
        assert!(!row.contains("hold"), "{screen}");
        // The detail of the selected deployment: ingest first, then llm-gateway, whose
        // figures come from the HPA's status and say so.
        assert!(
            screen.contains("seed rules: ? — cpu unknown, memory unknown"),
            "{screen}"
        );
        let mut selected = state.clone();
        selected.selected = 1;
        let screen = render(&selected, View::Scaling, w, h);
        assert!(
            screen.contains("seed rules: up (at max) — cpu 91% > 70%"),
            "{screen}"
        );
        assert!(screen.contains("the HPA's status"), "{screen}");
        assert!(!screen.contains("rules and HPA differ"), "{screen}");
    }
    // The Overview's deployment table (wide layout).
    let screen = render(&state, View::Overview, 160, 48);
    assert!(
        line_with(&screen, "llm-gateway").contains("up (at max)"),
        "{screen}"
    );
    assert!(!line_with(&screen, "ingest").contains("hold"), "{screen}");
}

/// The real binary's `snapshot --json` against the same cluster, configured with only
/// `[kubernetes]`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_snapshot_says_up_at_max_and_unknown() {
    let api = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[kubernetes]\nkubeconfig = \"{}\"\n",
            api.kubeconfig.display()
        ),
    )
    .unwrap();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_opsdeck"))
            .arg("--config")
            .arg(&path)
            .args(["snapshot", "--json"])
            .stdin(Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    let gw = &deployment(&json, "llm-gateway")["verdict"];
    assert_eq!(gw["direction"], "up", "{json:#}");
    assert_eq!(gw["at_limit"], true, "{json:#}");
    assert_eq!(
        deployment(&json, "ingest")["verdict"]["direction"],
        "unknown"
    );
    assert_eq!(json["sources"]["prometheus"]["status"], "disabled");
}
