//! Themes as an operator meets them: `--theme NAME|PATH`, `[ui] theme`, `NO_COLOR`, and the
//! messages a broken theme file produces.

use opsdeck::ui::theme::{Theme, ThemeError};
use ratatui::style::{Color, Modifier, Style};
use std::path::PathBuf;

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/themes")
        .join(name)
        .display()
        .to_string()
}

fn roles(t: &Theme) -> [(&'static str, Style); 9] {
    [
        ("text", t.text),
        ("ok", t.ok),
        ("warn", t.warn),
        ("critical", t.critical),
        ("muted", t.muted),
        ("accent", t.accent),
        ("border", t.border),
        ("title", t.title),
        ("selection", t.selection),
    ]
}

/// `(file, line, key, message)` of an `Invalid` error, or a panic saying what came instead.
fn invalid(result: Result<Theme, ThemeError>) -> (String, usize, String, String) {
    match result {
        Err(ThemeError::Invalid {
            file,
            line,
            key,
            message,
        }) => (file, line, key, message),
        other => panic!("expected an Invalid theme error, got {other:?}"),
    }
}

#[test]
fn every_builtin_resolves_by_name_and_is_named_after_itself() {
    assert_eq!(
        Theme::builtin_names(),
        ["dark", "light", "high-contrast", "solarized-dark"]
    );
    for name in Theme::builtin_names() {
        let theme = Theme::resolve(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(theme.name, *name);
        assert!(!theme.series.is_empty(), "{name} has chart series");
    }
}

#[test]
fn dark_is_the_default() {
    assert_eq!(Theme::resolve("dark").unwrap(), Theme::default_dark());
    assert_eq!(Theme::default(), Theme::default_dark());
}

#[test]
fn builtins_tell_warn_from_critical_from_ok() {
    for name in Theme::builtin_names() {
        let t = Theme::resolve(name).unwrap();
        assert_ne!(t.ok, t.warn, "{name}: ok and warn look the same");
        assert_ne!(
            t.warn, t.critical,
            "{name}: warn and critical look the same"
        );
        assert_ne!(t.text, t.selection, "{name}: selection is invisible");
    }
}

#[test]
fn builtin_files_on_disk_match_the_embedded_ones() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("themes");
    for name in Theme::builtin_names() {
        let path = dir.join(format!("{name}.toml"));
        let from_disk = Theme::resolve(&path.display().to_string()).unwrap();
        assert_eq!(from_disk, Theme::resolve(name).unwrap());
    }
}

#[test]
fn a_user_file_takes_every_colour_form_and_is_named_after_its_stem() {
    let t = Theme::resolve(&fixture("custom.toml")).unwrap();
    assert_eq!(t.name, "custom");
    assert_eq!(
        t.series,
        vec![Color::Rgb(0xff, 0x88, 0), Color::Indexed(33)]
    );
    assert_eq!(
        t.critical,
        Style::default()
            .fg(Color::White)
            .bg(Color::Rgb(0xaa, 0, 0))
            .add_modifier(Modifier::BOLD | Modifier::REVERSED)
    );
    assert_eq!(
        t.muted,
        Style::default()
            .fg(Color::Indexed(245))
            .add_modifier(Modifier::DIM)
    );
    assert_eq!(t.accent.fg, Some(Color::LightBlue));
    assert_eq!(t.selection, Style::default().bg(Color::Blue));
}

#[test]
fn unknown_name_lists_the_builtins() {
    let err = Theme::resolve("dracula").unwrap_err();
    assert!(matches!(err, ThemeError::UnknownName { .. }));
    let msg = err.to_string();
    for name in Theme::builtin_names() {
        assert!(msg.contains(name), "{msg}");
    }
    assert!(msg.contains(".toml"), "says a path works too: {msg}");
}

#[test]
fn a_missing_file_names_the_path() {
    let err = Theme::resolve("/nonexistent/mine.toml").unwrap_err();
    assert!(matches!(err, ThemeError::Read { .. }));
    assert!(err.to_string().contains("/nonexistent/mine.toml"));
}

#[test]
fn bad_colour_names_line_key_and_accepted_forms() {
    let (file, line, key, message) = invalid(Theme::resolve(&fixture("bad-colour.toml")));
    assert!(file.ends_with("bad-colour.toml"));
    assert_eq!((line, key.as_str()), (14, "critical.fg"));
    assert!(message.contains("\"#12345\""), "{message}");
    for form in ["lightcyan", "#rrggbb", "0-255"] {
        assert!(message.contains(form), "{message}");
    }
}

#[test]
fn bad_series_entry_names_its_index() {
    let (_, line, key, message) = invalid(Theme::resolve(&fixture("bad-series.toml")));
    assert_eq!((line, key.as_str()), (2, "series[1]"));
    assert!(message.starts_with("300 is not a colour"), "{message}");
}

#[test]
fn unknown_role_suggests_the_near_one() {
    let err = Theme::resolve(&fixture("unknown-role.toml")).unwrap_err();
    let shown = err.to_string();
    let (_, line, key, message) = invalid(Err(err));
    assert_eq!((line, key.as_str()), (13, "critcal"));
    assert!(message.contains("did you mean \"critical\""), "{message}");
    assert!(message.contains("selection"), "lists the roles: {message}");
    assert!(
        shown.contains("unknown-role.toml:13: critcal:"),
        "file:line: key: first, as editors jump to it: {shown}"
    );
}

#[test]
fn unknown_key_in_a_role_lists_the_role_keys() {
    let (_, line, key, message) = invalid(Theme::resolve(&fixture("unknown-key.toml")));
    assert_eq!((line, key.as_str()), (6, "text.fgg"));
    assert!(message.contains("did you mean \"fg\""), "{message}");
    assert!(message.contains("fg, bg, modifiers"), "{message}");
}

#[test]
fn bad_modifier_lists_the_modifiers() {
    let (_, line, key, message) = invalid(Theme::resolve(&fixture("bad-modifier.toml")));
    assert_eq!((line, key.as_str()), (15, "critical.modifiers[0]"));
    assert!(message.contains("did you mean \"bold\""), "{message}");
    assert!(
        message.contains("bold, dim, italic, underlined, reversed"),
        "{message}"
    );
}

#[test]
fn missing_role_is_named() {
    let (_, _, key, message) = invalid(Theme::resolve(&fixture("missing-role.toml")));
    assert_eq!(key, "warn");
    assert!(message.contains("missing role"), "{message}");
}

#[test]
fn toml_syntax_error_has_a_line() {
    let (_, line, _, _) = invalid(Theme::resolve(&fixture("syntax-error.toml")));
    assert_eq!(line, 2);
}

#[test]
fn top_level_key_after_a_table_says_where_it_belongs() {
    let text = "[text]\nfg = \"gray\"\nseries = [\"red\"]\n";
    let (_, line, key, message) = invalid(Theme::from_toml_str("inline", text, "x"));
    assert_eq!((line, key.as_str()), (3, "text.series"));
    assert!(message.contains("above the first [table]"), "{message}");
}

#[test]
fn no_color_has_no_colour_anywhere_but_keeps_emphasis() {
    let t = Theme::no_color();
    for (role, style) in roles(&t) {
        assert_eq!(style.fg, None, "{role} has a foreground");
        assert_eq!(style.bg, None, "{role} has a background");
    }
    assert_eq!(t.background, None);
    assert!(t.series.is_empty());
    assert_eq!(t.series(3), Color::Reset);
    assert!(t.selection.add_modifier.contains(Modifier::REVERSED));
    assert!(t.critical.add_modifier.contains(Modifier::BOLD));
    assert_ne!(t.warn, t.critical);
}

#[test]
fn flag_beats_config_and_no_color_beats_both() {
    let pick = |flag, config, no_color| Theme::from_env_and_flag(flag, config, no_color);
    assert_eq!(pick(None, "light", false).unwrap().name, "light");
    assert_eq!(
        pick(Some("high-contrast"), "light", false).unwrap().name,
        "high-contrast"
    );
    assert_eq!(
        pick(Some("light"), "dark", true).unwrap(),
        Theme::no_color()
    );
    // NO_COLOR is honoured even when the configured theme is broken: the operator asked
    // for no colour, so there is nothing to resolve.
    assert_eq!(
        pick(None, "no-such-theme", true).unwrap(),
        Theme::no_color()
    );
    assert!(pick(Some("no-such-theme"), "dark", false).is_err());
}

#[test]
fn series_cycle() {
    let t = Theme::default_dark();
    assert_eq!(t.series(0), Color::Cyan);
    assert_eq!(t.series(4), Color::Cyan);
    assert_eq!(t.series(5), Color::Magenta);
}
