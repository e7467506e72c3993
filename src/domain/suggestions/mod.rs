//! Savings suggestions (seed 8.3, cost optimisation): what the platform would save per hour
//! by raising the cache hit rate to its target, routing a share of the most expensive
//! model's traffic to the cheapest one, moving on-demand CPU pods to spot, cutting requests
//! the pods do not use, and hibernating what nobody calls.
//!
//! One function per kind, each over the same [`Inputs`]: a suggestion carries the figures
//! it rests on (`basis`, words and numbers a person can check). A kind whose inputs are
//! missing suggests nothing and says what it needs instead: a saving is never guessed.

mod deployments;
#[cfg(test)]
mod tests;

pub use deployments::{IDLE_QPS, hibernate, idle_from_history, right_size, spot, track_idle};

use super::cost::{HOURS_PER_MONTH, tokens_cost};
use crate::config::{ActionsConfig, CostConfig, Rules};
use crate::model::{Deployment, ModelTokens, NodePrice, ServiceLatency};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Cache,
    ModelRouting,
    Spot,
    RightSize,
    Hibernate,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Cache,
        Kind::ModelRouting,
        Kind::Spot,
        Kind::RightSize,
        Kind::Hibernate,
    ];

    /// As `snapshot --json` writes it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Cache => "cache",
            Kind::ModelRouting => "model_routing",
            Kind::Spot => "spot",
            Kind::RightSize => "right_size",
            Kind::Hibernate => "hibernate",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    pub kind: Kind,
    /// What to act on: "cache", "gpt-4 → gpt-3.5-turbo", "NAMESPACE/DEPLOYMENT".
    pub target: String,
    pub saving_per_hour: f64,
    pub saving_per_month: f64,
    /// The figures the saving rests on.
    pub basis: String,
}

impl Suggestion {
    fn new(kind: Kind, target: String, saving_per_hour: f64, basis: String) -> Suggestion {
        Suggestion {
            kind,
            target,
            saving_per_hour,
            saving_per_month: saving_per_hour * HOURS_PER_MONTH,
            basis,
        }
    }
}

/// One kind's answer: its suggestions, the inputs it lacks (each naming what provides
/// it), and why it has nothing (more) to suggest when its inputs are there.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Findings {
    pub suggestions: Vec<Suggestion>,
    pub missing: Vec<String>,
    pub notes: Vec<String>,
}

/// Every kind's findings together: the suggestions largest saving first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Suggestions {
    pub list: Vec<Suggestion>,
    pub missing: Vec<(Kind, String)>,
    pub notes: Vec<(Kind, String)>,
}

/// What the suggestions are computed from: the latest figures of each source (None when
/// that source has not answered), the cost model's prices and the config.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub now: DateTime<Utc>,
    /// Kubernetes: deployments with their requests, pools and VPAs.
    pub deployments: Option<&'a [Deployment]>,
    /// Prometheus: the Latency panel's rows (the first is the platform's entry).
    pub services: Option<&'a [ServiceLatency]>,
    /// Prometheus: token rates per model; None (or empty) when there are none.
    pub models: Option<&'a [ModelTokens]>,
    pub cached_input: &'a BTreeMap<String, f64>,
    pub node_prices: &'a BTreeMap<String, NodePrice>,
    /// The cache's hit rate over the last window (0..1), and where it comes from.
    pub hit_rate: Option<(f64, &'a str)>,
    /// The cost model's AI model $/h.
    pub ai_model_per_hour: Option<f64>,
    /// p95 use by deployment (all pods together): CPU cores, memory bytes.
    pub cpu_usage_p95: Option<&'a Result<BTreeMap<String, f64>, String>>,
    pub memory_usage_p95: Option<&'a Result<BTreeMap<String, f64>, String>>,
    /// When each service's QPS went to ≈0 and stayed there (see [`track_idle`]).
    pub idle_since: &'a BTreeMap<String, DateTime<Utc>>,
    pub cost: &'a CostConfig,
    pub rules: &'a Rules,
    pub actions: &'a ActionsConfig,
}

