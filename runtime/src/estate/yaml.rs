//! Reading YAML: the only module that uses `serde_yaml_ng`. It deserialises a file into raw
//! records whose fields are scalars kept as written, turns a YAML or shape error into a
//! diagnostic, and hands out [`Node`]s that locate each scalar in the text (through the
//! [`Locator`]) so later checks can underline the exact value they complain about. It reads
//! `licenses.yaml` ([`Document`]) and, through [`read`], a pack's `tally.yaml`
//! ([`crate::manifest`]); a [`Dialect`] says what each file holds, for the help texts.
//!
//! Numbers are never read through floating point: every scalar is read as its text, in block
//! style, flow style or JSON alike, so `unit_price: 1234.10` is `1234.10` exactly and
//! `unit_price: 1e2` is `1e2` (which the decimal check refuses).

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Visitor};
use tally_compiler::diagnostics::{Code, Diagnostic, SourceFile, Span};

use super::codes;
use super::locate::{Locator, MAX_NESTING, Seg};
use super::values::{Field, backticked, did_you_mean_prefix};

/// A scalar as written: its text in the file (inside the quotes, escapes resolved, if quoted).
/// A number is never read as a number here, so `12345678901234567.89` and `1e2` stay those
/// characters and the field checks decide what they mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scalar {
    text: String,
}

impl Scalar {
    /// The scalar as written.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // `serde_yaml_ng` hands `deserialize_str` a plain scalar's own text without resolving
        // it to a number or boolean; a list or mapping is a type error that names what it found.
        deserializer.deserialize_str(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl Visitor<'_> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a single value such as a text or a number")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Scalar, E> {
        Ok(Scalar {
            text: value.to_owned(),
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a mapping with a `licenses` list")]
struct RawFile {
    /// `None` when the key is missing, `Some(None)` for `licenses:` with no value.
    #[serde(default, deserialize_with = "present")]
    licenses: Option<Option<Vec<RawLicense>>>,
}

/// A field that is there, whatever its value (an empty value included).
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: de::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// A license record as written.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a license record (a mapping of fields)"
)]
pub(super) struct RawLicense {
    pub id: Option<Scalar>,
    pub name: Option<Scalar>,
    pub sku: Option<Scalar>,
    pub metric: Option<Scalar>,
    pub rights: Option<Scalar>,
    pub priority: Option<Scalar>,
    pub limit: Option<Scalar>,
    pub status: Option<Scalar>,
    pub extra_entitlements: Option<Scalar>,
    pub unit_price: Option<Scalar>,
    pub currency: Option<Scalar>,
    pub expiry: Option<Scalar>,
    pub duration: Option<Scalar>,
    pub start: Option<Scalar>,
    pub maintenance_end: Option<Scalar>,
    pub restrictions: Option<RawRestrictions>,
    pub allocations: Option<Vec<RawAllocation>>,
    pub allocations_consume: Option<Scalar>,
    pub assignments: Option<Vec<RawAssignment>>,
    pub exemptions: Option<Vec<RawExemption>>,
    /// An empty item (`[ ~ ]`) is `None`, as an empty field is.
    pub exempt_roles: Option<Vec<Option<Scalar>>>,
    pub second_use: Option<RawSecondUse>,
    pub virtualization: Option<RawVirtualization>,
    pub metric_value: Option<Scalar>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a group assignment (a mapping of fields)"
)]
pub(super) struct RawAssignment {
    pub group: Option<Scalar>,
    pub quantity: Option<Scalar>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an exemption (a mapping of fields)")]
pub(super) struct RawExemption {
    pub device: Option<Scalar>,
    pub user: Option<Scalar>,
    pub reason: Option<Scalar>,
    pub custom: Option<Scalar>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "second use (a mapping of fields)")]
pub(super) struct RawSecondUse {
    pub work_laptop: Option<Scalar>,
    pub home: Option<Scalar>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "restrictions (a mapping of fields)")]
