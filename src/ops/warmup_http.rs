//! Warmup through the service's own endpoint (`[actions.warmup] http_url`): one POST of
//! every valid entry, so the service computes its keys and writes its cache itself.
//!
//! Body: `{"kb_version": "v1", "entries": [{"question", "answer", "context"?, "ttl_s"?}]}`,
//! `context` only when the line has one, `ttl_s` only when the line or `--ttl` gives one.

use crate::config::redact::redact_url;
use crate::ops::audit::Audit;
use crate::ops::warmup::{
    WarmupError, WarmupOptions, WarmupPlan, WarmupReport, audit_params, per_sec, progress,
    refuse_if_strict,
};
use crate::ops::{ActionEvent, CancelFlag};
use serde::Serialize;
use serde_json::value::RawValue;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// When `[actions.warmup] timeout_ms` is unset: the service may warm many entries per call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How often a pending request looks at the cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(100);

/// Enough of the answer to say what happened without flooding a terminal line.
const MAX_SHOWN_CHARS: usize = 200;

/// The most of the endpoint's answer read: only its first line is shown.
pub const ANSWER_CAP: usize = 1 << 20;

#[derive(Serialize)]
struct Body<'a> {
    kb_version: &'a str,
    entries: Vec<BodyEntry<'a>>,
}

#[derive(Serialize)]
struct BodyEntry<'a> {
    question: &'a str,
    answer: Option<&'a RawValue>,
    /// Forwarded as the JSON the line gave: an object stays an object, `1.0` stays `1.0`.
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttl_s: Option<u64>,
}

/// The request body for `plan`, as documented in `config.toml.example`. Text, not a
/// `Value`: a `Value` would turn a context's big integers into floats.
pub fn body(plan: &WarmupPlan, opts: &WarmupOptions) -> String {
    let entries = plan
        .entries
        .iter()
        .map(|e| BodyEntry {
            question: &e.question,
            // `value` is the answer's JSON as Redis would store it: the line's answer, without
            // a second copy of every answer in the plan.
            answer: serde_json::from_str(&e.value).ok(),
            // Checked when the line was parsed; a text that is not JSON is not sent.
            context: e
                .context_json
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok()),
            ttl_s: e.ttl_explicit.then_some(e.ttl_s),
        })
        .collect();
    serde_json::to_string(&Body {
        kb_version: &opts.kb_version,
        entries,
    })
    .unwrap_or_default()
}

/// `HTTP 200 OK: <first line>`, shortened.
fn describe(status: reqwest::StatusCode, text: &str) -> String {
    let first = text.lines().map(str::trim).find(|l| !l.is_empty());
    let mut s = format!("HTTP {status}");
    if let Some(line) = first {
        s.push_str(": ");
        s.extend(line.chars().take(MAX_SHOWN_CHARS));
        if line.chars().count() > MAX_SHOWN_CHARS {
            s.push('…');
        }
    }
    s
}

/// reqwest's own message hides the cause ("error sending request"); the chain says it.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cur = inner.source();
    }
    s
}

enum Sent {
    Answered(String),
    Cancelled,
}

async fn post(
    url: &str,
    shown: &str,
    timeout: Duration,
    body: String,
    cancel: &CancelFlag,
) -> Result<Sent, WarmupError> {
    let send_err = |e: reqwest::Error| {
        if e.is_timeout() {
            WarmupError::HttpTimeout {
                url: shown.to_string(),
                ms: timeout.as_millis(),
            }
        } else {
            // The message is already about `shown`; reqwest's own copy of the URL may
            // carry credentials.
            WarmupError::HttpSend {
                url: shown.to_string(),
                detail: error_chain(&e.without_url()),
            }
        }
    };
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(send_err)?;
    let request = async {
        let response = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let answer = crate::sources::http::read_capped(response, ANSWER_CAP).await?;
        Ok::<_, reqwest::Error>((status, answer))
    };
    let cancelled = async {
        while !cancel.is_cancelled() {
            tokio::time::sleep(CANCEL_POLL).await;
        }
    };
    tokio::select! {
        r = request => {
            let (status, answer) = r.map_err(send_err)?;
            let text = String::from_utf8_lossy(&answer.body);
            let mut response = describe(status, &text);
            if answer.over {
                // What the service did is unknown: its answer is not one this endpoint gives.
                let cap = crate::sources::http::size(ANSWER_CAP);
                response.push_str(&format!(" (an answer over {cap}, not read further)"));
                return Err(WarmupError::HttpStatus { url: shown.to_string(), response });
            }
            if status.is_success() {
                Ok(Sent::Answered(response))
            } else {
                Err(WarmupError::HttpStatus { url: shown.to_string(), response })
            }
        }
        () = cancelled => Ok(Sent::Cancelled),
    }
}

pub(crate) async fn run(
    url: &str,
    timeout: Duration,
    plan: &WarmupPlan,
    opts: &WarmupOptions,
    audit: &Audit,
    events: &mpsc::Sender<ActionEvent>,
    cancel: &CancelFlag,
) -> Result<WarmupReport, WarmupError> {
    let shown = redact_url(url);
    let mut params = audit_params(plan, opts);
    params["http_url"] = shown.clone().into();
    params["timeout_ms"] = (timeout.as_millis() as u64).into();
    refuse_if_strict(plan, opts, audit, &params)?;
    audit
        .append(
            "warmup",
            &shown,
            params.clone(),
            opts.dry_run,
            "started",
            "",
        )
        .map_err(WarmupError::Audit)?;
    let total = plan.entries.len() as u64;
    let started = Instant::now();
    progress(events, 0, total, started);
    let outcome = if opts.dry_run {
        Ok(Sent::Answered("dry run, nothing sent".into()))
    } else if cancel.is_cancelled() {
        Ok(Sent::Cancelled)
    } else {
        post(url, &shown, timeout, body(plan, opts), cancel).await
    };
    let elapsed = started.elapsed();
    let (written, cancelled, response) = match &outcome {
        Ok(Sent::Answered(r)) => (total, false, r.clone()),
        Ok(Sent::Cancelled) => (
            0,
            true,
            "request abandoned; the service may still apply it".to_string(),
        ),
        Err(_) => (0, false, String::new()),
    };
    if !cancelled && outcome.is_ok() {
        progress(events, written, total, started);
    }
    let report = WarmupReport {
        target: shown.clone(),
        written,
        total,
        skipped: plan.bad.len(),
        elapsed,
        keys_per_sec: per_sec(written, elapsed),
        cancelled,
        dry_run: opts.dry_run,
        response: Some(response),
    };
    let (word, detail) = match &outcome {
        Ok(Sent::Cancelled) => ("cancelled", report.summary()),
        Ok(Sent::Answered(_)) => ("ok", report.summary()),
        Err(e) => ("failed", e.to_string()),
    };
    audit
        .append("warmup", &shown, params, opts.dry_run, word, &detail)
        .map_err(WarmupError::Audit)?;
    outcome.map(|_| report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_is_status_and_first_nonblank_line() {
        let s = describe(reqwest::StatusCode::OK, "\n  warmed 3\nmore\n");
        assert_eq!(s, "HTTP 200 OK: warmed 3");
        let long = "x".repeat(500);
        let s = describe(reqwest::StatusCode::INTERNAL_SERVER_ERROR, &long);
        assert!(s.starts_with("HTTP 500 Internal Server Error: xxx"));
        assert!(s.ends_with('…') && s.chars().count() < 260);
        assert_eq!(
            describe(reqwest::StatusCode::NO_CONTENT, ""),
            "HTTP 204 No Content"
        );
    }
}
