//! Estate import: reads the files of an estate folder, checks every row and field,
//! resolves references between the files and against the compiled packs, and builds the
//! [`Estate`]. Every problem in every file is reported; any error means no estate.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rust_decimal::Decimal;
use tally_compiler::diagnostics::{self, Diagnostic, SourceFile, Span};
use tally_compiler::ir::CompiledPack;

use super::codes;
use super::csv_reader::{self, Column, Row, Table};
use super::licenses;
use super::model::{
    Chassis, Device, Estate, Evidence, EvidenceField, EvidenceKind, Interner, License, ON_PREMISES,
    OsType, Partition, Purchase, Usage, User, UserStatus,
};
use super::values::{self, Checker, Field, What, backticked};
use crate::files;
use in_pieces::InPieces;

/// The files of an estate, as text; `evidence.csv` may be left in the folder until import.
#[derive(Debug, Clone)]
pub struct EstateFiles {
    pub devices: Arc<SourceFile>,
    pub users: Arc<SourceFile>,
    pub evidence: EvidenceFile,
    pub licenses: Arc<SourceFile>,
    pub purchases: Arc<SourceFile>,
    /// `usage.csv`, which an estate may leave out.
    pub usage: Option<Arc<SourceFile>>,
}

/// `evidence.csv`, by far an estate's largest file: its text, or the file, read in pieces as it
/// is imported.
#[derive(Debug, Clone)]
pub enum EvidenceFile {
    /// The text, read whole.
    Text(Arc<SourceFile>),
    /// The file in this estate folder, left where it is: import reads it in pieces, so that the
    /// text of a large estate is never held whole.
    InFolder(PathBuf),
}

impl EvidenceFile {
    /// The text, read whole from the folder when it was left there.
    pub fn text(&self) -> Result<Arc<SourceFile>, Box<Diagnostic>> {
        match self {
            Self::Text(source) => Ok(Arc::clone(source)),
            Self::InFolder(dir) => read_file(dir, EVIDENCE_FILE),
        }
    }

    /// Reads the rows in pieces on every core; `None` when the file is small or reading it
    /// so reports a problem (see [`in_pieces`]).
    fn rows_in_pieces(&self) -> Option<Vec<Evidence>> {
        let how = InPieces::here();
        match self {
            Self::Text(source) => {
                let len = source.text.len() as u64;
                in_pieces::read_evidence_in_pieces(source.text.as_bytes(), len, &source.path, how)
            }
            Self::InFolder(dir) => {
                let path = dir.join(EVIDENCE_FILE);
                let (file, len) = files::open(&path, dir, files::MAX_ESTATE_FILE).ok()?;
                let shown = path.display().to_string();
                // The file as long as it was when opened, as reading it whole would take it.
                in_pieces::read_evidence_in_pieces(file.take(len), len, &shown, how)
            }
        }
    }
}

/// The name of the estate file [`EvidenceFile`] stands for.
const EVIDENCE_FILE: &str = "evidence.csv";

/// The files an estate folder must have, in the order of [`EstateFiles::from_texts`].
const FILE_NAMES: [&str; 5] = [
    "devices.csv",
    "users.csv",
    "evidence.csv",
    "licenses.yaml",
    "purchases.csv",
];

/// The file an estate folder may have.
const USAGE_FILE: &str = "usage.csv";

impl EstateFiles {
    /// Reads the five files from a folder, and `usage.csv` if it is there; a missing or
    /// unreadable file is a T0201 diagnostic, and so is a missing folder (once, not once for
    /// each of its files).
    pub fn read_dir(dir: &Path) -> Result<Self, Vec<Diagnostic>> {
        Self::read_folder(dir, false)
    }

    /// As [`EstateFiles::read_dir`], but leaves `evidence.csv` in the folder, for import to
    /// read in pieces ([`EvidenceFile::InFolder`]) once it is found to be a file that can be
    /// read: how a command that imports a large estate once reads it.
    pub fn open_dir(dir: &Path) -> Result<Self, Vec<Diagnostic>> {
        Self::read_folder(dir, true)
    }

    fn read_folder(dir: &Path, evidence_in_folder: bool) -> Result<Self, Vec<Diagnostic>> {
        if !dir.is_dir() {
            let shown = dir.display().to_string();
            let what = if dir.exists() {
                "is not a folder"
            } else {
                "does not exist"
            };
            let diagnostic = Diagnostic::error(
                codes::ESTATE_FILE,
                &SourceFile::new(shown.clone(), ""),
                None,
                format!("estate folder `{shown}` {what}"),
            )
            .with_help(format!(
                "give the folder that holds the estate's files: {} (and maybe `{USAGE_FILE}`)",
                backticked(FILE_NAMES)
            ));
            return Err(vec![diagnostic]);
        }
        let mut errors = Vec::new();
        let in_folder = evidence_in_folder
            && files::open(&dir.join(EVIDENCE_FILE), dir, files::MAX_ESTATE_FILE).is_ok();
        let sources = FILE_NAMES.map(|name| {
            if name == EVIDENCE_FILE && in_folder {
                // Unread: `from_sources` sets the evidence in the folder.
                return SourceFile::new(dir.join(name).display().to_string(), "");
            }
            read_file(dir, name).unwrap_or_else(|d| {
                errors.push(*d);
                SourceFile::new(dir.join(name).display().to_string(), "")
            })
        });
        let usage = match read_file(dir, USAGE_FILE) {
            Ok(source) => Some(source),
            Err(d) if d.code == codes::ESTATE_FILE && d.message.starts_with("missing") => None,
            Err(d) => {
                errors.push(*d);
                None
            }
        };
        if errors.is_empty() {
            let files = Self::from_sources(sources);
            let evidence = if in_folder {
                EvidenceFile::InFolder(dir.to_path_buf())
            } else {
                files.evidence
            };
            Ok(Self {
                usage,
                evidence,
                ..files
            })
        } else {
            diagnostics::sort(&mut errors);
            Err(errors)
        }
    }

