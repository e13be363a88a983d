//! Name resolution, checks and lowering: turns the syntax trees of all loaded rule files into
//! one [`CompiledPack`], reporting unknown and duplicate names, references to the wrong kind of
//! declaration, duplicate and missing fields, and other mistakes as diagnostics.
//!
//! Checking is per file. The [`NameTable`] (built from each file's declared names) says which
//! declaration of each name is in force; a file's checks resolve names through it and read
//! other files' declarations only through [`Declarations`] (a product's editions, a SKU's
//! rights, a table's keys, a script's text). Each file gives a [`FileCheck`]: its diagnostics
//! and its declarations lowered. The checks that look across files are apart: names declared
//! twice and layering that cannot apply ([`name_diagnostics`]), and versions
//! ([`version_diagnostics`]). [`merge`] joins the files' results into one pack. [`compile`]
//! does all of it for a set of parsed files; the runtime's queries do the same one file at a
//! time, so that an edit checks only what it can change.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

mod layering;
mod names;
mod recognition;
mod types;
mod versions;

use crate::diagnostics::{self, Code, Diagnostic, SourceFile, Span, codes};
use crate::ir::{
    Classification, CompiledPack, CoverTarget, Coverage, CoveredVia, Duration, EvidenceRule,
    Expect, Given, Product, Publisher, Rights, RightsKind, Role, Sku, TestCase,
};
use crate::syntax::ast::{Decl, DeclKind, ExpectAst, Field, Spanned, TargetAst, Value};
use crate::syntax::schema::{self, FieldSpec, Shape};
use crate::syntax::{ParsedFile, is_rule_file};

pub use names::{
    DeclAt, DeclaredName, NameProblem, NameTable, Projection, declared_names, name_diagnostics,
    projections,
};
pub use types::{Record, Ty, holder_record};
pub use versions::{ApplicationVersion, VersionContext, VersionFacts, version_diagnostics};

/// Where each recognition rule was written, by owner (application or `ignore`) and position
/// among the owner's rules.
pub type RuleSites = BTreeMap<(String, usize), (Arc<SourceFile>, Span)>;

/// The result of compiling a set of rule files.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Compiled {
    pub pack: CompiledPack,
    /// Syntax errors from parsing plus everything the checker found, sorted.
    pub diagnostics: Vec<Diagnostic>,
    /// Where each recognition rule was written, by owner (application or `ignore`) and position
    /// among the owner's rules. Kept out of the pack, so moving text changes no compiled value.
    pub rule_sites: RuleSites,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// What checking one file reads of the pack's other declarations.
pub trait Declarations {
    /// The pack's names.
    fn names(&self) -> &NameTable;
    /// What a check reads of a declaration.
    fn projection(&self, at: DeclAt) -> Projection;
    /// A pack file that is not a rule file (a rhai script), by path.
    fn script(&self, path: &str) -> Option<Arc<SourceFile>>;
}

/// One file checked: its diagnostics (syntax errors included) and its declarations in force
/// lowered. A file's diagnostics are about it, but for a metric's script that does not
/// compile, which is about the script.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileCheck {
    /// The file's declarations in force, lowered.
    pub pack: CompiledPack,
    /// The file's `extend`s that apply, lowered, in order: added to what they extend by
    /// [`merge`].
    pub extensions: Vec<Extension>,
    /// In the order found (sort them with [`diagnostics::sort`]).
    pub diagnostics: Vec<Diagnostic>,
    /// Where the recognition rules of the file's applications and ignores were written.
    pub rule_sites: RuleSites,
}

/// An `extend`, lowered: what it adds to the declaration of its kind and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    pub kind: DeclKind,
    pub name: String,
    pub source: Arc<SourceFile>,
    /// A publisher's aliases.
    pub aliases: Vec<String>,
    /// A product's versions.
    pub versions: Vec<String>,
    /// An application's or ignore's recognition rules, with where each was written.
    pub rules: Vec<(EvidenceRule, Span)>,
    /// An application's members.
    pub members: Vec<String>,
}

/// Compiles parsed rule files into one pack. Files are taken in the order given; give them
/// sorted by path for deterministic output.
pub fn compile(files: &[&ParsedFile]) -> Compiled {
    let declared: Vec<Vec<DeclaredName>> = files.iter().map(|f| declared_names(f)).collect();
    let named: Vec<(&str, &[DeclaredName])> = files
        .iter()
        .zip(&declared)
        .map(|(f, n)| (f.source.path.as_str(), n.as_slice()))
        .collect();
    let table = NameTable::new(&named);
    let whole = WholePack {
        files,
        table: &table,
    };
    let checks: Vec<FileCheck> = files
        .iter()
        .enumerate()
        .map(|(i, f)| check_file(f, i, &whole))
        .collect();
    let facts: Vec<VersionFacts> = checks.iter().map(VersionFacts::of).collect();
    let context = VersionContext::new(&facts.iter().collect::<Vec<_>>(), |app| {
        let at = table.lookup(DeclKind::Application, app)?;
        let app = checks.get(at.file)?.pack.applications.get(app)?;
        Some((app.product.clone(), app.version.clone()))
    });
    let mut diagnostics = name_diagnostics(&table, |i| files.get(i).copied());
    for (i, (file, check)) in files.iter().zip(&checks).enumerate() {
        diagnostics.extend(version_diagnostics(&table, i, file, check, &context));
    }
    merge(&table, checks.iter(), diagnostics)
}

