//! Pack layering: `override` replaces a declaration of another pack and `extend` adds to one.
//!
//! Precedence never depends on the order files are read in: a name has at most one plain
//! declaration and at most one `override`, and every `extend` of it adds, so their order does
//! not change what is recognised. A product's `versions` are ordered, so only one `extend` may
//! add to them.

use std::collections::BTreeMap;

use super::{Checker, Site, str_list};
use crate::diagnostics::{Diagnostic, codes};
use crate::ir::CompiledPack;
use crate::syntax::ast::{Decl, DeclKind, Modifier};
use crate::syntax::schema;

impl<'a> Checker<'a> {
    /// Whether a declaration is lowered as it stands: plain declarations that no `override`
    /// replaced, and `override`s that apply. `extend`s are lowered afterwards.
    pub(super) fn in_force(&self, decl: &Decl) -> bool {
        let name = decl.name.value.as_str();
        match decl.modifier.as_ref().map(|m| m.value) {
            Some(Modifier::Extend) => false,
            Some(Modifier::Override) => self
                .lookup(decl.kind, name)
                .is_some_and(|site| std::ptr::eq(site.decl, decl)),
            None => !self
                .overridden
                .get(&(decl.kind, name))
                .is_some_and(|site| std::ptr::eq(site.decl, decl)),
        }
    }

