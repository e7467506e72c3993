//! FAQ answer cache keys, byte for byte as the platform's Python services compute them:
//! `answer:` + md5 hex of `json.dumps({"question", "context", "kb_version"}, sort_keys=True)`.
//!
//! The key is shared with Python readers and writers, so serde_json's output (compact, UTF-8)
//! cannot be used: Python's defaults are `", "` / `": "` separators and `ensure_ascii=True`.

use md5::{Digest, Md5};
use std::fmt::Write;

pub const ANSWER_PREFIX: &str = "answer:";

/// The JSON text Python's `json.dumps(obj, sort_keys=True)` writes for an answer's identity.
/// A missing context is written as `""`, as the services do (`context or ""`).
pub fn answer_payload(question: &str, context: Option<&str>, kb_version: &str) -> String {
    let mut out = String::with_capacity(question.len() + 64);
    // Keys already in sorted order: context < kb_version < question.
    out.push_str("{\"context\": ");
    push_python_json_str(&mut out, context.unwrap_or(""));
    out.push_str(", \"kb_version\": ");
    push_python_json_str(&mut out, kb_version);
    out.push_str(", \"question\": ");
    push_python_json_str(&mut out, question);
    out.push('}');
    out
}

/// `answer:<md5 hex>` for a question, its optional context and the knowledge-base version.
pub fn answer_key(question: &str, context: Option<&str>, kb_version: &str) -> String {
    let payload = answer_payload(question, context, kb_version);
    let digest = Md5::digest(payload.as_bytes());
    let mut key = String::with_capacity(ANSWER_PREFIX.len() + 32);
    key.push_str(ANSWER_PREFIX);
    for byte in digest.iter() {
        // Writing to a String cannot fail.
        let _ = write!(key, "{byte:02x}");
    }
    key
}

/// A JSON string literal as Python's encoder writes it with `ensure_ascii=True`: only
/// printable ASCII (0x20..=0x7e) is kept; DEL and everything above is escaped too.
pub fn push_python_json_str(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            ' '..='~' => out.push(ch),
            _ => {
                let mut units = [0u16; 2];
                for unit in ch.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// A JSON value as Python's `json.dumps(value)` writes it (separators `", "` and `": "`,
/// ASCII only), so values written by opsdeck read the same as the services' own. Object
/// members come out in key order, which is what the services' readers see after `loads`.
pub fn python_json(value: &serde_json::Value) -> String {
    let mut out = String::new();
    push_python_json(&mut out, value);
    out
}

fn push_python_json(out: &mut String, value: &serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => push_python_json_str(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_python_json(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_python_json_str(out, k);
                out.push_str(": ");
                push_python_json(out, v);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_json_values() {
        let v = serde_json::json!({"b": [1, "é"], "a": null});
        assert_eq!(python_json(&v), r#"{"a": null, "b": [1, "\u00e9"]}"#);
    }

    #[test]
    fn ascii_payload_uses_python_separators() {
        assert_eq!(
            answer_payload("hi", None, "v1"),
            r#"{"context": "", "kb_version": "v1", "question": "hi"}"#
        );
    }

    #[test]
    fn astral_characters_become_surrogate_pairs() {
        let mut s = String::new();
        push_python_json_str(&mut s, "📦");
        assert_eq!(s, r#""\ud83d\udce6""#);
    }

    #[test]
    fn control_characters_use_short_escapes_where_python_does() {
        let mut s = String::new();
        push_python_json_str(&mut s, "\u{0}\u{8}\u{c}\u{7f}");
        assert_eq!(s, r#""\u0000\b\f\u007f""#);
    }
}
