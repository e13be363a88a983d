//! The incremental query graph: salsa inputs (one per rule file, device, user, license and
//! purchase) and the tracked queries parse → compile → recognise per device → reconcile per
//! license family → positions.
//!
//! Every query is a pure function of its inputs, so after any edit the results equal a run from
//! scratch. Derived values carry no source positions, so an edit that changes nothing
//! downstream stops early (salsa's backdating): a device whose evidence changed re-runs its own
//! recognition, and reconciliation re-runs only for the families whose installations moved.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use jiff::civil::Date;
use rust_decimal::Decimal;
use salsa::{Durability, Setter};
use tally_compiler::diagnostics::SourceFile;
use tally_compiler::ir::CompiledPack;
use tally_compiler::{Compiled, ParsedFile, parallel};

use crate::estate::{
    AllocationTarget, Device, Estate, Evidence, License, Purchase, Usage, User, VirtualCount,
};
use crate::position::{self, Position};
use crate::recognize::{DeviceRecognition, DeviceView, Installation, Recognizer, recognize_device};
use crate::reconcile::{
    Assessment, FamilyInput, FamilyOutcome, LicenseTerms, Outcome, reconcile_family,
};
use tally_compiler::ir::Counts;

/// The salsa database. Cloning it is cheap and gives a snapshot for another thread.
#[salsa::db]
#[derive(Clone, Default)]
pub struct Database {
    storage: salsa::Storage<Self>,
    /// The names of the queries executed, when logging is on (for incrementality tests).
    log: Option<Arc<Mutex<Vec<String>>>>,
}

#[salsa::db]
impl salsa::Database for Database {}

impl Database {
    /// A database that records the name of every query it executes.
    pub fn with_log() -> Self {
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = Arc::clone(&log);
        let storage = salsa::Storage::new(Some(Box::new(move |event: salsa::Event| {
            if let salsa::EventKind::WillExecute { database_key } = event.kind
                && let Ok(mut log) = sink.lock()
            {
                log.push(format!("{database_key:?}"));
            }
        })));
        Self {
            storage,
            log: Some(log),
        }
    }

    /// Takes the executed-query log: the query names, e.g. `device_recognition`.
    pub fn take_log(&self) -> Vec<String> {
        let Some(log) = &self.log else {
            return Vec::new();
        };
        let Ok(mut log) = log.lock() else {
            return Vec::new();
        };
        std::mem::take(&mut *log)
            .into_iter()
            .map(|entry| entry.split('(').next().unwrap_or("").to_string())
            .collect()
    }
}

/// One rule file.
#[salsa::input]
pub struct RuleFile {
    #[returns(ref)]
    pub source: Arc<SourceFile>,
}

/// The loaded rule files.
#[salsa::input]
pub struct Rules {
    #[returns(ref)]
    pub files: Vec<RuleFile>,
}

/// One device: its record and, separately, its evidence.
#[salsa::input]
pub struct DeviceInput {
    #[returns(ref)]
    pub device: Device,
    #[returns(ref)]
    pub evidence: Vec<Evidence>,
}

#[salsa::input]
pub struct UserInput {
    #[returns(ref)]
    pub user: User,
}

#[salsa::input]
pub struct LicenseInput {
    #[returns(ref)]
    pub license: License,
}

#[salsa::input]
pub struct PurchaseInput {
    #[returns(ref)]
    pub purchase: Purchase,
}

/// The estate and the rules it is reconciled with.
#[salsa::input]
pub struct EstateInput {
    #[returns(copy)]
    pub rules: Rules,
    #[returns(ref)]
    pub devices: Vec<DeviceInput>,
    #[returns(ref)]
    pub users: Vec<UserInput>,
    #[returns(ref)]
    pub licenses: Vec<LicenseInput>,
    #[returns(ref)]
    pub purchases: Vec<PurchaseInput>,
    /// License-server usage snapshots, by application then moment.
    #[returns(ref)]
    pub usage: Vec<Usage>,
    /// The day purchases are judged current on.
    #[returns(copy)]
    pub as_of: Date,
}

