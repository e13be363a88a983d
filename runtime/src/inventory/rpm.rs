//! RPM package listings, as GLPI Agent's RPM inventory writes them:
//!
//! ```text
//! rpm -qa --queryformat '%{NAME}\t%{ARCH}\t%{VERSION}-%{RELEASE}\t%{INSTALLTIME}\t%{SIZE}\t%{VENDOR}\t%{SUMMARY}\t%{GROUP}\n'
//! ```
//!
//! Each line is one `package` row: `name`, `architecture` and `version` (with its release)
//! from the first three fields, and `publisher` from the vendor, the sixth, unless rpm wrote
//! `(none)`. The other fields are left out.

use std::sync::Arc;

use tally_compiler::diagnostics::{Diagnostic, SourceFile};

use super::package_lines;
use crate::estate::{Evidence, EvidenceField, EvidenceKind};

const COLUMNS: [&str; 3] = ["name", "architecture", "version-release"];
const COMMAND: &str = "rpm -qa --queryformat '%{NAME}\\t%{ARCH}\\t%{VERSION}-%{RELEASE}\\t%{INSTALLTIME}\\t%{SIZE}\\t%{VENDOR}\\t%{SUMMARY}\\t%{GROUP}\\n'";

/// Reads an `rpm -qa` listing into one `package` row per package.
pub fn parse(source: &Arc<SourceFile>) -> Result<Vec<Evidence>, Vec<Diagnostic>> {
    let lines = package_lines(source, &COLUMNS, COMMAND)?;
    Ok(lines
        .into_iter()
        .map(|(_, fields)| {
            let field = |i: usize| fields.get(i).copied().unwrap_or_default();
            let vendor = field(5);
            Evidence::from_fields(
                EvidenceKind::Package,
                [
                    (EvidenceField::Name, field(0)),
                    (EvidenceField::Architecture, field(1)),
                    (EvidenceField::Version, field(2)),
                    (
                        EvidenceField::Publisher,
                        if vendor == "(none)" { "" } else { vendor },
                    ),
                ],
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_are_rows_with_their_vendor() {
        let text = "gjs\tx86_64\t1.32.0-1.mga2\t1332868101\t176167\tMageia.Org\tJavaScript bindings\tUnspecified\n\
                    local\tnoarch\t1.0-1\t1332868101\t1\t(none)\tA local build\tUnspecified\n";
        let rows = parse(&SourceFile::new("rpm", text)).unwrap_or_default();
        assert_eq!(
            crate::inventory::package_fields(&rows),
            [
                ("gjs", "1.32.0-1.mga2", "x86_64", "Mageia.Org"),
                ("local", "1.0-1", "noarch", ""),
            ]
        );
    }
}
