//! Reading a CSV estate file one row at a time, each with its fields located, so that
//! diagnostics underline exactly the bad field (or header cell), quoted or not. A scanner
//! splits plain records and finds their fields' places in one pass; the few records it does not
//! take for plain are parsed by the `csv` crate and then located in the raw text. Both read
//! every record as the `csv` crate alone does (a test compares them on random texts).
//!
//! A [`Table`] holds one row at a time: [`Table::next_row`] reads the next one into the same
//! buffers, so reading a file of millions of rows holds the source text and one row, and
//! allocates nothing per row. A field's text borrows from the source, except where quoting
//! changed it (a doubled `""`, text after the closing quote).

use std::borrow::Cow;

use csv::ByteRecord;
use tally_compiler::diagnostics::{SourceFile, Span};

use super::codes;
use super::values::{Checker, Field, backticked, did_you_mean_prefix};

/// A column a CSV file may have.
#[derive(Debug, Clone, Copy)]
pub(super) struct Column {
    pub name: &'static str,
    pub required: bool,
}

impl Column {
    pub const fn required(name: &'static str) -> Self {
        Self {
            name,
            required: true,
        }
    }

    pub const fn optional(name: &'static str) -> Self {
        Self {
            name,
            required: false,
        }
    }
}

/// A CSV file read row by row, each row's fields found by the names of the expected columns.
pub(super) struct Table<'t> {
    /// The header row.
    pub header: Span,
    /// Whether every row read so far could be read: false after a missing header or required
    /// column, a row with the wrong number of fields or broken quoting. Once
    /// [`Table::next_row`] has returned `None`, whether the whole file could be read.
    pub complete: bool,
    /// How many fields the header has, which every row must have.
    width: usize,
    /// Whether rows are read: not after a missing header or required column.
    reading: bool,
    records: Records<'t>,
    /// The row last read, whose buffers are reused for the next.
    row: Row<'t>,
}

impl<'t> Table<'t> {
    /// Whether the file has a header row.
    pub fn has_header(&self) -> bool {
        self.header.end > self.header.start
    }

    /// The expected columns the header names, in the header's order.
    pub fn header_columns(&self) -> Vec<&'static str> {
        let mut named: Vec<(usize, &'static str)> = self
            .row
            .columns
            .iter()
            .zip(&self.row.present)
            .filter_map(|(column, at)| Some(((*at)?, column.name)))
            .collect();
        named.sort_unstable();
        named.into_iter().map(|(_, name)| name).collect()
    }

    /// Whether the header has this column.
    pub fn has(&self, name: &str) -> bool {
        self.row.index(name).is_some()
    }

    /// The next row that has as many fields as the header, reporting each malformed row
    /// (T0206) on the way; `None` after the last row, at broken quoting (reported, and reading
    /// stops) and when the header could not be read.
    pub fn next_row(&mut self, check: &mut Checker) -> Option<&Row<'t>> {
        if !self.reading {
            return None;
        }
        loop {
            let Some((line, span)) = self.records.next(check, &mut self.row.fields) else {
                self.reading = false;
                if self.records.broken {
                    self.complete = false;
                }
                return None;
            };
            let fields = self.row.fields.len();
            if fields != self.width {
                self.complete = false;
                check.report(
                    codes::ESTATE_SYNTAX,
                    Some(span),
                    format!(
                        "this row has {fields} fields but the header has {} columns",
                        self.width
                    ),
                    format!("{fields} fields"),
                    "check for a missing or extra comma, and quote a field that contains a comma, as in `\"Contoso, Ltd.\"`",
                );
                continue;
            }
            self.row.line = line;
            self.row.span = span;
            return Some(&self.row);
        }
    }

    /// A table reading `text` from `start`, a later piece of the same file cut by [`Pieces`],
    /// with `lines_before` lines of the file before `text`: its rows have the lines they have
    /// in the file, and spans within `text`. A cut at a line end outside quotes is one outside
    /// quotes when the file is quoted as CSV is; when it is not (a stray `"` inside an unquoted
    /// field), a piece may end inside a quoted field, and its table then reports the field as
    /// never closed, so the caller can read the file whole instead.
    pub fn resume_over<'u>(&self, text: &'u str, start: usize, lines_before: usize) -> Table<'u> {
        Table {
            header: self.header,
            complete: true,
            width: self.width,
            reading: self.reading,
            records: Records::over(text, start, text.len(), lines_before),
            row: Row {
                line: 0,
                span: Span::new(0, 0),
                columns: self.row.columns,
                present: self.row.present.clone(),
                fields: Vec::with_capacity(self.width),
            },
        }
    }

    /// Where the next row starts in the text, and how many lines are before it.
    pub fn position(&self) -> (usize, usize) {
        (self.records.at, self.records.line.saturating_sub(1))
    }
}

