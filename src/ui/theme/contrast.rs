//! WCAG 2 contrast between two terminal colours, so a theme can be checked for legibility.
//!
//! A named ANSI colour (`red`, `darkgray`, index 0-15) has no fixed RGB value: every
//! terminal lets the user choose its palette. These are xterm's defaults (its `XTerm-col.ad`
//! and `256colres.h`), the reference most palettes start from; indices 16-255 are xterm's
//! 6×6×6 cube and grey ramp, which terminals rarely change.

use ratatui::style::Color;

/// xterm's default palette for the 16 ANSI colours, by index.
const ANSI: [(u8, u8, u8); 16] = [
    (0x00, 0x00, 0x00), // black
    (0xcd, 0x00, 0x00), // red
    (0x00, 0xcd, 0x00), // green
    (0xcd, 0xcd, 0x00), // yellow
    (0x00, 0x00, 0xee), // blue
    (0xcd, 0x00, 0xcd), // magenta
    (0x00, 0xcd, 0xcd), // cyan
    (0xe5, 0xe5, 0xe5), // gray (white)
    (0x7f, 0x7f, 0x7f), // darkgray (bright black)
    (0xff, 0x00, 0x00), // lightred
    (0x00, 0xff, 0x00), // lightgreen
    (0xff, 0xff, 0x00), // lightyellow
    (0x5c, 0x5c, 0xff), // lightblue
    (0xff, 0x00, 0xff), // lightmagenta
    (0x00, 0xff, 0xff), // lightcyan
    (0xff, 0xff, 0xff), // white (bright white)
];

/// The colour as RGB by xterm's defaults; `None` for `Reset` (the terminal's own colour,
/// which nothing here can know).
pub fn rgb(c: Color) -> Option<(u8, u8, u8)> {
    let ansi = |i: usize| Some(ANSI[i]);
    match c {
        Color::Reset => None,
        Color::Black => ansi(0),
        Color::Red => ansi(1),
        Color::Green => ansi(2),
        Color::Yellow => ansi(3),
        Color::Blue => ansi(4),
        Color::Magenta => ansi(5),
        Color::Cyan => ansi(6),
        Color::Gray => ansi(7),
        Color::DarkGray => ansi(8),
        Color::LightRed => ansi(9),
        Color::LightGreen => ansi(10),
        Color::LightYellow => ansi(11),
        Color::LightBlue => ansi(12),
        Color::LightMagenta => ansi(13),
        Color::LightCyan => ansi(14),
        Color::White => ansi(15),
        Color::Rgb(r, g, b) => Some((r, g, b)),
        Color::Indexed(i) => Some(indexed(i)),
    }
}

fn indexed(i: u8) -> (u8, u8, u8) {
    const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    match i {
        0..=15 => ANSI[i as usize],
        16..=231 => {
            let n = i - 16;
            let level = |k: u8| LEVELS[k as usize];
            (level(n / 36), level(n / 6 % 6), level(n % 6))
        }
        232..=255 => {
            let v = 8 + 10 * (i - 232);
            (v, v, v)
        }
    }
}

/// WCAG 2 relative luminance, 0 (black) to 1 (white).
pub fn luminance((r, g, b): (u8, u8, u8)) -> f64 {
    let channel = |v: u8| {
        let c = v as f64 / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
}

/// WCAG 2 contrast ratio, 1 (same) to 21 (black on white); `None` when either colour is
/// the terminal's own.
pub fn ratio(a: Color, b: Color) -> Option<f64> {
    let (la, lb) = (luminance(rgb(a)?), luminance(rgb(b)?));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    Some((hi + 0.05) / (lo + 0.05))
}

/// WCAG AA for text.
pub const TEXT_MIN: f64 = 4.5;
/// WCAG AA for graphics and the state of a control (borders, chart marks, the selection).
pub const GRAPHIC_MIN: f64 = 3.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extremes_and_known_pairs() {
        assert_eq!(ratio(Color::Black, Color::White), Some(21.0));
        assert_eq!(ratio(Color::Gray, Color::Gray), Some(1.0));
        assert_eq!(ratio(Color::Reset, Color::White), None);
        // #777777 on white is the classic just-below-AA grey.
        let grey = ratio(Color::Rgb(0x77, 0x77, 0x77), Color::White).unwrap();
        assert!((grey - 4.48).abs() < 0.01, "{grey}");
    }

    #[test]
    fn indexed_colours_follow_xterm() {
        assert_eq!(rgb(Color::Indexed(1)), rgb(Color::Red));
        assert_eq!(rgb(Color::Indexed(16)), Some((0, 0, 0)));
        assert_eq!(rgb(Color::Indexed(25)), Some((0, 95, 175)));
        assert_eq!(rgb(Color::Indexed(231)), Some((255, 255, 255)));
        assert_eq!(rgb(Color::Indexed(232)), Some((8, 8, 8)));
        assert_eq!(rgb(Color::Indexed(255)), Some((238, 238, 238)));
    }
}
