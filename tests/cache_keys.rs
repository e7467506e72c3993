//! Cache keys must equal what the platform's Python services compute (vectors made by
//! scripts/gen_cache_key_vectors.py), or warmup writes keys nobody reads.

use opsdeck::domain::cache_key::{answer_key, answer_payload};
use serde::Deserialize;

#[derive(Deserialize)]
struct Vector {
    question: String,
    context: Option<String>,
    kb_version: String,
    json: String,
    key: String,
}

#[test]
fn keys_match_python_vectors() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/cache_keys.json"
    ))
    .expect("fixture tests/fixtures/cache_keys.json is committed");
    let vectors: Vec<Vector> = serde_json::from_str(&text).expect("fixture is valid JSON");
    assert!(vectors.len() >= 10);
    for v in &vectors {
        let ctx = v.context.as_deref();
        assert_eq!(
            answer_payload(&v.question, ctx, &v.kb_version),
            v.json,
            "payload for {:?}",
            v.question
        );
        assert_eq!(
            answer_key(&v.question, ctx, &v.kb_version),
            v.key,
            "key for {:?}",
            v.question
        );
    }
}