#[salsa::tracked(returns(ref))]
pub fn parsed(db: &dyn salsa::Database, file: RuleFile) -> ParsedFile {
    tally_compiler::parse_file(Arc::clone(file.source(db)))
}

#[salsa::tracked(returns(ref))]
pub fn compiled(db: &dyn salsa::Database, rules: Rules) -> Compiled {
    let mut files: Vec<&ParsedFile> = rules.files(db).iter().map(|f| parsed(db, *f)).collect();
    files.sort_by(|a, b| a.source.path.cmp(&b.source.path));
    tally_compiler::compile(&files)
}

/// The compiled pack alone, without diagnostics: unchanged when only spans moved.
#[salsa::tracked(returns(ref))]
pub fn pack(db: &dyn salsa::Database, rules: Rules) -> CompiledPack {
    compiled(db, rules).pack.clone()
}

#[salsa::tracked(returns(ref))]
pub fn recognizer(db: &dyn salsa::Database, rules: Rules) -> Recognizer {
    Recognizer::new(pack(db, rules))
}

#[salsa::tracked(returns(ref))]
pub fn device_recognition(
    db: &dyn salsa::Database,
    estate: EstateInput,
    device: DeviceInput,
) -> DeviceRecognition {
    recognize_device(
        recognizer(db, estate.rules(db)),
        &device.device(db).id,
        device.evidence(db),
    )
}

/// Every installation, by application.
#[salsa::tracked(returns(ref))]
pub fn installations_by_application(
    db: &dyn salsa::Database,
    estate: EstateInput,
) -> BTreeMap<String, Vec<Installation>> {
    let mut index: BTreeMap<String, Vec<Installation>> = BTreeMap::new();
    for device in estate.devices(db) {
        for installation in &device_recognition(db, estate, *device).installations {
            index
                .entry(installation.application.clone())
                .or_default()
                .push(installation.clone());
        }
    }
    index
}

/// Device records by id (evidence is not read here, so evidence edits do not invalidate it).
#[salsa::tracked(returns(ref))]
pub fn devices(db: &dyn salsa::Database, estate: EstateInput) -> BTreeMap<String, Device> {
    estate
        .devices(db)
        .iter()
        .map(|d| (d.device(db).id.clone(), d.device(db).clone()))
        .collect()
}

#[salsa::tracked(returns(ref))]
pub fn users(db: &dyn salsa::Database, estate: EstateInput) -> BTreeMap<String, User> {
    estate
        .users(db)
        .iter()
        .map(|u| (u.user(db).id.clone(), u.user(db).clone()))
        .collect()
}

#[salsa::tracked(returns(ref))]
pub fn purchases_by_license(
    db: &dyn salsa::Database,
    estate: EstateInput,
) -> BTreeMap<String, Vec<Purchase>> {
    let mut index: BTreeMap<String, Vec<Purchase>> = BTreeMap::new();
    for p in estate.purchases(db) {
        let purchase = p.purchase(db);
        index
            .entry(purchase.license.clone())
            .or_default()
            .push(purchase.clone());
    }
    index
}

/// Applications by product, to find what a rights declaration covers without scanning them all.
#[salsa::tracked(returns(ref))]
pub fn applications_by_product(
    db: &dyn salsa::Database,
    rules: Rules,
) -> BTreeMap<String, Vec<String>> {
    let mut index: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for app in pack(db, rules).applications.values() {
        index
            .entry(app.product.clone())
            .or_default()
            .push(app.id.clone());
    }
    index
}

