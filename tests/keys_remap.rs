//! `[keys]` remaps: the console's dispatch, help and hint bar follow the config; a conflict
//! is a config error naming file, line and key (the fixtures in
//! `tests/fixtures/config/invalid/keys_*.toml` cover check-config's side).

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use opsdeck::config;
use opsdeck::sources::sim;
use opsdeck::state::{DialogKind, Mode, Msg, State, View};
use opsdeck::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn render(state: &State) -> String {
    let mut terminal = Terminal::new(TestBackend::new(200, 40)).unwrap();
    terminal
        .draw(|f| ui::draw(f, state, &Theme::default_dark()))
        .unwrap();
    terminal.backend().to_string()
}

#[test]
fn a_remapped_key_acts_and_help_and_hints_show_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "[keys]\nscale = \"S\"\nrefresh = [\"F5\", \"r\"]\n").unwrap();
    let cfg = config::load(&path).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 15, 30, 0).unwrap();
    let mut state = State::new(cfg, now, true);
    for u in sim::backfill(2026, now).1 {
        state.apply(Msg::Source(u));
    }
    state.apply(key('2'));
    assert_eq!(state.view, View::Scaling);
    let screen = render(&state);
    assert!(screen.contains(" S scale "), "{screen}");
    assert!(screen.contains("F5/r refresh"), "{screen}");
    // The old key does nothing now.
    state.apply(key('s'));
    assert_eq!(state.mode, Mode::Normal);
    state.apply(key('S'));
    assert!(
        matches!(&state.mode, Mode::Dialog(d) if matches!(d.kind, DialogKind::Scale { .. })),
        "{:?}",
        state.mode
    );
    state.apply(Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    state.apply(key('?'));
    let help = render(&state);
    assert!(help.contains(" S      scale selected deployment"), "{help}");
}

#[test]
fn a_conflicting_remap_refuses_to_load_with_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "[ui]\nrefresh_ms = 1000\n\n[keys]\nwarmup = \"s\"\n").unwrap();
    let err = config::load(&path).unwrap_err().to_string();
    let want = format!(
        "{}:5: keys.warmup: `s` is also the key of `scale`",
        path.display()
    );
    assert!(err.contains(&want), "{err}");
    // And the console does not start on it: exit 2 with the same words.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(["--config", path.to_str().unwrap(), "snapshot"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("keys.warmup"));
}
