//! Name resolution, checks and lowering: turns the syntax trees of all loaded rule files into
//! one [`CompiledPack`], reporting unknown and duplicate names, references to the wrong kind of
//! declaration, duplicate and missing fields, and other mistakes as diagnostics.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

mod layering;
mod recognition;
mod types;

use crate::diagnostics::{self, Code, Diagnostic, SourceFile, Span, codes};
use crate::ir::{
    Classification, CompiledPack, CoverTarget, Coverage, CoveredVia, Duration, Expect, Given,
    Product, Publisher, Rights, RightsKind, Role, Sku, TestCase,
};
use crate::syntax::ast::{Decl, DeclKind, ExpectAst, Field, Spanned, TargetAst, Value};
use crate::syntax::schema::{self, FieldSpec, Shape};
use crate::syntax::{ParsedFile, is_rule_file};

pub use types::{Record, Ty, holder_record};

/// The result of compiling a set of rule files.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Compiled {
    pub pack: CompiledPack,
    /// Syntax errors from parsing plus everything the checker found, sorted.
    pub diagnostics: Vec<Diagnostic>,
    /// Where each recognition rule was written, by owner (application or `ignore`) and position
    /// among the owner's rules. Kept out of the pack, so moving text changes no compiled value.
    pub rule_sites: BTreeMap<(String, usize), (Arc<SourceFile>, Span)>,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Compiles parsed rule files into one pack. Files are taken in the order given; give them
/// sorted by path for deterministic output.
pub fn compile(files: &[&ParsedFile]) -> Compiled {
    let mut checker = Checker {
        files,
        diagnostics: Vec::new(),
        index: BTreeMap::new(),
        overridden: BTreeMap::new(),
        extends: Vec::new(),
        rule_sites: BTreeMap::new(),
        scripts: files
            .iter()
            .filter(|f| !is_rule_file(&f.source.path))
            .map(|f| (f.source.path.as_str(), Arc::clone(&f.source)))
            .collect(),
    };
    for file in files {
        checker.diagnostics.extend(file.diagnostics.iter().cloned());
    }
    checker.build_index();
    let mut pack = CompiledPack::default();
    for file in files {
        for decl in &file.decls {
            if !checker.in_force(decl) {
                continue;
            }
            if decl.complete {
                checker.check_fields(
                    &file.source,
                    None,
                    decl,
                    schema::fields(decl.kind),
                    &decl.fields,
                );
            }
            checker.lower(&file.source, decl, &mut pack);
        }
    }
    checker.lower_extensions(&mut pack);
    checker.check_applications(&pack);
    checker.skip_overridden_tests(&mut pack);
    let mut diagnostics = checker.diagnostics;
    diagnostics::sort(&mut diagnostics);
    Compiled {
        pack,
        diagnostics,
        rule_sites: checker.rule_sites,
    }
}

/// A covered name as written: target, optional edition, role.
type Member<'d> = (&'d Spanned<String>, Option<&'d Spanned<String>>, Role);

/// Where a declaration was written.
#[derive(Debug, Clone, Copy)]
struct Site<'a> {
    source: &'a Arc<SourceFile>,
    decl: &'a Decl,
}

struct Checker<'a> {
    files: &'a [&'a ParsedFile],
    diagnostics: Vec<Diagnostic>,
    /// Each kind's declarations in force by name: the first plain declaration of a name, or
    /// the `override` that replaces it.
    index: BTreeMap<DeclKind, BTreeMap<&'a str, Site<'a>>>,
    /// The declarations an `override` replaced, by kind and name.
    overridden: BTreeMap<(DeclKind, &'a str), Site<'a>>,
    /// The `extend` declarations that apply to a declaration in force, in file order.
    extends: Vec<Site<'a>>,
    rule_sites: BTreeMap<(String, usize), (Arc<SourceFile>, Span)>,
    /// Pack files that are not rule files (rhai scripts), by path.
    scripts: BTreeMap<&'a str, Arc<SourceFile>>,
}

