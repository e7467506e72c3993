//! Checks that serde cannot express: ranges, orderings between keys, uniqueness.
//!
//! Each issue lists the key paths it concerns, most specific first; the loader reports
//! the first one the file actually sets, so the line points at what the operator wrote
//! even when the other half of a pair is a default.

use super::keypath::Seg;
use super::{Config, PromMode};
use std::collections::HashSet;

pub struct Issue {
    pub paths: Vec<Vec<Seg>>,
    pub message: String,
}

/// `low <= high`, false when either is NaN (which TOML can spell as `nan`).
fn ordered(low: f64, high: f64) -> bool {
    low <= high
}

fn path(parts: &[&str]) -> Vec<Seg> {
    parts.iter().map(|p| Seg::from(*p)).collect()
}

fn issue(paths: Vec<Vec<Seg>>, message: String) -> Issue {
    Issue { paths, message }
}

pub fn check(c: &Config) -> Vec<Issue> {
    let mut out = Vec::new();
    check_rules(c, &mut out);
    check_actions(c, &mut out);
    check_groups(c, &mut out);
    check_backends(c, &mut out);
    check_contexts(c, &mut out);
    check_prices(c, &mut out);
    check_keys(c, &mut out);
    out
}

/// `[keys]`: every remap names an action, is a key, and leaves no key to two actions.
fn check_keys(c: &Config, out: &mut Vec<Issue>) {
    if let Err(issues) = crate::model::keymap::Keymap::build(&c.keys) {
        for i in issues {
            out.push(issue(vec![path(&["keys", &i.action])], i.message));
        }
    }
}

/// Refresh and the thresholds the verdicts and grades use.
fn check_rules(c: &Config, out: &mut Vec<Issue>) {
    if c.ui.refresh_ms < 100 {
        out.push(issue(
            vec![path(&["ui", "refresh_ms"])],
            format!(
                "is {}, must be at least 100 (ms); a faster refresh only adds load",
                c.ui.refresh_ms
            ),
        ));
    }

    let r = &c.rules;
    for (down, up, what) in [
        ("cpu_down", "cpu_up", r.cpu_down < r.cpu_up),
        ("mem_down", "mem_up", r.mem_down < r.mem_up),
        ("queue_down", "queue_up", r.queue_down < r.queue_up),
    ] {
        if !what {
            out.push(issue(
                vec![path(&["rules", down]), path(&["rules", up])],
                format!("`{down}` must be lower than `{up}`, otherwise scaling flaps between up and down"),
            ));
        }
    }
    if !ordered(r.hit_rate_alert, r.hit_rate_target) {
        out.push(issue(
            vec![path(&["rules", "hit_rate_alert"]), path(&["rules", "hit_rate_target"])],
            format!(
                "`hit_rate_alert` ({}) must not exceed `hit_rate_target` ({}); the alert is the lower line",
                r.hit_rate_alert, r.hit_rate_target
            ),
        ));
    }
    for (key, value) in [
        ("hit_rate_target", r.hit_rate_target),
        ("hit_rate_alert", r.hit_rate_alert),
    ] {
        if !(0.0..=1.0).contains(&value) {
            out.push(issue(
                vec![path(&["rules", key])],
                format!("is {value}, must be a ratio between 0 and 1 (0.8 = 80 %)"),
            ));
        }
    }
}

/// Limits the actions keep to, and the warmup's TTLs and endpoint.
fn check_actions(c: &Config, out: &mut Vec<Issue>) {
    if c.actions.max_replicas < 1 {
        out.push(issue(
            vec![path(&["actions", "max_replicas"])],
            "must be at least 1".into(),
        ));
    }
    if c.actions
        .never_hibernate
        .iter()
        .any(|g| g.trim().is_empty())
    {
        out.push(issue(
            vec![path(&["actions", "never_hibernate"])],
            "holds an empty pattern, which matches nothing: remove it or name a deployment (globs like \"chat-*\")".into(),
        ));
    }
    for (key, ttl) in [
        ("answer_ttl_s", c.cache.answer_ttl_s),
        ("retrieval_ttl_s", c.cache.retrieval_ttl_s),
    ] {
        if ttl < 1 {
            out.push(issue(
                vec![path(&["cache", key])],
                "must be at least 1 second (0 would make Redis refuse the write)".into(),
            ));
        }
    }
    let warmup = &c.actions.warmup;
    // Empty means unset, as it does for WarmupTarget.
    if let Some(url) = warmup.http_url.as_deref().filter(|u| !u.is_empty())
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        out.push(issue(
            vec![path(&["actions", "warmup", "http_url"])],
            "must start with http:// or https:// (the service's warmup endpoint)".into(),
        ));
    }
    if warmup.timeout_ms == Some(0) {
        out.push(issue(
            vec![path(&["actions", "warmup", "timeout_ms"])],
            "must be at least 1; leave it out for the default of 30000".into(),
        ));
    }
}

