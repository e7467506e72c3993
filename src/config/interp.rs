//! `${VAR}` references in string values.

use super::keypath::Seg;
use super::load::ConfigError;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// What interpolation replaced, so that no error ever shows an environment value.
#[derive(Default)]
pub struct Substitutions {
    /// (span of the value in the text, value as written, value after interpolation)
    values: Vec<(Range<usize>, String, String)>,
    /// Values taken from the environment, with their `${VAR}` reference.
    secrets: Vec<(String, String)>,
}

impl Substitutions {
    /// Serde quotes a bad string value in its message; show it as written instead.
    pub fn unquote(&self, message: &str, span: &Range<usize>) -> String {
        let mut out = message.to_string();
        for (s, written, expanded) in &self.values {
            if s == span {
                out = out.replace(&format!("{expanded:?}"), &format!("{written:?}"));
            }
        }
        out
    }

    fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (value, reference) in &self.secrets {
            out = out.replace(value, reference);
        }
        out
    }

    pub fn scrub_error(&self, err: ConfigError) -> ConfigError {
        match err {
            ConfigError::Invalid {
                file,
                line,
                key,
                message,
            } => ConfigError::Invalid {
                file,
                line,
                key: key.map(|k| self.scrub(&k)),
                message: self.scrub(&message),
            },
            other => other,
        }
    }
}

pub type InterpError = (Range<usize>, Vec<Seg>, String);

pub fn interpolate_table(
    table: &mut DeTable,
    path: &mut Vec<Seg>,
    env: &impl Fn(&str) -> Option<String>,
    subs: &mut Substitutions,
) -> Result<(), InterpError> {
    for (k, v) in table.iter_mut() {
        path.push(Seg::Key(k.get_ref().to_string()));
        interpolate_value(v, path, env, subs)?;
        path.pop();
    }
    Ok(())
}

fn interpolate_value(
    v: &mut Spanned<DeValue>,
    path: &mut Vec<Seg>,
    env: &impl Fn(&str) -> Option<String>,
    subs: &mut Substitutions,
) -> Result<(), InterpError> {
    let span = v.span();
    match v.get_mut() {
        DeValue::String(s) if s.contains('$') => {
            let expanded = expand(s, env, subs).map_err(|m| (span.clone(), path.clone(), m))?;
            if expanded != **s {
                subs.values.push((span, s.to_string(), expanded.clone()));
                *s = expanded.into();
            }
        }
        DeValue::Table(t) => interpolate_table(t, path, env, subs)?,
        DeValue::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                path.push(Seg::Index(i));
                interpolate_value(item, path, env, subs)?;
                path.pop();
            }
        }
        _ => {}
    }
    Ok(())
}

/// Replace `${VAR}` with the variable's value; `$${` stands for a literal `${`.
fn expand(
    s: &str,
    env: &impl Fn(&str) -> Option<String>,
    subs: &mut Substitutions,
) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${") {
            let Some(end) = after.find('}') else {
                return Err(
                    "unterminated `${`; close it with `}` or write `$${` for a literal `${`".into(),
                );
            };
            let name = &after[..end];
            let valid = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(format!(
                    "`${{{name}}}` is not a valid variable reference; use letters, digits and `_`"
                ));
            }
            let Some(value) = env(name) else {
                return Err(format!(
                    "environment variable `{name}` is not set (referenced as `${{{name}}}`); export it or remove the key"
                ));
            };
            // Values this short cannot be scrubbed without mangling the message, and are
            // not credentials anyway.
            if value.chars().count() >= 3 {
                subs.secrets.push((value.clone(), format!("${{{name}}}")));
            }
            out.push_str(&value);
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_handles_escape_and_plain_dollars() {
        let env = |k: &str| (k == "A").then(|| "x".to_string());
        let mut subs = Substitutions::default();
        assert_eq!(
            expand("$${A} ${A} $5", &env, &mut subs).unwrap(),
            "${A} x $5"
        );
        assert!(expand("${A", &env, &mut subs).is_err());
        assert!(expand("${1A}", &env, &mut subs).is_err());
    }
}
