//! Themes as semantic roles. View code asks for `theme.warn`, never for a colour.
//!
//! Themes are TOML files (`themes/*.toml`); the built-in ones are compiled into the binary
//! so `--theme light` works from any directory. `NO_COLOR` replaces every theme with
//! [`Theme::no_color`], which keeps meaning through modifiers alone.

pub mod contrast;
mod parse;

use crate::domain::grade::Grade;

use ratatui::style::{Color, Modifier, Style};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    /// Screen background; `None` keeps the terminal's own.
    pub background: Option<Color>,
    /// Plain text.
    pub text: Style,
    pub ok: Style,
    pub warn: Style,
    pub critical: Style,
    pub muted: Style,
    pub accent: Style,
    pub border: Style,
    pub title: Style,
    pub selection: Style,
    /// Chart series colours, in order.
    pub series: Vec<Color>,
}

#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error(
        "unknown theme {name:?}: built-in themes are {}, or give the path of a .toml file",
        Theme::builtin_names().join(", ")
    )]
    UnknownName { name: String },
    #[error("cannot read theme file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `key` is the dotted place in the file (`critical.fg`, `series[2]`) so the message
    /// points at what to edit even when the line holds several keys.
    #[error("{file}:{line}: {key}: {message}")]
    Invalid {
        file: String,
        line: usize,
        key: String,
        message: String,
    },
}

/// Built-in themes: (name, file name for messages, TOML text).
const BUILTIN: &[(&str, &str, &str)] = &[
    (
        "dark",
        "themes/dark.toml",
        include_str!("../../themes/dark.toml"),
    ),
    (
        "light",
        "themes/light.toml",
        include_str!("../../themes/light.toml"),
    ),
    (
        "high-contrast",
        "themes/high-contrast.toml",
        include_str!("../../themes/high-contrast.toml"),
    ),
    (
        "solarized-dark",
        "themes/solarized-dark.toml",
        include_str!("../../themes/solarized-dark.toml"),
    ),
];

const BUILTIN_NAMES: &[&str] = &["dark", "light", "high-contrast", "solarized-dark"];

impl Theme {
    /// The dark default, compiled into the binary.
    pub fn default_dark() -> Theme {
        let (_, file, text) = BUILTIN[0];
        Theme::from_toml_str(file, text, "dark")
            .expect("themes/dark.toml is embedded and parsed by a unit test, so it is valid")
    }

