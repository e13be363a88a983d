//! Golden tests of the formatter: each `format/NAME.tally` formats, byte for byte, to
//! `format/NAME.formatted.tally`, which formats to itself.
//!
//! The inputs are written carelessly on purpose (they are the only rule files in the
//! repository that are not formatted). To add a case, write `NAME.tally`, copy it to
//! `NAME.formatted.tally`, run `cargo run -- fmt compiler/tests/format/NAME.formatted.tally`
//! and read the result.

use std::path::{Path, PathBuf};

use tally_compiler::format::{FormatError, format_source};
use tally_compiler::syntax::split::DECLARATION_KEYWORDS;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/format")
}

/// A readable difference between what was expected and what came out.
fn difference(expected: &str, actual: &str) -> String {
    similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .header("expected", "formatted")
        .to_string()
}

/// The formatted text, or why there is none.
fn format(name: &str, text: &str) -> Result<String, String> {
    format_source(name, text).map_err(|error| match error {
        FormatError::Syntax(diagnostics) => {
            let rendered: Vec<String> = diagnostics.iter().map(|d| d.one_line()).collect();
            format!("{name} does not parse:\n{}", rendered.join("\n"))
        }
        FormatError::Unsafe => format!("{name} cannot be formatted safely"),
    })
}

#[test]
fn every_input_formats_to_its_golden_file() {
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("the golden folder")
        .map(|entry| entry.expect("a folder entry").path())
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            name.is_some_and(|n| n.ends_with(".tally") && !n.ends_with(".formatted.tally"))
        })
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 10, "the golden inputs are missing");
    let mut failures = Vec::new();
    for input in &inputs {
        let name = input.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        let text = std::fs::read_to_string(input).expect("a golden input");
        let golden = input.with_extension("formatted.tally");
        let Ok(expected) = std::fs::read_to_string(&golden) else {
            failures.push(format!("{name}: {} is missing", golden.display()));
            continue;
        };
        let formatted = format(&name, &text).unwrap_or_else(|e| panic!("{e}"));
        if formatted != expected {
            failures.push(format!("{name}:\n{}", difference(&expected, &formatted)));
        }
        let again = format(&name, &expected).unwrap_or_else(|e| panic!("{e}"));
        if again != expected {
            failures.push(format!(
                "{name}: the golden file is not formatted:\n{}",
                difference(&expected, &again)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The cases the golden inputs must keep covering, by file: every declaration kind, comments,
/// line ends, a byte-order mark, tabs and the rest the formatter must get right.
#[test]
fn the_golden_inputs_cover_what_they_are_for() {
    let read = |name: &str| std::fs::read(golden_dir().join(name)).expect(name);
    let declarations = String::from_utf8(read("declarations.tally")).expect("UTF-8");
    for keyword in DECLARATION_KEYWORDS {
        assert!(
            declarations.contains(&format!("\n{keyword} ")),
            "declarations.tally has no `{keyword}`"
        );
    }
    assert!(read("crlf.tally").windows(2).any(|w| w == b"\r\n"));
    assert!(
        read("crlf.formatted.tally")
            .windows(2)
            .any(|w| w == b"\r\n")
    );
    assert!(read("bom.tally").starts_with("\u{feff}".as_bytes()));
    assert!(read("tabs.tally").contains(&b'\t'));
    assert!(!read("no_final_newline.tally").ends_with(b"\n"));
}

/// A comment between any two tokens of a file is kept, in its place, and formatting stays
/// idempotent: for each gap between tokens of the golden files, a comment is put there (on the
/// line of the token before, or on a line of its own) and the file formatted. Gaps where a
/// comment breaks the file (a declaration keyword pushed to the start of a line starts a new
/// declaration) are skipped: the formatter only formats files that parse.
#[test]
fn a_comment_anywhere_is_kept_and_formatting_stays_idempotent() {
    let mut tried = 0;
    for name in [
        "declarations.formatted.tally",
        "expressions.formatted.tally",
        "long_lines.formatted.tally",
        "literals.formatted.tally",
    ] {
        let text = std::fs::read_to_string(golden_dir().join(name)).expect(name);
        for at in token_gaps(&text) {
            for comment in [" // inserted\n", "\n\n// inserted\n\n"] {
                let mut mutated = text.clone();
                mutated.insert_str(at, comment);
                let formatted = match format_source(name, &mutated) {
                    Ok(formatted) => formatted,
                    Err(FormatError::Syntax(_)) => continue,
                    Err(FormatError::Unsafe) => {
                        panic!("{name} with a comment at {at} cannot be formatted:\n{mutated}")
                    }
                };
                tried += 1;
                assert!(
                    formatted.contains("// inserted"),
                    "{name}: the comment at {at} is lost"
                );
                let again = format(name, &formatted).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(
                    again,
                    formatted,
                    "{name} with a comment at {at} is not formatted idempotently:\n{}",
                    difference(&formatted, &again)
                );
            }
        }
    }
    assert!(tried > 1000, "only {tried} files were tried");
}

/// The byte offsets between tokens, outside strings and comments: where white space follows a
/// token, after an opening bracket, and before a closing bracket or a comma.
fn token_gaps(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut gaps = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b' ' | b'\n' if i > 0 && !bytes[i - 1].is_ascii_whitespace() => gaps.push(i),
            b'(' | b'[' => gaps.push(i + 1),
            b')' | b']' | b',' if i > 0 && !bytes[i - 1].is_ascii_whitespace() => gaps.push(i),
            _ => {}
        }
        i += 1;
    }
    gaps
}
