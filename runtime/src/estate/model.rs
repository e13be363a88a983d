//! The estate data model: devices, users, evidence, licenses and purchases as imported and
//! validated. Values here are plain data, compared by value, with no source positions, so that
//! the salsa database can tell when an edit changed nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::civil::Date;
use rust_decimal::Decimal;
use rustc_hash::{FxHashMap, FxHashSet};
use tally_compiler::evidence::spelling;
pub use tally_compiler::evidence::{EvidenceField, EvidenceKind};

/// Everything imported from one estate folder.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Estate {
    /// Sorted by id.
    pub devices: Vec<Device>,
    /// Sorted by id.
    pub users: Vec<User>,
    /// In file order.
    pub evidence: Vec<Evidence>,
    /// Sorted by id.
    pub licenses: Vec<License>,
    /// Sorted by id.
    pub purchases: Vec<Purchase>,
    /// From the optional `usage.csv`; sorted by application, then moment, and otherwise in
    /// file order.
    pub usage: Vec<Usage>,
}

/// Enterprise-group memberships such as `location=Europe/Berlin`: group type to path.
pub type Groups = BTreeMap<String, String>;

/// Hardware chassis as reported by inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Chassis {
    Desktop,
    Laptop,
    Tablet,
    Server,
    Vm,
    Other,
}

/// Whether a device runs a desktop or a server operating system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OsType {
    Desktop,
    Server,
}

/// How a machine is partitioned, which decides what a virtualisation-aware metric counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Partition {
    /// A machine of its own.
    #[default]
    Physical,
    /// A virtual machine on a host.
    Vm,
    /// A hard partition (such as an LPAR): counted as a host of its own.
    HardPartition,
    /// A container on a host.
    Container,
}

impl Partition {
    /// Each partition's spelling in `devices.csv` and in reports.
    pub const NAMES: &[(&str, Self)] = &[
        ("physical", Self::Physical),
        ("vm", Self::Vm),
        ("hard_partition", Self::HardPartition),
        ("container", Self::Container),
    ];

    pub fn name(self) -> &'static str {
        spelling(Self::NAMES, self)
    }
}

/// An inventory device.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Device {
    pub id: String,
    pub name: String,
    pub chassis: Option<Chassis>,
    pub os: Option<String>,
    pub os_type: Option<OsType>,
    pub processors: Option<u32>,
    pub cores: Option<u32>,
    pub threads: Option<u32>,
    pub sockets: Option<u32>,
    /// The most sockets the server model can take (IBM PVU tiers).
    pub max_sockets: Option<u32>,
    pub processor_model: Option<String>,
    /// The host device id, for a virtual machine.
    pub host: Option<String>,
    pub cluster: Option<String>,
    /// As given in `devices.csv`; when not given, [`Partition::Vm`] for a device with a host or
    /// the `vm` chassis, else [`Partition::Physical`].
    pub partition: Partition,
    /// Whether sub-capacity licensing may count this device's share of its host; true unless
    /// `devices.csv` says otherwise.
    pub subcapacity_eligible: bool,
    /// The cloud provider hosting the device; `None` when it is on premises.
    pub hosted_in: Option<String>,
    /// The hardware purchase date.
    pub purchased: Option<Date>,
    pub assigned_user: Option<String>,
    pub calculated_user: Option<String>,
    /// production, test, development, … (free text, lowercased).
    pub role: Option<String>,
    /// active, inactive, … (free text, lowercased).
    pub status: Option<String>,
    pub groups: Groups,
}

/// How `hosted_in` spells "not in a cloud".
pub const ON_PREMISES: &str = "on_premises";

impl Default for Device {
    /// A device with nothing known: physical, on premises and eligible for sub-capacity.
    fn default() -> Self {
        Self {
            id: String::new(),
            name: String::new(),
            chassis: None,
            os: None,
            os_type: None,
            processors: None,
            cores: None,
            threads: None,
            sockets: None,
            max_sockets: None,
            processor_model: None,
            host: None,
            cluster: None,
            partition: Partition::Physical,
            subcapacity_eligible: true,
            hosted_in: None,
            purchased: None,
            assigned_user: None,
            calculated_user: None,
            role: None,
            status: None,
            groups: Groups::new(),
        }
    }
}

impl Device {
    /// The user who counts for this device: the assigned user, else the calculated one.
    pub fn primary_user(&self) -> Option<&str> {
        self.assigned_user
            .as_deref()
            .or(self.calculated_user.as_deref())
    }

