//! Pictures people read at a glance: charts with a time axis, a value axis with units and
//! the target and alert lines; and, without colour, a text mark on every graded figure.

use chrono::{TimeZone, Utc};
use opsdeck::config::Config;
use opsdeck::model::Payload;
use opsdeck::sources::sim;
use opsdeck::state::{Msg, State, View};
use opsdeck::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn demo_state() -> State {
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 15, 30, 0).unwrap();
    let mut state = State::new(Config::default(), now, true);
    let (_, history) = sim::backfill(2026, now);
    for u in history {
        state.apply(Msg::Source(u));
    }
    state
}

fn render(state: &State, theme: &Theme, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| ui::draw(f, state, theme)).unwrap();
    terminal.backend().to_string()
}

/// Each chart: its view, what its value axis and lines must say.
const CHARTS: [(View, &[&str]); 3] = [
    (
        View::Cache,
        &["Hit rate, last 10 min", "%│", "target 80%", "alert 70%"],
    ),
    (
        View::Latency,
        &["P95 per service", "ms│", "target 1000ms", "chat-api"],
    ),
    (View::Cost, &["$/h, last 10 min", "/h│"]),
];

#[test]
fn charts_have_a_time_axis_units_and_their_lines() {
    let theme = Theme::default_dark();
    for (view, must) in CHARTS {
        let mut state = demo_state();
        state.view = view;
        for (w, h) in [(80, 24), (160, 48)] {
            let screen = render(&state, &theme, w, h);
            for text in ["-10m", "-5m", "now"].iter().chain(must) {
                assert!(
                    screen.contains(text),
                    "{} {w}x{h}: no {text:?}\n{screen}",
                    view.name()
                );
            }
            insta::assert_snapshot!(format!("chart_{}_{w}x{h}", view.name()), screen);
        }
    }
}

/// The demo with one figure of each grade: llm-gateway's P95 at warn (1500 ms), the cache
/// hit rate critical (60 %), one service's queue critical.
fn graded_state() -> State {
    let mut state = demo_state();
    let at = state.now + chrono::Duration::seconds(1);
    let sim = sim::Sim::new(2026, at);
    for mut u in sim::samples(&sim, at) {
        match &mut u.payload {
            Ok(Payload::Metrics(m)) => {
                m.services[2].p95_ms = 1500.0;
                m.services[1].queue_length = 250.0;
            }
            Ok(Payload::Cache(c)) => c.hit_rate = Some(0.60),
            _ => {}
        }
        state.apply(Msg::Source(u));
    }
    state
}

#[test]
fn without_colour_every_graded_figure_carries_a_text_mark() {
    let theme = Theme::no_color();
    let state = graded_state();
    let mut overview = state.clone();
    overview.view = View::Overview;
    let screen = render(&overview, &theme, 80, 24);
    assert!(screen.contains("1500ms !"), "P95 warn\n{screen}");
    assert!(screen.contains("60.0% !!"), "hit rate critical\n{screen}");
    insta::assert_snapshot!("no_color_overview_80x24", screen);

    let mut latency = state.clone();
    latency.view = View::Latency;
    let screen = render(&latency, &theme, 80, 24);
    assert!(screen.contains("1500ms !"), "{screen}");
    assert!(screen.contains("250 !!"), "queue critical\n{screen}");
    insta::assert_snapshot!("no_color_latency_80x24", screen);

    let mut cache = state;
    cache.view = View::Cache;
    let screen = render(&cache, &theme, 80, 24);
    assert!(screen.contains("60.0% !!"), "{screen}");
    insta::assert_snapshot!("no_color_cache_80x24", screen);
}

/// The marks are text, so every theme shows them, not only NO_COLOR.
#[test]
fn every_theme_shows_the_marks() {
    let mut state = graded_state();
    state.view = View::Overview;
    for name in Theme::builtin_names() {
        let theme = Theme::resolve(name).unwrap();
        let screen = render(&state, &theme, 100, 30);
        assert!(screen.contains("60.0% !!"), "{name}\n{screen}");
        assert!(screen.contains("1500ms !"), "{name}\n{screen}");
    }
}
