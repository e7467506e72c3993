//! Finding, reading and parsing config.toml.
//!
//! The text is parsed once into toml's spanned tree. `${VAR}` references are replaced in
//! that tree (string values only), so every later error still points at the original
//! text: the line of a type error or an unknown key is the line the operator wrote.

use super::Config;
use super::interp::{Substitutions, interpolate_table};
use super::keypath::{KeyPath, NodeKind, Seg, key_from_text, node_at, span_of};
use super::validate;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::de::DeTable;

/// Why a config could not be used. Display gives one line that names the file, the line
/// and the key, and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read config file: {err}; check the path or pass --config PATH", path.display())]
    Read { path: PathBuf, err: std::io::Error },
    #[error(
        "no config file found (looked at {}); pass a PATH, set OPSDECK_CONFIG, or copy config.toml.example to ./config.toml",
        join_paths(searched)
    )]
    NotFound { searched: Vec<PathBuf> },
    #[error("{}", render_invalid(file, *line, key.as_deref(), message))]
    Invalid {
        file: PathBuf,
        /// 1-based; `None` when the problem has no place in the text (a default value).
        line: Option<usize>,
        /// Dotted key path, e.g. `redis.url` or `actions.invalidate.groups[1].name`.
        key: Option<String>,
        message: String,
    },
}

impl ConfigError {
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Invalid { line, .. } => *line,
            _ => None,
        }
    }

    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. } => key.as_deref(),
            _ => None,
        }
    }
}

fn join_paths(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    shown.join(", ")
}

fn render_invalid(file: &Path, line: Option<usize>, key: Option<&str>, message: &str) -> String {
    let mut out = file.display().to_string();
    if let Some(line) = line {
        out.push_str(&format!(":{line}"));
    }
    if let Some(key) = key {
        out.push_str(&format!(": {key}"));
    }
    out.push_str(": ");
    out.push_str(message);
    out
}

/// Where the config is, by the documented order. See [`lookup_with`].
pub fn lookup(cli: Option<&Path>) -> Option<PathBuf> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    lookup_with(cli, |k| std::env::var(k).ok(), &cwd)
}

/// `--config PATH`, then `$OPSDECK_CONFIG`, then `./config.toml`, then
/// `$XDG_CONFIG_HOME/opsdeck/config.toml` (else `~/.config/opsdeck/config.toml`).
///
/// An explicit path (flag or `$OPSDECK_CONFIG`) is returned even when it does not exist:
/// the operator asked for that file, so the error must name it rather than silently fall
/// back to another config or to the demo.
pub fn lookup_with(
    cli: Option<&Path>,
    env: impl Fn(&str) -> Option<String>,
    cwd: &Path,
) -> Option<PathBuf> {
    if let Some(path) = cli {
        return Some(path.to_path_buf());
    }
    if let Some(path) = env("OPSDECK_CONFIG").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(path));
    }
    implicit_candidates(&env, cwd)
        .into_iter()
        .find(|p| p.is_file())
}

/// The places looked at when nothing names a config explicitly.
pub fn implicit_candidates(env: &dyn Fn(&str) -> Option<String>, cwd: &Path) -> Vec<PathBuf> {
    let mut out = vec![cwd.join("config.toml")];
    let xdg = env("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            env("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".config"))
        });
    if let Some(base) = xdg {
        out.push(base.join("opsdeck").join("config.toml"));
    }
    out
}

/// Read and parse a config file, taking `${VAR}` values from the process environment.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|err| ConfigError::Read {
        path: path.to_path_buf(),
        err,
    })?;
    parse(&text, path, |k| std::env::var(k).ok())
}

/// Parse config text. `origin` only names the file in errors.
pub fn parse(
    text: &str,
    origin: &Path,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let doc = Doc { text, origin };
    let mut root = DeTable::parse(text).map_err(|e| doc.syntax_error(&e))?;
    let mut subs = Substitutions::default();
    interpolate_table(root.get_mut(), &mut Vec::new(), &env, &mut subs)
        .map_err(|(span, path, msg)| doc.error(Some(span.start), Some(&path), msg))?;

    let index = root.get_ref().clone();
    let config = Config::deserialize(toml::de::Deserializer::from(root))
        .map_err(|e| doc.serde_error(&e, &index, &subs))?;

    if let Some(issue) = validate::check(&config).into_iter().next() {
        let found = issue
            .paths
            .iter()
            .find_map(|p| span_of(&index, p).map(|span| (p, span)));
        let err = match found {
            Some((path, span)) => doc.error(Some(span.start), Some(path), issue.message),
            None => doc.error(None, issue.paths.first(), issue.message),
        };
        return Err(subs.scrub_error(err));
    }
    Ok(config)
}

