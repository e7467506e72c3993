//! Snapshot tests of every view, help and each dialog, at 80x24 and 160x48, on the seeded
//! demo at a fixed clock. A change in what the operator sees shows up as a snapshot diff.

mod support;

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use opsdeck::config::Config;
use opsdeck::sources::sim;
use opsdeck::state::{Msg, State, View};
use support::console::render;

fn demo_state() -> State {
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 15, 30, 0).unwrap();
    let mut state = State::new(Config::default(), now, true);
    let (_, history) = sim::backfill(2026, now);
    for u in history {
        state.apply(Msg::Source(u));
    }
    state
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn both_sizes(name: &str, state: &State) {
    insta::assert_snapshot!(format!("{name}_80x24"), render(state, 80, 24));
    insta::assert_snapshot!(format!("{name}_160x48"), render(state, 160, 48));
}

#[test]
fn every_view() {
    for view in View::ALL {
        let mut state = demo_state();
        state.view = view;
        both_sizes(view.name(), &state);
    }
}

/// The embedding deployment: a VPA like the seed's beside its HPA.
#[test]
fn scaling_detail_with_a_vpa() {
    let mut state = demo_state();
    state.view = View::Scaling;
    while state
        .selected_deployment()
        .is_some_and(|d| d.name != "embedding")
    {
        state.apply(key(KeyCode::Char('j')));
    }
    both_sizes("scaling_vpa", &state);
}

#[test]
fn help() {
    let mut state = demo_state();
    state.apply(key(KeyCode::Char('?')));
    both_sizes("help", &state);
}

#[test]
fn read_only_help_lists_no_actions() {
    let mut state = demo_state();
    state.read_only = true;
    state.apply(key(KeyCode::Char('?')));
    let screen = render(&state, 80, 24);
    assert!(screen.contains("READ-ONLY"));
    assert!(!screen.contains("warm up the cache"), "{screen}");
    assert!(!screen.contains("scale selected"), "{screen}");
}

#[test]
fn dialogs() {
    let mut state = demo_state();
    state.apply(key(KeyCode::Char('w')));
    both_sizes("dialog_warmup", &state);

    let mut state = demo_state();
    state.apply(key(KeyCode::Char('i')));
    both_sizes("dialog_invalidate", &state);

    let mut state = demo_state();
    state.apply(key(KeyCode::Char('2')));
    state.apply(key(KeyCode::Char('s')));
    for c in "14".chars() {
        state.apply(key(KeyCode::Char(c)));
    }
    both_sizes("dialog_scale", &state);
}

fn select(state: &mut State, name: &str) {
    state.apply(key(KeyCode::Char('2')));
    while state.selected_deployment().is_some_and(|d| d.name != name) {
        state.apply(key(KeyCode::Char('j')));
    }
}

/// The demo's kb-indexer starts hibernated: the row says so in words, the detail names
/// who and when and what it saves; `z` opens the wake dialog. On retrieval `z` opens the
/// hibernate dialog, its HPA left as it is.
#[test]
fn hibernated_deployment_and_its_dialogs() {
    let mut state = demo_state();
    select(&mut state, "kb-indexer");
    both_sizes("scaling_hibernated", &state);
    state.apply(key(KeyCode::Char('z')));
    both_sizes("dialog_wake", &state);

    let mut state = demo_state();
    select(&mut state, "retrieval");
    state.apply(key(KeyCode::Char('z')));
    both_sizes("dialog_hibernate", &state);

    // The entry is never hibernated: said at once, no dialog.
    let mut state = demo_state();
    select(&mut state, "chat-api");
    state.apply(key(KeyCode::Char('z')));
    assert_eq!(state.mode, opsdeck::state::Mode::Normal);
    let notice = state.notice.clone().unwrap();
    assert!(
        notice.contains("never_hibernate has \"chat-*\""),
        "{notice}"
    );
}

