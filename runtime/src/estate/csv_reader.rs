//! Reading a CSV estate file into rows of located fields. The `csv` crate parses the records;
//! a small scanner walks each record's raw text from its byte offset to find where every field
//! is, so that diagnostics underline exactly the bad field (or header cell), quoted or not.

use std::sync::Arc;

use csv::StringRecord;
use tally_compiler::diagnostics::Span;

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

/// The rows of a CSV file, with their fields arranged by the expected columns.
#[derive(Debug)]
pub(super) struct Table {
    columns: &'static [Column],
    /// For each expected column, its position in the file's header.
    present: Vec<Option<usize>>,
    /// The header row.
    pub header: Span,
    pub rows: Vec<Row>,
    /// Whether every row could be read: false after a missing header or required column, a
    /// row with the wrong number of fields or broken quoting.
    pub complete: bool,
}

impl Table {
    /// Whether the file has a header row.
    pub fn has_header(&self) -> bool {
        self.header.end > self.header.start
    }

    /// The expected columns the header names, in the header's order.
    pub fn header_columns(&self) -> Vec<&'static str> {
        let mut named: Vec<(usize, &'static str)> = self
            .columns
            .iter()
            .zip(&self.present)
            .filter_map(|(column, at)| Some(((*at)?, column.name)))
            .collect();
        named.sort_unstable();
        named.into_iter().map(|(_, name)| name).collect()
    }

    /// Whether the header has this column.
    pub fn has(&self, name: &str) -> bool {
        position(self.columns, name)
            .and_then(|i| self.present.get(i).copied().flatten())
            .is_some()
    }
}

/// One row of a CSV file.
#[derive(Debug)]
pub(super) struct Row {
    /// The 1-based line the row starts on.
    pub line: usize,
    /// The whole row.
    pub span: Span,
    columns: &'static [Column],
    /// One cell per expected column; `None` when the file lacks that column.
    cells: Vec<Option<Field>>,
}

impl Row {
    /// The field in a column; `None` when the file has no such column.
    pub fn get(&self, name: &str) -> Option<&Field> {
        position(self.columns, name)
            .and_then(|i| self.cells.get(i))
            .and_then(Option::as_ref)
    }
}

fn position(columns: &[Column], name: &str) -> Option<usize> {
    columns.iter().position(|c| c.name == name)
}

/// A record located in the source text.
#[derive(Debug)]
struct Record {
    line: usize,
    span: Span,
    fields: Vec<Field>,
}

impl Record {
    fn is_blank(&self) -> bool {
        self.fields.iter().all(|f| f.text.is_empty())
    }
}

/// Reads a CSV file whose header must name columns from `columns`, reporting header problems
/// (T0202) and malformed rows (T0206) to `check`.
pub(super) fn read(check: &mut Checker, columns: &'static [Column]) -> Table {
    let source = Arc::clone(check.source());
    let mut records = Records::new(&source.text);
    let mut table = Table {
        columns,
        present: vec![None; columns.len()],
        header: Span::new(records.base, records.base),
        rows: Vec::new(),
        complete: false,
    };
    let Some(header) = records.next(check) else {
        if !records.broken {
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
    table.header = header.span;
    if !read_header(check, &mut table, &header) {
        return table;
    }
    table.complete = true;
    while let Some(record) = records.next(check) {
        if record.fields.len() != header.fields.len() {
            table.complete = false;
            check.report(
                codes::ESTATE_SYNTAX,
                Some(record.span),
                format!(
                    "this row has {} fields but the header has {} columns",
                    record.fields.len(),
                    header.fields.len()
                ),
                format!("{} fields", record.fields.len()),
                "check for a missing or extra comma, and quote a field that contains a comma, as in `\"Contoso, Ltd.\"`",
            );
            continue;
        }
        let mut fields: Vec<Option<Field>> = record.fields.into_iter().map(Some).collect();
        let cells = table
            .present
            .iter()
            .map(|p| p.and_then(|i| fields.get_mut(i)).and_then(Option::take))
            .collect();
        table.rows.push(Row {
            line: record.line,
            span: record.span,
            columns,
            cells,
        });
    }
    if records.broken {
        table.complete = false;
    }
    table
}

/// The records of a CSV text, located in it.
struct Records<'t> {
    records: csv::StringRecordsIntoIter<&'t [u8]>,
    text: &'t str,
    /// Where the CSV starts: after a byte-order mark, if any.
    base: usize,
    /// Whether reading stopped at a record that is not valid CSV.
    broken: bool,
}

impl<'t> Records<'t> {
    fn new(text: &'t str) -> Self {
        let base = if text.starts_with('\u{feff}') { 3 } else { 0 };
        let records = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.get(base..).unwrap_or_default().as_bytes())
            .into_records();
        Self {
            records,
            text,
            base,
            broken: false,
        }
    }

    /// The next record that is not blank; `None` at the end of the text or at a broken record,
    /// which is reported and ends reading.
    fn next(&mut self, check: &mut Checker) -> Option<Record> {
        if self.broken {
            return None;
        }
        loop {
            let record = match self.records.next()? {
                Ok(record) => record,
                Err(err) => {
                    self.broken = true;
                    let at = err.position().map(|p| offset(self.base, p.byte()));
                    check.report(
                        codes::ESTATE_SYNTAX,
                        at.map(|at| Span::new(at, at)),
                        "this file is not valid csv",
                        "reading stopped here",
                        "check the quoting on this line: a quoted field starts and ends with `\"`, and a `\"` inside it is written twice",
                    );
                    return None;
                }
            };
            match locate(self.text, self.base, &record) {
                Ok(record) if record.is_blank() => continue,
                Ok(record) => return Some(record),
                Err(quote) => {
                    self.broken = true;
                    check.report(
                        codes::ESTATE_SYNTAX,
                        Some(Span::new(quote, quote + 1)),
                        "quoted field is never closed",
                        "this quote has no closing quote",
                        "end the field with `\"`, and write a `\"` inside a quoted field twice (`\"\"`)",
                    );
                    return None;
                }
            }
        }
    }
}

