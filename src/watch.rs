//! `tally watch ESTATE`: keeps an estate and the user's rule packs loaded, and after every
//! save prints what changed in the license position and why.
//!
//! The loop is thin: file-system events (through `notify`, debounced) name the files that
//! changed; only those are read again. Estate files replace their text in the kept
//! [`EstateFiles`], which the workspace loads by difference; rule files are applied as
//! [`Change::RuleFile`] and [`Change::RemoveRuleFile`]. What changed is
//! [`PositionDelta`], from the runtime. A bad edit prints its diagnostics and keeps the last
//! good state (rule edits are applied back), until a save makes the files good again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use clap::Args;
use jiff::civil::Date;
use notify_debouncer_full::notify::event::{AccessKind, AccessMode};
use notify_debouncer_full::notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, new_debouncer};
use tally_compiler::diagnostics::{Diagnostic, SourceFile};
use tally_runtime::delta::PositionDelta;
use tally_runtime::estate::EstateFiles;
use tally_runtime::position::Position;
use tally_runtime::reconcile::Assessment;
use tally_runtime::report;
use tally_runtime::sources;
use tally_runtime::workspace::{Change, RuleSource, Workspace};

use super::{Failure, Io, RuleArgs, codes, compile, parse_day, position_table, today, workspace};

/// How long the files must be quiet before a change is read: editors write a file in several
/// steps (truncate, write, rename into place).
const DEBOUNCE: Duration = Duration::from_millis(200);

/// How often the loop looks whether it was asked to stop.
const STOP_POLL: Duration = Duration::from_millis(100);

/// How many changed assessment rows are shown per license.
const ROWS_SHOWN: usize = 5;

/// The arguments of `tally watch`.
#[derive(Args)]
pub(crate) struct WatchArgs {
    /// The estate folder to watch (the bundled sample estate cannot be watched).
    #[arg(value_name = "ESTATE")]
    estate: PathBuf,
    #[command(flatten)]
    rules: RuleArgs,
    /// The day purchases are judged current on (YYYY-MM-DD); today when omitted.
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    as_of: Option<Date>,
}

/// A `--pack` as given, and where its events come from.
struct Pack {
    /// As given on the command line: rule file paths are shown, and keyed, under it.
    given: PathBuf,
    /// Its real path, under which events name files.
    real: PathBuf,
    /// The folder its files must stay inside, as given.
    root: PathBuf,
    folder: bool,
}

/// A changed path, as the watch reads it.
enum Changed {
    /// A file of the estate folder, by name.
    Estate(String),
    /// A path inside a pack (or the pack file itself), as it would be shown, with its pack.
    Rule(PathBuf, usize),
}

/// What the loop keeps between saves.
struct Watch {
    ws: Workspace,
    estate: PathBuf,
    estate_real: PathBuf,
    packs: Vec<Pack>,
    /// The estate files as last read from disk, good or not.
    files: EstateFiles,
    /// Estate files that could not be read, by name.
    unreadable: BTreeMap<String, Diagnostic>,
    /// Rule files whose text on disk differs from the workspace's (`None`: deleted): edits
    /// not yet applied because the rules or the estate had errors with them.
    pending: BTreeMap<String, Option<Arc<SourceFile>>>,
    /// Rule files that could not be read, by path.
    rules_unreadable: BTreeMap<String, Diagnostic>,
    /// The last good state's positions and rows, which the next delta is taken against.
    positions: Vec<Position>,
    rows: Vec<Assessment>,
    /// Whether the last update failed.
    failing: bool,
}

