//! The syntax tree: declarations made of keyed fields, each with its source span, plus every
//! comment of the file. The checker walks it generically (field schemas live in
//! [`super::schema`]), and the formatter and the language server can print it back.

use rust_decimal::Decimal;

use crate::diagnostics::Span;
use crate::ir::{BinOp, UnOp};

/// A value together with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

/// The kinds of top-level declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeclKind {
    Publisher,
    Product,
    Application,
    Rights,
    Bundle,
    Metric,
    Table,
    Sku,
    Test,
    Ignore,
}

impl DeclKind {
    /// Every kind, in the order the documentation lists them.
    pub const ALL: [DeclKind; 10] = [
        Self::Publisher,
        Self::Product,
        Self::Application,
        Self::Ignore,
        Self::Rights,
        Self::Bundle,
        Self::Metric,
        Self::Table,
        Self::Sku,
        Self::Test,
    ];

    /// The keyword that introduces the declaration, which is also how messages name the kind.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Publisher => "publisher",
            Self::Product => "product",
            Self::Application => "application",
            Self::Rights => "rights",
            Self::Bundle => "bundle",
            Self::Metric => "metric",
            Self::Table => "table",
            Self::Sku => "sku",
            Self::Test => "test",
            Self::Ignore => "ignore",
        }
    }

    /// The kinds whose names one reference can mean, and so must not repeat among them: a
    /// `covers` names an application or a product, and a license's `rights` a rights or a
    /// bundle. Other kinds are referred to only as themselves.
    pub fn namespace(self) -> &'static [DeclKind] {
        match self {
            Self::Application | Self::Product => &[Self::Application, Self::Product],
            Self::Rights | Self::Bundle => &[Self::Rights, Self::Bundle],
            Self::Publisher => &[Self::Publisher],
            Self::Metric => &[Self::Metric],
            Self::Table => &[Self::Table],
            Self::Sku => &[Self::Sku],
            Self::Test => &[Self::Test],
            Self::Ignore => &[Self::Ignore],
        }
    }

    /// The kind a keyword introduces.
    pub fn from_keyword(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.keyword() == word)
    }

    /// Whether the declaration is named by a quoted string (`sku "79P-05729"`) rather than an
    /// identifier.
    pub fn named_by_string(self) -> bool {
        matches!(self, Self::Sku | Self::Test)
    }
}

/// How a declaration relates to one of the same kind and name in another pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Modifier {
    /// `extend`: adds to the declaration (rules, aliases, versions, members).
    Extend,
    /// `override`: replaces the declaration.
    Override,
}

impl Modifier {
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Extend => "extend",
            Self::Override => "override",
        }
    }

    pub fn from_keyword(word: &str) -> Option<Self> {
        [Self::Extend, Self::Override]
            .into_iter()
            .find(|m| m.keyword() == word)
    }
}

/// One comment, as written (`//` or `///` included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub span: Span,
    pub text: String,
}

/// One top-level declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decl {
    /// `extend` or `override` before the kind keyword.
    pub modifier: Option<Spanned<Modifier>>,
    pub kind: DeclKind,
    /// The declared name: an identifier, or the quoted string of a `sku` or `test`.
    pub name: Spanned<String>,
    /// The `///` lines directly above the declaration.
    pub doc: Vec<String>,
    /// The whole declaration.
    pub span: Span,
    pub fields: Vec<Field>,
    /// False when a field could not be read: missing-field checks are then skipped, since
    /// the field may be the one that is broken.
    pub complete: bool,
}

