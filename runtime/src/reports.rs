//! The reports a SAM team works from, beyond the position itself: installations no license
//! covers, ranked by estimated cost; under-consumed licenses with the value of what is unused;
//! licenses and subscriptions expiring soon; the cost at risk; and the position rolled up by
//! product or publisher with totals per currency. Each is computed from the positions and
//! assessment rows, so every figure traces back to `explain` rows, and each renders as
//! [`Rows`]. Retired licenses are never available and never count as unused value.

use std::collections::BTreeMap;

use jiff::civil::Date;
use rust_decimal::Decimal;
use tally_compiler::ir::{Classification, CompiledPack};

use crate::estate::Purchase;
use crate::position::{Compliance, Position};
use crate::reconcile::{Assessment, Outcome};
use crate::report::{Column, Rows};
use crate::workspace::Workspace;

/// An amount of money in a currency (empty when no currency is on record).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Money {
    pub amount: Decimal,
    pub currency: String,
}

/// Sums amounts per currency, in currency order. A sum too large for a decimal is `None`.
pub fn totals<'a>(
    amounts: impl IntoIterator<Item = &'a Money>,
) -> BTreeMap<String, Option<Decimal>> {
    let mut out: BTreeMap<String, Option<Decimal>> = BTreeMap::new();
    for m in amounts {
        let sum = out.entry(m.currency.clone()).or_insert(Some(Decimal::ZERO));
        *sum = sum.and_then(|s| s.checked_add(m.amount));
    }
    out
}

/// Totals per currency as one line: `total: 778.00 EUR, 12 USD`; empty when there are none.
pub fn totals_line(label: &str, amounts: &[&Money]) -> String {
    let parts: Vec<String> = totals(amounts.iter().copied())
        .into_iter()
        .map(|(currency, sum)| {
            let sum = sum.map_or_else(|| "(too large)".to_owned(), |s| s.to_string());
            if currency.is_empty() {
                sum
            } else {
                format!("{sum} {currency}")
            }
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("{label}: {}\n", parts.join(", "))
    }
}

fn money(amount: Option<Decimal>, currency: &Option<String>) -> Option<Money> {
    amount.map(|amount| Money {
        amount,
        currency: currency.clone().unwrap_or_default(),
    })
}

/// A sort key that puts the largest amounts first and unknown ones last (then by currency).
fn costliest_first(m: &Option<Money>) -> (bool, Option<std::cmp::Reverse<Decimal>>, String) {
    (
        m.is_none(),
        m.as_ref().map(|m| std::cmp::Reverse(m.amount)),
        m.as_ref().map(|m| m.currency.clone()).unwrap_or_default(),
    )
}

fn cell(d: Option<Decimal>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn money_cells(m: &Option<Money>) -> [String; 2] {
    match m {
        Some(m) => [m.amount.to_string(), m.currency.clone()],
        None => [String::new(), String::new()],
    }
}

/// Why an installation is unlicensed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Why {
    /// No license's rights reach the application.
    NoLicense,
    /// Licenses cover it, and every one rejected it or left it unconsumed.
    NoneConsumed,
}

impl Why {
    pub fn code(self) -> &'static str {
        match self {
            Self::NoLicense => "no_license",
            Self::NoneConsumed => "rejected",
        }
    }
}

/// A commercial or shareware installation that consumes from no license.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unlicensed {
    pub device: String,
    pub application: String,
    pub product: String,
    pub publisher: String,
    pub why: Why,
    /// The candidate licenses and the reason code each recorded, in license order.
    pub candidates: Vec<(String, &'static str)>,
    /// The lowest unit price among the licenses covering the application, else among those
    /// covering any application of its product; `None` when neither has a price.
    pub estimate: Option<Money>,
    /// The license the estimate's price is from.
    pub priced_from: Option<String>,
}

