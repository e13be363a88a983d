//! The `tally` command line, as a library: [`run`] parses arguments, runs the command, writes
//! to the given streams and returns the exit code, so tests drive it in-process.
//!
//! Exit codes: 0 success, 1 findings (failing tests, or non-compliance with `--fail-on`),
//! 2 usage or input errors (bad rules, bad estate files). Exit code 2 always comes with at
//! least one coded diagnostic on stderr and nothing on stdout.

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}
mod packs;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};
use jiff::civil::Date;
use tally_compiler::diagnostics::{Diagnostic, SourceFile};
use tally_runtime::db::{Database, RuleSource, Subject, Workspace};
use tally_runtime::estate::{self, EstateFiles};
use tally_runtime::pack_tests::TestFilter;
use tally_runtime::position::Compliance;
use tally_runtime::report::{self, Format};
use tally_runtime::{inventory, overlaps, pack_tests, sources, triage};

#[derive(Parser)]
#[command(
    name = "tally",
    version,
    about = "Software-license compliance from plain-text rule packs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Show at most this many diagnostics per file as text (0 shows all); JSON and CSV
    /// always carry every diagnostic.
    #[arg(long, global = true, value_name = "N", default_value_t = 50)]
    max_diagnostics: usize,
}

/// The codes of command-line errors, which concern no file. Like every code, each has a
/// section in `docs/diagnostics.md`.
mod codes {
    use tally_compiler::diagnostics::Code;

    /// The command line could not be parsed.
    pub const USAGE: Code = Code("T0301");
    /// `explain` names a device, license or user the estate does not have.
    pub const UNKNOWN_SUBJECT: Code = Code("T0302");
    /// `packs export` would overwrite a file, and `--force` was not given.
    pub const EXPORT_WOULD_OVERWRITE: Code = Code("T0303");
    /// `packs export` could not write a file.
    pub const EXPORT_FAILED: Code = Code("T0304");

