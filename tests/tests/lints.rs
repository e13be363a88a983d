//! `tally lint` and the CI formats of `check` and `lint`.
//!
//! Each folder of `lints/` is a pack linted on its own (`tally lint lints/NAME --no-std`),
//! with its exit code, stdout and stderr as a snapshot. `T04xx-fires` holds findings of lint
//! T04xx and `T04xx-quiet` near misses it must not report; every lint has both. The other
//! folders hold `tally.yaml` levels, suppressions, and manifest errors.

use std::path::Path;

use serde_json::Value;
use tally_runtime::lint::{LINTS, Level};
use tally_tests::tally;

/// The command's exit code and output, as the snapshots show them.
fn transcript(args: &[&str]) -> (u8, String, String, String) {
    let (code, out, err) = tally(args);
    let shown = format!(
        "$ tally {}\nexit code: {code}\n--- stdout\n{out}--- stderr\n{err}",
        args.join(" ")
    );
    (code, out, err, shown)
}

#[test]
fn lint_cases() {
    insta::glob!("..", "lints/*/pack.tally", |path| {
        let Some(dir) = path.parent() else { return };
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Relative paths keep the snapshots the same on every machine.
        let rel = Path::new("lints").join(&name).display().to_string();
        let (code, out, err, shown) = transcript(&["lint", &rel, "--no-std"]);
        if let Some((lint, case)) = name.split_once('-')
            && let Some(found) = LINTS.iter().find(|l| l.code.0 == lint)
        {
            let codes_shown = err.matches(&format!("{lint}\n")).count();
            match case {
                "fires" => {
                    assert!(codes_shown > 0, "{name}: no {lint}:\n{err}");
                    let expected = u8::from(found.default == Level::Error);
                    assert_eq!(code, expected, "{name}: exit code\n{err}");
                }
                _ => {
                    assert_eq!(codes_shown, 0, "{name}: {lint} fired:\n{err}");
                    assert_eq!((code, err.as_str()), (0, ""), "{name}: {out}");
                }
            }
        }
        insta::assert_snapshot!(shown);
    });
}

/// Each lint has a case that fires and one that stays quiet.
#[test]
fn every_lint_has_a_case_that_fires_and_one_that_does_not() {
    for lint in LINTS {
        for case in ["fires", "quiet"] {
            let pack = format!("lints/{}-{case}/pack.tally", lint.code);
            assert!(Path::new(&pack).is_file(), "{pack} is missing");
        }
    }
}

#[test]
fn levels_come_from_the_packs_tally_yaml() {
    let (code, out, err) = tally(&["lint", "lints/levels", "--no-std"]);
    assert_eq!(code, 1, "T0403 raised to an error fails the run");
    assert!(err.contains("× application `acme.studio_any` has no recognition rule"));
    assert!(err.contains("⚠ this row of table `acme.points` is never used"));
    assert!(!err.contains("T0407"), "turned off");
    assert_eq!(
        out,
        "linted 1 rule files: 1 errors, 1 warnings, 0 suppressed\n"
    );
}

#[test]
fn deny_warnings_fails_on_warnings() {
    let args = ["lint", "lints/T0401-fires", "--no-std"];
    assert_eq!(tally(&args).0, 0);
    let denied = [&args[..], &["--deny", "warnings"]].concat();
    assert_eq!(tally(&denied).0, 1);
    assert_eq!(
        tally(&[
            "lint",
            "lints/T0401-quiet",
            "--no-std",
            "--deny",
            "warnings"
        ])
        .0,
        0
    );
}

