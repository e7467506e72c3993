//! Per-prefix hit rates beside per-prefix key counts.
//!
//! Redis counts hits for the whole server only; the services' own lookups, by prefix,
//! come from Prometheus (`cache_hit_rate_by_prefix`, label `prefix`). The two are kept
//! apart in the model and joined here, once, for the Cache view and the snapshot.
//!
//! A label value matches a counted prefix when it equals it, or equals it without its
//! trailing `:` (services often label `faq` for the keys `faq:*`). Prefixes Prometheus
//! reports that no counted prefix matches are rows of their own, after the counted ones.

use super::grade::{self, Grade};
use crate::config::Rules;
use std::collections::BTreeMap;

/// One row of the per-prefix table.
#[derive(Debug, Clone, PartialEq)]
pub struct PrefixHit<'a> {
    /// The counted prefix as configured, or the label value Prometheus reported.
    pub prefix: &'a str,
    /// Index into the counted prefixes; None for a prefix only Prometheus reports.
    pub counted: Option<usize>,
    /// 0..1; None when Prometheus gave no finite figure for it.
    pub hit_rate: Option<f64>,
    /// Against `[rules] hit_rate_target` / `hit_rate_alert`, as the server-wide hit rate.
    pub grade: Grade,
}

/// The counted prefixes in their order, each with its hit rate, then the prefixes only
/// Prometheus reports, sorted.
pub fn join<'a>(
    counted: &[&'a str],
    rates: &'a BTreeMap<String, f64>,
    rules: &Rules,
) -> Vec<PrefixHit<'a>> {
    let label_of = |prefix: &str| {
        rates
            .get_key_value(prefix)
            .or_else(|| rates.get_key_value(prefix.strip_suffix(':')?))
            .map(|(k, v)| (k.as_str(), *v))
    };
    let row = |prefix, counted, hit_rate: Option<f64>| {
        let hit_rate = hit_rate.filter(|v| v.is_finite());
        PrefixHit {
            prefix,
            counted,
            hit_rate,
            grade: grade::of_hit_rate(hit_rate, rules),
        }
    };
    let mut matched = Vec::new();
    let mut out: Vec<PrefixHit> = counted
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let hit = label_of(p);
            matched.extend(hit.map(|(label, _)| label));
            row(*p, Some(i), hit.map(|(_, v)| v))
        })
        .collect();
    out.extend(
        rates
            .iter()
            .filter(|(label, _)| !matched.contains(&label.as_str()))
            .map(|(label, v)| row(label.as_str(), None, Some(*v))),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_prefixes_first_then_the_ones_only_prometheus_reports() {
        let rates: BTreeMap<String, f64> = [
            ("answer:", 0.91),
            ("user", 0.62),
            ("session:", 0.55),
            ("knowledge:", f64::NAN),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let rows = join(
            &["answer:", "knowledge:", "user:", "embedding:"],
            &rates,
            &Rules::default(),
        );
        let got: Vec<(&str, Option<usize>, Option<f64>, Grade)> = rows
            .iter()
            .map(|r| (r.prefix, r.counted, r.hit_rate, r.grade))
            .collect();
        assert_eq!(
            got,
            [
                ("answer:", Some(0), Some(0.91), Grade::Ok),
                ("knowledge:", Some(1), None, Grade::Unknown),
                ("user:", Some(2), Some(0.62), Grade::Critical),
                ("embedding:", Some(3), None, Grade::Unknown),
                ("session:", None, Some(0.55), Grade::Critical),
            ]
        );
    }
}