struct Doc<'a> {
    text: &'a str,
    origin: &'a Path,
}

impl Doc<'_> {
    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn error(
        &self,
        offset: Option<usize>,
        path: Option<&Vec<Seg>>,
        message: String,
    ) -> ConfigError {
        ConfigError::Invalid {
            file: self.origin.to_path_buf(),
            line: offset.map(|o| self.line_of(o)),
            key: path
                .filter(|p| !p.is_empty())
                .map(|p| KeyPath(p).to_string()),
            message,
        }
    }

    fn syntax_error(&self, e: &toml::de::Error) -> ConfigError {
        let offset = e.span().map(|s| s.start);
        // The tree is incomplete here, so the key comes from the text: the last table
        // header above the error and the key on the error's line, when there is one.
        let path = offset.and_then(|o| key_from_text(self.text, self.line_of(o)));
        let message = format!("invalid TOML: {}; fix the syntax", e.message().trim_end());
        self.error(offset, path.as_ref(), message)
    }

    fn serde_error(
        &self,
        e: &toml::de::Error,
        index: &DeTable,
        subs: &Substitutions,
    ) -> ConfigError {
        let Some(span) = e.span() else {
            let message = format!("{}; check the value's type", e.message());
            return subs.scrub_error(self.error(None, None, message));
        };
        let (path, node) = node_at(index, span.start).unwrap_or_default();
        let raw = e.message();
        let message = if let Some(name) = unknown_name(raw, "unknown field `") {
            let what = if node == NodeKind::Table {
                "table"
            } else {
                "key"
            };
            let hint = suggestion(name, &expected_names(raw))
                .map(|s| format!(", did you mean {s}?"))
                .unwrap_or_else(|| format!("; allowed here: {}", expected_names(raw).join(", ")));
            format!("unknown {what} `{name}`{hint}")
        } else if let Some(name) = unknown_name(raw, "unknown variant `") {
            let allowed = expected_names(raw);
            match suggestion(name, &allowed) {
                Some(s) => format!("unknown value `{name}`, did you mean {s}?"),
                None => format!("unknown value `{name}`; use one of {}", allowed.join(", ")),
            }
        } else if raw.starts_with("missing field") {
            format!("{raw}; add it to this table")
        } else {
            format!("{}; fix the value", plain_types(&subs.unquote(raw, &span)))
        };
        subs.scrub_error(self.error(Some(span.start), Some(&path), message))
    }
}

/// Serde names Rust types; the operator wrote TOML.
fn plain_types(message: &str) -> String {
    let mut out = message.to_string();
    for (rust, toml) in [
        ("expected u64", "expected a whole number ≥ 0"),
        ("expected u32", "expected a whole number ≥ 0"),
        ("expected f64", "expected a number"),
    ] {
        out = out.replace(rust, toml);
    }
    out
}

fn unknown_name<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(prefix)?;
    rest.split('`').next()
}

/// The backticked names after "expected" in serde's unknown field/variant messages.
fn expected_names(message: &str) -> Vec<String> {
    let Some((_, tail)) = message.split_once("expected") else {
        return Vec::new();
    };
    tail.split('`')
        .skip(1)
        .step_by(2)
        .map(|s| format!("`{s}`"))
        .collect()
}

/// The closest allowed names, when close enough to be a typo.
fn suggestion(name: &str, allowed: &[String]) -> Option<String> {
    let norm = |s: &str| s.trim_matches('`').to_ascii_lowercase().replace('-', "_");
    let wanted = norm(name);
    let limit = match wanted.chars().count() {
        0..=4 => 1,
        5..=8 => 2,
        _ => 3,
    };
    let scored: Vec<(usize, &String)> = allowed
        .iter()
        .map(|a| (edit_distance(&wanted, &norm(a)), a))
        .filter(|(d, _)| *d <= limit)
        .collect();
    let best = scored.iter().map(|(d, _)| *d).min()?;
    let names: Vec<&str> = scored
        .iter()
        .filter(|(d, _)| *d == best)
        .map(|(_, a)| a.as_str())
        .collect();
    Some(names.join(" or "))
}

/// Optimal string alignment distance: Levenshtein plus adjacent transpositions, which
/// are the commonest typo (`refersh_ms`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_transpositions_once() {
        assert_eq!(edit_distance("refersh_ms", "refresh_ms"), 1);
        assert_eq!(edit_distance("urll", "urls"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn suggestion_lists_ties_and_ignores_far_names() {
        let allowed: Vec<String> = ["`url`", "`urls`", "`cluster`"].map(String::from).to_vec();
        assert_eq!(
            suggestion("urll", &allowed).as_deref(),
            Some("`url` or `urls`")
        );
        assert_eq!(suggestion("password", &allowed), None);
    }
}
