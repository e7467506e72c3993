//! Keys per prefix, estimated at almost no cost to Redis. At most every [`PAGE_EVERY`] one
//! small `SCAN` page from a random cursor on each master (about [`PAGE_COUNT`] keys, ~0.1 ms
//! of the server's thread) is classified by prefix. A prefix's share of the sampled keys
//! times the master's key count (from the INFO already read) is the estimate, with the 95 %
//! Wilson interval as its ±. Pages older than [`WINDOW`] are dropped, so the estimate
//! follows the keyspace. A master with at most [`SMALL`] keys is counted exactly instead (a
//! SCAN of a page or two), every [`SMALL_EVERY`].
//!
//! Random cursors sample buckets of the server's hash table uniformly; every key sits in
//! one bucket, so every key is equally likely to be drawn.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Keys asked for per sampled page.
pub const PAGE_COUNT: u64 = 100;
/// Least time between two sampled pages of one master.
pub const PAGE_EVERY: Duration = Duration::from_secs(2);
/// How far back sampled pages count.
pub const WINDOW: Duration = Duration::from_secs(300);
/// A keyspace this small is counted exactly rather than sampled.
pub const SMALL: u64 = 2_000;
/// Least time between two exact counts of a small keyspace.
pub const SMALL_EVERY: Duration = Duration::from_secs(30);
/// z for a 95 % interval.
const Z: f64 = 1.96;

/// Which prefixes each key has; a key may match several (`user:` and `user:42:`).
pub fn classify<'k>(
    keys: impl IntoIterator<Item = &'k [u8]>,
    prefixes: &[String],
) -> (u64, Vec<u64>) {
    let mut matched = vec![0u64; prefixes.len()];
    let mut n = 0u64;
    for key in keys {
        n += 1;
        for (i, p) in prefixes.iter().enumerate() {
            if key.starts_with(p.as_bytes()) {
                matched[i] += 1;
            }
        }
    }
    (n, matched)
}

/// Keys with a prefix among `total`, from `hits` of `sampled` sampled keys: the estimate and
/// the half-width of its 95 % Wilson interval, both in keys. With no sample, nothing is known.
pub fn estimate(hits: u64, sampled: u64, total: u64) -> Option<(u64, u64)> {
    if sampled == 0 {
        return (total == 0).then_some((0, 0));
    }
    let n = sampled as f64;
    let p = (hits.min(sampled)) as f64 / n;
    let z2 = Z * Z;
    let half = Z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    let total = total as f64;
    Some(((p * total).round() as u64, (half * total).ceil() as u64))
}

struct Page {
    at: Instant,
    keys: u64,
    matched: Vec<u64>,
}

/// What one master has told about its keys.
#[derive(Default)]
struct Master {
    addr: String,
    /// Keys in the scanned database, from the latest INFO.
    total: u64,
    pages: VecDeque<Page>,
    last_page: Option<Instant>,
    /// An exact count of a small keyspace: per prefix, keys walked, when.
    exact: Option<(Vec<u64>, u64, Instant)>,
}

/// What to ask a master for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    Nothing,
    /// One page from this cursor.
    Page(u64),
    /// Walk the whole (small) keyspace.
    Exact,
}

/// The per-prefix estimate over every master, kept between refreshes.
pub struct Estimator {
    prefixes: Vec<String>,
    masters: Vec<Master>,
    rng: u64,
}

/// A prefix's figure over all masters.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub keys: u64,
    pub margin: u64,
    pub exact: bool,
    pub sampled: u64,
    pub taken: Instant,
}

impl Estimator {
    pub fn new(prefixes: Vec<String>, seed: u64) -> Estimator {
        Estimator {
            prefixes,
            masters: Vec::new(),
            rng: seed | 1,
        }
    }

    pub fn prefixes(&self) -> &[String] {
        &self.prefixes
    }

    fn master(&mut self, addr: &str) -> &mut Master {
        let i = match self.masters.iter().position(|m| m.addr == addr) {
            Some(i) => i,
            None => {
                self.masters.push(Master {
                    addr: addr.to_string(),
                    ..Master::default()
                });
                self.masters.len() - 1
            }
        };
        &mut self.masters[i]
    }

    /// Forgets masters no longer in the topology.
    pub fn keep_only(&mut self, addrs: &[&str]) {
        self.masters.retain(|m| addrs.contains(&m.addr.as_str()));
    }

    /// What to ask `addr`, which holds `total` keys now, at `now`. `eager` samples regardless
    /// of the pace (a snapshot's burst).
    pub fn ask(&mut self, addr: &str, total: u64, now: Instant, eager: bool) -> Ask {
        let rng = self.next_random();
        let m = self.master(addr);
        m.total = total;
        if total <= SMALL {
            let due = m
                .exact
                .as_ref()
                .is_none_or(|(_, _, at)| now.duration_since(*at) >= SMALL_EVERY);
            return if due { Ask::Exact } else { Ask::Nothing };
        }
        m.exact = None;
        let due = m
            .last_page
            .is_none_or(|at| now.duration_since(at) >= PAGE_EVERY);
        if due || eager {
            m.last_page = Some(now);
            Ask::Page(rng)
        } else {
            Ask::Nothing
        }
    }

