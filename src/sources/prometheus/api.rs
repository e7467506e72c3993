//! The Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`) and its JSON.
//!
//! Thanos, Mimir and VictoriaMetrics answer the same API, so nothing here is specific to
//! the Prometheus server. The JSON parser is a pure function so it can be property-tested
//! without a network.

use crate::config::PrometheusConfig;
use crate::config::redact::{redact_text, redact_url};
use crate::sources::http::{read_capped, size};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Requests in flight at once against one server: enough to finish a round of twelve
/// panels quickly, few enough not to pile onto a Prometheus that is already struggling.
pub const MAX_IN_FLIGHT: usize = 4;

/// The largest API answer read: far above what a dashboard query returns (a week of a
/// few hundred series), far below what would hurt the console.
pub const API_BODY_CAP: usize = 64 << 20;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PromError {
    #[error(
        "prometheus {url}: cannot connect ({detail}) — is Prometheus running there? check [prometheus].url"
    )]
    Unreachable { url: String, detail: String },
    #[error(
        "prometheus {url}: no answer within {timeout_ms} ms — check the server or raise [prometheus].timeout_ms"
    )]
    Timeout { url: String, timeout_ms: u64 },
    #[error("prometheus {url}: HTTP {status}: {body}{hint}")]
    Http {
        url: String,
        status: u16,
        body: String,
        hint: &'static str,
    },
    /// The server understood the request and refused it; the words are Prometheus' own.
    #[error("{error_type}: {error}")]
    Api { error_type: String, error: String },
    #[error("prometheus {url}: unreadable answer ({detail}) — is this a Prometheus API?")]
    Decode { url: String, detail: String },
    #[error("prometheus: {detail} — fix [prometheus].{key} in config.toml")]
    Setup { key: &'static str, detail: String },
    /// `url` is shown redacted.
    #[error(
        "prometheus {url}: the answer is larger than {cap}; stopped reading it — check the URL, or narrow the query"
    )]
    TooLarge { url: String, cap: String },
}

impl PromError {
    /// True when the server itself could not be reached or did not answer, as opposed to a
    /// query it rejected.
    pub fn is_transport(&self) -> bool {
        !matches!(self, PromError::Api { .. })
    }
}

/// One answer: the data and the warnings Prometheus attached to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub data: Data,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    Vector(Vec<InstantSeries>),
    Matrix(Vec<RangeSeries>),
    Scalar(f64),
    /// A string result: valid PromQL, but not a figure.
    Text(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct InstantSeries {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RangeSeries {
    pub labels: BTreeMap<String, String>,
    /// (unix seconds, value), oldest first.
    pub values: Vec<(f64, f64)>,
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    data: Option<RawData>,
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Deserialize)]
struct RawData {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct RawInstant {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    value: (serde_json::Value, String),
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    values: Vec<(serde_json::Value, String)>,
}

/// Prometheus writes sample values as strings, with Go's spellings of the special values.
pub fn parse_value(s: &str) -> Result<f64, String> {
    match s {
        "NaN" => Ok(f64::NAN),
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        _ => s
            .parse::<f64>()
            .map_err(|_| format!("sample value {s:?} is not a number")),
    }
}

fn timestamp(v: &serde_json::Value) -> Result<f64, String> {
    v.as_f64()
        .ok_or_else(|| format!("sample timestamp {v} is not a number"))
}

/// Reads an API answer. `Err(Ok(api_error))` is an error Prometheus reported;
/// `Err(Err(detail))` is a body that is not the API's JSON.
pub fn parse_response(body: &[u8]) -> Result<Answer, Result<PromError, String>> {
    let env: Envelope = serde_json::from_slice(body).map_err(|e| Err(e.to_string()))?;
    if env.status != "success" {
        return Err(Ok(PromError::Api {
            error_type: env.error_type.unwrap_or_else(|| "error".into()),
            error: env
                .error
                .unwrap_or_else(|| format!("status {:?} without a message", env.status)),
        }));
    }
    let raw = env
        .data
        .ok_or_else(|| Err("success without data".to_string()))?;
    let data = match raw.result_type.as_str() {
        "vector" => {
            let rows: Vec<RawInstant> =
                serde_json::from_value(raw.result).map_err(|e| Err(e.to_string()))?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                timestamp(&r.value.0).map_err(Err)?;
                out.push(InstantSeries {
                    labels: r.metric,
                    value: parse_value(&r.value.1).map_err(Err)?,
                });
            }
            Data::Vector(out)
        }
        "matrix" => {
            let rows: Vec<RawRange> =
                serde_json::from_value(raw.result).map_err(|e| Err(e.to_string()))?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let mut values = Vec::with_capacity(r.values.len());
                for (t, v) in &r.values {
                    values.push((timestamp(t).map_err(Err)?, parse_value(v).map_err(Err)?));
                }
                out.push(RangeSeries {
                    labels: r.metric,
                    values,
                });
            }
            Data::Matrix(out)
        }
        "scalar" => {
            let (t, v): (serde_json::Value, String) =
                serde_json::from_value(raw.result).map_err(|e| Err(e.to_string()))?;
            timestamp(&t).map_err(Err)?;
            Data::Scalar(parse_value(&v).map_err(Err)?)
        }
        "string" => {
            let (_, v): (serde_json::Value, String) =
                serde_json::from_value(raw.result).map_err(|e| Err(e.to_string()))?;
            Data::Text(v)
        }
        other => return Err(Err(format!("unknown resultType {other:?}"))),
    };
    Ok(Answer {
        data,
        warnings: env.warnings,
    })
}