/// `[kubernetes] contexts` and the per-context settings: each context named once, and
/// every `[kubernetes.context."NAME"]` naming a watched context (a typo there would
/// silently drop that context's production guard).
fn check_contexts(c: &Config, out: &mut Vec<Issue>) {
    let Some(k) = &c.kubernetes else { return };
    if k.context.is_some() && !k.contexts.is_empty() {
        out.push(issue(
            vec![
                path(&["kubernetes", "contexts"]),
                path(&["kubernetes", "context"]),
            ],
            "`context` (one context) and `contexts` (several) are both set: keep one".into(),
        ));
    }
    let mut seen = HashSet::new();
    for (i, name) in k.contexts.iter().enumerate() {
        let mut p = path(&["kubernetes", "contexts"]);
        p.push(Seg::Index(i));
        if name.trim().is_empty() || name.contains(',') {
            out.push(issue(
                vec![p],
                format!(
                    "{name:?} is not a context name (`kubectl config get-contexts` lists them)"
                ),
            ));
        } else if !seen.insert(name.as_str()) {
            out.push(issue(
                vec![p],
                format!("{name:?} is listed twice: each context is watched once"),
            ));
        }
    }
    for name in k.settings.keys() {
        if !k.contexts.is_empty() && !k.contexts.contains(name) {
            out.push(issue(
                vec![path(&["kubernetes", "context", name])],
                format!(
                    "settings for context {name:?}, which is not in `contexts` ({}): fix the name or add it there",
                    k.contexts.join(", ")
                ),
            ));
        }
    }
}

/// Prometheus and Redis addresses.
fn check_backends(c: &Config, out: &mut Vec<Issue>) {
    if let Some(p) = &c.prometheus {
        if p.mode == PromMode::Scrape && p.targets.is_empty() {
            out.push(issue(
                vec![
                    path(&["prometheus", "targets"]),
                    path(&["prometheus", "mode"]),
                ],
                "mode \"scrape\" needs at least one entry in `targets` (the /metrics URLs to read)"
                    .into(),
            ));
        }
        if !(p.url.starts_with("http://") || p.url.starts_with("https://")) {
            out.push(issue(
                vec![path(&["prometheus", "url"])],
                "must start with http:// or https://".into(),
            ));
        }
        if let Some(ms) = p.refresh_ms.filter(|ms| *ms < 100) {
            out.push(issue(
                vec![path(&["prometheus", "refresh_ms"])],
                format!(
                    "is {ms}, must be at least 100 (ms); leave it out to query once per the server's scrape interval"
                ),
            ));
        }
        if p.queries.cache_hit_rate_by_prefix.as_deref() == Some("") {
            out.push(issue(
                vec![path(&["prometheus", "queries", "cache_hit_rate_by_prefix"])],
                "is empty; leave the key out to show no per-prefix hit rates".into(),
            ));
        }
    }

    if let Some(redis) = &c.redis {
        if let Some(url) = &redis.url
            && let Some(msg) = bad_redis_url(url)
        {
            out.push(issue(vec![path(&["redis", "url"])], msg));
        }
        for (i, url) in redis.urls.iter().enumerate() {
            if let Some(msg) = bad_redis_url(url) {
                let mut p = path(&["redis", "urls"]);
                p.push(Seg::Index(i));
                out.push(issue(vec![p], msg));
            }
        }
    }
}

