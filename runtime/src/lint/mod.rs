//! `tally lint`: rules that find likely mistakes in rule packs that compile — rules that
//! overlap or can never match, applications nothing recognises, metric requirements nothing
//! checks, SKUs that cover nothing, table rows that never apply, downgrade rights with no
//! version to count from. `check` reports what makes a pack wrong; a lint reports what is
//! probably not what its author meant, and can be turned off or silenced where it is meant.
//!
//! Each lint has a stable code (`T0401`…), a name, a default level and a page in
//! `docs/lints.md` (Avoid, Prefer, Rationale). A pack's `tally.yaml` changes the level of each
//! lint for its files (see [`crate::manifest`]); a `// tally:allow(…)` comment silences named
//! lints on the declaration or field it stands above or beside (see [`suppress`]). Lints run
//! on the workspace's own packs; the standard packs only when asked.

mod downgrade;
mod hardware;
pub mod overlap;
pub mod patterns;
mod skus;
mod suppress;
mod tables;
mod unmatchable;
mod unrecognizable;

use std::collections::BTreeSet;

use tally_compiler::Compiled;
use tally_compiler::diagnostics::{self, Code, Diagnostic, Severity};
use tally_compiler::ir::CompiledPack;
use tally_compiler::syntax::ast::{Decl, DeclKind, Modifier};
use tally_compiler::syntax::{ParsedFile, is_rule_file};

use crate::manifest::Manifest;
use crate::recognize::Recognizer;

/// How a lint's findings are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Not reported.
    Off,
    /// Reported; `tally lint` fails only with `--deny warnings`.
    Warning,
    /// Reported; `tally lint` fails (exit code 1).
    Error,
}

impl Level {
    /// Each level's spelling in `tally.yaml`.
    pub const NAMES: &[(&str, Self)] = &[
        ("off", Self::Off),
        ("warning", Self::Warning),
        ("error", Self::Error),
    ];

    pub fn as_str(self) -> &'static str {
        tally_compiler::evidence::spelling(Self::NAMES, self)
    }
}

/// One lint rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lint {
    pub code: Code,
    /// The rule's name, which `tally.yaml` and suppressions accept as well as the code.
    pub name: &'static str,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// The level when no `tally.yaml` sets one.
    pub default: Level,
}

/// The codes of the lints, and of the diagnostics about lint settings: a pack's `tally.yaml`
/// and inline suppressions. Like every code, each has a section in `docs/diagnostics.md`
/// (the lints' sections link to their pages in `docs/lints.md`).
pub mod codes {
    use tally_compiler::diagnostics::Code;

    /// A pack's `tally.yaml` cannot be read or is not valid.
    pub const INVALID_MANIFEST: Code = Code("T0315");
    /// A pack's `tally.yaml` names a language version this `tally` does not read.
    pub const LANGUAGE_VERSION: Code = Code("T0316");
    /// A `tally:allow` comment names no lint.
    pub const UNKNOWN_SUPPRESSION: Code = Code("T0317");
    /// A `tally:allow` comment silenced nothing.
    pub const UNUSED_SUPPRESSION: Code = Code("T0318");

    pub const OVERLAPPING_RECOGNITION: Code = Code("T0401");
    pub const UNMATCHABLE_RULE: Code = Code("T0402");
    pub const UNRECOGNIZABLE_APPLICATION: Code = Code("T0403");
    pub const HARDWARE_NOT_PROVIDED: Code = Code("T0404");
    pub const SKU_COVERS_NOTHING: Code = Code("T0405");
    pub const SHADOWED_TABLE_ROW: Code = Code("T0406");
    pub const DOWNGRADE_WITHOUT_VERSION: Code = Code("T0407");

    /// Every code of this module with its one-line summary, in code order.
    pub const ALL: &[(Code, &str)] = &[
        (
            INVALID_MANIFEST,
            "a pack's `tally.yaml` cannot be read or is not valid",
        ),
        (
            LANGUAGE_VERSION,
            "a pack's `tally.yaml` names a language version this tally does not read",
        ),
        (UNKNOWN_SUPPRESSION, "a `tally:allow` comment names no lint"),
        (
            UNUSED_SUPPRESSION,
            "a `tally:allow` comment silenced nothing",
        ),
        (
            OVERLAPPING_RECOGNITION,
            "rules of two applications can match the same evidence",
        ),
        (UNMATCHABLE_RULE, "a recognition rule can never match"),
        (
            UNRECOGNIZABLE_APPLICATION,
            "nothing can recognise an application",
        ),
        (
            HARDWARE_NOT_PROVIDED,
            "a metric requires hardware its holder never has",
        ),
        (SKU_COVERS_NOTHING, "a SKU's license covers no application"),
        (
            SHADOWED_TABLE_ROW,
            "a table row is never used: an earlier row matches all it does",
        ),
        (
            DOWNGRADE_WITHOUT_VERSION,
            "a downgrade or upgrade right has no version to count from",
        ),
    ];
}

