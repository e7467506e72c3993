//! Each kind against figures worked out by hand, and each kind's missing inputs.

use super::*;
use crate::model::{Hibernation, ServiceHistory, TrafficHistory, Vpa, VpaContainer, VpaResources};
use chrono::TimeZone;

struct Fixture {
    now: DateTime<Utc>,
    deployments: Vec<Deployment>,
    services: Vec<ServiceLatency>,
    models: Vec<ModelTokens>,
    cached: BTreeMap<String, f64>,
    nodes: BTreeMap<String, NodePrice>,
    cpu: Result<BTreeMap<String, f64>, String>,
    memory: Result<BTreeMap<String, f64>, String>,
    idle: BTreeMap<String, DateTime<Utc>>,
    cost: CostConfig,
    rules: Rules,
    actions: ActionsConfig,
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

fn dep(name: &str, pool: &str, cpu: f64, mem: f64, gpus: u32, replicas: u32) -> Deployment {
    Deployment {
        namespace: "cs-prod".into(),
        name: name.into(),
        pool: pool.into(),
        cpu_request_cores: cpu,
        memory_request_gib: mem,
        gpus,
        replicas,
        ..Default::default()
    }
}

fn svc(name: &str, qps: f64) -> ServiceLatency {
    ServiceLatency {
        name: name.into(),
        qps,
        ..Default::default()
    }
}

fn fixture() -> Fixture {
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 15, 30, 0).unwrap();
    Fixture {
        now,
        deployments: vec![
            dep("chat-api", "cpu-ondemand", 1.0, 2.0, 0, 4),
            dep("retrieval", "memory-ondemand", 2.0, 8.0, 0, 2),
            dep("llm-gateway", "cpu-spot", 0.5, 1.0, 0, 3),
            dep("embedding", "gpu-ondemand", 4.0, 16.0, 1, 2),
            dep("report-export", "cpu-ondemand", 2.0, 4.0, 0, 2),
        ],
        services: vec![
            svc("chat-api", 200.0),
            svc("retrieval", 30.0),
            svc("llm-gateway", 40.0),
            svc("embedding", 20.0),
            svc("report-export", 0.0),
        ],
        models: vec![
            ModelTokens {
                model: "gpt-4".into(),
                input_per_sec: 900.0,
                output_per_sec: 300.0,
            },
            ModelTokens {
                model: "gpt-3.5-turbo".into(),
                input_per_sec: 4000.0,
                output_per_sec: 1200.0,
            },
        ],
        cached: BTreeMap::new(),
        nodes: BTreeMap::new(),
        cpu: Ok(BTreeMap::new()),
        memory: Ok(BTreeMap::new()),
        idle: BTreeMap::new(),
        cost: CostConfig::default(),
        rules: Rules::default(),
        actions: ActionsConfig::default(),
    }
}