    /// Builds from in-memory texts in the order devices, users, evidence, licenses,
    /// purchases, without `usage.csv` (see [`EstateFiles::with_usage`]); `dir` is the folder
    /// shown in paths, e.g. `examples/contoso`.
    pub fn from_texts(dir: &str, texts: [&str; 5]) -> Self {
        let mut names = FILE_NAMES.iter();
        Self::from_sources(texts.map(|text| {
            let name = names.next().copied().unwrap_or_default();
            SourceFile::new(Path::new(dir).join(name).display().to_string(), text)
        }))
    }

    /// The same files with `usage.csv` as text, in the folder of the others.
    pub fn with_usage(self, text: &str) -> Self {
        let dir = Path::new(&self.devices.path)
            .parent()
            .unwrap_or(Path::new(""));
        let path = dir.join(USAGE_FILE).display().to_string();
        Self {
            usage: Some(SourceFile::new(path, text)),
            ..self
        }
    }

    /// Whether `name` is the name of a file an estate folder holds: one of the five, or
    /// `usage.csv`.
    pub fn is_estate_file(name: &str) -> bool {
        FILE_NAMES.contains(&name) || name == USAGE_FILE
    }

    /// Reads the file `name` of the folder `dir` again, as [`EstateFiles::read_dir`] reads it,
    /// and puts it in place of the one held; a `usage.csv` that is gone is left out. Returns
    /// whether the text changed. A file that cannot be read fails with its diagnostic, and the
    /// one held is kept; so is any file when `name` is not an estate file's name.
    pub fn reread(&mut self, dir: &Path, name: &str) -> Result<bool, Box<Diagnostic>> {
        let slot = match name {
            "devices.csv" => &mut self.devices,
            "users.csv" => &mut self.users,
            EVIDENCE_FILE => {
                let source = read_file(dir, name)?;
                let changed =
                    !matches!(&self.evidence, EvidenceFile::Text(held) if **held == *source);
                self.evidence = EvidenceFile::Text(source);
                return Ok(changed);
            }
            "licenses.yaml" => &mut self.licenses,
            "purchases.csv" => &mut self.purchases,
            USAGE_FILE => {
                return match read_file(dir, USAGE_FILE) {
                    Ok(source) => {
                        let changed = self.usage.as_deref() != Some(&*source);
                        self.usage = Some(source);
                        Ok(changed)
                    }
                    Err(d) if d.code == codes::ESTATE_FILE && d.message.starts_with("missing") => {
                        Ok(self.usage.take().is_some())
                    }
                    Err(d) => Err(d),
                };
            }
            _ => return Ok(false),
        };
        let source = read_file(dir, name)?;
        let changed = **slot != *source;
        *slot = source;
        Ok(changed)
    }

    fn from_sources(sources: [Arc<SourceFile>; 5]) -> Self {
        let [devices, users, evidence, licenses, purchases] = sources;
        Self {
            devices,
            users,
            evidence: EvidenceFile::Text(evidence),
            licenses,
            purchases,
            usage: None,
        }
    }
}

/// Reads one estate file through [`files::read_text`]: a missing or unreadable file is a
/// T0201 diagnostic, one refused for what it is a T0208.
pub(super) fn read_file(dir: &Path, name: &str) -> Result<Arc<SourceFile>, Box<Diagnostic>> {
    let path = dir.join(name);
    let shown = path.display().to_string();
    let error = match files::read_text(&path, dir, files::MAX_ESTATE_FILE) {
        // Without its byte-order mark, which is no character of the text: the columns of the
        // first line then count as an editor counts them.
        Ok(mut text) => {
            if text.starts_with('\u{feff}') {
                text.replace_range(..'\u{feff}'.len_utf8(), "");
            }
            return Ok(SourceFile::new(shown, text));
        }
        Err(error) => error,
    };
    let (code, message, help) = if error.is_not_found() {
        (
            codes::ESTATE_FILE,
            format!("missing estate file `{shown}`"),
            format!(
                "create the file: an estate folder holds {} (and may hold `{USAGE_FILE}`), and a CSV file may hold just its header row",
                backticked(FILE_NAMES)
            ),
        )
    } else if error.is_refused() {
        (
            codes::INPUT_REFUSED,
            format!("cannot read estate file `{shown}`: {}", error.reason(&path)),
            error.refusal_help("estate files", "the estate folder"),
        )
    } else {
        (
            codes::ESTATE_FILE,
            format!("cannot read estate file `{shown}`: {}", error.reason(&path)),
            "save the file as UTF-8 text, and check that it can be read".to_owned(),
        )
    };
    let (source, span) = error.source(&shown);
    let label = if span.is_some() {
        "this byte is not UTF-8".to_owned()
    } else {
        format!("`{name}` could not be read")
    };
    Err(Box::new(
        Diagnostic::error(code, &source, span, message)
            .with_label(label)
            .with_help(help),
    ))
}

/// Parses and validates an estate against the compiled packs.
pub fn import(files: &EstateFiles, pack: &CompiledPack) -> Result<Estate, Vec<Diagnostic>> {
    let mut references = References::default();
    let devices = read_devices(&files.devices, &mut references);
    let users = read_users(&files.users);
    let evidence = read_evidence(&files.evidence, devices.ids.as_ref(), &mut references);
    let licenses = licenses::read(&files.licenses, pack, &mut references);
    let purchases = read_purchases(&files.purchases, &licenses, &mut references);
    let usage = files.usage.as_ref().map(read_usage);

    let targets = Targets {
        devices: (&files.devices, devices.ids.as_ref()),
        users: (&files.users, users.ids.as_ref()),
        licenses: (&files.licenses, licenses.ids.as_ref()),
    };
    let mut errors = references.check(&targets);
    errors.extend(devices.diagnostics);
    errors.extend(users.diagnostics);
    errors.extend(evidence.diagnostics);
    errors.extend(licenses.diagnostics);
    errors.extend(purchases.diagnostics);
    let mut usage = usage.map_or_else(Vec::new, |usage| {
        errors.extend(usage.diagnostics);
        usage.records
    });
    if !errors.is_empty() {
        diagnostics::sort(&mut errors);
        return Err(errors);
    }
    // A stable sort: rows of one application at one moment stay in file order.
    usage.sort_by(|a, b| (&a.application, &a.at).cmp(&(&b.application, &b.at)));
    Ok(Estate {
        devices: sorted_by_id(devices.records, |d| &d.id),
        users: sorted_by_id(users.records, |u| &u.id),
        evidence: evidence.records,
        licenses: sorted_by_id(licenses.records, |l| &l.id),
        purchases: sorted_by_id(purchases.records, |p| &p.id),
        usage,
    })
}