pub(super) struct RawRestrictions {
    pub os_type: Option<Scalar>,
    /// An empty item (`[ ~ ]`) is `None`, as an empty field is.
    pub groups: Option<Vec<Option<Scalar>>>,
    pub min_cores: Option<Scalar>,
    pub max_cores: Option<Scalar>,
    pub min_processors: Option<Scalar>,
    pub max_processors: Option<Scalar>,
    pub min_sockets: Option<Scalar>,
    pub max_sockets: Option<Scalar>,
    pub requires_installed: Option<Scalar>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "virtualization (a mapping of fields)"
)]
pub(super) struct RawVirtualization {
    pub count: Option<Scalar>,
    pub capacity: Option<Scalar>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an allocation (a mapping of fields)")]
pub(super) struct RawAllocation {
    pub device: Option<Scalar>,
    pub user: Option<Scalar>,
    #[serde(rename = "type")]
    pub kind: Option<Scalar>,
}

/// What a YAML file is, for the diagnostics about it: the code of its errors and help texts
/// that say what the file holds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dialect {
    /// The code of every error about the file.
    pub code: Code,
    /// Help for a file nested too deeply: how many levels the file needs.
    pub nesting_help: &'static str,
    /// Help for a value of the wrong kind: what the file's values are.
    pub shape_help: &'static str,
    /// Help for a second YAML document in the file.
    pub single_document_help: &'static str,
}

/// `licenses.yaml`, for [`read`].
const LICENSES: Dialect = Dialect {
    code: codes::ESTATE_SYNTAX,
    nesting_help: "`licenses.yaml` needs five levels (`licenses`, a record, `restrictions`, `groups`, a group): close the `[` and `{` left open and check the indentation above this line",
    shape_help: "`licenses.yaml` holds a `licenses` list of records; each record is a mapping of fields such as `id: L-1`, `allocations` is a list, and `restrictions` and `virtualization` are mappings",
    single_document_help: "`licenses.yaml` holds a single document: remove the separator and put all records in one `licenses` list",
};

/// Reads a YAML file into `T` (`None` for a file with no document, or only comments), with
/// the locator of its nodes. A YAML error, a value of the wrong shape, an unknown key or a
/// file nested too deeply is one diagnostic with the dialect's code.
pub(crate) fn read<T: DeserializeOwned>(
    source: &Arc<SourceFile>,
    dialect: &Dialect,
) -> Result<(Option<T>, Locator), Box<Diagnostic>> {
    let text = source.text.as_str();
    // Built first: it measures the nesting, which the YAML reader is slow on.
    let locator = Locator::new(text);
    if let Some(span) = locator.too_deep() {
        return Err(Box::new(
            Diagnostic::error(
                dialect.code,
                source,
                Some(span),
                format!("yaml nested more than {MAX_NESTING} levels deep"),
            )
            .with_label("nested too deeply")
            .with_help(dialect.nesting_help),
        ));
    }
    let base = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let body = text.get(base..).unwrap_or_default();
    let value = serde_yaml_ng::from_str::<Option<T>>(body)
        .map_err(|err| Box::new(yaml_error(source, base, &err, &locator, dialect)))?;
    Ok((value, locator))
}

/// A parsed `licenses.yaml`.
#[derive(Debug)]
pub(super) struct Document {
    locator: Locator,
    pub licenses: Vec<RawLicense>,
}

impl Document {
    /// Parses the file; a YAML error, a record of the wrong shape or a file nested too deeply
    /// is one diagnostic.
    pub fn parse(source: &Arc<SourceFile>) -> Result<Self, Box<Diagnostic>> {
        let (file, locator) = read::<RawFile>(source, &LICENSES)?;
        let missing = |label: &str| {
            Box::new(
                Diagnostic::error(
                    codes::ESTATE_SYNTAX,
                    source,
                    locator.first_token(),
                    "missing the top-level `licenses` list",
                )
                .with_label(label)
                .with_help(
                    "start the file with `licenses:` followed by the license records, or write `licenses: []` if there are none",
                ),
            )
        };
        let licenses = match file {
            None if locator.first_token().is_none() => return Err(missing("empty file")),
            None => return Err(missing("no license list in this document")),
            Some(RawFile { licenses: None }) => {
                return Err(missing("a mapping without `licenses`"));
            }
            Some(RawFile {
                licenses: Some(licenses),
            }) => licenses.unwrap_or_default(),
        };
        Ok(Self { locator, licenses })
    }

