//! License positions: entitled, consumed, available, status, unit price and cost at risk for
//! each license, computed from its purchases and its assessment rows, with the license
//! attributes of FlexNet Manager Suite's software license dimension that the model has
//! (duration, expiry, use rights, life-cycle status, entitlement limit).

use jiff::civil::Date;
use rust_decimal::Decimal;
use tally_compiler::ir::{CompiledPack, CoverTarget, Role};

use crate::estate::{Duration, EntitlementLimit, License, LicenseStatus, Purchase};

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
    /// The publisher and product of the license's first primary member (see [`Terms`]).
    pub publisher: String,
    pub product: String,
    pub duration: Duration,
    /// When the license ends: `None` for a perpetual license (see [`position`]).
    pub expiry: Option<Date>,
    /// Whether the rights declaration grants downgrade (earlier versions) or upgrade (later
    /// versions) rights on any member.
    pub downgrade: bool,
    pub upgrade: bool,
    /// Whether the license has terms of its own for virtual machines and hosts
    /// (`virtualization` in `licenses.yaml`).
    pub virtualization: bool,
    /// Whether the license grants the right of second use on a work laptop
    /// (`second_use` in `licenses.yaml`).
    pub second_use: bool,
    /// Quantity of the current, enabled purchases; `None` when too large to add up.
    pub purchased: Option<Decimal>,
    pub extra: Decimal,
    /// `purchased + extra`; `None` when too large.
    pub entitled: Option<Decimal>,
    /// The sum of the units of the license's assessment rows; `None` when too large.
    pub consumed: Option<Decimal>,
    /// `entitled − consumed`: positive is a surplus, negative a shortfall. `None` for
    /// unlimited licenses, which report no shortfall, for retired licenses, whose entitlements
    /// are not available to anyone, and when either figure is unknown.
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

impl Position {
    /// Whether the license is retired: reported apart, never available, never spare money.
    pub fn retired(&self) -> bool {
        self.lifecycle == LicenseStatus::Retired
    }

    /// The spelling of the duration in reports.
    pub fn duration_name(&self) -> &'static str {
        self.duration.name()
    }
}

/// What a license's rules say about it, for its position.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Terms {
    /// The name of the publisher of the license's first primary member's product; empty when
    /// the packs do not say.
    pub publisher: String,
    /// The name of that product; empty when the packs do not say.
    pub product: String,
    pub downgrade: bool,
    pub upgrade: bool,
}

/// A license's [`Terms`] as the compiled packs give them. The product is that of the rights
/// declaration's first primary member in declaration order (else its first member), so that a
/// bundle counts under one product in roll-ups.
pub fn terms(license: &License, pack: &CompiledPack) -> Terms {
    let members = pack
        .rights
        .get(&license.rights)
        .map_or(&[][..], |r| r.members.as_slice());
    let first = members
        .iter()
        .find(|m| m.role == Role::Primary)
        .or(members.first());
    let product = first
        .and_then(|m| match &m.target {
            CoverTarget::Product(p) => Some(p.as_str()),
            CoverTarget::Application(a) => pack.applications.get(a).map(|a| a.product.as_str()),
        })
        .and_then(|p| pack.products.get(p));
    Terms {
        publisher: product
            .and_then(|p| pack.publishers.get(&p.publisher))
            .map(|p| p.name.clone())
            .unwrap_or_default(),
        product: product.map(|p| p.name.clone()).unwrap_or_default(),
        downgrade: members.iter().any(|m| m.downgrade),
        upgrade: members.iter().any(|m| m.upgrade),
    }
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
///
/// The duration is the SKU's; without a SKU, a license with an expiry date, or with a
/// purchase that has one, is a subscription, and any other is perpetual. A perpetual license
/// has no expiry (seed 002: the date is ignored); a subscription's is the license's `expiry`,
/// else the latest expiry of its current purchases.
pub fn position(
    license: &License,
    metric: &str,
    terms: &Terms,
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
    let retired = license.status == LicenseStatus::Retired;
    let available = figures
        .filter(|_| !unlimited && !retired)
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
    let duration = license.duration;
    let expiry = match duration {
        Duration::Perpetual => None,
        Duration::Subscription | Duration::TimeLimited => license.expiry.or_else(|| {
            purchases
                .iter()
                .filter(|p| p.is_current(as_of))
                .filter_map(|p| p.expiry)
                .max()
        }),
    };
    Position {
        license: license.id.clone(),
        name: license.name.clone(),
        metric: metric.to_string(),
        limit: license.limit,
        lifecycle: license.status,
        publisher: terms.publisher.clone(),
        product: terms.product.clone(),
        duration,
        expiry,
        downgrade: terms.downgrade,
        upgrade: terms.upgrade,
        virtualization: license.virtualization.count.is_some()
            || license.virtualization.subcapacity,
        second_use: license.second_use.work_laptop,
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
        let p = position(
            license,
            "device",
            &Terms::default(),
            &purchases,
            consumed,
            date(2025, 3, 31),
        );
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

    #[test]
    fn a_retired_license_has_nothing_available() {
        let mut retired = license(Some(Decimal::from(70)));
        retired.status = LicenseStatus::Retired;
        let purchases = [purchase("P1", Decimal::from(10))];
        let purchases: Vec<&Purchase> = purchases.iter().collect();
        let p = position(
            &retired,
            "device",
            &Terms::default(),
            &purchases,
            Some(Decimal::ZERO),
            date(2025, 3, 31),
        );
        assert!(p.retired());
        assert_eq!(
            (p.status, p.entitled, p.available),
            (Compliance::Compliant, Some(Decimal::from(10)), None)
        );
    }

    #[test]
    fn a_subscription_ends_with_its_purchases_and_a_perpetual_license_never() {
        let mut dated = purchase("P1", Decimal::ONE);
        dated.expiry = Some(date(2026, 6, 30));
        let purchases = [dated];
        let purchases: Vec<&Purchase> = purchases.iter().collect();
        let at = |duration: Duration| {
            let mut l = license(None);
            l.duration = duration;
            let p = position(
                &l,
                "device",
                &Terms::default(),
                &purchases,
                Some(Decimal::ZERO),
                date(2026, 1, 1),
            );
            (p.duration, p.expiry)
        };
        assert_eq!(
            at(Duration::Subscription),
            (Duration::Subscription, Some(date(2026, 6, 30)))
        );
        assert_eq!(at(Duration::Perpetual), (Duration::Perpetual, None));
    }
}
