//! Pack layering: `override` replaces a declaration of another pack and `extend` adds to one.
//!
//! Precedence never depends on the order files are read in: a name has at most one plain
//! declaration and at most one `override`, and every `extend` of it adds, so their order does
//! not change what is recognised. A product's `versions` are ordered, so only one `extend` may
//! add to them. Which declaration is in force and which `extend`s apply is the name table's
//! ([`super::NameTable`]); here an `extend` is lowered in its own file, and added to what it
//! extends when the files' results are merged.

use std::sync::Arc;

use super::{Checker, Extension, RuleSites, str_list};
use crate::diagnostics::SourceFile;
use crate::ir::CompiledPack;
use crate::syntax::ast::{Decl, DeclKind};

impl Checker<'_> {
    /// Lowers an `extend` that applies: what it adds, checked.
    pub(super) fn lower_extension(&mut self, source: &Arc<SourceFile>, decl: &Decl) -> Extension {
        let strings = |key: &str| -> Vec<String> {
            str_list(decl, key)
                .into_iter()
                .map(|s| s.value.clone())
                .collect()
        };
        let mut extension = Extension {
            kind: decl.kind,
            name: decl.name.value.clone(),
            source: Arc::clone(source),
            aliases: Vec::new(),
            versions: Vec::new(),
            rules: Vec::new(),
            members: Vec::new(),
        };
        match decl.kind {
            DeclKind::Publisher => extension.aliases = strings("aliases"),
            DeclKind::Product => extension.versions = strings("versions"),
            DeclKind::Application => {
                extension.rules = self.lower_rules(source, &decl.fields, true);
                extension.members = self.lower_members(source, decl);
            }
            DeclKind::Ignore => extension.rules = self.lower_rules(source, &decl.fields, false),
            _ => {}
        }
        extension
    }
}

/// Adds an `extend` to the declaration it extends, numbering its rules after those the
/// declaration has so far.
pub(super) fn apply_extension(
    extension: &Extension,
    pack: &mut CompiledPack,
    rule_sites: &mut RuleSites,
) {
    let id = extension.name.as_str();
    let mut add_rules = |first: usize| {
        for (i, (_, span)) in extension.rules.iter().enumerate() {
            rule_sites.insert(
                (id.to_string(), first + i),
                (Arc::clone(&extension.source), *span),
            );
        }
        extension.rules.iter().map(|(rule, _)| rule.clone())
    };
    match extension.kind {
        DeclKind::Publisher => {
            if let Some(p) = pack.publishers.get_mut(id) {
                p.aliases.extend(extension.aliases.iter().cloned());
            }
        }
        DeclKind::Product => {
            if let Some(p) = pack.products.get_mut(id) {
                p.versions.extend(extension.versions.iter().cloned());
            }
        }
        DeclKind::Application => {
            let first = pack.applications.get(id).map_or(0, |a| a.rules.len());
            let rules = add_rules(first);
            if let Some(app) = pack.applications.get_mut(id) {
                app.rules.extend(rules);
                app.members.extend(extension.members.iter().cloned());
                app.members.sort();
                app.members.dedup();
                app.origin.extended_in.push(extension.source.path.clone());
                app.origin.extended_in.sort();
                app.origin.extended_in.dedup();
            }
        }
        DeclKind::Ignore => {
            let first = pack.ignores.get(id).map_or(0, |i| i.rules.len());
            let rules = add_rules(first);
            if let Some(ignore) = pack.ignores.get_mut(id) {
                ignore.rules.extend(rules);
            }
        }
        _ => {}
    }
}
