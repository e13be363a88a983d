//! Reading rule packs from disk: a pack is a `.tally` file or a folder searched recursively for
//! rule files and the rhai scripts (`.rhai`) their metrics name. Files are read through
//! [`files`](crate::files): links must stay inside the pack, and folder loops are skipped.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tally_compiler::diagnostics::{Diagnostic, SourceFile, codes};

use crate::estate::codes::INPUT_REFUSED;
use crate::files::{self, MAX_RULE_FILE, ReadError};

/// Reads every `.tally` and `.rhai` file of a pack, sorted by path. A file that cannot be read
/// is a T0110 diagnostic, and one refused for what it is (see [`files`]) a T0208.
pub fn read_pack(path: &Path) -> Result<Vec<Arc<SourceFile>>, Box<Diagnostic>> {
    let root = pack_root(path);
    let mut files = Vec::new();
    let mut seen = BTreeSet::new();
    collect(path, root, &mut files, &mut seen, &is_pack_file)
        .map_err(|(p, e)| unreadable(&p, e))?;
    if !files
        .iter()
        .any(|f| f.extension().is_some_and(|e| e == "tally"))
    {
        let error = std::io::Error::other("it holds no `.tally` files");
        return Err(unreadable(path, ReadError::Io(error)));
    }
    files.sort();
    files.iter().map(|p| read_rule_file(p, root)).collect()
}

/// The folder a pack's files must stay inside: the pack itself when it is a folder, else the
/// folder of the file.
pub fn pack_root(pack: &Path) -> &Path {
    if pack.is_dir() {
        pack
    } else {
        pack.parent().unwrap_or(Path::new("."))
    }
}

/// The paths of the `.tally` and `.rhai` files at `path` (a file, or a folder searched
/// recursively) inside the pack folder `root`, sorted; a folder that holds none gives none.
pub fn rule_files_at(path: &Path, root: &Path) -> Result<Vec<PathBuf>, Box<Diagnostic>> {
    let mut files = Vec::new();
    collect(path, root, &mut files, &mut BTreeSet::new(), &is_pack_file)
        .map_err(|(p, e)| unreadable(&p, e))?;
    files.sort();
    Ok(files)
}

/// Reads the annotated sample evidence files (`*.evidence.csv`) at `path` (a file, or a folder
/// searched recursively), sorted by path; a pack may have none.
pub fn read_samples(path: &Path) -> Result<Vec<Arc<SourceFile>>, Box<Diagnostic>> {
    let root = pack_root(path);
    let mut files = Vec::new();
    let is_sample = |p: &Path| p.to_string_lossy().ends_with(SAMPLE_SUFFIX);
    if path.is_dir() {
        collect(path, root, &mut files, &mut BTreeSet::new(), &is_sample)
            .map_err(|(p, e)| unreadable(&p, e))?;
    }
    files.sort();
    files.iter().map(|p| read_rule_file(p, root)).collect()
}

/// How the name of an annotated sample evidence file ends.
pub const SAMPLE_SUFFIX: &str = ".evidence.csv";

/// Whether a path names a file a pack is made of: a rule file or a rhai script.
fn is_pack_file(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e == "tally" || e == "rhai")
}

/// Reads one rule file or script of the pack folder `root`, as [`read_pack`] reads it; its
/// path is shown as given.
pub fn read_rule_file(path: &Path, root: &Path) -> Result<Arc<SourceFile>, Box<Diagnostic>> {
    match files::read_text(path, root, MAX_RULE_FILE) {
        Ok(text) => Ok(SourceFile::new(path.display().to_string(), text)),
        Err(e) => Err(unreadable(path, e)),
    }
}

/// Adds the files at `path` (a file, or a folder searched recursively for the files `wanted`
/// takes) to `files`; `seen` holds the real paths of the folders searched, so a loop of links
/// ends.
fn collect(
    path: &Path,
    root: &Path,
    files: &mut Vec<PathBuf>,
    seen: &mut BTreeSet<PathBuf>,
    wanted: &dyn Fn(&Path) -> bool,
) -> Result<(), (PathBuf, ReadError)> {
    let failed = |e: ReadError| (path.to_path_buf(), e);
    files::check_inside(path, root).map_err(failed)?;
    let metadata = std::fs::metadata(path).map_err(|e| failed(e.into()))?;
    if !metadata.is_dir() {
        files.push(path.to_path_buf());
        return Ok(());
    }
    let real = std::fs::canonicalize(path).map_err(|e| failed(e.into()))?;
    if !seen.insert(real) {
        return Ok(());
    }
    let entries = std::fs::read_dir(path).map_err(|e| failed(e.into()))?;
    for entry in entries {
        let entry = entry.map_err(|e| failed(e.into()))?.path();
        if wanted(&entry) || entry.is_dir() {
            collect(&entry, root, files, seen, wanted)?;
        }
    }
    Ok(())
}

fn unreadable(path: &Path, error: ReadError) -> Box<Diagnostic> {
    let code = if error.is_refused() {
        INPUT_REFUSED
    } else {
        codes::UNREADABLE_PACK
    };
    let reason = error.reason(path);
    let help = if error.is_refused() {
        error.refusal_help("rule files", "the pack's folder")
    } else {
        "pass a `.tally` file or a folder that contains `.tally` files, saved as UTF-8 text"
            .to_owned()
    };
    let (source, span) = error.source(&path.display().to_string());
    Box::new(
        Diagnostic::error(
            code,
            &source,
            span,
            format!("cannot read rule pack `{}`: {reason}", path.display()),
        )
        .with_label(if span.is_some() {
            "not UTF-8"
        } else {
            "unreadable"
        })
        .with_help(help),
    )
}
