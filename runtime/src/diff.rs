//! The effect of a rule change, for `tally diff`: two versions of the rule packs (BASE and HEAD)
//! compared by their declarations, and run against the same estate through one incremental
//! workspace, to show what the change does to recognition and to every license position.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Serialize;
use tally_compiler::diagnostics::{Diagnostic, SourceFile};
use tally_compiler::syntax::{ast::Decl, parse_file};

use crate::db::Database;
use crate::estate::EstateFiles;
use crate::position::{Compliance, Position};
use crate::workspace::{Change, RuleSource, Workspace};

/// How many devices are named for an application that gains or loses some.
const SAMPLE_DEVICES: usize = 3;

/// One version of the rule packs.
#[derive(Debug, Clone)]
pub struct Side {
    /// What the user called it: a revision (`HEAD~1`) or a folder.
    pub name: String,
    /// Its rule files and scripts.
    pub sources: Vec<Arc<SourceFile>>,
    /// The start of every file's path that is not part of its path in the pack (`HEAD~1:`, or
    /// the folder and `/`), left out when files are named in the report.
    pub prefix: String,
}

/// What changing the rule packs from BASE to HEAD does.
#[derive(Debug, Clone, Serialize)]
pub struct Effect {
    pub base: String,
    pub head: String,
    /// Declarations added, removed or changed, by kind and name.
    pub declarations: Vec<DeclarationChange>,
    /// The effect on the estate, when one was given.
    pub estate: Option<EstateEffect>,
}

/// One declaration that differs between BASE and HEAD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeclarationChange {
    pub change: DeclarationChangeKind,
    /// The declaration keyword: `application`, `metric`, …
    pub kind: &'static str,
    /// `extend` or `override`, when the declaration has one.
    pub modifier: Option<&'static str>,
    pub name: String,
    /// The file it is in (in HEAD, unless removed), as a path in the pack.
    pub file: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeclarationChangeKind {
    Added,
    Removed,
    /// Its fields changed.
    Changed,
    /// Only its doc comment changed.
    Documented,
}

impl DeclarationChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Removed => "removed",
            Self::Changed => "changed",
            Self::Documented => "doc comment changed",
        }
    }
}

/// What the change does to an estate.
#[derive(Debug, Clone, Serialize)]
pub struct EstateEffect {
    pub devices: usize,
    /// Evidence rows no rule recognises, before and after.
    pub unrecognized: BeforeAfter<usize>,
    /// Applications recognised on a different set of devices.
    pub applications: Vec<RecognitionChange>,
    /// Licenses whose position changed.
    pub licenses: Vec<PositionChange>,
    /// How many licenses kept their position.
    pub licenses_unchanged: usize,
    /// The cost at risk summed per currency, before and after (licenses whose cost at risk is
    /// unknown are not in the sums).
    pub cost_at_risk: Vec<CurrencyTotal>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BeforeAfter<T> {
    pub before: T,
    pub after: T,
}

/// An application recognised on other devices after the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecognitionChange {
    pub application: String,
    /// On how many devices it is recognised.
    pub devices: BeforeAfter<usize>,
    pub gained: usize,
    pub lost: usize,
    /// The first devices, by id, that gained or lost it.
    pub gained_sample: Vec<String>,
    pub lost_sample: Vec<String>,
}

/// A license whose figures changed; `None` on a side where the license is not in the estate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PositionChange {
    pub license: String,
    pub name: String,
    pub before: Option<Figures>,
    pub after: Option<Figures>,
}

/// The figures of a license's position that a rule change can move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// `None` when too large to compute.
    pub consumed: Option<Decimal>,
    pub entitled: Option<Decimal>,
    #[serde(serialize_with = "status_text")]
    pub status: Compliance,
    pub cost_at_risk: Option<Decimal>,
    pub currency: Option<String>,
}

/// The cost at risk of one currency, before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrencyTotal {
    pub currency: String,
    pub before: Decimal,
    pub after: Decimal,
}

fn status_text<S: serde::Serializer>(status: &Compliance, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(status.as_str())
}

/// Why `tally diff` cannot compare: one side's rules do not compile, or the estate does not
/// import against them.
#[derive(Debug, Clone)]
pub struct Failed {
    /// The side's name.
    pub side: String,
    pub diagnostics: Vec<Diagnostic>,
}