/// CSV text from a reader, cut into pieces of whole lines of about `size` bytes, so that a large
/// file is read piece by piece on several threads and never held whole: a piece ends at its
/// last line end with an even number of `"` in the piece before it (see
/// [`Table::resume_over`]). The bytes are read into buffers the caller gives, so that it can
/// reuse them.
pub(super) struct Pieces<R> {
    read: R,
    size: usize,
    /// What was read after the end of the last piece.
    carry: Vec<u8>,
    /// The lines before the next piece.
    lines: usize,
    /// Whether the reader is at its end.
    ended: bool,
}

/// A piece of CSV text cut by [`Pieces`].
pub(super) struct Piece {
    pub bytes: Vec<u8>,
    /// The lines of the file before it.
    pub lines_before: usize,
    /// Its line ends: an upper bound of its records.
    pub lines: usize,
}

impl<R: std::io::Read> Pieces<R> {
    pub fn new(read: R, size: usize) -> Self {
        Self {
            read,
            size: size.max(1),
            carry: Vec::new(),
            lines: 0,
            ended: false,
        }
    }

    /// The next piece, read into `buffer`; `None` at the end of the text. A piece is longer
    /// than `size` only when no cut is found in `size` bytes, or at the end of the text.
    pub fn next(&mut self, mut buffer: Vec<u8>) -> std::io::Result<Option<Piece>> {
        use std::io::Read;
        buffer.clear();
        buffer.append(&mut self.carry);
        let mut want = self.size;
        let cut = loop {
            if buffer.len() < want && !self.ended {
                let wanted = want - buffer.len();
                buffer.reserve_exact(wanted);
                let read = (&mut self.read)
                    .take(wanted as u64)
                    .read_to_end(&mut buffer)?;
                self.ended = read < wanted;
            }
            if self.ended {
                break buffer.len();
            }
            match last_cut(&buffer) {
                Some(cut) => break cut,
                None => want = want.saturating_mul(2),
            }
        };
        if buffer.is_empty() {
            return Ok(None);
        }
        self.carry
            .extend_from_slice(buffer.get(cut..).unwrap_or_default());
        buffer.truncate(cut);
        let lines = buffer.iter().filter(|b| **b == b'\n').count();
        let piece = Piece {
            bytes: buffer,
            lines_before: self.lines,
            lines,
        };
        self.lines += lines;
        Ok(Some(piece))
    }
}

/// Where a piece of whole lines may end: after its last line end with an even number of `"`
/// before it.
fn last_cut(bytes: &[u8]) -> Option<usize> {
    let quotes = |run: &[u8]| run.iter().filter(|b| **b == b'"').count();
    let mut before = quotes(bytes);
    let mut end = bytes.len();
    while let Some(line_end) = bytes.get(..end)?.iter().rposition(|b| *b == b'\n') {
        before -= quotes(bytes.get(line_end..end)?);
        if before % 2 == 0 {
            return Some(line_end + 1);
        }
        end = line_end;
    }
    None
}

/// One row of a CSV file.
#[derive(Debug)]
pub(super) struct Row<'t> {
    /// The 1-based line the row starts on.
    pub line: usize,
    /// The whole row.
    pub span: Span,
    columns: &'static [Column],
    /// For each expected column, its position in the file's header.
    present: Vec<Option<usize>>,
    /// The row's fields in the file's order.
    fields: Vec<Field<'t>>,
}

