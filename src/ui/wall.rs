//! The war-room wall: the headline figures in large type, each source's data age and the
//! clock, a banner naming any critical figure, and the cycling view below.
//!
//! ```text
//! ┌────────────────────────────────────────────────────────────────────────────┐
//! │ opsdeck WALL · read-only · latency                                  DEMO   │ header
//! │ !! CRITICAL  P95 latency 2500ms on llm-gateway (over 2000ms)               │ banner
//! │ ┌ Replicas ────────┐┌ Cache hit rate ──┐┌ P95 latency !! ──┐               │
//! │ │ ██ █▀█ ▄▀█ ...   ││  large figures   ││                  │  two rows     │
//! │ │ 5 deployments    ││ target >80% ...  ││ llm-gateway ...  │  of three     │
//! │ └──────────────────┘└──────────────────┘└──────────────────┘               │
//! │ ┌ ● prometheus ┐┌ ● redis ┐┌ ● kubernetes ┐┌ clock ┐                        │ ages
//! │ the cycling view (overview, scaling, cache, latency, cost)                 │
//! │ status line                                                                │
//! └────────────────────────────────────────────────────────────────────────────┘
//! ```

use super::widgets::{Tile, panel};
use super::{Theme, format, overview};
use crate::model::SourceKind;
use crate::state::wall::{Critical, Figure};
use crate::state::{State, Status};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use tui_big_text::{BigText, PixelSize};

/// The wall's top: banner, figures and ages. Returns the area left for the cycling view.
pub fn draw_top(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) -> Rect {
    let critical = state.critical_figures();
    let banner_h = if critical.is_empty() { 0 } else { 3 };
    // Tiles tall enough for 8-row figures on a tall screen, 4-row ones otherwise.
    let tile_h = if area.height >= 70 { 12 } else { 8 };
    let ages_h = if area.height >= 40 { 6 } else { 3 };
    let [banner, row1, row2, ages, rest] = Layout::vertical([
        Constraint::Length(banner_h),
        Constraint::Length(tile_h),
        Constraint::Length(tile_h),
        Constraint::Length(ages_h),
        Constraint::Min(0),
    ])
    .areas(area);
    if !critical.is_empty() {
        draw_banner(frame, banner, &critical, state, theme);
    }
    let tiles = overview::tiles(state, theme);
    for (row, chunk) in [row1, row2].into_iter().zip(tiles.chunks(3)) {
        let cols = Layout::horizontal([Constraint::Ratio(1, 3); 3]).split(row);
        for (tile, col) in chunk.iter().zip(cols.iter()) {
            draw_big_tile(frame, *col, tile, theme);
        }
    }
    draw_ages(frame, ages, state, theme);
    rest
}

/// `!! CRITICAL  P95 latency 2500ms on llm-gateway (over 2000ms) · hit rate 52.0% …`
fn draw_banner(frame: &mut Frame, area: Rect, critical: &[Critical], state: &State, theme: &Theme) {
    let cur = state.config.cost.currency.as_str();
    let named: Vec<String> = critical
        .iter()
        .map(|c| match &c.figure {
            Figure::HitRate { rate, alert } => format!(
                "cache hit rate {} (under {})",
                format::ratio_pct(*rate),
                format::ratio_pct(*alert)
            ),
            Figure::P95 {
                service,
                ms,
                limit_ms,
            } => format!(
                "P95 latency {} on {service} (over {})",
                format::ms(*ms),
                format::ms(*limit_ms)
            ),
            Figure::ErrorRate { ratio, limit } => format!(
                "error rate {} (over {})",
                format::percent_precise(*ratio),
                format::percent_precise(*limit)
            ),
            Figure::Spend { month, budget } => format!(
                "cost {}/month (over the budget {})",
                format::money(*month, cur),
                format::money(*budget, cur)
            ),
        })
        .collect();
    let style = theme
        .critical
        .add_modifier(Modifier::REVERSED | Modifier::BOLD);
    let text = format!(" !! CRITICAL  {} ", named.join(" · "));
    let lines = vec![
        Line::raw(""),
        Line::styled(super::fit::cell(&text, area.width as usize), style),
        Line::raw(""),
    ];
    frame.render_widget(
        Paragraph::new(lines)
            .style(style)
            .alignment(Alignment::Center),
        area,
    );
}

