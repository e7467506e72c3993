//! Overview: six tiles, each coloured against the seed's thresholds, with the alerts below.

use super::fit::{figure, label};
use super::format::{self, MISSING};
use super::widgets::{Tile, panel};
use super::{Theme, health_spans};
use crate::domain::grade::{self, Grade};
use crate::model::{PromAlert, ServiceLatency, SourceKind};
use crate::state::{Series, State};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let tile_h = if area.height >= 30 { 7 } else { 5 };
    let [row1, row2, rest] = Layout::vertical([
        Constraint::Length(tile_h),
        Constraint::Length(tile_h),
        Constraint::Min(0),
    ])
    .areas(area);
    let tiles = tiles(state, theme);
    for (row, chunk) in [row1, row2].into_iter().zip(tiles.chunks(3)) {
        let cols = Layout::horizontal([Constraint::Ratio(1, 3); 3]).split(row);
        for (tile, col) in chunk.iter().zip(cols.iter()) {
            tile.render(frame, *col, theme);
        }
    }
    if rest.height >= 3 {
        if rest.width >= 120 {
            let [alerts, deployments] =
                Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                    .areas(rest);
            draw_alerts(frame, alerts, state, theme);
            draw_deployments(frame, deployments, state, theme);
        } else {
            let runbooks = state.prom_alerts.iter().filter(|a| a.runbook_url.is_some());
            let n = state.alerts.len() + state.prom_alerts.len() + runbooks.count();
            let alerts_h = (n as u16 + 2).clamp(3, rest.height / 2);
            let [alerts, deployments] =
                Layout::vertical([Constraint::Length(alerts_h), Constraint::Min(0)]).areas(rest);
            draw_alerts(frame, alerts, state, theme);
            if deployments.height >= 3 {
                draw_deployments(frame, deployments, state, theme);
            }
        }
    }
}

/// The six headline figures, for the Overview and the wall.
pub(super) fn tiles<'a>(state: &State, theme: &Theme) -> Vec<Tile<'a>> {
    let services = state.metrics.value.as_ref().map(|m| m.services.as_slice());
    let services = services.filter(|s| !s.is_empty());
    vec![
        replicas_tile(state, theme),
        hit_rate_tile(state, theme),
        services.map_or_else(
            || missing("P95 latency", state, SourceKind::Prometheus, theme),
            |s| p95_tile(s, state, theme),
        ),
        services.map_or_else(
            || missing("Error rate", state, SourceKind::Prometheus, theme),
            |s| error_rate_tile(s, state, theme),
        ),
        services.map_or_else(
            || missing("QPS", state, SourceKind::Prometheus, theme),
            |s| qps_tile(s, state, theme),
        ),
        cost_tile(state, theme),
    ]
}

/// How many samples of history a tile's sparkline shows.
const TILE_HISTORY: usize = 60;

/// A history's lowest and highest point, formatted like its figure.
fn range(series: &Series, f: impl Fn(f64) -> String) -> Option<(String, String)> {
    series
        .tail_range(TILE_HISTORY)
        .map(|(lo, hi)| (f(lo), f(hi)))
}

/// Replicas, warn when any HPA is pinned at its max.
fn replicas_tile<'a>(state: &State, theme: &Theme) -> Tile<'a> {
    let Some(c) = &state.cluster.value else {
        return missing("Replicas", state, SourceKind::Kubernetes, theme);
    };
    let total: u32 = c.deployments.iter().map(|d| d.replicas).sum();
    let ready: u32 = c.deployments.iter().map(|d| d.ready).sum();
    let at_max = c
        .deployments
        .iter()
        .filter(|d| d.hpa.as_ref().is_some_and(|h| h.current >= h.max))
        .count();
    Tile {
        title: "Replicas",
        value: format!("{ready}/{total} ready"),
        style: if at_max > 0 { theme.warn } else { theme.ok },
        mark: if at_max > 0 {
            "▲ max".into()
        } else {
            String::new()
        },
        note: vec![label(
            match (state.replicas_by_context().as_slice(), at_max) {
                ([], 0) => format!("{} deployments", c.deployments.len()),
                ([], _) => format!("{at_max} HPA at max"),
                // Several contexts: each named with its own count.
                (each, _) => {
                    let each: Vec<String> = each
                        .iter()
                        .map(|(ctx, ready, total)| format!("{ctx} {ready}/{total}"))
                        .collect();
                    let max = if at_max > 0 {
                        format!(" · {at_max} HPA at max")
                    } else {
                        String::new()
                    };
                    format!("{}{max}", each.join(" · "))
                }
            },
            theme.muted,
        )],
        history: state.history.replicas.tail_scaled(TILE_HISTORY, 1.0),
        range: range(&state.history.replicas, |v| format!("{v:.0}")),
    }
}