fn sorted_by_id<T>(mut records: Vec<T>, id: impl Fn(&T) -> &String) -> Vec<T> {
    records.sort_by(|a, b| id(a).cmp(id(b)));
    records
}

/// What one file yielded: its records (also those with bad fields, for cross-checks), its ids,
/// and its diagnostics.
#[derive(Debug)]
pub(super) struct Imported<T> {
    pub records: Vec<T>,
    /// `None` when the file could not be read as a whole, so references into it are not
    /// checked (they would all look wrong).
    pub ids: Option<Ids>,
    pub diagnostics: Vec<Diagnostic>,
}

impl<T> Imported<T> {
    pub fn new(records: Vec<T>, ids: Ids, complete: bool, check: Checker) -> Self {
        Self {
            records,
            ids: complete.then_some(ids),
            diagnostics: check.into_diagnostics(),
        }
    }

    /// A file that could not be read at all: no records, and the diagnostic saying why.
    pub fn unreadable(diagnostic: Diagnostic) -> Self {
        Self {
            records: Vec::new(),
            ids: None,
            diagnostics: vec![diagnostic],
        }
    }
}

/// The ids of one file, with where each was first given.
#[derive(Debug, Default)]
pub(super) struct Ids {
    first: BTreeMap<String, Span>,
}

impl Ids {
    /// Records the id in `field`; a second use is a T0204 error, and false.
    pub fn claim(&mut self, check: &mut Checker, field: &Field<'_>, noun: &str) -> bool {
        let Some(first) = self.first.get(&*field.text) else {
            self.first.insert(field.text.to_string(), field.span);
            return true;
        };
        let (line, _) = check.source().line_col(first.start);
        check.report(
            codes::ESTATE_DUPLICATE_ID,
            Some(field.span),
            format!("duplicate {noun} id `{}`", field.text),
            "second use of this id",
            format!(
                "the first {noun} with this id is on line {line}; give each {noun} its own id, or remove the repeated one"
            ),
        );
        false
    }

    pub fn contains(&self, id: &str) -> bool {
        self.first.contains_key(id)
    }

    /// Every id, in sorted order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.first.keys().map(String::as_str)
    }
}

/// The kinds of record that other records refer to by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Target {
    Device,
    User,
    License,
}

impl Target {
    pub fn noun(self) -> &'static str {
        match self {
            Self::Device => "device",
            Self::User => "user",
            Self::License => "license",
        }
    }
}

/// The files references point into, with their ids when they could be read.
struct Targets<'a> {
    devices: (&'a Arc<SourceFile>, Option<&'a Ids>),
    users: (&'a Arc<SourceFile>, Option<&'a Ids>),
    licenses: (&'a Arc<SourceFile>, Option<&'a Ids>),
}

/// References by id from records to others, checked once every file is read: for each kind of
/// target and each id, where it is named. Rows that name the same id (every evidence row of a
/// device) share its entry, so a reference costs its file and span.
#[derive(Debug, Default)]
pub(super) struct References {
    /// The files that name ids, in the order first seen.
    sources: Vec<Arc<SourceFile>>,
    /// Each target and id named, in the order first named.
    named: Vec<Named>,
    /// Where each target and id is in `named`.
    index: BTreeMap<Target, BTreeMap<String, usize>>,
    /// The entry in `named` of the last reference: consecutive rows often name the same id.
    last: usize,
}

/// One target and id, and where it is named.
#[derive(Debug)]
struct Named {
    target: Target,
    id: String,
    /// The file (in [`References::sources`]) and span of each reference.
    at: Vec<(usize, Span)>,
}

impl References {
    /// Records a reference from a field and returns the id it names; `None` when empty.
    pub fn add<'f>(
        &mut self,
        target: Target,
        source: &Arc<SourceFile>,
        field: Option<&'f Field<'_>>,
    ) -> Option<&'f str> {
        let field = field?;
        let id = field.value()?;
        let file = self.file(source);
        let entry = match self.named.get(self.last) {
            Some(named) if named.target == target && named.id == id => self.last,
            _ => self.entry(target, id),
        };
        self.last = entry;
        if let Some(named) = self.named.get_mut(entry) {
            named.at.push((file, field.span));
        }
        Some(id)
    }

    /// The index of a file in `sources`, added when new.
    fn file(&mut self, source: &Arc<SourceFile>) -> usize {
        match self.sources.iter().rposition(|s| Arc::ptr_eq(s, source)) {
            Some(file) => file,
            None => {
                self.sources.push(Arc::clone(source));
                self.sources.len() - 1
            }
        }
    }

    /// The entry in `named` of a target and id, added when new.
    fn entry(&mut self, target: Target, id: &str) -> usize {
        let ids = self.index.entry(target).or_default();
        match ids.get(id) {
            Some(&entry) => entry,
            None => {
                let entry = self.named.len();
                ids.insert(id.to_owned(), entry);
                self.named.push(Named {
                    target,
                    id: id.to_owned(),
                    at: Vec::new(),
                });
                entry
            }
        }
    }

    /// A T0205 error for every reference to an id that does not exist.
    fn check(self, targets: &Targets<'_>) -> Vec<Diagnostic> {
        let mut errors = Vec::new();
        for Named { target, id, at } in self.named {
            let noun = target.noun();
            let (file, ids) = match target {
                Target::Device => targets.devices,
                Target::User => targets.users,
                Target::License => targets.licenses,
            };
            if ids.is_none_or(|ids| ids.contains(&id)) {
                continue;
            }
            let name = values::file_name(file);
            for (source, span) in at {
                let Some(source) = self.sources.get(source) else {
                    continue;
                };
                errors.push(
                    Diagnostic::error(
                        codes::ESTATE_UNKNOWN_REFERENCE,
                        source,
                        Some(span),
                        format!("unknown {noun} `{id}`"),
                    )
                    .with_label(format!("no {noun} with this id in `{name}`"))
                    .with_help(format!("add the {noun} to `{name}`, or correct the id")),
                );
            }
        }
        errors
    }
}

