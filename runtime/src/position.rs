//! License positions: entitled, consumed, available, status, unit price and cost at risk for
//! each license, computed from its purchases and its assessment rows.

use jiff::civil::Date;
use rust_decimal::Decimal;

use crate::estate::{EntitlementLimit, License, LicenseStatus, Purchase};

/// Whether a license is covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Compliance {
    Compliant,
    AtRisk,
    /// No purchases and no extra entitlements are on record, so what is owned is unknown.
    Unknown,
}

impl Compliance {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Compliant => "Compliant",
            Self::AtRisk => "At risk",
            Self::Unknown => "Unknown",
        }
    }
}

/// One license's effective position. Sums and products are checked: a figure too large for a
/// decimal (more than 79228162514264337593543950335) is `None`, and `note` says which figure it
/// was. With entitlements or consumption unknown the status is *Unknown* (a retired or unlimited
/// license stays *Compliant*); a cost at risk too large leaves the license *At risk*.
/// Import refuses purchases that add up to that much (T0207), so for an imported estate only
/// `consumed` (from metrics that compute large quantities) and `cost_at_risk` can be too large.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Position {
    pub license: String,
    pub name: String,
    pub metric: String,
    pub limit: EntitlementLimit,
    pub lifecycle: LicenseStatus,
    /// Quantity of the current, enabled purchases; `None` when too large to add up.
    pub purchased: Option<Decimal>,
    pub extra: Decimal,
    /// `purchased + extra`; `None` when too large.
    pub entitled: Option<Decimal>,
    /// The sum of the units of the license's assessment rows; `None` when too large.
    pub consumed: Option<Decimal>,
    /// `entitled − consumed`: positive is a surplus, negative a shortfall. `None` for
    /// unlimited licenses, which report no shortfall, and when either figure is unknown.
    pub available: Option<Decimal>,
    pub status: Compliance,
    /// The override price, else the latest purchase's.
    pub unit_price: Option<Decimal>,
    pub currency: Option<String>,
    /// Shortfall × unit price for a license at risk; zero otherwise; `None` when at risk with no
    /// known price, when the product is too large, or when entitlements or consumption are.
    pub cost_at_risk: Option<Decimal>,
    /// Why a figure is missing because it is too large to compute with.
    pub note: Option<String>,
}

/// Entitlements from a license's current purchases; `None` when they add up to more than a
/// decimal holds.
pub fn purchased(purchases: &[&Purchase], as_of: Date) -> Option<Decimal> {
    purchases
        .iter()
        .filter(|p| p.is_current(as_of))
        .try_fold(Decimal::ZERO, |sum, p| sum.checked_add(p.quantity))
}

/// The note for a figure too large to compute with, named as the report's column is.
fn too_large(figure: &str) -> String {
    format!(
        "{figure} more than {}, the largest number Tally computes with",
        Decimal::MAX
    )
}

