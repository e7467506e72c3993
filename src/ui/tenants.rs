//! The Cost view's Tenants section: each namespace's quota use (CPU, memory, pods, GPUs as
//! used/hard with its share, graded warn from 80 %, critical from 95 %, a text mark as well
//! as the colour) beside what its deployments and, when the token queries say, its AI tokens
//! cost per hour.

use super::theme::grade_mark;
use super::widgets::panel;
use super::{Theme, format};
use crate::domain::grade;
use crate::domain::tenants::{self, TenantRow};
use crate::model::QuotaUse;
use crate::state::State;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table};

/// Rows to draw, with the header and borders: 0 when there is nothing to show.
pub fn height(state: &State) -> u16 {
    if state.tenants.is_empty() {
        return 0;
    }
    let n = tenants::rows(&state.tenants, state.cost.as_ref()).len();
    (n as u16 + 3).min(10)
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let cur = state.config.cost.currency.as_str();
    // Narrow: only the resource closest to its limit, named.
    let compact = area.width < 64;
    let tenants = tenants::rows(&state.tenants, state.cost.as_ref());
    // The AI column shows only when the token queries say which namespace sent them.
    let with_ai = !compact && tenants.iter().any(|t| t.ai_per_hour.is_some());
    let rows: Vec<Row> = tenants
        .iter()
        .map(|t| {
            let mut cells = vec![Cell::from(t.namespace.clone())];
            if compact {
                cells.push(tightest_cell(t, theme));
            } else {
                cells.extend(
                    ["cpu", "memory", "pods", "gpu"]
                        .iter()
                        .map(|r| use_cell(t, r, theme)),
                );
            }
            if with_ai {
                let ai = t.ai_per_hour.map_or(format::MISSING.to_string(), |v| {
                    format!("{}/h", format::money(v, cur))
                });
                cells.push(Cell::from(ai));
            }
            let cost = match t.cost_per_hour {
                Some(v) if t.cost_partial => format!("≥{}/h", format::money(v, cur)),
                Some(v) => format!("{}/h", format::money(v, cur)),
                None => format::MISSING.to_string(),
            };
            cells.push(Cell::from(cost));
            Row::new(cells).style(theme.text)
        })
        .collect();
    let (mut widths, mut header) = if compact {
        (
            vec![
                Constraint::Fill(1),
                Constraint::Length(11),
                Constraint::Length(9),
            ],
            vec!["NAMESPACE", "TIGHTEST", "COST"],
        )
    } else {
        (
            vec![
                Constraint::Fill(1),
                Constraint::Length(7),
                Constraint::Length(7),
                Constraint::Length(7),
                Constraint::Length(7),
                Constraint::Length(10),
            ],
            vec!["NAMESPACE", "CPU", "MEM", "PODS", "GPU", "COST"],
        )
    };
    if with_ai {
        widths.insert(widths.len() - 1, Constraint::Length(10));
        header.insert(header.len() - 1, "AI");
    }
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.muted))
        .block(panel("Tenants · quota used", None, theme));
    frame.render_widget(table, area);
}

/// "cpu 84% !": the headline resource closest to its limit.
fn tightest_cell(t: &TenantRow, theme: &Theme) -> Cell<'static> {
    let tightest = ["cpu", "memory", "pods", "gpu"]
        .iter()
        .filter_map(|r| Some((*r, t.headline(r)?)))
        .filter(|(_, q)| q.hard > 0.0 || q.used > 0.0)
        .max_by(|a, b| a.1.share().total_cmp(&b.1.share()));
    match tightest {
        Some((name, q)) => {
            let g = grade::of_quota_share(q.share());
            let short = if name == "memory" { "mem" } else { name };
            let pct = if q.share().is_finite() {
                format!("{:.0}%", q.share() * 100.0)
            } else {
                "full".into()
            };
            Cell::from(Span::styled(
                format!("{short} {pct} {}", grade_mark(g)),
                theme.graded(g),
            ))
        }
        None => Cell::from(Span::styled(format::MISSING, theme.muted)),
    }
}

/// "84% !": the share of the quota in use, graded, with its mark; "—" without a limit.
fn use_cell(t: &TenantRow, resource: &str, theme: &Theme) -> Cell<'static> {
    match t.headline(resource) {
        Some(q @ QuotaUse { hard, .. }) if hard > 0.0 || q.used > 0.0 => {
            let share = q.share();
            let g = grade::of_quota_share(share);
            let text = if share.is_finite() {
                format!("{:.0}% {}", share * 100.0, grade_mark(g))
            } else {
                format!("full {}", grade_mark(g))
            };
            Cell::from(Span::styled(text, theme.graded(g)))
        }
        _ => Cell::from(Span::styled(format::MISSING, theme.muted)),
    }
}
