//! Panels: the configured queries, and how their answers become one `MetricsSample`.
//!
//! Both modes (API and scrape) produce one [`PanelAnswer`] per panel; `assemble` is the only
//! place that turns answers into rows, so a failed panel looks the same whichever mode
//! produced it: its figures are NaN ("—" on screen) and its reason is in `problems`.

use crate::config::{ClusterSplit, PromQueries};
use crate::sources::{
    MetricsSample, ModelTokens, NamespaceTokens, PanelProblem, ServiceLatency, Utilization,
};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Panel {
    Qps,
    ErrorRate,
    P50,
    P95,
    P99,
    QueueLength,
    Cpu,
    Memory,
    LlmInput,
    LlmOutput,
    CdnHitRate,
    AppCacheHitRate,
    /// Optional: queried only when `cache_hit_rate_by_prefix` is set.
    HitRateByPrefix,
}

impl Panel {
    pub const ALL: [Panel; 12] = [
        Panel::Qps,
        Panel::ErrorRate,
        Panel::P50,
        Panel::P95,
        Panel::P99,
        Panel::QueueLength,
        Panel::Cpu,
        Panel::Memory,
        Panel::LlmInput,
        Panel::LlmOutput,
        Panel::CdnHitRate,
        Panel::AppCacheHitRate,
    ];

    /// The panels a round queries: every one of [`Panel::ALL`], and the optional ones the
    /// config sets.
    pub fn active(q: &PromQueries) -> Vec<Panel> {
        let mut out = Panel::ALL.to_vec();
        if q.cache_hit_rate_by_prefix.is_some() {
            out.push(Panel::HitRateByPrefix);
        }
        out
    }

    /// The key of the query in `[prometheus.queries]`, which is also how problems name it.
    pub fn key(self) -> &'static str {
        match self {
            Panel::Qps => "qps",
            Panel::ErrorRate => "error_rate",
            Panel::P50 => "p50_ms",
            Panel::P95 => "p95_ms",
            Panel::P99 => "p99_ms",
            Panel::QueueLength => "queue_length",
            Panel::Cpu => "cpu_utilization",
            Panel::Memory => "memory_utilization",
            Panel::LlmInput => "llm_input_tokens_per_sec",
            Panel::LlmOutput => "llm_output_tokens_per_sec",
            Panel::CdnHitRate => "cdn_hit_rate",
            Panel::AppCacheHitRate => "app_cache_hit_rate",
            Panel::HitRateByPrefix => "cache_hit_rate_by_prefix",
        }
    }

    pub fn query(self, q: &PromQueries) -> &str {
        match self {
            Panel::Qps => &q.qps,
            Panel::ErrorRate => &q.error_rate,
            Panel::P50 => &q.p50_ms,
            Panel::P95 => &q.p95_ms,
            Panel::P99 => &q.p99_ms,
            Panel::QueueLength => &q.queue_length,
            Panel::Cpu => &q.cpu_utilization,
            Panel::Memory => &q.memory_utilization,
            Panel::LlmInput => &q.llm_input_tokens_per_sec,
            Panel::LlmOutput => &q.llm_output_tokens_per_sec,
            Panel::CdnHitRate => &q.cdn_hit_rate,
            Panel::AppCacheHitRate => &q.app_cache_hit_rate,
            Panel::HitRateByPrefix => q.cache_hit_rate_by_prefix.as_deref().unwrap_or(""),
        }
    }

    /// LLM token rates: rows by model and namespace, whose series add up.
    pub fn is_token_rate(self) -> bool {
        matches!(self, Panel::LlmInput | Panel::LlmOutput)
    }

    /// The label that names a row, or None for a single-figure panel.
    pub fn row_label(self) -> Option<&'static str> {
        match self {
            Panel::Qps
            | Panel::ErrorRate
            | Panel::P50
            | Panel::P95
            | Panel::P99
            | Panel::QueueLength => Some("service"),
            Panel::Cpu | Panel::Memory => Some("deployment"),
            Panel::LlmInput | Panel::LlmOutput => Some("model"),
            Panel::HitRateByPrefix => Some("prefix"),
            Panel::CdnHitRate | Panel::AppCacheHitRate => None,
        }
    }
}