/// Compares BASE with HEAD: their declarations, and, given an estate, recognition and positions
/// as of `as_of`. `shared` are rule files both sides use unchanged (the standard packs and any
/// extra packs). The estate is loaded once, under BASE; HEAD's rules then replace BASE's in the
/// same workspace, so only what the change touches is recomputed.
pub fn compare(
    shared: Vec<RuleSource>,
    base: &Side,
    head: &Side,
    estate: Option<&EstateFiles>,
    as_of: Date,
) -> Result<Effect, Failed> {
    let declarations = declaration_changes(base, head);
    let estate = match estate {
        None => {
            // Without an estate, each side must still compile.
            for side in [base, head] {
                let ws = Workspace::new(Database::default(), with(&shared, side), as_of);
                compiles(&ws, side)?;
            }
            None
        }
        Some(files) => Some(estate_effect(shared, base, head, files, as_of)?),
    };
    Ok(Effect {
        base: base.name.clone(),
        head: head.name.clone(),
        declarations,
        estate,
    })
}

fn with(shared: &[RuleSource], side: &Side) -> Vec<RuleSource> {
    let mut sources = shared.to_vec();
    sources.extend(side.sources.iter().map(|s| RuleSource {
        source: Arc::clone(s),
        standard: false,
    }));
    sources
}

fn compiles(ws: &Workspace, side: &Side) -> Result<(), Failed> {
    ws.check_rules().map(|_| ()).map_err(|d| Failed {
        side: side.name.clone(),
        diagnostics: d.to_vec(),
    })
}

/// What one side's rules make of the estate.
struct Outcome {
    /// The devices each application is recognised on.
    recognised: BTreeMap<String, BTreeSet<String>>,
    unrecognized: usize,
    devices: usize,
    positions: BTreeMap<String, (String, Figures)>,
}

fn estate_effect(
    shared: Vec<RuleSource>,
    base: &Side,
    head: &Side,
    files: &EstateFiles,
    as_of: Date,
) -> Result<EstateEffect, Failed> {
    let mut ws = Workspace::new(Database::default(), with(&shared, base), as_of);
    let before = outcome(&mut ws, base, files)?;
    let mut changes: Vec<Change> = base
        .sources
        .iter()
        .filter(|b| !head.sources.iter().any(|h| h.path == b.path))
        .map(|b| Change::RemoveRuleFile(b.path.clone()))
        .collect();
    changes.extend(head.sources.iter().map(|s| {
        Change::RuleFile(RuleSource {
            source: Arc::clone(s),
            standard: false,
        })
    }));
    // Every path removed was loaded; added paths are new files.
    let _ = ws.apply(changes);
    let after = outcome(&mut ws, head, files)?;
    Ok(compare_outcomes(before, after))
}

/// Compiles the side's rules, imports the estate against them (an import depends on the rules:
/// SKUs, metrics and rights are resolved by name) and reads what they make of it.
fn outcome(ws: &mut Workspace, side: &Side, files: &EstateFiles) -> Result<Outcome, Failed> {
    compiles(ws, side)?;
    ws.load_files(files).map_err(|diagnostics| Failed {
        side: side.name.clone(),
        diagnostics,
    })?;
    let mut recognised: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut unrecognized = 0;
    let views = ws.recognition();
    for view in &views {
        unrecognized += view.recognition.unrecognized.len();
        for i in &view.recognition.installations {
            recognised
                .entry(i.application.to_string())
                .or_default()
                .insert(i.device.to_string());
        }
    }
    let devices = views.len();
    let positions = ws
        .positions()
        .iter()
        .map(|p| (p.license.clone(), (p.name.clone(), figures(p))))
        .collect();
    Ok(Outcome {
        recognised,
        unrecognized,
        devices,
        positions,
    })
}

fn figures(p: &Position) -> Figures {
    Figures {
        consumed: p.consumed,
        entitled: p.entitled,
        status: p.status,
        cost_at_risk: p.cost_at_risk,
        currency: p.currency.clone(),
    }
}

