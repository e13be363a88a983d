//! Reconciliation of one license family: which license each installation consumes from, and
//! an assessment row, with a reason, for every (installation, candidate license) pair.
//!
//! A *family* is a connected group of licenses and the applications they cover; families are
//! independent of one another, so each is reconciled on its own. The order follows FlexNet
//! Manager Suite's documented behaviour:
//!
//! 1. **Allocations.** An installation on an allocated device (or a device of an allocated
//!    user) binds to that license and no other. A permanent allocation consumes even with
//!    nothing installed.
//! 2. **Bundles.** Multi-product licenses, most members first: on a device with a primary
//!    member installed, every member installed there binds for one unit. A supplementary member
//!    without its primary is rejected by that license.
//! 3. **Priority.** Each remaining installation first reuses a unit its device or user already
//!    holds on a candidate; otherwise it takes the first candidate (unlimited first, then by
//!    priority, then by id) with entitlements left. When all are exhausted it consumes from a
//!    true-up candidate if there is one, else from the highest-priority candidate, which then
//!    goes at risk.
//!
//! Every sort ends on a stable id, so the same inputs give the same rows in the same order.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rust_decimal::Decimal;
use tally_compiler::ir::{Counts, Covered, RightsKind, Role};

use crate::estate::{
    AllocationKind, AllocationTarget, Device, EntitlementLimit, License, LicenseStatus, User,
    UserStatus,
};
use crate::recognize::Installation;

/// The outcome of assessing one license for one installation (or allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    Consumed,
    Rejected,
    NotAssessed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Consumed => "Consumed",
            Self::Rejected => "Rejected",
            Self::NotAssessed => "Not assessed",
        }
    }
}

/// Why an assessment came out as it did. The codes are stable; see `docs/reconciliation.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// An entitlement was consumed as expected.
    Consumed,
    /// The device or user already holds a unit of this license; nothing more is consumed.
    SharedEntitlement,
    /// An allocation binds the installation to this license.
    Allocation,
    /// A permanent allocation consumes regardless of inventory.
    PermanentAllocation,
    /// A primary product of this bundle license is installed on the device.
    BundlePrimary,
    /// A supplementary product rides on the bundle's primary product on the same device.
    BundleSupplementary,
    /// Every candidate was exhausted; consumed here, beyond the entitlements.
    OverConsumed,
    /// Every candidate was exhausted; consumed here under true-up terms.
    TrueUp,
    /// No entitlements were left on this license.
    NoEntitlementsLeft,
    /// A supplementary product without its primary product on the device.
    SupplementaryWithoutPrimary,
    /// The device's operating-system type is outside the license's restriction.
    OsRestriction,
    /// The device is outside the license's enterprise-group restriction.
    OutsideGroup,
    /// The license is retired and takes no part in reconciliation.
    LicenseRetired,
    /// The installation consumed from another license first.
    ConsumedElsewhere,
    /// The device or user is allocated to another license that covers the application.
    AllocatedElsewhere,
    /// An allocation waits for a covered installation before it consumes.
    AwaitingInstallation,
}

