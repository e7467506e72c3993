//! The warmup, invalidate, scale and hibernate dialogs: what will happen, then Cancel / Confirm.

use super::widgets::panel;
use super::{Theme, format};
use crate::config::redact::redact_url;
use crate::state::dialog::Preview;
use crate::state::{Dialog, DialogKind, Focus, State};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

pub fn draw(frame: &mut Frame, area: Rect, d: &Dialog, state: &State, theme: &Theme) {
    let mut lines = match &d.kind {
        DialogKind::Warmup { file } => warmup_lines(d, file, state, theme),
        DialogKind::Invalidate { .. } => invalidate_lines(d, state, theme),
        DialogKind::Scale { .. } => scale_lines(d, state, theme),
        DialogKind::Hibernate { .. } => hibernate_lines(d, state, theme),
    };
    // Several contexts watched: the one this acts on, first.
    if let Some(c) = &d.context {
        let text = format!("in context {c}");
        lines.insert(0, Line::from(Span::styled(text, theme.accent)));
    }
    if let Some(name) = &d.require_typed {
        lines.push(field(
            theme,
            &format!("type {name:?} to confirm"),
            &d.typed,
            d.focus == Focus::Typed,
        ));
    }
    if let Some(e) = &d.error {
        lines.push(Line::from(Span::styled(e.clone(), theme.critical)));
    }
    lines.push(Line::from(""));
    let button = |label: &str, f: Focus, style: Style| {
        if d.focus == f {
            Span::styled(format!("[ {label} ]"), theme.selection)
        } else {
            Span::styled(format!("  {label}  "), style)
        }
    };
    let confirm = match d.kind {
        DialogKind::Warmup { .. } => "Warm up",
        DialogKind::Invalidate { .. } => "Invalidate",
        DialogKind::Scale { .. } => "Scale",
        DialogKind::Hibernate { wake: false, .. } => "Hibernate",
        DialogKind::Hibernate { wake: true, .. } => "Wake",
    };
    lines.push(Line::from(vec![
        button("Cancel", Focus::Cancel, theme.text),
        Span::raw("   "),
        button(confirm, Focus::Confirm, theme.warn),
    ]));
    lines.push(Line::from(Span::styled(
        "Tab moves · Enter chooses · Esc cancels",
        theme.muted,
    )));

    let popup = super::widgets::centered(area, 64, lines.len() as u16 + 4);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(panel(d.title(), None, theme)),
        popup,
    );
}

/// `label: value█`, the value in reverse video while it has the focus.
fn field(theme: &Theme, label: &str, value: &str, focused: bool) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{label}: "), theme.muted),
        Span::styled(
            format!("{value}{}", if focused { "█" } else { "" }),
            if focused { theme.selection } else { theme.text },
        ),
    ])
}

/// The file, the key scheme, and where the entries go.
fn warmup_lines(d: &Dialog, file: &str, state: &State, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    lines.push(Line::from(Span::styled(
        "Write answers from a JSONL file into the cache.",
        theme.text,
    )));
    lines.push(field(theme, "file", file, d.focus == Focus::Input));
    let c = &state.config.cache;
    lines.push(Line::from(Span::styled(
        format!(
            "kb_version {} · TTL {} · keys answer:<md5>",
            c.kb_version,
            format::age(c.answer_ttl_s as i64)
        ),
        theme.muted,
    )));
    if !state.demo {
        let http = state
            .config
            .actions
            .warmup
            .http_url
            .as_deref()
            .filter(|u| !u.is_empty());
        let to = match (http, &state.config.redis) {
            (Some(url), _) => format!("to: POST {}", redact_url(url)),
            (None, Some(r)) => format!(
                "to: Redis {}",
                r.url.as_deref().map(redact_url).unwrap_or_else(|| {
                    let urls: Vec<String> = r.urls.iter().map(|u| redact_url(u)).collect();
                    urls.join(", ")
                })
            ),
            (None, None) => "to: nowhere — configure [redis] or [actions.warmup] http_url".into(),
        };
        lines.push(Line::from(Span::styled(to, theme.accent)));
    }
    lines
}

