//! The field schemas: for each declaration kind (and each nested block), the fields it takes,
//! the shape of each field's value, and whether the field is required or repeatable.
//!
//! A new field or a new declaration kind is an entry here; the block reader, the duplicate
//! and missing-field checks and the "did you mean" suggestions all read these tables.

use super::ast::DeclKind;

/// The shape of a field's value, which picks the grammar rule that parses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// No value: the key alone (`downgrade`).
    Flag,
    /// A quoted string.
    Str,
    /// Quoted strings separated by commas.
    StrList,
    /// A declaration name.
    Ref,
    /// Declaration names separated by commas.
    RefList,
    /// One word from a closed set.
    Word(&'static [&'static str]),
    /// Words from a closed set, separated by commas.
    WordList(&'static [&'static str]),
    /// A decimal number.
    Number,
    /// `like "…"` or a quoted string.
    Pattern,
    /// A product or application name, optionally `edition "…"`.
    Covers,
    /// An expression.
    Expr,
    /// A hardware word and a range: `cores ..64`.
    Limit,
    /// A table row: keys, `=>`, a number.
    Row,
    /// A test expectation.
    Expect,
    /// A selector word, then the value shape that word introduces.
    Sub(&'static [(&'static str, Shape)]),
    /// A nested block with its own fields.
    Block(&'static [FieldSpec]),
}

impl Shape {
    /// How the value is described in messages ("expected … after `name`").
    pub fn describe(self) -> &'static str {
        match self {
            Self::Flag => "nothing",
            Self::Str => "a quoted string",
            Self::StrList => "quoted strings separated by commas",
            Self::Ref => "a name such as `microsoft.visio`",
            Self::RefList => "names separated by commas",
            Self::Word(_) => "a keyword",
            Self::WordList(_) => "keywords separated by commas",
            Self::Number => "a number",
            Self::Pattern => "a string or `like \"…\"`",
            Self::Covers => "a product or application name",
            Self::Expr => "an expression",
            Self::Limit => "`cores`, `processors` or `sockets` and a range such as `1..4`",
            Self::Row => "row keys, `=>` and a number",
            Self::Expect => "an expectation such as `application …`",
            Self::Sub(_) => "a keyword",
            Self::Block(_) => "`{`",
        }
    }
}

/// One field a block takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub key: &'static str,
    pub shape: Shape,
    pub required: bool,
    pub repeatable: bool,
    /// One line for hover and completion.
    pub doc: &'static str,
}

const fn field(key: &'static str, shape: Shape, doc: &'static str) -> FieldSpec {
    FieldSpec {
        key,
        shape,
        required: false,
        repeatable: false,
        doc,
    }
}

const fn required(key: &'static str, shape: Shape, doc: &'static str) -> FieldSpec {
    FieldSpec {
        required: true,
        ..field(key, shape, doc)
    }
}

const fn repeated(key: &'static str, shape: Shape, doc: &'static str) -> FieldSpec {
    FieldSpec {
        repeatable: true,
        ..field(key, shape, doc)
    }
}

const fn required_repeated(key: &'static str, shape: Shape, doc: &'static str) -> FieldSpec {
    FieldSpec {
        required: true,
        repeatable: true,
        ..field(key, shape, doc)
    }
}

/// The hardware a metric can require, as spelt in `requires`.
pub const HARDWARE: &[&str] = &[
    "cores",
    "processors",
    "sockets",
    "max_sockets",
    "threads",
    "processor_model",
    "purchased",
    "host",
];

/// What a metric can count per unit, as spelt in `counts`.
pub const HOLDERS: &[&str] = &["device", "user", "host", "cluster", "license"];

const MATCH_FIELDS: &[FieldSpec] = &[
    field(
        "publisher",
        Shape::Pattern,
        "the publisher as inventory reports it",
    ),
    required(
        "name",
        Shape::Pattern,
        "the display name as inventory reports it",
    ),
    field(
        "version",
        Shape::Pattern,
        "the version as inventory reports it",
    ),
];

const GIVEN_FIELDS: &[FieldSpec] = &[
    field("publisher", Shape::Str, "the publisher of the evidence"),
    required("name", Shape::Str, "the display name of the evidence"),
    field("version", Shape::Str, "the version of the evidence"),
];

const PUBLISHER: &[FieldSpec] = &[
    required(
        "name",
        Shape::Str,
        "the publisher's name as inventory reports it",
    ),
    field(
        "aliases",
        Shape::StrList,
        "other spellings of the publisher's name",
    ),
];

