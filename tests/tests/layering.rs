//! Pack layering against the standard packs: a user pack that extends a standard declaration
//! and one that overrides it both work, the standard tests stay green, `explain` names the
//! declaration in force, and the mistakes layering refuses are reported.

use tally_tests::tally;

fn run(args: &[&str]) -> String {
    let (code, out, err) = tally(args);
    format!(
        "$ tally {}\nexit code: {code}\n--- stdout\n{out}--- stderr\n{err}",
        args.join(" ")
    )
}

#[test]
fn a_pack_that_extends_visio_keeps_the_standard_tests_green() {
    let (code, out, err) = tally(&["test", "layering/extend-visio"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("0 failed"), "{out}");
    insta::assert_snapshot!(run(&["check", "layering/extend-visio"]));
}

#[test]
fn a_pack_that_overrides_visio_keeps_the_standard_tests_green() {
    let (code, out, err) = tally(&["test", "layering/override-visio"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("0 failed"), "{out}");
    // The standard tests about the replaced declaration are skipped, with the reason.
    let (_, json, _) = tally(&["test", "layering/override-visio", "--format", "json"]);
    assert!(
        json.contains("is overridden in layering/override-visio/visio.tally"),
        "{json}"
    );
}

#[test]
fn explain_names_the_declaration_in_force() {
    insta::assert_snapshot!(run(&[
        "explain",
        "--device",
        "CON-LT-0002",
        "--pack",
        "layering/override-visio",
        "--as-of",
        "2026-11-01"
    ]));
    insta::assert_snapshot!(run(&[
        "explain",
        "--device",
        "CON-LT-0002",
        "--pack",
        "layering/extend-visio",
        "--as-of",
        "2026-11-01",
        "--format",
        "csv"
    ]));
}

#[test]
fn layering_mistakes_are_errors() {
    insta::assert_snapshot!(run(&["check", "layering/conflicts"]));
}

#[test]
fn the_standard_tests_pass() {
    let (code, out, err) = tally(&["test"]);
    assert_eq!(code, 0, "{out}{err}");
}
