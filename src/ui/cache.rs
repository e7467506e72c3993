//! Cache: hit rate against target with history, memory, evictions, ops, PING, prefixes
//! (with the services' per-prefix hit rates when Prometheus reports them), nodes.

use super::fit::{self, Piece, figure, label};
use super::theme::grade_mark;
use super::widgets::chart::{Plot, Rule, TimeChart};
use super::widgets::{bar, empty_note, panel};
use super::{Theme, format, health_spans, redacted, source_error};
use crate::domain::grade::{self, Grade};
use crate::domain::prefix_hits;
use crate::model::{CacheSample, SourceKind};
use crate::state::{State, Status};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};
use std::collections::BTreeMap;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let badge = Line::from(health_spans(state, SourceKind::Redis, theme));
    let Some(c) = state.cache.value.as_ref() else {
        let msg = source_error(state, SourceKind::Redis)
            .map(|e| format!("Redis: {e}"))
            .unwrap_or_else(|| "waiting for Redis ([redis] in config.toml)".into());
        frame.render_widget(
            empty_note(msg, theme.muted).block(panel("Cache", Some(badge), theme)),
            area,
        );
        return;
    };
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);
    let block = panel("Redis", Some(badge), theme);
    let inner = block.inner(left);
    frame.render_widget(block, left);
    let [figures, chart] =
        Layout::vertical([Constraint::Length(9), Constraint::Min(0)]).areas(inner);
    let w = (figures.width as usize).saturating_sub(36).clamp(4, 30);
    let lines = figure_lines(c, state, w, figures.width as usize, theme);
    frame.render_widget(Paragraph::new(lines), figures);
    if chart.height > 1 {
        draw_hit_rate_chart(frame, chart, state, theme);
    }

    let nodes_h = if c.nodes.is_empty() {
        0
    } else {
        (c.nodes.len() as u16 + 3).min(right.height / 2)
    };
    let [prefixes, nodes] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(nodes_h)]).areas(right);
    draw_prefixes(frame, prefixes, c, state, theme);
    if nodes_h > 0 {
        draw_nodes(frame, nodes, c, theme);
    }
}

/// The Redis panel's figures, each graded against its target and marked; `w` is the bars'
/// width, `width` the panel's. Labels shrink before a figure is touched.
fn figure_lines(
    c: &CacheSample,
    state: &State,
    w: usize,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let r = &state.config.rules;
    let hit = c.hit_rate.unwrap_or(f64::NAN);
    let mem_frac = grade::memory_fraction(c.used_memory_bytes, c.maxmemory_bytes);
    let line = |name: &str, mut pieces: Vec<Piece>| {
        pieces.insert(0, label(format!("{name:<13}"), theme.muted));
        fit::line(pieces, width)
    };
    let g_hit = grade::of_hit_rate(c.hit_rate, r);
    let s_hit = theme.graded(g_hit);
    let g_mem = grade::of_memory_use(mem_frac);
    let s_mem = theme.graded(g_mem);
    let g_ping = grade::of_cache_latency(c.ping_ms, r);
    let s_ping = theme.graded(g_ping);
    let evict = if c.evicted_keys_per_sec > 0.0 {
        theme.warn
    } else {
        theme.text
    };
    let t = theme.text;
    let mut lines = vec![
        line(
            "hit rate",
            vec![
                label(format!("{} ", bar(hit, w)), s_hit),
                figure(Theme::marked(&format::ratio_pct(hit), g_hit), s_hit),
                label("  target ", theme.muted),
                figure(format!("{:.0}%", r.hit_rate_target * 100.0), theme.muted),
            ],
        ),
        line(
            "lifetime",
            vec![figure(
                c.hit_rate_lifetime
                    .map_or(format::MISSING.into(), format::ratio_pct),
                t,
            )],
        ),
        line(
            "memory",
            match mem_frac {
                Some(f) => vec![
                    label(format!("{} ", bar(f, w)), s_mem),
                    figure(
                        Theme::marked(&format::bytes(c.used_memory_bytes), g_mem),
                        s_mem,
                    ),
                    figure(format!(" / {}", format::bytes(c.maxmemory_bytes)), t),
                ],
                None => vec![
                    figure(format::bytes(c.used_memory_bytes), t),
                    label(" (no maxmemory)", theme.muted),
                ],
            },
        ),
        line(
            "ops/s",
            vec![
                figure(format::count(c.ops_per_sec), t),
                label("  hits ", theme.muted),
                figure(format!("{}/s", format::count(c.hits_per_sec)), t),
                label("  misses ", theme.muted),
                figure(format!("{}/s", format::count(c.misses_per_sec)), t),
            ],
        ),
        line(
            "evictions/s",
            vec![
                figure(format::count(c.evicted_keys_per_sec), evict),
                label("  expired ", theme.muted),
                figure(format!("{}/s", format::count(c.expired_keys_per_sec)), t),
                label(format!("  policy {}", c.eviction_policy), theme.muted),
            ],
        ),
        line(
            "ping",
            vec![
                figure(Theme::marked(&format::ms(c.ping_ms), g_ping), s_ping),
                label("  target <", theme.muted),
                figure(format::ms(r.cache_latency_ms), theme.muted),
            ],
        ),
        line("clients", vec![figure(c.connected_clients.to_string(), t)]),
        line(
            "keys",
            vec![
                figure(format::count(c.keys as f64), t),
                label("  fragmentation ", theme.muted),
                figure(format!("{:.2}", c.fragmentation), t),
            ],
        ),
    ];
    if let Some((e, at)) = &state.cache.error {
        let ago = format::age((state.now - *at).num_seconds().max(0));
        lines.push(Line::from(Span::styled(
            format!("error {ago} ago: {}", redacted(state, e)),
            theme.critical,
        )));
    }
    lines
}

