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

pub fn money(v: f64, currency: &str) -> String {
    let sym = match currency {
        "USD" => "$",
        "EUR" => "€",
        "CNY" | "RMB" => "¥",
        "GBP" => "£",
        _ => "",
    };
    let body = if v.abs() >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    };
    if sym.is_empty() {
        format!("{body} {currency}")
    } else {
        format!("{sym}{body}")
    }
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
        assert_eq!(money(2.5, "USD"), "$2.50");
        assert_eq!(age(125), "2m");
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
