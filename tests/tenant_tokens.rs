//! AI tokens per tenant through a real Prometheus: token queries grouped by model and
//! namespace give each model's rate summed over its namespaces (not the last series read),
//! and each namespace's AI $/h in `snapshot --json` `tenants[]`, checked by hand.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};
use support::exporter::{Exporter, Model};
use support::prometheus::Prometheus;

const PRICES: &str = r#"
[cost.models."gpt-4"]
input_per_1k = 0.03
output_per_1k = 0.06

[cost.models."gpt-3.5-turbo"]
input_per_1k = 0.0015
output_per_1k = 0.002
"#;

fn snapshot(config: &std::path::Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .arg("--config")
        .arg(config)
        .args(["snapshot", "--json"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

fn near(got: &serde_json::Value, want: f64, what: &str) -> bool {
    got.as_f64()
        .is_some_and(|g| (g - want).abs() <= want * 0.01 + 1e-9)
        || {
            eprintln!("{what}: {got} (want {want})");
            false
        }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_ai_cost_from_token_queries_grouped_by_namespace() {
    support::install_crypto();
    let exporter = Exporter::start(Model {
        llm: Vec::new(),
        llm_by_namespace: vec![
            ("cs-prod".into(), "gpt-4".into(), 60.0, 30.0),
            ("cs-trial".into(), "gpt-4".into(), 40.0, 20.0),
            ("cs-trial".into(), "gpt-3.5-turbo".into(), 1000.0, 400.0),
        ],
        ..Model::default()
    });
    let prom = Prometheus::start(&[exporter.server.addr]);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let query = |direction: &str| {
        format!(
            "sum by (model, namespace) (rate(llm_tokens_total{{direction=\\\"{direction}\\\"}}[5s]))"
        )
    };
    std::fs::write(
        &config,
        format!(
            "[prometheus]\nurl = \"{}\"\n[prometheus.queries]\n\
             llm_input_tokens_per_sec = \"{}\"\nllm_output_tokens_per_sec = \"{}\"\n{PRICES}",
            prom.url(),
            query("input"),
            query("output"),
        ),
    )
    .unwrap();

    // gpt-4 over both namespaces: (100 × 0.03 + 50 × 0.06) / 1000 × 3600 = 21.6 $/h.
    // cs-prod: (60 × 0.03 + 30 × 0.06) × 3.6 = 12.96; cs-trial: gpt-4 8.64 + gpt-3.5-turbo
    // (1000 × 0.0015 + 400 × 0.002) × 3.6 = 8.28, 16.92 in all.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let json = snapshot(&config);
        let cost = &json["cost"];
        let tenants = json["tenants"].as_array().cloned().unwrap_or_default();
        let tenant = |ns: &str| {
            tenants
                .iter()
                .find(|t| t["namespace"] == ns)
                .cloned()
                .unwrap_or_default()
        };
        let (prod, trial) = (tenant("cs-prod"), tenant("cs-trial"));
        let ok = near(&cost["by_model"]["gpt-4"], 21.6, "gpt-4")
            && near(&cost["by_model"]["gpt-3.5-turbo"], 8.28, "gpt-3.5-turbo")
            && near(&prod["ai_per_hour"], 12.96, "cs-prod AI")
            && near(&prod["cost_per_hour"], 12.96, "cs-prod cost")
            && near(&trial["ai_per_hour"], 16.92, "cs-trial AI")
            && tenants.len() == 2
            && trial["cost_partial"] == false;
        if ok {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no per-namespace AI cost within 60 s: {json}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
