//! Scenario tests: a folder holding an estate (the files of `docs/estate-format.md`), the rule
//! packs it is reconciled with under `packs/` (optional), and `expected.json`, what the packs
//! must make of the estate as of a day:
//!
//! ```json
//! { "as_of": "2026-11-01", "positions": [ … ], "recognition": [ … ] }
//! ```
//!
//! `positions` is what `tally reconcile --format json` prints and `recognition` what `tally
//! recognize --format json` prints; a scenario compares the sections its file has (at least
//! one). `tally test --update` writes what the packs make into the sections instead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::civil::Date;
use serde_json::{Map, Value};
use tally_compiler::diagnostics::{Diagnostic, SourceFile, Span, codes};

use crate::estate::EstateFiles;
use crate::files::{self, MAX_RULE_FILE};
use crate::pack_tests::TestResult;
use crate::report;
use crate::workspace::Workspace;

/// The file that makes a folder a scenario.
pub const EXPECTED: &str = "expected.json";

/// The sections a scenario can compare, in the order they are written.
const SECTIONS: [&str; 2] = ["positions", "recognition"];

/// How many differences a failed scenario lists.
const SHOWN: usize = 10;

/// Whether `dir` is a scenario: a folder with an `expected.json`.
pub fn is_scenario(dir: &Path) -> bool {
    dir.join(EXPECTED).is_file()
}

/// What running a scenario gives.
pub struct Outcome {
    pub result: TestResult,
    /// Whether `expected.json` was rewritten (with `update`, when it differed).
    pub updated: bool,
    /// `expected.json` as read.
    pub source: Arc<SourceFile>,
}

/// Runs the scenario in `dir` with the standard packs given, the scenario's own `packs/` and
/// `extra` packs; with `update`, writes what the packs make into `expected.json` rather than
/// comparing. Fails with diagnostics when the expected file, the packs or the estate cannot be
/// read, or the packs do not compile.
pub fn run(
    dir: &Path,
    standard: &[(&str, &str)],
    extra: &[PathBuf],
    update: bool,
) -> Result<Outcome, Vec<Diagnostic>> {
    let path = dir.join(EXPECTED);
    let text = files::read_text(&path, dir, MAX_RULE_FILE).map_err(|e| {
        let reason = e.reason(&path);
        let (source, span) = e.source(&path.display().to_string());
        vec![invalid(
            &source,
            span,
            format!("cannot read `{}`: {reason}", path.display()),
        )]
    })?;
    let source = SourceFile::new(path.display().to_string(), text);
    let (as_of, mut expected) = parse(&source)?;
    let mut packs = extra.to_vec();
    let own = dir.join("packs");
    if own.is_dir() {
        packs.insert(0, own);
    }
    let mut ws = Workspace::open(standard, &packs, as_of)?;
    if let Err(errors) = ws.check_rules() {
        return Err(errors.to_vec());
    }
    ws.load_files(&EstateFiles::read_dir(dir)?)?;
    let mut failures = Vec::new();
    let mut changed = false;
    for (section, want) in expected.iter_mut() {
        let got = match section.as_str() {
            "positions" => report::positions(ws.positions()).json(),
            _ => report::recognition(&ws.recognition()).json(),
        };
        if *want != got {
            if !update {
                failures.extend(differences(section, want, &got));
            }
            *want = got;
            changed = true;
        }
    }
    let updated = update && changed;
    if updated {
        write(&path, as_of, &expected).map_err(|e| {
            vec![invalid(
                &source,
                None,
                format!("cannot write `{}`: {e}", path.display()),
            )]
        })?;
    }
    if failures.len() > SHOWN {
        let more = failures.len() - SHOWN;
        failures.truncate(SHOWN);
        failures.push(format!("… and {more} more differences"));
    }
    Ok(Outcome {
        result: TestResult {
            name: dir.display().to_string(),
            location: source.path.clone(),
            path: source.path.clone(),
            span: None,
            failures,
            skipped: None,
        },
        updated,
        source,
    })
}

