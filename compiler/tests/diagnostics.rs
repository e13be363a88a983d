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

/// Every prefix of real rule files, and a few mangled versions, compiles to diagnostics
/// without panicking: half-typed text is what an editor sends.
#[test]
fn truncated_and_mangled_files_never_panic() {
    let texts = [
        include_str!("../../arl/microsoft/visio.tally"),
        include_str!("../../purl/tableau/creator.tally"),
        include_str!("../../skus/microsoft.tally"),
    ];
    for text in texts {
        let ends: Vec<usize> = text.char_indices().map(|(i, _)| i).step_by(11).collect();
        for end in ends {
            let cut = &text[..end];
            let _ = compile_sources(&[SourceFile::new("cut.tally", cut)]);
            let swapped = cut.replace('{', "}").replace('"', "{");
            let _ = compile_sources(&[SourceFile::new("swapped.tally", swapped)]);
        }
    }
}
