//! `tally diff` end to end: a pack committed to a fresh git repository, one recognition rule
//! changed in a second commit, and the exact change in recognition and in the license position
//! that `tally diff HEAD~1 HEAD ESTATE` reports (see `tests/diff/README.md`).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use tally_tests::tally;

const AS_OF: &str = "2026-11-01";
const RULE_BEFORE: &str = r#"name like "Acme CAD 2025%""#;
const RULE_AFTER: &str = r#"name like "Acme CAD%2025%""#;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("diff")
}

/// Runs git in `dir`, isolated from the machine's and the user's git configuration.
fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args([
            "-c",
            "user.name=Tally Test",
            "-c",
            "user.email=test@example.invalid",
        ])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?} failed");
}

/// A repository whose `pack/` holds the fixture's pack at HEAD~1 and the pack with the CAD rule
/// widened at HEAD.
fn repository() -> tempfile::TempDir {
    let repo = tempfile::tempdir().expect("temp dir");
    let pack = repo.path().join("pack");
    std::fs::create_dir(&pack).expect("pack folder");
    let text = std::fs::read_to_string(fixture().join("pack/acme.tally")).expect("fixture");
    std::fs::write(pack.join("acme.tally"), &text).expect("write pack");
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "pack"]);
    git(repo.path(), &["commit", "-q", "-m", "Acme CAD pack"]);
    assert!(text.contains(RULE_BEFORE));
    std::fs::write(
        pack.join("acme.tally"),
        text.replace(RULE_BEFORE, RULE_AFTER),
    )
    .expect("change the rule");
    git(
        repo.path(),
        &["commit", "-q", "-a", "-m", "Widen the CAD rule"],
    );
    repo
}