impl Fixture {
    fn inputs(&self, hit_rate: Option<f64>, ai: Option<f64>) -> Inputs<'_> {
        Inputs {
            now: self.now,
            deployments: Some(&self.deployments),
            services: Some(&self.services),
            models: Some(&self.models),
            cached_input: &self.cached,
            node_prices: &self.nodes,
            hit_rate: hit_rate.map(|h| (h, "Redis")),
            ai_model_per_hour: ai,
            cpu_usage_p95: Some(&self.cpu),
            memory_usage_p95: Some(&self.memory),
            idle_since: &self.idle,
            cost: &self.cost,
            rules: &self.rules,
            actions: &self.actions,
        }
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn cache_saves_the_share_of_misses_the_target_removes() {
    let fx = fixture();
    // Hit rate 60 %, target 80 %: misses go from 40 % to 20 % of traffic, half the LLM
    // calls: 50 $/h × (0.8 − 0.6) / (1 − 0.6) = 25 $/h.
    let f = cache(&fx.inputs(Some(0.6), Some(50.0)));
    assert_eq!(f.missing, Vec::<String>::new());
    let s = &f.suggestions[0];
    assert!(close(s.saving_per_hour, 25.0), "{}", s.saving_per_hour);
    assert!(close(s.saving_per_month, 25.0 * 730.5));
    assert_eq!(s.target, "cache");
    // 200 req/s: 80 LLM calls/s now, 40 at the target, 40 avoided.
    assert_eq!(
        s.basis,
        "hit rate 60.0% (Redis) → 80.0% target at 200.0 req/s: LLM calls 80.0/s → 40.0/s \
         (40.0/s avoided); AI models $50.00/h × (80.0% − 60.0%) / (1 − 60.0%)"
    );
    // At or above the target: nothing, and why.
    let f = cache(&fx.inputs(Some(0.86), Some(50.0)));
    assert!(f.suggestions.is_empty());
    assert_eq!(f.notes, ["hit rate 86.0% (Redis) meets the 80.0% target"]);
}

#[test]
fn cache_without_its_inputs_names_each_and_suggests_nothing() {
    let mut fx = fixture();
    fx.services.clear();
    let f = cache(&fx.inputs(None, None));
    assert!(f.suggestions.is_empty());
    assert_eq!(f.missing.len(), 3, "{:?}", f.missing);
    assert!(f.missing[0].starts_with("the cache hit rate"));
    assert!(f.missing[1].contains("[prometheus.queries] qps"));
    assert!(f.missing[2].contains("llm_*_tokens_per_sec"));
}

#[test]
fn routing_moves_a_share_of_the_dearest_model_to_the_cheapest() {
    let fx = fixture();
    // gpt-4 at 900 in / 300 out: (900 × 0.03 + 300 × 0.06) / 1000 = 0.045 $/s;
    // at gpt-3.5-turbo's prices (900 × 0.0015 + 300 × 0.002) / 1000 = 0.00195 $/s.
    // 30 % × (0.045 − 0.00195) × 3600 = 46.494 $/h.
    let f = model_routing(&fx.inputs(None, None));
    let s = &f.suggestions[0];
    assert_eq!(s.target, "gpt-4 → gpt-3.5-turbo");
    assert!(close(s.saving_per_hour, 46.494), "{}", s.saving_per_hour);
    assert_eq!(
        s.basis,
        "30% of gpt-4's 900 in + 300 out tokens/s: $48.60/h at its prices, $2.11/h at \
         gpt-3.5-turbo's"
    );
    // Only the cheap model has traffic: nothing to route.
    let mut fx = fixture();
    fx.models.remove(0);
    let f = model_routing(&fx.inputs(None, None));
    assert!(f.suggestions.is_empty());
    assert_eq!(
        f.notes,
        ["gpt-3.5-turbo is already the cheapest configured model for its traffic"]
    );
    fx.models.clear();
    let f = model_routing(&fx.inputs(None, None));
    assert!(f.missing[0].starts_with("LLM token rates per model"));
}

#[test]
fn spot_prices_on_demand_cpu_pods_at_the_multiplier() {
    let fx = fixture();
    let f = spot(&fx.inputs(None, None));
    let got: Vec<(&str, f64)> = f
        .suggestions
        .iter()
        .map(|s| (s.target.as_str(), s.saving_per_hour))
        .collect();
    // chat-api: 4 × (1 × 0.04 + 2 × 0.005) = 0.20 $/h, × 0.7 = 0.14;
    // retrieval: 2 × (2 × 0.04 + 8 × 0.005) = 0.24, × 0.7 = 0.168;
    // report-export: 2 × (2 × 0.04 + 4 × 0.005) = 0.20, × 0.7 = 0.14.
    // llm-gateway is on spot already, embedding has a GPU.
    let want = [
        ("cs-prod/chat-api", 0.14),
        ("cs-prod/retrieval", 0.168),
        ("cs-prod/report-export", 0.14),
    ];
    assert_eq!(got.len(), want.len(), "{got:?}");
    for ((t, v), (wt, wv)) in got.iter().zip(want) {
        assert_eq!(*t, wt);
        assert!(close(*v, wv), "{t}: {v} vs {wv}");
    }
    assert_eq!(
        f.suggestions[0].basis,
        "4 pods × $0.05/h on on-demand pool cpu-ondemand = $0.20/h; spot at × 0.3 saves $0.20/h × (1 − 0.3)"
    );
    let mut fx = fixture();
    fx.deployments.clear();
    let f = spot(&Inputs {
        deployments: None,
        ..fx.inputs(None, None)
    });
    assert!(f.suggestions.is_empty());
    assert!(f.missing[0].contains("[kubernetes]"));
}

#[test]
fn right_size_cuts_requests_under_half_used_vpa_first() {
    let mut fx = fixture();
    // retrieval: 2 pods using 1.0 core and 6 GiB together: per pod 0.5 of 2 cores (under
    // half) and 3 of 8 GiB (under half). Excess 1.5 cores + 5 GiB a pod:
    // 1.5 × 0.04 + 5 × 0.005 = 0.085 $/h, × 2 pods = 0.17 $/h.
    fx.cpu = Ok([
        ("retrieval".to_string(), 1.0),
        ("chat-api".to_string(), 3.0),
    ]
    .into());
    fx.memory = Ok([("retrieval".to_string(), 6.0 * GIB)].into());
    // embedding's VPA recommends 1.5 cores (under half of 4) and 10 GiB (not under half of
    // 16): excess 2.5 cores on the GPU pool at the list price, 2.5 × 0.04 = 0.10 × 2 = 0.20.
    let r = |cpu: f64, gib: f64| VpaResources {
        cpu_cores: Some(cpu),
        memory_bytes: Some(gib * GIB),
    };
    fx.deployments[3].vpa = Some(Vpa {
        name: "embedding-vpa".into(),
        containers: vec![VpaContainer {
            name: "embedding".into(),
            target: r(1.5, 10.0),
            ..Default::default()
        }],
        ..Default::default()
    });
    let f = right_size(&fx.inputs(None, None));
    let by = |t: &str| {
        f.suggestions
            .iter()
            .find(|s| s.target == t)
            .unwrap_or_else(|| panic!("{t} in {:?}", f.suggestions))
    };
    assert!(close(by("cs-prod/retrieval").saving_per_hour, 0.17));
    assert_eq!(
        by("cs-prod/retrieval").basis,
        "per pod (Prometheus p95): CPU 0.50 of 2.00 cores, memory 3.00 of 8.00 GiB; excess \
         1.50 cores + 5.00 GiB × 2 pods at $0.085/h a pod on memory-ondemand"
    );
    assert!(close(by("cs-prod/embedding").saving_per_hour, 0.20));
    assert!(
        by("cs-prod/embedding")
            .basis
            .starts_with("per pod (VPA target)")
    );
    // chat-api uses 3 of 4 cores: no cut, its memory unknown is not a reason to guess.
    assert_eq!(f.suggestions.len(), 2, "{:?}", f.suggestions);
    // llm-gateway and report-export have neither a VPA nor a series.
    assert_eq!(
        f.missing,
        [
            "p95 use of llm-gateway, report-export: [prometheus.queries] cpu_usage_p95_cores has no series for it"
        ]
    );
    // Without the queries at all: every deployment without a VPA is named.
    let f = right_size(&Inputs {
        cpu_usage_p95: None,
        memory_usage_p95: None,
        ..fx.inputs(None, None)
    });
    assert_eq!(f.suggestions.len(), 1);
    assert!(
        f.missing[0]
            .starts_with("p95 use of chat-api, retrieval, llm-gateway, report-export: from")
    );
}

#[test]
fn hibernate_after_the_idle_time_never_the_critical_ones() {
    let mut fx = fixture();
    fx.cost.idle_hibernate_after_s = 3600;
    // report-export idle since 14:10, 80 min; chat-api idle too but it is the entry
    // (never_hibernate "chat-*").
    let t = |h, m| Utc.with_ymd_and_hms(2026, 11, 25, h, m, 0).unwrap();
    fx.services[0].qps = 0.0;
    track_idle(&mut fx.idle, t(14, 10), &fx.services);
    track_idle(&mut fx.idle, t(15, 0), &fx.services);
    assert_eq!(fx.idle.get("report-export"), Some(&t(14, 10)));
    let f = hibernate(&fx.inputs(None, None));
    assert_eq!(f.suggestions.len(), 1, "{:?}", f);
    let s = &f.suggestions[0];
    assert_eq!(s.target, "cs-prod/report-export");
    // 2 pods × (2 × 0.04 + 4 × 0.005) = 0.20 $/h.
    assert!(close(s.saving_per_hour, 0.20));
    assert_eq!(
        s.basis,
        "under 0.01 req/s since 14:10 (80 min ≥ 60 min); 2 pods × $0.10/h"
    );
    // Traffic again: forgotten. Idle but not long enough: a note, no suggestion.
    let mut busy = fx.services.clone();
    busy[4].qps = 2.0;
    track_idle(&mut fx.idle, t(15, 10), &busy);
    assert!(!fx.idle.contains_key("report-export"));
    track_idle(&mut fx.idle, t(15, 20), &fx.services);
    let f = hibernate(&fx.inputs(None, None));
    assert!(f.suggestions.is_empty());
    assert_eq!(f.notes, ["report-export idle 10 of 60 min"]);
    // A hibernated deployment is not suggested again; without QPS nothing is.
    fx.deployments[4].hibernated = Some(Hibernation::default());
    assert!(hibernate(&fx.inputs(None, None)).notes[0].starts_with("every"));
    let f = hibernate(&Inputs {
        services: None,
        ..fx.inputs(None, None)
    });
    assert!(f.suggestions.is_empty());
    assert!(f.missing[0].contains("[prometheus.queries] qps"));
}

/// A console just started: Prometheus' peak over the idle window says report-export has
/// been idle all of it, so the suggestion is there at once; a window not covered, a peak
/// above idle, or a service busy now counts for nothing.
#[test]
fn hibernate_from_the_idle_window_prometheus_saw() {
    let mut fx = fixture();
    fx.cost.idle_hibernate_after_s = 3600;
    let history = |peaks: &[(&str, Option<f64>)]| TrafficHistory {
        services: peaks
            .iter()
            .map(|(name, peak)| ServiceHistory {
                service: name.to_string(),
                window_peak_qps: *peak,
                ..ServiceHistory::default()
            })
            .collect(),
    };
    let h = history(&[
        ("report-export", Some(0.0)),
        ("retrieval", Some(0.0)),
        ("embedding", Some(0.5)),
        ("llm-gateway", None),
    ]);
    idle_from_history(&mut fx.idle, fx.now, 3600, &h, Some(&fx.services));
    // retrieval answers 30 req/s now: Prometheus' hour does not outweigh the sample.
    let since = fx.now - chrono::Duration::hours(1);
    assert_eq!(
        fx.idle,
        BTreeMap::from([("report-export".to_string(), since)])
    );
    let f = hibernate(&fx.inputs(None, None));
    assert_eq!(f.suggestions.len(), 1, "{f:?}");
    assert_eq!(
        f.suggestions[0].basis,
        "under 0.01 req/s since 14:30 (60 min ≥ 60 min); 2 pods × $0.10/h"
    );
    // An earlier start the console saw itself stays; the next sample keeps it.
    let earlier = fx.now - chrono::Duration::hours(3);
    fx.idle.insert("report-export".into(), earlier);
    idle_from_history(&mut fx.idle, fx.now, 3600, &h, None);
    track_idle(&mut fx.idle, fx.now, &fx.services);
    assert_eq!(fx.idle["report-export"], earlier);
}

#[test]
fn all_sorts_by_saving_and_keeps_kinds_apart() {
    let fx = fixture();
    let s = all(&fx.inputs(Some(0.6), Some(50.0)));
    let kinds: Vec<Kind> = s.list.iter().map(|s| s.kind).collect();
    assert_eq!(kinds[..2], [Kind::ModelRouting, Kind::Cache]);
    assert!(
        s.list
            .windows(2)
            .all(|w| w[0].saving_per_hour >= w[1].saving_per_hour)
    );
    assert!(s.missing.iter().any(|(k, _)| *k == Kind::RightSize));
    assert_eq!(
        serde_json::to_value(&s.list[0]).unwrap()["kind"],
        "model_routing"
    );
}
