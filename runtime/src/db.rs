//! The incremental query graph: salsa inputs (one per rule file, device, user, license and
//! application) and the tracked queries parse → check → recognise per device → reconcile per
//! license family → positions.
//!
//! Rules are parsed by runs of declarations and checked per file: each file's declared names
//! make the name table, and a file's check reads the other files only through it and the
//! projections of the declarations it names, so an edit that renames nothing checks the edited
//! file alone. The checks across files (duplicates, layering, versions) are queries of their
//! own, and the whole pack ([`compiled`]) merges the files' results.
//!
//! Every query is a pure function of its inputs, so after any edit the results equal a run from
//! scratch. Derived values carry no source positions, so an edit that changes nothing
//! downstream stops early (salsa's backdating). The inputs are set by
//! [`crate::workspace::Workspace`], which applies changes by identity and keeps the
//! application → installations index ([`Installed`]) up to date by difference: a device whose
//! evidence changed re-runs its own recognition, and reconciliation re-runs only for the
//! families whose installations moved.
//!
//! Purchases reach reconciliation only as each license's entitlements ([`license_entitled`],
//! [`family_entitled`]), apart from the family input the walk's structure reads. A family's
//! walk records the range of entitlements over which it decides the same, and a purchase edit
//! whose new entitlements stay in it reuses the walk ([`family_consumption`], [`Walks`]).
//!
//! Durability keeps the checks cheap: the standard packs, the list of rule files, device, user
//! and license records and the directories are `HIGH`; purchases, usage rows, the application
//! → installations index and the user's own rule files are `MEDIUM`; evidence alone is `LOW`.
//! After an evidence edit that moves no installation, salsa re-validates every query above the
//! index, the positions included, in constant time; after a purchase edit, it walks the
//! dependencies of the queries that read purchases or the index (the families' inputs, walks
//! and positions) and re-validates those that read only records and rules (the record shards,
//! the families, the licenses' terms) in constant time.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};

use jiff::civil::Date;
use rust_decimal::Decimal;
use rustc_hash::{FxBuildHasher, FxHashMap};
use tally_compiler::check::{
    self, ApplicationVersion, DeclAt, Declarations, DeclaredName, FileCheck, NameTable, Projection,
    VersionContext, VersionFacts,
};
use tally_compiler::diagnostics::{self, Diagnostic, SourceFile};
use tally_compiler::ir::{CompiledPack, Counts, CoverTarget, CoveredVia};
use tally_compiler::syntax::ast::DeclKind;
use tally_compiler::syntax::{ParsedRun, is_rule_file, split};
use tally_compiler::{Compiled, ParsedFile};

use crate::estate::{
    AllocationTarget, Device, DeviceEvidence, License, Purchase, Usage, User, VirtualCount,
};
use crate::position::{self, Position};
use crate::recognize::{DeviceRecognition, Installation, Recognizer, recognize_device};
use crate::reconcile::{
    self, Assessment, Consumption, FamilyInput, FamilyOutcome, LicenseTerms, reconcile_family,
};

/// The salsa database. Cloning it is cheap and gives a snapshot for another thread.
#[salsa::db]
#[derive(Clone, Default)]
pub struct Database {
    storage: salsa::Storage<Self>,
    /// The names of the queries executed, when logging is on (for incrementality tests).
    log: Option<Arc<Mutex<Vec<String>>>>,
    /// The last walk of each family, shared by every clone (see [`family_consumption`]).
    walks: Arc<Walks>,
}

#[salsa::db]
impl salsa::Database for Database {}

/// What the queries that reuse work need of the database beyond salsa's storage.
#[salsa::db]
pub trait Db: salsa::Database {
    /// The last walk of each family.
    fn walks(&self) -> &Walks;
    /// Records, when logging is on, that `what` ran (a walk, which is not a query of its own).
    fn note(&self, what: &str);
}

#[salsa::db]
impl Db for Database {
    fn walks(&self) -> &Walks {
        &self.walks
    }

    fn note(&self, what: &str) {
        if let Some(log) = &self.log
            && let Ok(mut log) = log.lock()
        {
            log.push(what.to_string());
        }
    }
}

/// The last walk of each family for its positions: what it walked, and what it found with the
/// range of entitlements over which it decides the same. One entry per family key.
///
/// [`family_consumption`] stays a pure function of its inputs: it returns a kept result only
/// when the family input is the one that walk read and every license's entitlements lie in the
/// range that walk recorded, where a walk from scratch provably decides everything the same
/// and finds the same totals (see [`reconcile::EntitledRange`]). The cache only skips work it
/// has proved redundant, and salsa still records the query's reads of the family input and
/// its entitlements as ever.
#[derive(Default)]
pub struct Walks {
    by_family: Mutex<HashMap<String, Walk>>,
}

