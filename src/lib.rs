//! The `tally` command line, as a library: [`run`] parses arguments, runs the command, writes
//! to the given streams and returns the exit code, so tests drive it in-process.
//!
//! Exit codes: 0 success, 1 findings (failing tests, or non-compliance with `--fail-on`),
//! 2 usage or input errors (bad rules, bad estate files), 3 the output could not be written
//! (T0305). Exit code 2 always comes with at least one coded diagnostic on stderr and nothing
//! on stdout. A reader that closes the pipe early (`tally … | head`, a pager that quits) ends
//! the command quietly with the exit code it would have had.

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}
mod diff;
mod fmt;
mod generate;
mod lint;
mod packs;
mod testing;
mod watch;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Args, Parser, Subcommand, ValueEnum};
use jiff::civil::Date;
use tally_compiler::diagnostics::{Diagnostic, SourceFile};
use tally_runtime::estate::{self, EstateFiles};
use tally_runtime::position::{Compliance, Position};
use tally_runtime::report::{self, Format, Layout, Rows};
use tally_runtime::reports::{self, By};
use tally_runtime::workspace::{self, Subject, Workspace};
use tally_runtime::{inventory, overlaps, triage};

use lint::{DiagnosticFormatArg, Document};

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
    /// Show tables with every column at full width, rather than the essential columns cut
    /// to fit 80 columns.
    #[arg(long, global = true)]
    wide: bool,
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
    /// The command's output could not be written (a full disk, a closed stream).
    pub const WRITE_FAILED: Code = Code("T0305");
    /// `watch` could not watch the estate folder or a pack.
    pub const WATCH_FAILED: Code = Code("T0306");
    /// `gen estate` would overwrite a file, and `--force` was not given.
    pub const GEN_WOULD_OVERWRITE: Code = Code("T0307");
    /// `gen estate` could not write a file.
    pub const GEN_FAILED: Code = Code("T0308");
    /// `fmt` could not rewrite a file.
    pub const FMT_WRITE_FAILED: Code = Code("T0309");
    /// `fmt` could not format a file without changing what it says (a formatter bug).
    pub const FMT_UNSAFE: Code = Code("T0310");
    /// `fmt` was given a file that is not a `.tally` file.
    pub const FMT_NOT_A_RULE_FILE: Code = Code("T0311");

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
        (WRITE_FAILED, "the output could not be written"),
        (WATCH_FAILED, "`watch` could not watch a folder or file"),
        (GEN_WOULD_OVERWRITE, "`gen estate` would overwrite a file"),
        (GEN_FAILED, "`gen estate` could not write a file"),
        (FMT_WRITE_FAILED, "`fmt` could not rewrite a file"),
        (
            FMT_UNSAFE,
            "`fmt` could not format a file without changing it",
        ),
        (
            FMT_NOT_A_RULE_FILE,
            "`fmt` was given a file that is not a rule file",
        ),
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
        #[arg(long, value_enum, default_value_t = DiagnosticFormatArg::Table)]
        format: DiagnosticFormatArg,
    },
    /// Compile rule packs and report likely mistakes in them (see `docs/lints.md`); exit
    /// code 1 on a lint at error level.
    Lint {
        #[command(flatten)]
        args: lint::LintArgs,
    },
    /// Format rule files in the canonical layout: rewrite in place the files that are not
    /// formatted, and list them.
    Fmt {
        /// Rule files or folders (searched for `.tally` files); the current folder when omitted.
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Write nothing: list the files that are not formatted, and exit with 1 if there are
        /// any.
        #[arg(long, conflicts_with = "diff")]
        check: bool,
        /// Write nothing: print a unified diff of what formatting would change, and exit with 1
        /// if it would change anything.
        #[arg(long)]
        diff: bool,
    },
    /// Run the rule packs' tests: their `test` blocks, their annotated sample evidence files
    /// (`*.evidence.csv`) and scenario folders; as a table, list the failures only.
    Test {
        #[command(flatten)]
        args: testing::TestArgs,
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
    /// Print the effective license position; retired licenses are listed apart.
    Reconcile {
        #[command(flatten)]
        estate: EstateArgs,
        /// Exit with code 1 when any license has this status or worse.
        #[arg(long, value_enum)]
        fail_on: Option<FailOn>,
        /// Instead, roll the position up by product or publisher, with money totals per
        /// currency.
        #[arg(long, value_enum, value_name = "GROUP")]
        by: Option<ByArg>,
    },
    /// Print one of the reports a SAM team works from (see `docs/reconciliation.md#reports`).
    Report {
        /// The report.
        #[arg(value_enum)]
        name: ReportName,
        #[command(flatten)]
        estate: EstateArgs,
        /// For `expiring`: how many days after the as-of date to look ahead.
        #[arg(long, value_name = "DAYS", default_value_t = 90)]
        within: u32,
    },
    /// Print the assessment rows behind a device's, license's or user's consumption.
    Explain {
        #[command(flatten)]
        estate: EstateArgs,
        #[command(flatten)]
        subject: SubjectArgs,
        /// Lift the license view's limit: show the rows of every device and user, linked to
        /// the license or not.
        #[arg(long)]
        all: bool,
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
    /// Measure a full run on an estate folder stage by stage, and the latency of updates
    /// after random single-device and single-purchase edits; prints JSON.
    Bench {
        /// The estate folder (`tally gen estate` makes large ones).
        estate: PathBuf,
        #[command(flatten)]
        rules: RuleArgs,
        /// The day purchases are judged current on (YYYY-MM-DD); today when omitted.
        #[arg(long, value_name = "DATE", value_parser = parse_day)]
        as_of: Option<Date>,
        /// How many edits of each kind to time.
        #[arg(long, value_name = "N", default_value_t = 1000)]
        edits: usize,
        /// The seed the edits are drawn from.
        #[arg(long, value_name = "S", default_value_t = 1)]
        seed: u64,
    },
    /// Compare two versions of the rule packs (git revisions or folders): the declarations
    /// changed and, given an estate, what the change does to recognition and to every license
    /// position.
    Diff {
        #[command(flatten)]
        args: diff::DiffArgs,
    },
    /// Keep an estate and rule packs loaded and, after each save, print what changed in the
    /// license position and why (until Ctrl-C).
    Watch {
        #[command(flatten)]
        args: watch::WatchArgs,
    },
    /// List or export the standard rule packs compiled into tally.
    Packs {
        #[command(subcommand)]
        command: PacksCommand,
    },
    /// Generate synthetic data for benchmarks and scale tests.
    Gen {
        #[command(subcommand)]
        command: GenCommand,
    },
    /// Serve the language server protocol over stdin and stdout, for editors (docs/lsp.md).
    Lsp {
        /// Accepted for clients that pass it; stdin and stdout are the only transport.
        #[arg(long)]
        stdio: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ByArg {
    Product,
    Publisher,
}

impl From<ByArg> for By {
    fn from(by: ByArg) -> Self {
        match by {
            ByArg::Product => Self::Product,
            ByArg::Publisher => Self::Publisher,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportName {
    /// Installations of commercial software that consume from no license, costliest first.
    Unlicensed,
    /// Licenses with entitlements left over, with the value of what is unused.
    UnderConsumed,
    /// Licenses and subscription purchases expiring within `--within` days of the as-of date.
    Expiring,
    /// The licenses at risk, with shortfall × unit price.
    CostAtRisk,
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

#[derive(Subcommand)]
enum GenCommand {
    /// Write a synthetic estate: the five estate files, shaped like a real enterprise's
    /// inventory and licenses, valid with the standard packs; the same arguments give the
    /// same bytes.
    Estate {
        /// The folder to write into; created when missing.
        dir: PathBuf,
        /// How many devices.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        devices: u32,
        /// Seeds every choice; another seed gives another estate of the same shape.
        #[arg(long, value_name = "S", default_value_t = 1)]
        seed: u64,
        /// How many licenses; one per 20 devices, and at least 50, when omitted.
        #[arg(long, value_name = "N")]
        licenses: Option<u32>,
        /// Also write this many synthetic recognition rules under `DIR/rules/`.
        #[arg(long, value_name = "N", default_value_t = 0)]
        rules: u32,
        /// Replace estate files (and generated rule files) that are already there.
        #[arg(long)]
        force: bool,
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
    /// The estate folder; the bundled sample estate when omitted (a note on stderr says so).
    estate: Option<PathBuf>,
    /// Run on the bundled sample estate, without the note that says so.
    #[arg(long, conflicts_with = "estate")]
    sample: bool,
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
    /// The rows of every license covering the license's applications, for the devices and
    /// users linked to the license (consuming from it, allocated or exempted to it); `--all`
    /// shows every device and user.
    #[arg(long)]
    license: Option<String>,
    /// The rows of the user's units and of the installations on the devices whose assigned
    /// or calculated user they are.
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
    run_inner(args, out, err, None)
}

/// Runs `tally` as [`run`] does; `tally watch` stops when `stop` receives a message or its
/// sender is dropped (without this, it watches until the process ends), so that tests can
/// drive it in-process.
pub fn run_until<I, T>(
    args: I,
    out: &mut dyn Write,
    err: &mut dyn Write,
    stop: &std::sync::mpsc::Receiver<()>,
) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    run_inner(args, out, err, Some(stop))
}

fn run_inner<I, T>(
    args: I,
    out: &mut dyn Write,
    err: &mut dyn Write,
    stop: Option<&std::sync::mpsc::Receiver<()>>,
) -> u8
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
        document: cli.command.document(),
        collected: Vec::new(),
        max_per_file: cli.max_diagnostics,
        layout: if cli.wide {
            Layout::Wide
        } else {
            Layout::Narrow
        },
        write_error: None,
    };
    let result = match cli.command {
        Command::Check {
            paths,
            rules,
            format,
        } => check(&mut io, &paths, &rules, format),
        Command::Lint { args } => lint::run(&mut io, &args),
        Command::Test { args } => testing::run(&mut io, &args),
        Command::Fmt { paths, check, diff } => {
            let mode = match (check, diff) {
                (true, _) => fmt::Mode::Check,
                (_, true) => fmt::Mode::Diff,
                _ => fmt::Mode::Write,
            };
            fmt::run(&mut io, &paths, mode)
        }
        Command::Recognize {
            estate,
            unrecognized,
        } => recognize(&mut io, &estate, unrecognized),
        Command::Reconcile {
            estate,
            fail_on,
            by,
        } => reconcile(&mut io, &estate, fail_on, by),
        Command::Report {
            name,
            estate,
            within,
        } => report_named(&mut io, &estate, name, within),
        Command::Explain {
            estate,
            subject,
            all,
        } => explain(&mut io, &estate, &subject, all),
        Command::Import {
            format,
            inputs,
            device,
            into,
        } => import(&mut io, format.into(), &inputs, &device, into.as_deref()),
        Command::Diff { args } => diff::run(&mut io, &args),
        Command::Watch { args } => watch::run(&mut io, &args, stop),
        Command::Packs { command } => packs::run(&mut io, &command),
        Command::Bench {
            estate,
            rules,
            as_of,
            edits,
            seed,
        } => bench(
            &mut io,
            &estate,
            &rules,
            as_of.unwrap_or_else(today),
            edits,
            seed,
        ),
        Command::Gen { command } => generate::run(&mut io, &command),
        Command::Lsp { .. } => lsp(),
    };
    let code = match result {
        Ok(()) => 0,
        Err(Failure::Findings) => 1,
        Err(Failure::Input(diagnostics)) => {
            io.diagnostics(&diagnostics);
            2
        }
    };
    io.write_document();
    io.finish(code)
}

impl Command {
    /// The format the command writes in, which its diagnostics follow.
    fn format(&self) -> Format {
        match self {
            Self::Test { args } => args.format.into(),
            Self::Check { format, .. } => format.rows(),
            Self::Lint { args } => args.format.rows(),
            Self::Packs {
                command: PacksCommand::List { format } | PacksCommand::Export { format, .. },
            } => (*format).into(),
            Self::Recognize { estate: args, .. }
            | Self::Reconcile { estate: args, .. }
            | Self::Report { estate: args, .. }
            | Self::Explain { estate: args, .. } => args.format.into(),
            Self::Diff { args } => match args.format {
                diff::DiffFormat::Markdown => Format::Table,
                diff::DiffFormat::Json => Format::Json,
            },
            Self::Import { .. }
            | Self::Bench { .. }
            | Self::Watch { .. }
            | Self::Gen { .. }
            | Self::Fmt { .. }
            | Self::Lsp { .. } => Format::Table,
        }
    }

    /// The document every diagnostic is written to on stdout (`--format sarif|github`), for
    /// the commands whose output is diagnostics.
    fn document(&self) -> Option<Document> {
        match self {
            Self::Check { format, .. } => format.document(),
            Self::Lint { args } => args.format.document(),
            Self::Test { args } => args.format.document(),
            _ => None,
        }
    }
}

fn err_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}

/// The streams a command writes to. The first error writing the output is kept, and nothing
/// more is written after it; [`Io::finish`] decides what it means. Errors writing to stderr
/// cannot be reported anywhere, so they are ignored.
struct Io<'a> {
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    /// The format of the command's output, which diagnostics follow.
    format: Format,
    /// With `--format sarif|github`: every diagnostic is kept in `collected` and written as
    /// one document on stdout when the command ends, whatever its exit code.
    document: Option<Document>,
    collected: Vec<Diagnostic>,
    /// How many diagnostics per file are rendered as text; 0 for all.
    max_per_file: usize,
    /// How tables are laid out (`--wide`).
    layout: Layout,
    write_error: Option<std::io::Error>,
}

/// The note written to stderr when a command runs on the bundled sample estate without
/// `--sample`: one line, worded the same in every release.
pub const SAMPLE_NOTE: &str =
    "note: no estate folder given: running on the bundled sample estate (`--sample` to say so)\n";

impl Io<'_> {
    fn print(&mut self, text: &str) {
        if self.write_error.is_none()
            && let Err(e) = self.out.write_all(text.as_bytes())
        {
            self.write_error = Some(e);
        }
    }

    /// Prints rows in the command's format and layout.
    fn rows(&mut self, rows: &Rows) {
        let text = rows.render_as(self.format, self.layout);
        self.print(&text);
    }

    /// Flushes the output and returns the exit code. A reader that closed the pipe (a broken
    /// pipe: `| head`, a pager that quit) has what it wanted, so the command ends quietly with
    /// `code`. Any other write error (a full disk, a closed or failing stream) is reported as
    /// T0305 and exits with 3.
    fn finish(&mut self, code: u8) -> u8 {
        if self.write_error.is_none()
            && let Err(e) = self.out.flush()
        {
            self.write_error = Some(e);
        }
        let Some(error) = self.write_error.take() else {
            return code;
        };
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            return code;
        }
        let diagnostic = Diagnostic::error(
            codes::WRITE_FAILED,
            &SourceFile::new("<stdout>", ""),
            None,
            format!("the output could not be written: {error}"),
        )
        .with_help("check that the disk has room and that the output's file or pipe is still open");
        self.diagnostics(&[diagnostic]);
        3
    }

    fn error(&mut self, text: &str) {
        let _ = self.err.write_all(text.as_bytes());
    }

    /// Writes the diagnostics collected for `--format sarif|github` as one document on
    /// stdout; afterwards diagnostics (such as T0305) go to stderr as text.
    fn write_document(&mut self) {
        if let Some(document) = self.document.take() {
            let text = document.render(&std::mem::take(&mut self.collected));
            self.print(&text);
        }
    }

    /// Writes diagnostics to the error stream: as text, fully rendered, at most
    /// `max_per_file` per file followed by a count of the rest; as JSON or CSV, all of them.
    fn diagnostics(&mut self, diagnostics: &[Diagnostic]) {
        if diagnostics.is_empty() {
            return;
        }
        if self.document.is_some() {
            self.collected.extend_from_slice(diagnostics);
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
    let packs: Vec<PathBuf> = extra.iter().chain(&rules.packs).cloned().collect();
    Workspace::open(standard_packs(rules), &packs, as_of).map_err(Failure::Input)
}

/// The standard packs' files, unless left out.
fn standard_packs(rules: &RuleArgs) -> &'static [(&'static str, &'static str)] {
    if rules.no_std {
        &[]
    } else {
        embedded::STANDARD_PACKS
    }
}

/// `tally lsp`: the language server on the process's own stdin and stdout.
fn lsp() -> Result<(), Failure> {
    tally_lsp::serve_stdio(embedded::STANDARD_PACKS).map_err(|e| {
        let message = format!("the language server could not start: {e}");
        Failure::Input(vec![
            Diagnostic::error(
                tally_lsp::codes::START_FAILED,
                &SourceFile::new("<stdio>", ""),
                None,
                message,
            )
            .with_help("check that the process may start threads and read its standard input"),
        ])
    })
}

/// `tally bench`: the measurements as JSON.
fn bench(
    io: &mut Io,
    estate: &Path,
    rules: &RuleArgs,
    as_of: Date,
    edits: usize,
    seed: u64,
) -> Result<(), Failure> {
    let sources =
        workspace::read_rules(standard_packs(rules), &rules.packs).map_err(Failure::Input)?;
    // Each stage of the full run is reported on stderr as it ends.
    let mut progress = |stage: &str, ms: u128| io.error(&format!("{stage}: {ms} ms\n"));
    let report = tally_runtime::bench::run(sources, estate, as_of, (edits, seed), &mut progress)
        .map_err(Failure::Input)?;
    let text = serde_json::to_string_pretty(&report).unwrap_or_default();
    io.print(&format!("{text}\n"));
    Ok(())
}

/// Compiles; fails with the diagnostics on errors, and prints the warnings otherwise.
/// Returns the number of warnings. (Rules that can overlap are the lint T0401.)
fn compile(io: &mut Io, ws: &Workspace) -> Result<usize, Failure> {
    let warnings = ws
        .check_rules()
        .map_err(|errors| Failure::Input(errors.to_vec()))?;
    io.diagnostics(warnings);
    Ok(warnings.len())
}

fn today() -> Date {
    jiff::Zoned::now().date()
}

fn check(
    io: &mut Io,
    packs: &[PathBuf],
    rules: &RuleArgs,
    format: DiagnosticFormatArg,
) -> Result<(), Failure> {
    let ws = workspace(packs, rules, today())?;
    let warnings = compile(io, &ws)?;
    let pack = ws.pack();
    match format {
        // The diagnostics are the output, written when the command ends.
        DiagnosticFormatArg::Sarif | DiagnosticFormatArg::Github => {}
        DiagnosticFormatArg::Table => io.print(&format!(
            "checked {} applications, {} rights and bundles, {} metrics, {} tables, {} SKUs, {} tests: 0 errors, {warnings} warnings\n",
            pack.applications.len(),
            pack.rights.len(),
            pack.metrics.len(),
            pack.tables.len(),
            pack.skus.len(),
            pack.tests.len()
        )),
        DiagnosticFormatArg::Json | DiagnosticFormatArg::Csv => {
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
            io.rows(&report::counts(&counts));
        }
    }
    Ok(())
}

/// Whether a command's workspace is freed when the command ends. The `tally` process turns this
/// off ([`leave_memory_to_exit`]): it exits right after the command, its memory goes back to the
/// operating system at once, and freeing a large estate's database piece by piece first took
/// 7–22% of a run. In-process callers, such as the tests, keep it on.
static FREE_WORKSPACES: AtomicBool = AtomicBool::new(true);

/// Leaves the workspace of each command for the operating system to free when the process
/// exits, rather than freeing it when the command ends; for a process that exits after one
/// command.
pub fn leave_memory_to_exit() {
    FREE_WORKSPACES.store(false, Ordering::Relaxed);
}

/// A loaded workspace, freed when dropped unless [`leave_memory_to_exit`] was called.
struct Loaded(Workspace);

impl std::ops::Deref for Loaded {
    type Target = Workspace;

    fn deref(&self) -> &Workspace {
        &self.0
    }
}

impl Drop for Loaded {
    fn drop(&mut self) {
        if !FREE_WORKSPACES.load(Ordering::Relaxed) {
            let empty = Workspace::new(Default::default(), Vec::new(), jiff::civil::Date::ZERO);
            std::mem::forget(std::mem::replace(&mut self.0, empty));
        }
    }
}

/// Loads rules and the estate (given, or the bundled sample), failing with diagnostics.
fn load(io: &mut Io, args: &EstateArgs) -> Result<Loaded, Failure> {
    let mut ws = workspace(&[], &args.rules, args.as_of.unwrap_or_else(today))?;
    compile(io, &ws)?;
    let files = match &args.estate {
        Some(dir) => EstateFiles::open_dir(dir).map_err(Failure::Input)?,
        None => {
            if !args.sample {
                io.error(SAMPLE_NOTE);
            }
            EstateFiles::from_texts(embedded::SAMPLE_ESTATE_DIR, embedded::SAMPLE_ESTATE)
        }
    };
    ws.load_files(&files).map_err(Failure::Input)?;
    Ok(Loaded(ws))
}

fn recognize(io: &mut Io, args: &EstateArgs, unrecognized: bool) -> Result<(), Failure> {
    let ws = load(io, args)?;
    let recognition = ws.recognition();
    io.diagnostics(&overlaps::in_estate(ws.compiled(), &recognition));
    let text = if unrecognized {
        let (rows, noise) = triage::split(&recognition);
        report::triage(&triage::triage(&rows, noise), args.format.into())
    } else {
        report::recognition(&recognition).render_as(args.format.into(), io.layout)
    };
    io.print(&text);
    Ok(())
}

fn reconcile(
    io: &mut Io,
    args: &EstateArgs,
    fail_on: Option<FailOn>,
    by: Option<ByArg>,
) -> Result<(), Failure> {
    let ws = load(io, args)?;
    let positions = ws.positions();
    if let Some(by) = by {
        let by = by.into();
        io.rows(&reports::rollup_rows(&reports::rollup(positions, by), by));
    } else if io.format == Format::Table {
        position_table(io, positions);
    } else {
        io.rows(&report::positions(positions));
    }
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

/// The position as `reconcile` prints it as a table: the current licenses, the retired ones
/// apart, and a count by status.
fn position_table(io: &mut Io, positions: &[Position]) {
    let (retired, current): (Vec<_>, Vec<_>) = positions.iter().cloned().partition(|p| p.retired());
    io.rows(&report::positions(&current));
    if !retired.is_empty() {
        io.print("\nRetired licenses, never available:\n");
        io.rows(&report::positions(&retired));
    }
    let count = |s: Compliance| current.iter().filter(|p| p.status == s).count();
    io.print(&format!(
        "\n{} licenses: {} compliant, {} at risk, {} unknown, {} retired\n",
        positions.len(),
        count(Compliance::Compliant),
        count(Compliance::AtRisk),
        count(Compliance::Unknown),
        retired.len()
    ));
}

/// `tally report NAME`: the rows, and as a table a closing line with the money totals per
/// currency.
fn report_named(
    io: &mut Io,
    args: &EstateArgs,
    name: ReportName,
    within: u32,
) -> Result<(), Failure> {
    let ws = load(io, args)?;
    let positions = ws.positions();
    let (rows, summary) = match name {
        ReportName::Unlicensed => {
            let items = reports::unlicensed(&ws);
            let amounts: Vec<_> = items.iter().filter_map(|u| u.estimate.as_ref()).collect();
            let unknown = items.len() - amounts.len();
            let mut summary = report::plural(items.len(), "unlicensed installation");
            if unknown > 0 {
                summary.push_str(&format!(", {unknown} with no price to estimate from"));
            }
            summary.push('\n');
            summary.push_str(&reports::totals_line("estimated cost", &amounts));
            (reports::unlicensed_rows(&items), summary)
        }
        ReportName::UnderConsumed => {
            let items = reports::under_consumed(positions);
            let amounts: Vec<_> = items
                .iter()
                .filter_map(|u| u.unused_value.as_ref())
                .collect();
            let summary = format!(
                "{}\n{}",
                report::plural(items.len(), "under-consumed license"),
                reports::totals_line("unused value", &amounts)
            );
            (reports::under_consumed_rows(&items), summary)
        }
        ReportName::Expiring => {
            let as_of = ws.estate.as_of(&ws.db);
            let items = reports::expiring(&ws, as_of, i64::from(within));
            let amounts: Vec<_> = items.iter().filter_map(|e| e.value.as_ref()).collect();
            let summary = format!(
                "{} expiring within {within} days of {as_of}\n{}",
                items.len(),
                reports::totals_line("value", &amounts)
            );
            (reports::expiring_rows(&items), summary)
        }
        ReportName::CostAtRisk => {
            let items = reports::at_risk(positions);
            let money = reports::cost_at_risk_money(&items);
            let amounts: Vec<_> = money.iter().collect();
            let summary = format!(
                "{} at risk\n{}",
                report::plural(items.len(), "license"),
                reports::totals_line("cost at risk", &amounts)
            );
            (reports::cost_at_risk_rows(&items), summary)
        }
    };
    io.rows(&rows);
    if io.format == Format::Table {
        io.print(&format!("\n{summary}"));
    }
    Ok(())
}

/// `tally explain`: the rows of one of seed 003's views. When the license view's limit left
/// rows out, a note says how many: after the table, or on stderr for JSON and CSV, whose
/// output stays rows only.
fn explain(
    io: &mut Io,
    args: &EstateArgs,
    subject: &SubjectArgs,
    all: bool,
) -> Result<(), Failure> {
    let subject = match (&subject.device, &subject.license, &subject.user) {
        (Some(d), _, _) => Subject::Device(d),
        (_, Some(l), _) => Subject::License(l),
        (_, _, Some(u)) => Subject::User(u),
        // clap requires exactly one of the three.
        _ => Subject::Device(""),
    };
    let ws = load(io, args)?;
    let Some(explained) = ws.explain(subject, all) else {
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
    io.rows(&report::assessments(explained.rows, &sources));
    if explained.left_out > 0 {
        let note = format!(
            "note: {} about devices and users not linked to license `{}` left out (`--all` shows them)\n",
            report::plural(explained.left_out, "row"),
            subject.id()
        );
        if io.format == Format::Table {
            io.print(&format!("\n{note}"));
        } else {
            io.error(&note);
        }
    }
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
            .chain(tally_runtime::lint::codes::ALL)
            .chain(tally_lsp::codes::ALL)
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
