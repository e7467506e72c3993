//! The console's tracing events, captured for the Logs view.
//!
//! Any task may log (a source losing its backend, an action ending); only the App loop
//! may change the `State`. So the layer only queues each line here, and the loop moves
//! them into `State` (`Msg::Log`) before it draws: the Logs view stays a pure drawing of
//! `&State`, filterable like the other views.
//!
//! Only opsdeck's own events at info and above are kept. They are written in words;
//! dependencies' events are left out because they log their own types with `{:?}`.

use crate::model::{LogLevel, LogLine};
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::Mutex;
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;

/// Lines waiting for the loop; the oldest go when nobody takes them (a headless command).
static INBOX: Mutex<VecDeque<LogLine>> = Mutex::new(VecDeque::new());
const INBOX_LINES: usize = 1000;

/// The `tracing` layer: `registry().with(LogCapture)`.
pub struct LogCapture;

impl<S: tracing::Subscriber> Layer<S> for LogCapture {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let meta = event.metadata();
        let level = match *meta.level() {
            tracing::Level::ERROR => LogLevel::Error,
            tracing::Level::WARN => LogLevel::Warn,
            tracing::Level::INFO => LogLevel::Info,
            _ => return,
        };
        if !meta.target().starts_with("opsdeck") {
            return;
        }
        let mut text = Text::default();
        event.record(&mut text);
        queue(LogLine {
            at: chrono::Utc::now(),
            level,
            text: text.0,
        });
    }
}

fn queue(line: LogLine) {
    let mut inbox = INBOX.lock().unwrap_or_else(|e| e.into_inner());
    if inbox.len() == INBOX_LINES {
        inbox.pop_front();
    }
    inbox.push_back(line);
}

/// Takes the lines logged since the last call, oldest first.
pub fn take() -> Vec<LogLine> {
    let mut inbox = INBOX.lock().unwrap_or_else(|e| e.into_inner());
    inbox.drain(..).collect()
}

/// The message, then any other field as `name=value`.
#[derive(Default)]
struct Text(String);

impl Visit for Text {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.record_debug(field, &format_args!("{value}"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // The message arrives as `fmt::Arguments`, whose Debug is its Display.
        if field.name() == "message" {
            let rest = std::mem::take(&mut self.0);
            let _ = write!(self.0, "{value:?}");
            if !rest.is_empty() {
                self.0.push(' ');
                self.0.push_str(&rest);
            }
        } else {
            if !self.0.is_empty() {
                self.0.push(' ');
            }
            let _ = write!(self.0, "{}={value:?}", field.name());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::prelude::*;

    #[test]
    fn keeps_opsdeck_lines_in_words_and_leaves_out_debug() {
        let subscriber = tracing_subscriber::registry().with(LogCapture);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("scale: cs-prod/chat-api 10 → 14");
            tracing::warn!(seconds = 5, "the action did not stop");
            tracing::debug!("prefix scan: noisy");
            tracing::warn!(target: "kube_runtime::watcher", "Status {{ code: 500 }}");
        });
        let lines = take();
        let texts: Vec<(LogLevel, &str)> =
            lines.iter().map(|l| (l.level, l.text.as_str())).collect();
        assert_eq!(
            texts,
            [
                (LogLevel::Info, "scale: cs-prod/chat-api 10 → 14"),
                (LogLevel::Warn, "the action did not stop seconds=5"),
            ]
        );
        assert!(take().is_empty(), "taken once");
    }
}
