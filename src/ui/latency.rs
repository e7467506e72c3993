//! Latency: per service P50/P95/P99, QPS, errors, queue; P95 chart with the target line;
//! the alerts with the time they started.

use super::fit;
use super::widgets::chart::{Plot, Rule, TimeChart};
use super::widgets::{Column, column_widths, empty_note, panel};
use super::{Theme, format, health_spans, redacted, source_error};
use crate::domain::{forecast, grade};
use crate::model::{MetricsSample, SourceKind};
use crate::state::State;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, Row, Table};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let badge = Line::from(health_spans(state, SourceKind::Prometheus, theme));
    let Some(m) = state.metrics.value.as_ref() else {
        let msg = source_error(state, SourceKind::Prometheus)
            .map(|e| format!("Prometheus: {e}"))
            .unwrap_or_else(|| "waiting for Prometheus ([prometheus] in config.toml)".into());
        frame.render_widget(
            empty_note(msg, theme.muted).block(panel("Latency", Some(badge), theme)),
            area,
        );
        return;
    };
    let table_h = (m.services.len() as u16 + 3).min(area.height / 2);
    let [table_area, bottom] =
        Layout::vertical([Constraint::Length(table_h), Constraint::Min(0)]).areas(area);
    draw_services(frame, table_area, m, badge, state, theme);
    let [chart_area, alerts_area] =
        Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(bottom);
    draw_charts(frame, chart_area, state, theme);
    draw_alerts(frame, alerts_area, m, state, theme);
}