/// A license with its rules applied: metric, coverage and entitlements.
#[salsa::tracked(returns(ref))]
pub fn license_terms(
    db: &dyn salsa::Database,
    estate: EstateInput,
    license: LicenseInput,
) -> Option<LicenseTerms> {
    let rules = estate.rules(db);
    let pack = pack(db, rules);
    let license = license.license(db);
    let metric = pack.metrics.get(&license.metric)?;
    let rights = pack.rights.get(&license.rights)?;
    let by_product = applications_by_product(db, rules);
    let mut covers = BTreeMap::new();
    for member in &rights.members {
        let product = match &member.target {
            tally_compiler::ir::CoverTarget::Product(p) => Some(p.as_str()),
            tally_compiler::ir::CoverTarget::Application(a) => {
                pack.applications.get(a).map(|a| a.product.as_str())
            }
        };
        for app in product
            .and_then(|p| by_product.get(p))
            .into_iter()
            .flatten()
        {
            if let Some(covered) = pack.covers(&rights.id, app) {
                covers.insert(app.clone(), covered);
            }
        }
    }
    let purchases = purchases_by_license(db, estate).get(&license.id);
    let own: Vec<&Purchase> = purchases.into_iter().flatten().collect();
    // Import refuses entitlements too large to add up (T0207); for an estate built otherwise
    // they count as the largest decimal, so reconciliation goes on and the license's position
    // says its entitlements are too large.
    let entitled = position::purchased(&own, estate.as_of(db))
        .and_then(|bought| bought.checked_add(license.extra_entitlements))
        .unwrap_or(Decimal::MAX);
    // A license's virtualization terms say which machine a machine-counting metric counts.
    let counts = match (metric.counts, license.virtualization.count) {
        (Counts::Device | Counts::Host | Counts::Cluster, Some(count)) => match count {
            VirtualCount::Vm => Counts::Device,
            VirtualCount::Host => Counts::Host,
            VirtualCount::Cluster => Counts::Cluster,
        },
        (counts, _) => counts,
    };
    // An upgrade right ends with maintenance: a version released after it (or whose release
    // day is unknown) is not covered.
    let upgrade_ended = license
        .maintenance_end
        .map(|end| end.to_string())
        .map(|end| {
            covers
                .iter()
                .filter(|(_, c)| c.via == tally_compiler::ir::CoveredVia::Upgrade)
                .filter_map(|(app, _)| {
                    let released = pack.applications.get(app)?.released.clone();
                    // Days are checked `YYYY-MM-DD`, so they compare as text.
                    released
                        .as_ref()
                        .is_none_or(|r| *r > end)
                        .then(|| (app.clone(), released))
                })
                .collect()
        })
        .unwrap_or_default();
    Some(LicenseTerms {
        license: license.clone(),
        metric: metric.clone(),
        counts,
        kind: rights.kind,
        entitled,
        covers,
        out_of_term: license.out_of_term(estate.as_of(db)),
        upgrade_ended,
        required_on: BTreeSet::new(),
    })
}

/// A connected group of licenses and the applications they cover.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Family {
    /// Sorted license ids.
    pub licenses: Vec<String>,
    /// Sorted application ids.
    pub applications: Vec<String>,
}

