//! Regression tests for inputs that crashed or hung Tally, most found by the fuzz targets in
//! `tests/fuzz/`. Each folder of `regressions/` holds the files that replace the sample estate's
//! (or a rule file), and its test here says what Tally must make of them.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use tally_compiler::diagnostics::{Diagnostic, SourceFile};
use tally_compiler::ir::CompiledPack;
use tally_runtime::estate::{self, Estate, EstateFiles};
use tally_tests::{ESTATE_FILES, tally};

const SAMPLE: &str = "../examples/contoso";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn standard_sources() -> &'static [Arc<SourceFile>] {
    static SOURCES: OnceLock<Vec<Arc<SourceFile>>> = OnceLock::new();
    SOURCES.get_or_init(|| {
        ["rules", "arl", "purl", "skus"]
            .iter()
            .flat_map(|d| tally_runtime::sources::read_pack(&root().join("..").join(d)).unwrap())
            .collect()
    })
}

fn standard_pack() -> &'static CompiledPack {
    static PACK: OnceLock<CompiledPack> = OnceLock::new();
    PACK.get_or_init(|| tally_compiler::compile_sources(standard_sources()).pack)
}

/// The sample estate with the files of `regressions/<name>/` in place of its own (and the
/// folder's `usage.csv`, if it has one).
fn estate_files(name: &str) -> EstateFiles {
    let dir = root().join("regressions").join(name);
    let texts = ESTATE_FILES.map(|file| {
        std::fs::read_to_string(dir.join(file))
            .or_else(|_| std::fs::read_to_string(root().join(SAMPLE).join(file)))
            .unwrap()
    });
    let files = EstateFiles::from_texts(
        &format!("regressions/{name}"),
        [&texts[0], &texts[1], &texts[2], &texts[3], &texts[4]].map(String::as_str),
    );
    match std::fs::read_to_string(dir.join("usage.csv")) {
        Ok(usage) => files.with_usage(&usage),
        Err(_) => files,
    }
}

/// Imports `regressions/<name>/` over the sample estate; the diagnostics when it fails.
fn import(name: &str) -> Result<Estate, Vec<Diagnostic>> {
    estate::import(&estate_files(name), standard_pack())
}

/// Every diagnostic in `file` points inside it on character boundaries and renders.
fn check_diagnostics(diagnostics: &[Diagnostic], file: &str) {
    for d in diagnostics.iter().filter(|d| d.source.path.ends_with(file)) {
        if let Some(span) = d.span {
            let text = &d.source.text;
            assert!(span.end <= text.len(), "{d:?}");
            assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
        }
        assert!(d.render().contains(&d.message), "{}", d.render());
    }
}

/// The `file:line:col: error[code]: message` lines of the diagnostics in one file.
fn one_lines(diagnostics: &[Diagnostic], file: &str) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| {
            let line = d.one_line();
            line.rsplit_once('/')
                .map_or(line.clone(), |(_, l)| l.to_owned())
        })
        .filter(|line| line.starts_with(&format!("{file}:")))
        .collect()
}

/// A bad field past column 65,535 of a long line: miette pads its label to the column with a
/// formatting width, which panics past `u16::MAX` ("Formatting argument out of range").
#[test]
fn a_diagnostic_past_column_65535_renders() {
    let errors = import("long-line-column").unwrap_err();
    assert_eq!(
        one_lines(&errors, "devices.csv"),
        ["devices.csv:2:70005: error[T0203]: invalid number of cores `four`"]
    );
    check_diagnostics(&errors, "devices.csv");
}

/// `tally COMMAND regressions/<name> --pack regressions/<name>/packs --no-std` on a fixed day,
/// as JSON.
fn tally_json(command: &str, name: &str, extra: &[&str]) -> Vec<serde_json::Value> {
    let dir = root().join("regressions").join(name);
    let packs = dir.join("packs");
    let (dir, packs) = (dir.display().to_string(), packs.display().to_string());
    let mut args = vec![
        command,
        &dir,
        "--pack",
        &packs,
        "--no-std",
        "--as-of",
        "2026-11-01",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = tally(&args);
    assert_eq!(code, 0, "{err}");
    match serde_json::from_str(&out) {
        Ok(serde_json::Value::Array(rows)) => rows,
        other => panic!("expected a JSON array, got {other:?}"),
    }
}

/// The largest decimal, 2^96 − 1.
const DECIMAL_MAX: &str = "79228162514264337593543950335";

/// A metric that charges the largest decimal on every device: adding the second device's units
/// to the license's consumed total overflowed, a panic in reconciliation. Each row now keeps its
/// own units, the license's running total stays at the largest decimal (leaving nothing to
/// give), and the position says consumption is too large to add up: status unknown, with a note.
#[test]
fn units_past_the_largest_decimal_leave_the_position_unknown() {
    let rows = tally_json(
        "explain",
        "consumption-overflow",
        &["--license", "L-OFFICE"],
    );
    let summary: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            let field = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            (field("device"), field("reason"), r["units"].to_string())
        })
        .collect();
    let row = |d: &str, r: &str, u: &str| (d.to_owned(), r.to_owned(), u.to_owned());
    assert_eq!(
        summary,
        [
            row("D1", "over_consumed", DECIMAL_MAX),
            row("D1", "shared_entitlement", "0"),
            row("D2", "over_consumed", DECIMAL_MAX),
            row("D3", "over_consumed", DECIMAL_MAX),
        ]
    );
    assert_too_large(&tally_json("reconcile", "consumption-overflow", &[]));
}