/// The installations of commercial and shareware applications that consume from no license:
/// no license covers them, or every candidate rejected them. Ranked by estimated cost, highest
/// first, unknown last, then by device and application.
///
/// The estimate is one unit price: the lowest among the licenses whose rights reach the
/// application (retired ones included, as evidence of a price), else the lowest among those
/// covering another application of the same product. Prices in different currencies are not
/// converted: the lowest amount wins, then the currency and license id in alphabetical order.
pub fn unlicensed(ws: &Workspace) -> Vec<Unlicensed> {
    let pack = ws.pack();
    let mut rows_by_installation: BTreeMap<(&str, &str), Vec<&Assessment>> = BTreeMap::new();
    for a in ws.assessments() {
        if let (Some(device), Some(app)) = (&a.device, &a.application) {
            rows_by_installation
                .entry((device, app))
                .or_default()
                .push(a);
        }
    }
    let prices = Prices::new(ws);
    let mut out = Vec::new();
    for view in ws.recognition() {
        let device = view.device;
        for inst in &view.recognition.installations {
            if !licensable(pack, &inst.application) {
                continue;
            }
            let rows = rows_by_installation
                .get(&(device.id.as_str(), inst.application.as_ref()))
                .map_or(&[][..], Vec::as_slice);
            if rows.iter().any(|a| a.outcome == Outcome::Consumed) {
                continue;
            }
            let product = pack
                .applications
                .get(&*inst.application)
                .and_then(|a| pack.products.get(&a.product));
            let (estimate, priced_from) = prices.lowest(pack, &inst.application);
            out.push(Unlicensed {
                device: device.id.clone(),
                application: inst.application.to_string(),
                product: product.map(|p| p.name.clone()).unwrap_or_default(),
                publisher: product
                    .and_then(|p| pack.publishers.get(&p.publisher))
                    .map(|p| p.name.clone())
                    .unwrap_or_default(),
                why: if rows.is_empty() {
                    Why::NoLicense
                } else {
                    Why::NoneConsumed
                },
                candidates: rows
                    .iter()
                    .map(|a| (a.license.clone(), a.reason.code()))
                    .collect(),
                estimate,
                priced_from,
            });
        }
    }
    out.sort_by(|a, b| {
        let key = |u: &Unlicensed| {
            (
                costliest_first(&u.estimate),
                u.device.clone(),
                u.application.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    out
}

/// Whether an application's product needs a license: commercial or shareware.
fn licensable(pack: &CompiledPack, application: &str) -> bool {
    pack.applications
        .get(application)
        .and_then(|a| pack.products.get(&a.product))
        .is_some_and(|p| {
            matches!(
                p.classification,
                Classification::Commercial | Classification::Shareware
            )
        })
}

/// The unit prices of the licenses, with what each covers.
struct Prices {
    /// Per license with a price: the price and the applications it covers.
    licenses: Vec<(Money, String, Vec<String>)>,
}

impl Prices {
    fn new(ws: &Workspace) -> Self {
        let by_id: BTreeMap<&str, &Position> = ws
            .positions()
            .iter()
            .map(|p| (p.license.as_str(), p))
            .collect();
        let licenses = ws
            .licenses()
            .filter_map(|(license, _)| {
                let terms = ws.license_terms(&license.id)?;
                let p = by_id.get(terms.license.id.as_str())?;
                let price = money(p.unit_price, &p.currency)?;
                Some((
                    price,
                    p.license.clone(),
                    terms.covers.keys().cloned().collect(),
                ))
            })
            .collect();
        Self { licenses }
    }

    /// The lowest price among the licenses covering the application, else among those
    /// covering its product, with the license it is from.
    fn lowest(&self, pack: &CompiledPack, application: &str) -> (Option<Money>, Option<String>) {
        let product_of = |app: &str| pack.applications.get(app).map(|a| a.product.as_str());
        let product = product_of(application);
        let best = |matches: &dyn Fn(&str) -> bool| {
            self.licenses
                .iter()
                .filter(|(_, _, covers)| covers.iter().any(|c| matches(c)))
                .map(|(price, license, _)| (price, license))
                .min()
        };
        best(&|app| app == application)
            .or_else(|| best(&|app| product.is_some() && product_of(app) == product))
            .map_or((None, None), |(price, license)| {
                (Some(price.clone()), Some(license.clone()))
            })
    }
}

/// The unlicensed installations as rows; the table shows device, application, why and the
/// estimate.
pub fn unlicensed_rows(items: &[Unlicensed]) -> Rows {
    Rows::new(
        vec![
            Column::key("device"),
            Column::key("application"),
            Column::text("product").wide(),
            Column::text("publisher").wide(),
            Column::key("why"),
            Column::text("candidates").wide(),
            Column::number("estimated_cost"),
            Column::key("currency"),
            Column::key("priced_from").wide(),
        ],
        items
            .iter()
            .map(|u| {
                let [amount, currency] = money_cells(&u.estimate);
                let candidates: Vec<String> = u
                    .candidates
                    .iter()
                    .map(|(license, reason)| format!("{license} {reason}"))
                    .collect();
                vec![
                    u.device.clone(),
                    u.application.clone(),
                    u.product.clone(),
                    u.publisher.clone(),
                    u.why.code().to_owned(),
                    candidates.join("; "),
                    amount,
                    currency,
                    u.priced_from.clone().unwrap_or_default(),
                ]
            })
            .collect(),
    )
}

/// A license with entitlements left over, and their value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnderConsumed<'a> {
    pub position: &'a Position,
    /// Available × unit price; `None` without a price or when too large.
    pub unused_value: Option<Money>,
}

/// Licenses that are not retired and have entitlements available (a surplus), with the value
/// of the unused entitlements: available × unit price. Highest value first, unknown last, then
/// by license.
pub fn under_consumed(positions: &[Position]) -> Vec<UnderConsumed<'_>> {
    let mut out: Vec<UnderConsumed> = positions
        .iter()
        .filter(|p| !p.retired() && p.available.is_some_and(|a| a > Decimal::ZERO))
        .map(|p| UnderConsumed {
            position: p,
            unused_value: money(
                p.available
                    .zip(p.unit_price)
                    .and_then(|(a, price)| a.checked_mul(price)),
                &p.currency,
            ),
        })
        .collect();
    out.sort_by(|a, b| {
        let key =
            |u: &UnderConsumed| (costliest_first(&u.unused_value), u.position.license.clone());
        key(a).cmp(&key(b))
    });
    out
}

pub fn under_consumed_rows(items: &[UnderConsumed]) -> Rows {
    Rows::new(
        vec![
            Column::key("license"),
            Column::text("name").wide(),
            Column::text("product").wide(),
            Column::number("entitled"),
            Column::number("consumed"),
            Column::number("available"),
            Column::number("unit_price").wide(),
            Column::number("unused_value"),
            Column::key("currency"),
        ],
        items
            .iter()
            .map(|u| {
                let p = u.position;
                let [value, currency] = money_cells(&u.unused_value);
                vec![
                    p.license.clone(),
                    p.name.clone(),
                    p.product.clone(),
                    cell(p.entitled),
                    cell(p.consumed),
                    cell(p.available),
                    cell(p.unit_price),
                    value,
                    if currency.is_empty() {
                        p.currency.clone().unwrap_or_default()
                    } else {
                        currency
                    },
                ]
            })
            .collect(),
    )
}

/// What expires: a license record, or one subscription purchase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Expires {
    License,
    Purchase,
}

/// A license or subscription purchase that expires soon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiring {
    pub expires: Date,
    /// Days from the as-of date to the expiry (0 when it expires that day).
    pub days: i64,
    pub license: String,
    pub name: String,
    pub what: Expires,
    /// The purchase, for a subscription purchase.
    pub purchase: Option<String>,
    /// The entitlements that lapse: the license's entitled figure, or the purchase's quantity.
    pub quantity: Option<Decimal>,
    /// Quantity × unit price (the purchase's own, else the license's).
    pub value: Option<Money>,
}

