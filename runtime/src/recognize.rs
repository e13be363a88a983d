//! Recognition: turns raw evidence into installations with the compiled pack's rules.
//!
//! Patterns match a whole field, ignoring case and surrounding spaces: `%` is any run of
//! characters, `_` exactly one. Version ranges compare component by component. Publishers are
//! compared after [`normalize_publisher`], so legal forms and punctuation do not matter.
//!
//! Per device:
//! 1. a row that an `ignore` declaration matches is noise and nothing else;
//! 2. an application is recognised when every `required` rule of it matched a row and at least
//!    one `at_least_one` rule did (or it has only `required` rules); `ignore` rules link rows
//!    without recognising;
//! 3. a recognised suite absorbs its recognised members, and a suite without rules of its own is
//!    recognised when all its members are;
//! 4. of two editions of one product and version, the higher-ranked absorbs the lesser;
//! 5. a row still linked to two installations is an overlap, reported with both rules.
//!
//! The matcher is compiled: rules are indexed by the field their kind keys on (the name, or the
//! class of WMI evidence) — an exact-name hash, a literal-prefix hash, and an Aho-Corasick
//! automaton over the literal inside `%…%` patterns — so a row is tested in full only against
//! the few rules that can match it. What a row matches is remembered per distinct row (see
//! [`cache`]), since estates hold the same rows on many devices.

mod cache;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use aho_corasick::AhoCorasick;
use tally_compiler::evidence::normalize_publisher;
use tally_compiler::ir::{
    Classification, CompiledPack, EvidenceRule, Existence, FieldTest, NoiseCategory, Pattern,
    VersionOp, compare_versions,
};

use crate::estate::{Device, Evidence, EvidenceField, EvidenceKind};

/// A compiled test of one field.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Test {
    /// Equal after trimming and lowercasing.
    Exact(String),
    /// Lowercased pattern characters; `%` and `_` are wildcards.
    Like(Vec<char>),
    /// A publisher equal after normalisation.
    Publisher(String),
    Range(Vec<(VersionOp, String)>),
    /// The field is `true`.
    Set,
}

impl Test {
    fn new(field: EvidenceField, test: &FieldTest) -> Self {
        match test {
            FieldTest::Pattern(Pattern::Exact(s)) if field == EvidenceField::Publisher => {
                Self::Publisher(normalize_publisher(s))
            }
            FieldTest::Pattern(Pattern::Exact(s)) => Self::Exact(s.trim().to_lowercase()),
            FieldTest::Pattern(Pattern::Like(s)) => {
                Self::Like(s.trim().to_lowercase().chars().collect())
            }
            FieldTest::Range(bounds) => Self::Range(bounds.clone()),
            FieldTest::Set => Self::Set,
        }
    }

    fn matches(&self, value: &Value) -> bool {
        match self {
            Self::Exact(s) => *s == value.lower,
            Self::Like(p) => like(p, &value.chars),
            Self::Publisher(p) => *p == normalize_publisher(&value.lower),
            Self::Range(bounds) => {
                !value.lower.is_empty()
                    && bounds
                        .iter()
                        .all(|(op, bound)| op.holds(compare_versions(&value.lower, bound)))
            }
            Self::Set => matches!(value.lower.as_str(), "true" | "1" | "yes"),
        }
    }
}

/// One field of a row, trimmed and lowercased, with its characters for wildcard matching.
struct Value {
    lower: String,
    chars: Vec<char>,
}

impl Value {
    fn new(raw: &str) -> Self {
        let lower = raw.trim().to_lowercase();
        let chars = lower.chars().collect();
        Self { lower, chars }
    }
}

/// Wildcard match with `%` (any run) and `_` (one character), anchored at both ends.
/// Iterative with single-star backtracking: linear in practice, never exponential.
pub(crate) fn like(pattern: &[char], text: &[char]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('%') => {
                star = Some((p, t));
                p += 1;
            }
            Some(c) if *c == '_' || Some(c) == text.get(t) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|c| *c == '%'))
}

/// Who a rule belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Owner {
    Application(usize),
    Ignore(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    owner: Owner,
    /// The rule's position among its owner's rules.
    index: usize,
    kind: EvidenceKind,
    tests: Vec<(EvidenceField, Test)>,
    /// The product publisher's normalised names, when the rule names no publisher.
    publishers: Option<Vec<String>>,
    empty_publisher: bool,
    existence: Existence,
}

