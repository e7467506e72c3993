//! What a source last said, and how fresh it is.

use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Not configured.
    Disabled,
    /// Configured, nothing heard yet.
    Waiting,
    Ok,
    /// The last good value is kept but it is older than three refresh intervals.
    Stale,
    Error,
}

/// A source's health as the views, the snapshot and the loop read it, whatever it holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Health<'a> {
    pub status: Status,
    /// Whole seconds since the last good value.
    pub age_s: Option<i64>,
    pub last_ok: Option<DateTime<Utc>>,
    /// The newest failure and when it happened, when newer than the last good value.
    pub error: Option<(&'a str, DateTime<Utc>)>,
}

/// A source's last good value, its age and its last error.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot<T> {
    pub enabled: bool,
    pub value: Option<T>,
    pub last_ok: Option<DateTime<Utc>>,
    /// The newest failure, when it is newer than the last good value.
    pub error: Option<(String, DateTime<Utc>)>,
}

impl<T> Slot<T> {
    pub fn new(enabled: bool) -> Slot<T> {
        Slot {
            enabled,
            value: None,
            last_ok: None,
            error: None,
        }
    }

    pub fn set(&mut self, at: DateTime<Utc>, result: Result<T, String>) {
        match result {
            Ok(v) => {
                self.value = Some(v);
                self.last_ok = Some(at);
                self.error = None;
            }
            Err(e) => self.error = Some((e, at)),
        }
    }

    pub fn status(&self, now: DateTime<Utc>, refresh_ms: u64) -> Status {
        if !self.enabled {
            return Status::Disabled;
        }
        if self.error.is_some() {
            return Status::Error;
        }
        match self.last_ok {
            None => Status::Waiting,
            Some(at) if (now - at).num_milliseconds() > 3 * refresh_ms as i64 + 500 => {
                Status::Stale
            }
            Some(_) => Status::Ok,
        }
    }

    pub fn health(&self, now: DateTime<Utc>, refresh_ms: u64) -> Health<'_> {
        Health {
            status: self.status(now, refresh_ms),
            age_s: self.age_s(now),
            last_ok: self.last_ok,
            error: self.error.as_ref().map(|(e, at)| (e.as_str(), *at)),
        }
    }

    /// Whole seconds since the last good value.
    pub fn age_s(&self, now: DateTime<Utc>) -> Option<i64> {
        self.last_ok.map(|at| (now - at).num_seconds().max(0))
    }

    /// The value only while it is fresh enough to act on.
    pub fn fresh(&self) -> Option<&T> {
        self.value.as_ref()
    }
}
