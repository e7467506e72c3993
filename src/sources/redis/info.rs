//! The `INFO` reply as typed fields.
//!
//! Unknown fields are ignored (every Redis release adds some); a line that is not
//! `field:value`, or a known field whose value does not parse, makes the whole sample an
//! error, because a half-read sample would show wrong figures with a healthy status.

use thiserror::Error;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Info {
    pub run_id: Option<String>,
    pub uptime_s: Option<u64>,
    pub role: Option<String>,
    pub connected_clients: Option<u64>,
    pub used_memory: Option<u64>,
    pub maxmemory: Option<u64>,
    pub maxmemory_policy: Option<String>,
    pub mem_fragmentation_ratio: Option<f64>,
    pub total_commands_processed: Option<u64>,
    pub keyspace_hits: Option<u64>,
    pub keyspace_misses: Option<u64>,
    pub expired_keys: Option<u64>,
    pub evicted_keys: Option<u64>,
    pub cluster_enabled: Option<bool>,
    pub dbs: Vec<DbKeys>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DbKeys {
    pub db: u32,
    pub keys: u64,
    pub expires: u64,
}

impl Info {
    /// Saturates: INFO may say anything up to `u64::MAX` per database.
    pub fn total_keys(&self) -> u64 {
        self.dbs.iter().fold(0, |n, d| n.saturating_add(d.keys))
    }
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum InfoError {
    #[error("INFO line {line}: expected `field:value`, got {text:?}")]
    NotAField { line: usize, text: String },
    #[error("INFO line {line}: field `{field}` has unreadable value {value:?}")]
    BadValue {
        line: usize,
        field: String,
        value: String,
    },
}

/// Longest excerpt of a bad line quoted in an error, so a garbage reply stays readable.
const QUOTE_MAX: usize = 60;

fn quote(s: &str) -> String {
    s.chars().take(QUOTE_MAX).collect()
}

pub fn parse_info(text: &str) -> Result<Info, InfoError> {
    let mut info = Info::default();
    for (idx, raw) in text.lines().enumerate() {
        let line_no = idx + 1;
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((field, value)) = line.split_once(':') else {
            return Err(InfoError::NotAField {
                line: line_no,
                text: quote(line),
            });
        };
        let bad = || InfoError::BadValue {
            line: line_no,
            field: quote(field),
            value: quote(value),
        };
        let int = || value.parse::<u64>().map_err(|_| bad());
        match field {
            "run_id" => info.run_id = Some(value.to_string()),
            "uptime_in_seconds" => info.uptime_s = Some(int()?),
            "role" => info.role = Some(value.to_string()),
            "connected_clients" => info.connected_clients = Some(int()?),
            "used_memory" => info.used_memory = Some(int()?),
            "maxmemory" => info.maxmemory = Some(int()?),
            "maxmemory_policy" => info.maxmemory_policy = Some(value.to_string()),
            "mem_fragmentation_ratio" => {
                let ratio = value.parse::<f64>().map_err(|_| bad())?;
                if !ratio.is_finite() || ratio < 0.0 {
                    return Err(bad());
                }
                info.mem_fragmentation_ratio = Some(ratio);
            }
            "total_commands_processed" => info.total_commands_processed = Some(int()?),
            "keyspace_hits" => info.keyspace_hits = Some(int()?),
            "keyspace_misses" => info.keyspace_misses = Some(int()?),
            "expired_keys" => info.expired_keys = Some(int()?),
            "evicted_keys" => info.evicted_keys = Some(int()?),
            "cluster_enabled" => {
                info.cluster_enabled = Some(match value {
                    "0" => false,
                    "1" => true,
                    _ => return Err(bad()),
                })
            }
            _ => {
                if let Some(db) = field.strip_prefix("db").and_then(|n| n.parse::<u32>().ok()) {
                    info.dbs.push(parse_db(db, value).ok_or_else(bad)?);
                }
            }
        }
    }
    Ok(info)
}

/// `keys=1,expires=0,avg_ttl=0[,subexpiry=0]`: `keys` is required, the rest optional.
fn parse_db(db: u32, value: &str) -> Option<DbKeys> {
    let mut keys = None;
    let mut expires = 0;
    for part in value.split(',') {
        let (k, v) = part.split_once('=')?;
        match k {
            "keys" => keys = Some(v.parse().ok()?),
            "expires" => expires = v.parse().ok()?,
            _ => {}
        }
    }
    Some(DbKeys {
        db,
        keys: keys?,
        expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_keyspace() {
        let info = parse_info(
            "# Stats\r\nkeyspace_hits:7\r\nkeyspace_misses:3\r\nnew_field_2031:x\r\n\r\n# Keyspace\r\ndb0:keys=5,expires=2,avg_ttl=0\r\ndb3:keys=1,expires=0,avg_ttl=0,subexpiry=0\r\n",
        )
        .unwrap();
        assert_eq!(info.keyspace_hits, Some(7));
        assert_eq!(info.keyspace_misses, Some(3));
        assert_eq!(info.total_keys(), 6);
        assert_eq!(info.dbs[1].db, 3);
    }

    #[test]
    fn malformed_lines_are_errors_with_line_numbers() {
        assert_eq!(
            parse_info("a:1\r\ngarbage\r\n"),
            Err(InfoError::NotAField {
                line: 2,
                text: "garbage".into()
            })
        );
        assert!(matches!(
            parse_info("keyspace_hits:-1"),
            Err(InfoError::BadValue { line: 1, .. })
        ));
        assert!(parse_info("db0:expires=3").is_err());
        assert!(parse_info("mem_fragmentation_ratio:NaN").is_err());
    }
}
