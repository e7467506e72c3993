//! JSON written exactly as the platform's Python services write it:
//! `json.dumps(json.loads(text), sort_keys=True)` with the default `", "` / `": "`
//! separators and `ensure_ascii=True`.
//!
//! The text is rewritten straight from its source rather than through `serde_json::Value`,
//! because a `Value` loses what Python keeps: integers of any size (Python's `int` has no
//! bound; a `Value` turns 2^64 into a float), lone surrogates in strings (`"\ud800"` loads
//! in Python and dumps back the same), and the difference between `1` and `1.0`.
//!
//! Python's rules applied here:
//! - object members sorted by key, compared as code points (Python's `str` order, which is
//!   neither UTF-16 order nor byte order for lone surrogates); a key given twice keeps its
//!   last value, as `dict` does;
//! - integers as their digits (`-0` is `0`); Python's `int()` refuses more than 4300 digits,
//!   so such a number is refused here too, rather than keyed as no service could;
//! - other numbers through a double (correctly rounded, as Python's `float()`), written as
//!   Python's `repr`: shortest round-trip digits, `1e+16`, `1e-07`, `1.0`, `Infinity` for
//!   what overflows (`1e400`);
//! - the value's truth as Python's `bool()` sees it (`null`, `false`, `0`, `0.0`, `-0.0`,
//!   `""`, `[]`, `{}` are false), since the services key `context or ""`.

use thiserror::Error;

/// Where and why a text is not JSON Python would load.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{reason} at byte {offset}")]
pub struct PyJsonError {
    pub offset: usize,
    pub reason: &'static str,
}

/// Python's `int()` limit on decimal digits (`sys.get_int_max_str_digits()`, 3.11+).
const MAX_INT_DIGITS: usize = 4300;
/// Nesting deeper than this is refused; serde_json refuses a line past 128 already.
const MAX_DEPTH: usize = 128;

/// Appends `json.dumps(json.loads(text), sort_keys=True)` to `out` and returns the value's
/// truth (`bool(value)` in Python). On error `out` may hold part of the value.
pub fn push_sorted(out: &mut String, text: &str) -> Result<bool, PyJsonError> {
    let mut p = Parser { text, pos: 0 };
    p.skip_ws();
    let truthy = p.value(out, 0)?;
    p.skip_ws();
    if p.pos != text.len() {
        return Err(p.err("trailing characters after the value"));
    }
    Ok(truthy)
}

/// A JSON string literal as Python writes it with `ensure_ascii=True`: only printable ASCII
/// (0x20..=0x7e) is kept; DEL and everything above is escaped.
pub fn push_str_literal(out: &mut String, s: &str) {
    out.push('"');
    push_str_body(out, s);
    out.push('"');
}

