//! Small building blocks shared by the views.

pub mod chart;

use super::Theme;
use super::fit::{self, Piece, figure, label};
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

/// One Overview tile: a figure, its colour and text mark against the target, a note, and
/// a history scaled to its own range with that range written out.
pub struct Tile<'a> {
    pub title: &'a str,
    pub value: String,
    pub style: Style,
    /// The grade in text (`!`, `!!`, `▲ max`), beside the colour: colour is never the only
    /// signal.
    pub mark: String,
    /// Labels shrink to fit, figures stay whole (see `ui::fit`).
    pub note: Vec<Piece>,
    pub history: Vec<u64>,
    /// The history's lowest and highest point, formatted like the figure.
    pub range: Option<(String, String)>,
}

impl Tile<'_> {
    /// The figure and its mark: `943ms`, `64.0% !!`, `18/18 ready ▲ max`.
    pub fn marked_value(&self) -> String {
        if self.mark.is_empty() {
            self.value.clone()
        } else {
            format!("{} {}", self.value, self.mark)
        }
    }

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
        let width = inner.width as usize;
        let bold = self.style.add_modifier(ratatui::style::Modifier::BOLD);
        let mut top = vec![figure(self.marked_value(), bold)];
        // The range goes on a line of its own when there is room, else beside the figure
        // when it fits there whole, else nowhere.
        let (range_line, spark) = if chart.height >= 3 {
            let [r, s] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(chart);
            (Some(r), s)
        } else {
            (None, chart)
        };
        if let (Some((lo, hi)), None) = (&self.range, range_line) {
            let beside = format!("↓{lo} ↑{hi}");
            let used = self.marked_value().chars().count();
            if used + 2 + beside.chars().count() <= width {
                let pad = width - used - beside.chars().count();
                top.push(label(" ".repeat(pad), theme.muted));
                top.push(figure(beside, theme.muted));
            }
        }
        frame.render_widget(Paragraph::new(fit::line(top, width)), value);
        frame.render_widget(Paragraph::new(fit::line(self.note.clone(), width)), note);
        if let (Some((lo, hi)), Some(area)) = (&self.range, range_line) {
            let pieces = vec![
                label("10 min: min ", theme.muted),
                figure(lo.clone(), theme.muted),
                label(" · max ", theme.muted),
                figure(hi.clone(), theme.muted),
            ];
            frame.render_widget(Paragraph::new(fit::line(pieces, width)), area);
        }
        if spark.height > 0 && !self.history.is_empty() {
            let skip = self.history.len().saturating_sub(spark.width as usize);
            let (data, top) = relief(&self.history[skip..]);
            frame.render_widget(
                Sparkline::default()
                    .data(&data)
                    .max(top)
                    .style(Style::default().fg(theme.series(0))),
                spark,
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

/// A table column: a figure column keeps its widest cell whole; label columns share what
/// is left, each at most its widest cell and at least a few characters.
#[derive(Debug, Clone, Copy)]
pub enum Column {
    Label { widest: u16 },
    Figure { widest: u16 },
}

impl Column {
    /// The column for these cells (header included).
    pub fn label<'a>(cells: impl IntoIterator<Item = &'a str>) -> Column {
        Column::Label {
            widest: widest(cells),
        }
    }

    pub fn figure<'a>(cells: impl IntoIterator<Item = &'a str>) -> Column {
        Column::Figure {
            widest: widest(cells),
        }
    }
}

fn widest<'a>(cells: impl IntoIterator<Item = &'a str>) -> u16 {
    cells
        .into_iter()
        .map(|c| c.chars().count() as u16)
        .max()
        .unwrap_or(0)
}

/// Widths for `columns` in `width` cells with one space between columns (ratatui's
/// default): figures first, then the labels share the rest; the first label takes any
/// room left over. Cut label cells with `fit::cell` to these widths.
pub fn column_widths(width: u16, columns: &[Column]) -> Vec<u16> {
    const LABEL_MIN: u16 = 4;
    let gaps = columns.len().saturating_sub(1) as u16;
    let figures: u16 = columns
        .iter()
        .map(|c| match c {
            Column::Figure { widest } => *widest,
            Column::Label { .. } => 0,
        })
        .sum();
    let labels: Vec<u16> = columns
        .iter()
        .filter_map(|c| match c {
            Column::Label { widest } => Some(*widest),
            Column::Figure { .. } => None,
        })
        .collect();
    let mut room = width.saturating_sub(gaps + figures);
    // Each label gets its share, never less than LABEL_MIN; a label narrower than its
    // share gives the rest to the others.
    let mut given = vec![0u16; labels.len()];
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by_key(|&i| labels[i]);
    let mut left = labels.len() as u16;
    for i in order {
        let share = room / left.max(1);
        given[i] = labels[i].min(share).max(LABEL_MIN.min(labels[i]));
        room = room.saturating_sub(given[i]);
        left -= 1;
    }
    let mut labels = given.into_iter();
    let mut out: Vec<u16> = columns
        .iter()
        .map(|c| match c {
            Column::Figure { widest } => *widest,
            Column::Label { .. } => labels.next().unwrap_or(0),
        })
        .collect();
    if let Some(i) = columns
        .iter()
        .position(|c| matches!(c, Column::Label { .. }))
    {
        out[i] += room;
    }
    out
}