/// One family's last walk.
struct Walk {
    input: Arc<FamilyInput>,
    consumption: Arc<Consumption>,
}

impl Walks {
    /// The totals of the last walk of family `key`, when a walk of `input` with `entitled`
    /// would find them again.
    fn reuse(
        &self,
        key: &str,
        input: &Arc<FamilyInput>,
        entitled: &[Decimal],
    ) -> Option<BTreeMap<String, Option<Decimal>>> {
        let (kept, consumption) = {
            let by_family = self.by_family.lock().ok()?;
            let walk = by_family.get(key)?;
            (Arc::clone(&walk.input), Arc::clone(&walk.consumption))
        };
        if !consumption.holds_for(entitled) {
            return None;
        }
        if !Arc::ptr_eq(&kept, input) {
            // The input was computed again (in the same batch as an entitlement change, say)
            // and may still be equal: then the walk holds, and reads the new one from now on.
            if *kept != **input {
                return None;
            }
            if let Ok(mut by_family) = self.by_family.lock()
                && let Some(walk) = by_family.get_mut(key)
            {
                walk.input = Arc::clone(input);
            }
        }
        Some(consumption.totals.clone())
    }

    /// Keeps a family's walk, replacing the one before. Entries whose input no query holds
    /// any longer (a family gone or walked on other licenses) are dropped.
    fn keep(&self, key: String, input: &Arc<FamilyInput>, consumption: Consumption) {
        let Ok(mut by_family) = self.by_family.lock() else {
            return;
        };
        by_family.retain(|k, walk| *k == key || Arc::strong_count(&walk.input) > 1);
        by_family.insert(
            key,
            Walk {
                input: Arc::clone(input),
                consumption: Arc::new(consumption),
            },
        );
    }
}

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
            walks: Arc::default(),
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
    /// Whether it is parsed by runs of declarations ([`parsed_run`]): for files edited in
    /// place, where an edit then parses one run again. Parsing a file whole holds half the
    /// memory, which matters more to a run of the command line over a large pack.
    #[returns(copy)]
    pub by_runs: bool,
}

/// The loaded rule files, sorted by path.
#[salsa::input]
pub struct Rules {
    #[returns(ref)]
    pub files: Vec<RuleFile>,
}

/// One device: its record (shared with the family inputs that read it) and, separately, its
/// evidence rows in file order.
#[salsa::input]
pub struct DeviceInput {
    #[returns(ref)]
    pub device: Arc<Device>,
    #[returns(ref)]
    pub evidence: DeviceEvidence,
}

/// One user's record, shared with the family inputs that read it.
#[salsa::input]
pub struct UserInput {
    #[returns(ref)]
    pub user: Arc<User>,
}

/// One license record and its purchases, sorted by purchase id.
#[salsa::input]
pub struct LicenseInput {
    #[returns(ref)]
    pub license: License,
    #[returns(ref)]
    pub purchases: Vec<Purchase>,
}

/// The installations of one application, sorted by device: the index that the workspace
/// updates by difference when a device's recognition changes.
#[salsa::input]
pub struct Installed {
    #[returns(ref)]
    pub installations: Vec<Arc<Installation>>,
}

/// The estate and the rules it is reconciled with. The directories map ids to inputs; they
/// change only when something is added or removed.
#[salsa::input]
pub struct EstateInput {
    #[returns(copy)]
    pub rules: Rules,
    #[returns(ref)]
    pub devices: BTreeMap<String, DeviceInput>,
    #[returns(ref)]
    pub users: BTreeMap<String, UserInput>,
    #[returns(ref)]
    pub licenses: BTreeMap<String, LicenseInput>,
    /// One entry for every application the packs declare.
    #[returns(ref)]
    pub installed: BTreeMap<String, Installed>,
    /// License-server usage snapshots, by application then moment.
    #[returns(ref)]
    pub usage: Vec<Usage>,
    /// The day purchases are judged current on.
    #[returns(copy)]
    pub as_of: Date,
}

/// A rule file's syntax tree. A file parsed by runs of declarations ([`parsed_run`]) is
/// parsed again only in the run an edit is in (in a generated file of 1.7 MB, some thirty
/// declarations instead of five thousand).
#[salsa::tracked(returns(ref))]
pub fn parsed(db: &dyn salsa::Database, file: RuleFile) -> ParsedFile {
    let source = file.source(db);
    if !file.by_runs(db) || !is_rule_file(&source.path) {
        return tally_compiler::parse_file(Arc::clone(source));
    }
    let chunks = split::split(&source.text);
    let runs: Vec<(usize, &ParsedRun)> = split::runs(&source.text, &chunks)
        .into_iter()
        .filter_map(|range| {
            let (start, text, relative) = split::run(&source.text, &chunks, range)?;
            let run = DeclarationRun::new(db, text.to_string(), relative);
            Some((start, parsed_run(db, run)))
        })
        .collect();
    tally_compiler::syntax::assemble(Arc::clone(source), runs)
}

