//! Number formatting shared by the views: short, fixed-width-friendly, never a fake zero.

pub const MISSING: &str = "—";

pub fn ms(v: f64) -> String {
    if !v.is_finite() {
        MISSING.into()
    } else if v >= 10_000.0 {
        format!("{:.1}s", v / 1000.0)
    } else if v >= 10.0 {
        format!("{v:.0}ms")
    } else {
        format!("{v:.1}ms")
    }
}

pub fn ratio_pct(v: f64) -> String {
    if v.is_finite() {
        format!("{:.1}%", v * 100.0)
    } else {
        MISSING.into()
    }
}

pub fn pct(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.0}%")
    } else {
        MISSING.into()
    }
}

pub fn count(v: f64) -> String {
    if !v.is_finite() {
        return MISSING.into();
    }
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.1}G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

pub fn bytes(v: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = v as f64;
    let mut i = 0;
    while x >= 1024.0 && i < UNITS.len() - 1 {
        x /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{v}B")
    } else {
        format!("{x:.1}{}", UNITS[i])
    }
}

/// CPU cores the way Kubernetes writes them: "250m", "4", "1.5".
pub fn cpu_quantity(cores: f64) -> String {
    if !cores.is_finite() {
        return MISSING.into();
    }
    if cores < 1.0 {
        return format!("{:.0}m", cores * 1000.0);
    }
    trim_zeros(format!("{cores:.2}"))
}

/// Memory the way Kubernetes writes it, in binary units: "512Mi", "8Gi", "1.5Gi".
pub fn memory_quantity(bytes: f64) -> String {
    if !bytes.is_finite() {
        return MISSING.into();
    }
    let mut x = bytes;
    let mut unit = "";
    for u in ["Ki", "Mi", "Gi", "Ti"] {
        if x < 1024.0 {
            break;
        }
        x /= 1024.0;
        unit = u;
    }
    format!("{}{unit}", trim_zeros(format!("{x:.1}")))
}

fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Money as people write it: `$1.82M`, `$774k`, `$1060`, `$2.50`, `$0.005`, `-$3.10`, or
/// `12.00 CHF` for a currency without a symbol. At least three significant figures, and
/// cents below 100.
pub fn money(v: f64, currency: &str) -> String {
    if !v.is_finite() {
        return MISSING.into();
    }
    let sym = match currency {
        "USD" => "$",
        "EUR" => "€",
        "CNY" | "RMB" => "¥",
        "GBP" => "£",
        _ => "",
    };
    let sign = if v < 0.0 { "-" } else { "" };
    let body = money_amount(v.abs());
    if sym.is_empty() {
        format!("{sign}{body} {currency}")
    } else {
        format!("{sign}{sym}{body}")
    }
}

/// A non-negative amount without its currency. Each band is chosen on the rounded value,
/// so 99.999 is `100`, 9999.6 is `10.0k` and 999,600 is `1.00M`, never `1000k`.
fn money_amount(a: f64) -> String {
    if a < 1.0 {
        // Three significant figures, trailing zeros dropped down to whole cents: a price
        // per pod-hour of 0.005 must not read as 0.01.
        let decimals = if a > 0.0 {
            (2 - a.log10().floor() as i32).clamp(2, 6) as usize
        } else {
            2
        };
        let s = format!("{a:.decimals$}");
        if s.starts_with('1') {
            return "1.00".into();
        }
        let trimmed = s.trim_end_matches('0');
        let cents = s.find('.').map_or(s.len(), |dot| dot + 3);
        return s[..trimmed.len().max(cents)].to_string();
    }
    if (a * 100.0).round() < 10_000.0 {
        return format!("{a:.2}");
    }
    if a.round() < 10_000.0 {
        return format!("{a:.0}");
    }
    // Three significant figures with a unit: 18.2k, 182k, 1.82M, 1.82B (and 1820B beyond).
    let digits = a.log10().floor() as i32;
    let rounded = {
        let scale = 10f64.powi(digits - 2);
        (a / scale).round() * scale
    };
    let (unit, div) = [("B", 1e9), ("M", 1e6), ("k", 1e3)]
        .into_iter()
        .find(|(_, d)| rounded >= *d)
        .unwrap_or(("k", 1e3));
    let x = rounded / div;
    let decimals = if x < 10.0 {
        2
    } else if x < 100.0 {
        1
    } else {
        0
    };
    format!("{x:.decimals$}{unit}")
}

/// Splits `text` into lines of at most `width` characters, at spaces where it can; a
/// word longer than a line is cut.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word = word.to_string();
        while word.chars().count() > width {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(head);
        }
        let need = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
        if need > width && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