#[test]
fn a_small_terminal_gets_a_note_not_a_panic() {
    let state = demo_state();
    for (w, h) in [(40, 12), (1, 1), (59, 30), (200, 15)] {
        let screen = render(&state, w, h);
        assert!(screen.contains("opsdeck") || w < 10, "{w}x{h}: {screen}");
    }
    assert!(render(&state, 40, 12).contains("needs 60x16"));
}

#[test]
fn missing_sources_say_so_instead_of_zeros() {
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 15, 30, 0).unwrap();
    let config = Config {
        redis: Some(Default::default()),
        ..Default::default()
    };
    let mut state = State::new(config, now, false);
    state.apply(Msg::Source(opsdeck::sources::SourceUpdate {
        context: None,
        at: now,
        source: opsdeck::sources::SourceKind::Redis,
        payload: Err("redis 127.0.0.1:6379: connection refused".into()),
    }));
    state.view = View::Cache;
    let screen = render(&state, 80, 24);
    assert!(screen.contains("connection refused"), "{screen}");
    assert!(screen.contains("redis error"), "{screen}");
    state.view = View::Overview;
    let screen = render(&state, 80, 24);
    assert!(screen.contains("—"), "{screen}");
    assert!(!screen.contains("0.0%"), "{screen}");
}

#[test]
fn latency_lists_a_failed_query_with_the_servers_words() {
    let mut state = demo_state();
    state.view = View::Latency;
    let m = state.metrics.value.as_mut().unwrap();
    for s in &mut m.services {
        s.p95_ms = f64::NAN;
    }
    m.problems.push(opsdeck::sources::PanelProblem {
        panel: "p95_ms".into(),
        message:
            "bad_data: invalid parameter \"query\": 1:95: parse error: unclosed left parenthesis"
                .into(),
    });
    both_sizes("latency_problem", &state);
}

/// The header at 60, 80 and 200 columns: the DEMO badge always shows, at the right edge;
/// at 60 the view names shorten first, and the current view keeps its name.
#[test]
fn the_demo_badge_stays_at_every_width() {
    for (w, view) in [
        (60, View::Overview),
        (60, View::Latency),
        (80, View::Cost),
        (200, View::Logs),
    ] {
        let mut state = demo_state();
        state.view = view;
        let screen = render(&state, w, 24);
        let header = screen.lines().next().unwrap().trim_matches('"').to_string();
        assert!(header.trim_end().ends_with("DEMO"), "{w}: {header:?}");
        assert!(
            header.contains(view.name()),
            "{w}: {header:?} names the current view"
        );
        assert!(
            header.contains(" 6"),
            "{w}: {header:?} keeps every view's number"
        );
    }
    let state = demo_state();
    let wide = render(&state, 200, 24);
    assert!(wide.lines().next().unwrap().contains("4 latency"), "{wide}");
}