/// The text of a run of declarations and where each is in it: interned, so that a run whose
/// text an edit left alone is parsed once.
#[salsa::interned]
pub struct DeclarationRun<'db> {
    #[returns(ref)]
    pub text: String,
    #[returns(ref)]
    pub chunks: Vec<split::Chunk>,
}

/// A run of declarations parsed on its own, positions counted from the run's start.
#[salsa::tracked(returns(ref))]
pub fn parsed_run<'db>(db: &'db dyn salsa::Database, run: DeclarationRun<'db>) -> ParsedRun {
    tally_compiler::syntax::parse_run(run.text(db), run.chunks(db))
}

/// A rule file's path: unchanged by edits to its text.
#[salsa::tracked(returns(ref))]
pub fn file_path(db: &dyn salsa::Database, file: RuleFile) -> String {
    file.source(db).path.clone()
}

/// A file's declarations as the name table sees them (kind, name, modifier): unchanged by an
/// edit that renames nothing, which then checks no other file again.
#[salsa::tracked(returns(ref))]
pub fn declared_names(db: &dyn salsa::Database, file: RuleFile) -> Vec<DeclaredName> {
    check::declared_names(parsed(db, file))
}

/// What other files' checks read of each declaration of a file (a product's editions, a
/// SKU's rights, a table's keys).
#[salsa::tracked(returns(ref))]
pub fn projections(db: &dyn salsa::Database, file: RuleFile) -> Vec<Projection> {
    check::projections(parsed(db, file))
}

/// Every name of the rules: which declaration is in force, replaced or extended.
#[salsa::tracked(returns(ref))]
pub fn name_table(db: &dyn salsa::Database, rules: Rules) -> NameTable {
    let files: Vec<(&str, &[DeclaredName])> = rules
        .files(db)
        .iter()
        .map(|f| {
            (
                file_path(db, *f).as_str(),
                declared_names(db, *f).as_slice(),
            )
        })
        .collect();
    NameTable::new(&files)
}

/// The rule files by path.
#[salsa::tracked(returns(ref))]
pub fn files_by_path(db: &dyn salsa::Database, rules: Rules) -> BTreeMap<String, RuleFile> {
    rules
        .files(db)
        .iter()
        .map(|f| (file_path(db, *f).clone(), *f))
        .collect()
}

/// The other files' declarations as one file's checks read them: through the name table and
/// the projections of the declarations it names, so that the check depends on those alone.
struct QueryDeclarations<'db> {
    db: &'db dyn salsa::Database,
    rules: Rules,
    table: &'db NameTable,
}

impl Declarations for QueryDeclarations<'_> {
    fn names(&self) -> &NameTable {
        self.table
    }

    fn projection(&self, at: DeclAt) -> Projection {
        self.rules
            .files(self.db)
            .get(at.file)
            .and_then(|f| projections(self.db, *f).get(at.decl))
            .cloned()
            .unwrap_or_default()
    }

    fn script(&self, path: &str) -> Option<Arc<SourceFile>> {
        if is_rule_file(path) {
            return None;
        }
        let file = files_by_path(self.db, self.rules).get(path)?;
        Some(Arc::clone(file.source(self.db)))
    }
}

/// A file's position among the rules' files (`usize::MAX` for a file not among them).
fn position_of(db: &dyn salsa::Database, rules: Rules, file: RuleFile) -> usize {
    rules
        .files(db)
        .iter()
        .position(|f| *f == file)
        .unwrap_or(usize::MAX)
}

/// One file checked and its declarations lowered: it reads the file's syntax tree, the name
/// table and the projections of the declarations it names, so an edit elsewhere that changes
/// none of them does not run it again.
#[salsa::tracked(returns(ref))]
pub fn file_check(db: &dyn salsa::Database, file: RuleFile, rules: Rules) -> FileCheck {
    let declarations = QueryDeclarations {
        db,
        rules,
        table: name_table(db, rules),
    };
    check::check_file(
        parsed(db, file),
        position_of(db, rules, file),
        &declarations,
    )
}

/// The product and version of each application a file declares (in force).
#[salsa::tracked(returns(ref))]
pub fn application_versions(
    db: &dyn salsa::Database,
    file: RuleFile,
    rules: Rules,
) -> BTreeMap<String, ApplicationVersion> {
    file_check(db, file, rules)
        .pack
        .applications
        .values()
        .map(|a| (a.id.clone(), (a.product.clone(), a.version.clone())))
        .collect()
}

/// What the version checks read of a file.
#[salsa::tracked(returns(ref))]
pub fn version_facts(db: &dyn salsa::Database, file: RuleFile, rules: Rules) -> VersionFacts {
    VersionFacts::of(file_check(db, file, rules))
}

