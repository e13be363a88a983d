//! The server's state: the runtime's [`Workspace`] (one salsa database) loaded with the
//! standard packs and the rule files of the workspace folders, the text of the open documents,
//! and the map between rule-file paths and the client's URIs.
//!
//! Edits are applied under one lock, each setting the edited file's input to the document's
//! current text, so however the edit tasks interleave the last one leaves the last text.
//! Requests read a [`Snapshot`]: a clone of the database, which a later edit cancels (salsa
//! unwinds its queries with `Cancelled`, caught at the request boundary).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use tally_compiler::diagnostics::{Diagnostic, SourceFile};
use tally_runtime::db::{Database, RuleFile, Rules};
use tally_runtime::sources;
use tally_runtime::workspace::{Change, RuleSource, Workspace};
use tower_lsp_server::ls_types::{TextDocumentContentChangeEvent, Uri};

use crate::settings::Settings;
use crate::text::{self, Encoding};

/// An open document: the client's version and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub version: i32,
    pub text: String,
}

/// Where a rule file is shown to the client, and whether the client may change it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub uri: Uri,
    /// The standard packs compiled into tally: shown, never changed.
    pub read_only: bool,
    /// The file on disk the entry is read from when no editor has it open.
    pub on_disk: Option<PathBuf>,
    /// The folder the file must stay inside when it is read from disk.
    pub root: Option<PathBuf>,
}

/// Rule-file paths (as diagnostics show them) and the URIs of the client, both ways.
#[derive(Debug, Clone, Default)]
pub struct FileMap {
    entries: BTreeMap<String, FileEntry>,
    paths: HashMap<String, String>,
}

impl FileMap {
    /// How a URI is looked up: a file's path, so that two spellings of one file meet.
    fn key(uri: &Uri) -> String {
        if uri.scheme().as_str().eq_ignore_ascii_case("file")
            && let Some(path) = uri.to_file_path()
        {
            return path.to_string_lossy().into_owned();
        }
        uri.as_str().to_string()
    }

    pub fn path_of(&self, uri: &Uri) -> Option<&str> {
        self.paths.get(&Self::key(uri)).map(String::as_str)
    }

    pub fn entry(&self, path: &str) -> Option<&FileEntry> {
        self.entries.get(path)
    }

    pub fn uri_of(&self, path: &str) -> Option<&Uri> {
        self.entries.get(path).map(|e| &e.uri)
    }

    pub fn read_only(&self, path: &str) -> bool {
        self.entries.get(path).is_some_and(|e| e.read_only)
    }

    pub fn insert(&mut self, path: String, entry: FileEntry) {
        self.paths.insert(Self::key(&entry.uri), path.clone());
        self.entries.insert(path, entry);
    }

    pub fn remove(&mut self, path: &str) {
        if let Some(entry) = self.entries.remove(path) {
            self.paths.remove(&Self::key(&entry.uri));
        }
    }

    /// Every path with its entry, sorted by path.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &FileEntry)> {
        self.entries.iter().map(|(p, e)| (p.as_str(), e))
    }
}

/// What a request reads: a clone of the database at one revision.
pub struct Snapshot {
    pub db: Database,
    pub rules: Rules,
    pub files: Arc<FileMap>,
    /// The version of each open document whose text this snapshot holds, by path.
    pub versions: Arc<HashMap<String, i32>>,
    pub settings: Arc<Settings>,
    /// How many edits the workspace had taken when the snapshot was made.
    pub generation: u64,
}

impl Snapshot {
    /// The rule file input of a path.
    pub fn file(&self, path: &str) -> Option<RuleFile> {
        self.rules
            .files(&self.db)
            .iter()
            .find(|f| f.source(&self.db).path == path)
            .copied()
    }

    /// The rule file input of a URI, with its path.
    pub fn file_of(&self, uri: &Uri) -> Option<(RuleFile, &str)> {
        let path = self.files.path_of(uri)?;
        Some((self.file(path)?, path))
    }

    pub fn encoding(&self) -> Encoding {
        self.settings.encoding
    }
}

/// The loaded workspace and its file map.
struct Loaded {
    workspace: Workspace,
    files: Arc<FileMap>,
    /// The workspace folders.
    roots: Vec<PathBuf>,
    /// The version of each open document whose text the database holds, by path.
    versions: Arc<HashMap<String, i32>>,
}

/// Everything the server keeps between messages.
#[derive(Default)]
pub struct State {
    loaded: Mutex<Option<Loaded>>,
    documents: Mutex<HashMap<Uri, Document>>,
    settings: OnceLock<Arc<Settings>>,
    generation: AtomicU64,
}

