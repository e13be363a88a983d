//! `tally test [PATH…]`: runs the rule packs' tests (their `test` blocks and their annotated
//! sample evidence files) and scenario folders, and reports them for people or for CI.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, ValueEnum};
use tally_compiler::diagnostics::SourceFile;
use tally_runtime::pack_tests::{self, TestFilter, TestResult};
use tally_runtime::report::{self, Format};
use tally_runtime::{samples, scenarios, sources};

use super::lint::Document;
use super::{Failure, Io, RuleArgs, compile, standard_packs, today, workspace};

/// The arguments of `tally test`.
#[derive(Args)]
pub(crate) struct TestArgs {
    /// Rule packs (files or folders) to test with the standard packs, and scenario folders
    /// (those holding an `expected.json`).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    rules: RuleArgs,
    /// Run only the tests whose name contains this text, ignoring case (a scenario's name is
    /// its folder).
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// List every test run, passed or not, and not only the failures.
    #[arg(long)]
    verbose: bool,
    /// Write what the packs make of each scenario's estate into its `expected.json`, rather
    /// than comparing.
    #[arg(long)]
    update: bool,
    /// The output format.
    #[arg(long, value_enum, default_value_t = TestFormat::Table)]
    pub(crate) format: TestFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TestFormat {
    /// The failures (every test with `--verbose`) and a closing count, for people.
    Table,
    /// An array of objects, one per test.
    Json,
    /// RFC 4180 with a header row, one row per test.
    Csv,
    /// JUnit XML, the test report CI systems show.
    Junit,
    /// Each failed test as a GitHub Actions error annotation (T0124) on stdout.
    Github,
    /// Each failed test as a result (T0124) of one SARIF 2.1.0 log on stdout.
    Sarif,
}

impl TestFormat {
    /// The document the failed tests are written to as diagnostics, for CI formats.
    pub(crate) fn document(self) -> Option<Document> {
        match self {
            Self::Github => Some(Document::Github),
            Self::Sarif => Some(Document::Sarif),
            Self::Table | Self::Json | Self::Csv | Self::Junit => None,
        }
    }
}

impl From<TestFormat> for Format {
    fn from(f: TestFormat) -> Self {
        match f {
            TestFormat::Table | TestFormat::Junit | TestFormat::Github | TestFormat::Sarif => {
                Format::Table
            }
            TestFormat::Json => Format::Json,
            TestFormat::Csv => Format::Csv,
        }
    }
}

/// Runs the tests and prints them; exits 1 when any failed.
pub(crate) fn run(io: &mut Io, args: &TestArgs) -> Result<(), Failure> {
    let filter = TestFilter::new(args.filter.as_deref());
    let (scenario_dirs, packs): (Vec<&PathBuf>, Vec<&PathBuf>) =
        args.paths.iter().partition(|p| scenarios::is_scenario(p));
    let mut results = Vec::new();
    let mut total = 0;
    // The files tests are written in, by path, for the diagnostics of failed tests (only the
    // CI formats write them).
    let diagnosed = args.format.document().is_some();
    let mut written_in: BTreeMap<String, Arc<SourceFile>> = BTreeMap::new();
    if !packs.is_empty() || scenario_dirs.is_empty() {
        let packs: Vec<PathBuf> = packs.into_iter().cloned().collect();
        let ws = workspace(&packs, &args.rules, today())?;
        compile(io, &ws)?;
        let pack = ws.pack();
        total += pack.tests.len();
        results.extend(pack_tests::run(pack, ws.recognizer(), &filter));
        written_in.extend(
            ws.rule_paths()
                .filter(|_| diagnosed)
                .filter_map(|(path, _)| ws.rule_file(path))
                .map(|r| (r.source.path.clone(), r.source)),
        );
        for path in packs.iter().chain(&args.rules.packs) {
            for file in sources::read_samples(path).map_err(|d| Failure::Input(vec![*d]))? {
                let annotations =
                    samples::run(&file, pack, ws.recognizer()).map_err(Failure::Input)?;
                total += annotations.len();
                results.extend(annotations.into_iter().filter(|r| filter.selects(&r.name)));
                written_in.insert(file.path.clone(), file);
            }
        }
    }
    let mut updated = Vec::new();
    for dir in scenario_dirs {
        total += 1;
        if !filter.selects(&dir.display().to_string()) {
            continue;
        }
        let outcome = scenarios::run(
            dir,
            standard_packs(&args.rules),
            &args.rules.packs,
            args.update,
        )
        .map_err(Failure::Input)?;
        if outcome.updated {
            updated.push(dir.join(scenarios::EXPECTED));
        }
        written_in.insert(outcome.source.path.clone(), outcome.source);
        results.push(outcome.result);
    }
    let failed = results.iter().filter(|r| !r.passed()).count();
    match args.format {
        TestFormat::Table => {
            io.print(&table(&results, args.verbose, &updated, total));
        }
        TestFormat::Junit => io.print(&report::junit(&results)),
        TestFormat::Github | TestFormat::Sarif => {
            io.diagnostics(&pack_tests::failure_diagnostics(&results, |path| {
                written_in.get(path).cloned()
            }));
        }
        TestFormat::Json | TestFormat::Csv => io.rows(&report::tests(&results)),
    }
    if failed > 0 {
        Err(Failure::Findings)
    } else {
        Ok(())
    }
}

/// The failures (every test when `verbose`), the files updated, and a closing count.
fn table(results: &[TestResult], verbose: bool, updated: &[PathBuf], total: usize) -> String {
    let mut out = String::new();
    for r in results
        .iter()
        .filter(|r| verbose || !r.passed() || r.skipped.is_some())
    {
        if let Some(reason) = &r.skipped {
            out.push_str(&format!("skip  {}  ({}): {reason}\n", r.name, r.location));
        } else if r.passed() {
            out.push_str(&format!("pass  {}  ({})\n", r.name, r.location));
        } else {
            out.push_str(&format!("FAIL  {}  ({})\n", r.name, r.location));
            for f in &r.failures {
                out.push_str(&format!("        {f}\n"));
            }
        }
    }
    for path in updated {
        out.push_str(&format!("updated {}\n", path.display()));
    }
    if !out.is_empty() {
        out.push('\n');
    }
    let failed = results.iter().filter(|r| !r.passed()).count();
    out.push_str(&format!(
        "{} passed, {failed} failed, {} filtered out\n",
        results.len() - failed,
        total - results.len()
    ));
    out
}
