//! `tally fmt` on every rule file in the repository, found by walking it: formatting is
//! idempotent, keeps every comment in order, and compiles to the same pack; the packs are kept
//! formatted; and the command line rewrites, checks and diffs as documented.

use std::path::{Path, PathBuf};

use tally_compiler::diagnostics::{Diagnostic, SourceFile};
use tally_compiler::format::{FormatError, format_source};
use tally_compiler::{compile_sources, parse_file};
use tally_tests::tally;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Folders whose rule files are not syntax-error fixtures yet are kept as written, with why.
const LEFT_AS_WRITTEN: &[(&str, &str)] = &[
    (
        "compiler/tests/format/",
        "the formatter's golden inputs (their `.formatted.tally` files are formatted)",
    ),
    (
        "compiler/tests/diagnostics/",
        "the snapshots of rendered diagnostics quote these files' lines as written",
    ),
    (
        "tests/fuzz/seeds/",
        "fuzzing starts from varied layouts, fields sharing lines among them",
    ),
    (
        "lsp/tests/golden/",
        "the language server's transcripts address lines and columns of these files as written",
    ),
];

/// Folders of deliberately malformed rule files: the only files allowed not to parse.
const MALFORMED: &[&str] = &[
    "compiler/tests/diagnostics/",
    // Completion is asked in the middle of declarations being typed.
    "lsp/tests/golden/",
    "tests/regressions/deep-expressions/",
];

/// Every `.tally` file of the repository (paths relative to its root, with `/`), sorted; build
/// output, hidden folders and the fuzzers' local corpora are not part of it.
fn rule_files() -> Vec<String> {
    let root = repository();
    let mut found = Vec::new();
    let mut folders = vec![root.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                let skipped = name.starts_with('.')
                    || name == "target"
                    || (folder.ends_with("fuzz")
                        && ["corpus", "artifacts", "coverage"].contains(&name.as_str()));
                if !skipped {
                    folders.push(path);
                }
            } else if name.ends_with(".tally") {
                let relative = path.strip_prefix(&root).unwrap();
                found.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    found.sort();
    found
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(repository().join(relative)).unwrap()
}

/// The rule file as `path` with its folder's rhai scripts, compiled on its own: the pack
/// without source positions, and the diagnostics' codes and messages (their help lines may
/// name a line).
fn compiled(path: &str, text: &str) -> (tally_compiler::ir::CompiledPack, Vec<(String, String)>) {
    let folder = Path::new(path).parent().unwrap();
    let mut sources = vec![SourceFile::new(path, text)];
    for entry in std::fs::read_dir(repository().join(folder)).unwrap() {
        let script = entry.unwrap().path();
        if script.extension().is_some_and(|e| e == "rhai") {
            let name = folder.join(script.file_name().unwrap());
            let name = name.to_string_lossy().replace('\\', "/");
            sources.push(SourceFile::new(
                name,
                std::fs::read_to_string(&script).unwrap(),
            ));
        }
    }
    let compiled = compile_sources(&sources);
    let diagnostics = compiled
        .diagnostics
        .iter()
        .map(|d: &Diagnostic| (d.code.to_string(), d.message.clone()))
        .collect();
    (compiled.pack.without_locations(), diagnostics)
}

fn comment_texts(path: &str, text: &str) -> Vec<String> {
    parse_file(SourceFile::new(path, text))
        .comments
        .into_iter()
        .map(|c| c.text)
        .collect()
}

/// For every rule file that parses: (a) formatting the formatted text changes nothing; (b)
/// every comment is kept, in order; (c) the formatted file compiles to the same pack, with the
/// same diagnostics, source positions aside. Files that do not parse are skipped: they must be
/// among the deliberately malformed fixtures, which the formatter leaves as they are.
#[test]
fn formatting_every_rule_file_is_idempotent_keeps_its_comments_and_compiles_the_same() {
    let files = rule_files();
    let mut formatted_count = 0;
    let mut skipped = Vec::new();
    for path in &files {
        let text = read(path);
        let formatted = match format_source(path, &text) {
            Ok(formatted) => formatted,
            Err(FormatError::Syntax(_)) => {
                assert!(
                    MALFORMED.iter().any(|folder| path.starts_with(folder)),
                    "{path} does not parse, and is not in a folder of malformed fixtures"
                );
                skipped.push(path.clone());
                continue;
            }
            Err(FormatError::Unsafe) => panic!("{path} cannot be formatted safely"),
        };
        formatted_count += 1;
        // (a)
        let again = format_source(path, &formatted).unwrap();
        assert_eq!(again, formatted, "{path}: formatting is not idempotent");
        // (b)
        assert_eq!(
            comment_texts(path, &formatted),
            comment_texts(path, &text),
            "{path}: the comments changed"
        );
        // (c)
        let (pack, diagnostics) = compiled(path, &text);
        let (formatted_pack, formatted_diagnostics) = compiled(path, &formatted);
        assert_eq!(
            formatted_diagnostics, diagnostics,
            "{path}: the formatted file has other diagnostics"
        );
        assert!(
            formatted_pack == pack,
            "{path}: the formatted file compiles to another pack"
        );
    }
    assert!(
        formatted_count > 150,
        "only {formatted_count} rule files were found"
    );
    assert!(
        skipped.len() < 20,
        "{} files skipped as malformed: {skipped:?}",
        skipped.len()
    );
}

/// Every rule file that parses is formatted, but for the folders kept as written on purpose.
#[test]
fn the_repository_s_rule_files_are_formatted() {
    let mut unformatted = Vec::new();
    for path in rule_files() {
        if LEFT_AS_WRITTEN
            .iter()
            .any(|(folder, _)| path.starts_with(folder) && !path.ends_with(".formatted.tally"))
        {
            continue;
        }
        let text = read(&path);
        if let Ok(formatted) = format_source(&path, &text)
            && formatted != text
        {
            unformatted.push(path);
        }
    }
    assert!(
        unformatted.is_empty(),
        "not formatted (run `cargo run -- fmt` on them): {unformatted:?}"
    );
}

/// The documentation's examples (` ```tally ` blocks that are whole declarations) are
/// formatted: they show the style.
#[test]
fn the_documentation_s_examples_are_formatted() {
    let root = repository();
    let mut pages = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        pages.push(entry.unwrap().path());
    }
    pages.sort();
    let mut checked = 0;
    for page in pages
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
    {
        let text = std::fs::read_to_string(page).unwrap();
        for (i, block) in text.split("```tally\n").skip(1).enumerate() {
            let example = block.split("```").next().unwrap();
            let name = format!("{} example {}", page.display(), i + 1);
            // Fragments (a field alone) and the examples of syntax errors do not parse.
            if let Ok(formatted) = format_source(&name, example) {
                assert_eq!(formatted, example, "{name} is not formatted");
                checked += 1;
            }
        }
    }
    assert!(checked > 30, "only {checked} examples were checked");
}