impl Reason {
    /// The stable code, as written in JSON and CSV.
    pub fn code(self) -> &'static str {
        match self {
            Self::Consumed => "consumed",
            Self::SharedEntitlement => "shared_entitlement",
            Self::Allocation => "allocation",
            Self::PermanentAllocation => "permanent_allocation",
            Self::BundlePrimary => "bundle_primary",
            Self::BundleSupplementary => "bundle_supplementary",
            Self::OverConsumed => "over_consumed",
            Self::TrueUp => "true_up",
            Self::NoEntitlementsLeft => "no_entitlements_left",
            Self::SupplementaryWithoutPrimary => "supplementary_without_primary",
            Self::OsRestriction => "os_restriction",
            Self::OutsideGroup => "outside_group",
            Self::LicenseRetired => "license_retired",
            Self::ConsumedElsewhere => "consumed_elsewhere",
            Self::AllocatedElsewhere => "allocated_elsewhere",
            Self::AwaitingInstallation => "awaiting_installation",
        }
    }

    /// The result a reason belongs to: each reason has exactly one.
    pub fn outcome(self) -> Outcome {
        match self {
            Self::Consumed
            | Self::SharedEntitlement
            | Self::Allocation
            | Self::PermanentAllocation
            | Self::BundlePrimary
            | Self::BundleSupplementary
            | Self::OverConsumed
            | Self::TrueUp => Outcome::Consumed,
            Self::NoEntitlementsLeft
            | Self::SupplementaryWithoutPrimary
            | Self::OsRestriction
            | Self::OutsideGroup
            | Self::LicenseRetired => Outcome::Rejected,
            Self::ConsumedElsewhere | Self::AllocatedElsewhere | Self::AwaitingInstallation => {
                Outcome::NotAssessed
            }
        }
    }

    /// Every reason, for documentation and tests.
    pub const ALL: [Reason; 16] = [
        Self::Consumed,
        Self::SharedEntitlement,
        Self::Allocation,
        Self::PermanentAllocation,
        Self::BundlePrimary,
        Self::BundleSupplementary,
        Self::OverConsumed,
        Self::TrueUp,
        Self::NoEntitlementsLeft,
        Self::SupplementaryWithoutPrimary,
        Self::OsRestriction,
        Self::OutsideGroup,
        Self::LicenseRetired,
        Self::ConsumedElsewhere,
        Self::AllocatedElsewhere,
        Self::AwaitingInstallation,
    ];
}

/// One row of "which license, and why".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Assessment {
    pub license: String,
    pub device: Option<String>,
    /// The user whose unit this is, for user-counted licenses.
    pub user: Option<String>,
    /// `None` for an allocation with no installation behind it.
    pub application: Option<String>,
    pub outcome: Outcome,
    pub reason: Reason,
    pub message: String,
    /// The units this row added to the license's consumption (0 when it shares a unit).
    pub units: Decimal,
}

impl Assessment {
    /// The order rows are reported in: by license, device, application, then user.
    pub fn report_order(a: &Self, b: &Self) -> std::cmp::Ordering {
        (&a.license, &a.device, &a.application, &a.user).cmp(&(
            &b.license,
            &b.device,
            &b.application,
            &b.user,
        ))
    }
}

/// A license as reconciliation needs it: its record plus what its rules say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseTerms {
    pub license: License,
    pub counts: Counts,
    pub kind: RightsKind,
    /// Entitlements from current purchases plus extra entitlements.
    pub entitled: Decimal,
    /// The applications the license covers, and how.
    pub covers: BTreeMap<String, Covered>,
}

/// Everything one family's reconciliation reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FamilyInput {
    /// Sorted by license id.
    pub licenses: Vec<LicenseTerms>,
    /// Installations of the family's applications, sorted by (device, application).
    pub installations: Vec<Installation>,
    /// The devices the family touches (installed on, or allocated).
    pub devices: BTreeMap<String, Device>,
    /// All users (user units cross devices).
    pub users: BTreeMap<String, User>,
}

/// The family's assessments, sorted by (license, device, application, user).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FamilyOutcome {
    pub assessments: Vec<Assessment>,
}

/// What one unit of a license is held by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Unit {
    Device(String),
    User(String),
}

struct State<'a> {
    input: &'a FamilyInput,
    /// Units consumed so far, per license index.
    consumed: Vec<Decimal>,
    held: Vec<BTreeSet<Unit>>,
    /// Installation index to the license index it is bound to.
    bound: BTreeMap<usize, usize>,
    /// (installation, license) pairs already settled (rejected or decided) before the priority walk.
    settled: BTreeSet<(usize, usize)>,
    rows: Vec<Assessment>,
    /// Each application's candidate licenses, in consumption order: unlimited first, then by
    /// priority (none last), then by id.
    candidates: HashMap<&'a str, Vec<usize>>,
}

