//! Synthetic estates for benchmarks and scale tests (`tally gen estate`).
//!
//! [`write`] writes the five files of an estate folder, and optionally a pack of synthetic
//! recognition rules, shaped like a real enterprise's inventory rather than like a test case:
//!
//! - **devices**: desktops and laptops (about 1.2 per user), and some 8% servers: hypervisor
//!   hosts in clusters, virtual machines on them or in a cloud, and physical servers, with
//!   cores, sockets and processor models; roles (production, test, development, disaster
//!   recovery) and groups (`location=…;cost_center=…`);
//! - **users**: a few percent inactive, retired or pending;
//! - **evidence**: 100 to 200 Add/Remove Programs rows per Windows workstation, most of them
//!   noise (Windows and Office updates, Visual C++ and .NET runtimes, drivers, language packs,
//!   hidden components), then browsers and freeware, agents and vendor tools, in-house and
//!   niche software from a long tail, and a smaller share of the commercial software the
//!   standard packs recognise (Office, Visio, Project, Acrobat, Creative Cloud, AutoCAD,
//!   Snagit, Tableau, WinZip, SQL Server with its edition in the registry, Oracle Database,
//!   Db2, WebSphere); Linux servers list `package` rows; Windows servers carry their
//!   operating system's WMI caption. An estate of 100,000 devices has about 15 million rows
//!   and some 15,000 distinct (publisher, name, version) triples;
//! - **licenses** that reference the standard packs' SKUs or a metric and rights (per device,
//!   per user, per core): several agreements per product line, with priorities, limits,
//!   restrictions, allocations, exemptions, group assignments and subscriptions with terms;
//! - **purchases** whose quantities leave some product lines short (licenses at risk) and
//!   others with entitlements to spare.
//!
//! Everything is drawn from a small seeded generator ([`Rng`], splitmix64), so the same
//! [`Options`] give the same bytes on every machine; money is whole cents, never floating
//! point. Evidence is written row by row as it is drawn, never held, and every file is
//! written beside its place and renamed into it ([`files::write_by_rename`]).
//!
//! Dates are chosen around [`AS_OF`]: subscriptions are current on it, some expire within 90
//! days of it and a few have ended before it.

mod catalogue;
mod inventory;
mod licenses;
mod rules;

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use jiff::civil::{Date, date};

use crate::files;

/// The day the generated estate is made for: pass `--as-of 2026-11-01` for figures that do
/// not move with the calendar.
pub const AS_OF: Date = date(2026, 11, 1);

/// The estate files [`write`] writes, in the order it writes them.
pub const ESTATE_FILES: [&str; 5] = [
    "devices.csv",
    "users.csv",
    "evidence.csv",
    "licenses.yaml",
    "purchases.csv",
];

/// The folder, inside the estate folder, that generated rule files go to.
pub const RULES_FOLDER: &str = "rules";

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// How many devices (at least 1).
    pub devices: u32,
    /// Seeds every choice: the same options give the same files.
    pub seed: u64,
    /// How many licenses; `None` for [`Options::default_licenses`].
    pub licenses: Option<u32>,
    /// How many synthetic recognition rules to write under `rules/`; 0 for none.
    pub rules: u32,
}

impl Options {
    /// One license for every 20 devices, and at least 50.
    pub fn default_licenses(devices: u32) -> u32 {
        (devices / 20).max(50)
    }

    /// The number of licenses to generate.
    pub fn license_count(&self) -> u32 {
        self.licenses
            .unwrap_or_else(|| Self::default_licenses(self.devices))
    }
}

/// What [`write`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub devices: u64,
    pub users: u64,
    pub evidence_rows: u64,
    pub licenses: u64,
    pub purchases: u64,
    pub rules: u64,
    /// The rule files written under `rules/`, relative to the estate folder.
    pub rule_files: Vec<String>,
}

/// A file that could not be written, and why.
#[derive(Debug)]
pub struct WriteError {
    pub path: PathBuf,
    pub error: io::Error,
}

/// The files [`write`] would write into `dir` that are already there (a link counts, even a
/// broken one): the estate files, and with rules the rule files of an earlier run.
pub fn existing_files(dir: &Path, options: &Options) -> Vec<PathBuf> {
    let mut existing: Vec<PathBuf> = ESTATE_FILES
        .iter()
        .map(|name| dir.join(name))
        .filter(|path| path.symlink_metadata().is_ok())
        .collect();
    if options.rules > 0 {
        existing.extend(earlier_rule_files(dir));
    }
    existing
}

/// The generated rule files already under `dir/rules`, sorted.
fn earlier_rule_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir.join(RULES_FOLDER)) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok())
        .filter(|entry| {
            entry
                .file_name()
                .to_str()
                .is_some_and(rules::is_generated_file_name)
        })
        .map(|entry| entry.path())
        .collect();
    found.sort();
    found
}

