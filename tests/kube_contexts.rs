//! Several clusters in one console: two test API servers as the contexts `prod-eu` and
//! `prod-us` of one kubeconfig, watched at once by the real kube sources and the real
//! binary. Each deployment carries its context; an action reaches only the context it
//! names; `production` and `read_only` on one context hold there only.

mod support;

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use opsdeck::model::{ActionEvent, ClusterSample};
use opsdeck::ops::ActionPlan;
use opsdeck::ops::audit::Audit;
use opsdeck::ops::executor::{Backend, Executor};
use opsdeck::sources::{Payload, RefreshNow, SourceKind, SourceUpdate, registry};
use opsdeck::state::{Mode, Msg, State, View};
use opsdeck::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::kube_api::{Kind, KubeApi, write_kubeconfig_contexts};
use support::kube_cluster::cluster;
use support::kube_fixtures as fx;
use support::process::opsdeck;
use tokio::sync::mpsc;

/// prod-eu: the usual cluster (answer-api with its HPA, ingest); prod-us: ingest and
/// ranker, with other counts, so every figure says which cluster it came from.
struct Two {
    eu: KubeApi,
    us: KubeApi,
    dir: tempfile::TempDir,
}

async fn two() -> Two {
    let eu = cluster().await;
    let us = KubeApi::start().await;
    us.put(Kind::Node, fx::node("ip-10-1-1-1", "m6i.2xlarge", "spot"));
    us.put(Kind::Deployment, fx::deployment("cs-prod", "ingest", 1, 1));
    us.put(Kind::Deployment, fx::deployment("cs-prod", "ranker", 3, 2));
    us.put(Kind::Pod, fx::pod("cs-prod", "ingest", 0, "ip-10-1-1-1"));
    for i in 0..2 {
        us.put(Kind::Pod, fx::pod("cs-prod", "ranker", i, "ip-10-1-1-1"));
    }
    let dir = tempfile::tempdir().unwrap();
    write_kubeconfig_contexts(
        &dir.path().join("kubeconfig"),
        &[("prod-eu", eu.port), ("prod-us", us.port)],
    );
    Two { eu, us, dir }
}

impl Two {
    /// A config watching both contexts; `extra` goes at the end of `[kubernetes]`.
    fn config(&self, extra: &str) -> PathBuf {
        self.config_with("contexts = [\"prod-eu\", \"prod-us\"]", extra)
    }

    fn config_with(&self, contexts: &str, extra: &str) -> PathBuf {
        let dir = self.dir.path();
        let path = dir.join("config.toml");
        std::fs::write(
            &path,
            format!(
                "[kubernetes]\nkubeconfig = {:?}\n{contexts}\n{extra}\n\n[actions]\naudit_log = {:?}\n",
                dir.join("kubeconfig").display().to_string(),
                dir.join("audit.jsonl").display().to_string()
            ),
        )
        .unwrap();
        path
    }

    fn audit(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn patches(api: &KubeApi) -> usize {
    api.requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .count()
}

/// The console's state, fed by the real kube sources of `config` until both contexts
/// have reported their deployments.
async fn console(config: &Path) -> State {
    let config = opsdeck::config::load(config).unwrap();
    let (tx, mut rx) = mpsc::channel(64);
    registry::spawn_all(
        &config,
        Duration::from_millis(500),
        &tx,
        &RefreshNow::default(),
    );
    let mut state = State::new(config, Utc::now(), false);
    state.view = View::Scaling;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let u = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("both contexts in 20 s; have {:?}", state.contexts))
            .unwrap();
        state.apply(Msg::Source(u));
        let both = state.contexts.iter().all(|c| c.slot.value.is_some());
        if both && state.visible_deployments().len() == 4 {
            return state;
        }
    }
}

fn key(state: &mut State, c: char) -> Vec<opsdeck::state::Effect> {
    state.apply(Msg::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::NONE,
    )))
}

