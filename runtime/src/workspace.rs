//! The workspace: a salsa database loaded with rules and an estate, changed by identity.
//!
//! [`Workspace::apply`] takes [`Change`]s keyed by id (a device's record or evidence, a user, a
//! license, a purchase, a rule file) and sets only the inputs whose values differ, in the
//! manner of rust-analyzer's change application; [`Workspace::load`] diffs a whole imported
//! estate against what is loaded and applies the difference. After each batch the workspace
//! recognises the devices whose evidence (or rules) changed and updates the application →
//! installations index ([`Installed`]) by difference, so one device's edit costs work
//! proportional to that device and the families its installations belong to.

use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use jiff::civil::Date;
use salsa::{Durability, Setter};
use tally_compiler::diagnostics::{Diagnostic, SourceFile};
use tally_compiler::ir::CompiledPack;
use tally_compiler::syntax::ast::DeclKind;
use tally_compiler::{Compiled, ParsedFile, parallel};

use crate::db::{
    Database, DeviceInput, EstateInput, Family, Installed, LicenseInput, RuleFile, Rules,
    UserInput, assessments, compiled, device_recognition, families, family_consumption,
    family_outcome, file_check, license_terms, name_table, pack, parsed, positions, recognizer,
};
use crate::estate::{
    self, Device, DeviceEvidence, Estate, EstateFiles, Evidence, License, Purchase, Usage, User,
};
use crate::position::Position;
use crate::recognize::{DeviceView, Installation, Recognizer};
use crate::reconcile::{Assessment, LicenseTerms, Outcome};
use crate::{manifest, sources};

/// The directories a batch of changes edits: each copied from the database when first
/// edited, and set back once at the end of the batch (setting one per added device would copy
/// the directory once per device).
#[derive(Default)]
struct Directories {
    devices: Option<BTreeMap<String, DeviceInput>>,
    users: Option<BTreeMap<String, UserInput>>,
    licenses: Option<BTreeMap<String, LicenseInput>>,
}

impl Directories {
    /// A device's input, as the batch has left it so far.
    fn device(&self, db: &Database, estate: EstateInput, id: &str) -> Option<DeviceInput> {
        self.devices
            .as_ref()
            .unwrap_or_else(|| estate.devices(db))
            .get(id)
            .copied()
    }

    fn user(&self, db: &Database, estate: EstateInput, id: &str) -> Option<UserInput> {
        self.users
            .as_ref()
            .unwrap_or_else(|| estate.users(db))
            .get(id)
            .copied()
    }

    fn license(&self, db: &Database, estate: EstateInput, id: &str) -> Option<LicenseInput> {
        self.licenses
            .as_ref()
            .unwrap_or_else(|| estate.licenses(db))
            .get(id)
            .copied()
    }

    fn devices(
        &mut self,
        db: &Database,
        estate: EstateInput,
    ) -> &mut BTreeMap<String, DeviceInput> {
        self.devices
            .get_or_insert_with(|| estate.devices(db).clone())
    }

    fn users(&mut self, db: &Database, estate: EstateInput) -> &mut BTreeMap<String, UserInput> {
        self.users.get_or_insert_with(|| estate.users(db).clone())
    }

    fn licenses(
        &mut self,
        db: &Database,
        estate: EstateInput,
    ) -> &mut BTreeMap<String, LicenseInput> {
        self.licenses
            .get_or_insert_with(|| estate.licenses(db).clone())
    }

    /// Sets the directories that changed.
    fn set(self, db: &mut Database, estate: EstateInput) {
        if let Some(devices) = self.devices.filter(|d| d != estate.devices(db)) {
            estate.set_devices(db).with_durability(RECORDS).to(devices);
        }
        if let Some(users) = self.users.filter(|u| u != estate.users(db)) {
            estate.set_users(db).with_durability(RECORDS).to(users);
        }
        if let Some(licenses) = self.licenses.filter(|l| l != estate.licenses(db)) {
            estate
                .set_licenses(db)
                .with_durability(RECORDS)
                .to(licenses);
        }
    }
}

/// A rule file and whether it belongs to the standard packs (which rarely change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSource {
    pub source: Arc<SourceFile>,
    pub standard: bool,
}

/// One edit to the loaded rules or estate, keyed by id.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Adds a device, or replaces the record of the device with its id (its evidence stays).
    Device(Device),
    /// Replaces the evidence rows of a device, in file order (a `Vec<Evidence>` converts).
    Evidence {
        device: String,
        rows: DeviceEvidence,
    },
    /// Removes a device and its evidence.
    RemoveDevice(String),
    /// Adds a user, or replaces the one with its id.
    User(User),
    RemoveUser(String),
    /// Adds a license, or replaces the one with its id (its purchases stay).
    License(License),
    RemoveLicense(String),
    /// Adds a purchase, or replaces the one with its id.
    Purchase(Purchase),
    RemovePurchase(String),
    /// Replaces the usage rows.
    Usage(Vec<Usage>),
    /// Moves the day the estate is reconciled as of.
    AsOf(Date),
    /// Adds a rule file, or replaces the one with its path.
    RuleFile(RuleSource),
    /// Removes the rule file with this path.
    RemoveRuleFile(String),
}