/// Matches header cells to the expected columns; false when a required column is missing.
fn read_header(check: &mut Checker, table: &mut Table, header: &Record) -> bool {
    let columns = table.columns;
    let names = || columns.iter().map(|c| c.name);
    for (index, cell) in header.fields.iter().enumerate() {
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
        let Some(slot) = position(columns, &name).and_then(|i| table.present.get_mut(i)) else {
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
    for (column, present) in columns.iter().zip(&table.present) {
        if column.required && present.is_none() {
            complete = false;
            check.report(
                codes::ESTATE_COLUMNS,
                Some(header.span),
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

/// Finds the record's fields in `text`. The record's position is where the reader stood before
/// it, which may be before blank lines; those are skipped here. An unclosed quote is an error
/// at the offset of the opening quote.
fn locate(text: &str, base: usize, record: &StringRecord) -> Result<Record, usize> {
    let bytes = text.as_bytes();
    let (mut at, mut line) = record
        .position()
        .map_or((base, 1), |p| (offset(base, p.byte()), offset(0, p.line())));
    let at_end_of_field = |b: Option<&u8>| matches!(b, None | Some(b',' | b'\r' | b'\n'));
    while let Some(&b) = bytes.get(at).filter(|&&b| b == b'\r' || b == b'\n') {
        line += usize::from(b == b'\n');
        at += 1;
    }
    let start = at;
    let mut fields = Vec::with_capacity(record.len());
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
        fields.push(Field {
            text: value.trim().to_owned(),
            span: trim_span(text, raw),
        });
        if bytes.get(at) == Some(&b',') {
            at += 1;
        }
    }
    Ok(Record {
        line,
        span: Span::new(start, at),
        fields,
    })
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
    use tally_compiler::diagnostics::SourceFile;

    const COLUMNS: &[Column] = &[
        Column::required("id"),
        Column::optional("name"),
        Column::optional("note"),
    ];

    fn read_text(text: &str) -> (Table, Vec<tally_compiler::diagnostics::Diagnostic>) {
        let source = SourceFile::new("t.csv", text);
        let mut check = Checker::new(&source);
        let table = read(&mut check, COLUMNS);
        (table, check.into_diagnostics())
    }

    fn line_and_text(table: &Table, row: usize, name: &str) -> Option<(usize, String)> {
        let row = table.rows.get(row)?;
        Some((row.line, row.get(name)?.text.clone()))
    }

    #[test]
    fn fields_are_located_exactly() {
        let text = "\u{feff}ID, Name ,note\r\n\r\na,\"x, \"\"y\"\"\" ,\"multi\nline\"\n\n  b  ,,\n";
        let (table, diagnostics) = read_text(text);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert!(table.complete);
        assert_eq!(table.rows.len(), 2);
        let spans: Vec<(&str, &str)> = ["id", "name", "note"]
            .iter()
            .filter_map(|c| table.rows.first()?.get(c))
            .map(|f| {
                (
                    f.text.as_str(),
                    text.get(f.span.start..f.span.end).unwrap_or("?"),
                )
            })
            .collect();
        assert_eq!(
            spans,
            [
                ("a", "a"),
                ("x, \"y\"", "x, \"\"y\"\""),
                ("multi\nline", "multi\nline")
            ]
        );
        assert_eq!(line_and_text(&table, 0, "id"), Some((3, "a".to_owned())));
        assert_eq!(line_and_text(&table, 1, "id"), Some((6, "b".to_owned())));
        let empty = table
            .rows
            .get(1)
            .and_then(|r| r.get("note"))
            .map(|f| f.span);
        assert_eq!(empty, Some(Span::new(text.len() - 1, text.len() - 1)));
    }

    #[test]
    fn missing_optional_columns_read_as_absent() {
        let (table, diagnostics) = read_text("id\nA\n");
        assert!(diagnostics.is_empty());
        assert!(table.has("id") && !table.has("name"));
        assert_eq!(table.rows.first().and_then(|r| r.get("name")), None);
    }

    #[test]
    fn broken_rows_leave_the_table_incomplete() {
        let (table, diagnostics) = read_text("id,name\nA\nB,b\n");
        assert!(!table.complete);
        assert_eq!(table.rows.len(), 1);
        assert_eq!(diagnostics.len(), 1);

        let (table, diagnostics) = read_text("id,name\nA,\"open\nB,b\n");
        assert!(!table.complete);
        let codes: Vec<_> = diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, [codes::ESTATE_SYNTAX]);
        assert_eq!(diagnostics.first().map(|d| d.line_col()), Some((2, 3)));
    }
}