impl<'t> Row<'t> {
    /// The field in a column; `None` when the file has no such column.
    pub fn get(&self, name: &str) -> Option<&Field<'t>> {
        self.fields.get(self.index(name)?)
    }

    /// The field in the expected column at `column` (from [`column_index`]), for a reader
    /// that looks its columns up once rather than by name on every row.
    pub fn at(&self, column: Option<usize>) -> Option<&Field<'t>> {
        self.fields
            .get(self.present.get(column?).copied().flatten()?)
    }

    /// Where the file has the column.
    fn index(&self, name: &str) -> Option<usize> {
        self.present
            .get(column_index(self.columns, name)?)
            .copied()
            .flatten()
    }
}

/// Where the column `name` is among the expected `columns`.
pub(super) fn column_index(columns: &[Column], name: &str) -> Option<usize> {
    columns.iter().position(|c| c.name == name)
}

/// Reads the header of a CSV file whose header must name columns from `columns`, reporting
/// its problems (T0202); the rows are read with [`Table::next_row`].
pub(super) fn read<'t>(
    check: &mut Checker,
    source: &'t SourceFile,
    columns: &'static [Column],
) -> Table<'t> {
    let mut records = Records::new(&source.text);
    let mut header = Vec::new();
    let found = records.next(check, &mut header);
    let mut table = Table {
        header: Span::new(records.base, records.base),
        complete: false,
        width: header.len(),
        reading: false,
        records,
        row: Row {
            line: 0,
            span: Span::new(0, 0),
            columns,
            present: vec![None; columns.len()],
            fields: Vec::with_capacity(header.len()),
        },
    };
    let Some((_, span)) = found else {
        if !table.records.broken {
            let example: Vec<&str> = columns.iter().take(3).map(|c| c.name).collect();
            check.report(
                codes::ESTATE_COLUMNS,
                Some(table.header),
                format!("`{}` has no header row", check.file_name()),
                "empty file",
                format!(
                    "start the file with a header row naming its columns, such as `{}`",
                    example.join(",")
                ),
            );
        }
        return table;
    };
    table.header = span;
    if read_header(check, &mut table.row, &header, span) {
        table.complete = true;
        table.reading = true;
    }
    table
}

/// The records of a CSV text, located in it. Records are split by a scanner of our own, which
/// finds each field's place and text in one pass; a record it does not take for plain (a quote
/// that is not a whole field, text after a closing quote, a carriage return alone, a quote
/// never closed) is read by the `csv` crate instead, from where the record starts, so such
/// records read, and fail, exactly as the crate reads them.
struct Records<'t> {
    /// The text up to where these records end.
    text: &'t str,
    /// Where the records start: after a byte-order mark, if any, or where a part of a split
    /// table starts.
    base: usize,
    /// Where the next record starts, and the line it is on (1-based).
    at: usize,
    line: usize,
    /// The record the `csv` crate last read, reused for the next.
    record: ByteRecord,
    /// Whether reading stopped at a record that is not valid CSV.
    broken: bool,
    /// Whether every record is read by the `csv` crate (the scanner's reference in tests).
    #[cfg(test)]
    crate_only: bool,
}

impl<'t> Records<'t> {
    fn new(text: &'t str) -> Self {
        let base = if text.starts_with('\u{feff}') { 3 } else { 0 };
        Self::over(text, base, text.len(), 0)
    }

    /// The records of `text` from `start` to `end`, after `lines_before` lines.
    fn over(text: &'t str, start: usize, end: usize, lines_before: usize) -> Self {
        Self {
            text: text.get(..end).unwrap_or(text),
            base: start,
            at: start,
            line: lines_before + 1,
            record: ByteRecord::new(),
            broken: false,
            #[cfg(test)]
            crate_only: false,
        }
    }

    /// Reads the next record that is not blank into `fields`, with its 1-based line and its
    /// span; `None` at the end of the text or at a broken record, which is reported and ends
    /// reading.
    fn next(&mut self, check: &mut Checker, fields: &mut Vec<Field<'t>>) -> Option<(usize, Span)> {
        if self.broken {
            return None;
        }
        loop {
            self.skip_blank_lines();
            if self.at >= self.text.len() {
                return None;
            }
            let found = match self.plain(fields) {
                Some(found) => found,
                None => self.by_the_crate(check, fields)?,
            };
            if fields.iter().all(|f| f.text.is_empty()) {
                continue;
            }
            return Some(found);
        }
    }

