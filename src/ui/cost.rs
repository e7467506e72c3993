//! Cost: $/h now and its history, the breakdown by category, models and deployments,
//! the month's projection against budget and the reduction targets, the tenants
//! (`ui::tenants`) and the savings suggestions (`ui::suggestions`).

use super::fit;
use super::widgets::chart::{Plot, Rule, TimeChart};
use super::widgets::{Column, bar, column_widths, empty_note, panel};
use super::{Theme, format};
use crate::domain::cost::{CostBreakdown, HOURS_PER_MONTH, PriceSource};
use crate::domain::grade;
use crate::state::State;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};

/// The seed's reduction targets against the baseline: 20 %, 40 %, 60 %.
const TARGETS: [(f64, &str); 3] = [
    (0.20, "1-3 months"),
    (0.40, "3-6 months"),
    (0.60, "6-12 months"),
];

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(c) = state.cost.as_ref() else {
        frame.render_widget(
            empty_note(
                "no cost yet: it needs replicas (Kubernetes) or token rates (Prometheus)".into(),
                theme.muted,
            )
            .block(panel("Cost", None, theme)),
            area,
        );
        return;
    };
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
    let [summary, tenants, history] = Layout::vertical([
        Constraint::Length(14),
        Constraint::Length(tenants_height(state, left.height)),
        Constraint::Min(0),
    ])
    .areas(left);
    if tenants.height > 0 {
        super::tenants::draw(frame, tenants, state, theme);
    }
    let w = (summary.width as usize).saturating_sub(30).clamp(5, 30);
    frame.render_widget(
        Paragraph::new(summary_lines(
            c,
            state,
            w,
            summary.width.saturating_sub(2),
            theme,
        ))
        .block(panel("Cost now", None, theme)),
        summary,
    );
    draw_history(frame, history, state, theme);
    // Models as tall as their rows (at most 45 %), then the suggestions.
    let suggestions = state.suggestions();
    let n_models = state.metrics.value.as_ref().map_or(0, |m| m.models.len()) as u16;
    let models_h = (n_models + 3).max(5).min(right.height * 45 / 100);
    let wanted = super::suggestions::height(&suggestions, state, right.width);
    // The rest: what the deployments table needs, but at least 40 % for the suggestions.
    let rest = right.height.saturating_sub(models_h);
    let n_deployments = c.by_deployment.len() as u16;
    let sugg_h = wanted.min(rest.saturating_sub(n_deployments + 3).max(rest * 2 / 5));
    let [models, sugg, deployments] = Layout::vertical([
        Constraint::Length(models_h),
        Constraint::Length(sugg_h),
        Constraint::Min(0),
    ])
    .areas(right);
    super::suggestions::draw(frame, sugg, &suggestions, state, theme);
    draw_models(frame, models, c, state, theme);
    draw_deployments(frame, deployments, c, state, theme);
}

/// The Tenants panel's rows, when the $/h chart below keeps room for its axes (7 rows).
fn tenants_height(state: &State, left: u16) -> u16 {
    let h = super::tenants::height(state);
    if left.saturating_sub(14 + h) >= 7 {
        h
    } else {
        0
    }
}

/// "Cost now": the rate, what it leaves out, the categories (bars `w` wide), the extras,
/// the budget and the reduction targets.
fn summary_lines(
    c: &CostBreakdown,
    state: &State,
    w: usize,
    width: u16,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let width = width as usize;
    let prose = |text: String, style| fit::words(&text, style, width);
    let cur = state.config.cost.currency.as_str();
    let p = &c.per_hour;
    let total = p.total.max(f64::MIN_POSITIVE);
    let cat = |name: &str, v: f64, style: Style| {
        Line::from(vec![
            Span::styled(format!("{name:<9}"), theme.muted),
            Span::styled(format!("{:>9}/h ", format::money(v, cur)), theme.text),
            Span::styled(bar(v / total, w), style),
            Span::styled(format!(" {:>3.0}%", 100.0 * v / total), theme.muted),
        ])
    };
    let month = p.total * HOURS_PER_MONTH;
    let mut lines = vec![Line::from(vec![
        Span::styled("now ", theme.muted),
        Span::styled(format!("{}/h", format::money(p.total, cur)), theme.title),
        Span::styled(
            format!("  {}/month at this rate", format::money(month, cur)),
            theme.muted,
        ),
    ])];
    // What the sums leave out comes first: a total without it reads as complete.
    lines.extend(
        c.missing
            .iter()
            .map(|m| prose(format!("not counted: {m}"), theme.critical)),
    );
    lines.extend([
        cat("compute", p.compute, Style::default().fg(theme.series(0))),
        cat("storage", p.storage, Style::default().fg(theme.series(1))),
        cat("network", p.network, Style::default().fg(theme.series(2))),
        cat("AI model", p.ai_model, Style::default().fg(theme.series(3))),
    ]);
    if let Some(line) = price_sources(state) {
        lines.push(prose(line, theme.muted));
    }
    lines.extend(
        extras(p.total, state)
            .into_iter()
            .map(|e| prose(e, theme.text)),
    );
    // Built as whole lines, then fitted: a figure shows whole or not at all.
    let rest = hibernated_lines(state, theme)
        .into_iter()
        .chain(budget_lines(month, state, theme));
    lines.extend(rest.map(|l| {
        let style = l.spans.first().map_or(theme.text, |s| s.style);
        prose(l.to_string(), style)
    }));
    lines
}

