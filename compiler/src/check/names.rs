//! The names a pack declares, and what checking one file reads of the others.
//!
//! Each file's [`DeclaredName`]s (kind, name and modifier of each declaration, no positions)
//! are merged into a [`NameTable`]: the declaration of each name in force (the first plain one,
//! or the `override` that replaces it), what each `override` replaced, the `extend`s that apply,
//! and the problems found on the way (a name declared twice, layering that cannot apply). An
//! edit that renames nothing leaves both equal, so an incremental build does not check the
//! other files again. The rest of what a file's checks read of another file's declarations is
//! a [`Projection`]: a product's editions, a SKU's rights, a table's key types.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{first_ref, str_list};
use crate::diagnostics::{Diagnostic, SourceFile, Span, codes};
use crate::ir::KeyType;
use crate::syntax::ParsedFile;
use crate::syntax::ast::{Decl, DeclKind, Modifier, Value};
use crate::syntax::schema;

/// A declaration as the name table sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredName {
    pub kind: DeclKind,
    pub name: String,
    pub modifier: Option<Modifier>,
    /// An `extend`'s field keys, in order, which decide whether it applies; empty for other
    /// declarations.
    pub keys: Vec<&'static str>,
}

/// The declarations of a parsed file, in order, as the name table sees them.
pub fn declared_names(file: &ParsedFile) -> Vec<DeclaredName> {
    file.decls
        .iter()
        .map(|decl| {
            let modifier = decl.modifier.as_ref().map(|m| m.value);
            DeclaredName {
                kind: decl.kind,
                name: decl.name.value.clone(),
                modifier,
                keys: if modifier == Some(Modifier::Extend) {
                    decl.fields.iter().map(|f| f.key).collect()
                } else {
                    Vec::new()
                },
            }
        })
        .collect()
}

/// Where a declaration is: its file's position among the pack's files (in path order) and its
/// position among the file's declarations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeclAt {
    pub file: usize,
    pub decl: usize,
}

/// A problem with names, reported on the declaration of `at` (see [`name_diagnostics`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameProblem {
    /// A plain declaration of a name already declared (in its namespace).
    Duplicate { at: DeclAt, first: DeclAt },
    /// `extend` or `override` on a test.
    TestLayered { at: DeclAt },
    /// `extend` or `override` of a name nothing declares.
    NoBase { at: DeclAt },
    /// A second `override` of one name.
    OverriddenTwice { at: DeclAt, first: DeclAt },
    /// `extend` of a kind that cannot be extended.
    NotExtendable { at: DeclAt },
    /// A field an `extend` cannot add (`field` is its position in the declaration).
    ExtendsField { at: DeclAt, field: usize },
    /// A second `extend` that adds versions to one product.
    VersionsTwice { at: DeclAt, first: DeclAt },
}

/// Every name of a pack: what is in force, replaced and extended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NameTable {
    /// Each kind's declarations in force by name: the first plain declaration of a name, or
    /// the `override` that replaces it.
    index: BTreeMap<DeclKind, BTreeMap<String, DeclAt>>,
    /// The declarations an `override` replaced, by kind and name.
    overridden: BTreeMap<DeclKind, BTreeMap<String, DeclAt>>,
    /// The `extend`s that apply, in file order.
    extends: Vec<DeclAt>,
    /// What is wrong, in the order found.
    problems: Vec<NameProblem>,
    /// The file of the last test declared under each name.
    test_files: BTreeMap<String, usize>,
    /// Each file's path, by position.
    paths: Vec<String>,
}

impl NameTable {
    /// The table of files given in path order, each as its path and declared names.
    pub fn new(files: &[(&str, &[DeclaredName])]) -> Self {
        let mut table = Self {
            paths: files.iter().map(|(path, _)| (*path).to_string()).collect(),
            ..Self::default()
        };
        for (file, (_, names)) in files.iter().enumerate() {
            for (decl, name) in names.iter().enumerate() {
                let at = DeclAt { file, decl };
                if name.kind == DeclKind::Test {
                    table.test_files.insert(name.name.clone(), file);
                }
                if name.modifier.is_some() {
                    continue;
                }
                let first = name
                    .kind
                    .namespace()
                    .iter()
                    .find_map(|k| table.lookup(*k, &name.name));
                match first {
                    Some(first) => table.problems.push(NameProblem::Duplicate { at, first }),
                    None => {
                        table
                            .index
                            .entry(name.kind)
                            .or_default()
                            .insert(name.name.clone(), at);
                    }
                }
            }
        }
        table.apply_modifiers(files);
        table
    }