impl Rule {
    fn matches(&self, row: &Row) -> bool {
        if self.kind != row.kind {
            return false;
        }
        let publisher_empty = row.get(EvidenceField::Publisher).lower.is_empty();
        if let Some(names) = &self.publishers
            && !(names.contains(&row.publisher) || self.empty_publisher && publisher_empty)
        {
            return false;
        }
        self.tests.iter().all(|(field, test)| match test {
            _ if *field == EvidenceField::Publisher && self.empty_publisher && publisher_empty => {
                true
            }
            // Normalised once per row rather than once per test.
            Test::Publisher(p) if *field == EvidenceField::Publisher => {
                *p == row.publisher_of_lower
            }
            _ => test.matches(row.get(*field)),
        })
    }
}

/// A row prepared for matching: each field lowercased once.
struct Row {
    kind: EvidenceKind,
    fields: Vec<(EvidenceField, Value)>,
    /// The publisher as reported, normalised.
    publisher: String,
    /// The trimmed, lowercased publisher, normalised (what a `publisher` test compares).
    publisher_of_lower: String,
    empty: Value,
}

impl Row {
    fn new(e: &Evidence) -> Self {
        let mut fields: Vec<(EvidenceField, Value)> = [
            (EvidenceField::Publisher, &*e.publisher),
            (EvidenceField::Name, &*e.name),
            (EvidenceField::Version, &*e.version),
        ]
        .into_iter()
        .chain(e.details.iter().map(|(f, v)| (*f, &**v)))
        .map(|(f, v)| (f, Value::new(v)))
        .collect();
        fields.sort_by_key(|(f, _)| *f);
        let publisher_of_lower = fields
            .iter()
            .find(|(f, _)| *f == EvidenceField::Publisher)
            .map(|(_, v)| normalize_publisher(&v.lower))
            .unwrap_or_default();
        Self {
            kind: e.kind,
            publisher: normalize_publisher(&e.publisher),
            publisher_of_lower,
            fields,
            empty: Value::new(""),
        }
    }

    fn get(&self, field: EvidenceField) -> &Value {
        self.fields
            .iter()
            .find(|(f, _)| *f == field)
            .map_or(&self.empty, |(_, v)| v)
    }
}

/// The rules of one evidence kind, indexed by the kind's key field.
#[derive(Debug, Clone, Default)]
struct KindIndex {
    /// Rules whose key field is an exact string, by that string (lowercased).
    exact: HashMap<String, Vec<usize>>,
    /// Rules whose key pattern starts with a literal, by that literal.
    prefixes: HashMap<String, Vec<usize>>,
    /// The distinct lengths (bytes) of those literals, ascending.
    prefix_lengths: Vec<usize>,
    /// The literal inside patterns that start with a wildcard, and their rules.
    inner: Vec<(String, Vec<usize>)>,
    automaton: Option<AhoCorasick>,
    /// Rules tried for every row: no key test, or a key pattern without a usable literal.
    always: Vec<usize>,
}

impl PartialEq for KindIndex {
    /// The automaton is built from `inner`, so it need not be compared.
    fn eq(&self, other: &Self) -> bool {
        self.exact == other.exact
            && self.prefixes == other.prefixes
            && self.inner == other.inner
            && self.always == other.always
    }
}

impl Eq for KindIndex {}

/// The shortest literal worth indexing inside a pattern that starts with `%`.
const MIN_INNER_LITERAL: usize = 3;

impl KindIndex {
    fn add(&mut self, id: usize, key: Option<&Test>) {
        match key {
            Some(Test::Exact(s)) => self.exact.entry(s.clone()).or_default().push(id),
            Some(Test::Like(p)) => {
                let prefix: String = p.iter().take_while(|c| !matches!(c, '%' | '_')).collect();
                if !prefix.is_empty() {
                    self.prefixes.entry(prefix).or_default().push(id);
                    return;
                }
                let longest = p
                    .split(|c| matches!(c, '%' | '_'))
                    .max_by_key(|run| run.len())
                    .map(|run| run.iter().collect::<String>())
                    .unwrap_or_default();
                if longest.chars().count() >= MIN_INNER_LITERAL {
                    match self.inner.iter_mut().find(|(lit, _)| *lit == longest) {
                        Some((_, ids)) => ids.push(id),
                        None => self.inner.push((longest, vec![id])),
                    }
                } else {
                    self.always.push(id);
                }
            }
            _ => self.always.push(id),
        }
    }