/// One panel's figures: one value per row (label value), plus the server's warnings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PanelValues {
    pub rows: BTreeMap<String, f64>,
    pub warnings: Vec<String>,
}

impl PanelValues {
    /// Rows from series labels; a series without the row label is named by what it lacks,
    /// so a custom query that drops the label shows up instead of vanishing.
    pub fn from_series<'a>(
        panel: Panel,
        series: impl IntoIterator<Item = (&'a BTreeMap<String, String>, f64)>,
        warnings: Vec<String>,
    ) -> PanelValues {
        PanelValues::from_series_split(panel, series, warnings, None)
    }

    /// `from_series`, with service and deployment rows told apart by cluster: the row is
    /// keyed by name and context (see [`row_key`]) when `split` names the cluster label.
    pub fn from_series_split<'a>(
        panel: Panel,
        series: impl IntoIterator<Item = (&'a BTreeMap<String, String>, f64)>,
        warnings: Vec<String>,
        split: Option<&ClusterSplit>,
    ) -> PanelValues {
        let by_cluster =
            split.filter(|_| matches!(panel.row_label(), Some("service" | "deployment")));
        let series = series.into_iter();
        if panel.is_token_rate() {
            return PanelValues {
                rows: token_rows(series),
                warnings,
            };
        }
        let rows = series
            .map(|(labels, v)| {
                let name = match panel.row_label() {
                    Some(l) => labels
                        .get(l)
                        .cloned()
                        .unwrap_or_else(|| format!("(no {l} label)")),
                    None => String::new(),
                };
                let name = match by_cluster.and_then(|s| Some(s.context_of(labels.get(&s.label)?)))
                {
                    Some(context) => row_key(&name, &context),
                    None => name,
                };
                (name, v)
            })
            .collect();
        PanelValues { rows, warnings }
    }
}

/// Token rates by model and, where a series names one, by namespace (see
/// [`namespace_key`]). Rates add up: several series of one key are summed, as PromQL's `sum`
/// would, rather than the last one read standing for all.
fn token_rows<'a>(
    series: impl Iterator<Item = (&'a BTreeMap<String, String>, f64)>,
) -> BTreeMap<String, f64> {
    let mut rows = BTreeMap::new();
    for (labels, v) in series {
        let model = labels
            .get("model")
            .cloned()
            .unwrap_or_else(|| "(no model label)".into());
        let key = match TENANT_LABELS.iter().find_map(|l| labels.get(*l)) {
            Some(ns) => namespace_key(&model, ns),
            None => model,
        };
        *rows.entry(key).or_insert(0.0) += v;
    }
    rows
}

/// Labels that name the tenant a token series belongs to, in order of preference.
const TENANT_LABELS: [&str; 2] = ["namespace", "tenant"];

/// Separates a token row's model from its namespace; no model or namespace holds it.
const NAMESPACE_SEP: char = '\u{1e}';

fn namespace_key(model: &str, namespace: &str) -> String {
    format!("{model}{NAMESPACE_SEP}{namespace}")
}

/// A panel's answer: its values, or the reason there are none (the server's words).
pub type PanelAnswer = Result<PanelValues, String>;

fn figure(answers: &BTreeMap<Panel, PanelAnswer>, p: Panel, row: &str) -> f64 {
    match answers.get(&p) {
        Some(Ok(v)) => v.rows.get(row).copied().unwrap_or(f64::NAN),
        _ => f64::NAN,
    }
}

fn rows_of(answers: &BTreeMap<Panel, PanelAnswer>, panels: &[Panel]) -> BTreeSet<String> {
    panels
        .iter()
        .filter_map(|p| answers.get(p).and_then(|a| a.as_ref().ok()))
        .flat_map(|v| v.rows.keys().cloned())
        .collect()
}

fn single(answers: &BTreeMap<Panel, PanelAnswer>, p: Panel) -> Option<f64> {
    match answers.get(&p) {
        Some(Ok(v)) => v.rows.values().next().copied().filter(|x| x.is_finite()),
        _ => None,
    }
}