/// Names the scheme only: the rest of a Redis URL may carry a password.
fn bad_redis_url(url: &str) -> Option<String> {
    let scheme = url.split_once(':').map(|(s, _)| s);
    match scheme {
        Some("redis" | "rediss" | "unix") => None,
        Some(s) if !s.is_empty() && !s.contains('/') => Some(format!(
            "scheme `{s}` is not supported; use redis://, rediss:// (TLS) or unix://"
        )),
        _ => Some(
            "is not a URL; write it as redis://HOST:PORT/DB, rediss://… or unix:///path".into(),
        ),
    }
}

fn check_groups(c: &Config, out: &mut Vec<Issue>) {
    let mut seen = HashSet::new();
    for (i, g) in c.actions.invalidate.groups.iter().enumerate() {
        let at = |rest: &[Seg]| {
            let mut p = path(&["actions", "invalidate", "groups"]);
            p.push(Seg::Index(i));
            p.extend_from_slice(rest);
            p
        };
        if !seen.insert(g.name.as_str()) {
            out.push(issue(
                vec![at(&["name".into()])],
                format!(
                    "group name `{}` is used twice; group names must be unique",
                    g.name
                ),
            ));
        }
        if g.patterns.is_empty() {
            out.push(issue(
                vec![at(&["patterns".into()])],
                "is empty; list at least one key pattern such as \"answer:*\"".into(),
            ));
        }
        for (j, pat) in g.patterns.iter().enumerate() {
            // A user id has at least one literal character; `x` stands in for it.
            if let Some(why) = super::glob::refuse_reason(&pat.replace("{user_id}", "x")) {
                out.push(issue(
                    vec![at(&["patterns".into(), Seg::Index(j)])],
                    format!("{why}: it would delete every key or nearly"),
                ));
            }
        }
    }
}

fn check_prices(c: &Config, out: &mut Vec<Issue>) {
    let cost = &c.cost;
    let mut fields = vec![
        ("vcpu_hour", Some(cost.vcpu_hour)),
        ("gib_hour", Some(cost.gib_hour)),
        ("gpu_hour", Some(cost.gpu_hour)),
        ("spot_multiplier", Some(cost.spot_multiplier)),
        ("reserved_multiplier", Some(cost.reserved_multiplier)),
        ("storage_monthly", Some(cost.storage_monthly)),
        ("network_monthly", Some(cost.network_monthly)),
        ("monthly_budget", cost.monthly_budget),
        ("monthly_baseline", cost.monthly_baseline),
        ("cache_llm_share", Some(cost.cache_llm_share)),
        ("routing_share", Some(cost.routing_share)),
    ];
    for (key, value) in fields.drain(..) {
        if let Some(v) = value
            && !ordered(0.0, v)
        {
            out.push(issue(
                vec![path(&["cost", key])],
                format!("is {v}, must be a number ≥ 0"),
            ));
        }
    }
    if !ordered(cost.cache_llm_share, 1.0) {
        out.push(issue(
            vec![path(&["cost", "cache_llm_share"])],
            format!(
                "is {}, must be a share between 0 and 1",
                cost.cache_llm_share
            ),
        ));
    }
    if !ordered(cost.routing_share, 1.0) {
        out.push(issue(
            vec![path(&["cost", "routing_share"])],
            format!(
                "is {}, must be a share between 0 and 1 (0.3 moves 30 % of the traffic)",
                cost.routing_share
            ),
        ));
    }
    for (pool, price) in &cost.pools {
        for (key, value) in [
            ("vcpu_hour", price.vcpu_hour),
            ("gib_hour", price.gib_hour),
            ("gpu_hour", price.gpu_hour),
        ] {
            if let Some(v) = value
                && !ordered(0.0, v)
            {
                out.push(issue(
                    vec![path(&["cost", "pools", pool.as_str(), key])],
                    format!("is {v}, must be a price ≥ 0"),
                ));
            }
        }
    }
    for (model, price) in &cost.models {
        for (key, value) in [
            ("input_per_1k", Some(price.input_per_1k)),
            ("output_per_1k", Some(price.output_per_1k)),
            ("cached_input_per_1k", price.cached_input_per_1k),
        ] {
            if let Some(v) = value
                && !ordered(0.0, v)
            {
                out.push(issue(
                    vec![path(&["cost", "models", model.as_str(), key])],
                    format!("is {v}, must be a price ≥ 0"),
                ));
            }
        }
    }
}