    /// Steps over line ends before a record, counting lines, as the `csv` crate skips them.
    fn skip_blank_lines(&mut self) {
        let bytes = self.text.as_bytes();
        while let Some(&b) = bytes.get(self.at).filter(|&&b| b == b'\r' || b == b'\n') {
            self.line += usize::from(b == b'\n');
            self.at += 1;
        }
    }

    /// Reads the record at `at` when it is plain: each field either unquoted without a quote,
    /// or quoted and closed right before a comma or the end of the record; the record ends at
    /// `\n`, `\r\n` or the end of the text. `None` (having read nothing) otherwise.
    fn plain(&mut self, fields: &mut Vec<Field<'t>>) -> Option<(usize, Span)> {
        #[cfg(test)]
        if self.crate_only {
            return None;
        }
        let (text, bytes) = (self.text, self.text.as_bytes());
        let (start, line) = (self.at, self.line);
        let mut at = start;
        let mut lines = 0;
        fields.clear();
        loop {
            let (raw, value) = if bytes.get(at) == Some(&b'"') {
                let open = at;
                at += 1;
                let mut doubled = false;
                loop {
                    match bytes.get(at)? {
                        b'"' if bytes.get(at + 1) == Some(&b'"') => {
                            doubled = true;
                            at += 2;
                        }
                        b'"' => break,
                        b'\n' => {
                            lines += 1;
                            at += 1;
                        }
                        _ => at += 1,
                    }
                }
                let content = text.get(open + 1..at)?;
                at += 1;
                let value = if doubled {
                    Cow::Owned(content.replace("\"\"", "\"").trim().to_owned())
                } else {
                    Cow::Borrowed(content.trim())
                };
                (Span::new(open + 1, at - 1), value)
            } else {
                let begin = at;
                while let Some(&b) = bytes.get(at) {
                    match b {
                        b',' | b'\n' | b'\r' => break,
                        b'"' => return None,
                        _ => at += 1,
                    }
                }
                (
                    Span::new(begin, at),
                    Cow::Borrowed(text.get(begin..at)?.trim()),
                )
            };
            fields.push(Field {
                text: value,
                span: trim_span(text, raw),
            });
            match bytes.get(at) {
                Some(b',') => at += 1,
                None => {
                    (self.at, self.line) = (at, line + lines);
                    return Some((line, Span::new(start, at)));
                }
                Some(b'\n') => {
                    (self.at, self.line) = (at + 1, line + lines + 1);
                    return Some((line, Span::new(start, at)));
                }
                Some(b'\r') if bytes.get(at + 1) == Some(&b'\n') => {
                    (self.at, self.line) = (at + 2, line + lines + 1);
                    return Some((line, Span::new(start, at)));
                }
                // A carriage return alone, or text after a closing quote.
                Some(_) => return None,
            }
        }
    }

    /// Reads the record at `at` with the `csv` crate, and locates its fields.
    fn by_the_crate(
        &mut self,
        check: &mut Checker,
        fields: &mut Vec<Field<'t>>,
    ) -> Option<(usize, Span)> {
        let base = self.at;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(self.text.get(base..).unwrap_or_default().as_bytes());
        match reader.read_byte_record(&mut self.record) {
            Ok(true) => {}
            Ok(false) => {
                self.at = self.text.len();
                return None;
            }
            Err(err) => {
                self.broken = true;
                let at = err.position().map(|p| offset(base, p.byte()));
                check.report(
                    codes::ESTATE_SYNTAX,
                    at.map(|at| Span::new(at, at)),
                    "this file is not valid csv",
                    "reading stopped here",
                    "check the quoting on this line: a quoted field starts and ends with `\"`, and a `\"` inside it is written twice",
                );
                return None;
            }
        }
        let lines_before = self.line - 1;
        let next = reader.position();
        (self.at, self.line) = (offset(base, next.byte()), offset(lines_before, next.line()));
        match locate(self.text, (base, lines_before), &self.record, fields) {
            Ok(found) => Some(found),
            Err(quote) => {
                self.broken = true;
                check.report(
                    codes::ESTATE_SYNTAX,
                    Some(Span::new(quote, quote + 1)),
                    "quoted field is never closed",
                    "this quote has no closing quote",
                    "end the field with `\"`, and write a `\"` inside a quoted field twice (`\"\"`)",
                );
                None
            }
        }
    }
}

