//! Diagnostics as the client sees them: the compiler's (syntax, names, kinds, fields, types)
//! and the failures of `test` blocks, grouped by file, each with its code linked to its
//! section of `docs/diagnostics.md`, its help line, the other places it names, and the
//! replacement text a quick fix can offer.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use serde_json::json;
use tally_compiler::diagnostics::{Code, Diagnostic, Severity, SourceFile, Span};
use tally_runtime::db::{RuleFile, Rules, file_diagnostics, has_errors, pack, recognizer};
use tally_runtime::pack_tests::{self, TestFilter};
use tower_lsp_server::ls_types::{
    self as lsp, CodeDescription, DiagnosticRelatedInformation, DiagnosticSeverity, Location,
    NumberOrString, Uri,
};

use crate::state::Snapshot;
use crate::text::LineIndex;

/// Where each line of a rule file starts (a query, so each file's is built once per text).
#[salsa::tracked(returns(ref))]
pub fn line_index(db: &dyn salsa::Database, file: RuleFile) -> LineIndex {
    LineIndex::new(&file.source(db).text)
}

/// Every diagnostic of the workspace by file path: the compiler's and failing tests'.
#[salsa::tracked(returns(ref))]
pub fn diagnostics_by_file(
    db: &dyn salsa::Database,
    rules: Rules,
) -> BTreeMap<String, Vec<Diagnostic>> {
    let mut by_file = compiler_diagnostics_by_file(db, rules).clone();
    for failure in test_failures(db, rules) {
        by_file
            .entry(failure.source.path.clone())
            .or_default()
            .push(failure.clone());
    }
    by_file
}

/// The failures of the workspace's `test` blocks, one T0124 diagnostic per failed test, on
/// the test's name. Tests run only when the rules compile without errors, as `tally test`
/// runs them, and again only when the compiled pack changed (or a test moved).
#[salsa::tracked(returns(ref))]
pub fn test_failures(db: &dyn salsa::Database, rules: Rules) -> Vec<Diagnostic> {
    if has_errors(db, rules) {
        return Vec::new();
    }
    let pack = pack(db, rules);
    if pack.tests.is_empty() {
        return Vec::new();
    }
    let results = pack_tests::run(pack, recognizer(db, rules), &TestFilter::default());
    let files: HashMap<&str, RuleFile> = rules
        .files(db)
        .iter()
        .map(|f| (f.source(db).path.as_str(), *f))
        .collect();
    pack_tests::failure_diagnostics(&results, |path| {
        files.get(path).map(|f| Arc::clone(f.source(db)))
    })
}

/// The anchor of each code's section in `docs/diagnostics.md`, as a Markdown renderer makes
/// it from the heading (`## T0101: unknown name` → `t0101-unknown-name`).
pub fn anchors() -> &'static HashMap<&'static str, String> {
    static ANCHORS: OnceLock<HashMap<&'static str, String>> = OnceLock::new();
    ANCHORS.get_or_init(|| {
        include_str!("../../docs/diagnostics.md")
            .lines()
            .filter_map(|line| line.strip_prefix("## "))
            .filter_map(|heading| {
                let code = heading.split(':').next()?;
                (code.len() == 5 && code.starts_with('T')).then(|| (code, slug(heading)))
            })
            .collect()
    })
}