/// Writes the estate into `dir` (created when missing), replacing the files that are there;
/// with rules, the generated rule files of an earlier run are removed first, so that none is
/// left over. Callers refuse to overwrite without being told to (see [`existing_files`]).
pub fn write(dir: &Path, options: &Options) -> Result<Summary, WriteError> {
    let at = |path: PathBuf| move |error| WriteError { path, error };
    fs::create_dir_all(dir).map_err(at(dir.to_path_buf()))?;
    let catalogue = catalogue::Catalogue::new();
    let plan = inventory::Plan::new(options);
    let mut summary = Summary {
        devices: u64::from(options.devices),
        users: u64::from(plan.users),
        ..Summary::default()
    };

    let path = dir.join("devices.csv");
    files::write_by_rename(&path, |out| plan.write_devices(out)).map_err(at(path))?;
    let path = dir.join("users.csv");
    files::write_by_rename(&path, |out| plan.write_users(out)).map_err(at(path))?;
    let path = dir.join("evidence.csv");
    let demand = files::write_by_rename(&path, |out| plan.write_evidence(out, &catalogue))
        .map_err(at(path))?;
    summary.evidence_rows = demand.rows;

    let records = licenses::licenses(options, &demand);
    let path = dir.join("licenses.yaml");
    files::write_by_rename(&path, |out| {
        licenses::write_licenses(out, options, &records)
    })
    .map_err(at(path))?;
    let path = dir.join("purchases.csv");
    summary.purchases =
        files::write_by_rename(&path, |out| licenses::write_purchases(out, &records))
            .map_err(at(path))?;
    summary.licenses = records.len() as u64;

    if options.rules > 0 {
        for earlier in earlier_rule_files(dir) {
            fs::remove_file(&earlier).map_err(at(earlier))?;
        }
        for file in rules::files(options, &catalogue) {
            let relative = format!("{RULES_FOLDER}/{}", file.name);
            let path = dir.join(&relative);
            files::write_by_rename(&path, |out| out.write_all(file.text.as_bytes()))
                .map_err(at(path))?;
            summary.rules += file.rules;
            summary.rule_files.push(relative);
        }
    }
    Ok(summary)
}

/// The first line of every generated file, naming the command that wrote it.
fn provenance(options: &Options, comment: &str) -> String {
    let mut line = format!(
        "{comment} Generated by `tally gen estate --devices {} --seed {}",
        options.devices, options.seed
    );
    if let Some(licenses) = options.licenses {
        let _ = write!(line, " --licenses {licenses}");
    }
    if options.rules > 0 {
        let _ = write!(line, " --rules {}", options.rules);
    }
    line.push_str("`: synthetic data.\n");
    line
}

/// A small deterministic generator (splitmix64). Every device, user and license draws from a
/// generator of its own, derived from the seed, a stream and its index, so that one choice
/// never shifts the others.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// The generator for item `index` of `stream` under `seed`.
    pub(crate) fn new(seed: u64, stream: u64, index: u64) -> Self {
        let mut mixer = Self(seed ^ stream.wrapping_mul(0xd1b5_4a32_d192_ed03));
        let first = mixer.next_u64();
        Self(first ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` below 2³²); 0 when `n` is 0.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        // Multiply and shift: no modulo bias worth the name for the small `n` used here.
        ((self.next_u64() >> 32).wrapping_mul(n as u64) >> 32) as usize
    }

    /// Uniform in `low..=high`.
    fn between(&mut self, low: u32, high: u32) -> u32 {
        low + self.below((high.saturating_sub(low) + 1) as usize) as u32
    }

    /// True `per_mille` times in 1,000.
    fn per_mille(&mut self, per_mille: u32) -> bool {
        self.below(1000) < per_mille as usize
    }

    /// In `0..n`, skewed towards 0: the smaller of two uniform draws, so the first entries
    /// (the newest version, the most popular product) are the most frequent.
    fn skewed(&mut self, n: usize) -> usize {
        self.below(n).min(self.below(n))
    }

    /// An index into `weights`, each drawn in proportion to its weight; 0 when all are 0.
    fn weighted(&mut self, weights: impl IntoIterator<Item = u32> + Clone) -> usize {
        let total: u64 = weights.clone().into_iter().map(u64::from).sum();
        if total == 0 {
            return 0;
        }
        let mut draw = (self.next_u64() >> 1) % total;
        for (index, weight) in weights.into_iter().enumerate() {
            let weight = u64::from(weight);
            if draw < weight {
                return index;
            }
            draw -= weight;
        }
        0
    }

    /// One of `items`, uniformly.
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A CSV field as RFC 4180 writes it: quoted when it holds a comma, quote or line break.
fn push_csv_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// Whole cents as a decimal with two places: 12345 is `123.45`.
fn money(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic_and_spreads() {
        let draws = |seed| {
            let mut rng = Rng::new(seed, 1, 7);
            (0..64).map(|_| rng.below(10)).collect::<Vec<_>>()
        };
        assert_eq!(draws(1), draws(1));
        assert_ne!(draws(1), draws(2));
        let mut rng = Rng::new(1, 2, 3);
        let mut seen = [0u32; 10];
        for _ in 0..10_000 {
            seen[rng.below(10)] += 1;
        }
        assert!(seen.iter().all(|&n| (800..1200).contains(&n)), "{seen:?}");
        let mut rng = Rng::new(1, 2, 4);
        let mut picks = [0u32; 3];
        for _ in 0..9_000 {
            picks[rng.weighted([1, 0, 2])] += 1;
        }
        assert_eq!(picks[1], 0);
        assert!((2_600..3_400).contains(&picks[0]), "{picks:?}");
    }

    #[test]
    fn money_has_two_places_and_fields_are_quoted_when_needed() {
        assert_eq!(money(12_345), "123.45");
        assert_eq!(money(7), "0.07");
        let mut out = String::new();
        push_csv_field(&mut out, "Cisco Systems, Inc.");
        push_csv_field(&mut out, " plain");
        push_csv_field(&mut out, "say \"hi\"");
        assert_eq!(out, "\"Cisco Systems, Inc.\" plain\"say \"\"hi\"\"\"");
    }
}
