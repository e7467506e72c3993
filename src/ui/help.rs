//! Help, generated from the keymap so it always says what the keys do.

use super::Theme;
use super::widgets::panel;
use crate::state::State;
use crate::state::keymap::{COMMANDS, visible_bindings};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let mut lines: Vec<Line> = visible_bindings(state.read_only)
        .map(|b| {
            Line::from(vec![
                Span::styled(format!(" {:<7}", b.keys), theme.accent),
                Span::styled(b.help, theme.text),
            ])
        })
        .collect();
    lines.push(Line::from(""));
    let commands: Vec<&str> = COMMANDS.iter().map(|c| c.usage).collect();
    lines.push(Line::from(Span::styled(
        format!(" {}", commands.join("  ")),
        theme.muted,
    )));
    if state.read_only {
        lines.push(Line::from(Span::styled(
            " read-only: scale, warmup and invalidate are off",
            theme.warn,
        )));
    }
    let popup = super::widgets::centered(area, 52, lines.len() as u16 + 2);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(panel("Keys (any key closes)", None, theme)),
        popup,
    );
}
