//! Windows registry exports (`.reg`) of the Add/Remove Programs keys, as `regedit` or
//! `reg export "HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall" file.reg` writes
//! them: UTF-16 with its byte-order mark, or UTF-8.
//!
//! Every key directly under a key named `Uninstall` (also `WOW6432Node\…\Uninstall`) that has
//! a `DisplayName` is one `installer` row:
//!
//! | registry value | evidence column |
//! |---|---|
//! | `DisplayName` | `name` |
//! | `Publisher` | `publisher` |
//! | `DisplayVersion` | `version` |
//! | the key's name, when it is a `{GUID}` (an MSI product code) | `product_code` |
//! | `SystemComponent` = dword 1 | `system_component` = `true` |
//! | `ParentKeyName` | `parent` |
//! | `ReleaseType` | `release_type` |
//!
//! Other keys and values are read (so that a malformed one is reported) and left out. Strings
//! may be quoted (with `\\` and `\"` escaped) or `hex(1):`/`hex(2):` data in UTF-16; numbers
//! are `dword:` or `hex(4):` data. Hex data may continue over lines that end in `\`.

use std::sync::Arc;

use tally_compiler::diagnostics::{Diagnostic, SourceFile, Span};

use super::malformed;
use crate::estate::{Evidence, EvidenceField, EvidenceKind};

/// The first line of a registry export: version 5 (Unicode) or 4 (ANSI, read as UTF-8).
const HEADERS: [&str; 2] = ["Windows Registry Editor Version 5.00", "REGEDIT4"];

/// Reads a registry export into one `installer` row per uninstall entry with a display name.
pub fn parse(source: &Arc<SourceFile>) -> Result<Vec<Evidence>, Vec<Diagnostic>> {
    let keys = Parser::new(source).keys().map_err(|e| vec![*e])?;
    Ok(keys.iter().filter_map(installer_row).collect())
}

fn installer_row(key: &Key) -> Option<Evidence> {
    if !key.is_uninstall_entry() {
        return None;
    }
    let name = key.text("DisplayName").filter(|n| !n.trim().is_empty())?;
    let text = |value: &str| key.text(value).unwrap_or_default();
    let product_code = if is_guid(key.name()) { key.name() } else { "" };
    let system_component = if key.number("SystemComponent") == Some(1) {
        "true"
    } else {
        ""
    };
    Some(Evidence::from_fields(
        EvidenceKind::Installer,
        [
            (EvidenceField::Name, name.as_str()),
            (EvidenceField::Publisher, &text("Publisher")),
            (EvidenceField::Version, &text("DisplayVersion")),
            (EvidenceField::ProductCode, product_code),
            (EvidenceField::SystemComponent, system_component),
            (EvidenceField::Parent, &text("ParentKeyName")),
            (EvidenceField::ReleaseType, &text("ReleaseType")),
        ],
    ))
}

/// Whether a key name is a `{GUID}`, as MSI names the uninstall keys of its products.
fn is_guid(name: &str) -> bool {
    let Some(inner) = name.strip_prefix('{').and_then(|n| n.strip_suffix('}')) else {
        return false;
    };
    let groups: Vec<&str> = inner.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A key of the export with its values, in file order.
#[derive(Debug, PartialEq, Eq)]
struct Key {
    /// The full path, such as `HKEY_LOCAL_MACHINE\SOFTWARE\…\Uninstall\{…}`.
    path: String,
    values: Vec<(String, Data)>,
}

impl Key {
    /// The last part of the path.
    fn name(&self) -> &str {
        self.path.rsplit('\\').next().unwrap_or_default()
    }

    /// Whether the key lies directly under a key named `Uninstall`.
    fn is_uninstall_entry(&self) -> bool {
        self.path
            .rsplit('\\')
            .nth(1)
            .is_some_and(|parent| parent.eq_ignore_ascii_case("Uninstall"))
    }

    /// A value by name, ignoring case as the registry does; the last one given wins.
    fn value(&self, name: &str) -> Option<&Data> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, data)| data)
    }

    fn text(&self, name: &str) -> Option<String> {
        self.value(name).and_then(Data::text)
    }

    fn number(&self, name: &str) -> Option<u32> {
        self.value(name).and_then(Data::number)
    }
}

