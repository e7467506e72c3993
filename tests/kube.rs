//! The real kube client against the loopback test API server: the source shows what the
//! server holds and follows its watch events; scaling patches the right object with a
//! precondition; 403 and 409 read clearly; out-of-bounds input sends no request.

mod support;

use chrono::Utc;
use opsdeck::config::Config;
use opsdeck::ops::audit::Audit;
use opsdeck::ops::scale::cli::{self as scale_cli, Prompt, ScaleCommand};
use opsdeck::ops::scale::{PlannedChange, ScaleError, ScaleRequest, ScaleTarget, Scaler};
use opsdeck::sources::{ClusterSample, kube};
use opsdeck::state::{Msg, State};
use std::time::Duration;
use support::kube_api::{Kind, KubeApi};
use support::kube_cluster::{cluster, kcfg, render_scaling, sample_where};
use support::kube_fixtures as fx;
use tokio::sync::mpsc;

fn names(c: &ClusterSample) -> Vec<String> {
    c.deployments.iter().map(|d| d.name.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_shows_the_cluster_and_follows_watch_events() {
    let api = cluster().await;
    let (tx, mut rx) = mpsc::channel(64);
    let task = tokio::spawn(kube::run(kcfg(&api), tx));

    let c = sample_where(&mut rx, |c| c.deployments.len() == 2).await;
    assert_eq!(c.context, "test-ctx");
    assert_eq!(names(&c), ["answer-api", "ingest"]);
    let d = &c.deployments[0];
    assert_eq!((d.replicas, d.ready, d.available, d.updated), (4, 4, 4, 4));
    assert_eq!(d.pool, "cpu-spot");
    assert_eq!(c.deployments[1].pool, "gpu-ondemand");
    assert!((d.cpu_request_cores - 0.5).abs() < 1e-9);
    assert!((d.memory_request_gib - 1.0).abs() < 1e-9);
    let h = d.hpa.as_ref().expect("answer-api has its HPA");
    assert_eq!((h.min, h.max, h.current, h.desired), (2, 20, 4, 4));
    let m: Vec<_> = h
        .metrics
        .iter()
        .map(|m| (m.name.as_str(), m.current, m.target, m.unit.as_str()))
        .collect();
    assert_eq!(
        m,
        [
            ("cpu", Some(140.0), 70.0, "%"),
            ("memory", Some(55.0), 80.0, "%"),
            ("queue_length", None, 100.0, ""),
        ]
    );
    // CPU at twice its target asks for 8; the scale-up policy (100 % or 4 pods per 15 s)
    // allows it in one step.
    let next = h.next.as_ref().expect("a next move from the known metrics");
    assert_eq!(next.replicas, 8);
    assert_eq!(
        h.behavior,
        "up 100%/15s or 4 pods/15s (larger), no window · down 50%/60s, 300s window"
    );
    let pools: Vec<_> = c
        .pools
        .iter()
        .map(|p| (p.name.as_str(), p.nodes, p.pods, p.spot))
        .collect();
    assert_eq!(
        pools,
        [("cpu-spot", 1, 4, true), ("gpu-ondemand", 1, 2, false)]
    );
    let screen = render_scaling(c);
    // The HPA's queue metric has no reading: said so (the line may wrap before it).
    assert!(screen.contains("unknown/100"), "{screen}");
    assert!(screen.contains("cpu-spot"), "{screen}");

    // Watch events: a rollout in progress, a deployment removed, a bookmark.
    api.put(
        Kind::Deployment,
        fx::deployment("cs-prod", "answer-api", 6, 4),
    );
    let c = sample_where(&mut rx, |c| c.deployments[0].replicas == 6).await;
    assert_eq!(c.deployments[0].ready, 4);
    api.bookmark();
    api.delete(Kind::Deployment, "cs-prod", "ingest");
    let c = sample_where(&mut rx, |c| c.deployments.len() == 1).await;
    assert_eq!(names(&c), ["answer-api"]);

    // 410 Gone: the watches end, the source relists and follows the new history.
    api.expire_watches();
    api.put(Kind::Deployment, fx::deployment("cs-prod", "rerank", 3, 3));
    let c = sample_where(&mut rx, |c| names(c) == ["answer-api", "rerank"]).await;
    assert_eq!(c.deployments[1].replicas, 3);
    let relists = api
        .requests()
        .iter()
        .filter(|r| r.path == "/apis/apps/v1/deployments" && !r.query.contains("watch=true"))
        .count();
    assert!(relists >= 2, "expected a relist after 410");
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_source_reports_a_forbidden_list_as_an_error() {
    let api = cluster().await;
    api.forbid("list", "pods");
    let (tx, mut rx) = mpsc::channel(64);
    let task = tokio::spawn(kube::run(kcfg(&api), tx));
    let u = tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .unwrap()
        .unwrap();
    let e = u.payload.expect_err("a forbidden list is an error");
    assert!(e.contains("forbidden") && e.contains("pods"), "{e}");
    assert!(e.contains("deploy/rbac.yaml"), "{e}");
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_lists_deployments_with_hpa_and_verdict() {
    let api = cluster().await;
    let u = kube::snapshot(kcfg(&api)).await;
    let config = Config {
        kubernetes: Some(kcfg(&api)),
        ..Default::default()
    };
    let mut state = State::new(config, Utc::now(), false);
    state.apply(Msg::Source(u));
    let json = opsdeck::commands::snapshot::to_json(&state);
    let d = &json["deployments"];
    assert_eq!(d[0]["name"], "answer-api");
    assert_eq!(d[0]["hpa"]["min"], 2);
    assert_eq!(d[0]["hpa"]["max"], 20);
    assert_eq!(d[0]["hpa"]["current"], 4);
    assert_eq!(d[1]["name"], "ingest");
    assert!(d[1]["hpa"].is_null());
    // No Prometheus and no HPA: nothing to decide on.
    assert_eq!(d[1]["verdict"]["direction"], "unknown");
    assert_eq!(json["sources"]["kubernetes"]["status"], "ok");
}

fn scaler(api: &KubeApi, client: ::kube::Client, dir: &tempfile::TempDir) -> Scaler {
    let _ = api;
    Scaler {
        client,
        max_replicas: 50,
        audit: Audit::new(dir.path().join("audit.jsonl")),
        who: Default::default(),
    }
}

async fn client(api: &KubeApi) -> ::kube::Client {
    kube::connect(&kcfg(api)).await.unwrap().0
}

fn req(name: &str, target: ScaleTarget) -> ScaleRequest {
    ScaleRequest {
        context: None,
        namespace: "cs-prod".into(),
        name: name.into(),
        target,
    }
}

fn patches(api: &KubeApi) -> Vec<(String, String, String)> {
    api.requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| (r.path, r.query, r.body))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_patches_the_scale_subresource_with_a_precondition() {
    let api = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    let s = scaler(&api, client(&api).await, &dir);
    let rv = api.get(Kind::Deployment, "cs-prod", "ingest").unwrap()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let plan = s
        .plan(&req("ingest", ScaleTarget::Replicas(5)))
        .await
        .unwrap();
    assert_eq!(plan.change, PlannedChange::Replicas { from: 2, to: 5 });
    let done = s.apply(&plan, false).await.unwrap();
    assert_eq!(done, "cs-prod/ingest: replicas 2 → 5");
    let p = patches(&api);
    assert_eq!(p.len(), 1);
    assert_eq!(
        p[0].0,
        "/apis/apps/v1/namespaces/cs-prod/deployments/ingest/scale"
    );
    let body: serde_json::Value = serde_json::from_str(&p[0].2).unwrap();
    assert_eq!(body["metadata"]["resourceVersion"], rv.as_str());
    assert_eq!(body["spec"]["replicas"], 5);
    let now = api.get(Kind::Deployment, "cs-prod", "ingest").unwrap();
    assert_eq!(now["spec"]["replicas"], 5);
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    let outcomes: Vec<String> = audit
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["outcome"].to_string())
        .collect();
    assert_eq!(outcomes, ["\"started\"", "\"ok\""]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_asks_the_server_to_store_nothing() {
    let api = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    let s = scaler(&api, client(&api).await, &dir);
    let plan = s
        .plan(&req("ingest", ScaleTarget::Replicas(7)))
        .await
        .unwrap();
    let done = s.apply(&plan, true).await.unwrap();
    assert!(done.contains("dry run"), "{done}");
    assert!(patches(&api)[0].1.contains("dryRun=All"));
    let now = api.get(Kind::Deployment, "cs-prod", "ingest").unwrap();
    assert_eq!(now["spec"]["replicas"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hpa_owned_deployment_gets_an_hpa_edit() {
    let api = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    let s = scaler(&api, client(&api).await, &dir);
    let plan = s
        .plan(&req("answer-api", ScaleTarget::Replicas(6)))
        .await
        .unwrap();
    assert!(
        plan.note
            .as_deref()
            .unwrap()
            .contains("HPA answer-api-hpa owns"),
        "{plan:?}"
    );
    assert_eq!(
        plan.change,
        PlannedChange::Hpa {
            hpa: "answer-api-hpa".into(),
            min: (2, 6),
            max: (20, 20)
        }
    );
    s.apply(&plan, false).await.unwrap();
    let p = patches(&api);
    assert_eq!(p.len(), 1, "only the HPA is patched: {p:?}");
    assert_eq!(
        p[0].0,
        "/apis/autoscaling/v2/namespaces/cs-prod/horizontalpodautoscalers/answer-api-hpa"
    );
    let hpa = api.get(Kind::Hpa, "cs-prod", "answer-api-hpa").unwrap();
    assert_eq!(hpa["spec"]["minReplicas"], 6);
    assert_eq!(hpa["spec"]["maxReplicas"], 20);
    // The rest of the HPA is untouched by the merge patch.
    assert_eq!(hpa["spec"]["metrics"].as_array().unwrap().len(), 3);

    let plan = s
        .plan(&req(
            "answer-api",
            ScaleTarget::Hpa {
                min: 3,
                max: Some(30),
            },
        ))
        .await
        .unwrap();
    s.apply(&plan, false).await.unwrap();
    let hpa = api.get(Kind::Hpa, "cs-prod", "answer-api-hpa").unwrap();
    assert_eq!(
        (
            hpa["spec"]["minReplicas"].as_u64(),
            hpa["spec"]["maxReplicas"].as_u64()
        ),
        (Some(3), Some(30))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_names_the_verb_and_resource() {
    let api = cluster().await;
    api.forbid("patch", "deployments/scale");
    api.forbid("patch", "horizontalpodautoscalers");
    let dir = tempfile::tempdir().unwrap();
    let s = scaler(&api, client(&api).await, &dir);
    let plan = s
        .plan(&req("ingest", ScaleTarget::Replicas(3)))
        .await
        .unwrap();
    let e = s.apply(&plan, false).await.unwrap_err().to_string();
    assert!(
        e.starts_with("cs-prod/ingest: forbidden: the role cannot patch deployments/scale in namespace cs-prod"),
        "{e}"
    );
    assert!(e.contains("deploy/rbac.yaml"), "{e}");
    let plan = s
        .plan(&req("answer-api", ScaleTarget::Replicas(3)))
        .await
        .unwrap();
    let e = s.apply(&plan, false).await.unwrap_err().to_string();
    assert!(e.contains("cannot patch horizontalpodautoscalers"), "{e}");
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert!(
        audit
            .lines()
            .last()
            .unwrap()
            .contains("\"outcome\":\"failed\"")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_rereads_and_reports_the_new_state() {
    let api = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    let s = scaler(&api, client(&api).await, &dir);
    // The operator looks; someone scales it after that.
    let plan = s
        .plan(&req("ingest", ScaleTarget::Replicas(3)))
        .await
        .unwrap();
    api.put(Kind::Deployment, fx::deployment("cs-prod", "ingest", 9, 9));
    let e = s.apply(&plan, false).await.unwrap_err();
    assert!(matches!(e, ScaleError::Conflict { .. }));
    let e = e.to_string();
    assert!(
        e.starts_with("cs-prod/ingest: changed since it was read; it is now 9 replicas"),
        "{e}"
    );
    assert_eq!(
        api.get(Kind::Deployment, "cs-prod", "ingest").unwrap()["spec"]["replicas"],
        9
    );
}

/// Answers for the operator and records what the command said.
#[derive(Default)]
struct Script {
    interactive: bool,
    answers: Vec<bool>,
    said: Vec<String>,
}

impl Prompt for Script {
    fn interactive(&self) -> bool {
        self.interactive
    }
    fn confirm(&mut self, q: &str) -> bool {
        self.said.push(format!("? {q}"));
        self.answers.pop().unwrap_or(false)
    }
    fn typed(&mut self, q: &str, expected: &str) -> bool {
        self.said.push(format!("? {q} [{expected}]"));
        self.answers.pop().unwrap_or(false)
    }
    fn out(&mut self, line: &str) {
        self.said.push(line.into());
    }
    fn err(&mut self, line: &str) {
        self.said.push(line.into());
    }
}

async fn headless(api: &KubeApi, target: ScaleTarget, yes: bool, prompt: &mut Script) -> u8 {
    headless_in(api, &kcfg(api), target, yes, None, prompt).await
}

async fn headless_in(
    api: &KubeApi,
    k: &opsdeck::config::KubernetesConfig,
    target: ScaleTarget,
    yes: bool,
    confirm: Option<&str>,
    prompt: &mut Script,
) -> u8 {
    let _ = api;
    let dir = tempfile::tempdir().unwrap();
    let cmd = ScaleCommand {
        request: req("ingest", target),
        dry_run: false,
        yes,
        confirm: confirm.map(String::from),
    };
    scale_cli::run(
        k,
        50,
        Audit::new(dir.path().join("audit.jsonl")),
        cmd,
        prompt,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_bounds_input_is_refused_before_any_request() {
    let api = cluster().await;
    api.clear_requests();
    for target in [
        ScaleTarget::Replicas(51),
        ScaleTarget::Hpa { min: 0, max: None },
        ScaleTarget::Hpa {
            min: 5,
            max: Some(3),
        },
        ScaleTarget::Hpa {
            min: 2,
            max: Some(80),
        },
    ] {
        let mut p = Script::default();
        assert_eq!(headless(&api, target, true, &mut p).await, 3, "{target:?}");
        assert!(p.said[0].contains("refused"), "{:?}", p.said);
        assert!(api.requests().is_empty(), "{target:?} sent a request");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_scale_confirms_on_a_terminal_and_refuses_without_one() {
    let api = cluster().await;
    // No terminal and no --yes: the preview is shown, nothing is patched, exit 3.
    let mut p = Script::default();
    assert_eq!(
        headless(&api, ScaleTarget::Replicas(4), false, &mut p).await,
        3
    );
    assert!(p.said[0].contains("replicas 2 → 4"), "{:?}", p.said);
    assert!(p.said.last().unwrap().contains("--yes"));
    assert!(patches(&api).is_empty());
    // A terminal answering no: exit 3, nothing patched.
    let mut p = Script {
        interactive: true,
        ..Default::default()
    };
    assert_eq!(
        headless(&api, ScaleTarget::Replicas(4), false, &mut p).await,
        3
    );
    assert!(patches(&api).is_empty());
    // Yes: done, exit 0.
    let mut p = Script {
        interactive: true,
        answers: vec![true],
        ..Default::default()
    };
    assert_eq!(
        headless(&api, ScaleTarget::Replicas(4), false, &mut p).await,
        0
    );
    assert_eq!(
        api.get(Kind::Deployment, "cs-prod", "ingest").unwrap()["spec"]["replicas"],
        4
    );
    // A 403 fails with exit 1 and the message.
    api.forbid("patch", "deployments/scale");
    let mut p = Script::default();
    assert_eq!(
        headless(&api, ScaleTarget::Replicas(3), true, &mut p).await,
        1
    );
    assert!(
        p.said
            .last()
            .unwrap()
            .contains("cannot patch deployments/scale")
    );
}

/// `[kubernetes] production`: a script must name the deployment with --confirm; a person at
/// the terminal types it. Nothing is patched otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_scale_in_production_wants_the_name_typed() {
    let api = cluster().await;
    let mut prod = kcfg(&api);
    prod.production = true;
    let mut p = Script::default();
    let code = headless_in(&api, &prod, ScaleTarget::Replicas(3), true, None, &mut p).await;
    assert_eq!(code, 3);
    assert!(
        p.said.last().unwrap().contains("--confirm ingest"),
        "{:?}",
        p.said
    );
    let mut p = Script::default();
    let code = headless_in(
        &api,
        &prod,
        ScaleTarget::Replicas(3),
        true,
        Some("answer-api"),
        &mut p,
    )
    .await;
    assert_eq!(code, 3, "the wrong name");
    assert!(patches(&api).is_empty());
    // At a terminal: y is not enough, the name is asked for.
    let mut p = Script {
        interactive: true,
        answers: vec![true],
        ..Default::default()
    };
    let code = headless_in(&api, &prod, ScaleTarget::Replicas(3), false, None, &mut p).await;
    assert_eq!(code, 0);
    assert!(
        p.said.iter().any(|l| l.ends_with("[ingest]")),
        "{:?}",
        p.said
    );
    let mut p = Script::default();
    let code = headless_in(
        &api,
        &prod,
        ScaleTarget::Replicas(4),
        true,
        Some("ingest"),
        &mut p,
    )
    .await;
    assert_eq!(code, 0, "{:?}", p.said);
    assert_eq!(
        api.get(Kind::Deployment, "cs-prod", "ingest").unwrap()["spec"]["replicas"],
        4
    );
}

/// Scale audit lines name the kube context and the identity the server sees; this server
/// does not serve SelfSubjectReview, so the kubeconfig's user for the context stands in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_audit_lines_name_the_context_and_identity() {
    let api = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    let cmd = ScaleCommand {
        request: req("ingest", ScaleTarget::Replicas(3)),
        dry_run: false,
        yes: true,
        confirm: None,
    };
    let audit = Audit::new(dir.path().join("audit.jsonl"));
    let mut p = Script::default();
    assert_eq!(scale_cli::run(&kcfg(&api), 50, audit, cmd, &mut p).await, 0);
    let text = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for l in &lines {
        assert_eq!(l["parameters"]["kube_context"], "test-ctx", "{l}");
        assert_eq!(
            l["parameters"]["kube_identity"], "test (kubeconfig user)",
            "{l}"
        );
        assert_eq!(l["parameters"]["from"], 2);
        assert_eq!(l["parameters"]["replicas"], 3);
    }
}
