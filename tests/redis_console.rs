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
