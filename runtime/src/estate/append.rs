//! Writing evidence rows as `evidence.csv` text, and appending them to an estate's
//! `evidence.csv` (`tally import --into`).
//!
//! Appending never half-writes the estate: the new file is written beside the old one under a
//! temporary name and renamed over it. The rows already there keep their bytes; when the new
//! rows fill columns the file lacks, those columns are added at the end of the header and each
//! existing row gets as many empty fields at its end.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tally_compiler::diagnostics::{Diagnostic, SourceFile};

use super::codes;
use super::import::{EVIDENCE_COLUMNS, References, read_devices, read_file, read_table};
use super::model::{Evidence, EvidenceField};
use super::values::did_you_mean_prefix;

/// What [`append_evidence`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The `evidence.csv` written, as shown in messages.
    pub path: String,
    pub rows: usize,
    /// The columns added to the header, in their order.
    pub added_columns: Vec<&'static str>,
}

/// The rows as the text of an `evidence.csv`: a header with `device`, `kind`, `name` and every
/// other column a row fills, in the order of the estate format, then one line per row.
pub fn evidence_csv(rows: &[Evidence]) -> String {
    let columns = columns_of(rows);
    let mut text = csv_line(columns.iter().copied(), "\n");
    text.push_str(&csv_lines(rows, &columns, "\n"));
    text
}

/// Appends the rows, all found on `device`, to the `evidence.csv` of the estate folder `dir`,
/// after checking that `devices.csv` has the device and that `evidence.csv` is well-formed
/// CSV with known columns.
pub fn append_evidence(
    dir: &Path,
    device: &str,
    rows: &[Evidence],
) -> Result<Appended, Vec<Diagnostic>> {
    check_device(dir, device)?;
    let source = read_file(dir, "evidence.csv").map_err(|d| vec![*d])?;
    let (text, added_columns) = if source.text.trim().is_empty() {
        (evidence_csv(rows), Vec::new())
    } else {
        extended(&source, rows)?
    };
    let path = dir.join("evidence.csv");
    replace(&path, &text).map_err(|error| {
        let shown = path.display().to_string();
        vec![
            Diagnostic::error(
                codes::ESTATE_FILE,
                &SourceFile::new(shown.clone(), ""),
                None,
                format!("cannot write estate file `{shown}`: {error}"),
            )
            .with_label("the file could not be written")
            .with_help("check that the estate folder can be written to; the file is unchanged"),
        ]
    })?;
    Ok(Appended {
        path: source.path.clone(),
        rows: rows.len(),
        added_columns,
    })
}

/// A T0205 error unless `devices.csv` has the device.
fn check_device(dir: &Path, device: &str) -> Result<(), Vec<Diagnostic>> {
    let source = read_file(dir, "devices.csv").map_err(|d| vec![*d])?;
    let devices = read_devices(&source, &mut References::default());
    let Some(ids) = devices.ids else {
        return Err(devices.diagnostics);
    };
    if ids.contains(device) {
        return Ok(());
    }
    Err(vec![
        Diagnostic::error(
            codes::ESTATE_UNKNOWN_REFERENCE,
            &source,
            None,
            format!("unknown device `{device}`"),
        )
        .with_label("no device with this id in `devices.csv`")
        .with_help(format!(
            "{}add the device to `devices.csv` first, or give the id of one of its devices with `--device`",
            did_you_mean_prefix(device, ids.iter())
        )),
    ])
}

/// The text of `evidence.csv` with the rows appended, and the columns added for them.
fn extended(
    source: &Arc<SourceFile>,
    rows: &[Evidence],
) -> Result<(String, Vec<&'static str>), Vec<Diagnostic>> {
    let (mut check, mut table) = read_table(source, EVIDENCE_COLUMNS);
    let mut columns = table.header_columns();
    let added: Vec<&'static str> = columns_of(rows)
        .into_iter()
        .filter(|c| !columns.contains(c))
        .collect();
    columns.extend(&added);
    let text = &source.text;
    let line_break = if text
        .get(table.header.end..)
        .is_some_and(|t| t.starts_with("\r\n"))
    {
        "\r\n"
    } else {
        "\n"
    };
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    // Each record gets the new columns at its end: the header their names, rows empty fields.
    // The rows are read in any case, to check them.
    let mut extend = |out: &mut String, end: usize, tail: &str| {
        if !added.is_empty() {
            out.push_str(text.get(copied..end).unwrap_or_default());
            out.push_str(tail);
            copied = end;
        }
    };
    extend(&mut out, table.header.end, &format!(",{}", added.join(",")));
    let empty = ",".repeat(added.len());
    while let Some(row) = table.next_row(&mut check) {
        extend(&mut out, row.span.end, &empty);
    }
    let diagnostics = check.into_diagnostics();
    if !diagnostics.is_empty() || !table.complete {
        return Err(diagnostics);
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    if !out.ends_with('\n') {
        out.push_str(line_break);
    }
    out.push_str(&csv_lines(rows, &columns, line_break));
    Ok((out, added))
}

/// The columns rows fill, in the order of the estate format; `device`, `kind` and the
/// required `name` always.
fn columns_of(rows: &[Evidence]) -> Vec<&'static str> {
    EVIDENCE_COLUMNS
        .iter()
        .map(|c| c.name)
        .filter(|&column| {
            matches!(column, "device" | "kind" | "name")
                || rows.iter().any(|row| !cell(row, column).is_empty())
        })
        .collect()
}