    /// Whether the device is hosted in a cloud rather than on premises.
    pub fn cloud(&self) -> bool {
        self.hosted_in
            .as_deref()
            .is_some_and(|h| !h.is_empty() && !h.eq_ignore_ascii_case(ON_PREMISES))
    }
}

/// A person's status; retired and inactive users count as unknown for user-based licenses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UserStatus {
    Active,
    Inactive,
    Retired,
    Pending,
}

/// A person.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct User {
    pub id: String,
    pub name: String,
    pub status: UserStatus,
    pub groups: Groups,
}

/// One row of raw evidence from an inventory source.
///
/// Its texts are shared (`Arc<str>`): estates repeat the same device ids, publishers, names and
/// versions over millions of rows, and the import hands out one copy of each (see
/// [`Interner`]), so a row costs little more than its pointers. Rows compare by value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Evidence {
    /// The 1-based line in `evidence.csv`, which identifies the row in reports.
    pub line: usize,
    pub device: Arc<str>,
    pub kind: EvidenceKind,
    /// Installer or package publisher, file company, SWID software creator.
    pub publisher: Arc<str>,
    /// Display, file, package or SWID name; empty for WMI evidence.
    pub name: Arc<str>,
    pub version: Arc<str>,
    /// The kind's other fields that the row fills, sorted by field: an MSI product code, a
    /// file's size, a WMI class, a SWID tag id, ….
    pub details: Vec<(EvidenceField, Arc<str>)>,
    pub last_used: Option<Date>,
    pub source: Option<Arc<str>>,
    /// Evidence marked as ignored never counts.
    pub ignored: bool,
}

impl Evidence {
    /// Points the row's texts at the copies an interner adopted them into.
    pub fn share_texts(&mut self, shared: &SharedTexts) {
        for text in [
            &mut self.device,
            &mut self.publisher,
            &mut self.name,
            &mut self.version,
        ] {
            shared.share(text);
        }
        for (_, text) in &mut self.details {
            shared.share(text);
        }
        if let Some(text) = &mut self.source {
            shared.share(text);
        }
    }

    /// A row of `kind` with the given fields, each trimmed; empty ones are left out. The line,
    /// device and source are left for the caller.
    pub fn from_fields<'a>(
        kind: EvidenceKind,
        fields: impl IntoIterator<Item = (EvidenceField, &'a str)>,
    ) -> Self {
        Self::from_fields_in(&mut Interner::default(), kind, fields)
    }

    /// [`Evidence::from_fields`], sharing the texts through `strings`.
    pub fn from_fields_in<'a>(
        strings: &mut Interner,
        kind: EvidenceKind,
        fields: impl IntoIterator<Item = (EvidenceField, &'a str)>,
    ) -> Self {
        let empty = strings.intern("");
        let mut evidence = Self {
            line: 0,
            device: Arc::clone(&empty),
            kind,
            publisher: Arc::clone(&empty),
            name: Arc::clone(&empty),
            version: Arc::clone(&empty),
            details: Vec::new(),
            last_used: None,
            source: None,
            ignored: false,
        };
        for (field, value) in fields {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let value = strings.intern(value);
            match field {
                EvidenceField::Publisher => evidence.publisher = value,
                EvidenceField::Name => evidence.name = value,
                EvidenceField::Version => evidence.version = value,
                _ => evidence.details.push((field, value)),
            }
        }
        evidence.details.sort_by_key(|(field, _)| *field);
        evidence
    }

    /// The text of one field; empty when the row does not fill it.
    pub fn field(&self, field: EvidenceField) -> &str {
        match field {
            EvidenceField::Publisher => &self.publisher,
            EvidenceField::Name => &self.name,
            EvidenceField::Version => &self.version,
            _ => self
                .details
                .iter()
                .find(|(f, _)| *f == field)
                .map_or("", |(_, v)| v),
        }
    }
}

/// One device's evidence rows, in file order. An estate loaded into an empty workspace leaves
/// its rows in the list the import made, and each device holds its range of it, so loading
/// copies no row; a device whose rows change later gets a list of its own. (The shared list
/// lives as long as one device still holds a range of it, rows replaced since included.)
#[derive(Clone, Default)]
pub struct DeviceEvidence {
    rows: Arc<Vec<Evidence>>,
    range: std::ops::Range<usize>,
}

impl DeviceEvidence {
    /// The rows `range` of a list shared by several devices (empty if out of bounds).
    pub fn shared(rows: &Arc<Vec<Evidence>>, range: std::ops::Range<usize>) -> Self {
        Self {
            rows: Arc::clone(rows),
            range,
        }
    }

    pub fn as_slice(&self) -> &[Evidence] {
        self.rows.get(self.range.clone()).unwrap_or_default()
    }