    /// Records a sampled page of `addr`.
    pub fn page(&mut self, addr: &str, keys: &[Vec<u8>], now: Instant) {
        let (n, matched) = classify(keys.iter().map(Vec::as_slice), &self.prefixes);
        let m = self.master(addr);
        m.pages.push_back(Page {
            at: now,
            keys: n,
            matched,
        });
        while m
            .pages
            .front()
            .is_some_and(|p| now.duration_since(p.at) > WINDOW)
        {
            m.pages.pop_front();
        }
    }

    /// Records an exact count of `addr`'s whole (small) keyspace.
    pub fn exact(&mut self, addr: &str, walked: u64, matched: Vec<u64>, now: Instant) {
        let m = self.master(addr);
        m.pages.clear();
        m.exact = Some((matched, walked, now));
    }

    /// Per prefix, in config order: None while some master has nothing to go on yet.
    pub fn figures(&self) -> Option<Vec<Figure>> {
        if self.masters.is_empty() {
            return None;
        }
        let mut out = Vec::with_capacity(self.prefixes.len());
        for i in 0..self.prefixes.len() {
            let (mut keys, mut var, mut sampled, mut exact) = (0u64, 0f64, 0u64, true);
            let mut taken: Option<Instant> = None;
            for m in &self.masters {
                let (k, margin, n, at) = match &m.exact {
                    Some((matched, walked, at)) => (matched[i], 0, *walked, Some(*at)),
                    None => {
                        exact = false;
                        let n: u64 = m.pages.iter().map(|p| p.keys).sum();
                        let hits: u64 = m.pages.iter().map(|p| p.matched[i]).sum();
                        let (k, margin) = estimate(hits, n, m.total)?;
                        (k, margin, n, m.pages.back().map(|p| p.at))
                    }
                };
                keys += k;
                var += (margin as f64).powi(2);
                sampled += n;
                // The figure is as old as its oldest master's newest reading.
                taken = match (taken, at) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            out.push(Figure {
                keys,
                margin: var.sqrt().ceil() as u64,
                exact,
                sampled,
                taken: taken?,
            });
        }
        Some(out)
    }

    /// SplitMix64: a random cursor per page.
    fn next_random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefixes() -> Vec<String> {
        vec!["answer:".into(), "user:".into()]
    }

    #[test]
    fn a_key_counts_for_every_prefix_it_has() {
        let keys: Vec<&[u8]> = vec![b"answer:1", b"user:1", b"user:2", b"other"];
        let (n, m) = classify(keys, &["user:".into(), "user:1".into(), "x".into()]);
        assert_eq!((n, m), (4, vec![2, 1, 0]));
    }

    #[test]
    fn estimate_scales_the_share_and_gives_a_wilson_margin() {
        // 50 of 100 sampled, 400k keys: 200k ± 1.96·√(.25/100)/(1+.0384)·400k ≈ 37.6k.
        let (k, m) = estimate(50, 100, 400_000).unwrap();
        assert_eq!(k, 200_000);
        assert!((37_000..38_500).contains(&m), "{m}");
        // None seen is not "exactly none": the margin stays about 1.92/n of the keyspace.
        let (k, m) = estimate(0, 1_000, 400_000).unwrap();
        assert_eq!(k, 0);
        assert!((700..800).contains(&m), "{m}");
        assert_eq!(estimate(0, 0, 0), Some((0, 0)));
        assert_eq!(estimate(0, 0, 10), None);
    }

    #[test]
    fn a_small_keyspace_is_counted_exactly_and_not_too_often() {
        let mut e = Estimator::new(prefixes(), 7);
        let t0 = Instant::now();
        assert_eq!(e.ask("a", 10, t0, false), Ask::Exact);
        e.exact("a", 10, vec![7, 3], t0);
        assert_eq!(
            e.ask("a", 10, t0 + Duration::from_secs(5), false),
            Ask::Nothing
        );
        assert_eq!(e.ask("a", 10, t0 + SMALL_EVERY, false), Ask::Exact);
        let f = e.figures().unwrap();
        assert_eq!((f[0].keys, f[0].margin, f[0].exact), (7, 0, true));
    }

    #[test]
    fn a_large_keyspace_is_paced_and_estimated_over_its_masters() {
        let mut e = Estimator::new(prefixes(), 7);
        let t0 = Instant::now();
        let Ask::Page(_) = e.ask("a", 100_000, t0, false) else {
            panic!("a page is due")
        };
        assert_eq!(
            e.ask("a", 100_000, t0 + Duration::from_secs(1), false),
            Ask::Nothing
        );
        let page: Vec<Vec<u8>> = (0..100)
            .map(|i| format!("{}{i}", if i % 4 == 0 { "user:" } else { "answer:" }).into_bytes())
            .collect();
        e.page("a", &page, t0);
        assert!(matches!(e.ask("b", 300_000, t0, false), Ask::Page(_)));
        // b has no sample yet: nothing to show rather than a figure missing a master.
        assert!(e.figures().is_none());
        e.page("b", &page, t0);
        let f = e.figures().unwrap();
        assert_eq!(f[0].keys, 75_000 + 225_000);
        assert_eq!(f[1].keys, 25_000 + 75_000);
        assert!(!f[0].exact && f[0].margin > 0 && f[0].sampled == 200);
        // Pages older than the window no longer count.
        e.page("a", &page[..4], t0 + WINDOW + Duration::from_secs(1));
        let f = e.figures().unwrap();
        assert_eq!(f[1].sampled, 104);
    }
}