    #[cfg(test)]
    pub const ALL: &[(Code, &str)] = &[
        (USAGE, "the command line could not be parsed"),
        (
            UNKNOWN_SUBJECT,
            "`explain` names something the estate does not have",
        ),
        (
            EXPORT_WOULD_OVERWRITE,
            "`packs export` would overwrite a file",
        ),
        (EXPORT_FAILED, "`packs export` could not write a file"),
    ];
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
    /// Run the `test` blocks of the rule packs; as a table, list the failures only.
    Test {
        /// Rule packs (files or folders) to test with the standard packs.
        #[arg(value_name = "PACK")]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        rules: RuleArgs,
        #[command(flatten)]
        selection: TestSelection,
        /// The output format.
        #[arg(long, value_enum, default_value_t = FormatArg::Table)]
        format: FormatArg,
    },
    /// List installations and unrecognised evidence.
    Recognize {
        #[command(flatten)]
        estate: EstateArgs,
        /// Instead, group the unrecognised evidence by product and major version, most devices
        /// first, each group with a suggested rule; noise is counted apart.
        #[arg(long)]
        unrecognized: bool,
    },
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
    /// Turn native inventory files into evidence rows: print them as `evidence.csv`, or
    /// append them to an estate's.
    Import {
        /// The format of the inputs.
        #[arg(value_enum)]
        format: ImportFormat,
        /// Files to read (for `swid` also folders, searched for `.swidtag` files).
        #[arg(value_name = "INPUT", required = true)]
        inputs: Vec<PathBuf>,
        /// The id of the device the inventory was taken on.
        #[arg(long, value_name = "ID", value_parser = parse_device)]
        device: String,
        /// Append the rows to the `evidence.csv` of this estate folder, whose `devices.csv`
        /// must have the device, instead of printing them.
        #[arg(long, value_name = "ESTATE_DIR")]
        into: Option<PathBuf>,
    },
    /// List or export the standard rule packs compiled into tally.
    Packs {
        #[command(subcommand)]
        command: PacksCommand,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ImportFormat {
    /// A registry export (`.reg`) of the Uninstall keys: installer rows.
    Reg,
    /// A `dpkg-query --show` listing: package rows.
    Dpkg,
    /// An `rpm -qa --queryformat` listing: package rows.
    Rpm,
    /// A `wmic … get /format:list` dump named `NAME-CLASS.wmi`: wmi rows.
    Wmi,
    /// ISO/IEC 19770-2 `.swidtag` files or folders of them: swid rows.
    Swid,
}

impl From<ImportFormat> for inventory::Format {
    fn from(f: ImportFormat) -> Self {
        match f {
            ImportFormat::Reg => Self::Reg,
            ImportFormat::Dpkg => Self::Dpkg,
            ImportFormat::Rpm => Self::Rpm,
            ImportFormat::Wmi => Self::Wmi,
            ImportFormat::Swid => Self::Swid,
        }
    }
}

/// A device id: trimmed, and not empty.
fn parse_device(text: &str) -> Result<String, String> {
    let id = text.trim();
    if id.is_empty() {
        return Err("expected a device id, such as WS-0012".to_owned());
    }
    Ok(id.to_owned())
}

#[derive(Subcommand)]
enum PacksCommand {
    /// The standard packs' files, with how many declarations of each kind they hold.
    List {
        /// The output format.
        #[arg(long, value_enum, default_value_t = FormatArg::Table)]
        format: FormatArg,
    },
    /// Write the standard packs' files under a folder, with their relative paths.
    Export {
        /// The folder to write into; created when missing.
        dir: PathBuf,
        /// Overwrite files that are already there.
        #[arg(long)]
        force: bool,
        /// The output format.
        #[arg(long, value_enum, default_value_t = FormatArg::Table)]
        format: FormatArg,
    },
}

#[derive(Args)]
struct TestSelection {
    /// Run only the tests whose name contains this text, ignoring case.
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// List every test run, passed or not, and not only the failures.
    #[arg(long)]
    verbose: bool,
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
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    as_of: Option<Date>,
    /// The output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    format: FormatArg,
}

/// A day written `YYYY-MM-DD`, as the estate files write dates: other forms are refused with
/// that form named, rather than with the date parser's complaint about the first character.
fn parse_day(text: &str) -> Result<Date, String> {
    let form = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !form {
        return Err("expected a date as YYYY-MM-DD, such as 2026-11-01".to_owned());
    }
    text.parse().map_err(|e: jiff::Error| e.to_string())
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
    /// Bad input, with the diagnostics that say what: exit 2.
    Input(Vec<Diagnostic>),
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
            if !e.use_stderr() {
                // --help and --version.
                let _ = out.write_all(text.as_bytes());
                return 0;
            }
            let text = if text.contains("error:") {
                text.replacen("error:", &format!("error[{}]:", codes::USAGE), 1)
            } else {
                // Help shown for a missing command or argument.
                format!(
                    "error[{}]: a command or argument is missing\n\n{text}",
                    codes::USAGE
                )
            };
            let _ = err.write_all(text.as_bytes());
            return 2;
        }
    };
    let mut io = Io {
        out,
        err,
        format: cli.command.format(),
        max_per_file: cli.max_diagnostics,
    };
    let result = match cli.command {
        Command::Check {
            paths,
            rules,
            format,
        } => check(&mut io, &paths, &rules, format.into()),
        Command::Test {
            paths,
            rules,
            selection,
            format,
        } => test(&mut io, &paths, &rules, &selection, format.into()),
        Command::Recognize {
            estate,
            unrecognized,
        } => recognize(&mut io, &estate, unrecognized),
        Command::Reconcile { estate, fail_on } => reconcile(&mut io, &estate, fail_on),
        Command::Explain { estate, subject } => explain(&mut io, &estate, &subject),
        Command::Import {
            format,
            inputs,
            device,
            into,
        } => import(&mut io, format.into(), &inputs, &device, into.as_deref()),
        Command::Packs { command } => packs::run(&mut io, &command),
    };
    match result {
        Ok(()) => 0,
        Err(Failure::Findings) => 1,
        Err(Failure::Input(diagnostics)) => {
            io.diagnostics(&diagnostics);
            2
        }
    }
}

