//! `tally packs`: the standard rule packs compiled into tally, listed with what they declare or
//! exported as files to read, copy and start a pack of one's own from.

use std::io::Write;
use std::path::{Path, PathBuf};

use tally_compiler::diagnostics::{Diagnostic, SourceFile};
use tally_compiler::parse_file;
use tally_runtime::files;
use tally_runtime::report::{self, Column, Format, Rows};

use super::{Failure, Io, PacksCommand, codes, embedded};

pub(super) fn run(io: &mut Io, command: &PacksCommand) -> Result<(), Failure> {
    match command {
        PacksCommand::List { .. } => {
            list(io);
            Ok(())
        }
        PacksCommand::Export { dir, force, format } => export(io, dir, *force, (*format).into()),
    }
}

/// Prints each standard pack file with its declarations counted by kind, and a total.
fn list(io: &mut Io) {
    let parsed: Vec<_> = embedded::STANDARD_PACKS
        .iter()
        .map(|(path, text)| parse_file(SourceFile::new(*path, *text)))
        .collect();
    io.rows(&report::declaration_counts(&parsed));
}

/// Writes every standard pack file under `dir` at its relative path. Without `force`, nothing
/// is written when any of the files is already there.
fn export(io: &mut Io, dir: &Path, force: bool, format: Format) -> Result<(), Failure> {
    let targets: Vec<(&str, &str, PathBuf)> = embedded::STANDARD_PACKS
        .iter()
        .map(|(file, text)| (*file, *text, dir.join(file)))
        .collect();
    if !force {
        let existing: Vec<&str> = targets
            .iter()
            // A link, even a broken one, is there too.
            .filter(|(_, _, path)| path.symlink_metadata().is_ok())
            .map(|(file, _, _)| *file)
            .collect();
        if let Some(first) = existing.first() {
            let files = if existing.len() == 1 {
                "1 file".to_owned()
            } else {
                format!("{} files", existing.len())
            };
            let diagnostic = Diagnostic::error(
                codes::EXPORT_WOULD_OVERWRITE,
                &SourceFile::new(dir.display().to_string(), ""),
                None,
                format!(
                    "`packs export` would overwrite {files} already in `{}`, such as `{first}`",
                    dir.display()
                ),
            )
            .with_help("export into an empty folder, or pass `--force` to overwrite them");
            return Err(Failure::Input(vec![diagnostic]));
        }
    }
    let failures: Vec<Diagnostic> = targets
        .iter()
        .filter_map(|(_, text, path)| {
            let error = files::write_by_rename(path, |file| file.write_all(text.as_bytes())).err()?;
            Some(
                Diagnostic::error(
                    codes::EXPORT_FAILED,
                    &SourceFile::new(path.display().to_string(), ""),
                    None,
                    format!("`{}` could not be written: {error}", path.display()),
                )
                .with_help(
                    "check that the folder can be written to and that no folder is in the file's place",
                ),
            )
        })
        .collect();
    if !failures.is_empty() {
        return Err(Failure::Input(failures));
    }
    if format == Format::Table {
        io.print(&format!(
            "exported {} files to {}\n",
            targets.len(),
            dir.display()
        ));
    } else {
        let rows = Rows::new(
            vec![Column::text("file"), Column::text("path")],
            targets
                .iter()
                .map(|(file, _, path)| vec![(*file).to_owned(), path.display().to_string()])
                .collect(),
        );
        io.rows(&rows);
    }
    Ok(())
}