    fn finish(&mut self) {
        let lengths: BTreeSet<usize> = self.prefixes.keys().map(String::len).collect();
        self.prefix_lengths = lengths.into_iter().collect();
        self.automaton = if self.inner.is_empty() {
            None
        } else {
            AhoCorasick::new(self.inner.iter().map(|(lit, _)| lit.as_str())).ok()
        };
        if self.automaton.is_none() {
            // Without an automaton every such rule is tried for every row.
            let ids: Vec<usize> = self.inner.drain(..).flat_map(|(_, ids)| ids).collect();
            self.always.extend(ids);
        }
    }

    /// The rules that can match a row whose key field is `key` (lowercased), sorted.
    fn candidates(&self, key: &str) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        if let Some(ids) = self.exact.get(key) {
            out.extend(ids);
        }
        for len in &self.prefix_lengths {
            if *len > key.len() {
                break;
            }
            if let Some(ids) = key.get(..*len).and_then(|p| self.prefixes.get(p)) {
                out.extend(ids);
            }
        }
        if let Some(automaton) = &self.automaton {
            for found in automaton.find_overlapping_iter(key) {
                if let Some((_, ids)) = self.inner.get(found.pattern().as_usize()) {
                    out.extend(ids);
                }
            }
        }
        out.extend(&self.always);
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// What recognition needs to know about an application.
#[derive(Debug, Clone, PartialEq, Eq)]
struct App {
    id: String,
    product: String,
    version: Option<String>,
    edition_rank: Option<usize>,
    classification: Classification,
    members: Vec<usize>,
    /// Its `required` rules.
    required: Vec<usize>,
    /// Whether it has an `at_least_one` rule.
    any_at_least_one: bool,
    /// Whether it has recognition rules of its own.
    has_rules: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct IgnoreEntry {
    id: String,
    category: NoiseCategory,
}

/// Every recognition rule of a pack, compiled for matching.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recognizer {
    rules: Vec<Rule>,
    /// By evidence kind.
    index: BTreeMap<EvidenceKind, KindIndex>,
    apps: Vec<App>,
    /// Suites without rules of their own (recognised through their members), ascending.
    rule_less_suites: Vec<usize>,
    ignores: Vec<IgnoreEntry>,
    /// What each distinct row matched (not part of the value: equal recognizers may differ).
    cache: cache::MatchCache,
}

/// A rule by its owner (application or `ignore` declaration) and its position among the owner's
/// rules (0-based), which the compiler maps back to where it was written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleRef {
    pub owner: String,
    pub index: usize,
}

impl Recognizer {
    pub fn new(pack: &CompiledPack) -> Self {
        let mut r = Self::default();
        let app_index: HashMap<&str, usize> = pack
            .applications
            .keys()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        for (i, app) in pack.applications.values().enumerate() {
            let product = pack.products.get(&app.product);
            let publishers: Vec<String> = product
                .and_then(|p| pack.publishers.get(&p.publisher))
                .map(|p| {
                    std::iter::once(&p.name)
                        .chain(&p.aliases)
                        .map(|n| normalize_publisher(n))
                        .collect()
                })
                .unwrap_or_default();
            let mut entry = App {
                id: app.id.clone(),
                product: app.product.clone(),
                version: app.version.clone(),
                edition_rank: product
                    .and_then(|p| app.edition.as_deref().and_then(|e| p.edition_rank(e))),
                classification: product.map_or(Classification::Commercial, |p| p.classification),
                members: app
                    .members
                    .iter()
                    .filter_map(|m| app_index.get(m.as_str()).copied())
                    .collect(),
                required: Vec::new(),
                any_at_least_one: false,
                has_rules: !app.rules.is_empty(),
            };
            for (index, rule) in app.rules.iter().enumerate() {
                let id = r.add_rule(Owner::Application(i), index, rule, &publishers);
                match rule.existence {
                    Existence::Required => entry.required.push(id),
                    Existence::AtLeastOne => entry.any_at_least_one = true,
                    Existence::Ignore => {}
                }
            }
            if !entry.has_rules && !entry.members.is_empty() {
                r.rule_less_suites.push(i);
            }
            r.apps.push(entry);
        }
        for (i, ignore) in pack.ignores.values().enumerate() {
            for (index, rule) in ignore.rules.iter().enumerate() {
                r.add_rule(Owner::Ignore(i), index, rule, &[]);
            }
            r.ignores.push(IgnoreEntry {
                id: ignore.id.clone(),
                category: ignore.category,
            });
        }
        for index in r.index.values_mut() {
            index.finish();
        }
        r
    }