/// Cache savings, cost per 1K requests, and what today (or this session) has cost.
fn extras(per_hour: f64, state: &State) -> Vec<String> {
    let cur = state.config.cost.currency.as_str();
    let mut out = Vec::new();
    if let Some(v) = state.cache_savings_per_hour() {
        out.push(format!("cache saves ≈{}/h", format::money(v, cur)));
    }
    if let Some(v) = state
        .entry_qps()
        .and_then(|q| crate::domain::cost::per_1k_requests(per_hour, q))
    {
        out.push(format!("{} per 1K requests", format::money(v, cur)));
    }
    if let Some(t) = &state.spend_today {
        let partial = if t.missing.is_empty() {
            ""
        } else {
            " (partial)"
        };
        out.push(format!("{} today{partial}", format::money(t.total, cur)));
    } else if let Some(since) = state.spend.since {
        out.push(format!(
            "{} since {}",
            format::money(state.spend.total, cur),
            since.format("%H:%M")
        ));
    }
    out
}

/// "kb-indexer hibernated: saves $0.38/h (2 pods × $0.19/h)", one line per hibernated
/// deployment, the basis beside the figure.
fn hibernated_lines(state: &State, theme: &Theme) -> Vec<Line<'static>> {
    let cur = state.config.cost.currency.as_str();
    let deployments = state
        .cluster
        .value
        .iter()
        .flat_map(|c| c.deployments.iter());
    deployments
        .filter_map(|d| {
            let text = match state.hibernation_saving(d)? {
                Ok(s) => format!(
                    "{} hibernated: saves {}/h ({} pods × {}/h)",
                    d.name,
                    format::money(s.per_hour, cur),
                    s.replicas,
                    format::money(s.pod_per_hour, cur)
                ),
                Err(m) => format!("{} hibernated: saving unknown ({m})", d.name),
            };
            Some(Line::from(Span::styled(text, theme.accent)))
        })
        .collect()
}

/// The month's projection against the budget, and against the baseline's targets.
fn budget_lines(month: f64, state: &State, theme: &Theme) -> Vec<Line<'static>> {
    let cur = state.config.cost.currency.as_str();
    let mut lines = Vec::new();
    match state.config.cost.monthly_budget {
        Some(b) => {
            let g = grade::of_spend(month, b);
            let text = format!(
                "budget {}/month: projection {:.0}%",
                format::money(b, cur),
                100.0 * month / b.max(f64::MIN_POSITIVE)
            );
            lines.push(Line::from(Span::styled(
                Theme::marked(&text, g),
                theme.graded(g),
            )))
        }
        None => lines.push(Line::from(Span::styled(
            "no monthly_budget set ([cost])",
            theme.muted,
        ))),
    }
    if let Some(base) = state.config.cost.monthly_baseline {
        let cut = 1.0 - month / base.max(f64::MIN_POSITIVE);
        let reached: Vec<String> = TARGETS
            .iter()
            .map(|(t, when)| {
                format!(
                    "{}{:.0}% ({when})",
                    if cut >= *t { "✓" } else { "·" },
                    t * 100.0
                )
            })
            .collect();
        lines.push(Line::from(Span::styled(
            format!(
                "vs baseline {}: {:+.0}%",
                format::money(base, cur),
                -cut * 100.0
            ),
            theme.text,
        )));
        lines.push(Line::from(Span::styled(reached.join("  "), theme.muted)));
    }
    lines
}

/// $/h over the last 10 minutes, with the budget's hourly share when there is a budget.
fn draw_history(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let cur = state.config.cost.currency.clone();
    let rules = state
        .config
        .cost
        .monthly_budget
        .map(|b| {
            let per_hour = b / HOURS_PER_MONTH;
            Rule {
                name: format!("budget {}/h", format::money(per_hour, &cur)),
                value: per_hour,
                style: theme.critical,
            }
        })
        .into_iter()
        .collect();
    TimeChart {
        title: "$/h, last 10 min".into(),
        plots: vec![Plot {
            name: "total".into(),
            series: &state.history.cost_per_hour,
            color: theme.series(0),
        }],
        rules,
        unit: Box::new(move |v| format!("{}/h", format::money(v, &cur))),
        floor: Some(0.0),
        ceiling: None,
    }
    .render(frame, area, theme);
}

