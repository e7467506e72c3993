//! Random Prometheus answers through the whole report: parse, assemble, render. Whatever
//! the server sends (any result type, labels missing or strange, values that are not
//! numbers, NaN and infinities), the report names gaps and never panics.

use super::{Period, Report};
use crate::config::{CostConfig, ModelPrice};
use crate::sources::prometheus::api::{Data, PromError, parse_response};
use crate::sources::prometheus::period::{Answers, assemble};
use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Strings the report reads as labels and values, and some it does not.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "gpt-4",
            "input",
            "output",
            "cached_input",
            "cpu",
            "memory",
            "nvidia_com_gpu",
            "cs-prod",
            "answer-api",
            "",
            "NaN",
            "+Inf",
            "-Inf",
            "1e308",
            "-0",
            "0",
            "2.5",
            "-1",
            "1e-320",
        ])
        .prop_map(String::from),
        "\\PC{0,8}",
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        any::<i64>().prop_map(Value::from),
        word().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(word(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One series row as Prometheus writes it, with the report's label names mostly present.
fn series() -> impl Strategy<Value = Value> {
    let labels = prop::collection::btree_map(
        prop::sample::select(vec![
            "model",
            "direction",
            "namespace",
            "deployment",
            "resource",
            "job",
        ]),
        word(),
        0..6,
    );
    (labels, word(), prop::collection::vec(word(), 0..3)).prop_map(|(metric, v, vs)| {
        let values: Vec<Value> = vs.iter().map(|v| json!([1_767_225_600, v])).collect();
        json!({ "metric": metric, "value": [1_767_225_600.5, v], "values": values })
    })
}

/// A body: mostly a successful answer of some result type, sometimes anything at all.
fn body() -> impl Strategy<Value = String> {
    let result = prop_oneof![
        prop::collection::vec(series(), 0..5).prop_map(Value::Array),
        word().prop_map(|v| json!([1_767_225_600, v])),
        any_json(),
    ];
    let kind = prop::sample::select(vec!["vector", "matrix", "scalar", "string", "histogram"]);
    prop_oneof![
        4 => (kind, result).prop_map(|(k, r)| {
            json!({ "status": "success", "data": { "resultType": k, "result": r } }).to_string()
        }),
        1 => any_json().prop_map(|v| v.to_string()),
        1 => Just(r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#.to_string()),
    ]
}

fn answer(body: &str) -> Result<Data, PromError> {
    match parse_response(body.as_bytes()) {
        Ok(a) => Ok(a.data),
        Err(Ok(e)) => Err(e),
        Err(Err(detail)) => Err(PromError::Decode {
            url: "http://prometheus:9090/api/v1/query".into(),
            detail,
        }),
    }
}

fn cost_config() -> CostConfig {
    let mut c = CostConfig {
        storage_query: Some("sum(storage_cost_per_hour)".into()),
        ..Default::default()
    };
    c.models.insert("gpt-4".into(), ModelPrice::new(0.03, 0.06));
    c
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_answer_makes_a_report_or_a_named_gap(bodies in prop::collection::vec(body(), 6)) {
        let c = cost_config();
        let window = |b: &[String]| {
            assemble(
                Answers {
                    tokens: answer(&b[0]),
                    replica_hours: answer(&b[1]),
                    replicas_now: answer(&b[2]),
                    requests: answer(&b[3]),
                    storage: Some(answer(&b[4])),
                    network: (!b[5].is_empty()).then(|| answer(&b[5])),
                },
                &c,
                86_400,
            )
        };
        let end = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let report = Report {
            period: Period::Day,
            start: end - chrono::Duration::days(1),
            end,
            currency: "USD".into(),
            current: window(&bodies),
            previous: window(&bodies[3..].iter().chain(&bodies[..3]).cloned().collect::<Vec<_>>()),
            monthly_budget: Some(20_000.0),
        };
        let json = report.to_json();
        let _ = report.to_table();
        let _ = report.to_csv();
        // A part left out is named with a reason, never silently absent.
        let complete = json["complete"].as_bool().unwrap_or(false);
        prop_assert_eq!(complete, report.current.gaps.is_empty());
        for g in &report.current.gaps {
            prop_assert!(!g.reason.is_empty());
        }
    }
}