pub fn age(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// An error ratio as a percentage precise enough to compare with 0.01 %.
pub fn percent_precise(ratio: f64) -> String {
    crate::domain::slo::percent(ratio)
}

/// Text from a backend (a key name, a message) made safe for a terminal: control
/// characters become visible escapes (`\x1b`, `\n`), so they cannot move the cursor or
/// recolour the screen.
pub fn escape_control(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| match c {
            '\n' => "\\n".to_string(),
            '\r' => "\\r".to_string(),
            '\t' => "\\t".to_string(),
            c if c.is_control() => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_short_and_missing_is_not_zero() {
        assert_eq!(ms(1234.0), "1234ms");
        assert_eq!(ms(f64::NAN), MISSING);
        assert_eq!(ratio_pct(0.8123), "81.2%");
        assert_eq!(count(12_345.0), "12.3k");
        assert_eq!(bytes(3 * 1024 * 1024), "3.0MiB");
        assert_eq!(age(125), "2m");
    }

    #[test]
    fn wrap_breaks_at_spaces_and_cuts_only_words_too_long() {
        assert_eq!(
            wrap("scale: cs-prod/chat-api minReplicas 2 → 14", 20),
            ["scale:", "cs-prod/chat-api", "minReplicas 2 → 14"]
        );
        assert_eq!(wrap("abcdefghij klm", 4), ["abcd", "efgh", "ij", "klm"]);
        assert_eq!(wrap("", 10), Vec::<String>::new());
    }

    #[test]
    fn money_reads_like_money() {
        let usd = |v| money(v, "USD");
        assert_eq!(usd(1_822_000.0), "$1.82M");
        assert_eq!(usd(774_300.0), "$774k");
        assert_eq!(usd(18_220.0), "$18.2k");
        assert_eq!(usd(2_100_000_000.0), "$2.10B");
        assert_eq!(usd(1.5e12), "$1500B");
        assert_eq!(usd(1060.4), "$1060");
        assert_eq!(usd(182.0), "$182");
        assert_eq!(usd(2.5), "$2.50");
        assert_eq!(usd(18.224), "$18.22");
        assert_eq!(usd(0.5), "$0.50");
        assert_eq!(usd(0.123), "$0.123");
        assert_eq!(usd(0.005), "$0.005");
        assert_eq!(usd(0.0123), "$0.0123");
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(-3.1), "-$3.10");
        assert_eq!(usd(f64::NAN), MISSING);
        assert_eq!(money(12.0, "CHF"), "12.00 CHF");
        assert_eq!(money(1_500.0, "EUR"), "€1500");
    }

    #[test]
    fn money_rounds_into_the_next_band_not_past_it() {
        let usd = |v| money(v, "USD");
        assert_eq!(usd(0.9996), "$1.00");
        assert_eq!(usd(99.999), "$100");
        assert_eq!(usd(9_999.6), "$10.0k");
        assert_eq!(usd(99_960.0), "$100k");
        assert_eq!(usd(999_600.0), "$1.00M");
        assert_eq!(usd(999_600_000.0), "$1.00B");
    }

    /// Reads a `money` string back, for the precision check.
    fn parse_money(s: &str) -> f64 {
        let (neg, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let s = s.trim_start_matches('$');
        let (num, mult) = match s.chars().last() {
            Some('k') => (&s[..s.len() - 1], 1e3),
            Some('M') => (&s[..s.len() - 1], 1e6),
            Some('B') => (&s[..s.len() - 1], 1e9),
            _ => (s, 1.0),
        };
        let v = num.parse::<f64>().unwrap() * mult;
        if neg { -v } else { v }
    }

    #[test]
    fn money_keeps_three_significant_figures_from_a_tenth_of_a_cent_to_trillions() {
        let mut v = 0.001_234_5;
        while v < 1e13 {
            for x in [v, -v] {
                let shown = money(x, "USD");
                let back = parse_money(&shown);
                let error = ((back - x) / x).abs();
                assert!(error <= 0.005, "{x} shown as {shown}: off by {error:.4}");
                assert!(shown.chars().count() <= 9, "{x} shown as {shown}: too wide");
            }
            v *= 1.137;
        }
    }

    #[test]
    fn quantities_read_as_kubectl_writes_them() {
        assert_eq!(cpu_quantity(0.25), "250m");
        assert_eq!(cpu_quantity(4.0), "4");
        assert_eq!(cpu_quantity(1.5), "1.5");
        assert_eq!(memory_quantity(512.0 * 1024.0 * 1024.0), "512Mi");
        assert_eq!(memory_quantity(8.0 * 1024f64.powi(3)), "8Gi");
        assert_eq!(memory_quantity(1.5 * 1024f64.powi(3)), "1.5Gi");
        assert_eq!(memory_quantity(262_144_000.0), "250Mi");
    }
}
