//! Debian package listings, as GLPI Agent's Debian inventory writes them:
//!
//! ```text
//! dpkg-query --show --showformat='${Package}\t${Architecture}\t${Version}\t${Installed-Size}\t${Section}\t${Status}\t${Maintainer}\n'
//! ```
//!
//! Each line is one `package` row: `name`, `architecture` and `version` from the first three
//! fields, and `publisher` from the optional seventh, the maintainer without their e-mail
//! address (the agent's own listing stops after the status, and then the publisher is empty).
//! A package whose status is given and does not end in ` installed` (such as
//! `deinstall ok config-files`) is not installed and left out.

use std::sync::Arc;

use tally_compiler::diagnostics::{Diagnostic, SourceFile};

use super::package_lines;
use crate::estate::{Evidence, EvidenceField, EvidenceKind};

const COLUMNS: [&str; 3] = ["package", "architecture", "version"];
const COMMAND: &str = "dpkg-query --show --showformat='${Package}\\t${Architecture}\\t${Version}\\t${Installed-Size}\\t${Section}\\t${Status}\\t${Maintainer}\\n'";

/// Reads a `dpkg-query` listing into one `package` row per installed package.
pub fn parse(source: &Arc<SourceFile>) -> Result<Vec<Evidence>, Vec<Diagnostic>> {
    let lines = package_lines(source, &COLUMNS, COMMAND)?;
    Ok(lines
        .into_iter()
        .filter(|(_, fields)| {
            fields
                .get(5)
                .is_none_or(|status| status.trim().is_empty() || status.ends_with(" installed"))
        })
        .map(|(_, fields)| {
            let field = |i: usize| fields.get(i).copied().unwrap_or_default();
            Evidence::from_fields(
                EvidenceKind::Package,
                [
                    (EvidenceField::Name, field(0)),
                    (EvidenceField::Architecture, field(1)),
                    (EvidenceField::Version, field(2)),
                    (EvidenceField::Publisher, without_address(field(6))),
                ],
            )
        })
        .collect())
}

/// `Debian Perl Group <pkg-perl@lists.debian.org>` as `Debian Perl Group`.
fn without_address(maintainer: &str) -> &str {
    match maintainer.find('<') {
        Some(at) => maintainer.get(..at).unwrap_or(maintainer),
        None => maintainer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_packages_are_rows() {
        let text = "adduser\tall\t3.112+nmu2\t1228\tadmin\n \
                    a description line\n\
                    vlc-nox\tamd64\t2.2.2-5ubuntu0.16.04.4\t9270\tvideo\tdeinstall ok config-files\n\
                    jcagent\tamd64\t0.24.2\t\tbase\tinstall ok installed\tJumpCloud <support@jumpcloud.com>\n";
        let rows = parse(&SourceFile::new("dpkg", text)).unwrap_or_default();
        assert_eq!(
            crate::inventory::package_fields(&rows),
            [
                ("adduser", "3.112+nmu2", "all", ""),
                ("jcagent", "0.24.2", "amd64", "JumpCloud"),
            ]
        );
    }

    #[test]
    fn a_line_with_too_few_fields_is_located() {
        let errors = parse(&SourceFile::new("dpkg", "adduser\tall\t3.1\nbash 5.1\n"))
            .err()
            .unwrap_or_default();
        let at: Vec<_> = errors.iter().map(Diagnostic::line_col).collect();
        assert_eq!(at, [(2, 1)]);
    }
}