/// A change that names something the workspace does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownId {
    /// "device", "user", "license", "purchase" or "rule file".
    pub kind: &'static str,
    pub id: String,
}

impl std::fmt::Display for UnknownId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "there is no {} `{}` to change", self.kind, self.id)
    }
}

/// A database loaded with rules and, once imported, an estate: the handle commands work with.
pub struct Workspace {
    pub db: Database,
    pub estate: EstateInput,
    /// Rule file inputs by path, with whether each belongs to the standard packs.
    rule_files: BTreeMap<String, (RuleFile, bool)>,
    /// Every purchase by id, and the purchase ids of each license id.
    purchases: BTreeMap<String, Purchase>,
    purchases_of: BTreeMap<String, BTreeSet<String>>,
    /// The applications each device is indexed under in [`Installed`].
    indexed: HashMap<String, Vec<Arc<str>>>,
    /// Devices whose evidence changed (or that were added or removed) since the index was
    /// last updated.
    dirty: BTreeSet<String>,
    /// Whether the rules changed since the index was last updated (every device is dirty).
    rules_changed: bool,
    /// Whether rule files are parsed by runs of declarations, as an editor's are.
    by_runs: bool,
}

/// How many devices a recognition thread takes at a time.
const RECOGNITION_BATCH: usize = 64;
/// How many parts the installations of changed devices are gathered in: a few per core, so a
/// busy core holds up little.
const GATHER_PARTS: usize = 8;

/// The durability of what changes rarely: the standard packs, the list of rule files, device,
/// user and license records, and the directories.
const RECORDS: Durability = Durability::HIGH;
/// The durability of what changes now and then: purchases, usage rows, the application →
/// installations index and the user's own rule files. Evidence alone is `LOW`: after an
/// evidence edit that moves no installation, salsa re-validates every query above the index
/// (positions included) in constant time.
const ENTITLEMENTS: Durability = Durability::MEDIUM;

impl Workspace {
    /// A workspace with rules and an empty estate.
    pub fn new(db: Database, sources: Vec<RuleSource>, as_of: Date) -> Self {
        Self::create(db, sources, as_of, false)
    }

    /// A workspace whose rule files are edited in place, as in an editor: each is parsed by
    /// runs of declarations, so that an edit parses again only the run it is in.
    pub fn for_editing(db: Database, sources: Vec<RuleSource>, as_of: Date) -> Self {
        Self::create(db, sources, as_of, true)
    }

    fn create(db: Database, sources: Vec<RuleSource>, as_of: Date, by_runs: bool) -> Self {
        let rule_files: BTreeMap<String, (RuleFile, bool)> = sources
            .into_iter()
            .map(|s| {
                let (path, standard) = (s.source.path.clone(), s.standard);
                (path, (new_rule_file(&db, s, by_runs), standard))
            })
            .collect();
        let rules = Rules::builder(rule_files.values().map(|(f, _)| *f).collect())
            .files_durability(RECORDS)
            .new(&db);
        let estate = EstateInput::builder(
            rules,
            BTreeMap::new(),
            BTreeMap::new(),
            BTreeMap::new(),
            BTreeMap::new(),
            Vec::new(),
            as_of,
        )
        .rules_durability(RECORDS)
        .devices_durability(RECORDS)
        .users_durability(RECORDS)
        .licenses_durability(RECORDS)
        .installed_durability(RECORDS)
        .usage_durability(ENTITLEMENTS)
        .as_of_durability(RECORDS)
        .new(&db);
        Self {
            db,
            estate,
            rule_files,
            purchases: BTreeMap::new(),
            purchases_of: BTreeMap::new(),
            indexed: HashMap::new(),
            dirty: BTreeSet::new(),
            rules_changed: true,
            by_runs,
        }
    }

    /// A workspace with the standard packs (unless `standard` is empty) and the rule packs
    /// (files or folders) read from disk; fails with a diagnostic for each pack that cannot be
    /// read.
    pub fn open(
        standard: &[(&str, &str)],
        packs: &[PathBuf],
        as_of: Date,
    ) -> Result<Self, Vec<Diagnostic>> {
        let sources = read_rules(standard, packs)?;
        Ok(Self::new(Database::default(), sources, as_of))
    }

    /// Compiles the rules: their warnings, or every diagnostic when there are errors.
    pub fn check_rules(&self) -> Result<&[Diagnostic], &[Diagnostic]> {
        let compiled = self.compiled();
        if compiled.has_errors() {
            Err(&compiled.diagnostics)
        } else {
            Ok(&compiled.diagnostics)
        }
    }

    /// Imports estate files against the compiled rules and loads them by difference; on bad
    /// input, fails with every diagnostic and keeps what was loaded.
    pub fn load_files(&mut self, files: &EstateFiles) -> Result<(), Vec<Diagnostic>> {
        let estate = estate::import(files, self.pack())?;
        self.load(estate);
        Ok(())
    }

    /// The rule file loaded with this path.
    pub fn rule_file(&self, path: &str) -> Option<RuleSource> {
        self.rule_files
            .get(path)
            .map(|(file, standard)| RuleSource {
                source: Arc::clone(file.source(&self.db)),
                standard: *standard,
            })
    }

