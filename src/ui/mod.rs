//! Drawing: a pure function of `&State` and `&Theme`.
//!
//! ```text
//! ┌─────────────────────────────────────────────────────────────────────────┐
//! │ opsdeck  1 overview 2 scaling 3 cache 4 latency 5 cost 6 logs   ctx demo│ header
//! │ banner (no config found: how to configure)                             │ optional
//! │                                                                         │
//! │ the view                                                                │ body
//! │                                                                         │
//! │ ● prometheus 1s ● redis 1s ● kubernetes 1s │ READ-ONLY │ notice  ? help │ status
//! └─────────────────────────────────────────────────────────────────────────┘
//! ```
//! Help and dialogs are drawn over the body; `:` and `/` take the status line.

mod cache;
mod cost;
mod dialog;
pub mod fit;
pub mod format;
mod help;
mod latency;
mod logs;
mod overview;
mod scaling;
mod suggestions;
mod tenants;
pub mod theme;
mod wall;
mod widgets;

use crate::model::SourceKind;
use crate::state::{Mode, State, Status, View};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
pub use theme::Theme;

pub use crate::state::{MIN_HEIGHT, MIN_WIDTH};

pub fn draw(frame: &mut Frame, state: &State, theme: &Theme) {
    let area = frame.area();
    // The theme's background (and text colour) under everything: a light theme on a dark
    // terminal must not leave a single cell on the terminal's own colours.
    frame.render_widget(ratatui::widgets::Block::default().style(theme.base()), area);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let note = format!(
            "opsdeck needs {MIN_WIDTH}x{MIN_HEIGHT}, this is {}x{}",
            area.width, area.height
        );
        frame.render_widget(
            Paragraph::new(note)
                .style(theme.warn)
                .wrap(Default::default()),
            area,
        );
        return;
    }
    let banner_h = u16::from(state.banner.is_some());
    let [header, banner, body, status, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(banner_h),
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(frame, header, state, theme);
    if let Some(text) = &state.banner {
        frame.render_widget(Paragraph::new(text.as_str()).style(theme.warn), banner);
    }
    // The wall puts its large figures above whichever view the cycle shows.
    let body = if state.wall {
        wall::draw_top(frame, body, state, theme)
    } else {
        body
    };
    match state.view {
        View::Overview => overview::draw(frame, body, state, theme),
        View::Scaling => scaling::draw(frame, body, state, theme),
        View::Cache => cache::draw(frame, body, state, theme),
        View::Latency => latency::draw(frame, body, state, theme),
        View::Cost => cost::draw(frame, body, state, theme),
        View::Logs => logs::draw(frame, body, state, theme),
    }
    match &state.mode {
        Mode::Help => help::draw(frame, body, state, theme),
        Mode::Dialog(d) => dialog::draw(frame, body, d, state, theme),
        Mode::ConfirmQuit => dialog::draw_confirm_quit(frame, body, state, theme),
        _ => {}
    }
    draw_status(frame, status, state, theme);
    draw_hints(frame, hints, state, theme);
}

/// The keys that act in this view, from the keymap table, and `? help` always at the right.
fn draw_hints(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let help = " ? help ";
    let room = (area.width as usize).saturating_sub(help.len());
    let mut spans = Vec::new();
    let mut used = 0;
    for (keys, what) in state.keymap.hints(state.view, state.read_only) {
        let w = keys.chars().count() + what.chars().count() + 3;
        if used + w > room {
            break;
        }
        spans.push(Span::styled(format!(" {keys}"), theme.accent));
        spans.push(Span::styled(format!(" {what} "), theme.muted));
        used += w;
    }
    spans.push(Span::raw(" ".repeat(room - used)));
    spans.push(Span::styled(help, theme.accent));
    frame.render_widget(Line::from(spans), area);
}

/// ` opsdeck  1 overview  2 scaling …  DEMO`. The badge on the right (DEMO, or the kube
/// context) always shows: when the width is short, the other views lose their names
/// first (` 1 overview  2  3  4  5  6 `), then the title, then a long context is cut.
fn draw_header(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let context = state
        .cluster
        .value
        .as_ref()
        .map(|c| c.context.clone())
        .or_else(|| {
            state
                .config
                .kubernetes
                .as_ref()
                .and_then(|k| k.context.clone())
        })
        .unwrap_or_default();
    let badge = match (state.demo, context.is_empty()) {
        (true, _) => " DEMO ".to_string(),
        (false, true) => String::new(),
        (false, false) => format!(" ctx {context} "),
    };
    let width = area.width as usize;
    let tabs = |named_all: bool| -> Vec<Span<'static>> {
        View::ALL
            .into_iter()
            .map(|v| {
                let current = v == state.view;
                let text = if current || named_all {
                    format!(" {} {} ", v.index() + 1, v.name())
                } else {
                    format!(" {} ", v.index() + 1)
                };
                Span::styled(
                    text,
                    if current {
                        theme.selection
                    } else {
                        theme.muted
                    },
                )
            })
            .collect()
    };
    let title = if state.wall {
        Span::styled(" opsdeck wall · read-only ", theme.title)
    } else {
        Span::styled(" opsdeck ", theme.title)
    };
    let fits = |spans: &[Span]| {
        spans.iter().map(Span::width).sum::<usize>() + badge.chars().count() <= width
    };
    let full: Vec<Span> = std::iter::once(title.clone()).chain(tabs(true)).collect();
    let short: Vec<Span> = std::iter::once(title).chain(tabs(false)).collect();
    let mut spans = if fits(&full) {
        full
    } else if fits(&short) {
        short
    } else {
        tabs(false)
    };
    let left_w: usize = spans.iter().map(Span::width).sum();
    let room = width.saturating_sub(left_w);
    let badge: String = if badge.chars().count() > room {
        let cut: String = badge.chars().take(room.saturating_sub(2)).collect();
        format!("{cut}… ")
    } else {
        badge
    };
    let pad = room.saturating_sub(badge.chars().count());
    spans.push(Span::raw(" ".repeat(pad)));
    spans.push(Span::styled(badge, theme.accent));
    frame.render_widget(Line::from(spans), area);
}

