//! Logs: what the console itself logged (source trouble, actions and their results),
//! newest at the bottom, wrapped at word boundaries, and narrowed by the `/` filter.
//!
//! ```text
//! ┌ Logs /chat (2 of 57) ──────────────────────────────┐
//! │15:30:02 I scale: cs-prod/chat-api minReplicas 2 →  │
//! │           14 (demo)                                │
//! │15:31:10 W scale: cs-prod/chat-api conflict: ...    │
//! └────────────────────────────────────────────────────┘
//! ```

use super::widgets::{empty_note, panel};
use super::{Theme, format, redacted};
use crate::model::{LogLevel, LogLine};
use crate::state::State;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// `HH:MM:SS L `: the time and the level's letter before every line's text.
const PREFIX_W: usize = 11;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let book = &state.logs;
    let title = if state.filter.is_empty() {
        "Logs".to_string()
    } else {
        let n = book.matching(&state.filter).count();
        format!("Logs /{} ({n} of {})", state.filter, book.len())
    };
    let block = panel(&title, None, theme);
    let inner = block.inner(area);
    let (width, height) = (inner.width as usize, inner.height as usize);
    if book.matching(&state.filter).next().is_none() {
        let note = if book.is_empty() {
            "nothing logged yet: source trouble and every action's result show here".into()
        } else {
            format!(
                "no line contains {:?} (Esc clears the filter)",
                state.filter
            )
        };
        frame.render_widget(empty_note(note, theme.muted).block(block), area);
        return;
    }
    // Newest first until the panel is full: a week-old console wraps only what shows.
    let mut rows: Vec<Line> = Vec::with_capacity(height);
    for line in book.matching(&state.filter).rev() {
        let mut wrapped = rendered(line, width, state, theme);
        while let Some(row) = wrapped.pop() {
            rows.push(row);
        }
        if rows.len() >= height {
            break;
        }
    }
    rows.truncate(height);
    rows.reverse();
    frame.render_widget(Paragraph::new(rows).block(block), area);
}

/// One log line as screen rows: the prefix, then its text wrapped at word boundaries to
/// the rest of the width, continuation rows indented under the text.
fn rendered(line: &LogLine, width: usize, state: &State, theme: &Theme) -> Vec<Line<'static>> {
    let style = match line.level {
        LogLevel::Error => theme.critical,
        LogLevel::Warn => theme.warn,
        LogLevel::Info => theme.text,
    };
    let time = line.at.with_timezone(&chrono::Local).format("%H:%M:%S");
    let prefix = format!("{time} {} ", line.level.letter());
    let text = format::escape_control(&redacted(state, &line.text));
    let room = width.saturating_sub(PREFIX_W).max(10);
    format::wrap(&text, room)
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let lead = if i == 0 {
                Span::styled(prefix.clone(), theme.muted)
            } else {
                Span::raw(" ".repeat(PREFIX_W))
            };
            Line::from(vec![lead, Span::styled(part, style)])
        })
        .collect()
}