/// The group (↑/↓), the user id for groups keyed by user, and the SCAN preview.
fn invalidate_lines(d: &Dialog, state: &State, theme: &Theme) -> Vec<Line<'static>> {
    let DialogKind::Invalidate {
        group,
        user_id,
        estimate,
        preview,
        ..
    } = &d.kind
    else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    let groups = &state.config.actions.invalidate.groups;
    if let Some(g) = groups.get(*group) {
        lines.push(Line::from(vec![
            Span::styled("group (↑/↓): ", theme.muted),
            Span::styled(g.name.clone(), theme.accent),
            Span::styled(format!("  {}", g.patterns.join(" ")), theme.text),
        ]));
        if g.patterns.iter().any(|p| p.contains("{user_id}")) {
            lines.push(field(theme, "user id", user_id, d.focus == Focus::Input));
        }
    }
    match preview {
        Preview::Counting => lines.push(Line::from(Span::styled(
            "counting matching keys (SCAN)…",
            theme.muted,
        ))),
        Preview::Failed(e) => lines.push(Line::from(Span::styled(
            format!("preview failed: {e}"),
            theme.critical,
        ))),
        Preview::Counted { count, samples } => {
            lines.push(Line::from(Span::styled(
                format!("{count} keys match, e.g.:"),
                theme.warn,
            )));
            for k in samples.iter().take(3) {
                lines.push(Line::from(Span::styled(format!("  {k}"), theme.muted)));
            }
        }
        Preview::None => {}
    }
    lines.push(Line::from(Span::styled(
        match estimate {
            Some(n) => format!(
                "deletes ≈{} keys (SCAN + UNLINK, throttled, Esc cancels)",
                format::count(*n as f64)
            ),
            None => "deletes the matching keys (SCAN + UNLINK, throttled, Esc cancels)".into(),
        },
        theme.warn,
    )));
    lines
}

/// The replicas now, who owns them, the number asked for, and the plan's cost or why not.
fn scale_lines(d: &Dialog, state: &State, theme: &Theme) -> Vec<Line<'static>> {
    let DialogKind::Scale {
        namespace,
        name,
        seen,
        input,
        changed,
    } = &d.kind
    else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    let replicas = &seen.replicas;
    lines.push(Line::from(Span::styled(
        format!("{namespace}/{name}: {replicas} replicas now"),
        theme.text,
    )));
    if let Some(c) = changed {
        lines.push(Line::from(Span::styled(c.clone(), theme.warn)));
    }
    match &seen.hpa {
        Some(h) => {
            lines.push(Line::from(Span::styled(
                format!(
                    "HPA {} owns replicas (min {}, max {}): this sets its minReplicas",
                    h.name, h.min, h.max
                ),
                theme.warn,
            )));
            lines.push(field(
                theme,
                "new minReplicas",
                input,
                d.focus == Focus::Input,
            ));
        }
        None => lines.push(field(theme, "replicas", input, d.focus == Focus::Input)),
    }
    match d.scale_plan(state.config.actions.max_replicas) {
        Ok(plan) => {
            let to = plan.replicas_after();
            lines.push(scale_cost_line(
                state, namespace, name, *replicas, to, theme,
            ));
        }
        Err(e) if !input.is_empty() => lines.push(Line::from(Span::styled(e, theme.critical))),
        Err(_) => {}
    }
    lines
}