/// A value's data as the export writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Data {
    /// `"text"`.
    String(String),
    /// `dword:0000000b`.
    Dword(u32),
    /// `hex:…` (type 3, binary) or `hex(N):…`, with its registry type.
    Hex { kind: u32, bytes: Vec<u8> },
    /// `-`: the value is deleted.
    Deleted,
}

/// `REG_SZ`, `REG_EXPAND_SZ` and `REG_DWORD` as `hex(N)` names them.
const REG_SZ: u32 = 1;
const REG_EXPAND_SZ: u32 = 2;
const REG_BINARY: u32 = 3;
const REG_DWORD: u32 = 4;

impl Data {
    /// The data as text: a quoted string, or `hex(1)`/`hex(2)` UTF-16 up to its first NUL.
    fn text(&self) -> Option<String> {
        match self {
            Self::String(text) => Some(text.clone()),
            Self::Hex { kind, bytes } if *kind == REG_SZ || *kind == REG_EXPAND_SZ => {
                let units: Vec<u16> = bytes
                    .chunks_exact(2)
                    .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
                    .take_while(|unit| *unit != 0)
                    .collect();
                Some(String::from_utf16_lossy(&units))
            }
            _ => None,
        }
    }

    /// The data as a number: a `dword:` or four bytes of `hex(4)`.
    fn number(&self) -> Option<u32> {
        match self {
            Self::Dword(n) => Some(*n),
            Self::Hex { kind, bytes } if *kind == REG_DWORD => {
                <[u8; 4]>::try_from(bytes.as_slice())
                    .ok()
                    .map(u32::from_le_bytes)
            }
            _ => None,
        }
    }
}

/// What the lines before a value belong to.
enum Current {
    /// No key yet: a value here is an error.
    Nothing,
    /// A `[-key]` line: its values are ignored.
    Deleted,
    Key(Key),
}

/// Reads an export from its text, byte by byte.
struct Parser<'s> {
    source: &'s Arc<SourceFile>,
    text: &'s str,
    at: usize,
}

const HELP: &str = "export the key again with `regedit` or `reg export`, or correct the line: a key is `[path]`, a value `\"name\"=` followed by a quoted string, `dword:`, `hex:` or `hex(N):` data";

impl<'s> Parser<'s> {
    fn new(source: &'s Arc<SourceFile>) -> Self {
        Self {
            source,
            text: &source.text,
            at: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.text.get(self.at..)?.chars().next()
    }

    fn rest(&self) -> &'s str {
        self.text.get(self.at..).unwrap_or_default()
    }

    /// The offset of the end of the current line (before its line break).
    fn line_end(&self) -> usize {
        let rest = self.rest();
        let len = rest.find('\n').unwrap_or(rest.len());
        let line = rest.get(..len).unwrap_or_default();
        self.at + line.strip_suffix('\r').unwrap_or(line).len()
    }

    fn skip_line(&mut self) {
        let rest = self.rest();
        self.at += rest.find('\n').map_or(rest.len(), |i| i + 1);
    }

    fn skip_blank(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    fn skip_spaces(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start_matches([' ', '\t']).len();
    }

    fn error(&self, span: Span, message: &str, label: &str) -> Box<Diagnostic> {
        Box::new(malformed(self.source, span, message, label, HELP))
    }

    fn keys(mut self) -> Result<Vec<Key>, Box<Diagnostic>> {
        self.header()?;
        let mut keys = Vec::new();
        let mut current = Current::Nothing;
        loop {
            self.skip_blank();
            match self.peek() {
                None => break,
                Some(';') => self.skip_line(),
                Some('[') => {
                    let next = self.key_line()?;
                    if let Current::Key(key) = std::mem::replace(&mut current, next) {
                        keys.push(key);
                    }
                }
                Some('"' | '@') => {
                    let start = self.at;
                    let value = self.value()?;
                    match &mut current {
                        Current::Key(key) => key.values.push(value),
                        Current::Deleted => {}
                        Current::Nothing => {
                            return Err(self.error(
                                Span::new(start, self.at),
                                "a value before the first key",
                                "no `[key]` line above this value",
                            ));
                        }
                    }
                }
                Some(_) => {
                    return Err(self.error(
                        Span::new(self.at, self.line_end()),
                        "this line is not a registry key or value",
                        "expected `[key]` or `\"name\"=value`",
                    ));
                }
            }
        }
        if let Current::Key(key) = current {
            keys.push(key);
        }
        Ok(keys)
    }

    fn header(&mut self) -> Result<(), Box<Diagnostic>> {
        self.skip_blank();
        let end = self.line_end();
        let line = self.text.get(self.at..end).unwrap_or_default();
        if HEADERS.contains(&line.trim()) {
            self.skip_line();
            return Ok(());
        }
        Err(Box::new(malformed(
            self.source,
            Span::new(self.at, end),
            "this is not a registry export",
            format!("expected `{}`", HEADERS[0]),
            "export the key with `regedit` or `reg export`: the file starts with `Windows Registry Editor Version 5.00`",
        )))
    }

    /// `[path]` or `[-path]` (a deleted key).
    fn key_line(&mut self) -> Result<Current, Box<Diagnostic>> {
        let start = self.at;
        let end = self.line_end();
        let line = self.text.get(start..end).unwrap_or_default().trim_end();
        let Some(path) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) else {
            return Err(self.error(
                Span::new(start, start + line.len()),
                "key line is not closed",
                "expected `]` at the end of this line",
            ));
        };
        self.skip_line();
        if path.starts_with('-') {
            return Ok(Current::Deleted);
        }
        Ok(Current::Key(Key {
            path: path.to_owned(),
            values: Vec::new(),
        }))
    }

