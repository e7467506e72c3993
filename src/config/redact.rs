//! The one redactor: URLs and messages lose their secrets before anyone sees them.
//!
//! Secrets reach opsdeck as `${ENV}` values in the config: Redis and Prometheus passwords,
//! bearer tokens, and passwords written into a URL (`redis://:pw@host`, `?token=`). Every
//! URL shown on screen, in `snapshot`, in an audit line or in an error goes through
//! [`redact_url`]; a message that may quote a URL or a secret goes through
//! [`redact_text`]. The config types holding secrets print `***` in `Debug` (below), so a
//! `{:?}` in a log line cannot leak them either.

use super::{PrometheusConfig, RedisConfig, WarmupConfig};
use std::fmt;
use url::Url;

/// What every secret is shown as.
pub const MASK: &str = "***";

/// Query parameters whose value is a credential (`?token=`, `?password=`, `&pass=` of a
/// `redis+unix://` URL, `?api_key=`...).
fn is_secret_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    const EXACT: &[&str] = &[
        "token", "password", "passwd", "pass", "pwd", "secret", "key", "apikey", "auth",
    ];
    const SUFFIX: &[&str] = &["_token", "-token", "_key", "-key", "_secret", "_password"];
    EXACT.contains(&name.as_str()) || SUFFIX.iter().any(|s| name.ends_with(s))
}

/// `http://user:pw@host/path?token=t` → `http://***@host/path?token=***`.
///
/// The userinfo (user and password) becomes `***`, and so does the value of every query
/// parameter named like a credential. A URL without either comes back unchanged; one that
/// does not parse but still holds `user:pass@` loses everything before the last `@`.
pub fn redact_url(s: &str) -> String {
    match Url::parse(s) {
        Ok(u) if !u.cannot_be_a_base() => redact_parsed(u).unwrap_or_else(|| s.to_string()),
        // `user:pw@host` parses as scheme `user` with the path `pw@host`: not a URL with
        // a userinfo, so treat it as text.
        _ => redact_loose(s),
    }
}

/// The redacted URL, or None when there was nothing to hide (so the caller keeps the
/// operator's own spelling rather than the parser's normal form).
fn redact_parsed(mut u: Url) -> Option<String> {
    let mut changed = false;
    if !u.username().is_empty() || u.password().is_some() {
        // Both can only fail for URLs without a host, which have no userinfo either.
        let _ = u.set_password(None);
        let _ = u.set_username(MASK);
        changed = true;
    }
    if let Some(q) = u.query().and_then(redact_query) {
        u.set_query(Some(&q));
        changed = true;
    }
    changed.then(|| u.to_string())
}

/// For strings the URL parser refuses (`redis://:p/w@host`, `u:pw@host:6379`): safe
/// rather than pretty.
fn redact_loose(s: &str) -> String {
    let (scheme, rest) = match s.find("://") {
        Some(i) => s.split_at(i + 3),
        None => ("", s),
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let mut out = match before_query.rfind('@') {
        Some(at) => format!("{scheme}{MASK}{}", &before_query[at..]),
        None => format!("{scheme}{before_query}"),
    };
    if let Some(q) = query {
        out.push('?');
        out.push_str(&redact_query(q).unwrap_or_else(|| q.to_string()));
    }
    out
}

/// The query with every credential's value replaced, or None when it holds none.
fn redact_query(q: &str) -> Option<String> {
    let mut changed = false;
    let parts: Vec<String> = q
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret_param(&decode(name)) => {
                changed = true;
                format!("{name}={MASK}")
            }
            _ => pair.to_string(),
        })
        .collect();
    changed.then(|| parts.join("&"))
}

fn decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("{s}=").as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default()
}

/// A message with every URL in it redacted and every known secret replaced by `***`.
///
/// `secrets` are the config's secret values ([`crate::config::Config::secrets`]); each is
/// also looked for percent-encoded, the way it appears inside a URL.
pub fn redact_text<S: AsRef<str>>(text: &str, secrets: &[S]) -> String {
    let mut out = redact_urls_in(text);
    let mut all: Vec<String> = Vec::new();
    for s in secrets.iter().map(AsRef::as_ref).filter(|s| !s.is_empty()) {
        all.push(s.to_string());
        let encoded: String = url::form_urlencoded::byte_serialize(s.as_bytes()).collect();
        let encoded = encoded.replace('+', "%20");
        if encoded != s {
            all.push(encoded);
        }
    }
    // Longest first, so a secret that contains another is replaced whole.
    all.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for s in &all {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), MASK);
        }
    }
    out
}