/// The Logs view on its own lines: newest at the bottom, a long line wrapped between words
/// with its continuation under the text, and `/` keeping only the lines that contain what
/// is typed.
#[test]
fn logs_wrap_on_words_and_slash_filters_them() {
    use opsdeck::model::{LogLevel, LogLine};
    let mut state = demo_state();
    state.view = View::Logs;
    let long = "scale: cs-prod/chat-api minReplicas 2 → 14: the HPA lifts replicas to 14 \
                within 15 s, each new pod adds $0.05/h to compute (demo)";
    for (level, text) in [
        (LogLevel::Info, "starting the embedded demo"),
        (
            LogLevel::Warn,
            "kubernetes: cannot tell whether VPAs are served (HTTP 403 Forbidden)",
        ),
        (LogLevel::Info, long),
        (
            LogLevel::Error,
            "warmup: /nonexistent.jsonl: No such file or directory (demo)",
        ),
    ] {
        state.apply(Msg::Log(LogLine {
            at: state.now,
            level,
            text: text.into(),
        }));
    }
    let screen = render(&state, 80, 24);
    let rows: Vec<&str> = screen.lines().collect();
    let body: String = rows
        .iter()
        .map(|r| {
            r.trim_matches('"')
                .trim_start_matches('│')
                .trim_end_matches('│')
        })
        .collect::<Vec<_>>()
        .join("\n");
    for word in long.split(' ') {
        assert!(
            body.contains(word),
            "{word:?} is cut across rows:\n{screen}"
        );
    }
    assert!(!body.contains("{ "), "no Rust debug output:\n{screen}");
    let warmup = body.lines().position(|l| l.contains("warmup:")).unwrap();
    let demo = body
        .lines()
        .position(|l| l.contains("starting the embedded"))
        .unwrap();
    assert!(demo < warmup, "newest at the bottom:\n{screen}");
    let continuation = body.lines().find(|l| l.contains("within 15 s")).unwrap();
    assert!(
        continuation.starts_with("           "),
        "indented under the text: {continuation:?}"
    );

    state.apply(key(KeyCode::Char('/')));
    for c in "DEMO".chars() {
        state.apply(key(KeyCode::Char(c)));
    }
    state.apply(key(KeyCode::Enter));
    let screen = render(&state, 80, 24);
    assert!(screen.contains("Logs /DEMO (3 of 4)"), "{screen}");
    assert!(screen.contains("starting the embedded demo"), "{screen}");
    assert!(screen.contains("No such file"), "{screen}");
    assert!(!screen.contains("VPAs are served"), "{screen}");

    state.apply(key(KeyCode::Char('/')));
    for c in "zzz".chars() {
        state.apply(key(KeyCode::Char(c)));
    }
    let screen = render(&state, 80, 24);
    assert!(screen.contains("no line contains"), "{screen}");
}

/// The demo at `now`, on the Scaling view.
fn scaling_at(now: chrono::DateTime<Utc>) -> State {
    let mut state = State::new(Config::default(), now, true);
    let (_, history) = sim::backfill(2026, now);
    for u in history {
        state.apply(Msg::Source(u));
    }
    state.view = View::Scaling;
    state
}

/// `text` from char column `from` to `to` (exclusive), trimmed.
fn cut(text: &str, from: usize, to: usize) -> String {
    text.chars()
        .skip(from)
        .take(to - from)
        .collect::<String>()
        .trim()
        .to_string()
}

/// How the detail words the table's `a→b`.
fn move_words(arrow: &str) -> String {
    let (a, b) = arrow.split_once('→').unwrap();
    let (a, b): (u32, u32) = (a.parse().unwrap(), b.parse().unwrap());
    match b.cmp(&a) {
        std::cmp::Ordering::Greater => format!("scale up {a} → {b}"),
        std::cmp::Ordering::Less => format!("scale down {a} → {b}"),
        std::cmp::Ordering::Equal => format!("hold at {a}"),
    }
}

