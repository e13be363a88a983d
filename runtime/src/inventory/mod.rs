//! Importers of native inventory: each turns a file that Windows, a package manager or a
//! software vendor writes into evidence rows, ready for `evidence.csv` (`tally import`).
//!
//! | format | file | rows |
//! |---|---|---|
//! | [`reg`] | a registry export of `…\CurrentVersion\Uninstall` | `installer` |
//! | [`dpkg`] | a `dpkg-query --show` listing | `package` |
//! | [`rpm`] | an `rpm -qa --queryformat` listing | `package` |
//! | [`wmi`] | a `wmic … get /format:list` dump | `wmi` |
//! | [`swid`] | ISO/IEC 19770-2 `.swidtag` files, or a folder of them | `swid` |
//!
//! Files are read through [`crate::files`]: a regular file inside its folder (a link may not
//! lead out of it) of at most 2 GiB, as UTF-8 or, when a byte-order mark says so, UTF-16.
//! A file not in its format's form is a T0209 error at its line and column, a missing or
//! undecodable one a T0210, a refused one a T0208. Output is deterministic: inputs in the
//! order given, rows in file order.

pub mod dpkg;
pub mod reg;
pub mod rpm;
pub mod swid;
pub mod wmi;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tally_compiler::diagnostics::{self, Diagnostic, SourceFile, Span};

use crate::estate::Evidence;
use crate::estate::codes;
use crate::files::{self, ReadError};

/// A native inventory format that `tally import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    Reg,
    Dpkg,
    Rpm,
    Wmi,
    Swid,
}

impl Format {
    /// Each format's name on the command line and in the `source` column of its rows.
    pub const NAMES: &[(&str, Self)] = &[
        ("reg", Self::Reg),
        ("dpkg", Self::Dpkg),
        ("rpm", Self::Rpm),
        ("wmi", Self::Wmi),
        ("swid", Self::Swid),
    ];

    pub fn as_str(self) -> &'static str {
        tally_compiler::evidence::spelling(Self::NAMES, self)
    }

    fn parse(self, source: &Arc<SourceFile>) -> Result<Vec<Evidence>, Vec<Diagnostic>> {
        match self {
            Self::Reg => reg::parse(source),
            Self::Dpkg => dpkg::parse(source),
            Self::Rpm => rpm::parse(source),
            Self::Wmi => wmi::parse(source),
            Self::Swid => swid::parse(source),
        }
    }
}

/// Reads the inputs, in the order given, into evidence rows found on `device`, each with the
/// format's name as its `source`. A folder given to `swid` is searched for `.swidtag` files,
/// read in the order of their paths. Every input is read, and the errors of all are reported.
pub fn import(
    format: Format,
    inputs: &[PathBuf],
    device: &str,
) -> Result<Vec<Evidence>, Vec<Diagnostic>> {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        let files = if format == Format::Swid && input.is_dir() {
            match swid::tags_in(input) {
                Ok(tags) => tags.into_iter().map(|tag| (tag, input.clone())).collect(),
                Err(error) => {
                    errors.push(*error);
                    continue;
                }
            }
        } else {
            let folder = input
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            vec![(input.clone(), folder.to_path_buf())]
        };
        for (path, root) in files {
            match read(&path, &root)
                .map_err(|e| vec![*e])
                .and_then(|source| format.parse(&source))
            {
                Ok(found) => rows.extend(found),
                Err(found) => errors.extend(found),
            }
        }
    }
    if !errors.is_empty() {
        diagnostics::sort(&mut errors);
        return Err(errors);
    }
    let (device, source): (Arc<str>, Arc<str>) = (device.into(), format.as_str().into());
    for row in &mut rows {
        row.device = Arc::clone(&device);
        row.source = Some(Arc::clone(&source));
    }
    Ok(rows)
}

/// Reads an inventory file, whose real location must lie inside `root`, as text: UTF-16
/// (little- or big-endian) when it starts with that byte-order mark, else UTF-8 (with or
/// without its mark).
pub fn read(path: &Path, root: &Path) -> Result<Arc<SourceFile>, Box<Diagnostic>> {
    let shown = path.display().to_string();
    let error = match files::read_bytes(path, root, files::MAX_ESTATE_FILE).and_then(decode) {
        Ok(text) => return Ok(SourceFile::new(shown, text)),
        Err(error) => error,
    };
    let (code, message, help) = if error.is_not_found() {
        (
            codes::INVENTORY_UNREADABLE,
            format!("missing inventory file `{shown}`"),
            "check the path: give the file the inventory tool wrote".to_owned(),
        )
    } else if error.is_refused() {
        (
            codes::INPUT_REFUSED,
            format!(
                "cannot read inventory file `{shown}`: {}",
                error.reason(path)
            ),
            error.refusal_help("inventory files", "their folder"),
        )
    } else {
        (
            codes::INVENTORY_UNREADABLE,
            format!("cannot read inventory file `{shown}`: {}", error.reason(path)),
            "save the file as UTF-8 or UTF-16 text (with its byte-order mark), and check that it can be read".to_owned(),
        )
    };
    let (source, span) = error.source(&shown);
    let label = if span.is_some() {
        "this byte is not UTF-8".to_owned()
    } else {
        "the file could not be read".to_owned()
    };
    Err(Box::new(
        Diagnostic::error(code, &source, span, message)
            .with_label(label)
            .with_help(help),
    ))
}

