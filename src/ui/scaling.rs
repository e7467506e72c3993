//! Scaling: deployments, their HPAs against targets, the seed's verdict, node pools.

use super::widgets::{empty_note, panel};
use super::{Theme, format, health_spans, source_error};
use crate::domain::grade::Grade;
use crate::domain::scaling::{Direction, Verdict};
use crate::sources::{Deployment, NodePool, SourceKind, Vpa, VpaResources};
use crate::state::State;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, TableState};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if state.details_open && state.selected_deployment().is_some() {
        return draw_detail(frame, area, state, theme);
    }
    let badge = Line::from(health_spans(state, SourceKind::Kubernetes, theme));
    let Some(cluster) = state.cluster.value.as_ref() else {
        let msg = source_error(state, SourceKind::Kubernetes)
            .map(|e| format!("Kubernetes: {e}"))
            .unwrap_or_else(|| "waiting for Kubernetes ([kubernetes] in config.toml)".into());
        frame.render_widget(
            empty_note(msg, theme.muted).block(panel("Deployments", Some(badge), theme)),
            area,
        );
        return;
    };
    let detail_h = if area.height >= 24 { 9 } else { 6 };
    let [table_area, detail_area] =
        Layout::vertical([Constraint::Min(4), Constraint::Length(detail_h)]).areas(area);
    let deployments = state.visible_deployments();
    let wide = area.width >= 110;
    // Only the rows that fit are built: with 500 deployments, building every row (and its
    // verdict) per frame costs more than the whole rest of the screen. The window keeps
    // the selection on screen the way ratatui's own scrolling does from offset 0.
    let fits = table_area.height.saturating_sub(3).max(1) as usize;
    let selected = state.selected.min(deployments.len().saturating_sub(1));
    let start = selected.saturating_sub(fits - 1);
    let mut rules_w = 0;
    let rows: Vec<Row> = deployments
        .iter()
        .skip(start)
        .take(fits)
        .map(|d| {
            let verdict = state.verdict(d);
            rules_w = rules_w.max(verdict.label().chars().count() as u16);
            row(d, &verdict, state, theme, wide)
        })
        .collect();
    let (header, widths) = columns(wide, rules_w);
    let title = format!("Deployments ({})", deployments.len());
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.muted))
        .row_highlight_style(theme.selection)
        .block(panel(&title, Some(badge), theme));
    // The selection lives in State; a TableState is built per frame only to draw it.
    let mut ts =
        TableState::default().with_selected((!deployments.is_empty()).then(|| selected - start));
    frame.render_stateful_widget(table, table_area, &mut ts);

    let [detail, pools] =
        Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)])
            .areas(detail_area);
    draw_detail(frame, detail, state, theme);
    draw_pools(frame, pools, &cluster.pools, theme);
}

/// The Deployments table's headers and widths: every column when `wide`, the essentials
/// at 80 columns. RULES widens to `rules_w` when a verdict needs it ("up (at max)").
fn columns(wide: bool, rules_w: u16) -> (Vec<&'static str>, Vec<Constraint>) {
    if wide {
        (
            vec![
                "DEPLOYMENT",
                "READY",
                "UPD",
                "AVAIL",
                "HPA MIN-MAX",
                "CUR→DES",
                "CPU/TGT",
                "MEM/TGT",
                "RULES",
                "POOL",
            ],
            vec![
                Constraint::Min(22),
                Constraint::Length(7),
                Constraint::Length(5),
                Constraint::Length(6),
                Constraint::Length(12),
                Constraint::Length(8),
                Constraint::Length(9),
                Constraint::Length(9),
                Constraint::Length(rules_w.max(6)),
                Constraint::Length(16),
            ],
        )
    } else {
        (
            vec![
                "DEPLOYMENT",
                "READY",
                "HPA",
                "CUR→DES",
                "CPU",
                "MEM",
                "RULES",
            ],
            vec![
                Constraint::Min(14),
                Constraint::Length(6),
                Constraint::Length(6),
                Constraint::Length(8),
                Constraint::Length(5),
                Constraint::Length(5),
                Constraint::Length(rules_w.max(5)),
            ],
        )
    }
}

