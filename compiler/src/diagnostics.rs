//! Diagnostics shared by the compiler and the estate importer: a stable code, a labelled
//! span in a named source, a help line, and rendering through miette.

use std::fmt;
use std::sync::{Arc, OnceLock};

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceSpan};

use crate::snippet::{self, Snippet};

/// A named piece of text that diagnostics point into: a rule file or an estate file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path shown to the user, as given on the command line or as bundled.
    pub path: String,
    /// The whole text of the file.
    pub text: String,
    /// Where each line starts, built when first needed.
    line_starts: OnceLock<Vec<usize>>,
}

impl PartialEq for SourceFile {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path && self.text == other.text
    }
}

impl Eq for SourceFile {}

impl std::hash::Hash for SourceFile {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.path.hash(state);
        self.text.hash(state);
    }
}

impl SourceFile {
    /// A shared source file, ready to be pointed at by many diagnostics.
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Arc<Self> {
        Arc::new(Self {
            path: path.into(),
            text: text.into(),
            line_starts: OnceLock::new(),
        })
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            // A byte-order mark is not part of the first line.
            let first = if self.text.starts_with('\u{feff}') {
                3
            } else {
                0
            };
            std::iter::once(first)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        })
    }

    /// The 0-based line holding byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_starts()
            .partition_point(|&start| start <= offset)
            .saturating_sub(1)
    }

    /// How many lines the text has (a final newline starts an empty last line).
    pub fn line_count(&self) -> usize {
        self.line_starts().len()
    }

    /// The byte offset where 0-based line `line` starts.
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts()
            .get(line)
            .copied()
            .unwrap_or(self.text.len())
    }

    /// The byte offset where 0-based line `line` ends, before its `\n` or `\r\n`.
    pub fn line_end(&self, line: usize) -> usize {
        let end = self
            .line_starts()
            .get(line + 1)
            .map_or(self.text.len(), |next| next - 1);
        let start = self.line_start(line);
        if end > start && self.text.as_bytes().get(end - 1) == Some(&b'\r') {
            end - 1
        } else {
            end
        }
    }

    /// The span moved inside the text and onto character boundaries.
    pub fn clamp(&self, span: Span) -> Span {
        let floor = |mut at: usize| {
            at = at.min(self.text.len());
            while !self.text.is_char_boundary(at) {
                at -= 1;
            }
            at
        };
        Span::new(floor(span.start), floor(span.end))
    }

    /// The 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = self.clamp(Span::new(offset, offset)).start;
        let line = self.line_of(offset);
        let start = self.line_start(line);
        let column = self
            .text
            .get(start..offset)
            .map_or(0, |s| s.chars().count())
            + 1;
        (line + 1, column)
    }
}

/// A half-open byte range in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Self {
            start,
            end: end.max(start),
        }
    }

    /// The span `by` bytes further on.
    pub fn shifted(self, by: usize) -> Self {
        Self {
            start: self.start + by,
            end: self.end + by,
        }
    }
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// A stable diagnostic code. Codes are never reused; each has a page in `docs/diagnostics.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code(pub &'static str);

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// The registry of every diagnostic code, with a one-line summary.
pub mod codes {
    use super::Code;

