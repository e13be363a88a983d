//! Every figure in every report is explained by `explain` rows: on the sample estate and on
//! every scenario estate, the rows `tally explain` prints are summed and compared with the
//! figures `tally reconcile` and `tally report` print.
//!
//! - each position's `consumed` is the sum of the units of its *Consumed* rows in
//!   `explain --license`, and no other row of it has units; `available` is entitled minus
//!   that sum;
//! - each device's consumption from each license, summed from `explain --device`, is what
//!   `explain --license` shows for that device, so the devices' sums make up the position;
//! - the unlicensed report's rows are the installations whose `explain --device` rows have
//!   no *Consumed* row: `why` is `no_license` exactly when there is no row, and `candidates`
//!   are the rows' licenses and reasons; conversely every installation with rows and none
//!   *Consumed* is in the report;
//! - cost at risk is shortfall × unit price, with the shortfall from the same rows, for
//!   exactly the licenses at risk; the under-consumed report's `available` and
//!   `unused_value` come from the same rows.
//!
//! The checker ([`unexplained`]) is tested on its own: a figure that the rows do not back
//! makes it fail.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;
use tally_tests::tally;

const AS_OF: &str = "2026-11-01";

/// What the reports print, as JSON rows.
#[derive(Debug, Clone, Default)]
struct Figures {
    positions: Vec<Value>,
    unlicensed: Vec<Value>,
    cost_at_risk: Vec<Value>,
    under_consumed: Vec<Value>,
}

/// What `explain` prints, as JSON rows, and the installations recognition found.
#[derive(Debug, Clone, Default)]
struct Explained {
    /// `explain --license L` for every position's license.
    by_license: BTreeMap<String, Vec<Value>>,
    /// `explain --device D` for every device that has an installation or a row.
    by_device: BTreeMap<String, Vec<Value>>,
    /// (device, application) of every installation.
    installations: BTreeSet<(String, String)>,
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// A figure written as an exact JSON number; `None` for `null` or anything else.
fn number(v: &Value, key: &str) -> Option<Decimal> {
    let n = v.get(key).filter(|n| n.is_number())?;
    Decimal::from_str(&n.to_string()).ok()
}

fn consumed(row: &Value) -> bool {
    text(row, "result") == "Consumed"
}

/// The checked sum of the units of `rows`; `None` when it overflows.
fn units<'a>(rows: impl IntoIterator<Item = &'a Value>) -> Option<Decimal> {
    rows.into_iter().try_fold(Decimal::ZERO, |sum, r| {
        sum.checked_add(number(r, "units").unwrap_or_default())
    })
}

/// Records a figure that differs from what its rows add up to.
fn check(errors: &mut Vec<String>, what: String, figure: Option<Decimal>, rows: Option<Decimal>) {
    if figure != rows {
        errors.push(format!("{what}: reported {figure:?}, rows say {rows:?}"));
    }
}