    /// The node of the `index`th license record.
    pub fn license(&self, index: usize) -> Node<'_> {
        Node {
            locator: &self.locator,
            path: vec![Seg::Key("licenses".to_owned()), Seg::Index(index)],
        }
    }
}

/// A place in a YAML file, for locating what is written there.
#[derive(Debug, Clone)]
pub(crate) struct Node<'d> {
    locator: &'d Locator,
    path: Vec<Seg>,
}

impl<'d> Node<'d> {
    /// The top of the file.
    pub fn root(locator: &'d Locator) -> Self {
        Self {
            locator,
            path: Vec::new(),
        }
    }

    pub fn child(&self, key: &str) -> Self {
        self.step(Seg::Key(key.to_owned()))
    }

    pub fn item(&self, index: usize) -> Self {
        self.step(Seg::Index(index))
    }

    fn step(&self, seg: Seg) -> Self {
        let mut path = self.path.clone();
        path.push(seg);
        Self {
            locator: self.locator,
            path,
        }
    }

    /// Where this node is written (a record's first line, a field's value), or the nearest
    /// place that could be found.
    pub fn span(&self) -> Span {
        self.locator
            .nearest(&self.path)
            .0
            .unwrap_or(Span::new(0, 0))
    }

    /// Where this node's key is written, or else its value or nearest ancestor.
    pub fn key_span(&self) -> Span {
        self.locator.key(&self.path).unwrap_or_else(|| self.span())
    }

    /// The field `key` of this mapping, if it is given.
    pub(super) fn field(&self, key: &str, scalar: Option<&Scalar>) -> Option<Field<'static>> {
        scalar.map(|scalar| self.child(key).scalar(scalar))
    }

    /// This node's scalar as a located field.
    pub(super) fn scalar(&self, scalar: &Scalar) -> Field<'static> {
        Field {
            text: scalar.text.trim().to_owned().into(),
            span: self.span(),
        }
    }
}

/// A diagnostic for a YAML syntax error or a value of the wrong shape. The body of the file
/// starts at byte `base` of the source (after a byte-order mark).
fn yaml_error(
    source: &Arc<SourceFile>,
    base: usize,
    err: &serde_yaml_ng::Error,
    locator: &Locator,
    dialect: &Dialect,
) -> Diagnostic {
    let mut span = err
        .location()
        .map(|l| token_span(&source.text, base + l.index()));
    let full = err.to_string();
    // The location is shown by the span; the path prefix (`licenses[0].id: `) is kept apart.
    let without_location = [" at line ", " at position "]
        .iter()
        .filter_map(|marker| full.find(marker))
        .min()
        .and_then(|end| full.get(..end))
        .unwrap_or(&full);
    let (path, message) = match without_location.split_once(": ") {
        Some((path, rest)) if !path.is_empty() && !path.contains(char::is_whitespace) => {
            (Some(path), rest)
        }
        _ => (None, without_location),
    };
    let at = path.map(|p| format!(" at `{p}`")).unwrap_or_default();
    let (message, label, help) = if let Some(rest) = message.strip_prefix("unknown field ") {
        let names = backticked_names(rest);
        let (field, allowed) = names.split_first().unwrap_or((&"", &[]));
        (
            format!("unknown field `{field}`{at}"),
            "unknown field".to_owned(),
            format!(
                "{}the fields allowed here are {}",
                did_you_mean_prefix(field, allowed.iter().copied()),
                backticked(allowed.iter().copied())
            ),
        )
    } else if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (found, expected) = rest
            .split_once(", expected ")
            .unwrap_or((rest, "something else"));
        (
            format!(
                "expected {}{at}, found {}",
                plain_words(expected),
                describe_found(found)
            ),
            "wrong kind of value".to_owned(),
            dialect.shape_help.to_owned(),
        )
    } else if let Some(rest) = message.strip_prefix("duplicate field ") {
        let field = backticked_names(rest).first().copied().unwrap_or_default();
        (
            format!("field `{field}` is given twice{at}"),
            "in this record".to_owned(),
            format!("remove one of the two `{field}` fields"),
        )
    } else if message.contains("more than one document") {
        span = span.or(locator.second_document());
        (
            "more than one yaml document".to_owned(),
            "a second document starts here".to_owned(),
            dialect.single_document_help.to_owned(),
        )
    } else {
        (
            // The YAML reader quotes characters as `'-'`; the estate format's style is `-`.
            format!("invalid yaml: {}", message.replace('\'', "`")),
            "the yaml reader stopped here".to_owned(),
            "check the indentation and quoting near here: the items of a list start with `- ` at the same indentation, and a value containing `: ` or ` #` must be quoted".to_owned(),
        )
    };
    Diagnostic::error(dialect.code, source, span, message)
        .with_label(label)
        .with_help(help)
}

