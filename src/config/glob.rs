//! Redis glob rules the invalidation relies on: escaping text so it matches only itself, the
//! literal prefix that keeps a pattern from reaching the whole keyspace, and matching a key
//! exactly as Redis' `SCAN MATCH` does, so one SCAN pass can serve several patterns. Here,
//! at the bottom, so config validation and the actions apply the same rule.

/// Escapes the glob metacharacters Redis knows (`* ? [ ] \`) so the text matches itself only.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Characters a pattern matches literally before its first metacharacter (`*`, `?`, `[`);
/// an escaped metacharacter (`\*`) counts as one literal character.
pub fn literal_prefix_len(pattern: &str) -> usize {
    let mut n = 0;
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' | '?' | '[' => return n,
            '\\' => match chars.next() {
                Some(_) => n += 1,
                // A trailing backslash matches a backslash.
                None => return n + 1,
            },
            _ => n += 1,
        }
    }
    n
}

/// The text a pattern's keys must all start with: its characters before the first
/// metacharacter, escapes resolved (`user:4\\*2:*` gives `user:4*2:`).
pub fn literal_prefix(pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' | '?' | '[' => break,
            '\\' => out.push(chars.next().unwrap_or('\\')),
            _ => out.push(c),
        }
    }
    out
}

/// The longest text every pattern's keys start with (`answer:*` and `answer:1*` share
/// `answer:`; `answer:*` and `knowledge:*` share nothing).
pub fn common_literal_prefix<S: AsRef<str>>(patterns: &[S]) -> String {
    let mut prefixes = patterns.iter().map(|p| literal_prefix(p.as_ref()));
    let Some(mut common) = prefixes.next() else {
        return String::new();
    };
    for p in prefixes {
        let shared = common
            .char_indices()
            .zip(p.chars())
            .find(|((_, a), b)| a != b)
            .map_or(common.len().min(p.len()), |((i, _), _)| i);
        common.truncate(shared);
    }
    common
}

/// Whether `key` matches `pattern` as Redis' `SCAN MATCH` (and `KEYS`) decide it: a port of
/// `stringmatchlen` from Redis' `util.c`, case-sensitive, over bytes. Its corners are kept:
/// a `[` with no `]` runs to the end of the pattern; a range may be given high to low and
/// compares bytes as signed `char`s (x86), so `[a-\xc3]` is the range `\xc3..=a`; a trailing
/// `\\` matches a backslash; after a failed `*` the search gives up early, as Redis does
/// since 7.0.9, so nested stars cannot take exponential time.
pub fn matches(pattern: &[u8], key: &[u8]) -> bool {
    // SCAN and KEYS skip matching for the pattern `*` alone, so it matches the empty key too.
    if pattern == b"*" {
        return true;
    }
    let mut give_up = false;
    match_at(pattern, 0, key, 0, &mut give_up)
}

fn match_at(pat: &[u8], mut pi: usize, key: &[u8], mut ki: usize, give_up: &mut bool) -> bool {
    // Past its end a pattern reads as NUL, as Redis' NUL-terminated strings do.
    let at = |i: usize| pat.get(i).copied().unwrap_or(0);
    while pi < pat.len() && ki < key.len() {
        match pat[pi] {
            b'*' => {
                while pi < pat.len() && at(pi + 1) == b'*' {
                    pi += 1;
                }
                if pat.len() - pi == 1 {
                    return true;
                }
                while ki < key.len() {
                    if match_at(pat, pi + 1, key, ki, give_up) {
                        return true;
                    }
                    if *give_up {
                        return false;
                    }
                    ki += 1;
                }
                // The rest of the pattern matches nowhere in the rest of the key, so an
                // earlier star taking more of the key cannot help either.
                *give_up = true;
                return false;
            }
            b'?' => ki += 1,
            b'[' => {
                let (end, hit) = class_at(pat, pi + 1, key[ki]);
                if !hit {
                    return false;
                }
                pi = end;
                ki += 1;
            }
            b'\\' => {
                if pat.len() - pi >= 2 {
                    pi += 1;
                }
                if pat[pi] != key[ki] {
                    return false;
                }
                ki += 1;
            }
            b => {
                if b != key[ki] {
                    return false;
                }
                ki += 1;
            }
        }
        pi += 1;
        if ki == key.len() {
            while pi < pat.len() && pat[pi] == b'*' {
                pi += 1;
            }
            break;
        }
    }
    pi == pat.len() && ki == key.len()
}