    /// Applies every `override` to the index and collects the `extend`s that apply.
    fn apply_modifiers(&mut self, files: &[(&str, &[DeclaredName])]) {
        let declared = |at: DeclAt| files.get(at.file).and_then(|(_, n)| n.get(at.decl));
        let mut overrides: BTreeMap<(DeclKind, &str), DeclAt> = BTreeMap::new();
        for (file, (_, names)) in files.iter().enumerate() {
            for (decl, name) in names.iter().enumerate() {
                let at = DeclAt { file, decl };
                let Some(modifier) = name.modifier else {
                    continue;
                };
                if name.kind == DeclKind::Test {
                    self.problems.push(NameProblem::TestLayered { at });
                    continue;
                }
                let Some(base) = self.lookup(name.kind, &name.name) else {
                    self.problems.push(NameProblem::NoBase { at });
                    continue;
                };
                match modifier {
                    Modifier::Override => {
                        if let Some(first) = overrides.get(&(name.kind, name.name.as_str())) {
                            self.problems
                                .push(NameProblem::OverriddenTwice { at, first: *first });
                            continue;
                        }
                        overrides.insert((name.kind, &name.name), at);
                        self.overridden
                            .entry(name.kind)
                            .or_default()
                            .insert(name.name.clone(), base);
                    }
                    Modifier::Extend => {
                        let allowed = schema::extendable(name.kind);
                        if allowed.is_empty() {
                            self.problems.push(NameProblem::NotExtendable { at });
                            continue;
                        }
                        let mut fine = true;
                        for (field, key) in name.keys.iter().enumerate() {
                            if !allowed.contains(key) {
                                fine = false;
                                self.problems.push(NameProblem::ExtendsField { at, field });
                            }
                        }
                        let adds_versions = |n: &DeclaredName| n.keys.contains(&"versions");
                        if name.kind == DeclKind::Product
                            && adds_versions(name)
                            && let Some(first) = self.extends.iter().copied().find(|e| {
                                declared(*e).is_some_and(|e| {
                                    e.kind == DeclKind::Product
                                        && e.name == name.name
                                        && adds_versions(e)
                                })
                            })
                        {
                            fine = false;
                            self.problems.push(NameProblem::VersionsTwice { at, first });
                        }
                        if fine {
                            self.extends.push(at);
                        }
                    }
                }
            }
        }
        for ((kind, name), at) in overrides {
            self.index
                .entry(kind)
                .or_default()
                .insert(name.to_string(), at);
        }
    }

    /// The declaration in force of a kind and name.
    pub fn lookup(&self, kind: DeclKind, name: &str) -> Option<DeclAt> {
        self.index.get(&kind).and_then(|n| n.get(name)).copied()
    }

    /// The first kind (in [`DeclKind`] order) that has a declaration of this name in force.
    pub fn kind_of(&self, name: &str) -> Option<DeclKind> {
        self.index
            .iter()
            .find(|(_, names)| names.contains_key(name))
            .map(|(k, _)| *k)
    }

    /// The names in force of a kind, sorted.
    pub fn names(&self, kind: DeclKind) -> impl Iterator<Item = &str> {
        self.index
            .get(&kind)
            .into_iter()
            .flat_map(|n| n.keys().map(String::as_str))
    }

    /// The declaration an `override` of this kind and name replaced.
    pub fn overridden(&self, kind: DeclKind, name: &str) -> Option<DeclAt> {
        self.overridden
            .get(&kind)
            .and_then(|n| n.get(name))
            .copied()
    }

    /// The `extend`s that apply, in file order.
    pub fn extends(&self) -> &[DeclAt] {
        &self.extends
    }

    /// Whether the declaration at `at` is an `extend` that applies.
    pub fn extends_at(&self, at: DeclAt) -> bool {
        self.extends.binary_search(&at).is_ok()
    }

    /// Whether a declaration is lowered as it stands: plain declarations that no `override`
    /// replaced, and `override`s that apply. `extend`s are lowered apart.
    pub fn in_force(&self, at: DeclAt, decl: &Decl) -> bool {
        let name = decl.name.value.as_str();
        match decl.modifier.as_ref().map(|m| m.value) {
            Some(Modifier::Extend) => false,
            Some(Modifier::Override) => self.lookup(decl.kind, name) == Some(at),
            None => self.overridden(decl.kind, name) != Some(at),
        }
    }

    /// The path of a file, by position.
    pub fn path(&self, file: usize) -> &str {
        self.paths.get(file).map_or("", String::as_str)
    }