    /// `"name"=data` or `@=data` (the key's default value, named ``).
    fn value(&mut self) -> Result<(String, Data), Box<Diagnostic>> {
        let name = if self.peek() == Some('@') {
            self.at += 1;
            String::new()
        } else {
            self.quoted()?
        };
        self.skip_spaces();
        if self.peek() != Some('=') {
            return Err(self.error(
                Span::new(self.at, self.line_end()),
                "expected `=` after the value's name",
                "expected `=`",
            ));
        }
        self.at += 1;
        self.skip_spaces();
        let data = self.data()?;
        self.skip_spaces();
        let end = self.line_end();
        if end > self.at {
            return Err(self.error(
                Span::new(self.at, end),
                "unexpected text after the value",
                "expected the end of the line",
            ));
        }
        self.skip_line();
        Ok((name, data))
    }

    fn data(&mut self) -> Result<Data, Box<Diagnostic>> {
        let rest = self.rest();
        if rest.starts_with('"') {
            return self.quoted().map(Data::String);
        }
        if rest.starts_with('-') {
            self.at += 1;
            return Ok(Data::Deleted);
        }
        if let Some(digits) = strip_prefix_ignore_case(rest, "dword:") {
            self.at += "dword:".len();
            let len = digits.len()
                - digits
                    .trim_start_matches(|c: char| c.is_ascii_hexdigit())
                    .len();
            let number = digits
                .get(..len)
                .filter(|d| (1..=8).contains(&d.len()))
                .and_then(|d| u32::from_str_radix(d, 16).ok());
            let Some(number) = number else {
                return Err(self.error(
                    Span::new(self.at, self.at + len.max(1)),
                    "invalid `dword:` data",
                    "expected up to 8 hexadecimal digits",
                ));
            };
            self.at += len;
            return Ok(Data::Dword(number));
        }
        if strip_prefix_ignore_case(rest, "hex").is_some() {
            return self.hex();
        }
        Err(self.error(
            Span::new(self.at, self.line_end()),
            "this value's data has no known form",
            "expected a quoted string, `dword:`, `hex:` or `-`",
        ))
    }

