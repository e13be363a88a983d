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

/// One license's effective position.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Position {
    pub license: String,
    pub name: String,
    pub metric: String,
    pub limit: EntitlementLimit,
    pub lifecycle: LicenseStatus,
    /// Quantity of the current, enabled purchases.
    pub purchased: Decimal,
    pub extra: Decimal,
    /// `purchased + extra`.
    pub entitled: Decimal,
    /// The sum of the units of the license's assessment rows.
    pub consumed: Decimal,
    /// `entitled − consumed`: positive is a surplus, negative a shortfall. `None` for
    /// unlimited licenses, which report no shortfall.
    pub available: Option<Decimal>,
    pub status: Compliance,
    /// The override price, else the latest purchase's.
    pub unit_price: Option<Decimal>,
    pub currency: Option<String>,
    /// Shortfall × unit price for a license at risk; zero otherwise; `None` when at risk with no
    /// known price.
    pub cost_at_risk: Option<Decimal>,
}

/// Entitlements from a license's current purchases.
pub fn purchased(purchases: &[&Purchase], as_of: Date) -> Decimal {
    purchases
        .iter()
        .filter(|p| p.is_current(as_of))
        .map(|p| p.quantity)
        .sum()
}

/// Computes one license's position. `purchases` are the license's own purchases.
pub fn position(
    license: &License,
    metric: &str,
    purchases: &[&Purchase],
    consumed: Decimal,
    as_of: Date,
) -> Position {
    let bought = purchased(purchases, as_of);
    let entitled = bought + license.extra_entitlements;
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
    let unlimited = license.limit == EntitlementLimit::Unlimited;
    let available = (!unlimited).then(|| entitled - consumed);
    let status = if license.status == LicenseStatus::Retired || unlimited {
        Compliance::Compliant
    } else if purchases.is_empty() && license.extra_entitlements.is_zero() {
        Compliance::Unknown
    } else if consumed <= entitled || license.limit == EntitlementLimit::TrueUp {
        Compliance::Compliant
    } else {
        Compliance::AtRisk
    };
    let shortfall = (consumed - entitled).max(Decimal::ZERO);
    let cost_at_risk = match status {
        Compliance::AtRisk => unit_price.map(|p| p * shortfall),
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
    }
}