    /// A rule file does not follow the grammar.
    pub const SYNTAX: Code = Code("T0001");
    /// A name refers to nothing that is declared.
    pub const UNKNOWN_NAME: Code = Code("T0101");
    /// Two declarations of one kind share a name.
    pub const DUPLICATE_DECLARATION: Code = Code("T0102");
    /// A name refers to a declaration of the wrong kind.
    pub const WRONG_KIND: Code = Code("T0103");
    /// A field is given twice in one declaration.
    pub const DUPLICATE_FIELD: Code = Code("T0104");
    /// A declaration lacks a field it needs.
    pub const MISSING_FIELD: Code = Code("T0105");
    /// An edition is not one the product declares.
    pub const UNKNOWN_EDITION: Code = Code("T0106");
    /// A test block has no `given` or no `expect`, or mixes kinds that cannot meet.
    pub const INVALID_TEST: Code = Code("T0107");
    /// A bundle lists the same member twice or has no primary member.
    pub const INVALID_BUNDLE: Code = Code("T0108");
    // T0109 (an application without recognition rule) is retired: it is the lint T0403.
    /// A rule pack file or folder cannot be read.
    pub const UNREADABLE_PACK: Code = Code("T0110");
    /// A word is not one of those the field allows.
    pub const UNKNOWN_WORD: Code = Code("T0111");
    /// A block has a field its kind does not take.
    pub const UNKNOWN_FIELD: Code = Code("T0112");
    /// An expression reads a variable or a field that does not exist.
    pub const UNKNOWN_VARIABLE: Code = Code("T0113");
    /// An expression calls a function that does not exist, or with the wrong arguments.
    pub const UNKNOWN_FUNCTION: Code = Code("T0114");
    /// An expression has a value of the wrong type.
    pub const TYPE_MISMATCH: Code = Code("T0115");
    /// A table or a limit is malformed: a row that does not fit the keys, an empty range.
    pub const INVALID_TABLE: Code = Code("T0116");
    /// A metric's rhai script is missing or does not compile.
    pub const SCRIPT_ERROR: Code = Code("T0117");
    /// An application's version cannot be ordered, so upgrade and downgrade rights skip it.
    pub const UNORDERED_VERSION: Code = Code("T0118");
    /// One piece of evidence matches rules of two applications.
    pub const OVERLAPPING_RULES: Code = Code("T0119");
    /// An `extend` or `override` has nothing to apply to, or changes what it cannot.
    pub const INVALID_LAYERING: Code = Code("T0120");
    /// An application's version is not one its product lists.
    pub const UNKNOWN_VERSION: Code = Code("T0121");
    /// A `recognize` block tests no field, or a field it cannot test.
    pub const INVALID_RULE: Code = Code("T0122");
    /// A date in a rule file is not a real day written `YYYY-MM-DD`.
    pub const INVALID_DATE: Code = Code("T0123");
    /// A `test` block of a pack fails: what it expects is not what the pack does.
    pub const TEST_FAILED: Code = Code("T0124");

    /// Every code with its one-line summary, in code order.
    pub const ALL: &[(Code, &str)] = &[
        (SYNTAX, "a rule file does not follow the grammar"),
        (UNKNOWN_NAME, "a name refers to nothing that is declared"),
        (
            DUPLICATE_DECLARATION,
            "two declarations of one kind share a name",
        ),
        (
            WRONG_KIND,
            "a name refers to a declaration of the wrong kind",
        ),
        (DUPLICATE_FIELD, "a field is given twice in one declaration"),
        (MISSING_FIELD, "a declaration lacks a field it needs"),
        (
            UNKNOWN_EDITION,
            "an edition is not one the product declares",
        ),
        (INVALID_TEST, "a test block cannot be run as written"),
        (
            INVALID_BUNDLE,
            "a bundle lists a member twice or has no primary member",
        ),
        (UNREADABLE_PACK, "a rule pack file or folder cannot be read"),
        (UNKNOWN_WORD, "a word is not one of those the field allows"),
        (UNKNOWN_FIELD, "a block has a field its kind does not take"),
        (
            UNKNOWN_VARIABLE,
            "an expression reads a variable or field that does not exist",
        ),
        (
            UNKNOWN_FUNCTION,
            "an expression calls an unknown function or passes the wrong arguments",
        ),
        (TYPE_MISMATCH, "an expression has a value of the wrong type"),
        (INVALID_TABLE, "a table row or a range is malformed"),
        (
            SCRIPT_ERROR,
            "a metric's script is missing or does not compile",
        ),
        (
            UNORDERED_VERSION,
            "an application's version cannot be ordered for upgrade or downgrade rights",
        ),
        (
            OVERLAPPING_RULES,
            "one piece of evidence matches rules of two applications",
        ),
        (
            INVALID_LAYERING,
            "an `extend` or `override` has nothing to apply to or changes what it cannot",
        ),
        (
            UNKNOWN_VERSION,
            "an application's version is not one its product lists",
        ),
        (INVALID_RULE, "a `recognize` block tests nothing"),
        (
            INVALID_DATE,
            "a date is not a real day written `YYYY-MM-DD`",
        ),
        (TEST_FAILED, "a `test` block fails"),
    ];
}

