//! What an incremental build relies on: parsing a file by runs of declarations, each run on
//! its own, gives the syntax tree and the syntax errors parsing the whole file gives.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tally_compiler::SourceFile;
use tally_compiler::syntax::{ParsedFile, ParsedRun, assemble, parse_rules, parse_run, split};

/// Every rule file of the repository: the standard packs, the scenarios, the examples and the
/// diagnostics' test files.
fn rule_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "tally") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    for dir in [
        "rules",
        "arl",
        "purl",
        "skus",
        "examples",
        "tests/scenarios",
        "compiler/tests",
    ] {
        walk(&root.join(dir), &mut out);
    }
    out.sort();
    out
}

/// The file parsed run by run, the runs given as ranges of its chunks.
fn by_runs(
    source: &Arc<SourceFile>,
    chunks: &[split::Chunk],
    runs: &[std::ops::Range<usize>],
) -> ParsedFile {
    let parsed: Vec<(usize, ParsedRun)> = runs
        .iter()
        .filter_map(|range| {
            let (start, text, relative) = split::run(&source.text, chunks, range.clone())?;
            Some((start, parse_run(text, &relative)))
        })
        .collect();
    assemble(
        Arc::clone(source),
        parsed.iter().map(|(at, run)| (*at, run)),
    )
}

fn assert_same_by_runs(path: &str, text: &str) {
    let source = SourceFile::new(path, text);
    let whole = parse_rules(Arc::clone(&source));
    let chunks = split::split(text);
    let runs = split::runs(text, &chunks);
    assert_eq!(
        runs.iter().map(|r| r.len()).sum::<usize>(),
        chunks.len(),
        "{path}: the runs cover every chunk"
    );
    assert_eq!(by_runs(&source, &chunks, &runs), whole, "{path}: by runs");
    // Each declaration a run of its own: every position moved.
    let single: Vec<std::ops::Range<usize>> = (0..chunks.len()).map(|i| i..i + 1).collect();
    assert_eq!(
        by_runs(&source, &chunks, &single),
        whole,
        "{path}: one declaration at a time"
    );
}

#[test]
fn parsing_by_runs_equals_parsing_the_whole_file() {
    let files = rule_files();
    assert!(files.len() > 100, "found the repository's rule files");
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        assert_same_by_runs(&path.to_string_lossy(), &text);
    }
}

/// Half-typed and mangled text, with syntax errors everywhere, parses the same way too.
#[test]
fn broken_text_parses_the_same_by_runs() {
    let texts = [
        include_str!("../../arl/microsoft/visio.tally"),
        include_str!("../../purl/tableau/creator.tally"),
        include_str!("../../skus/microsoft.tally"),
    ];
    for text in texts {
        let ends: Vec<usize> = text.char_indices().map(|(i, _)| i).step_by(37).collect();
        for end in ends {
            let cut = &text[..end];
            assert_same_by_runs("cut.tally", cut);
            let swapped = cut.replace('{', "}").replace('"', "{");
            assert_same_by_runs("swapped.tally", &swapped);
        }
    }
}

/// Runs end where the chunks' text says, so an edit inside one declaration leaves the other
/// runs' text as it was.
#[test]
fn an_edit_changes_one_run() {
    let mut text = String::new();
    for i in 0..400 {
        text.push_str(&format!(
            "/// Publisher {i}.\npublisher p{i} {{\n    name \"P {i}\"\n}}\n\n"
        ));
    }
    let edited = text.replacen("\"P 200\"", "\"P 200x\"", 1);
    let texts_of = |text: &str| -> Vec<String> {
        let chunks = split::split(text);
        split::runs(text, &chunks)
            .into_iter()
            .filter_map(|r| {
                let start = chunks.get(r.start)?.start;
                let end = chunks.get(r.end - 1)?.end;
                Some(text.get(start..end)?.to_string())
            })
            .collect()
    };
    let (before, after) = (texts_of(&text), texts_of(&edited));
    assert!(before.len() > 4, "several runs: {}", before.len());
    let changed = after.iter().filter(|t| !before.contains(t)).count();
    assert_eq!(changed, 1, "one run has new text");
}
