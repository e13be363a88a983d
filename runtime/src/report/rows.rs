//! The shape behind every report: typed columns over rows of text cells, rendered as an
//! aligned table that fits a terminal, as JSON with exact numbers, or as CSV escaped against
//! formula injection.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// The width tables keep to unless every column is asked for.
pub const TEXT_WIDTH: usize = 80;

/// What a column's cells hold, which decides how JSON writes them and whether a table may cut
/// them short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Free text, such as a name or a message: a table may cut it to fit, ending it with `…`.
    Text,
    /// An id or a closed-set word (a license id, a status, a reason code): cut only when the
    /// free text is already as short as it gets.
    Key,
    /// A decimal or whole number, written as an exact JSON number; never cut.
    Number,
    /// `true` or `false`, written as a JSON boolean; never cut.
    Bool,
}

/// A column: its name (the JSON key and CSV header), its kind, and whether a table shows it
/// by default or only with `--wide`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    /// Shown in the default table; other columns only with `--wide`.
    pub essential: bool,
}

impl Column {
    pub const fn text(name: &'static str) -> Self {
        Self {
            name,
            kind: Kind::Text,
            essential: true,
        }
    }

    pub const fn key(name: &'static str) -> Self {
        Self {
            name,
            kind: Kind::Key,
            essential: true,
        }
    }

    pub const fn number(name: &'static str) -> Self {
        Self {
            name,
            kind: Kind::Number,
            essential: true,
        }
    }

    pub const fn bool(name: &'static str) -> Self {
        Self {
            name,
            kind: Kind::Bool,
            essential: true,
        }
    }

    /// Shown in tables only with `--wide`; JSON and CSV always carry it.
    pub const fn wide(self) -> Self {
        Self {
            essential: false,
            ..self
        }
    }
}

/// Rows of text cells under typed columns: the common shape behind every report. An empty
/// cell is a missing value (`null` in JSON).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rows {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<String>>,
    /// A structured value per row that JSON shows in place of the last column's text (for
    /// instance a calculation with its inputs as fields); `None` keeps the text.
    pub structured: Vec<Option<Value>>,
}

/// How a table is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// The essential columns, with text cut to fit [`TEXT_WIDTH`].
    Narrow,
    /// Every column at full width.
    Wide,
}

impl Rows {
    pub fn new(columns: Vec<Column>, rows: Vec<Vec<String>>) -> Self {
        Self {
            columns,
            rows,
            structured: Vec::new(),
        }
    }