    /// The paths of the rule files loaded, sorted, with whether each belongs to the standard
    /// packs.
    pub fn rule_paths(&self) -> impl Iterator<Item = (&str, bool)> {
        self.rule_files
            .iter()
            .map(|(path, (_, standard))| (path.as_str(), *standard))
    }

    pub fn compiled(&self) -> &Compiled {
        self.check_all();
        compiled(&self.db, self.estate.rules(&self.db))
    }

    pub fn pack(&self) -> &CompiledPack {
        self.check_all();
        pack(&self.db, self.estate.rules(&self.db))
    }

    pub fn recognizer(&self) -> &Recognizer {
        self.check_all();
        recognizer(&self.db, self.estate.rules(&self.db))
    }

    /// Every rule file's syntax tree, in path order, with whether it belongs to the standard
    /// packs (for `tally lint` and tools that read what was written).
    pub fn parsed_files(&self) -> Vec<(&ParsedFile, bool)> {
        self.parse_all();
        self.rule_files
            .values()
            .map(|(file, standard)| (parsed(&self.db, *file), *standard))
            .collect()
    }

    /// Loads an imported estate: diffs it row by row against what is loaded and applies the
    /// difference, so loading the same estate again changes nothing.
    pub fn load(&mut self, estate: Estate) {
        let changes = self.difference(estate);
        // Every id the difference names is known or added by it.
        let _ = self.apply(changes);
    }

    /// The changes that turn what is loaded into `estate`.
    fn difference(&self, estate: Estate) -> Vec<Change> {
        let db = &self.db;
        let mut changes = Vec::new();
        let mut evidence = evidence_by_device(estate.evidence);
        let loaded = self.estate.devices(db);
        // A first load leaves the rows in the imported list. Later, only the devices whose
        // rows changed take theirs, each a list of its own: sharing the imported list would
        // keep all of it alive for them.
        let first_load = loaded.is_empty();
        let kept: HashSet<&str> = estate.devices.iter().map(|d| d.id.as_str()).collect();
        changes.extend(
            loaded
                .keys()
                .filter(|id| !kept.contains(id.as_str()))
                .map(|id| Change::RemoveDevice(id.clone())),
        );
        for device in estate.devices {
            let rows = evidence.remove(device.id.as_str()).unwrap_or_default();
            let old = loaded.get(&device.id);
            let new_rows = old.is_none_or(|o| *o.evidence(db) != rows);
            let id = device.id.clone();
            if old.is_none_or(|o| **o.device(db) != device) {
                changes.push(Change::Device(device));
            }
            if new_rows {
                let rows = if first_load {
                    rows
                } else {
                    rows.to_vec().into()
                };
                changes.push(Change::Evidence { device: id, rows });
            }
        }
        let users = self.estate.users(db);
        let kept: HashSet<&str> = estate.users.iter().map(|u| u.id.as_str()).collect();
        changes.extend(
            users
                .keys()
                .filter(|id| !kept.contains(id.as_str()))
                .map(|id| Change::RemoveUser(id.clone())),
        );
        changes.extend(
            estate
                .users
                .into_iter()
                .filter(|u| users.get(&u.id).is_none_or(|o| **o.user(db) != *u))
                .map(Change::User),
        );
        let licenses = self.estate.licenses(db);
        let kept: HashSet<&str> = estate.licenses.iter().map(|l| l.id.as_str()).collect();
        changes.extend(
            licenses
                .keys()
                .filter(|id| !kept.contains(id.as_str()))
                .map(|id| Change::RemoveLicense(id.clone())),
        );
        changes.extend(
            estate
                .licenses
                .into_iter()
                .filter(|l| licenses.get(&l.id).is_none_or(|o| o.license(db) != l))
                .map(Change::License),
        );
        let kept: HashSet<&str> = estate.purchases.iter().map(|p| p.id.as_str()).collect();
        changes.extend(
            self.purchases
                .keys()
                .filter(|id| !kept.contains(id.as_str()))
                .map(|id| Change::RemovePurchase(id.clone())),
        );
        changes.extend(
            estate
                .purchases
                .into_iter()
                .filter(|p| self.purchases.get(&p.id) != Some(p))
                .map(Change::Purchase),
        );
        if *self.estate.usage(db) != estate.usage {
            changes.push(Change::Usage(estate.usage));
        }
        changes
    }

    /// Applies changes in order, setting only the inputs whose values change, then brings the
    /// installation index up to date. Nothing is applied when a change names a device, user,
    /// license, purchase or rule file that is not there (and not added before it).
    pub fn apply(&mut self, changes: Vec<Change>) -> Result<(), UnknownId> {
        self.check(&changes)?;
        let mut directories = Directories::default();
        for change in changes {
            self.apply_one(change, &mut directories);
        }
        directories.set(&mut self.db, self.estate);
        self.update_index();
        Ok(())
    }