/// Every lint, in code order.
pub const LINTS: &[Lint] = &[
    Lint {
        code: codes::OVERLAPPING_RECOGNITION,
        name: "overlapping-recognition",
        summary: "rules of two applications can match the same evidence",
        default: Level::Warning,
    },
    Lint {
        code: codes::UNMATCHABLE_RULE,
        name: "unmatchable-rule",
        summary: "a recognition rule can never match",
        default: Level::Error,
    },
    Lint {
        code: codes::UNRECOGNIZABLE_APPLICATION,
        name: "unrecognizable-application",
        summary: "nothing can recognise an application",
        default: Level::Warning,
    },
    Lint {
        code: codes::HARDWARE_NOT_PROVIDED,
        name: "hardware-not-provided",
        summary: "a metric requires hardware its holder never has",
        default: Level::Warning,
    },
    Lint {
        code: codes::SKU_COVERS_NOTHING,
        name: "sku-covers-nothing",
        summary: "a SKU's license covers no application",
        default: Level::Warning,
    },
    Lint {
        code: codes::SHADOWED_TABLE_ROW,
        name: "shadowed-table-row",
        summary: "a table row is never used: an earlier row matches all it does",
        default: Level::Error,
    },
    Lint {
        code: codes::DOWNGRADE_WITHOUT_VERSION,
        name: "downgrade-without-version",
        summary: "a downgrade or upgrade right has no version to count from",
        default: Level::Warning,
    },
];

/// The lint a code (`T0401`) or name (`overlapping-recognition`) names; codes ignore case.
pub fn find(name: &str) -> Option<&'static Lint> {
    LINTS
        .iter()
        .find(|l| l.code.0.eq_ignore_ascii_case(name) || l.name == name)
}

/// The code or name closest to a misspelt one, for "did you mean".
pub fn closest(name: &str) -> Option<&'static str> {
    diagnostics::closest(name, LINTS.iter().flat_map(|l| [l.code.0, l.name]))
}

/// What `tally lint` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Linted {
    /// The findings at their levels, and the diagnostics about suppressions, sorted.
    pub diagnostics: Vec<Diagnostic>,
    /// How many rule files were linted.
    pub files: usize,
    /// How many findings a `tally:allow` comment silenced.
    pub suppressed: usize,
}

/// Which files to lint and at which levels.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The manifests of the packs given; a file takes the levels of the pack that holds it.
    pub manifests: Vec<Manifest>,
    /// Lint the standard packs' files too (at the default levels).
    pub include_standard: bool,
}

impl Settings {
    /// The level of `lint` in the file at `path`.
    pub fn level(&self, path: &str, lint: &Lint) -> Level {
        self.manifests
            .iter()
            .filter(|m| m.holds(path))
            .max_by_key(|m| m.pack.components().count())
            .and_then(|m| m.lints.get(&lint.code).copied())
            .unwrap_or(lint.default)
    }
}

/// What every lint reads: the syntax trees of every loaded rule file (with whether each is a
/// standard one), the compiled pack and the recognizer built from it.
pub struct Context<'a> {
    pub files: &'a [(&'a ParsedFile, bool)],
    pub compiled: &'a Compiled,
    pub recognizer: &'a Recognizer,
    linted: BTreeSet<&'a str>,
    /// Declarations an `override` replaces, by kind and name: not in force.
    overridden: BTreeSet<(DeclKind, &'a str)>,
}