    /// Marks tests that name a declaration another file overrides: the override's author owns
    /// the behaviour now, and the replaced pack's tests no longer describe it.
    pub fn skip_overridden_tests(&self, tests: &mut [crate::ir::TestCase]) {
        let overridden: Vec<(&str, DeclAt)> = self
            .overridden
            .values()
            .flat_map(|names| names.iter().map(|(n, at)| (n.as_str(), *at)))
            .collect();
        if overridden.is_empty() {
            return;
        }
        for test in tests {
            let names = test_names(test);
            let file = self
                .test_files
                .get(test.name.as_str())
                .map_or("", |f| self.path(*f));
            test.skipped = overridden.iter().find_map(|(name, replaced)| {
                let by = self.index.values().find_map(|n| n.get(*name))?;
                let by = self.path(by.file);
                (names.contains(name) && self.path(replaced.file) == file && by != file)
                    .then(|| format!("`{name}` is overridden in {by}"))
            });
        }
    }
}

/// Every declaration name a test mentions.
fn test_names(test: &crate::ir::TestCase) -> Vec<&str> {
    use crate::ir::{Expect, Given};
    let mut names: Vec<&str> = test
        .givens
        .iter()
        .filter_map(|g| match g {
            Given::Application(a) => Some(a.as_str()),
            Given::Evidence { .. } => None,
        })
        .collect();
    names.extend(test.expects.iter().filter_map(|e| match e {
        Expect::Application(a) | Expect::NoApplication(a) => Some(a.as_str()),
        Expect::CoveredBy { rights, .. } | Expect::NotCoveredBy(rights) => Some(rights.as_str()),
        Expect::Unrecognized | Expect::Ignored => None,
    }));
    names
}

/// The diagnostics of the table's problems. `file` gives the parsed files by position; only
/// the files a problem is in are asked for, so a table without problems reads none.
pub fn name_diagnostics<'f>(
    table: &NameTable,
    file: impl Fn(usize) -> Option<&'f ParsedFile>,
) -> Vec<Diagnostic> {
    let site = |at: DeclAt| {
        let parsed = file(at.file)?;
        Some((&parsed.source, parsed.decls.get(at.decl)?))
    };
    let mut out = Vec::new();
    for problem in &table.problems {
        match *problem {
            NameProblem::Duplicate { at, first } => {
                let (Some((source, decl)), Some((first_source, first))) = (site(at), site(first))
                else {
                    continue;
                };
                out.push(duplicate(source, decl, first_source, first));
            }
            NameProblem::TestLayered { at } => {
                let Some((source, decl)) = site(at) else {
                    continue;
                };
                let Some(modifier) = &decl.modifier else {
                    continue;
                };
                out.push(layering_error(
                    source,
                    modifier.span,
                    format!(
                        "a test cannot be {}",
                        match modifier.value {
                            Modifier::Extend => "extended",
                            Modifier::Override => "overridden",
                        }
                    ),
                    "give the test its own name instead".to_string(),
                ));
            }
            NameProblem::NoBase { at } => {
                let Some((source, decl)) = site(at) else {
                    continue;
                };
                let Some(modifier) = &decl.modifier else {
                    continue;
                };
                let (keyword, name) = (decl.kind.keyword(), &decl.name.value);
                out.push(layering_error(
                    source,
                    decl.name.span,
                    format!(
                        "there is no {keyword} `{name}` to {}",
                        modifier.value.keyword()
                    ),
                    format!("declare it with `{keyword} {name} {{ … }}`, or check the name"),
                ));
            }
            NameProblem::OverriddenTwice { at, first } => {
                let (Some((source, decl)), Some((first_source, first))) = (site(at), site(first))
                else {
                    continue;
                };
                let (keyword, name) = (decl.kind.keyword(), &decl.name.value);
                let (line, col) = first_source.line_col(first.name.span.start);
                out.push(
                    Diagnostic::error(
                        codes::INVALID_LAYERING,
                        source,
                        Some(decl.name.span),
                        format!("{keyword} `{name}` is overridden twice"),
                    )
                    .with_label("second override")
                    .with_help(format!(
                        "keep one override (the first is at {}:{line}:{col}): which one wins must not depend on file names",
                        first_source.path
                    ))
                    .with_related(first_source, first.name.span, "first override"),
                );
            }
            NameProblem::NotExtendable { at } => {
                let Some((source, decl)) = site(at) else {
                    continue;
                };
                let (keyword, name) = (decl.kind.keyword(), &decl.name.value);
                out.push(layering_error(
                    source,
                    decl.name.span,
                    format!("{keyword} `{name}` cannot be extended"),
                    format!("write `override {keyword} {name} {{ … }}` to replace it"),
                ));
            }
            NameProblem::ExtendsField { at, field } => {
                let Some((source, decl)) = site(at) else {
                    continue;
                };
                let Some(field) = decl.fields.get(field) else {
                    continue;
                };
                let keyword = decl.kind.keyword();
                let listed: Vec<String> = schema::extendable(decl.kind)
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect();
                out.push(layering_error(
                    source,
                    field.key_span,
                    format!("`extend {keyword}` cannot change `{}`", field.key),
                    format!(
                        "an extension adds {}; write `override {keyword} {} {{ … }}` to change `{}`",
                        listed.join(" or "),
                        decl.name.value,
                        field.key
                    ),
                ));
            }
            NameProblem::VersionsTwice { at, first } => {
                let (Some((source, decl)), Some((first_source, first))) = (site(at), site(first))
                else {
                    continue;
                };
                out.push(
                    Diagnostic::error(
                        codes::INVALID_LAYERING,
                        source,
                        Some(decl.name.span),
                        format!(
                            "the versions of product `{}` are extended twice",
                            decl.name.value
                        ),
                    )
                    .with_label("second extension of `versions`")
                    .with_help(
                        "versions are ordered, so add them in one `extend`: their order must not depend on file names",
                    )
                    .with_related(first_source, first.name.span, "first extension"),
                );
            }
        }
    }
    out
}