const PRODUCT: &[FieldSpec] = &[
    required("name", Shape::Str, "the product's name"),
    required("publisher", Shape::Ref, "the publisher that makes it"),
    field(
        "classification",
        Shape::Word(&["commercial", "freeware", "shareware", "internal"]),
        "whether it needs a license",
    ),
    field(
        "editions",
        Shape::StrList,
        "editions from least to most capable",
    ),
];

const APPLICATION: &[FieldSpec] = &[
    required("product", Shape::Ref, "the product this is a version of"),
    field(
        "version",
        Shape::Str,
        "the marketing version, ordered within the product",
    ),
    field("edition", Shape::Str, "one of the product's editions"),
    repeated(
        "recognize",
        Shape::Sub(&[("installer", Shape::Block(MATCH_FIELDS))]),
        "a rule that recognises the application from evidence",
    ),
];

const RIGHTS: &[FieldSpec] = &[
    required_repeated(
        "covers",
        Shape::Covers,
        "a product or application the license covers",
    ),
    field(
        "downgrade",
        Shape::Flag,
        "earlier versions and lesser editions are covered too",
    ),
    field("upgrade", Shape::Flag, "later versions are covered too"),
];

const BUNDLE: &[FieldSpec] = &[
    required_repeated("primary", Shape::RefList, "the bundle's primary products"),
    repeated(
        "supplementary",
        Shape::RefList,
        "products covered when a primary one is on the device",
    ),
    field(
        "downgrade",
        Shape::Flag,
        "earlier versions and lesser editions are covered too",
    ),
    field("upgrade", Shape::Flag, "later versions are covered too"),
];

const METRIC: &[FieldSpec] = &[
    required(
        "counts",
        Shape::Word(HOLDERS),
        "what holds one set of units",
    ),
    field(
        "requires",
        Shape::WordList(HARDWARE),
        "hardware the holder must have in inventory",
    ),
    repeated(
        "limit",
        Shape::Limit,
        "a range of cores, processors or sockets the license allows",
    ),
    field(
        "quantity",
        Shape::Expr,
        "the units one holder consumes (default 1)",
    ),
    field(
        "script",
        Shape::Str,
        "a rhai script, next to the rule file, that computes the quantity",
    ),
    field(
        "allocated_only",
        Shape::Flag,
        "only allocated users or devices consume",
    ),
];

const TABLE: &[FieldSpec] = &[
    required(
        "keys",
        Shape::WordList(&["text", "number", "date"]),
        "the type of each key column",
    ),
    field("default", Shape::Number, "the value when no row matches"),
    repeated(
        "row",
        Shape::Row,
        "keys and the value they map to; the first match wins",
    ),
];

const SKU: &[FieldSpec] = &[
    required("license", Shape::Str, "the license name the SKU stands for"),
    required("metric", Shape::Ref, "the metric the license counts by"),
    required(
        "rights",
        Shape::Ref,
        "the rights or bundle the license grants",
    ),
    field(
        "duration",
        Shape::Word(&["perpetual", "subscription"]),
        "how long the license lasts",
    ),
];

const TEST: &[FieldSpec] = &[
    required_repeated(
        "given",
        Shape::Sub(&[
            ("installer", Shape::Block(GIVEN_FIELDS)),
            ("application", Shape::Ref),
        ]),
        "evidence or an installed application",
    ),
    required_repeated("expect", Shape::Expect, "what must come out"),
];

/// The fields a declaration kind takes.
pub fn fields(kind: DeclKind) -> &'static [FieldSpec] {
    match kind {
        DeclKind::Publisher => PUBLISHER,
        DeclKind::Product => PRODUCT,
        DeclKind::Application => APPLICATION,
        DeclKind::Rights => RIGHTS,
        DeclKind::Bundle => BUNDLE,
        DeclKind::Metric => METRIC,
        DeclKind::Table => TABLE,
        DeclKind::Sku => SKU,
        DeclKind::Test => TEST,
    }
}

/// The field `key` in a schema.
pub fn find(schema: &'static [FieldSpec], key: &str) -> Option<&'static FieldSpec> {
    schema.iter().find(|f| f.key == key)
}

/// "`a`, `b` and `c`", for help lines.
pub fn list_keys(schema: &[FieldSpec]) -> String {
    let keys: Vec<String> = schema.iter().map(|f| format!("`{}`", f.key)).collect();
    match keys.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
