//! Same figures, same grade: the Overview tiles, the Latency and Cache tables and the alert
//! lists colour one figure alike, on the real `ui::draw` over a `TestBackend`.

use chrono::{TimeZone, Utc};
use opsdeck::config::Config;
use opsdeck::sources::SourceUpdate;
use opsdeck::sources::{CacheSample, MetricsSample, Payload, ServiceLatency, SourceKind};
use opsdeck::state::{Msg, State, View};
use opsdeck::ui::{self, Theme, format};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;

/// One service and one cache, each figure past a different line of the default rules:
/// P95 1.5 s (warn: > 1 s), errors 2 % (critical: > 100 × 0.01 %), queue 180 (warn: > 100),
/// hit rate 75 % (warn: under the 80 % target, above the 70 % alert), PING 20 ms (warn).
fn graded_state() -> State {
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 15, 30, 0).unwrap();
    let mut state = State::new(Config::default(), now, false);
    let metrics = MetricsSample {
        services: vec![ServiceLatency {
            name: "chat".into(),
            qps: 50.0,
            error_rate: 0.02,
            p50_ms: 200.0,
            p95_ms: 1500.0,
            p99_ms: 3000.0,
            queue_length: 180.0,
            context: None,
        }],
        ..Default::default()
    };
    let cache = CacheSample {
        hit_rate: Some(0.75),
        hit_rate_lifetime: Some(0.9),
        ping_ms: 20.0,
        used_memory_bytes: 10,
        maxmemory_bytes: 100,
        eviction_policy: "allkeys-lru".into(),
        ..Default::default()
    };
    for (source, payload) in [
        (SourceKind::Prometheus, Payload::Metrics(Box::new(metrics))),
        (SourceKind::Redis, Payload::Cache(Box::new(cache))),
    ] {
        state.apply(Msg::Source(SourceUpdate {
            context: None,
            at: now,
            source,
            payload: Ok(payload),
        }));
    }
    state
}

fn render(state: &State, view: View) -> Buffer {
    let mut state = state.clone();
    state.view = view;
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    terminal
        .draw(|f| ui::draw(f, &state, &Theme::default_dark()))
        .unwrap();
    terminal.backend().buffer().clone()
}

fn row_text(buf: &Buffer, y: u16) -> String {
    (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect()
}

/// The foreground colour of every place `text` is drawn (on rows that also show
/// `row_marker`, when given: a table row rather than a chart label).
fn colours_of(buf: &Buffer, text: &str, row_marker: Option<&str>) -> Vec<Color> {
    let want: Vec<String> = text.chars().map(String::from).collect();
    let area = buf.area;
    let mut out = Vec::new();
    for y in 0..area.height {
        if row_marker.is_some_and(|m| !row_text(buf, y).contains(m)) {
            continue;
        }
        for x in 0..area.width.saturating_sub(want.len() as u16 - 1) {
            let hit = want
                .iter()
                .enumerate()
                .all(|(i, c)| buf[(x + i as u16, y)].symbol() == c);
            if hit {
                out.push(buf[(x, y)].fg);
            }
        }
    }
    out
}

/// `text` is on screen, and everywhere in `colour`.
fn assert_drawn_in(buf: &Buffer, text: &str, colour: Option<Color>, what: &str) {
    assert_drawn_in_row(buf, None, text, colour, what);
}

fn assert_drawn_in_row(
    buf: &Buffer,
    row_marker: Option<&str>,
    text: &str,
    colour: Option<Color>,
    what: &str,
) {
    let found = colours_of(buf, text, row_marker);
    assert!(!found.is_empty(), "{what}: {text:?} not on screen");
    assert!(
        found.iter().all(|c| Some(*c) == colour),
        "{what}: {text:?} drawn in {found:?}, want {colour:?}"
    );
}

#[test]
fn one_figure_has_one_colour_in_tiles_tables_and_alerts() {
    let state = graded_state();
    let theme = Theme::default_dark();
    let (warn, critical) = (theme.warn.fg, theme.critical.fg);
    assert_ne!(warn, critical, "the test needs the two told apart");

    let p95 = format::ms(1500.0);
    let errors = format::percent_precise(0.02);
    let hit = format::ratio_pct(0.75);

    let overview = render(&state, View::Overview);
    assert_drawn_in(&overview, &p95, warn, "P95 tile");
    assert_drawn_in(&overview, &errors, critical, "error rate tile and alert");
    assert_drawn_in(&overview, &hit, warn, "hit rate tile and alert");
    assert_drawn_in(&overview, "chat P95", warn, "P95 alert");
    assert_drawn_in(&overview, "chat error rate", critical, "error alert");
    assert_drawn_in(&overview, "cache hit rate", warn, "hit rate alert");
    assert_drawn_in(&overview, "cache latency", warn, "ping alert");

    let latency = render(&state, View::Latency);
    // The table row is the one with the P99 (the chart's axis shows the P95 too).
    let row = Some(format::ms(3000.0));
    let row = row.as_deref();
    assert_drawn_in_row(&latency, row, &p95, warn, "P95 cell");
    assert_drawn_in_row(&latency, row, &errors, critical, "error cell");
    assert_drawn_in_row(&latency, row, "180", warn, "queue cell");
    assert_drawn_in(&latency, &errors, critical, "error cell and alert");
    assert_drawn_in(&latency, "chat P95", warn, "P95 alert");
    assert_drawn_in(&latency, "chat error rate", critical, "error alert");

    let cache = render(&state, View::Cache);
    assert_drawn_in(&cache, &hit, warn, "hit rate line");
    assert_drawn_in(&cache, &format::ms(20.0), warn, "ping line");
    assert_drawn_in(&cache, "10B / 100B", theme.ok.fg, "memory line at 10 %");
}

#[test]
fn no_traffic_is_not_a_zero_error_rate() {
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 15, 30, 0).unwrap();
    let mut state = State::new(Config::default(), now, false);
    let idle = MetricsSample {
        services: vec![ServiceLatency {
            name: "chat".into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    state.apply(Msg::Source(SourceUpdate {
        context: None,
        at: now,
        source: SourceKind::Prometheus,
        payload: Ok(Payload::Metrics(Box::new(idle))),
    }));
    let theme = Theme::default_dark();
    let overview = render(&state, View::Overview);
    assert_drawn_in(&overview, "no traffic", theme.muted.fg, "error rate tile");
    assert!(colours_of(&overview, &format::percent_precise(0.0), None).is_empty());
    assert!(state.history.error_rate.points().next().is_none());
}