/// Computes one license's position. `purchases` are the license's own purchases; `consumed`
/// is `None` when its units added up to more than a decimal holds.
pub fn position(
    license: &License,
    metric: &str,
    purchases: &[&Purchase],
    consumed: Option<Decimal>,
    as_of: Date,
) -> Position {
    let bought = purchased(purchases, as_of);
    // A subscription or time-limited license out of its term on the day entitles nothing.
    let entitled = match license.out_of_term(as_of) {
        Some(_) => bought.map(|_| Decimal::ZERO),
        None => bought.and_then(|b| b.checked_add(license.extra_entitlements)),
    };
    let latest = purchases
        .iter()
        .filter(|p| !p.disabled && p.unit_price.is_some())
        .max_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    let (unit_price, currency) = match license.unit_price {
        Some(price) => (
            Some(price),
            license
                .currency
                .clone()
                .or_else(|| latest.and_then(|p| p.currency.clone())),
        ),
        None => (
            latest.and_then(|p| p.unit_price),
            latest
                .and_then(|p| p.currency.clone())
                .or(license.currency.clone()),
        ),
    };
    let mut note = match (entitled, consumed) {
        (None, _) => Some(too_large("entitled adds up to")),
        (_, None) => Some(too_large("consumed adds up to")),
        _ => None,
    };
    let unlimited = license.limit == EntitlementLimit::Unlimited;
    let figures = entitled.zip(consumed);
    let available = figures
        .filter(|_| !unlimited)
        .and_then(|(entitled, consumed)| entitled.checked_sub(consumed));
    let status = match figures {
        _ if license.status == LicenseStatus::Retired || unlimited => Compliance::Compliant,
        _ if purchases.is_empty() && license.extra_entitlements.is_zero() => Compliance::Unknown,
        None => Compliance::Unknown,
        Some((entitled, consumed))
            if consumed <= entitled || license.limit == EntitlementLimit::TrueUp =>
        {
            Compliance::Compliant
        }
        Some(_) => Compliance::AtRisk,
    };
    let cost_at_risk = match (status, figures) {
        (Compliance::AtRisk, Some((entitled, consumed))) => unit_price.and_then(|price| {
            let cost = consumed
                .checked_sub(entitled)
                .and_then(|shortfall| price.checked_mul(shortfall.max(Decimal::ZERO)));
            if cost.is_none() {
                note = note.take().or_else(|| Some(too_large("cost_at_risk is")));
            }
            cost
        }),
        // Unknown because a figure is too large: no cost can be given either.
        (Compliance::Unknown, None) => None,
        _ => Some(Decimal::ZERO),
    };
    Position {
        license: license.id.clone(),
        name: license.name.clone(),
        metric: metric.to_string(),
        limit: license.limit,
        lifecycle: license.status,
        purchased: bought,
        extra: license.extra_entitlements,
        entitled,
        consumed,
        available,
        status,
        unit_price,
        currency,
        cost_at_risk,
        note,
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    fn purchase(id: &str, quantity: Decimal) -> Purchase {
        Purchase {
            id: id.to_owned(),
            license: "L".to_owned(),
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

    fn license(price: Option<Decimal>) -> License {
        License {
            id: "L".to_owned(),
            unit_price: price,
            ..License::default()
        }
    }

    fn at(
        license: &License,
        purchases: &[Purchase],
        consumed: Option<Decimal>,
    ) -> (Compliance, Option<Decimal>, Option<Decimal>, Option<String>) {
        let purchases: Vec<&Purchase> = purchases.iter().collect();
        let p = position(license, "device", &purchases, consumed, date(2025, 3, 31));
        (p.status, p.entitled, p.cost_at_risk, p.note)
    }

    #[test]
    fn an_ordinary_position() {
        let price = Some(Decimal::from(389));
        let found = at(
            &license(price),
            &[purchase("P1", Decimal::from(2))],
            Some(Decimal::from(5)),
        );
        assert_eq!(
            found,
            (
                Compliance::AtRisk,
                Some(Decimal::from(2)),
                Some(Decimal::from(1167)),
                None
            )
        );
    }

    #[test]
    fn entitlements_too_large_to_add_up_leave_the_position_unknown() {
        // Two purchases of the largest decimal each used to panic.
        let purchases = [purchase("P1", Decimal::MAX), purchase("P2", Decimal::MAX)];
        let (status, entitled, _, note) = at(&license(None), &purchases, Some(Decimal::ONE));
        assert_eq!((status, entitled), (Compliance::Unknown, None));
        assert!(note.is_some_and(|n| n.starts_with("entitled adds up to more than")));
        let mut extra = license(None);
        extra.extra_entitlements = Decimal::ONE;
        let (status, entitled, _, _) = at(&extra, &purchases[..1], Some(Decimal::ONE));
        assert_eq!((status, entitled), (Compliance::Unknown, None));
    }

    #[test]
    fn consumption_too_large_leaves_the_position_unknown() {
        let (status, _, cost, note) = at(&license(None), &[purchase("P1", Decimal::ONE)], None);
        assert_eq!((status, cost), (Compliance::Unknown, None));
        assert!(note.is_some_and(|n| n.starts_with("consumed adds up to more than")));
        // An unlimited license reports no shortfall, whatever it consumes.
        let mut unlimited = license(None);
        unlimited.limit = EntitlementLimit::Unlimited;
        let (status, _, cost, _) = at(&unlimited, &[purchase("P1", Decimal::ONE)], None);
        assert_eq!((status, cost), (Compliance::Compliant, Some(Decimal::ZERO)));
    }

    #[test]
    fn a_cost_at_risk_too_large_is_left_empty() {
        // A unit price of 7.9e27 and a shortfall of 11 used to panic.
        let price = Decimal::from_str_exact("7900000000000000000000000000").ok();
        let (status, entitled, cost, note) = at(
            &license(price),
            &[purchase("P1", Decimal::ONE)],
            Some(Decimal::from(12)),
        );
        assert_eq!(
            (status, entitled, cost),
            (Compliance::AtRisk, Some(Decimal::ONE), None)
        );
        assert!(note.is_some_and(|n| n.starts_with("cost_at_risk is more than")));
        // A shortfall of 10 still fits.
        let (_, _, cost, note) = at(
            &license(price),
            &[purchase("P1", Decimal::ONE)],
            Some(Decimal::from(11)),
        );
        assert_eq!(
            cost,
            Decimal::from_str_exact("79000000000000000000000000000").ok()
        );
        assert_eq!(note, None);
    }
}