    /// Refuses a batch with a change to something neither loaded nor added earlier in it.
    fn check(&self, changes: &[Change]) -> Result<(), UnknownId> {
        let mut present: HashMap<(&'static str, &str), bool> = HashMap::new();
        for change in changes {
            let Some((kind, id, effect)) = change.target() else {
                continue;
            };
            let here = present
                .get(&(kind, id))
                .copied()
                .unwrap_or_else(|| self.has(kind, id));
            match effect {
                Effect::Adds => {
                    present.insert((kind, id), true);
                }
                Effect::Edits | Effect::Removes if !here => {
                    return Err(UnknownId {
                        kind,
                        id: id.to_string(),
                    });
                }
                Effect::Edits => {}
                Effect::Removes => {
                    present.insert((kind, id), false);
                }
            }
        }
        Ok(())
    }

    /// Whether something of this kind with this id is loaded.
    fn has(&self, kind: &str, id: &str) -> bool {
        let db = &self.db;
        match kind {
            "device" => self.estate.devices(db).contains_key(id),
            "user" => self.estate.users(db).contains_key(id),
            "license" => self.estate.licenses(db).contains_key(id),
            "purchase" => self.purchases.contains_key(id),
            _ => self.rule_files.contains_key(id),
        }
    }

    fn apply_one(&mut self, change: Change, directories: &mut Directories) {
        let estate = self.estate;
        match change {
            Change::Device(device) => {
                let id = device.id.clone();
                match directories.device(&self.db, estate, &id) {
                    Some(input) => {
                        if **input.device(&self.db) != device {
                            input
                                .set_device(&mut self.db)
                                .with_durability(RECORDS)
                                .to(Arc::new(device));
                        }
                    }
                    None => {
                        let input = DeviceInput::builder(Arc::new(device), Default::default())
                            .device_durability(RECORDS)
                            .new(&self.db);
                        directories
                            .devices(&self.db, estate)
                            .insert(id.clone(), input);
                        self.dirty.insert(id);
                    }
                }
            }
            Change::Evidence { device, rows } => {
                if let Some(input) = directories.device(&self.db, estate, &device)
                    && *input.evidence(&self.db) != rows
                {
                    input.set_evidence(&mut self.db).to(rows);
                    self.dirty.insert(device);
                }
            }
            Change::RemoveDevice(id) => {
                if directories.devices(&self.db, estate).remove(&id).is_some() {
                    self.dirty.insert(id);
                }
            }
            Change::User(user) => match directories.user(&self.db, estate, &user.id) {
                Some(input) => {
                    if **input.user(&self.db) != user {
                        input
                            .set_user(&mut self.db)
                            .with_durability(RECORDS)
                            .to(Arc::new(user));
                    }
                }
                None => {
                    let id = user.id.clone();
                    let input = UserInput::builder(Arc::new(user))
                        .user_durability(RECORDS)
                        .new(&self.db);
                    directories.users(&self.db, estate).insert(id, input);
                }
            },
            Change::RemoveUser(id) => {
                directories.users(&self.db, estate).remove(&id);
            }
            Change::License(license) => match directories.license(&self.db, estate, &license.id) {
                Some(input) => {
                    if *input.license(&self.db) != license {
                        input
                            .set_license(&mut self.db)
                            .with_durability(RECORDS)
                            .to(license);
                    }
                }
                None => {
                    let id = license.id.clone();
                    let input = LicenseInput::builder(license, self.purchases_for(&id))
                        .license_durability(RECORDS)
                        .purchases_durability(ENTITLEMENTS)
                        .new(&self.db);
                    directories.licenses(&self.db, estate).insert(id, input);
                }
            },
            Change::RemoveLicense(id) => {
                directories.licenses(&self.db, estate).remove(&id);
            }
            Change::Purchase(purchase) => {
                let id = purchase.id.clone();
                let license = purchase.license.clone();
                let old = self.purchases.insert(id.clone(), purchase);
                if let Some(old) = &old
                    && old.license != license
                {
                    if let Some(ids) = self.purchases_of.get_mut(&old.license) {
                        ids.remove(&id);
                    }
                    self.refresh_purchases(&old.license, directories);
                }
                self.purchases_of
                    .entry(license.clone())
                    .or_default()
                    .insert(id);
                self.refresh_purchases(&license, directories);
            }
            Change::RemovePurchase(id) => {
                if let Some(old) = self.purchases.remove(&id) {
                    if let Some(ids) = self.purchases_of.get_mut(&old.license) {
                        ids.remove(&id);
                    }
                    self.refresh_purchases(&old.license, directories);
                }
            }
            Change::Usage(rows) => {
                if *estate.usage(&self.db) != rows {
                    estate
                        .set_usage(&mut self.db)
                        .with_durability(ENTITLEMENTS)
                        .to(rows);
                }
            }
            Change::AsOf(day) => {
                if estate.as_of(&self.db) != day {
                    estate
                        .set_as_of(&mut self.db)
                        .with_durability(RECORDS)
                        .to(day);
                }
            }
            Change::RuleFile(source) => {
                let path = source.source.path.clone();
                match self.rule_files.get_mut(&path) {
                    Some((file, standard)) => {
                        let file = *file;
                        *standard = source.standard;
                        if **file.source(&self.db) != *source.source {
                            file.set_source(&mut self.db)
                                .with_durability(durability(source.standard))
                                .to(source.source);
                            self.rules_changed = true;
                        }
                    }
                    None => {
                        let standard = source.standard;
                        let file = new_rule_file(&self.db, source, self.by_runs);
                        self.rule_files.insert(path, (file, standard));
                        self.set_rule_files();
                    }
                }
            }
            Change::RemoveRuleFile(path) => {
                if self.rule_files.remove(&path).is_some() {
                    self.set_rule_files();
                }
            }
        }
    }

    /// The purchases of a license id, sorted by purchase id.
    fn purchases_for(&self, license: &str) -> Vec<Purchase> {
        self.purchases_of
            .get(license)
            .into_iter()
            .flatten()
            .filter_map(|id| self.purchases.get(id).cloned())
            .collect()
    }

    /// Sets a license's purchases after one of them changed.
    fn refresh_purchases(&mut self, license: &str, directories: &mut Directories) {
        let purchases = self.purchases_for(license);
        if let Some(input) = directories.license(&self.db, self.estate, license)
            && *input.purchases(&self.db) != purchases
        {
            input
                .set_purchases(&mut self.db)
                .with_durability(ENTITLEMENTS)
                .to(purchases);
        }
    }

    fn set_rule_files(&mut self) {
        let files = self.rule_files.values().map(|(f, _)| *f).collect();
        let rules = self.estate.rules(&self.db);
        rules
            .set_files(&mut self.db)
            .with_durability(RECORDS)
            .to(files);
        self.rules_changed = true;
    }

    /// Recognises the devices that changed (all of them after a rule change), on all cores,
    /// and updates the installations of each application they were or are installed with.
    fn update_index(&mut self) {
        if self.rules_changed {
            self.parse_all();
            self.update_application_directory();
            self.dirty = self.estate.devices(&self.db).keys().cloned().collect();
            self.dirty.extend(self.indexed.keys().cloned());
            self.rules_changed = false;
        }
        if self.dirty.is_empty() {
            return;
        }
        let dirty = std::mem::take(&mut self.dirty);
        let rules = self.estate.rules(&self.db);
        let directory = self.estate.devices(&self.db);
        let inputs: Vec<(&String, Option<DeviceInput>)> = dirty
            .iter()
            .map(|id| (id, directory.get(id).copied()))
            .collect();
        parallel::map_with(
            &inputs,
            RECOGNITION_BATCH,
            || self.db.clone(),
            |db, (_, input)| {
                if let Some(input) = input {
                    device_recognition(db, rules, *input);
                }
            },
        );
        // The applications whose installations may change, with their installations on the
        // changed devices: gathered on all cores from consecutive parts of `inputs`, and joined
        // in order, so each list stays sorted by device.
        let part = inputs.len().div_ceil(GATHER_PARTS).max(1);
        let parts: Vec<&[(&String, Option<DeviceInput>)]> = inputs.chunks(part).collect();
        let gathered = parallel::map_with(
            &parts,
            1,
            || self.db.clone(),
            |db, part| gather(db, rules, &self.indexed, part),
        );
        let mut affected = ByApplication::default();
        let mut now_indexed: Vec<IndexEntry> = Vec::with_capacity(inputs.len());
        for (installed, indexed) in gathered {
            now_indexed.extend(indexed);
            for (app, list) in installed {
                affected.entry(app).or_default().extend(list);
            }
        }
        let dirty: HashSet<&str> = dirty.iter().map(String::as_str).collect();
        let applications = self.estate.installed(&self.db);
        let mut updates: Vec<(Installed, Vec<Arc<Installation>>)> = Vec::new();
        for (app, added) in affected {
            let Some(handle) = applications.get(&*app).copied() else {
                continue;
            };
            let old = handle.installations(&self.db);
            // `added` is sorted by device: devices are taken in id order, and a device has one
            // installation of an application at most.
            if old.is_empty() {
                if !added.is_empty() {
                    updates.push((handle, added));
                }
                continue;
            }
            // Unchanged when the changed devices' entries are the same: found by binary
            // search when they are few, so one device's edit costs no pass over the list.
            let before: Vec<&Arc<Installation>> = if inputs.len() * 8 <= old.len() {
                inputs
                    .iter()
                    .filter_map(|(id, _)| {
                        let at = old
                            .binary_search_by(|i| i.device.as_ref().cmp(id.as_str()))
                            .ok()?;
                        old.get(at)
                    })
                    .collect()
            } else {
                old.iter()
                    .filter(|i| dirty.contains(i.device.as_ref()))
                    .collect()
            };
            if before.len() == added.len() && before.iter().zip(&added).all(|(a, b)| *a == b) {
                continue;
            }
            let mut list: Vec<Arc<Installation>> = old
                .iter()
                .filter(|i| !dirty.contains(i.device.as_ref()))
                .cloned()
                .collect();
            list.extend(added);
            list.sort_by(|a, b| a.device.cmp(&b.device));
            if list != *old {
                updates.push((handle, list));
            }
        }
        for (handle, list) in updates {
            handle
                .set_installations(&mut self.db)
                .with_durability(ENTITLEMENTS)
                .to(list);
        }
        for (id, apps) in now_indexed {
            if apps.is_empty() {
                self.indexed.remove(&id);
            } else {
                self.indexed.insert(id, apps);
            }
        }
    }

    /// Gives every application the packs declare an [`Installed`] input, keeping the inputs of
    /// those still declared. The names come from the name table, which an edit that renames
    /// nothing leaves as it was: no file is checked again for it.
    fn update_application_directory(&mut self) {
        let table = name_table(&self.db, self.estate.rules(&self.db));
        let current = self.estate.installed(&self.db);
        // Both sorted: the same names in the same order (no copy of 50,000 names per edit).
        if current
            .keys()
            .map(String::as_str)
            .eq(table.names(DeclKind::Application))
        {
            return;
        }
        let declared: Vec<String> = table
            .names(DeclKind::Application)
            .map(str::to_string)
            .collect();
        let directory: BTreeMap<String, Installed> = declared
            .into_iter()
            .map(|app| {
                let handle = current.get(&app).copied().unwrap_or_else(|| {
                    Installed::builder(Vec::new())
                        .installations_durability(ENTITLEMENTS)
                        .new(&self.db)
                });
                (app, handle)
            })
            .collect();
        self.estate
            .set_installed(&mut self.db)
            .with_durability(RECORDS)
            .to(directory);
    }

    /// Parses every rule file on all cores so that compiling finds them parsed.
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

    /// Parses and checks every rule file on all cores, so that compiling finds them checked.
    fn check_all(&self) {
        self.parse_all();
        let rules = self.estate.rules(&self.db);
        name_table(&self.db, rules);
        parallel::map_with(
            rules.files(&self.db),
            1,
            || self.db.clone(),
            |db, file| {
                file_check(db, *file, rules);
            },
        );
    }

    /// Recognition per device, in device-id order.
    pub fn recognition(&self) -> Vec<DeviceView<'_>> {
        let rules = self.estate.rules(&self.db);
        self.estate
            .devices(&self.db)
            .values()
            .map(|d| DeviceView {
                device: d.device(&self.db),
                evidence: d.evidence(&self.db),
                recognition: device_recognition(&self.db, rules, *d),
            })
            .collect()
    }