/// For every demo deployment, through a day of the demo: the detail's seed-rules verdict
/// is the table's RULES cell, the HPA controller's move is the table's HPA MOVE, the cpu
/// in the reasons is the table's, and where the rules and the HPA point different ways the
/// detail says so in words.
#[test]
fn the_scaling_detail_agrees_with_the_table_for_every_demo_deployment() {
    let start = Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap();
    let (mut checked, mut differing) = (0, 0);
    for step in 0..96 {
        let mut state = scaling_at(start + chrono::Duration::minutes(15 * step));
        let names: Vec<String> = state
            .visible_deployments()
            .iter()
            .map(|d| d.name.clone())
            .collect();
        for (i, name) in names.iter().enumerate() {
            state.selected = i;
            let screen = render(&state, 160, 48);
            let rows: Vec<String> = screen
                .lines()
                .map(|l| l.trim_matches('"').to_string())
                .collect();
            let header = rows.iter().find(|r| r.contains("HPA MOVE")).unwrap();
            let col = |h: &str| {
                header
                    .chars()
                    .collect::<String>()
                    .find(h)
                    .map(|b| header[..b].chars().count())
                    .unwrap()
            };
            let row = rows
                .iter()
                .find(|r| r.contains(&format!("cs-prod/{name} ")))
                .unwrap();
            let arrow = cut(row, col("HPA MOVE"), col("CPU/TGT"));
            let cpu = cut(row, col("CPU/TGT"), col("MEM/TGT"));
            let rules = cut(row, col("RULES"), col("POOL"));
            let detail = rows.iter().find(|r| r.contains("seed rules: ")).unwrap();
            let said = detail
                .split("seed rules: ")
                .nth(1)
                .unwrap()
                .split(" —")
                .next()
                .unwrap();
            let ctx = || {
                format!(
                    "{name} at step {step}:\n{}",
                    rows[..12].join("\n") + "\n" + &rows[38..48].join("\n")
                )
            };
            assert_eq!(said, rules, "{}", ctx());
            let words = move_words(&arrow);
            assert!(
                rows.iter()
                    .any(|r| r.contains(&format!("HPA controller: {words}"))),
                "want {words:?}: {}",
                ctx()
            );
            let cpu_value = cpu.split(" / ").next().unwrap();
            if detail.contains("cpu ") {
                assert!(detail.contains(&format!("cpu {cpu_value}")), "{}", ctx());
            }
            let rules_dir = rules.split(' ').next().unwrap();
            let hpa_dir = words
                .split(' ')
                .nth(if words.starts_with("hold") { 0 } else { 1 })
                .unwrap();
            let disagree = matches!(rules_dir, "up" | "down" | "hold")
                && !rules.contains("(at ")
                && rules_dir != hpa_dir;
            let explained = screen.contains("rules and HPA differ");
            assert_eq!(disagree, explained, "{}", ctx());
            checked += 1;
            differing += usize::from(disagree);
        }
    }
    assert_eq!(
        checked,
        96 * 5,
        "five demo deployments, kb-indexer hibernated"
    );
    assert!(
        differing > 0,
        "the day has moments where the rules and the HPA differ"
    );
}

/// Help explains the Scaling table's words, whole, at 80x24 as at 160x48.
#[test]
fn help_explains_rules_and_the_hpa_move() {
    let mut state = demo_state();
    state.apply(key(KeyCode::Char('?')));
    for (w, h) in [(80, 24), (160, 48)] {
        let screen = render(&state, w, h);
        for words in [
            "RULES    the seed's scaling rules",
            "up      any over cpu 70% · memory 80% · queue 100 · p95 1000ms",
            "down    all under cpu 30% · memory 40% · queue 10",
            "hold    neither · ? a figure unknown · (at max)/(at min) the HPA's bound",
            "HPA MOVE the HPA controller's own move",
            "targets, so it can move while RULES holds",
            "CPU/TGT  % of the pods' requests",
        ] {
            assert!(screen.contains(words), "{w}x{h}: {words:?} in\n{screen}");
        }
    }
}

/// The Scaling table says in text what its colours say: `!` on pods not all ready, `▲` on an
/// HPA at its maximum (NO_COLOR users see no red).
#[test]
fn scaling_marks_not_ready_and_hpa_at_max_in_text() {
    let mut state = demo_state();
    state.apply(key(KeyCode::Char('2')));
    let c = state.cluster.value.as_mut().unwrap();
    let d = &mut c.deployments[0];
    d.ready = d.replicas - 1;
    let h = d.hpa.as_mut().unwrap();
    h.current = h.max;
    let name = d.name.clone();
    let screen = render(&state, 80, 24);
    let row = screen
        .lines()
        .find(|l| l.contains(&name))
        .expect("the deployment's row");
    assert!(row.contains(" !"), "{row}");
    assert!(row.contains('▲'), "{row}");
}
