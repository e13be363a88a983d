//! The rule-language front end on arbitrary text: split, parse, check and lower, then the pack's
//! `test` blocks when it compiled. Text after the first NUL byte is a rhai script beside the rule
//! file (`script.rhai`), so metrics that name it compile it too. Every diagnostic must point
//! inside its file and render. A rule file that parses must format (the formatter's own check
//! that the result parses to the same tree and comments must pass), and formatting the result
//! must change nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tally_compiler::SourceFile;
use tally_compiler::format::{FormatError, format_source};
use tally_fuzz::check_diagnostics;
use tally_runtime::pack_tests;
use tally_runtime::recognize::Recognizer;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (rules, script) = text.split_once('\0').unwrap_or((&text, ""));
    let sources = [
        SourceFile::new("fuzz/rules.tally", rules),
        SourceFile::new("fuzz/script.rhai", script),
    ];
    let parsed = tally_compiler::parse_file(sources[0].clone());
    check_diagnostics(&parsed.diagnostics);
    match format_source("fuzz/rules.tally", rules) {
        Ok(formatted) => assert_eq!(
            format_source("fuzz/rules.tally", &formatted),
            Ok(formatted.clone()),
            "formatting the formatted text changes it"
        ),
        Err(FormatError::Syntax(_)) => {}
        Err(FormatError::Unsafe) => panic!("a rule file that parses cannot be formatted"),
    }
    let compiled = tally_compiler::compile_sources(&sources);
    check_diagnostics(&compiled.diagnostics);
    if !compiled.has_errors() {
        let _ = pack_tests::run(
            &compiled.pack,
            &Recognizer::new(&compiled.pack),
            &pack_tests::TestFilter::default(),
        );
    }
});