/// One license's position, whose consumption is too large to add up.
fn assert_too_large(positions: &[serde_json::Value]) {
    assert_eq!(positions.len(), 1);
    assert_eq!(positions[0]["consumed"], serde_json::Value::Null);
    assert_eq!(positions[0]["status"], "Unknown");
    let note = positions[0]["note"].as_str().unwrap_or_default();
    assert!(note.contains("consumed adds up to more than"), "{note}");
}

/// The same estate with a unit price: the cost at risk, price × shortfall, overflowed in
/// `position.rs`.
#[test]
fn a_cost_at_risk_past_the_largest_decimal_is_a_position() {
    let positions = tally_json("reconcile", "cost-at-risk-overflow", &[]);
    assert_too_large(&positions);
    assert_eq!(positions[0]["cost_at_risk"], serde_json::Value::Null);
}

/// Two purchases of the largest decimal for one license: their sum, the license's entitlements,
/// overflowed in `position::purchased`. Import now refuses them (T0207).
#[test]
fn purchases_past_the_largest_decimal_are_refused() {
    let errors = import("purchases-overflow").unwrap_err();
    assert!(errors.iter().any(|d| d.code.to_string() == "T0207"));
    check_diagnostics(&errors, "purchases.csv");
}

/// 4,000 evidence rows on devices the estate lacks: 4,000 unknown-device errors in a 200 KB file.
/// Rendering one reads its file from the start, so rendering them all took time in proportion to
/// the rows times the file (24 s in a debug build): a hang for a large estate whose device ids
/// were mangled.
#[test]
fn thousands_of_diagnostics_render() {
    let errors = import("many-unknown-devices").unwrap_err();
    let evidence: Vec<&Diagnostic> = errors
        .iter()
        .filter(|d| d.source.path.ends_with("evidence.csv"))
        .collect();
    assert_eq!(evidence.len(), 4000);
    assert!(
        evidence
            .iter()
            .all(|d| d.message.starts_with("unknown device `GHOST-"))
    );
    // Each renders from its own lines; `cargo bench -p tally-runtime --bench inputs` measures it.
    assert!(evidence.iter().all(|d| d.render().contains("GHOST-")));
}

/// Expressions thousands of levels deep (minus signs, `not`s, a long sum, brackets, `if`s and
/// calls inside one another) overflowed the stack: the parser, the type checker and the runtime
/// walk them recursively. Each is now one syntax error.
#[test]
fn expressions_nested_thousands_deep_are_one_error_each() {
    let dir = root().join("regressions/deep-expressions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 6);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let compiled = tally_compiler::compile_sources(&[SourceFile::new(name.clone(), text)]);
        let messages: Vec<String> = compiled
            .diagnostics
            .iter()
            .map(|d| format!("{}: {}", d.code, d.message))
            .collect();
        assert_eq!(
            messages,
            ["T0001: this expression nests more than 128 levels deep"],
            "{name}"
        );
        check_diagnostics(&compiled.diagnostics, &name);
    }
}

/// An expression as deep as the compiler takes compiles, and reconciliation evaluates and
/// explains it on a test thread's stack.
#[test]
fn an_expression_at_the_depth_limit_is_reconciled() {
    let rows = tally_json(
        "explain",
        "deep-expression-at-limit",
        &["--license", "L-OFFICE"],
    );
    let units: Vec<(&str, String)> = rows
        .iter()
        .map(|r| {
            (
                r["device"].as_str().unwrap_or_default(),
                r["units"].to_string(),
            )
        })
        .collect();
    let expected = [("D1", 4), ("D1", 0), ("D2", 8), ("D3", 2)].map(|(d, u)| (d, u.to_string()));
    assert_eq!(units, expected);
}

/// Extra entitlements of the largest decimal on a license with purchases: reconciliation added
/// them to the purchased quantity and overflowed (found by the `pipeline` fuzz target). Import
/// now refuses the license's entitlements as too large to add up (T0207).
#[test]
fn extra_entitlements_past_the_largest_decimal_are_refused() {
    let errors = import("extra-entitlements-overflow").unwrap_err();
    assert!(errors.iter().any(|d| d.code.to_string() == "T0207"));
}
