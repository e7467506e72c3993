//! The audit trail: one JSON line when an action starts and one when it ends.
//!
//! Lines are appended with a single `write` of a whole line, so concurrent writers
//! (the console and a runbook script) never interleave within a line.

use chrono::Utc;
use serde::Serialize;
use serde_json::Value;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AuditRecord {
    pub time: String,
    pub user: String,
    pub host: String,
    pub action: String,
    pub target: String,
    pub parameters: Value,
    pub dry_run: bool,
    /// "started", "ok", "failed", "cancelled", "refused"
    pub outcome: String,
    pub detail: String,
}

#[derive(Debug, Clone)]
pub struct Audit {
    path: PathBuf,
}

impl Audit {
    pub fn new(path: impl Into<PathBuf>) -> Audit {
        Audit { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record. An action that cannot be audited must not run, so callers
    /// treat an error on the "started" line as a refusal.
    pub fn append(
        &self,
        action: &str,
        target: &str,
        parameters: Value,
        dry_run: bool,
        outcome: &str,
        detail: &str,
    ) -> std::io::Result<()> {
        let record = AuditRecord {
            time: Utc::now().to_rfc3339(),
            user: current_user(),
            host: hostname(),
            action: action.into(),
            target: target.into(),
            parameters,
            dry_run,
            outcome: outcome.into(),
            detail: detail.into(),
        };
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut line = serde_json::to_string(&record).map_err(std::io::Error::other)?;
        line.push('\n');
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| {
                std::io::Error::new(e.kind(), format!("audit log {}: {e}", self.path.display()))
            })?;
        file.write_all(line.as_bytes())
    }
}

fn current_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}
