//! Redis glob rules the invalidation relies on: escaping text so it matches only itself, and
//! the literal prefix that keeps a pattern from reaching the whole keyspace. Here, at the
//! bottom, so config validation and the actions apply the same rule.

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
    fn escaped_text_matches_only_itself() {
        assert_eq!(escape("4*2?[x]\\"), "4\\*2\\?\\[x\\]\\\\");
        assert_eq!(literal_prefix_len(&escape("*?")), 2);
    }
}
