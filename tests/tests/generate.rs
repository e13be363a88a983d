//! `tally gen estate`: the same arguments give the same bytes; the estate imports and
//! reconciles with the standard packs, with licenses consuming and some at risk; generated
//! rules compile with the standard packs and recognise rows of the estate; existing files are
//! not overwritten without `--force`.

use std::fs;
use std::path::Path;

use tally_tests::{ESTATE_FILES, tally};

const AS_OF: &str = "2026-11-01";

/// Runs `tally gen estate --devices N DIR EXTRA…`.
fn generate(dir: &Path, devices: u32, extra: &[&str]) -> (u8, String, String) {
    let devices = devices.to_string();
    let mut args = vec![
        "gen",
        "estate",
        "--devices",
        &devices,
        dir.to_str().unwrap(),
    ];
    args.extend(extra);
    tally(&args)
}

/// The estate files' bytes, in the order of `ESTATE_FILES`.
fn files(dir: &Path) -> Vec<Vec<u8>> {
    ESTATE_FILES
        .iter()
        .map(|name| fs::read(dir.join(name)).unwrap())
        .collect()
}

#[test]
fn the_same_arguments_give_the_same_bytes_and_another_seed_another_estate() {
    let tmp = tempfile::tempdir().unwrap();
    let (first, again, other) = (
        tmp.path().join("first"),
        tmp.path().join("again"),
        tmp.path().join("other"),
    );
    let (code, out, err) = generate(&first, 120, &["--seed", "7"]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.starts_with(&format!("generated {}: 120 devices, ", first.display())),
        "{out}"
    );
    assert!(out.contains(" evidence rows, 50 licenses, "), "{out}");
    assert_eq!(generate(&again, 120, &["--seed", "7"]).0, 0);
    assert_eq!(generate(&other, 120, &["--seed", "8"]).0, 0);

    let (first, again, other) = (files(&first), files(&again), files(&other));
    for (name, (a, b)) in ESTATE_FILES.iter().zip(first.iter().zip(&again)) {
        assert!(a == b, "{name} differs between two runs with the same seed");
    }
    for (name, (a, b)) in ESTATE_FILES.iter().zip(first.iter().zip(&other)) {
        assert!(a != b, "{name} is the same under another seed");
    }
    // No temporary file is left beside them.
    let tmp_files = fs::read_dir(tmp.path().join("first"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".tmp")
        })
        .count();
    assert_eq!(tmp_files, 0);
}