fn draw_pools(frame: &mut Frame, area: Rect, pools: &[NodePool], theme: &Theme) {
    let lines: Vec<Line> = pools
        .iter()
        .map(|p| {
            Line::from(vec![
                Span::styled(format!("{:<16}", p.name), theme.text),
                Span::styled(
                    format!("{:>3} nodes {:>4} pods", p.nodes, p.pods),
                    theme.muted,
                ),
                Span::styled(if p.spot { " spot" } else { "" }, theme.warn),
            ])
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(panel("Node pools", None, theme)),
        area,
    );
}

/// How a verdict is coloured wherever it is shown; its label carries the same meaning.
pub(super) fn verdict_style(v: &Verdict, theme: &Theme) -> Style {
    match (v.direction, v.at_limit) {
        (Direction::Up, true) => theme.critical,
        (Direction::Up, false) => theme.warn,
        (Direction::Down, _) => theme.accent,
        (Direction::Hold, _) => theme.muted,
        (Direction::Unknown, _) => theme.graded(Grade::Unknown),
    }
}

fn row<'a>(d: &Deployment, verdict: &Verdict, state: &State, theme: &Theme, wide: bool) -> Row<'a> {
    let s = state.signals(d);
    let ready_style = if d.ready < d.replicas {
        theme.warn
    } else {
        theme.ok
    };
    let (hpa, move_, at_max) = match &d.hpa {
        Some(h) => (
            format!("{}-{}", h.min, h.max),
            format!("{}→{}", h.current, h.desired),
            h.current >= h.max,
        ),
        None => ("none".into(), "—".into(), false),
    };
    let target = |name: &str| {
        d.hpa
            .as_ref()
            .and_then(|h| h.metrics.iter().find(|m| m.name == name))
            .map(|m| format!("/{}", m.target))
            .unwrap_or_default()
    };
    let cpu = s.cpu_pct.map_or("—".into(), format::pct);
    let mem = s.memory_pct.map_or("—".into(), format::pct);
    let name = if wide {
        format!("{}/{}", d.namespace, d.name)
    } else {
        d.name.clone()
    };
    let mut cells = vec![
        Span::styled(name, theme.text),
        Span::styled(format!("{}/{}", d.ready, d.replicas), ready_style),
    ];
    if wide {
        cells.push(Span::styled(d.updated.to_string(), theme.text));
        cells.push(Span::styled(d.available.to_string(), theme.text));
    }
    cells.push(Span::styled(
        hpa,
        if at_max { theme.critical } else { theme.text },
    ));
    cells.push(Span::styled(
        move_,
        if at_max { theme.critical } else { theme.text },
    ));
    if wide {
        cells.push(Span::styled(format!("{cpu}{}", target("cpu")), theme.text));
        cells.push(Span::styled(
            format!("{mem}{}", target("memory")),
            theme.text,
        ));
    } else {
        cells.push(Span::styled(cpu, theme.text));
        cells.push(Span::styled(mem, theme.text));
    }
    cells.push(Span::styled(verdict.label(), verdict_style(verdict, theme)));
    if wide {
        cells.push(Span::styled(d.pool.clone(), theme.muted));
    }
    Row::new(cells)
}

fn draw_detail(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(d) = state.selected_deployment() else {
        frame.render_widget(
            empty_note("no deployment matches the filter".into(), theme.muted)
                .block(panel("Detail", None, theme)),
            area,
        );
        return;
    };
    let v = state.verdict(d);
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("rules: {} ", v.label()), verdict_style(&v, theme)),
        Span::styled(v.reasons.join(", "), theme.text),
    ])];
    match &d.hpa {
        Some(h) => {
            let metrics: Vec<String> = h
                .metrics
                .iter()
                .map(|m| match m.current {
                    Some(c) => format!("{} {c:.0}{u}/{:.0}{u}", m.name, m.target, u = m.unit),
                    None => format!("{} unknown/{:.0}{}", m.name, m.target, m.unit),
                })
                .collect();
            lines.push(Line::from(Span::styled(
                format!(
                    "HPA {}: min {} max {} · {}",
                    h.name,
                    h.min,
                    h.max,
                    metrics.join(" · ")
                ),
                theme.text,
            )));
            lines.extend(vpa_line(d, theme));
            // The next move from the HPA's behaviour when the source computed one; the
            // controller's last desired count otherwise.
            let (to, why) = match &h.next {
                Some(n) => (n.replicas, n.limited_by.as_deref()),
                None => (h.desired, None),
            };
            let why = why.map(|w| format!(" ({w})")).unwrap_or_default();
            let next = if to > h.current {
                format!("next: scale up {} → {to}{why}", h.current)
            } else if to < h.current {
                format!("next: scale down {} → {to}{why}", h.current)
            } else {
                format!("next: hold{why}")
            };
            lines.push(Line::from(Span::styled(next, theme.muted)));
            if !h.behavior.is_empty() {
                lines.push(Line::from(Span::styled(
                    format!("behaviour: {}", h.behavior),
                    theme.muted,
                )));
            }
            lines.push(Line::from(Span::styled(
                "s: the HPA owns replicas, scaling edits its minReplicas",
                theme.muted,
            )));
        }
        None => {
            lines.extend(vpa_line(d, theme));
            lines.push(Line::from(Span::styled(
                "no HPA: s patches replicas directly",
                theme.muted,
            )))
        }
    }
    let title = format!("{}/{}", d.namespace, d.name);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(ratatui::widgets::Wrap { trim: true })
            .block(panel(&title, None, theme)),
        area,
    );
}