fn diff(repo: &Path, extra: &[&str]) -> (u8, String, String) {
    let estate = fixture().join("estate");
    let mut args = vec![
        "diff".to_owned(),
        "HEAD~1".to_owned(),
        "HEAD".to_owned(),
        estate.display().to_string(),
        "--repo".to_owned(),
        repo.display().to_string(),
        "--no-std".to_owned(),
        "--as-of".to_owned(),
        AS_OF.to_owned(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    tally(&args)
}

#[test]
fn a_committed_rule_change_shows_its_exact_position_change() {
    let repo = repository();
    let (code, out, err) = diff(&repo.path().join("pack"), &[]);
    assert_eq!((code, err.as_str()), (0, ""));
    insta::assert_snapshot!(out);

    let (code, out, err) = diff(&repo.path().join("pack"), &["--format", "json"]);
    assert_eq!((code, err.as_str()), (0, ""));
    let json: Value = serde_json::from_str(&out).expect("JSON");
    let declarations = json["declarations"].as_array().expect("declarations");
    assert_eq!(declarations.len(), 1);
    assert_eq!(declarations[0]["change"], "changed");
    assert_eq!(declarations[0]["name"], "acme.cad_2025");
    assert_eq!(declarations[0]["file"], "pack/acme.tally");
    let estate = &json["estate"];
    let app = &estate["applications"][0];
    assert_eq!(app["application"], "acme.cad_2025");
    assert_eq!(
        (&app["devices"]["before"], &app["devices"]["after"]),
        (&3.into(), &4.into())
    );
    assert_eq!(app["gained_sample"], serde_json::json!(["D4"]));
    let licenses = estate["licenses"].as_array().expect("licenses");
    assert_eq!(licenses.len(), 1, "only L-CAD moves");
    let cad = &licenses[0];
    assert_eq!(cad["license"], "L-CAD");
    assert_eq!(cad["before"]["consumed"], "3");
    assert_eq!(cad["after"]["consumed"], "4");
    assert_eq!(cad["before"]["status"], "Compliant");
    assert_eq!(cad["after"]["status"], "At risk");
    assert_eq!(cad["before"]["cost_at_risk"], "0");
    assert_eq!(cad["after"]["cost_at_risk"], "250.00");
    assert_eq!(estate["licenses_unchanged"], 1);
}

#[test]
fn fail_on_at_risk_increase_exits_1_only_when_the_risk_grows() {
    let repo = repository();
    let pack = repo.path().join("pack");
    let (code, _, err) = diff(&pack, &["--fail-on", "at-risk-increase"]);
    assert_eq!((code, err.as_str()), (1, ""));
    // The change reverted: the risk falls.
    let estate = fixture().join("estate");
    let args = [
        "diff",
        "HEAD",
        "HEAD~1",
        &estate.display().to_string(),
        "--repo",
        &pack.display().to_string(),
        "--no-std",
        "--as-of",
        AS_OF,
        "--fail-on",
        "at-risk-increase",
    ];
    let (code, _, err) = tally(&args);
    assert_eq!((code, err.as_str()), (0, ""));
    let (code, _, _) = tally(&[&args[..9], &["--fail-on", "status-change"]].concat());
    assert_eq!(code, 1);
}

#[test]
fn the_pack_folder_is_found_from_the_repository_top_with_path() {
    let repo = repository();
    let (code, at_top, err) = diff(repo.path(), &["--path", "pack"]);
    assert_eq!((code, err.as_str()), (0, ""));
    let (_, in_pack, _) = diff(&repo.path().join("pack"), &[]);
    assert_eq!(at_top, in_pack);
    // Without `--path`, the top of the repository means the whole tree, which holds the pack.
    let (_, whole_tree, _) = diff(repo.path(), &[]);
    assert_eq!(whole_tree, in_pack);
}

#[test]
fn folders_compare_like_revisions() {
    let dirs = tempfile::tempdir().expect("temp dir");
    let (base, head) = (dirs.path().join("base"), dirs.path().join("head"));
    for dir in [&base, &head] {
        std::fs::create_dir(dir).expect("folder");
    }
    let text = std::fs::read_to_string(fixture().join("pack/acme.tally")).expect("fixture");
    std::fs::write(base.join("acme.tally"), &text).expect("write");
    std::fs::write(
        head.join("acme.tally"),
        text.replace(RULE_BEFORE, RULE_AFTER),
    )
    .expect("write");
    let estate = fixture().join("estate");
    let args = [
        "diff",
        &base.display().to_string(),
        &head.display().to_string(),
        &estate.display().to_string(),
        "--no-std",
        "--as-of",
        AS_OF,
        "--format",
        "json",
    ];
    let (code, out, err) = tally(&args);
    assert_eq!((code, err.as_str()), (0, ""));
    let json: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(json["declarations"][0]["file"], "acme.tally");
    assert_eq!(json["estate"]["licenses"][0]["after"]["consumed"], "4");
}

#[test]
fn without_an_estate_only_declarations_are_compared() {
    let repo = repository();
    let args = [
        "diff",
        "HEAD~1",
        "HEAD",
        "--repo",
        &repo.path().join("pack").display().to_string(),
        "--no-std",
    ];
    let (code, out, err) = tally(&args);
    assert_eq!((code, err.as_str()), (0, ""));
    insta::assert_snapshot!(out);
}

#[test]
fn an_unknown_revision_is_an_error_that_names_it() {
    let repo = repository();
    let args = [
        "diff",
        "no-such-branch",
        "HEAD",
        "--repo",
        &repo.path().display().to_string(),
        "--no-std",
    ];
    let (code, out, err) = tally(&args);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.starts_with("T0211\n"), "{err}");
    assert!(
        err.contains("`no-such-branch` is neither a folder nor a revision"),
        "{err}"
    );
}

#[test]
fn a_head_that_does_not_compile_shows_its_diagnostics_at_the_revision() {
    let repo = repository();
    let file = repo.path().join("pack/acme.tally");
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(
        &file,
        text.replace("product acme.cad\n", "product acme.kad\n"),
    )
    .expect("write");
    git(
        repo.path(),
        &["commit", "-q", "-a", "-m", "Misspell a product"],
    );
    let (code, out, err) = diff(&repo.path().join("pack"), &[]);
    assert_eq!((code, out.as_str()), (2, ""));
    insta::assert_snapshot!(err);
}

#[test]
fn a_revision_s_pack_manifest_is_honoured() {
    let repo = repository();
    let manifest = repo.path().join("pack/tally.yaml");
    std::fs::write(&manifest, "language_version: 2\n").expect("write");
    git(repo.path(), &["add", "pack/tally.yaml"]);
    git(
        repo.path(),
        &["commit", "-q", "-m", "A pack in a later syntax"],
    );
    let (code, out, err) = diff(&repo.path().join("pack"), &[]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.starts_with("T0316\n"), "{err}");
    assert!(err.contains("HEAD:pack/tally.yaml"), "{err}");
}
