//! Themes as semantic roles. View code asks for `theme.warn`, never for a colour.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
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

impl Theme {
    /// The dark default, compiled into the binary.
    pub fn default_dark() -> Theme {
        Theme {
            name: "dark".into(),
            text: Style::default().fg(Color::Gray),
            ok: Style::default().fg(Color::Green),
            warn: Style::default().fg(Color::Yellow),
            critical: Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
            muted: Style::default().fg(Color::DarkGray),
            accent: Style::default().fg(Color::Cyan),
            border: Style::default().fg(Color::DarkGray),
            title: Style::default()
                .fg(Color::White)
                .add_modifier(Modifier::BOLD),
            selection: Style::default()
                .bg(Color::DarkGray)
                .add_modifier(Modifier::BOLD),
            series: vec![Color::Cyan, Color::Magenta, Color::Yellow, Color::Green],
        }
    }

    pub fn series(&self, i: usize) -> Color {
        self.series
            .get(i % self.series.len().max(1))
            .copied()
            .unwrap_or(Color::Reset)
    }
}