/// Matches header cells to the expected columns, noting where each is in `row`; false when a
/// required column is missing.
fn read_header(check: &mut Checker, row: &mut Row<'_>, header: &[Field<'_>], span: Span) -> bool {
    let columns = row.columns;
    let names = || columns.iter().map(|c| c.name);
    for (index, cell) in header.iter().enumerate() {
        let name = cell.text.to_lowercase();
        if name.is_empty() {
            check.report(
                codes::ESTATE_COLUMNS,
                Some(cell.span),
                "column has no name",
                "empty column name",
                format!(
                    "name the column or remove it; the columns of `{}` are {}",
                    check.file_name(),
                    backticked(names())
                ),
            );
            continue;
        }
        let Some(slot) = columns
            .iter()
            .position(|c| c.name == name)
            .and_then(|i| row.present.get_mut(i))
        else {
            check.report(
                codes::ESTATE_COLUMNS,
                Some(cell.span),
                format!("unknown column `{}`", cell.text),
                format!("not a column of `{}`", check.file_name()),
                format!(
                    "{}the columns of `{}` are {}",
                    did_you_mean_prefix(&name, names()),
                    check.file_name(),
                    backticked(names())
                ),
            );
            continue;
        };
        if slot.is_some() {
            check.report(
                codes::ESTATE_COLUMNS,
                Some(cell.span),
                format!("column `{name}` appears twice"),
                "second column with this name",
                format!("remove one of the two `{name}` columns"),
            );
            continue;
        }
        *slot = Some(index);
    }
    let mut complete = true;
    for (column, present) in columns.iter().zip(&row.present) {
        if column.required && present.is_none() {
            complete = false;
            check.report(
                codes::ESTATE_COLUMNS,
                Some(span),
                format!("missing column `{}`", column.name),
                format!("no `{}` column in this header", column.name),
                format!(
                    "add a column named `{}` to the header row of `{}`",
                    column.name,
                    check.file_name()
                ),
            );
        }
    }
    complete
}

fn offset(base: usize, byte: u64) -> usize {
    base.saturating_add(usize::try_from(byte).unwrap_or(usize::MAX))
}

/// Finds the record's fields in `text`, into `fields`, and returns the record's 1-based line and
/// span. The record's position is where the reader stood before it, which may be before blank
/// lines; those are skipped here. An unclosed quote is an error at the offset of the opening
/// quote.
fn locate<'t>(
    text: &'t str,
    (base, lines_before): (usize, usize),
    record: &ByteRecord,
    fields: &mut Vec<Field<'t>>,
) -> Result<(usize, Span), usize> {
    let bytes = text.as_bytes();
    let (mut at, mut line) = record.position().map_or((base, lines_before + 1), |p| {
        (offset(base, p.byte()), offset(lines_before, p.line()))
    });
    let at_end_of_field = |b: Option<&u8>| matches!(b, None | Some(b',' | b'\r' | b'\n'));
    while let Some(&b) = bytes.get(at).filter(|&&b| b == b'\r' || b == b'\n') {
        line += usize::from(b == b'\n');
        at += 1;
    }
    let start = at;
    fields.clear();
    for value in record {
        let raw = if bytes.get(at) == Some(&b'"') {
            let open = at;
            at += 1;
            loop {
                match bytes.get(at) {
                    None => return Err(open),
                    Some(b'"') if bytes.get(at + 1) == Some(&b'"') => at += 2,
                    Some(b'"') => break,
                    Some(_) => at += 1,
                }
            }
            let content = Span::new(open + 1, at);
            at += 1;
            // Text after the closing quote is kept by the reader; then show the whole field.
            let rest = at;
            while !at_end_of_field(bytes.get(at)) {
                at += 1;
            }
            let junk = text
                .get(rest..at)
                .is_some_and(|junk| !junk.trim().is_empty());
            if junk { Span::new(open, at) } else { content }
        } else {
            let begin = at;
            while !at_end_of_field(bytes.get(at)) {
                at += 1;
            }
            Span::new(begin, at)
        };
        // The field as written, when the reader read it so (always unless quoted); else as
        // read, which is UTF-8 as the text is: the reader splits it only at ASCII bytes.
        let written = text.get(raw.start..raw.end).unwrap_or_default();
        let value = if value == written.as_bytes() {
            Cow::Borrowed(written.trim())
        } else {
            Cow::Owned(String::from_utf8_lossy(value).trim().to_owned())
        };
        fields.push(Field {
            text: value,
            span: trim_span(text, raw),
        });
        if bytes.get(at) == Some(&b',') {
            at += 1;
        }
    }
    Ok((line, Span::new(start, at)))
}

