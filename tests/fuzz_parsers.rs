//! No panic on any input, for every parser that reads what a backend or an operator hands
//! over: Redis INFO (and the rates derived from two samples), Prometheus exposition text
//! (and the panels computed from it), Prometheus API JSON (and the panels and the report's
//! cost window built from it), Kubernetes objects (deserialized into k8s-openapi types and
//! slimmed), config.toml with `${ENV}` references, and warmup JSONL lines.
//!
//! Inputs are random bytes and, mostly, mutations of the real captures in `tests/fixtures/`
//! so that cases get past the syntax check. Cases per property come from
//! `OPSDECK_FUZZ_CASES` (256 by default); `scripts/fuzz.sh` runs a million of each.

mod fuzz_gen;

use fuzz_gen::{Bytes, json_input, line_input, number, text};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Node, Pod};
use opsdeck::config::{self, CacheConfig, CostConfig};
use opsdeck::ops::warmup::{WarmupOptions, parse_jsonl};
use opsdeck::sources::kube::convert;
use opsdeck::sources::kube::pools::NodeLabels;
use opsdeck::sources::kube::vpa::{self, VerticalPodAutoscaler};
use opsdeck::sources::prometheus::api::{Data, PromError, parse_response};
use opsdeck::sources::prometheus::panels::{self, Panel, PanelAnswer};
use opsdeck::sources::prometheus::period::{self, Answers};
use opsdeck::sources::prometheus::scrape::{Observation, panel_values, parse_exposition};
use opsdeck::sources::prometheus::values_of;
use opsdeck::sources::redis::derive::{self, NodeReading};
use opsdeck::sources::redis::info::parse_info;
use proptest::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

const INFO: &[&str] = &[include_str!("fixtures/redis/info.txt")];
const INFO_TOKENS: &[&str] = &[
    "\r\n",
    "# Stats\r\n",
    "keyspace_hits:",
    "keyspace_misses:",
    "total_commands_processed:",
    "evicted_keys:",
    "expired_keys:",
    "uptime_in_seconds:",
    "run_id:",
    "mem_fragmentation_ratio:",
    "cluster_enabled:",
    "db0:keys=",
    "db15:keys=",
    ",expires=",
    "18446744073709551615",
    "9223372036854775808",
    "4294967295",
    "1e308",
    "NaN",
];

const EXPOSITION: &[&str] = &[
    include_str!("fixtures/prometheus/exporter.txt"),
    include_str!("fixtures/prometheus/prometheus-self.txt"),
];
const EXPOSITION_TOKENS: &[&str] = &[
    "\n",
    "# TYPE ",
    " counter\n",
    " histogram\n",
    " gauge\n",
    " summary\n",
    "_bucket{le=\"+Inf\"} ",
    "{service=\"",
    "le=\"",
    "\",",
    "} ",
    " NaN",
    " +Inf",
    " -Inf",
    " 1e308",
    " 0",
    " 1712345678901",
];

const API_JSON: &[&str] = &[
    include_str!("fixtures/prometheus/vector-p95.json"),
    include_str!("fixtures/prometheus/vector-nan.json"),
    include_str!("fixtures/prometheus/matrix-qps.json"),
    include_str!("fixtures/prometheus/scalar.json"),
    include_str!("fixtures/prometheus/string.json"),
    include_str!("fixtures/prometheus/error-parse.json"),
    include_str!("fixtures/prometheus/vector-tokens.json"),
    include_str!("fixtures/prometheus/vector-replica-hours.json"),
    include_str!("fixtures/prometheus/vector-requests.json"),
];

const KUBE: &[&str] = &[
    include_str!("fixtures/kube/deployment.json"),
    include_str!("fixtures/kube/hpa.json"),
    include_str!("fixtures/kube/pod.json"),
    include_str!("fixtures/kube/node.json"),
    include_str!("fixtures/kube/vpa.json"),
];