    fn add_rule(
        &mut self,
        owner: Owner,
        index: usize,
        rule: &EvidenceRule,
        publishers: &[String],
    ) -> usize {
        let id = self.rules.len();
        let tests: Vec<(EvidenceField, Test)> = rule
            .tests
            .iter()
            .map(|(f, t)| (*f, Test::new(*f, t)))
            .collect();
        let key = rule.kind.key_field();
        self.index
            .entry(rule.kind)
            .or_default()
            .add(id, tests.iter().find(|(f, _)| *f == key).map(|(_, t)| t));
        self.rules.push(Rule {
            owner,
            index,
            kind: rule.kind,
            tests,
            publishers: rule.publisher_of_product.then(|| publishers.to_vec()),
            empty_publisher: rule.empty_publisher,
            existence: rule.existence,
        });
        id
    }

    /// The ids of the rules one row matches, ascending.
    fn matching_rules(&self, row: &Row) -> Vec<usize> {
        let Some(index) = self.index.get(&row.kind) else {
            return Vec::new();
        };
        index
            .candidates(&row.get(row.kind.key_field()).lower)
            .into_iter()
            .filter(|id| self.rules.get(*id).is_some_and(|rule| rule.matches(row)))
            .collect()
    }

    /// Appends the ids of the rules evidence matches (ascending) to `out`, remembered per
    /// distinct row.
    fn extend_matching_rules(&self, e: &Evidence, out: &mut Vec<usize>) {
        self.cache
            .extend_matching(e, || self.matching_rules(&Row::new(e)), out);
    }

    /// The `ignore` declaration that decides a row is noise, among the matched rules: the most
    /// specific category wins (hotfix, update, service pack, language pack, driver, component,
    /// other), then the first declaration by name, so the order files are read in never matters.
    fn noise(&self, matched: &[usize]) -> Option<&IgnoreEntry> {
        matched
            .iter()
            .filter_map(|id| match self.rules.get(*id)?.owner {
                Owner::Ignore(i) => Some((i, self.ignores.get(i)?)),
                Owner::Application(_) => None,
            })
            .min_by_key(|(i, entry)| (entry.category, *i))
            .map(|(_, entry)| entry)
    }

    fn rule_ref(&self, id: usize) -> Option<RuleRef> {
        let rule = self.rules.get(id)?;
        let owner = match rule.owner {
            Owner::Application(a) => &self.apps.get(a)?.id,
            Owner::Ignore(i) => &self.ignores.get(i)?.id,
        };
        Some(RuleRef {
            owner: owner.clone(),
            index: rule.index,
        })
    }

    /// What one piece of evidence is, taken on its own: noise, or the applications whose rules
    /// match it (sorted, without repeats). Existence rules, suites and editions need the whole
    /// device: see [`recognize_device`].
    pub fn classify(&self, evidence: &Evidence) -> RowOutcome {
        let matched = self.matching_rules(&Row::new(evidence));
        if let Some(ignore) = self.noise(&matched) {
            return RowOutcome::Noise {
                ignore: ignore.id.clone(),
                category: ignore.category,
            };
        }
        let mut apps: Vec<String> = matched
            .iter()
            .filter_map(|id| match self.rules.get(*id)?.owner {
                Owner::Application(a) => self.apps.get(a).map(|a| a.id.clone()),
                Owner::Ignore(_) => None,
            })
            .collect();
        apps.sort();
        apps.dedup();
        RowOutcome::Applications(apps)
    }
}

/// What one piece of evidence is on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    /// An `ignore` declaration matches it.
    Noise {
        ignore: String,
        category: NoiseCategory,
    },
    /// The applications whose rules match it; empty when none does.
    Applications(Vec<String>),
}