/// Bytes kept as they are inside a string literal: printable ASCII but the quote and the
/// backslash.
fn is_plain(b: u8) -> bool {
    (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\'
}

/// The inside of [`push_str_literal`]: runs of plain printable ASCII are copied whole; only
/// the rest goes char by char.
fn push_str_body(out: &mut String, s: &str) {
    let mut rest = s;
    while !rest.is_empty() {
        let plain = rest
            .bytes()
            .position(|b| !is_plain(b))
            .unwrap_or(rest.len());
        out.push_str(&rest[..plain]);
        rest = &rest[plain..];
        let Some(ch) = rest.chars().next() else { break };
        rest = &rest[ch.len_utf8()..];
        push_escaped(out, u32::from(ch));
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// One code point of a string literal's body, escaped as Python's `ensure_ascii` does.
/// Surrogates (from a lone `\ud800` in the source) come out as themselves.
fn push_escaped(out: &mut String, cp: u32) {
    match cp {
        0x22 => out.push_str("\\\""),
        0x5c => out.push_str("\\\\"),
        0x0a => out.push_str("\\n"),
        0x0d => out.push_str("\\r"),
        0x09 => out.push_str("\\t"),
        0x08 => out.push_str("\\b"),
        0x0c => out.push_str("\\f"),
        0x20..=0x7e => out.push(char::from(cp as u8)),
        0x1_0000.. => {
            let v = cp - 0x1_0000;
            push_u_escape(out, 0xd800 | (v >> 10));
            push_u_escape(out, 0xdc00 | (v & 0x3ff));
        }
        _ => push_u_escape(out, cp),
    }
}

fn push_u_escape(out: &mut String, unit: u32) {
    let mut esc = *b"\\u0000";
    for (i, shift) in [12, 8, 4, 0].into_iter().enumerate() {
        esc[2 + i] = HEX[((unit >> shift) & 0xf) as usize];
    }
    // Six ASCII bytes.
    out.push_str(std::str::from_utf8(&esc).unwrap_or_default());
}

/// Python's `repr(float)`: the shortest digits that read back as the same double, in fixed
/// notation from 1e-4 up to 1e16 (with `.0` when integral), else as `1.5e+300` / `1e-07`.
pub fn push_float_repr(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("NaN");
        return;
    }
    if f.is_infinite() {
        out.push_str(if f < 0.0 { "-Infinity" } else { "Infinity" });
        return;
    }
    // Rust's `{:e}` is the shortest round-trip form too: "-1.2345e-7", "0e0".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    // Python's `decpt`: the value is 0.DIGITS × 10^decpt.
    let decpt = exp.parse::<i32>().unwrap_or(0) + 1;
    out.push_str(sign);
    let n = digits.len() as i32;
    if decpt <= -4 || decpt > 16 {
        out.push_str(&digits[..1]);
        if n > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let e = decpt - 1;
        out.push_str(&format!("e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs()));
    } else if decpt <= 0 {
        out.push_str("0.");
        (0..-decpt).for_each(|_| out.push('0'));
        out.push_str(&digits);
    } else if decpt >= n {
        out.push_str(&digits);
        (0..decpt - n).for_each(|_| out.push('0'));
        out.push_str(".0");
    } else {
        let (int, frac) = digits.split_at(decpt as usize);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    }
}

/// Where a string literal's contents go: written out escaped as Python writes them, or
/// kept as code points to compare keys by.
trait StrSink {
    /// A run of printable ASCII other than `"` and `\\`.
    fn plain(&mut self, s: &str);
    fn code_point(&mut self, cp: u32);
}

impl StrSink for String {
    fn plain(&mut self, s: &str) {
        self.push_str(s);
    }

    fn code_point(&mut self, cp: u32) {
        push_escaped(self, cp);
    }
}

impl StrSink for Vec<u32> {
    fn plain(&mut self, s: &str) {
        self.extend(s.bytes().map(u32::from));
    }

    fn code_point(&mut self, cp: u32) {
        self.push(cp);
    }
}

/// An object key: compared, as Python compares `str`, by code point. UTF-8 byte order is
/// code point order, so a key without escapes is compared as it stands; one with escapes
/// (which may hold a lone surrogate) is decoded.
enum Key<'t> {
    Plain(&'t str),
    Decoded(Vec<u32>),
}

impl Key<'_> {
    fn cmp(&self, other: &Key<'_>) -> std::cmp::Ordering {
        match (self, other) {
            (Key::Plain(a), Key::Plain(b)) => a.cmp(b),
            (Key::Plain(a), Key::Decoded(b)) => a.chars().map(u32::from).cmp(b.iter().copied()),
            (Key::Decoded(a), Key::Plain(b)) => a.iter().copied().cmp(b.chars().map(u32::from)),
            (Key::Decoded(a), Key::Decoded(b)) => a.cmp(b),
        }
    }
}

struct Parser<'t> {
    text: &'t str,
    pos: usize,
}

impl<'t> Parser<'t> {
    fn err(&self, reason: &'static str) -> PyJsonError {
        PyJsonError {
            offset: self.pos,
            reason,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8, reason: &'static str) -> Result<(), PyJsonError> {
        self.skip_ws();
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(reason))
        }
    }

    /// Writes one value and returns its truth.
    fn value(&mut self, out: &mut String, depth: usize) -> Result<bool, PyJsonError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        self.skip_ws();
        match self.peek() {
            Some(b'{') => self.object(out, depth),
            Some(b'[') => self.array(out, depth),
            Some(b'"') => {
                let start = out.len();
                out.push('"');
                self.string(out)?;
                out.push('"');
                // Every code point writes at least one byte.
                Ok(out.len() - start > 2)
            }
            Some(b'-' | b'0'..=b'9') => self.number(out),
            _ => {
                for (word, truthy) in [("true", true), ("false", false), ("null", false)] {
                    if self.text[self.pos..].starts_with(word) {
                        self.pos += word.len();
                        out.push_str(word);
                        return Ok(truthy);
                    }
                }
                Err(self.err("expected a JSON value"))
            }
        }
    }

    fn array(&mut self, out: &mut String, depth: usize) -> Result<bool, PyJsonError> {
        self.pos += 1;
        out.push('[');
        self.skip_ws();
        let mut n = 0;
        if self.peek() == Some(b']') {
            self.pos += 1;
        } else {
            loop {
                if n > 0 {
                    out.push_str(", ");
                }
                self.value(out, depth + 1)?;
                n += 1;
                self.skip_ws();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b']') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.err("expected ',' or ']' in an array")),
                }
            }
        }
        out.push(']');
        Ok(n > 0)
    }

    fn object(&mut self, out: &mut String, depth: usize) -> Result<bool, PyJsonError> {
        self.pos += 1;
        // Each member's key and where its value, written out, sits in `values`.
        let mut members: Vec<(Key<'t>, std::ops::Range<usize>)> = Vec::new();
        let mut values = String::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            loop {
                self.skip_ws();
                if self.peek() != Some(b'"') {
                    return Err(self.err("expected a string key in an object"));
                }
                let key = self.key()?;
                self.expect(b':', "expected ':' after an object key")?;
                let from = values.len();
                self.value(&mut values, depth + 1)?;
                members.push((key, from..values.len()));
                self.skip_ws();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b'}') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.err("expected ',' or '}' in an object")),
                }
            }
        }
        // Stable sort, then the last of each run of equal keys: `dict` keeps the last value.
        members.sort_by(|a, b| a.0.cmp(&b.0));
        let mut kept: Vec<&(Key<'t>, std::ops::Range<usize>)> = Vec::with_capacity(members.len());
        for m in &members {
            match kept.last_mut() {
                Some(last) if last.0.cmp(&m.0).is_eq() => *last = m,
                _ => kept.push(m),
            }
        }
        out.push('{');
        for (i, (key, value)) in kept.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push('"');
            match key {
                Key::Plain(s) => push_str_body(out, s),
                Key::Decoded(cps) => cps.iter().for_each(|&cp| push_escaped(out, cp)),
            }
            out.push_str("\": ");
            out.push_str(&values[value.clone()]);
        }
        out.push('}');
        Ok(!kept.is_empty())
    }

    /// An object key (at its opening quote): borrowed from the text when it has no escape,
    /// as nearly every key has.
    fn key(&mut self) -> Result<Key<'t>, PyJsonError> {
        let start = self.pos + 1;
        let bytes = self.text.as_bytes();
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
            .map(|i| start + i);
        if let Some(end) = end
            && bytes[end] == b'"'
        {
            self.pos = end + 1;
            return Ok(Key::Plain(&self.text[start..end]));
        }
        let mut cps = Vec::new();
        self.string(&mut cps)?;
        Ok(Key::Decoded(cps))
    }

    /// Reads a string literal (at its opening quote) into `out`: runs of plain printable
    /// ASCII whole, the rest decoded into code points, joining surrogate pairs written as two
    /// escapes and keeping a lone surrogate as itself, as Python does.
    fn string(&mut self, out: &mut impl StrSink) -> Result<(), PyJsonError> {
        self.pos += 1;
        let bytes = self.text.as_bytes();
        loop {
            let run = bytes[self.pos..]
                .iter()
                .position(|&b| !is_plain(b))
                .unwrap_or(bytes.len() - self.pos);
            out.plain(&self.text[self.pos..self.pos + run]);
            self.pos += run;
            let Some(&b) = bytes.get(self.pos) else {
                return Err(self.err("unterminated string"));
            };
            match b {
                b'"' => {
                    self.pos += 1;
                    return Ok(());
                }
                b'\\' => {
                    let cp = self.escape()?;
                    out.code_point(cp);
                }
                0x00..=0x1f => return Err(self.err("control character in a string")),
                _ => {
                    let ch = self.text[self.pos..].chars().next().unwrap_or('\0');
                    self.pos += ch.len_utf8();
                    out.code_point(u32::from(ch));
                }
            }
        }
    }

    /// One escape (at its backslash); a `\uD8xx\uDCxx` pair becomes one code point.
    fn escape(&mut self) -> Result<u32, PyJsonError> {
        let bytes = self.text.as_bytes();
        let Some(&kind) = bytes.get(self.pos + 1) else {
            return Err(self.err("unterminated escape"));
        };
        self.pos += 2;
        let cp = match kind {
            b'"' => 0x22,
            b'\\' => 0x5c,
            b'/' => 0x2f,
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => 0x0a,
            b'r' => 0x0d,
            b't' => 0x09,
            b'u' => {
                let hi = self.hex4()?;
                if (0xd800..0xdc00).contains(&hi) && self.text[self.pos..].starts_with("\\u") {
                    let save = self.pos;
                    self.pos += 2;
                    let lo = self.hex4()?;
                    if (0xdc00..0xe000).contains(&lo) {
                        return Ok(0x1_0000 + ((hi - 0xd800) << 10) + (lo - 0xdc00));
                    }
                    self.pos = save;
                }
                hi
            }
            _ => {
                self.pos -= 2;
                return Err(self.err("invalid escape"));
            }
        };
        Ok(cp)
    }

    fn hex4(&mut self) -> Result<u32, PyJsonError> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.err("invalid \\u escape"))?;
        self.pos += 4;
        u32::from_str_radix(digits, 16).map_err(|_| self.err("invalid \\u escape"))
    }

    fn number(&mut self, out: &mut String) -> Result<bool, PyJsonError> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let digits = |p: &mut usize| {
            let from = *p;
            while bytes.get(*p).is_some_and(u8::is_ascii_digit) {
                *p += 1;
            }
            *p - from
        };
        let mut p = self.pos;
        let negative = bytes.get(p) == Some(&b'-');
        p += usize::from(negative);
        let int_start = p;
        let int_len = digits(&mut p);
        if int_len == 0 || (int_len > 1 && bytes[int_start] == b'0') {
            return Err(self.err("invalid number"));
        }
        let mut is_float = false;
        if bytes.get(p) == Some(&b'.') {
            p += 1;
            is_float = true;
            if digits(&mut p) == 0 {
                return Err(self.err("invalid number"));
            }
        }
        if matches!(bytes.get(p), Some(b'e' | b'E')) {
            p += 1;
            is_float = true;
            if matches!(bytes.get(p), Some(b'+' | b'-')) {
                p += 1;
            }
            if digits(&mut p) == 0 {
                return Err(self.err("invalid number"));
            }
        }
        self.pos = p;
        if is_float {
            let f: f64 = self.text[start..p]
                .parse()
                .map_err(|_| self.err("invalid number"))?;
            push_float_repr(out, f);
            return Ok(f != 0.0);
        }
        if int_len > MAX_INT_DIGITS {
            self.pos = start;
            return Err(self.err("integer longer than Python's 4300-digit limit"));
        }
        let int = &self.text[int_start..p];
        let zero = int == "0";
        if negative && !zero {
            out.push('-');
        }
        out.push_str(int);
        Ok(!zero)
    }
}

#[cfg(test)]
mod tests;