impl Inputs<'_> {
    /// Requests per second at the platform's entry (the first service the Latency panel
    /// lists), when it is a number.
    pub fn entry_qps(&self) -> Option<f64> {
        self.services?
            .first()
            .map(|s| s.qps)
            .filter(|q| q.is_finite())
    }
}

pub fn all(i: &Inputs) -> Suggestions {
    let mut out = Suggestions::default();
    for (kind, f) in [
        (Kind::Cache, cache(i)),
        (Kind::ModelRouting, model_routing(i)),
        (Kind::Spot, spot(i)),
        (Kind::RightSize, right_size(i)),
        (Kind::Hibernate, hibernate(i)),
    ] {
        out.list.extend(f.suggestions);
        out.missing.extend(f.missing.into_iter().map(|m| (kind, m)));
        out.notes.extend(f.notes.into_iter().map(|n| (kind, n)));
    }
    out.list.sort_by(|a, b| {
        b.saving_per_hour
            .total_cmp(&a.saving_per_hour)
            .then(a.kind.cmp(&b.kind))
            .then(a.target.cmp(&b.target))
    });
    out
}

/// An amount in the basis: "$30.96", "$0.0225", "$1234", or "12.50 CHF".
pub(crate) fn money(v: f64, currency: &str) -> String {
    let digits = if v.abs() >= 1000.0 {
        0
    } else if v.abs() >= 1.0 || v == 0.0 {
        2
    } else {
        4
    };
    let body = format!("{:.digits$}", v.abs());
    // Under 1, four decimals but no trailing zeros past the cents: 0.0225, 0.05, 0.10.
    let body = match body.find('.') {
        Some(dot) if digits == 4 => {
            let keep = body.trim_end_matches('0').len().max(dot + 3);
            body[..keep].to_string()
        }
        _ => body,
    };
    let sign = if v < 0.0 { "-" } else { "" };
    match currency {
        "USD" => format!("{sign}${body}"),
        "EUR" => format!("{sign}€{body}"),
        "CNY" | "RMB" => format!("{sign}¥{body}"),
        "GBP" => format!("{sign}£{body}"),
        other => format!("{sign}{body} {other}"),
    }
}

fn pct(ratio: f64) -> String {
    format!("{:.1}%", ratio * 100.0)
}

/// Raise the hit rate to `[rules] hit_rate_target`: misses reach the LLM, so the AI model
/// $/h falls by the share of misses the higher rate removes, (target − h) / (1 − h).
pub fn cache(i: &Inputs) -> Findings {
    let mut f = Findings::default();
    let cur = i.cost.currency.as_str();
    let target = i.rules.hit_rate_target;
    let hit = i.hit_rate.filter(|(h, _)| h.is_finite());
    if hit.is_none() {
        f.missing.push(
            "the cache hit rate (Redis with traffic, or [prometheus.queries] app_cache_hit_rate)"
                .into(),
        );
    }
    let qps = i.entry_qps();
    if qps.is_none() {
        f.missing
            .push("the entry service's QPS ([prometheus.queries] qps)".into());
    }
    let ai = i.ai_model_per_hour.filter(|v| v.is_finite());
    if ai.is_none() {
        f.missing.push(
            "LLM token rates for the AI model $/h ([prometheus.queries] llm_*_tokens_per_sec)"
                .into(),
        );
    }
    let (Some((h, from)), Some(qps), Some(ai)) = (hit, qps, ai) else {
        return f;
    };
    if h >= target {
        f.notes.push(format!(
            "hit rate {} ({from}) meets the {} target",
            pct(h),
            pct(target)
        ));
        return f;
    }
    if ai <= 0.0 {
        f.notes
            .push("no AI model spend at current traffic: nothing for the cache to save".into());
        return f;
    }
    let share = i.cost.cache_llm_share;
    let calls_now = qps * (1.0 - h) * share;
    let calls_then = qps * (1.0 - target) * share;
    let saving = ai * (target - h) / (1.0 - h);
    let basis = format!(
        "hit rate {} ({from}) → {} target at {qps:.1} req/s: LLM calls {calls_now:.1}/s → \
         {calls_then:.1}/s ({:.1}/s avoided); AI models {}/h × ({} − {}) / (1 − {})",
        pct(h),
        pct(target),
        calls_now - calls_then,
        money(ai, cur),
        pct(target),
        pct(h),
        pct(h),
    );
    f.suggestions
        .push(Suggestion::new(Kind::Cache, "cache".into(), saving, basis));
    f
}

