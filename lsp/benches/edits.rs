//! The language server's edit latency and memory: a workspace with the standard packs and a
//! generated pack of 50,000 declarations (`tally gen estate --rules`, 85,000 recognition
//! rules), then "apply one edit, diagnostics ready" timed over many edits, and the resident
//! memory before and after many more.
//!
//! ```sh
//! cargo bench -p tally-lsp --bench edits                       # 200 timed edits, 10,000 for memory
//! cargo bench -p tally-lsp --bench edits -- --edits 50 --memory-edits 1000
//! ```
//!
//! An edit is a keystroke in a small pack of the user's (`my.tally`, which references the
//! generated declarations): a name made wrong, then right again, so every second edit adds a
//! diagnostic and the next removes it. Another series edits a file of the generated pack (a
//! string of one of its 5,000-odd declarations). Each edit goes through the server's own state
//! (`State::change_document`, `State::sync`) and ends when the diagnostics of every file are
//! computed and converted for the client, as `publishDiagnostics` sends them first: the
//! compiler's, with the test failures of the last run. Running the tests afterwards (and
//! converting again) is timed on its own.

// A bench fails loudly on anything unexpected.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use tally_compiler::syntax::ast::DeclKind;
use tally_lsp::diagnostics::{test_failures, workspace_diagnostics, workspace_diagnostics_with};
use tally_lsp::settings::{Settings, StandardPacks};
use tally_lsp::state::State;
use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent, Uri};

/// The tests' support, for the standard packs read as `tally` embeds them.
#[path = "../tests/support/mod.rs"]
mod support;

