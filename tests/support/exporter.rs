//! A test exporter serving the platform's metrics on `/metrics`, with rates the test sets.
//!
//! Counters advance by wall time at the configured rates each time `/metrics` is read, so
//! Prometheus (scraping every second) and opsdeck's scrape mode see the same steady rates.

use super::http::{HttpServer, Response};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Bucket bounds of `http_request_duration_seconds`, in seconds.
pub const BOUNDS: [f64; 7] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    pub rps: f64,
    /// Share of requests answered with 500.
    pub error_ratio: f64,
    /// Cumulative share of requests at or under each of `BOUNDS`.
    pub latency: [f64; 7],
    pub queue: f64,
}

#[derive(Debug, Clone)]
pub struct Deployment {
    pub name: String,
    pub cpu_cores: f64,
    pub cpu_request: f64,
    pub memory_bytes: f64,
    pub memory_request: f64,
}

#[derive(Debug, Clone)]
pub struct Model {
    pub services: Vec<Service>,
    pub deployments: Vec<Deployment>,
    /// (model, input tokens/s, output tokens/s)
    pub llm: Vec<(String, f64, f64)>,
    /// (model, cached input tokens/s), as `direction="cached_input"`.
    pub llm_cached: Vec<(String, f64)>,
    /// (namespace, model, input tokens/s, output tokens/s): token series that also carry
    /// the namespace that sent them.
    pub llm_by_namespace: Vec<(String, String, f64, f64)>,
    pub cdn_rps: f64,
    pub cdn_hit_ratio: f64,
    pub app_hits_per_sec: f64,
    pub app_misses_per_sec: f64,
    /// (prefix, hits/s, lookups/s) as `app_cache_hits_total{prefix}` and
    /// `app_cache_lookups_total{prefix}`.
    pub prefix_lookups: Vec<(String, f64, f64)>,
}

impl Default for Model {
    fn default() -> Self {
        let svc = |name: &str, rps, error_ratio, latency, queue| Service {
            name: name.into(),
            rps,
            error_ratio,
            latency,
            queue,
        };
        let dep =
            |name: &str, cpu_cores, cpu_request, memory_gib: f64, request_gib: f64| Deployment {
                name: name.into(),
                cpu_cores,
                cpu_request,
                memory_bytes: memory_gib * 1_073_741_824.0,
                memory_request: request_gib * 1_073_741_824.0,
            };
        Model {
            services: vec![
                svc(
                    "chat-api",
                    120.0,
                    0.002,
                    [0.30, 0.62, 0.85, 0.95, 0.985, 0.998, 1.0],
                    12.0,
                ),
                svc(
                    "retrieval",
                    80.0,
                    0.0,
                    [0.10, 0.40, 0.80, 0.93, 0.97, 0.995, 1.0],
                    3.0,
                ),
                svc(
                    "llm-gateway",
                    40.0,
                    0.01,
                    [0.0, 0.05, 0.20, 0.45, 0.80, 0.95, 0.99],
                    140.0,
                ),
            ],
            deployments: vec![
                dep("chat-api", 3.2, 4.0, 5.0, 8.0),
                dep("retrieval", 1.0, 4.0, 2.0, 8.0),
                dep("llm-gateway", 7.0, 8.0, 12.0, 16.0),
            ],
            llm: vec![
                ("gpt-4".into(), 900.0, 300.0),
                ("gpt-3.5-turbo".into(), 4000.0, 1200.0),
            ],
            llm_cached: Vec::new(),
            llm_by_namespace: Vec::new(),
            cdn_rps: 300.0,
            cdn_hit_ratio: 0.93,
            app_hits_per_sec: 41.0,
            app_misses_per_sec: 59.0,
            prefix_lookups: Vec::new(),
        }
    }
}

struct Inner {
    model: Model,
    counters: BTreeMap<String, f64>,
    /// The counters as the first scrape read them.
    first_scrape: Option<BTreeMap<String, f64>>,
    last: Instant,
}

