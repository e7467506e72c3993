//! Overview: six tiles, each coloured against the seed's thresholds, with the alerts below.

use super::format::{self, MISSING};
use super::widgets::{Tile, panel};
use super::{Theme, health_spans};
use crate::sources::SourceKind;
use crate::state::State;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
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
            let alerts_h = (state.alerts.len() as u16 + 2).clamp(3, rest.height / 2);
            let [alerts, deployments] =
                Layout::vertical([Constraint::Length(alerts_h), Constraint::Min(0)]).areas(rest);
            draw_alerts(frame, alerts, state, theme);
            if deployments.height >= 3 {
                draw_deployments(frame, deployments, state, theme);
            }
        }
    }
}

fn tiles<'a>(state: &State, theme: &Theme) -> Vec<Tile<'a>> {
    let r = &state.config.rules;
    let h = &state.history;
    let n = 60;
    let mut out = Vec::with_capacity(6);

    // Replicas, warn when any HPA is pinned at its max.
    out.push(match &state.cluster.value {
        Some(c) => {
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
                note: if at_max > 0 {
                    format!("{at_max} HPA at max")
                } else {
                    format!("{} deployments", c.deployments.len())
                },
                history: h.replicas.tail_scaled(n, 1.0),
            }
        }
        None => missing("Replicas", state, SourceKind::Kubernetes, theme),
    });

    out.push(match state.cache.value.as_ref() {
        Some(c) => {
            let (value, style) = match c.hit_rate {
                Some(v) => (
                    format::ratio_pct(v),
                    grade_low(v, r.hit_rate_target, r.hit_rate_alert, theme),
                ),
                None => ("no traffic".into(), theme.muted),
            };
            Tile {
                title: "Cache hit rate",
                value,
                style,
                note: format!(
                    "target >{:.0}% alert <{:.0}%",
                    r.hit_rate_target * 100.0,
                    r.hit_rate_alert * 100.0
                ),
                history: h.hit_rate.tail_scaled(n, 1000.0),
            }
        }
        None => missing("Cache hit rate", state, SourceKind::Redis, theme),
    });

    let services = state.metrics.value.as_ref().map(|m| m.services.as_slice());
    out.push(match services {
        Some(s) if !s.is_empty() => {
            let worst = s
                .iter()
                .max_by(|a, b| a.p95_ms.total_cmp(&b.p95_ms))
                .expect("non-empty");
            Tile {
                title: "P95 latency",
                value: format::ms(worst.p95_ms),
                style: grade_high(worst.p95_ms, r.p95_up_ms, 2.0 * r.p95_up_ms, theme),
                note: format!("{} · target <{}", worst.name, format::ms(r.p95_up_ms)),
                history: h.p95_ms.tail_scaled(n, 1.0),
            }
        }
        _ => missing("P95 latency", state, SourceKind::Prometheus, theme),
    });

    out.push(match services {
        Some(s) if !s.is_empty() => {
            let qps: f64 = s.iter().map(|x| x.qps).sum();
            let errors: f64 = s.iter().map(|x| x.qps * x.error_rate).sum();
            let rate = if qps > 0.0 { errors / qps } else { 0.0 };
            Tile {
                title: "Error rate",
                value: format::percent_precise(rate),
                style: grade_high(rate, r.error_rate_alert, 100.0 * r.error_rate_alert, theme),
                note: format!("target <{}", format::percent_precise(r.error_rate_alert)),
                history: h.error_rate.tail_scaled(n, 1e6),
            }
        }
        _ => missing("Error rate", state, SourceKind::Prometheus, theme),
    });

    out.push(match services {
        Some(s) if !s.is_empty() => {
            let entry = s.first().map_or(0.0, |x| x.qps);
            Tile {
                title: "QPS",
                value: format!("{} req/s", format::count(entry)),
                style: theme.accent,
                note: format!("{} (entry)", s.first().map_or("", |x| x.name.as_str())),
                history: h.qps.tail_scaled(n, 1.0),
            }
        }
        _ => missing("QPS", state, SourceKind::Prometheus, theme),
    });

    let currency = &state.config.cost.currency;
    out.push(match &state.cost {
        Some(c) => {
            let month = c.per_hour.total * crate::domain::cost::HOURS_PER_MONTH;
            let (style, note) = match state.config.cost.monthly_budget {
                Some(b) if month > b => (
                    theme.critical,
                    format!(
                        "≈{}/mo > budget {}",
                        format::money(month, currency),
                        format::money(b, currency)
                    ),
                ),
                Some(b) => (
                    theme.ok,
                    format!(
                        "≈{}/mo of {}",
                        format::money(month, currency),
                        format::money(b, currency)
                    ),
                ),
                None => (
                    theme.accent,
                    format!("≈{}/month", format::money(month, currency)),
                ),
            };
            Tile {
                title: "Cost per hour",
                value: format!("{}/h", format::money(c.per_hour.total, currency)),
                style,
                note,
                history: h.cost_per_hour.tail_scaled(n, 100.0),
            }
        }
        None => Tile {
            title: "Cost per hour",
            value: MISSING.into(),
            style: theme.muted,
            note: "needs cluster or metrics".into(),
            history: Vec::new(),
        },
    });
    out
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
        note,
        history: Vec::new(),
    }
}

/// Higher is better: ok at or above target, warn down to the alert line, critical below.
pub fn grade_low(v: f64, target: f64, alert: f64, theme: &Theme) -> Style {
    if v >= target {
        theme.ok
    } else if v >= alert {
        theme.warn
    } else {
        theme.critical
    }
}

/// Lower is better: ok at or under the limit, warn up to `critical`, critical above.
pub fn grade_high(v: f64, limit: f64, critical: f64, theme: &Theme) -> Style {
    if v <= limit {
        theme.ok
    } else if v <= critical {
        theme.warn
    } else {
        theme.critical
    }
}

fn draw_alerts(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let title = format!("Alerts ({})", state.alerts.len());
    let block = panel(&title, None, theme);
    let items: Vec<ListItem> = if state.alerts.is_empty() {
        vec![ListItem::new(Span::styled(
            "all figures within the platform's targets",
            theme.ok,
        ))]
    } else {
        state
            .alerts
            .iter()
            .map(|a| {
                let style = match a.severity {
                    crate::domain::slo::Severity::Critical => theme.critical,
                    crate::domain::slo::Severity::Warning => theme.warn,
                };
                ListItem::new(Line::from(vec![
                    Span::styled(format!("{} ", a.since.format("%H:%M:%S")), theme.muted),
                    Span::styled(format!("{:<10} ", a.source), theme.muted),
                    Span::styled(a.message.clone(), style),
                ]))
            })
            .collect()
    };
    frame.render_widget(List::new(items).block(block), area);
}

/// The wide layout's extra: each deployment's replicas, latency and rules verdict.
fn draw_deployments(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    use ratatui::widgets::{Row, Table};
    let rows: Vec<Row> = state
        .visible_deployments()
        .into_iter()
        .map(|d| {
            let s = state.signals(d);
            let v = state.verdict(d);
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
                Span::styled(v.direction.label(), theme.accent),
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
            Constraint::Length(5),
        ],
    )
    .header(Row::new(vec!["DEPLOYMENT", "READY", "CPU", "P95", "RULES"]).style(theme.muted))
    .block(panel("Deployments", None, theme));
    frame.render_widget(table, area);
}
