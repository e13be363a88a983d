//! Positions: byte offsets in a text and the line/character positions of the protocol, in the
//! encoding the client and server agreed on (UTF-8 when the client offers it, else the
//! protocol's default UTF-16), and the edits of `didChange` applied to a document's text.

use tally_compiler::diagnostics::Span;
use tower_lsp_server::ls_types::{
    Position, PositionEncodingKind, Range, TextDocumentContentChangeEvent,
};

/// What a position's `character` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 code units (bytes).
    Utf8,
    /// UTF-16 code units: the protocol's default.
    Utf16,
}

impl Encoding {
    /// The encoding to use given the client's offer, in the client's order of preference:
    /// UTF-8 when offered, else UTF-16.
    pub fn negotiate(offered: Option<&[PositionEncodingKind]>) -> Self {
        match offered {
            Some(kinds) if kinds.contains(&PositionEncodingKind::UTF8) => Self::Utf8,
            _ => Self::Utf16,
        }
    }

    pub fn kind(self) -> PositionEncodingKind {
        match self {
            Self::Utf8 => PositionEncodingKind::UTF8,
            Self::Utf16 => PositionEncodingKind::UTF16,
        }
    }

    /// How many units a character takes.
    fn units(self, c: char) -> usize {
        match self {
            Self::Utf8 => c.len_utf8(),
            Self::Utf16 => c.len_utf16(),
        }
    }
}

/// Where each line of a text starts, for converting offsets and positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    starts: Vec<usize>,
}

/// A byte-order mark is not part of the first line as editors show it.
const BOM: &str = "\u{feff}";

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let first = if text.starts_with(BOM) { BOM.len() } else { 0 };
        Self {
            starts: std::iter::once(first)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        }
    }

    /// The position of a byte offset (clamped to the text and to a character boundary).
    pub fn position(&self, text: &str, offset: usize, encoding: Encoding) -> Position {
        let offset = floor_boundary(text, offset);
        let line = self
            .starts
            .partition_point(|&start| start <= offset)
            .saturating_sub(1);
        let start = self.starts.get(line).copied().unwrap_or(0).min(offset);
        let character = text
            .get(start..offset)
            .map_or(0, |s| s.chars().map(|c| encoding.units(c)).sum());
        Position::new(to_u32(line), to_u32(character))
    }

    /// The byte offset of a position. A character beyond the end of its line means the end
    /// of the line, and a line beyond the text the end of the text; a position inside a
    /// character (half of a surrogate pair) means the start of that character.
    pub fn offset(&self, text: &str, position: Position, encoding: Encoding) -> usize {
        let line = position.line as usize;
        let Some(&start) = self.starts.get(line) else {
            return text.len();
        };
        let end = self
            .starts
            .get(line + 1)
            .map_or(text.len(), |next| next - 1);
        let line_text = text.get(start..end).unwrap_or("");
        let line_text = line_text.strip_suffix('\r').unwrap_or(line_text);
        let wanted = position.character as usize;
        let mut units = 0;
        for (at, c) in line_text.char_indices() {
            let next = units + encoding.units(c);
            if next > wanted {
                return start + at;
            }
            units = next;
        }
        start + line_text.len()
    }

    pub fn range(&self, text: &str, span: Span, encoding: Encoding) -> Range {
        Range::new(
            self.position(text, span.start, encoding),
            self.position(text, span.end, encoding),
        )
    }

    pub fn span(&self, text: &str, range: Range, encoding: Encoding) -> Span {
        Span::new(
            self.offset(text, range.start, encoding),
            self.offset(text, range.end, encoding),
        )
    }

    /// How many lines the text has.
    pub fn line_count(&self) -> usize {
        self.starts.len()
    }
}

/// The offset moved into the text and back onto a character boundary.
fn floor_boundary(text: &str, offset: usize) -> usize {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Applies `didChange` edits in order: a change with a range replaces that range, one without
/// replaces the whole text.
pub fn apply_changes(
    text: &mut String,
    changes: &[TextDocumentContentChangeEvent],
    encoding: Encoding,
) {
    for change in changes {
        match change.range {
            Some(range) => {
                let index = LineIndex::new(text);
                let span = index.span(text, range, encoding);
                text.replace_range(span.start..span.end, &change.text);
            }
            None => text.clone_from(&change.text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "a\u{e9}b\n\u{1f600}x\r\nend";

    #[test]
    fn utf16_counts_surrogate_pairs_as_two() {
        let index = LineIndex::new(TEXT);
        // `x` after the emoji: 2 UTF-16 units, 4 bytes.
        let x = TEXT.find('x').unwrap_or_default();
        assert_eq!(
            index.position(TEXT, x, Encoding::Utf16),
            Position::new(1, 2)
        );
        assert_eq!(index.position(TEXT, x, Encoding::Utf8), Position::new(1, 4));
        assert_eq!(index.offset(TEXT, Position::new(1, 2), Encoding::Utf16), x);
        assert_eq!(index.offset(TEXT, Position::new(1, 4), Encoding::Utf8), x);
        // `b` after `é`: 2 UTF-16 units, 3 bytes.
        assert_eq!(
            index.position(TEXT, 3, Encoding::Utf16),
            Position::new(0, 2)
        );
        assert_eq!(index.offset(TEXT, Position::new(0, 3), Encoding::Utf8), 3);
    }

    #[test]
    fn positions_past_the_end_clamp() {
        let index = LineIndex::new(TEXT);
        let line_end = TEXT.find('\r').unwrap_or_default();
        assert_eq!(
            index.offset(TEXT, Position::new(1, 99), Encoding::Utf16),
            line_end
        );
        assert_eq!(
            index.offset(TEXT, Position::new(9, 0), Encoding::Utf16),
            TEXT.len()
        );
        // Inside the surrogate pair: the start of the emoji.
        assert_eq!(index.offset(TEXT, Position::new(1, 1), Encoding::Utf16), 5);
        assert_eq!(
            index.position(TEXT, 999, Encoding::Utf8),
            Position::new(2, 3)
        );
    }

    #[test]
    fn a_byte_order_mark_is_not_a_column() {
        let text = "\u{feff}ab";
        let index = LineIndex::new(text);
        assert_eq!(
            index.position(text, 4, Encoding::Utf16),
            Position::new(0, 1)
        );
        assert_eq!(index.offset(text, Position::new(0, 0), Encoding::Utf16), 3);
    }

    #[test]
    fn edits_apply_in_order() {
        let mut text = "héllo\nwörld".to_string();
        let change = |l1, c1, l2, c2, t: &str| TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(l1, c1), Position::new(l2, c2))),
            range_length: None,
            text: t.to_string(),
        };
        apply_changes(
            &mut text,
            &[change(1, 1, 1, 2, "o"), change(0, 0, 0, 1, "H")],
            Encoding::Utf16,
        );
        assert_eq!(text, "Héllo\nworld");
        apply_changes(&mut text, &[change(0, 1, 0, 3, "")], Encoding::Utf8);
        assert_eq!(text, "Hllo\nworld");
    }

    #[test]
    fn utf8_is_chosen_only_when_offered() {
        let both = [PositionEncodingKind::UTF16, PositionEncodingKind::UTF8];
        assert_eq!(Encoding::negotiate(Some(&both)), Encoding::Utf8);
        assert_eq!(Encoding::negotiate(Some(&both[..1])), Encoding::Utf16);
        assert_eq!(Encoding::negotiate(None), Encoding::Utf16);
    }
}