    /// `hex:` or `hex(N):` followed by bytes as two hexadecimal digits separated by commas,
    /// continued over lines that end in `\`.
    fn hex(&mut self) -> Result<Data, Box<Diagnostic>> {
        let start = self.at;
        self.at += "hex".len();
        let mut kind = REG_BINARY;
        if self.peek() == Some('(') {
            let rest = self.rest();
            let close = rest.find(')').filter(|&i| i <= 9);
            let parsed = close
                .and_then(|i| rest.get(1..i))
                .and_then(|digits| u32::from_str_radix(digits, 16).ok());
            let (Some(close), Some(parsed)) = (close, parsed) else {
                return Err(self.error(
                    Span::new(start, self.line_end()),
                    "invalid `hex(…)` type",
                    "expected a hexadecimal type such as `hex(2):`",
                ));
            };
            kind = parsed;
            self.at += close + 1;
        }
        if self.peek() != Some(':') {
            return Err(self.error(
                Span::new(self.at, self.line_end()),
                "expected `:` after `hex`",
                "expected `:`",
            ));
        }
        self.at += 1;
        let mut bytes = Vec::new();
        // Found once per line, not once per byte: a long line is read in linear time.
        let mut line_end = self.line_end();
        loop {
            self.skip_spaces();
            let rest = self.rest();
            if let Some(after) = rest.strip_prefix('\\') {
                let trimmed = after.trim_start_matches([' ', '\t', '\r']);
                if trimmed.is_empty() || trimmed.starts_with('\n') {
                    // A continued line: the data goes on after the next line's indent.
                    self.at += 1 + after.len() - trimmed.len();
                    self.skip_line();
                    line_end = self.line_end();
                    continue;
                }
            }
            if self.at >= line_end {
                break;
            }
            let digits = rest
                .get(..2)
                .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()));
            let Some(byte) = digits.and_then(|d| u8::from_str_radix(d, 16).ok()) else {
                return Err(self.error(
                    Span::new(
                        self.at,
                        self.at + rest.chars().next().map_or(0, char::len_utf8),
                    ),
                    "invalid `hex:` data",
                    "expected two hexadecimal digits",
                ));
            };
            bytes.push(byte);
            self.at += 2;
            self.skip_spaces();
            if self.peek() == Some(',') {
                self.at += 1;
            }
        }
        Ok(Data::Hex { kind, bytes })
    }

    /// A string in double quotes, with `\\`, `\"`, `\n` and `\r` escaped; it may run over
    /// lines.
    fn quoted(&mut self) -> Result<String, Box<Diagnostic>> {
        let open = self.at;
        self.at += 1;
        let mut text = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error(
                    Span::new(open, open + 1),
                    "quoted string is never closed",
                    "this quote has no closing quote",
                ));
            };
            self.at += c.len_utf8();
            match c {
                '"' => return Ok(text),
                '\\' => {
                    let escaped = match self.peek() {
                        Some('\\') => '\\',
                        Some('"') => '"',
                        Some('n') => '\n',
                        Some('r') => '\r',
                        _ => {
                            return Err(self.error(
                                Span::new(
                                    self.at - 1,
                                    self.at + self.peek().map_or(0, char::len_utf8),
                                ),
                                "unknown escape in a quoted string",
                                "expected `\\\\` or `\\\"`",
                            ));
                        }
                    };
                    self.at += 1;
                    text.push(escaped);
                }
                '\r' if self.peek() == Some('\n') => {}
                c => text.push(c),
            }
        }
    }
}

