//! Checks and lowering for recognition: applications, their `recognize` rules, suites,
//! `ignore` declarations and the evidence a test gives. (The version checks, which need every
//! product and application lowered first, are in `versions.rs`.)

use std::sync::Arc;

use super::{Checker, first_ref, first_str, first_word};
use crate::diagnostics::{SourceFile, Span, codes};
use crate::evidence::{EvidenceField, EvidenceKind};
use crate::ir::{
    Application, CompiledPack, EvidenceRule, Existence, FieldTest, Given, Ignore, NoiseCategory,
    Origin, Pattern, VersionOp,
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
                .names
                .overridden(DeclKind::Application, &id)
                .map(|at| self.names.path(at.file).to_string()),
            extended_in: Vec::new(),
        };
        let app = Application {
            id: id.clone(),
            product,
            version: first_str(decl, "version").map(|s| s.value.clone()),
            edition: edition.map(|s| s.value.clone()),
            released: first_str(decl, "released").and_then(|d| self.day(source, d)),
            members: self.lower_members(source, decl),
            rules: self.lower_own_rules(source, &decl.fields, &id, true),
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
        let rules = self.lower_own_rules(source, &decl.fields, &id, false);
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

    /// Lowers the `recognize KIND { … }` fields of a declaration in force, the rules of
    /// `owner`, and records where each was written.
    fn lower_own_rules(
        &mut self,
        source: &Arc<SourceFile>,
        fields: &[Field],
        owner: &str,
        of_product: bool,
    ) -> Vec<EvidenceRule> {
        self.lower_rules(source, fields, of_product)
            .into_iter()
            .enumerate()
            .map(|(i, (rule, span))| {
                self.rule_sites
                    .insert((owner.to_string(), i), (Arc::clone(source), span));
                rule
            })
            .collect()
    }

    /// Lowers the `recognize KIND { … }` fields among `fields`, each with where it was
    /// written. With `of_product`, installer and package rules without a publisher test match
    /// the product publisher's names.
    pub(super) fn lower_rules(
        &mut self,
        source: &Arc<SourceFile>,
        fields: &[Field],
        of_product: bool,
    ) -> Vec<(EvidenceRule, Span)> {
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
                rules.push((rule, field.span));
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
