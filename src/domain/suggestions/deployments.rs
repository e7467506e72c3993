//! The suggestions about deployments: spot capacity, right-sizing, hibernation.

use super::{Findings, Inputs, Kind, Suggestion, money};
use crate::config::NodeClass;
use crate::domain::cost::{pod_price, pool_class};
use crate::model::{Deployment, ServiceLatency, TrafficHistory, Vpa};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Requests per second under which a service counts as idle: under one request in 100 s.
pub const IDLE_QPS: f64 = 0.01;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

const NEEDS_DEPLOYMENTS: &str = "deployments, their requests and pools ([kubernetes])";

fn running<'a>(i: &Inputs<'a>) -> Option<impl Iterator<Item = &'a Deployment>> {
    Some(i.deployments?.iter().filter(|d| d.replicas > 0))
}

/// $/h of one of `d`'s pods, or None with the missing price added to `f`.
fn pod_per_hour(d: &Deployment, i: &Inputs, f: &mut Findings) -> Option<f64> {
    match pod_price(d, i.cost, i.node_prices) {
        Ok(p) => Some(p.per_hour),
        Err(m) => {
            f.missing.push(m.to_string());
            None
        }
    }
}

fn target(d: &Deployment) -> String {
    format!("{}/{}", d.namespace, d.name)
}

/// Keeps, per service, when its QPS went under [`IDLE_QPS`] and stayed there. A service
/// with traffic, with no figure (NaN) or no longer listed is forgotten: idleness is only
/// what the samples showed without a break.
pub fn track_idle(
    idle: &mut BTreeMap<String, DateTime<Utc>>,
    at: DateTime<Utc>,
    services: &[ServiceLatency],
) {
    idle.retain(|name, _| services.iter().any(|s| s.name == *name && quiet(s)));
    for s in services.iter().filter(|s| quiet(s)) {
        let since = idle.entry(s.name.clone()).or_insert(at);
        *since = (*since).min(at);
    }
}

/// What Prometheus saw before this console started: a service whose QPS stayed under
/// [`IDLE_QPS`] over the whole idle window (`window_peak_qps`) has been idle since at least
/// the window's start. Not a service the latest sample shows busy; [`track_idle`] forgets
/// it as soon as one does.
pub fn idle_from_history(
    idle: &mut BTreeMap<String, DateTime<Utc>>,
    at: DateTime<Utc>,
    window_s: u64,
    history: &TrafficHistory,
    services: Option<&[ServiceLatency]>,
) {
    let start = at - chrono::Duration::seconds(window_s.min(i64::MAX as u64) as i64);
    for h in &history.services {
        if !h.window_peak_qps.is_some_and(|p| p < IDLE_QPS) {
            continue;
        }
        let busy = services
            .into_iter()
            .flatten()
            .any(|s| s.name == h.service && !quiet(s));
        if !busy {
            let since = idle.entry(h.service.clone()).or_insert(start);
            *since = (*since).min(start);
        }
    }
}

fn quiet(s: &ServiceLatency) -> bool {
    s.qps.is_finite() && s.qps < IDLE_QPS
}

/// Deployments on on-demand CPU pools (no GPUs) at the spot price: their compute $/h ×
/// (1 − `[cost] spot_multiplier`).
pub fn spot(i: &Inputs) -> Findings {
    let mut f = Findings::default();
    let cur = i.cost.currency.as_str();
    let Some(deployments) = running(i) else {
        f.missing.push(NEEDS_DEPLOYMENTS.into());
        return f;
    };
    let keep = 1.0 - i.cost.spot_multiplier;
    for d in deployments.filter(|d| d.gpus == 0) {
        if pool_class(&d.pool, i.cost) != NodeClass::OnDemand {
            continue;
        }
        let Some(pod) = pod_per_hour(d, i, &mut f) else {
            continue;
        };
        let now = d.replicas as f64 * pod;
        if now <= 0.0 || keep <= 0.0 {
            continue;
        }
        let basis = format!(
            "{} pods × {}/h on on-demand pool {} = {}/h; spot at × {m} saves {}/h × (1 − {m})",
            d.replicas,
            money(pod, cur),
            d.pool,
            money(now, cur),
            money(now, cur),
            m = i.cost.spot_multiplier,
        );
        f.suggestions
            .push(Suggestion::new(Kind::Spot, target(d), now * keep, basis));
    }
    if f.suggestions.is_empty() && f.missing.is_empty() {
        f.notes
            .push("no running CPU deployment on an on-demand pool".into());
    }
    f
}