/// The span without the whitespace at its ends.
fn trim_span(text: &str, span: Span) -> Span {
    let Some(raw) = text.get(span.start..span.end) else {
        return span;
    };
    let start = span.start + (raw.len() - raw.trim_start().len());
    Span::new(start, start + raw.trim().len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_compiler::diagnostics::Diagnostic;

    const COLUMNS: &[Column] = &[
        Column::required("id"),
        Column::optional("name"),
        Column::optional("note"),
    ];

    /// A row as read: its line, and each column's text and the source text at its span.
    type Read = (usize, Vec<Option<(String, String)>>);

    /// Every row of the text, whether the table was complete, and the diagnostics.
    fn read_text(text: &str) -> (Vec<Read>, bool, Vec<Diagnostic>) {
        let source = SourceFile::new("t.csv", text);
        let mut check = Checker::new(&source);
        let mut table = read(&mut check, &source, COLUMNS);
        let mut rows = Vec::new();
        while let Some(row) = table.next_row(&mut check) {
            rows.push(read_row(row, text));
        }
        (rows, table.complete, check.into_diagnostics())
    }

    /// A row's line, and each column's text and the source text at its span.
    fn read_row(row: &Row<'_>, text: &str) -> Read {
        let cells = COLUMNS
            .iter()
            .map(|c| {
                let field = row.get(c.name)?;
                let at = text.get(field.span.start..field.span.end).unwrap_or("?");
                Some((field.text.to_string(), at.to_owned()))
            })
            .collect();
        (row.line, cells)
    }

    fn cell(text: &str, at: &str) -> Option<(String, String)> {
        Some((text.to_owned(), at.to_owned()))
    }

    #[test]
    fn fields_are_located_exactly() {
        let text = "\u{feff}ID, Name ,note\r\n\r\na,\"x, \"\"y\"\"\" ,\"multi\nline\"\n\n  b  ,,\n";
        let (rows, complete, diagnostics) = read_text(text);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert!(complete);
        assert_eq!(
            rows,
            [
                (
                    3,
                    vec![
                        cell("a", "a"),
                        cell("x, \"y\"", "x, \"\"y\"\""),
                        cell("multi\nline", "multi\nline")
                    ]
                ),
                (6, vec![cell("b", "b"), cell("", ""), cell("", "")]),
            ]
        );
    }

    #[test]
    fn empty_last_field_is_at_the_end() {
        let text = "id,name,note\nb,,\n";
        let source = SourceFile::new("t.csv", text);
        let mut check = Checker::new(&source);
        let mut table = read(&mut check, &source, COLUMNS);
        let span = table
            .next_row(&mut check)
            .and_then(|r| r.get("note"))
            .map(|f| f.span);
        assert_eq!(span, Some(Span::new(text.len() - 1, text.len() - 1)));
    }

    #[test]
    fn fields_borrow_the_text_unless_quoting_changed_it() {
        let text = "id,name,note\n a ,\"b\",\"c\"\"\"\n";
        let source = SourceFile::new("t.csv", text);
        let mut check = Checker::new(&source);
        let mut table = read(&mut check, &source, COLUMNS);
        let borrowed: Vec<bool> = table
            .next_row(&mut check)
            .map(|row| {
                ["id", "name", "note"]
                    .iter()
                    .filter_map(|c| row.get(c))
                    .map(|f| matches!(f.text, Cow::Borrowed(_)))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(borrowed, [true, true, false]);
    }

    #[test]
    fn missing_optional_columns_read_as_absent() {
        let source = SourceFile::new("t.csv", "id\nA\n");
        let mut check = Checker::new(&source);
        let mut table = read(&mut check, &source, COLUMNS);
        assert!(table.has("id") && !table.has("name"));
        assert_eq!(table.header_columns(), ["id"]);
        let name = table.next_row(&mut check).map(|r| r.get("name").is_none());
        assert_eq!(name, Some(true));
        assert!(check.into_diagnostics().is_empty());
    }

    /// Every row's line and fields, read from the pieces [`Pieces`] cuts of about `size` bytes,
    /// as the importer reads them: the header from the whole text, each piece on its own.
    fn read_in_pieces(text: &str, size: usize) -> (Vec<Read>, usize, Vec<Diagnostic>) {
        let source = SourceFile::new("t.csv", text);
        let mut check = Checker::new(&source);
        let header = read(&mut check, &source, COLUMNS);
        let mut pieces = Pieces::new(text.as_bytes(), size);
        let (mut rows, mut count) = (Vec::new(), 0);
        while let Ok(Some(piece)) = pieces.next(Vec::new()) {
            let piece_text = String::from_utf8(piece.bytes).unwrap_or_default();
            let (start, lines_before) = if count == 0 {
                header.position()
            } else {
                (0, piece.lines_before)
            };
            let mut table = header.resume_over(&piece_text, start, lines_before);
            let first = rows.len();
            while let Some(row) = table.next_row(&mut check) {
                // Spans are within the piece: its text there is the field's.
                rows.push(read_row(row, &piece_text));
            }
            assert!(
                rows.len() - first <= piece.lines + 1,
                "a piece holds more rows than lines"
            );
            count += 1;
        }
        (rows, count, check.into_diagnostics())
    }

    #[test]
    fn a_table_read_in_pieces_reads_as_the_whole() {
        let text = "\u{feff}id,name,note\r\na,\"x, \"\"y\"\"\",\"multi\nline\"\r\n\r\n b ,,\"\"\"\"\nc,\"two\n\nbreaks\",z\nd,e,f\n\ng,h,i";
        let (whole, _, diagnostics) = read_text(text);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        for size in 1..=text.len() {
            let (rows, count, diagnostics) = read_in_pieces(text, size);
            assert!(diagnostics.is_empty(), "pieces of {size}: {diagnostics:?}");
            assert_eq!(rows, whole, "pieces of {size}");
            assert!(count > 1 || size >= text.len() / 2, "pieces of {size}");
        }
    }

    #[test]
    fn a_piece_ending_inside_a_quoted_field_reports_it() {
        // The stray quote in `x"y` makes a cut after it look outside quotes.
        let text = "id,name,note\na,x\"y,1\nb,\"two\nlines\",2\nc,d,3\n";
        let (whole, _, diagnostics) = read_text(text);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let reads: Vec<_> = (1..=text.len())
            .map(|size| read_in_pieces(text, size))
            .collect();
        let unreported = reads
            .iter()
            .filter(|(rows, _, diagnostics)| diagnostics.is_empty() && *rows != whole)
            .count();
        assert_eq!(unreported, 0, "a wrong cut went unreported");
        let reported = reads.iter().filter(|(_, _, d)| !d.is_empty()).count();
        assert!(reported > 0, "no piece was cut inside the quoted field");
    }

    #[test]
    fn pieces_end_at_line_ends_outside_quotes() {
        assert_eq!(last_cut(b"a,b\nc,d"), Some(4));
        assert_eq!(last_cut(b"a,\"x\ny\"\nc,\"d\ne"), Some(8));
        assert_eq!(last_cut(b"a,\"x\ny"), None);
        assert_eq!(last_cut(b""), None);
    }

    /// Every record of `text` (line, span, and each field's text and span), whether reading
    /// broke, and the diagnostics' codes and spans.
    type Scanned = (
        Vec<(usize, Span, Vec<(String, Span)>)>,
        bool,
        Vec<(String, Option<Span>)>,
    );

    fn scan(text: &str, crate_only: bool) -> Scanned {
        let source = SourceFile::new("t.csv", text);
        let mut check = Checker::new(&source);
        let mut records = Records::new(&source.text);
        records.crate_only = crate_only;
        let mut fields = Vec::new();
        let mut read = Vec::new();
        while let Some((line, span)) = records.next(&mut check, &mut fields) {
            let cells = fields
                .iter()
                .map(|f| (f.text.to_string(), f.span))
                .collect();
            read.push((line, span, cells));
        }
        let diagnostics = check
            .into_diagnostics()
            .into_iter()
            .map(|d| (format!("{} {}", d.code, d.message), d.span))
            .collect();
        (read, records.broken, diagnostics)
    }

    /// What one `csv` crate reader over the whole text reads, located: how records were read
    /// before the scanner, kept as the reference for both of `scan`'s ways.
    fn scan_whole(text: &str) -> Scanned {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let (mut record, mut fields, mut read) = (ByteRecord::new(), Vec::new(), Vec::new());
        let syntax = |message: &str| format!("{} {message}", codes::ESTATE_SYNTAX);
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => return (read, false, Vec::new()),
                Err(err) => {
                    let at = err.position().map(|p| offset(0, p.byte()));
                    let span = at.map(|at| Span::new(at, at));
                    return (
                        read,
                        true,
                        vec![(syntax("this file is not valid csv"), span)],
                    );
                }
            }
            match locate(text, (0, 0), &record, &mut fields) {
                Ok(_) if fields.iter().all(|f| f.text.is_empty()) => {}
                Ok((line, span)) => {
                    let cells = fields
                        .iter()
                        .map(|f| (f.text.to_string(), f.span))
                        .collect();
                    read.push((line, span, cells));
                }
                Err(quote) => {
                    let span = Some(Span::new(quote, quote + 1));
                    return (
                        read,
                        true,
                        vec![(syntax("quoted field is never closed"), span)],
                    );
                }
            }
        }
    }

    #[test]
    fn the_scanner_reads_as_the_csv_crate_does() {
        // Texts from the characters that matter to CSV, and a few that do not.
        const PIECES: &[&str] = &[
            "a", "b", " ", ",", ",", "\"", "\"", "\"\"", "\n", "\n", "\r\n", "\r", "é", "x y",
        ];
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for case in 0..5_000 {
            let len = next(40);
            let text: String = (0..len)
                .map(|_| PIECES.get(next(PIECES.len())).copied().unwrap_or(""))
                .collect();
            let whole = scan_whole(&text);
            assert_eq!(scan(&text, false), whole, "case {case}: {text:?}");
            assert_eq!(
                scan(&text, true),
                whole,
                "case {case}, crate only: {text:?}"
            );
        }
    }

    #[test]
    fn broken_rows_leave_the_table_incomplete() {
        let (rows, complete, diagnostics) = read_text("id,name\nA\nB,b\n");
        assert!(!complete);
        assert_eq!(rows.len(), 1);
        assert_eq!(diagnostics.len(), 1);

        let (_, complete, diagnostics) = read_text("id,name\nA,\"open\nB,b\n");
        assert!(!complete);
        let codes: Vec<_> = diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, [codes::ESTATE_SYNTAX]);
        assert_eq!(diagnostics.first().map(|d| d.line_col()), Some((2, 3)));

        let (rows, complete, diagnostics) = read_text("name\nA\n");
        assert!(!complete && rows.is_empty());
        assert_eq!(diagnostics.len(), 1);

        let (rows, complete, diagnostics) = read_text("\n\n");
        assert!(!complete && rows.is_empty());
        assert_eq!(diagnostics.len(), 1);
    }
}