/// A tile with its figure in large type: the largest size that fits whole, the grade's
/// mark with it when there is room (in the title otherwise).
fn draw_big_tile(frame: &mut Frame, area: Rect, tile: &Tile, theme: &Theme) {
    let inner = panel("", None, theme).inner(area);
    let big_h = inner.height.saturating_sub(1);
    let (text, size) = [tile.marked_value(), tile.value.clone()]
        .into_iter()
        .find_map(|t| big_size(&t, inner.width, big_h).map(|s| (t, Some(s))))
        .unwrap_or((tile.marked_value(), None));
    let title = if text == tile.marked_value() || tile.mark.is_empty() {
        tile.title.to_string()
    } else {
        format!("{} {}", tile.title, tile.mark)
    };
    let block = panel(&title, None, theme).title_style(tile.style);
    frame.render_widget(block, area);
    let [big, note] = Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(inner);
    let style = tile.style.add_modifier(Modifier::BOLD);
    match size {
        Some(size) => {
            let widget = BigText::builder()
                .pixel_size(size)
                .style(style)
                .lines(vec![Line::from(text)])
                .build();
            frame.render_widget(widget, big);
        }
        // Too small for large type: the figure as text, whole.
        None => frame.render_widget(Paragraph::new(Span::styled(text, style)), big),
    }
    frame.render_widget(
        Paragraph::new(super::fit::line(tile.note.clone(), note.width as usize)),
        note,
    );
}

/// The largest pixel size at which `text` fits in `w`×`h` cells, if any. Tall sizes come
/// first: height is what reads across a room.
fn big_size(text: &str, w: u16, h: u16) -> Option<PixelSize> {
    let chars = text.chars().count() as u16;
    [
        (PixelSize::Full, 8, 8),
        (PixelSize::HalfWidth, 4, 8),
        (PixelSize::HalfHeight, 8, 4),
        (PixelSize::Quadrant, 4, 4),
    ]
    .into_iter()
    .find(|(_, cw, ch)| chars * cw <= w && *ch <= h)
    .map(|(s, _, _)| s)
}

/// Each source's data age, large, in its health's colour and mark; the clock at the right.
fn draw_ages(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let cols = Layout::horizontal([Constraint::Ratio(1, 4); 4]).split(area);
    for (kind, col) in SourceKind::ALL.into_iter().zip(cols.iter()) {
        let h = state.health(kind);
        let (mark, word, style) = match h.status {
            Status::Ok => ("●", "", theme.ok),
            Status::Waiting => ("◌", " waiting", theme.muted),
            Status::Stale => ("◐", " STALE", theme.warn),
            Status::Error => ("✖", " ERROR", theme.critical),
            Status::Disabled => ("○", " off", theme.muted),
        };
        let age = h.age_s.map_or("-".to_string(), format::age);
        let title = format!("{mark} {}{word} · data age", kind.name());
        draw_big_box(frame, *col, &title, &age, style, theme);
    }
    let local = state.now.with_timezone(&chrono::Local);
    let title = local.format("%a %d %b · clock").to_string();
    let clock = local.format("%H:%M").to_string();
    draw_big_box(frame, cols[3], &title, &clock, theme.title, theme);
}

fn draw_big_box(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    text: &str,
    style: ratatui::style::Style,
    theme: &Theme,
) {
    let block = panel(title, None, theme).title_style(style);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    match big_size(text, inner.width, inner.height) {
        Some(size) => frame.render_widget(
            BigText::builder()
                .pixel_size(size)
                .style(style.add_modifier(Modifier::BOLD))
                .lines(vec![Line::from(text.to_string())])
                .build(),
            inner,
        ),
        None => frame.render_widget(
            Paragraph::new(Span::styled(
                text.to_string(),
                style.add_modifier(Modifier::BOLD),
            )),
            inner,
        ),
    }
}
