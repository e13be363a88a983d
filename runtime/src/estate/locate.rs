//! A position index for block-style YAML text, such as `licenses.yaml`: it maps paths like
//! `licenses[2].unit_price` to the byte spans of the key and value, so that checks made after
//! deserialising can underline the value they complain about. It reads indentation, `- ` list
//! items, `key: value` pairs and one-line flow collections (`[a, b]`, `{ device: X }`); what
//! it cannot follow (multi-line flow collections, block scalars) is found as its nearest
//! ancestor instead.

use std::collections::BTreeMap;

use tally_compiler::diagnostics::Span;

/// One step of a path: a mapping key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Seg {
    Key(String),
    Index(usize),
}

/// Where one node is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Entry {
    /// The key, or for a list item the rest of the item's first line from its `-`.
    pub key: Span,
    /// The scalar value (inside quotes, if quoted); `None` for a nested mapping or list.
    pub value: Option<Span>,
}

/// The located nodes of a YAML text by path.
#[derive(Debug, Default)]
pub(super) struct Locator {
    entries: BTreeMap<Vec<Seg>, Entry>,
}

/// An open node while reading: its indentation, its step and how many list items it has.
#[derive(Debug)]
struct Frame {
    indent: usize,
    seg: Seg,
    items: usize,
}

impl Locator {
    pub fn new(text: &str) -> Self {
        let mut builder = Builder::default();
        let mut offset = if text.starts_with('\u{feff}') { 3 } else { 0 };
        for line in text.get(offset..).unwrap_or_default().split_inclusive('\n') {
            builder.line(offset, strip_comment(line).trim_end());
            offset += line.len();
        }
        Self {
            entries: builder.entries,
        }
    }

    #[cfg(test)]
    pub fn get(&self, path: &[Seg]) -> Option<&Entry> {
        self.entries.get(path)
    }

    /// The span of the node at `path` (its value, else its key), or of its nearest ancestor
    /// that could be located; the flag says whether the node itself was found.
    pub fn nearest(&self, path: &[Seg]) -> (Option<Span>, bool) {
        let mut exact = true;
        let mut path = path;
        loop {
            if let Some(entry) = self.entries.get(path) {
                return (Some(entry.value.unwrap_or(entry.key)), exact);
            }
            let Some((_, parent)) = path.split_last() else {
                return (None, false);
            };
            path = parent;
            exact = false;
        }
    }
}

#[derive(Debug, Default)]
struct Builder {
    entries: BTreeMap<Vec<Seg>, Entry>,
    stack: Vec<Frame>,
    /// List items at the top level.
    root_items: usize,
}

impl Builder {
    /// Reads one line, which starts at byte `start` and has comments and line ends removed.
    fn line(&mut self, start: usize, line: &str) {
        let mut column = line.len() - line.trim_start_matches(' ').len();
        if column == line.len() || (column == 0 && (line == "---" || line == "...")) {
            return;
        }
        loop {
            let rest = line.get(column..).unwrap_or_default();
            let at = start + column;
            if rest == "-" || rest.starts_with("- ") {
                self.stack.retain(|f| {
                    f.indent < column || (f.indent == column && matches!(f.seg, Seg::Key(_)))
                });
                let items = match self.stack.last_mut() {
                    Some(frame) => &mut frame.items,
                    None => &mut self.root_items,
                };
                let index = *items;
                *items += 1;
                let after = rest.get(1..).unwrap_or_default();
                let content = after.trim_start();
                let content_at = at + 1 + (after.len() - content.len());
                let nested = content.is_empty()
                    || content == "-"
                    || content.starts_with("- ")
                    || split_key(content).is_some();
                let collection = content.starts_with(['[', '{']);
                let value = (!nested && !collection).then(|| scalar_span(content_at, content));
                self.enter(
                    column,
                    Seg::Index(index),
                    Span::new(at, start + line.len()),
                    value,
                );
                if !nested {
                    self.flow(content_at, content);
                    return;
                }
                if content.is_empty() {
                    return;
                }
                column = content_at - start;
            } else if let Some(key) = split_key(rest) {
                self.stack.retain(|f| f.indent < column);
                let value = key.value(rest);
                let scalar = value
                    .filter(|(_, v)| !v.starts_with(['[', '{']))
                    .map(|(offset, v)| scalar_span(at + offset, v));
                let span = key.span(at);
                self.enter(column, Seg::Key(key.name), span, scalar);
                if let Some((offset, v)) = value {
                    self.flow(at + offset, v);
                }
                return;
            } else {
                // A continuation of a multi-line scalar or flow collection.
                return;
            }
        }
    }

    fn path(&self) -> Vec<Seg> {
        self.stack.iter().map(|f| f.seg.clone()).collect()
    }

