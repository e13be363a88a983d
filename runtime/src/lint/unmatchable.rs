//! T0402 `unmatchable-rule`: a recognition rule that no row of inventory can ever make count:
//!
//! - its version range holds no version (`>= "17" < "16"`, or `> "16" <= "16"`);
//! - its `size` is not a whole number of bytes (`size 1024.0`), while the estate importer
//!   stores sizes as whole numbers;
//! - it tests a field every row has (an installer's name, a WMI class) with a pattern that
//!   matches only the empty text (`name ""`);
//! - every row it matches is matched by an `ignore` declaration too, so the row is noise and
//!   never recognises the application (the `ignore` rule's patterns take in all of the
//!   rule's: `like "Update for%"` takes in `like "Update for Visio%"`).

use std::sync::Arc;

use tally_compiler::SourceFile;
use tally_compiler::diagnostics::Diagnostic;
use tally_compiler::evidence::normalize_publisher;
use tally_compiler::ir::{
    EvidenceField, EvidenceKind, EvidenceRule, FieldTest, Pattern, VersionOp,
};
use tally_compiler::syntax::ast::{DeclKind, Field, Value};

use super::patterns::{Range, Tokens};
use super::{Context, codes};

pub(super) fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for file in cx.linted_files() {
        for decl in &file.decls {
            if !matches!(decl.kind, DeclKind::Application | DeclKind::Ignore) {
                continue;
            }
            for field in decl.fields.iter().filter(|f| f.key == "recognize") {
                let Value::Sub { word, value } = &field.value else {
                    continue;
                };
                let (Some(kind), Value::Block(block)) =
                    (EvidenceKind::from_name(&word.value), value.as_ref())
                else {
                    continue;
                };
                for test in block {
                    if let Some(d) = never_true(&file.source, kind, test) {
                        out.push(d);
                    }
                }
            }
        }
    }
    shadowed_by_ignores(cx, out);
}

/// A field test of a `recognize` block that no row satisfies.
fn never_true(source: &Arc<SourceFile>, kind: EvidenceKind, test: &Field) -> Option<Diagnostic> {
    let field = kind
        .fields()
        .iter()
        .find(|(name, _)| *name == test.key)
        .map(|(_, f)| *f)?;
    let (message, label, help) = match &test.value {
        Value::VersionRange(bounds) => {
            let range: Vec<(VersionOp, String)> = bounds
                .iter()
                .filter_map(|b| {
                    let op = VersionOp::NAMES
                        .iter()
                        .find(|(n, _)| *n == b.op.value)
                        .map(|(_, op)| *op)?;
                    Some((op, b.version.value.clone()))
                })
                .collect();
            if !Range(&range).is_empty() {
                return None;
            }
            let written = source
                .text
                .get(test.span.start..test.span.end)
                .unwrap_or_default();
            (
                format!("the version range `{written}` holds no version, so this rule never matches"),
                "no version lies in this range",
                "give the range a lower bound below its upper bound, such as `version >= \"16.0\" < \"17.0\"` (or `>= \"16\" <= \"16\"` for one version)".to_owned(),
            )
        }
        Value::Number(n) if field == EvidenceField::Size => {
            let text = n.value.to_string();
            if text.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (
                format!(
                    "`size {text}` is never a file's size: inventory gives sizes as whole numbers of bytes"
                ),
                "not a whole number",
                format!(
                    "write the size in whole bytes, such as `size {}`",
                    n.value.trunc().abs()
                ),
            )
        }
        Value::Pattern(p)
            if crate::estate::import::required_fields(kind).any(|f| f == field)
                && Tokens::of(&if p.like {
                    Pattern::Like(p.text.value.clone())
                } else {
                    Pattern::Exact(p.text.value.clone())
                })
                .matches_only_empty() =>
        {
            let written = source
                .text
                .get(test.span.start..test.span.end)
                .unwrap_or(test.key);
            (
                format!(
                    "`{written}` matches only an empty {}, and every `{}` row has one",
                    test.key,
                    kind.as_str()
                ),
                "matches only the empty text",
                format!(
                    "write the {} the evidence has, or `like \"…%\"` for a start of it",
                    test.key
                ),
            )
        }
        _ => return None,
    };
    Some(
        Diagnostic::error(codes::UNMATCHABLE_RULE, source, Some(test.span), message)
            .with_label(label)
            .with_help(help),
    )
}

/// A rule's tests with their patterns read once.
struct Read<'a> {
    rule: &'a EvidenceRule,
    tests: Vec<(EvidenceField, &'a FieldTest, Option<Tokens>)>,
    /// The lowercased literal start of its key pattern; `None` without a key pattern.
    key_start: Option<String>,
}

impl<'a> Read<'a> {
    fn new(rule: &'a EvidenceRule) -> Self {
        let tests: Vec<_> = rule
            .tests
            .iter()
            .map(|(f, t)| {
                let tokens = match t {
                    FieldTest::Pattern(p) => Some(Tokens::of(p)),
                    _ => None,
                };
                (*f, t, tokens)
            })
            .collect();
        let key = rule.kind.key_field();
        let key_start = tests
            .iter()
            .find(|(f, _, _)| *f == key)
            .and_then(|(_, _, t)| t.as_ref())
            .map(Tokens::literal_start);
        Self {
            rule,
            tests,
            key_start,
        }
    }