/// Every `scheme://…` token in `text` through [`redact_url`]; the rest untouched.
fn redact_urls_in(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let start = rest[..i]
            .char_indices()
            .rfind(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |(p, c)| p + c.len_utf8());
        let end = rest[i..]
            .find(|c: char| {
                c.is_whitespace()
                    || matches!(
                        c,
                        '"' | '\'' | '<' | '>' | '`' | '“' | '”' | '‘' | '’' | '«' | '»'
                    )
            })
            .map_or(rest.len(), |p| i + p);
        // A URL in parentheses ("for url (http://…)") leaves the closing ones outside.
        let mut end = end;
        while rest[start..end].ends_with(')')
            && rest[start..end].matches(')').count() > rest[start..end].matches('(').count()
        {
            end -= 1;
        }
        out.push_str(&rest[..start]);
        out.push_str(&redact_url(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The value of an `Authorization: Basic` header for `user` and `password`:
/// base64 of `user:password`. A server or proxy that quotes the request's headers back in
/// an error body would otherwise show the password, merely encoded.
pub fn basic_auth_token(user: &str, password: &str) -> String {
    base64(format!("{user}:{password}").as_bytes())
}

/// Standard base64 with padding (RFC 4648 §4), as HTTP basic auth writes it.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `%XX` sequences decoded (a `+` stays a `+`), as HTTP clients read a URL's userinfo.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The password inside a URL (and the basic-auth header made of it), and any credential in
/// its query, as written in the config.
fn url_secrets(s: &str, out: &mut Vec<String>) {
    if let Ok(u) = Url::parse(s) {
        if let Some(p) = u.password() {
            out.push(p.to_string());
            let decoded = url::form_urlencoded::parse(format!("p={p}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned());
            out.extend(decoded.filter(|d| d != p));
            let (user, pw) = (percent_decode(u.username()), percent_decode(p));
            out.push(basic_auth_token(&user, &pw));
            out.push(basic_auth_token(u.username(), p));
        }
        for (k, v) in u.query_pairs() {
            if is_secret_param(&k) && !v.is_empty() {
                out.push(v.into_owned());
            }
        }
    }
    // A userinfo the parser did not accept: everything between the scheme and the last `@`.
    if let (Some(i), Some(at)) = (s.find("://"), s.rfind('@'))
        && at > i + 3
        && let Some((_, pw)) = s[i + 3..at].split_once(':')
        && !pw.is_empty()
    {
        out.push(pw.to_string());
    }
}

impl PrometheusConfig {
    pub fn secrets(&self) -> Vec<String> {
        let mut out: Vec<String> = [&self.bearer_token, &self.password]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        if let Some(pw) = &self.password {
            let user = self.username.as_deref().unwrap_or_default();
            out.push(basic_auth_token(user, pw));
        }
        for u in std::iter::once(&self.url).chain(&self.targets) {
            url_secrets(u, &mut out);
        }
        out
    }
}

impl RedisConfig {
    pub fn secrets(&self) -> Vec<String> {
        let mut out: Vec<String> = self.password.iter().cloned().collect();
        for u in self.url.iter().chain(&self.urls) {
            url_secrets(u, &mut out);
        }
        out
    }
}

impl WarmupConfig {
    pub fn secrets(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(u) = &self.http_url {
            url_secrets(u, &mut out);
        }
        out
    }
}

impl super::Config {
    /// Every secret value the config holds, for [`redact_text`].
    pub fn secrets(&self) -> Vec<String> {
        let mut out = self.actions.warmup.secrets();
        out.extend(self.prometheus.iter().flat_map(PrometheusConfig::secrets));
        out.extend(self.redis.iter().flat_map(RedisConfig::secrets));
        out.retain(|s| !s.is_empty());
        out
    }
}

/// `Debug` of a secret that is set: `***`, so a `{:?}` shows that it is set, not what it is.
struct Masked;

impl fmt::Debug for Masked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

fn masked(s: &Option<String>) -> Option<Masked> {
    s.as_ref().map(|_| Masked)
}

// The destructuring below names every field, so a new field cannot be added without
// deciding here whether it is a secret.

impl fmt::Debug for PrometheusConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let PrometheusConfig {
            url,
            mode,
            targets,
            timeout_ms,
            bearer_token,
            bearer_token_file,
            username,
            password,
            ca_file,
            refresh_ms,
            cluster_label,
            cluster_contexts,
            queries,
        } = self;
        f.debug_struct("PrometheusConfig")
            .field("url", &redact_url(url))
            .field("mode", mode)
            .field(
                "targets",
                &targets.iter().map(|t| redact_url(t)).collect::<Vec<_>>(),
            )
            .field("timeout_ms", timeout_ms)
            .field("bearer_token", &masked(bearer_token))
            .field("bearer_token_file", bearer_token_file)
            .field("username", username)
            .field("password", &masked(password))
            .field("ca_file", ca_file)
            .field("refresh_ms", refresh_ms)
            .field("cluster_label", cluster_label)
            .field("cluster_contexts", cluster_contexts)
            .field("queries", queries)
            .finish()
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let RedisConfig {
            url,
            urls,
            cluster,
            username,
            password,
            ca_file,
            prefixes,
            scan_keys_per_sec,
        } = self;
        f.debug_struct("RedisConfig")
            .field("url", &url.as_deref().map(redact_url))
            .field(
                "urls",
                &urls.iter().map(|u| redact_url(u)).collect::<Vec<_>>(),
            )
            .field("cluster", cluster)
            .field("username", username)
            .field("password", &masked(password))
            .field("ca_file", ca_file)
            .field("prefixes", prefixes)
            .field("scan_keys_per_sec", scan_keys_per_sec)
            .finish()
    }
}

impl fmt::Debug for WarmupConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let WarmupConfig {
            http_url,
            timeout_ms,
        } = self;
        f.debug_struct("WarmupConfig")
            .field("http_url", &http_url.as_deref().map(redact_url))
            .field("timeout_ms", timeout_ms)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_becomes_mask() {
        assert_eq!(
            redact_url("redis://:hunter2@db:6379/0"),
            "redis://***@db:6379/0"
        );
        assert_eq!(
            redact_url("redis://u:secret@h:6379/0"),
            "redis://***@h:6379/0"
        );
        assert_eq!(
            redact_url("http://ops:secret@faq:8080/warmup"),
            "http://***@faq:8080/warmup"
        );
        // A user without a password is still an identity the screen need not show.
        assert_eq!(redact_url("http://ops@faq:8080/"), "http://***@faq:8080/");
    }

    #[test]
    fn urls_without_secrets_are_unchanged() {
        for u in [
            "redis://db:6379/0",
            "unix:///run/redis.sock",
            "http://127.0.0.1:9090",
            "http://[::1]:9090",
            "http://prom:9090/api/v1/query?query=up&time=1.5",
            "127.0.0.1:6379",
            "localhost:6379",
            "",
        ] {
            assert_eq!(redact_url(u), u);
        }
    }

    #[test]
    fn an_at_in_the_path_is_not_a_userinfo() {
        assert_eq!(
            redact_url("http://prom:9090/api/v1/series@x"),
            "http://prom:9090/api/v1/series@x"
        );
        assert_eq!(
            redact_url("http://u:pw@prom:9090/a@b"),
            "http://***@prom:9090/a@b"
        );
    }

    #[test]
    fn ipv6_hosts_keep_their_brackets() {
        assert_eq!(
            redact_url("http://u:canary@[::1]:9090/api"),
            "http://***@[::1]:9090/api"
        );
        assert_eq!(
            redact_url("redis://:pw@[fe80::1]:6379/0"),
            "redis://***@[fe80::1]:6379/0"
        );
    }

    #[test]
    fn credential_query_params_are_masked() {
        assert_eq!(
            redact_url("http://prom:9090/api?query=up&token=abc&Api_Key=k"),
            "http://prom:9090/api?query=up&token=***&Api_Key=***"
        );
        assert_eq!(
            redact_url("redis+unix:///run/r.sock?db=1&pass=hunter2"),
            "redis+unix:///run/r.sock?db=1&pass=***"
        );
        assert_eq!(redact_url("http://h/?keys=3"), "http://h/?keys=3");
    }

    #[test]
    fn unparsable_strings_still_lose_the_password() {
        for (input, secret) in [
            ("u:pw-1@host:6379", "pw-1"),
            ("redis://:p/w@db:6379", "p/w"),
            ("http://u:p w@h:bad/x", "p w"),
            ("u:pw-2@host/path?token=t0k", "t0k"),
        ] {
            let out = redact_url(input);
            assert!(!out.contains(secret), "{input} -> {out}");
            assert!(out.contains("***"), "{input} -> {out}");
        }
    }

    #[test]
    fn text_loses_urls_userinfo_and_known_secrets() {
        let msg = "prometheus http://u:canary-pw-1@127.0.0.1:1/api/v1/query: cannot connect \
                   (error sending request for url (http://127.0.0.1:1/api?token=t0k))";
        let out = redact_text(msg, &["never-there"]);
        assert!(
            !out.contains("canary-pw-1") && !out.contains("t0k"),
            "{out}"
        );
        assert!(
            out.contains("http://***@127.0.0.1:1/api/v1/query:"),
            "{out}"
        );
        assert!(out.ends_with("?token=***))"), "{out}");

        let out = redact_text(
            "AUTH failed for p@ss w0rd and p%40ss%20w0rd",
            &["p@ss w0rd"],
        );
        assert_eq!(out, "AUTH failed for *** and ***");
        assert_eq!(redact_text("nothing here", &[""]), "nothing here");
    }

    #[test]
    fn text_around_urls_may_be_any_unicode() {
        assert_eq!(
            redact_text("«http://u:pw@h/»—✖ “redis://:x@h:1”", &[] as &[&str]),
            "«http://***@h/»—✖ “redis://***@h:1”"
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,80}", secret in "\\PC{0,8}") {
            let _ = redact_url(&text);
            let _ = redact_text(&text, &[secret]);
        }

        #[test]
        fn a_url_password_never_survives(
            scheme in "(http|https|redis|rediss)",
            user in "[a-z]{0,6}",
            pw in "[A-Za-z0-9]{8,16}",
            host in "([a-z]{1,8}|\\[::1\\]|10\\.0\\.0\\.[0-9])",
            path in "(/[a-z@:]{0,6}){0,3}",
            around in "\\PC{0,10}",
        ) {
            let url = format!("{scheme}://{user}:{pw}@{host}{path}");
            proptest::prop_assert!(!redact_url(&url).contains(&pw));
            let text = format!("{around} {url} {around}");
            let shown = redact_text(&text, &[] as &[&str]);
            proptest::prop_assert!(!shown.contains(&pw), "{}", shown);
        }
    }

    #[test]
    fn config_secrets_and_debug() {
        let p = PrometheusConfig {
            url: "http://u:url-pw@prom:9090".into(),
            bearer_token: Some("tok-1".into()),
            password: Some("basic-pw".into()),
            ..Default::default()
        };
        let r = RedisConfig {
            url: Some("redis://:redis-url-pw@db:6379/0".into()),
            urls: vec!["redis://:node-pw@n1:6379".into()],
            password: Some("redis-pw".into()),
            ..Default::default()
        };
        let c = super::super::Config {
            prometheus: Some(p),
            redis: Some(r),
            ..Default::default()
        };
        let secrets = c.secrets();
        let shown = format!("{c:?}");
        for s in [
            "url-pw",
            "tok-1",
            "basic-pw",
            "redis-url-pw",
            "node-pw",
            "redis-pw",
        ] {
            assert!(
                secrets.iter().any(|x| x == s),
                "{s} missing from {secrets:?}"
            );
            assert!(!shown.contains(s), "{s} in {shown}");
        }
        assert!(shown.contains("bearer_token: Some(***)"), "{shown}");
    }
}
