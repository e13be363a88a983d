//! Checking per file gives what checking the whole pack gives: the union of every file's
//! diagnostics (in path order) is the whole pack's, with the same codes, spans, messages and
//! order as `tally check` prints them, and the pack merged from the files' checks is the one
//! compiled in one go. On the standard packs, every scenario's packs (alone, as the scenarios
//! run them, and with the standard packs), the layering packs and the compiler's diagnostics
//! test files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::civil::date;
use tally_compiler::SourceFile;
use tally_runtime::db::{Database, file_diagnostics, has_errors};
use tally_runtime::sources;
use tally_runtime::workspace::{RuleSource, Workspace};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn standard() -> Vec<Arc<SourceFile>> {
    ["rules", "arl", "purl", "skus"]
        .iter()
        .flat_map(|dir| sources::read_pack(&repo().join(dir)).unwrap_or_default())
        .collect()
}

fn pack(dir: &Path) -> Vec<Arc<SourceFile>> {
    sources::read_pack(dir).unwrap_or_default()
}

/// Compiles `files` both ways and compares.
fn assert_per_file_equals_whole(what: &str, files: Vec<Arc<SourceFile>>) {
    assert!(!files.is_empty(), "{what}: no files");
    let whole = tally_compiler::compile_sources(&files);
    let sources: Vec<RuleSource> = files
        .iter()
        .map(|source| RuleSource {
            source: Arc::clone(source),
            standard: false,
        })
        .collect();
    let ws = Workspace::new(Database::default(), sources, date(2026, 1, 1));
    let rules = ws.estate.rules(&ws.db);
    let union: Vec<_> = rules
        .files(&ws.db)
        .iter()
        .flat_map(|f| file_diagnostics(&ws.db, *f, rules).iter().cloned())
        .collect();
    let one_line = |d: &tally_compiler::Diagnostic| d.one_line();
    assert_eq!(
        union.iter().map(one_line).collect::<Vec<_>>(),
        whole.diagnostics.iter().map(one_line).collect::<Vec<_>>(),
        "{what}: the files' diagnostics are the pack's"
    );
    assert_eq!(
        union, whole.diagnostics,
        "{what}: labels, helps and related too"
    );
    let compiled = ws.compiled();
    assert_eq!(compiled, &whole, "{what}: the merged pack is the whole one");
    assert_eq!(
        has_errors(&ws.db, rules),
        whole.has_errors(),
        "{what}: has errors"
    );
}

#[test]
fn the_standard_packs_check_the_same_per_file() {
    assert_per_file_equals_whole("standard packs", standard());
}

#[test]
fn every_scenario_checks_the_same_per_file() {
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(repo().join("tests/scenarios"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("packs"))
        .filter(|p| p.is_dir())
        .collect();
    scenarios.sort();
    assert!(scenarios.len() > 50, "found the scenarios");
    for dir in scenarios {
        let what = dir.display().to_string();
        assert_per_file_equals_whole(&what, pack(&dir));
        let mut with_standard = standard();
        with_standard.extend(pack(&dir));
        assert_per_file_equals_whole(&format!("{what} with the standard packs"), with_standard);
    }
}

#[test]
fn layering_checks_the_same_per_file() {
    for name in ["override-visio", "extend-visio", "conflicts"] {
        let mut files = standard();
        files.extend(pack(&repo().join("tests/layering").join(name)));
        assert_per_file_equals_whole(name, files);
    }
}

/// The compiler's diagnostics test files, each alone and all together (where they declare
/// the same names, which the checks across files report).
#[test]
fn files_with_mistakes_check_the_same_per_file() {
    let mut all = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(repo().join("compiler/tests/diagnostics"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "tally"))
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let source = SourceFile::new(name.clone(), text);
        assert_per_file_equals_whole(&name, vec![Arc::clone(&source)]);
        all.push(source);
    }
    assert_per_file_equals_whole("all the diagnostics files", all.clone());
    all.extend(standard());
    all.sort_by(|a, b| a.path.cmp(&b.path));
    assert_per_file_equals_whole("with the standard packs", all);
}
