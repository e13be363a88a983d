//! Reconciliation of one license family: which license each installation consumes from, and
//! an assessment row, with a reason, for every (installation, candidate license) pair.
//!
//! A *family* is a connected group of licenses and the applications they cover; families are
//! independent of one another, so each is reconciled on its own. The order follows FlexNet
//! Manager Suite's documented behaviour (`docs/reconciliation.md` has the details):
//!
//! 0. Retired licenses, and licenses out of their term on the as-of day, take no part.
//! 1. **Allocations and manual exemptions.** An installation on an allocated (or exempted)
//!    device, or a device of an allocated user, binds to that license and no other. A
//!    permanent allocation, or any allocation of a license whose allocations consume,
//!    consumes even with nothing installed; an exemption consumes nothing.
//! 2. **Bundles.** Multi-product licenses, most members first: on a device with a primary
//!    member installed, every member installed there binds for one unit. A supplementary member
//!    without its primary is rejected by that license.
//! 3. **Group assignments.** A device in a group a candidate assigns entitlements to consumes
//!    those first, deepest group first.
//! 4. **Priority.** Each remaining installation first reuses a unit its device or user already
//!    holds on a candidate; otherwise it takes the first candidate (unlimited first, then by
//!    priority, then by id) with entitlements left. When all are exhausted it consumes from a
//!    true-up candidate if there is one, else from the highest-priority candidate, which then
//!    goes at risk. Laptops that may be a second use are walked last.
//!
//! Restrictions (version past the upgrade right's end, OS type, group, hardware, a product
//! needed on the same device) reject and never raise priority; device roles a license exempts
//! consume nothing.
//!
//! Every sort ends on a stable id, so the same inputs give the same rows in the same order.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use rust_decimal::Decimal;
use tally_compiler::ir::{Counts, Covered, Hardware, Metric, Quantity, RightsKind, Role, Table};

use crate::estate::{
    AllocationKind, AllocationTarget, Chassis, Device, EntitlementLimit, Exemption, License,
    LicenseStatus, Partition, User, UserStatus,
};
use crate::metric::{self, Computation, EvalError, Holder, LicenseFacts, Machine};
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
    /// A hardware value the license's metric needs is missing from inventory.
    Missing(Hardware),
    /// The holder has more of a piece of hardware than the license allows.
    AboveLimit(Hardware),
    /// The holder has less of a piece of hardware than the license needs.
    BelowLimit(Hardware),
    /// The license's metric counts only allocated users or devices, and this one is not.
    NotAllocated,
    /// The license's metric could not compute a quantity (no table row, a failing script).
    MetricFailed,
    /// The license's allocations consume without an installation (a license option).
    AllocationConsumes,
    /// Consumed from entitlements assigned to an enterprise group the device belongs to.
    GroupAssignment,
    /// A manual exemption of the device or user: bound here, consuming nothing.
    Exempt,
    /// The device's role is one the license's use rights exempt: consumes nothing.
    RoleExempt,
    /// A laptop-class second device of the user of a device holding the entitlement.
    SecondUse,
    /// The license's subscription or time limit ended before the as-of day.
    LicenseExpired,
    /// The license's subscription starts after the as-of day.
    LicenseNotStarted,
    /// The version is reached only by an upgrade right, and was released after maintenance
    /// ended (or its release day is unknown).
    UpgradeAfterMaintenance,
    /// The license needs another product (an Oracle option, the database) installed on the
    /// same device, and it is not.
    RequiredInstallationMissing,
    /// Reserved for access-counted licenses (Microsoft CALs): access to the application is
    /// counted as consumption. Tally reads no access records yet, so no row has it.
    AccessCounted,
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
            Self::Missing(h) => match h {
                Hardware::Cores => "missing_cores",
                Hardware::Processors => "missing_processors",
                Hardware::Sockets => "missing_sockets",
                Hardware::MaxSockets => "missing_max_sockets",
                Hardware::Threads => "missing_threads",
                Hardware::ProcessorModel => "missing_processor_model",
                Hardware::Purchased => "missing_purchase_date",
                Hardware::Host => "missing_host",
            },
            Self::AboveLimit(h) => match h {
                Hardware::Processors => "too_many_processors",
                Hardware::Sockets => "too_many_sockets",
                _ => "too_many_cores",
            },
            Self::BelowLimit(h) => match h {
                Hardware::Processors => "too_few_processors",
                Hardware::Sockets => "too_few_sockets",
                _ => "too_few_cores",
            },
            Self::NotAllocated => "not_allocated",
            Self::MetricFailed => "metric_failed",
            Self::AllocationConsumes => "allocation_consumes",
            Self::GroupAssignment => "group_assignment",
            Self::Exempt => "exempt",
            Self::RoleExempt => "role_exempt",
            Self::SecondUse => "second_use",
            Self::LicenseExpired => "license_expired",
            Self::LicenseNotStarted => "license_not_started",
            Self::UpgradeAfterMaintenance => "upgrade_after_maintenance",
            Self::RequiredInstallationMissing => "required_installation_missing",
            Self::AccessCounted => "access_counted",
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
            | Self::TrueUp
            | Self::AllocationConsumes
            | Self::GroupAssignment
            | Self::Exempt
            | Self::RoleExempt
            | Self::SecondUse
            | Self::AccessCounted => Outcome::Consumed,
            Self::NoEntitlementsLeft
            | Self::SupplementaryWithoutPrimary
            | Self::OsRestriction
            | Self::OutsideGroup
            | Self::LicenseRetired
            | Self::Missing(_)
            | Self::AboveLimit(_)
            | Self::BelowLimit(_)
            | Self::NotAllocated
            | Self::MetricFailed
            | Self::LicenseExpired
            | Self::LicenseNotStarted
            | Self::UpgradeAfterMaintenance
            | Self::RequiredInstallationMissing => Outcome::Rejected,
            Self::ConsumedElsewhere | Self::AllocatedElsewhere | Self::AwaitingInstallation => {
                Outcome::NotAssessed
            }
        }
    }

    /// Every reason, for documentation and tests.
    pub const ALL: [Reason; 42] = [
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
        Self::Missing(Hardware::Cores),
        Self::Missing(Hardware::Processors),
        Self::Missing(Hardware::Sockets),
        Self::Missing(Hardware::MaxSockets),
        Self::Missing(Hardware::Threads),
        Self::Missing(Hardware::ProcessorModel),
        Self::Missing(Hardware::Purchased),
        Self::Missing(Hardware::Host),
        Self::AboveLimit(Hardware::Cores),
        Self::AboveLimit(Hardware::Processors),
        Self::AboveLimit(Hardware::Sockets),
        Self::BelowLimit(Hardware::Cores),
        Self::BelowLimit(Hardware::Processors),
        Self::BelowLimit(Hardware::Sockets),
        Self::NotAllocated,
        Self::MetricFailed,
        Self::AllocationConsumes,
        Self::GroupAssignment,
        Self::Exempt,
        Self::RoleExempt,
        Self::SecondUse,
        Self::LicenseExpired,
        Self::LicenseNotStarted,
        Self::UpgradeAfterMaintenance,
        Self::RequiredInstallationMissing,
        Self::AccessCounted,
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
    /// Why the device or user is exempt from consuming (seed 003's *Exemption reason*): a
    /// manual reason, `role: test`, `second use`; `None` when it is not exempt.
    pub exemption: Option<String>,
    /// For a metric that computes a quantity: the metric and how the holder's quantity came
    /// out, after this row joined the holder.
    pub computation: Option<(String, Computation)>,
    /// The license's allocation to the row's device or user (seed 003's *Allocation type*);
    /// an allocation awaiting inventory shows as allocated once a covered installation is on
    /// the target's devices. `None` when the license allocates neither.
    pub allocation: Option<AllocationKind>,
    /// Evidence of use in the [`USE_WINDOW_DAYS`] days up to the as-of day (seed 003's
    /// *Used*): a `last_used` day of the installation's evidence, else a usage row of its
    /// application with something in use. `None` when neither says anything (and for rows
    /// with no installation).
    pub used: Option<bool>,
    /// The license's priority (lower first; `None` comes last).
    pub priority: Option<u32>,
    /// Whether the row's application is a supplementary member of the license's bundle.
    pub supplementary: bool,
    /// The license's entitlement limit (seed 003's *Entitlement limits*).
    pub limit: EntitlementLimit,
    /// Entitlements left on the license just after this row was decided: entitled minus
    /// the units taken so far, this row's included (negative beyond the entitlements).
    /// `None` for unlimited licenses and for licenses that take no part (retired, out of
    /// term), as seed 003 reports no availability for them.
    pub available_after: Option<Decimal>,
}

/// How many days before the as-of day evidence of use counts (seed 003: "by default, within
/// the last three months").
pub const USE_WINDOW_DAYS: i64 = 90;

impl Assessment {
    /// Whether the row has an installation behind it (seed 003's *Installed*); an allocation
    /// row with nothing installed has none.
    pub fn installed(&self) -> bool {
        self.application.is_some()
    }

    /// Seed 003's *Access mode*: `local` for an installation in inventory; `None` for an
    /// allocation with no installation behind it. Tally reads no App-V or Citrix access
    /// records, so there is no other mode.
    pub fn access_mode(&self) -> Option<&'static str> {
        self.installed().then_some("local")
    }

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
    pub metric: Metric,
    /// What holds a set of units: the metric's `counts`, unless the license's virtualization
    /// terms say which machine to count.
    pub counts: Counts,
    pub kind: RightsKind,
    /// The applications the license covers, and how.
    pub covers: BTreeMap<String, Covered>,
    /// Whether the as-of day is before the license's start (`Less`) or after its expiry
    /// (`Greater`), with that day; `None` while the license is in its term.
    pub out_of_term: Option<(std::cmp::Ordering, jiff::civil::Date)>,
    /// Applications covered only through an upgrade right and released after maintenance
    /// ended: application to its release day (`None` when unknown).
    pub upgrade_ended: BTreeMap<String, Option<String>>,
    /// With `restrictions.requires_installed`: the devices it is installed on.
    pub required_on: BTreeSet<String>,
}

/// Everything one family's reconciliation reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FamilyInput {
    /// Sorted by license id.
    pub licenses: Vec<LicenseTerms>,
    /// Installations of the family's applications, sorted by (device, application).
    pub installations: Vec<Arc<Installation>>,
    /// The devices the family touches (installed on, or allocated).
    pub devices: BTreeMap<String, Arc<Device>>,
    /// All users (user units cross devices).
    pub users: BTreeMap<String, Arc<User>>,
    /// The tables the family's metrics look values up in.
    pub tables: BTreeMap<String, Table>,
    /// Usage rows of the family's applications: application to (moment, in use).
    pub usage: BTreeMap<String, Vec<(String, Decimal)>>,
    /// The day reconciliation is as of, which evidence of use is counted back from.
    pub as_of: jiff::civil::Date,
}

/// The family's assessments, sorted by (license, device, application, user).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FamilyOutcome {
    pub assessments: Vec<Assessment>,
}

