//! The version checks, which read other files' declarations: an application's version must be
//! one of its product's `versions` (T0121), and a version that the upgrade and downgrade
//! rights of its product cannot order is reported (T0118).
//!
//! They run per file against a [`VersionContext`] built from every file's [`VersionFacts`]
//! (products and their versions, `extend product` versions, the rights that upgrade or
//! downgrade an application) and the product and version of the applications those rights
//! name. None of these hold positions, so an edit that changes no version leaves them equal.

use std::collections::BTreeMap;

use super::{FileCheck, first_str};
use crate::diagnostics::{Diagnostic, codes};
use crate::ir::{CoverTarget, DeclaredVersions};
use crate::syntax::ParsedFile;
use crate::syntax::ast::DeclKind;

use super::names::NameTable;

/// What the version checks read of one file: no positions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VersionFacts {
    /// The products declared here (in force), with their `versions`.
    pub products: Vec<(String, Vec<String>)>,
    /// The versions each `extend product` of the file adds, in file order.
    pub extended: Vec<(String, Vec<String>)>,
    /// The rights and bundles declared here whose member upgrades or downgrades an
    /// application: (rights, application), in member order.
    pub ordered: Vec<(String, String)>,
}

impl VersionFacts {
    pub fn of(check: &FileCheck) -> Self {
        let products = check
            .pack
            .products
            .values()
            .map(|p| (p.id.clone(), p.versions.clone()))
            .collect();
        let extended = check
            .extensions
            .iter()
            .filter(|e| e.kind == DeclKind::Product)
            .map(|e| (e.name.clone(), e.versions.clone()))
            .collect();
        let ordered = check
            .pack
            .rights
            .values()
            .flat_map(|rights| {
                rights
                    .members
                    .iter()
                    .filter_map(|member| match &member.target {
                        CoverTarget::Application(base) if member.upgrade || member.downgrade => {
                            Some((rights.id.clone(), base.clone()))
                        }
                        _ => None,
                    })
            })
            .collect();
        Self {
            products,
            extended,
            ordered,
        }
    }
}

/// An application's product and version, as lowered.
pub type ApplicationVersion = (String, Option<String>);

/// The products and ordered rights every file's version checks read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VersionContext {
    /// The products whose applications can have a version problem: those with `versions`
    /// (extensions included) and those with ordered rights.
    products: BTreeMap<String, Vec<String>>,
    /// For each product, the rights (base application and its version) whose upgrade or
    /// downgrade right reaches other versions of it; only bases whose own version can be
    /// ordered. In rights order.
    ordered: BTreeMap<String, Vec<(String, String, Option<String>)>>,
}

impl VersionContext {
    /// The context of every file's facts, in path order; `application` gives the product and
    /// version of an application in force.
    pub fn new(
        facts: &[&VersionFacts],
        application: impl Fn(&str) -> Option<ApplicationVersion>,
    ) -> Self {
        let mut products: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for fact in facts {
            for (id, versions) in &fact.products {
                products
                    .entry(id.clone())
                    .or_insert_with(|| versions.clone());
            }
        }
        for fact in facts {
            for (id, versions) in &fact.extended {
                if let Some(list) = products.get_mut(id) {
                    list.extend(versions.iter().cloned());
                }
            }
        }
        let mut members: Vec<&(String, String)> =
            facts.iter().flat_map(|f| f.ordered.iter()).collect();
        // Rights ids are unique: by id, each rights' members in order.
        members.sort_by(|a, b| a.0.cmp(&b.0));
        let mut ordered: BTreeMap<String, Vec<(String, String, Option<String>)>> = BTreeMap::new();
        for (rights, base) in members {
            let Some((product, version)) = application(base) else {
                continue;
            };
            let Some(versions) = products.get(&product) else {
                continue;
            };
            let declared = DeclaredVersions(versions);
            if declared
                .compare(version.as_deref(), version.as_deref())
                .is_some()
                && version.as_deref().is_some_and(|v| {
                    versions.is_empty() && crate::evidence::is_numeric_version(v)
                        || versions.iter().any(|x| x.eq_ignore_ascii_case(v))
                })
            {
                ordered
                    .entry(product)
                    .or_default()
                    .push((rights.clone(), base.clone(), version));
            }
        }
        products.retain(|id, versions| !versions.is_empty() || ordered.contains_key(id));
        Self { products, ordered }
    }
}

/// The version problems of one file's applications: `file` at position `index`, `check` its
/// checks.
pub fn version_diagnostics(
    table: &NameTable,
    index: usize,
    file: &ParsedFile,
    check: &FileCheck,
    context: &VersionContext,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    // Applications are sorted by id, so those of one product often come together.
    let mut last: Option<(&str, Option<&Vec<String>>)> = None;
    for app in check.pack.applications.values() {
        let versions = match last {
            Some((product, versions)) if product == app.product => versions,
            _ => {
                let versions = context.products.get(&app.product);
                last = Some((&app.product, versions));
                versions
            }
        };
        let Some(versions) = versions else {
            continue;
        };
        let declared = DeclaredVersions(versions);
        let unknown = app.version.as_ref().is_some_and(|version| {
            !versions.is_empty() && !versions.iter().any(|v| v.eq_ignore_ascii_case(version))
        });
        let unordered = || {
            context.ordered.get(app.product.as_str()).and_then(|list| {
                list.iter().find(|(_, base, base_version)| {
                    *base != app.id
                        && declared
                            .compare(app.version.as_deref(), base_version.as_deref())
                            .is_none()
                })
            })
        };
        if !unknown && unordered().is_none() {
            continue;
        }
        // A problem: where the application is written.
        let Some(at) = table
            .lookup(DeclKind::Application, &app.id)
            .filter(|at| at.file == index)
        else {
            continue;
        };
        let Some(decl) = file.decls.get(at.decl) else {
            continue;
        };
        let version = first_str(decl, "version");
        if let Some(version) = version
            && unknown
        {
            let listed: Vec<String> = versions.iter().map(|v| format!("`{v}`")).collect();
            let diagnostic = Diagnostic::error(
                codes::UNKNOWN_VERSION,
                &file.source,
                Some(version.span),
                format!(
                    "product `{}` has no version `{}`",
                    app.product, version.value
                ),
            )
            .with_label("not one of the product's versions")
            .with_help(format!(
                "use one of {}, or add it to the product's `versions` in its place in time",
                listed.join(", ")
            ));
            out.push(diagnostic);
        } else if let Some((rights, base, _)) = unordered() {
            let what = match &app.version {
                None => "has no version".to_string(),
                Some(v) => format!("has the version \"{v}\", which cannot be ordered"),
            };
            out.push(
                Diagnostic::error(
                    codes::UNORDERED_VERSION,
                    &file.source,
                    Some(version.map_or(decl.name.span, |v| v.span)),
                    format!(
                        "application `{}` {what}, so the upgrade and downgrade rights of `{rights}` (from `{base}`) do not cover it",
                        app.id
                    ),
                )
                .warning()
                .with_label("not reached by upgrade or downgrade")
                .with_help(format!(
                    "list the product's versions in order (`versions \"…\", \"…\"` on product `{}`) including this one, or cover the application by name",
                    app.product
                )),
            );
        }
    }
    out
}