/// The manifest is the pack's for every command: `check` refuses a language version it does
/// not read, and a manifest with mistakes, as `lint` does.
#[test]
fn check_honours_the_manifest() {
    let (code, out, err) = tally(&["check", "lints/language-version", "--no-std"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.starts_with("T0316"), "{err}");
    let (code, _, err) = tally(&["check", "lints/manifest-errors2", "--no-std"]);
    assert_eq!(code, 2);
    assert_eq!(err.matches("T0315\n").count(), 4, "{err}");
    let (code, _, _) = tally(&["test", "lints/manifest-errors", "--no-std"]);
    assert_eq!(code, 2);
}

/// With the standard packs loaded, only the given pack is linted: its rule that overlaps a
/// standard one is reported at the pack's rule.
#[test]
fn only_the_given_packs_are_linted() {
    let (code, out, err) = tally(&["lint", "fixtures/lint-with-std"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("linted 1 rule files: 0 errors, 1 warnings"),
        "{out}"
    );
    assert!(
        err.contains("╭─[fixtures/lint-with-std/pack.tally:9:5]"),
        "{err}"
    );
    // The standard rule is named, as the other place, and not linted itself.
    assert!(
        err.contains("rules of `contoso.visio_shortcuts_2016` and `microsoft.visio."),
        "{err}"
    );
    assert!(err.contains("╭─[arl/microsoft/visio.tally:"), "{err}");
    assert_eq!(err.matches("T0401\n").count(), 1, "{err}");
}

/// The standard packs are lint-clean.
#[test]
fn the_standard_packs_lint_clean() {
    let (code, out, err) = tally(&["lint", "--include-std", "--deny", "warnings"]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert!(out.contains(": 0 errors, 0 warnings"), "{out}");
}

#[test]
fn lint_counts_as_json() {
    let (code, out, err) = tally(&["lint", "lints/suppressions", "--no-std", "--format", "json"]);
    assert_eq!(code, 1);
    let counts: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        counts,
        serde_json::json!([{"files": 1, "errors": 1, "warnings": 2, "suppressed": 5}])
    );
    let diagnostics: Value = serde_json::from_str(&err).unwrap();
    let codes: Vec<&str> = diagnostics
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["T0317", "T0318", "T0318"]);
}

/// Checks the parts of a SARIF 2.1.0 log that consumers need, and returns its results.
fn check_sarif(text: &str) -> Vec<Value> {
    let log: Value = serde_json::from_str(text).unwrap();
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "tally");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        driver["informationUri"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(ids, sorted, "rules sorted by id, each once");
    for rule in rules {
        assert!(
            !rule["shortDescription"]["text"]
                .as_str()
                .unwrap()
                .is_empty()
        );
        let help = rule["helpUri"].as_str().unwrap();
        let id = rule["id"].as_str().unwrap().to_lowercase();
        assert!(help.starts_with("https://"), "{help}");
        assert!(help.contains(&format!("#{id}-")), "{help}");
    }
    let results = run["results"].as_array().unwrap().clone();
    for result in &results {
        let id = result["ruleId"].as_str().unwrap();
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(ids[index], id);
        assert!(["error", "warning"].contains(&result["level"].as_str().unwrap()));
        assert!(!result["message"]["text"].as_str().unwrap().is_empty());
        for place in result["locations"]
            .as_array()
            .unwrap()
            .iter()
            .chain(result["relatedLocations"].as_array().into_iter().flatten())
        {
            let physical = &place["physicalLocation"];
            let uri = physical["artifactLocation"]["uri"].as_str().unwrap();
            assert!(!uri.starts_with('/') && !uri.contains('\\'), "{uri}");
            let region = &physical["region"];
            let (line, column) = (region["startLine"].as_u64(), region["startColumn"].as_u64());
            let (end_line, end_column) = (region["endLine"].as_u64(), region["endColumn"].as_u64());
            assert!(line.unwrap() >= 1 && column.unwrap() >= 1);
            assert!((line, column) <= (end_line, end_column));
        }
    }
    results
}

#[test]
fn check_as_sarif() {
    let (code, out, err, shown) =
        transcript(&["check", "fixtures/ci-pack", "--no-std", "--format", "sarif"]);
    assert_eq!((code, err.as_str()), (2, ""), "the log holds the errors");
    let results = check_sarif(&out);
    let levels: Vec<(&str, &str)> = results
        .iter()
        .map(|r| (r["ruleId"].as_str().unwrap(), r["level"].as_str().unwrap()))
        .collect();
    assert_eq!(levels, [("T0101", "error"), ("T0118", "warning")]);
    // Columns count characters: "ü" before the unknown name is one.
    let text = std::fs::read_to_string("fixtures/ci-pack/pack.tally").unwrap();
    let line = text.lines().find(|l| l.contains("acme.studoi")).unwrap();
    let column = line[..line.find("acme.studoi").unwrap()].chars().count() + 1;
    let region = &results[0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startColumn"].as_u64(), Some(column as u64));
    assert_eq!(
        region["endColumn"].as_u64(),
        Some((column + "acme.studoi".len()) as u64)
    );
    insta::assert_snapshot!(shown);
}

#[test]
fn lint_as_sarif() {
    let (code, out, err, shown) =
        transcript(&["lint", "lints/T0401-fires", "--no-std", "--format", "sarif"]);
    assert_eq!((code, err.as_str()), (0, ""));
    let results = check_sarif(&out);
    assert_eq!(results.len(), 3);
    for result in &results {
        assert_eq!(result["ruleId"], "T0401");
        assert_eq!(result["relatedLocations"].as_array().map(Vec::len), Some(1));
    }
    let log: Value = serde_json::from_str(&out).unwrap();
    let rule = &log["runs"][0]["tool"]["driver"]["rules"][0];
    assert_eq!(rule["name"], "overlapping-recognition");
    assert_eq!(rule["defaultConfiguration"]["level"], "warning");
    assert!(
        rule["helpUri"]
            .as_str()
            .unwrap()
            .ends_with("/docs/lints.md#t0401-overlapping-recognition")
    );
    assert_eq!(
        tally(&["lint", "lints/T0401-fires", "--no-std", "--format", "sarif"]).1,
        out,
        "the same pack gives the same log"
    );
    insta::assert_snapshot!(shown);
}

/// `::error`/`::warning` lines with GitHub's escapes, one per diagnostic.
#[test]
fn check_and_lint_as_github_annotations() {
    let (code, out, err, check) = transcript(&[
        "check",
        "fixtures/ci-pack",
        "--no-std",
        "--format",
        "github",
    ]);
    assert_eq!((code, err.as_str()), (2, ""));
    let (code, lint_out, err, lint) = transcript(&[
        "lint",
        "lints/T0402-fires",
        "--no-std",
        "--format",
        "github",
    ]);
    assert_eq!((code, err.as_str()), (1, ""));
    for line in out.lines().chain(lint_out.lines()) {
        let (command, rest) = line.split_once(' ').unwrap();
        assert!(["::error", "::warning"].contains(&command), "{line}");
        let (properties, message) = rest.split_once("::").unwrap();
        let keys: Vec<&str> = properties
            .split(',')
            .map(|p| p.split_once('=').unwrap().0)
            .collect();
        assert_eq!(
            keys,
            ["file", "line", "col", "endLine", "endColumn", "title"]
        );
        assert!(!message.contains('\n') && !message.contains('\r'));
        assert!(message.contains("%0Ahelp: "), "{line}");
    }
    insta::assert_snapshot!(format!("{check}\n{lint}"));
}