/// The names between backticks in a message: `` `a`, expected `b` `` gives `a`, `b`.
fn backticked_names(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// What serde says it expected, in the words of the estate format.
fn plain_words(text: &str) -> String {
    // Word by word, so that this file's own "a mapping of fields" stays as it is.
    text.split(' ')
        .map(|word| match word {
            "sequence" => "list",
            "map" => "mapping",
            word => word,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What serde says it found, in the words of the estate format.
fn describe_found(found: &str) -> String {
    let quoted = |prefix: &str| {
        found
            .strip_prefix(prefix)
            .map(|v| v.trim_matches(|c| c == '"' || c == '`'))
    };
    if let Some(text) = quoted("string ") {
        format!("the text `{text}`")
    } else if let Some(number) = quoted("integer ").or_else(|| quoted("floating point ")) {
        format!("the number `{number}`")
    } else if let Some(value) = quoted("boolean ") {
        format!("`{value}`")
    } else {
        match found {
            "sequence" => "a list".to_owned(),
            "map" => "a mapping".to_owned(),
            "unit value" => "an empty value".to_owned(),
            other => other.to_owned(),
        }
    }
}

/// The span of the token at byte `at`: up to whitespace, `,`, `]`, `}` or a `: `.
fn token_span(text: &str, at: usize) -> Span {
    let rest = text.get(at..).unwrap_or_default();
    let mut end = 0;
    for (i, c) in rest.char_indices() {
        let key_colon = c == ':'
            && rest
                .get(i + 1..)
                .is_none_or(|r| r.is_empty() || r.starts_with(char::is_whitespace));
        if c.is_whitespace() || matches!(c, ',' | ']' | '}') || key_colon {
            break;
        }
        end = i + c.len_utf8();
    }
    Span::new(at, at + end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Document, Box<Diagnostic>> {
        Document::parse(&SourceFile::new("licenses.yaml", text))
    }

    #[test]
    fn numbers_are_read_as_written() -> Result<(), Box<Diagnostic>> {
        let doc = parse(
            "licenses:\n  - id: 0042\n    unit_price: 1234567890.123456789\n    extra_entitlements: \"2.50\"\n",
        )?;
        let node = doc.license(0);
        let license = doc.licenses.first();
        let field = |key, pick: fn(&RawLicense) -> Option<&Scalar>| {
            node.field(key, license.and_then(pick))
                .map(|f| f.text.into_owned())
        };
        assert_eq!(field("id", |l| l.id.as_ref()).as_deref(), Some("0042"));
        assert_eq!(
            field("unit_price", |l| l.unit_price.as_ref()).as_deref(),
            Some("1234567890.123456789")
        );
        assert_eq!(
            field("extra_entitlements", |l| l.extra_entitlements.as_ref()).as_deref(),
            Some("2.50")
        );
        Ok(())
    }

    /// The text of one field of the first license.
    fn first(
        doc: &Document,
        key: &str,
        pick: fn(&RawLicense) -> Option<&Scalar>,
    ) -> Option<String> {
        let license = doc.licenses.first();
        doc.license(0)
            .field(key, license.and_then(pick))
            .map(|f| f.text.into_owned())
    }

    #[test]
    fn numbers_in_flow_style_and_json_are_read_as_written() -> Result<(), Box<Diagnostic>> {
        for text in [
            "{\"licenses\":[{\"id\":4711,\"unit_price\":12345678901234567.89,\"priority\":4294967295}]}",
            "licenses: [ { id: 4711, unit_price: 12345678901234567.89, priority: 4294967295 } ]\n",
            "licenses:\n  - { id: 4711, unit_price: 12345678901234567.89, priority: 4294967295 }\n",
            "licenses:\n  - id:\n      4711\n    unit_price:\n      12345678901234567.89\n    priority: 4294967295\n",
        ] {
            let doc = parse(text)?;
            assert_eq!(
                first(&doc, "id", |l| l.id.as_ref()).as_deref(),
                Some("4711"),
                "{text}"
            );
            assert_eq!(
                first(&doc, "unit_price", |l| l.unit_price.as_ref()).as_deref(),
                Some("12345678901234567.89"),
                "{text}"
            );
            assert_eq!(
                first(&doc, "priority", |l| l.priority.as_ref()).as_deref(),
                Some("4294967295"),
                "{text}"
            );
        }
        Ok(())
    }

    #[test]
    fn yaml_number_and_boolean_forms_stay_text() -> Result<(), Box<Diagnostic>> {
        let doc = parse(
            "licenses:\n  - id: 1e2\n    name: yes\n    sku: 0x1F\n    metric: .inf\n    rights: +5\n    status: ~\n    limit: \"\"\n    restrictions: { groups: [ ~, \"a=b\" ] }\n",
        )?;
        assert_eq!(first(&doc, "id", |l| l.id.as_ref()).as_deref(), Some("1e2"));
        assert_eq!(
            first(&doc, "name", |l| l.name.as_ref()).as_deref(),
            Some("yes")
        );
        assert_eq!(
            first(&doc, "sku", |l| l.sku.as_ref()).as_deref(),
            Some("0x1F")
        );
        assert_eq!(
            first(&doc, "metric", |l| l.metric.as_ref()).as_deref(),
            Some(".inf")
        );
        assert_eq!(
            first(&doc, "rights", |l| l.rights.as_ref()).as_deref(),
            Some("+5")
        );
        // `~` is no value, as before; an empty quoted text is an empty field.
        assert_eq!(first(&doc, "status", |l| l.status.as_ref()), None);
        assert_eq!(
            first(&doc, "limit", |l| l.limit.as_ref()).as_deref(),
            Some("")
        );
        let groups = doc
            .licenses
            .first()
            .and_then(|l| l.restrictions.as_ref())
            .and_then(|r| r.groups.clone());
        assert_eq!(
            groups,
            Some(vec![
                None,
                Some(Scalar {
                    text: "a=b".to_owned()
                })
            ])
        );
        Ok(())
    }

    #[test]
    fn errors_are_rephrased() {
        let message = |text| parse(text).err().map(|d| (d.message.clone(), d.line_col()));
        assert_eq!(
            message("licenses:\n  - id: A\n    skuu: x\n"),
            Some(("unknown field `skuu` at `licenses[0]`".to_owned(), (3, 5)))
        );
        assert_eq!(
            message("licenses:\n  - id: A\n    allocations: none\n"),
            Some((
                "expected a list at `licenses[0].allocations`, found the text `none`".to_owned(),
                (3, 18)
            ))
        );
        assert_eq!(
            message("licenses:\n  - id: A\n    restrictions: desktop\n"),
            Some((
                "expected restrictions (a mapping of fields) at `licenses[0].restrictions`, found the text `desktop`".to_owned(),
                (3, 19)
            ))
        );
        assert_eq!(
            message("licenses:\n  - id: A\n    virtualization: host\n"),
            Some((
                "expected virtualization (a mapping of fields) at `licenses[0].virtualization`, found the text `host`".to_owned(),
                (3, 21)
            ))
        );
        assert_eq!(parse("licenses:\n").map(|d| d.licenses.len()).ok(), Some(0));
        assert_eq!(
            parse("licenses: []\n").map(|d| d.licenses.len()).ok(),
            Some(0)
        );
    }

    #[test]
    fn errors_about_the_whole_file_are_located() {
        let found = |text| {
            parse(text)
                .err()
                .map(|d| (d.message.clone(), d.label.clone(), d.line_col()))
        };
        let at = |message: &str, label: &str, line, column| {
            Some((message.to_owned(), label.to_owned(), (line, column)))
        };
        let missing = "missing the top-level `licenses` list";
        assert_eq!(found(""), at(missing, "empty file", 1, 1));
        assert_eq!(found("# nothing yet\n\n"), at(missing, "empty file", 1, 1));
        assert_eq!(
            found("# none\n---\nnull\n"),
            at(missing, "no license list in this document", 3, 1)
        );
        assert_eq!(
            found("# none\n{}\n"),
            at(missing, "a mapping without `licenses`", 2, 1)
        );
        let shape =
            |found: &str| format!("expected a mapping with a `licenses` list, found {found}");
        assert_eq!(
            found("# a list\n- id: A\n"),
            at(&shape("a list"), "wrong kind of value", 2, 1)
        );
        assert_eq!(
            found("\n  L-1\n"),
            at(&shape("the text `L-1`"), "wrong kind of value", 2, 3)
        );
        assert_eq!(
            found("# c\n[ { id: A } ]\n"),
            at(&shape("a list"), "wrong kind of value", 2, 1)
        );
        let second = "a second document starts here";
        assert_eq!(
            found("licenses:\n  - id: A\n---\nlicenses: []\n"),
            at("more than one yaml document", second, 3, 1)
        );
        assert_eq!(
            found("---\nlicenses: []\n...\nlicenses: []\n"),
            at("more than one yaml document", second, 4, 1)
        );
    }

    #[test]
    fn deep_nesting_is_refused_before_the_yaml_reader_sees_it() {
        let found = |text: &str| {
            parse(text)
                .err()
                .map(|d| (d.code, d.message.clone(), d.line_col()))
        };
        let deep = "yaml nested more than 16 levels deep".to_owned();
        // The YAML reader would take seconds on these; the locator stops at level 17.
        let brackets = format!("licenses: {}{}\n", "[".repeat(40_000), "]".repeat(40_000));
        assert_eq!(
            found(&brackets),
            Some((codes::ESTATE_SYNTAX, deep.clone(), (1, 26)))
        );
        let braces = format!(
            "licenses: {}1{}\n",
            "{a: ".repeat(20_000),
            "}".repeat(20_000)
        );
        assert_eq!(
            found(&braces),
            Some((codes::ESTATE_SYNTAX, deep.clone(), (1, 71)))
        );
        let dashes = format!("licenses:\n  {}x\n", "- ".repeat(40_000));
        assert_eq!(found(&dashes), Some((codes::ESTATE_SYNTAX, deep, (2, 33))));
        // Five levels, as a record with groups has, are fine.
        let groups = "licenses:\n  - id: A\n    restrictions: { groups: [ [ x ] ] }\n";
        assert!(
            matches!(found(groups), Some((_, m, _)) if m.starts_with("expected a single value"))
        );
    }
}
