//! Figures derived from two INFO samples: rates over the interval between them, the
//! lifetime ratio, and the aggregate of a cluster's nodes. Pure functions, no I/O.

use super::info::Info;
use crate::sources::{CacheNode, CacheSample};
use std::time::Duration;

/// Per-second rates and the hit rate over one interval.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Window {
    pub hits: u64,
    pub misses: u64,
    pub hit_rate: Option<f64>,
    pub hits_per_sec: f64,
    pub misses_per_sec: f64,
    pub ops_per_sec: f64,
    pub evicted_per_sec: f64,
    pub expired_per_sec: f64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    hits: u64,
    misses: u64,
    commands: u64,
    evicted: u64,
    expired: u64,
}

impl Counters {
    fn of(info: &Info) -> Counters {
        Counters {
            hits: info.keyspace_hits.unwrap_or(0),
            misses: info.keyspace_misses.unwrap_or(0),
            commands: info.total_commands_processed.unwrap_or(0),
            evicted: info.evicted_keys.unwrap_or(0),
            expired: info.expired_keys.unwrap_or(0),
        }
    }

    fn any_below(&self, other: &Counters) -> bool {
        self.hits < other.hits
            || self.misses < other.misses
            || self.commands < other.commands
            || self.evicted < other.evicted
            || self.expired < other.expired
    }
}

/// True when the server restarted or its stats were reset (`CONFIG RESETSTAT`) between
/// the two samples: deltas across that point would be negative or meaningless.
pub fn counters_reset(prev: &Info, cur: &Info) -> bool {
    let restarted = matches!((&prev.run_id, &cur.run_id), (Some(a), Some(b)) if a != b)
        || matches!((prev.uptime_s, cur.uptime_s), (Some(a), Some(b)) if b < a);
    restarted || Counters::of(cur).any_below(&Counters::of(prev))
}

/// Rates between `prev` and `cur`, `elapsed` apart. With no previous sample there is no
/// window yet: no hit rate and zero rates. After a reset, the counters since the reset
/// all fell inside the interval, so they are counted against a zero baseline.
pub fn window(prev: Option<&Info>, cur: &Info, elapsed: Duration) -> Window {
    let Some(prev) = prev else {
        return Window::default();
    };
    let secs = elapsed.as_secs_f64();
    if secs < 0.001 {
        return Window::default();
    }
    let now = Counters::of(cur);
    let base = if counters_reset(prev, cur) {
        Counters::default()
    } else {
        Counters::of(prev)
    };
    let hits = now.hits.saturating_sub(base.hits);
    let misses = now.misses.saturating_sub(base.misses);
    let per_sec = |n: u64| n as f64 / secs;
    Window {
        hits,
        misses,
        hit_rate: ratio(hits, misses),
        hits_per_sec: per_sec(hits),
        misses_per_sec: per_sec(misses),
        ops_per_sec: per_sec(now.commands.saturating_sub(base.commands)),
        evicted_per_sec: per_sec(now.evicted.saturating_sub(base.evicted)),
        expired_per_sec: per_sec(now.expired.saturating_sub(base.expired)),
    }
}

fn ratio(hits: u64, misses: u64) -> Option<f64> {
    // In f64: two counters near u64::MAX must not overflow on the way to a ratio.
    let total = hits as f64 + misses as f64;
    (total > 0.0).then(|| hits as f64 / total)
}

/// hits / (hits + misses) of the raw counters since the server started (or stats reset).
pub fn lifetime_ratio(info: &Info) -> Option<f64> {
    ratio(info.keyspace_hits?, info.keyspace_misses?)
}

/// One node's part of a sample.
#[derive(Debug, Clone)]
pub struct NodeReading<'a> {
    pub addr: &'a str,
    pub is_master: bool,
    pub prev: Option<&'a Info>,
    pub cur: &'a Info,
    pub elapsed: Duration,
    pub ping_ms: f64,
}

