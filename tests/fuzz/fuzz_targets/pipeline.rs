//! A structure-aware estate and rule pack (see `tally_fuzz::scenario`), written out as files,
//! then imported, compiled, recognised, reconciled and explained. Nothing may panic; every
//! diagnostic must point inside its file and render.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tally_compiler::SourceFile;
use tally_fuzz::scenario::Scenario;
use tally_fuzz::{check_diagnostics, metric_pack, metric_sources, rule_sources};
use tally_runtime::workspace::RuleSource;
use tally_runtime::estate::{self, EstateFiles};

/// With `TALLY_FUZZ_DEBUG` set, the target prints the files it wrote and how far each input got
/// (to tune the generator, or to turn a crash into a regression test).
fn debug(what: &str, detail: &dyn std::fmt::Debug) {
    if std::env::var_os("TALLY_FUZZ_DEBUG").is_some() {
        eprintln!("pipeline: {what}: {detail:#?}");
    }
}

fuzz_target!(|scenario: Scenario| {
    let texts = scenario.texts(metric_pack());
    if std::env::var_os("TALLY_FUZZ_DEBUG").is_some() {
        let names = [
            "devices.csv",
            "users.csv",
            "evidence.csv",
            "licenses.yaml",
            "purchases.csv",
        ];
        for (name, text) in names.iter().zip(&texts.estate) {
            eprintln!("--- {name}\n{text}");
        }
        if let Some(usage) = &texts.usage {
            eprintln!("--- usage.csv\n{usage}");
        }
        eprintln!("--- packs/rules.tally\n{}", texts.rules);
    }
    let [devices, users, evidence, licenses, purchases] = &texts.estate;
    let mut files = EstateFiles::from_texts(
        "fuzz",
        [devices, users, evidence, licenses, purchases].map(String::as_str),
    );
    if let Some(usage) = &texts.usage {
        files = files.with_usage(usage);
    }
    let mut rules = if scenario.standard {
        rule_sources(metric_sources())
    } else {
        Vec::new()
    };
    rules.push(RuleSource {
        source: SourceFile::new("fuzz/pack/rules.tally", texts.rules.as_str()),
        standard: false,
    });
    let sources: Vec<_> = rules.iter().map(|r| r.source.clone()).collect();
    let compiled = tally_compiler::compile_sources(&sources);
    check_diagnostics(&compiled.diagnostics);
    if compiled.has_errors() {
        let messages: Vec<String> = compiled.diagnostics.iter().map(|d| d.one_line()).collect();
        debug("rules do not compile", &(&texts.rules, messages));
        return;
    }
    match estate::import(&files, &compiled.pack) {
        Err(diagnostics) => {
            check_diagnostics(&diagnostics);
            let messages: Vec<String> = diagnostics.iter().map(|d| d.one_line()).collect();
            debug("estate does not import", &messages);
        }
        Ok(estate) => {
            debug("runs", &(estate.devices.len(), estate.licenses.len()));
            tally_fuzz::run(rules, estate);
        }
    }
});