/// One finding about a rule file or an estate file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    /// One lowercase sentence, no final period, user text in backticks.
    pub message: String,
    /// The file the diagnostic points into.
    pub source: Arc<SourceFile>,
    /// The text the label underlines; `None` for a whole-file problem.
    pub span: Option<Span>,
    /// What the underlined text is, in a few words.
    pub label: String,
    /// What to do about it.
    pub help: String,
    /// Text that could replace the span to fix it (a "did you mean" name), for editors.
    pub suggestion: Option<String>,
    /// Other places that explain this one, shown as secondary labels.
    pub related: Vec<Related>,
}

/// A secondary location of a diagnostic, such as the first of two duplicate declarations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub source: Arc<SourceFile>,
    pub span: Span,
    pub label: String,
}

impl Diagnostic {
    /// An error with a span; fill in the label and help with the builder methods.
    pub fn error(
        code: Code,
        source: &Arc<SourceFile>,
        span: Option<Span>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code,
            severity: Severity::Error,
            message: bounded(&message.into()),
            source: Arc::clone(source),
            span,
            label: String::new(),
            help: String::new(),
            suggestion: None,
            related: Vec::new(),
        }
    }

    /// Records replacement text for the span.
    pub fn with_suggestion(mut self, text: impl Into<String>) -> Self {
        self.suggestion = Some(text.into());
        self
    }

    /// Adds a secondary location.
    pub fn with_related(
        mut self,
        source: &Arc<SourceFile>,
        span: Span,
        label: impl Into<String>,
    ) -> Self {
        self.related.push(Related {
            source: Arc::clone(source),
            span,
            label: label.into(),
        });
        self
    }

    /// The same diagnostic as a warning.
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = bounded(&label.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = bounded(&help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The 1-based line and column the diagnostic points at (1:1 for a whole-file problem).
    pub fn line_col(&self) -> (usize, usize) {
        self.span.map_or((1, 1), |s| self.source.line_col(s.start))
    }

    /// `path:line:col: error[T0101]: message`, the one-line form for logs and editors.
    pub fn one_line(&self) -> String {
        let (line, col) = self.line_col();
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        format!(
            "{}:{line}:{col}: {level}[{}]: {}",
            self.source.path, self.code, self.message
        )
    }

    /// The multi-line rendering with the source snippet, label and help; no colour.
    pub fn render(&self) -> String {
        let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
            .with_width(100)
            .with_links(false)
            .with_context_lines(snippet::CONTEXT);
        let mut out = String::new();
        if handler
            .render_report(&mut out, &Rendered::new(self))
            .is_err()
        {
            return self.one_line();
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

/// A diagnostic ready for miette: its labels point into a bounded [`Snippet`] of the file,
/// and each related location in another file is a note with its own snippet.
struct Rendered<'d> {
    diagnostic: &'d Diagnostic,
    snippet: Option<Snippet>,
    labels: Vec<LabeledSpan>,
    notes: Vec<Rendered<'d>>,
    /// The text shown for a note: the related location's label.
    note: Option<&'d str>,
}

impl<'d> Rendered<'d> {
    fn new(diagnostic: &'d Diagnostic) -> Self {
        let same_file = |r: &&Related| {
            Arc::ptr_eq(&r.source, &diagnostic.source) || r.source == diagnostic.source
        };
        let (snippet, labels) = match diagnostic.span {
            Some(span) => {
                let related: Vec<&Related> = diagnostic.related.iter().filter(same_file).collect();
                let spans: Vec<Span> = std::iter::once(span)
                    .chain(related.iter().map(|r| r.span))
                    .collect();
                let (snippet, mapped) = Snippet::new(&diagnostic.source, &spans);
                let texts = std::iter::once(
                    (!diagnostic.label.is_empty()).then(|| diagnostic.label.clone()),
                )
                .chain(related.iter().map(|r| Some(r.label.clone())));
                let labels = mapped
                    .iter()
                    .zip(texts)
                    .enumerate()
                    .map(|(i, (span, text))| {
                        let at = SourceSpan::from(span.start..span.end);
                        if i == 0 {
                            LabeledSpan::new_primary_with_span(text, at)
                        } else {
                            LabeledSpan::new_with_span(text, at)
                        }
                    })
                    .collect();
                (Some(snippet), labels)
            }
            None => (None, Vec::new()),
        };
        let notes = diagnostic
            .related
            .iter()
            .filter(|r| !same_file(r))
            .map(|r| {
                let (snippet, mapped) = Snippet::new(&r.source, &[r.span]);
                let labels = mapped
                    .iter()
                    .map(|s| {
                        LabeledSpan::new_with_span(
                            Some(r.label.clone()),
                            SourceSpan::from(s.start..s.end),
                        )
                    })
                    .collect();
                Rendered {
                    diagnostic,
                    snippet: Some(snippet),
                    labels,
                    notes: Vec::new(),
                    note: Some(&r.label),
                }
            })
            .collect();
        Self {
            diagnostic,
            snippet,
            labels,
            notes,
            note: None,
        }
    }
}

impl fmt::Debug for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.note.unwrap_or(&self.diagnostic.message))
    }
}