/// `tally watch`: loads, prints the position, then prints a delta after each save until
/// `stop` receives a message or its sender is dropped (without one, until the process ends).
pub(crate) fn run(
    io: &mut Io,
    args: &WatchArgs,
    stop: Option<&Receiver<()>>,
) -> Result<(), Failure> {
    let mut ws = workspace(&[], &args.rules, args.as_of.unwrap_or_else(today))?;
    compile(io, &ws)?;
    if !args.estate.is_dir() {
        // The folder's own diagnostic (T0201), as other commands give it.
        EstateFiles::read_dir(&args.estate).map_err(Failure::Input)?;
    }
    let estate_real = real(&args.estate)?;
    let packs = args
        .rules
        .packs
        .iter()
        .map(|given| {
            Ok(Pack {
                given: given.clone(),
                real: real(given)?,
                root: sources::pack_root(given).to_path_buf(),
                folder: given.is_dir(),
            })
        })
        .collect::<Result<Vec<_>, Failure>>()?;

    // Watch before reading the estate, so that a save while it loads is not missed.
    let (tx, events) = mpsc::channel::<DebounceEventResult>();
    let mut debouncer = new_debouncer(DEBOUNCE, None, tx)
        .map_err(|e| Failure::Input(vec![cannot_watch(&args.estate, &e.to_string())]))?;
    let mut watched: Vec<(&Path, &Path, RecursiveMode)> =
        vec![(&estate_real, &args.estate, RecursiveMode::NonRecursive)];
    for pack in &packs {
        if pack.folder {
            watched.push((&pack.real, &pack.given, RecursiveMode::Recursive));
        } else {
            // A file's folder, not the file: an editor that saves by renaming a new file into
            // place would end a watch on the old one.
            let folder = pack.real.parent().unwrap_or(Path::new("/"));
            watched.push((folder, &pack.given, RecursiveMode::NonRecursive));
        }
    }
    for (path, given, mode) in watched {
        debouncer
            .watch(path, mode)
            .map_err(|e| Failure::Input(vec![cannot_watch(given, &e.to_string())]))?;
    }

    let files = EstateFiles::read_dir(&args.estate).map_err(Failure::Input)?;
    ws.load_files(&files).map_err(Failure::Input)?;
    position_table(io, ws.positions());
    let rule_files = ws.rule_paths().filter(|(_, standard)| !standard).count();
    io.print(&format!(
        "\nwatching {} and {}; press Ctrl-C to stop\n",
        args.estate.display(),
        report::plural(rule_files, "rule file")
    ));
    io.flush();

    let mut watch = Watch {
        positions: ws.positions().to_vec(),
        rows: ws.assessments().to_vec(),
        ws,
        estate: args.estate.clone(),
        estate_real,
        packs,
        files,
        unreadable: BTreeMap::new(),
        pending: BTreeMap::new(),
        rules_unreadable: BTreeMap::new(),
        failing: false,
    };
    while io.write_error.is_none() && !stopped(stop) {
        match events.recv_timeout(STOP_POLL) {
            Ok(Ok(events)) => {
                let started = Instant::now();
                let rescan = events.iter().any(|e| e.need_rescan());
                let paths: BTreeSet<PathBuf> = events
                    .into_iter()
                    .filter(|e| matters(&e.kind))
                    .flat_map(|e| e.event.paths)
                    .collect();
                let changed = if rescan {
                    watch.everything()
                } else {
                    paths.iter().filter_map(|p| watch.classify(p)).collect()
                };
                if !changed.is_empty() {
                    watch.update(io, changed, started);
                    io.flush();
                }
            }
            Ok(Err(errors)) => {
                let diagnostics: Vec<Diagnostic> = errors
                    .iter()
                    .map(|e| cannot_watch(&args.estate, &e.to_string()).warning())
                    .collect();
                io.diagnostics(&diagnostics);
            }
            Err(RecvTimeoutError::Timeout) => {}
            // The watcher's thread ended: nothing more will come.
            Err(RecvTimeoutError::Disconnected) => {
                let diagnostic = cannot_watch(&args.estate, "the watcher stopped");
                return Err(Failure::Input(vec![diagnostic]));
            }
        }
    }
    Ok(())
}

/// Whether the loop was asked to stop: a message, or the sender gone.
fn stopped(stop: Option<&Receiver<()>>) -> bool {
    stop.is_some_and(|s| !matches!(s.try_recv(), Err(TryRecvError::Empty)))
}