    /// Whether the rows are a range of a longer list.
    #[cfg(test)]
    pub(crate) fn is_part_of_a_list(&self) -> bool {
        self.range.len() < self.rows.len()
    }
}

impl From<Vec<Evidence>> for DeviceEvidence {
    fn from(rows: Vec<Evidence>) -> Self {
        let range = 0..rows.len();
        Self {
            rows: Arc::new(rows),
            range,
        }
    }
}

impl std::ops::Deref for DeviceEvidence {
    type Target = [Evidence];

    fn deref(&self) -> &[Evidence] {
        self.as_slice()
    }
}

// Compared as the rows they hold, wherever they are held.
impl PartialEq for DeviceEvidence {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for DeviceEvidence {}

impl std::fmt::Debug for DeviceEvidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

/// Hands out one shared copy of each distinct text, so that rows repeating a text hold
/// pointers to one allocation. Every text of every row is looked up, so the hash is a fast
/// one (the texts come from files the user controls, not from an adversary over a network).
#[derive(Debug, Default)]
pub struct Interner {
    strings: FxHashSet<Arc<str>>,
}

impl Interner {
    /// The shared copy of `text`.
    pub fn intern(&mut self, text: &str) -> Arc<str> {
        if let Some(shared) = self.strings.get(text) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = Arc::from(text);
        self.strings.insert(Arc::clone(&shared));
        shared
    }

    /// Takes in the texts of another interner: each of its texts, by address, to this one's
    /// copy, for [`Evidence::share_texts`].
    pub fn adopt(&mut self, other: Interner) -> SharedTexts {
        SharedTexts(
            other
                .strings
                .into_iter()
                .map(|text| (text_address(&text), self.intern(&text)))
                .collect(),
        )
    }
}

/// Texts of one interner mapped to another's copies, by address.
pub struct SharedTexts(FxHashMap<usize, Arc<str>>);

impl SharedTexts {
    /// Points `text` at this interner's copy, when it came from the adopted one.
    fn share(&self, text: &mut Arc<str>) {
        if let Some(shared) = self.0.get(&text_address(text)) {
            *text = Arc::clone(shared);
        }
    }
}

/// The address of a shared text, which stands for it where texts come from one interner.
pub(crate) fn text_address(text: &Arc<str>) -> usize {
    Arc::as_ptr(text).cast::<u8>() as usize
}

/// How a license's purchased count limits consumption.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum EntitlementLimit {
    /// Consumption above the purchased count puts the license at risk.
    #[default]
    AsPurchased,
    /// Consumption may exceed purchases until the true-up; the license stays compliant.
    TrueUp,
    /// No limit: always compliant and no shortfall is reported.
    Unlimited,
}

impl EntitlementLimit {
    /// Each limit's spelling in `licenses.yaml` and in reports.
    pub const NAMES: &[(&str, Self)] = &[
        ("as_purchased", Self::AsPurchased),
        ("true_up", Self::TrueUp),
        ("unlimited", Self::Unlimited),
    ];

    pub fn name(self) -> &'static str {
        spelling(Self::NAMES, self)
    }
}

/// A license's life-cycle stage; a retired license is ignored by reconciliation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum LicenseStatus {
    #[default]
    Active,
    Purchased,
    Received,
    InStock,
    Retired,
}

impl LicenseStatus {
    /// Each status's spelling in `licenses.yaml` and in reports.
    pub const NAMES: &[(&str, Self)] = &[
        ("active", Self::Active),
        ("purchased", Self::Purchased),
        ("received", Self::Received),
        ("in_stock", Self::InStock),
        ("retired", Self::Retired),
    ];

    pub fn name(self) -> &'static str {
        spelling(Self::NAMES, self)
    }
}

/// How an allocation binds a device or user to a license.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AllocationKind {
    /// Consumes when a covered application is installed.
    Allocated,
    /// Like allocated, while the first matching inventory is awaited.
    AwaitingInventory,
    /// Always consumes, installed or not.
    Permanent,
}

impl AllocationKind {
    /// Each kind's spelling in `licenses.yaml` and in reports.
    pub const NAMES: &[(&str, Self)] = &[
        ("allocated", Self::Allocated),
        ("awaiting_inventory", Self::AwaitingInventory),
        ("permanent", Self::Permanent),
    ];

    pub fn name(self) -> &'static str {
        spelling(Self::NAMES, self)
    }
}

