//! Scrape mode: read the services' `/metrics` directly and compute what the default queries
//! would, for teams without a Prometheus server.
//!
//! Only the metric names of the default queries are understood (see `panel_values`);
//! custom `[prometheus.queries]` need mode "api", since evaluating PromQL here would mean
//! writing a second Prometheus. Rates are counter deltas between two scrapes one refresh
//! apart (a lower value means the counter reset, as `rate()` assumes), quantiles come from
//! bucket deltas through `histogram_quantile`'s own arithmetic, gauges are taken as read.

use super::api::{Client, PromError};
use super::panels::{Panel, PanelAnswer, PanelValues};
use super::quantile::{Bucket, bucket_quantile};
use crate::config::redact::redact_url;
use std::collections::{BTreeMap, HashMap};

/// One series as Prometheus would store it: histograms are flattened into `_bucket`
/// series with an `le` label, so the arithmetic below reads like the PromQL it mirrors.
#[derive(Debug, Clone, PartialEq)]
pub struct Flat {
    pub metric: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Parses exposition text. Lines prometheus-parse cannot read are skipped, as a Prometheus
/// server would refuse only the bad target, not the whole round.
pub fn parse_exposition(text: &str) -> Vec<Flat> {
    use prometheus_parse::{Scrape, Value};
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let Ok(scrape) = Scrape::parse(lines) else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(scrape.samples.len());
    for s in scrape.samples {
        let labels: BTreeMap<String, String> = s
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        match s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => out.push(Flat {
                metric: s.metric,
                labels,
                value: v,
            }),
            Value::Histogram(buckets) => {
                let metric = format!("{}_bucket", s.metric);
                for b in buckets {
                    let mut labels = labels.clone();
                    labels.insert("le".into(), b.less_than.to_string());
                    out.push(Flat {
                        metric: metric.clone(),
                        labels,
                        value: b.count,
                    });
                }
            }
            Value::Summary(_) => {}
        }
    }
    out
}

/// The largest exposition text read from one target: a service exposes kilobytes, a few
/// megabytes with many labels; more is a misdirected target or a label explosion.
pub const SCRAPE_BODY_CAP: usize = 16 << 20;

type SeriesKey = (usize, String, BTreeMap<String, String>);

/// Everything read from all targets at one moment.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    /// Seconds on a monotonic clock.
    pub at: f64,
    series: HashMap<SeriesKey, f64>,
}

impl Observation {
    /// `targets[i]` is the parsed text of target i (None when it could not be read).
    pub fn new(at: f64, targets: Vec<Option<Vec<Flat>>>) -> Observation {
        let mut series = HashMap::new();
        for (i, t) in targets.into_iter().enumerate() {
            for f in t.into_iter().flatten() {
                series.insert((i, f.metric, f.labels), f.value);
            }
        }
        Observation { at, series }
    }
}

type Filter<'a> = &'a dyn Fn(&BTreeMap<String, String>) -> bool;

/// Per-second increase of each series of `metric`, like `rate()`: series seen only once
/// have no rate, and a value lower than before is a counter reset, counted from zero.
fn rate<'a>(
    prev: &'a Observation,
    cur: &'a Observation,
    metric: &'a str,
    filter: Filter<'a>,
) -> impl Iterator<Item = (&'a BTreeMap<String, String>, f64)> + 'a {
    let dt = cur.at - prev.at;
    cur.series
        .iter()
        .filter(move |((_, m, l), _)| m == metric && filter(l))
        .filter_map(move |(key, &now)| {
            let before = *prev.series.get(key)?;
            let delta = if now >= before { now - before } else { now };
            (dt > 0.0).then(|| (&key.2, delta / dt))
        })
}

fn gauge<'a>(
    cur: &'a Observation,
    metric: &'a str,
    filter: Filter<'a>,
) -> impl Iterator<Item = (&'a BTreeMap<String, String>, f64)> + 'a {
    cur.series
        .iter()
        .filter(move |((_, m, l), _)| m == metric && filter(l))
        .map(|((_, _, l), v)| (l, *v))
}

/// `sum by (label)`: series without the label sum into the "" group, as in PromQL.
fn sum_by<'a>(
    rows: impl Iterator<Item = (&'a BTreeMap<String, String>, f64)>,
    label: &str,
) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for (labels, v) in rows {
        let k = labels.get(label).cloned().unwrap_or_default();
        *out.entry(k).or_insert(0.0) += v;
    }
    out
}

