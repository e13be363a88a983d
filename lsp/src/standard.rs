//! How the standard packs compiled into tally are shown to the client. By default they are
//! written, read-only, to a cache folder named after tally's version and a hash of the packs'
//! text (`~/.cache/tally/std/0.1.0-…/rules/microsoft.tally`), so any editor can open them
//! when it jumps to a definition; a file already there with the same text is left alone. When
//! that folder cannot be written, or the client asks for it, they are `tally-std:///PATH` URIs.
//! Either way the server never changes them: a rename that would touch them is refused.

use std::path::{Path, PathBuf};

use tally_compiler::diagnostics::Diagnostic;
use tower_lsp_server::ls_types::Uri;

use crate::codes;
use crate::settings::{Settings, StandardPacks};
use crate::state::setup_problem;

/// The URI scheme of the standard packs when they are not written to files.
pub const SCHEME: &str = "tally-std";

/// The URIs of the standard files, in the order given, and the problem that made them
/// virtual, if one did.
pub struct StandardUris {
    pub entries: Vec<Uri>,
    pub problem: Option<Diagnostic>,
}

pub fn uris(settings: &Settings, standard: &[(&str, &str)]) -> StandardUris {
    if settings.standard_packs == StandardPacks::Files && !standard.is_empty() {
        let folder = settings
            .standard_packs_dir
            .clone()
            .or_else(cache_home)
            .unwrap_or_else(std::env::temp_dir)
            .join(folder_name(standard));
        match write(&folder, standard) {
            Ok(entries) => {
                return StandardUris {
                    entries,
                    problem: None,
                };
            }
            Err(error) => {
                let problem = setup_problem(
                    codes::STANDARD_PACKS_NOT_WRITTEN,
                    format!(
                        "the standard packs could not be written to `{}`: {error}; they are shown as `{SCHEME}:` URIs",
                        folder.display()
                    ),
                    "set `standardPacksDir` in the initialization options to a folder the server can write, or use `tally packs export DIR`",
                );
                return StandardUris {
                    entries: virtual_uris(standard),
                    problem: Some(problem),
                };
            }
        }
    }
    StandardUris {
        entries: virtual_uris(standard),
        problem: None,
    }
}

fn virtual_uris(standard: &[(&str, &str)]) -> Vec<Uri> {
    standard
        .iter()
        .filter_map(|(path, _)| format!("{SCHEME}:///{path}").parse().ok())
        .collect()
}

/// `$XDG_CACHE_HOME/tally/std`, or `~/.cache/tally/std`.
fn cache_home() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|home| PathBuf::from(home).join(".cache"))
        })?;
    Some(base.join("tally").join("std"))
}

/// `VERSION-HASH`: a new tally, or other packs, get a folder of their own.
fn folder_name(standard: &[(&str, &str)]) -> String {
    // FNV-1a, 64 bits: stable across builds, unlike the standard library's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (path, text) in standard {
        for byte in path.bytes().chain([0]).chain(text.bytes()).chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{}-{hash:016x}", env!("CARGO_PKG_VERSION"))
}

/// Writes each file that is missing or differs, read-only, and returns the URIs.
fn write(folder: &Path, standard: &[(&str, &str)]) -> std::io::Result<Vec<Uri>> {
    let mut uris = Vec::with_capacity(standard.len());
    for (path, text) in standard {
        let target = folder.join(path);
        if std::fs::read(&target).ok().as_deref() != Some(text.as_bytes()) {
            tally_runtime::files::write_by_rename(&target, |out| {
                std::io::Write::write_all(out, text.as_bytes())
            })?;
            let mut permissions = std::fs::metadata(&target)?.permissions();
            permissions.set_readonly(true);
            std::fs::set_permissions(&target, permissions)?;
        }
        let uri = Uri::from_file_path(&target)
            .ok_or_else(|| std::io::Error::other("the cache folder's path is not a URI"))?;
        uris.push(uri);
    }
    Ok(uris)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACKS: &[(&str, &str)] = &[("rules/a.tally", "publisher a { name \"A\" }\n")];

    #[test]
    fn packs_are_written_once_read_only() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            standard_packs_dir: Some(dir.path().to_path_buf()),
            ..Settings::default()
        };
        let first = uris(&settings, PACKS);
        assert!(first.problem.is_none());
        let path = first.entries[0].to_file_path().unwrap().into_owned();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), PACKS[0].1);
        assert!(std::fs::metadata(&path).unwrap().permissions().readonly());
        let again = uris(&settings, PACKS);
        assert_eq!(again.entries, first.entries);
    }

    #[test]
    fn an_unwritable_folder_gives_virtual_uris_and_a_problem() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "").unwrap();
        let settings = Settings {
            standard_packs_dir: Some(blocker),
            ..Settings::default()
        };
        let shown = uris(&settings, PACKS);
        assert_eq!(shown.entries[0].as_str(), "tally-std:///rules/a.tally");
        assert_eq!(shown.problem.map(|p| p.code.0), Some("T0321"));
    }
}
