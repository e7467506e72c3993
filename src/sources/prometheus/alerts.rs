//! Firing and pending alerts from Prometheus' own alerting rules (`/api/v1/alerts`), shown
//! beside opsdeck's threshold alerts: name, severity, since, summary and the runbook link
//! from the rule's annotations. Read every [`EVERY`]; a failed read keeps the last list and
//! is logged (the panels already say when Prometheus is down).

use super::api::{API_BODY_CAP, Client, PromError};
use crate::config::PrometheusConfig;
use crate::model::{Payload, PromAlert, SourceKind, SourceUpdate};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::mpsc;

/// Rules are evaluated every `evaluation_interval` (15 s by default).
const EVERY: Duration = Duration::from_secs(15);

#[derive(Deserialize)]
struct Envelope {
    status: String,
    data: Option<AlertsData>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct AlertsData {
    #[serde(default)]
    alerts: Vec<RawAlert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAlert {
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    state: String,
    active_at: Option<String>,
}

/// The alerts of an `/api/v1/alerts` answer, firing ones first, then by name.
pub fn parse_alerts(body: &[u8]) -> Result<Vec<PromAlert>, String> {
    let env: Envelope = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    if env.status != "success" {
        return Err(env
            .error
            .unwrap_or_else(|| format!("status {:?}", env.status)));
    }
    let mut out: Vec<PromAlert> = env
        .data
        .ok_or("success without data")?
        .alerts
        .into_iter()
        .map(|mut a| {
            let text =
                |a: &mut RawAlert, k: &str| a.annotations.remove(k).filter(|s| !s.is_empty());
            let summary = text(&mut a, "summary")
                .or_else(|| text(&mut a, "description"))
                .unwrap_or_default();
            let runbook_url = text(&mut a, "runbook_url");
            PromAlert {
                name: a.labels.remove("alertname").unwrap_or_default(),
                severity: a.labels.remove("severity").unwrap_or_default(),
                firing: a.state == "firing",
                since: a
                    .active_at
                    .as_deref()
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&Utc)),
                summary,
                runbook_url,
                labels: a.labels,
            }
        })
        .collect();
    out.sort_by(|a, b| b.firing.cmp(&a.firing).then_with(|| a.name.cmp(&b.name)));
    Ok(out)
}

/// The server's alerts now.
pub async fn fetch(client: &Client) -> Result<Vec<PromAlert>, PromError> {
    let url = format!("{}/api/v1/alerts", client.base_url());
    let (status, body) = client.get(&url, &[], API_BODY_CAP).await?;
    parse_alerts(&body).map_err(|detail| {
        if (200..300).contains(&status) {
            PromError::Decode { url, detail }
        } else {
            PromError::Decode {
                url,
                detail: format!("HTTP {status}: {detail}"),
            }
        }
    })
}

pub fn update(alerts: Vec<PromAlert>) -> SourceUpdate {
    SourceUpdate {
        context: None,
        at: Utc::now(),
        source: SourceKind::Prometheus,
        payload: Ok(Payload::PromAlerts(alerts)),
    }
}

/// Reads the alerts every [`EVERY`] and sends them to `tx` until the receiver is gone.
pub async fn run(cfg: PrometheusConfig, tx: mpsc::Sender<SourceUpdate>) {
    let fetch = |client: Client, _| async move { fetch(&client).await };
    super::poll::poll(cfg, EVERY, "prometheus alerts", tx, fetch, update).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_carry_name_severity_since_summary_and_runbook() {
        let body = br#"{"status":"success","data":{"alerts":[
          {"labels":{"alertname":"QueueBacklog","severity":"warning"},"annotations":{},
           "state":"pending","activeAt":"2026-11-30T03:00:00Z","value":"1e+00"},
          {"labels":{"alertname":"GatewayErrors","severity":"critical","service":"llm-gateway"},
           "annotations":{"summary":"5xx over 1%","runbook_url":"https://runbooks/gw"},
           "state":"firing","activeAt":"2026-11-30T02:55:00.123Z","value":"2e-02"}]}}"#;
        let a = parse_alerts(body).unwrap();
        assert_eq!(a[0].name, "GatewayErrors");
        assert!(a[0].firing);
        assert_eq!(a[0].severity, "critical");
        assert_eq!(a[0].summary, "5xx over 1%");
        assert_eq!(a[0].runbook_url.as_deref(), Some("https://runbooks/gw"));
        assert_eq!(
            a[0].labels.get("service").map(String::as_str),
            Some("llm-gateway")
        );
        assert_eq!(
            a[0].since.unwrap().to_rfc3339(),
            "2026-11-30T02:55:00.123+00:00"
        );
        assert_eq!((a[1].name.as_str(), a[1].firing), ("QueueBacklog", false));
        assert!(parse_alerts(br#"{"status":"error","error":"boom"}"#).is_err());
        assert!(parse_alerts(b"<html>").is_err());
    }
}