/// The text of one column of a row.
fn cell(row: &Evidence, column: &str) -> String {
    match column {
        "device" => row.device.to_string(),
        "kind" => row.kind.as_str().to_owned(),
        "last_used" => row.last_used.map(|d| d.to_string()).unwrap_or_default(),
        "source" => row.source.as_deref().unwrap_or_default().to_string(),
        "ignored" => if row.ignored { "true" } else { "" }.to_owned(),
        _ => EvidenceField::COLUMNS
            .iter()
            .find(|(name, _)| *name == column)
            .map(|(_, field)| row.field(*field).to_owned())
            .unwrap_or_default(),
    }
}

fn csv_lines(rows: &[Evidence], columns: &[&str], line_break: &str) -> String {
    rows.iter()
        .map(|row| csv_line(columns.iter().map(|c| cell(row, c)), line_break))
        .collect()
}

/// One CSV record, quoted where needed (RFC 4180), ended by `line_break`.
fn csv_line<T: AsRef<str>>(fields: impl IntoIterator<Item = T>, line_break: &str) -> String {
    let fields: Vec<String> = fields
        .into_iter()
        .map(|field| {
            let field = field.as_ref();
            if field.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", field.replace('"', "\"\""))
            } else {
                field.to_owned()
            }
        })
        .collect();
    format!("{}{line_break}", fields.join(","))
}

/// Replaces the file at `path` (or, for a link, the file it leads to) with `text`: written
/// under a temporary name in the same folder, with the old file's permissions, then renamed
/// into place.
fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let target = fs::canonicalize(path)?;
    let folder = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary: PathBuf = folder.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::set_permissions(&temporary, fs::metadata(&target)?.permissions())?;
        fs::rename(&temporary, &target)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estate::EvidenceKind;

    fn package(name: &str, publisher: &str) -> Evidence {
        Evidence {
            line: 0,
            device: "WS-01".into(),
            kind: EvidenceKind::Package,
            publisher: publisher.into(),
            name: name.into(),
            version: "1.0".into(),
            details: vec![(EvidenceField::Architecture, "x86_64".into())],
            last_used: None,
            source: Some("rpm".into()),
            ignored: false,
        }
    }

    #[test]
    fn rows_are_written_with_the_columns_they_fill() {
        let text = evidence_csv(&[package("bash", "Red Hat, Inc."), package("zsh", "")]);
        assert_eq!(
            text,
            "device,kind,publisher,name,version,architecture,source\n\
             WS-01,package,\"Red Hat, Inc.\",bash,1.0,x86_64,rpm\n\
             WS-01,package,,zsh,1.0,x86_64,rpm\n"
        );
    }

    #[test]
    fn appending_adds_missing_columns_and_keeps_old_rows() -> Result<(), Vec<Diagnostic>> {
        let old =
            "\u{feff}device,name,source\r\nWS-01,\"Visio,\r\n Pro\",sccm\r\nWS-02,Acrobat,sccm";
        let source = SourceFile::new("estate/evidence.csv", old);
        let (text, added) = extended(&source, &[package("bash", "")])?;
        assert_eq!(added, ["kind", "version", "architecture"]);
        assert_eq!(
            text,
            "\u{feff}device,name,source,kind,version,architecture\r\n\
             WS-01,\"Visio,\r\n Pro\",sccm,,,\r\n\
             WS-02,Acrobat,sccm,,,\r\n\
             WS-01,bash,rpm,package,1.0,x86_64\r\n"
        );
        let source = SourceFile::new("e.csv", text);
        let (mut check, mut table) = read_table(&source, EVIDENCE_COLUMNS);
        let mut rows = 0;
        while table.next_row(&mut check).is_some() {
            rows += 1;
        }
        assert!(check.into_diagnostics().is_empty() && table.complete);
        assert_eq!(rows, 3);
        Ok(())
    }

    #[test]
    fn appending_to_a_file_with_every_column_only_adds_lines() -> Result<(), Vec<Diagnostic>> {
        let old = "device,kind,publisher,name,version,architecture,source\nWS-01,,,Visio,,,\n";
        let source = SourceFile::new("estate/evidence.csv", old);
        let (text, added) = extended(&source, &[package("bash", "GNU")])?;
        assert!(added.is_empty());
        assert_eq!(
            text,
            format!("{old}WS-01,package,GNU,bash,1.0,x86_64,rpm\n")
        );
        Ok(())
    }

    #[test]
    fn a_broken_evidence_file_is_not_appended_to() {
        let source = SourceFile::new("estate/evidence.csv", "device,nmae\nWS-01,x\n");
        let errors = extended(&source, &[package("bash", "")])
            .err()
            .unwrap_or_default();
        let codes: Vec<_> = errors.iter().map(|d| d.code).collect();
        assert_eq!(codes, [codes::ESTATE_COLUMNS, codes::ESTATE_COLUMNS]);
    }
}