/// `sum(...)`: no series gives no value (not zero), as in PromQL.
fn sum_all<'a>(rows: impl Iterator<Item = (&'a BTreeMap<String, String>, f64)>) -> Option<f64> {
    rows.map(|(_, v)| v).reduce(|a, b| a + b)
}

/// Vector division on matching groups; groups missing on either side drop out.
fn divide(
    num: &BTreeMap<String, f64>,
    den: &BTreeMap<String, f64>,
    scale: f64,
) -> BTreeMap<String, f64> {
    num.iter()
        .filter_map(|(k, n)| den.get(k).map(|d| (k.clone(), scale * n / d)))
        .collect()
}

fn any(_: &BTreeMap<String, String>) -> bool {
    true
}

fn quantiles(prev: &Observation, cur: &Observation, q: f64) -> BTreeMap<String, f64> {
    let mut by_service: BTreeMap<String, Vec<Bucket>> = BTreeMap::new();
    let mut sums: BTreeMap<(String, String), f64> = BTreeMap::new();
    for (labels, r) in rate(prev, cur, "http_request_duration_seconds_bucket", &any) {
        let service = labels.get("service").cloned().unwrap_or_default();
        let le = labels.get("le").cloned().unwrap_or_default();
        *sums.entry((service, le)).or_insert(0.0) += r;
    }
    for ((service, le), count) in sums {
        // A bucket whose bound does not parse is dropped, as Prometheus drops it.
        let Ok(upper) = super::api::parse_value(&le) else {
            continue;
        };
        by_service
            .entry(service)
            .or_default()
            .push(Bucket { upper, count });
    }
    by_service
        .into_iter()
        .map(|(s, b)| (s, 1000.0 * bucket_quantile(q, b)))
        .collect()
}

fn rows(map: BTreeMap<String, f64>) -> PanelAnswer {
    Ok(PanelValues {
        rows: map,
        warnings: Vec::new(),
    })
}

fn single(v: Option<f64>) -> PanelAnswer {
    rows(v.map(|v| (String::new(), v)).into_iter().collect())
}

/// What each default query would answer, from two observations.
pub fn panel_values(prev: &Observation, cur: &Observation) -> BTreeMap<Panel, PanelAnswer> {
    let is5xx = |l: &BTreeMap<String, String>| {
        l.get("code")
            .is_some_and(|c| c.len() == 3 && c.starts_with('5'))
    };
    let resource = |r: &'static str| {
        move |l: &BTreeMap<String, String>| l.get("resource").is_some_and(|x| x == r)
    };
    let direction = |d: &'static str| {
        move |l: &BTreeMap<String, String>| l.get("direction").is_some_and(|x| x == d)
    };
    let qps = sum_by(rate(prev, cur, "http_requests_total", &any), "service");
    let errors = sum_by(rate(prev, cur, "http_requests_total", &is5xx), "service");
    let cpu_used = sum_by(
        rate(prev, cur, "container_cpu_usage_seconds_total", &any),
        "deployment",
    );
    let cpu_req = sum_by(
        gauge(
            cur,
            "kube_pod_container_resource_requests",
            &resource("cpu"),
        ),
        "deployment",
    );
    let mem_used = sum_by(
        gauge(cur, "container_memory_working_set_bytes", &any),
        "deployment",
    );
    let mem_req = sum_by(
        gauge(
            cur,
            "kube_pod_container_resource_requests",
            &resource("memory"),
        ),
        "deployment",
    );
    let cdn_hits = sum_all(rate(prev, cur, "cdn_cache_hits_total", &any));
    let cdn_requests = sum_all(rate(prev, cur, "cdn_requests_total", &any));
    let app_hits = sum_all(rate(prev, cur, "app_cache_hits_total", &any));
    let app_misses = sum_all(rate(prev, cur, "app_cache_misses_total", &any));
    let mut out = BTreeMap::new();
    out.insert(Panel::ErrorRate, rows(divide(&errors, &qps, 1.0)));
    out.insert(Panel::Qps, rows(qps));
    out.insert(Panel::P50, rows(quantiles(prev, cur, 0.5)));
    out.insert(Panel::P95, rows(quantiles(prev, cur, 0.95)));
    out.insert(Panel::P99, rows(quantiles(prev, cur, 0.99)));
    out.insert(
        Panel::QueueLength,
        rows(sum_by(gauge(cur, "request_queue_length", &any), "service")),
    );
    out.insert(Panel::Cpu, rows(divide(&cpu_used, &cpu_req, 100.0)));
    out.insert(Panel::Memory, rows(divide(&mem_used, &mem_req, 100.0)));
    out.insert(
        Panel::LlmInput,
        rows(sum_by(
            rate(prev, cur, "llm_tokens_total", &direction("input")),
            "model",
        )),
    );
    out.insert(
        Panel::LlmOutput,
        rows(sum_by(
            rate(prev, cur, "llm_tokens_total", &direction("output")),
            "model",
        )),
    );
    out.insert(
        Panel::CdnHitRate,
        single(cdn_hits.zip(cdn_requests).map(|(h, r)| h / r)),
    );
    out.insert(
        Panel::AppCacheHitRate,
        single(app_hits.zip(app_misses).map(|(h, m)| h / (h + m))),
    );
    out
}