fn compare_outcomes(before: Outcome, after: Outcome) -> EstateEffect {
    let empty = BTreeSet::new();
    let applications: BTreeSet<&String> = before
        .recognised
        .keys()
        .chain(after.recognised.keys())
        .collect();
    let applications = applications
        .into_iter()
        .filter_map(|app| {
            let was = before.recognised.get(app).unwrap_or(&empty);
            let is = after.recognised.get(app).unwrap_or(&empty);
            let gained: Vec<&String> = is.difference(was).collect();
            let lost: Vec<&String> = was.difference(is).collect();
            let sample = |d: &[&String]| {
                d.iter()
                    .take(SAMPLE_DEVICES)
                    .map(|s| (*s).clone())
                    .collect()
            };
            (!gained.is_empty() || !lost.is_empty()).then(|| RecognitionChange {
                application: app.clone(),
                devices: BeforeAfter {
                    before: was.len(),
                    after: is.len(),
                },
                gained: gained.len(),
                lost: lost.len(),
                gained_sample: sample(&gained),
                lost_sample: sample(&lost),
            })
        })
        .collect();
    let ids: BTreeSet<&String> = before
        .positions
        .keys()
        .chain(after.positions.keys())
        .collect();
    let mut licenses = Vec::new();
    let mut unchanged = 0;
    for id in ids {
        let was = before.positions.get(id);
        let is = after.positions.get(id);
        if was.map(|(_, f)| f) == is.map(|(_, f)| f) {
            unchanged += 1;
            continue;
        }
        let name = is.or(was).map(|(n, _)| n.clone()).unwrap_or_default();
        licenses.push(PositionChange {
            license: id.clone(),
            name,
            before: was.map(|(_, f)| f.clone()),
            after: is.map(|(_, f)| f.clone()),
        });
    }
    EstateEffect {
        devices: after.devices,
        unrecognized: BeforeAfter {
            before: before.unrecognized,
            after: after.unrecognized,
        },
        applications,
        licenses,
        licenses_unchanged: unchanged,
        cost_at_risk: cost_totals(&before.positions, &after.positions),
    }
}

/// The cost at risk per currency, of the currencies with any cost at risk on either side.
fn cost_totals(
    before: &BTreeMap<String, (String, Figures)>,
    after: &BTreeMap<String, (String, Figures)>,
) -> Vec<CurrencyTotal> {
    let mut totals: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
    for (side, positions) in [(0, before), (1, after)] {
        for (_, f) in positions.values() {
            let (Some(cost), Some(currency)) = (f.cost_at_risk, &f.currency) else {
                continue;
            };
            if cost.is_zero() {
                continue;
            }
            let total = totals.entry(currency.clone()).or_default();
            let sum = if side == 0 {
                &mut total.0
            } else {
                &mut total.1
            };
            *sum = sum.checked_add(cost).unwrap_or(Decimal::MAX);
        }
    }
    totals
        .into_iter()
        .map(|(currency, (before, after))| CurrencyTotal {
            currency,
            before,
            after,
        })
        .collect()
}

impl Effect {
    /// Whether any license's position got worse: it became at risk or unknown, or its
    /// shortfall or cost at risk grew.
    pub fn at_risk_increased(&self) -> bool {
        self.license_changes().any(|(before, after)| {
            let Some(after) = after else { return false };
            let Some(before) = before else {
                return after.status != Compliance::Compliant;
            };
            let shortfall = |f: &Figures| match (f.entitled, f.consumed) {
                (Some(e), Some(c)) if c > e => c - e,
                _ => Decimal::ZERO,
            };
            after.status > before.status
                || shortfall(after) > shortfall(before)
                || after.cost_at_risk.unwrap_or_default() > before.cost_at_risk.unwrap_or_default()
        })
    }

    /// Whether any license changed status.
    pub fn status_changed(&self) -> bool {
        self.license_changes()
            .any(|(b, a)| b.map(|f| f.status) != a.map(|f| f.status))
    }

    /// Whether any application is recognised on fewer devices, or on none it was.
    pub fn recognition_lost(&self) -> bool {
        self.estate
            .as_ref()
            .is_some_and(|e| e.applications.iter().any(|a| a.lost > 0))
    }

    /// Whether the change moves anything at all: a declaration, recognition or a position.
    pub fn changed(&self) -> bool {
        !self.declarations.is_empty()
            || self
                .estate
                .as_ref()
                .is_some_and(|e| !e.applications.is_empty() || !e.licenses.is_empty())
    }

    fn license_changes(&self) -> impl Iterator<Item = (Option<&Figures>, Option<&Figures>)> {
        self.estate
            .iter()
            .flat_map(|e| &e.licenses)
            .map(|l| (l.before.as_ref(), l.after.as_ref()))
    }
}

