//! T0401 `overlapping-recognition`: rules of two applications that can both match one piece of
//! evidence, which would then count as two installations.
//!
//! For each rule of a linted file, the rules of other applications that could meet it (by the
//! literal start of their key pattern) are tested field by field: two patterns meet when some
//! text matches both (found exactly, as a path through both patterns), two version ranges when
//! a version lies in both, a publisher when one spelling satisfies both rules' publisher tests.
//! The example row built from those texts is then run through the recognizer itself, and the
//! pair is reported only when that row is recognised as both applications — so a row that an
//! `ignore` declaration makes noise is no finding. Rules with `existence ignore` recognise
//! nothing and are left out, as are pairs that recognition resolves: a suite and its member,
//! or two ranked editions of one product and version.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tally_compiler::diagnostics::{Diagnostic, SourceFile, Span};
use tally_compiler::evidence::normalize_publisher;
use tally_compiler::ir::{
    Application, CompiledPack, EvidenceField, EvidenceKind, EvidenceRule, Existence, FieldTest,
    Pattern,
};

use super::patterns::{Range, Tokens};
use super::{Context, codes};
use crate::estate::Evidence;
use crate::recognize::{Recognizer, RowOutcome};

/// One application rule.
struct RuleAt<'a> {
    app: &'a Application,
    index: usize,
    rule: &'a EvidenceRule,
    /// The lowercased literal start of its key-field pattern; `None` without a key test.
    prefix: Option<String>,
    /// The spellings of the product's publisher, when the rule names no publisher.
    publishers: Vec<&'a str>,
}

pub(super) fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    each_overlap(
        cx.pack(),
        cx.recognizer,
        &|rule| cx.linted(&rule.rule.file),
        &mut |rule, other, example| {
            if let Some(d) = finding(cx, rule, other, example) {
                out.push(d);
            }
        },
    );
}

/// The other applications one of whose rules can match a row that one of `application`'s rules
/// matches, confirmed as the lint confirms them: what the language server shows when hovering
/// over an application. Only that application's rules are searched from.
pub fn overlapping_applications(
    pack: &CompiledPack,
    recognizer: &Recognizer,
    application: &str,
) -> BTreeSet<String> {
    let mut others = BTreeSet::new();
    each_overlap(
        pack,
        recognizer,
        &|rule| rule.app.id == application,
        &mut |_, other, _| {
            others.insert(other.app.id.clone());
        },
    );
    others
}

/// A row both rules of a pair match: the fields it fills.
type Example = [(EvidenceField, String)];

/// Calls `found` with each pair of rules of two applications that can match one row, once per
/// pair, for the rules `include` takes (and any rule they meet), with the example row.
fn each_overlap(
    pack: &CompiledPack,
    recognizer: &Recognizer,
    include: &dyn Fn(&RuleAt<'_>) -> bool,
    found: &mut dyn FnMut(&RuleAt<'_>, &RuleAt<'_>, &Example),
) {
    let rules = application_rules(pack);
    let index = Index::new(&rules);
    let mut seen: BTreeSet<(usize, usize)> = BTreeSet::new();
    for (a, rule) in rules.iter().enumerate() {
        if !include(rule) {
            continue;
        }
        for b in index.candidates(a, rule) {
            let Some(other) = rules.get(b) else { continue };
            if !starts_meet(rule.prefix.as_deref(), other.prefix.as_deref())
                || other.app.id == rule.app.id
                || resolved_together(pack, rule.app, other.app)
                || !seen.insert((a.min(b), a.max(b)))
            {
                continue;
            }
            let Some(example) = example(rule, other) else {
                continue;
            };
            let evidence = Evidence::from_fields(
                rule.rule.kind,
                example.iter().map(|(f, v)| (*f, v.as_str())),
            );
            let both = match recognizer.classify(&evidence) {
                RowOutcome::Applications(apps) => {
                    apps.contains(&rule.app.id) && apps.contains(&other.app.id)
                }
                RowOutcome::Noise { .. } => false,
            };
            if both {
                found(rule, other, &example);
            }
        }
    }
}

/// Every rule of every application that can recognise it.
fn application_rules(pack: &CompiledPack) -> Vec<RuleAt<'_>> {
    let mut out = Vec::new();
    for app in pack.applications.values() {
        let publishers: Vec<&str> = pack
            .products
            .get(&app.product)
            .and_then(|p| pack.publishers.get(&p.publisher))
            .map(|p| {
                std::iter::once(p.name.as_str())
                    .chain(p.aliases.iter().map(String::as_str))
                    .collect()
            })
            .unwrap_or_default();
        for (index, rule) in app.rules.iter().enumerate() {
            if rule.existence == Existence::Ignore {
                continue;
            }
            let key = rule.kind.key_field();
            let prefix = rule.tests.iter().find_map(|(f, t)| match t {
                FieldTest::Pattern(p) if *f == key => Some(Tokens::of(p).literal_start()),
                _ => None,
            });
            out.push(RuleAt {
                app,
                index,
                rule,
                prefix,
                publishers: if rule.publisher_of_product {
                    publishers.clone()
                } else {
                    Vec::new()
                },
            });
        }
    }
    out
}

