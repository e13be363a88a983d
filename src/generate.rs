//! `tally gen estate`: a synthetic estate for benchmarks and scale tests, written by
//! [`tally_runtime::generate`].

use std::path::Path;

use tally_compiler::diagnostics::{Diagnostic, SourceFile};
use tally_runtime::generate::{self, Options};

use super::{Failure, GenCommand, Io, codes};

pub(super) fn run(io: &mut Io, command: &GenCommand) -> Result<(), Failure> {
    match command {
        GenCommand::Estate {
            dir,
            devices,
            seed,
            licenses,
            rules,
            force,
        } => {
            let options = Options {
                devices: *devices,
                seed: *seed,
                licenses: *licenses,
                rules: *rules,
            };
            estate(io, dir, &options, *force)
        }
    }
}

/// Writes the estate into `dir`. Without `force`, nothing is written when any of the files
/// is already there.
fn estate(io: &mut Io, dir: &Path, options: &Options, force: bool) -> Result<(), Failure> {
    let shown = dir.display().to_string();
    if !force {
        let existing = generate::existing_files(dir, options);
        if let Some(first) = existing.first() {
            let first = first.strip_prefix(dir).unwrap_or(first).display();
            let files = if existing.len() == 1 {
                "1 file".to_owned()
            } else {
                format!("{} files", existing.len())
            };
            let diagnostic = Diagnostic::error(
                codes::GEN_WOULD_OVERWRITE,
                &SourceFile::new(shown.clone(), ""),
                None,
                format!(
                    "`gen estate` would overwrite {files} already in `{shown}`, such as `{first}`"
                ),
            )
            .with_help("generate into an empty or new folder, or pass `--force` to replace them");
            return Err(Failure::Input(vec![diagnostic]));
        }
    }
    let summary = generate::write(dir, options).map_err(|failed| {
        let path = failed.path.display().to_string();
        Failure::Input(vec![
            Diagnostic::error(
                codes::GEN_FAILED,
                &SourceFile::new(path.clone(), ""),
                None,
                format!("`{path}` could not be written: {}", failed.error),
            )
            .with_help(
                "check that the folder can be written to, that the disk has room and that no folder is in the file's place",
            ),
        ])
    })?;
    let mut line = format!(
        "generated {shown}: {} devices, {} users, {} evidence rows, {} licenses, {} purchases",
        summary.devices, summary.users, summary.evidence_rows, summary.licenses, summary.purchases
    );
    if summary.rules > 0 {
        line.push_str(&format!(", {} rules", summary.rules));
    }
    line.push('\n');
    io.print(&line);
    Ok(())
}
