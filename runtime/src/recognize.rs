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

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

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

/// What a row matched, as the memo keeps it: everything recognition reads per row, so a
/// remembered row needs no look at the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hit {
    /// The row is noise by this `ignore` declaration (the only hit then).
    Noise(usize),
    /// An application rule matched it.
    Rule {
        app: usize,
        rule: usize,
        at_least_one: bool,
    },
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
    /// Installations get a copy per thread: see [`Recognizer::local_name`].
    id: Arc<str>,
    /// Its product and version, numbered: editions of one product and version share it.
    product_version: usize,
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
    /// Noise rows get a copy per thread: see [`Recognizer::local_name`].
    id: Arc<str>,
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
    cache: cache::MatchCache<Hit>,
    generation: Generation,
}

/// Tells recognizers apart for [`Recognizer::local_name`], so that a thread's copies of one
/// recognizer's names are never taken for another's. A clone keeps it (its names are the
/// same); it takes no part in comparisons.
#[derive(Debug, Clone, Copy)]
struct Generation(u64);

impl Default for Generation {
    fn default() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

impl PartialEq for Generation {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Generation {}

thread_local! {
    /// This thread's copies of the names of the applications and `ignore` declarations of the
    /// recognizer it used last, by [`Generation`]. Threads recognising devices at the same time
    /// would otherwise all count references on the same shared names, and wait on each other.
    static LOCAL_NAMES: RefCell<(u64, Vec<Option<Arc<str>>>)> =
        const { RefCell::new((0, Vec::new())) };
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
        let mut product_versions: HashMap<(&str, Option<&str>), usize> = HashMap::new();
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
            let numbered = product_versions.len();
            let version = *product_versions
                .entry((app.product.as_str(), app.version.as_deref()))
                .or_insert(numbered);
            let mut entry = App {
                id: Arc::from(app.id.as_str()),
                product_version: version,
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
                id: Arc::from(ignore.id.as_str()),
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

    /// Appends what evidence matches to `out`, remembered per distinct row: the `ignore`
    /// declaration that makes it noise, or else each application rule it matches (ascending).
    fn extend_hits(&self, e: &Evidence, out: &mut Vec<Hit>) {
        self.cache.extend_matching(e, || self.hits(e), out);
    }

    fn hits(&self, e: &Evidence) -> Vec<Hit> {
        let matched = self.matching_rules(&Row::new(e));
        if let Some(ignore) = self.noise_index(&matched) {
            return vec![Hit::Noise(ignore)];
        }
        matched
            .iter()
            .filter_map(|id| {
                let rule = self.rules.get(*id)?;
                match rule.owner {
                    Owner::Application(app) => Some(Hit::Rule {
                        app,
                        rule: *id,
                        at_least_one: rule.existence == Existence::AtLeastOne,
                    }),
                    Owner::Ignore(_) => None,
                }
            })
            .collect()
    }

    /// The `ignore` declaration that decides a row is noise, among the matched rules: the most
    /// specific category wins (hotfix, update, service pack, language pack, driver, component,
    /// other), then the first declaration by name, so the order files are read in never matters.
    fn noise(&self, matched: &[usize]) -> Option<&IgnoreEntry> {
        self.noise_index(matched).and_then(|i| self.ignores.get(i))
    }

    fn noise_index(&self, matched: &[usize]) -> Option<usize> {
        matched
            .iter()
            .filter_map(|id| match self.rules.get(*id)?.owner {
                Owner::Ignore(i) => Some((i, self.ignores.get(i)?)),
                Owner::Application(_) => None,
            })
            .min_by_key(|(i, entry)| (entry.category, *i))
            .map(|(i, _)| i)
    }

    /// The id of an application or `ignore` declaration, as a name shared with every other use
    /// of it on this thread.
    fn local_name(&self, owner: Owner) -> Option<Arc<str>> {
        let (slot, shared) = match owner {
            Owner::Application(a) => (a, &self.apps.get(a)?.id),
            Owner::Ignore(i) => (self.apps.len() + i, &self.ignores.get(i)?.id),
        };
        LOCAL_NAMES.with_borrow_mut(|(generation, names)| {
            if *generation != self.generation.0 {
                *generation = self.generation.0;
                names.clear();
                names.resize(self.apps.len() + self.ignores.len(), None);
            }
            let name = names
                .get_mut(slot)?
                .get_or_insert_with(|| Arc::from(&**shared));
            Some(Arc::clone(name))
        })
    }

    fn rule_ref(&self, id: usize) -> Option<RuleRef> {
        let rule = self.rules.get(id)?;
        let owner = match rule.owner {
            Owner::Application(a) => &self.apps.get(a)?.id,
            Owner::Ignore(i) => &self.ignores.get(i)?.id,
        };
        Some(RuleRef {
            owner: owner.to_string(),
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
                ignore: ignore.id.to_string(),
                category: ignore.category,
            };
        }
        let mut apps: Vec<String> = matched
            .iter()
            .filter_map(|id| match self.rules.get(*id)?.owner {
                Owner::Application(a) => self.apps.get(a).map(|a| a.id.to_string()),
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

/// The evidence rows of an installation, ascending. Most installations rest on one row, which
/// is held in place rather than in an allocation of its own.
#[derive(Clone)]
pub enum EvidenceIds {
    One(EvidenceId),
    Many(Box<[EvidenceId]>),
}

impl EvidenceIds {
    /// The ids of `rows`, ascending without repeats; one row takes no allocation, several
    /// one of their size.
    pub fn from_slice(rows: &[EvidenceId]) -> Self {
        match rows {
            [one] => Self::One(*one),
            _ => Self::Many(rows.into()),
        }
    }
}

impl Default for EvidenceIds {
    fn default() -> Self {
        Self::Many(Box::default())
    }
}

impl std::ops::Deref for EvidenceIds {
    type Target = [EvidenceId];

    fn deref(&self) -> &[EvidenceId] {
        match self {
            Self::One(id) => std::slice::from_ref(id),
            Self::Many(ids) => ids,
        }
    }
}

// Compared, ordered and hashed as the list they hold, however it is held.
impl PartialEq for EvidenceIds {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for EvidenceIds {}

impl PartialOrd for EvidenceIds {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for EvidenceIds {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (**self).cmp(&**other)
    }
}

impl std::hash::Hash for EvidenceIds {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

impl std::fmt::Debug for EvidenceIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// One application installed on one device.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Installation {
    /// Shared by the device's installations.
    pub device: Arc<str>,
    /// Shared with other installations of the application.
    pub application: Arc<str>,
    /// The evidence rows that recognised it, ascending.
    pub evidence: EvidenceIds,
    /// Applications it absorbed: suite members and lesser editions, sorted.
    pub absorbed: Vec<Arc<str>>,
    /// The latest `last_used` day among its evidence rows, if any row has one.
    pub last_used: Option<jiff::civil::Date>,
}

/// A noise row: evidence an `ignore` declaration matches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Noise {
    /// The noise row.
    pub evidence: EvidenceId,
    /// Shared with other rows it matches.
    pub ignore: Arc<str>,
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
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut scratch) => recognize_with(recognizer, device, evidence, &mut scratch),
        Err(_) => recognize_with(recognizer, device, evidence, &mut Scratch::default()),
    })
}

/// The working lists of [`recognize_device`], kept by each thread and emptied for each device,
/// so that recognising a device allocates little beyond its result: at estate scale, lists
/// grown and freed for every device cost more than matching.
#[derive(Default)]
struct Scratch {
    /// (application, rule, row, whether the rule is `at_least_one`) for every application rule
    /// a row matched.
    hits: Vec<(usize, usize, EvidenceId, bool)>,
    /// Every counted row with where its hits lie in `matched`.
    rows: Vec<(EvidenceId, std::ops::Range<usize>)>,
    matched: Vec<Hit>,
    /// Each matched application with where the rows its rules matched lie in `matched_rows`.
    by_app: Vec<(usize, std::ops::Range<usize>)>,
    matched_rows: Vec<EvidenceId>,
    ids: Vec<EvidenceId>,
    /// The installations a row is linked to, each with the first rule that links it.
    homes: Vec<(usize, usize)>,
    /// The result's lists, copied out at their final length.
    noise: Vec<Noise>,
    ignored: Vec<EvidenceId>,
    unrecognized: Vec<EvidenceId>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

fn recognize_with(
    recognizer: &Recognizer,
    device: &str,
    evidence: &[Evidence],
    scratch: &mut Scratch,
) -> DeviceRecognition {
    let Scratch {
        hits,
        rows,
        matched,
        by_app,
        matched_rows,
        ids: scratch,
        homes,
        noise,
        ignored,
        unrecognized,
    } = scratch;
    hits.clear();
    rows.clear();
    matched.clear();
    by_app.clear();
    matched_rows.clear();
    homes.clear();
    noise.clear();
    ignored.clear();
    unrecognized.clear();
    let mut result = DeviceRecognition::default();
    let device: Arc<str> = Arc::from(device);
    for (id, e) in (0..=EvidenceId::MAX).zip(evidence) {
        if e.ignored {
            ignored.push(id);
            continue;
        }
        let start = matched.len();
        recognizer.extend_hits(e, matched);
        let found = matched.get(start..).unwrap_or_default();
        if let [Hit::Noise(i)] = found {
            if let (Some(entry), Some(name)) = (
                recognizer.ignores.get(*i),
                recognizer.local_name(Owner::Ignore(*i)),
            ) {
                noise.push(Noise {
                    evidence: id,
                    ignore: name,
                    category: entry.category,
                });
            }
            matched.truncate(start);
            continue;
        }
        for hit in found {
            if let Hit::Rule {
                app,
                rule,
                at_least_one,
            } = *hit
            {
                hits.push((app, rule, id, at_least_one));
            }
        }
        rows.push((id, start..matched.len()));
    }
    hits.sort_unstable();
    // Ascending, as `hits` is sorted.
    let mut recognized: Vec<usize> = Vec::new();
    for group in hits.chunk_by(|a, b| a.0 == b.0) {
        let Some(&(app, _, _, _)) = group.first() else {
            continue;
        };
        let recognised = recognizer.apps.get(app).is_some_and(|a| {
            // `group` is sorted by rule.
            let required = a.required.iter().all(|r| {
                group
                    .binary_search_by_key(r, |(_, rule, _, _)| *rule)
                    .is_ok()
            });
            let any = group.iter().any(|(_, _, _, at_least_one)| *at_least_one);
            required && (any || (!a.any_at_least_one && !a.required.is_empty()))
        });
        if recognised {
            recognized.push(app);
        }
        scratch.clear();
        scratch.extend(group.iter().map(|(_, _, row, _)| *row));
        scratch.sort_unstable();
        scratch.dedup();
        let start = matched_rows.len();
        matched_rows.extend_from_slice(scratch);
        by_app.push((app, start..matched_rows.len()));
    }
    let rows_of = |app: usize| {
        by_app
            .binary_search_by_key(&app, |(a, _)| *a)
            .ok()
            .and_then(|i| by_app.get(i))
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
    for (row, range) in rows.iter() {
        homes.clear();
        for hit in matched.get(range.clone()).unwrap_or_default() {
            if let Hit::Rule { app, rule, .. } = *hit
                && let Some(into) = home_of(app)
                && !homes.iter().any(|(i, _)| *i == into)
            {
                homes.push((into, rule));
            }
        }
        homes.sort_unstable();
        match homes.as_slice() {
            [] => unrecognized.push(*row),
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
    // Sized once: the installations are kept.
    result.installations = Vec::with_capacity(installs.chunk_by(|a, b| a.0 == b.0).count());
    for group in installs.chunk_by(|a, b| a.0 == b.0) {
        let Some(entry) = group
            .first()
            .and_then(|(into, _)| Some((*into, recognizer.apps.get(*into)?)))
        else {
            continue;
        };
        let (app, entry) = entry;
        let Some(name) = recognizer.local_name(Owner::Application(app)) else {
            continue;
        };
        scratch.clear();
        scratch.extend(group.iter().flat_map(|(_, a)| rows_of(*a)));
        scratch.sort_unstable();
        scratch.dedup();
        let ids = EvidenceIds::from_slice(scratch);
        let last_used = ids
            .iter()
            .filter_map(|id| row(evidence, *id).and_then(|e| e.last_used))
            .max();
        let installation = Installation {
            device: Arc::clone(&device),
            application: name,
            last_used,
            evidence: ids,
            absorbed: group
                .iter()
                .filter(|(_, a)| *a != app)
                .filter_map(|(_, a)| recognizer.local_name(Owner::Application(*a)))
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
    unrecognized.sort_unstable();
    // The results of every device are kept: without spare room.
    result.installations.shrink_to_fit();
    result.ignored_applications.shrink_to_fit();
    result.unrecognized = unrecognized.as_slice().into();
    // Moved into a list of their exact length; the working list keeps its room.
    result.noise = Vec::with_capacity(noise.len());
    result.noise.append(noise);
    result.ignored = ignored.as_slice().into();
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
    // (product and version, best edition so far), few per device: searched in place.
    let mut best: Vec<(usize, usize)> = Vec::new();
    for app in &standing {
        let Some(entry) = apps.get(*app) else {
            continue;
        };
        if entry.edition_rank.is_none() {
            continue;
        }
        match best
            .iter_mut()
            .find(|(key, _)| *key == entry.product_version)
        {
            Some((_, b)) => {
                if apps
                    .get(*b)
                    .is_none_or(|b| entry.edition_rank > b.edition_rank)
                {
                    *b = *app;
                }
            }
            None => best.push((entry.product_version, *app)),
        }
    }
    if !best.is_empty() {
        for (_, into) in &mut home {
            if let Some(entry) = apps.get(*into)
                && entry.edition_rank.is_some()
                && let Some((_, winner)) =
                    best.iter().find(|(key, _)| *key == entry.product_version)
            {
                *into = *winner;
            }
        }
    }
    home
}

#[cfg(test)]
mod tests;
