//! The war-room wall (`--wall`) on the demo at 200x50 and 300x80: the headline figures in
//! large type, read-only, the views cycling, and a banner naming a critical figure that
//! holds the cycle on the view that shows it.

mod support;

use chrono::{DateTime, Duration, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use opsdeck::config::Config;
use opsdeck::model::Payload;
use opsdeck::sources::sim;
use opsdeck::state::{Msg, State, View};
use support::console::render;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 15, 30, 0).unwrap()
}

/// The demo as `--wall` starts it: `[ui] wall = true`, nothing else.
fn wall_state() -> State {
    // The wall's clock is local time: pinned, so the snapshots hold anywhere. Each test
    // runs in a process of its own under nextest.
    unsafe { std::env::set_var("TZ", "UTC") };
    let mut config = Config::default();
    config.ui.wall = true;
    let mut state = State::new(config, now(), true);
    let (_, history) = sim::backfill(2026, now());
    for u in history {
        state.apply(Msg::Source(u));
    }
    state
}

fn tick(state: &mut State, secs: i64) {
    state.apply(Msg::Tick(now() + Duration::seconds(secs)));
}

/// Drives the demo's slowest service over twice the P95 target: critical.
fn drive_p95_over_critical(state: &mut State, at: DateTime<Utc>) {
    let sim = sim::Sim::new(2026, at);
    for mut u in sim::samples(&sim, at) {
        if let Ok(Payload::Metrics(m)) = &mut u.payload {
            m.services[2].p95_ms = 2500.0;
        }
        state.apply(Msg::Source(u));
    }
}

#[test]
fn wall_shows_large_figures_read_only_at_both_sizes() {
    let state = wall_state();
    assert!(
        state.read_only,
        "the wall is read-only whatever the config says"
    );
    let screen = render(&state, 200, 50);
    assert!(screen.contains("opsdeck wall · read-only"), "{screen}");
    assert!(screen.contains("data age"), "{screen}");
    assert!(screen.contains("clock"), "{screen}");
    // Large type draws with block characters, several rows per figure.
    assert!(screen.matches('█').count() > 200, "{screen}");
    insta::assert_snapshot!("wall_200x50", screen);
    insta::assert_snapshot!("wall_300x80", render(&state, 300, 80));
}

#[test]
fn wall_cycles_every_20_seconds_by_default() {
    let mut state = wall_state();
    assert_eq!(state.cycle_period(), 20);
    tick(&mut state, 19);
    assert_eq!(state.view, View::Overview);
    tick(&mut state, 20);
    assert_eq!(state.view, View::Scaling);
    tick(&mut state, 40);
    assert_eq!(state.view, View::Cache);
    insta::assert_snapshot!("wall_cache_200x50", render(&state, 200, 50));
}

#[test]
fn action_keys_on_the_wall_say_read_only() {
    let mut state = wall_state();
    for key in ['s', 'w', 'i', 'z'] {
        state.apply(Msg::Key(KeyEvent::new(
            KeyCode::Char(key),
            KeyModifiers::NONE,
        )));
        assert_eq!(
            state.mode,
            opsdeck::state::Mode::Normal,
            "{key} opened something"
        );
        let notice = state.notice.clone().unwrap_or_default();
        assert!(notice.contains("read-only"), "{key}: {notice:?}");
    }
    let screen = render(&state, 200, 50);
    assert!(screen.contains("read-only: this is the wall"), "{screen}");
}

#[test]
fn a_critical_figure_raises_a_banner_and_holds_the_cycle_on_its_view() {
    let mut state = wall_state();
    tick(&mut state, 20);
    assert_eq!(state.view, View::Scaling);
    drive_p95_over_critical(&mut state, now() + Duration::seconds(21));
    tick(&mut state, 22);
    assert_eq!(
        state.view,
        View::Latency,
        "the cycle goes to the view that shows it"
    );
    for secs in [45, 70, 120] {
        tick(&mut state, secs);
        assert_eq!(state.view, View::Latency, "and stays there ({secs} s)");
    }
    let screen = render(&state, 200, 50);
    assert!(
        screen.contains("CRITICAL  P95 latency 2500ms on llm-gateway (over 2000ms)"),
        "{screen}"
    );
    insta::assert_snapshot!("wall_critical_200x50", screen);
    insta::assert_snapshot!("wall_critical_300x80", render(&state, 300, 80));
}