    pub fn builtin_names() -> &'static [&'static str] {
        BUILTIN_NAMES
    }

    /// A built-in name, or the path of a theme file: anything containing `/` or ending in
    /// `.toml` is a path, so `./mine.toml` and `mine.toml` both read a file.
    pub fn resolve(name_or_path: &str) -> Result<Theme, ThemeError> {
        if name_or_path.contains('/') || name_or_path.ends_with(".toml") {
            return Theme::from_file(Path::new(name_or_path));
        }
        BUILTIN
            .iter()
            .find(|(name, _, _)| *name == name_or_path)
            .map(|(name, file, text)| Theme::from_toml_str(file, text, name))
            .unwrap_or_else(|| {
                Err(ThemeError::UnknownName {
                    name: name_or_path.to_string(),
                })
            })
    }

    /// Reads a theme file. A file without `name` is named after its stem.
    pub fn from_file(path: &Path) -> Result<Theme, ThemeError> {
        let text = std::fs::read_to_string(path).map_err(|source| ThemeError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "custom".into());
        Theme::from_toml_str(&path.display().to_string(), &text, &stem)
    }

    /// Parses theme TOML. `file` only labels error messages; `default_name` is used when
    /// the text has no `name` key.
    pub fn from_toml_str(file: &str, text: &str, default_name: &str) -> Result<Theme, ThemeError> {
        parse::parse(file, text, default_name)
    }

    /// For `NO_COLOR`: no foreground or background anywhere, so meaning is carried by
    /// modifiers (and by the words and symbols the views already show).
    pub fn no_color() -> Theme {
        let plain = Style::default();
        Theme {
            name: "no-color".into(),
            background: None,
            text: plain,
            ok: plain,
            warn: plain.add_modifier(Modifier::BOLD),
            critical: plain.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            muted: plain.add_modifier(Modifier::DIM),
            accent: plain,
            border: plain,
            title: plain.add_modifier(Modifier::BOLD),
            selection: plain.add_modifier(Modifier::REVERSED),
            series: Vec::new(),
        }
    }

    /// The theme to draw with: `NO_COLOR` over everything, then `--theme`, then
    /// `[ui] theme` from the config.
    pub fn from_env_and_flag(
        flag: Option<&str>,
        config_theme: &str,
        no_color: bool,
    ) -> Result<Theme, ThemeError> {
        if no_color {
            return Ok(Theme::no_color());
        }
        Theme::resolve(flag.unwrap_or(config_theme))
    }

    /// Whether `NO_COLOR` asks for no colour: set and non-empty (<https://no-color.org>).
    pub fn no_color_requested(value: Option<&OsStr>) -> bool {
        value.is_some_and(|v| !v.is_empty())
    }

    /// [`Theme::no_color_requested`] for this process's environment.
    pub fn no_color_from_env() -> bool {
        Theme::no_color_requested(std::env::var_os("NO_COLOR").as_deref())
    }

    /// What the whole screen is painted with before anything is drawn on it: the theme's
    /// background under its text colour, so a cell no view styles still reads. Nothing
    /// at all for a theme that keeps the terminal's own background (and for `NO_COLOR`).
    pub fn base(&self) -> Style {
        match self.background {
            Some(bg) => Style {
                fg: self.text.fg,
                bg: Some(bg),
                ..Style::default()
            },
            None => Style::default(),
        }
    }

    /// Colour of chart series `i`, cycling; the terminal's default when the theme has none.
    pub fn series(&self, i: usize) -> Color {
        self.series
            .get(i % self.series.len().max(1))
            .copied()
            .unwrap_or(Color::Reset)
    }

    /// A graded figure's text mark, shown beside its colour in every theme so that colour
    /// is never the only signal (`NO_COLOR`, colour-blind eyes, a photo of the wall):
    /// `!` warn, `!!` critical, nothing when fine or unknown.
    pub fn mark(g: Grade) -> &'static str {
        match g {
            Grade::Warn => "!",
            Grade::Critical => "!!",
            Grade::Ok | Grade::Unknown => "",
        }
    }

    /// `text` with its grade's mark after it: `1523ms !`, `64.0% !!`, `943ms`.
    pub fn marked(text: &str, g: Grade) -> String {
        match Theme::mark(g) {
            "" => text.to_string(),
            m => format!("{text} {m}"),
        }
    }

    /// The one mapping from a figure's grade to its look, for tiles, tables and alerts.
    pub fn graded(&self, g: Grade) -> Style {
        match g {
            Grade::Ok => self.ok,
            Grade::Warn => self.warn,
            Grade::Critical => self.critical,
            Grade::Unknown => self.muted,
        }
    }
}

/// A grade as a text mark beside the figure, so a table reads without colour (`NO_COLOR`):
/// `✓` on target, `!` below it, `✖` below the alert line.
pub fn grade_mark(g: Grade) -> &'static str {
    match g {
        Grade::Ok => "✓",
        Grade::Warn => "!",
        Grade::Critical => "✖",
        Grade::Unknown => "?",
    }
}

impl Default for Theme {
    fn default() -> Self {
        Theme::default_dark()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `themes/dark.toml` says, written out: every role on the painted black.
    fn dark_as_written_in_code() -> Theme {
        let on = |fg: Color| Style::default().fg(fg).bg(Color::Black);
        Theme {
            name: "dark".into(),
            background: Some(Color::Black),
            text: on(Color::Gray),
            ok: on(Color::Green),
            warn: on(Color::Yellow),
            critical: on(Color::LightRed).add_modifier(Modifier::BOLD),
            muted: on(Color::DarkGray),
            accent: on(Color::Cyan),
            border: on(Color::DarkGray),
            title: on(Color::White).add_modifier(Modifier::BOLD),
            selection: Style::default()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            series: vec![Color::Cyan, Color::Magenta, Color::Yellow, Color::Green],
        }
    }

    #[test]
    fn embedded_dark_toml_parses_to_the_default() {
        let (_, file, text) = BUILTIN[0];
        let parsed = Theme::from_toml_str(file, text, "dark").expect("dark.toml parses");
        assert_eq!(parsed, dark_as_written_in_code());
        assert_eq!(Theme::default_dark(), dark_as_written_in_code());
    }

    #[test]
    fn builtin_table_and_names_agree() {
        let names: Vec<&str> = BUILTIN.iter().map(|(n, _, _)| *n).collect();
        assert_eq!(names, Theme::builtin_names());
    }

    #[test]
    fn no_color_env_follows_no_color_org() {
        assert!(!Theme::no_color_requested(None));
        assert!(!Theme::no_color_requested(Some(OsStr::new(""))));
        assert!(Theme::no_color_requested(Some(OsStr::new("1"))));
        assert!(Theme::no_color_requested(Some(OsStr::new("0"))));
    }
}