impl<'a> Checker<'a> {
    /// Indexes every plain declaration, then applies `override`s and collects `extend`s.
    fn build_index(&mut self) {
        for file in self.files {
            for decl in &file.decls {
                if decl.modifier.is_some() {
                    continue;
                }
                let name = decl.name.value.as_str();
                let first = decl
                    .kind
                    .namespace()
                    .iter()
                    .find_map(|k| self.index.get(k).and_then(|names| names.get(name)));
                if let Some(first) = first {
                    let (line, col) = first.source.line_col(first.decl.name.span.start);
                    let kind = decl.kind.keyword();
                    let message = if first.decl.kind == decl.kind {
                        format!("{kind} `{name}` is declared twice")
                    } else {
                        format!(
                            "{kind} `{name}` has the same name as {} `{name}`",
                            first.decl.kind.keyword()
                        )
                    };
                    self.diagnostics.push(
                        Diagnostic::error(
                            codes::DUPLICATE_DECLARATION,
                            &file.source,
                            Some(decl.name.span),
                            message,
                        )
                        .with_label("second declaration")
                        .with_help(if first.decl.kind == decl.kind {
                            let layering = if decl.kind == DeclKind::Test {
                                "give one of them another name".to_string()
                            } else if schema::extendable(decl.kind).is_empty() {
                                format!("rename one of them, or write `override {kind} {name}` to replace it")
                            } else {
                                format!("rename one of them, or write `extend {kind} {name}` to add to it or `override {kind} {name}` to replace it")
                            };
                            format!(
                                "the first is at {}:{line}:{col}; {layering}",
                                first.source.path
                            )
                        } else {
                            format!(
                                "a reference to `{name}` could mean either (the first is at {}:{line}:{col}); rename one of them",
                                first.source.path
                            )
                        })
                        .with_related(first.source, first.decl.name.span, "first declared here"),
                    );
                } else {
                    self.index.entry(decl.kind).or_default().insert(
                        name,
                        Site {
                            source: &file.source,
                            decl,
                        },
                    );
                }
            }
        }
        self.apply_modifiers();
    }

    fn push(
        &mut self,
        code: Code,
        source: &Arc<SourceFile>,
        span: Span,
        message: String,
        label: &str,
        help: String,
    ) {
        // A "did you mean" help names the replacement, which editors offer as a quick fix.
        let suggestion = help
            .strip_prefix("did you mean `")
            .and_then(|rest| rest.strip_suffix("`?"))
            .map(str::to_string);
        let mut diagnostic = Diagnostic::error(code, source, Some(span), message)
            .with_label(label)
            .with_help(help);
        diagnostic.suggestion = suggestion;
        self.diagnostics.push(diagnostic);
    }

    /// Reports fields given twice that may appear once, and required fields that are missing,
    /// in a block and in the blocks nested in it. `nested` names a nested block in messages
    /// (its field and word, `recognize installer`); none for the declaration's own.
    fn check_fields(
        &mut self,
        source: &Arc<SourceFile>,
        nested: Option<(&str, &str)>,
        decl: &Decl,
        spec: &'static [FieldSpec],
        fields: &[Field],
    ) {
        let kind = decl.kind.keyword();
        // Made only for a message: most blocks need none.
        let what = || match nested {
            Some((key, word)) => format!("{key} {word}"),
            None => kind.to_string(),
        };
        // Only messages name the block: made when one is needed.
        let block = || {
            if nested.is_none() {
                format!("{kind} `{}`", decl.name.value)
            } else {
                format!("a `{}` block of {kind} `{}`", what(), decl.name.value)
            }
        };
        for field_spec in spec {
            if field_spec.repeatable && !field_spec.required {
                // Nothing to check: not worth a pass over the fields.
                continue;
            }
            let key = field_spec.key;
            let mut found = fields.iter().filter(|f| f.key == key);
            let (first, second) = (found.next(), found.next());
            if !field_spec.repeatable
                && let Some(second) = second
            {
                let block = block();
                self.push(
                    codes::DUPLICATE_FIELD,
                    source,
                    second.span,
                    format!("`{key}` is given twice in {block}"),
                    "second one",
                    format!(
                        "a `{}` block takes one `{key}`; keep the one you mean",
                        what()
                    ),
                );
            }
            if field_spec.required && first.is_none() {
                let block = block();
                let span = if nested.is_none() {
                    decl.name.span
                } else {
                    fields.first().map_or(decl.name.span, |f| f.span)
                };
                self.push(
                    codes::MISSING_FIELD,
                    source,
                    span,
                    format!("{block} has no `{key}`"),
                    &format!("needs `{key}`"),
                    format!("add `{key}`: {}; see docs/language.md", field_spec.doc),
                );
            }
        }
        for field in fields {
            if let Value::Sub { word, value } = &field.value
                && let Value::Block(inner) = value.as_ref()
                && let Some(FieldSpec {
                    shape: Shape::Sub(options),
                    ..
                }) = schema::find(spec, field.key)
                && let Some((_, Shape::Block(inner_spec))) =
                    options.iter().find(|(o, _)| *o == word.value)
            {
                let nested = Some((field.key, word.value.as_str()));
                self.check_fields(source, nested, decl, inner_spec, inner);
            }
        }
    }

