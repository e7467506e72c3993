//! Scaling: deployments, their HPAs against targets, the seed's verdict, node pools.

use super::widgets::{empty_note, panel};
use super::{Theme, format, health_spans, source_error};
use crate::domain::grade::Grade;
use crate::domain::scaling::{self, Direction, Outlook, Signals, Verdict};
use crate::model::{Deployment, NodePool, SourceKind, Vpa, VpaResources};
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
    // The detail says which figure is which in words, so it keeps room for four lines
    // even at 80x24.
    let detail_h = if area.height >= 20 { 9 } else { 6 };
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
            let o = outlook_of(state, d);
            rules_w = rules_w.max(rules_cell(d, &o, theme).0.chars().count() as u16);
            row(d, &o, state, theme, wide)
        })
        .collect();
    let (mut header, mut widths) = columns(wide, rules_w);
    if state.several_contexts() {
        // Several contexts: which one each row is in, first (rows are grouped by it).
        let w = deployments.iter().map(|d| d.context.chars().count()).max();
        header.insert(0, "CONTEXT");
        widths.insert(0, Constraint::Length(w.unwrap_or(7).clamp(7, 16) as u16));
    }
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
                "HPA MOVE",
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
                Constraint::Length(10),
                Constraint::Length(10),
                Constraint::Length(rules_w.max(6)),
                Constraint::Length(16),
            ],
        )
    } else {
        (
            vec!["DEPLOYMENT", "READY", "HPA", "MOVE", "CPU", "MEM", "RULES"],
            vec![
                Constraint::Min(14),
                Constraint::Length(7),
                Constraint::Length(7),
                Constraint::Length(8),
                Constraint::Length(5),
                Constraint::Length(5),
                Constraint::Length(rules_w.max(5)),
            ],
        )
    }
}

