//! FAQ answer cache keys, byte for byte as the platform's Python services compute them:
//! `answer:` + md5 hex of `json.dumps({"question", "context", "kb_version"}, sort_keys=True)`.
//!
//! The key is shared with Python readers and writers, so serde_json's output (compact, UTF-8)
//! cannot be used: Python's defaults are `", "` / `": "` separators and `ensure_ascii=True`.

use md5::{Digest, Md5};

pub const ANSWER_PREFIX: &str = "answer:";

/// The JSON text Python's `json.dumps(obj, sort_keys=True)` writes for an answer's identity.
/// A missing context is written as `""`, as the services do (`context or ""`).
pub fn answer_payload(question: &str, context: Option<&str>, kb_version: &str) -> String {
    let mut out = String::with_capacity(question.len() + 64);
    push_answer_payload(&mut out, question, context, kb_version);
    out
}

fn push_answer_payload(out: &mut String, question: &str, context: Option<&str>, kb_version: &str) {
    // Keys already in sorted order: context < kb_version < question.
    out.push_str("{\"context\": ");
    push_python_json_str(out, context.unwrap_or(""));
    out.push_str(", \"kb_version\": ");
    push_python_json_str(out, kb_version);
    out.push_str(", \"question\": ");
    push_python_json_str(out, question);
    out.push('}');
}

/// `answer:<md5 hex>` for a question, its optional context and the knowledge-base version.
pub fn answer_key(question: &str, context: Option<&str>, kb_version: &str) -> String {
    let mut key = String::with_capacity(ANSWER_PREFIX.len() + 32);
    answer_key_into(&mut String::new(), &mut key, question, context, kb_version);
    key
}

/// [`answer_key`] appended to `key`, with `scratch` for the payload: a warmup keys millions
/// of lines, and reusing both buffers keeps allocation out of that loop.
pub fn answer_key_into(
    scratch: &mut String,
    key: &mut String,
    question: &str,
    context: Option<&str>,
    kb_version: &str,
) {
    scratch.clear();
    push_answer_payload(scratch, question, context, kb_version);
    let digest = Md5::digest(scratch.as_bytes());
    let mut hex = [0u8; 32];
    for (pair, byte) in hex.chunks_exact_mut(2).zip(digest.iter()) {
        pair[0] = HEX[usize::from(byte >> 4)];
        pair[1] = HEX[usize::from(byte & 0xf)];
    }
    key.push_str(ANSWER_PREFIX);
    key.push_str(std::str::from_utf8(&hex).unwrap_or_default());
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A JSON string literal as Python's encoder writes it with `ensure_ascii=True`: only
/// printable ASCII (0x20..=0x7e) is kept; DEL and everything above is escaped too.
pub fn push_python_json_str(out: &mut String, s: &str) {
    out.push('"');
    let mut rest = s;
    while !rest.is_empty() {
        // Runs of plain printable ASCII are copied whole; only the rest goes char by char.
        let plain = rest
            .bytes()
            .position(|b| !(b' '..=b'~').contains(&b) || b == b'"' || b == b'\\')
            .unwrap_or(rest.len());
        out.push_str(&rest[..plain]);
        rest = &rest[plain..];
        let Some(ch) = rest.chars().next() else { break };
        rest = &rest[ch.len_utf8()..];
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            _ => {
                let mut units = [0u16; 2];
                for unit in ch.encode_utf16(&mut units) {
                    let mut esc = *b"\\u0000";
                    for (i, shift) in [12, 8, 4, 0].into_iter().enumerate() {
                        esc[2 + i] = HEX[usize::from((*unit >> shift) & 0xf)];
                    }
                    out.push_str(std::str::from_utf8(&esc).unwrap_or_default());
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