/// Recognition rules to generate by default: about 0.59 declarations per rule, so 50,000
/// declarations.
const RULES: usize = 85_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let number = |flag: &str, default: usize| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let edits = number("--edits", 200);
    let memory_edits = number("--memory-edits", 10_000);
    let rules = u32::try_from(number("--rules", RULES)).unwrap_or(u32::MAX);

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let started = Instant::now();
    let options = tally_runtime::generate::Options {
        devices: 1,
        seed: 1,
        licenses: None,
        rules: rules.max(1),
    };
    let summary = tally_runtime::generate::write(&root, &options).unwrap();
    for name in [
        "devices.csv",
        "users.csv",
        "evidence.csv",
        "licenses.yaml",
        "purchases.csv",
    ] {
        let _ = std::fs::remove_file(root.join(name));
    }
    let generated = root.join(&summary.rule_files[0]);
    let generated_text = std::fs::read_to_string(&generated).unwrap();
    // A declaration of the generated pack for the user's pack to name.
    let application = generated_text
        .lines()
        .find_map(|l| l.strip_prefix("application "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();
    let product = generated_text
        .lines()
        .find_map(|l| l.trim().strip_prefix("product "))
        .unwrap()
        .trim()
        .to_string();
    if rules == 0 {
        // Only the standard packs and the user's pack: the generated application and product
        // are declared there.
        let _ = std::fs::remove_dir_all(root.join("rules"));
    }
    let mine = root.join("my.tally");
    let mut my_text = format!(
        "/// My rights to the generated application.\nrights my.rights {{\n    covers {application}\n    downgrade\n}}\n\nbundle my.bundle {{\n    primary {product}\n}}\n"
    );
    if rules == 0 {
        let start = generated_text.find("publisher ").unwrap();
        let end = generated_text
            .find(&format!("application {application}"))
            .unwrap();
        let end = end + generated_text[end..].find("\n}\n").unwrap() + 3;
        my_text.push('\n');
        my_text.push_str(&generated_text[start..end]);
    }
    std::fs::write(&mine, &my_text).unwrap();
    eprintln!(
        "generated {} rules in {} files in {:.1} s",
        summary.rules,
        summary.rule_files.len(),
        started.elapsed().as_secs_f64()
    );

    let standard = support::standard();
    let state = State::default();
    let rss_start = rss_kib();
    let started = Instant::now();
    // The standard packs as `tally-std:` URIs: nothing is written to the user's cache.
    let settings = Settings {
        standard_packs: StandardPacks::Virtual,
        ..Settings::default()
    };
    let problems = state.load(settings, standard, std::slice::from_ref(&root));
    assert!(problems.is_empty());
    let first = diagnostics(&state);
    let snapshot = state.snapshot().unwrap();
    let declarations: usize = snapshot
        .rules
        .files(&snapshot.db)
        .iter()
        .map(|f| tally_lsp::index::file_index(&snapshot.db, *f).symbols.len())
        .sum();
    let generated_declarations: usize = snapshot
        .rules
        .files(&snapshot.db)
        .iter()
        .filter(|f| f.source(&snapshot.db).path.starts_with("rules/generated-"))
        .map(|f| {
            tally_lsp::index::file_index(&snapshot.db, *f)
                .symbols
                .iter()
                .filter(|s| s.kind != DeclKind::Test)
                .count()
        })
        .sum();
    drop(snapshot);
    eprintln!(
        "loaded {declarations} declarations ({generated_declarations} generated) and computed the first diagnostics ({first} in all) in {:.2} s",
        started.elapsed().as_secs_f64()
    );

    let my_uri = Uri::from_file_path(&mine).unwrap();
    let generated_uri = Uri::from_file_path(&generated).unwrap();
    state.open_document(my_uri.clone(), 1, my_text.clone());
    state.sync(&my_uri);
    diagnostics(&state);
    if rules > 0 {
        state.open_document(generated_uri.clone(), 1, generated_text.clone());
        state.sync(&generated_uri);
        diagnostics(&state);
    }

    // Where the user's edit happens: the last character of the covered application's name.
    let name_end = my_text.find(&application).unwrap() + application.len();
    let mine_at = position(&my_text, name_end);
    // In the generated file: inside the first quoted string.
    let quote = generated_text.find('"').unwrap() + 1;
    let generated_at = position(&generated_text, quote);

    let rss_loaded = rss_kib();
    let small = time_edits(&state, &my_uri, mine_at, edits, 1);
    report(
        &format!("edit in my.tally ({declarations} declarations loaded)"),
        &small,
    );
    if rules > 0 {
        let large = time_edits(&state, &generated_uri, generated_at, edits.min(50), 1);
        report(
            &format!("edit in a generated file of {} bytes", generated_text.len()),
            &large,
        );
    }

    let before = rss_kib();
    let started = Instant::now();
    let version = 1 + 2 * edits;
    let _ = time_edits(&state, &my_uri, mine_at, memory_edits, version);
    let after = rss_kib();
    println!(
        "memory: {} MiB at start, {} MiB loaded, {} MiB before {memory_edits} edits, {} MiB after ({:.0} s)",
        rss_start / 1024,
        rss_loaded / 1024,
        before / 1024,
        after / 1024,
        started.elapsed().as_secs_f64()
    );
}

/// Edits `count` times, each adding a character after `at` or removing it again, and
/// returns how long each took until the diagnostics were ready (and, on stderr, how much of
/// it setting the input took: the workspace parses the edited file and updates its application
/// directory from the name table there).
fn time_edits(state: &State, uri: &Uri, at: Position, count: usize, first: usize) -> Vec<Duration> {
    let mut times = Vec::with_capacity(count);
    let mut sync_times = Vec::with_capacity(count);
    let mut test_times = Vec::with_capacity(count);
    // The failures of the tests' last run, as the server keeps them.
    let snapshot = state.snapshot().unwrap();
    let mut last = test_failures(&snapshot.db, snapshot.rules).clone();
    drop(snapshot);
    for i in 0..count {
        let version = i32::try_from(first + i + 1).unwrap_or(i32::MAX);
        let adding = i % 2 == 0;
        let end = if adding {
            at
        } else {
            Position::new(at.line, at.character + 1)
        };
        let change = TextDocumentContentChangeEvent {
            range: Some(Range::new(at, end)),
            range_length: None,
            text: if adding {
                "x".to_string()
            } else {
                String::new()
            },
        };
        let started = Instant::now();
        state.change_document(uri, version, &[change]);
        state.sync(uri);
        sync_times.push(started.elapsed());
        compiler_diagnostics(state, &last);
        times.push(started.elapsed());
        let started = Instant::now();
        diagnostics(state);
        let snapshot = state.snapshot().unwrap();
        last = test_failures(&snapshot.db, snapshot.rules).clone();
        test_times.push(started.elapsed());
    }
    if count > 0 {
        sync_times.sort();
        eprintln!(
            "  of which setting the input (and parsing): median {:.1} ms",
            sync_times[count / 2].as_secs_f64() * 1000.0
        );
        test_times.sort();
        eprintln!(
            "  then running the tests and publishing again: median {:.1} ms, max {:.1} ms",
            test_times[count / 2].as_secs_f64() * 1000.0,
            test_times[count - 1].as_secs_f64() * 1000.0
        );
    }
    times
}

/// Computes the diagnostics of every file as the server publishes them; their number.
fn diagnostics(state: &State) -> usize {
    let snapshot = state.snapshot().unwrap();
    workspace_diagnostics(&snapshot)
        .iter()
        .map(|(_, _, d)| d.len())
        .sum()
}

/// Computes the diagnostics of every file as the server publishes them first after an edit:
/// the compiler's, with the given test failures (those of the last run).
fn compiler_diagnostics(state: &State, failures: &[tally_compiler::Diagnostic]) -> usize {
    let snapshot = state.snapshot().unwrap();
    workspace_diagnostics_with(&snapshot, failures)
        .iter()
        .map(|(_, _, d)| d.len())
        .sum()
}

fn report(what: &str, times: &[Duration]) {
    let mut sorted: Vec<Duration> = times.to_vec();
    sorted.sort();
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q) as usize].as_secs_f64() * 1000.0;
    println!(
        "{what}: {} edits, median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        times.len(),
        at(0.5),
        at(0.95),
        at(1.0)
    );
}

fn position(text: &str, offset: usize) -> Position {
    tally_lsp::text::LineIndex::new(text).position(text, offset, tally_lsp::text::Encoding::Utf16)
}

/// The resident set of the process, in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
