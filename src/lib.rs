//! The `tally` command line, as a library: [`run`] parses arguments, runs the command, writes
//! to the given streams and returns the exit code, so tests drive it in-process.
//!
//! Exit codes: 0 success, 1 findings (failing tests, or non-compliance with `--fail-on`),
//! 2 usage or input errors (bad rules, bad estate files).

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use jiff::civil::Date;
use tally_compiler::diagnostics::{Diagnostic, SourceFile};
use tally_runtime::db::{Database, RuleSource, Subject, Workspace};
use tally_runtime::estate::{self, EstateFiles};
use tally_runtime::position::Compliance;
use tally_runtime::report::{self, Format};
use tally_runtime::{pack_tests, sources};

#[derive(Parser)]
#[command(
    name = "tally",
    version,
    about = "Software-license compliance from plain-text rule packs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile rule packs and print their diagnostics.
    Check {
        /// Rule packs (files or folders) to check with the standard packs.
        #[arg(value_name = "PACK")]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        rules: RuleArgs,
        /// The output format.
        #[arg(long, value_enum, default_value_t = FormatArg::Table)]
        format: FormatArg,
    },
    /// Run the `test` blocks of the rule packs.
    Test {
        /// Rule packs (files or folders) to test with the standard packs.
        #[arg(value_name = "PACK")]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        rules: RuleArgs,
        /// The output format.
        #[arg(long, value_enum, default_value_t = FormatArg::Table)]
        format: FormatArg,
    },
    /// List installations and unrecognised evidence.
    Recognize(EstateArgs),
    /// Print the effective license position.
    Reconcile {
        #[command(flatten)]
        estate: EstateArgs,
        /// Exit with code 1 when any license has this status or worse.
        #[arg(long, value_enum)]
        fail_on: Option<FailOn>,
    },
    /// Print the assessment rows behind a device's, license's or user's consumption.
    Explain {
        #[command(flatten)]
        estate: EstateArgs,
        #[command(flatten)]
        subject: SubjectArgs,
    },
}

#[derive(Args)]
struct RuleArgs {
    /// Add a rule pack (a `.tally` file or a folder); repeatable.
    #[arg(long = "pack", value_name = "DIR")]
    packs: Vec<PathBuf>,
    /// Leave out the standard packs compiled into tally.
    #[arg(long)]
    no_std: bool,
}

#[derive(Args)]
struct EstateArgs {
    /// The estate folder; the bundled sample estate when omitted.
    estate: Option<PathBuf>,
    #[command(flatten)]
    rules: RuleArgs,
    /// The day purchases are judged current on (YYYY-MM-DD); today when omitted.
    #[arg(long, value_name = "DATE")]
    as_of: Option<Date>,
    /// The output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    format: FormatArg,
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct SubjectArgs {
    /// Every license assessed for the device's installations.
    #[arg(long)]
    device: Option<String>,
    /// Every row behind the license's consumption.
    #[arg(long)]
    license: Option<String>,
    /// The rows of the user's units and of the installations on their devices.
    #[arg(long)]
    user: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    /// Aligned columns for people.
    Table,
    /// An array of objects; decimals as strings.
    Json,
    /// RFC 4180 with a header row.
    Csv,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Table => Format::Table,
            FormatArg::Json => Format::Json,
            FormatArg::Csv => Format::Csv,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOn {
    /// Any license at risk.
    AtRisk,
    /// Any license at risk or of unknown status.
    Unknown,
}

/// How a command ended.
enum Failure {
    /// Findings: exit 1.
    Findings,
    /// Bad input; the diagnostics were printed: exit 2.
    Input,
}

/// Runs `tally` with the given arguments (the first is the program name) and returns the
/// exit code.
pub fn run<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let text = if err_is_terminal() {
                e.render().ansi().to_string()
            } else {
                e.render().to_string()
            };
            let stream: &mut dyn Write = if e.use_stderr() { err } else { out };
            let _ = stream.write_all(text.as_bytes());
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let mut io = Io { out, err };
    let result = match cli.command {
        Command::Check {
            paths,
            rules,
            format,
        } => check(&mut io, &paths, &rules, format.into()),
        Command::Test {
            paths,
            rules,
            format,
        } => test(&mut io, &paths, &rules, format.into()),
        Command::Recognize(args) => recognize(&mut io, &args),
        Command::Reconcile { estate, fail_on } => reconcile(&mut io, &estate, fail_on),
        Command::Explain { estate, subject } => explain(&mut io, &estate, &subject),
    };
    match result {
        Ok(()) => 0,
        Err(Failure::Findings) => 1,
        Err(Failure::Input) => 2,
    }
}

fn err_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}