/// What every file's version checks read: products' versions and ordered rights.
#[salsa::tracked(returns(ref))]
pub fn version_context(db: &dyn salsa::Database, rules: Rules) -> VersionContext {
    let files = rules.files(db);
    let facts: Vec<&VersionFacts> = files.iter().map(|f| version_facts(db, *f, rules)).collect();
    let table = name_table(db, rules);
    VersionContext::new(&facts, |app| {
        let at = table.lookup(DeclKind::Application, app)?;
        let file = files.get(at.file)?;
        application_versions(db, *file, rules).get(app).cloned()
    })
}

/// The version problems of a file's applications (T0121, T0118).
#[salsa::tracked(returns(ref))]
pub fn file_version_diagnostics(
    db: &dyn salsa::Database,
    file: RuleFile,
    rules: Rules,
) -> Vec<Diagnostic> {
    let check = file_check(db, file, rules);
    if check.pack.applications.is_empty() {
        return Vec::new();
    }
    check::version_diagnostics(
        name_table(db, rules),
        position_of(db, rules, file),
        parsed(db, file),
        check,
        version_context(db, rules),
    )
}

/// Names declared twice and layering that cannot apply, in every file.
#[salsa::tracked(returns(ref))]
pub fn name_diagnostics(db: &dyn salsa::Database, rules: Rules) -> Vec<Diagnostic> {
    let table = name_table(db, rules);
    let files = rules.files(db);
    check::name_diagnostics(table, |i| files.get(i).map(|f| parsed(db, *f)))
}

/// The diagnostics a file's checks report about other files (a metric's script that does not
/// compile is reported in the script).
#[salsa::tracked(returns(ref))]
pub fn reported_elsewhere(
    db: &dyn salsa::Database,
    file: RuleFile,
    rules: Rules,
) -> Vec<Diagnostic> {
    let path = file_path(db, file);
    file_check(db, file, rules)
        .diagnostics
        .iter()
        .filter(|d| d.source.path != *path)
        .cloned()
        .collect()
}

/// Every diagnostic a file's checks report about another file, by that file's path.
#[salsa::tracked(returns(ref))]
pub fn diagnostics_from_elsewhere(
    db: &dyn salsa::Database,
    rules: Rules,
) -> BTreeMap<String, Vec<Diagnostic>> {
    let mut by_path: BTreeMap<String, Vec<Diagnostic>> = BTreeMap::new();
    for file in rules.files(db) {
        for diagnostic in reported_elsewhere(db, *file, rules) {
            by_path
                .entry(diagnostic.source.path.clone())
                .or_default()
                .push(diagnostic.clone());
        }
    }
    by_path
}

/// Every diagnostic about one file, sorted as the command line prints them: its syntax errors,
/// its checks, and what the cross-file checks report in it. The union over the files, in path
/// order, is [`compiled`]'s diagnostics.
#[salsa::tracked(returns(ref))]
pub fn file_diagnostics(db: &dyn salsa::Database, file: RuleFile, rules: Rules) -> Vec<Diagnostic> {
    let path = file_path(db, file);
    let mut diagnostics: Vec<Diagnostic> = file_check(db, file, rules)
        .diagnostics
        .iter()
        .chain(file_version_diagnostics(db, file, rules))
        .chain(name_diagnostics(db, rules))
        .chain(
            diagnostics_from_elsewhere(db, rules)
                .get(path)
                .into_iter()
                .flatten(),
        )
        .filter(|d| d.source.path == *path)
        .cloned()
        .collect();
    diagnostics::sort(&mut diagnostics);
    diagnostics
}

/// Whether any file has an error.
#[salsa::tracked(returns(copy))]
pub fn has_errors(db: &dyn salsa::Database, rules: Rules) -> bool {
    rules.files(db).iter().any(|f| {
        file_diagnostics(db, *f, rules)
            .iter()
            .any(Diagnostic::is_error)
    })
}

/// The whole pack: every file's checks merged (see [`check::merge`]).
#[salsa::tracked(returns(ref))]
pub fn compiled(db: &dyn salsa::Database, rules: Rules) -> Compiled {
    let files = rules.files(db);
    let checks: Vec<&FileCheck> = files.iter().map(|f| file_check(db, *f, rules)).collect();
    let mut diagnostics = name_diagnostics(db, rules).clone();
    for file in files {
        diagnostics.extend(file_version_diagnostics(db, *file, rules).iter().cloned());
    }
    check::merge(name_table(db, rules), checks.iter().copied(), diagnostics)
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
    rules: Rules,
    device: DeviceInput,
) -> DeviceRecognition {
    recognize_device(
        recognizer(db, rules),
        &device.device(db).id,
        device.evidence(db),
    )
}

/// How many shards device and user records are read through.
const SHARDS: u32 = 256;