/// The rules of each evidence kind by the publishers they accept and the literal start of
/// their key pattern, so that a rule is tested only against rules that accept one of its
/// publishers (or any) and whose key could match the same text: two literal starts meet only
/// when one begins the other.
struct Index {
    /// By kind and normalised publisher (`None`: rules accepting any publisher, or publishers
    /// matched by a pattern).
    groups: BTreeMap<(EvidenceKind, Option<String>), Group>,
    /// The publishers each rule accepts, when they are a known set.
    publishers: Vec<Option<BTreeSet<String>>>,
}

/// The rules of one kind and publisher.
#[derive(Default)]
struct Group {
    /// Rules with a key test, by its literal start (possibly empty), sorted.
    keyed: Vec<(String, usize)>,
    /// Rules without a key test, which meet any key.
    unkeyed: Vec<usize>,
}

impl Group {
    /// Adds the rules whose key could match a text that a key starting with `prefix` (any
    /// key, for `None`) matches.
    fn query(&self, prefix: Option<&str>, out: &mut Vec<usize>) {
        out.extend(&self.unkeyed);
        let Some(prefix) = prefix else {
            out.extend(self.keyed.iter().map(|(_, id)| *id));
            return;
        };
        // Starts that begin this one, the empty start included.
        let ends = prefix
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(prefix.len()));
        for end in ends {
            let start = prefix.get(..end).unwrap_or_default();
            let from = self.keyed.partition_point(|(p, _)| p.as_str() < start);
            out.extend(
                self.keyed
                    .iter()
                    .skip(from)
                    .take_while(|(p, _)| p == start)
                    .map(|(_, id)| *id),
            );
        }
        // Longer starts that this one begins.
        let from = self.keyed.partition_point(|(p, _)| p.as_str() <= prefix);
        out.extend(
            self.keyed
                .iter()
                .skip(from)
                .take_while(|(p, _)| p.starts_with(prefix))
                .map(|(_, id)| *id),
        );
    }
}

