//! Theme TOML to [`Theme`], with errors that name the file, the line and the key.
//!
//! Parsed through `toml::de::DeTable` rather than serde derive because every value keeps
//! its span there, so a bad colour three tables down still reports its own line.

use super::{Theme, ThemeError};
use ratatui::style::{Color, Modifier, Style};
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

const ROLES: &[&str] = &[
    "text",
    "ok",
    "warn",
    "critical",
    "muted",
    "accent",
    "border",
    "title",
    "selection",
];
const TOP_KEYS: &[&str] = &["name", "background", "series"];
const ROLE_KEYS: &[&str] = &["fg", "bg", "modifiers"];

const COLOUR_NAMES: &[(&str, Color)] = &[
    ("reset", Color::Reset),
    ("black", Color::Black),
    ("red", Color::Red),
    ("green", Color::Green),
    ("yellow", Color::Yellow),
    ("blue", Color::Blue),
    ("magenta", Color::Magenta),
    ("cyan", Color::Cyan),
    ("gray", Color::Gray),
    ("grey", Color::Gray),
    ("darkgray", Color::DarkGray),
    ("darkgrey", Color::DarkGray),
    ("lightred", Color::LightRed),
    ("lightgreen", Color::LightGreen),
    ("lightyellow", Color::LightYellow),
    ("lightblue", Color::LightBlue),
    ("lightmagenta", Color::LightMagenta),
    ("lightcyan", Color::LightCyan),
    ("white", Color::White),
];

const MODIFIERS: &[(&str, Modifier)] = &[
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("reversed", Modifier::REVERSED),
];

const COLOUR_FORMS: &str = "a colour is a name (black, red, green, yellow, blue, magenta, \
    cyan, gray, darkgray, lightred, lightgreen, lightyellow, lightblue, lightmagenta, \
    lightcyan, white, reset), \"#rrggbb\", or an index 0-255";

struct Source<'a> {
    file: &'a str,
    text: &'a str,
}

impl Source<'_> {
    fn line(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn error(&self, span: &Range<usize>, key: &str, message: impl Into<String>) -> ThemeError {
        ThemeError::Invalid {
            file: self.file.to_string(),
            line: self.line(span),
            key: key.to_string(),
            message: message.into(),
        }
    }
}

pub(super) fn parse(file: &str, text: &str, default_name: &str) -> Result<Theme, ThemeError> {
    let src = Source { file, text };
    let doc = DeTable::parse(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        src.error(&span, "toml", e.message().trim().to_string())
    })?;

    let mut name = default_name.to_string();
    let mut background = None;
    let mut series = None;
    let mut styles: [Option<Style>; ROLES.len()] = [None; ROLES.len()];

    for (key, value) in doc.get_ref().iter() {
        let k = key.get_ref().as_ref();
        let span = key.span();
        match k {
            "name" => name = string(&src, k, value)?.to_string(),
            "background" => background = Some(colour(&src, k, value)?),
            "series" => series = Some(colours(&src, k, value)?),
            _ => match ROLES.iter().position(|r| *r == k) {
                Some(i) => styles[i] = Some(role(&src, k, value)?),
                None => {
                    return Err(src.error(&span, k, unknown_role_message(k)));
                }
            },
        }
    }

    let missing: Vec<&str> = ROLES
        .iter()
        .zip(&styles)
        .filter(|(_, s)| s.is_none())
        .map(|(r, _)| *r)
        .collect();
    if !missing.is_empty() {
        let end = text.len()..text.len();
        return Err(src.error(
            &end,
            &missing.join(", "),
            format!(
                "missing role{}; a theme sets every role: {}",
                if missing.len() == 1 { "" } else { "s" },
                ROLES.join(", ")
            ),
        ));
    }
    let [
        text,
        ok,
        warn,
        critical,
        muted,
        accent,
        border,
        title,
        selection,
    ] = styles.map(|s| {
        // A painted background is under every role that does not choose its own, so text
        // stays legible wherever a widget clears a cell (a popup over a view).
        let s = s.unwrap_or_default();
        match (s.bg, background) {
            (None, Some(bg)) => s.bg(bg),
            _ => s,
        }
    });
    Ok(Theme {
        name,
        background,
        text,
        ok,
        warn,
        critical,
        muted,
        accent,
        border,
        title,
        selection,
        series: series.unwrap_or_default(),
    })
}

fn unknown_role_message(key: &str) -> String {
    let known: Vec<&str> = ROLES.iter().chain(TOP_KEYS).copied().collect();
    let hint = suggestion(key, &known)
        .map(|s| format!(" (did you mean {s:?}?)"))
        .unwrap_or_default();
    format!(
        "unknown role{hint}; roles are {}, and top-level keys are {}",
        ROLES.join(", "),
        TOP_KEYS.join(", ")
    )
}

fn string<'a>(src: &Source, key: &str, value: &'a Spanned<DeValue>) -> Result<&'a str, ThemeError> {
    match value.get_ref() {
        DeValue::String(s) => Ok(s.as_ref()),
        _ => Err(src.error(&value.span(), key, "expected a string")),
    }
}