/// The shard a device or user id falls in: a stable hash of the id.
fn shard_of(id: &str) -> u32 {
    let hash = FxBuildHasher.hash_one(id);
    // The remainder is below `SHARDS`, so it fits.
    u32::try_from(hash % u64::from(SHARDS)).unwrap_or(0)
}

/// A directory's inputs, each in the shard of its id.
fn into_shards<T: Copy>(directory: &BTreeMap<String, T>) -> Vec<Vec<T>> {
    let mut shards = vec![Vec::new(); SHARDS as usize];
    for (id, input) in directory {
        if let Some(shard) = shards.get_mut(shard_of(id) as usize) {
            shard.push(*input);
        }
    }
    shards
}

/// The device inputs of each shard, from the directory alone.
#[salsa::tracked(returns(ref))]
pub fn device_shards(db: &dyn salsa::Database, estate: EstateInput) -> Vec<Vec<DeviceInput>> {
    into_shards(estate.devices(db))
}

/// The device records of one shard, by id. Family inputs and the indexes over devices read
/// records through these, so each depends on a few hundred shards rather than on one field of
/// every device: after an edit, salsa checks those few hundred (each in constant time, as
/// records are `MEDIUM`) instead of a hundred thousand fields per family.
#[salsa::tracked(returns(ref))]
pub fn device_records(
    db: &dyn salsa::Database,
    estate: EstateInput,
    shard: u32,
) -> FxHashMap<String, Arc<Device>> {
    device_shards(db, estate)
        .get(shard as usize)
        .into_iter()
        .flatten()
        .map(|input| {
            let device = input.device(db);
            (device.id.clone(), Arc::clone(device))
        })
        .collect()
}

/// The user inputs of each shard, from the directory alone.
#[salsa::tracked(returns(ref))]
pub fn user_shards(db: &dyn salsa::Database, estate: EstateInput) -> Vec<Vec<UserInput>> {
    into_shards(estate.users(db))
}

/// The user records of one shard, by id (see [`device_records`]).
#[salsa::tracked(returns(ref))]
pub fn user_records(
    db: &dyn salsa::Database,
    estate: EstateInput,
    shard: u32,
) -> FxHashMap<String, Arc<User>> {
    user_shards(db, estate)
        .get(shard as usize)
        .into_iter()
        .flatten()
        .map(|input| {
            let user = input.user(db);
            (user.id.clone(), Arc::clone(user))
        })
        .collect()
}

/// Device and user records by id, read through their shards as they are asked for.
struct Records<'db> {
    db: &'db dyn salsa::Database,
    estate: EstateInput,
    devices: Vec<Option<&'db FxHashMap<String, Arc<Device>>>>,
    users: Vec<Option<&'db FxHashMap<String, Arc<User>>>>,
}

impl<'db> Records<'db> {
    fn new(db: &'db dyn salsa::Database, estate: EstateInput) -> Self {
        Self {
            db,
            estate,
            devices: vec![None; SHARDS as usize],
            users: vec![None; SHARDS as usize],
        }
    }

    fn device(&mut self, id: &str) -> Option<&'db Arc<Device>> {
        let (db, estate, shard) = (self.db, self.estate, shard_of(id));
        let slot = self.devices.get_mut(shard as usize)?;
        slot.get_or_insert_with(|| device_records(db, estate, shard))
            .get(id)
    }

    fn user(&mut self, id: &str) -> Option<&'db Arc<User>> {
        let (db, estate, shard) = (self.db, self.estate, shard_of(id));
        let slot = self.users.get_mut(shard as usize)?;
        slot.get_or_insert_with(|| user_records(db, estate, shard))
            .get(id)
    }

    /// Every device record, shard by shard.
    fn all_devices(&mut self) -> impl Iterator<Item = &'db Arc<Device>> {
        let (db, estate) = (self.db, self.estate);
        (0..SHARDS).flat_map(move |shard| device_records(db, estate, shard).values())
    }
}

/// The devices whose assigned or calculated user each user is, sorted (records only).
#[salsa::tracked(returns(ref))]
pub fn devices_by_user(
    db: &dyn salsa::Database,
    estate: EstateInput,
) -> BTreeMap<String, Vec<String>> {
    let mut index: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for device in Records::new(db, estate).all_devices() {
        for user in [&device.assigned_user, &device.calculated_user]
            .into_iter()
            .flatten()
        {
            index
                .entry(user.clone())
                .or_default()
                .push(device.id.clone());
        }
    }
    for list in index.values_mut() {
        list.sort_unstable();
        list.dedup();
    }
    index
}