/// Whether an event can mean new content: not a file opened or read (as the watch's own reads
/// are), but a write closed, a change, a creation, a removal or a rename.
fn matters(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

/// The real path of something given on the command line, under which events name it.
fn real(path: &Path) -> Result<PathBuf, Failure> {
    std::fs::canonicalize(path)
        .map_err(|e| Failure::Input(vec![cannot_watch(path, &e.to_string())]))
}

/// T0306: a path could not be watched.
fn cannot_watch(path: &Path, reason: &str) -> Diagnostic {
    let shown = path.display().to_string();
    Diagnostic::error(
        codes::WATCH_FAILED,
        &SourceFile::new(shown.clone(), ""),
        None,
        format!("cannot watch `{shown}`: {reason}"),
    )
    .with_help(
        "check that the folder exists and can be read; on Linux, a full inotify watch table is \
         raised with `sysctl fs.inotify.max_user_watches`",
    )
}

impl Watch {
    /// What a path names: an estate file, a path inside a pack, or nothing the watch reads.
    fn classify(&self, path: &Path) -> Option<Changed> {
        if path.parent() == Some(self.estate_real.as_path()) {
            let name = path.file_name()?.to_str()?;
            if EstateFiles::is_estate_file(name) {
                return Some(Changed::Estate(name.to_owned()));
            }
        }
        self.packs.iter().enumerate().find_map(|(i, pack)| {
            if pack.folder {
                let inside = path.strip_prefix(&pack.real).ok()?;
                if inside.as_os_str().is_empty() {
                    // The pack's folder itself (moved away or back): all of it.
                    return Some(Changed::Rule(pack.given.clone(), i));
                }
                Some(Changed::Rule(pack.given.join(inside), i))
            } else {
                (path == pack.real).then(|| Changed::Rule(pack.given.clone(), i))
            }
        })
    }

    /// Every file the watch reads, after the events were lost (the system's queue overflowed).
    fn everything(&self) -> Vec<Changed> {
        let mut all: Vec<Changed> = [
            "devices.csv",
            "users.csv",
            "evidence.csv",
            "licenses.yaml",
            "purchases.csv",
            "usage.csv",
        ]
        .map(|n| Changed::Estate(n.to_owned()))
        .into();
        all.extend(
            self.packs
                .iter()
                .enumerate()
                .map(|(i, p)| Changed::Rule(p.given.clone(), i)),
        );
        all
    }

    /// Reads what changed, applies it if the files are good, and prints what moved; on bad
    /// files prints their diagnostics and keeps the last good state.
    fn update(&mut self, io: &mut Io, changed: Vec<Changed>, started: Instant) {
        let mut read = Read::default();
        for change in changed {
            match change {
                Changed::Estate(name) => self.read_estate_file(&name, &mut read),
                Changed::Rule(path, pack) => self.read_rule_path(&path, pack, &mut read),
            }
        }
        if !read.touched {
            return;
        }
        let what = read.describe();
        let mut errors: Vec<Diagnostic> = self
            .unreadable
            .values()
            .chain(self.rules_unreadable.values())
            .cloned()
            .collect();
        let mut warnings = Vec::new();
        if errors.is_empty() {
            match self.apply(&read) {
                Ok(w) => warnings = w,
                Err(e) => errors = e,
            }
        }
        let elapsed = started.elapsed().as_millis();
        let clock = jiff::Zoned::now().strftime("%H:%M:%S").to_string();
        if !errors.is_empty() {
            self.failing = true;
            let count = errors.iter().filter(|d| d.is_error()).count();
            io.print(&format!(
                "\n{clock}  {what}: {} ({elapsed} ms)\n",
                report::plural(count, "error")
            ));
            io.flush();
            io.diagnostics(&errors);
            io.error("kept the last good state; fix the file to go on\n");
            return;
        }
        io.diagnostics(&warnings);
        let delta = PositionDelta::between(
            &self.positions,
            &self.rows,
            self.ws.positions(),
            self.ws.assessments(),
        );
        let moved = delta.moved().count();
        let since = if std::mem::take(&mut self.failing) {
            "good again; "
        } else {
            ""
        };
        let summary = if moved == 0 {
            format!("{since}no change in the license position")
        } else {
            let last = if since.is_empty() {
                ""
            } else {
                " since the last good state"
            };
            format!("{since}{} changed{last}", report::plural(moved, "license"))
        };
        io.print(&format!(
            "\n{clock}  {what}: {summary} ({}{elapsed} ms)\n",
            read.counts()
        ));
        io.print(&delta.render(ROWS_SHOWN));
        self.positions = self.ws.positions().to_vec();
        self.rows = self.ws.assessments().to_vec();
    }

    /// Reads one estate file again into the kept files.
    fn read_estate_file(&mut self, name: &str, read: &mut Read) {
        read.names.insert(name.to_owned());
        match self.files.reread(&self.estate, name) {
            Ok(changed) => {
                let was_unreadable = self.unreadable.remove(name).is_some();
                read.files += 1;
                read.lines += self.lines_of(name);
                read.estate |= changed;
                read.touched |= changed || was_unreadable;
            }
            Err(d) => {
                let new = self.unreadable.get(name) != Some(&*d);
                read.touched |= new;
                self.unreadable.insert(name.to_owned(), *d);
            }
        }
    }

    fn lines_of(&self, name: &str) -> usize {
        let source = match name {
            "devices.csv" => Some(Arc::clone(&self.files.devices)),
            "users.csv" => Some(Arc::clone(&self.files.users)),
            "evidence.csv" => self.files.evidence.text().ok(),
            "licenses.yaml" => Some(Arc::clone(&self.files.licenses)),
            "purchases.csv" => Some(Arc::clone(&self.files.purchases)),
            _ => self.files.usage.clone(),
        };
        source.map_or(0, |s| s.text.lines().count())
    }

    /// Reads a changed path inside a pack: a rule file or script, or a folder that came or
    /// went (its rule files with it).
    fn read_rule_path(&mut self, path: &Path, pack: usize, read: &mut Read) {
        let Some(root) = self.packs.get(pack).map(|p| p.root.clone()) else {
            return;
        };
        let rule_file = |p: &Path| p.extension().is_some_and(|e| e == "tally" || e == "rhai");
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => {
                // A folder moved or created in the pack: its files, and those it no longer has.
                let found = match sources::rule_files_at(path, &root) {
                    Ok(found) => found,
                    Err(d) => {
                        self.rule_unreadable(path, *d, read);
                        return;
                    }
                };
                for gone in self.known_under(path) {
                    if !found.iter().any(|f| f.display().to_string() == gone) {
                        self.rule_gone(&gone, read);
                    }
                }
                for file in found {
                    self.read_rule_file(&file, &root, read);
                }
            }
            Ok(_) if rule_file(path) || self.packs.get(pack).is_some_and(|p| !p.folder) => {
                self.read_rule_file(path, &root, read);
            }
            Ok(_) => {}
            Err(_) => {
                // Gone: the file, or a folder with every rule file under it.
                let shown = path.display().to_string();
                read.touched |= self.rules_unreadable.remove(&shown).is_some();
                if rule_file(path) {
                    self.rule_gone(&shown, read);
                } else {
                    for gone in self.known_under(path) {
                        self.rule_gone(&gone, read);
                    }
                }
            }
        }
    }

    /// The user's rule files known (loaded or pending) under a folder.
    fn known_under(&self, folder: &Path) -> Vec<String> {
        let loaded = self
            .ws
            .rule_paths()
            .filter(|(_, standard)| !standard)
            .map(|(p, _)| p.to_owned());
        let pending = self
            .pending
            .iter()
            .filter(|(_, s)| s.is_some())
            .map(|(p, _)| p.clone());
        let all: BTreeSet<String> = loaded.chain(pending).collect();
        all.into_iter()
            .filter(|p| Path::new(p).starts_with(folder))
            .collect()
    }

    fn read_rule_file(&mut self, path: &Path, root: &Path, read: &mut Read) {
        let shown = path.display().to_string();
        read.names.insert(shown.clone());
        match sources::read_rule_file(path, root) {
            Ok(source) => {
                let was_unreadable = self.rules_unreadable.remove(&shown).is_some();
                read.files += 1;
                read.lines += source.text.lines().count();
                let loaded = self.ws.rule_file(&shown).map(|r| r.source);
                let before = self.pending.get(&shown).cloned();
                if loaded.as_deref() == Some(&*source) {
                    self.pending.remove(&shown);
                } else {
                    self.pending.insert(shown, Some(source));
                }
                let now = self.pending.get(&path.display().to_string()).cloned();
                read.touched |= was_unreadable || before != now;
            }
            Err(d) => self.rule_unreadable(path, *d, read),
        }
    }

    fn rule_unreadable(&mut self, path: &Path, d: Diagnostic, read: &mut Read) {
        let shown = path.display().to_string();
        read.names.insert(shown.clone());
        read.touched |= self.rules_unreadable.get(&shown) != Some(&d);
        self.rules_unreadable.insert(shown, d);
    }

    fn rule_gone(&mut self, shown: &str, read: &mut Read) {
        read.names.insert(shown.to_owned());
        let loaded = self.ws.rule_file(shown).is_some();
        let before = self.pending.get(shown).cloned();
        read.removed += usize::from(loaded || before.is_some());
        if loaded {
            self.pending.insert(shown.to_owned(), None);
        } else {
            self.pending.remove(shown);
        }
        read.touched |= before != self.pending.get(shown).cloned();
    }

    /// Applies the pending rule edits and loads the estate files; on errors, applies the
    /// previous rules back and fails with the diagnostics. Returns the rule warnings of the
    /// files that changed.
    fn apply(&mut self, read: &Read) -> Result<Vec<Diagnostic>, Vec<Diagnostic>> {
        let mut changes = Vec::new();
        let mut previous = Vec::new();
        for (path, source) in &self.pending {
            changes.push(match source {
                Some(source) => Change::RuleFile(RuleSource {
                    source: Arc::clone(source),
                    standard: false,
                }),
                None => Change::RemoveRuleFile(path.clone()),
            });
            previous.push(match self.ws.rule_file(path) {
                Some(loaded) => Change::RuleFile(loaded),
                None => Change::RemoveRuleFile(path.clone()),
            });
        }
        let rules = !changes.is_empty();
        let mut warnings = Vec::new();
        if rules {
            // Every path removed is loaded: `rule_gone` pends a removal only then.
            let _ = self.ws.apply(changes);
            match self.ws.check_rules() {
                Ok(w) => {
                    warnings = w
                        .iter()
                        .filter(|d| self.pending.contains_key(&d.source.path))
                        .cloned()
                        .collect();
                }
                Err(errors) => {
                    let errors = errors.to_vec();
                    let _ = self.ws.apply(previous);
                    return Err(errors);
                }
            }
        }
        if (rules || read.estate)
            && let Err(errors) = self.ws.load_files(&self.files)
        {
            if rules {
                let _ = self.ws.apply(previous);
            }
            return Err(errors);
        }
        self.pending.clear();
        Ok(warnings)
    }
}

