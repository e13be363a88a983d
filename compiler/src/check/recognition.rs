//! Checks and lowering for recognition: applications, their `recognize` rules, suites,
//! `ignore` declarations, the evidence a test gives, and the version checks that need every
//! product and application lowered first.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Checker, first_ref, first_str, first_word};
use crate::diagnostics::{Diagnostic, SourceFile, codes};
use crate::evidence::{EvidenceField, EvidenceKind};
use crate::ir::{
    Application, CompiledPack, CoverTarget, EvidenceRule, Existence, FieldTest, Given, Ignore,
    NoiseCategory, Origin, Pattern, VersionOp,
};
use crate::syntax::ast::{Decl, DeclKind, Field, Spanned, Value};

impl Checker<'_> {
    pub(super) fn lower_application(
        &mut self,
        source: &Arc<SourceFile>,
        decl: &Decl,
        pack: &mut CompiledPack,
    ) {
        let product = first_ref(decl, "product")
            .filter(|r| self.resolve(source, r, &[DeclKind::Product]).is_some())
            .map(|r| r.value.clone())
            .unwrap_or_default();
        let edition = first_str(decl, "edition");
        if let Some(edition) = edition {
            self.check_edition(source, &product, edition);
        }
        let id = decl.name.value.clone();
        let origin = Origin {
            file: source.path.clone(),
            overrides: self
                .overridden
                .get(&(DeclKind::Application, id.as_str()))
                .map(|site| site.source.path.clone()),
            extended_in: Vec::new(),
        };
        let app = Application {
            id: id.clone(),
            product,
            version: first_str(decl, "version").map(|s| s.value.clone()),
            edition: edition.map(|s| s.value.clone()),
            released: first_str(decl, "released").and_then(|d| self.day(source, d)),
            members: self.lower_members(source, decl),
            rules: self.lower_rules(source, &decl.fields, &id, 0, true),
            origin,
        };
        pack.applications.entry(id).or_insert(app);
    }

    /// A day written `YYYY-MM-DD`; T0123 for anything else, a 30 February included.
    fn day(&mut self, source: &Arc<SourceFile>, text: &Spanned<String>) -> Option<String> {
        if is_day(&text.value) {
            return Some(text.value.clone());
        }
        self.push(
            codes::INVALID_DATE,
            source,
            text.span,
            format!("`{}` is not a day written `YYYY-MM-DD`", text.value),
            "not a date",
            "write a real day as `YYYY-MM-DD`, such as `released \"2024-03-01\"`".to_string(),
        );
        None
    }

    pub(super) fn lower_ignore(
        &mut self,
        source: &Arc<SourceFile>,
        decl: &Decl,
        pack: &mut CompiledPack,
    ) {
        let category = first_word(decl, "category")
            .and_then(|w| self.word(source, w, "noise category", NoiseCategory::NAMES));
        let id = decl.name.value.clone();
        let rules = self.lower_rules(source, &decl.fields, &id, 0, false);
        if let Some(category) = category {
            pack.ignores.entry(id.clone()).or_insert(Ignore {
                id,
                category,
                rules,
            });
        }
    }

    /// The applications a suite names in `members`, resolved.
    pub(super) fn lower_members(&mut self, source: &Arc<SourceFile>, decl: &Decl) -> Vec<String> {
        let mut members = Vec::new();
        for field in decl.fields.iter().filter(|f| f.key == "members") {
            let Value::RefList(names) = &field.value else {
                continue;
            };
            for name in names {
                if name.value == decl.name.value {
                    self.push(
                        codes::INVALID_RULE,
                        source,
                        name.span,
                        format!("application `{}` lists itself as a member", name.value),
                        "a suite's own name",
                        "list the applications the suite stands in for".to_string(),
                    );
                } else if self
                    .resolve(source, name, &[DeclKind::Application])
                    .is_some()
                {
                    members.push(name.value.clone());
                }
            }
        }
        members.sort();
        members.dedup();
        members
    }

    /// Lowers the `recognize KIND { … }` fields among `fields`, the rules of `owner` from
    /// position `first` on, and records where each was written. With `of_product`, installer
    /// and package rules without a publisher test match the product publisher's names.
    pub(super) fn lower_rules(
        &mut self,
        source: &Arc<SourceFile>,
        fields: &[Field],
        owner: &str,
        first: usize,
        of_product: bool,
    ) -> Vec<EvidenceRule> {
        let mut rules = Vec::new();
        for field in fields.iter().filter(|f| f.key == "recognize") {
            let Value::Sub { word, value } = &field.value else {
                continue;
            };
            let (Some(kind), Value::Block(block)) =
                (EvidenceKind::from_name(&word.value), value.as_ref())
            else {
                continue;
            };
            if let Some(rule) = self.lower_rule(source, field, kind, block, of_product) {
                self.rule_sites.insert(
                    (owner.to_string(), first + rules.len()),
                    (Arc::clone(source), field.span),
                );
                rules.push(rule);
            }
        }
        rules
    }

    fn lower_rule(
        &mut self,
        source: &Arc<SourceFile>,
        field: &Field,
        kind: EvidenceKind,
        block: &[Field],
        of_product: bool,
    ) -> Option<EvidenceRule> {
        let mut rule = EvidenceRule {
            kind,
            tests: Vec::new(),
            publisher_of_product: false,
            empty_publisher: false,
            existence: Existence::default(),
            file: source.path.clone(),
        };
        for f in block {
            match (f.key, &f.value) {
                ("existence", Value::Word(w)) => {
                    rule.existence = self.word(source, w, "existence rule", Existence::NAMES)?;
                }
                ("empty_publisher", _) => rule.empty_publisher = true,
                (key, value) => {
                    let Some((_, evidence_field)) = kind.fields().iter().find(|(k, _)| *k == key)
                    else {
                        continue;
                    };
                    let test = match value {
                        Value::Pattern(p) => FieldTest::Pattern(if p.like {
                            Pattern::Like(p.text.value.clone())
                        } else {
                            Pattern::Exact(p.text.value.clone())
                        }),
                        Value::VersionRange(bounds) => {
                            FieldTest::Range(self.version_range(source, bounds)?)
                        }
                        Value::Number(n) => FieldTest::Pattern(Pattern::Exact(n.value.to_string())),
                        Value::Flag => FieldTest::Set,
                        _ => continue,
                    };
                    rule.tests.push((*evidence_field, test));
                }
            }
        }
        rule.tests.sort_by_key(|(f, _)| *f);
        let names_publisher = rule
            .tests
            .iter()
            .any(|(f, _)| *f == EvidenceField::Publisher);
        rule.publisher_of_product = of_product
            && !names_publisher
            && matches!(kind, EvidenceKind::Installer | EvidenceKind::Package);
        if rule.tests.is_empty() {
            let key_field = kind
                .fields()
                .iter()
                .find(|(_, f)| *f == kind.key_field())
                .map_or("name", |(k, _)| *k);
            self.push(
                codes::INVALID_RULE,
                source,
                field.span,
                format!("this `recognize {}` block tests no field", kind.as_str()),
                "matches every row",
                format!("name what the evidence must be, e.g. `{key_field} like \"…\"`"),
            );
            return None;
        }
        Some(rule)
    }

    /// A version range's bounds: at most one lower and one upper bound.
    fn version_range(
        &mut self,
        source: &Arc<SourceFile>,
        bounds: &[crate::syntax::ast::VersionBoundAst],
    ) -> Option<Vec<(VersionOp, String)>> {
        let mut out = Vec::new();
        for bound in bounds {
            let op = VersionOp::NAMES
                .iter()
                .find(|(n, _)| *n == bound.op.value)
                .map(|(_, op)| *op)?;
            out.push((op, bound.version.value.clone()));
        }
        let lower = |op: &VersionOp| matches!(op, VersionOp::Gt | VersionOp::Ge);
        if let [(a, _), (b, _)] = out.as_slice()
            && lower(a) == lower(b)
            && let Some(second) = bounds.get(1)
        {
            self.push(
                codes::INVALID_RULE,
                source,
                second.op.span,
                "a version range has two bounds on the same side".to_string(),
                "same direction as the first bound",
                "write one lower bound (`>=` or `>`) and one upper bound (`<` or `<=`), e.g. `>= \"15.0\" < \"16.0\"`".to_string(),
            );
            return None;
        }
        Some(out)
    }

    /// A test's `given KIND { … }`: a piece of evidence.
    pub(super) fn lower_given(
        &mut self,
        _source: &Arc<SourceFile>,
        word: &Spanned<String>,
        value: &Value,
    ) -> Option<Given> {
        let kind = EvidenceKind::from_name(&word.value)?;
        let Value::Block(block) = value else {
            return None;
        };
        let mut fields = Vec::new();
        for f in block {
            let Some((_, field)) = kind.fields().iter().find(|(k, _)| *k == f.key) else {
                continue;
            };
            let text = match &f.value {
                Value::Str(s) => s.value.clone(),
                Value::Number(n) => n.value.to_string(),
                Value::Flag => "true".to_string(),
                _ => continue,
            };
            fields.push((*field, text));
        }
        fields.sort();
        Some(Given::Evidence { kind, fields })
    }

    /// Checks that need every declaration lowered: versions against the product's list, and
    /// versions that upgrade and downgrade rights cannot order. (An application nothing can
    /// recognise was a warning here, T0109; it is the lint T0403 now.)
    pub(super) fn check_applications(&mut self, pack: &CompiledPack) {
        let sites: Vec<_> = self
            .index
            .get(&DeclKind::Application)
            .map(|names| names.values().copied().collect())
            .unwrap_or_default();
        let ordered_rights = ordered_rights_by_product(pack);
        for site in sites {
            let decl = site.decl;
            let Some(app) = pack.applications.get(&decl.name.value) else {
                continue;
            };
            let Some(product) = pack.products.get(&app.product) else {
                continue;
            };
            let version = first_str(decl, "version");
            if let Some(version) = version
                && !product.versions.is_empty()
                && !product
                    .versions
                    .iter()
                    .any(|v| v.eq_ignore_ascii_case(&version.value))
            {
                let listed: Vec<String> =
                    product.versions.iter().map(|v| format!("`{v}`")).collect();
                self.push(
                    codes::UNKNOWN_VERSION,
                    site.source,
                    version.span,
                    format!(
                        "product `{}` has no version `{}`",
                        product.id, version.value
                    ),
                    "not one of the product's versions",
                    format!(
                        "use one of {}, or add it to the product's `versions` in its place in time",
                        listed.join(", ")
                    ),
                );
            } else if let Some((rights, base)) =
                ordered_rights.get(app.product.as_str()).and_then(|list| {
                    list.iter().find(|(_, base)| {
                        *base != app.id
                            && product
                                .compare_versions(
                                    app.version.as_deref(),
                                    pack.applications
                                        .get(*base)
                                        .and_then(|b| b.version.as_deref()),
                                )
                                .is_none()
                    })
                })
            {
                let what = match &app.version {
                    None => "has no version".to_string(),
                    Some(v) => format!("has the version \"{v}\", which cannot be ordered"),
                };
                self.diagnostics.push(
                    Diagnostic::error(
                        codes::UNORDERED_VERSION,
                        site.source,
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
    }
}

/// For each product, the rights (and base application) whose upgrade or downgrade right
/// reaches other versions of it; only bases whose own version can be ordered.
fn ordered_rights_by_product(pack: &CompiledPack) -> BTreeMap<&str, Vec<(&str, &str)>> {
    let mut out: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for rights in pack.rights.values() {
        for member in &rights.members {
            if let CoverTarget::Application(base) = &member.target
                && (member.upgrade || member.downgrade)
                && let Some(app) = pack.applications.get(base)
                && let Some(product) = pack.products.get(&app.product)
                && product
                    .compare_versions(app.version.as_deref(), app.version.as_deref())
                    .is_some()
                && app.version.as_deref().is_some_and(|v| {
                    product.versions.is_empty() && crate::evidence::is_numeric_version(v)
                        || product.versions.iter().any(|x| x.eq_ignore_ascii_case(v))
                })
            {
                out.entry(app.product.as_str())
                    .or_default()
                    .push((rights.id.as_str(), base.as_str()));
            }
        }
    }
    out
}

/// Whether `text` is a real day written `YYYY-MM-DD` (the Gregorian calendar, years 1 to 9999).
fn is_day(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = bytes.get(range)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0, |n, b| n * 10 + u32::from(b - b'0')))
    };
    if bytes.len() != 10 || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return false;
    }
    let (Some(year), Some(month), Some(day)) = (digits(0..4), digits(5..7), digits(8..10)) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1 && (1..=days).contains(&day)
}

#[cfg(test)]
mod day_tests {
    #[test]
    fn only_real_days_are_days() {
        assert!(super::is_day("2024-02-29"));
        assert!(!super::is_day("2023-02-29"));
        assert!(!super::is_day("2024-13-01"));
        assert!(!super::is_day("24-03-01"));
        assert!(!super::is_day("2024-3-01"));
    }
}