fn role(src: &Source, role: &str, value: &Spanned<DeValue>) -> Result<Style, ThemeError> {
    let DeValue::Table(table) = value.get_ref() else {
        return Err(src.error(
            &value.span(),
            role,
            format!(
                "expected a table such as [{role}] with {}",
                ROLE_KEYS.join(", ")
            ),
        ));
    };
    let mut style = Style::default();
    for (key, value) in table.iter() {
        let k = key.get_ref().as_ref();
        let place = format!("{role}.{k}");
        match k {
            "fg" => style = style.fg(colour(src, &place, value)?),
            "bg" => style = style.bg(colour(src, &place, value)?),
            "modifiers" => style = style.add_modifier(modifiers(src, &place, value)?),
            _ if TOP_KEYS.contains(&k) => {
                return Err(src.error(
                    &key.span(),
                    &place,
                    format!("{k} is a top-level key; move it above the first [table]"),
                ));
            }
            _ => {
                let hint = suggestion(k, ROLE_KEYS)
                    .map(|s| format!(" (did you mean {s:?}?)"))
                    .unwrap_or_default();
                return Err(src.error(
                    &key.span(),
                    &place,
                    format!("unknown key{hint}; a role has {}", ROLE_KEYS.join(", ")),
                ));
            }
        }
    }
    Ok(style)
}

fn colours(src: &Source, key: &str, value: &Spanned<DeValue>) -> Result<Vec<Color>, ThemeError> {
    let DeValue::Array(items) = value.get_ref() else {
        return Err(src.error(
            &value.span(),
            key,
            format!("expected a list of colours; {COLOUR_FORMS}"),
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| colour(src, &format!("{key}[{i}]"), item))
        .collect()
}

fn colour(src: &Source, key: &str, value: &Spanned<DeValue>) -> Result<Color, ThemeError> {
    let parsed = match value.get_ref() {
        DeValue::String(s) => parse_colour(s),
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .ok()
            .and_then(|n| u8::try_from(n).ok())
            .map(Color::Indexed),
        _ => None,
    };
    parsed.ok_or_else(|| {
        let shown = match value.get_ref() {
            DeValue::String(s) => format!("{s:?}"),
            DeValue::Integer(i) => i.to_string(),
            _ => "this value".into(),
        };
        src.error(
            &value.span(),
            key,
            format!("{shown} is not a colour; {COLOUR_FORMS}"),
        )
    })
}

/// Names ignore case, `-`, `_` and spaces, so `Light-Cyan` and `dark_gray` work.
fn parse_colour(s: &str) -> Option<Color> {
    let s = s.trim();
    if let Some(hex) = s.strip_prefix('#') {
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
        return Some(Color::Rgb(byte(0)?, byte(2)?, byte(4)?));
    }
    if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() {
        return s.parse::<u8>().ok().map(Color::Indexed);
    }
    let folded: String = s
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    COLOUR_NAMES
        .iter()
        .find(|(name, _)| *name == folded)
        .map(|(_, c)| *c)
}

fn modifiers(src: &Source, key: &str, value: &Spanned<DeValue>) -> Result<Modifier, ThemeError> {
    let allowed = || {
        MODIFIERS
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let DeValue::Array(items) = value.get_ref() else {
        return Err(src.error(
            &value.span(),
            key,
            format!(
                "expected a list such as [\"bold\"]; modifiers are {}",
                allowed()
            ),
        ));
    };
    let mut all = Modifier::empty();
    for (i, item) in items.iter().enumerate() {
        let place = format!("{key}[{i}]");
        let name = string(src, &place, item)?;
        let lower = name.trim().to_ascii_lowercase();
        match MODIFIERS.iter().find(|(n, _)| *n == lower) {
            Some((_, m)) => all |= *m,
            None => {
                let names: Vec<&str> = MODIFIERS.iter().map(|(n, _)| *n).collect();
                let hint = suggestion(&lower, &names)
                    .map(|s| format!(" (did you mean {s:?}?)"))
                    .unwrap_or_default();
                return Err(src.error(
                    &item.span(),
                    &place,
                    format!(
                        "unknown modifier {name:?}{hint}; modifiers are {}",
                        allowed()
                    ),
                ));
            }
        }
    }
    Ok(all)
}

/// The closest known word within two edits, for "did you mean" hints on typos.
fn suggestion<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(word, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut row = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != *cb);
            row[j + 1] = substitute.min(prev[j + 1] + 1).min(row[j] + 1);
        }
        prev = row;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_forms() {
        assert_eq!(parse_colour("Light-Cyan"), Some(Color::LightCyan));
        assert_eq!(parse_colour("dark_grey"), Some(Color::DarkGray));
        assert_eq!(parse_colour("#00ff7F"), Some(Color::Rgb(0, 255, 127)));
        assert_eq!(parse_colour("255"), Some(Color::Indexed(255)));
        assert_eq!(parse_colour("256"), None);
        assert_eq!(parse_colour("#12345"), None);
        assert_eq!(parse_colour("#12345g"), None);
        assert_eq!(parse_colour("purple"), None);
    }

    #[test]
    fn suggestions_catch_typos_only() {
        assert_eq!(suggestion("critcal", ROLES), Some("critical"));
        assert_eq!(suggestion("selction", ROLES), Some("selection"));
        assert_eq!(suggestion("banana", ROLES), None);
    }
}