    /// The column names, in order.
    pub fn header(&self) -> Vec<&'static str> {
        self.columns.iter().map(|c| c.name).collect()
    }

    /// Renders in the given format, a table in the narrow layout.
    pub fn render(&self, format: Format) -> String {
        self.render_as(format, Layout::Narrow)
    }

    /// Renders in the given format. JSON is an array of objects keyed by the column names.
    pub fn render_as(&self, format: Format, layout: Layout) -> String {
        match format {
            Format::Table => self.table(layout),
            Format::Csv => self.csv(),
            Format::Json => json_text(&self.json()),
        }
    }

    /// The rows as a JSON array of objects.
    pub fn json(&self) -> Value {
        Value::Array(
            self.rows
                .iter()
                .enumerate()
                .map(|(i, r)| self.object(r, self.structured.get(i).cloned().flatten()))
                .collect(),
        )
    }

    fn object(&self, row: &[String], structured: Option<Value>) -> Value {
        let mut map = serde_json::Map::new();
        for (column, cell) in self.columns.iter().zip(row) {
            map.insert(column.name.to_string(), json_cell(column.kind, cell));
        }
        if let (Some(column), Some(value)) = (self.columns.last(), structured) {
            map.insert(column.name.to_string(), value);
        }
        Value::Object(map)
    }

    fn table(&self, layout: Layout) -> String {
        let mut shown: Vec<usize> = (0..self.columns.len())
            .filter(|&i| layout == Layout::Wide || self.columns[i].essential)
            .collect();
        let natural = |i: usize| {
            self.rows
                .iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .fold(self.columns[i].name.chars().count(), usize::max)
        };
        let mut widths: Vec<usize> = shown.iter().map(|&i| natural(i)).collect();
        if layout == Layout::Narrow {
            let kinds: Vec<Kind> = shown.iter().map(|&i| self.columns[i].kind).collect();
            let header = self.header_of(&shown);
            let keep = fit_widths(&mut widths, &kinds, &header);
            shown = keep.iter().map(|&k| shown[k]).collect();
            widths = keep.iter().map(|&k| widths[k]).collect();
        }
        let line = |cells: Vec<&str>| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| {
                    let c = fit(c, *w);
                    let pad = w.saturating_sub(c.chars().count());
                    format!("{c}{}", " ".repeat(pad))
                })
                .collect();
            format!("{}\n", padded.join("  ").trim_end())
        };
        let mut out = line(self.header_of(&shown));
        let rules: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        out.push_str(&line(rules.iter().map(String::as_str).collect()));
        for row in &self.rows {
            out.push_str(&line(
                shown
                    .iter()
                    .map(|&i| row.get(i).map_or("", String::as_str))
                    .collect(),
            ));
        }
        out
    }

    fn header_of(&self, shown: &[usize]) -> Vec<&'static str> {
        shown.iter().map(|&i| self.columns[i].name).collect()
    }

    fn csv(&self) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut ok = writer.write_record(self.header()).is_ok();
        for row in &self.rows {
            ok &= writer
                .write_record(row.iter().map(|c| csv_cell(c).into_owned()))
                .is_ok();
        }
        match (ok, writer.into_inner()) {
            (true, Ok(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
            _ => String::new(),
        }
    }
}

/// The width free text is cut to at the least before it is left out instead.
const MIN_TEXT: usize = 24;

/// Fits a table into [`TEXT_WIDTH`], in three steps, each taken only while the line is too
/// wide: the widest free-text column is narrowed one character at a time, down to
/// [`MIN_TEXT`] characters (or its header's width); then free-text columns are left out, the
/// last first; then ids and words are narrowed the same way, down to their header's width
/// (at least 4). Numbers and booleans are never cut, so a table of them alone may stay wider.
/// Returns the indexes of the columns kept.
fn fit_widths(widths: &mut [usize], kinds: &[Kind], header: &[&str]) -> Vec<usize> {
    let mut keep: Vec<usize> = (0..widths.len()).collect();
    let total = |keep: &[usize], widths: &[usize]| {
        keep.iter().map(|&i| widths[i]).sum::<usize>() + 2 * keep.len().saturating_sub(1)
    };
    let narrow = |keep: &[usize], widths: &mut [usize], kind: Kind, least: usize| {
        while total(keep, widths) > TEXT_WIDTH {
            let widest = keep
                .iter()
                .copied()
                .filter(|&i| kinds[i] == kind && widths[i] > header[i].chars().count().max(least))
                .max_by_key(|&i| (widths[i], std::cmp::Reverse(i)));
            let Some(i) = widest else { break };
            widths[i] -= 1;
        }
    };
    narrow(&keep, widths, Kind::Text, MIN_TEXT);
    while total(&keep, widths) > TEXT_WIDTH {
        let Some(last) = keep.iter().rposition(|&i| kinds[i] == Kind::Text) else {
            break;
        };
        keep.remove(last);
    }
    narrow(&keep, widths, Kind::Key, 4);
    keep
}

/// Text cut to `width` characters, ending with `…` when it was cut.
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A cell as JSON: empty is `null`; numbers are exact JSON numbers and booleans JSON booleans
/// (text that is neither stays a string).
fn json_cell(kind: Kind, cell: &str) -> Value {
    if cell.is_empty() {
        return Value::Null;
    }
    match kind {
        Kind::Number => number(cell).unwrap_or_else(|| Value::String(cell.to_owned())),
        Kind::Bool => match cell {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(cell.to_owned()),
        },
        Kind::Text | Kind::Key => Value::String(cell.to_owned()),
    }
}