/// Reconciles one family.
pub fn reconcile_family(input: &FamilyInput) -> FamilyOutcome {
    let n = input.licenses.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|l| {
        input.licenses.get(*l).map(|t| {
            (
                t.license.limit != EntitlementLimit::Unlimited,
                t.license.priority.unwrap_or(u32::MAX),
                &t.license.id,
            )
        })
    });
    let mut candidates: HashMap<&str, Vec<usize>> = HashMap::new();
    for &l in &order {
        for app in input
            .licenses
            .get(l)
            .into_iter()
            .flat_map(|t| t.covers.keys())
        {
            candidates.entry(app.as_str()).or_default().push(l);
        }
    }
    let mut state = State {
        input,
        consumed: vec![Decimal::ZERO; n],
        held: vec![BTreeSet::new(); n],
        bound: BTreeMap::new(),
        settled: BTreeSet::new(),
        rows: Vec::new(),
        candidates,
    };
    state.retired();
    state.allocations();
    state.bundles();
    state.priority();
    let mut assessments = state.rows;
    assessments.sort_by(Assessment::report_order);
    FamilyOutcome { assessments }
}

impl State<'_> {
    fn terms(&self, l: usize) -> Option<&LicenseTerms> {
        self.input.licenses.get(l)
    }

    fn install(&self, i: usize) -> Option<&Installation> {
        self.input.installations.get(i)
    }

    fn active(&self, l: usize) -> bool {
        self.terms(l)
            .is_some_and(|t| t.license.status != LicenseStatus::Retired)
    }

    /// The unit an installation on `device` takes on license `l`, and a note when a user
    /// license falls back to counting the device.
    fn unit(&self, l: usize, device: &str) -> (Unit, Option<String>, String) {
        let dev = self.input.devices.get(device);
        let user_id = dev.and_then(Device::primary_user);
        let counts = self.terms(l).map_or(Counts::Device, |t| t.counts);
        if counts == Counts::Device {
            return (Unit::Device(device.to_string()), None, String::new());
        }
        let user = user_id.and_then(|u| self.input.users.get(u));
        match user {
            Some(u) if matches!(u.status, UserStatus::Active | UserStatus::Pending) => {
                (Unit::User(u.id.clone()), Some(u.id.clone()), String::new())
            }
            Some(u) => {
                let status = if u.status == UserStatus::Retired {
                    "retired"
                } else {
                    "inactive"
                };
                let note = format!(
                    "; user `{}` is {status}, so the device counts as having an unknown user and consumes on its own",
                    u.id
                );
                (Unit::Device(device.to_string()), Some(u.id.clone()), note)
            }
            None => (
                Unit::Device(device.to_string()),
                None,
                "; the device has no known user, so it consumes on its own".to_string(),
            ),
        }
    }

    /// Takes a unit on license `l`; returns the units added (0 if already held).
    fn take(&mut self, l: usize, unit: Unit) -> Decimal {
        let Some(held) = self.held.get_mut(l) else {
            return Decimal::ZERO;
        };
        if !held.insert(unit) {
            return Decimal::ZERO;
        }
        if let Some(c) = self.consumed.get_mut(l) {
            *c += Decimal::ONE;
        }
        Decimal::ONE
    }

    fn remaining(&self, l: usize) -> Decimal {
        let consumed = self.consumed.get(l).copied().unwrap_or_default();
        self.terms(l)
            .map_or(Decimal::ZERO, |t| t.entitled - consumed)
    }

    fn has_capacity(&self, l: usize) -> bool {
        self.terms(l)
            .is_some_and(|t| t.license.limit == EntitlementLimit::Unlimited)
            || self.remaining(l) > Decimal::ZERO
    }

    fn license_id(&self, l: usize) -> String {
        self.terms(l)
            .map(|t| t.license.id.clone())
            .unwrap_or_default()
    }

    fn row(
        &mut self,
        l: usize,
        i: Option<usize>,
        device: Option<&str>,
        reason: Reason,
        message: String,
        units: Decimal,
    ) {
        let device = device
            .map(str::to_string)
            .or_else(|| i.and_then(|i| self.install(i)).map(|x| x.device.clone()));
        let application = i
            .and_then(|i| self.install(i))
            .map(|x| x.application.clone());
        let user = match (&device, self.terms(l).map(|t| t.counts)) {
            (Some(d), Some(Counts::User)) => self.unit(l, d).1,
            _ => None,
        };
        self.rows.push(Assessment {
            license: self.license_id(l),
            device,
            user,
            application,
            outcome: reason.outcome(),
            reason,
            message,
            units,
        });
    }

    /// Candidate licenses of an installation, by index, in consumption order: those that
    /// cover its application.
    fn candidates(&self, i: usize) -> Vec<usize> {
        self.install(i)
            .and_then(|inst| self.candidates.get(inst.application.as_str()))
            .cloned()
            .unwrap_or_default()
    }

    fn role(&self, l: usize, i: usize) -> Option<Role> {
        let app = &self.install(i)?.application;
        self.terms(l)?.covers.get(app).map(|c| c.role)
    }

    fn retired(&mut self) {
        for i in 0..self.input.installations.len() {
            for l in self.candidates(i) {
                if !self.active(l) {
                    self.settled.insert((i, l));
                    self.row(
                        l,
                        Some(i),
                        None,
                        Reason::LicenseRetired,
                        "the license is retired, so reconciliation ignores it".to_string(),
                        Decimal::ZERO,
                    );
                }
            }
        }
    }

    /// Binds installation `i` to license `l`, taking its unit, and marks the other candidates.
    fn bind(&mut self, i: usize, l: usize, reason: Reason, message: String) -> Decimal {
        let Some(device) = self.install(i).map(|x| x.device.clone()) else {
            return Decimal::ZERO;
        };
        let (unit, _, note) = self.unit(l, &device);
        let units = self.take(l, unit);
        self.bound.insert(i, l);
        self.settled.insert((i, l));
        self.row(l, Some(i), None, reason, format!("{message}{note}"), units);
        units
    }

    fn allocations(&mut self) {
        for l in 0..self.input.licenses.len() {
            if !self.active(l) {
                continue;
            }
            let allocations = self
                .terms(l)
                .map(|t| t.license.allocations.clone())
                .unwrap_or_default();
            for allocation in allocations {
                let devices: Vec<String> = match &allocation.target {
                    AllocationTarget::Device(d) => vec![d.clone()],
                    AllocationTarget::User(u) => self
                        .input
                        .devices
                        .values()
                        .filter(|d| d.primary_user() == Some(u.as_str()))
                        .map(|d| d.id.clone())
                        .collect(),
                };
                let target = match &allocation.target {
                    AllocationTarget::Device(d) => format!("device `{d}`"),
                    AllocationTarget::User(u) => format!("user `{u}`"),
                };
                let installs: Vec<usize> = (0..self.input.installations.len())
                    .filter(|i| {
                        !self.bound.contains_key(i)
                            && self
                                .install(*i)
                                .is_some_and(|x| devices.contains(&x.device))
                            && self.role(l, *i).is_some()
                    })
                    .collect();
                let permanent = allocation.kind == AllocationKind::Permanent;
                let reason = if permanent {
                    Reason::PermanentAllocation
                } else {
                    Reason::Allocation
                };
                for &i in &installs {
                    let how = if permanent {
                        "a permanent allocation"
                    } else {
                        "an allocation"
                    };
                    self.bind(
                        i,
                        l,
                        reason,
                        format!("{how} of this license to {target} binds the installation here"),
                    );
                    for other in self.candidates(i) {
                        if other != l && self.settled.insert((i, other)) {
                            let id = self.license_id(l);
                            self.row(
                                other,
                                Some(i),
                                None,
                                Reason::AllocatedElsewhere,
                                format!("not assessed: {target} is allocated to license `{id}`"),
                                Decimal::ZERO,
                            );
                        }
                    }
                }
                if installs.is_empty() {
                    self.allocation_without_installation(
                        l,
                        &allocation.target,
                        permanent,
                        &target,
                        &devices,
                    );
                }
            }
        }
    }

    /// Records an allocation that has no unbound covered installation to bind: a permanent one
    /// consumes anyway, any other waits.
    fn allocation_without_installation(
        &mut self,
        l: usize,
        allocation: &AllocationTarget,
        permanent: bool,
        target: &str,
        devices: &[String],
    ) {
        let (unit, device, user) = match allocation {
            AllocationTarget::Device(d) => (Unit::Device(d.clone()), Some(d.as_str()), None),
            AllocationTarget::User(u) => (Unit::User(u.clone()), None, Some(u.clone())),
        };
        let bound_elsewhere = self.bound.iter().find_map(|(i, other)| {
            let x = self.install(*i)?;
            (devices.contains(&x.device) && self.role(l, *i).is_some())
                .then(|| self.license_id(*other))
        });
        let situation = match bound_elsewhere {
            Some(other) => {
                format!("its covered installation already consumes from license `{other}`")
            }
            None => "no covered application is installed".to_string(),
        };
        let (reason, message, units) = if permanent {
            let units = self.take(l, unit);
            (
                Reason::PermanentAllocation,
                format!("a permanent allocation to {target} consumes, although {situation}"),
                units,
            )
        } else {
            (
                Reason::AwaitingInstallation,
                format!("allocated to {target}, but {situation}, so nothing is consumed"),
                Decimal::ZERO,
            )
        };
        self.row(l, None, device, reason, message, units);
        if let Some(last) = self.rows.last_mut() {
            last.user = user.or(last.user.take());
        }
    }

    fn restriction_failure(&self, l: usize, device: &str) -> Option<(Reason, String)> {
        let restrictions = &self.terms(l)?.license.restrictions;
        let dev = self.input.devices.get(device);
        if let Some(wanted) = restrictions.os_type {
            let have = dev.and_then(|d| d.os_type);
            if have != Some(wanted) {
                let have = have.map_or("unknown", |h| {
                    if h == crate::estate::OsType::Server {
                        "server"
                    } else {
                        "desktop"
                    }
                });
                let wanted = if wanted == crate::estate::OsType::Server {
                    "server"
                } else {
                    "desktop"
                };
                return Some((
                    Reason::OsRestriction,
                    format!(
                        "the license is restricted to {wanted} operating systems, and the device's is {have}"
                    ),
                ));
            }
        }
        if !restrictions.groups.is_empty() {
            let groups = dev.map(|d| &d.groups);
            let inside = restrictions.groups.iter().any(|(kind, path)| {
                groups.and_then(|g| g.get(kind)).is_some_and(|have| {
                    have == path
                        || have
                            .strip_prefix(path.as_str())
                            .is_some_and(|rest| rest.starts_with('/'))
                })
            });
            if !inside {
                let wanted: Vec<String> = restrictions
                    .groups
                    .iter()
                    .map(|(k, p)| format!("`{k}={p}`"))
                    .collect();
                return Some((
                    Reason::OutsideGroup,
                    format!(
                        "the device is outside the license's restricted group {}",
                        wanted.join(" or ")
                    ),
                ));
            }
        }
        None
    }

    /// Rejects every candidate whose restrictions exclude the installation's device.
    fn reject_restricted(&mut self, i: usize, candidates: &[usize]) -> Vec<usize> {
        let Some(device) = self.install(i).map(|x| x.device.clone()) else {
            return Vec::new();
        };
        let mut open = Vec::new();
        for &l in candidates {
            if self.settled.contains(&(i, l)) {
                continue;
            }
            match self.restriction_failure(l, &device) {
                Some((reason, message)) => {
                    self.settled.insert((i, l));
                    self.row(l, Some(i), None, reason, message, Decimal::ZERO);
                }
                None => open.push(l),
            }
        }
        open
    }

    fn bundles(&mut self) {
        let mut bundles: Vec<usize> = (0..self.input.licenses.len())
            .filter(|l| {
                self.active(*l) && self.terms(*l).is_some_and(|t| t.kind == RightsKind::Bundle)
            })
            .collect();
        bundles.sort_by_key(|l| {
            let covers = self.terms(*l).map(|t| &t.covers);
            let members = covers.map_or(0, BTreeMap::len);
            let primaries = covers.map_or(0, |c| {
                c.values().filter(|v| v.role == Role::Primary).count()
            });
            (
                std::cmp::Reverse(members),
                std::cmp::Reverse(primaries),
                self.license_id(*l),
            )
        });
        for l in bundles {
            let id = self.license_id(l);
            let mut by_device: BTreeMap<String, Vec<usize>> = BTreeMap::new();
            for i in 0..self.input.installations.len() {
                if !self.bound.contains_key(&i)
                    && self.role(l, i).is_some()
                    && !self.settled.contains(&(i, l))
                    && let Some(x) = self.install(i)
                {
                    by_device.entry(x.device.clone()).or_default().push(i);
                }
            }
            for (device, installs) in by_device {
                let primary = installs
                    .iter()
                    .copied()
                    .find(|i| self.role(l, *i) == Some(Role::Primary));
                let Some(primary) = primary else {
                    for i in installs {
                        self.settled.insert((i, l));
                        self.row(l, Some(i), None, Reason::SupplementaryWithoutPrimary,
                            format!("the application is supplementary on bundle license `{id}`, and no primary product of it is installed on the device"), Decimal::ZERO);
                    }
                    continue;
                };
                if let Some((reason, message)) = self.restriction_failure(l, &device) {
                    for i in installs {
                        self.settled.insert((i, l));
                        self.row(l, Some(i), None, reason, message.clone(), Decimal::ZERO);
                    }
                    continue;
                }
                let (unit, _, _) = self.unit(l, &device);
                let limit = self.terms(l).map(|t| t.license.limit);
                let free = self.held.get(l).is_some_and(|h| h.contains(&unit));
                if !(free || self.has_capacity(l) || limit == Some(EntitlementLimit::TrueUp)) {
                    continue;
                }
                let primary_app = self
                    .install(primary)
                    .map(|x| x.application.clone())
                    .unwrap_or_default();
                for i in installs {
                    let (reason, message) = if self.role(l, i) == Some(Role::Primary) {
                        (
                            Reason::BundlePrimary,
                            "a primary product of this bundle license is installed on the device"
                                .to_string(),
                        )
                    } else {
                        (
                            Reason::BundleSupplementary,
                            format!(
                                "supplementary on this bundle license, riding on primary `{primary_app}` on the same device"
                            ),
                        )
                    };
                    self.bind(i, l, reason, message);
                    self.mark_others(i, l);
                }
            }
        }
    }

    /// Records "not assessed" for every other open candidate of a bound installation.
    fn mark_others(&mut self, i: usize, winner: usize) {
        let id = self.license_id(winner);
        for other in self.candidates(i) {
            if other != winner && self.settled.insert((i, other)) {
                self.row(
                    other,
                    Some(i),
                    None,
                    Reason::ConsumedElsewhere,
                    format!("not assessed: the installation already consumes from license `{id}`"),
                    Decimal::ZERO,
                );
            }
        }
    }

    fn priority(&mut self) {
        for i in 0..self.input.installations.len() {
            if self.bound.contains_key(&i) {
                continue;
            }
            let candidates = self.candidates(i);
            let open = self.reject_restricted(i, &candidates);
            if open.is_empty() {
                continue;
            }
            let Some(device) = self.install(i).map(|x| x.device.clone()) else {
                continue;
            };
            let holder = open.iter().copied().find(|l| {
                let (unit, _, _) = self.unit(*l, &device);
                self.held.get(*l).is_some_and(|h| h.contains(&unit))
            });
            if let Some(l) = holder {
                let whose = match self.unit(l, &device).0 {
                    Unit::User(u) => format!("user `{u}`"),
                    Unit::Device(d) => format!("device `{d}`"),
                };
                self.bind(i, l, Reason::SharedEntitlement,
                    format!("{whose} already holds an entitlement of this license, which covers this installation too"));
                self.mark_others(i, l);
                continue;
            }
            let winner = open.iter().copied().find(|l| self.has_capacity(*l));
            let (winner, reason, message) = match winner {
                Some(l) => (
                    l,
                    Reason::Consumed,
                    "entitlement consumed as expected".to_string(),
                ),
                None => {
                    let true_up = open.iter().copied().find(|l| {
                        self.terms(*l)
                            .is_some_and(|t| t.license.limit == EntitlementLimit::TrueUp)
                    });
                    match (true_up, open.first().copied()) {
                        (Some(l), _) => (l, Reason::TrueUp,
                            "every candidate license is exhausted; consumed here under true-up terms, to be bought at the next true-up".to_string()),
                        (None, Some(l)) => (l, Reason::OverConsumed,
                            "every candidate license is exhausted; consumed from the highest-priority one beyond its entitlements".to_string()),
                        (None, None) => continue,
                    }
                }
            };
            // Candidates ahead of the winner were tried and found exhausted; when every
            // candidate is exhausted, so were those after it. The rest were not needed.
            let exhausted = |pos: usize| {
                reason != Reason::Consumed
                    || open.get(pos..).is_some_and(|rest| rest.contains(&winner))
            };
            for (pos, &l) in open.iter().enumerate() {
                if l != winner && exhausted(pos) && self.settled.insert((i, l)) {
                    let left = self.remaining(l).max(Decimal::ZERO);
                    let message = format!(
                        "not enough entitlements left on this license ({left} available) to cover the device"
                    );
                    self.row(
                        l,
                        Some(i),
                        None,
                        Reason::NoEntitlementsLeft,
                        message,
                        Decimal::ZERO,
                    );
                }
            }
            self.bind(i, winner, reason, message);
            self.mark_others(i, winner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estate::Allocation;
    use tally_compiler::ir::CoveredVia;

    fn license(
        id: &str,
        priority: u32,
        limit: EntitlementLimit,
        entitled: i64,
        counts: Counts,
    ) -> LicenseTerms {
        let mut covers = BTreeMap::new();
        covers.insert(
            "app".to_string(),
            Covered {
                role: Role::Primary,
                via: CoveredVia::Direct,
            },
        );
        LicenseTerms {
            license: License {
                id: id.into(),
                name: id.into(),
                metric: counts.as_str().into(),
                rights: "r".into(),
                priority: Some(priority),
                limit,
                ..License::default()
            },
            counts,
            kind: RightsKind::Rights,
            entitled: Decimal::from(entitled),
            covers,
        }
    }

    fn device(id: &str, user: Option<&str>) -> Device {
        Device {
            id: id.into(),
            name: id.into(),
            assigned_user: user.map(str::to_string),
            ..Device::default()
        }
    }

    fn input(
        licenses: Vec<LicenseTerms>,
        devices: &[(&str, Option<&str>)],
        users: &[(&str, UserStatus)],
    ) -> FamilyInput {
        FamilyInput {
            licenses,
            installations: devices
                .iter()
                .map(|(d, _)| Installation {
                    device: (*d).into(),
                    application: "app".into(),
                    evidence: vec![1],
                })
                .collect(),
            devices: devices
                .iter()
                .map(|(d, u)| ((*d).to_string(), device(d, *u)))
                .collect(),
            users: users
                .iter()
                .map(|(u, s)| {
                    (
                        (*u).to_string(),
                        User {
                            id: (*u).into(),
                            name: (*u).into(),
                            status: *s,
                            groups: Default::default(),
                        },
                    )
                })
                .collect(),
        }
    }

    fn consumed(outcome: &FamilyOutcome, license: &str) -> Decimal {
        outcome
            .assessments
            .iter()
            .filter(|a| a.license == license)
            .map(|a| a.units)
            .sum()
    }

    fn reasons(outcome: &FamilyOutcome, device: &str) -> Vec<(String, &'static str)> {
        outcome
            .assessments
            .iter()
            .filter(|a| a.device.as_deref() == Some(device))
            .map(|a| (a.license.clone(), a.reason.code()))
            .collect()
    }

    #[test]
    fn exhausted_candidates_fall_back_to_the_highest_priority_license() {
        let licenses = vec![
            license("L1", 1, EntitlementLimit::AsPurchased, 1, Counts::Device),
            license("L2", 2, EntitlementLimit::AsPurchased, 1, Counts::Device),
        ];
        let out = reconcile_family(&input(
            licenses,
            &[("D1", None), ("D2", None), ("D3", None)],
            &[],
        ));
        assert_eq!(consumed(&out, "L1"), Decimal::from(2));
        assert_eq!(consumed(&out, "L2"), Decimal::ONE);
        assert_eq!(
            reasons(&out, "D2"),
            vec![
                ("L1".into(), "no_entitlements_left"),
                ("L2".into(), "consumed")
            ]
        );
        assert_eq!(
            reasons(&out, "D3"),
            vec![
                ("L1".into(), "over_consumed"),
                ("L2".into(), "no_entitlements_left")
            ]
        );
    }

    #[test]
    fn overflow_goes_to_the_true_up_license_whatever_its_priority() {
        let licenses = vec![
            license("L1", 2, EntitlementLimit::TrueUp, 1, Counts::Device),
            license("L2", 1, EntitlementLimit::AsPurchased, 1, Counts::Device),
        ];
        let out = reconcile_family(&input(
            licenses,
            &[("D1", None), ("D2", None), ("D3", None)],
            &[],
        ));
        assert_eq!(consumed(&out, "L2"), Decimal::ONE);
        assert_eq!(consumed(&out, "L1"), Decimal::from(2));
        assert!(reasons(&out, "D3").contains(&("L1".into(), "true_up")));
    }

    #[test]
    fn a_user_counts_once_but_a_retired_users_devices_count_each() {
        let licenses = vec![license(
            "U",
            1,
            EntitlementLimit::AsPurchased,
            10,
            Counts::User,
        )];
        let devices = [
            ("D1", Some("alice")),
            ("D2", Some("alice")),
            ("D3", Some("bob")),
            ("D4", Some("bob")),
            ("D5", None),
        ];
        let users = [("alice", UserStatus::Active), ("bob", UserStatus::Retired)];
        let out = reconcile_family(&input(licenses, &devices, &users));
        // alice: 1; bob (retired, unknown): 2; D5 without a user: 1.
        assert_eq!(consumed(&out, "U"), Decimal::from(4));
        assert_eq!(
            reasons(&out, "D2"),
            vec![("U".into(), "shared_entitlement")]
        );
        assert_eq!(reasons(&out, "D4"), vec![("U".into(), "consumed")]);
    }

    #[test]
    fn a_permanent_allocation_consumes_without_an_installation() {
        let mut l = license("L1", 1, EntitlementLimit::AsPurchased, 5, Counts::Device);
        l.license.allocations = vec![
            Allocation {
                target: AllocationTarget::Device("D9".into()),
                kind: AllocationKind::Permanent,
            },
            Allocation {
                target: AllocationTarget::Device("D8".into()),
                kind: AllocationKind::Allocated,
            },
        ];
        let mut family = input(vec![l], &[("D1", None)], &[]);
        family.devices.insert("D9".into(), device("D9", None));
        family.devices.insert("D8".into(), device("D8", None));
        let out = reconcile_family(&family);
        assert_eq!(consumed(&out, "L1"), Decimal::from(2));
        assert_eq!(
            reasons(&out, "D9"),
            vec![("L1".into(), "permanent_allocation")]
        );
        assert_eq!(
            reasons(&out, "D8"),
            vec![("L1".into(), "awaiting_installation")]
        );
    }

    #[test]
    fn every_reason_has_a_distinct_code() {
        let codes: BTreeSet<&str> = Reason::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), Reason::ALL.len());
    }
}