/// Locks a mutex; a thread that panicked while holding it left the data as it was between
/// two whole operations, so it is used as it is.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl State {
    pub fn settings(&self) -> Arc<Settings> {
        self.settings.get().cloned().unwrap_or_default()
    }

    /// Loads the standard packs and the rule files of the workspace folders. Returns the
    /// diagnostics of the files that could not be read, which are left out.
    pub fn load(
        &self,
        settings: Settings,
        standard: &[(&str, &str)],
        roots: &[PathBuf],
    ) -> Vec<Diagnostic> {
        let (sources, files, problems) = gather(&settings, standard, roots);
        let _ = self.settings.set(Arc::new(settings));
        let workspace = Workspace::for_editing(Database::default(), sources, today());
        *lock(&self.loaded) = Some(Loaded {
            workspace,
            files: Arc::new(files),
            roots: roots.to_vec(),
            versions: Arc::default(),
        });
        self.generation.fetch_add(1, Ordering::SeqCst);
        problems
    }

    pub fn snapshot(&self) -> Option<Snapshot> {
        let loaded = lock(&self.loaded);
        let loaded = loaded.as_ref()?;
        let db = loaded.workspace.db.clone();
        Some(Snapshot {
            rules: loaded.workspace.estate.rules(&db),
            db,
            files: Arc::clone(&loaded.files),
            versions: Arc::clone(&loaded.versions),
            settings: self.settings(),
            generation: self.generation.load(Ordering::SeqCst),
        })
    }

    /// Records an opened document (before its text reaches the database).
    pub fn open_document(&self, uri: Uri, version: i32, text: String) {
        lock(&self.documents).insert(uri, Document { version, text });
    }

    /// Applies a document's edits to its text, in the order given.
    pub fn change_document(
        &self,
        uri: &Uri,
        version: i32,
        changes: &[TextDocumentContentChangeEvent],
    ) {
        let encoding = self.settings().encoding;
        if let Some(document) = lock(&self.documents).get_mut(uri) {
            text::apply_changes(&mut document.text, changes, encoding);
            document.version = version;
        }
    }

    pub fn close_document(&self, uri: &Uri) {
        lock(&self.documents).remove(uri);
    }

    /// Brings the database up to date with a document: its open text, or, once closed, the
    /// file on disk (a file outside the workspace folders is dropped). Returns whether
    /// anything changed.
    pub fn sync(&self, uri: &Uri) -> bool {
        let document = lock(&self.documents).get(uri).cloned();
        match document {
            Some(document) => self.update(uri, Source::Open(document)),
            None => self.update(uri, Source::Closed),
        }
    }

    /// Brings the database up to date with a file changed on disk, unless an editor has it
    /// open (then the editor's text wins).
    pub fn reload(&self, uri: &Uri) -> bool {
        if lock(&self.documents).contains_key(uri) {
            return false;
        }
        self.update(uri, Source::Disk)
    }

    fn update(&self, uri: &Uri, source: Source) -> bool {
        let mut loaded = lock(&self.loaded);
        let Some(loaded) = loaded.as_mut() else {
            return false;
        };
        let files = Arc::make_mut(&mut loaded.files);
        let path = match files.path_of(uri) {
            Some(path) => path.to_string(),
            None => {
                let Some((path, entry)) = new_entry(uri, &loaded.roots) else {
                    return false;
                };
                files.insert(path.clone(), entry);
                path
            }
        };
        let Some(entry) = files.entry(&path).cloned() else {
            return false;
        };
        if entry.read_only {
            return false;
        }
        let versions = Arc::make_mut(&mut loaded.versions);
        let text = match source {
            Source::Open(document) => {
                versions.insert(path.clone(), document.version);
                Some(document.text)
            }
            Source::Closed if entry.root.is_none() => {
                versions.remove(&path);
                None
            }
            Source::Closed | Source::Disk => {
                versions.remove(&path);
                entry.on_disk.as_deref().and_then(|disk| {
                    let root = entry
                        .root
                        .clone()
                        .unwrap_or_else(|| sources::pack_root(disk).to_path_buf());
                    sources::read_rule_file(disk, &root)
                        .ok()
                        .map(|s| s.text.clone())
                })
            }
        };
        let old = loaded.workspace.rule_file(&path);
        let change = match text {
            Some(text) if old.as_ref().is_some_and(|o| o.source.text == text) => return false,
            Some(text) => Change::RuleFile(RuleSource {
                source: SourceFile::new(path.clone(), text),
                standard: false,
            }),
            None => {
                if entry.root.is_none() || entry.on_disk.as_deref().is_some_and(|d| !d.exists()) {
                    files.remove(&path);
                }
                if old.is_none() {
                    return false;
                }
                Change::RemoveRuleFile(path.clone())
            }
        };
        // Every id the change names is loaded or added by it.
        let _ = loaded.workspace.apply(vec![change]);
        self.generation.fetch_add(1, Ordering::SeqCst);
        true
    }
}

/// Where the text of a rule file comes from.
enum Source {
    /// An open document.
    Open(Document),
    /// A document just closed: the file on disk, if it is in a workspace folder.
    Closed,
    /// The file on disk, changed outside the editor.
    Disk,
}

