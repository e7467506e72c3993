//! Key paths and where they are in the text.
//!
//! Errors from toml and serde carry a byte span; the operator needs the dotted key and
//! the line. Both come from the spanned tree the config was parsed into.

use std::fmt;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl From<&str> for Seg {
    fn from(s: &str) -> Self {
        Seg::Key(s.to_string())
    }
}

impl From<usize> for Seg {
    fn from(i: usize) -> Self {
        Seg::Index(i)
    }
}

pub struct KeyPath<'a>(pub &'a [Seg]);

impl fmt::Display for KeyPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Index(n) => write!(f, "[{n}]")?,
                Seg::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    let bare = !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    if bare {
                        f.write_str(k)?;
                    } else {
                        write!(f, "{k:?}")?;
                    }
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    #[default]
    Other,
    Table,
}

/// The path of the smallest key or value whose span holds `offset`. Parent spans are not
/// trusted to enclose their children (a `[table]` header's span may be the header only),
/// so the whole tree is searched.
pub fn node_at(root: &DeTable, offset: usize) -> Option<(Vec<Seg>, NodeKind)> {
    let mut best: Option<(usize, Vec<Seg>, NodeKind)> = None;
    let mut path = Vec::new();
    search_table(root, offset, &mut path, &mut best);
    best.map(|(_, p, k)| (p, k))
}

type Best = Option<(usize, Vec<Seg>, NodeKind)>;

fn consider(span: Range<usize>, offset: usize, path: &[Seg], kind: NodeKind, best: &mut Best) {
    let holds = span.contains(&offset) || (span.is_empty() && span.start == offset);
    if holds && best.as_ref().is_none_or(|(len, _, _)| span.len() <= *len) {
        *best = Some((span.len(), path.to_vec(), kind));
    }
}

fn search_table(table: &DeTable, offset: usize, path: &mut Vec<Seg>, best: &mut Best) {
    for (k, v) in table.iter() {
        path.push(Seg::Key(k.get_ref().to_string()));
        let kind = kind_of(v.get_ref());
        consider(k.span(), offset, path, kind, best);
        search_value(v, offset, path, best);
        path.pop();
    }
}

fn search_value(v: &Spanned<DeValue>, offset: usize, path: &mut Vec<Seg>, best: &mut Best) {
    consider(v.span(), offset, path, kind_of(v.get_ref()), best);
    match v.get_ref() {
        DeValue::Table(t) => search_table(t, offset, path, best),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                search_value(item, offset, path, best);
                path.pop();
            }
        }
        _ => {}
    }
}

fn kind_of(v: &DeValue) -> NodeKind {
    match v {
        DeValue::Table(_) => NodeKind::Table,
        _ => NodeKind::Other,
    }
}

/// Span of the key (or array element) at `path`, when the file sets it.
pub fn span_of(root: &DeTable, path: &[Seg]) -> Option<Range<usize>> {
    let (first, rest) = path.split_first()?;
    let Seg::Key(name) = first else { return None };
    let (k, v) = root.get_key_value(name.as_str())?;
    let mut span = k.span();
    let mut node = v;
    for seg in rest {
        node = match (seg, node.get_ref()) {
            (Seg::Key(name), DeValue::Table(t)) => {
                let (k, v) = t.get_key_value(name.as_str())?;
                span = k.span();
                v
            }
            (Seg::Index(i), DeValue::Array(a)) => {
                let v = a.get(*i)?;
                span = v.span();
                v
            }
            _ => return None,
        };
    }
    Some(span)
}

pub fn key_from_text(text: &str, line: usize) -> Option<Vec<Seg>> {
    let lines: Vec<&str> = text.lines().collect();
    let here = lines.get(line.checked_sub(1)?)?.trim();
    let key = here
        .split_once('=')
        .map(|(k, _)| k.trim())
        .filter(|k| !k.is_empty() && !k.starts_with('[') && !k.starts_with('#'));
    let header = lines[..line - 1].iter().rev().find_map(|l| {
        let l = l.trim();
        let inner = l.strip_prefix("[[").and_then(|r| r.split_once("]]"));
        let inner = inner.or_else(|| l.strip_prefix('[').and_then(|r| r.split_once(']')));
        inner.map(|(h, _)| h.trim().to_string())
    });
    let mut path: Vec<Seg> = Vec::new();
    for part in header.iter().chain(key.map(str::to_string).iter()) {
        path.extend(
            part.split('.')
                .map(|s| Seg::Key(s.trim().trim_matches('"').to_string())),
        );
    }
    (!path.is_empty()).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_path_quotes_non_bare_keys() {
        let p = vec![
            Seg::from("cost"),
            Seg::from("models"),
            Seg::from("gpt 4"),
            Seg::from(0),
        ];
        assert_eq!(KeyPath(&p).to_string(), "cost.models.\"gpt 4\"[0]");
    }
}