impl<'a> Context<'a> {
    pub fn new(
        files: &'a [(&'a ParsedFile, bool)],
        compiled: &'a Compiled,
        recognizer: &'a Recognizer,
        include_standard: bool,
    ) -> Self {
        let linted = files
            .iter()
            .filter(|(f, standard)| (include_standard || !standard) && is_rule_file(&f.source.path))
            .map(|(f, _)| f.source.path.as_str())
            .collect();
        let overridden = files
            .iter()
            .flat_map(|(f, _)| &f.decls)
            .filter(|d| d.modifier.as_ref().map(|m| m.value) == Some(Modifier::Override))
            .map(|d| (d.kind, d.name.value.as_str()))
            .collect();
        Self {
            files,
            compiled,
            recognizer,
            linted,
            overridden,
        }
    }

    pub fn pack(&self) -> &'a CompiledPack {
        &self.compiled.pack
    }

    /// Whether the file at `path` is linted: a rule file of the packs given (or a standard
    /// one, when asked).
    pub fn linted(&self, path: &str) -> bool {
        self.linted.contains(path)
    }

    /// The linted files.
    pub fn linted_files(&self) -> impl Iterator<Item = &'a ParsedFile> + '_ {
        self.files
            .iter()
            .map(|(f, _)| *f)
            .filter(|f| self.linted(&f.source.path))
    }

    /// The declarations in force of the linted files (plain ones not overridden, and
    /// overrides), with their files.
    pub fn linted_decls(&self) -> impl Iterator<Item = (&'a ParsedFile, &'a Decl)> + '_ {
        self.linted_files().flat_map(move |f| {
            f.decls
                .iter()
                .filter(move |d| match d.modifier.as_ref().map(|m| m.value) {
                    None => !self.overridden.contains(&(d.kind, d.name.value.as_str())),
                    Some(Modifier::Override) => true,
                    Some(Modifier::Extend) => false,
                })
                .map(move |d| (f, d))
        })
    }
}

/// Runs every lint over the linted files, applies the levels and the suppressions, and
/// reports the suppressions that name no lint or silenced nothing.
pub fn run(context: &Context<'_>, settings: &Settings) -> Linted {
    let mut found = Vec::new();
    overlap::check(context, &mut found);
    unmatchable::check(context, &mut found);
    unrecognizable::check(context, &mut found);
    hardware::check(context, &mut found);
    skus::check(context, &mut found);
    tables::check(context, &mut found);
    downgrade::check(context, &mut found);

    let mut suppressions = suppress::Suppressions::new(context.linted_files());
    let mut linted = Linted {
        diagnostics: suppressions.take_errors(),
        files: context.linted_files().count(),
        suppressed: 0,
    };
    for mut diagnostic in found {
        let Some(lint) = LINTS.iter().find(|l| l.code == diagnostic.code) else {
            continue;
        };
        let path = diagnostic.source.path.clone();
        if !context.linted(&path) {
            continue;
        }
        diagnostic.severity = match settings.level(&path, lint) {
            Level::Off => continue,
            Level::Warning => Severity::Warning,
            Level::Error => Severity::Error,
        };
        if suppressions.silences(lint, &diagnostic) {
            linted.suppressed += 1;
        } else {
            linted.diagnostics.push(diagnostic);
        }
    }
    linted
        .diagnostics
        .extend(suppressions.unused(|path, lint| settings.level(path, lint) != Level::Off));
    diagnostics::sort(&mut linted.diagnostics);
    linted.diagnostics.dedup();
    linted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lints_are_found_by_code_or_name() {
        assert_eq!(
            find("T0401").map(|l| l.name),
            Some("overlapping-recognition")
        );
        assert_eq!(find("t0406").map(|l| l.name), Some("shadowed-table-row"));
        assert_eq!(
            find("unmatchable-rule").map(|l| l.code),
            Some(codes::UNMATCHABLE_RULE)
        );
        assert_eq!(find("T0499"), None);
        assert_eq!(closest("shadowed-table-rows"), Some("shadowed-table-row"));
    }

    #[test]
    fn every_lint_has_a_registered_code_and_a_page() {
        let pages = include_str!("../../../docs/lints.md");
        let diagnostics = include_str!("../../../docs/diagnostics.md");
        for lint in LINTS {
            assert!(
                codes::ALL
                    .iter()
                    .any(|(c, s)| *c == lint.code && *s == lint.summary),
                "{} is not registered with its summary",
                lint.code
            );
            let heading = format!("## {}: {}", lint.code, lint.name);
            assert!(pages.contains(&heading), "docs/lints.md lacks `{heading}`");
            for part in ["**Avoid**", "**Prefer**", "**Rationale**"] {
                let section = pages
                    .split("\n## ")
                    .find(|s| s.starts_with(&heading[3..]))
                    .unwrap_or_default();
                assert!(section.contains(part), "{}: no {part}", lint.code);
            }
        }
        for (code, _) in codes::ALL {
            assert!(
                diagnostics.contains(&format!("## {code}:")),
                "docs/diagnostics.md has no section for {code}"
            );
        }
    }
}