/// The standard packs pass `tally fmt --check`, as CI runs it.
#[test]
fn the_standard_packs_pass_fmt_check() {
    let root = repository();
    let packs: Vec<String> = ["rules", "arl", "purl", "skus"]
        .iter()
        .map(|p| root.join(p).display().to_string())
        .collect();
    let args: Vec<&str> = ["fmt", "--check"]
        .into_iter()
        .chain(packs.iter().map(String::as_str))
        .collect();
    let (code, out, err) = tally(&args);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert!(out.contains(" 0 not formatted"), "{out}");
}

/// A temporary folder of rule files: one formatted, one not, one with a syntax error.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("formatted.tally"),
        "publisher acme { name \"Acme\" }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("messy.tally"),
        "publisher  acme2 {name \"Acme\"}\r\npublisher acme3 {\r\n  name \"Acme 3\" // kept\r\n}\r\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("nested")).unwrap();
    std::fs::write(
        dir.path().join("nested/broken.tally"),
        "publisher acme4 {\n    name\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("nested/script.rhai"), "1 +  1").unwrap();
    dir
}

/// `cd`-free paths for the scratch folder: `tally` prints paths as given.
fn in_dir(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).display().to_string()
}

#[test]
fn fmt_rewrites_only_what_changes_and_leaves_files_with_syntax_errors_alone() {
    let dir = scratch();
    let broken = std::fs::read_to_string(dir.path().join("nested/broken.tally")).unwrap();
    let folder = dir.path().display().to_string();
    let (code, out, err) = tally(&["fmt", &folder]);
    assert_eq!(code, 1, "{out}{err}");
    let messy = in_dir(&dir, "messy.tally");
    assert_eq!(
        out,
        format!(
            "{messy}\n3 files: 1 reformatted, 1 already formatted, 1 with syntax errors left as written\n"
        )
    );
    assert!(err.contains("T0001"), "{err}");
    assert!(err.contains("broken.tally:3:1"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("messy.tally")).unwrap(),
        "publisher acme2 { name \"Acme\" }\r\n\r\npublisher acme3 {\r\n    name \"Acme 3\" // kept\r\n}\r\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("nested/broken.tally")).unwrap(),
        broken
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("nested/script.rhai")).unwrap(),
        "1 +  1"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Now everything that parses is formatted: nothing is rewritten.
    let formatted = in_dir(&dir, "formatted.tally");
    let (code, out, err) = tally(&["fmt", &formatted, &messy]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(out, "2 files: 0 reformatted, 2 already formatted\n");
}

#[test]
fn fmt_check_lists_the_files_that_are_not_formatted_and_writes_nothing() {
    let dir = scratch();
    let messy = in_dir(&dir, "messy.tally");
    let before = std::fs::read(&messy).unwrap();
    let (code, out, err) = tally(&["fmt", "--check", &messy, &in_dir(&dir, "formatted.tally")]);
    assert_eq!((code, err.as_str()), (1, ""));
    assert_eq!(
        out,
        format!("{messy}\n2 files: 1 formatted, 1 not formatted\n")
    );
    assert_eq!(std::fs::read(&messy).unwrap(), before);

    let (code, out, _) = tally(&["fmt", "--check", &in_dir(&dir, "formatted.tally")]);
    assert_eq!(
        (code, out.as_str()),
        (0, "1 file: 1 formatted, 0 not formatted\n")
    );
}

#[test]
fn fmt_diff_prints_a_unified_diff_and_writes_nothing() {
    let dir = scratch();
    let messy = in_dir(&dir, "messy.tally");
    let before = std::fs::read(&messy).unwrap();
    let (code, out, err) = tally(&["fmt", "--diff", &messy]);
    assert_eq!((code, err.as_str()), (1, ""));
    let expected = format!(
        "--- {messy}\n+++ {messy}\n@@ -1,4 +1,5 @@\n-publisher  acme2 {{name \"Acme\"}}\r\n+publisher acme2 {{ name \"Acme\" }}\r\n+\r\n publisher acme3 {{\r\n-  name \"Acme 3\" // kept\r\n+    name \"Acme 3\" // kept\r\n }}\r\n"
    );
    assert_eq!(out, expected);
    assert_eq!(std::fs::read(&messy).unwrap(), before);

    let (code, out, _) = tally(&["fmt", "--diff", &in_dir(&dir, "formatted.tally")]);
    assert_eq!((code, out.as_str()), (0, ""));
}

#[test]
fn fmt_refuses_what_is_not_a_rule_file_and_an_empty_folder() {
    let dir = scratch();
    let (code, out, err) = tally(&["fmt", &in_dir(&dir, "nested/script.rhai")]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.contains("T0311"), "{err}");
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let (code, out, err) = tally(&["fmt", "--check", &in_dir(&dir, "empty")]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(
        err.contains("T0110") && err.contains("no `.tally` files"),
        "{err}"
    );
    let (code, _, err) = tally(&["fmt", "--check", "--diff"]);
    assert_eq!(code, 2);
    assert!(err.contains("T0301"), "{err}");
}

#[test]
fn fmt_reports_a_file_it_cannot_rewrite_and_formats_the_others() {
    let dir = scratch();
    let blocked = dir.path().join("blocked");
    std::fs::create_dir(&blocked).unwrap();
    std::fs::write(blocked.join("a.tally"), "publisher  a { name \"A\" }\n").unwrap();
    // The temporary file the new text goes to first (named after the file and the process)
    // is taken by a folder: the rewrite fails whatever the permissions, for root too.
    let temporary = format!(".a.tally.{}.tmp", std::process::id());
    std::fs::create_dir(blocked.join(temporary)).unwrap();
    let (code, out, err) = tally(&["fmt", &dir.path().display().to_string()]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("T0309"), "{err}");
    assert!(out.contains("messy.tally"), "{out}");
    assert!(out.contains("1 could not be formatted"), "{out}");
    let kept = std::fs::read_to_string(blocked.join("a.tally")).unwrap();
    assert_eq!(
        kept, "publisher  a { name \"A\" }\n",
        "the file is left as it was"
    );
}

/// A file that is a link is rewritten through the link, which stays a link, and keeps its
/// permissions.
#[cfg(unix)]
#[test]
fn fmt_rewrites_a_linked_file_through_the_link_and_keeps_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch();
    let target = dir.path().join("nested/target.tally");
    std::fs::write(&target, "publisher  b { name \"B\" }\n").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.path().join("link.tally");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let (code, _, err) = tally(&["fmt", &link.display().to_string()]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "publisher b { name \"B\" }\n"
    );
    let mode = std::fs::metadata(&target).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o640);
}