/// Reads every target once. A target that fails leaves its series out and is reported;
/// when all fail, the round fails.
pub async fn observe(
    client: &Client,
    targets: &[String],
    clock: std::time::Instant,
) -> Result<(Observation, Vec<String>), PromError> {
    let reads =
        futures::future::join_all(targets.iter().map(|t| client.get(t, &[], SCRAPE_BODY_CAP)))
            .await;
    let at = clock.elapsed().as_secs_f64();
    let mut failures = Vec::new();
    let mut first_error = None;
    let parsed = reads
        .into_iter()
        .zip(targets)
        .map(|(r, url)| match r {
            Ok((200..=299, body)) => Some(parse_exposition(&String::from_utf8_lossy(&body))),
            Ok((status, _)) => {
                failures.push(format!(
                    "scrape {}: HTTP {status} — check [prometheus].targets",
                    redact_url(url)
                ));
                None
            }
            Err(e) => {
                failures.push(e.to_string());
                first_error.get_or_insert(e);
                None
            }
        })
        .collect::<Vec<_>>();
    if !targets.is_empty() && failures.len() == targets.len() {
        return Err(first_error.unwrap_or_else(|| PromError::Setup {
            key: "targets",
            detail: failures.join("; "),
        }));
    }
    Ok((Observation::new(at, parsed), failures))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# TYPE http_requests_total counter\n\
        http_requests_total{service=\"chat\",code=\"200\"} 100\n\
        http_requests_total{service=\"chat\",code=\"500\"} 1\n\
        # TYPE lat histogram\n\
        lat_bucket{service=\"chat\",le=\"0.1\"} 5\n\
        lat_bucket{service=\"chat\",le=\"+Inf\"} 10\n";

    #[test]
    fn histograms_flatten_to_bucket_series() {
        let f = parse_exposition(TEXT);
        let inf = f
            .iter()
            .find(|s| s.metric == "lat_bucket" && s.labels["le"] == "inf")
            .unwrap();
        assert_eq!(inf.value, 10.0);
    }

    #[test]
    fn rates_survive_a_counter_reset() {
        let prev = Observation::new(0.0, vec![Some(parse_exposition(TEXT))]);
        // chat 200 restarted at 20 (reset), chat 500 went 1 -> 3.
        let text2 = TEXT.replace("} 100", "} 20").replace("} 1\n", "} 3\n");
        let cur = Observation::new(2.0, vec![Some(parse_exposition(&text2))]);
        let p = panel_values(&prev, &cur);
        let qps = p[&Panel::Qps].as_ref().unwrap().rows["chat"];
        assert_eq!(qps, (20.0 + 2.0) / 2.0);
        let err = p[&Panel::ErrorRate].as_ref().unwrap().rows["chat"];
        assert!((err - 1.0 / 11.0).abs() < 1e-12);
        // No cdn counters at all: no value rather than a zero.
        assert!(p[&Panel::CdnHitRate].as_ref().unwrap().rows.is_empty());
    }
}
