//! `opsdeck snapshot --json`: the figures scripts rely on, as DESIGN.md lists them.

use crate::config::Rules;
use crate::config::redact::redact_text;
use crate::domain::cost::CostBreakdown;
use crate::domain::grade::{self, Grade};
use crate::domain::prefix_hits;
use crate::model::{CacheSample, MetricsSample, SourceKind};
use crate::state::{State, Status};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

pub fn to_json(state: &State) -> Value {
    let secrets = state.config.secrets();
    let r = &state.config.rules;
    let metrics = state.metrics.value.as_ref();
    let mut out = json!({
        "taken_at": state.now.to_rfc3339(),
        "demo": state.demo,
        "sources": sources_json(state, &secrets),
        "latency": metrics.map(|m| latency_json(m, r, &secrets)),
        "metrics": metrics.map(metrics_json),
        "cache": state.cache.value.as_ref().map(|c| cache_json(c, r, metrics)),
        "deployments": deployments_json(state),
        "cost": state.cost.as_ref().map(|c| cost_json(c, state)),
        "alerts": alerts_json(state),
        "tenants": tenants_json(state),
        "traffic": traffic_json(state),
        "prescale": prescale_json(state),
    });
    suggestions_json(state, &mut out);
    out
}

/// `suggestions` (largest saving first, each with its basis), `suggestions_missing` (the
/// inputs a kind lacks, so it suggests nothing) and `suggestions_notes` (why a kind with
/// its inputs has nothing to suggest).
fn suggestions_json(state: &State, out: &mut Value) {
    let s = state.suggestions();
    out["suggestions"] = json!(s.list);
    out["suggestions_missing"] = s
        .missing
        .iter()
        .map(|(kind, needs)| json!({"kind": kind, "needs": needs}))
        .collect();
    out["suggestions_notes"] = s
        .notes
        .iter()
        .map(|(kind, note)| json!({"kind": kind, "note": note}))
        .collect();
}

/// Each service's QPS yesterday and last week at this time, and the coming hour's peak
/// from yesterday's curve; null without the history.
fn traffic_json(state: &State) -> Value {
    let Some(t) = &state.traffic else {
        return Value::Null;
    };
    json!(
        t.services
            .iter()
            .map(|s| {
                let peak = crate::domain::forecast::peak(&s.next_hour);
                json!({
                    "service": s.service, "qps_1d_ago": s.qps_1d_ago, "qps_7d_ago": s.qps_7d_ago,
                    "expected_peak_qps": peak.map(|p| p.1),
                    "expected_peak_at": peak.map(|p| p.0.to_rfc3339()),
                })
            })
            .collect::<Vec<_>>()
    )
}

/// HPAs whose floor is below what the coming hour needs.
fn prescale_json(state: &State) -> Vec<Value> {
    state
        .prescales()
        .iter()
        .map(|p| {
            json!({
                "namespace": p.namespace, "deployment": p.deployment,
                "hpa_min": p.min_now, "hpa_min_needed": p.min_needed,
                "peak_qps": p.peak_qps, "peak_at": p.peak_at.to_rfc3339(),
                "before": p.before.to_rfc3339(),
                "per_replica_qps_at_target": p.per_replica_qps,
                "cpu_target_pct": p.cpu_target_pct,
            })
        })
        .collect()
}

/// Each namespace with a quota, a priced deployment or AI tokens: its quota use per
/// resource and its running cost, its AI tokens' part apart.
fn tenants_json(state: &State) -> Vec<Value> {
    crate::domain::tenants::rows(&state.tenants, state.cost.as_ref())
        .into_iter()
        .map(|t| {
            let quota: Map<String, Value> = t
                .quota
                .iter()
                .map(|(k, q)| (k.clone(), json!({"used": q.used, "hard": q.hard})))
                .collect();
            json!({
                "namespace": t.namespace, "quota": quota, "cost_per_hour": t.cost_per_hour,
                "ai_per_hour": t.ai_per_hour, "cost_partial": t.cost_partial,
                "grade": t.grade(),
            })
        })
        .collect()
}