/// A name declared a second time in its namespace.
fn duplicate(
    source: &Arc<SourceFile>,
    decl: &Decl,
    first_source: &Arc<SourceFile>,
    first: &Decl,
) -> Diagnostic {
    let (line, col) = first_source.line_col(first.name.span.start);
    let kind = decl.kind.keyword();
    let name = &decl.name.value;
    let message = if first.kind == decl.kind {
        format!("{kind} `{name}` is declared twice")
    } else {
        format!(
            "{kind} `{name}` has the same name as {} `{name}`",
            first.kind.keyword()
        )
    };
    Diagnostic::error(
        codes::DUPLICATE_DECLARATION,
        source,
        Some(decl.name.span),
        message,
    )
    .with_label("second declaration")
    .with_help(if first.kind == decl.kind {
        let layering = if decl.kind == DeclKind::Test {
            "give one of them another name".to_string()
        } else if schema::extendable(decl.kind).is_empty() {
            format!("rename one of them, or write `override {kind} {name}` to replace it")
        } else {
            format!(
                "rename one of them, or write `extend {kind} {name}` to add to it or `override {kind} {name}` to replace it"
            )
        };
        format!(
            "the first is at {}:{line}:{col}; {layering}",
            first_source.path
        )
    } else {
        format!(
            "a reference to `{name}` could mean either (the first is at {}:{line}:{col}); rename one of them",
            first_source.path
        )
    })
    .with_related(first_source, first.name.span, "first declared here")
}

fn layering_error(
    source: &Arc<SourceFile>,
    span: Span,
    message: String,
    help: String,
) -> Diagnostic {
    Diagnostic::error(codes::INVALID_LAYERING, source, Some(span), message)
        .with_label("cannot apply")
        .with_help(help)
}

/// What checking another file's declaration reads of it: nothing for most kinds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Projection {
    #[default]
    None,
    /// A product's `editions`.
    Editions(Vec<String>),
    /// The rights a SKU names.
    Rights(Option<String>),
    /// A table's key types, as written (unknown words left out).
    Keys(Vec<KeyType>),
}

/// The projection of each declaration of a file, by position.
pub fn projections(file: &ParsedFile) -> Vec<Projection> {
    file.decls.iter().map(projection).collect()
}

pub(super) fn projection(decl: &Decl) -> Projection {
    match decl.kind {
        DeclKind::Product => Projection::Editions(
            str_list(decl, "editions")
                .into_iter()
                .map(|s| s.value.clone())
                .collect(),
        ),
        DeclKind::Sku => Projection::Rights(first_ref(decl, "rights").map(|r| r.value.clone())),
        DeclKind::Table => Projection::Keys(
            decl.fields
                .iter()
                .find_map(|f| match &f.value {
                    Value::WordList(words) if f.key == "keys" => Some(
                        words
                            .iter()
                            .filter_map(|w| {
                                KeyType::NAMES
                                    .iter()
                                    .find(|(n, _)| *n == w.value)
                                    .map(|(_, k)| *k)
                            })
                            .collect(),
                    ),
                    _ => None,
                })
                .unwrap_or_default(),
        ),
        _ => Projection::None,
    }
}
