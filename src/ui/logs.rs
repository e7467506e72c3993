//! Logs: the console's own tracing output (source errors, actions, reconnects).

use super::Theme;
use super::widgets::panel;
use ratatui::Frame;
use ratatui::layout::Rect;
use tui_logger::{TuiLoggerLevelOutput, TuiLoggerWidget};

pub fn draw(frame: &mut Frame, area: Rect, theme: &Theme) {
    let widget = TuiLoggerWidget::default()
        .block(panel("Logs", None, theme))
        .style(theme.text)
        .style_error(theme.critical)
        .style_warn(theme.warn)
        .style_info(theme.text)
        .style_debug(theme.muted)
        .style_trace(theme.muted)
        .output_level(Some(TuiLoggerLevelOutput::Abbreviated))
        .output_target(false)
        .output_file(false)
        .output_line(false)
        .output_timestamp(Some("%H:%M:%S".into()));
    frame.render_widget(widget, area);
}