#[test]
fn a_generated_estate_reconciles_with_the_standard_packs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("estate");
    let (code, out, err) = generate(&dir, 120, &["--licenses", "60"]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    let rows: usize = out
        .split(", ")
        .find_map(|part| part.strip_suffix(" evidence rows")?.parse().ok())
        .unwrap();
    // 100 to 200 rows per workstation, fewer on servers.
    assert!((120 * 90..120 * 200).contains(&rows), "{out}");
    let evidence = fs::read_to_string(dir.join("evidence.csv")).unwrap();
    assert_eq!(evidence.lines().count(), rows + 1);

    // Recognition: no overlapping rules, and commercial software among the installations.
    let estate = dir.to_str().unwrap();
    let (code, out, err) = tally(&["recognize", estate, "--as-of", AS_OF, "--format", "csv"]);
    assert_eq!((code, err.as_str()), (0, ""));
    for application in [
        "microsoft.office.professional_plus_2019",
        "adobe.acrobat.pro_dc",
        "microsoft.windows_server.",
    ] {
        assert!(out.contains(application), "no {application} installed");
    }

    let (code, out, err) = tally(&["reconcile", estate, "--as-of", AS_OF, "--format", "csv"]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (status, consumed) = (column("status"), column("consumed"));
    let positions: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(positions.len(), 60);
    let count = |wanted: &str| positions.iter().filter(|p| &p[status] == wanted).count();
    assert!(count("At risk") > 0, "no license at risk");
    assert!(count("Compliant") > count("At risk"), "mostly at risk");
    let consuming = positions
        .iter()
        .filter(|p| p[consumed].parse::<f64>().unwrap_or(0.0) > 0.0)
        .count();
    assert!(consuming > 20, "only {consuming} licenses consume");
}

#[test]
fn generated_rules_compile_and_recognise_rows_of_the_estate() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("estate");
    let (code, out, err) = generate(&dir, 60, &["--rules", "500"]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert!(out.trim_end().ends_with(", 500 rules"), "{out}");
    let rules = dir.join("rules");
    let text = fs::read_to_string(rules.join("generated-0001.tally")).unwrap();
    assert_eq!(text.matches("recognize installer").count(), 500);
    assert!(
        text.matches("publisher microsoft\n").count() > 20,
        "few Microsoft products"
    );

    let (code, out, err) = tally(&["check", rules.to_str().unwrap()]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert!(out.contains(": 0 errors, 0 warnings"), "{out}");

    let estate = dir.to_str().unwrap();
    let (code, out, err) = tally(&[
        "recognize",
        estate,
        "--pack",
        rules.to_str().unwrap(),
        "--as-of",
        AS_OF,
        "--format",
        "csv",
    ]);
    assert_eq!((code, err.as_str()), (0, ""));
    let generated = out.lines().filter(|l| l.contains(",gen.")).count();
    assert!(
        generated > 60,
        "only {generated} rows recognised by generated rules"
    );
}

#[test]
fn existing_files_are_kept_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("estate");
    assert_eq!(generate(&dir, 20, &["--rules", "25000"]).0, 0);
    assert_eq!(fs::read_dir(dir.join("rules")).unwrap().count(), 3);
    fs::write(dir.join("users.csv"), "id\nmine\n").unwrap();

    let (code, out, err) = generate(&dir, 20, &[]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(err.starts_with("T0307"), "{err}");
    assert!(
        err.contains("`gen estate` would overwrite 5 files already in"),
        "{err}"
    );
    assert!(err.contains("help: "), "{err}");
    assert_eq!(
        fs::read_to_string(dir.join("users.csv")).unwrap(),
        "id\nmine\n"
    );

    // Forced, every file is replaced and the rule files of the earlier run are removed.
    let (code, out, err) = generate(&dir, 20, &["--rules", "10", "--force"]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert_ne!(
        fs::read_to_string(dir.join("users.csv")).unwrap(),
        "id\nmine\n"
    );
    let rule_files: Vec<_> = fs::read_dir(dir.join("rules"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(rule_files, ["generated-0001.tally"]);

    // Other files in the folder are left alone; a folder where a file belongs is an error.
    fs::write(dir.join("notes.txt"), "mine").unwrap();
    fs::remove_file(dir.join("licenses.yaml")).unwrap();
    fs::create_dir(dir.join("licenses.yaml")).unwrap();
    let (code, out, err) = generate(&dir, 20, &["--force"]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(err.starts_with("T0308"), "{err}");
    assert!(err.contains("licenses.yaml"), "{err}");
    assert_eq!(fs::read_to_string(dir.join("notes.txt")).unwrap(), "mine");
}

#[test]
fn the_device_count_must_be_positive() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, out, err) = generate(tmp.path(), 0, &[]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.starts_with("error[T0301]"), "{err}");
}

#[test]
fn the_bench_measures_every_stage_and_each_kind_of_edit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("estate");
    let (code, _, err) = generate(&dir, 40, &["--licenses", "20"]);
    assert_eq!((code, err.as_str()), (0, ""));
    let estate = dir.to_str().unwrap();
    let (code, out, err) = tally(&["bench", estate, "--as-of", AS_OF, "--edits", "7"]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["estate"]["devices"], 40);
    assert_eq!(report["estate"]["licenses"], 20);
    let run = &report["full_run"];
    for stage in ["read", "compile", "import", "load", "reconcile", "total"] {
        assert!(run["cpu_ms"][stage].is_u64(), "no CPU time for {stage}");
    }
    assert!(run["total_ms"].as_u64() >= run["reconcile_ms"].as_u64());
    for kind in ["device_edits", "purchase_edits"] {
        assert_eq!(report[kind]["edits"], 7, "{kind}");
        assert!(
            report[kind]["queries_max"].as_u64() > Some(0),
            "{kind} re-executed nothing"
        );
    }
    // Each stage is announced as it ends.
    for stage in ["read", "compile", "import", "load", "reconcile"] {
        assert!(
            err.contains(&format!("{stage}: ")),
            "{stage} not announced: {err}"
        );
    }
}
