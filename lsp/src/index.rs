//! The names of the workspace: each rule file's declarations and references (a salsa query per
//! file, so an edit re-reads only its own file), and the declarations of all files by name.
//!
//! A reference is a name written where the language expects a declaration of some kinds: a
//! product's `publisher`, a rights' `covers`, a SKU's `metric`, a table looked up in an
//! expression, the name of an `extend` or `override`, and so on. Navigation, rename, hover and
//! the quick fixes all start from these two lists.

use std::collections::BTreeMap;

use tally_compiler::diagnostics::Span;
use tally_compiler::syntax::ast::{
    Decl, DeclKind, ExpectAst, ExprAst, ExprKind, Field, Modifier, Spanned, TargetAst, Value,
};
use tally_runtime::db::{RuleFile, Rules, parsed};

/// One declaration of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub kind: DeclKind,
    pub modifier: Option<Modifier>,
    /// The name without quotes (a SKU's or test's name is a string).
    pub name: String,
    /// The name as written (with its quotes, for a string).
    pub name_span: Span,
    /// The whole declaration.
    pub span: Span,
    /// The `///` lines above the declaration.
    pub doc: Vec<String>,
}

/// One name written where a declaration is expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub name: String,
    pub span: Span,
    /// The kinds of declaration the name may stand for.
    pub kinds: &'static [DeclKind],
}

/// The declarations and references of one rule file, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileIndex {
    pub symbols: Vec<Symbol>,
    pub references: Vec<Reference>,
}

impl FileIndex {
    /// The declaration whose name is at `offset`.
    pub fn symbol_at(&self, offset: usize) -> Option<&Symbol> {
        self.symbols.iter().find(|s| contains(s.name_span, offset))
    }

    /// The reference at `offset`.
    pub fn reference_at(&self, offset: usize) -> Option<&Reference> {
        self.references.iter().find(|r| contains(r.span, offset))
    }

    /// The declaration that encloses `offset`.
    pub fn enclosing(&self, offset: usize) -> Option<&Symbol> {
        self.symbols
            .iter()
            .find(|s| s.span.start <= offset && offset <= s.span.end)
    }
}

/// Whether a span holds an offset, its end included (a cursor just after a name is on it).
pub fn contains(span: Span, offset: usize) -> bool {
    span.start <= offset && offset <= span.end
}

/// The index of one rule file.
#[salsa::tracked(returns(ref))]
pub fn file_index(db: &dyn salsa::Database, file: RuleFile) -> FileIndex {
    let parsed = parsed(db, file);
    let mut index = FileIndex::default();
    for decl in &parsed.decls {
        index.symbols.push(Symbol {
            kind: decl.kind,
            modifier: decl.modifier.as_ref().map(|m| m.value),
            name: decl.name.value.clone(),
            name_span: decl.name.span,
            span: decl.span,
            doc: decl.doc.clone(),
        });
        if decl.modifier.is_some() {
            // `extend application x` names the declaration it extends.
            index.references.push(Reference {
                name: decl.name.value.clone(),
                span: decl.name.span,
                kinds: single(decl.kind),
            });
        }
        references_in(decl, &decl.fields, &mut index.references);
    }
    index
}

/// A declaration of the workspace: where it is.
#[derive(Clone, PartialEq, Eq)]
pub struct Definition {
    pub file: RuleFile,
    pub kind: DeclKind,
    pub modifier: Option<Modifier>,
    pub name_span: Span,
    pub span: Span,
}

/// Every declaration of the workspace by name, in file order (files sorted by path).
#[salsa::tracked(returns(ref))]
pub fn definitions(db: &dyn salsa::Database, rules: Rules) -> BTreeMap<String, Vec<Definition>> {
    let mut all: BTreeMap<String, Vec<Definition>> = BTreeMap::new();
    for file in rules.files(db) {
        for symbol in &file_index(db, *file).symbols {
            all.entry(symbol.name.clone())
                .or_default()
                .push(Definition {
                    file: *file,
                    kind: symbol.kind,
                    modifier: symbol.modifier,
                    name_span: symbol.name_span,
                    span: symbol.span,
                });
        }
    }
    all
}

/// The declarations a name written where `kinds` are expected stands for: the plain
/// declarations first, then the `override`s and `extend`s of it.
pub fn resolve<'a>(
    definitions: &'a BTreeMap<String, Vec<Definition>>,
    name: &str,
    kinds: &[DeclKind],
) -> Vec<&'a Definition> {
    let mut found: Vec<&Definition> = definitions
        .get(name)
        .into_iter()
        .flatten()
        .filter(|d| kinds.contains(&d.kind))
        .collect();
    found.sort_by_key(|d| d.modifier.is_some());
    found
}

