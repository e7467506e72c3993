//! Every built-in theme is legible on any terminal: it paints its own background, each text
//! role reads against the background it is drawn on (WCAG AA, 4.5:1), borders, chart series
//! and the selected row stand out from it (3:1), and a rendered screen has no cell left on
//! the terminal's own colours. Named ANSI colours are taken at xterm's defaults
//! (`opsdeck::ui::theme::contrast`).

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use opsdeck::config::Config;
use opsdeck::sources::sim;
use opsdeck::state::{Msg, State, View};
use opsdeck::ui::theme::contrast::{self, GRAPHIC_MIN, TEXT_MIN};
use opsdeck::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::{Color, Modifier, Style};

fn builtins() -> Vec<Theme> {
    Theme::builtin_names()
        .iter()
        .map(|n| Theme::resolve(n).unwrap())
        .collect()
}

fn text_roles(t: &Theme) -> [(&'static str, Style); 8] {
    [
        ("text", t.text),
        ("ok", t.ok),
        ("warn", t.warn),
        ("critical", t.critical),
        ("muted", t.muted),
        ("accent", t.accent),
        ("title", t.title),
        ("selection", t.selection),
    ]
}

/// `fg on bg` as the terminal shows it: reversed video swaps them.
fn shown(style: Style, under: Option<Color>) -> (Option<Color>, Option<Color>) {
    let (fg, bg) = (style.fg, style.bg.or(under));
    if style.add_modifier.contains(Modifier::REVERSED) {
        (bg, fg)
    } else {
        (fg, bg)
    }
}

#[test]
fn every_builtin_paints_its_background_under_every_role() {
    for t in builtins() {
        let bg = t
            .background
            .unwrap_or_else(|| panic!("{}: no background, so it inherits the terminal's", t.name));
        assert_ne!(bg, Color::Reset, "{}", t.name);
        for (role, style) in text_roles(&t).into_iter().chain([("border", t.border)]) {
            assert!(style.bg.is_some(), "{}: {role} has no background", t.name);
        }
        assert_eq!(t.base().bg, Some(bg), "{}", t.name);
        assert_eq!(t.base().fg, t.text.fg, "{}", t.name);
    }
}

#[test]
fn every_text_role_reads_at_wcag_aa() {
    let mut failures = Vec::new();
    for t in builtins() {
        for (role, style) in text_roles(&t) {
            let (fg, bg) = shown(style, t.background);
            match (fg, bg) {
                (Some(fg), Some(bg)) => {
                    let r = contrast::ratio(fg, bg).expect("both colours known");
                    if r < TEXT_MIN {
                        failures.push(format!("{} {role}: {fg} on {bg} is {r:.2}:1", t.name));
                    }
                }
                _ => failures.push(format!(
                    "{} {role}: fg {fg:?} on bg {bg:?}: a colour is the terminal's",
                    t.name
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "below {TEXT_MIN}:1:\n{}",
        failures.join("\n")
    );
}

#[test]
fn borders_series_and_the_selected_row_stand_out_at_3_to_1() {
    let mut failures = Vec::new();
    for t in builtins() {
        let bg = t.background.unwrap();
        let mut check = |what: String, c: Option<Color>| {
            let r = c.and_then(|c| contrast::ratio(c, bg)).unwrap_or(0.0);
            if r < GRAPHIC_MIN {
                failures.push(format!("{} {what}: {c:?} on {bg} is {r:.2}:1", t.name));
            }
        };
        check("border".into(), t.border.fg);
        for (i, c) in t.series.iter().enumerate() {
            check(format!("series[{i}]"), Some(*c));
        }
        // The selected row is a filled bar: its fill must differ from the screen's.
        check("selection fill".into(), shown(t.selection, None).1);
    }
    assert!(
        failures.is_empty(),
        "below {GRAPHIC_MIN}:1:\n{}",
        failures.join("\n")
    );
}

#[test]
fn no_color_still_paints_nothing() {
    let t = Theme::no_color();
    assert_eq!(t.background, None);
    assert_eq!(t.base(), Style::default());
}

fn demo_state() -> State {
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 15, 30, 0).unwrap();
    let mut state = State::new(Config::default(), now, true);
    let (_, history) = sim::backfill(2026, now);
    for u in history {
        state.apply(Msg::Source(u));
    }
    state
}

fn key(state: &mut State, c: char) {
    state.apply(Msg::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::NONE,
    )));
}

/// Every screen an operator meets: each view, help, and the three dialogs.
fn screens() -> Vec<(String, State)> {
    let mut out = Vec::new();
    for view in View::ALL {
        let mut s = demo_state();
        s.view = view;
        out.push((view.name().to_string(), s));
    }
    let mut s = demo_state();
    key(&mut s, '?');
    out.push(("help".into(), s));
    for (name, keys) in [("warmup", "w"), ("invalidate", "i"), ("scale", "2s")] {
        let mut s = demo_state();
        keys.chars().for_each(|c| key(&mut s, c));
        out.push((name.into(), s));
    }
    out
}

/// Box drawing, blocks and bars are marks, not letters: they need 3:1, text 4.5:1.
fn is_graphic(symbol: &str) -> bool {
    symbol
        .chars()
        .all(|c| matches!(c as u32, 0x2500..=0x259F | 0x25A0..=0x25FF | 0x2800..=0x28FF))
}

#[test]
fn rendered_screens_leave_no_cell_on_the_terminals_colours() {
    for theme in builtins() {
        for (name, state) in screens() {
            let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
            terminal.draw(|f| ui::draw(f, &state, &theme)).unwrap();
            let buf = terminal.backend().buffer();
            let mut failures = Vec::new();
            for y in 0..buf.area.height {
                for x in 0..buf.area.width {
                    let cell = &buf[(x, y)];
                    let style = cell.style();
                    let (fg, bg) = shown(style, None);
                    let (Some(fg), Some(bg)) = (fg.filter(|c| *c != Color::Reset), bg) else {
                        failures.push(format!("({x},{y}) {:?}: {style:?}", cell.symbol()));
                        continue;
                    };
                    if bg == Color::Reset {
                        failures.push(format!("({x},{y}) {:?}: no background", cell.symbol()));
                        continue;
                    }
                    if cell.symbol().trim().is_empty() {
                        continue;
                    }
                    let min = if is_graphic(cell.symbol()) {
                        GRAPHIC_MIN
                    } else {
                        TEXT_MIN
                    };
                    let r = contrast::ratio(fg, bg).unwrap();
                    if r < min {
                        failures.push(format!(
                            "({x},{y}) {:?}: {fg} on {bg} is {r:.2}:1",
                            cell.symbol()
                        ));
                    }
                }
            }
            assert!(
                failures.is_empty(),
                "{} / {name}: {} cells, first: {}",
                theme.name,
                failures.len(),
                failures
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
    }
}
