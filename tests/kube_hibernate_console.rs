//! The `z` key on the Scaling view through the real App loop against the test API server:
//! it hibernates the selected deployment, the source's next sample shows it asleep, and
//! `z` again wakes it to the recorded count. A critical deployment is refused in words.

mod support;

use chrono::Utc;
use crossterm::event::KeyCode;
use opsdeck::app::{self};
use opsdeck::config::Config;
use opsdeck::sources::kube;
use opsdeck::state::{Mode, Msg, State, View};
use opsdeck::ui::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use support::console::{console, typing};
use support::kube_api::Kind;
use support::kube_cluster::{cluster, kcfg};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn z_hibernates_the_selected_deployment_and_z_again_wakes_it() {
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
    let mut terminal = Terminal::new(TestBackend::new(120, 30)).unwrap();

    // Select ingest, z, the dialog shows what it does; Tab to Hibernate, Enter.
    use KeyCode::{Char, Enter, Tab};
    app::run(
        &mut terminal,
        typing(&[Char('j'), Char('z')], 200),
        &mut console,
    )
    .await
    .unwrap();
    let screen = terminal.backend().to_string();
    assert!(screen.contains("Hibernate deployment"), "{screen}");
    assert!(
        screen.contains("cs-prod/ingest: 2 replicas now"),
        "{screen}"
    );
    assert!(matches!(console.state.mode, Mode::Dialog(_)));
    app::run(&mut terminal, typing(&[Tab, Enter], 1500), &mut console)
        .await
        .unwrap();
    assert_eq!(
        console.state.last_outcome,
        Some(Ok("cs-prod/ingest: hibernated, replicas 2 → 0".to_string()))
    );
    let d = api.get(Kind::Deployment, "cs-prod", "ingest").unwrap();
    assert_eq!(d["spec"]["replicas"], 0);
    assert_eq!(
        d["metadata"]["annotations"]["opsdeck.io/hibernated-replicas"],
        "2"
    );

    // The source's next sample carries the annotation: the row says so in words.
    console
        .state
        .apply(Msg::Source(kube::snapshot(kcfg(&api)).await));
    terminal
        .draw(|f| opsdeck::ui::draw(f, &console.state, &Theme::default_dark()))
        .unwrap();
    let screen = terminal.backend().to_string();
    assert!(screen.contains("zz hibernated (was 2)"), "{screen}");

    // z again is a wake.
    app::run(&mut terminal, typing(&[Char('z')], 200), &mut console)
        .await
        .unwrap();
    let screen = terminal.backend().to_string();
    assert!(screen.contains("Wake deployment"), "{screen}");
    assert!(
        screen.contains("back to 2 replicas as recorded"),
        "{screen}"
    );
    app::run(&mut terminal, typing(&[Tab, Enter], 1500), &mut console)
        .await
        .unwrap();
    assert_eq!(
        console.state.last_outcome,
        Some(Ok("cs-prod/ingest: woken, replicas 0 → 2".to_string()))
    );
    let d = api.get(Kind::Deployment, "cs-prod", "ingest").unwrap();
    assert_eq!(d["spec"]["replicas"], 2);
    assert!(d["metadata"]["annotations"]["opsdeck.io/hibernated-replicas"].is_null());
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert_eq!(audit.lines().count(), 4, "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn z_on_a_critical_deployment_is_refused_in_words() {
    let api = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        kubernetes: Some(kcfg(&api)),
        ..Default::default()
    };
    config.actions.audit_log = dir.path().join("audit.jsonl");
    config.actions.never_hibernate = vec!["cs-prod/answer-*".into()];
    let mut state = State::new(config.clone(), Utc::now(), false);
    state.apply(Msg::Source(kube::snapshot(kcfg(&api)).await));
    state.view = View::Scaling;
    let mut console = console(state, &config);
    let mut terminal = Terminal::new(TestBackend::new(120, 30)).unwrap();
    app::run(
        &mut terminal,
        typing(&[KeyCode::Char('z')], 100),
        &mut console,
    )
    .await
    .unwrap();
    assert_eq!(console.state.mode, Mode::Normal, "no dialog");
    let notice = console.state.notice.clone().unwrap();
    assert!(
        notice.starts_with("z: refused: cs-prod/answer-api is critical"),
        "{notice}"
    );
    assert!(
        api.requests().iter().all(|r| r.method != "PATCH"),
        "nothing sent"
    );
}