/// The columns of `devices.csv`: what the estate importer can fill in a device's record.
pub(crate) fn device_columns() -> impl Iterator<Item = &'static str> {
    DEVICE_COLUMNS.iter().map(|c| c.name)
}

const DEVICE_COLUMNS: &[Column] = &[
    Column::required("id"),
    Column::optional("name"),
    Column::optional("chassis"),
    Column::optional("os"),
    Column::optional("os_type"),
    Column::optional("processors"),
    Column::optional("cores"),
    Column::optional("threads"),
    Column::optional("sockets"),
    Column::optional("max_sockets"),
    Column::optional("processor_model"),
    Column::optional("host"),
    Column::optional("cluster"),
    Column::optional("partition"),
    Column::optional("subcapacity_eligible"),
    Column::optional("hosted_in"),
    Column::optional("purchased"),
    Column::optional("assigned_user"),
    Column::optional("calculated_user"),
    Column::optional("role"),
    Column::optional("status"),
    Column::optional("groups"),
];

const DEVICE_ID: What = What::required("device id", "the device's id", "WS-0012");
const CHASSIS: What = What::optional("chassis", "the chassis", "laptop");
pub(super) const OS_TYPE: What = What::optional("os type", "the os type", "desktop");
const PROCESSORS: What = What::optional("number of processors", "the processor count", "2");
const CORES: What = What::optional("number of cores", "the core count", "8");
const THREADS: What = What::optional("number of threads", "the thread count", "16");
const SOCKETS: What = What::optional("number of sockets", "the socket count", "1");
const MAX_SOCKETS: What =
    What::optional("maximum number of sockets", "the maximum socket count", "4");
const PARTITION: What = What::derived(
    "partition",
    "the partition",
    "hard_partition",
    "`vm` when the device has a host or the chassis `vm`, else `physical`",
);
const SUBCAPACITY_ELIGIBLE: What = What::defaulted(
    "sub-capacity eligibility",
    "whether the device is eligible for sub-capacity licensing",
    "false",
    "true",
);
const PURCHASED: What = What::optional(
    "hardware purchase date",
    "the hardware's purchase date",
    "2021-06-30",
);

const CHASSIS_NAMES: &[(&str, Chassis)] = &[
    ("desktop", Chassis::Desktop),
    ("laptop", Chassis::Laptop),
    ("tablet", Chassis::Tablet),
    ("server", Chassis::Server),
    ("vm", Chassis::Vm),
    ("other", Chassis::Other),
    ("notebook", Chassis::Laptop),
    ("virtual", Chassis::Vm),
];

pub(super) const OS_TYPES: &[(&str, OsType)] =
    &[("desktop", OsType::Desktop), ("server", OsType::Server)];

pub(super) fn read_devices(
    source: &Arc<SourceFile>,
    references: &mut References,
) -> Imported<Device> {
    let (mut check, mut table) = read_table(source, DEVICE_COLUMNS);
    let mut ids = Ids::default();
    let mut records = Vec::new();
    // The id and `host` fields of each device that names a host, checked once all are read.
    let mut guests = Vec::new();
    while let Some(row) = table.next_row(&mut check) {
        let id = check
            .required(row.get("id"), row.span, &DEVICE_ID)
            .filter(|id| ids.claim(&mut check, id, "device"));
        let chassis = check.choice(row.get("chassis"), &CHASSIS, CHASSIS_NAMES);
        let host = references
            .add(Target::Device, source, row.get("host"))
            .map(str::to_owned);
        let partition = check
            .choice(row.get("partition"), &PARTITION, Partition::NAMES)
            .unwrap_or(if host.is_some() || chassis == Some(Chassis::Vm) {
                Partition::Vm
            } else {
                Partition::Physical
            });
        let device = Device {
            id: values::text(id).unwrap_or_default(),
            name: values::text(row.get("name").filter(|f| f.value().is_some()).or(id))
                .unwrap_or_default(),
            chassis,
            os: values::text(row.get("os")),
            os_type: check.choice(row.get("os_type"), &OS_TYPE, OS_TYPES),
            processors: check.whole(row.get("processors"), &PROCESSORS, 0),
            cores: check.whole(row.get("cores"), &CORES, 0),
            threads: check.whole(row.get("threads"), &THREADS, 0),
            sockets: check.whole(row.get("sockets"), &SOCKETS, 0),
            max_sockets: check.whole(row.get("max_sockets"), &MAX_SOCKETS, 0),
            processor_model: values::text(row.get("processor_model")),
            host,
            cluster: values::text(row.get("cluster")),
            partition,
            subcapacity_eligible: check
                .flag(row.get("subcapacity_eligible"), &SUBCAPACITY_ELIGIBLE)
                .unwrap_or(true),
            hosted_in: values::text(row.get("hosted_in"))
                .filter(|h| !h.eq_ignore_ascii_case(ON_PREMISES)),
            purchased: check.date(row.get("purchased"), &PURCHASED),
            assigned_user: references
                .add(Target::User, source, row.get("assigned_user"))
                .map(str::to_owned),
            calculated_user: references
                .add(Target::User, source, row.get("calculated_user"))
                .map(str::to_owned),
            role: lowercase(row.get("role")),
            status: lowercase(row.get("status")),
            groups: check.groups(row.get("groups")),
        };
        if let (Some(id), Some(host)) = (id, row.get("host").filter(|f| f.value().is_some())) {
            guests.push((id.clone(), host.clone()));
        }
        if id.is_some() {
            records.push(device);
        }
    }
    check_hosts(&mut check, &guests, &records);
    Imported::new(records, ids, table.complete, check)
}