fn strip_prefix_ignore_case<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> Result<Vec<Key>, Box<Diagnostic>> {
        Parser::new(&SourceFile::new("t.reg", text)).keys()
    }

    fn error_at(text: &str) -> (String, (usize, usize)) {
        match keys(text) {
            Ok(keys) => panic!("expected an error, got {keys:?}"),
            Err(d) => (d.message.clone(), d.line_col()),
        }
    }

    const HEADER: &str = "Windows Registry Editor Version 5.00\r\n\r\n";
    const UNINSTALL: &str =
        "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall";

    #[test]
    fn values_of_every_form_are_read() -> Result<(), Box<Diagnostic>> {
        let text = format!(
            "{HEADER}[{UNINSTALL}\\{{90160000-0011-0000-0000-0000000FF1CE}}]\r\n\
             @=\"\"\r\n\
             \"DisplayName\"=\"Microsoft Office \\\"Pro\\\" C:\\\\\"\r\n\
             \"SystemComponent\"=dword:00000001\r\n\
             \"Publisher\"=hex(2):4d,00,53,00,\\\r\n  00,00\r\n\
             \"Gone\"=-\r\n\
             \"Blob\"=hex:01,02\r\n\
             \"Flag\"=hex(4):01,00,00,00\r\n"
        );
        let keys = keys(&text)?;
        let [key] = keys.as_slice() else {
            panic!("{keys:?}")
        };
        assert_eq!(key.name(), "{90160000-0011-0000-0000-0000000FF1CE}");
        assert!(key.is_uninstall_entry());
        assert_eq!(
            key.text("displayname").as_deref(),
            Some("Microsoft Office \"Pro\" C:\\")
        );
        assert_eq!(key.number("SystemComponent"), Some(1));
        assert_eq!(key.text("Publisher").as_deref(), Some("MS"));
        assert_eq!(key.value("Gone"), Some(&Data::Deleted));
        assert_eq!(key.number("Flag"), Some(1));
        assert_eq!(
            key.value("Blob"),
            Some(&Data::Hex {
                kind: REG_BINARY,
                bytes: vec![1, 2]
            })
        );
        Ok(())
    }

    #[test]
    fn an_uninstall_entry_becomes_an_installer_row() {
        let text = format!(
            "{HEADER}[{UNINSTALL}]\n@=\"\"\n\n\
             [{UNINSTALL}\\KB2079403]\n\
             \"DisplayName\"=\"Security Update for Windows XP (KB2079403)\"\n\
             \"ParentKeyName\"=\"OperatingSystem\"\n\
             \"ReleaseType\"=\"Security Update\"\n\
             \"SystemComponent\"=dword:00000000\n\n\
             [{UNINSTALL}\\NoName]\n\"Publisher\"=\"Acme\"\n\n\
             [{UNINSTALL}\\KB2079403\\Nested]\n\"DisplayName\"=\"Not an entry\"\n"
        );
        let rows = parse(&SourceFile::new("t.reg", text)).unwrap_or_default();
        let [row] = rows.as_slice() else {
            panic!("{rows:?}")
        };
        assert_eq!(row.kind, EvidenceKind::Installer);
        assert_eq!(&*row.name, "Security Update for Windows XP (KB2079403)");
        assert_eq!(
            row.details,
            [
                (EvidenceField::Parent, Arc::from("OperatingSystem")),
                (EvidenceField::ReleaseType, Arc::from("Security Update")),
            ]
        );
    }

    #[test]
    fn guids_are_product_codes() {
        assert!(is_guid("{50F91F80-D397-437C-B0C8-62128DE3B55E}"));
        assert!(!is_guid("{50F91F80-D397-437C-B0C8-62128DE3B55}"));
        assert!(!is_guid("50F91F80-D397-437C-B0C8-62128DE3B55E"));
        assert!(!is_guid("{50F91F80-D397-437C-B0C8-62128DE3B55G}"));
        assert!(!is_guid("KB2079403"));
    }

    #[test]
    fn malformed_exports_are_located() {
        assert_eq!(
            error_at("REGEDIT5\n"),
            ("this is not a registry export".to_owned(), (1, 1))
        );
        assert_eq!(
            error_at(&format!("{HEADER}[HKEY_CURRENT_USER\\X\n")),
            ("key line is not closed".to_owned(), (3, 1))
        );
        assert_eq!(
            error_at(&format!("{HEADER}\"A\"=\"b\"\n")),
            ("a value before the first key".to_owned(), (3, 1))
        );
        assert_eq!(
            error_at(&format!("{HEADER}[K]\n\"A\"=\"b\n")),
            ("quoted string is never closed".to_owned(), (4, 5))
        );
        assert_eq!(
            error_at(&format!("{HEADER}[K]\n\"A\"=dword:xyz\n")),
            ("invalid `dword:` data".to_owned(), (4, 11))
        );
        assert_eq!(
            error_at(&format!("{HEADER}[K]\n\"A\"=hex(2):4d,0g\n")),
            ("invalid `hex:` data".to_owned(), (4, 15))
        );
        assert_eq!(
            error_at(&format!("{HEADER}[K]\n\"A\"=\"b\" x\n")),
            ("unexpected text after the value".to_owned(), (4, 9))
        );
        assert_eq!(
            error_at(&format!("{HEADER}[K]\n\"A\"=\"\\q\"\n")),
            ("unknown escape in a quoted string".to_owned(), (4, 6))
        );
        assert_eq!(
            error_at(&format!("{HEADER}[K]\n\"A\"=word:1\n")),
            ("this value's data has no known form".to_owned(), (4, 5))
        );
        assert_eq!(
            error_at(&format!("{HEADER}[K]\nDisplayName=x\n")),
            (
                "this line is not a registry key or value".to_owned(),
                (4, 1)
            )
        );
    }

    #[test]
    fn deleted_keys_and_comments_are_skipped() -> Result<(), Box<Diagnostic>> {
        let keys = keys(&format!("{HEADER}; comment\n[-K]\n\"A\"=\"b\"\n[L]\n"))?;
        assert_eq!(
            keys,
            [Key {
                path: "L".to_owned(),
                values: Vec::new()
            }]
        );
        Ok(())
    }
}