/// opsdeck's threshold alerts, then Prometheus' own (with `source: "prometheus"`, their
/// rule's name, firing or pending, and the runbook link).
fn alerts_json(state: &State) -> Vec<Value> {
    let own = state.alerts.iter().map(|a| json!(a));
    let prom = state.prom_alerts.iter().map(|a| {
        let message = match a.summary.as_str() {
            "" => a.name.clone(),
            s => format!("{}: {s}", a.name),
        };
        json!({
            "severity": a.severity, "source": "prometheus", "message": message,
            "since": a.since, "name": a.name,
            "state": if a.firing { "firing" } else { "pending" },
            "summary": a.summary, "runbook_url": a.runbook_url, "labels": a.labels,
        })
    });
    own.chain(prom).collect()
}

/// Each source's health; errors as they may be shown (no URL userinfo, no secret).
fn sources_json(state: &State, secrets: &[String]) -> Map<String, Value> {
    let mut sources = Map::new();
    for kind in SourceKind::ALL {
        let mut health = health_json(&state.health(kind), secrets);
        // Several kube contexts: each one's own health under `contexts`.
        if kind == SourceKind::Kubernetes && state.several_contexts() {
            let each: Map<String, Value> = state
                .context_health()
                .into_iter()
                .map(|(name, h)| (name.to_string(), health_json(&h, secrets)))
                .collect();
            health["contexts"] = Value::Object(each);
        }
        sources.insert(kind.name().into(), health);
    }
    sources
}

fn health_json(h: &crate::state::Health, secrets: &[String]) -> Value {
    let (age, at) = (h.age_s, h.last_ok);
    let status = match h.status {
        Status::Waiting => "error",
        Status::Ok => "ok",
        Status::Stale => "stale",
        Status::Error => "error",
        Status::Disabled => "disabled",
    };
    let error = match (h.error, h.status) {
        (Some((e, _)), _) => json!(redact_text(e, secrets)),
        (None, Status::Waiting) => json!("no answer yet"),
        _ => Value::Null,
    };
    json!({
        "status": status,
        "error": error,
        "age_s": age,
        // When the figures were taken (for Prometheus: the evaluation time).
        "at": at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
    })
}

fn latency_json(m: &MetricsSample, r: &Rules, secrets: &[String]) -> Value {
    let error_rate = grade::error_rate(&m.services);
    let problems: Vec<Value> = m
        .problems
        .iter()
        .map(|p| json!({ "panel": p.panel, "message": redact_text(&p.message, secrets) }))
        .collect();
    json!({ "services": m.services.iter().map(|s| json!({
        "name": s.name, "context": s.context, "qps": s.qps, "error_rate": s.error_rate, "p50_ms": s.p50_ms,
        "p95_ms": s.p95_ms, "p99_ms": s.p99_ms, "queue_length": s.queue_length,
        // The same grades the tiles, tables and alerts use.
        "grade": {
            "p95_ms": grade::of_p95(s.p95_ms, r),
            "error_rate": grade::of_error_rate(s.error_rate, r),
            "queue_length": grade::of_queue(s.queue_length, r),
        },
    })).collect::<Vec<_>>(),
    // All traffic's error rate; null when there was none.
    "error_rate": error_rate,
    "grade": { "error_rate": error_rate.map_or(Grade::Unknown, |v| grade::of_error_rate(v, r)) },
    // Why a figure above is null: a failed query, no data, NaN.
    "problems": problems })
}

fn metrics_json(m: &MetricsSample) -> Value {
    json!({
        "utilization": m.utilization.iter().map(|u| json!({
            "deployment": u.deployment, "cpu_pct": u.cpu_pct, "memory_pct": u.memory_pct,
        })).collect::<Vec<_>>(),
        "llm_tokens": m.models.iter().map(|t| json!({
            "model": t.model, "input_per_sec": t.input_per_sec, "output_per_sec": t.output_per_sec,
        })).collect::<Vec<_>>(),
        "cdn_hit_rate": m.cdn_hit_rate,
        "app_cache_hit_rate": m.app_cache_hit_rate,
        // As Prometheus reported it, by `prefix` label; {} without the query.
        "cache_hit_rate_by_prefix": m.cache_hit_rate_by_prefix,
    })
}