#[derive(Clone)]
enum Auth {
    None,
    Bearer(String),
    /// Re-read on every request: mounted service-account tokens rotate.
    BearerFile(PathBuf),
    Basic(String, Option<String>),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
            Auth::BearerFile(p) => f.debug_tuple("BearerFile").field(p).finish(),
            Auth::Basic(u, p) => {
                write!(f, "Basic({u:?}, {})", if p.is_some() { "***" } else { "-" })
            }
        }
    }
}

/// An HTTP client for one server, with its timeout, auth and concurrency limit.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    /// As configured, userinfo included (reqwest sends it as basic auth); errors and
    /// anything shown use `redact_url` of it.
    base: String,
    timeout: Duration,
    auth: Auth,
    /// The config's secrets (password, token, URL userinfo, their basic-auth header): an
    /// error body may quote them back.
    secrets: Arc<Vec<String>>,
    limit: Arc<Semaphore>,
}

impl Client {
    pub fn new(cfg: &PrometheusConfig) -> Result<Client, PromError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(cfg.timeout_ms.clamp(1, 10_000)));
        if let Some(path) = &cfg.ca_file {
            let pem = std::fs::read(path).map_err(|e| PromError::Setup {
                key: "ca_file",
                detail: format!("cannot read {}: {e}", path.display()),
            })?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| PromError::Setup {
                    key: "ca_file",
                    detail: format!("{} is not a PEM certificate bundle: {e}", path.display()),
                })?;
            // An empty bundle would silently trust only the system roots.
            if certs.is_empty() {
                return Err(PromError::Setup {
                    key: "ca_file",
                    detail: format!("{} holds no PEM certificate", path.display()),
                });
            }
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder.build().map_err(|e| PromError::Setup {
            key: "ca_file",
            detail: format!("cannot set up HTTPS: {e}"),
        })?;
        let auth = match (&cfg.bearer_token, &cfg.bearer_token_file, &cfg.username) {
            (Some(t), _, _) => Auth::Bearer(t.clone()),
            (None, Some(f), _) => Auth::BearerFile(f.clone()),
            (None, None, Some(u)) => Auth::Basic(u.clone(), cfg.password.clone()),
            _ => Auth::None,
        };
        Ok(Client {
            http,
            base: cfg.url.trim_end_matches('/').to_string(),
            timeout: Duration::from_millis(cfg.timeout_ms.max(1)),
            auth,
            secrets: Arc::new(cfg.secrets()),
            limit: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        })
    }

    /// The server's URL as it may be shown: without its userinfo.
    pub fn base_url(&self) -> String {
        redact_url(&self.base)
    }

    /// An instant query evaluated at `at`.
    pub async fn query(&self, promql: &str, at: DateTime<Utc>) -> Result<Answer, PromError> {
        let time = unix(at);
        self.api("/api/v1/query", &[("query", promql), ("time", &time)])
            .await
    }

    /// A range query over `[start, end]`, one point every `step_s` seconds.
    pub async fn query_range(
        &self,
        promql: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        step_s: i64,
    ) -> Result<Answer, PromError> {
        let (start, end, step) = (unix(start), unix(end), step_s.to_string());
        self.api(
            "/api/v1/query_range",
            &[
                ("query", promql),
                ("start", &start),
                ("end", &end),
                ("step", &step),
            ],
        )
        .await
    }

    /// The server's configuration as it loaded it (`/api/v1/status/config`, the `yaml`
    /// text). Prometheus serves it; query fronts such as Thanos or Mimir mostly do not.
    pub async fn status_config(&self) -> Result<String, PromError> {
        #[derive(Deserialize)]
        struct Status {
            status: String,
            data: Option<StatusData>,
        }
        #[derive(Deserialize)]
        struct StatusData {
            yaml: String,
        }
        let url = format!("{}/api/v1/status/config", self.base);
        let (status, body) = self.get(&url, &[], API_BODY_CAP).await?;
        match serde_json::from_slice::<Status>(&body) {
            Ok(Status {
                status: s,
                data: Some(d),
            }) if s == "success" => Ok(d.yaml),
            _ if !(200..300).contains(&status) => {
                Err(http_error(redact_url(&url), status, &body, &self.secrets))
            }
            Ok(_) => Err(PromError::Decode {
                url: redact_url(&url),
                detail: "no `data.yaml` in a successful answer".into(),
            }),
            Err(e) => Err(PromError::Decode {
                url: redact_url(&url),
                detail: e.to_string(),
            }),
        }
    }

    async fn api(&self, path: &str, params: &[(&str, &str)]) -> Result<Answer, PromError> {
        let url = format!("{}{path}", self.base);
        let (status, body) = self.get(&url, params, API_BODY_CAP).await?;
        match parse_response(&body) {
            Ok(answer) => Ok(answer),
            Err(Ok(api_error)) => Err(api_error),
            Err(Err(detail)) if (200..300).contains(&status) => Err(PromError::Decode {
                url: redact_url(&url),
                detail,
            }),
            Err(Err(_)) => Err(http_error(redact_url(&url), status, &body, &self.secrets)),
        }
    }

    /// GET `url` (any URL: scrape mode reads targets with the same auth and limits); a body
    /// over `cap` bytes is not read past the cap and is an error.
    pub async fn get(
        &self,
        url: &str,
        params: &[(&str, &str)],
        cap: usize,
    ) -> Result<(u16, Vec<u8>), PromError> {
        // The semaphore is never closed, so acquire only fails on a broken invariant.
        let _permit = self
            .limit
            .acquire()
            .await
            .expect("the request semaphore is never closed");
        let mut req = self.http.get(url).timeout(self.timeout);
        if !params.is_empty() {
            req = req.query(params);
        }
        // A token read from its file now is not among the config's secrets: an error body
        // that quotes it loses it here.
        let mut file_token = None;
        req = match &self.auth {
            Auth::None => req,
            Auth::Bearer(t) => req.bearer_auth(t),
            Auth::BearerFile(path) => {
                let token =
                    tokio::fs::read_to_string(path)
                        .await
                        .map_err(|e| PromError::Setup {
                            key: "bearer_token_file",
                            detail: format!("cannot read {}: {e}", path.display()),
                        })?;
                let token = token.trim().to_string();
                let req = req.bearer_auth(&token);
                file_token = Some(token);
                req
            }
            Auth::Basic(u, p) => req.basic_auth(u, p.as_ref()),
        };
        // reqwest's own message quotes the URL it sent; both go through the redactor.
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                PromError::Timeout {
                    url: redact_url(url),
                    timeout_ms: self.timeout.as_millis() as u64,
                }
            } else {
                PromError::Unreachable {
                    url: redact_url(url),
                    detail: redact_text(&error_chain(&e), &self.secrets),
                }
            }
        };
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let body = read_capped(resp, cap).await.map_err(transport)?;
        if body.over {
            return Err(PromError::TooLarge {
                url: redact_url(url),
                cap: size(cap),
            });
        }
        match file_token.filter(|t| !t.is_empty() && !(200..300).contains(&status)) {
            Some(token) => {
                let text = redact_text(&String::from_utf8_lossy(&body.body), &[token]);
                Ok((status, text.into_bytes()))
            }
            None => Ok((status, body.body)),
        }
    }
}

