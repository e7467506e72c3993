//! The parsers of API JSON and of exposition text never panic, on random input or on real
//! captures (tests/fixtures/prometheus, from `capture_fixtures` in tests/prometheus.rs)
//! mutated byte by byte. Real captures also parse to what they say.

use opsdeck::sources::prometheus::api::{Data, PromError, parse_response};
use opsdeck::sources::prometheus::panels::{self, Panel};
use opsdeck::sources::prometheus::scrape::{Observation, panel_values, parse_exposition};
use proptest::prelude::*;

const JSON: [&str; 7] = [
    include_str!("fixtures/prometheus/vector-p95.json"),
    include_str!("fixtures/prometheus/vector-nan.json"),
    include_str!("fixtures/prometheus/matrix-qps.json"),
    include_str!("fixtures/prometheus/scalar.json"),
    include_str!("fixtures/prometheus/string.json"),
    include_str!("fixtures/prometheus/error-parse.json"),
    r#"{"status":"success","warnings":["query exceeded max samples"],"data":{"resultType":"vector","result":[]}}"#,
];
const TEXT: [&str; 2] = [
    include_str!("fixtures/prometheus/exporter.txt"),
    include_str!("fixtures/prometheus/prometheus-self.txt"),
];

#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

/// Bytes that matter to the grammars, so mutations hit the interesting paths often.
fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        any::<u8>(),
        prop::sample::select(b"{}[]\",:0123456789.eE+-NaInf \n#=\\le".to_vec()),
    ]
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(
        prop_oneof![
            (any::<usize>(), byte()).prop_map(|(i, b)| Edit::Replace(i, b)),
            (any::<usize>(), byte()).prop_map(|(i, b)| Edit::Insert(i, b)),
            any::<usize>().prop_map(Edit::Delete),
            any::<usize>().prop_map(Edit::Truncate),
        ],
        1..8,
    )
}

fn mutate(src: &str, edits: &[Edit]) -> Vec<u8> {
    let mut b = src.as_bytes().to_vec();
    for e in edits {
        let n = b.len().max(1);
        match *e {
            Edit::Replace(i, x) if !b.is_empty() => b[i % n] = x,
            Edit::Insert(i, x) => b.insert(i % (b.len() + 1), x),
            Edit::Delete(i) if !b.is_empty() => {
                b.remove(i % n);
            }
            Edit::Truncate(i) => b.truncate(i % n),
            _ => {}
        }
    }
    b
}

/// The whole exposition path: parse two texts and compute every panel from them.
fn through_scrape(a: &str, b: &str) {
    let prev = Observation::new(0.0, vec![Some(parse_exposition(a))]);
    let cur = Observation::new(1.0, vec![Some(parse_exposition(b))]);
    let _ = panels::assemble(&panel_values(&prev, &cur));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn api_json_never_panics_on_random_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_response(&body);
    }

    #[test]
    fn api_json_never_panics_on_mutated_captures(i in 0..JSON.len(), e in edits()) {
        let _ = parse_response(&mutate(JSON[i], &e));
    }

    #[test]
    fn exposition_never_panics_on_random_text(text in "\\PC{0,400}") {
        through_scrape(&text, &text);
    }

    #[test]
    fn exposition_never_panics_on_mutated_captures(i in 0..TEXT.len(), e in edits(), f in edits()) {
        let a = String::from_utf8_lossy(&mutate(TEXT[i], &e)).into_owned();
        let b = String::from_utf8_lossy(&mutate(TEXT[i], &f)).into_owned();
        through_scrape(&a, &b);
    }

    #[test]
    fn exposition_lines_with_grammar_noise_never_panic(
        lines in prop::collection::vec(
            "(# (TYPE|HELP) )?[a-z_]{1,12}(\\{[a-z]{1,3}=\"[^\"]{0,4}\"(,[a-z]{1,3}=\"[^\"]{0,4}\"){0,2}\\})? (NaN|[+-]Inf|-?[0-9]{1,6}(\\.[0-9]{0,3})?(e-?[0-9])?)( [0-9]{1,13})?",
            0..20,
        )
    ) {
        let text = lines.join("\n");
        through_scrape(&text, &text);
    }
}

#[test]
fn captures_parse_to_what_they_say() {
    let a = parse_response(JSON[0].as_bytes()).unwrap();
    let Data::Vector(v) = a.data else { panic!() };
    assert_eq!(v.len(), 3);
    assert!(
        v.iter()
            .all(|s| s.value.is_finite() && s.labels.contains_key("service"))
    );

    let Data::Vector(v) = parse_response(JSON[1].as_bytes()).unwrap().data else {
        panic!()
    };
    assert!(v[0].value.is_nan());
    assert!(matches!(
        parse_response(JSON[2].as_bytes()).unwrap().data,
        Data::Matrix(_)
    ));
    assert_eq!(
        parse_response(JSON[3].as_bytes()).unwrap().data,
        Data::Scalar(1.5)
    );
    assert_eq!(
        parse_response(JSON[4].as_bytes()).unwrap().data,
        Data::Text("text".into())
    );
    match parse_response(JSON[5].as_bytes()) {
        Err(Ok(PromError::Api { error_type, error })) => {
            assert_eq!(error_type, "bad_data");
            assert!(error.contains("parse error: unclosed left parenthesis"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        parse_response(JSON[6].as_bytes()).unwrap().warnings.len(),
        1
    );

    // The exporter capture feeds every default panel in scrape mode.
    let same = Observation::new(0.0, vec![Some(parse_exposition(TEXT[0]))]);
    let later = Observation::new(1.0, vec![Some(parse_exposition(TEXT[0]))]);
    let p = panel_values(&same, &later);
    for panel in Panel::ALL {
        let rows = &p[&panel].as_ref().unwrap().rows;
        assert!(!rows.is_empty(), "{} has rows", panel.key());
    }
}