/// What the operator should read about a panel that gave no clean figures.
fn problems(panel: Panel, answer: &PanelAnswer) -> Vec<PanelProblem> {
    let p = |message: String| PanelProblem {
        panel: panel.key().into(),
        message,
    };
    let v = match answer {
        Err(e) => return vec![p(e.clone())],
        Ok(v) => v,
    };
    let mut out: Vec<PanelProblem> = v
        .warnings
        .iter()
        .map(|w| p(format!("warning: {w}")))
        .collect();
    if v.rows.is_empty() {
        out.push(p("no data: the query returned no series".into()));
    }
    for (kind, test) in [
        ("NaN", f64::is_nan as fn(f64) -> bool),
        ("+Inf", |x: f64| x == f64::INFINITY),
        ("-Inf", |x: f64| x == f64::NEG_INFINITY),
    ] {
        let names: Vec<&str> = v
            .rows
            .iter()
            .filter(|(_, x)| test(**x))
            .map(|(n, _)| if n.is_empty() { "value" } else { n.as_str() })
            .collect();
        if !names.is_empty() {
            out.push(p(format!("{kind} for {}", names.join(", "))));
        }
    }
    out
}

/// Separates a row's name from its context in a row key; no service or label holds it.
const CONTEXT_SEP: char = '\u{1f}';

/// The row of `name` in `context` (a cluster split's rows).
pub fn row_key(name: &str, context: &str) -> String {
    format!("{name}{CONTEXT_SEP}{context}")
}

/// A row key's name and, for a cluster split's row, its context.
fn split_key(key: String) -> (String, Option<String>) {
    match key.split_once(CONTEXT_SEP) {
        Some((name, context)) => (name.to_string(), Some(context.to_string())),
        None => (key, None),
    }
}