impl Index {
    fn new(rules: &[RuleAt<'_>]) -> Self {
        let mut groups: BTreeMap<(EvidenceKind, Option<String>), Group> = BTreeMap::new();
        let mut publishers = Vec::new();
        for (id, rule) in rules.iter().enumerate() {
            let kind = rule.rule.kind;
            let set = accepted_publishers(rule);
            let keys: Vec<Option<String>> = match &set {
                Some(names) => names.iter().cloned().map(Some).collect(),
                None => vec![None],
            };
            for key in keys {
                let group = groups.entry((kind, key)).or_default();
                match &rule.prefix {
                    Some(prefix) => group.keyed.push((prefix.clone(), id)),
                    None => group.unkeyed.push(id),
                }
            }
            publishers.push(set);
        }
        for group in groups.values_mut() {
            group.keyed.sort();
        }
        Self { groups, publishers }
    }

    /// The rules that could match a row rule `id` matches, ascending.
    fn candidates(&self, id: usize, rule: &RuleAt<'_>) -> Vec<usize> {
        let kind = rule.rule.kind;
        let prefix = rule.prefix.as_deref();
        let mut out = Vec::new();
        match self.publishers.get(id).and_then(Option::as_ref) {
            // Any publisher: every group of the kind.
            None => {
                for ((_, _), group) in self
                    .groups
                    .range((kind, None)..)
                    .take_while(|((k, _), _)| *k == kind)
                {
                    group.query(prefix, &mut out);
                }
            }
            Some(names) => {
                for key in names.iter().cloned().map(Some).chain(std::iter::once(None)) {
                    if let Some(group) = self.groups.get(&(kind, key)) {
                        group.query(prefix, &mut out);
                    }
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Whether two literal starts of key patterns can begin the same text.
fn starts_meet(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.starts_with(b) || b.starts_with(a),
        _ => true,
    }
}

/// The normalised publishers a rule accepts, when they are a known set: the product
/// publisher's names, or an exact `publisher`; with `empty_publisher`, also "".
fn accepted_publishers(rule: &RuleAt<'_>) -> Option<BTreeSet<String>> {
    let mut names: BTreeSet<String> = if rule.rule.publisher_of_product {
        rule.publishers
            .iter()
            .map(|p| normalize_publisher(p))
            .collect()
    } else {
        match publisher_test(rule)? {
            Pattern::Exact(p) => std::iter::once(normalize_publisher(p)).collect(),
            Pattern::Like(_) => return None,
        }
    };
    if rule.rule.empty_publisher {
        names.insert(String::new());
    }
    Some(names)
}

/// Whether recognising both applications on one device leaves one installation: one is a
/// suite member of the other, or they are two ranked editions of one product and version.
fn resolved_together(pack: &CompiledPack, a: &Application, b: &Application) -> bool {
    if a.members.contains(&b.id) || b.members.contains(&a.id) {
        return true;
    }
    let rank = |app: &Application| {
        let product = pack.products.get(&app.product)?;
        product.edition_rank(app.edition.as_deref()?)
    };
    a.product == b.product
        && a.version == b.version
        && matches!((rank(a), rank(b)), (Some(x), Some(y)) if x != y)
}

/// The fields of a row both rules match, if one is found: each field either rule tests, with
/// a value that satisfies both (and any value in the fields the evidence must have).
fn example(a: &RuleAt<'_>, b: &RuleAt<'_>) -> Option<Vec<(EvidenceField, String)>> {
    let kind = a.rule.kind;
    let mut fields: BTreeSet<EvidenceField> = a
        .rule
        .tests
        .iter()
        .chain(&b.rule.tests)
        .map(|(f, _)| *f)
        .collect();
    fields.remove(&EvidenceField::Publisher);
    let mut out = Vec::new();
    for field in fields {
        let value = meet(field, test_of(a, field), test_of(b, field))?;
        out.push((field, value));
    }
    for field in crate::estate::import::required_fields(kind) {
        if !out.iter().any(|(f, v)| *f == field && !v.is_empty()) {
            out.retain(|(f, _)| *f != field);
            out.push((field, "x".to_owned()));
        }
    }
    if let Some(publisher) = publisher(a, b)? {
        out.push((EvidenceField::Publisher, publisher));
    }
    out.sort();
    Some(out)
}

/// The rule's test of a field.
fn test_of<'r>(rule: &RuleAt<'r>, field: EvidenceField) -> Option<&'r FieldTest> {
    rule.rule
        .tests
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, t)| t)
}

/// The rule's publisher pattern.
fn publisher_test<'r>(rule: &RuleAt<'r>) -> Option<&'r Pattern> {
    rule.rule.tests.iter().find_map(|(f, t)| match t {
        FieldTest::Pattern(p) if *f == EvidenceField::Publisher => Some(p),
        _ => None,
    })
}

/// A value of `field` both tests accept (`None` being no test: anything).
fn meet(field: EvidenceField, a: Option<&FieldTest>, b: Option<&FieldTest>) -> Option<String> {
    match (a, b) {
        (None, None) => Some(String::new()),
        (Some(FieldTest::Set), other) | (other, Some(FieldTest::Set)) => {
            let ok = match other {
                None | Some(FieldTest::Set) => true,
                Some(FieldTest::Pattern(p)) => Tokens::of(p).matches("true"),
                Some(FieldTest::Range(_)) => false,
            };
            ok.then(|| "true".to_owned())
        }
        (Some(FieldTest::Pattern(p)), None) | (None, Some(FieldTest::Pattern(p))) => {
            // The wildcards as little as they can be; a version's filled with `0` (`16.0`
            // rather than `16.`).
            let samples = Tokens::of(p).samples();
            let at = usize::from(field == EvidenceField::Version);
            samples.get(at).or(samples.first()).cloned()
        }
        (Some(FieldTest::Range(r)), None) | (None, Some(FieldTest::Range(r))) => {
            Range(r).example_with(&Range(&[]))
        }
        (Some(FieldTest::Pattern(p)), Some(FieldTest::Pattern(q))) => {
            let (p, q) = (Tokens::of(p), Tokens::of(q));
            // A version as versions are written (`16.0`), when one fits both.
            let written = (field == EvidenceField::Version)
                .then(|| {
                    let samples = |t: &Tokens| t.samples().into_iter().skip(1);
                    samples(&p)
                        .chain(samples(&q))
                        .find(|v| p.matches(v) && q.matches(v))
                })
                .flatten();
            written.or_else(|| p.overlap_with(&q))
        }
        (Some(FieldTest::Range(r)), Some(FieldTest::Range(s))) => Range(r).example_with(&Range(s)),
        (Some(FieldTest::Pattern(p)), Some(FieldTest::Range(r)))
        | (Some(FieldTest::Range(r)), Some(FieldTest::Pattern(p))) => {
            let (tokens, range) = (Tokens::of(p), Range(r));
            range
                .samples()
                .into_iter()
                .chain(tokens.samples())
                .find(|v| tokens.matches(v) && range.contains(v))
        }
    }
}

