//! Reading rule packs from disk: a pack is a `.tally` file or a folder searched recursively for
//! rule files and the rhai scripts (`.rhai`) their metrics name.

use std::path::Path;
use std::sync::Arc;

use tally_compiler::diagnostics::{Diagnostic, SourceFile, codes};

/// Reads every `.tally` and `.rhai` file of a pack, sorted by path. An unreadable path is a
/// T0110 diagnostic.
pub fn read_pack(path: &Path) -> Result<Vec<Arc<SourceFile>>, Box<Diagnostic>> {
    let mut files = Vec::new();
    collect(path, &mut files).map_err(|e| unreadable(path, &e))?;
    if !files
        .iter()
        .any(|f| f.extension().is_some_and(|e| e == "tally"))
    {
        let error = std::io::Error::new(std::io::ErrorKind::NotFound, "it holds no `.tally` files");
        return Err(unreadable(path, &error));
    }
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).map_err(|e| unreadable(&p, &e))?;
            Ok(SourceFile::new(p.display().to_string(), text))
        })
        .collect()
}

fn collect(path: &Path, files: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            let entry = entry?.path();
            if entry.is_dir()
                || entry
                    .extension()
                    .is_some_and(|e| e == "tally" || e == "rhai")
            {
                collect(&entry, files)?;
            }
        }
    } else {
        std::fs::metadata(path)?;
        files.push(path.to_path_buf());
    }
    Ok(())
}

fn unreadable(path: &Path, error: &std::io::Error) -> Box<Diagnostic> {
    let source = SourceFile::new(path.display().to_string(), "");
    let reason = match error.kind() {
        std::io::ErrorKind::NotFound if path.exists() => error.to_string(),
        std::io::ErrorKind::NotFound => "it does not exist".to_string(),
        _ => error.to_string(),
    };
    Box::new(
        Diagnostic::error(
            codes::UNREADABLE_PACK,
            &source,
            None,
            format!("cannot read rule pack `{}`: {reason}", path.display()),
        )
        .with_label("unreadable")
        .with_help("pass a `.tally` file or a folder that contains `.tally` files"),
    )
}