/// One pod's use: CPU cores and memory bytes (either may be unknown), and its source.
struct PodUse {
    cpu: Option<f64>,
    memory: Option<f64>,
    from: &'static str,
}

/// The VPA's target summed over its containers (the "*" policy is not a container).
fn vpa_target(v: &Vpa) -> Option<PodUse> {
    let sum = |pick: fn(&crate::model::VpaResources) -> Option<f64>| {
        v.containers
            .iter()
            .filter(|c| c.name != "*")
            .filter_map(|c| pick(&c.target))
            .fold(None, |acc: Option<f64>, x| Some(acc.unwrap_or(0.0) + x))
    };
    let u = PodUse {
        cpu: sum(|r| r.cpu_cores),
        memory: sum(|r| r.memory_bytes),
        from: "VPA target",
    };
    (u.cpu.is_some() || u.memory.is_some()).then_some(u)
}

/// A deployment's series in a p95 query's answer, or why there is none.
fn usage_of(
    answer: Option<&Result<BTreeMap<String, f64>, String>>,
    key: &str,
    name: &str,
) -> Result<f64, String> {
    match answer {
        None => Err(format!(
            "from [prometheus.queries] {key} (Prometheus API mode) or a VPA"
        )),
        Some(Err(e)) => Err(format!("[prometheus.queries] {key} failed: {e}")),
        Some(Ok(rows)) => rows
            .get(name)
            .copied()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("[prometheus.queries] {key} has no series for it")),
    }
}

/// One pod's use: the VPA's recommendation when it has one, else Prometheus' p95 of all
/// the pods together divided by the replicas.
fn pod_use(d: &Deployment, i: &Inputs) -> Result<PodUse, String> {
    if let Some(u) = d.vpa.as_ref().and_then(vpa_target) {
        return Ok(u);
    }
    let n = d.replicas as f64;
    let cpu = usage_of(i.cpu_usage_p95, "cpu_usage_p95_cores", &d.name);
    let memory = usage_of(i.memory_usage_p95, "memory_usage_p95_bytes", &d.name);
    match (cpu, memory) {
        (Err(e), Err(_)) => Err(e),
        (cpu, memory) => Ok(PodUse {
            cpu: cpu.ok().map(|v| v / n),
            memory: memory.ok().map(|v| v / n),
            from: "Prometheus p95",
        }),
    }
}

