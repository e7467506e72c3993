//! The Cost view's Savings suggestions: what the platform would save, largest first, each
//! with the figures it rests on; then what the kinds without a suggestion lack, and why
//! the others have nothing to suggest. A kind never shows a saving its inputs cannot give.
//!
//! ```text
//! ┌ Savings suggestions ─────────────────────────────────────────────┐
//! │routing    gpt-4 → gpt-3.5-turbo                $25.39/h  $18.5k/mo│
//! │  30% of gpt-4's 491 in + 164 out tokens/s: $26.54/h at its ...   │
//! │spot       cs-prod/retrieval                     $0.17/h    $123/mo│
//! │  2 pods × $0.12/h on on-demand pool memory-ondemand = ...        │
//! │needs · right-size: p95 use of chat-api: needs [prometheus...     │
//! │cache: hit rate 86.0% (Redis) meets the 80.0% target              │
//! └──────────────────────────────────────────────────────────────────┘
//! ```
//! Short of rows, the notes go first, then the bases: headlines and what is missing stay.

use super::widgets::panel;
use super::{Theme, format};
use crate::domain::suggestions::{Kind, Suggestions};
use crate::state::State;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

fn label(kind: Kind) -> &'static str {
    match kind {
        Kind::Cache => "cache",
        Kind::ModelRouting => "routing",
        Kind::Spot => "spot",
        Kind::RightSize => "right-size",
        Kind::Hibernate => "hibernate",
    }
}

/// A line of the panel and how readily it is dropped when rows are short: headlines and
/// missing inputs never, then bases (largest saving's first), then notes.
struct Row {
    line: Line<'static>,
    drop: Drop,
}

#[derive(Clone, Copy, PartialEq)]
enum Drop {
    Never,
    /// What kind `k` needs on one line, cut with "…", in place of `NeedsFull(k)` when that
    /// does not fit.
    NeedsShort(usize),
    NeedsFull(usize),
    Basis(usize),
    Note,
}

fn wrapped(text: &str, w: usize, indent: &str, style: ratatui::style::Style) -> Vec<Line<'static>> {
    format::wrap(text, w.saturating_sub(indent.len()).max(10))
        .into_iter()
        .map(|l| Line::from(Span::styled(format!("{indent}{l}"), style)))
        .collect()
}

/// Every line the panel could show at inner width `w`, in display order.
fn rows(s: &Suggestions, state: &State, w: usize, theme: &Theme) -> Vec<Row> {
    let cur = state.config.cost.currency.as_str();
    let monthly = w >= 60;
    let mut out = Vec::new();
    let row = |line, drop| Row { line, drop };
    for (i, x) in s.list.iter().enumerate() {
        let hour = format!(
            " {:>9}",
            format!("{}/h", format::money(x.saving_per_hour, cur))
        );
        let month = if monthly {
            format!(
                " {:>10}",
                format!("{}/mo", format::money(x.saving_per_month, cur))
            )
        } else {
            String::new()
        };
        let room = w.saturating_sub(11 + hour.chars().count() + month.chars().count());
        // Narrow: the deployment's name without its namespace.
        let target = if x.target.chars().count() > room {
            x.target.rsplit('/').next().unwrap_or(&x.target)
        } else {
            &x.target
        };
        let target: String = target.chars().take(room).collect();
        let headline = Line::from(vec![
            Span::styled(format!("{:<11}", label(x.kind)), theme.muted),
            Span::styled(format!("{target:<room$}"), theme.text),
            Span::styled(hour, theme.ok),
            Span::styled(month, theme.muted),
        ]);
        out.push(row(headline, Drop::Never));
        for l in wrapped(&x.basis, w, "  ", theme.muted) {
            out.push(row(l, Drop::Basis(i)));
        }
    }
    // One entry per kind, its needs joined.
    let mut needs: Vec<(Kind, Vec<&str>)> = Vec::new();
    for (kind, text) in &s.missing {
        match needs.iter_mut().find(|(k, _)| k == kind) {
            Some((_, list)) => list.push(text),
            None => needs.push((*kind, vec![text])),
        }
    }
    for (k, (kind, list)) in needs.iter().enumerate() {
        let text = format!("needs · {}: {}", label(*kind), list.join("; "));
        let short = if text.chars().count() > w {
            let cut: String = text.chars().take(w.saturating_sub(1)).collect();
            format!("{cut}…")
        } else {
            text.clone()
        };
        out.push(row(
            Line::from(Span::styled(short, theme.warn)),
            Drop::NeedsShort(k),
        ));
        for l in wrapped(&text, w, "", theme.warn) {
            out.push(row(l, Drop::NeedsFull(k)));
        }
    }
    if s.list.is_empty() && s.missing.is_empty() {
        out.push(row(
            Line::from(Span::styled("nothing to suggest", theme.text)),
            Drop::Never,
        ));
    }
    for (kind, note) in &s.notes {
        for l in wrapped(&format!("{}: {note}", label(*kind)), w, "", theme.muted) {
            out.push(row(l, Drop::Note));
        }
    }
    out
}

/// The lines that fit in `h` rows: the headlines and one line of needs per kind, then
/// the needs in full, then whole bases in order of saving, then the notes.
fn fit(rows: Vec<Row>, h: usize) -> Vec<Line<'static>> {
    let count = |d: Drop| rows.iter().filter(|r| r.drop == d).count();
    let kinds = rows
        .iter()
        .filter(|r| matches!(r.drop, Drop::NeedsShort(_)))
        .count();
    let mut budget = h.saturating_sub(count(Drop::Never) + kinds);
    let mut keep = vec![Drop::Never];
    for k in 0..kinds {
        let extra = count(Drop::NeedsFull(k)).saturating_sub(1);
        if extra <= budget {
            budget -= extra;
            keep.push(Drop::NeedsFull(k));
        } else {
            keep.push(Drop::NeedsShort(k));
        }
    }
    let suggestions = rows
        .iter()
        .filter_map(|r| match r.drop {
            Drop::Basis(i) => Some(i + 1),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    for i in 0..suggestions {
        let n = count(Drop::Basis(i));
        if n <= budget {
            budget -= n;
            keep.push(Drop::Basis(i));
        }
    }
    if count(Drop::Note) <= budget {
        keep.push(Drop::Note);
    }
    rows.into_iter()
        .filter(|r| keep.contains(&r.drop))
        .map(|r| r.line)
        .collect()
}

/// Rows the panel would like at this width, borders included.
pub fn height(s: &Suggestions, state: &State, width: u16) -> u16 {
    let w = width.saturating_sub(2) as usize;
    let all = rows(s, state, w, &Theme::no_color());
    let shown = all
        .iter()
        .filter(|r| !matches!(r.drop, Drop::NeedsShort(_)))
        .count();
    shown as u16 + 2
}

pub fn draw(frame: &mut Frame, area: Rect, s: &Suggestions, state: &State, theme: &Theme) {
    let block = panel("Savings suggestions", None, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let (w, h) = (inner.width as usize, inner.height as usize);
    let text = fit(rows(s, state, w, theme), h);
    frame.render_widget(Paragraph::new(text), inner);
}
