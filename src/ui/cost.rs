//! Cost: $/h now and its history, the breakdown by category, models and deployments,
//! the month's projection against budget and the reduction targets, the tenants
//! (`ui::tenants`) and the savings suggestions (`ui::suggestions`).

use super::widgets::{bar, empty_note, panel};
use super::{Theme, format};
use crate::domain::cost::{CostBreakdown, HOURS_PER_MONTH, PriceSource};
use crate::domain::grade;
use crate::state::State;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Sparkline, Table};

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
        Constraint::Length(super::tenants::height(state)),
        Constraint::Min(0),
    ])
    .areas(left);
    if tenants.height > 0 {
        super::tenants::draw(frame, tenants, state, theme);
    }
    let w = (summary.width as usize).saturating_sub(30).clamp(5, 30);
    frame.render_widget(
        Paragraph::new(summary_lines(c, state, w, theme)).block(panel("Cost now", None, theme)),
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

/// "Cost now": the rate, what it leaves out, the categories (bars `w` wide), the extras,
/// the budget and the reduction targets.
fn summary_lines(c: &CostBreakdown, state: &State, w: usize, theme: &Theme) -> Vec<Line<'static>> {
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
            .map(|m| Line::from(Span::styled(format!("not counted: {m}"), theme.critical))),
    );
    lines.extend([
        cat("compute", p.compute, Style::default().fg(theme.series(0))),
        cat("storage", p.storage, Style::default().fg(theme.series(1))),
        cat("network", p.network, Style::default().fg(theme.series(2))),
        cat("AI model", p.ai_model, Style::default().fg(theme.series(3))),
    ]);
    if let Some(line) = price_sources(state) {
        lines.push(Line::from(Span::styled(line, theme.muted)));
    }
    lines.extend(
        extras(p.total, state)
            .into_iter()
            .map(|e| Line::from(Span::styled(e, theme.text))),
    );
    lines.extend(hibernated_lines(state, theme));
    lines.extend(budget_lines(month, state, theme));
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
        Some(b) => lines.push(Line::from(Span::styled(
            format!(
                "budget {}/month: projection {:.0}%",
                format::money(b, cur),
                100.0 * month / b.max(f64::MIN_POSITIVE)
            ),
            theme.graded(grade::of_spend(month, b)),
        ))),
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

fn draw_history(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let block = panel("$/h, last 10 min", None, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let data = state
        .history
        .cost_per_hour
        .tail_scaled(inner.width as usize, 100.0);
    let (data, top) = super::widgets::relief(&data);
    frame.render_widget(
        Sparkline::default()
            .data(&data)
            .max(top)
            .style(Style::default().fg(theme.series(0))),
        inner,
    );
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
    let rows: Vec<Row> = tokens
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
            Row::new(cells)
        })
        .collect();
    let mut widths = vec![
        Constraint::Min(14),
        Constraint::Length(7),
        Constraint::Length(7),
    ];
    let mut header = vec!["MODEL", "IN t/s", "OUT t/s"];
    if with_cached {
        widths.push(Constraint::Length(7));
        header.push("CACHED");
    }
    widths.push(Constraint::Length(11));
    header.push("COST");
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.muted))
        .block(panel("AI models", None, theme));
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
    let rows: Vec<Row> = c
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
            Row::new(cells)
        })
        .collect();
    let mut widths = vec![
        Constraint::Min(12),
        Constraint::Length(4),
        Constraint::Length(16),
    ];
    let mut header = vec!["DEPLOYMENT", "PODS", "POOL"];
    if traced {
        widths.push(Constraint::Length(8));
        header.push("PRICE");
    }
    widths.push(Constraint::Length(10));
    header.push("COST");
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.muted))
        .block(panel("Compute by deployment", None, theme));
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