fn single(kind: DeclKind) -> &'static [DeclKind] {
    match kind {
        DeclKind::Publisher => &[DeclKind::Publisher],
        DeclKind::Product => &[DeclKind::Product],
        DeclKind::Application => &[DeclKind::Application],
        DeclKind::Rights => &[DeclKind::Rights],
        DeclKind::Bundle => &[DeclKind::Bundle],
        DeclKind::Metric => &[DeclKind::Metric],
        DeclKind::Table => &[DeclKind::Table],
        DeclKind::Sku => &[DeclKind::Sku],
        DeclKind::Test => &[DeclKind::Test],
        DeclKind::Ignore => &[DeclKind::Ignore],
    }
}

const COVERED: &[DeclKind] = &[DeclKind::Application, DeclKind::Product];
const RIGHTS: &[DeclKind] = &[DeclKind::Rights, DeclKind::Bundle];

/// The kinds a reference field of a declaration kind names.
pub fn field_kinds(kind: DeclKind, key: &str) -> &'static [DeclKind] {
    match (kind, key) {
        (DeclKind::Product, "publisher") => &[DeclKind::Publisher],
        (DeclKind::Application, "product") => &[DeclKind::Product],
        (DeclKind::Application, "members") => &[DeclKind::Application],
        (DeclKind::Rights, "covers") => COVERED,
        (DeclKind::Bundle, "primary" | "supplementary") => COVERED,
        (DeclKind::Sku, "metric") => &[DeclKind::Metric],
        (DeclKind::Sku, "rights") => RIGHTS,
        (DeclKind::Test, "application") => &[DeclKind::Application],
        _ => &[],
    }
}

fn push(out: &mut Vec<Reference>, name: &Spanned<String>, kinds: &'static [DeclKind]) {
    if !kinds.is_empty() {
        out.push(Reference {
            name: name.value.clone(),
            span: name.span,
            kinds,
        });
    }
}

fn references_in(decl: &Decl, fields: &[Field], out: &mut Vec<Reference>) {
    for field in fields {
        references_in_value(decl, field.key, &field.value, out);
    }
}

fn references_in_value(decl: &Decl, key: &str, value: &Value, out: &mut Vec<Reference>) {
    match value {
        Value::Ref(name) => push(out, name, field_kinds(decl.kind, key)),
        Value::RefList(names) => {
            for name in names {
                push(out, name, field_kinds(decl.kind, key));
            }
        }
        Value::Covers { target, .. } => push(out, target, COVERED),
        Value::Sub { word, value } => {
            let key = if word.value == "application" {
                "application"
            } else {
                key
            };
            references_in_value(decl, key, value, out);
        }
        Value::Block(fields) => references_in(decl, fields, out),
        Value::Expect(expect) => match expect {
            ExpectAst::Application(app) | ExpectAst::NoApplication(app) => {
                push(out, app, &[DeclKind::Application]);
            }
            ExpectAst::CoveredBy { target, .. } | ExpectAst::NotCoveredBy(target) => match target {
                TargetAst::Rights(r) => push(out, r, RIGHTS),
                TargetAst::Sku(s) => push(out, s, &[DeclKind::Sku]),
            },
            ExpectAst::Unrecognized | ExpectAst::Ignored => {}
        },
        Value::Expr(expr) => tables_in(expr, out),
        _ => {}
    }
}

/// The tables an expression looks up.
fn tables_in(expr: &ExprAst, out: &mut Vec<Reference>) {
    match &expr.kind {
        ExprKind::Lookup { table, keys } => {
            if let ExprKind::Path(name) = &table.kind {
                out.push(Reference {
                    name: name.clone(),
                    span: table.span,
                    kinds: &[DeclKind::Table],
                });
            } else {
                tables_in(table, out);
            }
            for key in keys {
                tables_in(key, out);
            }
        }
        ExprKind::Unary(_, inner) => tables_in(inner, out),
        ExprKind::Binary(_, a, b) => {
            tables_in(a, out);
            tables_in(b, out);
        }
        ExprKind::If(a, b, c) => {
            tables_in(a, out);
            tables_in(b, out);
            tables_in(c, out);
        }
        ExprKind::Call { args, .. } => {
            for arg in args {
                tables_in(arg, out);
            }
        }
        ExprKind::Aggregate { body, filter, .. } => {
            for inner in [body, filter].into_iter().flatten() {
                tables_in(inner, out);
            }
        }
        ExprKind::Number(_) | ExprKind::Text(_) | ExprKind::Bool(_) | ExprKind::Path(_) => {}
    }
}