/// A publisher both rules accept: `Some(None)` when neither tests one, `None` when none of
/// the spellings the rules name satisfies both.
fn publisher(a: &RuleAt<'_>, b: &RuleAt<'_>) -> Option<Option<String>> {
    let test = publisher_test;
    let constrained = |rule: &RuleAt<'_>| rule.rule.publisher_of_product || test(rule).is_some();
    if !constrained(a) && !constrained(b) {
        return Some(None);
    }
    let accepts = |rule: &RuleAt<'_>, value: &str| {
        let empty = value.trim().is_empty();
        if rule.rule.empty_publisher && empty {
            return true;
        }
        if rule.rule.publisher_of_product {
            let normal = normalize_publisher(value);
            return rule
                .publishers
                .iter()
                .any(|p| normalize_publisher(p) == normal);
        }
        match test(rule) {
            None => true,
            Some(Pattern::Exact(p)) => {
                normalize_publisher(&value.trim().to_lowercase()) == normalize_publisher(p)
            }
            Some(Pattern::Like(p)) => Tokens::like(p).matches(value),
        }
    };
    let mut candidates: Vec<String> = vec![String::new()];
    for rule in [a, b] {
        candidates.extend(rule.publishers.iter().map(|p| (*p).to_owned()));
        match test(rule) {
            Some(Pattern::Exact(p)) => candidates.push(p.clone()),
            Some(Pattern::Like(p)) => candidates.extend(Tokens::like(p).samples()),
            None => {}
        }
    }
    if let (Some(p), Some(q)) = (test(a), test(b)) {
        candidates.extend(Tokens::of(p).example_with(&Tokens::of(q)));
    }
    candidates
        .into_iter()
        .find(|c| accepts(a, c) && accepts(b, c))
        .map(Some)
}

fn finding(
    cx: &Context<'_>,
    a: &RuleAt<'_>,
    b: &RuleAt<'_>,
    example: &[(EvidenceField, String)],
) -> Option<Diagnostic> {
    let site = |r: &RuleAt<'_>| {
        cx.compiled
            .rule_sites
            .get(&(r.app.id.clone(), r.index))
            .cloned()
    };
    let (site_a, site_b) = (site(a)?, site(b)?);
    // The finding points at the rule written first among the linted ones.
    let place = |(source, span): &(Arc<SourceFile>, Span)| {
        (!cx.linted(&source.path), source.path.clone(), span.start)
    };
    let ((a, (source, span)), (b, (other_source, other_span))) = if place(&site_b) < place(&site_a)
    {
        ((b, site_b), (a, site_a))
    } else {
        ((a, site_a), (b, site_b))
    };
    let kind = a.rule.kind;
    let shown: Vec<String> = example
        .iter()
        .filter(|(f, v)| !v.is_empty() && (tested(a, *f) || tested(b, *f)))
        .map(|(f, v)| {
            let name = kind
                .fields()
                .iter()
                .find(|(_, x)| x == f)
                .map_or("field", |(n, _)| *n);
            format!("{name} `{v}`")
        })
        .collect();
    Some(
        Diagnostic::error(
            codes::OVERLAPPING_RECOGNITION,
            &source,
            Some(span),
            format!(
                "rules of `{}` and `{}` both match {} evidence such as {}",
                a.app.id,
                b.app.id,
                kind.as_str(),
                shown.join(", ")
            ),
        )
        .with_label(format!("rule of `{}`", a.app.id))
        .with_help(
            "narrow one rule so the two cannot meet (add a version or publisher, drop a `%`), make one application a `members` entry of the other, or give both one product and version with ranked editions",
        )
        .with_related(&other_source, other_span, format!("rule of `{}`", b.app.id)),
    )
}

/// Whether a rule tests a field (the publisher counts when it names the product's).
fn tested(rule: &RuleAt<'_>, field: EvidenceField) -> bool {
    rule.rule.tests.iter().any(|(f, _)| *f == field)
        || field == EvidenceField::Publisher && rule.rule.publisher_of_product
}
