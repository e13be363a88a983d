//! Annotated sample evidence files, tests in the style of Semgrep's `ruleid:`/`ok:` comments: a
//! pack's `*.evidence.csv` files hold evidence rows (the columns of `evidence.csv`, without
//! `device`), each row after the `#` lines that say what it must be recognised as:
//!
//! ```text
//! kind,publisher,name,version
//! # ruleid: acme.cad_2025
//! installer,Acme Corp,Acme CAD 2025,25.1
//! # ok: acme.cad_2025
//! # ruleid: acme.cad_lt_2025
//! installer,Acme Corp,Acme CAD LT 2025,25.1
//! ```
//!
//! `# ruleid: APP` expects the row to be recognised as the application, `# ok: APP` expects it
//! not to be; `# ruleid: unrecognized` expects no rule to recognise it and `# ruleid: ignored`
//! expects an `ignore` declaration to match it. Each row is recognised on its own, as the only
//! row of a device. Every annotation is one test.

use std::sync::Arc;

use tally_compiler::diagnostics::{Diagnostic, SourceFile, Span, closest, codes};
use tally_compiler::evidence::{EvidenceField, EvidenceKind};
use tally_compiler::ir::CompiledPack;

use crate::estate::Evidence;
use crate::pack_tests::TestResult;
use crate::recognize::{Recognizer, recognize_device};

/// What an annotation expects of the row after it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expectation {
    /// `ruleid: APP`.
    Application(String),
    /// `ok: APP`.
    NotApplication(String),
    /// `ruleid: unrecognized`.
    Unrecognized,
    /// `ruleid: ignored`.
    Ignored,
}

/// One annotation, where it is written, and the row it is about.
struct Annotation {
    expectation: Expectation,
    text: String,
    line: usize,
    span: Span,
    row: usize,
}

/// A sample file read: its rows and their annotations.
struct Samples {
    rows: Vec<(usize, Evidence)>,
    annotations: Vec<Annotation>,
}

/// Runs every annotation of a sample file against the pack's recognizer; fails with the
/// diagnostics of a file that cannot be read as samples (T0107), or that names an application
/// the pack does not declare (T0101).
pub fn run(
    source: &Arc<SourceFile>,
    pack: &CompiledPack,
    recognizer: &Recognizer,
) -> Result<Vec<TestResult>, Vec<Diagnostic>> {
    let samples = read(source, pack)?;
    let mut results = Vec::new();
    for a in &samples.annotations {
        let Some((row_line, row)) = samples.rows.get(a.row) else {
            continue;
        };
        let found = recognize_device(recognizer, "sample", std::slice::from_ref(row));
        let recognised: Vec<&str> = found
            .installations
            .iter()
            .chain(&found.ignored_applications)
            .map(|i| i.application.as_ref())
            .collect();
        let described = if recognised.is_empty() {
            "nothing".to_owned()
        } else {
            let names: Vec<String> = recognised.iter().map(|a| format!("`{a}`")).collect();
            names.join(", ")
        };
        let failure = match &a.expectation {
            Expectation::Application(app) if !recognised.contains(&app.as_str()) => Some(format!(
                "expected application `{app}`, recognised {described}"
            )),
            Expectation::NotApplication(app) if recognised.contains(&app.as_str()) => Some(
                format!("expected no application `{app}`, but it was recognised"),
            ),
            Expectation::Unrecognized if found.unrecognized.is_empty() => Some(format!(
                "expected the row to stay unrecognised, recognised {described}{}",
                if found.noise.is_empty() {
                    ""
                } else {
                    " (it is noise)"
                }
            )),
            Expectation::Ignored if found.noise.is_empty() => Some(format!(
                "expected the row to be ignored as noise, recognised {described}"
            )),
            _ => None,
        };
        results.push(TestResult {
            name: format!("{}, line {row_line}", a.text),
            location: format!("{}:{}", source.path, a.line),
            path: source.path.clone(),
            span: Some(a.span),
            failures: failure.into_iter().collect(),
            skipped: None,
        });
    }
    Ok(results)
}

/// Reads the header, rows and annotations of a sample file.
fn read(source: &Arc<SourceFile>, pack: &CompiledPack) -> Result<Samples, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut header: Option<Vec<Column>> = None;
    let mut pending: Vec<Annotation> = Vec::new();
    let mut samples = Samples {
        rows: Vec::new(),
        annotations: Vec::new(),
    };
    let mut offset = 0;
    for (index, raw) in source.text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let number = index + 1;
        let span = Span::new(start, start + line.len());
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        if let Some(comment) = text.strip_prefix('#') {
            match annotation(comment.trim(), pack) {
                Some(Ok(expectation)) => pending.push(Annotation {
                    expectation,
                    text: comment.trim().to_owned(),
                    line: number,
                    span,
                    row: 0,
                }),
                Some(Err(message)) => errors.push(invalid(source, span, message)),
                None => {}
            }
            continue;
        }
        let cells = match cells(line) {
            Ok(cells) => cells,
            Err(e) => {
                errors.push(invalid(source, span, format!("this row is not CSV: {e}")));
                continue;
            }
        };
        let Some(columns) = &header else {
            match columns(&cells) {
                Ok(columns) => header = Some(columns),
                Err(message) => {
                    errors.push(invalid(source, span, message));
                    return Err(errors);
                }
            }
            if !pending.is_empty() {
                errors.push(invalid(
                    source,
                    span,
                    "annotations stand above the rows they are about, not above the header".into(),
                ));
                pending.clear();
            }
            continue;
        };
        match row(columns, &cells) {
            Ok(evidence) => {
                for mut a in pending.drain(..) {
                    a.row = samples.rows.len();
                    samples.annotations.push(a);
                }
                samples.rows.push((number, evidence));
            }
            Err(message) => errors.push(invalid(source, span, message)),
        }
    }
    for a in pending {
        errors.push(invalid(
            source,
            a.span,
            "this annotation has no row below it".into(),
        ));
    }
    if header.is_none() && errors.is_empty() {
        errors.push(invalid(
            source,
            Span::new(0, 0),
            "the file has no header row".into(),
        ));
    }
    if errors.is_empty() {
        Ok(samples)
    } else {
        Err(errors)
    }
}

