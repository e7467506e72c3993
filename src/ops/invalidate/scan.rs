//! One SCAN pass per master serves all of a plan's patterns: Redis walks its keyspace once
//! whatever the number of patterns, and the page is matched here with Redis' own glob rules
//! (`config::glob::matches`).
//!
//! - one pattern: `SCAN ... MATCH pattern`, the server filters;
//! - several sharing a literal prefix of 2 characters or more (`answer:*`, `answer:1*`):
//!   `MATCH prefix*`, the server drops what cannot match, the page is matched here;
//! - several without one (`answer:*`, `knowledge:*`): SCAN without MATCH, every key comes
//!   back once and is matched here.

use crate::config::glob;
use crate::ops::redis_target::Master;

/// What to ask SCAN for and which of its keys to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFilter {
    scan_match: Option<String>,
    /// Matched here; empty when the server's MATCH is the whole test.
    patterns: Vec<Vec<u8>>,
}

/// A common prefix shorter than this narrows too little to be worth a MATCH.
const MIN_SHARED_PREFIX: usize = 2;

impl KeyFilter {
    pub fn new(patterns: &[String]) -> KeyFilter {
        if let [only] = patterns {
            return KeyFilter {
                scan_match: Some(only.clone()),
                patterns: Vec::new(),
            };
        }
        let shared = glob::common_literal_prefix(patterns);
        let scan_match = (shared.chars().count() >= MIN_SHARED_PREFIX)
            .then(|| format!("{}*", glob::escape(&shared)));
        KeyFilter {
            scan_match,
            patterns: patterns.iter().map(|p| p.as_bytes().to_vec()).collect(),
        }
    }

    /// The `MATCH` argument, if any.
    pub fn scan_match(&self) -> Option<&str> {
        self.scan_match.as_deref()
    }

    /// Keeps the keys of a page that one of the patterns matches.
    pub fn retain(&self, keys: &mut Vec<Vec<u8>>) {
        if !self.patterns.is_empty() {
            keys.retain(|k| self.patterns.iter().any(|p| glob::matches(p, k)));
        }
    }
}

/// One page of `SCAN cursor [MATCH m] COUNT n`, filtered: the next cursor and the keys kept.
pub async fn page(
    m: &mut Master,
    filter: &KeyFilter,
    cursor: u64,
    count: u64,
) -> redis::RedisResult<(u64, Vec<Vec<u8>>)> {
    let mut cmd = redis::cmd("SCAN");
    cmd.arg(cursor);
    if let Some(pattern) = filter.scan_match() {
        cmd.arg("MATCH").arg(pattern);
    }
    // Keys as bytes: without MATCH every key of the server comes back, and one that is not
    // UTF-8 must not fail the whole invalidation.
    let (next, mut keys): (u64, Vec<Vec<u8>>) =
        cmd.arg("COUNT").arg(count).query_async(&mut m.conn).await?;
    filter.retain(&mut keys);
    Ok((next, keys))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(patterns: &[&str]) -> KeyFilter {
        KeyFilter::new(&patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn the_server_matches_what_it_can() {
        let one = filter(&["user:4\\*2:*"]);
        assert_eq!(one.scan_match(), Some("user:4\\*2:*"));
        let shared = filter(&["answer:*", "answer:1*"]);
        assert_eq!(shared.scan_match(), Some("answer:*"));
        let escaped = filter(&["user:4\\*2:a*", "user:4\\*2:b*"]);
        assert_eq!(escaped.scan_match(), Some("user:4\\*2:*"));
        assert_eq!(filter(&["answer:*", "knowledge:*"]).scan_match(), None);
        assert_eq!(filter(&["session:42:*", "ctx:42"]).scan_match(), None);
    }

    #[test]
    fn a_page_keeps_what_any_pattern_matches() {
        let f = filter(&["answer:*", "knowledge:*", "ctx:42"]);
        let mut keys: Vec<Vec<u8>> = ["answer:1", "user:1", "knowledge:x", "ctx:42", "ctx:420"]
            .iter()
            .map(|k| k.as_bytes().to_vec())
            .collect();
        keys.push(b"\xff\xfe".to_vec());
        f.retain(&mut keys);
        assert_eq!(
            keys,
            [&b"answer:1"[..], b"knowledge:x", b"ctx:42"].map(<[u8]>::to_vec)
        );
    }
}