/// A T0203 error for a device that is its own host, or whose host has a host of its own: a
/// host is the machine virtual machines run on. (A host that names no device is a T0205 error,
/// found with the other references.)
fn check_hosts(check: &mut Checker, guests: &[(Field<'_>, Field<'_>)], devices: &[Device]) {
    let host_of: BTreeMap<&str, Option<&str>> = devices
        .iter()
        .map(|d| (d.id.as_str(), d.host.as_deref()))
        .collect();
    for (id, host) in guests {
        if host.text == id.text {
            check.report(
                codes::ESTATE_VALUE,
                Some(host.span),
                format!("device `{}` is its own host", id.text),
                "the device's own id",
                "write the id of the device this virtual machine runs on, or leave `host` empty for a physical device",
            );
        } else if let Some(Some(outer)) = host_of.get(&*host.text) {
            check.report(
                codes::ESTATE_VALUE,
                Some(host.span),
                format!("host `{}` is itself a virtual machine", host.text),
                format!("`{}` has the host `{outer}`", host.text),
                format!(
                    "a host is the physical machine virtual machines run on: write that machine's id, or leave the `host` of `{}` empty if it is not a virtual machine",
                    host.text
                ),
            );
        }
    }
}

fn lowercase(field: Option<&Field<'_>>) -> Option<String> {
    values::text(field).map(|s| s.to_lowercase())
}

const USER_COLUMNS: &[Column] = &[
    Column::required("id"),
    Column::optional("name"),
    Column::optional("status"),
    Column::optional("groups"),
];

const USER_ID: What = What::required("user id", "the user's id", "jdoe");
const USER_STATUS: What = What::defaulted("user status", "the user's status", "active", "active");
const USER_STATUSES: &[(&str, UserStatus)] = &[
    ("active", UserStatus::Active),
    ("inactive", UserStatus::Inactive),
    ("retired", UserStatus::Retired),
    ("pending", UserStatus::Pending),
];

fn read_users(source: &Arc<SourceFile>) -> Imported<User> {
    let (mut check, mut table) = read_table(source, USER_COLUMNS);
    let mut ids = Ids::default();
    let mut records = Vec::new();
    while let Some(row) = table.next_row(&mut check) {
        let id = check
            .required(row.get("id"), row.span, &USER_ID)
            .filter(|id| ids.claim(&mut check, id, "user"));
        let user = User {
            id: values::text(id).unwrap_or_default(),
            name: values::text(row.get("name").filter(|f| f.value().is_some()).or(id))
                .unwrap_or_default(),
            status: check
                .choice(row.get("status"), &USER_STATUS, USER_STATUSES)
                .unwrap_or(UserStatus::Active),
            groups: check.groups(row.get("groups")),
        };
        if id.is_some() {
            records.push(user);
        }
    }
    Imported::new(records, ids, table.complete, check)
}

pub(super) const EVIDENCE_COLUMNS: &[Column] = &[
    Column::required("device"),
    Column::optional("kind"),
    Column::optional("publisher"),
    Column::required("name"),
    Column::optional("version"),
    Column::optional("product_code"),
    Column::optional("system_component"),
    Column::optional("parent"),
    Column::optional("release_type"),
    Column::optional("description"),
    Column::optional("size"),
    Column::optional("class"),
    Column::optional("property"),
    Column::optional("value"),
    Column::optional("architecture"),
    Column::optional("tag_id"),
    Column::optional("edition"),
    Column::optional("licensor"),
    Column::optional("entitlement_required"),
    Column::optional("last_used"),
    Column::optional("source"),
    Column::optional("ignored"),
];

const EVIDENCE_DEVICE: What = What::required(
    "device id",
    "the id of the device the evidence was found on",
    "WS-0012",
);
const EVIDENCE_NAME: What = What::required(
    "evidence name",
    "the name the evidence shows",
    "Microsoft Visio Professional 2016",
);
const WMI_CLASS: What = What::required("WMI class", "the WMI class", "SoftwareLicensingProduct");
const WMI_PROPERTY: What = What::required("WMI property", "the WMI property", "Name");
const EVIDENCE_KIND: What = What::defaulted(
    "evidence kind",
    "the kind of evidence",
    "installer",
    "installer",
);
const FILE_SIZE: What = What::optional("file size", "the file's size in bytes", "1048576");
const SYSTEM_COMPONENT: What = What::defaulted(
    "system component flag",
    "whether the installer entry is a system component",
    "true",
    "false",
);
const ENTITLEMENT_REQUIRED: What = What::defaulted(
    "entitlement required flag",
    "whether the tag requires entitlement data",
    "true",
    "false",
);
const LAST_USED: What = What::optional("last-used date", "the last-used date", "2025-03-31");
const IGNORED: What = What::defaulted(
    "ignored flag",
    "whether the evidence is ignored",
    "true",
    "false",
);
const EVIDENCE_KINDS: &[(&str, EvidenceKind)] = EvidenceKind::NAMES;

/// The columns every kind of evidence may fill, besides the fields of its kind.
pub(super) const COMMON_EVIDENCE_COLUMNS: [&str; 5] =
    ["device", "kind", "last_used", "source", "ignored"];

/// The fields a row of the kind must fill, with how messages name them.
/// The fields every row of `kind` has a value in: an importer never yields one without them.
pub(crate) fn required_fields(kind: EvidenceKind) -> impl Iterator<Item = EvidenceField> {
    required_evidence_fields(kind)
        .iter()
        .map(|(field, _)| *field)
}

