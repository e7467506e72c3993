//! Cache invalidation by group (with a user id for groups keyed by user) or by pattern.
//!
//! - here: the request ([`InvalidateTarget`]) and its plan, pure: the globs it stands for,
//!   each refused unless it starts with a literal prefix, user ids escaped and checked.
//! - `redis`: the preview (SCAN, count and samples) and the run (SCAN + UNLINK in batches on
//!   every master, throttled, cancellable, audited). Never KEYS, never FLUSH*.
//! - `scan`: one SCAN pass per master for all the patterns, pages matched with Redis' glob.
//! - `demo`: the same plan against the embedded demo.
//!
//! The console's `i` dialog and `opsdeck invalidate` both build their plan with [`plan`].

pub mod demo;
pub mod redis;
pub mod scan;

pub use redis::{
    InvalidateError, InvalidateOptions, InvalidateReport, Preview, invalidate, preview,
};

use crate::config::InvalidateConfig;
use crate::config::glob;
use thiserror::Error;

/// The group named by `--user ID` alone: `user:{user_id}:*` in the platform's design.
pub const USER_GROUP: &str = "user";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidateTarget {
    /// A configured group; `user` fills the `{user_id}` of its patterns.
    Group { name: String, user: Option<String> },
    /// A raw Redis glob.
    Pattern(String),
}

impl InvalidateTarget {
    pub fn group(name: impl Into<String>) -> InvalidateTarget {
        InvalidateTarget::Group {
            name: name.into(),
            user: None,
        }
    }

    /// One user's keys through the group named `user`.
    pub fn user(id: impl Into<String>) -> InvalidateTarget {
        InvalidateTarget::Group {
            name: USER_GROUP.into(),
            user: Some(id.into()),
        }
    }

    /// The name an operator types to confirm a large deletion.
    pub fn confirm_name(&self) -> &str {
        match self {
            InvalidateTarget::Group { name, .. } => name,
            InvalidateTarget::Pattern(p) => p,
        }
    }
}

impl std::fmt::Display for InvalidateTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InvalidateTarget::Group { name, user: None } => write!(f, "group {name}"),
            InvalidateTarget::Group {
                name,
                user: Some(u),
            } => write!(f, "group {name} for user {}", u.trim()),
            InvalidateTarget::Pattern(p) => write!(f, "pattern {p}"),
        }
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PatternError {
    #[error("no invalidation group named {0:?} — see [[actions.invalidate.groups]] in the config")]
    UnknownGroup(String),
    #[error("group {0:?} needs a user id (its patterns contain {{user_id}}) — use --user ID")]
    GroupNeedsUser(String),
    #[error(
        "group {0:?} has no {{user_id}} in its patterns, so a user id does not apply — drop it"
    )]
    GroupTakesNoUser(String),
    #[error("user id is empty — give the id whose keys to invalidate")]
    EmptyUserId,
    #[error(
        "user id {0:?} contains ':', so its patterns would also reach other users' keys (id a vs a:b) — refused"
    )]
    UserIdColon(String),
    #[error("{0} — refused")]
    NoLiteralPrefix(String),
}

/// What an invalidation will do: the target as asked and the globs it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidatePlan {
    pub target: InvalidateTarget,
    pub patterns: Vec<String>,
}

/// Resolves a target to its globs, every one checked. The one place that reads groups.
pub fn plan(
    target: &InvalidateTarget,
    cfg: &InvalidateConfig,
) -> Result<InvalidatePlan, PatternError> {
    let patterns = match target {
        InvalidateTarget::Pattern(p) => vec![p.clone()],
        InvalidateTarget::Group { name, user } => {
            let group = cfg
                .groups
                .iter()
                .find(|g| &g.name == name)
                .ok_or_else(|| PatternError::UnknownGroup(name.clone()))?;
            let keyed = group.patterns.iter().any(|p| p.contains("{user_id}"));
            match (keyed, user) {
                (false, None) => group.patterns.clone(),
                (false, Some(_)) => return Err(PatternError::GroupTakesNoUser(name.clone())),
                (true, None) => return Err(PatternError::GroupNeedsUser(name.clone())),
                (true, Some(id)) => {
                    let escaped = glob::escape(check_user_id(id)?);
                    group
                        .patterns
                        .iter()
                        .map(|p| p.replace("{user_id}", &escaped))
                        .collect()
                }
            }
        }
    };
    for p in &patterns {
        if let Some(why) = glob::refuse_reason(p) {
            return Err(PatternError::NoLiteralPrefix(why));
        }
    }
    Ok(InvalidatePlan {
        target: target.clone(),
        patterns,
    })
}

/// A user id as it goes into a pattern: trimmed, not empty, without `:`.
fn check_user_id(id: &str) -> Result<&str, PatternError> {
    let id = id.trim();
    if id.is_empty() {
        return Err(PatternError::EmptyUserId);
    }
    if id.contains(':') {
        return Err(PatternError::UserIdColon(id.into()));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::InvalidateGroup;

    fn cfg() -> InvalidateConfig {
        let mut c = InvalidateConfig::default();
        c.groups.push(InvalidateGroup {
            name: "sessions".into(),
            patterns: vec!["session:{user_id}:*".into(), "ctx:{user_id}".into()],
        });
        c
    }

    #[test]
    fn a_user_id_fills_the_chosen_groups_patterns_only() {
        let t = InvalidateTarget::Group {
            name: "sessions".into(),
            user: Some(" 42 ".into()),
        };
        assert_eq!(
            plan(&t, &cfg()).unwrap().patterns,
            ["session:42:*", "ctx:42"]
        );
        assert_eq!(
            plan(&InvalidateTarget::user("4*2?[x]\\"), &cfg())
                .unwrap()
                .patterns,
            ["user:4\\*2\\?\\[x\\]\\\\:*"]
        );
    }

    #[test]
    fn bad_ids_and_patterns_are_refused_with_the_reason() {
        let c = cfg();
        assert_eq!(
            plan(&InvalidateTarget::group("user"), &c),
            Err(PatternError::GroupNeedsUser("user".into()))
        );
        for id in ["", "   "] {
            assert_eq!(
                plan(&InvalidateTarget::user(id), &c),
                Err(PatternError::EmptyUserId)
            );
        }
        assert_eq!(
            plan(&InvalidateTarget::user("a:b"), &c),
            Err(PatternError::UserIdColon("a:b".into()))
        );
        let knowledge_for_user = InvalidateTarget::Group {
            name: "knowledge".into(),
            user: Some("1".into()),
        };
        assert_eq!(
            plan(&knowledge_for_user, &c),
            Err(PatternError::GroupTakesNoUser("knowledge".into()))
        );
        for p in ["*:*", "?*:*", "[^\\]]*", "**"] {
            assert!(
                matches!(
                    plan(&InvalidateTarget::Pattern(p.into()), &c),
                    Err(PatternError::NoLiteralPrefix(_))
                ),
                "{p}"
            );
        }
    }
}
