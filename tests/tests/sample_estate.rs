//! The bundled sample estate through the command line: the quick-start output, the JSON
//! fields the reports promise, and that every consumed figure is the sum of its assessment rows.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;
use tally_tests::tally;

const AS_OF: &str = "2026-11-01";

fn json(args: &[&str]) -> Vec<Value> {
    let (code, out, err) = tally(args);
    assert_eq!(code, 0, "{err}");
    match serde_json::from_str(&out) {
        Ok(Value::Array(items)) => items,
        other => panic!("expected a JSON array, got {other:?}"),
    }
}

/// A decimal written as an exact JSON number.
fn decimal(v: &Value) -> Decimal {
    v.is_number()
        .then(|| Decimal::from_str(&v.to_string()).ok())
        .flatten()
        .unwrap_or_else(|| panic!("expected a JSON number, got {v}"))
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
                "access_mode",
                "allocation_type",
                "installed",
                "used",
                "priority",
                "supplementary",
                "entitlement_limit",
                "exemption",
                "available_after",
            ] {
                assert!(row.get(key).is_some(), "assessment lacks `{key}`: {row}");
            }
        }
        // The view also shows the other licenses the license's devices considered.
        let units: Decimal = rows
            .iter()
            .filter(|r| r["license"] == p["license"])
            .map(|r| decimal(&r["units"]))
            .sum();
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
    let (code, out, err) = tally(&["explain", "--license", "L-NOPE", "--as-of", AS_OF]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.contains("T0302") && err.contains("`L-NOPE`"), "{err}");
}

#[test]
fn usage_errors_are_coded() {
    for args in [
        &["reconcile", "--no-such-option"][..],
        &["explain"],
        &["reconcile", "--as-of", "yesterday"],
        &["frobnicate"],
        &[],
    ] {
        let (code, out, err) = tally(args);
        assert_eq!((code, out.as_str()), (2, ""), "{args:?}");
        assert!(err.contains("error[T0301]:"), "{args:?}: {err}");
    }
    let (code, out, _) = tally(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("Usage"), "{out}");
}

/// An estate folder of the sample estate with `devices.csv` replaced.
fn estate_with_devices(devices: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/contoso");
    for name in [
        "users.csv",
        "evidence.csv",
        "licenses.yaml",
        "purchases.csv",
    ] {
        std::fs::copy(sample.join(name), tmp.path().join(name)).unwrap();
    }
    std::fs::write(tmp.path().join("devices.csv"), devices).unwrap();
    tmp
}

#[test]
fn diagnostics_are_bounded_per_file_and_complete_as_json() {
    let rows: String = (0..120)
        .map(|i| format!("D{i},x,desktop,,,1,many\n"))
        .collect();
    let tmp = estate_with_devices(&format!(
        "id,name,chassis,os,os_type,processors,cores\n{rows}"
    ));
    let dir = tmp.path().to_str().unwrap();
    let (code, out, err) = tally(&["reconcile", dir, "--as-of", AS_OF]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(err.matches("T0203").count(), 50, "{err}");
    assert!(err.contains("… and 70 more diagnostics in"), "{err}");
    let (_, _, err) = tally(&["reconcile", dir, "--max-diagnostics", "0", "--as-of", AS_OF]);
    assert_eq!(err.matches("T0203").count(), 120);
    assert!(!err.contains("more diagnostics in `"), "{err}");
    let (code, out, err) = tally(&["reconcile", dir, "--format", "json", "--as-of", AS_OF]);
    assert_eq!((code, out.as_str()), (2, ""));
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(&err) else {
        panic!("expected a JSON array on stderr: {err}");
    };
    let bad_values = items.iter().filter(|d| d["code"] == "T0203").count();
    assert_eq!(bad_values, 120);
    assert_eq!(items[0]["code"], "T0203");
    assert_eq!(items[0]["line"], 2);
}

#[test]
fn a_megabyte_line_gives_one_short_error() {
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/contoso");
    let devices = std::fs::read_to_string(sample.join("devices.csv")).unwrap();
    let long = "x".repeat(1 << 20);
    // The first device's processor model and core count, a megabyte each.
    let mut lines: Vec<String> = devices.lines().map(str::to_string).collect();
    let mut fields: Vec<&str> = lines[1].split(',').collect();
    fields[6] = &long;
    fields[9] = &long;
    lines[1] = fields.join(",");
    let tmp = estate_with_devices(&(lines.join("\n") + "\n"));
    let (code, out, err) = tally(&["reconcile", tmp.path().to_str().unwrap(), "--as-of", AS_OF]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(err.matches("T0203").count(), 1, "{err}");
    assert!(err.len() < 2_000, "{} bytes: {}", err.len(), &err[..2_000]);
}

#[test]
fn the_sample_estates_unlicensed_installations_are_reported() {
    let rows = json(&[
        "report",
        "unlicensed",
        "--sample",
        "--format",
        "json",
        "--as-of",
        AS_OF,
    ]);
    let found: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default();
            (s("device"), s("application"), s("why"))
        })
        .collect();
    for device in ["CON-SRV-02", "CON-VM-APP01"] {
        assert!(
            found.contains(&(device, "microsoft.sql_server.v2019", "no_license")),
            "{found:?}"
        );
    }
    // Costliest first: every known estimate before the unknown ones, in falling order.
    let costs: Vec<Option<Decimal>> = rows
        .iter()
        .map(|r| (!r["estimated_cost"].is_null()).then(|| decimal(&r["estimated_cost"])))
        .collect();
    let mut sorted = costs.clone();
    sorted.sort_by(|a, b| b.is_some().cmp(&a.is_some()).then(b.cmp(a)));
    assert_eq!(costs, sorted);
}

#[test]
fn json_numbers_compare_and_retired_licenses_are_never_available() {
    let positions = json(&[
        "reconcile",
        "--sample",
        "--format",
        "json",
        "--as-of",
        AS_OF,
    ]);
    // What `jq '.[] | select(.available < 0)'` selects.
    let short: Vec<&str> = positions
        .iter()
        .filter(|p| p["available"].as_f64().is_some_and(|a| a < 0.0))
        .map(|p| p["license"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(short, ["L-MS-PROJECT-PRO-2019", "L-MS-VISIO-PRO-2016"]);
    let retired: Vec<&Value> = positions.iter().filter(|p| p["retired"] == true).collect();
    assert_eq!(retired.len(), 1);
    assert_eq!(retired[0]["license"], "L-ADOBE-ACROBAT-XI-PRO");
    assert!(retired[0]["available"].is_null());
    let unused = json(&[
        "report",
        "under-consumed",
        "--sample",
        "--format",
        "json",
        "--as-of",
        AS_OF,
    ]);
    assert!(
        unused
            .iter()
            .all(|u| u["license"] != "L-ADOBE-ACROBAT-XI-PRO")
    );
}