/// The hit rate's history against the target and the alert line.
fn draw_hit_rate_chart(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let r = &state.config.rules;
    TimeChart {
        title: "Hit rate, last 10 min".into(),
        plots: vec![Plot {
            name: "hit rate".into(),
            series: &state.history.hit_rate,
            color: theme.series(0),
        }],
        rules: vec![
            Rule {
                name: format!("target {:.0}%", r.hit_rate_target * 100.0),
                value: r.hit_rate_target,
                style: theme.warn,
            },
            Rule {
                name: format!("alert {:.0}%", r.hit_rate_alert * 100.0),
                value: r.hit_rate_alert,
                style: theme.critical,
            },
        ],
        unit: Box::new(|v| format!("{:.0}%", v * 100.0)),
        floor: Some(0.0),
        ceiling: Some(1.0),
    }
    .render(frame, area, theme);
}

fn draw_prefixes(frame: &mut Frame, area: Rect, c: &CacheSample, state: &State, theme: &Theme) {
    let f = state.filter.to_ascii_lowercase();
    let hits = prefix_hits(state);
    let counted: Vec<&str> = c.prefixes.iter().map(|p| p.prefix.as_str()).collect();
    let no_rates = BTreeMap::new();
    let rows: Vec<Row> = prefix_hits::join(
        &counted,
        hits.flatten().unwrap_or(&no_rates),
        &state.config.rules,
    )
    .into_iter()
    .filter(|h| f.is_empty() || h.prefix.to_ascii_lowercase().contains(&f))
    .map(|h| {
        let (keys, margin) = match h.counted.and_then(|i| c.prefixes.get(i)) {
            Some(p) if p.exact => (format::count(p.keys as f64), String::new()),
            Some(p) => (
                format!("≈{}", format::count(p.keys as f64)),
                format!("±{}", format::count(p.margin as f64)),
            ),
            None => (format::MISSING.into(), String::new()),
        };
        let mut cells = vec![
            Cell::from(h.prefix.to_string()),
            Cell::from(keys),
            Cell::from(margin),
        ];
        if let Some(known) = hits {
            cells.push(hit_cell(h.hit_rate, h.grade, known.is_some(), theme));
        }
        Row::new(cells).style(theme.text)
    })
    .collect();
    let mut widths = vec![
        Constraint::Fill(1),
        Constraint::Length(7),
        Constraint::Length(6),
    ];
    let mut header = vec!["PREFIX", "KEYS", "±95%"];
    if hits.is_some() {
        widths.push(Constraint::Length(6));
        header.push("HIT");
    }
    // One age for the table: every prefix comes from the same count or the same samples.
    let age = c
        .prefixes
        .iter()
        .map(|p| p.age_s)
        .max()
        .map(|a| format::age(a as i64));
    let exact = !c.prefixes.is_empty() && c.prefixes.iter().all(|p| p.exact);
    let title = match (c.exact_count_progress, age) {
        (Some(share), _) => format!("Keys per prefix · counting {:.0} %", share * 100.0),
        (None, Some(age)) if exact => format!("Keys per prefix · exact {age}"),
        (None, Some(age)) => format!("Keys per prefix · sampled {age}"),
        (None, None) => "Keys per prefix".to_string(),
    };
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.muted))
        .block(panel(&title, None, theme));
    frame.render_widget(table, area);
}

/// The per-prefix hit rates: None when nothing reports them (no column); Some(None) while
/// Prometheus has no good answer (the column shows `?`).
fn prefix_hits(state: &State) -> Option<Option<&BTreeMap<String, f64>>> {
    let configured = state
        .config
        .prometheus
        .as_ref()
        .is_some_and(|p| p.queries.cache_hit_rate_by_prefix.is_some());
    if !(configured || state.demo) {
        return None;
    }
    let answering = matches!(
        state.status(SourceKind::Prometheus),
        Status::Ok | Status::Stale
    );
    Some(
        state
            .metrics
            .value
            .as_ref()
            .filter(|_| answering)
            .map(|m| &m.cache_hit_rate_by_prefix),
    )
}

/// "91% ✓": the rate with its grade as a mark as well as a colour, so it reads without
/// colour too; "—" for a prefix Prometheus gave no figure for, "?" while it has no answer.
fn hit_cell(rate: Option<f64>, g: Grade, known: bool, theme: &Theme) -> Cell<'static> {
    match rate {
        Some(v) if known => Cell::from(Span::styled(
            format!("{} {}", format::pct(v * 100.0), grade_mark(g)),
            theme.graded(g),
        )),
        _ if known => Cell::from(Span::styled(format::MISSING, theme.muted)),
        _ => Cell::from(Span::styled("?", theme.muted)),
    }
}

fn draw_nodes(frame: &mut Frame, area: Rect, c: &CacheSample, theme: &Theme) {
    let rows: Vec<Row> = c
        .nodes
        .iter()
        .map(|n| {
            Row::new(vec![
                n.addr.clone(),
                n.hit_rate.map_or(format::MISSING.into(), format::ratio_pct),
                format::count(n.ops_per_sec),
                format::bytes(n.used_memory_bytes),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Min(14),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(9),
        ],
    )
    .header(Row::new(vec!["NODE", "HIT", "OPS/S", "MEM"]).style(theme.muted))
    .block(panel("Cluster nodes", None, theme));
    frame.render_widget(table, area);
}