/// The license families, from the rules and license records alone (not from inventory, so
/// that inventory edits leave them alone), sorted by their first license id.
#[salsa::tracked(returns(ref))]
pub fn families(db: &dyn salsa::Database, estate: EstateInput) -> Vec<Family> {
    let mut terms: Vec<&LicenseTerms> = estate
        .licenses(db)
        .iter()
        .filter_map(|l| license_terms(db, estate, *l).as_ref())
        .collect();
    terms.sort_by(|a, b| a.license.id.cmp(&b.license.id));
    // Union-find over license indexes, joined through shared applications.
    let mut parent: Vec<usize> = (0..terms.len()).collect();
    fn root(parent: &mut [usize], mut x: usize) -> usize {
        while let Some(&p) = parent.get(x) {
            if p == x {
                break;
            }
            let grand = parent.get(p).copied().unwrap_or(p);
            if let Some(slot) = parent.get_mut(x) {
                *slot = grand;
            }
            x = p;
        }
        x
    }
    let mut owner: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, t) in terms.iter().enumerate() {
        for app in t.covers.keys() {
            match owner.get(app.as_str()) {
                Some(&j) => {
                    let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                    if let Some(slot) = parent.get_mut(a.max(b)) {
                        *slot = a.min(b);
                    }
                }
                None => {
                    owner.insert(app, i);
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for (i, t) in terms.iter().enumerate() {
        let group = groups.entry(root(&mut parent, i)).or_default();
        group.0.insert(t.license.id.clone());
        group.1.extend(t.covers.keys().cloned());
    }
    groups
        .into_values()
        .map(|(licenses, applications)| Family {
            licenses: licenses.into_iter().collect(),
            applications: applications.into_iter().collect(),
        })
        .collect()
}

/// Everything the reconciliation of family `index` reads, cut out of the whole estate.
#[salsa::tracked(returns(ref))]
pub fn family_input(db: &dyn salsa::Database, estate: EstateInput, index: usize) -> FamilyInput {
    let Some(family) = families(db, estate).get(index) else {
        return FamilyInput::default();
    };
    let mut licenses: Vec<LicenseTerms> = estate
        .licenses(db)
        .iter()
        .filter(|l| family.licenses.binary_search(&l.license(db).id).is_ok())
        .filter_map(|l| license_terms(db, estate, *l).clone())
        .collect();
    licenses.sort_by(|a, b| a.license.id.cmp(&b.license.id));
    let index = installations_by_application(db, estate);
    // A license that needs another product on the same device (an Oracle option and its
    // database) reads where that product is installed, whichever family it belongs to.
    let pack_ref = pack(db, estate.rules(db));
    for terms in &mut licenses {
        if let Some(needed) = &terms.license.restrictions.requires_installed {
            terms.required_on = index
                .iter()
                .filter(|(app, _)| {
                    *app == needed
                        || pack_ref
                            .applications
                            .get(*app)
                            .is_some_and(|a| a.product == *needed)
                })
                .flat_map(|(_, installs)| installs.iter().map(|x| x.device.clone()))
                .collect();
        }
    }
    let mut installations: Vec<Installation> = family
        .applications
        .iter()
        .filter_map(|a| index.get(a))
        .flatten()
        .cloned()
        .collect();
    installations.sort_by(|a, b| (&a.device, &a.application).cmp(&(&b.device, &b.application)));
    let all_devices = devices(db, estate);
    let mut wanted: BTreeSet<&str> = installations.iter().map(|i| i.device.as_str()).collect();
    for terms in &licenses {
        let targets = terms
            .license
            .allocations
            .iter()
            .map(|a| &a.target)
            .chain(terms.license.exemptions.iter().map(|e| &e.target));
        for target in targets {
            match target {
                AllocationTarget::Device(d) => {
                    wanted.insert(d);
                }
                AllocationTarget::User(u) => {
                    wanted.extend(
                        all_devices
                            .values()
                            .filter(|d| d.primary_user() == Some(u))
                            .map(|d| d.id.as_str()),
                    );
                }
            }
        }
    }
    // Metrics that count hosts or clusters read the hosts of VMs and the hosts that share
    // their cluster.
    let hosts: Vec<&str> = wanted
        .iter()
        .filter_map(|d| all_devices.get(*d)?.host.as_deref())
        .collect();
    wanted.extend(hosts);
    let clusters: BTreeSet<&str> = wanted
        .iter()
        .filter_map(|d| all_devices.get(*d)?.cluster.as_deref())
        .collect();
    if !clusters.is_empty() {
        wanted.extend(
            all_devices
                .values()
                .filter(|d| d.cluster.as_deref().is_some_and(|c| clusters.contains(c)))
                .map(|d| d.id.as_str()),
        );
    }
    let devices: BTreeMap<String, Device> = wanted
        .into_iter()
        .filter_map(|d| all_devices.get(d).map(|x| (d.to_string(), x.clone())))
        .collect();
    // Only the users of these devices, and users allocated directly, can hold a unit.
    let all_users = users(db, estate);
    let allocated = licenses
        .iter()
        .flat_map(|t| {
            t.license
                .allocations
                .iter()
                .map(|a| &a.target)
                .chain(t.license.exemptions.iter().map(|e| &e.target))
        })
        .filter_map(|target| match target {
            AllocationTarget::User(u) => Some(u.as_str()),
            AllocationTarget::Device(_) => None,
        });
    let users = devices
        .values()
        .flat_map(|d| [d.assigned_user.as_deref(), d.calculated_user.as_deref()])
        .flatten()
        .chain(allocated)
        .filter_map(|u| all_users.get(u).map(|x| (u.to_string(), x.clone())))
        .collect();
    let pack = pack(db, estate.rules(db));
    let tables = licenses
        .iter()
        .flat_map(|t| tables_used(&t.metric))
        .filter_map(|id| pack.tables.get(&id).map(|t| (id, t.clone())))
        .collect();
    let mut usage: BTreeMap<String, Vec<(String, Decimal)>> = BTreeMap::new();
    for row in estate.usage(db) {
        if family.applications.binary_search(&row.application).is_ok() {
            usage
                .entry(row.application.clone())
                .or_default()
                .push((row.at.clone(), row.in_use));
        }
    }
    FamilyInput {
        licenses,
        installations,
        devices,
        users,
        tables,
        usage,
        as_of: estate.as_of(db),
    }
}

/// The ids of the tables a metric's quantity looks values up in.
fn tables_used(metric: &tally_compiler::ir::Metric) -> BTreeSet<String> {
    use tally_compiler::ir::{Expr, Quantity};
    fn walk(expr: &Expr, out: &mut BTreeSet<String>) {
        match expr {
            Expr::Number(_) | Expr::Text(_) | Expr::Bool(_) | Expr::Var(_) => {}
            Expr::Field(inner, _) | Expr::Unary(_, inner) => walk(inner, out),
            Expr::Binary(_, a, b) => {
                walk(a, out);
                walk(b, out);
            }
            Expr::If(a, b, c) => {
                walk(a, out);
                walk(b, out);
                walk(c, out);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| walk(a, out)),
            Expr::Aggregate {
                collection,
                body,
                filter,
                ..
            } => {
                walk(collection, out);
                body.iter().chain(filter).for_each(|e| walk(e, out));
            }
            Expr::Lookup { table, keys } => {
                out.insert(table.clone());
                keys.iter().for_each(|k| walk(k, out));
            }
        }
    }
    let mut out = BTreeSet::new();
    if let Quantity::Expr { expr, .. } = &metric.quantity {
        walk(expr, &mut out);
    }
    out
}

#[salsa::tracked(returns(ref))]
pub fn family_outcome(
    db: &dyn salsa::Database,
    estate: EstateInput,
    index: usize,
) -> FamilyOutcome {
    reconcile_family(family_input(db, estate, index))
}

/// The units each license of family `index` consumes: the sums of its rows' units, `None`
/// when they add up to more than a decimal holds. Unchanged totals stop the update here, so
/// positions are not recomputed for a change that moved no figure.
#[salsa::tracked(returns(ref))]
pub fn family_consumption(
    db: &dyn salsa::Database,
    estate: EstateInput,
    index: usize,
) -> BTreeMap<String, Option<Decimal>> {
    let mut totals: BTreeMap<String, Option<Decimal>> = BTreeMap::new();
    for row in &family_outcome(db, estate, index).assessments {
        let total = totals
            .entry(row.license.clone())
            .or_insert(Some(Decimal::ZERO));
        *total = total.and_then(|t| t.checked_add(row.units));
    }
    totals
}

/// Every assessment row, sorted by license, device, application and user.
#[salsa::tracked(returns(ref))]
pub fn assessments(db: &dyn salsa::Database, estate: EstateInput) -> Vec<Assessment> {
    let mut rows: Vec<Assessment> = (0..families(db, estate).len())
        .flat_map(|i| family_outcome(db, estate, i).assessments.iter().cloned())
        .collect();
    rows.sort_by(Assessment::report_order);
    rows
}

/// Every license's position, sorted by license id.
#[salsa::tracked(returns(ref))]
pub fn positions(db: &dyn salsa::Database, estate: EstateInput) -> Vec<Position> {
    let mut consumed: BTreeMap<&str, Option<Decimal>> = BTreeMap::new();
    for i in 0..families(db, estate).len() {
        for (license, units) in family_consumption(db, estate, i) {
            let total = consumed
                .entry(license.as_str())
                .or_insert(Some(Decimal::ZERO));
            *total = total.zip(*units).and_then(|(t, u)| t.checked_add(u));
        }
    }
    let purchases = purchases_by_license(db, estate);
    let pack = pack(db, estate.rules(db));
    let mut out: Vec<Position> = estate
        .licenses(db)
        .iter()
        .map(|l| {
            let license = l.license(db);
            let own: Vec<&Purchase> = purchases.get(&license.id).into_iter().flatten().collect();
            let used = consumed
                .get(license.id.as_str())
                .copied()
                .unwrap_or(Some(Decimal::ZERO));
            let terms = position::terms(license, pack);
            position::position(
                license,
                &license.metric,
                &terms,
                &own,
                used,
                estate.as_of(db),
            )
        })
        .collect();
    out.sort_by(|a, b| a.license.cmp(&b.license));
    out
}

/// A database loaded with rules and, once imported, an estate: the handle commands work with.
pub struct Workspace {
    pub db: Database,
    pub estate: EstateInput,
    /// Device inputs by id, for edits.
    device_inputs: BTreeMap<String, DeviceInput>,
}

/// How many rows [`evidence_by_device`] moves before it gives back the emptied part of the
/// list (shrinking a large allocation is done in place).
const GROUPING_STEP: usize = 4096;

/// Splits evidence rows by device, each device's rows in file order. Rows are moved from the
/// end of the list, whose emptied part is given back as it goes, and each device's list is
/// allocated at its final size, so the rows are never held twice.
fn evidence_by_device(mut rows: Vec<Evidence>) -> HashMap<Arc<str>, Vec<Evidence>> {
    let mut counts: HashMap<Arc<str>, usize> = HashMap::new();
    for e in &rows {
        *counts.entry(Arc::clone(&e.device)).or_default() += 1;
    }
    let mut by_device: HashMap<Arc<str>, Vec<Evidence>> = counts
        .into_iter()
        .map(|(device, n)| (device, Vec::with_capacity(n)))
        .collect();
    while let Some(e) = rows.pop() {
        if let Some(list) = by_device.get_mut(&e.device) {
            list.push(e);
        }
        if rows.capacity() - rows.len() >= GROUPING_STEP {
            rows.shrink_to_fit();
        }
    }
    for list in by_device.values_mut() {
        list.reverse();
    }
    by_device
}

/// How many devices a recognition thread takes at a time.
const RECOGNITION_BATCH: usize = 64;

/// A rule file and whether it belongs to the standard packs (which rarely change).
#[derive(Debug, Clone)]
pub struct RuleSource {
    pub source: Arc<SourceFile>,
    pub standard: bool,
}

impl Workspace {
    /// A workspace with rules and an empty estate.
    pub fn new(db: Database, sources: Vec<RuleSource>, as_of: Date) -> Self {
        let files: Vec<RuleFile> = sources
            .into_iter()
            .map(|s| {
                let durability = if s.standard {
                    Durability::HIGH
                } else {
                    Durability::LOW
                };
                RuleFile::builder(s.source)
                    .source_durability(durability)
                    .new(&db)
            })
            .collect();
        let rules = Rules::new(&db, files);
        let estate = EstateInput::new(
            &db,
            rules,
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            as_of,
        );
        Self {
            db,
            estate,
            device_inputs: BTreeMap::new(),
        }
    }

    pub fn compiled(&self) -> &Compiled {
        self.parse_all();
        compiled(&self.db, self.estate.rules(&self.db))
    }

    pub fn pack(&self) -> &CompiledPack {
        self.parse_all();
        pack(&self.db, self.estate.rules(&self.db))
    }

    /// Loads an imported estate, replacing whatever was loaded.
    pub fn load(&mut self, estate: Estate) {
        let mut evidence = evidence_by_device(estate.evidence);
        let db = &self.db;
        let devices: Vec<DeviceInput> = estate
            .devices
            .into_iter()
            .map(|d| {
                let ev = evidence.remove(d.id.as_str()).unwrap_or_default();
                DeviceInput::new(db, d, ev)
            })
            .collect();
        self.device_inputs = devices
            .iter()
            .map(|d| (d.device(db).id.clone(), *d))
            .collect();
        let users = estate
            .users
            .into_iter()
            .map(|u| UserInput::new(db, u))
            .collect();
        let licenses = estate
            .licenses
            .into_iter()
            .map(|l| LicenseInput::new(db, l))
            .collect();
        let purchases = estate
            .purchases
            .into_iter()
            .map(|p| PurchaseInput::new(db, p))
            .collect();
        let input = self.estate;
        input.set_devices(&mut self.db).to(devices);
        input.set_users(&mut self.db).to(users);
        input.set_licenses(&mut self.db).to(licenses);
        input.set_purchases(&mut self.db).to(purchases);
        input.set_usage(&mut self.db).to(estate.usage);
    }

    /// Replaces one device's evidence; returns false if there is no such device.
    pub fn set_evidence(&mut self, device: &str, evidence: Vec<Evidence>) -> bool {
        let Some(input) = self.device_inputs.get(device).copied() else {
            return false;
        };
        input.set_evidence(&mut self.db).to(evidence);
        true
    }

    /// Recognises every device on all cores, each thread on its own handle to the database:
    /// the results land in salsa's memo, so the queries that read them afterwards (in device
    /// order, on this thread) find them computed. Results do not depend on which thread ran.
    fn recognize_all(&self) {
        let estate = self.estate;
        parallel::map_with(
            estate.devices(&self.db),
            RECOGNITION_BATCH,
            || self.db.clone(),
            |db, device| {
                device_recognition(db, estate, *device);
            },
        );
    }

    /// Parses every rule file on all cores, as [`Workspace::recognize_all`] recognises devices,
    /// so that compiling finds them parsed.
    fn parse_all(&self) {
        parallel::map_with(
            self.estate.rules(&self.db).files(&self.db),
            1,
            || self.db.clone(),
            |db, file| {
                parsed(db, *file);
            },
        );
    }

    /// Every device with its evidence and recognition results, in device-id order.
    pub fn recognition(&self) -> Vec<DeviceView<'_>> {
        self.recognize_all();
        self.estate
            .devices(&self.db)
            .iter()
            .map(|d| DeviceView {
                device: d.device(&self.db),
                evidence: d.evidence(&self.db),
                recognition: device_recognition(&self.db, self.estate, *d),
            })
            .collect()
    }

    pub fn assessments(&self) -> &[Assessment] {
        self.recognize_all();
        assessments(&self.db, self.estate)
    }

    pub fn positions(&self) -> &[Position] {
        self.recognize_all();
        positions(&self.db, self.estate)
    }

    pub fn families(&self) -> &[Family] {
        families(&self.db, self.estate)
    }

    pub fn recognizer(&self) -> &Recognizer {
        self.parse_all();
        recognizer(&self.db, self.estate.rules(&self.db))
    }

    /// The assessment rows of one of seed 003's three views, in report order; `None` when
    /// the estate has no such subject. See [`Subject`] for what each view holds. The license
    /// view is limited to the devices and users linked to the license; `all` lifts the limit,
    /// and [`Explained::left_out`] counts the rows the limit left out.
    pub fn explain(&self, subject: Subject<'_>, all: bool) -> Option<Explained<'_>> {
        let devices = devices(&self.db, self.estate);
        let known = match subject {
            Subject::Device(d) => devices.contains_key(d),
            Subject::License(l) => self.positions().iter().any(|p| p.license == l),
            Subject::User(u) => users(&self.db, self.estate).contains_key(u),
        };
        if !known {
            return None;
        }
        let rows = self.assessments();
        let (shown, left_out): (Vec<&Assessment>, usize) = match subject {
            Subject::Device(d) => (
                rows.iter()
                    .filter(|a| a.device.as_deref() == Some(d))
                    .collect(),
                0,
            ),
            Subject::User(u) => {
                let on_device = |a: &Assessment| {
                    a.device
                        .as_deref()
                        .and_then(|d| devices.get(d))
                        .is_some_and(|d| {
                            d.assigned_user.as_deref() == Some(u)
                                || d.calculated_user.as_deref() == Some(u)
                        })
                };
                (
                    rows.iter()
                        .filter(|a| a.user.as_deref() == Some(u) || on_device(a))
                        .collect(),
                    0,
                )
            }
            Subject::License(l) => {
                let own = || rows.iter().filter(|a| a.license == l);
                let applications: BTreeSet<&str> =
                    own().filter_map(|a| a.application.as_deref()).collect();
                // Linked: consuming from the license, or allocated or exempted to it.
                let linked = |a: &&Assessment| {
                    a.outcome == Outcome::Consumed
                        || a.allocation.is_some()
                        || a.exemption.is_some()
                };
                let linked_devices: BTreeSet<&str> = own()
                    .filter(linked)
                    .filter_map(|a| a.device.as_deref())
                    .collect();
                let linked_users: BTreeSet<&str> = own()
                    .filter(linked)
                    .filter_map(|a| a.user.as_deref())
                    .collect();
                let related: Vec<&Assessment> = rows
                    .iter()
                    .filter(|a| {
                        a.license == l
                            || a.application
                                .as_deref()
                                .is_some_and(|app| applications.contains(app))
                    })
                    .collect();
                let total = related.len();
                let shown: Vec<&Assessment> = if all {
                    related
                } else {
                    related
                        .into_iter()
                        .filter(|a| {
                            a.device
                                .as_deref()
                                .is_some_and(|d| linked_devices.contains(d))
                                || a.user.as_deref().is_some_and(|u| linked_users.contains(u))
                        })
                        .collect()
                };
                let left_out = total - shown.len();
                (shown, left_out)
            }
        };
        Some(Explained {
            rows: shown,
            left_out,
        })
    }
}

/// The rows of one `explain` view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained<'a> {
    /// In report order: by license, device, application, then user.
    pub rows: Vec<&'a Assessment>,
    /// How many rows the view's limit left out (only the license view has one).
    pub left_out: usize,
}

/// What `explain` is asked about: one of seed 003's three views.
///
/// - **License**: the rows of every license covering the license's applications, for the
///   devices and users linked to the license (consuming from it, allocated or exempted to it);
///   a device that only considered the license is left out, to keep the view manageable.
/// - **Device**: every row of the device's installations (and allocations), for every
///   license assessed for them.
/// - **User**: the rows of the user's user-counted units, and of every installation on a
///   device whose assigned or calculated user the user is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    Device(&'a str),
    License(&'a str),
    User(&'a str),
}

impl<'a> Subject<'a> {
    /// "device", "license" or "user".
    pub fn kind(self) -> &'static str {
        match self {
            Self::Device(_) => "device",
            Self::License(_) => "license",
            Self::User(_) => "user",
        }
    }

    pub fn id(self) -> &'a str {
        match self {
            Self::Device(id) | Self::License(id) | Self::User(id) => id,
        }
    }
}
