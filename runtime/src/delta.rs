//! What changed in a license position between two states of a workspace, and why.
//!
//! [`PositionDelta::between`] compares the positions and assessment rows of a state before an
//! edit with those after it. A license is in the delta when one of its figures moved
//! (entitled, consumed, available, status, cost at risk), when it was added or removed, or when
//! its assessment rows changed without moving a figure (an installation moving from one device
//! to another, say). Each license carries the rows that explain it: rows added, removed, or
//! changed in what they decide (outcome, reason, units, exemption).
//!
//! Rows are matched by what they are about: the device, the application and the user. What a
//! row decides is compared; what follows from the rows decided before it (the entitlements left
//! after it, its message) is not, so one new installation is one new row and not a change to
//! every row after it.
//!
//! `tally watch` prints a delta after each save; `tally diff` and the language server are meant
//! to use it too.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rust_decimal::Decimal;

use crate::position::{Compliance, Position};
use crate::reconcile::{Assessment, Outcome, Reason};

/// The figures of a license position that a delta compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figures {
    /// `None` when too large to compute with (see [`Position`]).
    pub entitled: Option<Decimal>,
    pub consumed: Option<Decimal>,
    /// `None` for unlimited and retired licenses, and when a figure is unknown.
    pub available: Option<Decimal>,
    pub status: Compliance,
    pub cost_at_risk: Option<Decimal>,
    pub currency: Option<String>,
}

impl From<&Position> for Figures {
    fn from(p: &Position) -> Self {
        Self {
            entitled: p.entitled,
            consumed: p.consumed,
            available: p.available,
            status: p.status,
            cost_at_risk: p.cost_at_risk,
            currency: p.currency.clone(),
        }
    }
}

/// What one assessment row is about and what it decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowFacts {
    pub device: Option<String>,
    pub application: Option<String>,
    pub user: Option<String>,
    pub outcome: Outcome,
    pub reason: Reason,
    pub units: Decimal,
    pub exemption: Option<String>,
}

impl From<&Assessment> for RowFacts {
    fn from(a: &Assessment) -> Self {
        Self {
            device: a.device.clone(),
            application: a.application.clone(),
            user: a.user.clone(),
            outcome: a.outcome,
            reason: a.reason,
            units: a.units,
            exemption: a.exemption.clone(),
        }
    }
}

impl RowFacts {
    /// What the row is about: the key rows are matched by.
    fn key(&self) -> (Option<&str>, Option<&str>, Option<&str>) {
        (
            self.device.as_deref(),
            self.application.as_deref(),
            self.user.as_deref(),
        )
    }
}

/// One assessment row of a license that is new, gone, or decides otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowDelta {
    Added(RowFacts),
    Removed(RowFacts),
    Changed { before: RowFacts, after: RowFacts },
}

impl RowDelta {
    /// The row as it is now, or as it was when it is gone.
    pub fn facts(&self) -> &RowFacts {
        match self {
            Self::Added(f) | Self::Removed(f) | Self::Changed { after: f, .. } => f,
        }
    }
}

/// How one license changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseDelta {
    pub license: String,
    /// `None` when the license is new.
    pub before: Option<Figures>,
    /// `None` when the license is gone.
    pub after: Option<Figures>,
    /// The rows added, removed or changed, by device, application and user.
    pub rows: Vec<RowDelta>,
}

impl LicenseDelta {
    /// Whether a figure of the position moved (or the license came or went), as opposed to
    /// rows changing with every figure the same.
    pub fn moved(&self) -> bool {
        self.before != self.after
    }
}

/// What changed in the license position, license by license in license-id order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PositionDelta {
    pub licenses: Vec<LicenseDelta>,
}

