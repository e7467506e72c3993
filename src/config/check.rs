//! `opsdeck check-config [PATH]`: resolve, load, validate, say so.

use super::load::{ConfigError, implicit_candidates, load, lookup};
use super::redact::redact_url;
use super::{Config, PromMode};
use std::io::Write;
use std::path::Path;

/// Exit status 0 when the config is usable, 2 (bad config) otherwise.
pub fn check_config(path: Option<&Path>, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let Some(found) = lookup(path) else {
        let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
        let searched = implicit_candidates(&|k| std::env::var(k).ok(), &cwd);
        let _ = writeln!(err, "error: {}", ConfigError::NotFound { searched });
        return 2;
    };
    match load(&found) {
        Ok(config) => {
            let _ = writeln!(out, "ok: {}", found.display());
            let _ = writeln!(out, "{}", summary(&config));
            0
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            2
        }
    }
}

/// One line naming the configured sources. URLs lose any user:password part.
pub fn summary(c: &Config) -> String {
    let prometheus = match &c.prometheus {
        None => "prometheus off".to_string(),
        Some(p) if p.mode == PromMode::Scrape => {
            format!("prometheus scrape of {} target(s)", p.targets.len())
        }
        Some(p) => format!("prometheus {}", redact_url(&p.url)),
    };
    let redis = match &c.redis {
        None => "redis off".to_string(),
        Some(r) if !r.urls.is_empty() => {
            let kind = if r.cluster { "cluster" } else { "nodes" };
            format!("redis {kind} of {} URL(s)", r.urls.len())
        }
        Some(r) => match &r.url {
            Some(url) => format!("redis {}", redact_url(url)),
            None => "redis (no url)".to_string(),
        },
    };
    let kube = match &c.kubernetes {
        None => "kubernetes off".to_string(),
        Some(k) => {
            let ctx = if k.contexts.is_empty() {
                k.context
                    .as_deref()
                    .unwrap_or("current context")
                    .to_string()
            } else {
                format!("contexts {}", k.contexts.join(","))
            };
            let ns = if k.namespaces.is_empty() {
                "all namespaces".to_string()
            } else {
                k.namespaces.join(",")
            };
            let prod = if k.production { ", production" } else { "" };
            format!("kubernetes {ctx} ({ns}{prod})")
        }
    };
    let ro = if c.ui.read_only { "; read-only" } else { "" };
    format!("sources: {prometheus}; {redis}; {kube}{ro}")
}