const CONFIG: &[&str] = &[
    include_str!("../config.toml.example"),
    include_str!("fixtures/config/with-env.toml"),
    include_str!("fixtures/config/invalid/bare_star_pattern.toml"),
    include_str!("fixtures/config/invalid/missing_env_var.toml"),
    include_str!("fixtures/config/invalid/wrong_type.toml"),
    include_str!("fixtures/config/invalid/scrape_without_targets.toml"),
];
const CONFIG_TOKENS: &[&str] = &[
    "${",
    "$${",
    "}",
    "${PROM_PASSWORD}",
    "${REDIS_PASSWORD}",
    "${EMPTY}",
    "${UNSET}",
    "${1X}",
    "\"",
    "'",
    "\n",
    " = ",
    "\n[redis]\n",
    "\n[prometheus]\n",
    "\n[[actions.invalidate.groups]]\n",
    "{user_id}",
    "*",
    "[^",
    "\\",
    "redis://user:p@ss@",
    "-1",
    "18446744073709551616",
    "nan",
    "inf",
    "1e309",
];

const WARMUP: &[&str] = &[include_str!("fixtures/warmup/faq.jsonl")];
const WARMUP_TOKENS: &[&str] = &[
    "\n",
    "{\"question\": \"",
    "\"answer\": ",
    ", \"context\": ",
    ", \"ttl_s\": ",
    "\\u0000",
    "\\ud800",
    "\\uDBFF\\uDFFF",
    "1e309",
    "-0.0",
    "5e-324",
    "18446744073709551616",
    "[[[[[[[[",
    "\u{feff}",
];

/// Values the config's `${VAR}` references resolve to: secrets with URL and TOML syntax in
/// them, an empty one, non-ASCII; everything else is unset.
fn env(name: &str) -> Option<String> {
    let v = match name {
        "PROM_PASSWORD" => "p@ss:w/rd%2F#?",
        "PROM_USER" => "opsdeck",
        "PROM_TOKEN" => "eyJhbGciOi.\"tok\".en}",
        "REDIS_PASSWORD" => "${REDIS_PASSWORD}",
        "KUBE_CONTEXT" => "prod-eu-1",
        "KB_VERSION" => "密码-v7",
        "OPSDECK_THEME" => "dark",
        "HOME" => "/home/oncall",
        "EMPTY" => "",
        _ => return None,
    };
    Some(v.to_string())
}

/// Parse INFO replies; every pair that parses becomes a window, and all of them one
/// cluster sample, as the Redis source does on each refresh.
fn redis_info(texts: &[Bytes], elapsed_ms: u64) {
    let infos: Vec<_> = texts
        .iter()
        .filter_map(|t| parse_info(&text(t)).ok())
        .collect();
    let elapsed = Duration::from_millis(elapsed_ms);
    let readings: Vec<NodeReading<'_>> = infos
        .iter()
        .enumerate()
        .map(|(i, cur)| NodeReading {
            addr: "127.0.0.1:7101",
            is_master: i % 2 == 0,
            prev: i.checked_sub(1).map(|p| &infos[p]),
            cur,
            elapsed,
            ping_ms: 0.4,
        })
        .collect();
    for r in &readings {
        let _ = derive::window(r.prev, r.cur, elapsed);
        let _ = derive::lifetime_ratio(r.cur);
    }
    let _ = derive::sample(&readings, true);
    let _ = derive::sample(&readings[..readings.len().min(1)], false);
}

/// The whole exposition path: parse two scrapes and compute every panel from them.
fn exposition(a: &[u8], b: &[u8], dt: f64) {
    let prev = Observation::new(0.0, vec![Some(parse_exposition(&text(a))), None]);
    let cur = Observation::new(dt, vec![Some(parse_exposition(&text(b))), None]);
    let _ = panels::assemble(&panel_values(&prev, &cur));
}

fn answer(body: &[u8]) -> Result<Data, PromError> {
    match parse_response(body) {
        Ok(a) => Ok(a.data),
        Err(Ok(api)) => Err(api),
        Err(Err(detail)) => Err(PromError::Decode {
            url: "http://127.0.0.1:9090".into(),
            detail,
        }),
    }
}

