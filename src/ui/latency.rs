//! Latency: per service P50/P95/P99, QPS, errors, queue; P95 chart with the target line;
//! the alerts with the time they started.

use super::widgets::{empty_note, panel};
use super::{Theme, format, health_spans, redacted, source_error};
use crate::domain::{forecast, grade};
use crate::model::{MetricsSample, SourceKind};
use crate::state::State;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, List, ListItem, Row, Table};

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
    draw_chart(frame, chart_area, state, theme);
    draw_alerts(frame, alerts_area, m, state, theme);
}

/// One row per service, each graded figure in its grade's style, with its QPS beside the
/// same time yesterday and a week ago and the coming hour's peak from yesterday's curve.
/// Narrow, P50 and P99 give way to the history.
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
    let wide = area.width >= 110;
    let history = state.traffic.is_some();
    let rows: Vec<Row> = m
        .services
        .iter()
        .filter(|s| f.is_empty() || s.name.to_ascii_lowercase().contains(&f))
        .map(|s| {
            let mut cells = vec![Span::styled(s.name.clone(), theme.text)];
            if wide || !history {
                cells.push(Span::styled(format::ms(s.p50_ms), theme.text));
            }
            cells.push(Span::styled(
                format::ms(s.p95_ms),
                theme.graded(grade::of_p95(s.p95_ms, r)),
            ));
            if wide || !history {
                cells.push(Span::styled(format::ms(s.p99_ms), theme.text));
            }
            cells.push(Span::styled(format::count(s.qps), theme.text));
            if history {
                let h = state.service_history(&s.name);
                let then = |v: Option<f64>| v.map_or(format::MISSING.to_string(), format::count);
                let peak = h.and_then(|h| forecast::peak(&h.next_hour));
                cells.push(Span::styled(
                    then(h.and_then(|h| h.qps_1d_ago)),
                    theme.muted,
                ));
                cells.push(Span::styled(
                    then(h.and_then(|h| h.qps_7d_ago)),
                    theme.muted,
                ));
                cells.push(Span::styled(then(peak.map(|p| p.1)), theme.text));
            }
            cells.push(Span::styled(
                format::percent_precise(s.error_rate),
                theme.graded(grade::of_error_rate(s.error_rate, r)),
            ));
            cells.push(Span::styled(
                format::count(s.queue_length),
                theme.graded(grade::of_queue(s.queue_length, r)),
            ));
            Row::new(cells)
        })
        .collect();
    let mut header = vec!["SERVICE"];
    let mut widths = vec![Constraint::Min(12)];
    let mut col = |name: &'static str, w: u16| {
        header.push(name);
        widths.push(Constraint::Length(w));
    };
    if wide || !history {
        col("P50", 7);
    }
    col("P95", 7);
    if wide || !history {
        col("P99", 7);
    }
    col("QPS", 7);
    if history {
        col("1D AGO", 7);
        col("7D AGO", 7);
        col("PEAK 1H", 8);
    }
    col("ERRORS", 8);
    col("QUEUE", 6);
    let table = Table::new(rows, widths)
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
            let text = format!(
                "▲ {}: {} req/s expected at {} (yesterday's curve) needs {} replicas at {:.0} % CPU; HPA min is {}: raise it before {} and warm the cache (p)",
                p.deployment,
                format::count(p.peak_qps),
                p.peak_at.format("%H:%M"),
                p.min_needed,
                p.cpu_target_pct,
                p.min_now,
                p.before.format("%H:%M"),
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
            ListItem::new(Line::from(vec![
                Span::styled(format!("{} ", a.since.format("%H:%M")), theme.muted),
                Span::styled(a.message.clone(), theme.graded(a.severity.into())),
            ]))
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

fn draw_chart(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let limit = state.config.rules.p95_up_ms;
    let points: Vec<(f64, f64)> = state
        .history
        .p95_ms
        .points()
        .enumerate()
        .map(|(i, v)| (i as f64, v))
        .collect();
    let n = points.len().max(2) as f64;
    let top = state.history.p95_ms.max().unwrap_or(0.0).max(limit * 1.2);
    let line = [(0.0, limit), (n - 1.0, limit)];
    let datasets = vec![
        Dataset::default()
            .name("worst P95")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Style::default().fg(theme.series(0)))
            .data(&points),
        Dataset::default()
            .name(format!("{} target", format::ms(limit)))
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(theme.critical)
            .data(&line),
    ];
    let step = state.history.p95_ms.step_s();
    let chart = Chart::new(datasets)
        .block(panel("P95, worst service", None, theme))
        .style(theme.base())
        .x_axis(Axis::default().bounds([0.0, n - 1.0]).labels(vec![
            Span::styled(format!("-{}m", (n as i64 * step) / 60), theme.muted),
            Span::styled("now", theme.muted),
        ]))
        .y_axis(Axis::default().bounds([0.0, top]).labels(vec![
            Span::styled("0", theme.muted),
            Span::styled(format::ms(top), theme.muted),
        ]));
    frame.render_widget(chart, area);
}