/// The day and the sections of an expected file, in [`SECTIONS`] order.
fn parse(source: &Arc<SourceFile>) -> Result<(Date, BTreeMap<String, Value>), Vec<Diagnostic>> {
    let value: Value = serde_json::from_str(&source.text).map_err(|e| {
        let at = source.line_start(e.line().saturating_sub(1)) + e.column().saturating_sub(1);
        vec![invalid(
            source,
            Some(Span::new(at, at)),
            format!("this is not JSON: {e}"),
        )]
    })?;
    let Value::Object(mut fields) = value else {
        return Err(vec![invalid(
            source,
            None,
            "the file is not a JSON object".into(),
        )]);
    };
    let as_of = fields
        .remove("as_of")
        .and_then(|v| v.as_str().and_then(|s| s.parse::<Date>().ok()))
        .ok_or_else(|| {
            vec![invalid(
                source,
                None,
                "the file has no `as_of` day written `YYYY-MM-DD`".into(),
            )]
        })?;
    let mut sections = BTreeMap::new();
    for (key, value) in fields {
        if !SECTIONS.contains(&key.as_str()) {
            return Err(vec![invalid(
                source,
                None,
                format!(
                    "the file has a key `{key}`; a scenario compares `positions` and `recognition`"
                ),
            )]);
        }
        sections.insert(key, value);
    }
    if sections.is_empty() {
        return Err(vec![invalid(
            source,
            None,
            "the file has neither `positions` nor `recognition` to compare".into(),
        )]);
    }
    Ok((as_of, sections))
}

fn write(path: &Path, as_of: Date, sections: &BTreeMap<String, Value>) -> std::io::Result<()> {
    let mut object = Map::new();
    object.insert("as_of".into(), Value::String(as_of.to_string()));
    for section in SECTIONS {
        if let Some(value) = sections.get(section) {
            object.insert(section.into(), value.clone());
        }
    }
    let text = serde_json::to_string_pretty(&Value::Object(object)).unwrap_or_default();
    files::write_by_rename(path, |w| {
        use std::io::Write;
        w.write_all(text.as_bytes())?;
        w.write_all(b"\n")
    })
}

/// What differs between the expected rows of a section and the rows the packs make: for
/// positions, each license's fields; for other sections, the rows missing and the rows not
/// expected.
fn differences(section: &str, want: &Value, got: &Value) -> Vec<String> {
    let rows = |v: &Value| v.as_array().cloned().unwrap_or_default();
    let (want, got) = (rows(want), rows(got));
    let mut out = Vec::new();
    if section == "positions" {
        let by_license = |rows: &[Value]| -> BTreeMap<String, Value> {
            rows.iter()
                .map(|r| (r["license"].as_str().unwrap_or("").to_owned(), r.clone()))
                .collect()
        };
        let (want, got) = (by_license(&want), by_license(&got));
        for (license, w) in &want {
            let Some(g) = got.get(license) else {
                out.push(format!(
                    "positions: license `{license}` is expected but not in the position"
                ));
                continue;
            };
            let (Some(w), Some(g)) = (w.as_object(), g.as_object()) else {
                continue;
            };
            for (field, wv) in w {
                let gv = g.get(field).unwrap_or(&Value::Null);
                if wv != gv {
                    out.push(format!(
                        "positions: `{license}` {field}: expected {wv}, got {gv}"
                    ));
                }
            }
            for field in g.keys().filter(|f| !w.contains_key(*f)) {
                out.push(format!(
                    "positions: `{license}` {field}: not expected, got {}",
                    g[field]
                ));
            }
        }
        for license in got.keys().filter(|l| !want.contains_key(*l)) {
            out.push(format!(
                "positions: license `{license}` is in the position but not expected"
            ));
        }
    } else {
        for w in want.iter().filter(|w| !got.contains(w)) {
            out.push(format!("{section}: expected row missing: {w}"));
        }
        for g in got.iter().filter(|g| !want.contains(g)) {
            out.push(format!("{section}: row not expected: {g}"));
        }
    }
    if out.is_empty() {
        out.push(format!("{section}: the rows are in another order"));
    }
    out
}

fn invalid(source: &Arc<SourceFile>, span: Option<Span>, message: String) -> Diagnostic {
    Diagnostic::error(codes::INVALID_TEST, source, span, message)
        .with_label("in this scenario")
        .with_help(
            "`expected.json` holds an `as_of` day and the `positions` or `recognition` to compare; `tally test --update` writes them",
        )
}