impl PositionDelta {
    /// The difference between two states, each given as its positions and assessment rows.
    pub fn between(
        before_positions: &[Position],
        before_rows: &[Assessment],
        after_positions: &[Position],
        after_rows: &[Assessment],
    ) -> Self {
        let before = by_license(before_positions, before_rows);
        let after = by_license(after_positions, after_rows);
        let mut ids: Vec<&str> = before.keys().chain(after.keys()).copied().collect();
        ids.sort_unstable();
        ids.dedup();
        let empty = Side::default();
        let licenses = ids
            .into_iter()
            .filter_map(|id| {
                let old = before.get(id).unwrap_or(&empty);
                let new = after.get(id).unwrap_or(&empty);
                let figures = (
                    old.position.map(Figures::from),
                    new.position.map(Figures::from),
                );
                // Same rows in the same order: nothing can have changed in them.
                let rows = if old.rows == new.rows {
                    Vec::new()
                } else {
                    row_changes(&old.rows, &new.rows)
                };
                (figures.0 != figures.1 || !rows.is_empty()).then(|| LicenseDelta {
                    license: id.to_owned(),
                    before: figures.0,
                    after: figures.1,
                    rows,
                })
            })
            .collect();
        Self { licenses }
    }

    /// Whether nothing changed: no figure and no row.
    pub fn is_empty(&self) -> bool {
        self.licenses.is_empty()
    }

    /// The licenses whose figures moved (or that came or went).
    pub fn moved(&self) -> impl Iterator<Item = &LicenseDelta> {
        self.licenses.iter().filter(|l| l.moved())
    }

    /// The delta as text, one line per license and an indented line per row, at most
    /// `max_rows` rows per license followed by `… and N more`; empty when nothing changed.
    ///
    /// ```text
    /// L-MS-VISIO-PRO-2016: consumed 8 → 9, available -2 → -3, cost_at_risk 778.00 → 1167.00 (At risk)
    ///   + device CON-WS-0007, microsoft.visio.professional_2016: Consumed, over_consumed, 1 unit
    /// ```
    pub fn render(&self, max_rows: usize) -> String {
        let mut out = String::new();
        for license in &self.licenses {
            let _ = writeln!(out, "{}: {}", license.license, figures_line(license));
            for row in license.rows.iter().take(max_rows) {
                let _ = writeln!(out, "  {}", row_line(row));
            }
            if license.rows.len() > max_rows {
                let _ = writeln!(out, "  … and {} more", license.rows.len() - max_rows);
            }
        }
        out
    }
}

/// One license's position and rows on one side of the comparison.
#[derive(Default)]
struct Side<'a> {
    position: Option<&'a Position>,
    rows: Vec<RowFacts>,
}

fn by_license<'a>(positions: &'a [Position], rows: &[Assessment]) -> BTreeMap<&'a str, Side<'a>> {
    let mut sides: BTreeMap<&str, Side<'_>> = positions
        .iter()
        .map(|p| {
            (
                p.license.as_str(),
                Side {
                    position: Some(p),
                    rows: Vec::new(),
                },
            )
        })
        .collect();
    // Rows of a license without a position cannot happen in a workspace; they are left out.
    for row in rows {
        if let Some(side) = sides.get_mut(row.license.as_str()) {
            side.rows.push(RowFacts::from(row));
        }
    }
    sides
}

type Key<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>);

/// The rows added, removed and changed, by key. Rows with the same key are matched first
/// where they decide the same, then pairwise in order.
fn row_changes(before: &[RowFacts], after: &[RowFacts]) -> Vec<RowDelta> {
    let mut groups: BTreeMap<Key<'_>, (Vec<&RowFacts>, Vec<&RowFacts>)> = BTreeMap::new();
    for row in before {
        groups.entry(row.key()).or_default().0.push(row);
    }
    for row in after {
        groups.entry(row.key()).or_default().1.push(row);
    }
    let mut changes = Vec::new();
    for (_, (mut old, mut new)) in groups {
        old.retain(|o| match new.iter().position(|n| n == o) {
            Some(i) => {
                new.remove(i);
                false
            }
            None => true,
        });
        let mut new = new.into_iter();
        for o in old {
            match new.next() {
                Some(n) => changes.push(RowDelta::Changed {
                    before: o.clone(),
                    after: n.clone(),
                }),
                None => changes.push(RowDelta::Removed(o.clone())),
            }
        }
        changes.extend(new.map(|n| RowDelta::Added(n.clone())));
    }
    changes
}