/// A whole pack's declarations, read from its parsed files.
struct WholePack<'a> {
    files: &'a [&'a ParsedFile],
    table: &'a NameTable,
}

impl Declarations for WholePack<'_> {
    fn names(&self) -> &NameTable {
        self.table
    }

    fn projection(&self, at: DeclAt) -> Projection {
        self.files
            .get(at.file)
            .and_then(|f| f.decls.get(at.decl))
            .map(names::projection)
            .unwrap_or_default()
    }

    fn script(&self, path: &str) -> Option<Arc<SourceFile>> {
        self.files
            .iter()
            .find(|f| f.source.path == path && !is_rule_file(path))
            .map(|f| Arc::clone(&f.source))
    }
}

/// Checks one file, at position `index` among the pack's files (in path order), and lowers its
/// declarations in force and its `extend`s.
pub fn check_file(file: &ParsedFile, index: usize, declarations: &dyn Declarations) -> FileCheck {
    let mut checker = Checker {
        declarations,
        names: declarations.names(),
        diagnostics: file.diagnostics.clone(),
        rule_sites: BTreeMap::new(),
    };
    let mut pack = CompiledPack::default();
    let mut extensions = Vec::new();
    for (i, decl) in file.decls.iter().enumerate() {
        let at = DeclAt {
            file: index,
            decl: i,
        };
        if checker.names.extends_at(at) {
            extensions.push(checker.lower_extension(&file.source, decl));
            continue;
        }
        if !checker.names.in_force(at, decl) {
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
    FileCheck {
        pack,
        extensions,
        diagnostics: checker.diagnostics,
        rule_sites: checker.rule_sites,
    }
}

/// Joins the files' checks (in path order) into one pack: the first declaration of an id wins
/// (in force, ids are unique), the `extend`s are added to what they extend in file order, and
/// tests of overridden declarations are marked skipped. `diagnostics` are those of the
/// cross-file checks; the files' own are added, and all sorted.
pub fn merge<'c>(
    table: &NameTable,
    checks: impl IntoIterator<Item = &'c FileCheck> + Clone,
    mut diagnostics: Vec<Diagnostic>,
) -> Compiled {
    fn join<V: Clone>(into: &mut BTreeMap<String, V>, from: &BTreeMap<String, V>) {
        for (id, value) in from {
            if !into.contains_key(id) {
                into.insert(id.clone(), value.clone());
            }
        }
    }
    let mut pack = CompiledPack::default();
    let mut rule_sites = RuleSites::new();
    for check in checks.clone() {
        let from = &check.pack;
        join(&mut pack.publishers, &from.publishers);
        join(&mut pack.products, &from.products);
        join(&mut pack.applications, &from.applications);
        join(&mut pack.ignores, &from.ignores);
        join(&mut pack.rights, &from.rights);
        join(&mut pack.metrics, &from.metrics);
        join(&mut pack.tables, &from.tables);
        join(&mut pack.skus, &from.skus);
        pack.tests.extend(from.tests.iter().cloned());
        rule_sites.extend(check.rule_sites.iter().map(|(k, v)| (k.clone(), v.clone())));
        diagnostics.extend(check.diagnostics.iter().cloned());
    }
    for check in checks {
        for extension in &check.extensions {
            layering::apply_extension(extension, &mut pack, &mut rule_sites);
        }
    }
    table.skip_overridden_tests(&mut pack.tests);
    diagnostics::sort(&mut diagnostics);
    Compiled {
        pack,
        diagnostics,
        rule_sites,
    }
}

/// A covered name as written: target, optional edition, role.
type Member<'d> = (&'d Spanned<String>, Option<&'d Spanned<String>>, Role);

/// Checks one file's declarations.
struct Checker<'a> {
    declarations: &'a dyn Declarations,
    names: &'a NameTable,
    diagnostics: Vec<Diagnostic>,
    rule_sites: RuleSites,
}

impl Checker<'_> {
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
        if let Some(other) = self.names.kind_of(&name.value) {
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
        let candidates = expected.iter().flat_map(|k| self.names.names(*k));
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

    fn lookup(&self, kind: DeclKind, name: &str) -> Option<DeclAt> {
        self.names.lookup(kind, name)
    }

    /// What the checks read of the declaration in force of a kind and name.
    fn projection(&self, kind: DeclKind, name: &str) -> Projection {
        self.lookup(kind, name)
            .map(|at| self.declarations.projection(at))
            .unwrap_or_default()
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
        let Projection::Editions(editions) = self.projection(DeclKind::Product, product) else {
            return;
        };
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
                match self.projection(DeclKind::Sku, &s.value) {
                    Projection::Rights(rights) => rights,
                    _ => None,
                }
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
