//! The same inputs give byte-identical JSON: twice in a row, and with the rows of every CSV
//! file shuffled (and the licenses of `licenses.yaml` reversed).

use std::path::Path;

use tally_tests::{ESTATE_FILES, tally};

const AS_OF: &str = "2026-11-01";

/// The JSON outputs compared: the position, both roll-ups and every report.
const COMMANDS: &[&[&str]] = &[
    &["reconcile"],
    &["reconcile", "--by", "product"],
    &["reconcile", "--by", "publisher"],
    &["report", "unlicensed"],
    &["report", "under-consumed"],
    &["report", "expiring", "--within", "3650"],
    &["report", "cost-at-risk"],
];

fn outputs(estate: &Path) -> Vec<String> {
    COMMANDS
        .iter()
        .map(|command| {
            let mut args: Vec<&str> = command.to_vec();
            let dir = estate.to_str().unwrap();
            args.extend([dir, "--as-of", AS_OF, "--format", "json"]);
            let (code, out, err) = tally(&args);
            assert_eq!((code, err.as_str()), (0, ""), "{args:?}");
            out
        })
        .collect()
}

/// A deterministic shuffle: every third row first, then the rest reversed.
fn shuffle(lines: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = lines.iter().step_by(3).map(|l| l.to_string()).collect();
    out.extend(
        lines
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 3 != 0)
            .rev()
            .map(|(_, l)| l.to_string()),
    );
    out
}

#[test]
fn shuffled_rows_give_byte_identical_json() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/contoso");
    let first = outputs(&sample);
    assert_eq!(first, outputs(&sample), "the same estate twice");
    assert!(first.iter().all(|o| o.starts_with('[')));
    let tmp = tempfile::tempdir().unwrap();
    for name in ESTATE_FILES {
        let text = std::fs::read_to_string(sample.join(name)).unwrap();
        let shuffled = if name.ends_with(".csv") {
            let lines: Vec<&str> = text.lines().collect();
            let (header, rows) = lines.split_first().unwrap();
            let mut out = vec![header.to_string()];
            out.extend(shuffle(rows));
            out.join("\n") + "\n"
        } else {
            reverse_licenses(&text)
        };
        assert_ne!(shuffled, text, "{name} was not shuffled");
        std::fs::write(tmp.path().join(name), shuffled).unwrap();
    }
    let again = outputs(tmp.path());
    for ((command, a), b) in COMMANDS.iter().zip(&first).zip(&again) {
        assert_eq!(a, b, "{command:?} changed when the rows were shuffled");
    }
}

/// `licenses.yaml` with its license entries in reverse order.
fn reverse_licenses(text: &str) -> String {
    let mut head = String::new();
    let mut entries: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with("  - ") {
            entries.push(String::new());
        }
        match entries.last_mut() {
            Some(entry) => {
                entry.push_str(line);
                entry.push('\n');
            }
            None => {
                head.push_str(line);
                head.push('\n');
            }
        }
    }
    entries.reverse();
    head + entries.concat().as_str()
}