    /// Resolves a reference to one of the `expected` kinds, reporting unknown names and names of
    /// the wrong kind. Returns the kind found.
    fn resolve(
        &mut self,
        source: &Arc<SourceFile>,
        name: &Spanned<String>,
        expected: &[DeclKind],
    ) -> Option<DeclKind> {
        if let Some(kind) = expected
            .iter()
            .find(|k| self.lookup(**k, &name.value).is_some())
        {
            return Some(*kind);
        }
        let wanted = describe_kinds(expected);
        let other = self
            .index
            .iter()
            .find(|(_, names)| names.contains_key(name.value.as_str()))
            .map(|(k, _)| *k);
        if let Some(other) = other {
            self.push(
                codes::WRONG_KIND,
                source,
                name.span,
                format!(
                    "`{}` is {}, not {}",
                    name.value,
                    with_article(other.keyword()),
                    with_article(&wanted)
                ),
                &format!("expected {}", with_article(&wanted)),
                format!("name {} here", with_article(&wanted)),
            );
            return None;
        }
        let candidates: Vec<&str> = expected
            .iter()
            .flat_map(|k| {
                self.index
                    .get(k)
                    .into_iter()
                    .flat_map(|n| n.keys().copied())
            })
            .collect();
        let help = match diagnostics::closest(&name.value, candidates) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!(
                "declare {} named `{}`, or check the spelling",
                with_article(&wanted),
                name.value
            ),
        };
        self.push(
            codes::UNKNOWN_NAME,
            source,
            name.span,
            format!("unknown {wanted} `{}`", name.value),
            "not declared in any loaded pack",
            help,
        );
        None
    }

    fn lookup(&self, kind: DeclKind, name: &str) -> Option<Site<'a>> {
        self.index.get(&kind).and_then(|n| n.get(name)).copied()
    }

    /// Checks a word against a closed set.
    fn word<T: Copy>(
        &mut self,
        source: &Arc<SourceFile>,
        word: &Spanned<String>,
        what: &str,
        options: &[(&str, T)],
    ) -> Option<T> {
        if let Some((_, v)) = options.iter().find(|(w, _)| *w == word.value) {
            return Some(*v);
        }
        let list: Vec<String> = options.iter().map(|(w, _)| format!("`{w}`")).collect();
        self.push(
            codes::UNKNOWN_WORD,
            source,
            word.span,
            format!("unknown {what} `{}`", word.value),
            &format!("expected a {what}"),
            format!("write one of {}", list.join(", ")),
        );
        None
    }

    /// Checks that an edition is declared by the product, when the product declares editions.
    fn check_edition(
        &mut self,
        source: &Arc<SourceFile>,
        product: &str,
        edition: &Spanned<String>,
    ) {
        let Some(site) = self.lookup(DeclKind::Product, product) else {
            return;
        };
        let editions: Vec<String> = str_list(site.decl, "editions")
            .into_iter()
            .map(|s| s.value.clone())
            .collect();
        if editions.is_empty()
            || editions
                .iter()
                .any(|e| e.eq_ignore_ascii_case(&edition.value))
        {
            return;
        }
        let listed: Vec<String> = editions.iter().map(|e| format!("`{e}`")).collect();
        self.push(
            codes::UNKNOWN_EDITION,
            source,
            edition.span,
            format!("product `{product}` has no edition `{}`", edition.value),
            "not one of the product's editions",
            format!(
                "use one of {}, or add it to the product's `editions`",
                listed.join(", ")
            ),
        );
    }

    fn lower(&mut self, source: &Arc<SourceFile>, decl: &Decl, pack: &mut CompiledPack) {
        let id = decl.name.value.clone();
        match decl.kind {
            DeclKind::Publisher => {
                let name = first_str(decl, "name")
                    .map(|s| s.value.clone())
                    .unwrap_or_default();
                let aliases = str_list(decl, "aliases")
                    .into_iter()
                    .map(|s| s.value.clone())
                    .collect();
                pack.publishers
                    .entry(id.clone())
                    .or_insert(Publisher { id, name, aliases });
            }
            DeclKind::Product => {
                let publisher = first_ref(decl, "publisher")
                    .filter(|r| self.resolve(source, r, &[DeclKind::Publisher]).is_some())
                    .map(|r| r.value.clone())
                    .unwrap_or_default();
                let classification = match first_word(decl, "classification") {
                    Some(w) => self
                        .word(source, w, "classification", Classification::NAMES)
                        .unwrap_or(Classification::Commercial),
                    None => Classification::Commercial,
                };
                let product = Product {
                    id: id.clone(),
                    name: first_str(decl, "name")
                        .map(|s| s.value.clone())
                        .unwrap_or_default(),
                    publisher,
                    classification,
                    editions: str_list(decl, "editions")
                        .into_iter()
                        .map(|s| s.value.clone())
                        .collect(),
                    versions: str_list(decl, "versions")
                        .into_iter()
                        .map(|s| s.value.clone())
                        .collect(),
                };
                pack.products.entry(id).or_insert(product);
            }
            DeclKind::Application => self.lower_application(source, decl, pack),
            DeclKind::Rights | DeclKind::Bundle => self.lower_rights(source, decl, pack),
            DeclKind::Metric => {
                if let Some(metric) = self.lower_metric(source, decl) {
                    pack.metrics.entry(id).or_insert(metric);
                }
            }
            DeclKind::Table => {
                if let Some(table) = self.lower_table(source, decl) {
                    pack.tables.entry(id).or_insert(table);
                }
            }
            DeclKind::Sku => {
                let metric = first_ref(decl, "metric")
                    .filter(|r| self.resolve(source, r, &[DeclKind::Metric]).is_some());
                let rights = first_ref(decl, "rights").filter(|r| {
                    self.resolve(source, r, &[DeclKind::Rights, DeclKind::Bundle])
                        .is_some()
                });
                let duration = match first_word(decl, "duration") {
                    Some(w) => self.word(
                        source,
                        w,
                        "duration",
                        &[
                            ("perpetual", Duration::Perpetual),
                            ("subscription", Duration::Subscription),
                        ],
                    ),
                    None => Some(Duration::Perpetual),
                };
                if let (Some(metric), Some(rights), Some(duration)) = (metric, rights, duration) {
                    let sku = Sku {
                        id: id.clone(),
                        license_name: first_str(decl, "license")
                            .map(|s| s.value.clone())
                            .unwrap_or_default(),
                        metric: metric.value.clone(),
                        rights: rights.value.clone(),
                        duration,
                    };
                    pack.skus.entry(id).or_insert(sku);
                }
            }
            DeclKind::Test => self.lower_test(source, decl, pack),
            DeclKind::Ignore => self.lower_ignore(source, decl, pack),
        }
    }

    fn lower_rights(&mut self, source: &Arc<SourceFile>, decl: &Decl, pack: &mut CompiledPack) {
        let downgrade = decl.fields.iter().any(|f| f.key == "downgrade");
        let upgrade = decl.fields.iter().any(|f| f.key == "upgrade");
        let mut members = Vec::new();
        let mut seen = BTreeSet::new();
        let covered_kinds = [DeclKind::Application, DeclKind::Product];
        let mut targets: Vec<Member<'_>> = Vec::new();
        for field in &decl.fields {
            match (&field.value, field.key) {
                (Value::Covers { target, edition }, _) => {
                    targets.push((target, edition.as_ref(), Role::Primary))
                }
                (Value::RefList(list), "primary") => {
                    targets.extend(list.iter().map(|t| (t, None, Role::Primary)))
                }
                (Value::RefList(list), _) => {
                    targets.extend(list.iter().map(|t| (t, None, Role::Supplementary)))
                }
                _ => {}
            }
        }
        for (target, edition, role) in targets {
            let Some(kind) = self.resolve(source, target, &covered_kinds) else {
                continue;
            };
            if !seen.insert(target.value.clone()) {
                self.push(
                    codes::INVALID_BUNDLE,
                    source,
                    target.span,
                    format!(
                        "`{}` is listed twice in {} `{}`",
                        target.value,
                        decl.kind.keyword(),
                        decl.name.value
                    ),
                    "listed again",
                    "list each product or application once".to_string(),
                );
                continue;
            }
            let target = match kind {
                DeclKind::Product => {
                    if let Some(edition) = edition {
                        self.check_edition(source, &target.value, edition);
                    }
                    CoverTarget::Product(target.value.clone())
                }
                _ => {
                    if let Some(edition) = edition {
                        self.push(
                            codes::WRONG_KIND,
                            source,
                            edition.span,
                            format!("`edition` cannot narrow application `{}`", target.value),
                            "an application already has one edition",
                            "cover the product with `edition`, or cover the application alone"
                                .to_string(),
                        );
                    }
                    CoverTarget::Application(target.value.clone())
                }
            };
            members.push(Coverage {
                target,
                edition: edition.map(|e| e.value.clone()),
                role,
                downgrade,
                upgrade,
            });
        }
        let kind = if decl.kind == DeclKind::Bundle {
            RightsKind::Bundle
        } else {
            RightsKind::Rights
        };
        pack.rights
            .entry(decl.name.value.clone())
            .or_insert(Rights {
                id: decl.name.value.clone(),
                kind,
                members,
            });
    }

    fn lower_test(&mut self, source: &Arc<SourceFile>, decl: &Decl, pack: &mut CompiledPack) {
        let mut givens = Vec::new();
        let mut expects = Vec::new();
        for field in &decl.fields {
            match &field.value {
                Value::Sub { word, value } if word.value != "application" => {
                    if let Some(given) = self.lower_given(source, word, value) {
                        givens.push(given);
                    }
                }
                Value::Sub { word, value } if word.value == "application" => {
                    if let Value::Ref(app) = value.as_ref()
                        && self
                            .resolve(source, app, &[DeclKind::Application])
                            .is_some()
                    {
                        givens.push(Given::Application(app.value.clone()));
                    }
                }
                Value::Expect(expect) => {
                    if let Some(e) = self.lower_expect(source, expect) {
                        expects.push((field.span, e));
                    }
                }
                _ => {}
            }
        }
        let installers = givens
            .iter()
            .filter(|g| matches!(g, Given::Evidence { .. }))
            .count();
        let applications = givens.len() - installers;
        if applications > 1 || (applications == 1 && installers > 0) {
            self.push(
                codes::INVALID_TEST,
                source,
                decl.name.span,
                format!(
                    "test `{}` mixes givens that cannot be tested together",
                    decl.name.value
                ),
                "too many givens",
                "a test takes either evidence (`given installer { … }` and the like) or one `given application`"
                    .to_string(),
            );
        }
        for (span, expect) in &expects {
            let about_coverage =
                matches!(expect, Expect::CoveredBy { .. } | Expect::NotCoveredBy(_));
            let (needs, has) = if about_coverage {
                (
                    "a coverage expectation needs `given application`",
                    installers > 0,
                )
            } else {
                (
                    "a recognition expectation needs evidence such as `given installer`",
                    applications > 0,
                )
            };
            if has {
                self.push(
                    codes::INVALID_TEST,
                    source,
                    *span,
                    format!(
                        "this expectation does not fit the givens of test `{}`",
                        decl.name.value
                    ),
                    needs,
                    format!("{needs}; split the test in two if it checks both"),
                );
            }
        }
        let (line, _) = source.line_col(decl.span.start);
        pack.tests.push(TestCase {
            name: decl.name.value.clone(),
            location: format!("{}:{line}", source.path),
            path: source.path.clone(),
            span: decl.name.span,
            givens,
            expects: expects.into_iter().map(|(_, e)| e).collect(),
            skipped: None,
        });
    }

    fn lower_expect(&mut self, source: &Arc<SourceFile>, expect: &ExpectAst) -> Option<Expect> {
        Some(match expect {
            ExpectAst::Application(app) => {
                self.resolve(source, app, &[DeclKind::Application])?;
                Expect::Application(app.value.clone())
            }
            ExpectAst::NoApplication(app) => {
                self.resolve(source, app, &[DeclKind::Application])?;
                Expect::NoApplication(app.value.clone())
            }
            ExpectAst::Unrecognized => Expect::Unrecognized,
            ExpectAst::Ignored => Expect::Ignored,
            ExpectAst::CoveredBy { target, via } => {
                let rights = self.rights_of_target(source, target)?;
                let via = match via {
                    Some(w) => Some(self.word(
                        source,
                        w,
                        "route",
                        &[
                            ("direct", CoveredVia::Direct),
                            ("downgrade", CoveredVia::Downgrade),
                            ("upgrade", CoveredVia::Upgrade),
                        ],
                    )?),
                    None => None,
                };
                Expect::CoveredBy { rights, via }
            }
            ExpectAst::NotCoveredBy(target) => {
                Expect::NotCoveredBy(self.rights_of_target(source, target)?)
            }
        })
    }

    /// The rights id a coverage expectation names, directly or through a SKU.
    fn rights_of_target(&mut self, source: &Arc<SourceFile>, target: &TargetAst) -> Option<String> {
        match target {
            TargetAst::Rights(r) => {
                self.resolve(source, r, &[DeclKind::Rights, DeclKind::Bundle])?;
                Some(r.value.clone())
            }
            TargetAst::Sku(s) => {
                self.resolve(source, s, &[DeclKind::Sku])?;
                let site = self.lookup(DeclKind::Sku, &s.value)?;
                first_ref(site.decl, "rights").map(|r| r.value.clone())
            }
        }
    }
}