impl std::error::Error for Rendered<'_> {}

impl miette::Diagnostic for Rendered<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.note
            .is_none()
            .then(|| Box::new(self.diagnostic.code) as Box<dyn fmt::Display + 'a>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match (self.note, self.diagnostic.severity) {
            (Some(_), _) => miette::Severity::Advice,
            (None, Severity::Error) => miette::Severity::Error,
            (None, Severity::Warning) => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let help = &self.diagnostic.help;
        (self.note.is_none() && !help.is_empty())
            .then(|| Box::new(help) as Box<dyn fmt::Display + 'a>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.snippet.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        (!self.labels.is_empty())
            .then(|| Box::new(self.labels.iter().cloned()) as Box<dyn Iterator<Item = LabeledSpan>>)
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        Some(Box::new(
            self.notes.iter().map(|n| n as &dyn miette::Diagnostic),
        ))
    }
}

/// The most characters of one quoted piece of user text that a message repeats.
const QUOTE_LIMIT: usize = 60;

/// The text with each backticked piece longer than [`QUOTE_LIMIT`] characters cut short, so
/// that a value a megabyte long is not repeated whole in a message.
fn bounded(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(1024));
    for (i, piece) in text.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        let shown = match piece.char_indices().nth(QUOTE_LIMIT) {
            Some((cut, _)) if i % 2 == 1 => piece.get(..cut).unwrap_or_default(),
            _ => piece,
        };
        out.extend(shown.chars().map(printable));
        if shown.len() < piece.len() {
            out.push('…');
        }
    }
    out
}

/// The character as it may be shown on a terminal, one for one: a tab becomes a space (a
/// renderer would widen it), and another control character (which could move the cursor or
/// start an escape sequence) becomes `?`; line breaks stay.
pub fn printable(c: char) -> char {
    match c {
        '\t' => ' ',
        '\n' => c,
        c if c.is_control() => '?',
        c => c,
    }
}

/// Sort diagnostics by file, position and code so output is deterministic.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (&a.source.path, a.span.map(|s| s.start), a.code, &a.message).cmp(&(
            &b.source.path,
            b.span.map(|s| s.start),
            b.code,
            &b.message,
        ))
    });
}

/// The candidate closest to `name` by edit distance, if close enough to be a likely typo (the
/// nearest, and of those the first in text order, so the order of `candidates` does not
/// matter).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    let wanted = name.to_lowercase();
    let wanted_length = wanted.chars().count();
    // For names of ASCII, how often each character occurs in the name: a candidate whose
    // characters differ from it in more places than the bound is not measured.
    let mut wanted_counts = [0i32; 128];
    for b in wanted.bytes().filter(u8::is_ascii) {
        if let Some(count) = wanted_counts.get_mut(usize::from(b)) {
            *count += 1;
        }
    }
    let mut rows = Rows::default();
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        // No candidate further than the best so far can win, so the distance is measured
        // only up to it; and the distance is at least the difference in length, which a
        // candidate of ASCII (whose lowercase has as many characters) shows unmeasured.
        let bound = best.map_or(limit, |(d, _)| d);
        if candidate.is_ascii() && candidate.len().abs_diff(wanted_length) > bound {
            continue;
        }
        let lower: std::borrow::Cow<'_, str> =
            if candidate.is_ascii() && !candidate.bytes().any(|b| b.is_ascii_uppercase()) {
                candidate.into()
            } else {
                candidate.to_lowercase().into()
            };
        let distance = if wanted.is_ascii() && lower.is_ascii() {
            if counts_differ_by(&wanted_counts, &lower) > bound {
                continue;
            }
            edit_distance_ascii(wanted.as_bytes(), lower.as_bytes(), bound, &mut rows)
        } else {
            edit_distance_bounded(&wanted, &lower, bound)
        };
        if distance <= bound && best.is_none_or(|b| (distance, candidate) < b) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// A lower bound of the edit distance of a name of ASCII (given by how often each character