/// The index of a row in its device's evidence list, in file order (0-based). Recognition
/// results name rows by it rather than by `evidence.csv` line, so they depend only on the
/// device's own rows: a row inserted or removed elsewhere in the file shifts the lines but
/// changes no other device's result. [`DeviceView::row`] maps an id back to its [`Evidence`],
/// whose `line` is the one to show.
pub type EvidenceId = u32;

/// One application installed on one device.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Installation {
    pub device: String,
    pub application: String,
    /// The evidence rows that recognised it, ascending.
    pub evidence: Vec<EvidenceId>,
    /// Applications it absorbed: suite members and lesser editions, sorted.
    pub absorbed: Vec<String>,
    /// The latest `last_used` day among its evidence rows, if any row has one.
    pub last_used: Option<jiff::civil::Date>,
}

/// A noise row: evidence an `ignore` declaration matches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Noise {
    /// The noise row.
    pub evidence: EvidenceId,
    pub ignore: String,
    pub category: NoiseCategory,
}

/// One row that rules of two installed applications match.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Overlap {
    /// The row both rules match.
    pub evidence: EvidenceId,
    pub first: RuleRef,
    pub second: RuleRef,
}

/// What recognition found on one device.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceRecognition {
    /// Sorted by application; applications classified `ignored` are not here.
    /// Shared with the application → installations index, which holds the same values.
    pub installations: Vec<Arc<Installation>>,
    /// Installations of applications classified `ignored`, sorted by application.
    pub ignored_applications: Vec<Arc<Installation>>,
    /// Evidence rows no rule recognised, ascending.
    pub unrecognized: Vec<EvidenceId>,
    /// Evidence rows that are noise, in row order.
    pub noise: Vec<Noise>,
    /// Evidence rows marked as ignored in the estate, ascending.
    pub ignored: Vec<EvidenceId>,
    /// Rows linked to two installations, in row order.
    pub overlaps: Vec<Overlap>,
}

/// One device as the reports see it: its record, its evidence rows in file order, and what
/// recognition found on them (whose [`EvidenceId`]s index `evidence`).
#[derive(Debug, Clone, Copy)]
pub struct DeviceView<'a> {
    pub device: &'a Device,
    pub evidence: &'a [Evidence],
    pub recognition: &'a DeviceRecognition,
}

impl<'a> DeviceView<'a> {
    /// The row an evidence id of this device names.
    pub fn row(&self, id: EvidenceId) -> Option<&'a Evidence> {
        row(self.evidence, id)
    }

    /// The rows evidence ids of this device name, in the ids' order.
    pub fn rows<'i>(
        &self,
        ids: impl IntoIterator<Item = &'i EvidenceId>,
    ) -> impl Iterator<Item = &'a Evidence> {
        let evidence = self.evidence;
        ids.into_iter().filter_map(move |id| row(evidence, *id))
    }
}

/// The row of `evidence` an id names.
fn row(evidence: &[Evidence], id: EvidenceId) -> Option<&Evidence> {
    usize::try_from(id).ok().and_then(|i| evidence.get(i))
}

