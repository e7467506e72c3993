//! A line of the console's own log (source trouble, actions and their results), as the
//! Logs view shows it. The text is already in words: no value is logged with `{:?}`.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
}

impl LogLevel {
    /// One letter, as the Logs view prints it before the text.
    pub fn letter(self) -> &'static str {
        match self {
            LogLevel::Error => "E",
            LogLevel::Warn => "W",
            LogLevel::Info => "I",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub at: DateTime<Utc>,
    pub level: LogLevel,
    pub text: String,
}
