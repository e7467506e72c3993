//! Text that fits its cells without turning one figure into another.
//!
//! A line is made of pieces: labels may shrink (their end replaced by `…`), figures stay
//! whole or go. When a line is too long the labels shrink first, from the first; then whole
//! pieces go from the end and a `…` says so. `llm-gateway · target <1000ms` in 25 cells is
//! `llm-gatew… · target <1000ms`, never `llm-gateway · target <100`.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

pub const ELLIPSIS: &str = "…";

#[derive(Debug, Clone)]
pub enum Piece {
    /// Words that may shrink: a name, a caption, padding.
    Label(String, Style),
    /// A number with its unit, or anything else that must not be cut.
    Figure(String, Style),
}

impl Piece {
    fn width(&self) -> usize {
        match self {
            Piece::Label(t, _) | Piece::Figure(t, _) => t.chars().count(),
        }
    }
}

pub fn label(text: impl Into<String>, style: Style) -> Piece {
    Piece::Label(text.into(), style)
}

pub fn figure(text: impl Into<String>, style: Style) -> Piece {
    Piece::Figure(text.into(), style)
}

/// `text` in at most `width` cells: whole, or cut with a `…` at its end. Trailing spaces
/// go first, without a mark: nothing visible was cut.
pub fn cell(text: &str, width: usize) -> String {
    let n = text.chars().count();
    if n <= width {
        return text.to_string();
    }
    let trimmed = text.trim_end();
    if trimmed.chars().count() <= width {
        return format!("{trimmed:<width$}");
    }
    if width == 0 {
        return String::new();
    }
    let head: String = trimmed.chars().take(width - 1).collect();
    format!("{}{ELLIPSIS}", head.trim_end())
}

/// The pieces in at most `width` cells, as a line.
pub fn line(pieces: Vec<Piece>, width: usize) -> Line<'static> {
    Line::from(spans(pieces, width))
}

/// [`line`]'s spans, for a caller that adds more.
pub fn spans(mut pieces: Vec<Piece>, width: usize) -> Vec<Span<'static>> {
    let total = |p: &[Piece]| p.iter().map(Piece::width).sum::<usize>();
    let mut over = total(&pieces).saturating_sub(width);
    // Labels shrink, each down to one character and its `…`.
    for p in pieces.iter_mut() {
        if over == 0 {
            break;
        }
        if let Piece::Label(text, _) = p {
            let n = text.chars().count();
            let keep = n.saturating_sub(over).max(2.min(n));
            let shrunk = cell(text, keep);
            over -= n - shrunk.chars().count();
            *text = shrunk;
        }
    }
    // Then whole pieces go from the end, and a `…` takes the place of what went.
    let mut cut = false;
    while total(&pieces) + usize::from(cut) > width && !pieces.is_empty() {
        pieces.pop();
        cut = true;
    }
    // A label left as a bare `…` says nothing the closing `…` does not.
    while cut && matches!(pieces.last(), Some(Piece::Label(t, _)) if t.trim() == ELLIPSIS) {
        pieces.pop();
    }
    let ends_marked = matches!(
        pieces.last(),
        Some(Piece::Label(t, _)) if t.ends_with(ELLIPSIS)
    );
    let cut = cut && !ends_marked;
    // The closing `…` is text: it takes the line's first style, not the border's.
    let text_style = pieces.first().map(|p| match p {
        Piece::Label(_, s) | Piece::Figure(_, s) => *s,
    });
    let mut out: Vec<Span<'static>> = pieces
        .into_iter()
        .map(|p| match p {
            Piece::Label(t, s) | Piece::Figure(t, s) => Span::styled(t, s),
        })
        .collect();
    if cut && width > 0 {
        out.push(match text_style {
            Some(s) => Span::styled(ELLIPSIS, s),
            None => Span::raw(ELLIPSIS),
        });
    }
    out
}

/// Prose in at most `width` cells: whole words while they fit, then a `…`. A figure in
/// it shows whole or not at all.
pub fn words(text: &str, style: Style, width: usize) -> Line<'static> {
    let pieces = text
        .split_inclusive(' ')
        .map(|w| figure(w, style))
        .collect();
    line(pieces, width)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(pieces: Vec<Piece>, width: usize) -> String {
        line(pieces, width).to_string()
    }

    #[test]
    fn labels_shrink_before_a_figure_is_touched() {
        let s = Style::default();
        let p = || {
            vec![
                label("llm-gateway", s),
                label(" · target <", s),
                figure("1000ms", s),
            ]
        };
        assert_eq!(text(p(), 40), "llm-gateway · target <1000ms");
        assert_eq!(text(p(), 25), "llm-gat… · target <1000ms");
        // Every label at its least, then the figure goes whole.
        assert_eq!(text(p(), 8), "l…");
    }

    #[test]
    fn a_figure_goes_whole_with_a_mark() {
        let s = Style::default();
        let p = vec![figure("$73.52/h", s), figure(" $774k/month", s)];
        assert_eq!(text(p.clone(), 12), "$73.52/h…");
        assert_eq!(text(p, 7), "…");
    }

    #[test]
    fn prose_loses_whole_words() {
        let s = Style::default();
        let t = "kb-indexer hibernated: saves $0.20/h (2 pods × $0.10/h)";
        assert_eq!(words(t, s, 80).to_string(), t);
        assert_eq!(
            words(t, s, 38).to_string(),
            "kb-indexer hibernated: saves $0.20/h …"
        );
    }

    #[test]
    fn cells_cut_with_a_mark_and_trim_spaces_quietly() {
        assert_eq!(cell("cpu-ondemand", 10), "cpu-ondem…");
        assert_eq!(cell("hit rate     ", 9), "hit rate ");
        assert_eq!(cell("abc", 3), "abc");
    }
}
