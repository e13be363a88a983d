//! What the fuzz targets share: the standard packs and the sample estate, the invariants every
//! diagnostic must keep, and the whole pipeline from estate files to positions, recognition and
//! explanations.
//!
//! A broken invariant is a panic, which libFuzzer reports as a crash with the input that caused
//! it (saved under `artifacts/`).

pub mod scenario;

use std::cell::RefCell;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use jiff::civil::{Date, date};
use tally_compiler::diagnostics::{Diagnostic, SourceFile, Span};
use tally_compiler::ir::CompiledPack;
use tally_runtime::db::Database;
use tally_runtime::workspace::{RuleSource, Subject, Workspace};
use tally_runtime::estate::{self, EstateFiles};
use tally_runtime::report::{self, Format};

/// The folder the sample estate's paths are shown in.
pub const SAMPLE_DIR: &str = "examples/contoso";

/// The sample estate's files, in the order of [`EstateFiles::from_texts`]: devices, users,
/// evidence, licenses, purchases.
pub const SAMPLE: [&str; 5] = [
    include_str!("../../../examples/contoso/devices.csv"),
    include_str!("../../../examples/contoso/users.csv"),
    include_str!("../../../examples/contoso/evidence.csv"),
    include_str!("../../../examples/contoso/licenses.yaml"),
    include_str!("../../../examples/contoso/purchases.csv"),
];

/// A `usage.csv` for the sample estate (it has none of its own).
pub const SAMPLE_USAGE: &str = "application,at,in_use\n\
    microsoft.visio.professional_2016,2025-03-31T14:30,3\n\
    microsoft.visio.professional_2016,2025-04-01,5\n";

/// The day every run is reconciled on.
pub const AS_OF: Date = date(2026, 11, 1);

/// The rule files of the standard packs in these folders of the repository.
fn read_packs(dirs: &[&str]) -> Vec<Arc<SourceFile>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    dirs.iter()
        .flat_map(|dir| {
            tally_runtime::sources::read_pack(&root.join(dir))
                .unwrap_or_else(|d| panic!("the standard packs must be readable: {d:?}"))
        })
        .collect()
}

fn compile_pack(sources: &[Arc<SourceFile>]) -> CompiledPack {
    let compiled = tally_compiler::compile_sources(sources);
    assert!(!compiled.has_errors(), "the standard packs must compile");
    compiled.pack
}

/// The standard packs (`rules/`, `arl/`, `purl/`, `skus/`), read once.
pub fn standard_sources() -> &'static [Arc<SourceFile>] {
    static SOURCES: OnceLock<Vec<Arc<SourceFile>>> = OnceLock::new();
    SOURCES.get_or_init(|| read_packs(&["rules", "arl", "purl", "skus"]))
}

/// The standard packs compiled, once.
pub fn standard_pack() -> &'static CompiledPack {
    static PACK: OnceLock<CompiledPack> = OnceLock::new();
    PACK.get_or_init(|| compile_pack(standard_sources()))
}

/// The standard metrics and tables (`rules/`) alone, read once.
pub fn metric_sources() -> &'static [Arc<SourceFile>] {
    static SOURCES: OnceLock<Vec<Arc<SourceFile>>> = OnceLock::new();
    SOURCES.get_or_init(|| read_packs(&["rules"]))
}

/// The standard metrics and tables compiled, once.
pub fn metric_pack() -> &'static CompiledPack {
    static PACK: OnceLock<CompiledPack> = OnceLock::new();
    PACK.get_or_init(|| compile_pack(metric_sources()))
}

/// Rule sources for a workspace.
pub fn rule_sources(sources: &[Arc<SourceFile>]) -> Vec<RuleSource> {
    sources
        .iter()
        .map(|source| RuleSource {
            source: Arc::clone(source),
            standard: true,
        })
        .collect()
}

/// The sample estate with one file replaced: `index` in the order of [`SAMPLE`], or 5 for
/// `usage.csv`.
pub fn sample_with(index: usize, text: &str) -> EstateFiles {
    let mut texts = SAMPLE;
    if let Some(slot) = texts.get_mut(index) {
        *slot = text;
    }
    let files = EstateFiles::from_texts(SAMPLE_DIR, texts);
    if index == 5 {
        files.with_usage(text)
    } else {
        files.with_usage(SAMPLE_USAGE)
    }
}