/// What hibernating or waking does, the HPA's part, and the cost change:
/// ```text
/// cs-prod/kb-indexer: 2 replicas now
/// to 0 replicas; 2 is recorded in opsdeck.io/hibernated-replicas on the Deployment
/// HPA kb-indexer-hpa (min 2, max 20) is left as it is: it stops acting while ...
/// -2 pods × $0.19/h = -$0.38/h
/// ```
fn hibernate_lines(d: &Dialog, state: &State, theme: &Theme) -> Vec<Line<'static>> {
    let DialogKind::Hibernate {
        namespace,
        name,
        wake,
        seen,
        changed,
    } = &d.kind
    else {
        return Vec::new();
    };
    let mut lines = vec![Line::from(Span::styled(
        format!("{namespace}/{name}: {} replicas now", seen.replicas),
        theme.text,
    ))];
    if let Some(c) = changed {
        lines.push(Line::from(Span::styled(c.clone(), theme.warn)));
    }
    if let Some(h) = &seen.hibernated {
        let by =
            h.by.as_deref()
                .map(|b| format!(" by {b}"))
                .unwrap_or_default();
        let at =
            h.at.as_deref()
                .map(|a| format!(" at {a}"))
                .unwrap_or_default();
        lines.push(Line::from(Span::styled(
            format!("{}{by}{at}", h.label()),
            theme.muted,
        )));
    }
    match d.hibernate_plan(&state.config) {
        Ok(plan) => {
            let what = match wake {
                true => format!(
                    "back to {} replicas as recorded; the annotation is removed",
                    plan.to
                ),
                false => format!(
                    "to 0 replicas; {} is recorded in {} on the Deployment, so any console or kubectl can wake it",
                    plan.from,
                    crate::model::REPLICAS_ANNOTATION
                ),
            };
            lines.push(Line::from(Span::styled(what, theme.text)));
            if let Some(n) = &plan.note {
                lines.push(Line::from(Span::styled(n.clone(), theme.warn)));
            }
            lines.push(scale_cost_line(
                state, namespace, name, plan.from, plan.to, theme,
            ));
        }
        Err(e) => lines.push(Line::from(Span::styled(e, theme.critical))),
    }
    lines
}

/// "+2 pods × $0.05/h = +$0.10/h": the cost model's price of one pod of this deployment
/// and what the change costs, so the figure shows its basis. An HPA min change moves the
/// replicas to max(new min, current), so its delta is never negative.
fn scale_cost_line(
    state: &State,
    namespace: &str,
    name: &str,
    from: u32,
    to: u32,
    theme: &Theme,
) -> Line<'static> {
    let cur = state.config.cost.currency.as_str();
    let delta = to as i64 - from as i64;
    let pods = if delta.abs() == 1 { "pod" } else { "pods" };
    let d = state
        .cluster
        .value
        .iter()
        .flat_map(|c| c.deployments.iter())
        .find(|d| d.namespace == namespace && d.name == name);
    let price = d.map(|d| {
        crate::domain::cost::pod_price(d, &state.config.cost, &state.cost_inputs.node_prices)
    });
    let text = match price {
        Some(Ok(p)) if delta == 0 => format!(
            "no change in pods: cost unchanged ({}/h a pod)",
            format::money(p.per_hour, cur)
        ),
        Some(Ok(p)) => {
            let total = delta as f64 * p.per_hour;
            format!(
                "{delta:+} {pods} × {}/h = {}{}/h",
                format::money(p.per_hour, cur),
                if total < 0.0 { "" } else { "+" },
                format::money(total, cur)
            )
        }
        Some(Err(missing)) => format!("{delta:+} {pods}, cost unknown: {missing}"),
        None => {
            format!("{delta:+} {pods}, cost unknown: {namespace}/{name} is no longer reported")
        }
    };
    Line::from(Span::styled(text, theme.accent))
}

/// "An action is running: cancel it and quit?" — y quits, any other key goes back.
pub fn draw_confirm_quit(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let what = state
        .running
        .as_ref()
        .map_or("an action", |r| r.kind.name());
    let lines = vec![
        Line::from(Span::styled(
            format!("The {what} is still running."),
            theme.warn,
        )),
        Line::from(Span::styled(
            "Cancel it and quit? It stops after its current batch and its audit line is written.",
            theme.text,
        )),
        Line::from(""),
        Line::from(Span::styled(
            "y: cancel and quit · any other key: keep going",
            theme.accent,
        )),
    ];
    let popup = super::widgets::centered(area, 56, lines.len() as u16 + 4);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(panel("Quit?", None, theme)),
        popup,
    );
}