fn cache_json(c: &CacheSample, r: &Rules, metrics: Option<&MetricsSample>) -> Value {
    let prefixes: Map<String, Value> = c
        .prefixes
        .iter()
        .map(|p| (p.prefix.clone(), json!(p.keys)))
        .collect();
    // Every counted prefix (null when Prometheus has no figure for it), then the ones
    // only Prometheus reports: the rows of the Cache view's table.
    let counted: Vec<&str> = c.prefixes.iter().map(|p| p.prefix.as_str()).collect();
    let no_rates = BTreeMap::new();
    let rates = metrics.map_or(&no_rates, |m| &m.cache_hit_rate_by_prefix);
    let hits = prefix_hits::join(&counted, rates, r);
    let prefix_hit_rates: Map<String, Value> = hits
        .iter()
        .map(|h| (h.prefix.into(), json!(h.hit_rate)))
        .collect();
    let prefix_grades: Map<String, Value> = hits
        .iter()
        .map(|h| (h.prefix.into(), json!(h.grade)))
        .collect();
    let memory = grade::memory_fraction(c.used_memory_bytes, c.maxmemory_bytes);
    json!({
        "hit_rate": c.hit_rate, "hit_rate_lifetime": c.hit_rate_lifetime,
        "hits_per_sec": c.hits_per_sec, "misses_per_sec": c.misses_per_sec,
        "ops_per_sec": c.ops_per_sec, "used_memory_bytes": c.used_memory_bytes,
        "maxmemory_bytes": c.maxmemory_bytes, "evicted_keys_per_sec": c.evicted_keys_per_sec,
        "connected_clients": c.connected_clients, "ping_ms": c.ping_ms, "keys": c.keys,
        "prefixes": prefixes,
        "prefix_counts": c.prefixes.iter().map(|p| json!({
            "prefix": p.prefix, "keys": p.keys, "margin": p.margin, "exact": p.exact,
            "sampled": p.sampled, "age_s": p.age_s,
        })).collect::<Vec<_>>(),
        "prefix_hit_rates": prefix_hit_rates,
        "grade": {
            "prefix_hit_rates": prefix_grades,
            "hit_rate": grade::of_hit_rate(c.hit_rate, r),
            "ping_ms": grade::of_cache_latency(c.ping_ms, r),
            "memory": grade::of_memory_use(memory),
        },
    })
}

fn deployments_json(state: &State) -> Vec<Value> {
    state
        .cluster
        .value
        .iter()
        .flat_map(|c| c.deployments.iter())
        .map(|d| {
            let v = state.verdict(d);
            json!({
                "context": d.context,
                "namespace": d.namespace, "name": d.name, "replicas": d.replicas,
                "ready": d.ready, "available": d.available,
                "hpa": d.hpa.as_ref().map(|h| json!({
                    "name": h.name, "min": h.min, "max": h.max, "current": h.current, "desired": h.desired,
                })),
                "vpa": d.vpa,
                // null unless hibernated: the count a wake restores and what it saves.
                "hibernated": d.hibernated.as_ref().map(|h| json!({
                    "replicas": h.replicas, "by": h.by, "at": h.at,
                    "saves_per_hour": state.hibernation_savings(d).and_then(Result::ok),
                })),
                // direction: up|down|hold|unknown; at_limit: the HPA's max (up) or min
                // (down) forbids the move.
                "verdict": { "direction": v.direction, "reasons": v.reasons, "at_limit": v.at_limit },
            })
        })
        .collect()
}