/// What one update read.
#[derive(Default)]
struct Read {
    /// The files the events named, as shown.
    names: BTreeSet<String>,
    files: usize,
    lines: usize,
    /// How many rule files are gone.
    removed: usize,
    /// Whether an estate file's text changed.
    estate: bool,
    /// Whether anything differs from before: a text, a file now unreadable or readable again.
    touched: bool,
}

impl Read {
    /// `1 file read, 555 lines, 1 file removed, ` (each part when it is not zero).
    fn counts(&self) -> String {
        let mut text = String::new();
        if self.files > 0 {
            let files = if self.files == 1 { "file" } else { "files" };
            text.push_str(&format!(
                "{} {files} read, {}, ",
                self.files,
                report::plural(self.lines, "line")
            ));
        }
        if self.removed > 0 {
            text.push_str(&format!(
                "{} removed, ",
                report::plural(self.removed, "file")
            ));
        }
        text
    }

    /// `evidence.csv`, `devices.csv and evidence.csv`, `a, b, c and 2 more`.
    fn describe(&self) -> String {
        let names: Vec<&str> = self.names.iter().map(String::as_str).collect();
        match names.as_slice() {
            [] => "nothing".to_owned(),
            [one] => (*one).to_owned(),
            [a, b] => format!("{a} and {b}"),
            [a, b, c] => format!("{a}, {b} and {c}"),
            [a, b, c, rest @ ..] => format!("{a}, {b}, {c} and {} more", rest.len()),
        }
    }
}

impl Io<'_> {
    /// Flushes the output, so that each update shows at once.
    fn flush(&mut self) {
        if self.write_error.is_none()
            && let Err(e) = self.out.flush()
        {
            self.write_error = Some(e);
        }
    }
}
