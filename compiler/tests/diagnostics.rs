//! Snapshot tests of rendered compiler diagnostics: each `diagnostics/*.tally` file is compiled
//! on its own and every diagnostic is rendered as a user would see it.

use tally_compiler::{SourceFile, compile_sources};

#[test]
fn diagnostics() {
    insta::glob!("diagnostics/*.tally", |path| {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let compiled = compile_sources(&[SourceFile::new(name, text)]);
        let rendered: Vec<String> = compiled
            .diagnostics
            .iter()
            .map(|d| format!("{}\n{}", d.one_line(), d.render()))
            .collect();
        insta::assert_snapshot!(rendered.join("\n"));
    });
}

#[test]
fn every_code_has_a_documentation_page() {
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/diagnostics.md"
    ))
    .unwrap_or_default();
    for (code, _) in tally_compiler::diagnostics::codes::ALL {
        assert!(
            docs.contains(&format!("## {code}:")),
            "docs/diagnostics.md has no section for {code}"
        );
    }
}