impl Effect {
    /// The effect as Markdown, for a pull-request comment: a summary line, then tables of the
    /// declarations, the recognition and the positions that changed.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "### Tally: effect of `{}` → `{}`\n\n",
            cell(&self.base),
            cell(&self.head)
        );
        if !self.changed() {
            out.push_str(
                "No change: the declarations, recognition and license positions are the same.\n",
            );
            return out;
        }
        out.push_str(&self.summary());
        out.push_str("\n\n");
        if !self.declarations.is_empty() {
            out.push_str(
                "#### Declarations\n\n| Change | Kind | Name | File |\n|---|---|---|---|\n",
            );
            for d in &self.declarations {
                let kind = match d.modifier {
                    Some(m) => format!("{m} {}", d.kind),
                    None => d.kind.to_owned(),
                };
                out.push_str(&format!(
                    "| {} | {kind} | `{}` | `{}` |\n",
                    d.change.as_str(),
                    cell(&d.name),
                    cell(&d.file)
                ));
            }
            out.push('\n');
        }
        let Some(estate) = &self.estate else {
            out.push_str("No estate given: recognition and positions were not compared.\n");
            return out;
        };
        if !estate.applications.is_empty() {
            out.push_str(&format!(
                "#### Recognition ({} devices)\n\n| Application | Devices | Gained | Lost |\n|---|---|---|---|\n",
                estate.devices
            ));
            for a in &estate.applications {
                out.push_str(&format!(
                    "| `{}` | {} | {} | {} |\n",
                    cell(&a.application),
                    before_after(&a.devices.before, &a.devices.after),
                    devices(a.gained, &a.gained_sample),
                    devices(a.lost, &a.lost_sample)
                ));
            }
            out.push('\n');
        }
        let unrecognized = estate.unrecognized;
        if unrecognized.before != unrecognized.after {
            out.push_str(&format!(
                "Unrecognised evidence rows: {}.\n\n",
                before_after(&unrecognized.before, &unrecognized.after)
            ));
        }
        if !estate.licenses.is_empty() {
            out.push_str(&format!(
                "#### License positions ({} unchanged)\n\n| License | Consumed | Entitled | Status | Cost at risk |\n|---|---|---|---|---|\n",
                estate.licenses_unchanged
            ));
            for l in &estate.licenses {
                let figure = |f: fn(&Figures) -> String| {
                    let show = |x: &Option<Figures>| x.as_ref().map_or("—".to_owned(), f);
                    before_after(&show(&l.before), &show(&l.after))
                };
                out.push_str(&format!(
                    "| `{}` {} | {} | {} | {} | {} |\n",
                    cell(&l.license),
                    cell(&l.name),
                    figure(|f| amount(f.consumed)),
                    figure(|f| amount(f.entitled)),
                    figure(|f| f.status.as_str().to_owned()),
                    figure(|f| money(f.cost_at_risk, &f.currency)),
                ));
            }
        }
        out
    }

    /// One line: how many declarations, applications and positions changed, and the cost at
    /// risk per currency before → after.
    fn summary(&self) -> String {
        let mut parts = vec![count(self.declarations.len(), "declaration", "changed")];
        if let Some(e) = &self.estate {
            parts.push(count(
                e.applications.len(),
                "application",
                "recognised differently",
            ));
            parts.push(count(e.licenses.len(), "license position", "changed"));
            for t in &e.cost_at_risk {
                let delta = t.after - t.before;
                let sign = if delta.is_sign_negative() { "" } else { "+" };
                parts.push(format!(
                    "cost at risk {}: {} ({sign}{delta})",
                    cell(&t.currency),
                    before_after(&t.before, &t.after)
                ));
            }
        }
        parts.join(" · ")
    }
}

fn count(n: usize, what: &str, verb: &str) -> String {
    let s = if n == 1 { "" } else { "s" };
    format!("{n} {what}{s} {verb}")
}

/// `a → b`, or `a` alone when they are equal.
fn before_after<T: std::fmt::Display + PartialEq>(before: &T, after: &T) -> String {
    if before == after {
        before.to_string()
    } else {
        format!("{before} → {after}")
    }
}

fn devices(n: usize, sample: &[String]) -> String {
    if n == 0 {
        return "0".to_owned();
    }
    let names: Vec<String> = sample.iter().map(|d| format!("`{}`", cell(d))).collect();
    let more = if n > sample.len() { ", …" } else { "" };
    format!("{n}: {}{more}", names.join(", "))
}

