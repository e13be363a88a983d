//! The catalogue of bad inputs (see `docs/testing.md`). `bad-inputs/base/` is a small valid
//! estate with its own rule pack (`base/pack/`); every other file under `bad-inputs/` is one
//! case: `<estate file>/<case>.<ext>` replaces that estate file of a copy of the base estate,
//! and `command/<case>.args` is one line of arguments run against the base estate (or, for
//! `import`, on the inventory files of `base/inventory/`). Each case runs `tally` in-process
//! and its exit code, stdout and stderr are an insta snapshot.
//!
//! Cases that cannot be a plain file are markers: `<case>.absent` deletes the estate file,
//! `<case>.link` makes it a link to the path the marker holds (a target outside the estate
//! folder is created, holding a secret that must not be shown), and `<case>.fifo` makes it a
//! named pipe.
//!
//! One test function, so that it may change the working folder: estates and the pack are
//! given as relative paths, which keeps the snapshots the same on every machine.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Component, Path, PathBuf};
use tally_tests::tally;

/// The day every case is reconciled on, unless its command line says otherwise.
const AS_OF: &str = "2026-11-01";

/// What a file outside the estate folder holds; no output may show it.
const SECRET: &str = "TOP-SECRET-VALUE";

/// Rendered lines are bounded: a bad input never gives an unbounded line.
const MAX_LINE: usize = 200;

/// The estate files, as named by the case folders.
const ESTATE_FILES: [&str; 6] = [
    "devices.csv",
    "users.csv",
    "evidence.csv",
    "licenses.yaml",
    "purchases.csv",
    "usage.csv",
];

/// Copies the files (not the folders) of `from` into a new folder `to`.
fn copy_files(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
}

/// The arguments of `tally COMMAND ESTATE --no-std --pack pack --as-of AS_OF REST…` for the
/// line `COMMAND REST…`; the date is left out when the line gives `--as-of` itself, and a line
/// `COMMAND FOLDER REST…` names its own estate folder. An `import` line, which reads neither
/// estate nor rules, is run as it is (its inputs are in `inventory/`, from `base/inventory/`).
fn command_line(line: &str, estate: &str) -> Vec<String> {
    if line.starts_with("import ") {
        return line.split_whitespace().map(str::to_owned).collect();
    }
    let mut words = line.split_whitespace();
    let command = words.next().unwrap();
    let mut rest: Vec<&str> = words.collect();
    let estate = match rest.first() {
        Some(folder) if !folder.starts_with('-') => rest.remove(0),
        _ => estate,
    };
    let mut args: Vec<String> = [command, estate, "--no-std", "--pack", "pack"]
        .map(str::to_owned)
        .to_vec();
    if !rest.contains(&"--as-of") {
        args.extend(["--as-of".to_owned(), AS_OF.to_owned()]);
    }
    args.extend(rest.iter().map(|w| (*w).to_owned()));
    args
}

/// The codes (`T0201`, …) in a text.
fn codes_in(text: &str) -> BTreeSet<String> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(4))
        .filter(|&i| {
            bytes[i] == b'T'
                && bytes[i + 1..i + 5].iter().all(u8::is_ascii_digit)
                && bytes[i + 1] == b'0'
                && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
                && bytes.get(i + 5).is_none_or(|b| !b.is_ascii_alphanumeric())
        })
        .map(|i| text[i..i + 5].to_owned())
        .collect()
}

/// Makes the estate file at `file` what the marker `case` says; false when this platform
/// cannot (links and named pipes are made on unix only).
fn apply_marker(case: &Path, file: &Path) -> bool {
    let ext = case
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    match ext {
        "absent" => {
            fs::remove_file(file).unwrap();
            true
        }
        "link" => {
            let target = fs::read_to_string(case).unwrap();
            make_link(target.trim(), file)
        }
        "fifo" => make_fifo(file),
        _ => {
            fs::copy(case, file).unwrap();
            true
        }
    }
}

/// Replaces `file` with a link to `target`. A relative target that climbs out of the estate
/// folder is created there, holding the secret, so that the link is not merely broken.
#[cfg(unix)]
fn make_link(target: &str, file: &Path) -> bool {
    let dir = file.parent().unwrap();
    let climbs = Path::new(target)
        .components()
        .any(|c| c == Component::ParentDir);
    if climbs && Path::new(target).is_relative() {
        let outside = normalize(&dir.join(target));
        assert!(!outside.starts_with(dir), "{target} stays in the estate");
        fs::create_dir_all(outside.parent().unwrap()).unwrap();
        fs::write(&outside, format!("id,name\n{SECRET},x\n")).unwrap();
    }
    fs::remove_file(file).unwrap();
    std::os::unix::fs::symlink(target, file).unwrap();
    true
}