    /// Applies every `override` to the index and collects the `extend`s that apply.
    pub(super) fn apply_modifiers(&mut self) {
        let mut overrides: BTreeMap<(DeclKind, &'a str), Site<'a>> = BTreeMap::new();
        for file in self.files {
            for decl in &file.decls {
                let Some(modifier) = &decl.modifier else {
                    continue;
                };
                let site = Site {
                    source: &file.source,
                    decl,
                };
                let name = decl.name.value.as_str();
                let keyword = decl.kind.keyword();
                if decl.kind == DeclKind::Test {
                    self.layering_error(
                        site,
                        modifier.span,
                        format!(
                            "a test cannot be {}",
                            match modifier.value {
                                Modifier::Extend => "extended",
                                Modifier::Override => "overridden",
                            }
                        ),
                        "give the test its own name instead".to_string(),
                    );
                    continue;
                }
                let Some(base) = self.lookup(decl.kind, name) else {
                    self.layering_error(
                        site,
                        decl.name.span,
                        format!(
                            "there is no {keyword} `{name}` to {}",
                            modifier.value.keyword()
                        ),
                        format!("declare it with `{keyword} {name} {{ … }}`, or check the name"),
                    );
                    continue;
                };
                match modifier.value {
                    Modifier::Override => {
                        if let Some(first) = overrides.get(&(decl.kind, name)) {
                            let (line, col) = first.source.line_col(first.decl.name.span.start);
                            self.diagnostics.push(
                                Diagnostic::error(
                                    codes::INVALID_LAYERING,
                                    &file.source,
                                    Some(decl.name.span),
                                    format!("{keyword} `{name}` is overridden twice"),
                                )
                                .with_label("second override")
                                .with_help(format!(
                                    "keep one override (the first is at {}:{line}:{col}): which one wins must not depend on file names",
                                    first.source.path
                                ))
                                .with_related(first.source, first.decl.name.span, "first override"),
                            );
                            continue;
                        }
                        overrides.insert((decl.kind, name), site);
                        self.overridden.insert((decl.kind, name), base);
                    }
                    Modifier::Extend => self.check_extension(site),
                }
            }
        }
        for ((kind, name), site) in overrides {
            self.index.entry(kind).or_default().insert(name, site);
        }
    }

    /// Checks that an `extend` adds only what its kind allows, and keeps it if so.
    fn check_extension(&mut self, site: Site<'a>) {
        let decl = site.decl;
        let keyword = decl.kind.keyword();
        let allowed = schema::extendable(decl.kind);
        if allowed.is_empty() {
            self.layering_error(
                site,
                decl.name.span,
                format!("{} `{}` cannot be extended", keyword, decl.name.value),
                format!(
                    "write `override {keyword} {} {{ … }}` to replace it",
                    decl.name.value
                ),
            );
            return;
        }
        let mut fine = true;
        for field in &decl.fields {
            if !allowed.contains(&field.key) {
                fine = false;
                let listed: Vec<String> = allowed.iter().map(|k| format!("`{k}`")).collect();
                self.layering_error(
                    site,
                    field.key_span,
                    format!(
                        "`extend {keyword}` cannot change `{}`",
                        field.key
                    ),
                    format!(
                        "an extension adds {}; write `override {keyword} {} {{ … }}` to change `{}`",
                        listed.join(" or "),
                        decl.name.value,
                        field.key
                    ),
                );
            }
        }
        if decl.kind == DeclKind::Product
            && decl.fields.iter().any(|f| f.key == "versions")
            && let Some(first) = self.extends.iter().find(|e| {
                e.decl.kind == DeclKind::Product
                    && e.decl.name.value == decl.name.value
                    && e.decl.fields.iter().any(|f| f.key == "versions")
            })
        {
            let first = *first;
            fine = false;
            self.diagnostics.push(
                Diagnostic::error(
                    codes::INVALID_LAYERING,
                    site.source,
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
                .with_related(first.source, first.decl.name.span, "first extension"),
            );
        }
        if fine {
            self.extends.push(site);
        }
    }

    fn layering_error(
        &mut self,
        site: Site<'_>,
        span: crate::diagnostics::Span,
        message: String,
        help: String,
    ) {
        self.diagnostics.push(
            Diagnostic::error(codes::INVALID_LAYERING, site.source, Some(span), message)
                .with_label("cannot apply")
                .with_help(help),
        );
    }

    /// Adds every `extend` to the declaration it extends.
    pub(super) fn lower_extensions(&mut self, pack: &mut CompiledPack) {
        let extends = std::mem::take(&mut self.extends);
        for site in &extends {
            let decl = site.decl;
            let id = decl.name.value.as_str();
            let path = site.source.path.clone();
            match decl.kind {
                DeclKind::Publisher => {
                    let aliases = str_list(decl, "aliases")
                        .into_iter()
                        .map(|s| s.value.clone());
                    if let Some(p) = pack.publishers.get_mut(id) {
                        p.aliases.extend(aliases);
                    }
                }
                DeclKind::Product => {
                    let versions: Vec<String> = str_list(decl, "versions")
                        .into_iter()
                        .map(|s| s.value.clone())
                        .collect();
                    if let Some(p) = pack.products.get_mut(id) {
                        p.versions.extend(versions);
                    }
                }
                DeclKind::Application => {
                    let first = pack.applications.get(id).map_or(0, |a| a.rules.len());
                    let rules = self.lower_rules(site.source, &decl.fields, id, first, true);
                    let members = self.lower_members(site.source, decl);
                    if let Some(app) = pack.applications.get_mut(id) {
                        app.rules.extend(rules);
                        app.members.extend(members);
                        app.members.sort();
                        app.members.dedup();
                        app.origin.extended_in.push(path);
                        app.origin.extended_in.sort();
                        app.origin.extended_in.dedup();
                    }
                }
                DeclKind::Ignore => {
                    let first = pack.ignores.get(id).map_or(0, |i| i.rules.len());
                    let rules = self.lower_rules(site.source, &decl.fields, id, first, false);
                    if let Some(ignore) = pack.ignores.get_mut(id) {
                        ignore.rules.extend(rules);
                    }
                }
                _ => {}
            }
        }
        self.extends = extends;
    }

    /// Marks tests that name a declaration another file overrides: the override's author owns
    /// the behaviour now, and the replaced pack's tests no longer describe it.
    pub(super) fn skip_overridden_tests(&self, pack: &mut CompiledPack) {
        let test_files: BTreeMap<&str, &str> = self
            .files
            .iter()
            .flat_map(|f| {
                f.decls
                    .iter()
                    .filter(|d| d.kind == DeclKind::Test)
                    .map(|d| (d.name.value.as_str(), f.source.path.as_str()))
            })
            .collect();
        for test in &mut pack.tests {
            let names = test_names(test);
            let file = test_files.get(test.name.as_str()).copied().unwrap_or("");
            test.skipped = self.overridden.iter().find_map(|((_, name), replaced)| {
                let by = self.index.values().find_map(|n| n.get(name))?;
                (names.contains(name) && replaced.source.path == file && by.source.path != file)
                    .then(|| format!("`{name}` is overridden in {}", by.source.path))
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
