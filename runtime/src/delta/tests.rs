use jiff::civil::date;
use rust_decimal::Decimal;

use super::*;
use crate::estate::{EntitlementLimit, License, LicenseStatus, Purchase};
use crate::position::{Terms, position};

const VISIO: &str = "L-MS-VISIO-PRO-2016";
const APP: &str = "microsoft.visio.professional_2016";

/// A license's position with `entitled` purchased at 389.00 EUR and `consumed` units.
fn at(id: &str, entitled: i64, consumed: i64) -> Position {
    let license = License {
        id: id.to_owned(),
        currency: Some("EUR".to_owned()),
        ..License::default()
    };
    let purchase = Purchase {
        id: format!("PO-{id}"),
        license: id.to_owned(),
        sku: None,
        quantity: Decimal::from(entitled),
        unit_price: Some(Decimal::new(38900, 2)),
        currency: Some("EUR".to_owned()),
        date: None,
        effective: None,
        expiry: None,
        disabled: false,
    };
    position(
        &license,
        "device",
        &Terms::default(),
        &[&purchase],
        Some(Decimal::from(consumed)),
        date(2026, 11, 1),
    )
}

/// A row of `license` for an installation of `APP` on `device`.
fn row(license: &str, device: &str, outcome: Outcome, reason: Reason, units: i64) -> Assessment {
    Assessment {
        license: license.to_owned(),
        device: Some(device.to_owned()),
        user: None,
        application: Some(APP.to_owned()),
        outcome,
        reason,
        message: format!("{} on {device}", reason.code()),
        units: Decimal::from(units),
        exemption: None,
        computation: None,
        allocation: None,
        used: None,
        priority: None,
        supplementary: false,
        limit: EntitlementLimit::default(),
        available_after: None,
    }
}

fn consumed(device: &str) -> Assessment {
    row(VISIO, device, Outcome::Consumed, Reason::Consumed, 1)
}

fn over(device: &str) -> Assessment {
    row(VISIO, device, Outcome::Consumed, Reason::OverConsumed, 1)
}

#[test]
fn the_same_state_is_no_change() {
    let positions = [at(VISIO, 2, 2)];
    let rows = [consumed("WS-1"), consumed("WS-2")];
    let delta = PositionDelta::between(&positions, &rows, &positions, &rows);
    assert!(delta.is_empty());
    assert_eq!(delta.render(5), "");
}

#[test]
fn a_new_installation_moves_the_license_and_names_the_device() {
    let before = [at(VISIO, 2, 2), at("L-OTHER", 5, 1)];
    let before_rows = [consumed("WS-1"), consumed("WS-2")];
    let after = [at(VISIO, 2, 3), at("L-OTHER", 5, 1)];
    let after_rows = [consumed("WS-1"), consumed("WS-2"), over("WS-7")];
    let delta = PositionDelta::between(&before, &before_rows, &after, &after_rows);
    assert_eq!(delta.licenses.len(), 1);
    assert_eq!(delta.moved().count(), 1);
    insta::assert_snapshot!(delta.render(5));
}

#[test]
fn rows_that_only_differ_in_what_follows_from_earlier_rows_are_unchanged() {
    let positions = [at(VISIO, 2, 2)];
    let before = [consumed("WS-1"), consumed("WS-2")];
    let mut after = before.clone();
    for (i, a) in after.iter_mut().enumerate() {
        a.available_after = Some(Decimal::from(i));
        a.message = "worded otherwise".to_owned();
    }
    let delta = PositionDelta::between(&positions, &before, &positions, &after);
    assert!(delta.is_empty(), "{delta:?}");
}

#[test]
fn changed_decisions_are_shown_before_and_after() {
    let before = [at(VISIO, 2, 3)];
    let before_rows = [consumed("WS-1"), consumed("WS-2"), over("WS-3")];
    let after = [at(VISIO, 2, 2)];
    let mut rejected = row(VISIO, "WS-2", Outcome::Rejected, Reason::OsRestriction, 0);
    rejected.message = "the device runs Linux".to_owned();
    let after_rows = [consumed("WS-1"), rejected, consumed("WS-3")];
    let delta = PositionDelta::between(&before, &before_rows, &after, &after_rows);
    insta::assert_snapshot!(delta.render(5));
}

