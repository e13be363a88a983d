//! `tally diff BASE HEAD [ESTATE]`: what a rule change does, for review in a pull request. BASE
//! and HEAD are folders or git revisions of the pack repository; the comparison itself is
//! [`tally_runtime::diff`].

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use jiff::civil::Date;
use tally_runtime::diff::{self, Effect, Side};
use tally_runtime::estate::EstateFiles;
use tally_runtime::{git, manifest, sources, workspace};

use super::{Failure, Io, RuleArgs, parse_day, standard_packs, today};

/// The arguments of `tally diff`.
#[derive(Args)]
pub(crate) struct DiffArgs {
    /// The rule packs before the change: a git revision of the pack repository (`main`,
    /// `HEAD~1`, a tag or commit id) or a folder.
    base: String,
    /// The rule packs after the change: a git revision or a folder.
    head: String,
    /// The estate folder to run both against; without it, only declarations are compared.
    estate: Option<PathBuf>,
    /// A folder inside the git repository that BASE and HEAD are revisions of.
    #[arg(long, value_name = "DIR", default_value = ".")]
    repo: PathBuf,
    /// The pack's folder in the repository's tree, `/`-separated; by default, where `--repo`
    /// is in the work tree.
    #[arg(long, value_name = "PATH")]
    path: Option<String>,
    /// Exit with code 1 when the change does this; repeatable.
    #[arg(long, value_enum, value_name = "CHANGE")]
    fail_on: Vec<DiffFailOn>,
    /// More packs both sides use unchanged, and whether to leave out the standard packs.
    #[command(flatten)]
    rules: RuleArgs,
    /// The day purchases are judged current on (YYYY-MM-DD); today when omitted.
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    as_of: Option<Date>,
    /// The output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Markdown)]
    pub(crate) format: DiffFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DiffFormat {
    /// For a pull-request comment.
    Markdown,
    /// The whole comparison; decimals as strings.
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum DiffFailOn {
    /// A license becomes at risk or unknown, or its shortfall or cost at risk grows.
    AtRiskIncrease,
    /// A license's status changes either way.
    StatusChange,
    /// An application is recognised on a device it was recognised on before no longer.
    RecognitionLoss,
    /// Anything changes: a declaration, recognition or a position.
    AnyChange,
}

/// Reads both sides, compares them and prints the effect.
pub(crate) fn run(io: &mut Io, args: &DiffArgs) -> Result<(), Failure> {
    let base = side(&args.base, args)?;
    let head = side(&args.head, args)?;
    let shared = workspace::read_rules(standard_packs(&args.rules), &args.rules.packs)
        .map_err(Failure::Input)?;
    let files = match &args.estate {
        Some(dir) => Some(EstateFiles::open_dir(dir).map_err(Failure::Input)?),
        None => None,
    };
    let as_of = args.as_of.unwrap_or_else(today);
    let effect = diff::compare(shared, &base, &head, files.as_ref(), as_of).map_err(|f| {
        io.error(&format!("`{}` cannot be compared:\n", f.side));
        Failure::Input(f.diagnostics)
    })?;
    match args.format {
        DiffFormat::Markdown => io.print(&effect.markdown()),
        DiffFormat::Json => {
            let text = serde_json::to_string_pretty(&effect).unwrap_or_default();
            io.print(&format!("{text}\n"));
        }
    }
    if args.fail_on.iter().any(|f| fails(&effect, *f)) {
        Err(Failure::Findings)
    } else {
        Ok(())
    }
}

fn fails(effect: &Effect, on: DiffFailOn) -> bool {
    match on {
        DiffFailOn::AtRiskIncrease => effect.at_risk_increased(),
        DiffFailOn::StatusChange => effect.status_changed(),
        DiffFailOn::RecognitionLoss => effect.recognition_lost(),
        DiffFailOn::AnyChange => effect.changed(),
    }
}

/// A folder when `spec` names one, else a revision of the repository.
fn side(spec: &str, args: &DiffArgs) -> Result<Side, Failure> {
    let path = Path::new(spec);
    if path.is_dir() {
        manifest::read(path).map_err(Failure::Input)?;
        let sources = sources::read_pack(path).map_err(|d| Failure::Input(vec![*d]))?;
        let prefix = format!("{}/", spec.trim_end_matches('/'));
        return Ok(Side {
            name: spec.to_owned(),
            sources,
            prefix,
        });
    }
    let repo = git::Repository {
        dir: args.repo.clone(),
        pack: args.path.clone(),
    };
    let sources = git::read_pack_at(&repo, spec).map_err(Failure::Input)?;
    Ok(Side {
        name: spec.to_owned(),
        sources,
        prefix: format!("{spec}:"),
    })
}