fn draw_pools(frame: &mut Frame, area: Rect, pools: &[NodePool], theme: &Theme) {
    let w = pools
        .iter()
        .map(|p| p.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(16);
    let lines: Vec<Line> = pools
        .iter()
        .map(|p| {
            Line::from(vec![
                Span::styled(format!("{:<w$}", p.name), theme.text),
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

/// The one computation the row, the detail and help's words describe: the seed's rules
/// verdict and the HPA controller's move, from the same signals.
fn outlook_of(state: &State, d: &Deployment) -> Outlook {
    scaling::outlook(&state.signals(d), d.hpa.as_ref(), &state.config.rules)
}

/// The HPA's target for a metric with its unit: "70%".
fn target(d: &Deployment, name: &str) -> Option<String> {
    let m = d.hpa.as_ref()?.metrics.iter().find(|m| m.name == name)?;
    Some(format!("{:.0}{}", m.target, m.unit))
}

/// "65% / 70%": the figure the rules use, then the HPA's target, each with its unit.
fn against_target(value: Option<f64>, target: Option<String>) -> String {
    let v = value.map_or("—".into(), format::pct);
    match target {
        Some(t) => format!("{v} / {t}"),
        None => v,
    }
}

/// The RULES cell: the seed's verdict, or for a hibernated deployment (no pods, nothing
/// to judge) "zz hibernated (was 4)", in words so it reads without colour. The Overview's
/// table says the same.
fn rules_cell(d: &Deployment, o: &Outlook, theme: &Theme) -> (String, Style) {
    match &d.hibernated {
        Some(h) => (h.label(), theme.accent),
        None => (o.rules.label().to_string(), verdict_style(&o.rules, theme)),
    }
}

fn row<'a>(d: &Deployment, o: &Outlook, state: &State, theme: &Theme, wide: bool) -> Row<'a> {
    let s = state.signals(d);
    // Marks as well as colours, so NO_COLOR reads the same: `3/4 !` not all ready,
    // `2-20 ▲` an HPA at its maximum.
    let (ready_style, ready_mark) = if d.ready < d.replicas {
        (theme.warn, " !")
    } else {
        (theme.ok, "")
    };
    let (hpa, move_, at_max) = match (&d.hpa, &o.hpa) {
        (Some(h), Some(m)) => (
            format!("{}-{}", h.min, h.max),
            m.arrow(),
            h.current >= h.max,
        ),
        _ => ("none".into(), "—".into(), false),
    };
    let name = if wide {
        format!("{}/{}", d.namespace, d.name)
    } else {
        d.name.clone()
    };
    let mut cells = Vec::new();
    if state.several_contexts() {
        cells.push(Span::styled(d.context.clone(), theme.accent));
    }
    cells.extend([
        Span::styled(name, theme.text),
        Span::styled(
            format!("{}/{}{ready_mark}", d.ready, d.replicas),
            ready_style,
        ),
    ]);
    if wide {
        cells.push(Span::styled(d.updated.to_string(), theme.text));
        cells.push(Span::styled(d.available.to_string(), theme.text));
    }
    let bound = if at_max { theme.critical } else { theme.text };
    let hpa = if at_max { format!("{hpa} ▲") } else { hpa };
    cells.push(Span::styled(hpa, bound));
    cells.push(Span::styled(move_, bound));
    if wide {
        cells.push(Span::styled(
            against_target(s.cpu_pct, target(d, "cpu")),
            theme.text,
        ));
        cells.push(Span::styled(
            against_target(s.memory_pct, target(d, "memory")),
            theme.text,
        ));
    } else {
        cells.push(Span::styled(against_target(s.cpu_pct, None), theme.text));
        cells.push(Span::styled(against_target(s.memory_pct, None), theme.text));
    }
    let (rules, style) = rules_cell(d, o, theme);
    cells.push(Span::styled(rules, style));
    if wide {
        cells.push(Span::styled(d.pool.clone(), theme.muted));
    }
    Row::new(cells)
}

/// The selected deployment in words, each figure once and named for what it is:
/// ```text
/// seed rules: hold — cpu 41% ≥ 30%, memory 49% ≥ 40%
/// HPA controller: scale up 3 → 5 (its last decision) · min 2, max 20 · targets cpu 70%, memory 80%
/// rules and HPA differ: the HPA steers toward its targets (cpu 70%) from its last reading; ...
/// cpu and memory: % of the pods' requests, from Prometheus
/// VPA Auto: cpu 3.5 (1-8) mem 14Gi (4Gi-32Gi) · conflicts with the HPA's cpu/memory %
/// behaviour: ...
/// s: the HPA owns replicas, scaling edits its minReplicas
/// ```
fn draw_detail(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(d) = state.selected_deployment() else {
        frame.render_widget(
            empty_note("no deployment matches the filter".into(), theme.muted)
                .block(panel("Detail", None, theme)),
            area,
        );
        return;
    };
    let o = outlook_of(state, d);
    let v = &o.rules;
    let (rules, style) = rules_cell(d, &o, theme);
    let reasons = match &d.hibernated {
        Some(_) => "no pods to judge while it sleeps".to_string(),
        None => v.reasons.join(", "),
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("seed rules: {rules}"), style),
        Span::styled(format!(" — {reasons}"), theme.text),
    ])];
    if let (Some(h), Some(m)) = (&d.hpa, &o.hpa) {
        let when = if m.predicted {
            ""
        } else {
            " (its last decision)"
        };
        // CPU and memory readings are in the table; any other metric shows its reading
        // beside its target, "unknown" when the HPA has none.
        let targets: Vec<String> = h
            .metrics
            .iter()
            .map(|m| {
                if m.unit == "%" && matches!(m.name.as_str(), "cpu" | "memory") {
                    format!("{} {:.0}{}", m.name, m.target, m.unit)
                } else {
                    let now = m.current.map_or("unknown".into(), |v| format!("{v:.0}"));
                    format!("{} {now}/{:.0}{}", m.name, m.target, m.unit)
                }
            })
            .collect();
        lines.push(Line::from(Span::styled(
            format!(
                "HPA controller: {}{when} · min {}, max {} · targets {}",
                m.words(),
                h.min,
                h.max,
                targets.join(", ")
            ),
            theme.text,
        )));
    }
    let cpu_target = d
        .hpa
        .as_ref()
        .and_then(|h| h.metrics.iter().find(|m| m.name == "cpu" && m.unit == "%"))
        .map(|m| m.target);
    if let Some(why) = o.why_they_differ(&state.config.rules, cpu_target) {
        lines.push(Line::from(Span::styled(why, theme.warn)));
    }
    lines.push(Line::from(Span::styled(
        basis(&state.signals(d)),
        theme.muted,
    )));
    lines.extend(vpa_line(d, theme));
    if let Some(h) = d.hpa.as_ref().filter(|h| !h.behavior.is_empty()) {
        lines.push(Line::from(Span::styled(
            format!("behaviour: {}", h.behavior),
            theme.muted,
        )));
    }
    lines.extend(hibernation_line(d, state, theme));
    let hint = match (state.read_only, &d.hpa) {
        (true, _) => "read-only: scaling is off (--read-only)".to_string(),
        (false, Some(_)) => {
            "s: the HPA owns replicas, scaling edits its minReplicas".to_string()
                + &hibernate_hint(d, state)
        }
        (false, None) => {
            "no HPA: s patches replicas directly".to_string() + &hibernate_hint(d, state)
        }
    };
    lines.push(Line::from(Span::styled(hint, theme.muted)));
    let title = format!("{}/{}", d.namespace, d.name);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(ratatui::widgets::Wrap { trim: true })
            .block(panel(&title, None, theme)),
        area,
    );
}

/// "hibernated by alice at 2026-…: saves $0.76/h", for a hibernated deployment (the first
/// line already says "zz hibernated (was 4)").
fn hibernation_line(d: &Deployment, state: &State, theme: &Theme) -> Option<Line<'static>> {
    let h = d.hibernated.as_ref()?;
    let by =
        h.by.as_deref()
            .map(|b| format!(" by {b}"))
            .unwrap_or_default();
    let at =
        h.at.as_deref()
            .map(|a| format!(" at {a}"))
            .unwrap_or_default();
    let saves = match state.hibernation_savings(d) {
        Some(Ok(v)) => format!(
            ", saves {}/h ·",
            format::money(v, state.config.cost.currency.as_str())
        ),
        Some(Err(m)) => format!(", saving unknown ({m}) ·"),
        None => String::new(),
    };
    Some(Line::from(Span::styled(
        format!("hibernated{saves}{by}{at}"),
        theme.accent,
    )))
}

/// What `z` does to this deployment, after the `s` hint.
fn hibernate_hint(d: &Deployment, state: &State) -> String {
    if d.hibernated.is_some() {
        return " · z: wake it".into();
    }
    match state
        .config
        .actions
        .never_hibernate_match(&d.namespace, &d.name)
    {
        Some(g) => format!(" · z: never hibernated ({g:?})"),
        None => " · z: hibernate".into(),
    }
}

/// Where cpu and memory come from: "% of the pods' requests, from Prometheus", or the
/// HPA's status for what Prometheus does not give.
fn basis(s: &Signals) -> String {
    let source = |hpa: bool| {
        if hpa {
            "the HPA's status"
        } else {
            "Prometheus"
        }
    };
    if s.from_hpa.cpu == s.from_hpa.memory {
        format!(
            "cpu and memory: % of the pods' requests, from {}",
            source(s.from_hpa.cpu)
        )
    } else {
        format!(
            "cpu and memory: % of the pods' requests; cpu from {}, memory from {}",
            source(s.from_hpa.cpu),
            source(s.from_hpa.memory)
        )
    }
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
                c: &crate::model::VpaContainer| {
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
    use crate::model::VpaContainer;

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
