//! Scaling from the keys through the real App loop against the test API server: when the
//! deployment changed after the operator looked, the patch's precondition gives 409, and the
//! console re-reads, shows what changed and asks again; confirming then scales with the
//! fresh resourceVersion.

mod support;

use chrono::Utc;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use opsdeck::app::{self};
use opsdeck::config::Config;
use opsdeck::sources::kube;
use opsdeck::state::{DialogKind, Focus, Mode, Msg, State, View};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Duration;
use support::console::{console, typing};
use support::kube_api::{Kind, KubeApi};
use support::kube_cluster::{cluster, kcfg};
use support::kube_fixtures as fx;

fn scale_patches(api: &KubeApi) -> Vec<serde_json::Value> {
    api.requests()
        .into_iter()
        .filter(|r| r.method == "PATCH" && r.path.ends_with("/deployments/ingest/scale"))
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect()
}

fn rv(api: &KubeApi) -> String {
    api.get(Kind::Deployment, "cs-prod", "ingest").unwrap()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_reopens_the_dialog_with_the_new_state_and_asks_again() {
    let api = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        kubernetes: Some(kcfg(&api)),
        ..Default::default()
    };
    config.actions.audit_log = dir.path().join("audit.jsonl");
    let mut state = State::new(config.clone(), Utc::now(), false);
    state.apply(Msg::Source(kube::snapshot(kcfg(&api)).await));
    state.view = View::Scaling;
    let looked_at = rv(&api);

    // Someone scales ingest from 2 to 6 after the operator's screen was drawn.
    api.put(Kind::Deployment, fx::deployment("cs-prod", "ingest", 6, 6));

    let mut console = console(state, &config);
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();

    // Select ingest, ask for 3 replicas, move to Scale and confirm.
    use KeyCode::{Char, Enter, Tab};
    let keys = [Char('j'), Char('s'), Char('3'), Tab, Tab, Enter];
    app::run(&mut terminal, typing(&keys, 1500), &mut console)
        .await
        .unwrap();
    let patches = scale_patches(&api);
    assert_eq!(patches.len(), 1);
    assert_eq!(
        patches[0]["metadata"]["resourceVersion"],
        looked_at.as_str()
    );
    assert_eq!(
        api.get(Kind::Deployment, "cs-prod", "ingest").unwrap()["spec"]["replicas"],
        6,
        "the other writer's change stands"
    );
    let Mode::Dialog(d) = &console.state.mode else {
        panic!(
            "the dialog did not come back: {:?}",
            console.state.last_outcome
        )
    };
    let DialogKind::Scale {
        name,
        seen,
        input,
        changed,
        ..
    } = &d.kind
    else {
        panic!("{:?}", d.kind)
    };
    assert_eq!(name, "ingest");
    assert_eq!(
        (seen.replicas, input.as_str()),
        (6, "3"),
        "fresh figures, input kept"
    );
    assert_eq!(seen.resource_version, rv(&api));
    assert_eq!(
        changed.as_deref(),
        Some("changed since you looked: replicas 2 → 6; confirm again")
    );
    assert_eq!(d.focus, Focus::Cancel);
    let screen = terminal.backend().to_string();
    assert!(screen.contains("ingest: 6 replicas now"), "{screen}");
    assert!(screen.contains("replicas 2 → 6"), "{screen}");

    // Confirming again sends the fresh precondition and scales.
    app::run(&mut terminal, typing(&[Tab, Enter], 1500), &mut console)
        .await
        .unwrap();
    let patches = scale_patches(&api);
    assert_eq!(patches.len(), 2);
    assert_ne!(
        patches[1]["metadata"]["resourceVersion"],
        looked_at.as_str()
    );
    assert_eq!(
        api.get(Kind::Deployment, "cs-prod", "ingest").unwrap()["spec"]["replicas"],
        3
    );
    assert_eq!(console.state.mode, Mode::Normal);
    let outcome = console
        .state
        .last_outcome
        .clone()
        .expect("the scale finished");
    assert_eq!(outcome, Ok("cs-prod/ingest: replicas 6 → 3".to_string()));
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    let outcomes: Vec<String> = audit
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["outcome"].to_string())
        .collect();
    assert_eq!(
        outcomes,
        ["\"started\"", "\"failed\"", "\"started\"", "\"ok\""]
    );
}

fn hpa_patches(api: &KubeApi) -> Vec<serde_json::Value> {
    api.requests()
        .into_iter()
        .filter(|r| {
            r.method == "PATCH" && r.path.ends_with("/horizontalpodautoscalers/answer-api-hpa")
        })
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect()
}