/// A decimal or whole number as an exact JSON number, written with the digits it has
/// (`778.00` stays `778.00`); `None` for text that is not a plain number.
pub fn number(text: &str) -> Option<Value> {
    if !is_plain_number(text) {
        return None;
    }
    serde_json::Number::from_str(text).ok().map(Value::Number)
}

/// A decimal as an exact JSON number.
pub fn decimal(d: Decimal) -> Value {
    number(&d.to_string()).unwrap_or_else(|| Value::String(d.to_string()))
}

/// Whether text is a plain number: an optional `-`, digits, and optionally a `.` and digits.
fn is_plain_number(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// A CSV cell escaped against formula injection: a cell a spreadsheet would read as a formula
/// (one beginning with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`,
/// unless it is a plain number such as `-2`, which a spreadsheet reads as that number.
pub fn csv_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && !is_plain_number(cell) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// Pretty JSON with a final newline.
pub fn json_text(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Rows {
        Rows::new(
            vec![Column::key("a"), Column::number("bb")],
            vec![
                vec!["1".into(), String::new()],
                vec!["x,y".into(), "-2.50".into()],
            ],
        )
    }

    #[test]
    fn renders_three_formats() {
        let rows = sample();
        assert_eq!(
            rows.render(Format::Table),
            "a    bb\n---  -----\n1\nx,y  -2.50\n"
        );
        assert_eq!(rows.render(Format::Csv), "a,bb\n1,\n\"x,y\",-2.50\n");
        assert_eq!(
            rows.render(Format::Json),
            "[\n  {\n    \"a\": \"1\",\n    \"bb\": null\n  },\n  {\n    \"a\": \"x,y\",\n    \"bb\": -2.50\n  }\n]\n"
        );
    }

    #[test]
    fn json_numbers_are_exact_and_comparable() {
        let big = "79228162514264337593543950335.5";
        let rows = Rows::new(vec![Column::number("n")], vec![vec![big.into()]]);
        let text = rows.render(Format::Json);
        assert!(text.contains(&format!("\"n\": {big}")), "{text}");
        let parsed: Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(parsed[0]["n"].to_string(), big);
        assert!(parsed[0]["n"].is_number());
    }

    #[test]
    fn csv_cells_that_look_like_formulas_are_escaped_but_numbers_are_not() {
        for (cell, written) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+cmd", "'+cmd"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("-2", "-2"),
            ("-0.50", "-0.50"),
            ("plain", "plain"),
            ("a=b", "a=b"),
        ] {
            assert_eq!(csv_cell(cell), written, "{cell:?}");
        }
        let rows = Rows::new(vec![Column::text("t")], vec![vec!["=1+1".into()]]);
        assert_eq!(rows.render(Format::Csv), "t\n'=1+1\n");
    }

    #[test]
    fn narrow_tables_fit_eighty_columns_and_wide_ones_show_everything() {
        let long = "A very long license name that goes on and on ".repeat(3);
        let rows = Rows::new(
            vec![
                Column::key("license"),
                Column::text("name"),
                Column::number("available"),
                Column::text("note").wide(),
            ],
            vec![vec![
                "L-1".into(),
                long.clone(),
                "-2".into(),
                "hidden".into(),
            ]],
        );
        let narrow = rows.render(Format::Table);
        assert!(
            narrow.lines().all(|l| l.chars().count() <= TEXT_WIDTH),
            "{narrow}"
        );
        assert!(
            narrow.contains('…') && !narrow.contains("hidden"),
            "{narrow}"
        );
        assert!(
            narrow.lines().nth(2).is_some_and(|l| l.ends_with("-2")),
            "{narrow}"
        );
        let wide = rows.render_as(Format::Table, Layout::Wide);
        assert!(
            wide.contains(long.trim_end()) && wide.contains("hidden"),
            "{wide}"
        );
    }
}