fn amount(d: Option<Decimal>) -> String {
    d.map_or("too large".to_owned(), |d| d.to_string())
}

fn money(d: Option<Decimal>, currency: &Option<String>) -> String {
    match (d, currency) {
        (Some(d), Some(c)) if !d.is_zero() => format!("{d} {c}"),
        (Some(d), _) => d.to_string(),
        (None, _) => "unknown".to_owned(),
    }
}

/// Text made safe for a Markdown table cell: no line breaks, and `|` and backticks escaped.
fn cell(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
        .replace('|', "\\|")
        .replace('`', "'")
}

/// The declarations added, removed and changed, by kind, modifier and name; comments and
/// layout are not changes.
fn declaration_changes(base: &Side, head: &Side) -> Vec<DeclarationChange> {
    let before = declarations(base);
    let after = declarations(head);
    let mut changes = Vec::new();
    for (key, was) in &before {
        let (change, file) = match after.get(key) {
            None => (DeclarationChangeKind::Removed, &was.file),
            Some(is) if is.body != was.body => (DeclarationChangeKind::Changed, &is.file),
            Some(is) if is.doc != was.doc => (DeclarationChangeKind::Documented, &is.file),
            Some(_) => continue,
        };
        changes.push(change_of(key, change, file));
    }
    for (key, is) in &after {
        if !before.contains_key(key) {
            changes.push(change_of(key, DeclarationChangeKind::Added, &is.file));
        }
    }
    changes.sort_by(|a, b| {
        (a.kind, &a.name, a.modifier, a.change).cmp(&(b.kind, &b.name, b.modifier, b.change))
    });
    changes
}

type DeclarationKey = (&'static str, Option<&'static str>, String);

fn change_of(key: &DeclarationKey, change: DeclarationChangeKind, file: &str) -> DeclarationChange {
    DeclarationChange {
        change,
        kind: key.0,
        modifier: key.1,
        name: key.2.clone(),
        file: file.to_owned(),
    }
}

/// A declaration as compared: its text without comments or layout, and its doc comment.
struct Written {
    body: String,
    doc: Vec<String>,
    file: String,
}

fn declarations(side: &Side) -> BTreeMap<DeclarationKey, Written> {
    let mut all = BTreeMap::new();
    for source in &side.sources {
        let parsed = parse_file(Arc::clone(source));
        let file = source
            .path
            .strip_prefix(&side.prefix)
            .unwrap_or(&source.path)
            .to_owned();
        for decl in &parsed.decls {
            all.entry(key(decl)).or_insert_with(|| Written {
                body: normalized(
                    source
                        .text
                        .get(decl.span.start..decl.span.end)
                        .unwrap_or(""),
                ),
                doc: decl.doc.clone(),
                file: file.clone(),
            });
        }
    }
    all
}

fn key(decl: &Decl) -> DeclarationKey {
    (
        decl.kind.keyword(),
        decl.modifier.as_ref().map(|m| m.value.keyword()),
        decl.name.value.clone(),
    )
}

/// The text without comments, and with white space kept only where it separates two words, so
/// that layout changes compare equal. Strings are kept as written.
fn normalized(text: &str) -> String {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut space = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push(c);
                while let Some(s) = chars.next() {
                    out.push(s);
                    match s {
                        '\\' => out.extend(chars.next()),
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '/' if chars.peek() == Some(&'/') => {
                for s in chars.by_ref() {
                    if s == '\n' {
                        break;
                    }
                }
                space = true;
                continue;
            }
            c if c.is_whitespace() => {
                space = true;
                continue;
            }
            c => {
                if space && out.ends_with(word) && word(c) {
                    out.push(' ');
                }
                out.push(c);
            }
        }
        space = false;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalized;

    #[test]
    fn layout_and_comments_do_not_count_but_strings_do() {
        let a = "application a {\n    name \"Visio  Pro\" // the pro one\n    publisher p\n}";
        let b = "application a { name \"Visio  Pro\"\n\n  publisher   p }";
        assert_eq!(normalized(a), normalized(b));
        assert_eq!(
            normalized(a),
            "application a{name\"Visio  Pro\"publisher p}"
        );
        assert_ne!(
            normalized(a),
            normalized(&a.replace("Visio  Pro", "Visio Pro"))
        );
        assert_eq!(normalized("x \"a\\\"b // c\" y"), "x\"a\\\"b // c\"y");
    }
}