/// occurs in it) and `other`, also of ASCII: one edit changes the count of at most one
/// character in excess and one missing (a swap of neighbours, none).
fn counts_differ_by(counts: &[i32; 128], other: &str) -> usize {
    let mut counts = *counts;
    for b in other.bytes() {
        if let Some(count) = counts.get_mut(usize::from(b)) {
            *count -= 1;
        }
    }
    let (mut excess, mut missing) = (0usize, 0usize);
    for count in counts {
        if count > 0 {
            excess += count.unsigned_abs() as usize;
        } else {
            missing += count.unsigned_abs() as usize;
        }
    }
    excess.max(missing)
}

/// The rows of the distance matrix [`edit_distance_ascii`] reuses from one candidate to the
/// next.
#[derive(Default)]
struct Rows {
    before: Vec<usize>,
    previous: Vec<usize>,
    current: Vec<usize>,
}

/// [`edit_distance_bounded`] for text of ASCII, computing only the cells within `limit` of
/// the diagonal (the others are over it); any number over `limit` once it is sure to be over.
fn edit_distance_ascii(a: &[u8], b: &[u8], limit: usize, rows: &mut Rows) -> usize {
    let over = limit.saturating_add(1);
    if a.len().abs_diff(b.len()) > limit {
        return over;
    }
    let width = b.len() + 1;
    let Rows {
        before,
        previous,
        current,
    } = rows;
    for row in [&mut *before, &mut *previous, &mut *current] {
        row.clear();
        row.resize(width, over);
    }
    for (j, cell) in previous.iter_mut().enumerate() {
        *cell = j.min(over);
    }
    let mut previous_over = false;
    for i in 1..=a.len() {
        current.fill(over);
        if let Some(first) = current.first_mut() {
            *first = i.min(over);
        }
        let low = i.saturating_sub(limit).max(1);
        let high = (i + limit).min(b.len());
        let mut row_min = i.min(over);
        for j in low..=high {
            let at = |row: &[usize], k: usize| row.get(k).copied().unwrap_or(over);
            let (x, y) = (a.get(i - 1), b.get(j - 1));
            let mut value = (at(previous, j) + 1)
                .min(at(current, j - 1) + 1)
                .min(at(previous, j - 1) + usize::from(x != y));
            if i > 1 && j > 1 && x == b.get(j - 2) && a.get(i - 2) == y {
                value = value.min(at(before, j - 2) + 1);
            }
            let value = value.min(over);
            row_min = row_min.min(value);
            if let Some(slot) = current.get_mut(j) {
                *slot = value;
            }
        }
        // As in `edit_distance_bounded`: two rows in a row over the limit end it.
        let row_over = row_min > limit;
        if row_over && previous_over {
            return over;
        }
        previous_over = row_over;
        std::mem::swap(before, previous);
        std::mem::swap(previous, current);
    }
    previous.last().copied().unwrap_or(0)
}

/// Edit distance in characters, counting a swap of two neighbours as one edit (the optimal
/// string alignment distance), so `coers` is one edit from `cores`; any number over `limit`
/// once it is sure to be over it.
fn edit_distance_bounded(a: &str, b: &str, limit: usize) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows of the distance matrix: two rows back, the previous and the current.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current: Vec<usize> = vec![0; b.len() + 1];
    let mut previous_over = false;
    for i in 1..=a.len() {
        if let Some(first) = current.first_mut() {
            *first = i;
        }
        for j in 1..=b.len() {
            let at = |row: &[usize], k: usize| row.get(k).copied().unwrap_or(usize::MAX - 1);
            let same = a.get(i - 1) == b.get(j - 1);
            let mut value = (at(&previous, j) + 1)
                .min(at(&current, j - 1) + 1)
                .min(at(&previous, j - 1) + usize::from(!same));
            let swapped =
                i > 1 && j > 1 && a.get(i - 1) == b.get(j - 2) && a.get(i - 2) == b.get(j - 1);
            if swapped {
                value = value.min(at(&before, j - 2) + 1);
            }
            if let Some(slot) = current.get_mut(j) {
                *slot = value;
            }
        }
        // A cell exceeds the limit when the row before it does (every cell of it, as the
        // first cell of a row is its number), its left neighbour does, and the row before
        // that, which a swap reads, reaches it: once two rows in a row exceed the limit,
        // every later row does, and so does the distance.
        let over = current.iter().all(|v| *v > limit);
        if over && previous_over {
            return limit + 1;
        }
        previous_over = over;
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous.last().copied().unwrap_or(0)
}