impl Command {
    /// The format the command writes in, which its diagnostics follow.
    fn format(&self) -> Format {
        match self {
            Self::Check { format, .. }
            | Self::Test { format, .. }
            | Self::Packs {
                command: PacksCommand::List { format } | PacksCommand::Export { format, .. },
            } => (*format).into(),
            Self::Recognize { estate: args, .. }
            | Self::Reconcile { estate: args, .. }
            | Self::Explain { estate: args, .. } => args.format.into(),
            Self::Import { .. } => Format::Table,
        }
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
    /// The format of the command's output, which diagnostics follow.
    format: Format,
    /// How many diagnostics per file are rendered as text; 0 for all.
    max_per_file: usize,
}

impl Io<'_> {
    fn print(&mut self, text: &str) {
        let _ = self.out.write_all(text.as_bytes());
    }

    fn error(&mut self, text: &str) {
        let _ = self.err.write_all(text.as_bytes());
    }

    /// Writes diagnostics to the error stream: as text, fully rendered, at most
    /// `max_per_file` per file followed by a count of the rest; as JSON or CSV, all of them.
    fn diagnostics(&mut self, diagnostics: &[Diagnostic]) {
        if diagnostics.is_empty() {
            return;
        }
        if self.format != Format::Table {
            let text = report::diagnostics(diagnostics).render(self.format);
            self.error(&text);
            return;
        }
        let mut shown: BTreeMap<&str, usize> = BTreeMap::new();
        let mut text = String::new();
        for d in diagnostics {
            let count = shown.entry(d.source.path.as_str()).or_default();
            *count += 1;
            if self.max_per_file == 0 || *count <= self.max_per_file {
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(&d.render());
            }
        }
        for (path, count) in shown {
            if self.max_per_file > 0 && count > self.max_per_file {
                text.push_str(&format!(
                    "\n… and {} more diagnostics in `{path}` (`--max-diagnostics 0` shows all)\n",
                    count - self.max_per_file
                ));
            }
        }
        self.error(&text);
    }
}

/// Loads the standard packs (unless left out) and the given packs into a workspace.
fn workspace(extra: &[PathBuf], rules: &RuleArgs, as_of: Date) -> Result<Workspace, Failure> {
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
        return Err(Failure::Input(errors));
    }
    Ok(Workspace::new(Database::default(), sources, as_of))
}

/// Compiles; fails with the diagnostics on errors, and prints the warnings otherwise. With
/// `overlaps`, the recognition rules that can be shown to overlap are warnings too (T0119; the
/// search costs a match per rule, so only `check` asks for it). Returns the number of
/// warnings.
fn compile(io: &mut Io, ws: &Workspace, overlaps: bool) -> Result<usize, Failure> {
    let compiled = ws.compiled();
    if compiled.has_errors() {
        return Err(Failure::Input(compiled.diagnostics.clone()));
    }
    let mut warnings = compiled.diagnostics.clone();
    if overlaps {
        warnings.extend(overlaps::in_rules(compiled, ws.recognizer()));
    }
    io.diagnostics(&warnings);
    Ok(warnings.len())
}

fn today() -> Date {
    jiff::Zoned::now().date()
}

fn check(io: &mut Io, packs: &[PathBuf], rules: &RuleArgs, format: Format) -> Result<(), Failure> {
    let ws = workspace(packs, rules, today())?;
    let warnings = compile(io, &ws, true)?;
    let pack = ws.pack();
    if format == Format::Table {
        io.print(&format!(
            "checked {} applications, {} rights and bundles, {} metrics, {} tables, {} SKUs, {} tests: 0 errors, {warnings} warnings\n",
            pack.applications.len(),
            pack.rights.len(),
            pack.metrics.len(),
            pack.tables.len(),
            pack.skus.len(),
            pack.tests.len()
        ));
    } else {
        let counts = [
            ("applications", pack.applications.len()),
            ("rights", pack.rights.len()),
            ("metrics", pack.metrics.len()),
            ("tables", pack.tables.len()),
            ("skus", pack.skus.len()),
            ("tests", pack.tests.len()),
            ("errors", 0),
            ("warnings", warnings),
        ];
        io.print(&report::counts(&counts).render(format));
    }
    Ok(())
}