/// One row per service, each graded figure in its grade's style and with its mark, its QPS
/// beside the same time yesterday and a week ago and the coming hour's peak from yesterday's
/// curve; the figure columns as wide as their widest cell, the names cut with a `…` when
/// short. Narrow, P50 and P99 give way to the history.
fn draw_services(
    frame: &mut Frame,
    area: Rect,
    m: &MetricsSample,
    badge: Line,
    state: &State,
    theme: &Theme,
) {
    let r = &state.config.rules;
    let f = state.filter.to_ascii_lowercase();
    let history = state.traffic.is_some();
    let all = !history || area.width >= 110;
    let mut header = vec!["SERVICE"];
    if all {
        header.push("P50");
    }
    header.push("P95");
    if all {
        header.push("P99");
    }
    header.push("QPS");
    if history {
        header.extend(["1D AGO", "7D AGO", "PEAK 1H"]);
    }
    header.extend(["ERRORS", "QUEUE"]);
    let cells: Vec<Vec<(String, Style)>> = m
        .services
        .iter()
        .filter(|s| f.is_empty() || s.name.to_ascii_lowercase().contains(&f))
        .map(|s| {
            let graded = |text: String, g| (Theme::marked(&text, g), theme.graded(g));
            let mut row = vec![(s.label(), theme.text)];
            if all {
                row.push((format::ms(s.p50_ms), theme.text));
            }
            row.push(graded(format::ms(s.p95_ms), grade::of_p95(s.p95_ms, r)));
            if all {
                row.push((format::ms(s.p99_ms), theme.text));
            }
            row.push((format::count(s.qps), theme.text));
            if history {
                let h = state.service_history(&s.name);
                let then = |v: Option<f64>| v.map_or(format::MISSING.to_string(), format::count);
                let peak = h.and_then(|h| forecast::peak(&h.next_hour));
                row.push((then(h.and_then(|h| h.qps_1d_ago)), theme.muted));
                row.push((then(h.and_then(|h| h.qps_7d_ago)), theme.muted));
                row.push((then(peak.map(|p| p.1)), theme.text));
            }
            row.push(graded(
                format::percent_precise(s.error_rate),
                grade::of_error_rate(s.error_rate, r),
            ));
            row.push(graded(
                format::count(s.queue_length),
                grade::of_queue(s.queue_length, r),
            ));
            row
        })
        .collect();
    let columns: Vec<Column> = (0..header.len())
        .map(|i| {
            let col = std::iter::once(header[i]).chain(cells.iter().map(|c| c[i].0.as_str()));
            if i == 0 {
                Column::label(col)
            } else {
                // Room for a mark to come, so the columns do not jump when one shows.
                let room = match header[i] {
                    "P95" => Some("0000ms !!"),
                    "ERRORS" => Some("0.000% !!"),
                    "QUEUE" => Some("000 !!"),
                    _ => None,
                };
                Column::figure(col.chain(room))
            }
        })
        .collect();
    let widths = column_widths(area.width.saturating_sub(2), &columns);
    let rows: Vec<Row> = cells
        .into_iter()
        .map(|row| {
            Row::new(
                row.into_iter()
                    .zip(&widths)
                    .map(|((text, style), w)| Span::styled(fit::cell(&text, *w as usize), style))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let table = Table::new(rows, widths.iter().map(|w| Constraint::Length(*w)))
        .header(Row::new(header).style(theme.muted))
        .block(panel("Services", Some(badge), theme));
    frame.render_widget(table, area);
}

/// "▲ chat-api: 610 req/s expected at 14:20 (yesterday's curve) needs 7 replicas at 70 %
/// CPU; HPA min is 3: raise it before 14:10 and warm the cache (p)".
fn prescale_items<'a>(state: &State, width: usize, theme: &Theme) -> Vec<ListItem<'a>> {
    state
        .prescales()
        .iter()
        .map(|p| {
            // The first minute that needs more may already be here.
            let when = if p.before <= state.now {
                "now".to_string()
            } else {
                format!("before {}", p.before.format("%H:%M"))
            };
            let text = format!(
                "▲ {}: {} req/s expected at {} (yesterday's curve) needs {} replicas at {:.0} % CPU; HPA min is {}: raise it {when} and warm the cache (p)",
                p.deployment,
                format::count(p.peak_qps),
                p.peak_at.format("%H:%M"),
                p.min_needed,
                p.cpu_target_pct,
                p.min_now,
            );
            ListItem::new(
                format::wrap(&text, width)
                    .into_iter()
                    .map(|l| Line::styled(l, theme.warn))
                    .collect::<Vec<_>>(),
            )
        })
        .collect()
}

/// Panel problems come first: a failed query means the figures above are "—", and the
/// operator needs Prometheus' own words to fix it. Then Prometheus' alerts, by severity.
fn draw_alerts(frame: &mut Frame, area: Rect, m: &MetricsSample, state: &State, theme: &Theme) {
    let width = area.width.saturating_sub(2).max(10) as usize;
    let problems = m.problems.iter().map(|p| {
        let text = redacted(state, &format!("✖ {}: {}", p.panel, p.message));
        ListItem::new(
            format::wrap(&text, width)
                .into_iter()
                .map(|l| Line::styled(l, theme.critical))
                .collect::<Vec<_>>(),
        )
    });
    let alerts = state
        .alerts
        .iter()
        .filter(|a| a.source == "prometheus")
        .map(|a| {
            let g: grade::Grade = a.severity.into();
            let text = format!("{} {}", Theme::mark(g), a.message);
            let mut spans = vec![Span::styled(
                format!("{} ", a.since.format("%H:%M")),
                theme.muted,
            )];
            spans.extend(fit::words(&text, theme.graded(g), width.saturating_sub(6)).spans);
            ListItem::new(Line::from(spans))
        });
    let items: Vec<ListItem> = prescale_items(state, width, theme)
        .into_iter()
        .chain(problems)
        .chain(alerts)
        .collect();
    let items = if items.is_empty() {
        vec![ListItem::new(Span::styled(
            "no latency or error alerts",
            theme.ok,
        ))]
    } else {
        items
    };
    frame.render_widget(List::new(items).block(panel("Alerts", None, theme)), area);
}

/// P95 per service against the scale-up target (and the critical line once a service
/// passes the target); QPS below it when there is room.
fn draw_charts(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let (p95, qps) = if area.height >= 20 {
        let [a, b] =
            Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(area);
        (a, Some(b))
    } else {
        (area, None)
    };
    let limit = state.config.rules.p95_up_ms;
    let h = &state.history;
    let mut rules = vec![Rule {
        name: format!("target {}", format::ms(limit)),
        value: limit,
        style: theme.warn,
    }];
    if h.p95_by_service
        .iter()
        .any(|(_, s)| s.max().is_some_and(|m| m > limit))
    {
        rules.push(Rule {
            name: format!("critical {}", format::ms(2.0 * limit)),
            value: 2.0 * limit,
            style: theme.critical,
        });
    }
    TimeChart {
        title: "P95 per service, last 10 min".into(),
        plots: h
            .p95_by_service
            .iter()
            .enumerate()
            .map(|(i, (name, series))| Plot {
                name: name.clone(),
                series,
                color: theme.series(i),
            })
            .collect(),
        rules,
        unit: Box::new(format::ms),
        floor: Some(0.0),
        ceiling: None,
    }
    .render(frame, p95, theme);
    if let Some(area) = qps {
        TimeChart {
            title: "QPS, all services".into(),
            plots: vec![Plot {
                name: "req/s".into(),
                series: &h.qps,
                color: theme.series(0),
            }],
            rules: Vec::new(),
            unit: Box::new(|v| format!("{} req/s", format::count(v.round()))),
            floor: Some(0.0),
            ceiling: None,
        }
        .render(frame, area, theme);
    }
}
