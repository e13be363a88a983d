//! Bounded source snippets for rendering diagnostics. A snippet holds only the lines around
//! each label, each line cut to a window of columns around the label, so that a diagnostic on
//! a megabyte-long CSV line or deep inside a large file renders in a few hundred characters and
//! in time that does not grow with the file. Labels are mapped into the snippet's own
//! coordinates; line and column numbers stay those of the file.

use std::ops::Range;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::diagnostics::{SourceFile, Span, printable};

/// The most characters of one line that a snippet shows.
pub const WINDOW: usize = 120;
/// How many characters of the window lie before the label's first character.
const LEAD: usize = 40;
/// Lines shown before and after each label (the renderer's context lines).
pub const CONTEXT: usize = 1;
/// A label spanning more lines than this underlines only its first line.
const MAX_LABEL_LINES: usize = 6;
/// Marks where a line was cut.
const CUT: &str = "…";

/// The lines a diagnostic's labels point at, cut to windows.
#[derive(Debug)]
pub struct Snippet {
    path: String,
    text: String,
    lines: Vec<Line>,
}

/// One line of the file as the snippet shows it.
#[derive(Debug)]
struct Line {
    /// Where the line's shown text lies in the snippet's text.
    range: Range<usize>,
    /// The 0-based line number in the file.
    number: usize,
    /// The file's character column (0-based) of the first character shown after any cut mark.
    first_column: usize,
    /// Bytes of the cut mark the shown text starts with.
    mark: usize,
    /// The byte offset in the file of the first character shown after any cut mark.
    file_start: usize,
}

impl Snippet {
    /// A snippet of `source` showing each of `spans`, and the spans in its coordinates. Each
    /// span is first moved inside the text and onto character boundaries.
    pub fn new(source: &SourceFile, spans: &[Span]) -> (Self, Vec<Span>) {
        let text = source.text.as_str();
        let spans: Vec<Span> = spans.iter().map(|s| source.clamp(*s)).collect();
        // The file's lines each label shows (its own and its context), merged where they meet.
        let mut groups: Vec<(Range<usize>, usize)> = Vec::new();
        let mut order: Vec<usize> = (0..spans.len()).collect();
        order.sort_by_key(|&i| spans.get(i).map(|s| s.start));
        for &i in &order {
            let Some(span) = spans.get(i) else { continue };
            let first = source.line_of(span.start);
            let last = source.line_of(span.end).min(first + MAX_LABEL_LINES);
            let lines =
                first.saturating_sub(CONTEXT)..(last + CONTEXT + 1).min(source.line_count());
            let column = char_count(text, source.line_start(first), span.start);
            match groups.last_mut() {
                Some((range, _)) if lines.start <= range.end => {
                    range.end = range.end.max(lines.end)
                }
                _ => groups.push((lines, column)),
            }
        }
        let mut snippet = Self {
            path: source.path.clone(),
            text: String::new(),
            lines: Vec::new(),
        };
        for (lines, column) in groups {
            let widest = lines
                .clone()
                .map(|n| char_count(text, source.line_start(n), source.line_end(n)))
                .max()
                .unwrap_or(0);
            let skip = if widest <= WINDOW {
                0
            } else {
                column.saturating_sub(LEAD)
            };
            for number in lines {
                snippet.push_line(source, number, skip);
            }
        }
        let mapped = spans
            .iter()
            .map(|s| {
                let start = snippet.map(source, s.start);
                let end_line = source.line_of(s.end);
                let end = if end_line > source.line_of(s.start) + MAX_LABEL_LINES {
                    snippet.line_end_at(start)
                } else {
                    snippet.map(source, s.end)
                };
                Span::new(start, end)
            })
            .collect();
        (snippet, mapped)
    }

    /// Appends line `number` of the file, skipping its first `skip` characters.
    fn push_line(&mut self, source: &SourceFile, number: usize, skip: usize) {
        if !self.lines.is_empty() {
            self.text.push('\n');
        }
        let line = source
            .text
            .get(source.line_start(number)..source.line_end(number))
            .unwrap_or_default();
        let start = self.text.len();
        let file_start = source.line_start(number) + byte_len(line, skip);
        let shown = line.get(byte_len(line, skip)..).unwrap_or_default();
        let mut mark = 0;
        if skip > 0 {
            self.text.push_str(CUT);
            mark = CUT.len();
        }
        let kept = byte_len(shown, WINDOW);
        // One character for one, so that columns still match the file.
        self.text
            .extend(shown.get(..kept).unwrap_or_default().chars().map(printable));
        if kept < shown.len() {
            self.text.push_str(CUT);
        }
        self.lines.push(Line {
            range: start..self.text.len(),
            number,
            first_column: skip,
            mark,
            file_start,
        });
    }

    /// The snippet offset of file offset `at`, clamped to the shown part of its line.
    fn map(&self, source: &SourceFile, at: usize) -> usize {
        let number = source.line_of(at);
        let Some(line) = self.lines.iter().find(|l| l.number == number) else {
            return self.text.len();
        };
        let shown_start = line.range.start + line.mark;
        if at <= line.file_start {
            return shown_start;
        }
        let chars = char_count(&source.text, line.file_start, at).min(WINDOW);
        let shown = self
            .text
            .get(shown_start..line.range.end)
            .unwrap_or_default();
        shown_start + byte_len(shown, chars)
    }