fn hit_rate_tile<'a>(state: &State, theme: &Theme) -> Tile<'a> {
    let Some(c) = state.cache.value.as_ref() else {
        return missing("Cache hit rate", state, SourceKind::Redis, theme);
    };
    let r = &state.config.rules;
    let value = c.hit_rate.map_or("no traffic".into(), format::ratio_pct);
    let g = grade::of_hit_rate(c.hit_rate, r);
    Tile {
        title: "Cache hit rate",
        value,
        style: theme.graded(g),
        mark: Theme::mark(g).into(),
        note: vec![
            label("target >", theme.muted),
            figure(format!("{:.0}%", r.hit_rate_target * 100.0), theme.muted),
            label(" alert <", theme.muted),
            figure(format!("{:.0}%", r.hit_rate_alert * 100.0), theme.muted),
        ],
        history: state.history.hit_rate.tail_scaled(TILE_HISTORY, 1000.0),
        range: range(&state.history.hit_rate, format::ratio_pct),
    }
}

/// The worst service's P95.
fn p95_tile<'a>(services: &[ServiceLatency], state: &State, theme: &Theme) -> Tile<'a> {
    let r = &state.config.rules;
    let worst = services
        .iter()
        .max_by(|a, b| a.p95_ms.total_cmp(&b.p95_ms))
        .expect("the tile is only built for a non-empty service list");
    let g = grade::of_p95(worst.p95_ms, r);
    Tile {
        title: "P95 latency",
        value: format::ms(worst.p95_ms),
        style: theme.graded(g),
        mark: Theme::mark(g).into(),
        note: vec![
            label(worst.name.clone(), theme.muted),
            label(" · target <", theme.muted),
            figure(format::ms(r.p95_up_ms), theme.muted),
        ],
        history: state.history.p95_ms.tail_scaled(TILE_HISTORY, 1.0),
        range: range(&state.history.p95_ms, format::ms),
    }
}

/// All traffic's error rate; "no traffic" rather than a reassuring 0 % when nothing ran.
fn error_rate_tile<'a>(services: &[ServiceLatency], state: &State, theme: &Theme) -> Tile<'a> {
    let r = &state.config.rules;
    let rate = grade::error_rate(services);
    let value = match rate {
        Some(v) => format::percent_precise(v),
        None if services.iter().map(|s| s.qps).sum::<f64>() == 0.0 => "no traffic".into(),
        None => MISSING.into(),
    };
    let g = rate.map_or(Grade::Unknown, |v| grade::of_error_rate(v, r));
    Tile {
        title: "Error rate",
        value,
        style: theme.graded(g),
        mark: Theme::mark(g).into(),
        note: vec![
            label("target <", theme.muted),
            figure(format::percent_precise(r.error_rate_alert), theme.muted),
        ],
        history: state.history.error_rate.tail_scaled(TILE_HISTORY, 1e6),
        range: range(&state.history.error_rate, format::percent_precise),
    }
}

/// The entry service's QPS (the first in the list).
fn qps_tile<'a>(services: &[ServiceLatency], state: &State, theme: &Theme) -> Tile<'a> {
    let entry = services.first().map_or(0.0, |x| x.qps);
    Tile {
        title: "QPS",
        value: format!("{} req/s", format::count(entry)),
        style: theme.accent,
        mark: String::new(),
        note: vec![
            label(
                services.first().map_or("", |x| x.name.as_str()).to_string(),
                theme.muted,
            ),
            label(" (entry)", theme.muted),
        ],
        history: state.history.qps.tail_scaled(TILE_HISTORY, 1.0),
        range: range(&state.history.qps, |v| format::count(v.round())),
    }
}

fn cost_tile<'a>(state: &State, theme: &Theme) -> Tile<'a> {
    let Some(c) = &state.cost else {
        return Tile {
            title: "Cost per hour",
            value: MISSING.into(),
            style: theme.muted,
            mark: String::new(),
            note: vec![label("needs cluster or metrics", theme.muted)],
            history: Vec::new(),
            range: None,
        };
    };
    let currency = &state.config.cost.currency;
    let month = c.per_hour.total * crate::domain::cost::HOURS_PER_MONTH;
    let m = |v: f64| format::money(v, currency);
    let (g, note) = match state.config.cost.monthly_budget {
        Some(b) => {
            let g = grade::of_spend(month, b);
            let words = if g == Grade::Critical {
                " > budget "
            } else {
                " of "
            };
            let note = vec![
                figure(format!("{}/mo", m(month)), theme.muted),
                label(words, theme.muted),
                figure(m(b), theme.muted),
            ];
            (g, note)
        }
        None => (
            Grade::Unknown,
            vec![figure(format!("{}/month", m(month)), theme.muted)],
        ),
    };
    let cur = currency.clone();
    Tile {
        title: "Cost per hour",
        value: format!("{}/h", m(c.per_hour.total)),
        style: if state.config.cost.monthly_budget.is_some() {
            theme.graded(g)
        } else {
            theme.accent
        },
        mark: Theme::mark(g).into(),
        note,
        history: state.history.cost_per_hour.tail_scaled(TILE_HISTORY, 100.0),
        range: range(&state.history.cost_per_hour, move |v| {
            format!("{}/h", format::money(v, &cur))
        }),
    }
}

