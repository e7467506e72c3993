//! The Logs view's lines: the last [`LOG_LINES`] the console logged, oldest first.

use crate::model::LogLine;
use std::collections::VecDeque;

/// Lines kept; older ones are dropped, so a console left for weeks stays small.
pub const LOG_LINES: usize = 2000;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogBook {
    lines: VecDeque<LogLine>,
}

impl LogBook {
    pub fn push(&mut self, line: LogLine) {
        if self.lines.len() == LOG_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The lines containing `filter` (case-insensitive), oldest first; all of them when
    /// the filter is empty.
    pub fn matching<'a>(&'a self, filter: &str) -> impl DoubleEndedIterator<Item = &'a LogLine> {
        let f = filter.to_lowercase();
        self.lines
            .iter()
            .filter(move |l| f.is_empty() || l.text.to_lowercase().contains(&f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LogLevel;
    use chrono::Utc;

    fn line(text: &str) -> LogLine {
        LogLine {
            at: Utc::now(),
            level: LogLevel::Info,
            text: text.into(),
        }
    }

    #[test]
    fn keeps_the_last_lines_and_filters_without_case() {
        let mut book = LogBook::default();
        for i in 0..LOG_LINES + 5 {
            book.push(line(&format!("line {i}")));
        }
        assert_eq!(book.len(), LOG_LINES);
        assert_eq!(book.matching("").next().unwrap().text, "line 5");
        book.push(line("Scale: cs-prod/chat-api 10 → 14"));
        let hits: Vec<&str> = book.matching("CHAT-API").map(|l| l.text.as_str()).collect();
        assert_eq!(hits, ["Scale: cs-prod/chat-api 10 → 14"]);
    }
}
