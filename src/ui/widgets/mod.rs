//! Small building blocks shared by the views.

use super::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline};

/// A bordered panel with a title and, optionally, a health badge on the right.
pub fn panel<'a>(title: &'a str, badge: Option<Line<'a>>, theme: &Theme) -> Block<'a> {
    let mut b = Block::default()
        .borders(Borders::ALL)
        // Popups clear what is under them: the panel paints the theme's background again.
        .style(theme.base())
        .border_style(theme.border)
        .title(Span::styled(format!(" {title} "), theme.title));
    if let Some(badge) = badge {
        b = b.title(badge.right_aligned());
    }
    b
}

/// One Overview tile: a figure, its colour against the target, a note and a history.
pub struct Tile<'a> {
    pub title: &'a str,
    pub value: String,
    pub style: Style,
    pub note: String,
    pub history: Vec<u64>,
}

impl Tile<'_> {
    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let block = panel(self.title, None, theme);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [value, note, chart] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Min(0),
        ])
        .areas(inner);
        frame.render_widget(
            Paragraph::new(Span::styled(
                self.value.clone(),
                self.style.add_modifier(ratatui::style::Modifier::BOLD),
            )),
            value,
        );
        frame.render_widget(
            Paragraph::new(Span::styled(self.note.clone(), theme.muted)),
            note,
        );
        if chart.height > 0 && !self.history.is_empty() {
            let skip = self.history.len().saturating_sub(chart.width as usize);
            let (data, top) = relief(&self.history[skip..]);
            frame.render_widget(
                Sparkline::default()
                    .data(&data)
                    .max(top)
                    .style(Style::default().fg(theme.series(0))),
                chart,
            );
        }
    }
}

/// Lifts a series off its floor so small changes show: a sparkline always starts at zero,
/// and 86 % against 87 % would otherwise be two full bars.
/// Returns the lifted points and the sparkline's top.
pub fn relief(data: &[u64]) -> (Vec<u64>, u64) {
    let lo = data.iter().copied().min().unwrap_or(0);
    let hi = data.iter().copied().max().unwrap_or(0);
    if hi == lo {
        // A flat series draws at half height: steady, not "at its maximum".
        return (data.iter().map(|_| 1).collect(), 2);
    }
    // The lowest point keeps a sliver of a bar.
    let floor = lo.saturating_sub((hi - lo) / 4);
    (data.iter().map(|v| v - floor).collect(), hi - floor)
}

/// A `w`×`h` rectangle centred in `area`, clipped to it: where popups go.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let (w, h) = (w.min(area.width), h.min(area.height));
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// A text bar like `███████░░░ 71%` that fits in `width` cells.
pub fn bar(fraction: f64, width: usize) -> String {
    let f = if fraction.is_finite() {
        fraction.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let full = (f * width as f64).round() as usize;
    format!(
        "{}{}",
        "█".repeat(full),
        "░".repeat(width.saturating_sub(full))
    )
}

/// A message in place of a panel's content: why there is nothing to show.
pub fn empty_note<'a>(text: String, style: Style) -> Paragraph<'a> {
    Paragraph::new(text)
        .style(style)
        .wrap(ratatui::widgets::Wrap { trim: true })
}
