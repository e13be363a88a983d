//! The commands rule authors work with, through the command line: the triage of the sample
//! estate's unrecognised evidence, and the standard packs listed and exported. (`test
//! --filter` and `--verbose` are in scenario 21.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tally_tests::tally;

const AS_OF: &str = "2026-11-01";

#[test]
fn triage_of_the_sample_estate_as_a_table() {
    let (code, out, err) = tally(&["recognize", "--unrecognized", "--sample", "--as-of", AS_OF]);
    assert_eq!((code, err.as_str()), (0, ""));
    for line in out.lines() {
        assert!(line.chars().count() <= 80, "wider than 80 columns: {line}");
    }
    insta::assert_snapshot!(out);
}

#[test]
fn triage_of_the_sample_estate_as_json() {
    let args = [
        "recognize",
        "--unrecognized",
        "--sample",
        "--format",
        "json",
        "--as-of",
        AS_OF,
    ];
    let (code, out, err) = tally(&args);
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(tally(&args).1, out, "the same estate gives the same output");
    let Ok(Value::Array(rows)) = serde_json::from_str::<Value>(&out) else {
        panic!("expected a JSON array: {out}");
    };
    let devices = |row: &Value| row["devices"].as_u64().unwrap();
    let groups: Vec<&Value> = rows
        .iter()
        .filter(|r| r["category"] == "unrecognized")
        .collect();
    assert!(
        groups.windows(2).all(|w| devices(w[0]) >= devices(w[1])),
        "most devices first"
    );
    assert!(groups.iter().all(|g| {
        let samples = g["sample_devices"].as_str().unwrap().split(';').count();
        (1..=3).contains(&samples) && samples as u64 <= devices(g)
    }));
    insta::assert_snapshot!(out);
}

#[test]
fn triage_as_csv_has_a_row_per_group_then_per_noise_category() {
    let (code, out, _) = tally(&[
        "recognize",
        "--unrecognized",
        "--sample",
        "--format",
        "csv",
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(code, 0);
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some(
            "category,devices,rows,kind,publisher,product,version_family,sample_devices,\
             suggested_application,suggested_rule"
        )
    );
    let categories: Vec<&str> = lines.filter_map(|l| l.split(',').next()).collect();
    let noise_from = categories
        .iter()
        .position(|c| *c != "unrecognized")
        .unwrap();
    assert!(noise_from > 0);
    assert!(categories[noise_from..].contains(&"update"), "{out}");
}

#[test]
fn the_standard_packs_are_listed_with_their_declarations() {
    let (code, out, err) = tally(&["packs", "list"]);
    assert_eq!((code, err.as_str()), (0, ""));
    insta::assert_snapshot!(out);
}

/// The standard packs as files in the repository, by their paths relative to it: what the
/// build embeds into tally.
fn standard_pack_files() -> BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = BTreeMap::new();
    for dir in ["rules", "arl", "purl", "skus"] {
        for path in files_below(&root.join(dir)) {
            if path.extension().is_some_and(|e| e == "tally") {
                let relative = path.strip_prefix(&root).unwrap();
                let key = relative.to_string_lossy().replace('\\', "/");
                files.insert(key, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    files
}

fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_below(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn the_standard_packs_are_exported_as_embedded_and_not_overwritten_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("packs");
    let dir_arg = dir.to_str().unwrap();

    let (code, out, err) = tally(&["packs", "export", dir_arg]);
    assert_eq!((code, err.as_str()), (0, ""));
    let expected = standard_pack_files();
    assert_eq!(
        out,
        format!("exported {} files to {dir_arg}\n", expected.len())
    );
    let exported: BTreeMap<String, String> = files_below(&dir)
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(&dir).unwrap();
            let key = relative.to_string_lossy().replace('\\', "/");
            (key, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    // Identical files, and no temporary file left behind.
    assert_eq!(exported, expected);

    let edited = dir.join("rules/metrics.tally");
    std::fs::write(&edited, "// edited\n").unwrap();
    let (code, out, err) = tally(&["packs", "export", dir_arg]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(
        err.contains("T0303") && err.contains(&format!("{} files already in", expected.len())),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    assert_eq!(std::fs::read_to_string(&edited).unwrap(), "// edited\n");

    let (code, _, err) = tally(&["packs", "export", dir_arg, "--force"]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(
        std::fs::read_to_string(&edited).unwrap(),
        expected["rules/metrics.tally"]
    );

    let (code, out, _) = tally(&["packs", "export", dir_arg, "--force", "--format", "json"]);
    assert_eq!(code, 0);
    let Ok(Value::Array(rows)) = serde_json::from_str::<Value>(&out) else {
        panic!("expected a JSON array: {out}");
    };
    assert_eq!(rows.len(), expected.len());
    assert_eq!(rows[0]["file"], *expected.keys().next().unwrap());
}

#[test]
fn an_export_that_cannot_be_written_is_an_input_error() {
    let tmp = tempfile::tempdir().unwrap();
    let blocked = tmp.path().join("a-file");
    std::fs::write(&blocked, "").unwrap();
    let (code, out, err) = tally(&["packs", "export", blocked.to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.contains("T0304"), "{err}");
    assert!(err.contains("could not be written"), "{err}");
}