    /// The end of the snippet line holding snippet offset `at`.
    fn line_end_at(&self, at: usize) -> usize {
        self.lines
            .iter()
            .find(|l| l.range.contains(&at) || l.range.end == at)
            .map_or(at, |l| l.range.end)
    }

    /// The index of the snippet line holding snippet offset `at`.
    fn line_index(&self, at: usize) -> Option<usize> {
        self.lines.iter().position(|l| at <= l.range.end)
    }
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let first = self
            .line_index(span.offset())
            .ok_or(MietteError::OutOfBounds)?;
        let last = self
            .line_index(span.offset() + span.len().saturating_sub(1))
            .ok_or(MietteError::OutOfBounds)?;
        let number = |i: usize| self.lines.get(i).map(|l| l.number);
        // The span and its context stay within one run of consecutive file lines.
        let consecutive =
            |a: usize, b: usize| number(b).zip(number(a)).is_some_and(|(b, a)| b == a + 1);
        if (first..last).any(|i| !consecutive(i, i + 1)) {
            return Err(MietteError::OutOfBounds);
        }
        let mut from = first;
        while first - from < context_lines_before && from > 0 && consecutive(from - 1, from) {
            from -= 1;
        }
        let mut to = last;
        while to - last < context_lines_after && consecutive(to, to + 1) {
            to += 1;
        }
        let (Some(start), Some(end)) = (self.lines.get(from), self.lines.get(to)) else {
            return Err(MietteError::OutOfBounds);
        };
        let (data_start, column) = if context_lines_before == 0 {
            let line = &self.lines[first];
            let shown_start = line.range.start + line.mark;
            let offset = span.offset().max(shown_start);
            let chars = char_count(&self.text, shown_start, offset);
            (span.offset(), line.first_column + chars)
        } else {
            (start.range.start, 0)
        };
        let data = self
            .text
            .get(data_start..end.range.end)
            .ok_or(MietteError::OutOfBounds)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.path.clone(),
            data.as_bytes(),
            SourceSpan::from(data_start..end.range.end),
            start.number,
            column,
            to - from + 1,
        )))
    }
}

/// The number of characters in `text[from..to]`.
fn char_count(text: &str, from: usize, to: usize) -> usize {
    text.get(from..to).map_or(0, |s| s.chars().count())
}

/// The byte length of the first `chars` characters of `text`.
fn byte_len(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map_or(text.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::diagnostics::{Code, Diagnostic, SourceFile, Span};

    fn render(text: &str, span: Span) -> String {
        let source: Arc<SourceFile> = SourceFile::new("f.csv", text);
        Diagnostic::error(Code("T0203"), &source, Some(span), "bad value")
            .with_label("here")
            .render()
    }

    #[test]
    fn a_long_line_is_cut_to_a_window_around_the_label() {
        let line = format!("{}BAD{}", "a".repeat(5_000), "b".repeat(1_000_000));
        let out = render(&format!("id\n{line}\nnext\n"), Span::new(5_003, 5_006));
        assert!(out.len() < 1_000, "{out}");
        assert!(out.contains("[f.csv:2:5001]"), "{out}");
        assert!(out.contains("…aaaa"), "{out}");
        assert!(out.contains("BADbbb"), "{out}");
    }

    #[test]
    fn spans_outside_the_text_or_inside_a_character_render() {
        for span in [
            Span::new(0, 1_000),
            Span::new(500, 600),
            Span::new(1, 2),
            Span::new(2, 2),
        ] {
            let out = render("é\r\nß", span);
            assert!(out.contains("bad value"), "{out}");
        }
        assert!(render("", Span::new(3, 9)).contains("[f.csv:1:1]"));
    }

    #[test]
    fn a_label_over_many_lines_shows_its_first_lines() {
        let text = (0..1_000)
            .map(|i| format!("line {i}\n"))
            .collect::<String>();
        let out = render(&text, Span::new(0, text.len()));
        assert!(out.contains("line 0"), "{out}");
        assert!(!out.contains("line 500"), "{out}");
    }

    #[test]
    fn control_characters_are_not_sent_to_the_terminal() {
        let out = render("a\u{1b}[31mred\u{7},\u{9b}2J,BAD\n", Span::new(16, 19));
        assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
        assert!(out.contains("a?[31mred?,?2J,BAD"), "{out}");
        assert!(out.contains("[f.csv:1:16]"), "{out}");
        let tabs = format!("{}BAD\n", "\t".repeat(500));
        let out = render(&tabs, Span::new(500, 503));
        assert!(out.lines().all(|l| l.chars().count() < 200), "{out}");
    }

    #[test]
    fn crlf_line_ends_are_not_shown() {
        let out = render("a,b\r\nc,BAD\r\nd\r\n", Span::new(7, 10));
        assert!(out.contains("[f.csv:2:3]"), "{out}");
        assert!(!out.contains('\r'), "{out:?}");
    }
}