/// Every figure the rows do not back, described; empty when every figure is explained.
fn unexplained(figures: &Figures, explained: &Explained) -> Vec<String> {
    let mut errors = Vec::new();
    // Positions, from the license view.
    let mut from_rows: BTreeMap<String, Option<Decimal>> = BTreeMap::new();
    for p in &figures.positions {
        let license = text(p, "license");
        let rows = explained.by_license.get(&license);
        let own: Vec<&Value> = rows
            .into_iter()
            .flatten()
            .filter(|r| text(r, "license") == license)
            .collect();
        let sum = units(own.iter().copied().filter(|r| consumed(r)));
        let elsewhere = units(own.iter().copied().filter(|r| !consumed(r)));
        check(
            &mut errors,
            format!("{license}: units on rows that are not Consumed"),
            Some(Decimal::ZERO),
            elsewhere,
        );
        check(
            &mut errors,
            format!("{license}: consumed"),
            number(p, "consumed"),
            sum,
        );
        if let Some(available) = number(p, "available") {
            let entitled = number(p, "entitled");
            check(
                &mut errors,
                format!("{license}: available"),
                Some(available),
                entitled.zip(sum).and_then(|(e, s)| e.checked_sub(s)),
            );
        }
        from_rows.insert(license, sum);
    }
    // Each device's consumption, from the device view, is the license view's.
    for (license, rows) in &explained.by_license {
        let mut by_device: BTreeMap<String, Option<Decimal>> = BTreeMap::new();
        for r in rows
            .iter()
            .filter(|r| text(r, "license") == *license && consumed(r))
        {
            let total = by_device
                .entry(text(r, "device"))
                .or_insert(Some(Decimal::ZERO));
            *total = total
                .zip(number(r, "units"))
                .and_then(|(t, u)| t.checked_add(u));
        }
        for (device, rows) in &explained.by_device {
            let sum = units(
                rows.iter()
                    .filter(|r| text(r, "license") == *license && consumed(r)),
            );
            let expected = by_device
                .get(device)
                .copied()
                .unwrap_or(Some(Decimal::ZERO));
            check(
                &mut errors,
                format!("{license} on device {device}"),
                expected,
                sum,
            );
        }
        let without_device = by_device.get("").copied().unwrap_or(Some(Decimal::ZERO));
        let devices = explained
            .by_device
            .values()
            .flatten()
            .filter(|r| text(r, "license") == *license && consumed(r));
        let devices_sum = units(devices)
            .zip(without_device)
            .and_then(|(a, b)| a.checked_add(b));
        check(
            &mut errors,
            format!("{license}: the devices' consumption"),
            from_rows.get(license).copied().flatten(),
            devices_sum,
        );
    }
    // The unlicensed report, from the device view.
    let mut reported = BTreeSet::new();
    for u in &figures.unlicensed {
        let (device, application) = (text(u, "device"), text(u, "application"));
        let rows: Vec<&Value> = explained
            .by_device
            .get(&device)
            .into_iter()
            .flatten()
            .filter(|r| text(r, "application") == application)
            .collect();
        if rows.iter().any(|r| consumed(r)) {
            errors.push(format!(
                "{application} on {device} is reported unlicensed but has a Consumed row"
            ));
        }
        let why = if rows.is_empty() {
            "no_license"
        } else {
            "rejected"
        };
        if text(u, "why") != why {
            errors.push(format!("{application} on {device}: why is not `{why}`"));
        }
        let candidates: Vec<String> = rows
            .iter()
            .map(|r| format!("{} {}", text(r, "license"), text(r, "reason")))
            .collect();
        if text(u, "candidates") != candidates.join("; ") {
            errors.push(format!(
                "{application} on {device}: candidates are not {candidates:?}"
            ));
        }
        reported.insert((device, application));
    }
    for (device, application) in &explained.installations {
        let rows: Vec<&Value> = explained
            .by_device
            .get(device)
            .into_iter()
            .flatten()
            .filter(|r| text(r, "application") == *application)
            .collect();
        let unlicensed = !rows.is_empty() && !rows.iter().any(|r| consumed(r));
        if unlicensed && !reported.contains(&(device.clone(), application.clone())) {
            errors.push(format!(
                "{application} on {device} consumes from no license but is not reported"
            ));
        }
    }
    // Money, from the same rows.
    let positions: BTreeMap<String, &Value> = figures
        .positions
        .iter()
        .map(|p| (text(p, "license"), p))
        .collect();
    let entitled = |license: &str| positions.get(license).and_then(|p| number(p, "entitled"));
    let at_risk: BTreeSet<String> = figures
        .positions
        .iter()
        .filter(|p| text(p, "status") == "At risk")
        .map(|p| text(p, "license"))
        .collect();
    let in_report: BTreeSet<String> = figures
        .cost_at_risk
        .iter()
        .map(|c| text(c, "license"))
        .collect();
    if at_risk != in_report {
        errors.push(format!(
            "cost at risk lists {in_report:?}, the licenses at risk are {at_risk:?}"
        ));
    }
    for c in &figures.cost_at_risk {
        let license = text(c, "license");
        let shortfall = from_rows
            .get(&license)
            .copied()
            .flatten()
            .zip(entitled(&license))
            .and_then(|(s, e)| s.checked_sub(e));
        check(
            &mut errors,
            format!("{license}: shortfall"),
            number(c, "shortfall"),
            shortfall,
        );
        let cost = shortfall
            .zip(number(c, "unit_price"))
            .and_then(|(s, p)| s.checked_mul(p));
        check(
            &mut errors,
            format!("{license}: cost at risk"),
            number(c, "cost_at_risk"),
            cost,
        );
    }
    for u in &figures.under_consumed {
        let license = text(u, "license");
        let available = entitled(&license)
            .zip(from_rows.get(&license).copied().flatten())
            .and_then(|(e, s)| e.checked_sub(s));
        check(
            &mut errors,
            format!("{license}: available"),
            number(u, "available"),
            available,
        );
        let value = available
            .zip(number(u, "unit_price"))
            .and_then(|(a, p)| a.checked_mul(p));
        check(
            &mut errors,
            format!("{license}: unused value"),
            number(u, "unused_value"),
            value,
        );
    }
    errors
}

