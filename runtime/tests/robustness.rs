//! Half-written estate files (every file of the sample estate cut short at many points, or with
//! its quotes and separators mangled) are reported as diagnostics, never as a panic.

use std::path::Path;

use tally_runtime::estate::{self, EstateFiles};
use tally_runtime::sources;

#[test]
fn truncated_and_mangled_estate_files_never_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let rule_files: Vec<_> = ["rules", "arl", "purl", "skus"]
        .iter()
        .flat_map(|d| sources::read_pack(&root.join(d)).unwrap_or_default())
        .collect();
    let pack = tally_compiler::compile_sources(&rule_files).pack;
    let names = [
        "devices.csv",
        "users.csv",
        "evidence.csv",
        "licenses.yaml",
        "purchases.csv",
    ];
    let texts: Vec<String> = names
        .iter()
        .map(|n| std::fs::read_to_string(root.join("examples/contoso").join(n)).unwrap_or_default())
        .collect();
    assert!(
        texts.iter().all(|t| !t.is_empty()),
        "the sample estate is readable"
    );
    for (which, text) in texts.iter().enumerate() {
        let ends: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .step_by(text.len() / 40 + 1)
            .collect();
        for end in ends {
            for variant in [
                text[..end].to_string(),
                text[..end].replace('"', ",").replace(':', "\""),
            ] {
                let mut files: Vec<&str> = texts.iter().map(String::as_str).collect();
                files[which] = &variant;
                let files = EstateFiles::from_texts(
                    "cut",
                    [files[0], files[1], files[2], files[3], files[4]],
                );
                import_never_panics(&files, &pack);
            }
        }
    }
    let usage = "application,at,in_use\nibm.db2,2025-03-31T14:30,12\n\"ibm.db2\",2025-04-01,3\n";
    let files: Vec<&str> = texts.iter().map(String::as_str).collect();
    let files = EstateFiles::from_texts("cut", [files[0], files[1], files[2], files[3], files[4]]);
    for (end, _) in usage.char_indices() {
        for variant in [&usage[..end], &usage[end..]] {
            import_never_panics(&files.clone().with_usage(variant), &pack);
        }
    }
}

/// Imports the files; any error comes with a label and a help line, and renders.
fn import_never_panics(files: &EstateFiles, pack: &tally_compiler::ir::CompiledPack) {
    if let Err(diagnostics) = estate::import(files, pack) {
        assert!(!diagnostics.is_empty());
        for d in &diagnostics {
            assert!(
                !d.help.is_empty() && !d.label.is_empty(),
                "{}",
                d.one_line()
            );
        }
        let _ = diagnostics.first().map(|d| d.render());
    }
}