/// API answers as the console (one per panel) and the report (one per cost query) use
/// them.
fn api_json(bodies: &[Bytes], period_s: i64) {
    let at = |i: usize| answer(&bodies[i % bodies.len()]);
    let mut round: BTreeMap<Panel, PanelAnswer> = BTreeMap::new();
    for (i, p) in Panel::ALL
        .into_iter()
        .chain([Panel::HitRateByPrefix])
        .enumerate()
    {
        let a = parse_response(&bodies[i % bodies.len()])
            .map(|a| values_of(p, a.data, a.warnings))
            .map_err(|e| format!("{e:?}"));
        round.insert(p, a);
    }
    let _ = panels::assemble(&round);
    let cost = CostConfig {
        storage_monthly: 120.0,
        ..CostConfig::default()
    };
    let answers = Answers {
        tokens: at(0),
        replica_hours: at(1),
        replicas_now: at(2),
        requests: at(3),
        storage: (bodies.len() > 4).then(|| at(4)),
        network: (bodies.len() > 5).then(|| at(5)),
    };
    let _ = period::assemble(answers, &cost, period_s);
}

/// What the Kubernetes source does with a watched object of each kind.
fn kube_object(body: &[u8]) {
    if let Ok(d) = serde_json::from_slice::<Deployment>(body) {
        let _ = convert::deployment(&d);
    }
    if let Ok(h) = serde_json::from_slice::<HorizontalPodAutoscaler>(body) {
        let slim = convert::hpa(&h);
        let _ = convert::next(&slim);
        let _ = convert::describe_behavior(&slim.behavior);
    }
    if let Ok(p) = serde_json::from_slice::<Pod>(body) {
        let _ = convert::pod(&p);
    }
    if let Ok(n) = serde_json::from_slice::<Node>(body) {
        let _ = convert::node(&n, &NodeLabels::default()).pool();
    }
    if let Ok(v) = serde_json::from_slice::<VerticalPodAutoscaler>(body) {
        let _ = vpa::slim(&v);
    }
}

fn config_text(body: &[u8]) {
    if let Ok(c) = config::parse(&text(body), Path::new("config.toml"), env) {
        let _ = config::summary(&c);
        let _ = format!("{c:?}");
    }
}

fn warmup_lines(body: &[u8], ttl_override_s: Option<u64>) {
    let mut opts = WarmupOptions::from_config(&CacheConfig::default());
    opts.ttl_override_s = ttl_override_s;
    let plan = parse_jsonl(&text(body), "faq.jsonl", &opts);
    for bad in &plan.bad {
        let _ = bad.to_string();
    }
}

// --- line generators and where each format keeps a line's value ---------------------

const INFO_FIELDS: &[&str] = &[
    "keyspace_hits",
    "keyspace_misses",
    "total_commands_processed",
    "evicted_keys",
    "expired_keys",
    "uptime_in_seconds",
    "connected_clients",
    "used_memory",
    "maxmemory",
    "mem_fragmentation_ratio",
    "cluster_enabled",
    "run_id",
    "role",
];

fn info_value(l: &str) -> Option<Range<usize>> {
    Some(l.find(':')? + 1..l.trim_end_matches('\r').len())
}

fn info_line() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        (prop::sample::select(INFO_FIELDS), number()).prop_map(|(f, v)| format!("{f}:{v}\r")),
        ("db[0-9]{1,11}", number(), number())
            .prop_map(|(d, k, e)| format!("{d}:keys={k},expires={e},avg_ttl=0\r")),
        "[a-z_]{1,20}:[ -~]{0,20}\r",
    ]
}

const METRICS: &[&str] = &[
    "http_requests_total",
    "http_request_duration_seconds_bucket",
    "http_request_duration_seconds_count",
    "request_queue_length",
    "llm_tokens_total",
    "container_cpu_usage_seconds_total",
    "container_memory_working_set_bytes",
    "kube_pod_container_resource_requests",
    "cdn_cache_hits_total",
    "cdn_requests_total",
    "app_cache_hits_total",
    "app_cache_misses_total",
];
const LABELS: &[&str] = &[
    "service",
    "code",
    "le",
    "direction",
    "model",
    "deployment",
    "pod",
    "resource",
];

fn exposition_value(l: &str) -> Option<Range<usize>> {
    if l.starts_with('#') {
        return None;
    }
    Some(l.rfind(' ')? + 1..l.len())
}

