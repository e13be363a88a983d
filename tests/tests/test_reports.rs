//! `tally test` on scenario folders: `expected.json` compared with what the packs make of the
//! folder's estate, written by `--update`, and the differences listed when they disagree. (The
//! sample evidence files and the JUnit report are in scenario 67's commands.)

use std::path::{Path, PathBuf};

use tally_tests::{ESTATE_FILES, tally};

fn scenario() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/67-test-reports")
}

/// A copy of scenario 67's estate, packs and expected file in a temporary folder.
fn copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let packs = dir.path().join("packs");
    std::fs::create_dir(&packs).expect("packs");
    for name in ESTATE_FILES.iter().chain(&["expected.json"]) {
        std::fs::copy(scenario().join(name), dir.path().join(name)).expect("copy");
    }
    std::fs::copy(
        scenario().join("packs/acme.tally"),
        packs.join("acme.tally"),
    )
    .expect("copy");
    dir
}

#[test]
fn a_scenario_folder_passes_when_its_expected_position_holds() {
    let dir = scenario().display().to_string();
    let (code, out, err) = tally(&["test", &dir, "--no-std", "--verbose"]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(
        out.starts_with(&format!("pass  {dir}  ({dir}/expected.json)\n")),
        "{out}"
    );
    assert!(
        out.ends_with("\n1 passed, 0 failed, 0 filtered out\n"),
        "{out}"
    );
}

#[test]
fn a_scenario_whose_position_moved_fails_with_each_difference() {
    let dir = copy();
    let purchases = dir.path().join("purchases.csv");
    let text = std::fs::read_to_string(&purchases).expect("read");
    std::fs::write(&purchases, text.replace("P1,L-CAD,3,", "P1,L-CAD,2,")).expect("write");
    let shown = dir.path().display().to_string();
    let (code, out, err) = tally(&["test", &shown, "--no-std"]);
    assert_eq!((code, err.as_str()), (1, ""));
    insta::assert_snapshot!(out.replace(&shown, "SCENARIO"));

    // `--update` writes what the packs make, after which the scenario passes.
    let (code, out, _) = tally(&["test", &shown, "--no-std", "--update"]);
    assert_eq!(code, 0);
    assert_eq!(
        out.replace(&shown, "SCENARIO"),
        "updated SCENARIO/expected.json\n\n1 passed, 0 failed, 0 filtered out\n"
    );
    let written = std::fs::read_to_string(dir.path().join("expected.json")).expect("read");
    assert!(written.starts_with("{\n  \"as_of\": \"2026-11-01\",\n  \"positions\": ["));
    assert!(written.contains("\"status\": \"At risk\""));
    let (code, _, _) = tally(&["test", &shown, "--no-std"]);
    assert_eq!(code, 0);
}

#[test]
fn an_expected_file_without_a_day_is_an_error_at_the_file() {
    let dir = copy();
    std::fs::write(dir.path().join("expected.json"), "{ \"positions\": [] }\n").expect("write");
    let shown = dir.path().display().to_string();
    let (code, out, err) = tally(&["test", &shown, "--no-std"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.starts_with("T0107\n"), "{err}");
    assert!(
        err.contains("the file has no `as_of` day written `YYYY-MM-DD`"),
        "{err}"
    );
}

#[test]
fn a_malformed_sample_file_is_an_error_at_its_line() {
    let dir = copy();
    let sample =
        "kind,name\n# ruleid: acme.cad_2026\ninstaller,Acme CAD 2025\n# ruleid: acme.cad_2025\n";
    std::fs::write(dir.path().join("packs/acme.evidence.csv"), sample).expect("write");
    let packs = dir.path().join("packs").display().to_string();
    let (code, out, err) = tally(&["test", &packs, "--no-std"]);
    assert_eq!((code, out.as_str()), (2, ""));
    insta::assert_snapshot!(err.replace(&packs, "PACK"));
}