/// A heading's anchor: lowercase, punctuation but `-` and `_` dropped, spaces made `-`.
fn slug(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// The link to a code's section.
pub fn code_link(base: &str, code: Code) -> Option<Uri> {
    let anchor = anchors().get(code.0)?;
    format!("{base}#{anchor}").parse().ok()
}

/// A compiler diagnostic as the protocol's.
pub fn to_lsp(snapshot: &Snapshot, diagnostic: &Diagnostic) -> lsp::Diagnostic {
    let range = range_in(snapshot, &diagnostic.source, diagnostic.span);
    let mut message = diagnostic.message.clone();
    if !diagnostic.help.is_empty() {
        message.push_str("\nhelp: ");
        message.push_str(&diagnostic.help);
    }
    let related: Vec<DiagnosticRelatedInformation> = diagnostic
        .related
        .iter()
        .filter_map(|r| {
            Some(DiagnosticRelatedInformation {
                location: Location::new(
                    snapshot.files.uri_of(&r.source.path)?.clone(),
                    range_in(snapshot, &r.source, Some(r.span)),
                ),
                message: r.label.clone(),
            })
        })
        .collect();
    lsp::Diagnostic {
        range,
        severity: Some(match diagnostic.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(diagnostic.code.0.to_string())),
        code_description: code_link(&snapshot.settings.diagnostics_url, diagnostic.code)
            .map(|href| CodeDescription { href }),
        source: Some("tally".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: diagnostic
            .suggestion
            .as_ref()
            .map(|s| json!({ "suggestion": s })),
    }
}

/// The range of a span in a source file, in the client's encoding.
pub fn range_in(snapshot: &Snapshot, source: &SourceFile, span: Option<Span>) -> lsp::Range {
    let span = span.unwrap_or(Span::new(0, 0));
    let encoding = snapshot.encoding();
    match snapshot.file(&source.path) {
        Some(file) if file.source(&snapshot.db).text == source.text => {
            line_index(&snapshot.db, file).range(&source.text, span, encoding)
        }
        _ => LineIndex::new(&source.text).range(&source.text, span, encoding),
    }
}

/// The compiler's diagnostics by file path, without the tests'.
#[salsa::tracked(returns(ref))]
pub fn compiler_diagnostics_by_file(
    db: &dyn salsa::Database,
    rules: Rules,
) -> BTreeMap<String, Vec<Diagnostic>> {
    rules
        .files(db)
        .iter()
        .map(|f| (f.source(db).path.clone(), file_diagnostics(db, *f, rules)))
        .filter(|(_, diagnostics)| !diagnostics.is_empty())
        .map(|(path, diagnostics)| (path, diagnostics.clone()))
        .collect()
}

/// A file's diagnostics to publish, by URI, with the version of the document they are about.
pub type Publication = (Uri, Option<i32>, Vec<lsp::Diagnostic>);

/// The diagnostics to publish for every file the client may change, by URI, with the version
/// of the document they are about when it is open (an empty list for a file without any, so
/// the client clears what it showed): the compiler's and the failures of the `test` blocks.
pub fn workspace_diagnostics(snapshot: &Snapshot) -> Vec<Publication> {
    let failures = test_failures(&snapshot.db, snapshot.rules);
    workspace_diagnostics_with(snapshot, failures)
}

/// As [`workspace_diagnostics`], with the given test failures instead of running the tests:
/// the server publishes the compiler's diagnostics of an edit with the failures of the last
/// run, then runs the tests (see `docs/lsp.md`). Each file's diagnostics are its own query,
/// so after an edit only the files whose checks it can change are checked again.
pub fn workspace_diagnostics_with(
    snapshot: &Snapshot,
    failures: &[Diagnostic],
) -> Vec<Publication> {
    let db = &snapshot.db;
    let compiler: HashMap<&str, &[Diagnostic]> = snapshot
        .rules
        .files(db)
        .iter()
        .map(|f| {
            (
                f.source(db).path.as_str(),
                file_diagnostics(db, *f, snapshot.rules).as_slice(),
            )
        })
        .filter(|(_, diagnostics)| !diagnostics.is_empty())
        .collect();
    let mut failed: HashMap<&str, Vec<&Diagnostic>> = HashMap::new();
    for failure in failures {
        failed
            .entry(failure.source.path.as_str())
            .or_default()
            .push(failure);
    }
    snapshot
        .files
        .iter()
        .filter(|(path, entry)| {
            !entry.read_only || compiler.contains_key(path) || failed.contains_key(path)
        })
        .filter(|(path, _)| snapshot.file(path).is_some())
        .map(|(path, entry)| {
            let diagnostics = compiler
                .get(path)
                .copied()
                .into_iter()
                .flatten()
                .chain(failed.get(path).into_iter().flatten().copied())
                .map(|d| to_lsp(snapshot, d))
                .collect();
            (
                entry.uri.clone(),
                snapshot.versions.get(path).copied(),
                diagnostics,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_an_anchor() {
        let compiler = tally_compiler::diagnostics::codes::ALL.iter();
        for (code, _) in compiler.chain(crate::codes::ALL) {
            assert!(anchors().contains_key(code.0), "{code} has no section");
        }
        assert_eq!(anchors()["T0101"], "t0101-unknown-name");
        assert_eq!(anchors()["T0120"], "t0120-extend-or-override-cannot-apply");
    }
}