fn exposition_line() -> impl Strategy<Value = String> + Clone {
    let label = (
        prop::sample::select(LABELS),
        prop_oneof![
            "[a-z0-9.+-]{0,8}",
            Just("+Inf".to_string()),
            Just("500".to_string()),
            Just("input".to_string())
        ],
    );
    prop_oneof![
        4 => (
            prop::sample::select(METRICS),
            prop::collection::vec(label, 0..4),
            number(),
            prop::option::of(number()),
        )
            .prop_map(|(m, ls, v, t)| {
                let ls: Vec<String> = ls.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
                let t = t.map(|t| format!(" {t}")).unwrap_or_default();
                format!("{m}{{{}}} {v}{t}", ls.join(","))
            }),
        1 => (
            prop::sample::select(METRICS),
            prop::sample::select(vec!["counter", "gauge", "histogram", "summary", "untyped", ""]),
        )
            .prop_map(|(m, t)| format!("# TYPE {} {t}", m.trim_end_matches("_bucket"))),
        1 => "(# (TYPE|HELP) )?[a-z_]{1,12}(\\{[a-z]{1,3}=\"[^\"]{0,4}\"(,[a-z]{1,3}=\"[^\"]{0,4}\"){0,2}\\})? (NaN|[+-]Inf|-?[0-9]{1,6}(\\.[0-9]{0,3})?(e-?[0-9])?)( [0-9]{1,13})?",
    ]
}

const CONFIG_KEYS: &[&str] = &[
    "refresh_ms",
    "theme",
    "read_only",
    "cycle_s",
    "wall",
    "url",
    "mode",
    "targets",
    "timeout_ms",
    "bearer_token",
    "username",
    "password",
    "urls",
    "cluster",
    "prefixes",
    "scan_keys_per_sec",
    "context",
    "namespaces",
    "production",
    "kb_version",
    "answer_ttl_s",
    "retrieval_ttl_s",
    "audit_log",
    "max_replicas",
    "confirm_typed_over_keys",
    "max_keys_per_sec",
    "http_url",
    "name",
    "patterns",
    "cpu_up",
    "cpu_down",
    "mem_up",
    "queue_up",
    "p95_up_ms",
    "error_rate_alert",
    "hit_rate_target",
    "hit_rate_alert",
    "cache_latency_ms",
    "vcpu_hour",
    "gpu_hour",
    "spot_multiplier",
    "monthly_budget",
    "monthly_baseline",
    "cache_llm_share",
    "input_per_1k",
    "output_per_1k",
];
const TABLES: &[&str] = &[
    "[ui]",
    "[prometheus]",
    "[prometheus.queries]",
    "[redis]",
    "[kubernetes]",
    "[cache]",
    "[actions]",
    "[actions.warmup]",
    "[actions.invalidate]",
    "[[actions.invalidate.groups]]",
    "[rules]",
    "[cost]",
    "[cost.models.\"gpt-4\"]",
    "[cost.pools.spot]",
];

fn config_value(l: &str) -> Option<Range<usize>> {
    if l.starts_with('[') || l.starts_with('#') {
        return None;
    }
    Some(l.find('=')? + 1..l.len())
}

fn config_line() -> impl Strategy<Value = String> + Clone {
    let value = prop_oneof![
        number(),
        "\"[a-zA-Z0-9:/@${}*?^_.\\[\\]-]{0,24}\"",
        prop::sample::select(vec![
            "\"${PROM_PASSWORD}\"",
            "\"redis://:${REDIS_PASSWORD}@10.0.0.5:6379/0\"",
            "\"http://u:${PROM_PASSWORD}@[::1]:9090\"",
            "[\"user:{user_id}:*\"]",
            "[\"*:*\", \"[^\\\\]]*\"]",
            "[]",
            "true",
            "\"scrape\"",
            "{ x = 1 }",
        ])
        .prop_map(String::from),
    ];
    prop_oneof![
        4 => (prop::sample::select(CONFIG_KEYS), value).prop_map(|(k, v)| format!("{k} = {v}")),
        1 => prop::sample::select(TABLES).prop_map(String::from),
    ]
}

fn warmup_value(l: &str) -> Option<Range<usize>> {
    let start = l.find("\"ttl_s\": ")? + "\"ttl_s\": ".len();
    let end = l[start..].find([',', '}']).map_or(l.len(), |e| start + e);
    Some(start..end)
}