impl Inner {
    /// Adds what the current rates produced since the last read.
    fn advance(&mut self) {
        let now = Instant::now();
        let dt = (now - self.last).as_secs_f64();
        self.last = now;
        let m = self.model.clone();
        let mut add =
            |key: String, rate: f64| *self.counters.entry(key).or_insert(0.0) += rate * dt;
        for s in &m.services {
            let n = &s.name;
            add(
                format!("http_requests_total{{service=\"{n}\",code=\"200\"}}"),
                s.rps * (1.0 - s.error_ratio),
            );
            add(
                format!("http_requests_total{{service=\"{n}\",code=\"500\"}}"),
                s.rps * s.error_ratio,
            );
            for (le, share) in BOUNDS.iter().zip(s.latency) {
                add(
                    format!("http_request_duration_seconds_bucket{{service=\"{n}\",le=\"{le}\"}}"),
                    s.rps * share,
                );
            }
            add(
                format!("http_request_duration_seconds_bucket{{service=\"{n}\",le=\"+Inf\"}}"),
                s.rps,
            );
            add(
                format!("http_request_duration_seconds_count{{service=\"{n}\"}}"),
                s.rps,
            );
            add(
                format!("http_request_duration_seconds_sum{{service=\"{n}\"}}"),
                s.rps * 0.2,
            );
        }
        for d in &m.deployments {
            add(
                format!(
                    "container_cpu_usage_seconds_total{{deployment=\"{}\"}}",
                    d.name
                ),
                d.cpu_cores,
            );
        }
        for (model, i, o) in &m.llm {
            add(
                format!("llm_tokens_total{{model=\"{model}\",direction=\"input\"}}"),
                *i,
            );
            add(
                format!("llm_tokens_total{{model=\"{model}\",direction=\"output\"}}"),
                *o,
            );
        }
        for (ns, model, i, o) in &m.llm_by_namespace {
            for (direction, rate) in [("input", i), ("output", o)] {
                add(
                    format!(
                        "llm_tokens_total{{namespace=\"{ns}\",model=\"{model}\",direction=\"{direction}\"}}"
                    ),
                    *rate,
                );
            }
        }
        for (model, c) in &m.llm_cached {
            add(
                format!("llm_tokens_total{{model=\"{model}\",direction=\"cached_input\"}}"),
                *c,
            );
        }
        add("cdn_requests_total".into(), m.cdn_rps);
        add("cdn_cache_hits_total".into(), m.cdn_rps * m.cdn_hit_ratio);
        add("app_cache_hits_total".into(), m.app_hits_per_sec);
        add("app_cache_misses_total".into(), m.app_misses_per_sec);
        for (prefix, hits, lookups) in &m.prefix_lookups {
            add(
                format!("app_cache_hits_total{{prefix=\"{prefix}\"}}"),
                *hits,
            );
            add(
                format!("app_cache_lookups_total{{prefix=\"{prefix}\"}}"),
                *lookups,
            );
        }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        let mut typed = String::new();
        for (key, v) in &self.counters {
            let metric = key.split('{').next().unwrap_or(key);
            let family = metric
                .trim_end_matches("_bucket")
                .trim_end_matches("_count")
                .trim_end_matches("_sum");
            let (family, kind) = if family == "http_request_duration_seconds" {
                (family, "histogram")
            } else {
                (metric, "counter")
            };
            if typed != family {
                let _ = writeln!(
                    out,
                    "# HELP {family} Test exporter series.\n# TYPE {family} {kind}"
                );
                typed = family.to_string();
            }
            let _ = writeln!(out, "{key} {v}");
        }
        let m = &self.model;
        out.push_str("# TYPE request_queue_length gauge\n");
        for s in &m.services {
            let _ = writeln!(
                out,
                "request_queue_length{{service=\"{}\"}} {}",
                s.name, s.queue
            );
        }
        out.push_str("# TYPE container_memory_working_set_bytes gauge\n");
        for d in &m.deployments {
            let _ = writeln!(
                out,
                "container_memory_working_set_bytes{{deployment=\"{}\"}} {}",
                d.name, d.memory_bytes
            );
        }
        out.push_str("# TYPE kube_pod_container_resource_requests gauge\n");
        for d in &m.deployments {
            let _ = writeln!(
                out,
                "kube_pod_container_resource_requests{{deployment=\"{}\",resource=\"cpu\"}} {}",
                d.name, d.cpu_request
            );
            let _ = writeln!(
                out,
                "kube_pod_container_resource_requests{{deployment=\"{}\",resource=\"memory\"}} {}",
                d.name, d.memory_request
            );
        }
        out
    }
}

pub struct Exporter {
    pub server: HttpServer,
    model: Arc<Mutex<Inner>>,
}

impl Exporter {
    pub fn start(model: Model) -> Exporter {
        let inner = Arc::new(Mutex::new(Inner {
            model,
            counters: BTreeMap::new(),
            first_scrape: None,
            last: Instant::now(),
        }));
        // Series exist from the start, so the first scrape already sees every counter.
        inner.lock().unwrap().advance();
        let shared = inner.clone();
        let server = HttpServer::start(Arc::new(move |target: &str, _: &[(String, String)]| {
            if target != "/metrics" {
                return Response {
                    status: 404,
                    content_type: "text/plain",
                    body: "not found\n".into(),
                };
            }
            let mut m = shared.lock().unwrap();
            m.advance();
            if m.first_scrape.is_none() {
                m.first_scrape = Some(m.counters.clone());
            }
            Response {
                status: 200,
                content_type: "text/plain; version=0.0.4",
                body: m.render(),
            }
        }));
        Exporter {
            server,
            model: inner,
        }
    }

    pub fn metrics_url(&self) -> String {
        format!("{}/metrics", self.server.url())
    }

    /// The counters now, keyed by series as exposed (`name{labels}`).
    pub fn counters(&self) -> BTreeMap<String, f64> {
        let mut m = self.model.lock().unwrap();
        m.advance();
        m.counters.clone()
    }

    /// The counters as the first scrape read them (empty before any scrape).
    pub fn first_scrape(&self) -> BTreeMap<String, f64> {
        self.model
            .lock()
            .unwrap()
            .first_scrape
            .clone()
            .unwrap_or_default()
    }

    /// Changes the rates from now on (counters keep what they have).
    pub fn set(&self, f: impl FnOnce(&mut Model)) {
        let mut m = self.model.lock().unwrap();
        m.advance();
        f(&mut m.model);
    }
}