/// The devices of each cluster, sorted (records only).
#[salsa::tracked(returns(ref))]
pub fn devices_by_cluster(
    db: &dyn salsa::Database,
    estate: EstateInput,
) -> BTreeMap<String, Vec<String>> {
    let mut index: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for device in Records::new(db, estate).all_devices() {
        if let Some(cluster) = &device.cluster {
            index
                .entry(cluster.clone())
                .or_default()
                .push(device.id.clone());
        }
    }
    for list in index.values_mut() {
        list.sort_unstable();
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

/// The applications a license covers and how, from its record and the rules alone: families
/// are built from these, so purchases and inventory never move them.
#[salsa::tracked(returns(ref))]
pub fn license_covers(
    db: &dyn salsa::Database,
    rules: Rules,
    license: LicenseInput,
) -> BTreeMap<String, tally_compiler::ir::Covered> {
    let pack = pack(db, rules);
    let license = license.license(db);
    let mut covers = BTreeMap::new();
    let Some(rights) = pack.rights.get(&license.rights) else {
        return covers;
    };
    let by_product = applications_by_product(db, rules);
    for member in &rights.members {
        let product = match &member.target {
            CoverTarget::Product(p) => Some(p.as_str()),
            CoverTarget::Application(a) => pack.applications.get(a).map(|a| a.product.as_str()),
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
    covers
}

/// A license with its rules applied: metric and coverage. `None` when its metric or rights are
/// not declared. Its entitlements are computed apart ([`license_entitled`]), so that a
/// purchase edit leaves the terms, and the family input built from them, alone.
#[salsa::tracked(returns(ref))]
pub fn license_terms(
    db: &dyn salsa::Database,
    estate: EstateInput,
    input: LicenseInput,
) -> Option<LicenseTerms> {
    let rules = estate.rules(db);
    let pack = pack(db, rules);
    let license = input.license(db);
    let metric = pack.metrics.get(&license.metric)?;
    let rights = pack.rights.get(&license.rights)?;
    let covers = license_covers(db, rules, input).clone();
    let as_of = estate.as_of(db);
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
                .filter(|(_, c)| c.via == CoveredVia::Upgrade)
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
        covers,
        out_of_term: license.out_of_term(as_of),
        upgrade_ended,
        required_on: BTreeSet::new(),
    })
}

/// A license's entitlements: its current purchases plus its extra entitlements. Import
/// refuses entitlements too large to add up (T0207); for an estate built otherwise they count
/// as the largest decimal, so reconciliation goes on and the license's position says its
/// entitlements are too large.
#[salsa::tracked(returns(copy))]
pub fn license_entitled(
    db: &dyn salsa::Database,
    estate: EstateInput,
    input: LicenseInput,
) -> Decimal {
    let own: Vec<&Purchase> = input.purchases(db).iter().collect();
    position::purchased(&own, estate.as_of(db))
        .and_then(|bought| bought.checked_add(input.license(db).extra_entitlements))
        .unwrap_or(Decimal::MAX)
}

/// A connected group of licenses and the applications they cover.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Family {
    /// Sorted license ids; the first is the family's key.
    pub licenses: Vec<String>,
    /// Sorted application ids.
    pub applications: Vec<String>,
}

impl Family {
    /// The family's stable id: its first license id.
    pub fn key(&self) -> &str {
        self.licenses.first().map_or("", String::as_str)
    }
}

/// The license families by key, from the rules and license records alone (not from inventory
/// or purchases, so that their edits leave them alone). Licenses whose metric or rights are not
/// declared belong to no family.
#[salsa::tracked(returns(ref))]
pub fn families(db: &dyn salsa::Database, estate: EstateInput) -> BTreeMap<String, Family> {
    let rules = estate.rules(db);
    let pack = pack(db, rules);
    // In license-id order, as the directory is sorted.
    let members: Vec<(&String, &BTreeMap<String, tally_compiler::ir::Covered>)> = estate
        .licenses(db)
        .iter()
        .filter(|(_, input)| {
            let license = input.license(db);
            pack.metrics.contains_key(&license.metric) && pack.rights.contains_key(&license.rights)
        })
        .map(|(id, input)| (id, license_covers(db, rules, *input)))
        .collect();
    // Union-find over license indexes, joined through shared applications.
    let mut parent: Vec<usize> = (0..members.len()).collect();
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
    for (i, (_, covers)) in members.iter().enumerate() {
        for app in covers.keys() {
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
    let mut groups: BTreeMap<usize, (Vec<String>, BTreeSet<String>)> = BTreeMap::new();
    for (i, (id, covers)) in members.iter().enumerate() {
        let group = groups.entry(root(&mut parent, i)).or_default();
        group.0.push((*id).clone());
        group.1.extend(covers.keys().cloned());
    }
    groups
        .into_values()
        .map(|(licenses, applications)| {
            let family = Family {
                licenses,
                applications: applications.into_iter().collect(),
            };
            (family.key().to_string(), family)
        })
        .collect()
}

/// The family with this key, if there is one: unchanged (so its readers are not run again)
/// when other families change.
#[salsa::tracked(returns(ref))]
pub fn family(db: &dyn salsa::Database, estate: EstateInput, key: String) -> Option<Family> {
    families(db, estate).get(&key).cloned()
}

/// The family of each license, by key.
#[salsa::tracked(returns(ref))]
pub fn family_of_license(
    db: &dyn salsa::Database,
    estate: EstateInput,
) -> BTreeMap<String, String> {
    families(db, estate)
        .iter()
        .flat_map(|(key, f)| f.licenses.iter().map(|l| (l.clone(), key.clone())))
        .collect()
}

/// The installations of one application (none when the packs do not declare it).
fn installations_of<'db>(
    db: &'db dyn salsa::Database,
    estate: EstateInput,
    application: &str,
) -> &'db [Arc<Installation>] {
    estate
        .installed(db)
        .get(application)
        .map_or(&[][..], |i| i.installations(db).as_slice())
}

/// Everything the reconciliation of a family reads, cut out of the whole estate, except the
/// licenses' entitlements ([`family_entitled`]): purchases never change it. Shared, so that
/// [`family_consumption`] knows the input its last walk read.
#[salsa::tracked(returns(ref))]
pub fn family_input(
    db: &dyn salsa::Database,
    estate: EstateInput,
    key: String,
) -> Arc<FamilyInput> {
    let Some(family) = family(db, estate, key) else {
        return Arc::default();
    };
    let directory = estate.licenses(db);
    let mut licenses: Vec<LicenseTerms> = family
        .licenses
        .iter()
        .filter_map(|id| directory.get(id))
        .filter_map(|l| license_terms(db, estate, *l).clone())
        .collect();
    // A license that needs another product on the same device (an Oracle option and its
    // database) reads where that product is installed, whichever family it belongs to.
    let rules = estate.rules(db);
    for terms in &mut licenses {
        if let Some(needed) = &terms.license.restrictions.requires_installed {
            let of_product = applications_by_product(db, rules).get(needed);
            terms.required_on = std::iter::once(needed)
                .chain(of_product.into_iter().flatten())
                .flat_map(|app| installations_of(db, estate, app))
                .map(|x| x.device.to_string())
                .collect();
        }
    }
    let mut installations: Vec<Arc<Installation>> = family
        .applications
        .iter()
        .flat_map(|a| installations_of(db, estate, a))
        .cloned()
        .collect();
    installations.sort_by(|a, b| (&a.device, &a.application).cmp(&(&b.device, &b.application)));
    let mut wanted: BTreeSet<&str> = installations.iter().map(|i| i.device.as_ref()).collect();
    let mut records = Records::new(db, estate);
    let by_user = devices_by_user(db, estate);
    let targets = || {
        licenses.iter().flat_map(|t| {
            t.license
                .allocations
                .iter()
                .map(|a| &a.target)
                .chain(t.license.exemptions.iter().map(|e| &e.target))
        })
    };
    for target in targets() {
        match target {
            AllocationTarget::Device(d) => {
                wanted.insert(d);
            }
            AllocationTarget::User(u) => {
                // The devices whose primary user this is.
                for d in by_user.get(u).into_iter().flatten() {
                    if records
                        .device(d)
                        .is_some_and(|d| d.primary_user() == Some(u.as_str()))
                    {
                        wanted.insert(d);
                    }
                }
            }
        }
    }
    // Metrics that count hosts or clusters read the hosts of VMs and the hosts that share
    // their cluster.
    let mut hosts: Vec<&str> = Vec::new();
    for d in &wanted {
        if let Some(host) = records.device(d).and_then(|d| d.host.as_deref()) {
            hosts.push(host);
        }
    }
    wanted.extend(hosts);
    let mut clusters: BTreeSet<&str> = BTreeSet::new();
    for d in &wanted {
        if let Some(cluster) = records.device(d).and_then(|d| d.cluster.as_deref()) {
            clusters.insert(cluster);
        }
    }
    let by_cluster = devices_by_cluster(db, estate);
    for cluster in clusters {
        wanted.extend(
            by_cluster
                .get(cluster)
                .into_iter()
                .flatten()
                .map(String::as_str),
        );
    }
    let devices: BTreeMap<String, Arc<Device>> = wanted
        .into_iter()
        .filter_map(|d| Some((d.to_string(), Arc::clone(records.device(d)?))))
        .collect();
    // Only the users of these devices, and users allocated directly, can hold a unit.
    let allocated = targets().filter_map(|target| match target {
        AllocationTarget::User(u) => Some(u.as_str()),
        AllocationTarget::Device(_) => None,
    });
    let users = devices
        .values()
        .flat_map(|d| [d.assigned_user.as_deref(), d.calculated_user.as_deref()])
        .flatten()
        .chain(allocated)
        .filter_map(|u| Some((u.to_string(), Arc::clone(records.user(u)?))))
        .collect();
    let pack = pack(db, rules);
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
    Arc::new(FamilyInput {
        licenses,
        installations,
        devices,
        users,
        tables,
        usage,
        as_of: estate.as_of(db),
    })
}

/// The entitlements of a family's licenses, in the order of its input's licenses.
#[salsa::tracked(returns(ref))]
pub fn family_entitled(db: &dyn salsa::Database, estate: EstateInput, key: String) -> Vec<Decimal> {
    let directory = estate.licenses(db);
    family_input(db, estate, key)
        .licenses
        .iter()
        .map(|terms| {
            directory
                .get(&terms.license.id)
                .map_or(Decimal::ZERO, |input| license_entitled(db, estate, *input))
        })
        .collect()
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
pub fn family_outcome(db: &dyn salsa::Database, estate: EstateInput, key: String) -> FamilyOutcome {
    let entitled = family_entitled(db, estate, key.clone());
    reconcile_family(family_input(db, estate, key), entitled)
}

/// The units each license of a family consumes, `None` when they add up to more than a
/// decimal holds: reconciled without building assessment rows, which only `explain` and the
/// row reports read. Unchanged totals stop the update here, so positions are not recomputed
/// for a change that moved no figure.
///
/// When only entitlements changed, and each license's new entitlements lie in the range over
/// which the family's last walk decides the same, that walk's totals are returned without
/// walking again (see [`Walks`]): a purchase edit that moves no decision costs no walk.
#[salsa::tracked(returns(ref))]
pub fn family_consumption(
    db: &dyn Db,
    estate: EstateInput,
    key: String,
) -> BTreeMap<String, Option<Decimal>> {
    let input = family_input(db, estate, key.clone());
    let entitled = family_entitled(db, estate, key.clone());
    if let Some(totals) = db.walks().reuse(&key, input, entitled) {
        return totals;
    }
    db.note("family_walk");
    let consumption = reconcile::family_consumption(input, entitled);
    let totals = consumption.totals.clone();
    db.walks().keep(key, input, consumption);
    totals
}

/// How many shards the positions are computed in.
const POSITION_SHARDS: u32 = 64;

/// The license inputs of each position shard, from the directory alone: consecutive runs of
/// the directory, so that the shards' positions, one after another, are in license-id order.
#[salsa::tracked(returns(ref))]
pub fn license_shards(db: &dyn salsa::Database, estate: EstateInput) -> Vec<Vec<LicenseInput>> {
    let directory = estate.licenses(db);
    let size = directory.len().div_ceil(POSITION_SHARDS as usize).max(1);
    let inputs: Vec<LicenseInput> = directory.values().copied().collect();
    let mut shards: Vec<Vec<LicenseInput>> = inputs.chunks(size).map(<[_]>::to_vec).collect();
    shards.resize(POSITION_SHARDS as usize, Vec::new());
    shards
}

/// One license's position (not a query of its own: see [`position_shard`]).
fn license_position(db: &dyn Db, estate: EstateInput, input: LicenseInput) -> Position {
    let license = input.license(db);
    let used = match family_of_license(db, estate).get(&license.id) {
        Some(key) => family_consumption(db, estate, key.clone())
            .get(&license.id)
            .copied()
            .unwrap_or(Some(Decimal::ZERO)),
        None => Some(Decimal::ZERO),
    };
    let own: Vec<&Purchase> = input.purchases(db).iter().collect();
    let terms = position::terms(license, pack(db, estate.rules(db)));
    position::position(
        license,
        &license.metric,
        &terms,
        &own,
        used,
        estate.as_of(db),
    )
}

/// The positions of one shard's licenses, in license-id order. A purchase edit computes one
/// shard again (a walk that moved a family's figures, the shards of its licenses); and after
/// any edit salsa checks 64 shards, each reading its licenses' records and purchases, rather
/// than a query per license.
#[salsa::tracked(returns(ref))]
pub fn position_shard(db: &dyn Db, estate: EstateInput, shard: u32) -> Vec<Position> {
    license_shards(db, estate)
        .get(shard as usize)
        .into_iter()
        .flatten()
        .map(|input| license_position(db, estate, *input))
        .collect()
}

/// Every license's position, sorted by license id.
#[salsa::tracked(returns(ref))]
pub fn positions(db: &dyn Db, estate: EstateInput) -> Vec<Position> {
    (0..POSITION_SHARDS)
        .flat_map(|shard| position_shard(db, estate, shard).iter().cloned())
        .collect()
}

/// Every assessment row, sorted by license, device, application and user.
#[salsa::tracked(returns(ref))]
pub fn assessments(db: &dyn salsa::Database, estate: EstateInput) -> Vec<Assessment> {
    let mut rows: Vec<Assessment> = families(db, estate)
        .keys()
        .flat_map(|key| {
            family_outcome(db, estate, key.clone())
                .assessments
                .iter()
                .cloned()
        })
        .collect();
    rows.sort_by(Assessment::report_order);
    rows
}
