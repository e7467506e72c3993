//! A history chart people read at a glance: a time axis (`-10m`, `-5m`, `now`), a value
//! axis with units, one line per series and the target and alert lines drawn across.
//!
//! ```text
//! ┌ Cache hit rate, last 10 min ─────────────────────┐
//! │  100%│                          target 80% ••••  │
//! │      │⠉⠒⠒⠤⣀⣀⠤⠤⠒⠉⠉⠉⠒⠒⠤⠤⣀⣀⣀⠤⠒⠒⠉     alert 70% ••••  │
//! │   80%│••••••••••••••••••••••••••••••••••••••••••  │
//! │   70%│••••••••••••••••••••••••••••••••••••••••••  │
//! │      └──────────────────────────────────────────  │
//! │      -10m              -5m                   now  │
//! └───────────────────────────────────────────────────┘
//! ```
//! Series draw in braille, the lines in dots: they stay apart without colour.

use super::panel;
use crate::state::Series;
use crate::ui::{Theme, fit};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType};

/// One plotted history.
pub struct Plot<'a> {
    pub name: String,
    pub series: &'a Series,
    pub color: Color,
}

/// A horizontal line at a value the rules name: a target, an alert, a budget.
pub struct Rule {
    pub name: String,
    pub value: f64,
    pub style: Style,
}

pub struct TimeChart<'a> {
    pub title: String,
    pub plots: Vec<Plot<'a>>,
    pub rules: Vec<Rule>,
    /// Formats a value with its unit, for the value axis.
    pub unit: Box<dyn Fn(f64) -> String + 'a>,
    /// The value axis never goes past these (a ratio stays in 0..1, a latency above 0).
    pub floor: Option<f64>,
    pub ceiling: Option<f64>,
}

impl TimeChart<'_> {
    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let block = panel(&self.title, None, theme)
            .title_bottom(self.legend(theme, area.width.saturating_sub(2) as usize));
        let (step, window) = self.window();
        let points: Vec<Vec<(f64, f64)>> = self
            .plots
            .iter()
            .map(|p| {
                let n = p.series.len();
                p.series
                    .points()
                    .enumerate()
                    .map(|(i, v)| (-(((n - 1 - i) as i64 * step) as f64), v))
                    .collect()
            })
            .collect();
        let (lo, hi) = self.value_range();
        let rule_points: Vec<[(f64, f64); 2]> = self
            .rules
            .iter()
            .map(|r| [(-(window as f64), r.value), (0.0, r.value)])
            .collect();
        let mut datasets: Vec<Dataset> = self
            .plots
            .iter()
            .zip(&points)
            .map(|(p, pts)| {
                Dataset::default()
                    .name(p.name.clone())
                    .marker(Marker::Braille)
                    .graph_type(GraphType::Line)
                    .style(Style::default().fg(p.color))
                    .data(pts)
            })
            .collect();
        datasets.extend(self.rules.iter().zip(&rule_points).map(|(r, pts)| {
            Dataset::default()
                .name(r.name.clone())
                .marker(Marker::Dot)
                .graph_type(GraphType::Line)
                .style(r.style)
                .data(pts)
        }));
        let muted = |t: String| Span::styled(t, theme.muted);
        let chart = Chart::new(datasets)
            .block(block)
            .style(theme.base())
            .legend_position(None)
            .x_axis(
                Axis::default()
                    .bounds([-(window as f64), 0.0])
                    .style(theme.border)
                    .labels(vec![
                        muted(ago(window)),
                        muted(ago(window / 2)),
                        muted("now".into()),
                    ]),
            )
            .y_axis(
                Axis::default()
                    .bounds([lo, hi])
                    .style(theme.border)
                    .labels(vec![
                        muted((self.unit)(lo)),
                        muted((self.unit)((lo + hi) / 2.0)),
                        muted((self.unit)(hi)),
                    ]),
            );
        frame.render_widget(chart, area);
    }

    /// The legend on the panel's bottom edge: `•• target 1000ms ⣿ chat-api ⣿ retrieval`,
    /// each in its line's style; the rules first, then the series, as many as fit whole.
    fn legend(&self, theme: &Theme, width: usize) -> Line<'static> {
        let mut pieces = vec![fit::label(" ", theme.muted)];
        for r in &self.rules {
            pieces.push(fit::figure("•• ", r.style));
            pieces.push(fit::figure(format!("{} ", r.name), theme.muted));
        }
        // One series is named by the title: the room goes to the lines.
        let named = if self.plots.len() > 1 {
            &self.plots[..]
        } else {
            &[]
        };
        for p in named {
            pieces.push(fit::figure("⣿ ", Style::default().fg(p.color)));
            pieces.push(fit::figure(format!("{} ", p.name), theme.muted));
        }
        if pieces.len() == 1 {
            return Line::default();
        }
        fit::line(pieces, width)
    }

    /// Seconds per point, and the seconds the time axis spans (the history's capacity).
    fn window(&self) -> (i64, i64) {
        let s = self.plots.first().map(|p| p.series);
        let step = s.map_or(crate::state::HISTORY_STEP_S, Series::step_s);
        let cap = s.map_or(crate::state::HISTORY_POINTS, Series::capacity);
        (step, step * cap as i64)
    }

    /// The value axis: every point and every rule inside, with a little room around.
    fn value_range(&self) -> (f64, f64) {
        let values = self
            .plots
            .iter()
            .flat_map(|p| p.series.points())
            .chain(self.rules.iter().map(|r| r.value))
            .filter(|v| v.is_finite());
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        if !lo.is_finite() {
            return (self.floor.unwrap_or(0.0), self.ceiling.unwrap_or(1.0));
        }
        let pad = if hi > lo {
            (hi - lo) * 0.1
        } else {
            (hi.abs() * 0.1).max(1e-9)
        };
        let lo = self.floor.map_or(lo - pad, |f| (lo - pad).max(f));
        let hi = self.ceiling.map_or(hi + pad, |c| (hi + pad).min(c));
        (lo, hi)
    }
}

/// `-10m`, `-5m`, `-30s`: how long ago a place on the time axis is.
fn ago(secs: i64) -> String {
    if secs >= 120 {
        format!("-{}m", secs / 60)
    } else {
        format!("-{secs}s")
    }
}
