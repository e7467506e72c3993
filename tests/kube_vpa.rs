//! VerticalPodAutoscalers through the real kube client: a cluster without the CRD works as
//! before and is never asked for VPAs; with it, the Scaling view and `snapshot --json` show
//! the VPA of a deployment and follow its recommendation as the recommender rewrites it.

mod support;

use chrono::Utc;
use opsdeck::config::Config;
use opsdeck::sources::kube;
use opsdeck::state::{Msg, State};
use support::kube_api::{Kind, KubeApi};
use support::kube_cluster::{cluster, kcfg, render_scaling, sample_where};
use support::kube_fixtures as fx;
use tokio::sync::mpsc;

const MI: u64 = 1024 * 1024;

fn vpa_requests(api: &KubeApi) -> Vec<String> {
    api.requests()
        .into_iter()
        .filter(|r| r.path.contains("verticalpodautoscalers"))
        .map(|r| format!("{} {}?{}", r.method, r.path, r.query))
        .collect()
}

fn asked_discovery(api: &KubeApi) -> bool {
    api.requests()
        .iter()
        .any(|r| r.path == "/apis/autoscaling.k8s.io/v1")
}

fn snapshot_json(api: &KubeApi, u: opsdeck::sources::SourceUpdate) -> serde_json::Value {
    let config = Config {
        kubernetes: Some(kcfg(api)),
        ..Default::default()
    };
    let mut state = State::new(config, Utc::now(), false);
    state.apply(Msg::Source(u));
    opsdeck::commands::snapshot::to_json(&state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_crd_the_source_works_and_never_asks_for_vpas() {
    let api = cluster().await;
    let (tx, mut rx) = mpsc::channel(64);
    let task = tokio::spawn(kube::run(kcfg(&api), tx));
    let c = sample_where(&mut rx, |c| c.deployments.len() == 2).await;
    assert!(c.deployments.iter().all(|d| d.vpa.is_none()));
    // The source keeps going: a later change still arrives.
    api.put(Kind::Deployment, fx::deployment("cs-prod", "ingest", 3, 3));
    let c = sample_where(&mut rx, |c| c.deployments[1].replicas == 3).await;
    task.abort();
    assert!(asked_discovery(&api), "the source asks discovery first");
    assert_eq!(vpa_requests(&api), Vec::<String>::new());
    let screen = render_scaling(c);
    assert!(!screen.contains("VPA"), "{screen}");
    assert!(!screen.contains("error"), "{screen}");

    api.clear_requests();
    let json = snapshot_json(&api, kube::snapshot(kcfg(&api)).await);
    assert_eq!(json["sources"]["kubernetes"]["status"], "ok");
    assert!(json["deployments"][0]["vpa"].is_null());
    assert_eq!(vpa_requests(&api), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_crd_the_vpa_shows_and_follows_the_recommender() {
    let api = cluster().await;
    api.install_vpa_crd();
    api.put(
        Kind::Vpa,
        fx::vpa("cs-prod", "answer-api", "250m", 512 * MI),
    );
    let (tx, mut rx) = mpsc::channel(64);
    let task = tokio::spawn(kube::run(kcfg(&api), tx));
    let c = sample_where(&mut rx, |c| {
        c.deployments.len() == 2 && c.deployments[0].vpa.is_some()
    })
    .await;
    let v = c.deployments[0].vpa.as_ref().unwrap();
    assert_eq!(
        (v.name.as_str(), v.update_mode.as_str()),
        ("answer-api-vpa", "Auto")
    );
    let k = &v.containers[0];
    assert_eq!(k.name, "answer-api");
    assert_eq!(k.target.cpu_cores, Some(0.25));
    assert_eq!(k.lower_bound.memory_bytes, Some(262_144_000.0));
    assert_eq!(k.upper_bound.cpu_cores, Some(2.0));
    assert_eq!(c.deployments[1].vpa, None, "ingest has no VPA");
    let screen = render_scaling(c);
    assert!(
        screen.contains("VPA Auto: cpu 250m (100m-4) mem 512Mi (128Mi-8Gi)"),
        "{screen}"
    );

    // The recommender raises its target: a MODIFIED event, no relist.
    let lists_before = vpa_requests(&api)
        .iter()
        .filter(|r| !r.contains("watch=true"))
        .count();
    api.put(
        Kind::Vpa,
        fx::vpa("cs-prod", "answer-api", "1500m", 2048 * MI),
    );
    let c = sample_where(&mut rx, |c| {
        c.deployments[0]
            .vpa
            .as_ref()
            .is_some_and(|v| v.containers[0].target.cpu_cores == Some(1.5))
    })
    .await;
    let screen = render_scaling(c);
    assert!(
        screen.contains("VPA Auto: cpu 1.5 (100m-4) mem 2Gi (128Mi-8Gi)"),
        "{screen}"
    );
    let lists_after = vpa_requests(&api)
        .iter()
        .filter(|r| !r.contains("watch=true"))
        .count();
    assert_eq!(lists_before, lists_after, "followed by the watch");

    // Deleting the VPA removes it from the deployment.
    api.delete(Kind::Vpa, "cs-prod", "answer-api-vpa");
    sample_where(&mut rx, |c| c.deployments[0].vpa.is_none()).await;
    task.abort();

    let json = snapshot_json(&api, kube::snapshot(kcfg(&api)).await);
    assert!(json["deployments"][0]["vpa"].is_null());
    api.put(
        Kind::Vpa,
        fx::vpa("cs-prod", "answer-api", "250m", 512 * MI),
    );
    let json = snapshot_json(&api, kube::snapshot(kcfg(&api)).await);
    let v = &json["deployments"][0]["vpa"];
    assert_eq!(v["update_mode"], "Auto");
    assert_eq!(v["containers"][0]["target"]["cpu_cores"], 0.25);
    assert_eq!(
        v["containers"][0]["max_allowed"]["memory_bytes"],
        8.0 * 1024.0 * MI as f64
    );
    assert!(json["deployments"][1]["vpa"].is_null());
}