/// What an allocation names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AllocationTarget {
    Device(String),
    User(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Allocation {
    pub target: AllocationTarget,
    pub kind: AllocationKind,
}

/// Binding restrictions: a device outside them is rejected, never merely deprioritised.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Restrictions {
    pub os_type: Option<OsType>,
    /// The device must belong to one of these groups (type to path; a path also admits its
    /// sub-groups: `location=Europe` admits `location=Europe/Berlin`).
    pub groups: Vec<(String, String)>,
    /// The range of cores the device may have (`min_cores`, `max_cores`).
    pub cores: Range,
    /// The range of processors the device may have.
    pub processors: Range,
    /// The range of sockets the device may have.
    pub sockets: Range,
    /// A product or application id that must be installed on the same device, such as the
    /// Oracle Database an Oracle option needs.
    pub requires_installed: Option<String>,
}

impl Restrictions {
    /// Whether these restrict nothing: every device passes them.
    pub fn are_none(&self) -> bool {
        self.os_type.is_none()
            && self.groups.is_empty()
            && self.cores.is_open()
            && self.processors.is_open()
            && self.sockets.is_open()
            && self.requires_installed.is_none()
    }
}

/// An inclusive range of a hardware count; either end may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Range {
    pub min: Option<u32>,
    pub max: Option<u32>,
}

impl Range {
    /// Whether the range bounds anything.
    pub fn is_open(&self) -> bool {
        self.min.is_none() && self.max.is_none()
    }
}

/// Whether a license is perpetual or ends (seed 002's *Duration*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Duration {
    /// Not time-limited: an `expiry` is ignored.
    #[default]
    Perpetual,
    /// Renewed by regular payments; counts from `start` to `expiry`.
    Subscription,
    /// Ends at `expiry` and is typically not renewed (an evaluation).
    TimeLimited,
}

impl Duration {
    /// Each duration's spelling in `licenses.yaml` and in reports.
    pub const NAMES: &[(&str, Self)] = &[
        ("perpetual", Self::Perpetual),
        ("subscription", Self::Subscription),
        ("time_limited", Self::TimeLimited),
    ];

    pub fn name(self) -> &'static str {
        spelling(Self::NAMES, self)
    }
}

/// A device's role, which a license may exempt from consumption.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeviceRole {
    Production,
    Test,
    Development,
    DisasterRecovery,
}

impl DeviceRole {
    /// Each role's spelling in `licenses.yaml` and in the `role` column of `devices.csv`.
    pub const NAMES: &[(&str, Self)] = &[
        ("production", Self::Production),
        ("test", Self::Test),
        ("development", Self::Development),
        ("disaster_recovery", Self::DisasterRecovery),
    ];

    pub fn name(self) -> &'static str {
        spelling(Self::NAMES, self)
    }
}

/// Entitlements of a license assigned to an enterprise group: the group's members consume
/// them before priority is looked at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Assignment {
    /// Group type and path, such as (`location`, `Asia/India`).
    pub group: (String, String),
    pub quantity: Decimal,
}

/// The standard exemption reasons; any other reason is written as `custom`.
pub const EXEMPTION_REASONS: &[&str] = &[
    "backup",
    "development",
    "disaster_recovery",
    "inactive",
    "test",
    "training",
];

/// A manual exemption: the device or user is bound to the license (as by an allocation) and
/// consumes nothing from it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Exemption {
    pub target: AllocationTarget,
    /// A standard reason from [`EXEMPTION_REASONS`], or the text of a custom one.
    pub reason: String,
    /// Whether `reason` is a custom text.
    pub custom: bool,
}

/// The right of second use (seed 002: `SecondUsageWorkLaptop`, `SecondUsageAtHome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SecondUse {
    /// A user's second copy on a portable work computer (not a VM) consumes nothing.
    pub work_laptop: bool,
    /// A second copy at home: recorded only, since home computers are never inventoried.
    pub home: bool,
}

/// The machine a license counts on a virtualised estate, overriding its metric's holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VirtualCount {
    /// Each virtual machine with an installation.
    Vm,
    /// The host the virtual machines run on.
    Host,
    /// The cluster of the host.
    Cluster,
}

impl VirtualCount {
    /// Each count's spelling in `licenses.yaml` and in reports.
    pub const NAMES: &[(&str, Self)] = &[
        ("vm", Self::Vm),
        ("host", Self::Host),
        ("cluster", Self::Cluster),
    ];

    pub fn name(self) -> &'static str {
        spelling(Self::NAMES, self)
    }
}

/// How a license counts virtual machines, from its `virtualization` in `licenses.yaml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Virtualization {
    /// What the license counts; `None` leaves it to the metric.
    pub count: Option<VirtualCount>,
    /// Whether the license is counted at sub-capacity (`capacity: sub`): only the capacity of
    /// the virtual machines, not of the whole host. False is full capacity, the default.
    pub subcapacity: bool,
}