    /// Every assessment row, sorted by license, device, application and user.
    pub fn assessments(&self) -> &[Assessment] {
        self.each_family(|db, estate, key| {
            family_outcome(db, estate, key);
        });
        assessments(&self.db, self.estate)
    }

    pub fn positions(&self) -> &[Position] {
        self.each_family(|db, estate, key| {
            family_consumption(db, estate, key);
        });
        positions(&self.db, self.estate)
    }

    /// Runs a per-family query for every family on all cores, each thread on its own handle
    /// to the database, so that the query that collects them finds them computed (or
    /// validated). Results do not depend on which thread ran.
    fn each_family(&self, query: impl Fn(&Database, EstateInput, String) + Sync) {
        let keys: Vec<&String> = families(&self.db, self.estate).keys().collect();
        let estate = self.estate;
        parallel::map_with(
            &keys,
            1,
            || self.db.clone(),
            |db, key| {
                query(db, estate, (*key).clone());
            },
        );
    }

    /// The license families by key.
    pub fn families(&self) -> &BTreeMap<String, Family> {
        families(&self.db, self.estate)
    }

    /// Each license with its purchases, sorted by license id.
    pub fn licenses(&self) -> impl Iterator<Item = (&License, &[Purchase])> {
        self.estate
            .licenses(&self.db)
            .values()
            .map(|l| (l.license(&self.db), l.purchases(&self.db).as_slice()))
    }

