//! Cache keys must equal what the platform's Python services compute (vectors made by
//! scripts/gen_cache_key_vectors.py), or warmup writes keys nobody reads. The contexts are
//! any JSON value: strings, objects of channel/tier/tags, numbers of every form, falsy values.

mod support;

use opsdeck::config::CacheConfig;
use opsdeck::domain::cache_key::{answer_key, answer_key_json, answer_payload_json};
use opsdeck::ops::audit::Audit;
use opsdeck::ops::warmup::{BadLine, WarmupOptions, WarmupTarget, parse_jsonl, warmup_file};
use opsdeck::ops::{ActionEvent, CancelFlag};
use serde::Deserialize;
use std::collections::BTreeSet;
use support::redis::RedisServer;
use tokio::sync::mpsc;

#[derive(Deserialize)]
struct Vector {
    note: String,
    question: String,
    /// The context as a warmup line carries it, or none.
    context_json: Option<String>,
    kb_version: String,
    json: String,
    key: String,
}

fn vectors() -> Vec<Vector> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/cache_keys.json"
    ))
    .expect("fixture tests/fixtures/cache_keys.json is committed");
    let vectors: Vec<Vector> = serde_json::from_str(&text).expect("fixture is valid JSON");
    assert!(vectors.len() >= 40, "{} vectors", vectors.len());
    vectors
}

/// One warmup line per vector (all on one kb_version file, so grouped by kb_version).
fn jsonl(vectors: &[&Vector]) -> String {
    let mut text = String::new();
    for v in vectors {
        let q = serde_json::to_string(&v.question).unwrap();
        match &v.context_json {
            Some(c) => text.push_str(&format!(
                "{{\"question\": {q}, \"answer\": {{\"text\": \"a\"}}, \"context\": {c}}}\n"
            )),
            None => text.push_str(&format!("{{\"question\": {q}, \"answer\": \"a\"}}\n")),
        }
    }
    text
}

fn opts(kb_version: &str) -> WarmupOptions {
    let mut o = WarmupOptions::from_config(&CacheConfig::default());
    o.kb_version = kb_version.into();
    o
}

#[test]
fn keys_match_python_vectors() {
    for v in &vectors() {
        let ctx = v.context_json.as_deref();
        let payload = answer_payload_json(&v.question, ctx, &v.kb_version);
        assert_eq!(
            payload.as_deref(),
            Ok(v.json.as_str()),
            "payload: {}",
            v.note
        );
        let key = answer_key_json(&v.question, ctx, &v.kb_version);
        assert_eq!(key.as_deref(), Ok(v.key.as_str()), "key: {}", v.note);
    }
}

#[test]
fn string_contexts_key_the_same_through_either_entry_point() {
    for v in &vectors() {
        let context: Option<String> = match &v.context_json {
            None => None,
            Some(c) => match serde_json::from_str::<serde_json::Value>(c) {
                Ok(serde_json::Value::String(s)) => Some(s),
                _ => continue,
            },
        };
        assert_eq!(
            answer_key(&v.question, context.as_deref(), &v.kb_version),
            v.key,
            "{}",
            v.note
        );
    }
}

#[test]
fn warmup_lines_with_any_context_are_keyed_as_python_keys_them() {
    let vectors = vectors();
    let kbs: BTreeSet<&str> = vectors.iter().map(|v| v.kb_version.as_str()).collect();
    for kb in kbs {
        // The one vector with an empty question is a bad warmup line by design.
        let of_kb: Vec<&Vector> = vectors
            .iter()
            .filter(|v| v.kb_version == kb && !v.question.is_empty())
            .collect();
        let plan = parse_jsonl(&jsonl(&of_kb), "vectors.jsonl", &opts(kb));
        assert_eq!(plan.bad, [], "kb_version {kb}");
        let got: Vec<&str> = plan.entries.iter().map(|e| e.key.as_str()).collect();
        let want: Vec<&str> = of_kb.iter().map(|v| v.key.as_str()).collect();
        assert_eq!(got, want, "kb_version {kb}");
    }
}

#[test]
fn a_context_python_cannot_load_is_a_bad_line_not_a_wrong_key() {
    let long = "9".repeat(4301);
    let text = format!(
        "{{\"question\": \"q\", \"answer\": 1, \"context\": {long}}}\n\
         {{\"question\": \"q\", \"answer\": 1, \"context\": NaN}}\n"
    );
    let plan = parse_jsonl(&text, "bad.jsonl", &opts("v1"));
    assert_eq!(plan.entries, []);
    assert_eq!(plan.bad.len(), 2);
    assert!(plan.bad[0].reason.contains("4300"), "{}", plan.bad[0]);
}

#[tokio::test]
async fn warmup_of_the_vectors_writes_exactly_pythons_keys_to_redis() {
    let server = RedisServer::start();
    let vectors = vectors();
    let of_v1: Vec<&Vector> = vectors
        .iter()
        .filter(|v| v.kb_version == "v1" && !v.question.is_empty())
        .collect();
    assert!(of_v1.len() >= 40);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vectors.jsonl");
    std::fs::write(&path, jsonl(&of_v1)).unwrap();
    let audit = Audit::new(dir.path().join("audit.jsonl"));
    let (tx, mut rx) = mpsc::channel(1024);
    let mut bad = Vec::new();
    let mut on_bad = |b: &BadLine| bad.push(b.to_string());
    let cfg = server.config();
    let report = warmup_file(
        WarmupTarget::Redis(&cfg),
        &path,
        &opts("v1"),
        &audit,
        &tx,
        &CancelFlag::default(),
        &mut on_bad,
    )
    .await
    .unwrap();
    while rx
        .try_recv()
        .is_ok_and(|e| !matches!(e, ActionEvent::Finished { .. }))
    {}
    assert_eq!(bad, Vec::<String>::new());
    assert_eq!(report.written, of_v1.len() as u64);

    let want: BTreeSet<String> = of_v1.iter().map(|v| v.key.clone()).collect();
    let listed = server.cli(&["--scan", "--pattern", "*"]);
    let got: BTreeSet<String> = listed.lines().map(str::to_string).collect();
    assert_eq!(got, want);
    let nested = of_v1.iter().find(|v| v.note.starts_with("nested")).unwrap();
    assert_eq!(server.cli(&["GET", &nested.key]), r#"{"text": "a"}"#);
}