/// A single server's sample, or a cluster's aggregate with per-node rows. Traffic figures
/// add up over every node; keys and memory only over masters, whose replicas hold copies.
/// Counts saturate: each node's INFO may say anything up to `u64::MAX`.
pub fn sample(readings: &[NodeReading<'_>], cluster: bool) -> CacheSample {
    let mut out = CacheSample::default();
    let (mut hits, mut misses, mut life_hits, mut life_misses) = (0u64, 0u64, 0u64, 0u64);
    let mut policies: Vec<&str> = Vec::new();
    for r in readings {
        let w = window(r.prev, r.cur, r.elapsed);
        hits = hits.saturating_add(w.hits);
        misses = misses.saturating_add(w.misses);
        life_hits = life_hits.saturating_add(r.cur.keyspace_hits.unwrap_or(0));
        life_misses = life_misses.saturating_add(r.cur.keyspace_misses.unwrap_or(0));
        out.hits_per_sec += w.hits_per_sec;
        out.misses_per_sec += w.misses_per_sec;
        out.ops_per_sec += w.ops_per_sec;
        out.evicted_keys_per_sec += w.evicted_per_sec;
        out.expired_keys_per_sec += w.expired_per_sec;
        out.connected_clients = out
            .connected_clients
            .saturating_add(r.cur.connected_clients.unwrap_or(0));
        out.ping_ms = out.ping_ms.max(r.ping_ms);
        out.fragmentation = out
            .fragmentation
            .max(r.cur.mem_fragmentation_ratio.unwrap_or(0.0));
        let keys = r.cur.total_keys();
        let used = r.cur.used_memory.unwrap_or(0);
        if r.is_master {
            out.keys = out.keys.saturating_add(keys);
            out.used_memory_bytes = out.used_memory_bytes.saturating_add(used);
            out.maxmemory_bytes = out
                .maxmemory_bytes
                .saturating_add(r.cur.maxmemory.unwrap_or(0));
        }
        if let Some(p) = r.cur.maxmemory_policy.as_deref()
            && !policies.contains(&p)
        {
            policies.push(p);
        }
        if cluster {
            out.nodes.push(CacheNode {
                addr: r.addr.to_string(),
                hit_rate: w.hit_rate,
                ops_per_sec: w.ops_per_sec,
                used_memory_bytes: used,
                keys,
            });
        }
    }
    let had_window = readings.iter().any(|r| r.prev.is_some());
    out.hit_rate = if had_window {
        ratio(hits, misses)
    } else {
        None
    };
    out.hit_rate_lifetime = ratio(life_hits, life_misses);
    out.eviction_policy = policies.join("/");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(run: &str, hits: u64, misses: u64, cmds: u64) -> Info {
        Info {
            run_id: Some(run.into()),
            uptime_s: Some(100),
            keyspace_hits: Some(hits),
            keyspace_misses: Some(misses),
            total_commands_processed: Some(cmds),
            ..Info::default()
        }
    }

    #[test]
    fn window_rate_uses_deltas_not_lifetime() {
        let a = info("r", 1000, 0, 5000);
        let b = info("r", 1030, 10, 5100);
        let w = window(Some(&a), &b, Duration::from_secs(2));
        assert_eq!(w.hit_rate, Some(0.75));
        assert_eq!(w.hits_per_sec, 15.0);
        assert_eq!(w.ops_per_sec, 50.0);
        assert!((lifetime_ratio(&b).unwrap() - 1030.0 / 1040.0).abs() < 1e-12);
    }

    #[test]
    fn restart_never_gives_negative_or_huge_rates() {
        let a = info("old", u64::MAX / 2, 1_000_000, u64::MAX / 2);
        let b = info("new", 3, 1, 10);
        let w = window(Some(&a), &b, Duration::from_secs(1));
        assert_eq!(w.hit_rate, Some(0.75));
        assert_eq!(w.ops_per_sec, 10.0);
        // Stats reset without a new run id.
        let c = info("new", 2, 5, 20);
        let w = window(Some(&b), &c, Duration::from_secs(1));
        assert!(w.hits_per_sec >= 0.0 && w.hits_per_sec <= 2.0);
    }

    #[test]
    fn no_traffic_is_no_hit_rate() {
        let a = info("r", 5, 5, 5);
        assert_eq!(window(Some(&a), &a, Duration::from_secs(1)).hit_rate, None);
        assert_eq!(window(None, &a, Duration::from_secs(1)).hit_rate, None);
    }
}
