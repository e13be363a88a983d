//! The bundled sample estate through the command line: the quick-start output, the JSON
//! fields the reports promise, and that every consumed figure is the sum of its assessment rows.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;

const AS_OF: &str = "2026-11-01";

fn tally(args: &[&str]) -> (u8, String, String) {
    let mut argv = vec!["tally"];
    argv.extend_from_slice(args);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = tally::run(&argv, &mut out, &mut err);
    (
        code,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

fn json(args: &[&str]) -> Vec<Value> {
    let (code, out, err) = tally(args);
    assert_eq!(code, 0, "{err}");
    match serde_json::from_str(&out) {
        Ok(Value::Array(items)) => items,
        other => panic!("expected a JSON array, got {other:?}"),
    }
}

fn decimal(v: &Value) -> Decimal {
    v.as_str()
        .and_then(|s| Decimal::from_str(s).ok())
        .unwrap_or_else(|| panic!("expected a decimal string, got {v}"))
}

#[test]
fn the_quick_start_reconciles_the_sample_estate() {
    let (code, out, err) = tally(&["reconcile", "--as-of", AS_OF]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!(out);
}

#[test]
fn every_consumed_figure_is_explained_by_assessment_rows() {
    let positions = json(&["reconcile", "--format", "json", "--as-of", AS_OF]);
    assert!(positions.len() >= 10);
    for p in &positions {
        for key in [
            "license",
            "name",
            "metric",
            "entitled",
            "consumed",
            "available",
            "status",
            "unit_price",
            "cost_at_risk",
        ] {
            assert!(p.get(key).is_some(), "position lacks `{key}`: {p}");
        }
        let license = p["license"].as_str().unwrap_or_default();
        let rows = json(&[
            "explain",
            "--license",
            license,
            "--format",
            "json",
            "--as-of",
            AS_OF,
        ]);
        for row in &rows {
            for key in [
                "license",
                "device",
                "user",
                "application",
                "result",
                "reason",
                "message",
            ] {
                assert!(row.get(key).is_some(), "assessment lacks `{key}`: {row}");
            }
            assert_eq!(row["license"], p["license"]);
        }
        let units: Decimal = rows.iter().map(|r| decimal(&r["units"])).sum();
        assert_eq!(
            units,
            decimal(&p["consumed"]),
            "license {license}: rows {rows:?}"
        );
        if p["available"].is_string() {
            assert_eq!(
                decimal(&p["available"]),
                decimal(&p["entitled"]) - decimal(&p["consumed"])
            );
        }
    }
}

#[test]
fn output_is_byte_identical_across_runs() {
    let args = [
        "explain",
        "--license",
        "L-MS-VISIO-PRO-2016",
        "--format",
        "csv",
        "--as-of",
        AS_OF,
    ];
    let (first, second) = (tally(&args), tally(&args));
    assert_eq!(first, second);
}

#[test]
fn an_unknown_subject_is_an_input_error() {
    let (code, _, err) = tally(&["explain", "--license", "L-NOPE", "--as-of", AS_OF]);
    assert_eq!(code, 2);
    assert!(err.contains("`L-NOPE`"), "{err}");
}

#[test]
fn the_standard_packs_check_and_their_tests_pass() {
    let (code, out, err) = tally(&["check"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("0 errors"), "{out}");
    let (code, out, _) = tally(&["test"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.trim_end().ends_with("0 failed"), "{out}");
}