fn missing<'a>(title: &'a str, state: &State, kind: SourceKind, theme: &Theme) -> Tile<'a> {
    let note: String = health_spans(state, kind, theme)
        .iter()
        .map(|s| s.content.as_ref())
        .collect();
    Tile {
        title,
        value: MISSING.into(),
        style: theme.muted,
        mark: String::new(),
        note: vec![label(note, theme.muted)],
        history: Vec::new(),
        range: None,
    }
}

fn draw_alerts(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let title = format!("Alerts ({})", state.alerts.len() + state.prom_alerts.len());
    let block = panel(&title, None, theme);
    let mut items: Vec<ListItem> = state
        .alerts
        .iter()
        .map(|a| {
            let g: Grade = a.severity.into();
            let text = format!("{} {}", Theme::mark(g), a.message);
            let mut spans = vec![
                Span::styled(format!("{} ", a.since.format("%H:%M:%S")), theme.muted),
                Span::styled(format!("{:<10} ", a.source), theme.muted),
            ];
            let room = (area.width as usize).saturating_sub(22);
            spans.extend(super::fit::words(&text, theme.graded(g), room).spans);
            ListItem::new(Line::from(spans))
        })
        .collect();
    items.extend(state.prom_alerts.iter().map(|a| prom_alert(a, theme)));
    if items.is_empty() {
        items.push(ListItem::new(Span::styled(
            "all figures within the platform's targets",
            theme.ok,
        )));
    }
    frame.render_widget(List::new(items).block(block), area);
}

/// A Prometheus alert: its severity as a mark and a colour, pending ones muted, the runbook
/// link in full below it so it can be read (or selected with the mouse) from the screen.
fn prom_alert<'a>(a: &'a PromAlert, theme: &Theme) -> ListItem<'a> {
    let (mark, style) = match (a.firing, a.severity.to_ascii_lowercase().as_str()) {
        (false, _) => ("… ", theme.muted),
        (true, "critical" | "page" | "error") => ("!! ", theme.critical),
        (true, _) => ("! ", theme.warn),
    };
    let since = a.since.map_or_else(
        || "         ".to_string(),
        |t| format!("{} ", t.format("%H:%M:%S")),
    );
    let mut text = format!("{mark}{}", a.name);
    if !a.summary.is_empty() {
        text.push_str(": ");
        text.push_str(&a.summary);
    }
    if !a.firing {
        text.push_str(" (pending)");
    }
    let mut lines = vec![Line::from(vec![
        Span::styled(since, theme.muted),
        Span::styled(format!("{:<10} ", "prometheus"), theme.muted),
        Span::styled(text, style),
    ])];
    // On a line of its own, so a long link is not cut by the alert's text.
    if let Some(url) = &a.runbook_url {
        lines.push(Line::from(Span::styled(
            format!("{:20}runbook {url}", ""),
            theme.muted,
        )));
    }
    ListItem::new(lines)
}

/// The wide layout's extra: each deployment's replicas, latency and rules verdict.
fn draw_deployments(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    use ratatui::widgets::{Row, Table};
    let mut rules_w = 5;
    let rows: Vec<Row> = state
        .visible_deployments()
        .into_iter()
        .map(|d| {
            let s = state.signals(d);
            let v = state.verdict(d);
            let (rules, rules_style) = match &d.hibernated {
                Some(h) => (h.label(), theme.accent),
                None => (
                    v.label().to_string(),
                    super::scaling::verdict_style(&v, theme),
                ),
            };
            rules_w = rules_w.max(rules.chars().count() as u16);
            Row::new(vec![
                Span::styled(d.name.clone(), theme.text),
                Span::styled(
                    format!("{}/{}", d.ready, d.replicas),
                    if d.ready < d.replicas {
                        theme.warn
                    } else {
                        theme.ok
                    },
                ),
                Span::styled(s.cpu_pct.map_or(MISSING.into(), format::pct), theme.text),
                Span::styled(s.p95_ms.map_or(MISSING.into(), format::ms), theme.text),
                Span::styled(rules, rules_style),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Min(14),
            Constraint::Length(7),
            Constraint::Length(5),
            Constraint::Length(8),
            Constraint::Length(rules_w),
        ],
    )
    .header(Row::new(vec!["DEPLOYMENT", "READY", "CPU", "P95", "RULES"]).style(theme.muted))
    .block(panel("Deployments", None, theme));
    frame.render_widget(table, area);
}