fn cost_json(c: &CostBreakdown, state: &State) -> Value {
    let month = c.per_hour.total * crate::domain::cost::HOURS_PER_MONTH;
    json!({
        "currency": state.config.cost.currency,
        "per_hour": c.per_hour,
        "cache_savings_per_hour": state.cache_savings_per_hour(),
        "per_1k_requests": state.entry_qps().and_then(|q| crate::domain::cost::per_1k_requests(c.per_hour.total, q)),
        "month_projection": month,
        // Against [cost] monthly_budget; null without one.
        "grade": state.config.cost.monthly_budget.map(|b| json!({
            "month_projection": grade::of_spend(month, b),
        })),
        "today": state.spend_today.as_ref().map(|t| json!({
            "since": t.since.to_rfc3339(), "total": t.total, "missing": t.missing, "source": "prometheus",
        })),
        "spend_since_start": { "since": state.spend.since.map(|t| t.to_rfc3339()), "total": state.spend.total },
        "by_model": c.by_model.iter().map(|(m, v)| (m.clone(), json!(v))).collect::<Map<_, _>>(),
        "by_deployment": c.by_deployment,
        // What the sums above leave out, each with what to set: never priced as zero.
        "missing_prices": c.missing,
    })
}

/// Exit 0 when every configured source answered, 1 otherwise.
pub fn exit_code(state: &State) -> i32 {
    let failed = SourceKind::ALL.into_iter().any(|k| {
        matches!(
            state.status(k),
            Status::Error | Status::Waiting | Status::Stale
        )
    });
    i32::from(failed)
}

/// A few lines for a human at a terminal.
pub fn to_text(state: &State) -> String {
    let v = to_json(state);
    let mut out = format!("opsdeck snapshot {}\n", state.now.to_rfc3339());
    for kind in SourceKind::ALL {
        let s = &v["sources"][kind.name()];
        out.push_str(&format!(
            "  {:<11} {}",
            kind.name(),
            s["status"].as_str().unwrap_or("?")
        ));
        if let Some(e) = s["error"].as_str() {
            out.push_str(&format!(" ({e})"));
        }
        out.push('\n');
    }
    if let Some(c) = state.cache.value.as_ref() {
        out.push_str(&format!(
            "  cache hit rate {}\n",
            c.hit_rate.map_or("—".into(), crate::ui::format::ratio_pct)
        ));
    }
    for d in state
        .cluster
        .value
        .iter()
        .flat_map(|c| c.deployments.iter())
    {
        let ctx = if state.several_contexts() {
            format!("{} ", d.context)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "  {ctx}{}/{} {}/{} ready, rules: {}\n",
            d.namespace,
            d.name,
            d.ready,
            d.replicas,
            state.verdict(d).label()
        ));
    }
    if let Some(c) = &state.cost {
        out.push_str(&format!(
            "  cost {}/h\n",
            crate::ui::format::money(c.per_hour.total, &state.config.cost.currency)
        ));
    }
    let cur = &state.config.cost.currency;
    for s in state.suggestions().list {
        out.push_str(&format!(
            "  suggestion {} {}: saves {}/h ({})\n",
            s.kind.name(),
            s.target,
            crate::ui::format::money(s.saving_per_hour, cur),
            s.basis
        ));
    }
    for a in &state.alerts {
        out.push_str(&format!("  alert {:?}: {}\n", a.severity, a.message));
    }
    for a in &state.prom_alerts {
        let state = if a.firing { "firing" } else { "pending" };
        out.push_str(&format!(
            "  prometheus {state} {} {}: {}",
            a.severity, a.name, a.summary
        ));
        if let Some(url) = &a.runbook_url {
            out.push_str(&format!(" (runbook {url})"));
        }
        out.push('\n');
    }
    out
}

/// `opsdeck snapshot [--json]`: every configured source sampled at once (the demo's
/// history on the demo), printed once. Exit 0 when every source answered, 1 otherwise.
pub async fn run(config: crate::config::Config, demo: bool, seed: u64, json: bool) -> u8 {
    let now = chrono::Utc::now();
    let mut state = State::new(config, now, demo);
    let updates = if demo {
        crate::sources::sim::backfill(seed, now).1
    } else {
        let refresh = std::time::Duration::from_millis(state.refresh_ms());
        crate::sources::registry::snapshot_all(&state.config, refresh).await
    };
    for u in updates {
        state.apply(crate::state::Msg::Source(u));
    }
    if json {
        match serde_json::to_string_pretty(&to_json(&state)) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("error: cannot write the snapshot as JSON: {e}");
                return super::EXIT_FAILED;
            }
        }
    } else {
        print!("{}", to_text(&state));
    }
    exit_code(&state) as u8
}
