//! The syntax tree: declarations made of keyed fields, each with its source span. The checker
//! walks this tree generically (duplicate and missing fields are found in one place), and the
//! formatter can print it back.

use crate::diagnostics::Span;

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
    Sku,
    Test,
}

impl DeclKind {
    /// The keyword that introduces the declaration, which is also how messages name the kind.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Publisher => "publisher",
            Self::Product => "product",
            Self::Application => "application",
            Self::Rights => "rights",
            Self::Bundle => "bundle",
            Self::Metric => "metric",
            Self::Sku => "sku",
            Self::Test => "test",
        }
    }

    /// The fields a declaration of this kind takes: (key, required, repeatable).
    pub fn fields(self) -> &'static [(&'static str, bool, bool)] {
        match self {
            Self::Publisher => &[("name", true, false), ("aliases", false, false)],
            Self::Product => &[
                ("name", true, false),
                ("publisher", true, false),
                ("classification", false, false),
                ("editions", false, false),
            ],
            Self::Application => &[
                ("product", true, false),
                ("version", false, false),
                ("edition", false, false),
                ("recognize installer", false, true),
            ],
            Self::Rights => &[
                ("covers", true, true),
                ("downgrade", false, false),
                ("upgrade", false, false),
            ],
            Self::Bundle => &[
                ("primary", true, true),
                ("supplementary", false, true),
                ("downgrade", false, false),
                ("upgrade", false, false),
            ],
            Self::Metric => &[("counts", true, false)],
            Self::Sku => &[
                ("license", true, false),
                ("metric", true, false),
                ("rights", true, false),
                ("duration", false, false),
            ],
            Self::Test => &[("given", true, true), ("expect", true, true)],
        }
    }
}

/// One top-level declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decl {
    pub kind: DeclKind,
    /// The declared name: an identifier, or the quoted string of a `sku` or `test`.
    pub name: Spanned<String>,
    /// The `///` lines directly above the declaration.
    pub doc: Vec<String>,
    /// The whole declaration.
    pub span: Span,
    pub fields: Vec<Field>,
}

/// One field inside a declaration or a nested block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The field's keyword, e.g. `name`, `covers`, `recognize installer`.
    pub key: &'static str,
    /// The whole field.
    pub span: Span,
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
    Pattern(PatternAst),
    Covers {
        target: Spanned<String>,
        edition: Option<Spanned<String>>,
    },
    /// `recognize installer { … }` or `given installer { … }`: nested match fields.
    Block(Vec<Field>),
    GivenApplication(Spanned<String>),
    Expect(ExpectAst),
}

/// `like "…"` or a plain string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternAst {
    pub like: bool,
    pub text: Spanned<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectAst {
    Application(Spanned<String>),
    NoApplication(Spanned<String>),
    Unrecognized,
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
