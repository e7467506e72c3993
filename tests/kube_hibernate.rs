//! Hibernate and wake against the test API server. The headless commands run as separate
//! `opsdeck` processes, hibernate then wake, so the recorded count provably lives in the
//! cluster (the Deployment's annotation), not in any process. Each refusal, the audit lines
//! and the precondition (a colleague's change between show and write) are checked.

mod support;

use opsdeck::ops::audit::Audit;
use opsdeck::ops::hibernate::kube::Hibernator;
use opsdeck::ops::hibernate::{HibernateError, HibernateRequest, Lever, plan};
use opsdeck::ops::scale::Scaler;
use opsdeck::sources::kube;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use support::kube_api::{Kind, KubeApi};
use support::kube_cluster::{cluster, kcfg};
use support::kube_fixtures as fx;
use support::process::opsdeck;

const COUNT: &str = "opsdeck.io/hibernated-replicas";

fn write_config(dir: &Path, api: &KubeApi, extra: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[kubernetes]\nkubeconfig = {:?}\n{extra}\n\n[actions]\naudit_log = {:?}\n",
            api.kubeconfig.display().to_string(),
            dir.join("audit.jsonl").display().to_string()
        ),
    )
    .unwrap();
    path
}

fn deployment(api: &KubeApi, name: &str) -> Value {
    api.get(Kind::Deployment, "cs-prod", name).unwrap()
}

fn rv(v: &Value) -> String {
    v["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string()
}

fn patches(api: &KubeApi) -> Vec<(String, Value)> {
    api.requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| (r.path, serde_json::from_str(&r.body).unwrap()))
        .collect()
}