/// The bytes as text, without a byte-order mark: UTF-16 after its mark, else UTF-8.
fn decode(bytes: Vec<u8>) -> Result<String, ReadError> {
    let mut text = decode_with_mark(bytes)?;
    if text.starts_with('\u{feff}') {
        text.replace_range(..'\u{feff}'.len_utf8(), "");
    }
    Ok(text)
}

fn decode_with_mark(bytes: Vec<u8>) -> Result<String, ReadError> {
    let utf16 = match bytes.get(..2) {
        Some([0xff, 0xfe]) => Some(u16::from_le_bytes as fn([u8; 2]) -> u16),
        Some([0xfe, 0xff]) => Some(u16::from_be_bytes as fn([u8; 2]) -> u16),
        _ => None,
    };
    let Some(unit) = utf16 else {
        return files::utf8(bytes);
    };
    let units: Vec<u16> = bytes
        .chunks(2)
        .map(|pair| match pair {
            [a, b] => unit([*a, *b]),
            // An odd byte at the end: no character, so the text is not UTF-16.
            _ => 0xdc00,
        })
        .collect();
    String::from_utf16(&units).map_err(|_| ReadError::NotUtf16)
}

/// A T0209 error: the file is not in its format's form at `span`.
pub(crate) fn malformed(
    source: &Arc<SourceFile>,
    span: Span,
    message: impl Into<String>,
    label: impl Into<String>,
    help: impl Into<String>,
) -> Diagnostic {
    Diagnostic::error(codes::INVENTORY_MALFORMED, source, Some(span), message)
        .with_label(label)
        .with_help(help)
}

/// The lines of a text, each with the byte offset it starts at and without its line break
/// (`\n` or `\r\n`).
pub(crate) fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = 0;
    text.split_inclusive('\n').map(move |line| {
        let at = start;
        start += line.len();
        let line = line.strip_suffix('\n').unwrap_or(line);
        (at, line.strip_suffix('\r').unwrap_or(line))
    })
}

/// The tab-separated fields of each line of a package listing that starts with a package
/// name, with the line's span. Blank lines and lines that start with a space (continued
/// descriptions) are skipped. A line with fewer than `columns.len()` fields, or an empty
/// first field, is an error naming the columns the listing's `command` writes.
pub(crate) fn package_lines<'t>(
    source: &'t Arc<SourceFile>,
    columns: &[&str],
    command: &str,
) -> Result<Vec<(Span, Vec<&'t str>)>, Vec<Diagnostic>> {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for (at, line) in lines(&source.text) {
        if line.trim().is_empty() || line.starts_with([' ', '\t']) {
            continue;
        }
        let span = Span::new(at, at + line.len());
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() < columns.len() {
            errors.push(malformed(
                source,
                span,
                format!(
                    "this line has {} tab-separated fields, not at least {}",
                    fields.len(),
                    columns.len()
                ),
                format!("expected {}, separated by tabs", columns.join(", ")),
                format!("write the listing with `{command}`"),
            ));
            continue;
        }
        found.push((span, fields));
    }
    if errors.is_empty() {
        Ok(found)
    } else {
        Err(errors)
    }
}

/// Package rows as (name, version, architecture, publisher), for the listings' tests.
#[cfg(test)]
fn package_fields(rows: &[Evidence]) -> Vec<(&str, &str, &str, &str)> {
    rows.iter()
        .map(|r| {
            (
                &*r.name,
                &*r.version,
                r.field(crate::estate::EvidenceField::Architecture),
                &*r.publisher,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estate::{EvidenceField, EvidenceKind};

    #[test]
    fn text_is_decoded_from_utf8_or_utf16_by_its_mark() {
        let utf16le: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain("Ké\r\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(decode(utf16le).ok().as_deref(), Some("Ké\r\n"));
        let utf16be: Vec<u8> = [0xfe, 0xff]
            .into_iter()
            .chain("Ké".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(decode(utf16be).ok().as_deref(), Some("Ké"));
        assert_eq!(decode(b"plain".to_vec()).ok().as_deref(), Some("plain"));
        assert_eq!(
            decode(b"\xef\xbb\xbfmarked".to_vec()).ok().as_deref(),
            Some("marked")
        );
        assert!(matches!(
            decode(vec![0xff, 0xfe, 0x41]),
            Err(ReadError::NotUtf16)
        ));
        assert!(matches!(
            decode(vec![b'a', 0xff]),
            Err(ReadError::NotUtf8 { offset: 1, .. })
        ));
    }

    #[test]
    fn lines_know_where_they_start_and_drop_their_breaks() {
        let found: Vec<_> = lines("a\r\nbc\n\nd").collect();
        assert_eq!(found, [(0, "a"), (3, "bc"), (6, ""), (7, "d")]);
    }

    #[test]
    fn rows_keep_only_filled_fields_trimmed_and_sorted() {
        let evidence = Evidence::from_fields(
            EvidenceKind::Package,
            [
                (EvidenceField::Architecture, " x86_64 "),
                (EvidenceField::Name, "bash"),
                (EvidenceField::Publisher, ""),
            ],
        );
        assert_eq!(&*evidence.name, "bash");
        assert_eq!(&*evidence.publisher, "");
        assert_eq!(
            evidence.details,
            [(EvidenceField::Architecture, Arc::from("x86_64"))]
        );
    }
}