/// The streams a command writes to. Write errors (such as a closed pipe) are not worth
/// reporting, so they are ignored.
struct Io<'a> {
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
}

impl Io<'_> {
    fn print(&mut self, text: &str) {
        let _ = self.out.write_all(text.as_bytes());
    }

    fn error(&mut self, text: &str) {
        let _ = self.err.write_all(text.as_bytes());
    }

    /// Writes diagnostics to the error stream, fully rendered.
    fn diagnostics(&mut self, diagnostics: &[Diagnostic]) {
        for (i, d) in diagnostics.iter().enumerate() {
            if i > 0 {
                self.error("\n");
            }
            self.error(&d.render());
        }
    }
}

/// Loads the standard packs (unless left out) and the given packs into a workspace.
fn workspace(
    io: &mut Io,
    extra: &[PathBuf],
    rules: &RuleArgs,
    as_of: Date,
) -> Result<Workspace, Failure> {
    let mut sources = Vec::new();
    if !rules.no_std {
        sources.extend(
            embedded::STANDARD_PACKS
                .iter()
                .map(|(path, text)| RuleSource {
                    source: SourceFile::new(*path, *text),
                    standard: true,
                }),
        );
    }
    let mut errors = Vec::new();
    for pack in extra.iter().chain(&rules.packs) {
        match sources::read_pack(pack) {
            Ok(files) => sources.extend(files.into_iter().map(|source| RuleSource {
                source,
                standard: false,
            })),
            Err(d) => errors.push(*d),
        }
    }
    if !errors.is_empty() {
        io.diagnostics(&errors);
        return Err(Failure::Input);
    }
    Ok(Workspace::new(Database::default(), sources, as_of))
}

/// Compiles; prints diagnostics; fails on errors.
fn compile(io: &mut Io, ws: &Workspace) -> Result<(), Failure> {
    let compiled = ws.compiled();
    io.diagnostics(&compiled.diagnostics);
    if compiled.has_errors() {
        Err(Failure::Input)
    } else {
        Ok(())
    }
}

fn today() -> Date {
    jiff::Zoned::now().date()
}

fn check(io: &mut Io, packs: &[PathBuf], rules: &RuleArgs, format: Format) -> Result<(), Failure> {
    let ws = workspace(io, packs, rules, today())?;
    let compiled = ws.compiled();
    if format == Format::Table {
        io.diagnostics(&compiled.diagnostics);
        let errors = compiled.diagnostics.iter().filter(|d| d.is_error()).count();
        let warnings = compiled.diagnostics.len() - errors;
        let pack = &compiled.pack;
        io.print(&format!(
            "checked {} applications, {} rights and bundles, {} metrics, {} tables, {} SKUs, {} tests: {errors} errors, {warnings} warnings\n",
            pack.applications.len(),
            pack.rights.len(),
            pack.metrics.len(),
            pack.tables.len(),
            pack.skus.len(),
            pack.tests.len()
        ));
    } else {
        let rows = report::diagnostics(&compiled.diagnostics);
        io.print(&rows.render(format));
    }
    if compiled.has_errors() {
        Err(Failure::Input)
    } else {
        Ok(())
    }
}