fn vpa_line(d: &Deployment, theme: &Theme) -> Option<Line<'static>> {
    let v = d.vpa.as_ref()?;
    let mut spans = vec![Span::styled(vpa_summary(v), theme.text)];
    // Utilisation targets are percentages of the requests a VPA rewrites, so both
    // autoscalers react to each other's moves; only a recommend-only VPA is safe here.
    let on_requests = d.hpa.as_ref().is_some_and(|h| {
        h.metrics
            .iter()
            .any(|m| m.unit == "%" && (m.name == "cpu" || m.name == "memory"))
    });
    if on_requests && v.update_mode != "Off" {
        spans.push(Span::styled(
            " · conflicts with the HPA's cpu/memory %",
            theme.warn,
        ));
    }
    Some(Line::from(spans))
}

/// "VPA Auto: cpu 250m (100m-4) mem 512Mi (128Mi-8Gi)": the recommended requests and, in
/// brackets, the policy's min and max allowed. Containers are named when there are several.
pub fn vpa_summary(v: &Vpa) -> String {
    use super::format::{MISSING, cpu_quantity, memory_quantity};
    let part = |label: &str,
                get: fn(&VpaResources) -> Option<f64>,
                fmt: fn(f64) -> String,
                c: &crate::sources::VpaContainer| {
        let target = get(&c.target).map_or(MISSING.to_string(), fmt);
        let range = match (get(&c.min_allowed), get(&c.max_allowed)) {
            (Some(lo), Some(hi)) => format!(" ({}-{})", fmt(lo), fmt(hi)),
            (Some(lo), None) => format!(" (≥{})", fmt(lo)),
            (None, Some(hi)) => format!(" (≤{})", fmt(hi)),
            (None, None) => String::new(),
        };
        format!("{label} {target}{range}")
    };
    let containers: Vec<String> = v
        .containers
        .iter()
        .map(|c| {
            let name = if v.containers.len() > 1 {
                format!("{} ", c.name)
            } else {
                String::new()
            };
            format!(
                "{name}{} {}",
                part("cpu", |r| r.cpu_cores, cpu_quantity, c),
                part("mem", |r| r.memory_bytes, memory_quantity, c)
            )
        })
        .collect();
    if containers.is_empty() {
        return format!("VPA {}: no recommendation yet", v.update_mode);
    }
    format!("VPA {}: {}", v.update_mode, containers.join(" · "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::VpaContainer;

    fn res(cpu: Option<f64>, mem: Option<f64>) -> VpaResources {
        VpaResources {
            cpu_cores: cpu,
            memory_bytes: mem,
        }
    }

    #[test]
    fn a_vpa_reads_target_then_allowed_range_per_container() {
        let mib = 1024.0 * 1024.0;
        let mut v = Vpa {
            name: "v".into(),
            update_mode: "Off".into(),
            containers: vec![VpaContainer {
                name: "app".into(),
                target: res(Some(0.25), Some(512.0 * mib)),
                min_allowed: res(Some(0.1), None),
                max_allowed: res(None, Some(8192.0 * mib)),
                ..Default::default()
            }],
        };
        assert_eq!(
            vpa_summary(&v),
            "VPA Off: cpu 250m (≥100m) mem 512Mi (≤8Gi)"
        );
        v.containers.push(VpaContainer {
            name: "sidecar".into(),
            ..Default::default()
        });
        assert_eq!(
            vpa_summary(&v),
            "VPA Off: app cpu 250m (≥100m) mem 512Mi (≤8Gi) · sidecar cpu — mem —"
        );
        v.containers.clear();
        assert_eq!(vpa_summary(&v), "VPA Off: no recommendation yet");
    }
}