/// What one set of a license's units is held by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Unit {
    Device(String),
    User(String),
    Host(String),
    Cluster(String),
    License,
}

/// A holder's installations and the quantity they make it consume.
#[derive(Debug, Clone, Default)]
struct Held {
    members: Vec<usize>,
    quantity: Decimal,
}

/// Why an installation cannot take a unit of a license.
type Rejection = (Reason, String);

struct State<'a> {
    input: &'a FamilyInput,
    /// Per license index, its entitlements: current purchases plus extra entitlements. Read
    /// only through [`State::has_room`] and [`State::entitled_as_read`], which record what the
    /// walk's decisions needed of them in `ranges`.
    entitled: &'a [Decimal],
    /// Per license index, the entitlements over which every decision the walk made so far
    /// comes out the same.
    ranges: Vec<EntitledRange>,
    /// Units consumed so far, per license index.
    consumed: Vec<Decimal>,
    held: Vec<FxHashMap<Unit, Held>>,
    /// Installation index to the license index it is bound to.
    bound: BTreeMap<usize, usize>,
    /// Per license index, the installations bound to it, in binding order.
    bound_to: Vec<Vec<usize>>,
    /// Each cluster's hosts (devices with the cluster that are not VMs).
    clusters: BTreeMap<&'a str, Vec<&'a Device>>,
    /// Per license index, whether its metric reads the license's lists (installations,
    /// devices, users, usage), which are then gathered for each computation.
    reads_license_lists: Vec<bool>,
    /// (installation, license) pairs already settled (rejected or decided) before the priority walk.
    settled: BTreeSet<(usize, usize)>,
    rows: Vec<Assessment>,
    /// Each application's candidate licenses, in consumption order: unlimited first, then by
    /// priority (none last), then by id.
    candidates: FxHashMap<&'a str, Rc<[usize]>>,
    /// Units consumed from each (license, assignment) pair's assigned entitlements.
    assigned_used: BTreeMap<(usize, usize), Decimal>,
    /// Per (license, device holding the entitlement), the laptop its second use went to.
    second_use: BTreeMap<(usize, String), String>,
    /// Whether assessment rows are kept; without them only `totals` are, which is all a
    /// position needs.
    keep_rows: bool,
    /// Per license index, the units its rows add up to; `None` past the largest decimal.
    totals: Vec<Option<Decimal>>,
    /// Each active (or pending) user's physical devices, sorted: where a right of second use
    /// looks for the entitlement a laptop may ride on.
    user_devices: FxHashMap<&'a str, Vec<&'a str>>,
    /// Each device's installations in the family, by index.
    device_installs: FxHashMap<&'a str, Vec<usize>>,
    /// Each application's installations in the family, by index.
    app_installs: FxHashMap<&'a str, Vec<usize>>,
    /// The devices whose primary user each user is, sorted.
    primary_devices: FxHashMap<&'a str, Vec<&'a str>>,
    /// The family's devices by id (the input's map, hashed for the walk's many lookups).
    devices: FxHashMap<&'a str, &'a Device>,
    /// The family's users by id, likewise.
    users: FxHashMap<&'a str, &'a User>,
    /// Per license index, whether it takes part (see [`State::inactive_reason`]).
    active: Vec<bool>,
    /// Each holder, with the licenses it holds units of: which candidates an installation's
    /// holder already holds, without asking each candidate.
    held_by: FxHashMap<Unit, Vec<usize>>,
    /// Per license index, its place in consumption order.
    rank: Vec<usize>,
    /// Each application's candidates' ways of counting, each once.
    candidate_counts: FxHashMap<&'a str, Vec<Counts>>,
    /// Per license index, whether it was found with less than one unit left for a holder of
    /// its own, counting one unit per holder, limited, exempting no role: consumption only
    /// grows, so it never has room again, and the walk without rows skips it.
    no_room: Vec<bool>,
}

/// Reconciles one family: every assessment row, as `explain` shows them. `entitled` gives
/// each license's entitlements, in the order of `input.licenses`.
pub fn reconcile_family(input: &FamilyInput, entitled: &[Decimal]) -> FamilyOutcome {
    let state = run(input, entitled, true);
    let mut assessments = state.rows;
    assessments.sort_by(Assessment::report_order);
    FamilyOutcome { assessments }
}

/// What a family's walk for its positions found: the units each license consumes, and the
/// entitlements over which the walk would decide the same.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Consumption {
    /// The units each license consumes, by license id (`None` past the largest decimal).
    pub totals: BTreeMap<String, Option<Decimal>>,
    /// Per license, in the order of the family's licenses: the entitlements for which every
    /// decision of the walk comes out as it did.
    pub ranges: Vec<EntitledRange>,
}

impl Consumption {
    /// Whether a walk of the same family input with these entitlements (in the order of the
    /// family's licenses) would decide everything as this one did, and so find the same
    /// totals: each license's entitlements lie in its range.
    pub fn holds_for(&self, entitled: &[Decimal]) -> bool {
        self.ranges.len() == entitled.len()
            && self
                .ranges
                .iter()
                .zip(entitled)
                .all(|(range, e)| range.contains(*e))
    }
}

/// Reconciles one family for its positions only: the units each license consumes (the sum of
/// the units of its rows in [`reconcile_family`]; `None` past the largest decimal), without
/// building a row for every installation and candidate license; with the range of
/// entitlements over which the walk decides the same (see [`EntitledRange`]).
pub fn family_consumption(input: &FamilyInput, entitled: &[Decimal]) -> Consumption {
    let state = run(input, entitled, false);
    let totals = input
        .licenses
        .iter()
        .zip(state.totals)
        .map(|(t, total)| (t.license.id.clone(), total))
        .collect();
    Consumption {
        totals,
        ranges: state.ranges,
    }
}

/// The entitlements of one license over which a walk decides the same.
///
/// The walk reads a license's entitlements in one way only: whether `entitled − consumed ≥
/// units` for what it consumed so far and the units an installation needs. Each such check
/// that comes out true says `entitled ≥ consumed + units`, one that comes out false says
/// `entitled < consumed + units`; together they make a half-open range `[low, high)` holding
/// the entitlements the walk ran with. Any entitlements in the range make every check come
/// out the same, so the walk takes the same path, consumes the same units and makes the same
/// next checks: by induction over the walk, it ends with the same totals.
///
/// Decimal arithmetic rounds past 28 digits, where `entitled − consumed ≥ units` and
/// `entitled ≥ consumed + units` may part; so the range is kept only while every number the
/// checks involve is small enough to be exact ([`exact`]), and otherwise holds the
/// entitlements the walk ran with alone. So does any other use of the value (a row showing
/// what is left).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntitledRange {
    /// The entitlements the walk ran with.
    at: Decimal,
    /// The least entitlements for which every check that came out true still does.
    low: Option<Decimal>,
    /// The least entitlements for which a check that came out false would come out true.
    high: Option<Decimal>,
    /// Whether only `at` itself is known to decide the same.
    pinned: bool,
}

impl EntitledRange {
    /// The range before any check: every value decides the same.
    pub fn new(at: Decimal) -> Self {
        Self {
            at,
            low: None,
            high: None,
            pinned: !exact(at),
        }
    }

    /// Records a check `at − consumed ≥ units` that came out `outcome`.
    pub fn narrow(&mut self, consumed: Decimal, units: Decimal, outcome: bool) {
        if self.pinned || !exact(consumed) || !exact(units) {
            self.pinned = true;
            return;
        }
        // Both are exact and small: the sum is exact.
        let Some(threshold) = consumed.checked_add(units) else {
            self.pinned = true;
            return;
        };
        if outcome {
            self.low = Some(self.low.map_or(threshold, |low| low.max(threshold)));
        } else {
            self.high = Some(self.high.map_or(threshold, |high| high.min(threshold)));
        }
    }

    /// Records a use of the value other than a check: only `at` decides the same.
    pub fn pin(&mut self) {
        self.pinned = true;
    }

    /// Whether a walk with `entitled` would decide every check as the walk with `at` did.
    pub fn contains(&self, entitled: Decimal) -> bool {
        if entitled == self.at {
            return true;
        }
        !self.pinned
            && exact(entitled)
            && self.low.is_none_or(|low| entitled >= low)
            && self.high.is_none_or(|high| entitled < high)
    }
}

/// Whether decimal arithmetic on `d` is exact: at most ten decimal places and less than 10¹⁵
/// in magnitude, so that sums and differences of such numbers (below 2·10²⁵ in units of
/// 10⁻¹⁰) fit the decimal's 96-bit mantissa and never round.
fn exact(d: Decimal) -> bool {
    const LIMIT: Decimal = Decimal::from_parts(0x_a4c6_8000, 0x_0003_8d7e, 0, false, 0);
    d.scale() <= 10 && d.abs() < LIMIT
}

fn run<'a>(input: &'a FamilyInput, entitled: &'a [Decimal], keep_rows: bool) -> State<'a> {
    let n = input.licenses.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|l| {
        input.licenses.get(*l).map(|t| {
            (
                t.license.limit != EntitlementLimit::Unlimited,
                // Any priority, the largest too, comes before none.
                t.license.priority.is_none(),
                t.license.priority,
                &t.license.id,
            )
        })
    });
    let mut candidates: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
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
        entitled,
        ranges: (0..n)
            .map(|l| EntitledRange::new(entitled.get(l).copied().unwrap_or_default()))
            .collect(),
        consumed: vec![Decimal::ZERO; n],
        held: vec![FxHashMap::default(); n],
        bound: BTreeMap::new(),
        bound_to: vec![Vec::new(); n],
        clusters: {
            let mut clusters: BTreeMap<&str, Vec<&Device>> = BTreeMap::new();
            for d in input.devices.values().map(Arc::as_ref) {
                if let Some(c) = d.cluster.as_deref()
                    && d.partition != Partition::Vm
                {
                    clusters.entry(c).or_default().push(d);
                }
            }
            clusters
        },
        reads_license_lists: input
            .licenses
            .iter()
            .map(|t| metric::reads_license_lists(&t.metric.quantity))
            .collect(),
        settled: BTreeSet::new(),
        rows: Vec::new(),
        candidates: candidates
            .into_iter()
            .map(|(app, list)| (app, Rc::from(list)))
            .collect(),
        assigned_used: BTreeMap::new(),
        second_use: BTreeMap::new(),
        keep_rows,
        totals: vec![Some(Decimal::ZERO); n],
        user_devices: FxHashMap::default(),
        device_installs: FxHashMap::default(),
        app_installs: FxHashMap::default(),
        primary_devices: FxHashMap::default(),
        devices: input
            .devices
            .iter()
            .map(|(id, d)| (id.as_str(), d.as_ref()))
            .collect(),
        users: input
            .users
            .iter()
            .map(|(id, u)| (id.as_str(), u.as_ref()))
            .collect(),
        active: Vec::new(),
        held_by: FxHashMap::default(),
        rank: vec![usize::MAX; n],
        candidate_counts: FxHashMap::default(),
        no_room: vec![false; n],
    };
    state.active = (0..n).map(|l| state.inactive_reason(l).is_none()).collect();
    for (k, &l) in order.iter().enumerate() {
        if let Some(rank) = state.rank.get_mut(l) {
            *rank = k;
        }
    }
    for (app, list) in &state.candidates {
        let mut kinds: Vec<Counts> = Vec::new();
        for counts in list
            .iter()
            .filter_map(|l| input.licenses.get(*l))
            .map(|t| t.counts)
        {
            if !kinds.contains(&counts) {
                kinds.push(counts);
            }
        }
        state.candidate_counts.insert(app, kinds);
    }
    for (i, x) in input.installations.iter().enumerate() {
        state.device_installs.entry(&x.device).or_default().push(i);
        state
            .app_installs
            .entry(&x.application)
            .or_default()
            .push(i);
    }
    for (id, device) in &input.devices {
        if let Some(user) = device.primary_user() {
            state.primary_devices.entry(user).or_default().push(id);
        }
        if state.physical(id)
            && let Some(user) = device
                .primary_user()
                .and_then(|u| input.users.get(u))
                .filter(|u| matches!(u.status, UserStatus::Active | UserStatus::Pending))
        {
            state.user_devices.entry(&user.id).or_default().push(id);
        }
    }
    state.inactive();
    state.allocations();
    state.bundles();
    state.group_assignments();
    state.priority();
    state
}