/// A license record from `licenses.yaml`, with its SKU already expanded: `metric` and `rights`
/// are rule ids that the compiled packs declare.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct License {
    pub id: String,
    pub name: String,
    pub sku: Option<String>,
    /// A `metric` declaration id, e.g. `device`.
    pub metric: String,
    /// A `rights` or `bundle` declaration id.
    pub rights: String,
    /// Lower numbers are consumed first; licenses without one come after all that have one.
    pub priority: Option<u32>,
    pub limit: EntitlementLimit,
    pub status: LicenseStatus,
    pub extra_entitlements: Decimal,
    pub unit_price: Option<Decimal>,
    pub currency: Option<String>,
    /// When a subscription or time-limited license ends (ignored for a perpetual one).
    pub expiry: Option<Date>,
    /// Perpetual, subscription or time-limited; `subscription` when `expiry` is given and the
    /// record says nothing, else perpetual.
    pub duration: Duration,
    /// When a subscription or time-limited license starts counting.
    pub start: Option<Date>,
    /// When maintenance (software assurance) ends: upgrade rights cover only versions
    /// released on or before this day.
    pub maintenance_end: Option<Date>,
    pub restrictions: Restrictions,
    /// Sorted.
    pub allocations: Vec<Allocation>,
    /// Whether allocations consume without an installation (seed 003: "Allocations consume
    /// license entitlements").
    pub allocations_consume: bool,
    /// Entitlements assigned to enterprise groups, all of one group type, deepest group first.
    pub assignments: Vec<Assignment>,
    /// Manual exemptions, sorted.
    pub exemptions: Vec<Exemption>,
    /// Device roles the license's use rights exempt from consumption, sorted.
    pub exempt_roles: Vec<DeviceRole>,
    pub second_use: SecondUse,
    pub virtualization: Virtualization,
    /// A number typed in on the record for resource-based metrics, such as IBM RVUs.
    pub metric_value: Option<Decimal>,
}

/// How many of an application were in use at one moment, as a license server reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Usage {
    /// An application id, as the packs declare them (not checked at import).
    pub application: String,
    /// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM`, so that moments sort in time order (a day before
    /// the times on it).
    pub at: String,
    /// A whole number of zero or more.
    pub in_use: Decimal,
}

/// A purchase line; linked to exactly one license.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Purchase {
    pub id: String,
    pub license: String,
    pub sku: Option<String>,
    pub quantity: Decimal,
    pub unit_price: Option<Decimal>,
    pub currency: Option<String>,
    pub date: Option<Date>,
    /// For subscriptions: entitlements count only from `effective` to `expiry`, inclusive.
    pub effective: Option<Date>,
    pub expiry: Option<Date>,
    pub disabled: bool,
}

impl License {
    /// Whether the license's term has not begun, or has ended, on the given day: `Some` with
    /// the start (`Ordering::Less`) or the expiry (`Ordering::Greater`) outside of which the day
    /// falls. A perpetual license is always current.
    pub fn out_of_term(&self, as_of: Date) -> Option<(std::cmp::Ordering, Date)> {
        if self.duration == Duration::Perpetual {
            return None;
        }
        if let Some(start) = self.start.filter(|s| as_of < *s) {
            return Some((std::cmp::Ordering::Less, start));
        }
        self.expiry
            .filter(|e| *e < as_of)
            .map(|e| (std::cmp::Ordering::Greater, e))
    }
}

impl Purchase {
    /// Whether this purchase adds entitlements on the given day.
    pub fn is_current(&self, as_of: Date) -> bool {
        !self.disabled
            && self.effective.is_none_or(|d| d <= as_of)
            && self.expiry.is_none_or(|d| as_of <= d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_device_is_physical_on_premises_and_eligible() {
        let device = Device::default();
        assert_eq!(device.partition, Partition::Physical);
        assert!(device.subcapacity_eligible);
        assert!(!device.cloud());
    }

    #[test]
    fn a_device_is_in_a_cloud_unless_hosted_on_premises() {
        let hosted = |at: &str| Device {
            hosted_in: Some(at.to_owned()),
            ..Device::default()
        };
        assert!(hosted("aws").cloud());
        assert!(!hosted("On_Premises").cloud());
        assert!(!hosted("").cloud());
    }

    #[test]
    fn names_round_trip() {
        for &(name, partition) in Partition::NAMES {
            assert_eq!(partition.name(), name);
        }
        for &(name, count) in VirtualCount::NAMES {
            assert_eq!(count.name(), name);
        }
    }
}
