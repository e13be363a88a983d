//! Embeds the standard rule packs (`rules/`, `arl/`, `purl/`, `skus/`) and the sample estate
//! (`examples/contoso/`) into the `tally` binary, so it works anywhere without files beside it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const PACK_DIRS: [&str; 4] = ["rules", "arl", "purl", "skus"];
const SAMPLE_DIR: &str = "examples/contoso";
const SAMPLE_FILES: [&str; 5] = [
    "devices.csv",
    "users.csv",
    "evidence.csv",
    "licenses.yaml",
    "purchases.csv",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let mut files = Vec::new();
    for dir in PACK_DIRS {
        println!("cargo:rerun-if-changed={dir}");
        collect(&root, &root.join(dir), &mut files)?;
    }
    files.sort();
    let mut out =
        String::from("/// The standard rule packs: (path relative to the repository, text).\n");
    out.push_str("pub static STANDARD_PACKS: &[(&str, &str)] = &[\n");
    for rel in &files {
        writeln!(
            out,
            "    ({rel:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/{rel}\"))),"
        )?;
    }
    out.push_str("];\n\n/// The sample estate's files, in the order devices, users, evidence, licenses, purchases.\n");
    writeln!(out, "pub static SAMPLE_ESTATE_DIR: &str = {SAMPLE_DIR:?};")?;
    out.push_str("pub static SAMPLE_ESTATE: [&str; 5] = [\n");
    for name in SAMPLE_FILES {
        println!("cargo:rerun-if-changed={SAMPLE_DIR}/{name}");
        writeln!(
            out,
            "    include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/{SAMPLE_DIR}/{name}\")),"
        )?;
    }
    out.push_str("];\n");
    std::fs::write(
        PathBuf::from(std::env::var("OUT_DIR")?).join("embedded.rs"),
        out,
    )?;
    Ok(())
}

/// Collects `.tally` files below `dir`, as paths relative to `root` with `/` separators.
fn collect(root: &Path, dir: &Path, files: &mut Vec<String>) -> std::io::Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, files)?;
        } else if path.extension().is_some_and(|e| e == "tally")
            && let Ok(rel) = path.strip_prefix(root)
        {
            files.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}
