//! Reading a rule pack as it was at a git revision, through gix (no `git` process): the `.tally`
//! and `.rhai` files of one folder of the revision's tree, named `REVISION:PATH`, for
//! `tally diff`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tally_compiler::diagnostics::{Diagnostic, SourceFile};

use crate::estate::codes::REVISION_UNREADABLE;
use crate::files::MAX_RULE_FILE;
use crate::manifest;

/// Where to find a pack at a revision: the repository that holds `dir` (its work tree or git
/// folder, found by searching upwards), and the pack's folder in the revision's tree.
#[derive(Debug, Clone)]
pub struct Repository {
    /// A folder inside the repository.
    pub dir: PathBuf,
    /// The pack's folder inside the tree, `/`-separated; `None` for where `dir` is in the work
    /// tree (the whole tree when `dir` is its top, or the repository is bare).
    pub pack: Option<String>,
}

/// Reads the rule files of the pack at `revision` (any form `git rev-parse` takes: `HEAD~1`,
/// `main`, a tag, a commit id), sorted by path. Each file is named `REVISION:PATH`, PATH being
/// its path in the tree, so that diagnostics say which revision they concern. Fails with a
/// T0211 diagnostic when the repository, the revision, the folder or a file cannot be read,
/// and with the manifest's diagnostics when the pack's `tally.yaml` at the revision is not
/// valid or names a language version this tally does not read.
pub fn read_pack_at(
    repo: &Repository,
    revision: &str,
) -> Result<Vec<Arc<SourceFile>>, Vec<Diagnostic>> {
    let mut manifest = None;
    let files = read_files(repo, revision, &mut manifest).map_err(|d| vec![*d])?;
    if let Some(source) = manifest {
        manifest::parse(&source, Path::new(&source.path))?;
    }
    Ok(files)
}

/// The rule files of the pack at the revision, and its `tally.yaml` when it has one.
fn read_files(
    repo: &Repository,
    revision: &str,
    manifest_file: &mut Option<Arc<SourceFile>>,
) -> Result<Vec<Arc<SourceFile>>, Box<Diagnostic>> {
    let fail = |message: String, help: &str| {
        Box::new(
            Diagnostic::error(
                REVISION_UNREADABLE,
                &SourceFile::new(revision, ""),
                None,
                message,
            )
            .with_label("unreadable revision")
            .with_help(help),
        )
    };
    let git = gix::discover(&repo.dir).map_err(|e| {
        fail(
            format!(
                "`{revision}` is not a folder, and `{}` is not in a git repository: {e}",
                repo.dir.display()
            ),
            "give a folder that holds the pack, or run inside the pack's git repository (or name it with `--repo`)",
        )
    })?;
    let commit = git.rev_parse_single(revision).map_err(|e| {
        fail(
            format!("`{revision}` is neither a folder nor a revision of the repository: {e}"),
            "name a commit, branch or tag of the repository (as `git rev-parse` takes it), or a folder",
        )
    })?;
    let tree = commit
        .object()
        .map_err(|e| e.to_string())
        .and_then(|o| o.peel_to_tree().map_err(|e| e.to_string()))
        .map_err(|e| {
            fail(
                format!("revision `{revision}` has no tree of files: {e}"),
                "name a commit, branch or tag",
            )
        })?;
    let pack = match &repo.pack {
        Some(p) => p.trim_matches('/').to_owned(),
        None => place_in_work_tree(&git, &repo.dir),
    };
    let root = if pack.is_empty() {
        tree
    } else {
        let entry = tree
            .lookup_entry_by_path(Path::new(&pack))
            .ok()
            .flatten()
            .ok_or_else(|| {
                fail(
                    format!("revision `{revision}` has no folder `{pack}`"),
                    "name the pack's folder as it is in the repository with `--path`",
                )
            })?;
        entry
            .object()
            .ok()
            .and_then(|o| o.peel_to_tree().ok())
            .ok_or_else(|| {
                fail(
                    format!("`{pack}` is not a folder in revision `{revision}`"),
                    "name the pack's folder with `--path`",
                )
            })?
    };
    let entries = root.traverse().breadthfirst.files().map_err(|e| {
        fail(
            format!("the files of revision `{revision}` cannot be listed: {e}"),
            "check the repository with `git fsck`",
        )
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.filepath.to_string();
        let is_manifest = path == manifest::FILE_NAME;
        if !entry.mode.is_blob()
            || !(is_manifest || path.ends_with(".tally") || path.ends_with(".rhai"))
        {
            continue;
        }
        let full = if pack.is_empty() {
            path
        } else {
            format!("{pack}/{path}")
        };
        let name = format!("{revision}:{full}");
        let blob = git.find_object(entry.oid).map_err(|e| {
            fail(
                format!("`{name}` cannot be read: {e}"),
                "check the repository with `git fsck`",
            )
        })?;
        if blob.data.len() as u64 > MAX_RULE_FILE {
            return Err(fail(
                format!(
                    "`{name}` is larger than the {} MiB a rule file may be",
                    MAX_RULE_FILE >> 20
                ),
                "split the file into smaller ones",
            ));
        }
        let text = String::from_utf8(blob.data.clone()).map_err(|_| {
            fail(
                format!("`{name}` is not UTF-8 text"),
                "save rule files as UTF-8",
            )
        })?;
        if is_manifest {
            *manifest_file = Some(SourceFile::new(name, text));
        } else {
            files.push(SourceFile::new(name, text));
        }
    }
    if !files.iter().any(|f| f.path.ends_with(".tally")) {
        let at = if pack.is_empty() {
            String::new()
        } else {
            format!(" under `{pack}`")
        };
        return Err(fail(
            format!("revision `{revision}` holds no `.tally` files{at}"),
            "name the pack's folder with `--path`, or a revision that has the pack",
        ));
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Where `dir` is in the repository's work tree, `/`-separated; empty at the top, outside the
/// work tree, or for a bare repository.
fn place_in_work_tree(git: &gix::Repository, dir: &Path) -> String {
    let (Some(top), Ok(dir)) = (git.workdir(), std::fs::canonicalize(dir)) else {
        return String::new();
    };
    let Ok(top) = std::fs::canonicalize(top) else {
        return String::new();
    };
    dir.strip_prefix(&top)
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/")
        })
        .unwrap_or_default()
}
