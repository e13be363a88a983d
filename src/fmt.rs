//! `tally fmt`: rule files in the canonical layout (`tally_compiler::format`). Without flags the
//! files that are not formatted are rewritten in place; `--check` lists them and `--diff` shows
//! what would change, writing nothing. A file with syntax errors is left as it is and its
//! diagnostics shown; the other files are still formatted.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use tally_compiler::diagnostics::{Diagnostic, SourceFile, codes as compiler_codes};
use tally_compiler::format::{FormatError, format_source};
use tally_runtime::{files, sources};

use super::{Failure, Io, codes};

/// What `tally fmt` does with a file that is not formatted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Rewrite it in place and list it.
    Write,
    /// List it, write nothing, and exit with 1.
    Check,
    /// Print a unified diff of it, write nothing, and exit with 1.
    Diff,
}

/// What came of the files, for the closing line and the exit code.
#[derive(Default)]
struct Tally {
    files: usize,
    /// Files whose text the canonical layout changes (rewritten, or listed under `--check`).
    changed: usize,
    /// Files not formatted because they do not parse.
    syntax_errors: usize,
    /// Files that needed formatting but could not be formatted or rewritten.
    failed: usize,
}

pub(super) fn run(io: &mut Io, paths: &[PathBuf], mode: Mode) -> Result<(), Failure> {
    let here = [PathBuf::from(".")];
    let roots = if paths.is_empty() { &here[..] } else { paths };
    let mut errors = Vec::new();
    let mut syntax = Vec::new();
    let mut tally = Tally::default();
    let mut seen = BTreeSet::new();
    for root in roots {
        let files = match rule_files(root) {
            Ok(files) => files,
            Err(error) => {
                errors.push(*error);
                continue;
            }
        };
        for (path, pack) in files {
            if !seen.insert(path.clone()) {
                continue;
            }
            let source = match sources::read_rule_file(&path, &pack) {
                Ok(source) => source,
                Err(error) => {
                    errors.push(*error);
                    continue;
                }
            };
            tally.files += 1;
            match format_source(&source.path, &source.text) {
                Ok(formatted) if formatted == source.text => {}
                Ok(formatted) => match mode {
                    Mode::Write => match rewrite(&path, &formatted) {
                        Ok(()) => {
                            tally.changed += 1;
                            io.print(&format!("{}\n", source.path));
                        }
                        Err(error) => {
                            tally.failed += 1;
                            errors.push(*error);
                        }
                    },
                    Mode::Check => {
                        tally.changed += 1;
                        io.print(&format!("{}\n", source.path));
                    }
                    Mode::Diff => {
                        tally.changed += 1;
                        io.print(&unified_diff(&source.path, &source.text, &formatted));
                    }
                },
                Err(FormatError::Syntax(diagnostics)) => {
                    tally.syntax_errors += 1;
                    syntax.extend(diagnostics);
                }
                Err(FormatError::Unsafe) => {
                    tally.failed += 1;
                    errors.push(unsafe_to_format(&source.path));
                }
            }
        }
    }
    if mode != Mode::Diff && tally.files > 0 {
        io.print(&summary(&tally, mode));
    }
    if !errors.is_empty() {
        errors.splice(0..0, syntax);
        return Err(Failure::Input(errors));
    }
    io.diagnostics(&syntax);
    if tally.syntax_errors > 0 || (mode != Mode::Write && tally.changed > 0) {
        return Err(Failure::Findings);
    }
    Ok(())
}

/// The `.tally` files at `path` (a file, or a folder searched recursively), sorted, each with
/// the folder it must stay inside. A folder without any, or a file of another kind, is an
/// error.
fn rule_files(path: &Path) -> Result<Vec<(PathBuf, PathBuf)>, Box<Diagnostic>> {
    let pack = sources::pack_root(path).to_path_buf();
    let found = sources::rule_files_at(path, &pack)?;
    let rule_files: Vec<(PathBuf, PathBuf)> = found
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "tally"))
        .map(|p| (p, pack.clone()))
        .collect();
    if !rule_files.is_empty() {
        return Ok(rule_files);
    }
    let shown = path.display().to_string();
    Err(Box::new(if path.is_dir() {
        Diagnostic::error(
            compiler_codes::UNREADABLE_PACK,
            &SourceFile::new(shown.clone(), ""),
            None,
            format!("there are no `.tally` files in `{shown}`"),
        )
        .with_help("pass `.tally` files or folders that contain them")
    } else {
        Diagnostic::error(
            codes::FMT_NOT_A_RULE_FILE,
            &SourceFile::new(shown.clone(), ""),
            None,
            format!("`{shown}` is not a rule file: `tally fmt` formats `.tally` files"),
        )
        .with_help("pass `.tally` files or folders that contain them; scripts and estate files are left as they are")
    }))
}

/// Replaces a file's text by way of a temporary file beside it, keeping its permissions, and
/// through a link the link's target.
fn rewrite(path: &Path, text: &str) -> Result<(), Box<Diagnostic>> {
    let written = (|| -> std::io::Result<()> {
        let target = std::fs::canonicalize(path)?;
        let permissions = std::fs::metadata(&target)?.permissions();
        files::write_by_rename(&target, |file| {
            file.get_ref().set_permissions(permissions)?;
            file.write_all(text.as_bytes())
        })
    })();
    written.map_err(|error| {
        let shown = path.display().to_string();
        Box::new(
            Diagnostic::error(
                codes::FMT_WRITE_FAILED,
                &SourceFile::new(shown.clone(), ""),
                None,
                format!("`{shown}` could not be rewritten: {error}"),
            )
            .with_help(
                "check that the file and its folder can be written to; the file is left as it was",
            ),
        )
    })
}

fn unsafe_to_format(path: &str) -> Diagnostic {
    Diagnostic::error(
        codes::FMT_UNSAFE,
        &SourceFile::new(path, ""),
        None,
        format!(
            "`{path}` cannot be formatted without changing what it says, so it is left as it is"
        ),
    )
    .with_help("this is a bug in tally's formatter: please report it with the file")
}

/// A unified diff from `old` to `new`, both named `path` (`patch -p0` applies it).
fn unified_diff(path: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(path, path)
        .to_string()
}

/// The closing line: how many files there were and what came of them.
fn summary(tally: &Tally, mode: Mode) -> String {
    let files = if tally.files == 1 { "file" } else { "files" };
    let unchanged = tally.files - tally.changed - tally.syntax_errors - tally.failed;
    let mut line = match mode {
        Mode::Write => format!(
            "{} {files}: {} reformatted, {unchanged} already formatted",
            tally.files, tally.changed
        ),
        Mode::Check | Mode::Diff => format!(
            "{} {files}: {unchanged} formatted, {} not formatted",
            tally.files, tally.changed
        ),
    };
    if tally.syntax_errors > 0 {
        line.push_str(&format!(
            ", {} with syntax errors left as written",
            tally.syntax_errors
        ));
    }
    if tally.failed > 0 {
        line.push_str(&format!(", {} could not be formatted", tally.failed));
    }
    line.push('\n');
    line
}
