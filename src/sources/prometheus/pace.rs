//! At the pace of the data: Prometheus only has new samples once per scrape interval, so
//! querying the panels more often costs the server work and shows the same figures.
//!
//! The pace, first match wins:
//! 1. `[prometheus] refresh_ms`, when set;
//! 2. the server's `global.scrape_interval` (from `/api/v1/status/config`), read once the
//!    server first answers and again after it was unreachable, never faster than
//!    `[ui] refresh_ms` (which is also the pace until then);
//! 3. when the server does not serve its config (Thanos, Mimir and other query fronts),
//!    [`FALLBACK`] (or `[ui] refresh_ms` if slower), logged once.
//!
//! The parsers are pure: a line reader for the YAML the server writes and Prometheus'
//! duration syntax (`15s`, `1m30s`, `500ms`).

use super::api::{Client, PromError};
use std::time::Duration;

/// The pace when the server does not say its scrape interval: the interval most
/// Prometheus setups (and its example config) use.
pub const FALLBACK: Duration = Duration::from_secs(15);

/// Where the pace came from.
#[derive(Debug, Clone, PartialEq)]
pub enum PaceFrom {
    /// `[prometheus] refresh_ms`.
    Configured,
    /// `[ui] refresh_ms`, until the server has answered and been asked.
    NotAsked,
    /// The server's `global.scrape_interval`.
    Server,
    /// The server did not say; why, in words for the log.
    Fallback(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pace {
    /// How often a round of panel queries runs.
    pub every: Duration,
    pub from: PaceFrom,
}

impl Pace {
    /// The pace before the server was asked: the configured one, else `[ui] refresh_ms`
    /// (a server that is down at start is retried as often as before).
    pub fn initial(configured_ms: Option<u64>, ui_refresh: Duration) -> Pace {
        match configured_ms {
            Some(ms) => Pace {
                every: Duration::from_millis(ms),
                from: PaceFrom::Configured,
            },
            None => Pace {
                every: ui_refresh,
                from: PaceFrom::NotAsked,
            },
        }
    }

    fn fallback(why: String, ui_refresh: Duration) -> Pace {
        Pace {
            every: FALLBACK.max(ui_refresh),
            from: PaceFrom::Fallback(why),
        }
    }

    /// The pace from the server's config text, or the fallback when it does not say.
    pub fn from_server_config(yaml: Result<&str, String>, ui_refresh: Duration) -> Pace {
        let interval = yaml.and_then(|y| {
            let text = global_scrape_interval(y)
                .ok_or("its config has no global.scrape_interval".to_string())?;
            match parse_duration(text) {
                Ok(d) if d.is_zero() => Err("its global.scrape_interval is 0".into()),
                Ok(d) => Ok(d),
                Err(e) => Err(format!("its global.scrape_interval: {e}")),
            }
        });
        match interval {
            Ok(d) => Pace {
                every: d.max(ui_refresh),
                from: PaceFrom::Server,
            },
            Err(why) => Pace::fallback(why, ui_refresh),
        }
    }

    pub fn ms(&self) -> u64 {
        self.every.as_millis().min(u64::MAX as u128) as u64
    }

    /// The one log line for a fallback: what happened and what to set.
    pub fn fallback_note(&self, url: &str) -> Option<String> {
        match &self.from {
            PaceFrom::Fallback(why) => Some(format!(
                "prometheus {url}: cannot read the scrape interval ({why}); querying every {} s \
                 — set [prometheus] refresh_ms to choose",
                self.every.as_secs_f64()
            )),
            _ => None,
        }
    }
}

/// Asks the server for its scrape interval. `Err` only when the server could not be
/// reached or did not answer (ask again later); a server that answers without its config
/// (a query front, an old version, a proxy's 404) gives the fallback pace.
pub async fn ask(client: &Client, ui_refresh: Duration) -> Result<Pace, PromError> {
    match client.status_config().await {
        Ok(yaml) => Ok(Pace::from_server_config(Ok(&yaml), ui_refresh)),
        Err(e @ (PromError::Unreachable { .. } | PromError::Timeout { .. })) => Err(e),
        Err(e) => Ok(Pace::from_server_config(
            Err(format!("/api/v1/status/config: {e}")),
            ui_refresh,
        )),
    }
}

/// `global.scrape_interval` from the YAML Prometheus serves: the value of the
/// `scrape_interval:` key one level under the top-level `global:` key, unquoted.
pub fn global_scrape_interval(yaml: &str) -> Option<&str> {
    let mut lines = yaml
        .lines()
        .skip_while(|l| strip_comment(l).trim_end() != "global:");
    lines.next()?;
    let mut level = None;
    for line in lines {
        let body = strip_comment(line).trim_end();
        if body.trim().is_empty() {
            continue;
        }
        let indent = body.len() - body.trim_start().len();
        if indent == 0 {
            return None;
        }
        // Keys of `global` sit at the first indentation seen; deeper lines belong to a
        // nested map (e.g. a label named scrape_interval under external_labels).
        if *level.get_or_insert(indent) != indent {
            continue;
        }
        if let Some(value) = body.trim_start().strip_prefix("scrape_interval:") {
            let v = value.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            return Some(v);
        }
    }
    None
}

/// The line without a trailing `# comment` (a `#` that starts the line or follows a space).
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && (i == 0 || bytes[i - 1] == b' ' || bytes[i - 1] == b'\t') {
            return &line[..i];
        }
    }
    line
}