/// Licenses (non-perpetual ones with an `expiry`) and non-disabled purchases whose expiry date
/// falls from `as_of` to `within` days after it, inclusive, soonest first, then by license and
/// purchase. Retired licenses are left out.
pub fn expiring(ws: &Workspace, as_of: Date, within: i64) -> Vec<Expiring> {
    let in_window = |d: Date| {
        let days = i64::from((d - as_of).get_days());
        (d >= as_of && days <= within).then_some(days)
    };
    let purchases: BTreeMap<&str, &[Purchase]> = ws
        .licenses()
        .map(|(l, purchases)| (l.id.as_str(), purchases))
        .collect();
    let expiries: BTreeMap<&str, Date> = ws
        .licenses()
        .filter_map(|(l, _)| Some((l.id.as_str(), l.expiry?)))
        .collect();
    let mut out = Vec::new();
    for p in ws.positions().iter().filter(|p| !p.retired()) {
        let priced =
            |quantity: Option<Decimal>, price: Option<Decimal>, currency: &Option<String>| {
                money(
                    quantity
                        .zip(price)
                        .and_then(|(q, price)| q.checked_mul(price)),
                    currency,
                )
            };
        // A perpetual license's expiry is ignored (seed 002): its position has none.
        let license_expiry = expiries
            .get(p.license.as_str())
            .copied()
            .filter(|_| p.expiry.is_some());
        if let Some((expires, days)) = license_expiry.and_then(|d| Some((d, in_window(d)?))) {
            out.push(Expiring {
                expires,
                days,
                license: p.license.clone(),
                name: p.name.clone(),
                what: Expires::License,
                purchase: None,
                quantity: p.entitled,
                value: priced(p.entitled, p.unit_price, &p.currency),
            });
        }
        for purchase in purchases
            .get(p.license.as_str())
            .copied()
            .unwrap_or_default()
        {
            let Some(expires) = purchase.expiry.filter(|_| !purchase.disabled) else {
                continue;
            };
            let Some(days) = in_window(expires) else {
                continue;
            };
            let (price, currency) = match purchase.unit_price {
                Some(price) => (
                    Some(price),
                    purchase.currency.clone().or(p.currency.clone()),
                ),
                None => (p.unit_price, p.currency.clone()),
            };
            out.push(Expiring {
                expires,
                days,
                license: p.license.clone(),
                name: p.name.clone(),
                what: Expires::Purchase,
                purchase: Some(purchase.id.clone()),
                quantity: Some(purchase.quantity),
                value: priced(Some(purchase.quantity), price, &currency),
            });
        }
    }
    out.sort_by(|a, b| {
        (a.expires, &a.license, a.what, &a.purchase).cmp(&(
            b.expires,
            &b.license,
            b.what,
            &b.purchase,
        ))
    });
    out
}

