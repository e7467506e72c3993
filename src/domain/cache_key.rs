//! FAQ answer cache keys, byte for byte as the platform's Python services compute them:
//! `answer:` + md5 hex of `json.dumps({"question", "context", "kb_version"}, sort_keys=True)`.
//!
//! The key is shared with Python readers and writers, so serde_json's output (compact, UTF-8)
//! cannot be used: Python's defaults are `", "` / `": "` separators and `ensure_ascii=True`.

use crate::domain::py_json::{self, PyJsonError};
use md5::{Digest, Md5};

use crate::domain::py_json::push_str_literal as push_python_json_str;

pub const ANSWER_PREFIX: &str = "answer:";

/// The JSON text Python's `json.dumps(obj, sort_keys=True)` writes for an answer whose
/// context is a string (or none). A missing or empty context is written as `""`, as the
/// services do (`context or ""`).
pub fn answer_payload(question: &str, context: Option<&str>, kb_version: &str) -> String {
    let mut out = String::with_capacity(question.len() + 64);
    push_payload_head(&mut out);
    push_python_json_str(&mut out, context.unwrap_or(""));
    push_payload_tail(&mut out, question, kb_version);
    out
}

/// The same for a context given as JSON text of any value (an object of channel, tier and
/// tags, a string, a number...), serialised as Python serialises the loaded value; every
/// value Python finds false (`null`, `false`, `0`, `0.0`, `""`, `[]`, `{}`) becomes `""`.
pub fn answer_payload_json(
    question: &str,
    context_json: Option<&str>,
    kb_version: &str,
) -> Result<String, PyJsonError> {
    let mut out = String::with_capacity(question.len() + 64);
    push_payload_json(&mut out, question, context_json, kb_version)?;
    Ok(out)
}

// Keys already in sorted order: context < kb_version < question.
fn push_payload_head(out: &mut String) {
    out.push_str("{\"context\": ");
}

fn push_payload_tail(out: &mut String, question: &str, kb_version: &str) {
    out.push_str(", \"kb_version\": ");
    push_python_json_str(out, kb_version);
    out.push_str(", \"question\": ");
    push_python_json_str(out, question);
    out.push('}');
}

fn push_payload_json(
    out: &mut String,
    question: &str,
    context_json: Option<&str>,
    kb_version: &str,
) -> Result<(), PyJsonError> {
    push_payload_head(out);
    let mark = out.len();
    let truthy = match context_json {
        Some(text) => py_json::push_sorted(out, text)?,
        None => false,
    };
    if !truthy {
        out.truncate(mark);
        out.push_str("\"\"");
    }
    push_payload_tail(out, question, kb_version);
    Ok(())
}

/// `answer:<md5 hex>` for a question, its optional string context and the knowledge-base
/// version.
pub fn answer_key(question: &str, context: Option<&str>, kb_version: &str) -> String {
    key_of(&answer_payload(question, context, kb_version))
}

/// `answer:<md5 hex>` for a question, its context as JSON text of any value, and the
/// knowledge-base version.
pub fn answer_key_json(
    question: &str,
    context_json: Option<&str>,
    kb_version: &str,
) -> Result<String, PyJsonError> {
    let mut key = String::with_capacity(ANSWER_PREFIX.len() + 32);
    answer_key_into(
        &mut String::new(),
        &mut key,
        question,
        context_json,
        kb_version,
    )?;
    Ok(key)
}

fn key_of(payload: &str) -> String {
    let mut key = String::with_capacity(ANSWER_PREFIX.len() + 32);
    push_key(&mut key, payload);
    key
}

/// [`answer_key_json`] appended to `key`, with `scratch` for the payload: a warmup keys
/// millions of lines, and reusing both buffers keeps allocation out of that loop.
pub fn answer_key_into(
    scratch: &mut String,
    key: &mut String,
    question: &str,
    context_json: Option<&str>,
    kb_version: &str,
) -> Result<(), PyJsonError> {
    scratch.clear();
    push_payload_json(scratch, question, context_json, kb_version)?;
    push_key(key, scratch);
    Ok(())
}

fn push_key(key: &mut String, payload: &str) {
    let digest = Md5::digest(payload.as_bytes());
    key.push_str(ANSWER_PREFIX);
    for byte in digest.iter() {
        key.push(char::from(HEX[usize::from(byte >> 4)]));
        key.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

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