/// `consumed 8 → 9, available -2 → -3 (At risk)`; a new or gone license with all its figures.
fn figures_line(license: &LicenseDelta) -> String {
    match (&license.before, &license.after) {
        (None, None) => String::new(),
        (None, Some(after)) => format!("new license: {}", all_figures(after)),
        (Some(before), None) => format!("license gone (was {})", all_figures(before)),
        (Some(before), Some(after)) if before == after => {
            format!("position unchanged ({})", all_figures(after))
        }
        (Some(before), Some(after)) => {
            let mut moved = Vec::new();
            let money = |f: &Figures, v: Option<Decimal>| money(v, f.currency.as_deref());
            let pairs = [
                ("entitled", amount(before.entitled), amount(after.entitled)),
                ("consumed", amount(before.consumed), amount(after.consumed)),
                (
                    "available",
                    amount(before.available),
                    amount(after.available),
                ),
                (
                    "cost_at_risk",
                    money(before, before.cost_at_risk),
                    money(after, after.cost_at_risk),
                ),
            ];
            for (name, old, new) in pairs {
                if old != new {
                    moved.push(format!("{name} {old} → {new}"));
                }
            }
            if before.status == after.status {
                let mut line = moved.join(", ");
                if line.is_empty() {
                    line.push_str("position unchanged");
                }
                format!("{line} ({})", after.status.as_str())
            } else {
                moved.push(format!(
                    "status {} → {}",
                    before.status.as_str(),
                    after.status.as_str()
                ));
                moved.join(", ")
            }
        }
    }
}

/// `entitled 6, consumed 8, available -2, At risk`.
fn all_figures(f: &Figures) -> String {
    let mut parts = vec![
        format!("entitled {}", amount(f.entitled)),
        format!("consumed {}", amount(f.consumed)),
    ];
    if f.available.is_some() {
        parts.push(format!("available {}", amount(f.available)));
    }
    parts.push(f.status.as_str().to_owned());
    if f.cost_at_risk.is_some_and(|c| !c.is_zero()) {
        parts.push(format!(
            "cost_at_risk {}",
            money(f.cost_at_risk, f.currency.as_deref())
        ));
    }
    parts.join(", ")
}

/// A figure, or `none` when there is none (too large, or not applicable).
fn amount(value: Option<Decimal>) -> String {
    value.map_or_else(|| "none".to_owned(), |v| v.normalize().to_string())
}

/// An amount of money as reports write it (`778.00`), with its currency when known.
fn money(value: Option<Decimal>, currency: Option<&str>) -> String {
    match (value, currency) {
        (None, _) => "none".to_owned(),
        (Some(v), _) if v.is_zero() => "0".to_owned(),
        (Some(v), Some(c)) => format!("{v} {c}"),
        (Some(v), None) => v.to_string(),
    }
}

/// `+ device CON-WS-0007, microsoft.visio.professional_2016: Consumed, over_consumed, 1 unit`.
fn row_line(row: &RowDelta) -> String {
    match row {
        RowDelta::Added(f) => format!("+ {}: {}", subject(f), decision(f)),
        RowDelta::Removed(f) => format!("- {}: {}", subject(f), decision(f)),
        RowDelta::Changed { before, after } => format!(
            "~ {}: {} → {}",
            subject(after),
            decision(before),
            decision(after)
        ),
    }
}

/// What a row is about: `device D, user U, application` (each when the row has it).
fn subject(f: &RowFacts) -> String {
    let mut parts = Vec::new();
    if let Some(d) = &f.device {
        parts.push(format!("device {d}"));
    }
    if let Some(u) = &f.user {
        parts.push(format!("user {u}"));
    }
    parts.push(
        f.application
            .clone()
            .unwrap_or_else(|| "no installation".to_owned()),
    );
    parts.join(", ")
}

/// What a row decided: `Consumed, over_consumed, 1 unit` (and the exemption, if any).
fn decision(f: &RowFacts) -> String {
    let units = f.units.normalize();
    let mut text = format!(
        "{}, {}, {units} unit{}",
        f.outcome.as_str(),
        f.reason.code(),
        if units == Decimal::ONE { "" } else { "s" }
    );
    if let Some(e) = &f.exemption {
        let _ = write!(text, ", exempt: {e}");
    }
    text
}

#[cfg(test)]
mod tests;