impl State<'_> {
    /// The devices an allocation or exemption target names: the device, or the devices whose
    /// primary user the user is, sorted.
    fn target_devices<'t>(&'t self, target: &'t AllocationTarget) -> Vec<&'t str> {
        match target {
            AllocationTarget::Device(d) => vec![d.as_str()],
            AllocationTarget::User(u) => self
                .primary_devices
                .get(u.as_str())
                .cloned()
                .unwrap_or_default(),
        }
    }

    fn device(&self, id: &str) -> Option<&Device> {
        self.devices.get(id).copied()
    }

    fn user(&self, id: &str) -> Option<&User> {
        self.users.get(id).copied()
    }

    fn terms(&self, l: usize) -> Option<&LicenseTerms> {
        self.input.licenses.get(l)
    }

    fn install(&self, i: usize) -> Option<&Installation> {
        self.input.installations.get(i).map(Arc::as_ref)
    }

    /// Whether license `l` takes part: not retired, and in its term on the as-of day.
    fn active(&self, l: usize) -> bool {
        self.active.get(l).copied().unwrap_or(false)
    }

    /// Why license `l` takes no part in reconciliation, if it does not.
    fn inactive_reason(&self, l: usize) -> Option<Rejection> {
        let terms = self.terms(l)?;
        if terms.license.status == LicenseStatus::Retired {
            return Some((
                Reason::LicenseRetired,
                "the license is retired, so reconciliation ignores it".to_string(),
            ));
        }
        let duration = terms.license.duration.name().replace('_', "-");
        match terms.out_of_term {
            Some((std::cmp::Ordering::Less, start)) => Some((
                Reason::LicenseNotStarted,
                format!("the {duration} license starts on {start}, after the as-of day"),
            )),
            Some((_, expiry)) => Some((
                Reason::LicenseExpired,
                format!("the {duration} license expired on {expiry}, so it covers nothing"),
            )),
            None => None,
        }
    }

    /// The unit an installation on `device` takes on license `l`, the user it counts (for a
    /// user license), and a note when a user license falls back to counting the device.
    fn unit(&self, l: usize, device: &str) -> (Unit, Option<String>, Cow<'static, str>) {
        let counts = self.terms(l).map_or(Counts::Device, |t| t.counts);
        self.unit_counted(counts, device)
    }

    /// The unit an installation on `device` takes on a license counting `counts` (see
    /// [`Self::unit`]): it depends on the way of counting alone.
    fn unit_counted(
        &self,
        counts: Counts,
        device: &str,
    ) -> (Unit, Option<String>, Cow<'static, str>) {
        let dev = self.device(device);
        match counts {
            Counts::Device => return (Unit::Device(device.to_string()), None, Cow::Borrowed("")),
            Counts::License => return (Unit::License, None, Cow::Borrowed("")),
            Counts::Host | Counts::Cluster => {
                let host = dev
                    .and_then(|d| self.host_of(d))
                    .map_or_else(|| device.to_string(), |h| h.id.clone());
                if counts == Counts::Host {
                    return (Unit::Host(host), None, Cow::Borrowed(""));
                }
                let cluster = self
                    .input
                    .devices
                    .get(&host)
                    .and_then(|h| h.cluster.clone())
                    .unwrap_or(host);
                return (Unit::Cluster(cluster), None, Cow::Borrowed(""));
            }
            Counts::User => {}
        }
        let user_id = dev.and_then(Device::primary_user);
        let user = user_id.and_then(|u| self.user(u));
        match user {
            Some(u) if matches!(u.status, UserStatus::Active | UserStatus::Pending) => (
                Unit::User(u.id.clone()),
                Some(u.id.clone()),
                Cow::Borrowed(""),
            ),
            Some(u) => {
                let status = if u.status == UserStatus::Retired {
                    "retired"
                } else {
                    "inactive"
                };
                let note = Cow::Owned(format!(
                    "; user `{}` is {status}, so the device counts as having an unknown user and consumes on its own",
                    u.id
                ));
                (Unit::Device(device.to_string()), Some(u.id.clone()), note)
            }
            None => (
                Unit::Device(device.to_string()),
                None,
                "; the device has no known user, so it consumes on its own".into(),
            ),
        }
    }

    /// The physical machine a device runs on: its host for a VM or container, else itself
    /// (a hard partition counts as a machine of its own). `None` for a VM whose host is not
    /// in inventory.
    fn host_of<'d>(&'d self, device: &'d Device) -> Option<&'d Device> {
        match device.partition {
            Partition::Vm | Partition::Container => {
                device.host.as_ref().and_then(|h| self.device(h))
            }
            Partition::Physical | Partition::HardPartition => Some(device),
        }
    }

    /// The machines a holder's hardware comes from, for `requires` and `limit`.
    fn holder_machines(&self, unit: &Unit) -> Vec<&Device> {
        match unit {
            Unit::Device(d) | Unit::Host(d) => self.device(d).into_iter().collect(),
            Unit::Cluster(c) => self.cluster_hosts(c),
            Unit::User(_) | Unit::License => Vec::new(),
        }
    }

    /// A cluster's hosts; a host outside any cluster is a cluster of one, named after it.
    fn cluster_hosts(&self, cluster: &str) -> Vec<&Device> {
        match self.clusters.get(cluster) {
            Some(hosts) => hosts.clone(),
            None => self.device(cluster).into_iter().collect(),
        }
    }

    /// Why the metric of license `l` cannot count installation `i` at all: a VM with no known
    /// host, missing hardware, a limit, or a license only allocated ones consume.
    fn metric_rejection(&self, l: usize, i: usize, allocated: bool) -> Option<Rejection> {
        let terms = self.terms(l)?;
        let device_id = &self.install(i)?.device;
        let device = self.device(device_id);
        if matches!(terms.counts, Counts::Host | Counts::Cluster)
            && device.is_some_and(|d| self.host_of(d).is_none())
        {
            return Some((
                Reason::Missing(Hardware::Host),
                format!(
                    "the license counts the host, and the host of VM `{device_id}` is not in inventory"
                ),
            ));
        }
        if terms.metric.allocated_only && !allocated {
            return Some((
                Reason::NotAllocated,
                format!(
                    "metric `{}` counts only what is allocated to the license, and this installation is not",
                    terms.metric.id
                ),
            ));
        }
        if terms.metric.requires.is_empty() && terms.metric.limits.is_empty() {
            return None;
        }
        let (unit, _, _) = self.unit(l, device_id);
        let machines = self.holder_machines(&unit);
        if machines.is_empty() {
            return None;
        }
        for &hardware in &terms.metric.requires {
            if let Some(m) = machines.iter().find(|m| !metric::has_hardware(m, hardware)) {
                return Some(missing(hardware, &m.id));
            }
        }
        for limit in &terms.metric.limits {
            let mut total = Decimal::ZERO;
            for m in &machines {
                let value = match limit.hardware {
                    Hardware::Processors => m.processors,
                    Hardware::Sockets => m.sockets,
                    _ => m.cores,
                };
                match value {
                    // At most u32::MAX per machine: the sum cannot reach the largest decimal.
                    Some(v) => total = total.saturating_add(Decimal::from(v)),
                    None => return Some(missing(limit.hardware, &m.id)),
                }
            }
            let what = limit.hardware.as_str();
            let whose = holder_name(&unit);
            if let Some(max) = limit.max
                && total > max
            {
                return Some((
                    Reason::AboveLimit(limit.hardware),
                    format!("{whose} has {total} {what}, more than the {max} this license allows"),
                ));
            }
            if let Some(min) = limit.min
                && total < min
            {
                return Some((
                    Reason::BelowLimit(limit.hardware),
                    format!("{whose} has {total} {what}, fewer than the {min} this license needs"),
                ));
            }
        }
        None
    }

    /// What license `l` would know about itself with installation `extra` bound as well.
    fn facts(&self, l: usize, extra: Option<usize>) -> LicenseFacts<'_> {
        let Some(terms) = self.terms(l) else {
            return LicenseFacts::default();
        };
        let scalars = LicenseFacts {
            id: terms.license.id.clone(),
            subcapacity: terms.license.virtualization.subcapacity,
            metric_value: terms.license.metric_value,
            ..LicenseFacts::default()
        };
        if !self.reads_license_lists.get(l).copied().unwrap_or(true) {
            return scalars;
        }
        let mut bound: Vec<usize> = self.bound_to.get(l).cloned().unwrap_or_default();
        bound.extend(extra);
        bound.sort_unstable();
        bound.dedup();
        let installs: Vec<&Installation> = bound.iter().filter_map(|i| self.install(*i)).collect();
        let devices: BTreeSet<&str> = installs.iter().map(|x| x.device.as_ref()).collect();
        let users = terms
            .license
            .allocations
            .iter()
            .filter_map(|a| match &a.target {
                AllocationTarget::User(u) => Some(u),
                AllocationTarget::Device(_) => None,
            })
            .map(|u| {
                let devices = self
                    .primary_devices
                    .get(u.as_str())
                    .into_iter()
                    .flatten()
                    .filter_map(|d| self.device(d))
                    .collect();
                (u.clone(), devices)
            })
            .collect();
        let mut usage: BTreeMap<&str, Decimal> = BTreeMap::new();
        for app in terms.covers.keys() {
            for (at, n) in self.input.usage.get(app).into_iter().flatten() {
                // Import reads `in_use` as a whole number up to u32::MAX: the sum of the rows
                // of one moment cannot reach the largest decimal.
                let sum = usage.entry(at.as_str()).or_default();
                *sum = sum.saturating_add(*n);
            }
        }
        LicenseFacts {
            installations: installs
                .iter()
                .map(|x| (x.device.to_string(), x.application.to_string()))
                .collect(),
            devices: devices.iter().filter_map(|d| self.device(d)).collect(),
            users,
            usage: usage
                .into_iter()
                .map(|(at, n)| (at.to_string(), n))
                .collect(),
            ..scalars
        }
    }

    /// The holder a quantity is computed for, with `members` as its installations.
    fn holder(&self, unit: &Unit, members: &[usize]) -> Holder<'_> {
        let member_devices: BTreeSet<&str> = members
            .iter()
            .filter_map(|i| self.install(*i))
            .map(|x| x.device.as_ref())
            .collect();
        let devices = |ids: &BTreeSet<&str>| -> Vec<&Device> {
            ids.iter().filter_map(|d| self.device(d)).collect()
        };
        match unit {
            Unit::Device(d) => match self.device(d) {
                Some(dev) => Holder::Machine(Machine::device(dev, true)),
                None => Holder::License,
            },
            Unit::User(u) => Holder::User {
                id: u.clone(),
                devices: devices(&member_devices),
            },
            Unit::License => Holder::License,
            Unit::Host(_) | Unit::Cluster(_) => {
                let (id, hosts, cluster) = match unit {
                    Unit::Host(h) => (h.clone(), self.holder_machines(unit), false),
                    Unit::Cluster(c) => (c.clone(), self.cluster_hosts(c), true),
                    _ => (String::new(), Vec::new(), false),
                };
                let host_ids: BTreeSet<&str> = hosts.iter().map(|h| h.id.as_str()).collect();
                let vms = devices(&member_devices)
                    .into_iter()
                    .filter(|d| !host_ids.contains(d.id.as_str()))
                    .collect();
                let installed = member_devices.iter().any(|d| host_ids.contains(d));
                Holder::Machine(Machine {
                    id,
                    devices: hosts,
                    cluster,
                    vms,
                    installed,
                })
            }
        }
    }

    /// The units installation `i` adds on license `l` (0 when its holder already covers it),
    /// and how the holder's quantity comes out.
    fn needed(&self, l: usize, i: usize) -> Result<(Decimal, Option<Computation>), Rejection> {
        let Some(terms) = self.terms(l) else {
            return Ok((Decimal::ZERO, None));
        };
        let device = self
            .install(i)
            .map(|x| x.device.clone())
            .unwrap_or_default();
        let (unit, _, _) = self.unit(l, &device);
        let held = self.held.get(l).and_then(|h| h.get(&unit));
        if terms.metric.quantity == Quantity::One {
            let units = if held.is_some() {
                Decimal::ZERO
            } else {
                Decimal::ONE
            };
            return Ok((units, None));
        }
        let mut members = held.map(|h| h.members.clone()).unwrap_or_default();
        members.push(i);
        let facts = self.facts(l, Some(i));
        let (quantity, variable) = (&terms.metric.quantity, terms.metric.counts.as_str());
        let holder = self.holder(&unit, &members);
        // Without rows, how the quantity came out is shown nowhere: only the quantity is
        // computed.
        let computed = metric::compute(
            quantity,
            variable,
            &holder,
            &facts,
            &self.input.tables,
            self.keep_rows,
        );
        let computation = computed.map_err(|e| match e {
            EvalError::Missing { hardware, machine } => missing(hardware, &machine),
            EvalError::Failed(why) => (
                Reason::MetricFailed,
                format!(
                    "metric `{}` cannot compute a quantity: {why}",
                    terms.metric.id
                ),
            ),
        })?;
        let before = held.map_or(Decimal::ZERO, |h| h.quantity);
        // Both are zero or more, so the difference always fits.
        let units = computation
            .quantity
            .saturating_sub(before)
            .max(Decimal::ZERO);
        Ok((units, Some(computation)))
    }

    /// Binds installation `i`'s holder on license `l`; returns the units added, or why the
    /// metric cannot count it.
    fn take(&mut self, l: usize, i: usize) -> Result<(Decimal, Option<Computation>), Rejection> {
        let (units, computation) = self.needed(l, i)?;
        let device = self
            .install(i)
            .map(|x| x.device.clone())
            .unwrap_or_default();
        let (unit, _, _) = self.unit(l, &device);
        // `needed` refused units that would overflow the license's total, and a holder's
        // quantity is part of that total.
        if let Some(held) = self.held.get_mut(l) {
            let entry = match held.entry(unit) {
                std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
                std::collections::hash_map::Entry::Vacant(entry) => {
                    self.held_by.entry(entry.key().clone()).or_default().push(l);
                    entry.insert(Held::default())
                }
            };
            entry.members.push(i);
            // The holder's new quantity, which fits: `units` is what it grew by.
            entry.quantity = entry.quantity.saturating_add(units);
        }
        if let Some(bound) = self.bound_to.get_mut(l) {
            bound.push(i);
        }
        if let Some(c) = self.consumed.get_mut(l) {
            // Holders' quantities may add up to more than a decimal holds: consumption then
            // stays at the largest decimal, which leaves no entitlements, and the license's
            // position, which adds the rows' units with checks, says it is too large.
            *c = c.saturating_add(units);
        }
        Ok((units, computation))
    }

    /// Takes one unit on license `l` for a holder with no installation (a permanent
    /// allocation): capacity metrics consume exactly one, as for a device license.
    /// Nothing is taken when the license's total could not count one more.
    fn take_one(&mut self, l: usize, unit: Unit) -> Decimal {
        let (Some(held), Some(consumed)) = (self.held.get_mut(l), self.consumed.get_mut(l)) else {
            return Decimal::ZERO;
        };
        let Some(total) = consumed.checked_add(Decimal::ONE) else {
            return Decimal::ZERO;
        };
        if held.contains_key(&unit) {
            return Decimal::ZERO;
        }
        self.held_by.entry(unit.clone()).or_default().push(l);
        held.insert(
            unit,
            Held {
                members: Vec::new(),
                quantity: Decimal::ONE,
            },
        );
        *consumed = total;
        Decimal::ONE
    }

    /// Whether license `l` has `units` left: `entitled − consumed ≥ units`. The one place the
    /// walk compares a license's entitlements, recording the check in the license's range.
    fn has_room(&mut self, l: usize, units: Decimal) -> bool {
        let consumed = self.consumed.get(l).copied().unwrap_or_default();
        let entitled = self.entitled.get(l).copied().unwrap_or_default();
        // Both are zero or more, so the difference always fits.
        let room = entitled.saturating_sub(consumed) >= units;
        if let Some(range) = self.ranges.get_mut(l) {
            range.narrow(consumed, units, room);
        }
        room
    }

    /// License `l`'s entitlements, for a use other than a check (a row showing what is left):
    /// only these entitlements then give the same walk.
    fn entitled_as_read(&mut self, l: usize) -> Decimal {
        if let Some(range) = self.ranges.get_mut(l) {
            range.pin();
        }
        self.entitled.get(l).copied().unwrap_or_default()
    }

    /// Whether license `l` can give `units` more without going beyond its entitlements.
    fn has_capacity(&mut self, l: usize, units: Decimal) -> bool {
        self.terms(l)
            .is_some_and(|t| t.license.limit == EntitlementLimit::Unlimited)
            || units <= Decimal::ZERO
            || self.has_room(l, units)
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
        if let Some(total) = self.totals.get_mut(l) {
            *total = total.and_then(|t| t.checked_add(units));
        }
        if !self.keep_rows {
            return;
        }
        let device = device.map(str::to_string).or_else(|| {
            i.and_then(|i| self.install(i))
                .map(|x| x.device.to_string())
        });
        let application = i
            .and_then(|i| self.install(i))
            .map(|x| x.application.to_string());
        let user = match (&device, self.terms(l).map(|t| t.counts)) {
            (Some(d), Some(Counts::User)) => self.unit(l, d).1,
            _ => None,
        };
        let terms = self.terms(l);
        let limit = terms.map(|t| t.license.limit).unwrap_or_default();
        let priority = terms.and_then(|t| t.license.priority);
        let available_after = if limit == EntitlementLimit::Unlimited || !self.active(l) {
            None
        } else {
            let consumed = self.consumed.get(l).copied().unwrap_or_default();
            self.entitled_as_read(l).checked_sub(consumed)
        };
        self.rows.push(Assessment {
            license: self.license_id(l),
            allocation: self.allocation_kind(l, device.as_deref(), user.as_deref()),
            used: i.and_then(|i| self.used(i)),
            priority,
            supplementary: i.is_some_and(|i| self.role(l, i) == Some(Role::Supplementary)),
            limit,
            available_after,
            device,
            user,
            application,
            outcome: reason.outcome(),
            reason,
            message,
            units,
            exemption: None,
            computation: None,
        });
    }

    /// The kind of license `l`'s allocation to `device` (or to its user) or to `user`; an
    /// allocation awaiting inventory counts as allocated once an installation the license
    /// covers is on one of the target's devices (seed 003).
    fn allocation_kind(
        &self,
        l: usize,
        device: Option<&str>,
        user: Option<&str>,
    ) -> Option<AllocationKind> {
        let device_user = device
            .and_then(|d| self.device(d))
            .and_then(Device::primary_user);
        let allocation = self
            .terms(l)?
            .license
            .allocations
            .iter()
            .find(|a| match &a.target {
                AllocationTarget::Device(d) => Some(d.as_str()) == device,
                AllocationTarget::User(u) => {
                    Some(u.as_str()) == user || Some(u.as_str()) == device_user
                }
            })?;
        if allocation.kind != AllocationKind::AwaitingInventory {
            return Some(allocation.kind);
        }
        let arrived = self
            .target_devices(&allocation.target)
            .iter()
            .flat_map(|d| self.device_installs.get(d).into_iter().flatten())
            .any(|i| self.role(l, *i).is_some());
        Some(if arrived {
            AllocationKind::Allocated
        } else {
            AllocationKind::AwaitingInventory
        })
    }

    /// Whether installation `i` shows evidence of use in the [`USE_WINDOW_DAYS`] days up to
    /// the as-of day: a `last_used` day of its evidence in the window, else a usage row of its
    /// application in the window with something in use. `None` when its evidence has no
    /// `last_used` day and its application no usage rows.
    fn used(&self, i: usize) -> Option<bool> {
        let install = self.install(i)?;
        let as_of = self.input.as_of;
        let start = as_of.saturating_sub(jiff::Span::new().days(USE_WINDOW_DAYS));
        let within = |day: jiff::civil::Date| start <= day && day <= as_of;
        let usage = self.input.usage.get(&*install.application);
        if install.last_used.is_some_and(within) {
            return Some(true);
        }
        let in_use = usage.into_iter().flatten().any(|(at, n)| {
            *n > Decimal::ZERO
                && at
                    .get(..10)
                    .and_then(|day| day.parse::<jiff::civil::Date>().ok())
                    .is_some_and(within)
        });
        if in_use {
            return Some(true);
        }
        (install.last_used.is_some() || usage.is_some_and(|u| !u.is_empty())).then_some(false)
    }

    /// Candidate licenses of an installation, by index, in consumption order: those that
    /// cover its application.
    fn candidates(&self, i: usize) -> Rc<[usize]> {
        self.install(i)
            .and_then(|inst| self.candidates.get(inst.application.as_ref()))
            .cloned()
            .unwrap_or_else(|| Rc::from([]))
    }

    fn role(&self, l: usize, i: usize) -> Option<Role> {
        let app = &self.install(i)?.application;
        self.terms(l)?.covers.get(&**app).map(|c| c.role)
    }

    /// Rejects every installation for the licenses that take no part: retired, expired or
    /// not yet started.
    fn inactive(&mut self) {
        if self.active.iter().all(|active| *active) {
            return;
        }
        for i in 0..self.input.installations.len() {
            for &l in self.candidates(i).iter() {
                if self.active(l) {
                    continue;
                }
                if let Some((reason, message)) = self.inactive_reason(l) {
                    self.settled.insert((i, l));
                    self.row(l, Some(i), None, reason, message, Decimal::ZERO);
                }
            }
        }
    }

    /// The group of type `kind` that `device` belongs to: the device's own, else its user's.
    fn group_of(&self, device: &str, kind: &str) -> Option<&str> {
        let dev = self.device(device)?;
        dev.groups
            .get(kind)
            .or_else(|| {
                let user = self.user(dev.primary_user()?)?;
                user.groups.get(kind)
            })
            .map(String::as_str)
    }

    /// Whether `device` is in the group `kind=path` or one of its sub-groups.
    fn in_group(&self, device: &str, (kind, path): &(String, String)) -> bool {
        self.group_of(device, kind).is_some_and(|have| {
            have == path
                || have
                    .strip_prefix(path.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    }

    /// Why the device role of installation `i` exempts it from license `l`: the role, when the
    /// license's use rights exempt it and the license is not counted per user.
    fn role_exemption(&self, l: usize, i: usize) -> Option<String> {
        let terms = self.terms(l)?;
        if terms.counts == Counts::User || terms.license.exempt_roles.is_empty() {
            return None;
        }
        let role = self.device(&self.install(i)?.device)?.role.as_deref()?;
        terms
            .license
            .exempt_roles
            .iter()
            .find(|r| r.name() == role)
            .map(|r| r.name().to_string())
    }

    /// Binds installation `i` to license `l`, taking its units. When the license's metric
    /// cannot count the installation, records the rejection instead and returns false.
    fn bind(&mut self, i: usize, l: usize, reason: Reason, message: String) -> bool {
        let Some(device) = self.install(i).map(|x| x.device.clone()) else {
            return false;
        };
        let (_, _, note) = self.unit(l, &device);
        self.settled.insert((i, l));
        if !matches!(reason, Reason::Exempt | Reason::SecondUse)
            && let Some(role) = self.role_exemption(l, i)
        {
            let message = format!(
                "the device's role is `{role}`, which this license's use rights exempt, so it consumes nothing"
            );
            self.bind_exempt(i, l, Reason::RoleExempt, message, format!("role: {role}"));
            return true;
        }
        let allocated = matches!(reason, Reason::Allocation | Reason::PermanentAllocation);
        let rejection = self.metric_rejection(l, i, allocated).map(Err);
        match rejection.unwrap_or_else(|| self.take(l, i)) {
            Ok((units, computation)) => {
                self.bound.insert(i, l);
                self.row(l, Some(i), None, reason, format!("{message}{note}"), units);
                if let (Some(last), Some(c)) = (self.rows.last_mut(), computation) {
                    let metric = self.input.licenses.get(l).map(|t| t.metric.id.clone());
                    last.computation = metric.map(|m| (m, c));
                }
                true
            }
            Err((reason, message)) => {
                self.row(l, Some(i), None, reason, message, Decimal::ZERO);
                false
            }
        }
    }

    /// Binds installation `i` to license `l` for no units: an exemption of some kind.
    fn bind_exempt(&mut self, i: usize, l: usize, reason: Reason, message: String, why: String) {
        self.settled.insert((i, l));
        self.bound.insert(i, l);
        self.row(l, Some(i), None, reason, message, Decimal::ZERO);
        if let Some(last) = self.rows.last_mut() {
            last.exemption = Some(why);
        }
    }

    /// Allocations and manual exemptions, license by license (by id), each in target order.
    /// A manual exemption implies an allocation; when a license both allocates and exempts a
    /// target, the exemption governs.
    fn allocations(&mut self) {
        for l in 0..self.input.licenses.len() {
            if !self.active(l) {
                continue;
            }
            let Some(license) = self.terms(l).map(|t| t.license.clone()) else {
                continue;
            };
            let mut bindings: Vec<(AllocationTarget, Binding)> = license
                .exemptions
                .iter()
                .map(|e| (e.target.clone(), Binding::Exempt(e.clone())))
                .collect();
            for a in &license.allocations {
                if !bindings.iter().any(|(t, _)| *t == a.target) {
                    bindings.push((a.target.clone(), Binding::Allocation(a.kind)));
                }
            }
            bindings.sort_by(|a, b| a.0.cmp(&b.0));
            for (target_id, binding) in bindings {
                self.allocate(l, &license, &target_id, &binding);
            }
        }
    }

    /// Binds the covered installations of one allocated or exempted device or user to `l`.
    fn allocate(
        &mut self,
        l: usize,
        license: &License,
        target_id: &AllocationTarget,
        binding: &Binding,
    ) {
        let devices: Vec<String> = self
            .target_devices(target_id)
            .into_iter()
            .map(str::to_string)
            .collect();
        let target = match target_id {
            AllocationTarget::Device(d) => format!("device `{d}`"),
            AllocationTarget::User(u) => format!("user `{u}`"),
        };
        let terms = self.terms(l);
        let mut installs: Vec<usize> = devices
            .iter()
            .flat_map(|d| self.device_installs.get(d.as_str()).into_iter().flatten())
            .copied()
            .filter(|i| {
                !self.bound.contains_key(i)
                    && self.role(l, *i).is_some()
                    // A version past the upgrade right's end is not covered by the license.
                    && !self.install(*i).is_some_and(|x| {
                        terms.is_some_and(|t| t.upgrade_ended.contains_key(&*x.application))
                    })
            })
            .collect();
        installs.sort_unstable();
        for &i in &installs {
            match binding {
                Binding::Exempt(e) => {
                    let why = exemption_text(e);
                    self.bind_exempt(
                        i,
                        l,
                        Reason::Exempt,
                        format!("{target} is exempt from this license ({why}): bound here, consuming nothing"),
                        why,
                    );
                }
                Binding::Allocation(kind) => {
                    let (reason, how) = match kind {
                        AllocationKind::Permanent => {
                            (Reason::PermanentAllocation, "a permanent allocation")
                        }
                        AllocationKind::AwaitingInventory => (
                            Reason::Allocation,
                            "an allocation awaiting inventory, now Allocated since a covered installation has arrived,",
                        ),
                        AllocationKind::Allocated => (Reason::Allocation, "an allocation"),
                    };
                    self.bind(
                        i,
                        l,
                        reason,
                        format!("{how} of this license to {target} binds the installation here"),
                    );
                }
            }
            for &other in self.candidates(i).iter() {
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
            self.allocation_without_installation(l, license, target_id, binding, &target, &devices);
        }
    }

    /// Records an allocation that has no unbound covered installation to bind: a permanent one,
    /// or one of a license whose allocations consume, consumes anyway; any other waits.
    fn allocation_without_installation(
        &mut self,
        l: usize,
        license: &License,
        allocation: &AllocationTarget,
        binding: &Binding,
        target: &str,
        devices: &[String],
    ) {
        let (unit, device, user) = match allocation {
            AllocationTarget::Device(d) => (self.unit(l, d).0, Some(d.as_str()), None),
            AllocationTarget::User(u) => (Unit::User(u.clone()), None, Some(u.clone())),
        };
        let bound_elsewhere = self.bound.iter().find_map(|(i, other)| {
            let x = self.install(*i)?;
            (devices.iter().any(|d| **d == *x.device) && self.role(l, *i).is_some())
                .then(|| self.license_id(*other))
        });
        let situation = match bound_elsewhere {
            Some(other) => {
                format!("its covered installation already consumes from license `{other}`")
            }
            None => "no covered application is installed".to_string(),
        };
        let (reason, message, units, exemption) = match binding {
            Binding::Allocation(AllocationKind::Permanent) => (
                Reason::PermanentAllocation,
                format!("a permanent allocation to {target} consumes, although {situation}"),
                self.take_one(l, unit),
                None,
            ),
            Binding::Allocation(_) if license.allocations_consume => (
                Reason::AllocationConsumes,
                format!(
                    "allocation of a license entitlement to {target} triggers consumption: the license's allocations consume, although {situation}"
                ),
                self.take_one(l, unit),
                None,
            ),
            Binding::Allocation(kind) => {
                let waiting = if *kind == AllocationKind::AwaitingInventory {
                    "awaiting inventory for"
                } else {
                    "allocated to"
                };
                (
                    Reason::AwaitingInstallation,
                    format!("{waiting} {target}, but {situation}, so nothing is consumed"),
                    Decimal::ZERO,
                    None,
                )
            }
            Binding::Exempt(e) => {
                let why = exemption_text(e);
                (
                    Reason::AwaitingInstallation,
                    format!("{target} is exempt from this license ({why}), but {situation}"),
                    Decimal::ZERO,
                    Some(why),
                )
            }
        };
        self.row(l, None, device, reason, message, units);
        if let Some(last) = self.rows.last_mut() {
            last.user = user.or(last.user.take());
            last.exemption = exemption;
        }
    }

    /// Why license `l`'s restrictions (or the end of its upgrade right) reject installation
    /// `i`: its version, operating-system type, enterprise group, hardware, or a product it
    /// needs on the same device. Restrictions reject; they never raise priority.
    fn restriction_failure(&self, l: usize, i: usize) -> Option<Rejection> {
        let terms = self.terms(l)?;
        // Most licenses restrict nothing: their many checks cost no lookup.
        if terms.upgrade_ended.is_empty() && terms.license.restrictions.are_none() {
            return None;
        }
        let install = self.install(i)?;
        let device = install.device.as_ref();
        if let Some(released) = terms.upgrade_ended.get(&*install.application) {
            let end = terms
                .license
                .maintenance_end
                .map(|d| d.to_string())
                .unwrap_or_default();
            let when = released.as_ref().map_or_else(
                || "its release day is unknown".to_string(),
                |r| format!("it was released on {r}"),
            );
            return Some((
                Reason::UpgradeAfterMaintenance,
                format!(
                    "`{}` is covered only by the upgrade right, which ended with maintenance on {end}, and {when}",
                    install.application
                ),
            ));
        }
        let restrictions = &terms.license.restrictions;
        let dev = self.device(device);
        if let Some(wanted) = restrictions.os_type {
            let have = dev.and_then(|d| d.os_type);
            if have != Some(wanted) {
                let name = |t: crate::estate::OsType| {
                    if t == crate::estate::OsType::Server {
                        "server"
                    } else {
                        "desktop"
                    }
                };
                return Some((
                    Reason::OsRestriction,
                    format!(
                        "the operating system on the device ({}) does not match the license's OS restriction ({})",
                        have.map_or("unknown", name),
                        name(wanted)
                    ),
                ));
            }
        }
        if !restrictions.groups.is_empty()
            && !restrictions.groups.iter().any(|g| self.in_group(device, g))
        {
            let wanted: Vec<String> = restrictions
                .groups
                .iter()
                .map(|(k, p)| format!("`{k}={p}`"))
                .collect();
            return Some((
                Reason::OutsideGroup,
                format!(
                    "the installation is outside the license's restricted enterprise group {}",
                    wanted.join(" or ")
                ),
            ));
        }
        for (hardware, range) in [
            (Hardware::Cores, restrictions.cores),
            (Hardware::Processors, restrictions.processors),
            (Hardware::Sockets, restrictions.sockets),
        ] {
            if range.is_open() {
                continue;
            }
            let value = dev.and_then(|d| match hardware {
                Hardware::Processors => d.processors,
                Hardware::Sockets => d.sockets,
                _ => d.cores,
            });
            let Some(value) = value else {
                return Some(missing(hardware, device));
            };
            let what = hardware.as_str();
            if let Some(max) = range.max.filter(|m| value > *m) {
                return Some((
                    Reason::AboveLimit(hardware),
                    format!(
                        "device `{device}` has {value} {what}, more than the {max} this license allows"
                    ),
                ));
            }
            if let Some(min) = range.min.filter(|m| value < *m) {
                return Some((
                    Reason::BelowLimit(hardware),
                    format!(
                        "device `{device}` has {value} {what}, fewer than the {min} this license needs"
                    ),
                ));
            }
        }
        if let Some(needed) = &restrictions.requires_installed
            && !terms.required_on.contains(device)
        {
            return Some((
                Reason::RequiredInstallationMissing,
                format!(
                    "no licensable installation of `{needed}` is known for device `{device}`, and this license needs one on the same device"
                ),
            ));
        }
        None
    }

    /// Rejects every candidate whose restrictions or metric exclude the installation; returns
    /// the others with the units each would need.
    fn reject_restricted(&mut self, i: usize, candidates: &[usize]) -> Vec<(usize, Decimal)> {
        candidates
            .iter()
            .filter_map(|&l| Some((l, self.verdict(i, l)?)))
            .collect()
    }

    /// The units installation `i` needs of candidate `l`, or `None` when `l` is settled for it
    /// or cannot cover it (then recorded as a rejection).
    fn verdict(&mut self, i: usize, l: usize) -> Option<Decimal> {
        if self.settled.contains(&(i, l)) {
            return None;
        }
        let verdict = match self.restriction_failure(l, i) {
            Some(rejection) => Err(rejection),
            // An exempt device needs no units, whatever its hardware.
            None if self.role_exemption(l, i).is_some() => Ok(Decimal::ZERO),
            None => match self.metric_rejection(l, i, false) {
                Some(rejection) => Err(rejection),
                None => self.needed(l, i).map(|(units, _)| units),
            },
        };
        match verdict {
            Ok(units) => Some(units),
            Err((reason, message)) => {
                self.settled.insert((i, l));
                self.row(l, Some(i), None, reason, message, Decimal::ZERO);
                None
            }
        }
    }

    /// The candidates that could cover installation `i` by a right of second use: none unless
    /// it is on a laptop of a known user, else those granting the right whose units another
    /// of the user's devices holds. [`Self::second_use`] takes no other.
    fn second_use_candidates(&self, i: usize, candidates: &[usize]) -> Vec<usize> {
        let Some(device) = self.install(i).map(|x| &*x.device) else {
            return Vec::new();
        };
        let Some(user) = self.known_user(device).filter(|_| self.laptop(device)) else {
            return Vec::new();
        };
        // The others are not assessed: nothing is bound before the walk goes on, so it
        // assesses them later as it would have here.
        let mut held_elsewhere: Vec<usize> = self
            .user_devices
            .get(user)
            .into_iter()
            .flatten()
            .filter(|d| **d != device)
            .flat_map(|d| {
                self.held_by
                    .get(&Unit::Device((*d).to_string()))
                    .into_iter()
                    .flatten()
                    .copied()
            })
            .collect();
        held_elsewhere.sort_unstable();
        held_elsewhere.dedup();
        candidates
            .iter()
            .copied()
            .filter(|l| self.grants_second_use(*l) && held_elsewhere.binary_search(l).is_ok())
            .collect()
    }

    /// Whether license `l` grants a work laptop a second use of a device's entitlement.
    fn grants_second_use(&self, l: usize) -> bool {
        self.terms(l)
            .is_some_and(|t| t.license.second_use.work_laptop && t.counts == Counts::Device)
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
            let mut covered: Vec<usize> = self
                .terms(l)
                .into_iter()
                .flat_map(|t| t.covers.keys())
                .flat_map(|app| self.app_installs.get(app.as_str()).into_iter().flatten())
                .copied()
                .collect();
            covered.sort_unstable();
            covered.retain(|&i| {
                !self.bound.contains_key(&i)
                    && self.role(l, i).is_some()
                    && !self.settled.contains(&(i, l))
            });
            let device_of = |i: usize| self.install(i).map(|x| Arc::clone(&x.device));
            // Installations are sorted by device: each device's are one run, in device order.
            let runs: Vec<(Arc<str>, &[usize])> = covered
                .chunk_by(|a, b| device_of(*a) == device_of(*b))
                .filter_map(|run| Some((device_of(*run.first()?)?, run)))
                .collect();
            for (device, installs) in runs {
                let mut kept = Vec::new();
                for &i in installs {
                    match self.restriction_failure(l, i) {
                        Some((reason, message)) => {
                            self.settled.insert((i, l));
                            self.row(l, Some(i), None, reason, message, Decimal::ZERO);
                        }
                        None => kept.push(i),
                    }
                }
                let installs = kept;
                if installs.is_empty() {
                    continue;
                }
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
                let (unit, _, _) = self.unit(l, &device);
                let limit = self.terms(l).map(|t| t.license.limit);
                let free = self.held.get(l).is_some_and(|h| h.contains_key(&unit));
                let needed = self.needed(l, primary).map_or(Decimal::ONE, |(n, _)| n);
                if !(free
                    || self.has_capacity(l, needed)
                    || limit == Some(EntitlementLimit::TrueUp))
                {
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
                    if self.bind(i, l, reason, message) {
                        self.mark_others(i, l);
                    }
                }
            }
        }
    }

    /// Group assignments, second in the order: each remaining installation, in device then
    /// application order, on a device in a group some candidate license assigns entitlements
    /// to, consumes from those entitlements while they last. Deeper groups come first, then
    /// the candidates' consumption order, then the group's path. What finds no assigned
    /// entitlement goes on to priority.
    fn group_assignments(&mut self) {
        let assigned = self
            .input
            .licenses
            .iter()
            .any(|t| !t.license.assignments.is_empty());
        if !assigned {
            return;
        }
        for i in 0..self.input.installations.len() {
            if self.bound.contains_key(&i) {
                continue;
            }
            let Some(device) = self.install(i).map(|x| x.device.clone()) else {
                continue;
            };
            let mut offers: Vec<(std::cmp::Reverse<usize>, usize, usize, usize)> = Vec::new();
            for (pos, &l) in self.candidates(i).iter().enumerate() {
                let assigns = self
                    .terms(l)
                    .is_some_and(|t| !t.license.assignments.is_empty());
                if !assigns || self.settled.contains(&(i, l)) || !self.active(l) {
                    continue;
                }
                let assignments = self.terms(l).map(|t| &t.license.assignments);
                for (a, assignment) in assignments.into_iter().flatten().enumerate() {
                    if self.in_group(&device, &assignment.group) {
                        let depth = assignment.group.1.split('/').count();
                        offers.push((std::cmp::Reverse(depth), pos, a, l));
                    }
                }
            }
            offers.sort();
            for (_, _, a, l) in offers {
                if self.restriction_failure(l, i).is_some() {
                    continue;
                }
                let needed = if self.role_exemption(l, i).is_some() {
                    Decimal::ZERO
                } else if self.metric_rejection(l, i, false).is_some() {
                    continue;
                } else {
                    match self.needed(l, i) {
                        Ok((units, _)) => units,
                        Err(_) => continue,
                    }
                };
                let Some(assignment) = self
                    .terms(l)
                    .and_then(|t| t.license.assignments.get(a))
                    .cloned()
                else {
                    continue;
                };
                let used = self.assigned_used.get(&(l, a)).copied().unwrap_or_default();
                let left = assignment.quantity.saturating_sub(used);
                if needed > left || !self.has_capacity(l, needed) {
                    continue;
                }
                let (kind, path) = &assignment.group;
                let message = format!(
                    "consumed from the {} entitlements of this license assigned to group `{kind}={path}` ({left} left before), which the device belongs to",
                    assignment.quantity
                );
                let before = self.consumed.get(l).copied().unwrap_or_default();
                if self.bind(i, l, Reason::GroupAssignment, message) {
                    let after = self.consumed.get(l).copied().unwrap_or_default();
                    let entry = self.assigned_used.entry((l, a)).or_default();
                    *entry = entry.saturating_add(after.saturating_sub(before));
                    self.mark_others(i, l);
                }
                break;
            }
        }
    }

    /// Whether installation `i` is on a laptop-class device (laptop or tablet, not a VM) of a
    /// known user who has another device, not a VM, with an installation that a license
    /// granting second use on a work laptop covers: such installations are walked last, so
    /// that the other device takes the entitlement first.
    fn may_be_second_use(&self, i: usize) -> bool {
        let Some(install) = self.install(i) else {
            return false;
        };
        let Some(user) = self
            .known_user(&install.device)
            .filter(|_| self.laptop(&install.device))
        else {
            return false;
        };
        let others = || {
            self.user_devices
                .get(user)
                .into_iter()
                .flatten()
                .filter(|d| ***d != *install.device)
                .flat_map(|d| self.device_installs.get(d).into_iter().flatten())
                .filter_map(|x| self.install(*x))
        };
        self.candidates(i).iter().any(|&l| {
            self.terms(l).is_some_and(|t| {
                t.license.second_use.work_laptop
                    && t.counts == Counts::Device
                    && others().any(|x| t.covers.contains_key(&*x.application))
            })
        })
    }

    /// The active (or pending) user of a device.
    fn known_user(&self, device: &str) -> Option<&str> {
        let user = self.user(self.device(device)?.primary_user()?)?;
        matches!(user.status, UserStatus::Active | UserStatus::Pending).then_some(user.id.as_str())
    }

    /// Whether a device is a machine of its own, not a virtual machine.
    fn physical(&self, device: &str) -> bool {
        self.device(device).is_some_and(|d| {
            d.chassis != Some(Chassis::Vm)
                && matches!(d.partition, Partition::Physical | Partition::HardPartition)
        })
    }

    /// Whether a device is a portable work computer (laptop or tablet) and not a VM.
    fn laptop(&self, device: &str) -> bool {
        self.physical(device)
            && self
                .device(device)
                .is_some_and(|d| matches!(d.chassis, Some(Chassis::Laptop | Chassis::Tablet)))
    }

    /// Covers installation `i` by a right of second use on one of the `open` candidates, when
    /// another physical device of the same user holds that license's entitlement and has not
    /// given its second use to another laptop. Returns whether it did.
    fn second_use(&mut self, i: usize, open: &[(usize, Decimal)]) -> bool {
        let Some(device) = self.install(i).map(|x| x.device.to_string()) else {
            return false;
        };
        if !self.laptop(&device) {
            return false;
        }
        let Some(user) = self.known_user(&device).map(str::to_string) else {
            return false;
        };
        for &(l, _) in open {
            let grants = self.grants_second_use(l);
            let holds = self
                .held
                .get(l)
                .is_some_and(|h| h.contains_key(&Unit::Device(device.clone())));
            if !grants || holds {
                continue;
            }
            // The first of the user's other physical devices (by id) holding units of it.
            let holder = self.user_devices.get(user.as_str()).and_then(|devices| {
                devices.iter().find(|d| {
                    **d != device
                        && self.held.get(l).is_some_and(|held| {
                            held.get(&Unit::Device((**d).to_string()))
                                .is_some_and(|h| h.quantity > Decimal::ZERO)
                        })
                        && self
                            .second_use
                            .get(&(l, (**d).to_string()))
                            .is_none_or(|laptop| *laptop == device)
                })
            });
            let holder = holder.map(|d| (*d).to_string());
            let Some(holder) = holder else {
                continue;
            };
            self.second_use.insert((l, holder.clone()), device.clone());
            self.bind_exempt(
                i,
                l,
                Reason::SecondUse,
                format!(
                    "covered by the right of second use: user `{user}`'s device `{holder}` holds the entitlement, and this laptop consumes nothing"
                ),
                "second use".to_string(),
            );
            self.mark_others(i, l);
            return true;
        }
        false
    }

    /// Rows saying that the installation's other candidates were not assessed. They hold no
    /// units, and nothing reads the pairs they settle once the installation is decided, so
    /// without rows they are skipped.
    fn mark_others(&mut self, i: usize, winner: usize) {
        if !self.keep_rows {
            return;
        }
        let id = self.license_id(winner);
        for &other in self.candidates(i).iter() {
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
        // Installations that may be a second use go last, each group in device order.
        let (mut walk, deferred): (Vec<usize>, Vec<usize>) =
            (0..self.input.installations.len()).partition(|i| !self.may_be_second_use(*i));
        walk.extend(deferred);
        for i in walk {
            if self.bound.contains_key(&i) {
                continue;
            }
            let candidates = self.candidates(i);
            let open = if self.keep_rows {
                self.reject_restricted(i, &candidates)
            } else {
                // A second use can only come from the candidates that grant it.
                let granting = self.second_use_candidates(i, &candidates);
                if !granting.is_empty() {
                    let open = self.reject_restricted(i, &granting);
                    if self.second_use(i, &open) {
                        continue;
                    }
                }
                match self.cover_lazily(i, &candidates) {
                    Some(open) => open,
                    None => continue,
                }
            };
            if self.second_use(i, &open) {
                continue;
            }
            let Some(device) = self.install(i).map(|x| x.device.clone()) else {
                continue;
            };
            let holder = open.iter().copied().find(|(l, _)| {
                let (unit, _, _) = self.unit(*l, &device);
                self.held.get(*l).is_some_and(|h| h.contains_key(&unit))
            });
            if let Some((l, needed)) = holder {
                let unit = self.unit(l, &device).0;
                let whose = holder_name(&unit);
                let (reason, message) = match (needed.is_zero(), unit == Unit::License) {
                    (true, true) => (
                        Reason::SharedEntitlement,
                        "the license is counted as a whole, and this installation adds nothing to its quantity".to_string(),
                    ),
                    (true, false) => (
                        Reason::SharedEntitlement,
                        format!("{whose} already holds an entitlement of this license, which covers this installation too"),
                    ),
                    (false, _) => {
                        let (reason, how) = self.overflow(l, needed, &open);
                        (reason, format!("{whose} already holds units of this license, and this installation raises its quantity; {how}"))
                    }
                };
                if self.bind(i, l, reason, message) {
                    self.mark_others(i, l);
                }
                continue;
            }
            let winner = open
                .iter()
                .copied()
                .find(|(l, n)| self.has_capacity(*l, *n));
            let (winner, reason, message) = match winner {
                Some((l, _)) => (
                    l,
                    Reason::Consumed,
                    "entitlement consumed as expected".to_string(),
                ),
                None => {
                    let Some(&(first, needed)) = open.first() else {
                        continue;
                    };
                    let (reason, message) = self.overflow(first, needed, &open);
                    let l = match reason {
                        Reason::TrueUp => self.true_up(&open).unwrap_or(first),
                        _ => first,
                    };
                    (l, reason, message)
                }
            };
            // Candidates ahead of the winner were tried and found exhausted; when every
            // candidate is exhausted, so were those after it. The rest were not needed.
            let exhausted = |pos: usize| {
                reason != Reason::Consumed
                    || open
                        .get(pos..)
                        .is_some_and(|rest| rest.iter().any(|(l, _)| *l == winner))
            };
            // (Rows of no units, read by nothing once the installation is decided.)
            let rows = if self.keep_rows { open.as_slice() } else { &[] };
            for (pos, &(l, needed)) in rows.iter().enumerate() {
                if l != winner && exhausted(pos) && self.settled.insert((i, l)) {
                    let consumed = self.consumed.get(l).copied().unwrap_or_default();
                    let left = self
                        .entitled_as_read(l)
                        .saturating_sub(consumed)
                        .max(Decimal::ZERO);
                    let need = if needed == Decimal::ONE {
                        String::new()
                    } else {
                        format!(", {needed} needed")
                    };
                    let message = format!(
                        "not enough entitlements left on this license ({left} available{need}) to cover the device"
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
            if self.bind(i, winner, reason, message) {
                self.mark_others(i, winner);
            }
        }
    }

    /// Covers installation `i` as the walk in [`Self::priority`] does, assessing its candidates
    /// only as far as the outcome needs: the first open candidate already held by the
    /// installation's unit, else the first open one with units left. A candidate that cannot
    /// have units left for it is not assessed. When no candidate has units left, binds nothing
    /// and returns what the full walk needs to decide: the first open candidate and the first
    /// open true-up one. When a holder's quantity would grow, returns every open candidate.
    /// Only without rows: the candidates not assessed would each have a row.
    fn cover_lazily(&mut self, i: usize, candidates: &[usize]) -> Option<Vec<(usize, Decimal)>> {
        let install = self.install(i)?;
        let (device, app) = (install.device.to_string(), install.application.clone());
        for l in self.holding(&device, &app) {
            match self.verdict(i, l) {
                Some(needed) if needed.is_zero() => {
                    self.bind(i, l, Reason::SharedEntitlement, String::new());
                    return None;
                }
                // The full walk assesses the others (again).
                Some(_) => return Some(self.reject_restricted(i, candidates)),
                None => {}
            }
        }
        // No open candidate holds the unit: each needs units of its own. What each candidate
        // needs, once assessed.
        let mut assessed: Vec<Option<Option<Decimal>>> = vec![None; candidates.len()];
        for (k, &l) in candidates.iter().enumerate() {
            if self.no_room.get(l).copied().unwrap_or(false) || self.cannot_have_room(l, i) {
                continue;
            }
            let verdict = self.verdict(i, l);
            if let Some(needed) = verdict
                && self.has_capacity(l, needed)
            {
                self.bind(i, l, Reason::Consumed, String::new());
                return None;
            }
            if let Some(slot) = assessed.get_mut(k) {
                *slot = Some(verdict);
            }
        }
        let mut first_open = |this: &mut Self, true_up_only: bool| {
            candidates.iter().enumerate().find_map(|(k, &l)| {
                let true_up = this
                    .terms(l)
                    .is_some_and(|t| t.license.limit == EntitlementLimit::TrueUp);
                if true_up_only && !true_up {
                    return None;
                }
                let slot = assessed.get_mut(k)?;
                let verdict = *slot.get_or_insert_with(|| this.verdict(i, l));
                verdict.map(|needed| (k, l, needed))
            })
        };
        let first = first_open(self, false);
        let true_up = first_open(self, true);
        let mut open: Vec<(usize, usize, Decimal)> = first.into_iter().chain(true_up).collect();
        open.dedup();
        Some(open.into_iter().map(|(_, l, needed)| (l, needed)).collect())
    }

    /// Whether installation `i`'s unit, on a device not holding license `l`, certainly finds no
    /// room on it: `l` counts one unit per holder, is limited, has less than one unit left,
    /// and does not exempt the device's role.
    fn cannot_have_room(&mut self, l: usize, i: usize) -> bool {
        let Some(terms) = self.terms(l) else {
            return false;
        };
        let one_per_holder = terms.metric.quantity == Quantity::One
            && terms.license.limit != EntitlementLimit::Unlimited;
        let exempts_none = terms.license.exempt_roles.is_empty();
        if !one_per_holder || self.has_room(l, Decimal::ONE) {
            return false;
        }
        // Later checks would come out false too, and narrow its range no further: its
        // consumption only grows, so the range's end stays where this check put it.
        if exempts_none && let Some(flag) = self.no_room.get_mut(l) {
            *flag = true;
        }
        self.role_exemption(l, i).is_none()
    }

    /// The candidates of application `app` whose holder for an installation on `device`
    /// already holds units of them, in consumption order: read from the holders' index
    /// rather than by asking each candidate.
    fn holding(&self, device: &str, app: &str) -> Vec<usize> {
        let mut found: Vec<usize> = Vec::new();
        for &counts in self.candidate_counts.get(app).into_iter().flatten() {
            let unit = self.unit_counted(counts, device).0;
            for &l in self.held_by.get(&unit).into_iter().flatten() {
                let candidate = self
                    .terms(l)
                    .is_some_and(|t| t.counts == counts && t.covers.contains_key(app));
                if candidate {
                    found.push(l);
                }
            }
        }
        found.sort_by_key(|l| self.rank.get(*l).copied().unwrap_or(usize::MAX));
        found.dedup();
        found
    }

    /// The first true-up license among the open candidates.
    fn true_up(&self, open: &[(usize, Decimal)]) -> Option<usize> {
        open.iter().map(|(l, _)| *l).find(|l| {
            self.terms(*l)
                .is_some_and(|t| t.license.limit == EntitlementLimit::TrueUp)
        })
    }

    /// How `needed` units are taken from license `l` among the `open` candidates: as
    /// expected when it has them, else under true-up terms or beyond the entitlements.
    fn overflow(&mut self, l: usize, needed: Decimal, open: &[(usize, Decimal)]) -> Rejection {
        if self.has_capacity(l, needed) {
            return (
                Reason::Consumed,
                "entitlement consumed as expected".to_string(),
            );
        }
        if self.true_up(open).is_some() {
            return (Reason::TrueUp,
                "every candidate license is exhausted; consumed here under true-up terms, to be bought at the next true-up".to_string());
        }
        (Reason::OverConsumed,
            "every candidate license is exhausted; consumed from the highest-priority one beyond its entitlements".to_string())
    }
}

/// What binds a device or user to a license before priority: an allocation or a manual
/// exemption.
enum Binding {
    Allocation(AllocationKind),
    Exempt(Exemption),
}

/// How an exemption reason is shown: the standard reason's code, or `custom: text`.
fn exemption_text(e: &Exemption) -> String {
    if e.custom {
        format!("custom: {}", e.reason)
    } else {
        e.reason.clone()
    }
}

/// How messages name a holder: "device `D1`", "host `H1`", "the license".
fn holder_name(unit: &Unit) -> String {
    match unit {
        Unit::Device(d) => format!("device `{d}`"),
        Unit::User(u) => format!("user `{u}`"),
        Unit::Host(h) => format!("host `{h}`"),
        Unit::Cluster(c) => format!("cluster `{c}`"),
        Unit::License => "the license as a whole".to_string(),
    }
}

/// The rejection for a hardware value missing on a machine, in seed 003's words.
fn missing(hardware: Hardware, machine: &str) -> Rejection {
    let what = match hardware {
        Hardware::Cores => "the number of cores",
        Hardware::Processors => "the number of processors",
        Hardware::Sockets => "the number of sockets",
        Hardware::MaxSockets => "the most sockets the server can take",
        Hardware::Threads => "the number of threads",
        Hardware::ProcessorModel => "the processor model",
        Hardware::Purchased => "the hardware purchase date",
        Hardware::Host => "the host",
    };
    (
        Reason::Missing(hardware),
        format!(
            "{what}, required for calculating consumption from this license, is missing for device `{machine}`"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estate::Allocation;
    use crate::recognize::EvidenceIds;
    use tally_compiler::ir::CoveredVia;

    fn license(
        id: &str,
        priority: u32,
        limit: EntitlementLimit,
        entitled: i64,
        counts: Counts,
    ) -> (LicenseTerms, Decimal) {
        let mut covers = BTreeMap::new();
        covers.insert(
            "app".to_string(),
            Covered {
                role: Role::Primary,
                via: CoveredVia::Direct,
            },
        );
        let terms = LicenseTerms {
            metric: tally_compiler::ir::Metric::simple(counts.as_str(), counts),
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
            covers,
            out_of_term: None,
            upgrade_ended: BTreeMap::new(),
            required_on: BTreeSet::new(),
        };
        (terms, Decimal::from(entitled))
    }

    fn device(id: &str, user: Option<&str>) -> Device {
        Device {
            id: id.into(),
            name: id.into(),
            assigned_user: user.map(str::to_string),
            ..Device::default()
        }
    }

    /// A family input of licenses with their entitlements, and those entitlements in order.
    fn input(
        licenses: Vec<(LicenseTerms, Decimal)>,
        devices: &[(&str, Option<&str>)],
        users: &[(&str, UserStatus)],
    ) -> (FamilyInput, Vec<Decimal>) {
        let (licenses, entitled): (Vec<LicenseTerms>, Vec<Decimal>) = licenses.into_iter().unzip();
        let input = FamilyInput {
            licenses,
            installations: devices
                .iter()
                .map(|(d, _)| {
                    Arc::new(Installation {
                        device: (*d).into(),
                        application: "app".into(),
                        evidence: EvidenceIds::One(1),
                        absorbed: Vec::new(),
                        last_used: None,
                    })
                })
                .collect(),
            devices: devices
                .iter()
                .map(|(d, u)| ((*d).to_string(), Arc::new(device(d, *u))))
                .collect(),
            users: users
                .iter()
                .map(|(u, s)| {
                    (
                        (*u).to_string(),
                        Arc::new(User {
                            id: (*u).into(),
                            name: (*u).into(),
                            status: *s,
                            groups: Default::default(),
                        }),
                    )
                })
                .collect(),
            ..FamilyInput::default()
        };
        (input, entitled)
    }

    fn reconcile(family: &(FamilyInput, Vec<Decimal>)) -> FamilyOutcome {
        reconcile_family(&family.0, &family.1)
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
    fn the_largest_priority_still_comes_before_none() {
        // `A` has no priority; `B` has the largest there is, which is still a priority.
        let mut none = license("A", 1, EntitlementLimit::AsPurchased, 1, Counts::Device);
        none.0.license.priority = None;
        let largest = license(
            "B",
            u32::MAX,
            EntitlementLimit::AsPurchased,
            1,
            Counts::Device,
        );
        let out = reconcile(&input(vec![none, largest], &[("D1", None)], &[]));
        assert_eq!(consumed(&out, "B"), Decimal::ONE);
        assert_eq!(consumed(&out, "A"), Decimal::ZERO);
    }

    #[test]
    fn exhausted_candidates_fall_back_to_the_highest_priority_license() {
        let licenses = vec![
            license("L1", 1, EntitlementLimit::AsPurchased, 1, Counts::Device),
            license("L2", 2, EntitlementLimit::AsPurchased, 1, Counts::Device),
        ];
        let out = reconcile(&input(
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
        let out = reconcile(&input(
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
        let out = reconcile(&input(licenses, &devices, &users));
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
        l.0.license.allocations = vec![
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
        family
            .0
            .devices
            .insert("D9".into(), Arc::new(device("D9", None)));
        family
            .0
            .devices
            .insert("D8".into(), Arc::new(device("D8", None)));
        let out = reconcile(&family);
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
    fn the_exact_limit_is_ten_to_the_fifteenth() {
        let limit = Decimal::from(1_000_000_000_000_000_i64);
        assert!(exact(limit - Decimal::ONE));
        assert!(!exact(limit));
        assert!(exact(Decimal::new(1, 10)), "ten decimal places are exact");
        assert!(!exact(Decimal::new(1, 11)), "eleven are not");
    }

    #[test]
    fn a_check_narrows_the_range_exactly_at_its_threshold() {
        // Entitled 5, 3 consumed, 2 needed: room, so any entitlements from 5 up decide alike.
        let mut range = EntitledRange::new(Decimal::from(5));
        range.narrow(Decimal::from(3), Decimal::from(2), true);
        assert!(range.contains(Decimal::from(5)));
        assert!(range.contains(Decimal::from(1000)));
        assert!(!range.contains(Decimal::new(499, 2)), "4.99 finds no room");
        // 3 consumed, 3 needed: no room, so 6 would decide otherwise.
        range.narrow(Decimal::from(3), Decimal::from(3), false);
        assert!(range.contains(Decimal::new(599, 2)));
        assert!(!range.contains(Decimal::from(6)));
        assert!(!range.contains(Decimal::from(4)));
    }

    #[test]
    fn a_range_past_exact_arithmetic_holds_its_own_value_alone() {
        let mut range = EntitledRange::new(Decimal::from(5));
        range.narrow(Decimal::new(1, 12), Decimal::ONE, true);
        assert!(range.contains(Decimal::from(5)));
        assert!(!range.contains(Decimal::from(6)));
        let huge = EntitledRange::new(Decimal::MAX);
        assert!(huge.contains(Decimal::MAX));
        assert!(!huge.contains(Decimal::from(6)));
        let mut read = EntitledRange::new(Decimal::from(5));
        read.pin();
        assert!(!read.contains(Decimal::from(6)));
        // A new value outside exact arithmetic is never taken as inside.
        let open = EntitledRange::new(Decimal::from(5));
        assert!(open.contains(Decimal::from(6)));
        assert!(!open.contains(Decimal::new(5_000_000_000_001, 12)));
    }

    /// Three licenses over seven devices (two sharing a user), walked with every
    /// entitlement from 0 to 7 on each: whenever the first walk's ranges hold the new
    /// entitlements, a walk with them finds the same totals; and the ranges are not empty
    /// claims, since some new entitlements fall outside them.
    #[test]
    fn entitlements_inside_the_ranges_give_the_same_totals() {
        let family = input(
            vec![
                license("L1", 1, EntitlementLimit::AsPurchased, 2, Counts::Device),
                license("L2", 2, EntitlementLimit::TrueUp, 1, Counts::Device),
                license("L3", 3, EntitlementLimit::AsPurchased, 3, Counts::User),
            ],
            &[
                ("D1", Some("alice")),
                ("D2", Some("alice")),
                ("D3", Some("bob")),
                ("D4", None),
                ("D5", None),
                ("D6", Some("carol")),
                ("D7", None),
            ],
            &[
                ("alice", UserStatus::Active),
                ("bob", UserStatus::Active),
                ("carol", UserStatus::Active),
            ],
        );
        let values: Vec<Decimal> = (0..8).map(Decimal::from).collect();
        let (mut inside, mut outside) = (0, 0);
        for start in [[2, 1, 3], [0, 0, 0], [7, 7, 7], [1, 5, 0]] {
            let at: Vec<Decimal> = start.iter().map(|e| Decimal::from(*e)).collect();
            let first = family_consumption(&family.0, &at);
            for a in &values {
                for b in &values {
                    for c in &values {
                        let entitled = [*a, *b, *c];
                        let again = family_consumption(&family.0, &entitled);
                        if first.holds_for(&entitled) {
                            inside += 1;
                            assert_eq!(again.totals, first.totals, "{start:?} → {entitled:?}");
                        } else {
                            outside += 1;
                        }
                    }
                }
            }
        }
        assert!(
            inside > 4 && outside > 0,
            "{inside} inside, {outside} outside"
        );
    }

    #[test]
    fn the_range_of_an_exhausted_license_ends_where_one_more_unit_fits() {
        // L1 has 2 units for three devices: two find room, the third does not.
        let family = input(
            vec![
                license("L1", 1, EntitlementLimit::AsPurchased, 2, Counts::Device),
                license("L2", 2, EntitlementLimit::AsPurchased, 5, Counts::Device),
            ],
            &[("D1", None), ("D2", None), ("D3", None)],
            &[],
        );
        let walk = family_consumption(&family.0, &family.1);
        let with = |l1: i64, l2: i64| walk.holds_for(&[Decimal::from(l1), Decimal::from(l2)]);
        assert!(with(2, 5));
        assert!(with(2, 1), "L2 needs only the one unit D3 takes");
        assert!(!with(2, 0));
        assert!(!with(3, 5), "a third unit on L1 moves D3");
        assert!(!with(1, 5), "one unit on L1 moves D2");
    }

    #[test]
    fn every_reason_is_documented() {
        let docs = include_str!("../../docs/reconciliation.md");
        for reason in Reason::ALL {
            let code = format!("`{}`", reason.code());
            assert!(docs.contains(&code), "docs/reconciliation.md lacks {code}");
        }
    }

    #[test]
    fn every_reason_has_a_distinct_code() {
        let codes: BTreeSet<&str> = Reason::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), Reason::ALL.len());
    }
}