#[test]
fn rows_moving_without_moving_a_figure_are_shown_under_an_unchanged_position() {
    let positions = [at(VISIO, 2, 2)];
    let before = [consumed("WS-1"), consumed("WS-2")];
    let after = [consumed("WS-1"), consumed("WS-9")];
    let delta = PositionDelta::between(&positions, &before, &positions, &after);
    assert_eq!(delta.licenses.len(), 1);
    assert_eq!(delta.moved().count(), 0);
    insta::assert_snapshot!(delta.render(5));
}

#[test]
fn licenses_that_come_and_go_are_sorted_by_id_and_rows_are_capped() {
    let before = [at("L-B", 4, 1), at("L-C", 1, 0)];
    let before_rows = [row("L-B", "WS-1", Outcome::Consumed, Reason::Consumed, 1)];
    let after = [at("L-A", 1, 5), at("L-C", 1, 0)];
    let after_rows: Vec<Assessment> = (1..=5)
        .map(|i| {
            row(
                "L-A",
                &format!("WS-{i}"),
                Outcome::Consumed,
                Reason::Consumed,
                1,
            )
        })
        .collect();
    let delta = PositionDelta::between(&before, &before_rows, &after, &after_rows);
    let ids: Vec<&str> = delta.licenses.iter().map(|l| l.license.as_str()).collect();
    assert_eq!(ids, ["L-A", "L-B"]);
    insta::assert_snapshot!(delta.render(3));
}

#[test]
fn user_rows_allocations_and_exemptions_say_what_they_are_about() {
    let positions = [at("L-U", 3, 1)];
    let mut user = row("L-U", "WS-1", Outcome::Consumed, Reason::Consumed, 1);
    user.user = Some("aschmidt".to_owned());
    let mut allocation = row(
        "L-U",
        "WS-2",
        Outcome::Consumed,
        Reason::PermanentAllocation,
        1,
    );
    allocation.application = None;
    let mut exempt = row("L-U", "WS-3", Outcome::Consumed, Reason::Exempt, 0);
    exempt.exemption = Some("test lab".to_owned());
    let after = [at("L-U", 3, 2)];
    let delta = PositionDelta::between(
        &positions,
        &[user.clone()],
        &after,
        &[user, allocation, exempt],
    );
    insta::assert_snapshot!(delta.render(5));
}

#[test]
fn rows_with_the_same_key_are_matched_where_they_decide_the_same() {
    let positions = [at(VISIO, 2, 2)];
    let shared = row(
        VISIO,
        "WS-1",
        Outcome::Consumed,
        Reason::SharedEntitlement,
        0,
    );
    let before = [consumed("WS-1"), shared.clone()];
    // The same two rows in the other order, and a third.
    let after = [shared.clone(), consumed("WS-1"), shared];
    let delta = PositionDelta::between(&positions, &before, &positions, &after);
    assert_eq!(delta.licenses.len(), 1);
    assert!(
        matches!(delta.licenses[0].rows.as_slice(), [RowDelta::Added(f)] if f.reason == Reason::SharedEntitlement),
        "{delta:?}"
    );
}

#[test]
fn figures_too_large_or_not_applicable_read_none() {
    let before = [at(VISIO, 2, 2)];
    let mut after = at(VISIO, 2, 2);
    after.consumed = None;
    after.available = None;
    after.status = Compliance::Unknown;
    after.cost_at_risk = None;
    let delta = PositionDelta::between(&before, &[], &[after], &[]);
    insta::assert_snapshot!("too_large", delta.render(5));
    let retired = License {
        id: "L-R".to_owned(),
        status: LicenseStatus::Retired,
        ..License::default()
    };
    let gone = position(
        &retired,
        "device",
        &Terms::default(),
        &[],
        Some(Decimal::ZERO),
        date(2026, 11, 1),
    );
    let delta = PositionDelta::between(&[gone], &[], &[], &[]);
    insta::assert_snapshot!("retired_gone", delta.render(5));
}