/// The body is redacted before it is cut to 200 characters: a secret cut in half would no
/// longer be recognised.
fn http_error(url: String, status: u16, body: &[u8], secrets: &[String]) -> PromError {
    let text = redact_text(&String::from_utf8_lossy(body), secrets);
    let mut body: String = text.trim().chars().take(200).collect();
    if body.is_empty() {
        body = "(empty body)".into();
    }
    let hint = match status {
        401 | 403 => {
            " — check [prometheus].bearer_token (or bearer_token_file) or username/password"
        }
        404 => " — check that [prometheus].url is the server's base URL",
        _ => "",
    };
    PromError::Http {
        url,
        status,
        body,
        hint,
    }
}

/// reqwest's top-level message ("error sending request") hides the cause operators need.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        let s = inner.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = inner.source();
    }
    out
}

/// Unix seconds with milliseconds, the way the API takes times.
fn unix(t: DateTime<Utc>) -> String {
    format!("{:.3}", t.timestamp_millis() as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_values_are_not_zero() {
        assert!(parse_value("NaN").unwrap().is_nan());
        assert_eq!(parse_value("+Inf").unwrap(), f64::INFINITY);
        assert_eq!(parse_value("-Inf").unwrap(), f64::NEG_INFINITY);
        assert!(parse_value("").is_err());
    }

    #[test]
    fn api_error_keeps_prometheus_words() {
        let body = br#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected end of input"}"#;
        let e = parse_response(body).unwrap_err().unwrap();
        assert_eq!(
            e.to_string(),
            "bad_data: 1:5: parse error: unexpected end of input"
        );
        assert!(!e.is_transport());
    }

    #[test]
    fn warnings_and_vectors() {
        let body = br#"{"status":"success","warnings":["partial"],"data":{"resultType":"vector","result":[{"metric":{"service":"chat"},"value":[1.5,"NaN"]}]}}"#;
        let a = parse_response(body).unwrap();
        assert_eq!(a.warnings, vec!["partial".to_string()]);
        let Data::Vector(v) = a.data else { panic!() };
        assert!(v[0].value.is_nan());
    }
}