/// Panics unless `span` lies inside `source` and starts and ends on character boundaries.
pub fn check_span(source: &SourceFile, span: Span, what: &str) {
    let text = &source.text;
    assert!(
        span.start <= span.end && span.end <= text.len(),
        "{what}: span {span:?} is outside `{}` ({} bytes)",
        source.path,
        text.len()
    );
    assert!(
        text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
        "{what}: span {span:?} of `{}` is not on character boundaries",
        source.path
    );
}

/// Checks every diagnostic: a code, spans inside their files on character boundaries (also for
/// the related locations), and a rendering without a panic whose lines are bounded and hold no
/// control characters.
pub fn check_diagnostics(diagnostics: &[Diagnostic]) {
    for d in diagnostics {
        assert!(
            d.code.0.starts_with('T') && d.code.0.len() == 5,
            "diagnostic without a proper code: {d:?}"
        );
        assert!(!d.message.is_empty(), "diagnostic without a message: {d:?}");
        if let Some(span) = d.span {
            check_span(&d.source, span, &d.message);
        }
        for related in &d.related {
            check_span(&related.source, related.span, &related.label);
        }
        let _ = d.line_col();
        let _ = d.one_line();
        let rendered = d.render();
        for line in rendered.lines() {
            assert!(line.chars().count() < 400, "a rendered line runs long: {line}");
            assert!(
                !line.chars().any(|c| c.is_control() && c != '\t'),
                "a rendered line holds a control character: {line:?}"
            );
        }
    }
    let rows = report::diagnostics(diagnostics);
    let _ = rows.render(Format::Json);
    let _ = rows.render(Format::Table);
}

/// Imports an estate against the standard packs; checks the diagnostics when it fails, and runs
/// the whole pipeline when it succeeds.
pub fn import_and_run(files: &EstateFiles) {
    match estate::import(files, standard_pack()) {
        Err(diagnostics) => {
            assert!(!diagnostics.is_empty(), "an import failed without a reason");
            check_diagnostics(&diagnostics);
        }
        Ok(estate) => with_standard_workspace(|ws| run_in(ws, estate)),
    }
}

/// How many estates a workspace with the standard packs takes before it is replaced: keeping it
/// saves compiling the packs for every input, and replacing it frees what salsa keeps of
/// earlier estates.
const WORKSPACE_REUSE: usize = 64;

/// Runs `f` on a workspace with the standard packs, kept between inputs.
fn with_standard_workspace(f: impl FnOnce(&mut Workspace)) {
    thread_local! {
        static WORKSPACE: RefCell<Option<(Workspace, usize)>> = const { RefCell::new(None) };
    }
    WORKSPACE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let (ws, uses) = match slot.take() {
            Some((ws, uses)) if uses < WORKSPACE_REUSE => (ws, uses),
            _ => (
                Workspace::new(Database::default(), rule_sources(standard_sources()), AS_OF),
                0,
            ),
        };
        let (ws, _) = slot.insert((ws, uses + 1));
        f(ws);
    });
}

/// Loads an imported estate into a new workspace with these rules, and computes and renders
/// positions, recognition and the explanation of every device, license and user.
pub fn run(rules: Vec<RuleSource>, estate: estate::Estate) {
    let mut ws = Workspace::new(Database::default(), rules, AS_OF);
    run_in(&mut ws, estate);
}

/// Loads an imported estate into a workspace, replacing the one it had, and computes and
/// renders everything about it.
pub fn run_in(ws: &mut Workspace, estate: estate::Estate) {
    let devices: Vec<String> = estate.devices.iter().map(|d| d.id.clone()).collect();
    let users: Vec<String> = estate.users.iter().map(|u| u.id.clone()).collect();
    let licenses: Vec<String> = estate.licenses.iter().map(|l| l.id.clone()).collect();
    ws.load(estate);
    let positions = ws.positions();
    assert_eq!(positions.len(), licenses.len(), "one position per license");
    for format in [Format::Table, Format::Json, Format::Csv] {
        let _ = report::positions(positions).render(format);
    }
    let recognition = ws.recognition();
    let _ = report::recognition(&recognition).render(Format::Table);
    let sources = report::declaration_sources(ws.pack());
    let subjects = devices
        .iter()
        .map(|d| Subject::Device(d))
        .chain(users.iter().map(|u| Subject::User(u)))
        .chain(licenses.iter().map(|l| Subject::License(l)));
    for subject in subjects {
        let explained = ws.explain(subject, false);
        assert!(explained.is_some(), "{subject:?} is in the estate");
        let rows = explained.map(|e| e.rows).unwrap_or_default();
        let _ = report::assessments(rows.iter().copied(), &sources).render(Format::Json);
    }
    let _ = report::assessments(ws.assessments(), &sources).render(Format::Table);
}