fn test(io: &mut Io, packs: &[PathBuf], rules: &RuleArgs, format: Format) -> Result<(), Failure> {
    let ws = workspace(io, packs, rules, today())?;
    compile(io, &ws)?;
    let pack = ws.pack();
    let results = pack_tests::run(pack, ws.recognizer());
    let failed = results.iter().filter(|r| !r.passed()).count();
    let passed = results.len() - failed;
    if format == Format::Table {
        let mut out = String::new();
        for r in &results {
            if r.passed() {
                out.push_str(&format!("pass  {}  ({})\n", r.name, r.location));
            } else {
                out.push_str(&format!("FAIL  {}  ({})\n", r.name, r.location));
                for f in &r.failures {
                    out.push_str(&format!("        {f}\n"));
                }
            }
        }
        out.push_str(&format!("\n{passed} passed, {failed} failed\n"));
        io.print(&out);
    } else {
        io.print(&report::tests(&results).render(format));
    }
    if failed > 0 {
        Err(Failure::Findings)
    } else {
        Ok(())
    }
}

/// Loads rules and the estate (given, or the bundled sample), failing with diagnostics.
fn load(io: &mut Io, args: &EstateArgs) -> Result<Workspace, Failure> {
    let mut ws = workspace(io, &[], &args.rules, args.as_of.unwrap_or_else(today))?;
    compile(io, &ws)?;
    let files = match &args.estate {
        Some(dir) => EstateFiles::read_dir(dir).map_err(|d| {
            io.diagnostics(&d);
            Failure::Input
        })?,
        None => EstateFiles::from_texts(embedded::SAMPLE_ESTATE_DIR, embedded::SAMPLE_ESTATE),
    };
    let estate = estate::import(&files, ws.pack()).map_err(|d| {
        io.diagnostics(&d);
        Failure::Input
    })?;
    ws.load(estate);
    Ok(ws)
}

fn recognize(io: &mut Io, args: &EstateArgs) -> Result<(), Failure> {
    let ws = load(io, args)?;
    let rows = report::recognition(&ws.recognition(), &ws.evidence());
    io.print(&rows.render(args.format.into()));
    Ok(())
}

fn reconcile(io: &mut Io, args: &EstateArgs, fail_on: Option<FailOn>) -> Result<(), Failure> {
    let ws = load(io, args)?;
    let positions = ws.positions();
    let format: Format = args.format.into();
    let mut out = report::positions(positions).render(format);
    if format == Format::Table {
        let count = |s: Compliance| positions.iter().filter(|p| p.status == s).count();
        out.push_str(&format!(
            "\n{} licenses: {} compliant, {} at risk, {} unknown\n",
            positions.len(),
            count(Compliance::Compliant),
            count(Compliance::AtRisk),
            count(Compliance::Unknown)
        ));
    }
    io.print(&out);
    let failing = positions.iter().any(|p| match fail_on {
        Some(FailOn::AtRisk) => p.status == Compliance::AtRisk,
        Some(FailOn::Unknown) => p.status != Compliance::Compliant,
        None => false,
    });
    if failing {
        Err(Failure::Findings)
    } else {
        Ok(())
    }
}

fn explain(io: &mut Io, args: &EstateArgs, subject: &SubjectArgs) -> Result<(), Failure> {
    let subject = match (&subject.device, &subject.license, &subject.user) {
        (Some(d), _, _) => Subject::Device(d),
        (_, Some(l), _) => Subject::License(l),
        (_, _, Some(u)) => Subject::User(u),
        _ => return Err(Failure::Input),
    };
    let ws = load(io, args)?;
    let Some(rows) = ws.explain(subject) else {
        let help = match subject {
            Subject::License(_) => "`tally reconcile` lists the licenses",
            Subject::Device(_) => "`tally recognize` lists the devices",
            Subject::User(_) => "the estate's users are in `users.csv`",
        };
        io.error(&format!(
            "error: there is no {} `{}` in the estate\nhelp: {help}\n",
            subject.kind(),
            subject.id()
        ));
        return Err(Failure::Input);
    };
    io.print(&report::assessments(rows).render(args.format.into()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