/// Runs `tally` with `args` and the estate's arguments; the JSON rows, `None` when the
/// command fails.
fn rows(estate: &[String], args: &[&str]) -> Option<Vec<Value>> {
    let mut all: Vec<String> = args.iter().map(|a| (*a).to_string()).collect();
    all.extend(estate.iter().cloned());
    all.extend([
        "--format".into(),
        "json".into(),
        "--as-of".into(),
        AS_OF.into(),
    ]);
    let (code, out, _) = tally(&all);
    if code != 0 {
        return None;
    }
    match serde_json::from_str(&out) {
        Ok(Value::Array(items)) => Some(items),
        _ => None,
    }
}

/// The figures and explain rows of one estate; `None` when it does not load.
fn gather(estate: &[String]) -> Option<(Figures, Explained)> {
    let figures = Figures {
        positions: rows(estate, &["reconcile"])?,
        unlicensed: rows(estate, &["report", "unlicensed"])?,
        cost_at_risk: rows(estate, &["report", "cost-at-risk"])?,
        under_consumed: rows(estate, &["report", "under-consumed"])?,
    };
    let mut explained = Explained::default();
    for r in rows(estate, &["recognize"])? {
        if text(&r, "status") == "installed" {
            explained
                .installations
                .insert((text(&r, "device"), text(&r, "application")));
        }
    }
    for p in &figures.positions {
        let license = text(p, "license");
        let found = rows(estate, &["explain", "--license", &license])?;
        explained.by_license.insert(license, found);
    }
    let devices: BTreeSet<String> = explained
        .installations
        .iter()
        .map(|(d, _)| d.clone())
        .chain(
            explained
                .by_license
                .values()
                .flatten()
                .map(|r| text(r, "device")),
        )
        .filter(|d| !d.is_empty())
        .collect();
    for device in devices {
        let found = rows(estate, &["explain", "--device", &device])?;
        explained.by_device.insert(device, found);
    }
    Some((figures, explained))
}

#[test]
fn every_figure_of_the_sample_estate_is_explained() {
    let estate = ["--sample".to_string()];
    let Some((figures, explained)) = gather(&estate) else {
        panic!("the sample estate does not load");
    };
    assert!(figures.positions.len() >= 10 && !figures.unlicensed.is_empty());
    assert!(!figures.cost_at_risk.is_empty() && !figures.under_consumed.is_empty());
    let errors = unexplained(&figures, &explained);
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn every_figure_of_every_scenario_is_explained() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("devices.csv").is_file())
        .collect();
    dirs.sort();
    let mut checked = 0;
    let mut errors = Vec::new();
    for dir in &dirs {
        let packs = dir.join("packs");
        let mut estate = vec![dir.display().to_string(), "--no-std".to_string()];
        if packs.is_dir() {
            estate.extend(["--pack".to_string(), packs.display().to_string()]);
        }
        // Estates that are meant not to load (bad inputs) have no figures to explain.
        let Some((figures, explained)) = gather(&estate) else {
            continue;
        };
        checked += 1;
        let name = dir.file_name().unwrap_or_default().to_string_lossy();
        errors.extend(
            unexplained(&figures, &explained)
                .into_iter()
                .map(|e| format!("{name}: {e}")),
        );
    }
    assert!(checked >= 50, "only {checked} scenarios loaded");
    assert!(errors.is_empty(), "{errors:#?}");
}