/// A table whose label cells are cut with a `…` to the widths `columns` leave them and
/// whose figure cells are whole: `header` and `rows` are plain text, `kinds` says which
/// column is which.
fn fitted_table<'a>(
    area: Rect,
    header: Vec<&'a str>,
    rows: Vec<Vec<String>>,
    figure_cols: &[usize],
    title: &'a str,
    theme: &Theme,
) -> Table<'a> {
    let columns: Vec<Column> = (0..header.len())
        .map(|i| {
            let cells = std::iter::once(header[i]).chain(rows.iter().map(|r| r[i].as_str()));
            if figure_cols.contains(&i) {
                Column::figure(cells)
            } else {
                Column::label(cells)
            }
        })
        .collect();
    let widths = column_widths(area.width.saturating_sub(2), &columns);
    let rows: Vec<Row> = rows
        .into_iter()
        .map(|r| {
            Row::new(
                r.iter()
                    .zip(&widths)
                    .map(|(c, w)| fit::cell(c, *w as usize))
                    .collect::<Vec<_>>(),
            )
            .style(theme.text)
        })
        .collect();
    let header: Vec<String> = header
        .iter()
        .zip(&widths)
        .map(|(h, w)| fit::cell(h, *w as usize))
        .collect();
    Table::new(rows, widths.iter().map(|w| Constraint::Length(*w)))
        .header(Row::new(header).style(theme.muted))
        .block(panel(title, None, theme))
}

/// Token rates and $/h per model; a CACHED column only when some prompt caching shows.
fn draw_models(frame: &mut Frame, area: Rect, c: &CostBreakdown, state: &State, theme: &Theme) {
    let cur = state.config.cost.currency.as_str();
    let tokens = state
        .metrics
        .value
        .as_ref()
        .map(|m| m.models.as_slice())
        .unwrap_or_default();
    let cached = &state.cost_inputs.cached_input_per_sec;
    // Most platforms have no prompt caching: the column shows only when there is some.
    let with_cached = cached.values().any(|v| *v > 0.0);
    let rows: Vec<Vec<String>> = tokens
        .iter()
        .map(|t| {
            let cost = c
                .by_model
                .iter()
                .find(|(m, _)| *m == t.model)
                .map(|(_, v)| format!("{}/h", format::money(*v, cur)))
                .unwrap_or_else(|| "no price".into());
            let mut cells = vec![
                t.model.clone(),
                format::count(t.input_per_sec),
                format::count(t.output_per_sec),
            ];
            if with_cached {
                cells.push(format::count(cached.get(&t.model).copied().unwrap_or(0.0)));
            }
            cells.push(cost);
            cells
        })
        .collect();
    let mut header = vec!["MODEL", "IN t/s", "OUT t/s"];
    if with_cached {
        header.push("CACHED");
    }
    header.push("COST");
    let figures: Vec<usize> = (1..header.len()).collect();
    let table = fitted_table(area, header, rows, &figures, "AI models", theme);
    frame.render_widget(table, area);
}

/// Compute $/h per deployment; a PRICE column only when some price is not the list's.
fn draw_deployments(
    frame: &mut Frame,
    area: Rect,
    c: &CostBreakdown,
    state: &State,
    theme: &Theme,
) {
    let cur = state.config.cost.currency.as_str();
    let traced = c
        .by_deployment
        .iter()
        .any(|d| d.source.is_some_and(|s| s != PriceSource::List));
    let rows: Vec<Vec<String>> = c
        .by_deployment
        .iter()
        .map(|d| {
            // A hibernated deployment's 0 pods are marked in text ("0 zz").
            let asleep = state
                .cluster
                .value
                .iter()
                .flat_map(|c| c.deployments.iter())
                .any(|k| k.name == d.name && k.pool == d.pool && k.hibernated.is_some());
            let pods = if asleep {
                format!("{} zz", d.replicas)
            } else {
                d.replicas.to_string()
            };
            let mut cells = vec![d.name.clone(), pods, d.pool.clone()];
            if traced {
                cells.push(d.source.map_or("—", |s| s.label()).to_string());
            }
            cells.push(d.per_hour.map_or("no price".into(), |v| {
                format!("{}/h", format::money(v, cur))
            }));
            cells
        })
        .collect();
    let mut header = vec!["DEPLOYMENT", "PODS", "POOL"];
    if traced {
        header.push("PRICE");
    }
    header.push("COST");
    let figures = [1, header.len() - 1];
    let table = fitted_table(area, header, rows, &figures, "Compute by deployment", theme);
    frame.render_widget(table, area);
}

/// Where compute prices come from, when not only the `[cost]` list: OpenCost's instance
/// types and the pools with their own prices.
fn price_sources(state: &State) -> Option<String> {
    let opencost = &state.cost_inputs.node_prices;
    let pools = &state.config.cost.pools;
    let mut parts = Vec::new();
    if !opencost.is_empty() {
        let types: Vec<&str> = opencost.keys().map(String::as_str).collect();
        parts.push(format!("OpenCost: {}", types.join(", ")));
    }
    if !pools.is_empty() {
        let names: Vec<&str> = pools.keys().map(String::as_str).collect();
        parts.push(format!("pool prices: {}", names.join(", ")));
    }
    (!parts.is_empty()).then(|| format!("prices · {}", parts.join(" · ")))
}