fn required_evidence_fields(kind: EvidenceKind) -> &'static [(EvidenceField, What)] {
    match kind {
        EvidenceKind::Wmi => &[
            (EvidenceField::Class, WMI_CLASS),
            (EvidenceField::Property, WMI_PROPERTY),
        ],
        _ => &[(EvidenceField::Name, EVIDENCE_NAME)],
    }
}

/// The kind's columns for help texts: `` `name`, `publisher` (company), … ``, each with the
/// name a rule gives it when that differs from the column.
fn kind_columns(kind: EvidenceKind) -> String {
    kind.fields()
        .iter()
        .map(|(rule_name, field)| {
            let column = field.column();
            if *rule_name == column {
                format!("`{column}`")
            } else {
                format!("`{column}` ({rule_name})")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads `evidence.csv`: in pieces on every core when it is large, and in one go when it is
/// small, when reading it in pieces reports a problem, or when a row names a device
/// `devices.csv` does not have, so that problems are reported, and references recorded, by one
/// reader.
fn read_evidence(
    file: &EvidenceFile,
    devices: Option<&Ids>,
    references: &mut References,
) -> Imported<Evidence> {
    if let Some(records) = file.rows_in_pieces()
        && devices.is_none_or(|ids| devices_known(&records, ids))
    {
        // Evidence has no id of its own: nothing refers to it.
        return Imported {
            records,
            ids: Some(Ids::default()),
            diagnostics: Vec::new(),
        };
    }
    let source = match file.text() {
        Ok(source) => source,
        Err(d) => return Imported::unreadable(*d),
    };
    let (mut check, mut table) = read_table(&source, EVIDENCE_COLUMNS);
    let mut records = Vec::new();
    read_evidence_rows(
        &mut table,
        &mut check,
        &source,
        Some(references),
        &mut records,
    );
    Imported::new(records, Ids::default(), table.complete, check)
}

/// Whether every row names a device among `ids`; rows in a run naming one device share its
/// text, so a run is looked up once.
fn devices_known(rows: &[Evidence], ids: &Ids) -> bool {
    let mut last: Option<&Arc<str>> = None;
    rows.iter().all(|row| {
        if last.is_some_and(|device| Arc::ptr_eq(device, &row.device)) {
            return true;
        }
        last = Some(&row.device);
        ids.contains(&row.device)
    })
}

/// Reads every row `table` has left into `records`, recording each row's device reference
/// when given `references`; returns the interner holding the rows' texts.
fn read_evidence_rows<'t>(
    table: &mut Table<'t>,
    check: &mut Checker,
    source: &Arc<SourceFile>,
    mut references: Option<&mut References>,
    records: &mut Vec<Evidence>,
) -> Interner {
    let mut reader = EvidenceReader::default();
    while let Some(row) = table.next_row(check) {
        records.push(reader.read(check, row, source, references.as_deref_mut()));
    }
    reader.strings
}

/// Reads evidence rows, sharing their texts and reusing its buffers from row to row.
struct EvidenceReader<'t> {
    /// Rows repeat their texts: each distinct one is held once.
    strings: Interner,
    /// The checked fields of the row being read.
    fields: Vec<(EvidenceField, Cow<'t, str>)>,
    columns: EvidenceColumns,
}

/// Where the columns an evidence row is read from are among [`EVIDENCE_COLUMNS`], looked up
/// once rather than by name for every row.
struct EvidenceColumns {
    device: Option<usize>,
    kind: Option<usize>,
    last_used: Option<usize>,
    source: Option<usize>,
    ignored: Option<usize>,
    /// In the order of [`EvidenceField::COLUMNS`].
    fields: Vec<Option<usize>>,
}

impl Default for EvidenceReader<'_> {
    fn default() -> Self {
        let at = |name| csv_reader::column_index(EVIDENCE_COLUMNS, name);
        Self {
            strings: Interner::default(),
            fields: Vec::new(),
            columns: EvidenceColumns {
                device: at("device"),
                kind: at("kind"),
                last_used: at("last_used"),
                source: at("source"),
                ignored: at("ignored"),
                fields: EvidenceField::COLUMNS
                    .iter()
                    .map(|(column, _)| at(column))
                    .collect(),
            },
        }
    }
}

impl<'t> EvidenceReader<'t> {
    fn read(
        &mut self,
        check: &mut Checker,
        row: &Row<'t>,
        source: &Arc<SourceFile>,
        references: Option<&mut References>,
    ) -> Evidence {
        let (strings, fields, columns) = (&mut self.strings, &mut self.fields, &self.columns);
        let device = check.required(row.at(columns.device), row.span, &EVIDENCE_DEVICE);
        let device = match references {
            Some(references) => references.add(Target::Device, source, device),
            None => device.and_then(Field::value),
        };
        // An empty kind is an installer; an unknown one is reported and its fields are not
        // checked against a kind.
        let kind = match row.at(columns.kind).filter(|f| f.value().is_some()) {
            None => Some(EvidenceKind::Installer),
            given => check.choice(given, &EVIDENCE_KIND, EVIDENCE_KINDS),
        };
        fields.clear();
        if let Some(kind) = kind {
            evidence_fields(check, row, (kind, &columns.fields), fields);
        }
        let mut take = |wanted: EvidenceField| {
            fields
                .iter()
                .position(|(f, _)| *f == wanted)
                .map(|i| fields.remove(i).1)
                .unwrap_or_default()
        };
        let (publisher, name, version) = (
            take(EvidenceField::Publisher),
            take(EvidenceField::Name),
            take(EvidenceField::Version),
        );
        Evidence {
            line: row.line,
            device: strings.intern(device.unwrap_or_default()),
            kind: kind.unwrap_or(EvidenceKind::Installer),
            publisher: strings.intern(&publisher),
            name: strings.intern(&name),
            version: strings.intern(&version),
            details: fields
                .drain(..)
                .map(|(field, text)| (field, strings.intern(&text)))
                .collect(),
            last_used: check.date(row.at(columns.last_used), &LAST_USED),
            source: row
                .at(columns.source)
                .and_then(Field::value)
                .map(|text| strings.intern(text)),
            ignored: check
                .flag(row.at(columns.ignored), &IGNORED)
                .unwrap_or(false),
        }
    }
}

/// The fields of an evidence row of `kind`, sorted by field, each checked, into `fields`: the
/// kind's required fields are there, a column the kind does not use is empty, a size is a whole
/// number of bytes and a flag is a boolean. A flag that is set is stored as `true`, one that is
/// not set is left out, so rules see `true` or nothing. `at` says where each of
/// [`EvidenceField::COLUMNS`] is among the expected columns.
fn evidence_fields<'t>(
    check: &mut Checker,
    row: &Row<'t>,
    (kind, at): (EvidenceKind, &[Option<usize>]),
    fields: &mut Vec<(EvidenceField, Cow<'t, str>)>,
) {
    for (field, what) in required_evidence_fields(kind) {
        check.required(row.get(field.column()), row.span, what);
    }
    for (&(column, field), at) in EvidenceField::COLUMNS.iter().zip(at) {
        let Some(cell) = row.at(*at).filter(|f| f.value().is_some()) else {
            continue;
        };
        if !kind.fields().iter().any(|(_, f)| *f == field) {
            check.report(
                codes::ESTATE_VALUE,
                Some(cell.span),
                format!("`{}` evidence has no `{column}`", kind.as_str()),
                format!("not a column of `{}` evidence", kind.as_str()),
                format!(
                    "a `{}` row fills {} (and {}); leave `{column}` empty, or correct the row's `kind`",
                    kind.as_str(),
                    kind_columns(kind),
                    backticked(COMMON_EVIDENCE_COLUMNS)
                ),
            );
            continue;
        }
        let value = match field {
            EvidenceField::Size => {
                check
                    .whole_up_to(Some(cell), &FILE_SIZE, 0, u64::MAX)
                    .map(|bytes| {
                        // Digits only: stored as written, unless written with leading zeros.
                        if cell.text.len() > 1 && cell.text.starts_with('0') {
                            Cow::Owned(bytes.to_string())
                        } else {
                            cell.text.clone()
                        }
                    })
            }
            EvidenceField::SystemComponent => flag_text(check.flag(Some(cell), &SYSTEM_COMPONENT)),
            EvidenceField::EntitlementRequired => {
                flag_text(check.flag(Some(cell), &ENTITLEMENT_REQUIRED))
            }
            _ => Some(cell.text.clone()),
        };
        if let Some(value) = value {
            fields.push((field, value));
        }
    }
    fields.sort_by_key(|(field, _)| *field);
}

/// A flag as evidence stores it: `true` when set, nothing otherwise.
fn flag_text(flag: Option<bool>) -> Option<Cow<'static, str>> {
    flag.filter(|set| *set).map(|_| Cow::Borrowed("true"))
}

const PURCHASE_COLUMNS: &[Column] = &[
    Column::required("id"),
    Column::optional("license"),
    Column::optional("sku"),
    Column::required("quantity"),
    Column::optional("unit_price"),
    Column::optional("currency"),
    Column::optional("date"),
    Column::optional("effective"),
    Column::optional("expiry"),
    Column::optional("disabled"),
];

const PURCHASE_ID: What = What::required("purchase id", "the purchase's id", "PO-1001");
const QUANTITY: What = What::required("quantity", "the quantity", "10");
pub(super) const UNIT_PRICE: What = What::optional("unit price", "the unit price", "389.00");
const PURCHASE_DATE: What = What::optional("purchase date", "the purchase date", "2025-01-15");
const EFFECTIVE: What = What::optional("effective date", "the effective date", "2025-01-01");
pub(super) const EXPIRY: What = What::optional("expiry date", "the expiry date", "2025-12-31");
const DISABLED: What = What::defaulted(
    "disabled flag",
    "whether the purchase is disabled",
    "true",
    "false",
);

fn read_purchases(
    source: &Arc<SourceFile>,
    licenses: &Imported<License>,
    references: &mut References,
) -> Imported<Purchase> {
    let (mut check, mut table) = read_table(source, PURCHASE_COLUMNS);
    let linked = table.has("license") || table.has("sku");
    if !linked && table.has_header() {
        check.report(
            codes::ESTATE_COLUMNS,
            Some(table.header),
            "missing column `license` or `sku`",
            "no `license` or `sku` column in this header",
            "add a `license` column naming each purchase's license, or a `sku` column with the sku of exactly one license",
        );
    }
    // The licenses by sku, to link purchases that name only a sku; `None` when
    // `licenses.yaml` could not be read, so such links cannot be checked.
    let by_sku = licenses.ids.as_ref().map(|_| {
        let mut by_sku: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for license in &licenses.records {
            if let Some(sku) = &license.sku {
                by_sku.entry(sku).or_default().push(&license.id);
            }
        }
        by_sku
    });
    // Each license's entitlements so far (its extra entitlements and the quantities of its
    // enabled purchases), which must fit a decimal so that positions can add them up.
    let mut entitled: BTreeMap<String, Decimal> = licenses
        .records
        .iter()
        .map(|l| (l.id.clone(), l.extra_entitlements))
        .collect();
    let mut ids = Ids::default();
    let mut records = Vec::new();
    while let Some(row) = table.next_row(&mut check) {
        let id = check
            .required(row.get("id"), row.span, &PURCHASE_ID)
            .filter(|id| ids.claim(&mut check, id, "purchase"));
        let license = match references.add(Target::License, source, row.get("license")) {
            Some(license) => Some(license.to_owned()),
            None if linked => link_by_sku(&mut check, row, by_sku.as_ref()),
            None => None,
        };
        let quantity = check
            .required(row.get("quantity"), row.span, &QUANTITY)
            .and_then(|f| check.amount(Some(f), &QUANTITY));
        let effective = check.date(row.get("effective"), &EFFECTIVE);
        let expiry = check.date(row.get("expiry"), &EXPIRY);
        if let (Some(from), Some(to), Some(field)) = (effective, expiry, row.get("expiry"))
            && to < from
        {
            check.report(
                codes::ESTATE_VALUE,
                Some(field.span),
                format!("expiry date `{to}` is before the effective date `{from}`"),
                "before the effective date",
                "check the two dates: a purchase adds entitlements from `effective` to `expiry`, inclusive",
            );
        }
        let disabled = check.flag(row.get("disabled"), &DISABLED).unwrap_or(false);
        if let (Some(license), Some(quantity), false) = (&license, quantity, disabled) {
            add_entitlements(&mut check, &mut entitled, license, quantity, row);
        }
        let purchase = Purchase {
            id: values::text(id).unwrap_or_default(),
            license: license.unwrap_or_default(),
            sku: values::text(row.get("sku")),
            quantity: quantity.unwrap_or_default(),
            unit_price: check.amount(row.get("unit_price"), &UNIT_PRICE),
            currency: check.currency(row.get("currency")),
            date: check.date(row.get("date"), &PURCHASE_DATE),
            effective,
            expiry,
            disabled,
        };
        if id.is_some() {
            records.push(purchase);
        }
    }
    Imported::new(records, ids, table.complete, check)
}

/// Adds a purchase's quantity to its license's entitlements; a T0207 error when the sum would
/// be more than a decimal holds (the sum then stays as it was, so one error is reported per
/// purchase that passes the limit).
fn add_entitlements(
    check: &mut Checker,
    entitled: &mut BTreeMap<String, Decimal>,
    license: &str,
    quantity: Decimal,
    row: &Row<'_>,
) {
    let total = entitled.entry(license.to_owned()).or_default();
    if let Some(sum) = total.checked_add(quantity) {
        *total = sum;
        return;
    }
    let span = row.get("quantity").map_or(row.span, |f| f.span);
    check.report(
        codes::ESTATE_TOO_LARGE,
        Some(span),
        format!("the purchases of license `{license}` add up to more than Tally can compute with"),
        format!("the total passes {} here", Decimal::MAX),
        format!(
            "check this quantity for a typo, such as a price or an id pasted into the `quantity` column: Tally computes exactly, with decimals up to {}",
            Decimal::MAX
        ),
    );
}

const USAGE_COLUMNS: &[Column] = &[
    Column::required("application"),
    Column::required("at"),
    Column::required("in_use"),
];

const APPLICATION: What = What::required(
    "application id",
    "the application's id",
    "microsoft.visio.professional_2016",
);
const AT: What = What::required("usage time", "when the count was taken", "2025-03-31T14:30");
const IN_USE: What = What::required("in-use count", "how many were in use", "12");

/// Reads `usage.csv`. Its application ids are not checked against the packs.
fn read_usage(source: &Arc<SourceFile>) -> Imported<Usage> {
    let (mut check, mut table) = read_table(source, USAGE_COLUMNS);
    let mut records = Vec::new();
    while let Some(row) = table.next_row(&mut check) {
        let application = check.required(row.get("application"), row.span, &APPLICATION);
        let at = check
            .required(row.get("at"), row.span, &AT)
            .and_then(|f| check.moment(Some(f), &AT));
        let in_use = check
            .required(row.get("in_use"), row.span, &IN_USE)
            .and_then(|f| check.whole(Some(f), &IN_USE, 0));
        if let (Some(application), Some(at), Some(in_use)) = (application, at, in_use) {
            records.push(Usage {
                application: application.text.to_string(),
                at,
                in_use: Decimal::from(in_use),
            });
        }
    }
    // Nothing refers to usage rows.
    Imported::new(records, Ids::default(), table.complete, check)
}

/// The license of a purchase row without a `license`: the one license with the row's sku.
fn link_by_sku(
    check: &mut Checker,
    row: &Row<'_>,
    by_sku: Option<&BTreeMap<&str, Vec<&str>>>,
) -> Option<String> {
    let Some(field) = row.get("sku").filter(|f| f.value().is_some()) else {
        let span = row.get("license").map_or(row.span, |f| f.span);
        check.report(
            codes::ESTATE_VALUE,
            Some(span),
            "purchase names no license",
            "no license or sku",
            "write the license's id in the `license` column, or the sku of exactly one license in the `sku` column",
        );
        return None;
    };
    let by_sku = by_sku?;
    let sku = &*field.text;
    match by_sku.get(sku).map(Vec::as_slice).unwrap_or_default() {
        [license] => Some((*license).to_owned()),
        [] => {
            check.report(
                codes::ESTATE_UNKNOWN_REFERENCE,
                Some(field.span),
                format!("no license has the sku `{sku}`"),
                "no license in `licenses.yaml` has this sku",
                format!(
                    "{}add a license with `sku: {sku}` to `licenses.yaml`, or write the license's id in the `license` column",
                    values::did_you_mean_prefix(sku, by_sku.keys().copied())
                ),
            );
            None
        }
        several => {
            check.report(
                codes::ESTATE_UNKNOWN_REFERENCE,
                Some(field.span),
                format!("sku `{sku}` matches several licenses: {}", backticked(several.iter().copied())),
                "more than one license has this sku",
                "write the license's id in the `license` column to say which license the purchase is for",
            );
            None
        }
    }
}

/// A checker for the file and its table, whose rows are then read one by one.
pub(super) fn read_table<'t>(
    source: &'t Arc<SourceFile>,
    columns: &'static [Column],
) -> (Checker, Table<'t>) {
    let mut check = Checker::new(source);
    let table = csv_reader::read(&mut check, source, columns);
    (check, table)
}

mod in_pieces;
#[cfg(test)]
mod tests;