pub fn expiring_rows(items: &[Expiring]) -> Rows {
    Rows::new(
        vec![
            Column::key("expires"),
            Column::number("days"),
            Column::key("license"),
            Column::text("name").wide(),
            Column::key("kind"),
            Column::key("purchase").wide(),
            Column::number("quantity"),
            Column::number("value"),
            Column::key("currency"),
        ],
        items
            .iter()
            .map(|e| {
                let [value, currency] = money_cells(&e.value);
                vec![
                    e.expires.to_string(),
                    e.days.to_string(),
                    e.license.clone(),
                    e.name.clone(),
                    match e.what {
                        Expires::License => "license",
                        Expires::Purchase => "purchase",
                    }
                    .to_owned(),
                    e.purchase.clone().unwrap_or_default(),
                    cell(e.quantity),
                    value,
                    currency,
                ]
            })
            .collect(),
    )
}

/// The licenses at risk, costliest first (unknown cost last), then by license.
pub fn at_risk(positions: &[Position]) -> Vec<&Position> {
    let mut out: Vec<&Position> = positions
        .iter()
        .filter(|p| p.status == Compliance::AtRisk)
        .collect();
    out.sort_by(|a, b| {
        let key = |p: &Position| {
            let cost = money(p.cost_at_risk, &p.currency);
            (costliest_first(&cost), p.license.clone())
        };
        key(a).cmp(&key(b))
    });
    out
}

/// The cost at risk of each license at risk: shortfall × unit price.
pub fn cost_at_risk_rows(items: &[&Position]) -> Rows {
    Rows::new(
        vec![
            Column::key("license"),
            Column::text("name").wide(),
            Column::text("product").wide(),
            Column::number("shortfall"),
            Column::number("unit_price"),
            Column::number("cost_at_risk"),
            Column::key("currency"),
        ],
        items
            .iter()
            .map(|p| {
                vec![
                    p.license.clone(),
                    p.name.clone(),
                    p.product.clone(),
                    cell(p.available.and_then(|a| Decimal::ZERO.checked_sub(a))),
                    cell(p.unit_price),
                    cell(p.cost_at_risk),
                    p.currency.clone().unwrap_or_default(),
                ]
            })
            .collect(),
    )
}

/// The cost at risk of the licenses at risk, as money.
pub fn cost_at_risk_money(items: &[&Position]) -> Vec<Money> {
    items
        .iter()
        .filter_map(|p| money(p.cost_at_risk, &p.currency))
        .collect()
}

/// What a roll-up groups licenses by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Product,
    Publisher,
}