    fn enter(&mut self, indent: usize, seg: Seg, key: Span, value: Option<Span>) {
        self.stack.push(Frame {
            indent,
            seg,
            items: 0,
        });
        self.entries.insert(self.path(), Entry { key, value });
    }

    /// Records the items of a one-line flow collection `text` (at byte `at`) under the
    /// current path.
    fn flow(&mut self, at: usize, text: &str) {
        let (mapping, inner) = match (text.chars().next(), text.chars().last()) {
            (Some('['), Some(']')) => (false, text.get(1..text.len() - 1)),
            (Some('{'), Some('}')) => (true, text.get(1..text.len() - 1)),
            _ => return,
        };
        let Some(inner) = inner else { return };
        let path = self.path();
        for (index, (offset, item)) in split_flow(inner).into_iter().enumerate() {
            let item_at = at + 1 + offset;
            let mut child = path.clone();
            let entry = if mapping {
                let Some(key) = split_key(item) else { continue };
                let value = key
                    .value(item)
                    .map(|(offset, v)| scalar_span(item_at + offset, v));
                child.push(Seg::Key(key.name.clone()));
                Entry {
                    key: key.span(item_at),
                    value,
                }
            } else {
                child.push(Seg::Index(index));
                let span = scalar_span(item_at, item);
                Entry {
                    key: span,
                    value: Some(span),
                }
            };
            self.entries.insert(child, entry);
        }
    }
}

/// A `key:` at the start of a text.
#[derive(Debug)]
struct Key {
    name: String,
    /// The end of the key as written (after its closing quote, if quoted).
    end: usize,
    /// Where the value starts: just after the `:`.
    value_start: usize,
}

impl Key {
    /// The key as written in a text that starts at byte `at`.
    fn span(&self, at: usize) -> Span {
        Span::new(at, at + self.end)
    }

    /// The trimmed value after the key in `text` and its offset, if there is a value.
    fn value<'t>(&self, text: &'t str) -> Option<(usize, &'t str)> {
        let after = text.get(self.value_start..)?;
        let value = after.trim();
        let offset = self.value_start + (after.len() - after.trim_start().len());
        (!value.is_empty()).then_some((offset, value))
    }
}

/// The key of `text` if it starts with `key:` followed by a space or the end.
fn split_key(text: &str) -> Option<Key> {
    let (name, end) = match text.chars().next()? {
        quote @ ('"' | '\'') => {
            let close = closing_quote(text, quote)?;
            (text.get(1..close)?.to_owned(), close + 1)
        }
        '[' | '{' | '-' | '#' => return None,
        _ => {
            let colon = text
                .match_indices(':')
                .map(|(i, _)| i)
                .find(|&i| matches!(text.get(i + 1..i + 2), None | Some(" ")))?;
            (text.get(..colon)?.trim_end().to_owned(), colon)
        }
    };
    let after = text.get(end..)?;
    let colon = end + (after.len() - after.trim_start().len());
    let rest = text.get(colon..)?;
    if !(rest == ":" || rest.starts_with(": ")) || name.is_empty() {
        return None;
    }
    Some(Key {
        name,
        end,
        value_start: colon + 1,
    })
}

/// The span of a scalar written at `at`: inside its quotes, if quoted.
fn scalar_span(at: usize, text: &str) -> Span {
    let quoted = text.len() >= 2
        && matches!(text.chars().next(), Some(q @ ('"' | '\'')) if text.ends_with(q));
    if quoted {
        Span::new(at + 1, at + text.len() - 1)
    } else {
        Span::new(at, at + text.len())
    }
}

/// The byte offset of the quote that closes a scalar opened with `quote` at offset 0.
fn closing_quote(text: &str, quote: char) -> Option<usize> {
    let mut chars = text.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if quote == '"' => {
                chars.next();
            }
            '\'' if quote == '\'' && chars.peek().map(|&(_, c)| c) == Some('\'') => {
                chars.next();
            }
            c if c == quote => return Some(i),
            _ => {}
        }
    }
    None
}

/// The line without its comment: a `#` at the start or after a space, outside quotes.
fn strip_comment(line: &str) -> &str {
    let mut previous: Option<char> = None;
    let mut skip_to = 0;
    for (i, c) in line.char_indices() {
        if i >= skip_to {
            match c {
                '#' if previous.is_none_or(char::is_whitespace) => {
                    return line.get(..i).unwrap_or(line);
                }
                '"' | '\''
                    if previous.is_none_or(|p| matches!(p, ' ' | '\t' | '[' | '{' | ',')) =>
                {
                    match line.get(i..).and_then(|rest| closing_quote(rest, c)) {
                        Some(close) => skip_to = i + close + 1,
                        // A quoted scalar that goes on to the next line.
                        None => return line,
                    }
                }
                _ => {}
            }
        }
        previous = Some(c);
    }
    line
}