/// One sample from the answers of every panel. Rows come from any panel that names them,
/// so a service whose P95 query failed still shows, with "—" for P95.
pub fn assemble(answers: &BTreeMap<Panel, PanelAnswer>) -> MetricsSample {
    use Panel::*;
    let services = rows_of(answers, &[Qps, ErrorRate, P50, P95, P99, QueueLength])
        .into_iter()
        .map(|key| {
            let s = ServiceLatency {
                qps: figure(answers, Qps, &key),
                error_rate: figure(answers, ErrorRate, &key),
                p50_ms: figure(answers, P50, &key),
                p95_ms: figure(answers, P95, &key),
                p99_ms: figure(answers, P99, &key),
                queue_length: figure(answers, QueueLength, &key),
                ..ServiceLatency::default()
            };
            let (name, context) = split_key(key);
            ServiceLatency { name, context, ..s }
        })
        .collect();
    let utilization = rows_of(answers, &[Cpu, Memory])
        .into_iter()
        .map(|key| {
            let (cpu_pct, memory_pct) = (figure(answers, Cpu, &key), figure(answers, Memory, &key));
            let (deployment, context) = split_key(key);
            Utilization {
                deployment,
                context,
                cpu_pct,
                memory_pct,
            }
        })
        .collect();
    let mut models: BTreeMap<String, ModelTokens> = BTreeMap::new();
    let mut tokens_by_namespace = Vec::new();
    for key in rows_of(answers, &[LlmInput, LlmOutput]) {
        let (input, output) = (
            figure(answers, LlmInput, &key),
            figure(answers, LlmOutput, &key),
        );
        let (model, namespace) = match key.split_once(NAMESPACE_SEP) {
            Some((m, ns)) => (m.to_string(), Some(ns.to_string())),
            None => (key, None),
        };
        let m = models.entry(model.clone()).or_insert_with(|| ModelTokens {
            model: model.clone(),
            input_per_sec: 0.0,
            output_per_sec: 0.0,
        });
        m.input_per_sec += input;
        m.output_per_sec += output;
        if let Some(namespace) = namespace {
            tokens_by_namespace.push(NamespaceTokens {
                namespace,
                model,
                input_per_sec: input,
                output_per_sec: output,
            });
        }
    }
    tokens_by_namespace.sort_by(|a, b| (&a.namespace, &a.model).cmp(&(&b.namespace, &b.model)));
    let models = models.into_values().collect();
    MetricsSample {
        services,
        utilization,
        models,
        tokens_by_namespace,
        cdn_hit_rate: single(answers, CdnHitRate),
        app_cache_hit_rate: single(answers, AppCacheHitRate),
        // A prefix without lookups is 0/0 = NaN: no figure, named in `problems`.
        cache_hit_rate_by_prefix: match answers.get(&HitRateByPrefix) {
            Some(Ok(v)) => v
                .rows
                .iter()
                .filter(|(_, x)| x.is_finite())
                .map(|(p, x)| (p.clone(), *x))
                .collect(),
            _ => BTreeMap::new(),
        },
        pace_ms: None,
        problems: answers.iter().flat_map(|(p, a)| problems(*p, a)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Token queries grouped by model and namespace (or tenant): each model's rate is the
    /// sum over its series, never the last one read, and each namespace keeps its own.
    #[test]
    fn token_rates_sum_per_model_and_keep_each_namespace() {
        let series = [
            (
                labels(&[("model", "gpt-4"), ("namespace", "cs-prod")]),
                60.0,
            ),
            (
                labels(&[("model", "gpt-4"), ("namespace", "cs-trial")]),
                40.0,
            ),
            (labels(&[("model", "gpt-3.5"), ("tenant", "cs-trial")]), 7.0),
            (labels(&[("model", "gpt-3.5")]), 3.0),
        ];
        let input = PanelValues::from_series(
            Panel::LlmInput,
            series.iter().map(|(l, v)| (l, *v)),
            Vec::new(),
        );
        let output = PanelValues::from_series(
            Panel::LlmOutput,
            series.iter().map(|(l, v)| (l, *v / 2.0)),
            Vec::new(),
        );
        let mut answers = BTreeMap::new();
        answers.insert(Panel::LlmInput, Ok(input));
        answers.insert(Panel::LlmOutput, Ok(output));
        let m = assemble(&answers);
        let models: Vec<(&str, f64, f64)> = m
            .models
            .iter()
            .map(|t| (t.model.as_str(), t.input_per_sec, t.output_per_sec))
            .collect();
        assert_eq!(models, [("gpt-3.5", 10.0, 5.0), ("gpt-4", 100.0, 50.0)]);
        let by_ns: Vec<(&str, &str, f64, f64)> = m
            .tokens_by_namespace
            .iter()
            .map(|t| {
                (
                    t.namespace.as_str(),
                    t.model.as_str(),
                    t.input_per_sec,
                    t.output_per_sec,
                )
            })
            .collect();
        assert_eq!(
            by_ns,
            [
                ("cs-prod", "gpt-4", 60.0, 30.0),
                ("cs-trial", "gpt-3.5", 7.0, 3.5),
                ("cs-trial", "gpt-4", 40.0, 20.0),
            ]
        );
    }

    fn values(rows: &[(&str, f64)]) -> PanelAnswer {
        Ok(PanelValues {
            rows: rows.iter().map(|(n, v)| (n.to_string(), *v)).collect(),
            warnings: Vec::new(),
        })
    }

    #[test]
    fn a_failed_panel_is_missing_not_zero() {
        let mut answers = BTreeMap::new();
        answers.insert(Panel::Qps, values(&[("chat", 12.0), ("search", 3.0)]));
        answers.insert(Panel::P95, Err("bad_data: parse error".into()));
        answers.insert(Panel::P50, values(&[("chat", f64::NAN)]));
        answers.insert(Panel::CdnHitRate, values(&[]));
        let m = assemble(&answers);
        assert_eq!(m.services.len(), 2);
        assert_eq!(m.services[0].qps, 12.0);
        assert!(m.services[0].p95_ms.is_nan() && m.services[1].p95_ms.is_nan());
        assert!(m.services[0].p50_ms.is_nan());
        assert_eq!(m.cdn_hit_rate, None);
        let text: Vec<String> = m
            .problems
            .iter()
            .map(|p| format!("{}: {}", p.panel, p.message))
            .collect();
        assert_eq!(
            text,
            [
                "p50_ms: NaN for chat",
                "p95_ms: bad_data: parse error",
                "cdn_hit_rate: no data: the query returned no series"
            ]
        );
    }
}