/// A Prometheus duration: `0`, or units in decreasing order, each at most once, from
/// `y` (365 d), `w`, `d`, `h`, `m`, `s` and `ms`, e.g. `1m30s`, `500ms`, `1h`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    const UNITS: [(&str, u64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("ms", 1),
        ("m", 60_000),
        ("s", 1000),
    ];
    // Order in which units may follow each other (ms after s).
    let rank = |u: &str| match u {
        "y" => 0,
        "w" => 1,
        "d" => 2,
        "h" => 3,
        "m" => 4,
        "s" => 5,
        _ => 6,
    };
    let bad = || format!("{text:?} is not a duration such as 15s, 1m30s or 500ms");
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() {
        return Err(bad());
    }
    let mut rest = text;
    let mut total: u64 = 0;
    let mut last_rank = None;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let (unit, ms) = UNITS
            .iter()
            .find(|(u, _)| rest.starts_with(u))
            .ok_or_else(bad)?;
        rest = &rest[unit.len()..];
        let r = rank(unit);
        if last_rank.is_some_and(|l| l >= r) {
            return Err(bad());
        }
        last_rank = Some(r);
        total = n
            .checked_mul(*ms)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("{text:?} is too long a duration"))?;
    }
    Ok(Duration::from_millis(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_prometheus_writes_them() {
        let ms = |s: &str| parse_duration(s).map(|d| d.as_millis() as u64);
        assert_eq!(ms("15s"), Ok(15_000));
        assert_eq!(ms("1m30s"), Ok(90_000));
        assert_eq!(ms("500ms"), Ok(500));
        assert_eq!(ms("1m"), Ok(60_000));
        assert_eq!(ms("1h5m"), Ok(3_900_000));
        assert_eq!(ms("2d"), Ok(172_800_000));
        assert_eq!(ms("1w"), Ok(604_800_000));
        assert_eq!(ms("1y"), Ok(31_536_000_000));
        assert_eq!(ms("1s500ms"), Ok(1500));
        assert_eq!(ms("0"), Ok(0));
        for bad in [
            "",
            "15",
            "s",
            "1.5s",
            "-1s",
            "30s1m",
            "1s1s",
            "1ms1s",
            "15 s",
            " 15s",
            "1x",
            "99999999999999999999y",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_duration("15").unwrap_err(),
            "\"15\" is not a duration such as 15s, 1m30s or 500ms"
        );
    }

    #[test]
    fn scrape_interval_from_the_served_yaml() {
        // As Prometheus 2.x serves it (default values written out).
        let yaml = "global:\n  scrape_interval: 2s\n  scrape_timeout: 2s\n  evaluation_interval: 1s\n\
                    scrape_configs:\n- job_name: platform\n  scrape_interval: 1s\n";
        assert_eq!(global_scrape_interval(yaml), Some("2s"));
        // A job's own interval is not the global one.
        let yaml = "scrape_configs:\n- job_name: a\n  scrape_interval: 5s\nglobal:\n  evaluation_interval: 1m\n";
        assert_eq!(global_scrape_interval(yaml), None);
        // A label named scrape_interval, quotes, comments.
        let yaml = "global: # settings\n  external_labels:\n    scrape_interval: x\n  \
                    scrape_interval: \"30s\" # half a minute\nrule_files: []\n";
        assert_eq!(global_scrape_interval(yaml), Some("30s"));
        assert_eq!(
            global_scrape_interval("global:\n    scrape_interval: '1m'\n"),
            Some("1m")
        );
        assert_eq!(global_scrape_interval(""), None);
        assert_eq!(
            global_scrape_interval("global:\nscrape_interval: 5s\n"),
            None
        );
    }

    #[test]
    fn the_pace_follows_the_server_never_faster_than_the_ui() {
        let ui = Duration::from_millis(1000);
        let p = Pace::from_server_config(Ok("global:\n  scrape_interval: 15s\n"), ui);
        assert_eq!((p.ms(), p.from), (15_000, PaceFrom::Server));
        let p = Pace::from_server_config(Ok("global:\n  scrape_interval: 500ms\n"), ui);
        assert_eq!(p.ms(), 1000, "floored at [ui] refresh_ms");
        let p = Pace::from_server_config(Err("HTTP 404".into()), ui);
        assert_eq!(p.ms(), 15_000);
        assert_eq!(
            p.fallback_note("http://thanos:10902").unwrap(),
            "prometheus http://thanos:10902: cannot read the scrape interval (HTTP 404); \
             querying every 15 s — set [prometheus] refresh_ms to choose"
        );
        let p = Pace::from_server_config(Err("HTTP 404".into()), Duration::from_secs(20));
        assert_eq!(p.ms(), 20_000, "never faster than [ui] refresh_ms");
        let p = Pace::from_server_config(Ok("global:\n  scrape_interval: 0\n"), ui);
        assert_eq!(
            p.from,
            PaceFrom::Fallback("its global.scrape_interval is 0".into())
        );
        let p = Pace::from_server_config(Ok("global:\n  scrape_interval: soon\n"), ui);
        assert!(matches!(p.from, PaceFrom::Fallback(_)));
        // The override needs no server.
        let p = Pace::initial(Some(250), ui);
        assert_eq!((p.ms(), p.from), (250, PaceFrom::Configured));
    }

    proptest::proptest! {
        #[test]
        fn no_panic_on_any_text(text in "\\PC*", yaml in "(global:\n|  scrape_interval: |[ #:'\"a-z0-9]|\n)*") {
            let _ = parse_duration(&text);
            let _ = global_scrape_interval(&text);
            if let Some(v) = global_scrape_interval(&yaml) {
                let _ = parse_duration(v);
            }
        }

        #[test]
        fn written_durations_read_back(h in 0u64..50, m in 0u64..60, s in 0u64..60, ms in 0u64..1000) {
            let mut text = String::new();
            for (n, unit) in [(h, "h"), (m, "m"), (s, "s"), (ms, "ms")] {
                if n > 0 {
                    text.push_str(&format!("{n}{unit}"));
                }
            }
            let want = ((h * 60 + m) * 60 + s) * 1000 + ms;
            let text = if text.is_empty() { "0".to_string() } else { text };
            proptest::prop_assert_eq!(parse_duration(&text), Ok(Duration::from_millis(want)));
        }
    }
}