/// One group of a roll-up in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The product or publisher name; empty when the packs do not say.
    pub name: String,
    /// Empty for licenses with no currency on record.
    pub currency: String,
    /// Licenses that are not retired.
    pub licenses: usize,
    pub at_risk: usize,
    pub unknown: usize,
    pub retired: usize,
    /// The sum of the cost at risk; `None` when too large.
    pub cost_at_risk: Option<Decimal>,
    /// The sum of available × unit price over the licenses with a surplus; `None` when too
    /// large.
    pub unused_value: Option<Decimal>,
    /// Licenses at risk or with a surplus whose money figure is unknown (no unit price, or too
    /// large), so the sums leave them out.
    pub unpriced: usize,
}

/// The positions rolled up by product or publisher (see [`crate::position::Terms`] for which
/// product a license counts under), one row per group and currency, sorted by name and
/// currency. Units are not summed, since the licenses of a group may count different things;
/// money is summed within a currency only.
pub fn rollup(positions: &[Position], by: By) -> Vec<Group> {
    let unused: BTreeMap<&str, Option<Money>> = under_consumed(positions)
        .into_iter()
        .map(|u| (u.position.license.as_str(), u.unused_value))
        .collect();
    let mut groups: BTreeMap<(String, String), Group> = BTreeMap::new();
    for p in positions {
        let name = match by {
            By::Product => &p.product,
            By::Publisher => &p.publisher,
        };
        let currency = p.currency.clone().unwrap_or_default();
        let g = groups
            .entry((name.clone(), currency.clone()))
            .or_insert_with(|| Group {
                name: name.clone(),
                currency,
                licenses: 0,
                at_risk: 0,
                unknown: 0,
                retired: 0,
                cost_at_risk: Some(Decimal::ZERO),
                unused_value: Some(Decimal::ZERO),
                unpriced: 0,
            });
        if p.retired() {
            g.retired += 1;
            continue;
        }
        g.licenses += 1;
        let mut priced = true;
        match p.status {
            Compliance::AtRisk => {
                g.at_risk += 1;
                priced &= p.cost_at_risk.is_some();
                g.cost_at_risk = g
                    .cost_at_risk
                    .zip(p.cost_at_risk)
                    .and_then(|(s, c)| s.checked_add(c));
            }
            Compliance::Unknown => g.unknown += 1,
            Compliance::Compliant => {}
        }
        if let Some(value) = unused.get(p.license.as_str()) {
            priced &= value.is_some();
            if let Some(value) = value {
                g.unused_value = g.unused_value.and_then(|s| s.checked_add(value.amount));
            }
        }
        if !priced {
            g.unpriced += 1;
        }
    }
    groups.into_values().collect()
}

pub fn rollup_rows(groups: &[Group], by: By) -> Rows {
    let name = match by {
        By::Product => "product",
        By::Publisher => "publisher",
    };
    Rows::new(
        vec![
            Column::text(name),
            Column::key("currency"),
            Column::number("licenses"),
            Column::number("at_risk"),
            Column::number("unknown").wide(),
            Column::number("retired").wide(),
            Column::number("cost_at_risk"),
            Column::number("unused_value"),
            Column::number("unpriced").wide(),
        ],
        groups
            .iter()
            .map(|g| {
                vec![
                    g.name.clone(),
                    g.currency.clone(),
                    g.licenses.to_string(),
                    g.at_risk.to_string(),
                    g.unknown.to_string(),
                    g.retired.to_string(),
                    cell(g.cost_at_risk),
                    cell(g.unused_value),
                    g.unpriced.to_string(),
                ]
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_are_per_currency() {
        let m = |amount: i64, currency: &str| Money {
            amount: Decimal::from(amount),
            currency: currency.to_owned(),
        };
        let items = [m(2, "EUR"), m(3, "USD"), m(5, "EUR")];
        let refs: Vec<&Money> = items.iter().collect();
        assert_eq!(totals_line("total", &refs), "total: 7 EUR, 3 USD\n");
        let big = [
            m(1, "EUR"),
            Money {
                amount: Decimal::MAX,
                currency: "EUR".into(),
            },
        ];
        let refs: Vec<&Money> = big.iter().collect();
        assert_eq!(totals_line("total", &refs), "total: (too large) EUR\n");
        assert_eq!(totals_line("total", &[]), "");
    }
}