/// Recognises one device's evidence, its rows in file order. The result names rows by their
/// [`EvidenceId`], their index in `evidence`, and never reads their `line`: it depends only on
/// the rows' contents and order. (A device's rows beyond the largest id are not looked at.)
pub fn recognize_device(
    recognizer: &Recognizer,
    device: &str,
    evidence: &[Evidence],
) -> DeviceRecognition {
    let mut result = DeviceRecognition::default();
    // (application, rule, row) for every application rule a row matched.
    let mut hits: Vec<(usize, usize, EvidenceId)> = Vec::new();
    // Every counted row with where its rules lie in `matched_rules`.
    let mut rows: Vec<(EvidenceId, std::ops::Range<usize>)> = Vec::new();
    let mut matched_rules: Vec<usize> = Vec::new();
    for (id, e) in (0..=EvidenceId::MAX).zip(evidence) {
        if e.ignored {
            result.ignored.push(id);
            continue;
        }
        let start = matched_rules.len();
        recognizer.extend_matching_rules(e, &mut matched_rules);
        let rules = matched_rules.get(start..).unwrap_or_default();
        if let Some(ignore) = recognizer.noise(rules) {
            result.noise.push(Noise {
                evidence: id,
                ignore: ignore.id.clone(),
                category: ignore.category,
            });
            matched_rules.truncate(start);
            continue;
        }
        for rule in rules {
            if let Some(Owner::Application(app)) = recognizer.rules.get(*rule).map(|r| r.owner) {
                hits.push((app, *rule, id));
            }
        }
        rows.push((id, start..matched_rules.len()));
    }
    hits.sort_unstable();
    // Each matched application with where the rows its rules matched (sorted, without
    // repeats) lie in `matched_rows`.
    let mut matched: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
    let mut matched_rows: Vec<EvidenceId> = Vec::new();
    let mut scratch: Vec<EvidenceId> = Vec::new();
    // Ascending, as `hits` is sorted.
    let mut recognized: Vec<usize> = Vec::new();
    for group in hits.chunk_by(|a, b| a.0 == b.0) {
        let Some(&(app, _, _)) = group.first() else {
            continue;
        };
        let mut rules: Vec<usize> = group.iter().map(|(_, rule, _)| *rule).collect();
        rules.dedup();
        let recognised = recognizer.apps.get(app).is_some_and(|a| {
            let required = a.required.iter().all(|r| rules.binary_search(r).is_ok());
            let any = rules.iter().any(|r| {
                recognizer
                    .rules
                    .get(*r)
                    .is_some_and(|r| r.existence == Existence::AtLeastOne)
            });
            required && (any || (!a.any_at_least_one && !a.required.is_empty()))
        });
        if recognised {
            recognized.push(app);
        }
        scratch.clear();
        scratch.extend(group.iter().map(|(_, _, row)| *row));
        scratch.sort_unstable();
        scratch.dedup();
        let start = matched_rows.len();
        matched_rows.extend_from_slice(&scratch);
        matched.push((app, start..matched_rows.len()));
    }
    let rows_of = |app: usize| {
        matched
            .binary_search_by_key(&app, |(a, _)| *a)
            .ok()
            .and_then(|i| matched.get(i))
            .and_then(|(_, range)| matched_rows.get(range.clone()))
            .unwrap_or_default()
    };
    let home = fold(recognizer, recognized);
    let home_of = |app: usize| {
        home.binary_search_by_key(&app, |(a, _)| *a)
            .ok()
            .and_then(|i| home.get(i))
            .map(|(_, into)| *into)
    };
    // Each recognised application's installation, by the application it folded into, then
    // the application.
    let mut installs: Vec<(usize, usize)> = home.iter().map(|(app, into)| (*into, *app)).collect();
    installs.sort_unstable();
    // The installations a row is linked to, each with the first rule that links it.
    let mut homes: Vec<(usize, usize)> = Vec::new();
    for (row, range) in &rows {
        homes.clear();
        for id in matched_rules.get(range.clone()).unwrap_or_default() {
            if let Some(Owner::Application(app)) = recognizer.rules.get(*id).map(|r| r.owner)
                && let Some(into) = home_of(app)
                && !homes.iter().any(|(i, _)| *i == into)
            {
                homes.push((into, *id));
            }
        }
        homes.sort_unstable();
        match homes.as_slice() {
            [] => result.unrecognized.push(*row),
            [_] => {}
            [(_, first), rest @ ..] => {
                for (_, second) in rest {
                    if let (Some(a), Some(b)) =
                        (recognizer.rule_ref(*first), recognizer.rule_ref(*second))
                    {
                        result.overlaps.push(Overlap {
                            evidence: *row,
                            first: a,
                            second: b,
                        });
                    }
                }
            }
        }
    }
    for group in installs.chunk_by(|a, b| a.0 == b.0) {
        let Some(entry) = group
            .first()
            .and_then(|(into, _)| Some((*into, recognizer.apps.get(*into)?)))
        else {
            continue;
        };
        let (app, entry) = entry;
        // Allocated at its size: the results of every device are kept.
        let mut ids: Vec<EvidenceId> =
            Vec::with_capacity(group.iter().map(|(_, a)| rows_of(*a).len()).sum());
        ids.extend(group.iter().flat_map(|(_, a)| rows_of(*a)));
        ids.sort_unstable();
        ids.dedup();
        let last_used = ids
            .iter()
            .filter_map(|id| row(evidence, *id).and_then(|e| e.last_used))
            .max();
        let installation = Installation {
            device: device.to_string(),
            application: entry.id.clone(),
            last_used,
            evidence: ids,
            absorbed: group
                .iter()
                .filter(|(_, a)| *a != app)
                .filter_map(|(_, a)| recognizer.apps.get(*a).map(|a| a.id.clone()))
                .collect(),
        };
        if entry.classification == Classification::Ignored {
            result.ignored_applications.push(Arc::new(installation));
        } else {
            result.installations.push(Arc::new(installation));
        }
    }
    result.installations.sort();
    result.ignored_applications.sort();
    result.unrecognized.sort_unstable();
    // The results of every device are kept: without spare room.
    result.installations.shrink_to_fit();
    result.ignored_applications.shrink_to_fit();
    result.unrecognized.shrink_to_fit();
    result.noise.shrink_to_fit();
    result.ignored.shrink_to_fit();
    result.overlaps.shrink_to_fit();
    result
}

