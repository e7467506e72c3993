//! The console with a live Redis: the Cache view fills from a real redis-server, says so
//! with its age when Redis stops, keeps the rest working and recovers by itself.

mod support;

use chrono::Utc;
use opsdeck::config::Config;
use opsdeck::sources::SourceKind;
use opsdeck::sources::redis;
use opsdeck::state::{Msg, State, Status, View};
use opsdeck::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::{Duration, Instant};
use support::redis::RedisServer;
use tokio::sync::mpsc;

fn screen(state: &State) -> String {
    let mut t = Terminal::new(TestBackend::new(100, 30)).unwrap();
    t.draw(|f| ui::draw(f, state, &Theme::default_dark()))
        .unwrap();
    t.backend().to_string()
}

/// Applies updates until `want` holds or the deadline passes.
async fn until(
    state: &mut State,
    rx: &mut mpsc::Receiver<opsdeck::sources::SourceUpdate>,
    want: impl Fn(&State) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !want(state) {
        assert!(
            Instant::now() < deadline,
            "timed out; screen:\n{}",
            screen(state)
        );
        if let Ok(Some(u)) = tokio::time::timeout(Duration::from_millis(500), rx.recv()).await {
            state.apply(Msg::Source(u));
        }
        state.apply(Msg::Tick(Utc::now()));
    }
}

#[tokio::test]
async fn cache_view_follows_an_outage_and_recovers() {
    let mut server = RedisServer::start();
    server.cli(&["SET", "answer:a", "1"]);
    server.cli(&["SET", "user:7:profile", "1"]);
    let config = Config {
        redis: Some(server.config()),
        ..Default::default()
    };
    let mut state = State::new(config.clone(), Utc::now(), false);
    state.view = View::Cache;
    let (tx, mut rx) = mpsc::channel(16);
    let task = tokio::spawn(redis::run(
        config.redis.clone().unwrap(),
        Duration::from_millis(200),
        tx,
    ));

    until(&mut state, &mut rx, |s| {
        s.status(SourceKind::Redis) == Status::Ok
            && s.cache
                .value
                .as_ref()
                .is_some_and(|c| c.keys == 2 && c.prefixes.iter().any(|p| p.keys > 0))
    })
    .await;
    let up = screen(&state);
    assert!(up.contains("answer:"), "{up}");
    assert!(up.contains("redis 0s") || up.contains("redis 1s"), "{up}");

    server.stop();
    until(&mut state, &mut rx, |s| {
        s.status(SourceKind::Redis) == Status::Error
    })
    .await;
    let down = screen(&state);
    assert!(
        down.contains("error") && down.contains(&server.port.to_string()),
        "{down}"
    );
    // The last good figures stay on screen, marked, rather than turning into zeros.
    assert!(down.contains("answer:"), "{down}");
    state.view = View::Latency;
    assert!(screen(&state).contains("latency") || screen(&state).contains("Prometheus"));
    state.view = View::Cache;

    server.restart();
    until(&mut state, &mut rx, |s| {
        s.status(SourceKind::Redis) == Status::Ok
    })
    .await;
    assert!(!screen(&state).contains("error"), "{}", screen(&state));
    task.abort();
}

/// Keys fed to the real App loop with pauses between them, as an operator types.
fn typing(
    script: Vec<(crossterm::event::KeyEvent, u64)>,
) -> impl futures::Stream<Item = std::io::Result<crossterm::event::Event>> + Unpin {
    Box::pin(futures::stream::unfold(
        script.into_iter(),
        |mut it| async move {
            let (key, pause_ms) = it.next()?;
            tokio::time::sleep(Duration::from_millis(pause_ms)).await;
            Some((Ok(crossterm::event::Event::Key(key)), it))
        },
    ))
}

/// The console on the real loop with the live executor, as `opsdeck` wires it.
fn live_console(config: Config) -> opsdeck::app::App {
    use opsdeck::ops::executor::{Backend, Executor};
    let (_utx, updates) = mpsc::channel(4);
    let (atx, actions) = mpsc::channel(16);
    let executor = Executor {
        backend: Backend::Live(Box::new(config.clone())),
        audit: opsdeck::ops::audit::Audit::new(config.actions.audit_log.clone()),
        events: atx,
    };
    opsdeck::app::App {
        state: State::new(config, Utc::now(), false),
        theme: Theme::default_dark(),
        no_color: false,
        backends: opsdeck::app::Backends::new(
            executor,
            None,
            opsdeck::sources::RefreshNow::default(),
        ),
        updates,
        actions,
    }
}