    fn tokens(&self, field: EvidenceField) -> Option<(&'a FieldTest, Option<&Tokens>)> {
        self.tests
            .iter()
            .find(|(f, _, _)| *f == field)
            .map(|(_, t, tokens)| (*t, tokens.as_ref()))
    }
}

/// Application rules whose every match is noise to an `ignore` declaration.
fn shadowed_by_ignores(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let pack = cx.pack();
    let publishers = |app: &str| -> Vec<&str> {
        pack.applications
            .get(app)
            .and_then(|a| pack.products.get(&a.product))
            .and_then(|p| pack.publishers.get(&p.publisher))
            .map(|p| {
                std::iter::once(p.name.as_str())
                    .chain(p.aliases.iter().map(String::as_str))
                    .collect()
            })
            .unwrap_or_default()
    };
    let noise: Vec<(&str, usize, Read<'_>)> = pack
        .ignores
        .values()
        .flat_map(|ignore| {
            ignore
                .rules
                .iter()
                .enumerate()
                .map(move |(at, rule)| (ignore.id.as_str(), at, Read::new(rule)))
        })
        .collect();
    for app in pack.applications.values() {
        for (index, rule) in app.rules.iter().enumerate() {
            if !cx.linted(&rule.file) {
                continue;
            }
            let read = Read::new(rule);
            let names = publishers(&app.id);
            let covering = noise
                .iter()
                .find(|(_, _, general)| covers(general, &read, &names));
            let Some((ignore, at, _)) = covering else {
                continue;
            };
            let site = cx.compiled.rule_sites.get(&(app.id.clone(), index));
            let ignore_site = cx.compiled.rule_sites.get(&((*ignore).to_owned(), *at));
            let (Some((source, span)), Some((ignore_source, ignore_span))) = (site, ignore_site)
            else {
                continue;
            };
            out.push(
                Diagnostic::error(
                    codes::UNMATCHABLE_RULE,
                    source,
                    Some(*span),
                    format!(
                        "every row this rule of `{}` matches is noise to `ignore {ignore}`, so it never recognises the application",
                        app.id
                    ),
                )
                .with_label("matched only by noise")
                .with_help(format!(
                    "narrow the rule of `ignore {ignore}` so it leaves this application's evidence alone, or remove this rule"
                ))
                .with_related(ignore_source, *ignore_span, "this `ignore` rule matches all of it"),
            );
        }
    }
}

/// Whether every row `rule` matches is matched by the `ignore` rule `noise` too. Only a
/// certain "yes": each field `noise` tests, `rule` tests with values `noise` takes in.
/// `publishers` are the spellings of the rule's product publisher.
fn covers(noise: &Read<'_>, rule: &Read<'_>, publishers: &[&str]) -> bool {
    if noise.rule.kind != rule.rule.kind {
        return false;
    }
    // The noise pattern's literal start must begin the rule's (a cheap first test).
    if let Some(start) = &noise.key_start
        && !start.is_empty()
        && !rule
            .key_start
            .as_ref()
            .is_some_and(|s| s.starts_with(start.as_str()))
    {
        return false;
    }
    noise.tests.iter().all(|(field, general, general_tokens)| {
        if general_tokens
            .as_ref()
            .is_some_and(Tokens::matches_everything)
        {
            return true;
        }
        let specific = rule.tokens(*field);
        if *field == EvidenceField::Publisher {
            return publisher_covered(general, specific.map(|(t, _)| t), rule.rule, publishers);
        }
        match (general, specific) {
            (FieldTest::Pattern(_), Some((FieldTest::Pattern(_), Some(s)))) => {
                general_tokens.as_ref().is_some_and(|g| g.covers(s))
            }
            (FieldTest::Range(g), Some((FieldTest::Range(s), _))) => Range(g).covers(&Range(s)),
            (FieldTest::Set, Some((FieldTest::Set, _))) => true,
            _ => false,
        }
    })
}

/// Whether every publisher `rule` accepts passes the `ignore` rule's publisher test. An exact
/// publisher is compared after normalisation, as the matcher compares it.
fn publisher_covered(
    general: &FieldTest,
    specific: Option<&FieldTest>,
    rule: &EvidenceRule,
    publishers: &[&str],
) -> bool {
    if rule.empty_publisher {
        return false;
    }
    match (general, specific) {
        (FieldTest::Pattern(Pattern::Exact(g)), Some(FieldTest::Pattern(Pattern::Exact(s)))) => {
            normalize_publisher(g) == normalize_publisher(s)
        }
        (FieldTest::Pattern(Pattern::Exact(g)), None) if rule.publisher_of_product => {
            let g = normalize_publisher(g);
            !publishers.is_empty() && publishers.iter().all(|p| normalize_publisher(p) == g)
        }
        (FieldTest::Pattern(Pattern::Like(g)), Some(FieldTest::Pattern(Pattern::Like(s)))) => {
            Tokens::like(g).covers(&Tokens::like(s))
        }
        _ => false,
    }
}
