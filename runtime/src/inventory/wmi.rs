//! WMI dumps in the list form of `wmic`, as
//! `wmic path SoftwareLicensingProduct get /format:list > office-SoftwareLicensingProduct.wmi`
//! writes them (UTF-16 with its byte-order mark, or UTF-8): instances separated by blank
//! lines, one `Property=value` line for each property.
//!
//! The dump does not name its class, so the file does: the class is the part of the file name
//! after its last `-` and before `.wmi` (`office_2016_01-SoftwareLicensingProduct.wmi` holds
//! `SoftwareLicensingProduct`), or the whole name before `.wmi` when it has no `-`.
//!
//! Every property with a value is one `wmi` row (`class`, `property`, `value`); a property
//! without one says nothing and is left out. Instances are not told apart: rules match one
//! property's value, and each instance's properties are rows of their own.

use std::path::Path;
use std::sync::Arc;

use tally_compiler::diagnostics::{Diagnostic, SourceFile, Span};

use super::{lines, malformed};
use crate::estate::{Evidence, EvidenceField, EvidenceKind, codes};

/// Reads a `wmic /format:list` dump into one `wmi` row per property with a value.
pub fn parse(source: &Arc<SourceFile>) -> Result<Vec<Evidence>, Vec<Diagnostic>> {
    let class = class_of(source).map_err(|e| vec![*e])?;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (at, line) in lines(&source.text) {
        if line.trim().is_empty() {
            continue;
        }
        let property = line.split_once('=').map(|(p, v)| (p.trim(), v.trim()));
        match property {
            Some((property, value)) if is_identifier(property) => {
                rows.push(Evidence::from_fields(
                    EvidenceKind::Wmi,
                    [
                        (EvidenceField::Class, class.as_str()),
                        (EvidenceField::Property, property),
                        (EvidenceField::Value, value),
                    ],
                ));
            }
            _ => errors.push(malformed(
                source,
                Span::new(at, at + line.len()),
                "this line is not a WMI property",
                "expected `Property=value`",
                "write the dump with `wmic path CLASS get /format:list`: one `Property=value` line for each property",
            )),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    rows.retain(|r| !r.field(EvidenceField::Value).is_empty());
    Ok(rows)
}

/// The class the file name gives.
fn class_of(source: &Arc<SourceFile>) -> Result<String, Box<Diagnostic>> {
    let path = Path::new(&source.path);
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let class = stem.rsplit('-').next().unwrap_or_default();
    if is_identifier(class) {
        return Ok(class.to_owned());
    }
    Err(Box::new(Diagnostic::error(
        codes::INVENTORY_MALFORMED,
        &SourceFile::new(source.path.clone(), ""),
        None,
        format!("the file name `{stem}` does not name a WMI class"),
    )
    .with_label("no class in the file name")
    .with_help(
        "name the file after the class it holds, as `NAME-CLASS.wmi` such as `office-SoftwareLicensingProduct.wmi`",
    )))
}

/// A WMI class or property name: letters, digits and `_`, not starting with a digit.
fn is_identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_as(path: &str, text: &str) -> Result<Vec<Evidence>, Vec<Diagnostic>> {
        parse(&SourceFile::new(path, text))
    }

    #[test]
    fn every_property_with_a_value_is_a_row() {
        let text = "\r\n\r\nDescription=Office 16, VOLUME_KMSCLIENT channel\r\nIAID=\r\nName=Office 16, Office16ProPlusVL_KMS_Client edition\r\n\r\nName=Second\r\n";
        let rows = parse_as("dumps/office-SoftwareLicensingProduct.wmi", text).unwrap_or_default();
        let found: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.field(EvidenceField::Class),
                    r.field(EvidenceField::Property),
                    r.field(EvidenceField::Value),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                (
                    "SoftwareLicensingProduct",
                    "Description",
                    "Office 16, VOLUME_KMSCLIENT channel"
                ),
                (
                    "SoftwareLicensingProduct",
                    "Name",
                    "Office 16, Office16ProPlusVL_KMS_Client edition"
                ),
                ("SoftwareLicensingProduct", "Name", "Second"),
            ]
        );
        assert!(rows.iter().all(|r| r.name.is_empty()));
    }

    #[test]
    fn a_file_without_a_class_in_its_name_is_refused() {
        let errors = parse_as("dump 1.wmi", "Name=x\n").err().unwrap_or_default();
        assert_eq!(errors.len(), 1);
        let rows = parse_as("Win32_Processor.wmi", "Name=x\n").unwrap_or_default();
        assert_eq!(rows.len(), 1);
    }

    #[test]
    fn a_line_that_is_no_property_is_located() {
        let errors = parse_as("a-Win32_Processor.wmi", "Name=x\nnot a property\n= y\n")
            .err()
            .unwrap_or_default();
        let at: Vec<_> = errors.iter().map(Diagnostic::line_col).collect();
        assert_eq!(at, [(2, 1), (3, 1)]);
    }
}