fn test(
    io: &mut Io,
    packs: &[PathBuf],
    rules: &RuleArgs,
    selection: &TestSelection,
    format: Format,
) -> Result<(), Failure> {
    let ws = workspace(packs, rules, today())?;
    compile(io, &ws, false)?;
    let pack = ws.pack();
    let filter = TestFilter::new(selection.filter.as_deref());
    let results = pack_tests::run(pack, ws.recognizer(), &filter);
    let failed = results.iter().filter(|r| !r.passed()).count();
    let passed = results.len() - failed;
    let filtered_out = pack.tests.len() - results.len();
    if format == Format::Table {
        let mut out = String::new();
        for r in results
            .iter()
            .filter(|r| selection.verbose || !r.passed() || r.skipped.is_some())
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
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!(
            "{passed} passed, {failed} failed, {filtered_out} filtered out\n"
        ));
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
    let mut ws = workspace(&[], &args.rules, args.as_of.unwrap_or_else(today))?;
    compile(io, &ws, false)?;
    let files = match &args.estate {
        Some(dir) => EstateFiles::read_dir(dir).map_err(Failure::Input)?,
        None => EstateFiles::from_texts(embedded::SAMPLE_ESTATE_DIR, embedded::SAMPLE_ESTATE),
    };
    let estate = estate::import(&files, ws.pack()).map_err(Failure::Input)?;
    ws.load(estate);
    Ok(ws)
}

fn recognize(io: &mut Io, args: &EstateArgs, unrecognized: bool) -> Result<(), Failure> {
    let ws = load(io, args)?;
    let (recognition, evidence) = (ws.recognition(), ws.evidence());
    io.diagnostics(&overlaps::in_estate(ws.compiled(), &recognition));
    let text = if unrecognized {
        let (rows, noise) = triage::split(&recognition, &evidence);
        report::triage(&triage::triage(&rows, noise), args.format.into())
    } else {
        report::recognition(&recognition, &evidence).render(args.format.into())
    };
    io.print(&text);
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
        // clap requires exactly one of the three.
        _ => Subject::Device(""),
    };
    let ws = load(io, args)?;
    let Some(rows) = ws.explain(subject) else {
        let help = match subject {
            Subject::License(_) => "`tally reconcile` lists the licenses",
            Subject::Device(_) => "`tally recognize` lists the devices",
            Subject::User(_) => "the estate's users are in `users.csv`",
        };
        let estate = args
            .estate
            .as_ref()
            .map_or(embedded::SAMPLE_ESTATE_DIR.to_owned(), |d| {
                d.display().to_string()
            });
        let diagnostic = Diagnostic::error(
            codes::UNKNOWN_SUBJECT,
            &SourceFile::new(estate, ""),
            None,
            format!(
                "there is no {} `{}` in the estate",
                subject.kind(),
                subject.id()
            ),
        )
        .with_help(help);
        return Err(Failure::Input(vec![diagnostic]));
    };
    let sources = report::declaration_sources(ws.pack());
    io.print(&report::assessments(rows, &sources).render(args.format.into()));
    Ok(())
}

fn import(
    io: &mut Io,
    format: inventory::Format,
    inputs: &[PathBuf],
    device: &str,
    into: Option<&Path>,
) -> Result<(), Failure> {
    let rows = inventory::import(format, inputs, device).map_err(Failure::Input)?;
    let Some(estate) = into else {
        io.print(&estate::evidence_csv(&rows));
        return Ok(());
    };
    let appended = estate::append_evidence(estate, device, &rows).map_err(Failure::Input)?;
    let columns: Vec<String> = appended
        .added_columns
        .iter()
        .map(|c| format!("`{c}`"))
        .collect();
    let added = match columns.len() {
        0 => String::new(),
        1 => format!(", adding the column {}", columns.join("")),
        _ => format!(", adding the columns {}", columns.join(", ")),
    };
    io.print(&format!(
        "appended {} evidence rows to `{}`{added}\n",
        appended.rows, appended.path
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn command_line_codes_are_documented_and_not_taken() {
        let docs = include_str!("../docs/diagnostics.md");
        let others: Vec<_> = tally_compiler::diagnostics::codes::ALL
            .iter()
            .chain(tally_runtime::estate::codes::ALL)
            .map(|(code, _)| *code)
            .collect();
        for (code, _) in super::codes::ALL {
            assert!(
                docs.contains(&format!("## {code}:")),
                "{code} is not documented"
            );
            assert!(!others.contains(code), "{code} is taken");
        }
    }
}