#[cfg(not(unix))]
fn make_link(_target: &str, _file: &Path) -> bool {
    false
}

/// `a/b/../c` as `a/c`, without asking the file system.
#[cfg(unix)]
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(unix)]
fn make_fifo(file: &Path) -> bool {
    fs::remove_file(file).unwrap();
    let made = std::process::Command::new("mkfifo").arg(file).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", file.display());
    true
}

#[cfg(not(unix))]
fn make_fifo(_file: &Path) -> bool {
    false
}

#[test]
fn bad_inputs() {
    let catalogue = Path::new(env!("CARGO_MANIFEST_DIR")).join("bad-inputs");
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bad-inputs");
    if root.exists() {
        fs::remove_dir_all(&root).unwrap();
    }
    fs::create_dir_all(root.join("estate")).unwrap();
    copy_files(&catalogue.join("base/pack"), &root.join("pack"));
    copy_files(&catalogue.join("base/inventory"), &root.join("inventory"));
    copy_files(&catalogue.join("base"), &root.join("estate/base"));
    std::env::set_current_dir(&root).unwrap();

    // The base estate is valid: every case below has exactly the mistake its file makes.
    let (code, out, err) = tally(&command_line("reconcile", "estate/base"));
    assert_eq!(code, 0, "the base estate must reconcile:\n{err}");
    assert_eq!(err, "", "the base estate and pack give no warnings");
    assert!(out.contains("3 licenses"), "{out}");

    let mut seen = BTreeSet::new();
    let mut cases = 0;
    let mut problems = Vec::new();
    insta::glob!(
        "..",
        "bad-inputs/{devices.csv,users.csv,evidence.csv,licenses.yaml,purchases.csv,usage.csv,command}/*",
        |case| {
            let folder = case.parent().and_then(Path::file_name).unwrap();
            let folder = folder.to_str().unwrap();
            let stem = case.file_stem().and_then(|s| s.to_str()).unwrap();
            let args = if folder == "command" {
                let line = fs::read_to_string(case).unwrap();
                command_line(line.trim(), "estate/base")
            } else {
                assert!(ESTATE_FILES.contains(&folder), "{folder}");
                let name = folder.split('.').next().unwrap();
                let estate = format!("estate/{name}-{stem}");
                copy_files(&catalogue.join("base"), Path::new(&estate));
                if !apply_marker(case, &Path::new(&estate).join(folder)) {
                    return;
                }
                command_line("reconcile", &estate)
            };
            let (code, out, err) = tally(&args);
            cases += 1;
            let codes = codes_in(&err);
            let name = format!("{folder}/{stem}");
            if code != 2 {
                problems.push(format!("{name}: exit code {code}"));
            }
            if !out.is_empty() {
                problems.push(format!("{name}: stdout is not empty"));
            }
            if codes.is_empty() {
                problems.push(format!("{name}: no code on stderr"));
            }
            if err.contains(SECRET) {
                problems.push(format!("{name}: shows what a refused link points at"));
            }
            if let Some(long) = err.lines().find(|l| l.chars().count() >= MAX_LINE) {
                problems.push(format!(
                    "{name}: a line of {} characters",
                    long.chars().count()
                ));
            }
            seen.extend(codes);
            insta::assert_snapshot!(format!(
                "$ tally {}\nexit code: {code}\n--- stdout\n{out}--- stderr\n{err}",
                args.join(" ")
            ));
        }
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(cases >= 60, "only {cases} cases");

    // Every estate, input-file and command-line code has cases.
    let mut expected: BTreeSet<String> = tally_runtime::estate::codes::ALL
        .iter()
        .map(|(code, _)| code.to_string())
        .collect();
    expected.extend(["T0301".to_owned(), "T0302".to_owned()]);
    if cfg!(not(unix)) {
        // Links and named pipes are made on unix only.
        expected.remove("T0208");
    }
    let missing: Vec<_> = expected.difference(&seen).collect();
    assert!(missing.is_empty(), "no case gives {missing:?}");
}