/// "● redis 2s", "✖ prometheus timeout"... as spans, coloured by health.
pub fn health_spans(state: &State, kind: SourceKind, theme: &Theme) -> Vec<Span<'static>> {
    health_spans_of(kind.name(), &state.health(kind), theme)
}

/// "● k8s prod-eu 0s": one span pair per watched context when several are.
fn context_health_spans(state: &State, theme: &Theme) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    for (i, (name, h)) in state.context_health().into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw("  "));
        }
        spans.extend(health_spans_of(&format!("k8s {name}"), &h, theme));
    }
    spans
}

fn health_spans_of(label: &str, h: &crate::state::Health, theme: &Theme) -> Vec<Span<'static>> {
    let (status, age) = (h.status, h.age_s);
    let (mark, style, text) = match status {
        Status::Ok => ("●", theme.ok, age.map(format::age).unwrap_or_default()),
        Status::Waiting => ("◌", theme.muted, "waiting".into()),
        Status::Stale => (
            "◐",
            theme.warn,
            format!("stale {}", age.map(format::age).unwrap_or_default()),
        ),
        Status::Error => (
            "✖",
            theme.critical,
            match age {
                Some(a) => format!("error, last ok {} ago", format::age(a)),
                None => "error".into(),
            },
        ),
        Status::Disabled => ("○", theme.muted, "off".into()),
    };
    vec![
        Span::styled(format!("{mark} "), style),
        Span::styled(format!("{label} {text}"), style),
    ]
}

/// The error a source last reported, for panels to show instead of empty space.
pub fn source_error(state: &State, kind: SourceKind) -> Option<String> {
    state
        .health(kind)
        .error
        .map(|(msg, _)| redacted(state, msg))
}

/// A message as it may be shown: URLs without userinfo, no secret of the config. Sources
/// already redact their errors; this is the last line before the screen.
pub fn redacted(state: &State, text: &str) -> String {
    crate::config::redact::redact_text(text, &state.config.secrets())
}

fn draw_status(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let line = match &state.mode {
        Mode::Command(text) => Line::from(vec![
            Span::styled(":", theme.accent),
            Span::raw(text.clone()),
            Span::styled("█", theme.muted),
        ]),
        Mode::Filter(text) => Line::from(vec![
            Span::styled("/", theme.accent),
            Span::raw(text.clone()),
            Span::styled("█", theme.muted),
        ]),
        _ => status_line(state, theme),
    };
    frame.render_widget(line, area);
}

/// `warmup ████░░░░ 4000/20000 8000 keys/s ETA 2s (Esc cancels)`
fn progress_text(r: &crate::state::RunningAction) -> String {
    let (bar, total, eta) = match r.total {
        Some(t) if t > 0 => {
            let eta = if r.per_sec > 0.0 && t > r.done {
                format!(
                    " ETA {}",
                    format::age(((t - r.done) as f64 / r.per_sec).ceil() as i64)
                )
            } else {
                String::new()
            };
            (
                format!("{} ", widgets::bar(r.done as f64 / t as f64, 10)),
                format!("/{t}"),
                eta,
            )
        }
        _ => (String::new(), String::new(), String::new()),
    };
    format!(
        "{} {bar}{}{total} {:.0} keys/s{eta} (Esc cancels)",
        r.kind.name(),
        r.done,
        r.per_sec
    )
}

fn status_line(state: &State, theme: &Theme) -> Line<'static> {
    let sep = || Span::styled(" │ ", theme.border);
    let mut spans = Vec::new();
    for (i, kind) in SourceKind::ALL.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw("  "));
        }
        if kind == SourceKind::Kubernetes && state.several_contexts() {
            spans.extend(context_health_spans(state, theme));
        } else {
            spans.extend(health_spans(state, kind, theme));
        }
    }
    if state.read_only {
        spans.push(sep());
        spans.push(Span::styled("READ-ONLY", theme.warn));
    }
    if !state.filter.is_empty() {
        spans.push(sep());
        spans.push(Span::styled(format!("/{}", state.filter), theme.accent));
    }
    let message: Option<(String, Style)> = if let Some(r) = &state.running {
        Some((progress_text(r), theme.accent))
    } else if let Some(n) = &state.notice {
        Some((n.clone(), theme.warn))
    } else {
        state.last_outcome.as_ref().map(|o| match o {
            Ok(s) => (s.clone(), theme.ok),
            Err(e) => (e.clone(), theme.critical),
        })
    };
    if let Some((text, style)) = message {
        spans.push(sep());
        // A message carries its time: "it looks as if it happened" needs "when".
        if let (None, Some(at)) = (&state.running, state.message_at) {
            let local = at.with_timezone(&chrono::Local).format("%H:%M:%S ");
            spans.push(Span::styled(local.to_string(), theme.muted));
        }
        spans.push(Span::styled(redacted(state, &text), style));
    }
    Line::from(spans)
}
