//! Splits a rule file into top-level declarations before parsing, so that a syntax error in one
//! declaration does not hide the rest of the file.
//!
//! A declaration runs from its first token to the `}` that brings the brace depth back to zero.
//! Strings and comments are skipped. If a line starting in column 0 with a declaration keyword
//! appears while a declaration is still open, the open one is cut there (it is broken, and its
//! parse will say so) and a new one starts: a missing `}` costs one declaration.

use super::ast::Comment;
use crate::diagnostics::Span;

/// The declaration keywords, which start a top-level declaration.
pub const DECLARATION_KEYWORDS: &[&str] = &[
    "publisher",
    "product",
    "application",
    "rights",
    "bundle",
    "metric",
    "table",
    "sku",
    "test",
    "ignore",
    "extend",
    "override",
];

/// One top-level declaration's text range and the doc comment lines directly above it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Chunk {
    pub start: usize,
    pub end: usize,
    pub doc: Vec<String>,
}

/// A run of chunks (`range` of `chunks`) as [`super::parse_run`] takes it: where it starts in
/// `text`, its text, and its chunks with positions counted from its start.
pub fn run<'t>(
    text: &'t str,
    chunks: &[Chunk],
    range: std::ops::Range<usize>,
) -> Option<(usize, &'t str, Vec<Chunk>)> {
    let chunks = chunks.get(range)?;
    let start = chunks.first()?.start;
    let end = chunks.last()?.end;
    let relative = chunks
        .iter()
        .map(|c| Chunk {
            start: c.start - start,
            end: c.end - start,
            doc: c.doc.clone(),
        })
        .collect();
    Some((start, text.get(start..end)?, relative))
}

/// How many chunks a run of [`runs`] has, on average, and at most.
const RUN_LENGTH: u64 = 32;
const RUN_LENGTH_MAX: usize = 256;

/// Groups chunks into runs, which an incremental build parses apart (see
/// [`super::parse_run`]): a run ends after a chunk whose header (its text up to the first `{`,
/// at most 64 bytes) hashes to a multiple of [`RUN_LENGTH`] (or at [`RUN_LENGTH_MAX`] chunks).
/// Where runs end depends only on the chunks' text, so an edit changes the run it is in (and,
/// when it changes a header, the next), and the runs after it keep their text.
pub fn runs(text: &str, chunks: &[Chunk]) -> Vec<std::ops::Range<usize>> {
    let mut runs = Vec::new();
    let mut first = 0;
    for (i, chunk) in chunks.iter().enumerate() {
        let bytes = text.get(chunk.start..chunk.end).unwrap_or("").as_bytes();
        let header = bytes.get(..64).unwrap_or(bytes);
        let bytes = header
            .iter()
            .position(|b| *b == b'{')
            .and_then(|at| header.get(..at))
            .unwrap_or(header);
        // FNV-1a: cheap, and the same on every platform.
        let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        });
        if hash % RUN_LENGTH == 0 || i + 1 - first >= RUN_LENGTH_MAX || i + 1 == chunks.len() {
            runs.push(first..i + 1);
            first = i + 1;
        }
    }
    runs
}

/// Splits `text` into declaration chunks, in order.
pub fn split(text: &str) -> Vec<Chunk> {
    let bytes = text.as_bytes();
    let mut chunks = Vec::new();
    let mut doc: Vec<String> = Vec::new();
    // A byte-order mark is not part of the text.
    let mut i = if text.starts_with('\u{feff}') { 3 } else { 0 };
    while i < bytes.len() {
        let Some(&b) = bytes.get(i) else { break };
        if b.is_ascii_whitespace() {
            if b == b'\n' && line_is_blank_before(text, i) {
                doc.clear();
            }
            i += 1;
            continue;
        }
        if text.get(i..).is_some_and(|rest| rest.starts_with("//")) {
            let end = text
                .get(i..)
                .and_then(|r| r.find('\n'))
                .map_or(text.len(), |n| i + n);
            if let Some(line) = text.get(i..end) {
                match line.strip_prefix("///") {
                    Some(d) if !d.starts_with('/') => {
                        doc.push(d.strip_prefix(' ').unwrap_or(d).to_string())
                    }
                    _ => {}
                }
            }
            i = end;
            continue;
        }
        let end = declaration_end(text, i);
        chunks.push(Chunk {
            start: i,
            end,
            doc: std::mem::take(&mut doc),
        });
        i = end;
    }
    chunks
}