/// A `[...]` class starting at `pi` (just past the `[`) against byte `c`: the index of its
/// last byte (the `]`, or the pattern's last byte when it has none) and whether `c` is in.
fn class_at(pat: &[u8], mut pi: usize, c: u8) -> (usize, bool) {
    let negated = pat.get(pi) == Some(&b'^');
    if negated {
        pi += 1;
    }
    let mut hit = false;
    loop {
        let left = pat.len() - pi;
        if left >= 2 && pat[pi] == b'\\' {
            pi += 1;
            hit |= pat[pi] == c;
        } else if left == 0 {
            pi -= 1;
            break;
        } else if pat[pi] == b']' {
            break;
        } else if left >= 3 && pat[pi + 1] == b'-' {
            // Redis compares `char`s, signed on x86: bytes from 0x80 sort below NUL.
            let (a, b) = (pat[pi] as i8, pat[pi + 2] as i8);
            let (lo, hi) = if a > b { (b, a) } else { (a, b) };
            hit |= (lo..=hi).contains(&(c as i8));
            pi += 2;
        } else {
            hit |= pat[pi] == c;
        }
        pi += 1;
    }
    (pi, hit != negated)
}

/// Literal characters a pattern must start with: `*:*`, `?*:*` or `[^\]]*` would reach every
/// key, which is a FLUSHALL by another name.
pub const MIN_LITERAL_PREFIX: usize = 2;

/// Why a pattern may not be used to delete keys, or None when it may.
pub fn refuse_reason(pattern: &str) -> Option<String> {
    let n = literal_prefix_len(pattern);
    (n < MIN_LITERAL_PREFIX).then(|| {
        format!(
            "pattern {pattern:?} starts with {n} literal character{} before its first wildcard; at least {MIN_LITERAL_PREFIX} are needed so it cannot reach every key (e.g. answer:*)",
            if n == 1 { "" } else { "s" }
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_without_a_literal_prefix_are_refused() {
        for p in [
            "*", "**", "?*", "", "[a-z]*", "*?*", "*:*", "?*:*", "[^\\]]*", "a*", "\\**",
        ] {
            assert!(refuse_reason(p).is_some(), "{p}");
        }
        for p in ["answer:*", "ab", "\\*\\?*", "user:42:*", "ctx:7"] {
            assert!(refuse_reason(p).is_none(), "{p}");
        }
    }

    #[test]
    fn redis_glob_corners() {
        let m = |p: &str, k: &str| matches(p.as_bytes(), k.as_bytes());
        assert!(m("answer:*", "answer:1") && m("answer:*", "answer:"));
        assert!(!m("answer:*", "answe"));
        assert!(m("h?llo", "hello") && m("h[ae]llo", "hallo") && !m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo") && m("h[b-a]llo", "hallo"));
        assert!(m("a\\*b", "a*b") && !m("a\\*b", "axb"));
        assert!(m("ab\\", "ab\\"), "a trailing backslash matches itself");
        assert!(m("a[bc", "ac"), "an unterminated class runs to the end");
        assert!(m("*", ""), "SCAN's own shortcut for `*`");
        assert!(!m("**", ""), "Redis' loop never starts on an empty key");
    }

    #[test]
    fn common_prefixes() {
        assert_eq!(literal_prefix("user:4\\*2:*"), "user:4*2:");
        assert_eq!(common_literal_prefix(&["answer:*", "answer:1*"]), "answer:");
        assert_eq!(common_literal_prefix(&["answer:*", "knowledge:*"]), "");
        assert_eq!(common_literal_prefix(&["session:42:*", "ctx:42"]), "");
        assert_eq!(common_literal_prefix(&["é:a*", "é:b"]), "é:");
        assert_eq!(common_literal_prefix::<&str>(&[]), "");
    }

    #[test]
    fn escaped_text_matches_only_itself() {
        assert_eq!(escape("4*2?[x]\\"), "4\\*2\\?\\[x\\]\\\\");
        assert_eq!(literal_prefix_len(&escape("*?")), 2);
    }
}