fn command(state: &mut State, line: &str) {
    key(state, ':');
    for c in line.chars() {
        key(state, c);
    }
    state.apply(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
}

fn select(state: &mut State, context: &str, name: &str) {
    state.mode = Mode::Normal;
    state.selected = state
        .visible_deployments()
        .iter()
        .position(|d| d.context == context && d.name == name)
        .unwrap_or_else(|| panic!("{context} {name} is shown"));
}

fn render(state: &State) -> String {
    let mut t = Terminal::new(TestBackend::new(160, 48)).unwrap();
    t.draw(|f| ui::draw(f, state, &Theme::default_dark()))
        .unwrap();
    t.backend().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snapshot_tags_every_deployment_with_its_context() {
    let two = two().await;
    let run = opsdeck(&two.config(""), &["snapshot", "--json"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let tagged: Vec<(String, String, u64)> = v["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["context"].as_str().unwrap().to_string(),
                d["name"].as_str().unwrap().to_string(),
                d["replicas"].as_u64().unwrap(),
            )
        })
        .collect();
    let want = [
        ("prod-eu", "answer-api", 4),
        ("prod-eu", "ingest", 2),
        ("prod-us", "ingest", 1),
        ("prod-us", "ranker", 3),
    ]
    .map(|(c, n, r)| (c.to_string(), n.to_string(), r));
    assert_eq!(tagged, want);
    let k = &v["sources"]["kubernetes"];
    assert_eq!(k["status"], "ok");
    assert_eq!(k["contexts"]["prod-eu"]["status"], "ok");
    assert_eq!(k["contexts"]["prod-us"]["status"], "ok");

    // One context keeps its meaning, and still names it on every deployment.
    let one = two.config_with("context = \"prod-us\"", "");
    let run = opsdeck(&one, &["snapshot", "--json"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let ds = v["deployments"].as_array().unwrap();
    assert_eq!(ds.len(), 2);
    assert!(ds.iter().all(|d| d["context"] == "prod-us"), "{ds:?}");
    assert!(v["sources"]["kubernetes"].get("contexts").is_none());

    // --context a,b watches both without the config saying so.
    let run = opsdeck(
        &one,
        &["--context", "prod-eu,prod-us", "snapshot", "--json"],
    )
    .await;
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["deployments"].as_array().unwrap().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_shows_both_contexts_and_ctx_narrows_to_one() {
    let two = two().await;
    let mut state = console(&two.config("")).await;
    let screen = render(&state);
    assert!(screen.contains("k8s prod-eu"), "{screen}");
    assert!(screen.contains("k8s prod-us"), "{screen}");
    assert!(screen.contains("CONTEXT"), "{screen}");

    command(&mut state, "ctx prod-us");
    let shown: Vec<String> = state
        .visible_deployments()
        .iter()
        .map(|d| format!("{} {}", d.context, d.name))
        .collect();
    assert_eq!(shown, ["prod-us ingest", "prod-us ranker"]);
    command(&mut state, "ctx nowhere");
    assert!(
        state
            .notice
            .as_deref()
            .unwrap()
            .contains("one of prod-eu, prod-us")
    );
    assert_eq!(
        state.visible_deployments().len(),
        2,
        "an unknown name changes nothing"
    );
    command(&mut state, "ctx");
    assert_eq!(state.visible_deployments().len(), 4);
}

/// The Scaling view with two contexts, on the samples the real sources gave, at a fixed
/// time so ages do not move the snapshot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_view_with_two_contexts() {
    let two = two().await;
    let live = console(&two.config("")).await;
    let samples: Vec<ClusterSample> = live
        .contexts
        .iter()
        .map(|c| c.slot.value.clone().unwrap())
        .collect();
    let at = Utc.with_ymd_and_hms(2026, 3, 2, 9, 30, 0).unwrap();
    let mut state = State::new(live.config.clone(), at, false);
    for s in samples {
        state.apply(Msg::Source(SourceUpdate {
            at,
            source: SourceKind::Kubernetes,
            context: Some(s.context.clone()),
            payload: Ok(Payload::Cluster(Box::new(s))),
        }));
    }
    state.view = View::Scaling;
    insta::assert_snapshot!(render(&state));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_with_context_reaches_only_that_context() {
    let two = two().await;
    let config = two.config("");
    two.eu.clear_requests();
    two.us.clear_requests();
    let args = ["scale", "cs-prod/ingest", "--replicas", "3", "--yes"];
    let run = opsdeck(&config, &args).await;
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("prod-eu, prod-us") && run.stderr.contains("--context NAME"),
        "{}",
        run.stderr
    );
    let run = opsdeck(&config, &[&args[..], &["--context", "prod-us"]].concat()).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("in context prod-us"), "{}", run.stdout);
    assert_eq!(patches(&two.us), 1);
    assert_eq!(patches(&two.eu), 0, "prod-eu saw a PATCH");
    let us = two.us.get(Kind::Deployment, "cs-prod", "ingest").unwrap();
    assert_eq!(us["spec"]["replicas"], 3);
    let eu = two.eu.get(Kind::Deployment, "cs-prod", "ingest").unwrap();
    assert_eq!(eu["spec"]["replicas"], 2);
    let audit = two.audit();
    assert!(!audit.is_empty());
    for line in &audit {
        assert_eq!(line["parameters"]["kube_context"], "prod-us", "{line}");
    }
}

/// The console's path: the dialog on a prod-us deployment plans for prod-us, and the
/// executor's client is built for prod-us.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consoles_scale_reaches_only_the_selected_deployments_context() {
    let two = two().await;
    let mut state = console(&two.config("")).await;
    select(&mut state, "prod-us", "ranker");
    key(&mut state, 's');
    let Mode::Dialog(dialog) = &state.mode else {
        panic!("s opens the dialog: {:?}", state.notice)
    };
    assert_eq!(dialog.context.as_deref(), Some("prod-us"));
    assert!(render(&state).contains("in context prod-us"));
    let mut dialog = dialog.clone();
    if let Some(input) = dialog.input_mut() {
        input.push('5');
    }
    let Ok(ActionPlan::Scale(plan)) = dialog.confirm(&state.config) else {
        panic!("a plan")
    };
    assert!(
        plan.preview().contains("in context prod-us"),
        "{}",
        plan.preview()
    );
    two.eu.clear_requests();
    two.us.clear_requests();
    let (tx, mut events) = mpsc::channel(16);
    let executor = Executor {
        backend: Backend::Live(Box::new(state.config.clone())),
        audit: Audit::new(two.dir.path().join("audit.jsonl")),
        events: tx,
    };
    let cancel = Default::default();
    executor
        .start(ActionPlan::Scale(plan), cancel)
        .await
        .unwrap();
    let mut outcome = None;
    while let Ok(e) = events.try_recv() {
        if let ActionEvent::Finished { outcome: o, .. } = e {
            outcome = Some(o);
        }
    }
    assert!(matches!(outcome, Some(Ok(_))), "{outcome:?}");
    assert_eq!(patches(&two.us), 1);
    assert_eq!(patches(&two.eu), 0, "prod-eu saw a PATCH");
    let us = two.us.get(Kind::Deployment, "cs-prod", "ranker").unwrap();
    assert_eq!(us["spec"]["replicas"], 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_on_one_context_asks_for_the_typed_name_there_only() {
    let two = two().await;
    let config = two.config("[kubernetes.context.\"prod-eu\"]\nproduction = true");
    let mut state = console(&config).await;
    select(&mut state, "prod-eu", "ingest");
    key(&mut state, 's');
    let Mode::Dialog(d) = &state.mode else {
        panic!("a dialog")
    };
    assert_eq!(d.require_typed.as_deref(), Some("ingest"));
    select(&mut state, "prod-us", "ingest");
    key(&mut state, 's');
    let Mode::Dialog(d) = &state.mode else {
        panic!("a dialog")
    };
    assert_eq!(d.require_typed, None, "prod-us is not production");

    two.eu.clear_requests();
    let args = ["scale", "cs-prod/ingest", "--replicas", "3", "--yes"];
    let run = opsdeck(&config, &[&args[..], &["--context", "prod-eu"]].concat()).await;
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(run.stderr.contains("--confirm ingest"), "{}", run.stderr);
    assert_eq!(patches(&two.eu), 0);
    let run = opsdeck(&config, &[&args[..], &["--context", "prod-us"]].concat()).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_on_one_context_removes_actions_there_only() {
    let two = two().await;
    let config = two.config("[kubernetes.context.\"prod-us\"]\nread_only = true");
    let mut state = console(&config).await;
    select(&mut state, "prod-us", "ranker");
    for k in ['s', 'z'] {
        key(&mut state, k);
        assert_eq!(state.mode, Mode::Normal, "{k} opens nothing on prod-us");
        let notice = state.notice.clone().unwrap_or_default();
        assert!(notice.contains("read-only in prod-us"), "{notice}");
    }
    select(&mut state, "prod-eu", "ingest");
    key(&mut state, 's');
    assert!(
        matches!(state.mode, Mode::Dialog(_)),
        "prod-eu keeps its actions"
    );

    two.us.clear_requests();
    let args = ["scale", "cs-prod/ingest", "--replicas", "3", "--yes"];
    let run = opsdeck(&config, &[&args[..], &["--context", "prod-us"]].concat()).await;
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(
        run.stderr.contains("read-only in prod-us"),
        "{}",
        run.stderr
    );
    assert_eq!(patches(&two.us), 0);
    let run = opsdeck(
        &config,
        &[
            "hibernate",
            "cs-prod/ranker",
            "--yes",
            "--context",
            "prod-us",
        ],
    )
    .await;
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    let run = opsdeck(&config, &[&args[..], &["--context", "prod-eu"]].concat()).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

/// A panic in one context's source is that context's error: the state marks it alone, the
/// other context stays as it was.
#[tokio::test]
async fn a_panic_in_one_contexts_source_marks_that_context_alone() {
    use opsdeck::config::{Config, KubernetesConfig};
    use opsdeck::sources::supervise::supervise;
    let (tx, mut rx) = mpsc::channel(8);
    let ctx = Some("prod-us".to_string());
    let handle = supervise(SourceKind::Kubernetes, ctx, tx, || async {
        panic!("watch stream ended twice")
    });
    let update = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    handle.abort();
    assert_eq!(update.context.as_deref(), Some("prod-us"));
    assert_eq!(
        update.payload.as_ref().unwrap_err(),
        "internal error in the kubernetes source of prod-us: watch stream ended twice; restarted"
    );
    let config = Config {
        kubernetes: Some(KubernetesConfig {
            contexts: vec!["prod-eu".into(), "prod-us".into()],
            ..KubernetesConfig::default()
        }),
        ..Config::default()
    };
    let mut state = State::new(config, update.at, false);
    for name in ["prod-eu", "prod-us"] {
        state.apply(Msg::Source(SourceUpdate {
            context: Some(name.into()),
            at: update.at,
            source: SourceKind::Kubernetes,
            payload: Ok(Payload::Cluster(Box::new(ClusterSample {
                context: name.into(),
                ..ClusterSample::default()
            }))),
        }));
    }
    state.apply(Msg::Source(update));
    let errors: Vec<(&str, bool)> = state
        .context_health()
        .into_iter()
        .map(|(name, h)| (name, h.error.is_some()))
        .collect();
    assert_eq!(errors, [("prod-eu", false), ("prod-us", true)]);
}