/// Folds recognised applications into the installation that stands for them: suites absorb
/// their members (a suite without rules is recognised when all its members are), and the
/// highest-ranked edition of a product and version absorbs the lesser ones. Maps every
/// recognised application to the one it ends in.
fn fold(recognizer: &Recognizer, mut recognized: Vec<usize>) -> Vec<(usize, usize)> {
    // `recognized` is ascending without repeats, and stays so.
    let apps = &recognizer.apps;
    let has = |set: &[usize], app: &usize| set.binary_search(app).is_ok();
    for i in &recognizer.rule_less_suites {
        if apps
            .get(*i)
            .is_some_and(|app| app.members.iter().all(|m| has(&recognized, m)))
            && let Err(at) = recognized.binary_search(i)
        {
            recognized.insert(at, *i);
        }
    }
    // Suites: a member goes to the recognised suite that lists it (the one with the most
    // members when several do, then the first by name); chains of suites are followed.
    // Only suites list members: the others need not be looked at.
    let suites: Vec<usize> = recognized
        .iter()
        .copied()
        .filter(|s| apps.get(*s).is_some_and(|a| !a.members.is_empty()))
        .collect();
    // By member, ascending.
    let claimed: Vec<(usize, usize)> = if suites.is_empty() {
        Vec::new()
    } else {
        recognized
            .iter()
            .filter_map(|member| {
                let suite = suites
                    .iter()
                    .filter(|s| apps.get(**s).is_some_and(|a| a.members.contains(member)))
                    .min_by_key(|s| {
                        (
                            std::cmp::Reverse(apps.get(**s).map_or(0, |a| a.members.len())),
                            **s,
                        )
                    })?;
                Some((*member, *suite))
            })
            .collect()
    };
    let claimant = |app: usize| {
        claimed
            .binary_search_by_key(&app, |(m, _)| *m)
            .ok()
            .and_then(|i| claimed.get(i))
            .map(|(_, suite)| *suite)
    };
    // By application, ascending.
    let mut home: Vec<(usize, usize)> = Vec::with_capacity(recognized.len());
    for app in &recognized {
        let mut at = *app;
        for _ in 0..apps.len() {
            match claimant(at) {
                Some(next) if next != *app => at = next,
                _ => break,
            }
        }
        home.push((*app, at));
    }
    // Editions: among installations of one product and version, the highest rank wins.
    let mut standing: Vec<usize> = home.iter().map(|(_, into)| *into).collect();
    standing.sort_unstable();
    standing.dedup();
    let mut best: BTreeMap<(&str, Option<&str>), usize> = BTreeMap::new();
    for app in &standing {
        let Some(entry) = apps.get(*app) else {
            continue;
        };
        if entry.edition_rank.is_none() {
            continue;
        }
        let key = (entry.product.as_str(), entry.version.as_deref());
        let better = best
            .get(&key)
            .and_then(|b| apps.get(*b))
            .is_none_or(|b| entry.edition_rank > b.edition_rank);
        if better {
            best.insert(key, *app);
        }
    }
    if !best.is_empty() {
        for (_, into) in &mut home {
            if let Some(entry) = apps.get(*into)
                && entry.edition_rank.is_some()
                && let Some(winner) = best.get(&(entry.product.as_str(), entry.version.as_deref()))
            {
                *into = *winner;
            }
        }
    }
    home
}

#[cfg(test)]
mod tests;