/// A colleague raises the HPA's minReplicas while the operator's scale dialog is open: the
/// console's edit carries the HPA's resourceVersion as the operator saw it, so the server
/// refuses it, the colleague's minimum stands, and the dialog comes back saying what moved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hpa_changed_after_the_dialog_opened_is_not_overwritten() {
    let api = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        kubernetes: Some(kcfg(&api)),
        ..Default::default()
    };
    config.actions.audit_log = dir.path().join("audit.jsonl");
    let mut state = State::new(config.clone(), Utc::now(), false);
    state.apply(Msg::Source(kube::snapshot(kcfg(&api)).await));
    state.view = View::Scaling;
    let seen_rv =
        api.get(Kind::Hpa, "cs-prod", "answer-api-hpa").unwrap()["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .to_string();
    let mut console = console(state, &config);
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();

    // The operator opens the dialog on answer-api (HPA min 2, max 20).
    use KeyCode::{Char, Enter, Tab};
    app::run(&mut terminal, typing(&[Char('s')], 100), &mut console)
        .await
        .unwrap();
    assert!(matches!(console.state.mode, Mode::Dialog(_)));
    // A colleague sets minReplicas to 5 meanwhile.
    api.put(
        Kind::Hpa,
        fx::hpa("cs-prod", "answer-api", 5, 20, 4, Some(140), None),
    );
    // The operator, still in the dialog, asks for 3 and confirms.
    app::run(
        &mut terminal,
        typing(&[Char('3'), Tab, Tab, Enter], 1500),
        &mut console,
    )
    .await
    .unwrap();
    let patches = hpa_patches(&api);
    assert_eq!(patches.len(), 1, "one attempt: {patches:?}");
    assert_eq!(
        patches[0]["metadata"]["resourceVersion"],
        seen_rv.as_str(),
        "the precondition is the HPA as the operator saw it"
    );
    assert_eq!(
        api.get(Kind::Hpa, "cs-prod", "answer-api-hpa").unwrap()["spec"]["minReplicas"],
        5,
        "the colleague's minimum stands"
    );
    let Mode::Dialog(d) = &console.state.mode else {
        panic!("no second ask: {:?}", console.state.last_outcome)
    };
    let DialogKind::Scale { changed, seen, .. } = &d.kind else {
        panic!("{:?}", d.kind)
    };
    assert_eq!(
        changed.as_deref(),
        Some("changed since you looked: HPA min 2 → 5; confirm again")
    );
    assert_eq!(seen.hpa.as_ref().unwrap().min, 5);
    let screen = terminal.backend().to_string();
    assert!(screen.contains("HPA min 2 → 5"), "{screen}");
}

/// Keys as an operator types them, then the terminal goes away after `settle_ms` (no
/// Ctrl-C: with an action running that would ask "cancel it and quit?").
fn typing_then_gone(
    keys: &[KeyCode],
    settle_ms: u64,
) -> impl futures::Stream<Item = std::io::Result<Event>> + Unpin {
    use futures::StreamExt;
    let keys: Vec<KeyEvent> = keys
        .iter()
        .map(|c| KeyEvent::new(*c, KeyModifiers::NONE))
        .collect();
    Box::pin(
        futures::stream::iter(keys.into_iter().map(|k| Ok(Event::Key(k)))).chain(
            futures::stream::once(async move {
                tokio::time::sleep(Duration::from_millis(settle_ms)).await;
                Err(std::io::Error::other("terminal closed"))
            }),
        ),
    )
}

/// A scale from the console is tracked like any action: while the API server does not
/// answer, the status bar shows it running, a second action is refused, and Esc cancels it
/// before anything is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_scale_is_tracked_and_esc_cancels_it() {
    use support::kube_api::Hang;
    let api = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        kubernetes: Some(kcfg(&api)),
        ..Default::default()
    };
    config.actions.audit_log = dir.path().join("audit.jsonl");
    let mut state = State::new(config.clone(), Utc::now(), false);
    state.apply(Msg::Source(kube::snapshot(kcfg(&api)).await));
    state.view = View::Scaling;
    let mut console = console(state, &config);
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    api.hang(Hang::Everything);
    use KeyCode::{Char, Enter, Esc, Tab};
    // Select ingest, ask for 3, confirm; then try a second action while it hangs.
    let keys = [Char('j'), Char('s'), Char('3'), Tab, Tab, Enter];
    app::run(&mut terminal, typing_then_gone(&keys, 300), &mut console)
        .await
        .unwrap();
    let running = console.state.running.clone().expect("the scale is tracked");
    assert_eq!(running.kind, opsdeck::ops::ActionKind::Scale);
    app::run(
        &mut terminal,
        typing_then_gone(&[Char('s'), Char('4'), Tab, Tab, Enter], 300),
        &mut console,
    )
    .await
    .unwrap();
    assert_eq!(
        console.state.notice.as_deref(),
        Some("another action is running: wait for it or press Esc to cancel it")
    );
    app::run(&mut terminal, typing_then_gone(&[Esc], 800), &mut console)
        .await
        .unwrap();
    assert!(console.state.running.is_none(), "cancelled");
    let outcome = console.state.last_outcome.clone().unwrap().unwrap_err();
    assert!(
        outcome.contains("cancelled; nothing was changed"),
        "{outcome}"
    );
    api.hang(Hang::Nothing);
    assert!(
        scale_patches(&api).is_empty(),
        "nothing was sent while it hung"
    );
    assert_eq!(
        api.get(Kind::Deployment, "cs-prod", "ingest").unwrap()["spec"]["replicas"],
        2
    );
}
