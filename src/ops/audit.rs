//! The audit trail: one JSON line when an action starts and one when it ends.
//!
//! Lines are appended with a single `write` of a whole line, so concurrent writers
//! (the console and a runbook script) never interleave within a line.
//!
//! The file names who did what and whose keys were deleted: opsdeck creates it owner-only
//! (0600, whatever the umask). An existing file's mode is never changed, neither loosened
//! nor tightened: an administrator may have shared it with a log shipper's group on purpose.

use chrono::Utc;
use serde::Serialize;
use serde_json::Value;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AuditRecord {
    pub time: String,
    /// The OS account running opsdeck (from the process' uid), not `$USER`, which anyone
    /// can set.
    pub user: String,
    /// `$USER` (or `$LOGNAME`) as the environment says, recorded beside `user` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_user: Option<String>,
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
            env_user: std::env::var("USER")
                .or_else(|_| std::env::var("LOGNAME"))
                .ok()
                .filter(|u| !u.is_empty()),
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
            // Applies only when the file is created; an existing file keeps its mode.
            .mode(0o600)
            .open(&self.path)
            .map_err(|e| {
                std::io::Error::new(e.kind(), format!("audit log {}: {e}", self.path.display()))
            })?;
        file.write_all(line.as_bytes())
    }
}

/// The operator: the process' uid looked up in /etc/passwd, else "uid N". `$USER` is not
/// used here: the environment is the operator's to set, the uid is not.
pub fn current_user() -> String {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().next().map(str::to_string))
        });
    let Some(uid) = uid else {
        return "unknown".into();
    };
    user_of_uid(
        &std::fs::read_to_string("/etc/passwd").unwrap_or_default(),
        &uid,
    )
    .unwrap_or_else(|| format!("uid {uid}"))
}

fn user_of_uid(passwd: &str, uid: &str) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)? == uid).then(|| name.to_string())
    })
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_uid_is_named_from_passwd() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\noncall:x:1000:1000::/home/oncall:/bin/sh\n";
        assert_eq!(
            super::user_of_uid(passwd, "1000").as_deref(),
            Some("oncall")
        );
        assert_eq!(super::user_of_uid(passwd, "0").as_deref(), Some("root"));
        assert_eq!(super::user_of_uid(passwd, "7"), None);
    }
}