/// The whole edit distance.
#[cfg(test)]
fn edit_distance(a: &str, b: &str) -> usize {
    edit_distance_bounded(a, b, usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banded_distance_agrees_with_the_whole_one() {
        let words = [
            "",
            "a",
            "ab",
            "ba",
            "cores",
            "coers",
            "kitten",
            "sitting",
            "microsoft.visio",
            "microsoft.vsio",
            "microsoft.project",
            "adobe.acrobat",
            "oracle.db",
            "abcdef",
            "badcfe",
            "fedcba",
            "aabbcc",
            "abcabc",
        ];
        let mut rows = Rows::default();
        for a in words {
            for b in words {
                for limit in 0..8 {
                    let whole = edit_distance(a, b);
                    let banded = edit_distance_ascii(a.as_bytes(), b.as_bytes(), limit, &mut rows);
                    if whole <= limit {
                        assert_eq!(banded, whole, "{a} {b} {limit}");
                    } else {
                        assert!(banded > limit, "{a} {b} {limit}");
                    }
                    let mut counts = [0i32; 128];
                    for byte in a.bytes() {
                        counts[usize::from(byte)] += 1;
                    }
                    assert!(counts_differ_by(&counts, b) <= whole, "{a} {b}");
                }
            }
        }
    }

    #[test]
    fn closest_finds_typos_only() {
        let names = ["microsoft.visio", "microsoft.project", "adobe.acrobat"];
        assert_eq!(closest("microsoft.vsio", names), Some("microsoft.visio"));
        assert_eq!(closest("oracle.db", names), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("coers", "cores"), 1);
        assert_eq!(closest("coers", ["cores", "threads"]), Some("cores"));
        assert_eq!(closest("Microsoft.VSIO", names), Some("microsoft.visio"));
        // Of two as close, the first in order, whichever order they come in.
        assert_eq!(closest("ab", ["ba", "ac"]), Some("ac"));
        assert_eq!(closest("ab", ["ac", "ba"]), Some("ac"));
        assert_eq!(closest("abcdef", ["abcxyz", "abcdxf"]), Some("abcdxf"));
    }

    #[test]
    fn a_bounded_distance_is_exact_up_to_its_limit() {
        let words = [
            "",
            "a",
            "ab",
            "ba",
            "abc",
            "acb",
            "kitten",
            "sitting",
            "coers",
            "cores",
            "threads",
            "microsoft.visio",
            "microsoft.vsio",
            "gen.app_00012",
            "gen.app_00021",
            "gen.app_10012",
        ];
        for a in words {
            for b in words {
                let exact = edit_distance(a, b);
                for limit in 0..6 {
                    let bounded = edit_distance_bounded(a, b, limit);
                    if exact <= limit {
                        assert_eq!(bounded, exact, "{a} {b} {limit}");
                    } else {
                        assert!(bounded > limit, "{a} {b} {limit}");
                    }
                }
            }
        }
    }

    #[test]
    fn line_and_column_are_one_based_characters() {
        let file = SourceFile::new("f", "ab\ncdé f");
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(3), (2, 1));
        assert_eq!(file.line_col(8), (2, 5));
        let file = SourceFile::new("f", "\u{feff}ab");
        assert_eq!(file.line_col(4), (1, 2));
    }

    #[test]
    fn quoted_user_text_is_cut_short() {
        let long = "x".repeat(10_000);
        let source = SourceFile::new("f", "");
        let d = Diagnostic::error(codes::SYNTAX, &source, None, format!("bad `{long}` here"));
        assert_eq!(
            d.message,
            format!("bad `{}…` here", "x".repeat(QUOTE_LIMIT))
        );
        assert_eq!(bounded("a `b` c `d"), "a `b` c `d");
        assert_eq!(bounded("bad `\u{1b}[2J\u{7}` value"), "bad `?[2J?` value");
    }
}
