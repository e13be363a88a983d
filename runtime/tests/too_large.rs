//! Figures too large for a decimal never panic. Import refuses purchases that add up to too
//! much (T0207, see the estate tests); an estate built in code, which import has not checked,
//! still reconciles, and its positions leave the figures that are too large empty with a note.

use jiff::civil::date;
use rust_decimal::Decimal;
use tally_compiler::SourceFile;
use tally_runtime::db::Database;
use tally_runtime::estate::{Device, Estate, Evidence, EvidenceKind, License, Purchase};
use tally_runtime::position::Compliance;
use tally_runtime::workspace::{RuleSource, Workspace};

const RULES: &str = r#"
metric acme.device { counts device }
metric acme.metered { counts device  quantity license.metric_value }
publisher acme { name "Acme Corp" }
product acme.vault { name "Vault" publisher acme }
application acme.vault_1 {
    product acme.vault
    version "1"
    recognize installer { name like "Acme Vault 1%" }
}
rights acme.vault_1 { covers acme.vault_1 }
"#;

fn device(id: &str) -> Device {
    Device {
        id: id.to_owned(),
        name: id.to_owned(),
        ..Device::default()
    }
}

fn vault_on(device: &str, line: usize) -> Evidence {
    Evidence {
        line,
        device: device.into(),
        kind: EvidenceKind::Installer,
        publisher: "Acme Corp".into(),
        name: "Acme Vault 1".into(),
        version: "1.0".into(),
        details: Vec::new(),
        last_used: None,
        source: None,
        ignored: false,
    }
}

fn purchase(id: &str, license: &str, quantity: Decimal) -> Purchase {
    Purchase {
        id: id.to_owned(),
        license: license.to_owned(),
        sku: None,
        quantity,
        unit_price: None,
        currency: None,
        date: None,
        effective: None,
        expiry: None,
        disabled: false,
    }
}

fn license(id: &str, metric: &str) -> License {
    License {
        id: id.to_owned(),
        name: id.to_owned(),
        metric: metric.to_owned(),
        rights: "acme.vault_1".to_owned(),
        ..License::default()
    }
}

/// The positions of an estate of two devices with Acme Vault and the given licenses.
fn positions(licenses: Vec<License>, purchases: Vec<Purchase>) -> Vec<(String, Compliance)> {
    let rules = vec![RuleSource {
        source: SourceFile::new("acme.tally", RULES),
        standard: false,
    }];
    let mut ws = Workspace::new(Database::default(), rules, date(2026, 11, 1));
    assert!(!ws.compiled().has_errors());
    ws.load(Estate {
        devices: vec![device("D1"), device("D2")],
        evidence: vec![vault_on("D1", 2), vault_on("D2", 3)],
        licenses,
        purchases,
        ..Estate::default()
    });
    ws.positions()
        .iter()
        .map(|p| {
            assert!(p.note.is_some(), "{p:?}");
            (p.license.clone(), p.status)
        })
        .collect()
}

#[test]
fn entitlements_too_large_to_add_up_do_not_panic() {
    let found = positions(
        vec![license("L", "acme.device")],
        vec![
            purchase("P1", "L", Decimal::MAX),
            purchase("P2", "L", Decimal::MAX),
        ],
    );
    assert_eq!(found, [("L".to_owned(), Compliance::Unknown)]);
}

#[test]
fn consumption_too_large_to_add_up_does_not_panic() {
    let mut metered = license("L", "acme.metered");
    metered.metric_value = Decimal::from_str_exact("50000000000000000000000000000").ok();
    let found = positions(vec![metered], vec![purchase("P1", "L", Decimal::ONE)]);
    assert_eq!(found, [("L".to_owned(), Compliance::Unknown)]);
}

#[test]
fn a_cost_at_risk_too_large_does_not_panic() {
    let mut pricey = license("L", "acme.device");
    pricey.unit_price = Decimal::from_str_exact("79000000000000000000000000000").ok();
    let found = positions(vec![pricey], vec![purchase("P1", "L", Decimal::ZERO)]);
    assert_eq!(found, [("L".to_owned(), Compliance::AtRisk)]);
}