/// "a product", "an application or product".
fn with_article(noun: &str) -> String {
    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {noun}")
}

/// "publisher", "product or application", "rights or bundle".
fn describe_kinds(kinds: &[DeclKind]) -> String {
    let names: Vec<&str> = kinds.iter().map(|k| k.keyword()).collect();
    match names.as_slice() {
        [init @ .., last] if !init.is_empty() => format!("{} or {last}", init.join(", ")),
        _ => names.join(""),
    }
}

fn first_str<'d>(decl: &'d Decl, key: &str) -> Option<&'d Spanned<String>> {
    decl.fields.iter().find_map(|f| match &f.value {
        Value::Str(s) if f.key == key => Some(s),
        _ => None,
    })
}

fn first_ref<'d>(decl: &'d Decl, key: &str) -> Option<&'d Spanned<String>> {
    decl.fields.iter().find_map(|f| match &f.value {
        Value::Ref(s) if f.key == key => Some(s),
        _ => None,
    })
}

fn first_word<'d>(decl: &'d Decl, key: &str) -> Option<&'d Spanned<String>> {
    decl.fields.iter().find_map(|f| match &f.value {
        Value::Word(s) if f.key == key => Some(s),
        _ => None,
    })
}

fn str_list<'d>(decl: &'d Decl, key: &str) -> Vec<&'d Spanned<String>> {
    decl.fields
        .iter()
        .find_map(|f| match &f.value {
            Value::StrList(list) if f.key == key => Some(list.iter().collect()),
            _ => None,
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use crate::{SourceFile, compile_sources};

    #[test]
    fn did_you_mean_carries_the_replacement_as_data() {
        let text =
            "publisher acme { name \"Acme\" }\nproduct acme.writer { name \"W\" publisher acmee }";
        let compiled = compile_sources(&[SourceFile::new("t.tally", text)]);
        let suggestions: Vec<Option<&str>> = compiled
            .diagnostics
            .iter()
            .map(|d| d.suggestion.as_deref())
            .collect();
        assert_eq!(suggestions, vec![Some("acme")]);
    }

    #[test]
    fn a_duplicate_points_at_the_first_declaration() {
        let text = "publisher acme { name \"A\" }\npublisher acme { name \"B\" }";
        let compiled = compile_sources(&[SourceFile::new("t.tally", text)]);
        let related: Vec<usize> = compiled
            .diagnostics
            .iter()
            .flat_map(|d| d.related.iter().map(|r| r.span.start))
            .collect();
        assert_eq!(related, vec![10]);
    }
}
