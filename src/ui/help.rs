//! Help: the keys, generated from the keymap so it always says what they do, then what the
//! Scaling words mean (the RULES column, its verdicts, the HPA's move, the cpu figures).
//!
//! ```text
//! ┌ Keys (any key closes) ──────────────────────────────────────────────┐
//! │ ?      help                       :      command line (commands...) │
//! │ ...    (two columns where both fit, one where an entry is long)     │
//! │ :view NAME  :theme NAME  :filter TEXT  :help  :q                    │
//! │                                                                     │
//! │ RULES  the seed's scaling rules on cpu, memory, queue and p95:      │
//! │  up    any over cpu 70% · memory 80% · queue 100 · p95 1000ms       │
//! │ ...                                                                 │
//! └─────────────────────────────────────────────────────────────────────┘
//! ```

use super::Theme;
use super::widgets::panel;
use crate::state::State;
use crate::state::keymap::COMMANDS;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

/// The popup's width where the screen allows: two key columns and the words unwrapped.
const WIDTH: u16 = 78;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let width = WIDTH.min(area.width.saturating_sub(2));
    let inner = width.saturating_sub(2) as usize;
    let mut lines = key_lines(state, inner, theme);
    lines.push(Line::from(""));
    lines.extend(scaling_words(state, theme));
    let popup = super::widgets::centered(area, width, lines.len() as u16 + 2);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(panel("Keys (any key closes)", None, theme)),
        popup,
    );
}

/// The bindings two to a row where both fit in half the width, a long one on its own row;
/// then the `:` commands and, read-only, what is off.
fn key_lines(state: &State, inner: usize, theme: &Theme) -> Vec<Line<'static>> {
    let col = inner.saturating_sub(1) / 2;
    let entries: Vec<(String, &str)> = state
        .keymap
        .visible(state.read_only)
        .map(|b| (format!(" {:<7}", b.keys), b.binding.help))
        .collect();
    let fits = |(k, h): &(String, &str)| k.chars().count() + h.chars().count() <= col;
    let entry = |(k, h): &(String, &str), pad: usize| {
        let used = k.chars().count() + h.chars().count();
        vec![
            Span::styled(k.clone(), theme.accent),
            Span::styled(
                format!("{h}{}", " ".repeat(pad.saturating_sub(used))),
                theme.text,
            ),
        ]
    };
    // Short entries pair up in keymap order; a long one takes its own row where it comes,
    // and the short one waiting for a partner pairs with the next short one.
    let mut lines = Vec::new();
    let mut waiting: Option<&(String, &str)> = None;
    for e in &entries {
        if !fits(e) {
            lines.push(Line::from(entry(e, 0)));
            continue;
        }
        match waiting.take() {
            Some(left) => {
                let mut spans = entry(left, col + 1);
                spans.extend(entry(e, 0));
                lines.push(Line::from(spans));
            }
            None => waiting = Some(e),
        }
    }
    if let Some(left) = waiting {
        lines.push(Line::from(entry(left, 0)));
    }
    let commands: Vec<&str> = COMMANDS.iter().map(|c| c.usage).collect();
    lines.push(Line::from(Span::styled(
        format!(" {}", commands.join("  ")),
        theme.muted,
    )));
    if state.read_only {
        lines.push(Line::from(Span::styled(
            " read-only: scale, warmup and invalidate are off",
            theme.warn,
        )));
    }
    lines
}

/// What the Scaling table's words mean, with the thresholds from `[rules]`.
fn scaling_words(state: &State, theme: &Theme) -> Vec<Line<'static>> {
    let r = &state.config.rules;
    let term = |t: &str, what: String| {
        Line::from(vec![
            Span::styled(format!(" {t:<9}"), theme.accent),
            Span::styled(what, theme.text),
        ])
    };
    vec![
        term(
            "RULES",
            "the seed's scaling rules on cpu, memory, queue and p95:".into(),
        ),
        term(
            " up",
            format!(
                "any over cpu {:.0}% · memory {:.0}% · queue {:.0} · p95 {:.0}ms",
                r.cpu_up, r.mem_up, r.queue_up, r.p95_up_ms
            ),
        ),
        term(
            " down",
            format!(
                "all under cpu {:.0}% · memory {:.0}% · queue {:.0}",
                r.cpu_down, r.mem_down, r.queue_down
            ),
        ),
        term(
            " hold",
            "neither · ? a figure unknown · (at max)/(at min) the HPA's bound".into(),
        ),
        term(
            "HPA MOVE",
            "the HPA controller's own move, now → next; it aims at its".into(),
        ),
        term("", "targets, so it can move while RULES holds".into()),
        term(
            "CPU/TGT",
            "% of the pods' requests (Prometheus, else HPA status) / HPA target".into(),
        ),
    ]
}