/// One field inside a declaration or a nested block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The field's key as the schema spells it, e.g. `name`, `covers`, `recognize`.
    pub key: &'static str,
    /// The key as written.
    pub key_span: Span,
    /// The whole field.
    pub span: Span,
    /// The `///` lines directly above the field.
    pub doc: Vec<String>,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A bare keyword such as `downgrade`.
    Flag,
    Str(Spanned<String>),
    StrList(Vec<Spanned<String>>),
    /// A reference to a declaration by name.
    Ref(Spanned<String>),
    RefList(Vec<Spanned<String>>),
    /// A word from a closed set, e.g. `commercial`, `device`, `perpetual`.
    Word(Spanned<String>),
    WordList(Vec<Spanned<String>>),
    Number(Spanned<Decimal>),
    Pattern(PatternAst),
    /// `>= "15.0" < "16.0"`: one or two version bounds.
    VersionRange(Vec<VersionBoundAst>),
    Covers {
        target: Spanned<String>,
        edition: Option<Spanned<String>>,
    },
    Expr(ExprAst),
    /// `limit cores ..64`.
    Limit {
        what: Spanned<String>,
        range: RangeAst,
    },
    /// `row "%Xeon%", ..2 => 70`.
    Row {
        keys: Vec<KeyAst>,
        value: Spanned<Decimal>,
    },
    Expect(ExpectAst),
    /// A selector word and what follows it: `recognize installer { … }`,
    /// `given application microsoft.visio_2016`.
    Sub {
        word: Spanned<String>,
        value: Box<Value>,
    },
    /// A nested `{ … }` block.
    Block(Vec<Field>),
}

/// `like "…"` or a plain string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternAst {
    pub like: bool,
    pub text: Spanned<String>,
}

/// One bound of a version range: an operator (`>=`, `>`, `<=`, `<`) and a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionBoundAst {
    pub op: Spanned<String>,
    pub version: Spanned<String>,
}

/// A number or date as written in a range or table row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BoundAst {
    Number(Decimal),
    Date(String),
}

/// `a..b`, `..b`, `a..`, or a single value `a` (which is `a..a`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeAst {
    pub low: Option<BoundAst>,
    pub high: Option<BoundAst>,
    pub span: Span,
}

/// One key of a table row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyAst {
    /// `_`: matches anything, an unknown value too.
    Any(Span),
    /// A text pattern (`like` semantics).
    Text(Spanned<String>),
    Range(RangeAst),
}

