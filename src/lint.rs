//! `tally lint`, and the output formats of the commands whose output is diagnostics (`check`
//! and `lint`): the table, JSON and CSV every command has, and for CI a SARIF log or GitHub
//! workflow commands on stdout.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use tally_compiler::diagnostics::Diagnostic;
use tally_runtime::lint::{self, Context, Settings};
use tally_runtime::manifest;
use tally_runtime::report::{self, Format, ci};

use super::{Failure, Io, RuleArgs, today, workspace};

/// The formats of `check` and `lint`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DiagnosticFormatArg {
    /// Diagnostics as text on stderr; a summary line on stdout.
    Table,
    /// Diagnostics as JSON records on stderr; the counts on stdout.
    Json,
    /// Diagnostics as CSV on stderr; the counts on stdout.
    Csv,
    /// Every diagnostic as one SARIF 2.1.0 log on stdout.
    Sarif,
    /// Every diagnostic as a GitHub Actions workflow command on stdout.
    Github,
}

/// A format that writes every diagnostic as one document on stdout.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Document {
    Sarif,
    Github,
}

impl DiagnosticFormatArg {
    /// The format of rows and of diagnostics on stderr.
    pub fn rows(self) -> Format {
        match self {
            Self::Json => Format::Json,
            Self::Csv => Format::Csv,
            Self::Table | Self::Sarif | Self::Github => Format::Table,
        }
    }

    pub fn document(self) -> Option<Document> {
        match self {
            Self::Sarif => Some(Document::Sarif),
            Self::Github => Some(Document::Github),
            Self::Table | Self::Json | Self::Csv => None,
        }
    }
}

impl Document {
    /// The diagnostics as the document.
    pub fn render(self, diagnostics: &[Diagnostic]) -> String {
        match self {
            Self::Sarif => ci::to_sarif(diagnostics, env!("CARGO_PKG_VERSION")),
            Self::Github => ci::to_github(diagnostics),
        }
    }
}

/// What makes `lint` fail besides lints at error level.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Deny {
    /// Any warning: a lint at warning level, or a warning of `check`.
    Warnings,
}

#[derive(Args)]
pub(crate) struct LintArgs {
    /// Rule packs (files or folders) to lint, compiled with the standard packs.
    #[arg(value_name = "PACK")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    rules: RuleArgs,
    /// Lint the standard packs' files too, at the lints' default levels.
    #[arg(long)]
    include_std: bool,
    /// Exit with code 1 on warnings too, not only on lints at error level.
    #[arg(long, value_enum, value_name = "WHAT")]
    deny: Option<Deny>,
    /// The output format.
    #[arg(long, value_enum, default_value_t = DiagnosticFormatArg::Table)]
    pub(crate) format: DiagnosticFormatArg,
}

/// `tally lint`: compiles as `check` does (errors stop it with exit code 2), then runs the
/// lints on the packs given (and the standard ones with `--include-std`) at the levels of
/// each pack's `tally.yaml`. Prints `check`'s warnings about the linted files and the
/// lints' findings; fails with exit code 1 on a finding at error level, or with
/// `--deny warnings` on any warning.
pub(crate) fn run(io: &mut Io, args: &LintArgs) -> Result<(), Failure> {
    let ws = workspace(&args.paths, &args.rules, today())?;
    let packs: Vec<PathBuf> = args
        .paths
        .iter()
        .chain(&args.rules.packs)
        .cloned()
        .collect();
    let manifests = manifest::read_all(&packs).map_err(Failure::Input)?;
    let checked = ws
        .check_rules()
        .map_err(|errors| Failure::Input(errors.to_vec()))?;
    let files = ws.parsed_files();
    let context = Context::new(&files, ws.compiled(), ws.recognizer(), args.include_std);
    let settings = Settings {
        manifests,
        include_standard: args.include_std,
    };
    let linted = lint::run(&context, &settings);
    let mut diagnostics: Vec<Diagnostic> = checked
        .iter()
        .filter(|d| context.linted(&d.source.path))
        .cloned()
        .collect();
    diagnostics.extend(linted.diagnostics.iter().cloned());
    tally_compiler::diagnostics::sort(&mut diagnostics);
    io.diagnostics(&diagnostics);
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    match args.format {
        DiagnosticFormatArg::Table => io.print(&format!(
            "linted {} rule files: {errors} errors, {warnings} warnings, {} suppressed\n",
            linted.files, linted.suppressed
        )),
        DiagnosticFormatArg::Json | DiagnosticFormatArg::Csv => io.rows(&report::counts(&[
            ("files", linted.files),
            ("errors", errors),
            ("warnings", warnings),
            ("suppressed", linted.suppressed),
        ])),
        DiagnosticFormatArg::Sarif | DiagnosticFormatArg::Github => {}
    }
    if errors > 0 || (args.deny == Some(Deny::Warnings) && warnings > 0) {
        Err(Failure::Findings)
    } else {
        Ok(())
    }
}