/// The comma-separated items of a flow collection's inside, trimmed, with their offsets.
fn split_flow(inner: &str) -> Vec<(usize, &str)> {
    let mut bounds = Vec::new();
    let mut start = 0;
    let mut skip_to = 0;
    let mut previous: Option<char> = None;
    for (i, c) in inner.char_indices() {
        if i >= skip_to {
            match c {
                ',' => {
                    bounds.push((start, i));
                    start = i + 1;
                }
                '"' | '\'' if previous.is_none_or(|p| matches!(p, ' ' | ',' | ':')) => {
                    if let Some(close) = inner.get(i..).and_then(|rest| closing_quote(rest, c)) {
                        skip_to = i + close + 1;
                    }
                }
                _ => {}
            }
        }
        previous = Some(c);
    }
    bounds.push((start, inner.len()));
    bounds
        .into_iter()
        .filter_map(|(start, end)| {
            let raw = inner.get(start..end)?;
            let item = raw.trim();
            (!item.is_empty()).then_some((start + (raw.len() - raw.trim_start().len()), item))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> Seg {
        Seg::Key(name.to_owned())
    }

    fn value_at<'t>(locator: &Locator, text: &'t str, path: &[Seg]) -> Option<&'t str> {
        let entry = locator.get(path)?;
        let span = entry.value?;
        text.get(span.start..span.end)
    }

    const TEXT: &str = "\
# licenses
licenses:
  - id: L-1            # the first
    unit_price: \"389.00\"
    restrictions:
      os_type: desktop
      groups: [ \"location=Europe\", 'a, b' ]
    allocations:
    - device: WS-1
      type: permanent
    - { user: jdoe, type: allocated }
  - id: L-2
    name: 'Ünïcode ''quoted'' # not a comment'
";

    fn lic(i: usize, rest: &[Seg]) -> Vec<Seg> {
        let mut path = vec![key("licenses"), Seg::Index(i)];
        path.extend_from_slice(rest);
        path
    }

    #[test]
    fn finds_keys_items_and_flow_values() {
        let locator = Locator::new(TEXT);
        let at = |path: &[Seg]| value_at(&locator, TEXT, path);
        assert_eq!(at(&lic(0, &[key("id")])), Some("L-1"));
        assert_eq!(at(&lic(0, &[key("unit_price")])), Some("389.00"));
        let restrictions = |rest: &[Seg]| {
            let mut path = vec![key("restrictions")];
            path.extend_from_slice(rest);
            lic(0, &path)
        };
        assert_eq!(at(&restrictions(&[key("os_type")])), Some("desktop"));
        let group = |i| restrictions(&[key("groups"), Seg::Index(i)]);
        assert_eq!(at(&group(0)), Some("location=Europe"));
        assert_eq!(at(&group(1)), Some("a, b"));
        let alloc = |i, k| lic(0, &[key("allocations"), Seg::Index(i), key(k)]);
        assert_eq!(at(&alloc(0, "device")), Some("WS-1"));
        assert_eq!(at(&alloc(0, "type")), Some("permanent"));
        assert_eq!(at(&alloc(1, "user")), Some("jdoe"));
        assert_eq!(at(&alloc(1, "type")), Some("allocated"));
        assert_eq!(at(&lic(1, &[key("id")])), Some("L-2"));
        assert_eq!(
            at(&lic(1, &[key("name")])),
            Some("Ünïcode ''quoted'' # not a comment")
        );
    }

    #[test]
    fn lists_may_sit_at_their_key_indentation() {
        let text = "licenses:\n- id: A\n  allocations:\n  - device: X\n  sku: S\n- id: B\n";
        let locator = Locator::new(text);
        let at = |path: &[Seg]| value_at(&locator, text, path);
        assert_eq!(
            at(&lic(0, &[key("allocations"), Seg::Index(0), key("device")])),
            Some("X")
        );
        assert_eq!(at(&lic(0, &[key("sku")])), Some("S"));
        assert_eq!(at(&lic(1, &[key("id")])), Some("B"));
    }

    #[test]
    fn nearest_falls_back_to_ancestors() {
        let locator = Locator::new(TEXT);
        let (span, exact) = locator.nearest(&lic(0, &[key("currency")]));
        assert!(!exact);
        let line = span.and_then(|s| TEXT.get(s.start..s.end));
        assert_eq!(line, Some("- id: L-1"));
        assert_eq!(locator.nearest(&[key("nothing")]), (None, false));
    }

    #[test]
    fn comments_respect_quotes() {
        assert_eq!(strip_comment("a: b # c"), "a: b ");
        assert_eq!(strip_comment("a: \"b # c\" # d"), "a: \"b # c\" ");
        assert_eq!(strip_comment("a: b#c"), "a: b#c");
        assert_eq!(strip_comment("# all"), "");
    }
}