impl KeyAst {
    pub fn span(&self) -> crate::diagnostics::Span {
        match self {
            Self::Any(s) => *s,
            Self::Text(t) => t.span,
            Self::Range(r) => r.span,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectAst {
    Application(Spanned<String>),
    NoApplication(Spanned<String>),
    Unrecognized,
    /// The evidence is noise: an `ignore` declaration matches it.
    Ignored,
    CoveredBy {
        target: TargetAst,
        via: Option<Spanned<String>>,
    },
    NotCoveredBy(TargetAst),
}

/// What a coverage expectation names: a rights or bundle, or a SKU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetAst {
    Rights(Spanned<String>),
    Sku(Spanned<String>),
}

/// An expression with its span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprAst {
    pub kind: ExprKind,
    /// Where the expression is written, brackets around it excluded.
    pub span: Span,
    /// Whether the author wrote it in brackets, `(a + b)`, needed or not: the formatter keeps
    /// them.
    pub bracketed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExprKind {
    Number(Decimal),
    Text(String),
    Bool(bool),
    /// `device.cores`, `p`, `oracle.core_factor` (a table, when followed by a lookup).
    Path(String),
    Unary(UnOp, Box<ExprAst>),
    Binary(BinOp, Box<ExprAst>, Box<ExprAst>),
    If(Box<ExprAst>, Box<ExprAst>, Box<ExprAst>),
    Call {
        function: Spanned<String>,
        args: Vec<ExprAst>,
    },
    /// `sum(body for binder in collection where filter)`; `count` has no body.
    Aggregate {
        function: Spanned<String>,
        body: Option<Box<ExprAst>>,
        binder: Spanned<String>,
        collection: Spanned<String>,
        filter: Option<Box<ExprAst>>,
    },
    /// `table[key, …]`.
    Lookup {
        table: Box<ExprAst>,
        keys: Vec<ExprAst>,
    },
}

/// Moves a syntax tree's positions `by` bytes further on: a declaration parsed on its own is
/// moved to where it is in its file.
pub(crate) trait Shift {
    fn shift(&mut self, by: usize);
}

impl Shift for Span {
    fn shift(&mut self, by: usize) {
        *self = self.shifted(by);
    }
}

impl<T> Shift for Spanned<T> {
    fn shift(&mut self, by: usize) {
        self.span.shift(by);
    }
}

impl<T: Shift> Shift for Vec<T> {
    fn shift(&mut self, by: usize) {
        for item in self {
            item.shift(by);
        }
    }
}

impl<T: Shift> Shift for Option<T> {
    fn shift(&mut self, by: usize) {
        if let Some(item) = self {
            item.shift(by);
        }
    }
}

impl<T: Shift> Shift for Box<T> {
    fn shift(&mut self, by: usize) {
        (**self).shift(by);
    }
}

impl Decl {
    /// Moves the declaration's positions `by` bytes further on.
    pub fn shift(&mut self, by: usize) {
        Shift::shift(&mut self.modifier, by);
        self.name.shift(by);
        Shift::shift(&mut self.span, by);
        self.fields.shift(by);
    }
}

impl Shift for Field {
    fn shift(&mut self, by: usize) {
        self.key_span.shift(by);
        self.span.shift(by);
        self.value.shift(by);
    }
}

impl Shift for Value {
    fn shift(&mut self, by: usize) {
        match self {
            Self::Flag => {}
            Self::Str(s) | Self::Ref(s) | Self::Word(s) => s.shift(by),
            Self::StrList(list) | Self::RefList(list) | Self::WordList(list) => list.shift(by),
            Self::Number(n) => n.shift(by),
            Self::Pattern(p) => p.text.shift(by),
            Self::VersionRange(bounds) => {
                for bound in bounds {
                    bound.op.shift(by);
                    bound.version.shift(by);
                }
            }
            Self::Covers { target, edition } => {
                target.shift(by);
                edition.shift(by);
            }
            Self::Expr(e) => e.shift(by),
            Self::Limit { what, range } => {
                what.shift(by);
                range.span.shift(by);
            }
            Self::Row { keys, value } => {
                keys.shift(by);
                value.shift(by);
            }
            Self::Expect(e) => e.shift(by),
            Self::Sub { word, value } => {
                word.shift(by);
                value.shift(by);
            }
            Self::Block(fields) => fields.shift(by),
        }
    }
}

impl Shift for KeyAst {
    fn shift(&mut self, by: usize) {
        match self {
            Self::Any(span) => span.shift(by),
            Self::Text(t) => t.shift(by),
            Self::Range(r) => r.span.shift(by),
        }
    }
}

impl Shift for ExpectAst {
    fn shift(&mut self, by: usize) {
        match self {
            Self::Application(a) | Self::NoApplication(a) => a.shift(by),
            Self::Unrecognized | Self::Ignored => {}
            Self::CoveredBy { target, via } => {
                target.shift(by);
                via.shift(by);
            }
            Self::NotCoveredBy(target) => target.shift(by),
        }
    }
}

impl Shift for TargetAst {
    fn shift(&mut self, by: usize) {
        match self {
            Self::Rights(r) | Self::Sku(r) => r.shift(by),
        }
    }
}

impl Shift for ExprAst {
    fn shift(&mut self, by: usize) {
        self.span.shift(by);
        match &mut self.kind {
            ExprKind::Number(_) | ExprKind::Text(_) | ExprKind::Bool(_) | ExprKind::Path(_) => {}
            ExprKind::Unary(_, inner) => inner.shift(by),
            ExprKind::Binary(_, a, b) => {
                a.shift(by);
                b.shift(by);
            }
            ExprKind::If(a, b, c) => {
                a.shift(by);
                b.shift(by);
                c.shift(by);
            }
            ExprKind::Call { function, args } => {
                function.shift(by);
                args.shift(by);
            }
            ExprKind::Aggregate {
                function,
                body,
                binder,
                collection,
                filter,
            } => {
                function.shift(by);
                body.shift(by);
                binder.shift(by);
                collection.shift(by);
                filter.shift(by);
            }
            ExprKind::Lookup { table, keys } => {
                table.shift(by);
                keys.shift(by);
            }
        }
    }
}