/// A model with traffic and a price: its token rates and what they cost per second.
struct Priced<'a> {
    tokens: &'a ModelTokens,
    cached: f64,
    per_sec: f64,
}

impl Priced<'_> {
    fn per_token(&self) -> f64 {
        self.per_sec / (self.tokens.input_per_sec + self.tokens.output_per_sec + self.cached)
    }
}

/// Move `[cost] routing_share` of the most expensive model's traffic (by its $ per token
/// at its own mix) to the configured model cheapest for that same mix.
pub fn model_routing(i: &Inputs) -> Findings {
    let mut f = Findings::default();
    let cur = i.cost.currency.as_str();
    let models = i.models.unwrap_or_default();
    if models.is_empty() {
        f.missing
            .push("LLM token rates per model ([prometheus.queries] llm_*_tokens_per_sec)".into());
        return f;
    }
    let mut priced = Vec::new();
    for t in models {
        let cached = i.cached_input.get(&t.model).copied().unwrap_or(0.0);
        let (input, output) = (t.input_per_sec, t.output_per_sec);
        if !(input.is_finite() && output.is_finite()) || input + output + cached <= 0.0 {
            continue;
        }
        match i.cost.models.get(&t.model) {
            Some(p) => priced.push(Priced {
                tokens: t,
                cached,
                per_sec: tokens_cost(p, input, output, cached),
            }),
            None => f.missing.push(format!(
                "a price for model {} ([cost.models.\"{}\"])",
                t.model, t.model
            )),
        }
    }
    let Some(from) = priced
        .iter()
        .max_by(|a, b| a.per_token().total_cmp(&b.per_token()))
    else {
        if f.missing.is_empty() {
            f.notes.push("no LLM traffic to route".into());
        }
        return f;
    };
    let t = from.tokens;
    let (to, to_per_sec) = i
        .cost
        .models
        .iter()
        .map(|(name, p)| {
            (
                name,
                tokens_cost(p, t.input_per_sec, t.output_per_sec, from.cached),
            )
        })
        .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(b.0)))
        .expect("the model being routed from is configured");
    let share = i.cost.routing_share;
    if *to == t.model || to_per_sec >= from.per_sec {
        f.notes.push(format!(
            "{} is already the cheapest configured model for its traffic",
            t.model
        ));
        return f;
    }
    if share <= 0.0 {
        f.notes
            .push("[cost] routing_share is 0: no traffic to move".into());
        return f;
    }
    let saving = share * (from.per_sec - to_per_sec) * 3600.0;
    let cached = if from.cached > 0.0 {
        format!(" + {:.0} cached", from.cached)
    } else {
        String::new()
    };
    let basis = format!(
        "{:.0}% of {}'s {:.0} in + {:.0} out{cached} tokens/s: {}/h at its prices, {}/h at \
         {to}'s",
        share * 100.0,
        t.model,
        t.input_per_sec,
        t.output_per_sec,
        money(share * from.per_sec * 3600.0, cur),
        money(share * to_per_sec * 3600.0, cur),
    );
    f.suggestions.push(Suggestion::new(
        Kind::ModelRouting,
        format!("{} → {to}", t.model),
        saving,
        basis,
    ));
    f
}