    /// A license with its rules applied; `None` for an unknown license, or one whose metric or
    /// rights are not declared.
    pub fn license_terms(&self, id: &str) -> Option<&LicenseTerms> {
        let input = self.estate.licenses(&self.db).get(id)?;
        license_terms(&self.db, self.estate, *input).as_ref()
    }

    /// A device's record.
    pub fn device(&self, id: &str) -> Option<&Device> {
        self.estate
            .devices(&self.db)
            .get(id)
            .map(|d| d.device(&self.db).as_ref())
    }

    /// A device's evidence rows, in file order.
    pub fn evidence_of(&self, id: &str) -> Option<&[Evidence]> {
        self.estate
            .devices(&self.db)
            .get(id)
            .map(|d| d.evidence(&self.db).as_slice())
    }

    /// A user's record.
    pub fn user(&self, id: &str) -> Option<&User> {
        self.estate
            .users(&self.db)
            .get(id)
            .map(|u| u.user(&self.db).as_ref())
    }
    /// The assessment rows of one of seed 003's three views, in report order; `None` when
    /// the estate has no such subject. See [`Subject`] for what each view holds. The license
    /// view is limited to the devices and users linked to the license; `all` lifts the limit,
    /// and [`Explained::left_out`] counts the rows the limit left out.
    pub fn explain(&self, subject: Subject<'_>, all: bool) -> Option<Explained<'_>> {
        let known = match subject {
            Subject::Device(d) => self.device(d).is_some(),
            Subject::License(l) => self.estate.licenses(&self.db).contains_key(l),
            Subject::User(u) => self.user(u).is_some(),
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
                        .and_then(|d| self.device(d))
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

/// The standard packs' files (given as path and text) and the rule packs (files or folders)
/// read from disk; fails with a diagnostic for each pack that cannot be read.
pub fn read_rules(
    standard: &[(&str, &str)],
    packs: &[PathBuf],
) -> Result<Vec<RuleSource>, Vec<Diagnostic>> {
    let mut sources: Vec<RuleSource> = standard
        .iter()
        .map(|(path, text)| RuleSource {
            source: SourceFile::new(*path, *text),
            standard: true,
        })
        .collect();
    // A pack's `tally.yaml` is read with it: its language version must be one this `tally`
    // reads, and its settings must be valid, whatever the command.
    let mut errors = manifest::read_all(packs).err().unwrap_or_default();
    for pack in packs {
        match sources::read_pack(pack) {
            Ok(files) => sources.extend(files.into_iter().map(|source| RuleSource {
                source,
                standard: false,
            })),
            Err(d) => errors.push(*d),
        }
    }
    if errors.is_empty() {
        Ok(sources)
    } else {
        Err(errors)
    }
}

/// What a change does to the thing it names.
enum Effect {
    Adds,
    Edits,
    Removes,
}

impl Change {
    /// The kind and id of what the change names, and what it does to it.
    fn target(&self) -> Option<(&'static str, &str, Effect)> {
        Some(match self {
            Self::Device(d) => ("device", d.id.as_str(), Effect::Adds),
            Self::Evidence { device, .. } => ("device", device.as_str(), Effect::Edits),
            Self::RemoveDevice(id) => ("device", id.as_str(), Effect::Removes),
            Self::User(u) => ("user", u.id.as_str(), Effect::Adds),
            Self::RemoveUser(id) => ("user", id.as_str(), Effect::Removes),
            Self::License(l) => ("license", l.id.as_str(), Effect::Adds),
            Self::RemoveLicense(id) => ("license", id.as_str(), Effect::Removes),
            Self::Purchase(p) => ("purchase", p.id.as_str(), Effect::Adds),
            Self::RemovePurchase(id) => ("purchase", id.as_str(), Effect::Removes),
            Self::RuleFile(s) => ("rule file", s.source.path.as_str(), Effect::Adds),
            Self::RemoveRuleFile(path) => ("rule file", path.as_str(), Effect::Removes),
            Self::Usage(_) | Self::AsOf(_) => return None,
        })
    }
}

fn durability(standard: bool) -> Durability {
    if standard { RECORDS } else { ENTITLEMENTS }
}

/// Installations by application name (names are shared, so hashing them is cheap).
type ByApplication = FxHashMap<Arc<str>, Vec<Arc<Installation>>>;

/// A device and the applications it is indexed under.
type IndexEntry = (String, Vec<Arc<str>>);

/// The installations on some changed devices, by application, and the applications each of
/// those devices is now installed with. The applications a device was indexed under before are
/// listed too, with no installation from it, so that their lists lose it.
fn gather(
    db: &Database,
    rules: Rules,
    indexed: &HashMap<String, Vec<Arc<str>>>,
    devices: &[(&String, Option<DeviceInput>)],
) -> (ByApplication, Vec<IndexEntry>) {
    let mut installed = ByApplication::default();
    let mut now_indexed = Vec::with_capacity(devices.len());
    for (id, input) in devices {
        for app in indexed.get(*id).into_iter().flatten() {
            installed.entry(Arc::clone(app)).or_default();
        }
        let installations = input
            .map(|d| device_recognition(db, rules, d).installations.as_slice())
            .unwrap_or_default();
        for installation in installations {
            installed
                .entry(Arc::clone(&installation.application))
                .or_default()
                .push(Arc::clone(installation));
        }
        now_indexed.push((
            (*id).clone(),
            installations
                .iter()
                .map(|i| Arc::clone(&i.application))
                .collect(),
        ));
    }
    (installed, now_indexed)
}

fn new_rule_file(db: &Database, source: RuleSource, by_runs: bool) -> RuleFile {
    let durability = durability(source.standard);
    RuleFile::builder(source.source, by_runs)
        .source_durability(durability)
        .by_runs_durability(durability)
        .new(db)
}

/// How many rows [`evidence_by_device`] moves before it gives back the emptied part of the
/// list (shrinking a large allocation is done in place).
const GROUPING_STEP: usize = 4096;
/// Runs of one device's rows shorter than this on average make [`evidence_by_device`] move
/// rows into lists of their own rather than share the list.
const SHORT_RUNS: usize = 32;

/// Splits evidence rows by device, each device's rows in file order.
///
/// Files usually list a device's rows together: then the rows stay where they are, and each
/// device holds its range of them, so nothing is copied. A device whose rows are split over
/// the file gets a list of its own. Rows listed in no such order are moved into lists of
/// their own, from the end of the list, whose emptied part is given back as it goes, so they
/// are never held twice.
fn evidence_by_device(rows: Vec<Evidence>) -> FxHashMap<Arc<str>, DeviceEvidence> {
    let mut starts: Vec<usize> = Vec::new();
    for (i, pair) in rows.windows(2).enumerate() {
        if let [a, b] = pair
            && a.device != b.device
        {
            starts.push(i + 1);
            if starts.len() > rows.len() / SHORT_RUNS {
                return scattered_evidence_by_device(rows)
                    .into_iter()
                    .map(|(device, rows)| (device, rows.into()))
                    .collect();
            }
        }
    }
    if !rows.is_empty() {
        starts.insert(0, 0);
    }
    let ends = starts.iter().skip(1).copied().chain([rows.len()]);
    // Each device's runs, in file order.
    let mut runs: FxHashMap<Arc<str>, Vec<std::ops::Range<usize>>> = FxHashMap::default();
    for (start, end) in starts.iter().copied().zip(ends) {
        if let Some(first) = rows.get(start) {
            runs.entry(Arc::clone(&first.device))
                .or_default()
                .push(start..end);
        }
    }
    let rows = Arc::new(rows);
    runs.into_iter()
        .map(|(device, ranges)| {
            let evidence = match ranges.as_slice() {
                [range] => DeviceEvidence::shared(&rows, range.clone()),
                _ => ranges
                    .iter()
                    .flat_map(|range| rows.get(range.clone()).unwrap_or_default())
                    .cloned()
                    .collect::<Vec<Evidence>>()
                    .into(),
            };
            (device, evidence)
        })
        .collect()
}

/// [`evidence_by_device`] on rows in any order: each device's list is allocated at its size,
/// then filled from the end of `rows` and turned round.
fn scattered_evidence_by_device(mut rows: Vec<Evidence>) -> FxHashMap<Arc<str>, Vec<Evidence>> {
    let mut counts: FxHashMap<Arc<str>, usize> = FxHashMap::default();
    for e in &rows {
        *counts.entry(Arc::clone(&e.device)).or_default() += 1;
    }
    let mut by_device: FxHashMap<Arc<str>, Vec<Evidence>> = counts
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estate::{EvidenceField, EvidenceKind};

    /// Rows named `device:n`, in the order given.
    fn rows(spec: &[(&str, usize)]) -> Vec<Evidence> {
        spec.iter()
            .map(|(device, n)| {
                let mut e = Evidence::from_fields(
                    EvidenceKind::Installer,
                    [(EvidenceField::Name, format!("{device}:{n}").as_str())],
                );
                e.device = Arc::from(*device);
                e
            })
            .collect()
    }

    fn grouped(rows: Vec<Evidence>) -> BTreeMap<String, Vec<String>> {
        evidence_by_device(rows)
            .into_iter()
            .map(|(device, rows)| {
                let names = rows.iter().map(|e| e.name.to_string()).collect();
                (device.to_string(), names)
            })
            .collect()
    }

    fn expected(spec: &[(&str, &[usize])]) -> BTreeMap<String, Vec<String>> {
        spec.iter()
            .map(|(device, ns)| {
                let names = ns.iter().map(|n| format!("{device}:{n}")).collect();
                (device.to_string(), names)
            })
            .collect()
    }

    #[test]
    fn groups_runs_of_one_device_in_file_order() {
        // Long runs, one device in two of them: moved a run at a time.
        let run = |device, ns: std::ops::Range<usize>| ns.map(move |n| (device, n));
        let spec: Vec<(&str, usize)> = run("A", 0..40)
            .chain(run("B", 0..40))
            .chain(run("A", 40..80))
            .chain(run("C", 0..40))
            .collect();
        let (a, b): (Vec<usize>, Vec<usize>) = ((0..80).collect(), (0..40).collect());
        assert_eq!(
            grouped(rows(&spec)),
            expected(&[("A", &a), ("B", &b), ("C", &b)])
        );
        assert!(grouped(Vec::new()).is_empty());
    }

    #[test]
    fn a_first_load_shares_the_rows_and_a_reload_copies_only_the_changed_ones() {
        let estate = |version: &str| {
            let mut evidence = rows(&[("D1", 0); 40]);
            let mut d2 = rows(&[("D2", 0); 40]);
            for e in &mut d2 {
                e.version = Arc::from(version);
            }
            evidence.extend(d2);
            let device = |id: &str| Device {
                id: id.to_string(),
                name: id.to_string(),
                ..Device::default()
            };
            Estate {
                devices: vec![device("D1"), device("D2")],
                evidence,
                ..Estate::default()
            }
        };
        let shared = |ws: &Workspace, id: &str| {
            let devices = ws.estate.devices(&ws.db);
            devices
                .get(id)
                .map(|d| d.evidence(&ws.db).is_part_of_a_list())
        };
        let mut ws = Workspace::new(Database::default(), Vec::new(), Date::constant(2026, 11, 1));
        ws.load(estate("1.0"));
        assert_eq!(
            (shared(&ws, "D1"), shared(&ws, "D2")),
            (Some(true), Some(true))
        );
        ws.load(estate("2.0"));
        assert_eq!(
            (shared(&ws, "D1"), shared(&ws, "D2")),
            (Some(true), Some(false)),
            "D1 keeps the first list; D2 changed and holds its own rows"
        );
        assert_eq!(ws.evidence_of("D2").map(<[Evidence]>::len), Some(40));
    }

    #[test]
    fn groups_rows_listed_in_any_order() {
        // More device changes than SHORT_RUNS allows: moved a row at a time.
        let spec: Vec<(&str, usize)> = (0..200)
            .map(|n| (if n % 2 == 0 { "A" } else { "B" }, n))
            .collect();
        let (a, b): (Vec<usize>, Vec<usize>) = (0..200).partition(|n| n % 2 == 0);
        assert_eq!(grouped(rows(&spec)), expected(&[("A", &a), ("B", &b)]));
    }
}