fn audit(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hibernate_then_wake_in_separate_processes_without_an_hpa() {
    let api = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &api, "");
    let shown = rv(&deployment(&api, "ingest"));

    let run = opsdeck(&config, &["hibernate", "cs-prod/ingest", "--yes"]).await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("cs-prod/ingest: hibernated, replicas 2 → 0"),
        "{}",
        run.stdout
    );
    let d = deployment(&api, "ingest");
    assert_eq!(d["spec"]["replicas"], 0);
    assert_eq!(d["metadata"]["annotations"][COUNT], "2");
    assert!(d["metadata"]["annotations"]["opsdeck.io/hibernated-by"].is_string());
    let p = patches(&api);
    assert_eq!(p.len(), 1, "one write: {p:?}");
    assert_eq!(
        p[0].0,
        "/apis/apps/v1/namespaces/cs-prod/deployments/ingest"
    );
    assert_eq!(p[0].1["metadata"]["resourceVersion"], shown.as_str());
    assert_eq!(p[0].1["spec"]["replicas"], 0);
    // Another process reads the count back from the cluster.
    let snap = opsdeck(&config, &["snapshot", "--json"]).await;
    let json: Value = serde_json::from_str(&snap.stdout).expect(&snap.stdout);
    let ingest = json["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "ingest")
        .unwrap()
        .clone();
    assert_eq!(ingest["hibernated"]["replicas"], 2, "{ingest}");
    assert!(ingest["hibernated"]["saves_per_hour"].as_f64().unwrap() > 0.0);

    api.clear_requests();
    let run = opsdeck(&config, &["wake", "cs-prod/ingest", "--yes"]).await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("woken, replicas 0 → 2"),
        "{}",
        run.stdout
    );
    let d = deployment(&api, "ingest");
    assert_eq!(d["spec"]["replicas"], 2);
    let annotations = d["metadata"]["annotations"].as_object().unwrap();
    assert!(
        !annotations.keys().any(|k| k.starts_with("opsdeck.io/")),
        "{annotations:?}"
    );
    assert_eq!(
        annotations["deployment.kubernetes.io/revision"], "3",
        "others' annotations stay"
    );
    assert_eq!(patches(&api).len(), 1, "one write");

    let lines = audit(dir.path());
    let summary: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["action"].as_str().unwrap().into(),
                l["outcome"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("hibernate".into(), "started".into()),
            ("hibernate".into(), "ok".into()),
            ("wake".into(), "started".into()),
            ("wake".into(), "ok".into()),
        ]
    );
    assert_eq!(lines[1]["parameters"]["from"], 2);
    assert_eq!(lines[1]["parameters"]["replicas"], 0);
    assert_eq!(lines[3]["parameters"]["from"], 0);
    assert_eq!(lines[3]["parameters"]["replicas"], 2);
    assert_eq!(lines[3]["target"], "cs-prod/ingest");
    assert_eq!(lines[3]["parameters"]["kube_context"], "test-ctx");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_hpa_the_hpa_is_left_as_it_is_and_wake_restores_the_count() {
    let api = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &api, "");
    let hpa_before = api.get(Kind::Hpa, "cs-prod", "answer-api-hpa").unwrap();

    let run = opsdeck(&config, &["hibernate", "cs-prod/answer-api", "--yes"]).await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("HPA answer-api-hpa (min 2, max 20) is left as it is"),
        "{}",
        run.stdout
    );
    assert_eq!(deployment(&api, "answer-api")["spec"]["replicas"], 0);
    assert_eq!(
        deployment(&api, "answer-api")["metadata"]["annotations"][COUNT],
        "4"
    );
    let run = opsdeck(&config, &["wake", "cs-prod/answer-api", "--yes"]).await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert_eq!(deployment(&api, "answer-api")["spec"]["replicas"], 4);
    assert!(
        patches(&api)
            .iter()
            .all(|(path, _)| !path.contains("horizontalpodautoscalers")),
        "the HPA is never written"
    );
    assert_eq!(
        api.get(Kind::Hpa, "cs-prod", "answer-api-hpa").unwrap(),
        hpa_before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_refusal_exits_3_and_writes_nothing() {
    let api = cluster().await;
    api.put(
        Kind::Deployment,
        fx::deployment("cs-prod", "chat-api", 4, 4),
    );
    api.put(Kind::Deployment, fx::deployment("cs-prod", "idle", 0, 0));
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &api, "");
    let cases: [(&[&str], &str); 6] = [
        (
            &["--read-only", "hibernate", "cs-prod/ingest", "--yes"],
            "read-only",
        ),
        (
            &["hibernate", "cs-prod/chat-api", "--yes"],
            "critical ([actions] never_hibernate has \"chat-*\")",
        ),
        (&["wake", "cs-prod/ingest", "--yes"], "is not hibernated"),
        (
            &["hibernate", "cs-prod/idle", "--yes"],
            "already at 0 replicas",
        ),
        (
            &["hibernate", "cs-prod/ingest"],
            "no terminal to confirm on",
        ),
        (
            &["--read-only", "wake", "cs-prod/ingest", "--yes"],
            "read-only",
        ),
    ];
    for (args, why) in cases {
        let run = opsdeck(&config, args).await;
        assert_eq!(run.code, Some(3), "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(why), "{args:?}: {}", run.stderr);
    }
    assert!(patches(&api).is_empty(), "{:?}", patches(&api));
    assert!(audit(dir.path()).is_empty(), "a refusal is not an action");

    // Already hibernated: a second hibernate is refused, naming the recorded count.
    let run = opsdeck(&config, &["hibernate", "cs-prod/ingest", "--yes"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let run = opsdeck(&config, &["hibernate", "cs-prod/ingest", "--yes"]).await;
    assert_eq!(run.code, Some(3));
    assert!(
        run.stderr.contains("already hibernated (was 2)"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_wants_the_name_typed() {
    let api = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &api, "production = true");
    let run = opsdeck(&config, &["hibernate", "cs-prod/ingest", "--yes"]).await;
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(run.stderr.contains("--confirm ingest"), "{}", run.stderr);
    assert!(patches(&api).is_empty());
    let run = opsdeck(
        &config,
        &[
            "hibernate",
            "cs-prod/ingest",
            "--yes",
            "--confirm",
            "answer-api",
        ],
    )
    .await;
    assert_eq!(run.code, Some(3), "the wrong name: {}", run.stderr);
    let run = opsdeck(
        &config,
        &[
            "hibernate",
            "cs-prod/ingest",
            "--yes",
            "--confirm",
            "ingest",
        ],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(deployment(&api, "ingest")["spec"]["replicas"], 0);
}

async fn hibernator(api: &KubeApi, dir: &Path) -> Hibernator {
    let client = kube::connect(&kcfg(api)).await.unwrap().0;
    Hibernator {
        scaler: Scaler {
            client,
            max_replicas: 50,
            audit: Audit::new(dir.join("audit.jsonl")),
            who: Default::default(),
        },
        actions: Default::default(),
    }
}

fn req(lever: Lever) -> HibernateRequest {
    HibernateRequest {
        context: None,
        namespace: "cs-prod".into(),
        name: "ingest".into(),
        lever,
    }
}

/// The operator looks; a colleague changes the deployment; the write carries what the
/// operator saw, so the server refuses it and the colleague's change stands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_between_show_and_write_is_a_conflict_not_an_overwrite() {
    let api = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    let h = hibernator(&api, dir.path()).await;

    // Replicas changed: the hibernate would record 2 while 6 run.
    let shown = h.plan(&req(Lever::Hibernate)).await.unwrap();
    api.put(Kind::Deployment, fx::deployment("cs-prod", "ingest", 6, 6));
    let Err(HibernateError::Conflict {
        observed: Some(now),
        ..
    }) = h.apply(&shown, false).await
    else {
        panic!("no conflict")
    };
    assert_eq!(now.changes_since(&shown.seen), ["replicas 2 → 6"]);
    assert_eq!(deployment(&api, "ingest")["spec"]["replicas"], 6);
    assert!(deployment(&api, "ingest")["metadata"]["annotations"][COUNT].is_null());

    // Hibernated at 6 by this console; a colleague edits the recorded count to 3 before
    // the wake is written.
    h.apply(&h.plan(&req(Lever::Hibernate)).await.unwrap(), false)
        .await
        .unwrap();
    let shown = h.plan(&req(Lever::Wake)).await.unwrap();
    assert_eq!(shown.to, 6);
    let mut d = deployment(&api, "ingest");
    d["metadata"]["annotations"][COUNT] = json!("3");
    api.put(Kind::Deployment, d);
    let e = h.apply(&shown, false).await.unwrap_err();
    let HibernateError::Conflict {
        observed: Some(now),
        ..
    } = &e
    else {
        panic!("{e}")
    };
    assert_eq!(now.changes_since(&shown.seen), ["recorded count 6 → 3"]);
    assert!(e.to_string().contains("Nothing was changed"), "{e}");
    assert_eq!(deployment(&api, "ingest")["spec"]["replicas"], 0);
    // Asked again on the fresh figures, the wake restores the colleague's count.
    let again = plan(&req(Lever::Wake), now, &Default::default()).unwrap();
    h.apply(&again, false).await.unwrap();
    assert_eq!(deployment(&api, "ingest")["spec"]["replicas"], 3);
    let outcomes: Vec<String> = audit(dir.path())
        .iter()
        .map(|l| format!("{} {}", l["action"], l["outcome"]))
        .collect();
    assert_eq!(
        outcomes,
        [
            "\"hibernate\" \"started\"",
            "\"hibernate\" \"failed\"",
            "\"hibernate\" \"started\"",
            "\"hibernate\" \"ok\"",
            "\"wake\" \"started\"",
            "\"wake\" \"failed\"",
            "\"wake\" \"started\"",
            "\"wake\" \"ok\"",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_is_checked_by_the_server_and_stores_nothing() {
    let api = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &api, "production = true");
    // A dry run stores nothing, so it needs no confirmation, production or not.
    let run = opsdeck(&config, &["hibernate", "cs-prod/ingest", "--dry-run"]).await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("dry run"), "{}", run.stdout);
    let sent = api.requests();
    let patch = sent.iter().find(|r| r.method == "PATCH").unwrap();
    assert!(patch.query.contains("dryRun=All"), "{}", patch.query);
    assert_eq!(deployment(&api, "ingest")["spec"]["replicas"], 2);
    assert!(deployment(&api, "ingest")["metadata"]["annotations"][COUNT].is_null());
    let lines = audit(dir.path());
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| l["dry_run"] == true));
}