/// The expectation of a `#` line: `None` for a plain comment, an error for an annotation that
/// names no declared application.
fn annotation(comment: &str, pack: &CompiledPack) -> Option<Result<Expectation, String>> {
    let (word, name) = comment.split_once(':')?;
    let name = name.trim();
    let negated = match word.trim() {
        "ruleid" => false,
        "ok" => true,
        _ => return None,
    };
    Some(match (negated, name) {
        (false, "unrecognized") => Ok(Expectation::Unrecognized),
        (false, "ignored") => Ok(Expectation::Ignored),
        _ if pack.applications.contains_key(name) => Ok(if negated {
            Expectation::NotApplication(name.to_owned())
        } else {
            Expectation::Application(name.to_owned())
        }),
        _ => {
            let hint = closest(name, pack.applications.keys().map(String::as_str))
                .map(|c| format!(" (did you mean `{c}`?)"))
                .unwrap_or_default();
            Err(format!(
                "the annotation names `{name}`, which is not a declared application{hint}"
            ))
        }
    })
}

/// A column of a sample file.
#[derive(Debug, Clone, Copy)]
enum Column {
    Kind,
    Field(EvidenceField),
}

fn columns(cells: &[String]) -> Result<Vec<Column>, String> {
    let mut columns = Vec::new();
    for cell in cells {
        let name = cell.trim().to_lowercase();
        let column = if name == "kind" {
            Column::Kind
        } else if let Some((_, f)) = EvidenceField::COLUMNS.iter().find(|(c, _)| *c == name) {
            Column::Field(*f)
        } else {
            let known =
                std::iter::once("kind").chain(EvidenceField::COLUMNS.iter().map(|(c, _)| *c));
            return Err(format!(
                "the header names a column `{name}` that sample files do not have (they have {})",
                known.collect::<Vec<_>>().join(", ")
            ));
        };
        columns.push(column);
    }
    if !columns
        .iter()
        .any(|c| matches!(c, Column::Field(EvidenceField::Name)))
    {
        return Err("the header has no `name` column".into());
    }
    Ok(columns)
}

fn row(columns: &[Column], cells: &[String]) -> Result<Evidence, String> {
    if cells.len() != columns.len() {
        return Err(format!(
            "this row has {} fields, and the header {} columns",
            cells.len(),
            columns.len()
        ));
    }
    let mut kind = EvidenceKind::Installer;
    let mut fields: Vec<(EvidenceField, &str)> = Vec::new();
    for (column, cell) in columns.iter().zip(cells) {
        match column {
            Column::Kind if !cell.trim().is_empty() => {
                kind = EvidenceKind::from_name(cell.trim()).ok_or_else(|| {
                    let kinds: Vec<&str> = EvidenceKind::NAMES.iter().map(|(n, _)| *n).collect();
                    format!(
                        "`{}` is not an evidence kind ({})",
                        cell.trim(),
                        kinds.join(", ")
                    )
                })?;
            }
            Column::Kind => {}
            Column::Field(f) => {
                fields.push((*f, cell.as_str()));
            }
        }
    }
    let allowed = kind.fields();
    if let Some((f, _)) = fields
        .iter()
        .find(|(f, v)| !v.trim().is_empty() && !allowed.iter().any(|(_, a)| a == f))
    {
        return Err(format!(
            "a `{}` row has no `{}` field",
            kind.as_str(),
            f.column()
        ));
    }
    Ok(Evidence::from_fields(kind, fields))
}

/// The fields of one CSV line.
fn cells(line: &str) -> Result<Vec<String>, csv::Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_bytes());
    match reader.records().next() {
        Some(record) => Ok(record?.iter().map(str::to_owned).collect()),
        None => Ok(Vec::new()),
    }
}

fn invalid(source: &Arc<SourceFile>, span: Span, message: String) -> Diagnostic {
    Diagnostic::error(codes::INVALID_TEST, source, Some(span), message)
        .with_label("in this sample file")
        .with_help(
            "a sample file has a header row of `evidence.csv` columns (without `device`), then rows, each below `# ruleid: APPLICATION` or `# ok: APPLICATION` lines",
        )
}