/// Deployments whose p95 CPU or memory use is under half their requests: the excess
/// (request − use) of each such resource, priced as the pod's requests are.
pub fn right_size(i: &Inputs) -> Findings {
    let mut f = Findings::default();
    let cur = i.cost.currency.as_str();
    let Some(deployments) = running(i) else {
        f.missing.push(NEEDS_DEPLOYMENTS.into());
        return f;
    };
    // Deployments without a use figure, grouped by why, so one cause is one line.
    let mut unknown: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut checked = 0;
    for d in deployments {
        let u = match pod_use(d, i) {
            Ok(u) => u,
            Err(why) => {
                unknown.entry(why).or_default().push(&d.name);
                continue;
            }
        };
        checked += 1;
        let excess = |used: Option<f64>, request: f64| {
            used.filter(|u| request > 0.0 && *u < 0.5 * request)
                .map(|u| request - u)
        };
        let cpu = excess(u.cpu, d.cpu_request_cores);
        let mem = excess(u.memory.map(|b| b / GIB), d.memory_request_gib);
        if cpu.is_none() && mem.is_none() {
            continue;
        }
        let cut = Deployment {
            cpu_request_cores: cpu.unwrap_or(0.0),
            memory_request_gib: mem.unwrap_or(0.0),
            gpus: 0,
            ..d.clone()
        };
        let Some(pod) = pod_per_hour(&cut, i, &mut f) else {
            continue;
        };
        let figure = |used: Option<f64>, request: f64, unit: &str| match used {
            Some(v) => format!("{v:.2} of {request:.2} {unit}"),
            None => format!("unknown of {request:.2} {unit}"),
        };
        let mut cuts = Vec::new();
        if let Some(c) = cpu {
            cuts.push(format!("{c:.2} cores"));
        }
        if let Some(m) = mem {
            cuts.push(format!("{m:.2} GiB"));
        }
        let basis = format!(
            "per pod ({}): CPU {}, memory {}; excess {} × {} pods at {}/h a pod on {}",
            u.from,
            figure(u.cpu, d.cpu_request_cores, "cores"),
            figure(u.memory.map(|b| b / GIB), d.memory_request_gib, "GiB"),
            cuts.join(" + "),
            d.replicas,
            money(pod, cur),
            d.pool,
        );
        let saving = d.replicas as f64 * pod;
        f.suggestions
            .push(Suggestion::new(Kind::RightSize, target(d), saving, basis));
    }
    for (why, names) in unknown {
        f.missing
            .push(format!("p95 use of {}: {why}", names.join(", ")));
    }
    if f.suggestions.is_empty() && checked > 0 {
        f.notes.push(format!(
            "{checked} deployment(s) checked: each uses at least half its CPU and memory requests"
        ));
    }
    f
}

/// Non-critical deployments (not matching `[actions] never_hibernate`) whose service had
/// no traffic for `[cost] idle_hibernate_after_s`: their compute $/h.
pub fn hibernate(i: &Inputs) -> Findings {
    let mut f = Findings::default();
    let cur = i.cost.currency.as_str();
    let Some(deployments) = running(i) else {
        f.missing.push(NEEDS_DEPLOYMENTS.into());
        return f;
    };
    let Some(services) = i.services else {
        f.missing
            .push("QPS per service ([prometheus.queries] qps)".into());
        return f;
    };
    let after = i.cost.idle_hibernate_after_s as i64;
    let mut no_qps = Vec::new();
    let mut waiting = Vec::new();
    for d in deployments.filter(|d| d.hibernated.is_none()) {
        if i.actions
            .never_hibernate_match(&d.namespace, &d.name)
            .is_some()
        {
            continue;
        }
        if !services.iter().any(|s| s.name == d.name) {
            no_qps.push(d.name.as_str());
            continue;
        }
        let Some(since) = i.idle_since.get(&d.name) else {
            continue;
        };
        let idle_s = (i.now - *since).num_seconds();
        if idle_s < after {
            waiting.push(format!(
                "{} idle {} of {} min",
                d.name,
                idle_s / 60,
                after / 60
            ));
            continue;
        }
        let Some(pod) = pod_per_hour(d, i, &mut f) else {
            continue;
        };
        let basis = format!(
            "under {IDLE_QPS} req/s since {} ({} min ≥ {} min); {} pods × {}/h",
            since.format("%H:%M"),
            idle_s / 60,
            after / 60,
            d.replicas,
            money(pod, cur),
        );
        f.suggestions.push(Suggestion::new(
            Kind::Hibernate,
            target(d),
            d.replicas as f64 * pod,
            basis,
        ));
    }
    if !no_qps.is_empty() {
        f.missing.push(format!(
            "QPS of a service named as the deployment ([prometheus.queries] qps) for {}",
            no_qps.join(", ")
        ));
    }
    if !waiting.is_empty() {
        f.notes.push(waiting.join(", "));
    } else if f.suggestions.is_empty() && f.missing.is_empty() {
        f.notes
            .push("every non-critical deployment has traffic".into());
    }
    f
}