/// A small estate's figures and rows, as the commands would print them: license L consumes
/// 2 of 1 entitlement (D1 and D2) at 10.00 each, so 1 short and 10.00 at risk; D3's
/// installation is rejected and unlicensed.
fn fixture() -> (Figures, Explained) {
    let row = |license: &str, device: &str, result: &str, reason: &str, units: u32| {
        serde_json::json!({
            "license": license, "device": device, "application": "app",
            "result": result, "reason": reason, "units": units,
        })
    };
    let license_rows = vec![
        row("L", "D1", "Consumed", "consumed", 1),
        row("L", "D2", "Consumed", "over_consumed", 1),
    ];
    let figures = Figures {
        positions: vec![serde_json::json!({
            "license": "L", "entitled": 1, "consumed": 2, "available": -1, "status": "At risk",
        })],
        unlicensed: vec![serde_json::json!({
            "device": "D3", "application": "app", "why": "rejected",
            "candidates": "L os_restriction",
        })],
        cost_at_risk: vec![serde_json::json!({
            "license": "L", "shortfall": 1, "unit_price": 10.00, "cost_at_risk": 10.00,
        })],
        under_consumed: Vec::new(),
    };
    let explained = Explained {
        by_license: BTreeMap::from([("L".to_string(), license_rows.clone())]),
        by_device: BTreeMap::from([
            ("D1".to_string(), vec![license_rows[0].clone()]),
            ("D2".to_string(), vec![license_rows[1].clone()]),
            (
                "D3".to_string(),
                vec![row("L", "D3", "Rejected", "os_restriction", 0)],
            ),
        ]),
        installations: ["D1", "D2", "D3"]
            .into_iter()
            .map(|d| (d.to_string(), "app".to_string()))
            .collect(),
    };
    (figures, explained)
}

#[test]
fn the_checker_accepts_figures_the_rows_back() {
    let (figures, explained) = fixture();
    assert_eq!(unexplained(&figures, &explained), Vec::<String>::new());
}

#[test]
fn the_checker_finds_every_figure_the_rows_do_not_back() {
    let wrong = |change: &dyn Fn(&mut Figures, &mut Explained), expected: &str| {
        let (mut figures, mut explained) = fixture();
        change(&mut figures, &mut explained);
        let errors = unexplained(&figures, &explained);
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "expected an error about {expected:?}, got {errors:#?}"
        );
    };
    // A consumed figure one more than its rows.
    wrong(
        &|f, _| f.positions[0]["consumed"] = serde_json::json!(3),
        "L: consumed",
    );
    // A Consumed row missing from the license view.
    wrong(
        &|_, e| {
            if let Some(rows) = e.by_license.get_mut("L") {
                rows.pop();
            }
        },
        "L: consumed",
    );
    // Units on a row that is not Consumed.
    wrong(
        &|_, e| {
            if let Some(rows) = e.by_license.get_mut("L") {
                rows[1]["result"] = serde_json::json!("Rejected");
            }
        },
        "not Consumed",
    );
    // A device whose view disagrees with the license view.
    wrong(
        &|_, e| {
            if let Some(rows) = e.by_device.get_mut("D2") {
                rows.clear();
            }
        },
        "L on device D2",
    );
    // An installation that consumes, reported unlicensed.
    wrong(
        &|f, _| {
            f.unlicensed.push(serde_json::json!({
                "device": "D1", "application": "app", "why": "rejected",
                "candidates": "L consumed",
            }));
        },
        "has a Consumed row",
    );
    // An unlicensed installation left out of the report.
    wrong(&|f, _| f.unlicensed.clear(), "is not reported");
    // Wrong candidates, or a wrong `why`.
    wrong(
        &|f, _| f.unlicensed[0]["candidates"] = serde_json::json!("L consumed"),
        "candidates",
    );
    wrong(
        &|f, _| f.unlicensed[0]["why"] = serde_json::json!("no_license"),
        "why",
    );
    // A cost at risk that is not shortfall × unit price.
    wrong(
        &|f, _| f.cost_at_risk[0]["cost_at_risk"] = serde_json::json!(20.00),
        "L: cost at risk",
    );
    // A license at risk missing from the cost-at-risk report.
    wrong(&|f, _| f.cost_at_risk.clear(), "the licenses at risk");
    // An under-consumed figure the rows do not give.
    wrong(
        &|f, _| {
            f.under_consumed.push(serde_json::json!({
                "license": "L", "available": 1, "unit_price": 10.00, "unused_value": 10.00,
            }));
        },
        "L: available",
    );
}