/// Whether the line that ends at the newline `nl` holds only whitespace.
fn line_is_blank_before(text: &str, nl: usize) -> bool {
    let line_start = text
        .get(..nl)
        .and_then(|b| b.rfind('\n'))
        .map_or(0, |p| p + 1);
    text.get(line_start..nl)
        .is_some_and(|l| l.trim().is_empty())
}

/// The end of the declaration that starts at `start`.
fn declaration_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut depth: usize = 0;
    let mut i = start;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => i = string_end(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = text
                    .get(i..)
                    .and_then(|r| r.find('\n'))
                    .map_or(text.len(), |n| i + n);
            }
            b'{' => {
                depth += 1;
                i += 1;
            }
            b'}' => {
                i += 1;
                if depth <= 1 {
                    return i;
                }
                depth -= 1;
            }
            b'\n' => {
                i += 1;
                if starts_declaration(text, i) {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    text.len()
}

/// The offset just past the string literal starting at `start` (or the end of its line).
pub fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => i += 2,
            b'"' => return i + 1,
            b'\n' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The offset just past the `{ … }` block starting at `start` (strings and comments skipped).
pub fn block_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut depth: usize = 0;
    let mut i = start;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => i = string_end(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'/') => i = line_end(text, i),
            b'{' => {
                depth += 1;
                i += 1;
            }
            b'}' => {
                i += 1;
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    text.len()
}

/// The offset of the newline that ends the line containing `at` (or the end of the text).
fn line_end(text: &str, at: usize) -> usize {
    text.get(at..)
        .and_then(|r| r.find('\n'))
        .map_or(text.len(), |n| at + n)
}

/// Every `//` and `///` comment in a file, in order (text inside strings is not a comment).
pub fn comments(text: &str) -> Vec<Comment> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => i = string_end(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = line_end(text, i);
                out.push(Comment {
                    span: Span::new(i, end),
                    text: text.get(i..end).unwrap_or("").trim_end().to_string(),
                });
                i = end;
            }
            _ => i += 1,
        }
    }
    out
}

/// Whether a line starting at `at`, in column 0, begins with a declaration keyword.
fn starts_declaration(text: &str, at: usize) -> bool {
    let Some(rest) = text.get(at..) else {
        return false;
    };
    DECLARATION_KEYWORDS.iter().any(|kw| {
        rest.strip_prefix(kw)
            .and_then(|r| r.chars().next())
            .is_some_and(|c| c == ' ' || c == '\t')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<&str> {
        split(src)
            .iter()
            .filter_map(|c| src.get(c.start..c.end))
            .collect()
    }

    #[test]
    fn splits_at_closing_braces_and_keeps_docs() {
        let src =
            "/// Doc one\n/// more\npublisher a { name \"}\" }\n\n// plain\nproduct b { x { } }\n";
        assert_eq!(
            texts(src),
            vec!["publisher a { name \"}\" }", "product b { x { } }"]
        );
        let chunks = split(src);
        assert_eq!(
            chunks.first().map(|c| c.doc.clone()),
            Some(vec!["Doc one".into(), "more".into()])
        );
        assert_eq!(chunks.get(1).map(|c| c.doc.len()), Some(0));
    }

    #[test]
    fn a_missing_brace_costs_one_declaration() {
        let src = "publisher a {\n  name \"A\"\n\nproduct b { name \"B\" }\n";
        assert_eq!(
            texts(src),
            vec![
                "publisher a {\n  name \"A\"\n\n",
                "product b { name \"B\" }"
            ]
        );
    }

    #[test]
    fn a_blank_line_detaches_a_doc_comment() {
        let src = "/// orphan\n\npublisher a { }";
        assert_eq!(split(src).first().map(|c| c.doc.len()), Some(0));
    }
}
