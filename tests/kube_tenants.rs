//! Tenants against the test API server: each namespace's ResourceQuota and what its
//! deployments cost per hour, through `opsdeck snapshot --json`, checked against a hand
//! computation; and the Cost view's Tenants section.

mod support;

use serde_json::{Value, json};
use support::kube_api::Kind;
use support::kube_cluster::cluster;
use support::kube_fixtures as fx;

fn quota(ns: &str, name: &str, hard: Value, used: Value) -> Value {
    json!({
        "metadata": {"name": name, "namespace": ns},
        "spec": {"hard": hard},
        "status": {"hard": hard, "used": used},
    })
}

#[tokio::test]
async fn quotas_and_cost_per_namespace_reach_the_snapshot() {
    let api = cluster().await;
    // cs-prod (from `cluster`): answer-api 4 pods on the spot node, ingest 2 on the
    // on-demand node, each pod requesting 0.5 CPU and 1 GiB. tenant-b: bot, 3 pods on spot.
    api.put(Kind::Deployment, fx::deployment("tenant-b", "bot", 3, 3));
    for i in 0..3 {
        api.put(Kind::Pod, fx::pod("tenant-b", "bot", i, "ip-10-0-1-1"));
    }
    api.put(
        Kind::Quota,
        quota(
            "cs-prod",
            "compute",
            json!({"requests.cpu": "4", "requests.memory": "8Gi", "pods": "10"}),
            json!({"requests.cpu": "3500m", "requests.memory": "6Gi", "pods": "6"}),
        ),
    );
    api.put(
        Kind::Quota,
        quota(
            "tenant-b",
            "gpus",
            json!({"requests.nvidia.com/gpu": "2", "pods": "20"}),
            json!({"requests.nvidia.com/gpu": "2", "pods": "3"}),
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[kubernetes]\nkubeconfig = {:?}\n\n[cost]\nvcpu_hour = 0.04\ngib_hour = 0.005\nspot_multiplier = 0.3\n",
            api.kubeconfig
        ),
    )
    .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(["--config", config.to_str().unwrap(), "snapshot", "--json"])
        .output()
        .await
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let tenants = json["tenants"].as_array().expect("tenants[]");
    assert_eq!(tenants.len(), 2, "{json}");

    // By hand: a pod is 0.5 × $0.04 + 1 × $0.005 = $0.025/h on demand, × 0.3 on spot.
    let spot_pod = 0.025 * 0.3;
    let prod = &tenants[0];
    assert_eq!(prod["namespace"], "cs-prod");
    let want = 4.0 * spot_pod + 2.0 * 0.025;
    let got = prod["cost_per_hour"].as_f64().unwrap();
    assert!((got - want).abs() < 1e-9, "cs-prod {got} vs {want}");
    assert_eq!(
        prod["quota"]["requests.cpu"],
        json!({"used": 3.5, "hard": 4.0})
    );
    assert_eq!(
        prod["quota"]["requests.memory"],
        json!({"used": 6.0 * 1073741824.0, "hard": 8.0 * 1073741824.0})
    );
    assert_eq!(prod["quota"]["pods"], json!({"used": 6.0, "hard": 10.0}));
    // 87.5 % of its CPU: warn.
    assert_eq!(prod["grade"], "warn");

    let b = &tenants[1];
    assert_eq!(b["namespace"], "tenant-b");
    let got = b["cost_per_hour"].as_f64().unwrap();
    assert!((got - 3.0 * spot_pod).abs() < 1e-9, "tenant-b {got}");
    assert_eq!(
        b["quota"]["requests.nvidia.com/gpu"],
        json!({"used": 2.0, "hard": 2.0})
    );
    // Every GPU of its quota in use: the next GPU pod would be refused.
    assert_eq!(b["grade"], "critical");
}