/// Two groups keyed by user: choosing the second one and a user id deletes that group's
/// keys for that user, and nothing of the first group's.
#[tokio::test]
async fn a_second_user_keyed_group_deletes_only_its_own_keys_for_that_user() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use opsdeck::config::InvalidateGroup;
    let server = RedisServer::start();
    for k in [
        "user:42:profile",
        "session:42:a",
        "session:42:b",
        "session:420:a",
        "session:7:a",
        "answer:1",
    ] {
        server.cli(&["SET", k, "1"]);
    }
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        redis: Some(server.config()),
        ..Default::default()
    };
    config.actions.audit_log = dir.path().join("audit.jsonl");
    config.actions.invalidate.groups.push(InvalidateGroup {
        name: "sessions".into(),
        patterns: vec!["session:{user_id}:*".into()],
    });
    let names: Vec<&str> = config
        .actions
        .invalidate
        .groups
        .iter()
        .map(|g| g.name.as_str())
        .collect();
    assert_eq!(names, ["knowledge", "user", "sessions"]);
    let mut console = live_console(config);
    let k = |c: KeyCode| (KeyEvent::new(c, KeyModifiers::NONE), 0);
    // Open, choose the third group, type the id, Enter to count it, then (counted, under
    // the threshold, so no name to type) move to Invalidate and confirm.
    let mut script = vec![k(KeyCode::Char('i')), k(KeyCode::Down), k(KeyCode::Down)];
    script.extend("42".chars().map(|c| k(KeyCode::Char(c))));
    script.push(k(KeyCode::Enter));
    script.extend([
        (KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE), 800),
        k(KeyCode::Enter),
    ]);
    script.push((
        KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
        2000,
    ));
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    opsdeck::app::run(&mut terminal, typing(script), &mut console)
        .await
        .unwrap();
    let outcome = console.state.last_outcome.clone().expect("it ran");
    assert!(
        outcome
            .as_ref()
            .is_ok_and(|s| s.contains("group sessions for user 42") && s.contains("deleted 2")),
        "{outcome:?}"
    );
    let mut left: Vec<String> = server
        .cli(&["KEYS", "*"])
        .lines()
        .map(String::from)
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "answer:1",
            "session:420:a",
            "session:7:a",
            "user:42:profile"
        ]
    );
}

#[tokio::test]
async fn invalidate_from_the_keys_previews_asks_for_the_name_and_deletes_only_its_target() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use opsdeck::app;
    use opsdeck::state::dialog::Preview;
    use opsdeck::state::{DialogKind, Mode};
    let server = RedisServer::start();
    for k in ["answer:1", "answer:2", "knowledge:1", "user:42:a", "other"] {
        server.cli(&["SET", k, "1"]);
    }
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        redis: Some(server.config()),
        ..Default::default()
    };
    config.actions.audit_log = dir.path().join("audit.jsonl");
    config.actions.confirm_typed_over_keys = 2;
    let mut console = live_console(config);
    let k = |c: KeyCode| KeyEvent::new(c, KeyModifiers::NONE);
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();

    // Open the dialog and wait for the SCAN preview.
    app::run(
        &mut terminal,
        typing(vec![(k(KeyCode::Char('i')), 0), (ctrl_c, 1500)]),
        &mut console,
    )
    .await
    .unwrap();
    let Mode::Dialog(d) = &console.state.mode else {
        panic!("no dialog")
    };
    let DialogKind::Invalidate {
        preview: Preview::Counted { count, samples },
        ..
    } = &d.kind
    else {
        panic!("no preview: {:?}", d.kind)
    };
    assert_eq!(*count, 3, "answer:* and knowledge:*");
    assert!(
        samples
            .iter()
            .all(|s| s.starts_with("answer:") || s.starts_with("knowledge:"))
    );
    assert_eq!(
        d.require_typed.as_deref(),
        Some("knowledge"),
        "3 keys is over the threshold of 2"
    );
    let screen = terminal.backend().to_string();
    assert!(screen.contains("3 keys match"), "{screen}");

    // The focus is on the name to type (the group has no input of its own): type it and
    // press Enter; the deletion runs off the loop.
    assert_eq!(d.focus, opsdeck::state::Focus::Typed);
    let mut script: Vec<(KeyEvent, u64)> = "knowledge"
        .chars()
        .map(|c| (k(KeyCode::Char(c)), 0))
        .collect();
    script.extend([(k(KeyCode::Enter), 0), (ctrl_c, 1500)]);
    app::run(&mut terminal, typing(script), &mut console)
        .await
        .unwrap();
    let outcome = console
        .state
        .last_outcome
        .clone()
        .expect("the action finished");
    assert!(
        outcome.as_ref().is_ok_and(|s| s.contains("deleted 3")),
        "{outcome:?}"
    );
    assert_eq!(
        server.cli(&["DBSIZE"]).trim(),
        "2",
        "user:42:a and other are left"
    );
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert_eq!(audit.lines().count(), 2, "{audit}");
}

#[tokio::test]
async fn refresh_now_samples_at_once_instead_of_at_the_next_tick() {
    let server = RedisServer::start();
    let (tx, mut rx) = mpsc::channel(16);
    let now = opsdeck::sources::RefreshNow::default();
    let task = tokio::spawn(redis::run_with(
        server.config(),
        Duration::from_secs(30),
        tx,
        now.clone(),
    ));
    // The first tick of an interval fires at once.
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(500), rx.recv())
            .await
            .is_err(),
        "next tick is 30 s away"
    );
    let asked = Instant::now();
    // The source may not be waiting yet the first time; ask until it answers.
    let update = loop {
        now.trigger();
        if let Ok(u) = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
            break u.unwrap();
        }
        assert!(
            asked.elapsed() < Duration::from_secs(5),
            "refresh now was not honoured"
        );
    };
    assert!(update.payload.is_ok());
    task.abort();
}