fn warmup_line() -> impl Strategy<Value = String> + Clone {
    let ttl = prop_oneof![
        number().prop_map(|n| serde_json::from_str(&n).unwrap_or(Value::String(n))),
        fuzz_gen::json_leaf(),
    ];
    (
        prop_oneof![
            "\\PC{0,20}",
            "[\u{10000}-\u{10ffff}\u{0}-\u{1f}\"\\\\]{0,6}"
        ],
        fuzz_gen::json_value(),
        prop::option::of(prop_oneof![fuzz_gen::json_leaf(), fuzz_gen::json_value()]),
        prop::option::of(ttl),
    )
        .prop_map(|(q, answer, context, ttl)| {
            let mut line = serde_json::json!({ "question": q, "answer": answer });
            if let Some(c) = context {
                line["context"] = c;
            }
            if let Some(t) = ttl {
                line["ttl_s"] = t;
            }
            line.to_string()
        })
}

proptest! {
    #![proptest_config(fuzz_gen::config())]

    #[test]
    fn fuzz_redis_info(
        texts in prop::collection::vec(line_input(INFO, info_line(), info_value, INFO_TOKENS), 1..5),
        elapsed_ms in prop_oneof![0..2_000u64, any::<u64>()],
    ) {
        redis_info(&texts, elapsed_ms);
    }

    #[test]
    fn fuzz_prometheus_exposition(
        a in line_input(EXPOSITION, exposition_line(), exposition_value, EXPOSITION_TOKENS),
        b in line_input(EXPOSITION, exposition_line(), exposition_value, EXPOSITION_TOKENS),
        dt in prop_oneof![Just(1.0), any::<f64>()],
    ) {
        exposition(&a, &b, dt);
    }

    #[test]
    fn fuzz_prometheus_api_json(
        bodies in prop::collection::vec(json_input(API_JSON), 1..7),
        period_s in prop_oneof![Just(86_400i64), any::<i64>()],
    ) {
        api_json(&bodies, period_s);
    }

    #[test]
    fn fuzz_kube_objects(body in json_input(KUBE)) {
        kube_object(&body);
    }

    #[test]
    fn fuzz_config(body in line_input(CONFIG, config_line(), config_value, CONFIG_TOKENS)) {
        config_text(&body);
    }

    #[test]
    fn fuzz_warmup_lines(
        body in line_input(WARMUP, warmup_line(), warmup_value, WARMUP_TOKENS),
        ttl in prop_oneof![Just(None), any::<u64>().prop_map(Some)],
    ) {
        warmup_lines(&body, ttl);
    }
}

/// The captures the generators start from are what they claim to be, so mutations of
/// them start deep inside each parser.
#[test]
fn fuzz_seeds_parse_cleanly() {
    assert!(parse_info(INFO[0]).is_ok());
    for t in EXPOSITION {
        assert!(!parse_exposition(t).is_empty());
    }
    for j in API_JSON {
        assert!(parse_response(j.as_bytes()).is_ok() || j.contains("\"error\""));
    }
    let _: Deployment = serde_json::from_str(KUBE[0]).unwrap();
    let h: HorizontalPodAutoscaler = serde_json::from_str(KUBE[1]).unwrap();
    assert_eq!(convert::hpa(&h).metrics.len(), 6);
    let p: Pod = serde_json::from_str(KUBE[2]).unwrap();
    assert!(convert::pod(&p).unwrap().deployment.is_some());
    let _: Node = serde_json::from_str(KUBE[3]).unwrap();
    let v: VerticalPodAutoscaler = serde_json::from_str(KUBE[4]).unwrap();
    assert_eq!(vpa::slim(&v).vpa.containers.len(), 1);
    for c in &CONFIG[..2] {
        config::parse(c, Path::new("config.toml"), env).unwrap();
    }
    let opts = WarmupOptions::from_config(&CacheConfig::default());
    let plan = parse_jsonl(WARMUP[0], "faq.jsonl", &opts);
    assert_eq!((plan.entries.len(), plan.bad.len()), (6, 0));
}
