//! The diagnostic codes of estate import and of reading input files. The compiler's codes live in
//! `tally_compiler::diagnostics::codes`; codes are never reused, and each, of either registry,
//! has a page in `docs/diagnostics.md`.

use tally_compiler::diagnostics::Code;

/// An estate file is missing or unreadable.
pub const ESTATE_FILE: Code = Code("T0201");
/// A CSV file lacks a required column or has an unknown one.
pub const ESTATE_COLUMNS: Code = Code("T0202");
/// A CSV or YAML field has a value of the wrong form.
pub const ESTATE_VALUE: Code = Code("T0203");
/// Two records in an estate share an id.
pub const ESTATE_DUPLICATE_ID: Code = Code("T0204");
/// An estate record refers to a device, user, license, SKU, metric or rights that does not exist.
pub const ESTATE_UNKNOWN_REFERENCE: Code = Code("T0205");
/// An estate file is not well-formed CSV or YAML.
pub const ESTATE_SYNTAX: Code = Code("T0206");
/// Values add up to more than a decimal holds.
pub const ESTATE_TOO_LARGE: Code = Code("T0207");
/// An estate or rule file was refused: a link out of its folder, a special file, or too large.
pub const INPUT_REFUSED: Code = Code("T0208");
/// A native inventory file (`.reg`, `.wmi`, a package list, a SWID tag) is not in the form
/// its format has.
pub const INVENTORY_MALFORMED: Code = Code("T0209");
/// A native inventory file is missing, or is not text in an encoding Tally reads.
pub const INVENTORY_UNREADABLE: Code = Code("T0210");
/// A rule pack cannot be read at a git revision: no repository, no such revision or folder, or
/// a file that is not UTF-8 text.
pub const REVISION_UNREADABLE: Code = Code("T0211");

/// Every estate code with its one-line summary, in code order.
pub const ALL: &[(Code, &str)] = &[
    (ESTATE_FILE, "an estate file is missing or unreadable"),
    (
        ESTATE_COLUMNS,
        "a CSV file lacks a required column or has an unknown one",
    ),
    (ESTATE_VALUE, "a field has a value of the wrong form"),
    (ESTATE_DUPLICATE_ID, "two estate records share an id"),
    (
        ESTATE_UNKNOWN_REFERENCE,
        "an estate record refers to something that does not exist",
    ),
    (
        ESTATE_SYNTAX,
        "an estate file is not well-formed CSV or YAML",
    ),
    (ESTATE_TOO_LARGE, "a value is too large to compute with"),
    (
        INPUT_REFUSED,
        "an input file was refused: a link out of its folder, a special file, or too large",
    ),
    (INVENTORY_MALFORMED, "an inventory file is malformed"),
    (
        INVENTORY_UNREADABLE,
        "an inventory file is missing or unreadable",
    ),
    (
        REVISION_UNREADABLE,
        "a rule pack cannot be read at a git revision",
    ),
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use tally_compiler::diagnostics::codes as compiler;

    /// The one registry test, over the compiler's codes and the runtime's.
    #[test]
    fn every_code_is_unique_and_has_a_documentation_page() {
        let docs = include_str!("../../../docs/diagnostics.md");
        let all: Vec<_> = compiler::ALL.iter().chain(super::ALL).collect();
        let unique: BTreeSet<_> = all.iter().map(|(code, _)| code).collect();
        assert_eq!(unique.len(), all.len(), "a code is registered twice");
        for (code, _) in all {
            assert!(
                docs.contains(&format!("## {code}:")),
                "docs/diagnostics.md has no section for {code}"
            );
        }
    }
}