/// The path and entry of a rule file seen for the first time: a file in a workspace folder is
/// known by its path in the folder, as the files found at the start are; another by its file
/// path, or the URI itself for another scheme. Only rule files and scripts are taken.
fn new_entry(uri: &Uri, roots: &[PathBuf]) -> Option<(String, FileEntry)> {
    let disk = uri
        .to_file_path()
        .filter(|_| uri.scheme().as_str().eq_ignore_ascii_case("file"))
        .map(|p| p.into_owned());
    let inside = disk.as_ref().and_then(|d| {
        roots.iter().enumerate().find_map(|(i, root)| {
            let relative = d.strip_prefix(root).ok()?;
            Some((shown_path(i, root, relative), root.clone()))
        })
    });
    let (path, root) = match (&disk, inside) {
        (_, Some((path, root))) => (path, Some(root)),
        (Some(disk), None) => (disk.to_string_lossy().replace('\\', "/"), None),
        (None, None) => (uri.as_str().to_string(), None),
    };
    (path.ends_with(".tally") || path.ends_with(".rhai")).then(|| {
        (
            path,
            FileEntry {
                uri: uri.clone(),
                read_only: false,
                on_disk: disk,
                root,
            },
        )
    })
}

/// How a file of the `i`-th workspace folder is shown: the first folder's files by their
/// path in it; later folders' files under the folder's name, so two folders cannot collide.
fn shown_path(i: usize, root: &Path, relative: &Path) -> String {
    let relative = relative.to_string_lossy().replace('\\', "/");
    if i == 0 {
        return relative;
    }
    let name = root
        .file_name()
        .map_or_else(|| i.to_string(), |n| n.to_string_lossy().into_owned());
    format!("{name}/{relative}")
}

fn today() -> jiff::civil::Date {
    jiff::Zoned::now().date()
}

/// Folders never searched for rule files: version control, build output, dependencies.
const SKIPPED_FOLDERS: &[&str] = &["target", "node_modules"];

/// The rule files of the standard packs and of the workspace folders, the map of their URIs,
/// and the diagnostics of the files that could not be read. A standard file that a workspace
/// folder holds at the same relative path (the folder is Tally's own repository) is read from
/// the folder, and can be edited there.
fn gather(
    settings: &Settings,
    standard: &[(&str, &str)],
    roots: &[PathBuf],
) -> (Vec<RuleSource>, FileMap, Vec<Diagnostic>) {
    let mut sources = Vec::new();
    let mut files = FileMap::default();
    let mut problems = Vec::new();
    let mut on_disk: BTreeMap<String, (PathBuf, PathBuf)> = BTreeMap::new();
    for (i, root) in roots.iter().enumerate() {
        let mut found = Vec::new();
        walk(
            root,
            root,
            &mut found,
            &mut std::collections::BTreeSet::new(),
        );
        found.sort();
        for path in found {
            let Ok(relative) = path.strip_prefix(root) else {
                continue;
            };
            let shown = shown_path(i, root, relative);
            on_disk.entry(shown).or_insert((path.clone(), root.clone()));
        }
    }
    let uris = crate::standard::uris(settings, standard);
    for ((path, text), uri) in standard.iter().zip(uris.entries) {
        if on_disk.contains_key(*path) {
            continue;
        }
        sources.push(RuleSource {
            source: SourceFile::new(*path, *text),
            standard: true,
        });
        files.insert(
            (*path).to_string(),
            FileEntry {
                uri,
                read_only: true,
                on_disk: None,
                root: None,
            },
        );
    }
    problems.extend(uris.problem);
    let standard_paths: std::collections::BTreeSet<&str> =
        standard.iter().map(|(p, _)| *p).collect();
    for (shown, (disk, root)) in on_disk {
        let Some(uri) = Uri::from_file_path(&disk) else {
            continue;
        };
        match sources::read_rule_file(&disk, &root) {
            Ok(source) => {
                sources.push(RuleSource {
                    source: SourceFile::new(shown.clone(), source.text.clone()),
                    standard: standard_paths.contains(shown.as_str()),
                });
                files.insert(
                    shown,
                    FileEntry {
                        uri,
                        read_only: false,
                        on_disk: Some(disk),
                        root: Some(root),
                    },
                );
            }
            Err(problem) => problems.push(*problem),
        }
    }
    (sources, files, problems)
}

/// Collects the rule files and scripts below `dir`, skipping hidden folders and
/// [`SKIPPED_FOLDERS`]; links must stay inside `root`, and `seen` (the real paths of the
/// folders searched) ends a loop of links.
fn walk(
    dir: &Path,
    root: &Path,
    found: &mut Vec<PathBuf>,
    seen: &mut std::collections::BTreeSet<PathBuf>,
) {
    let Ok(real) = std::fs::canonicalize(dir) else {
        return;
    };
    if !seen.insert(real) {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if tally_runtime::files::check_inside(&path, root).is_err() {
            continue;
        }
        if path.is_dir() {
            if !name.starts_with('.') && !SKIPPED_FOLDERS.contains(&name.as_ref()) {
                walk(&path, root, found, seen);
            }
        } else if name.ends_with(".tally") || name.ends_with(".rhai") {
            found.push(path);
        }
    }
}

/// A diagnostic about the server's own setup (no file of the workspace), for the client's
/// log.
pub fn setup_problem(
    code: tally_compiler::diagnostics::Code,
    message: String,
    help: &str,
) -> Diagnostic {
    Diagnostic::error(
        code,
        &SourceFile::new("<language server>", ""),
        None,
        message,
    )
    .with_help(help)
}
