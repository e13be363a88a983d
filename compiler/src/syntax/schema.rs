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
    /// A pattern, or a version range such as `>= "15.0" < "16.0"`.
    Version,
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
            Self::Version => "a string, `like \"…\"` or a range such as `>= \"15.0\" < \"16.0\"`",
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

/// How a `recognize` rule counts towards recognising its application.
pub const EXISTENCE: &[&str] = &["at_least_one", "required", "ignore"];

const EXISTENCE_FIELD: FieldSpec = field(
    "existence",
    Shape::Word(EXISTENCE),
    "how a match counts: `at_least_one` (default), `required` or `ignore`",
);

const EMPTY_PUBLISHER: FieldSpec = field(
    "empty_publisher",
    Shape::Flag,
    "also match rows whose publisher is empty",
);

const INSTALLER_MATCH: &[FieldSpec] = &[
    field(
        "name",
        Shape::Pattern,
        "the display name in Add/Remove Programs",
    ),
    field(
        "publisher",
        Shape::Pattern,
        "the publisher as inventory reports it",
    ),
    field("version", Shape::Version, "the display version"),
    field("product_code", Shape::Pattern, "the MSI product code"),
    field(
        "parent",
        Shape::Pattern,
        "the parent entry an update hangs under",
    ),
    field(
        "release_type",
        Shape::Pattern,
        "the entry's release type, e.g. `Hotfix`",
    ),
    field(
        "system_component",
        Shape::Flag,
        "the entry is a hidden system component",
    ),
    EMPTY_PUBLISHER,
    EXISTENCE_FIELD,
];

const FILE_MATCH: &[FieldSpec] = &[
    field("name", Shape::Pattern, "the file name"),
    field(
        "company",
        Shape::Pattern,
        "the company in the file's version resource",
    ),
    field("version", Shape::Version, "the file version"),
    field("description", Shape::Pattern, "the file description"),
    field("size", Shape::Number, "the file size in bytes"),
    EXISTENCE_FIELD,
];

const WMI_MATCH: &[FieldSpec] = &[
    field(
        "class",
        Shape::Pattern,
        "the WMI class, or `Win32_Registry`",
    ),
    field(
        "property",
        Shape::Pattern,
        "the property, or the registry value's path",
    ),
    field("value", Shape::Pattern, "the property's value"),
    EXISTENCE_FIELD,
];

const PACKAGE_MATCH: &[FieldSpec] = &[
    field("name", Shape::Pattern, "the package name"),
    field("publisher", Shape::Pattern, "the package vendor"),
    field("version", Shape::Version, "the package version"),
    field("architecture", Shape::Pattern, "the package architecture"),
    EMPTY_PUBLISHER,
    EXISTENCE_FIELD,
];

const SWID_MATCH: &[FieldSpec] = &[
    field("name", Shape::Pattern, "the tag's product name"),
    field("tag_id", Shape::Pattern, "the tag's `tagId`"),
    field("creator", Shape::Pattern, "the software creator"),
    field("version", Shape::Version, "the tag's version"),
    field("edition", Shape::Pattern, "the tag's edition"),
    field("licensor", Shape::Pattern, "the licensor"),
    field(
        "entitlement_required",
        Shape::Flag,
        "the tag says an entitlement is required",
    ),
    EXISTENCE_FIELD,
];

/// The `recognize KIND { … }` blocks, by evidence kind.
pub const RECOGNIZE: &[(&str, Shape)] = &[
    ("installer", Shape::Block(INSTALLER_MATCH)),
    ("file", Shape::Block(FILE_MATCH)),
    ("wmi", Shape::Block(WMI_MATCH)),
    ("package", Shape::Block(PACKAGE_MATCH)),
    ("swid", Shape::Block(SWID_MATCH)),
];

const INSTALLER_GIVEN: &[FieldSpec] = &[
    field("name", Shape::Str, "the display name"),
    field("publisher", Shape::Str, "the publisher"),
    field("version", Shape::Str, "the display version"),
    field("product_code", Shape::Str, "the MSI product code"),
    field("parent", Shape::Str, "the parent entry"),
    field("release_type", Shape::Str, "the release type"),
    field(
        "system_component",
        Shape::Flag,
        "the entry is a system component",
    ),
];

const FILE_GIVEN: &[FieldSpec] = &[
    field("name", Shape::Str, "the file name"),
    field("company", Shape::Str, "the company"),
    field("version", Shape::Str, "the file version"),
    field("description", Shape::Str, "the file description"),
    field("size", Shape::Number, "the file size in bytes"),
];

const WMI_GIVEN: &[FieldSpec] = &[
    field("class", Shape::Str, "the WMI class"),
    field("property", Shape::Str, "the property"),
    field("value", Shape::Str, "the value"),
];

const PACKAGE_GIVEN: &[FieldSpec] = &[
    field("name", Shape::Str, "the package name"),
    field("publisher", Shape::Str, "the vendor"),
    field("version", Shape::Str, "the version"),
    field("architecture", Shape::Str, "the architecture"),
];

const SWID_GIVEN: &[FieldSpec] = &[
    field("name", Shape::Str, "the product name"),
    field("tag_id", Shape::Str, "the tag id"),
    field("creator", Shape::Str, "the software creator"),
    field("version", Shape::Str, "the version"),
    field("edition", Shape::Str, "the edition"),
    field("licensor", Shape::Str, "the licensor"),
    field(
        "entitlement_required",
        Shape::Flag,
        "an entitlement is required",
    ),
];

/// The `given KIND { … }` blocks of a test, by evidence kind.
pub const GIVEN: &[(&str, Shape)] = &[
    ("installer", Shape::Block(INSTALLER_GIVEN)),
    ("file", Shape::Block(FILE_GIVEN)),
    ("wmi", Shape::Block(WMI_GIVEN)),
    ("package", Shape::Block(PACKAGE_GIVEN)),
    ("swid", Shape::Block(SWID_GIVEN)),
    ("application", Shape::Ref),
];

/// The categories of noise an `ignore` declaration can name.
pub const NOISE_CATEGORIES: &[&str] = &[
    "hotfix",
    "update",
    "service_pack",
    "language_pack",
    "driver",
    "component",
    "other",
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
        Shape::Word(&["commercial", "freeware", "shareware", "internal", "ignored"]),
        "whether it needs a license",
    ),
    field(
        "editions",
        Shape::StrList,
        "editions from least to most capable",
    ),
    field(
        "versions",
        Shape::StrList,
        "marketing versions from oldest to newest",
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
    field(
        "released",
        Shape::Str,
        "the day the version was released, `YYYY-MM-DD`; upgrade rights end with maintenance",
    ),
    field(
        "members",
        Shape::RefList,
        "the applications this suite stands in for",
    ),
    repeated(
        "recognize",
        Shape::Sub(RECOGNIZE),
        "a rule that recognises the application from evidence",
    ),
];

const IGNORE: &[FieldSpec] = &[
    required(
        "category",
        Shape::Word(NOISE_CATEGORIES),
        "what kind of noise the evidence is",
    ),
    required_repeated(
        "recognize",
        Shape::Sub(RECOGNIZE),
        "a rule for evidence that is noise",
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
        Shape::Sub(GIVEN),
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
        DeclKind::Ignore => IGNORE,
    }
}

/// The fields an `extend` of a kind may add; other kinds cannot be extended.
pub fn extendable(kind: DeclKind) -> &'static [&'static str] {
    match kind {
        DeclKind::Publisher => &["aliases"],
        DeclKind::Product => &["versions"],
        DeclKind::Application => &["recognize", "members"],
        DeclKind::Ignore => &["recognize"],
        _ => &[],
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::EvidenceKind;

    /// Every field of a `recognize` or `given` block is a field of its evidence kind, and every
    /// field of the kind can be matched and given.
    #[test]
    fn recognize_and_given_blocks_name_the_kinds_fields() {
        let rule_only = ["existence", "empty_publisher"];
        for (table, extra) in [(RECOGNIZE, &rule_only[..]), (GIVEN, &[][..])] {
            for (word, shape) in table {
                let Shape::Block(block) = shape else { continue };
                let kind = EvidenceKind::from_name(word);
                assert!(kind.is_some(), "{word}");
                let fields = kind.map(EvidenceKind::fields).unwrap_or_default();
                let keys: Vec<&str> = block
                    .iter()
                    .map(|f| f.key)
                    .filter(|k| !extra.contains(k))
                    .collect();
                let expected: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
                let (mut a, mut b) = (keys.clone(), expected.clone());
                a.sort_unstable();
                b.sort_unstable();
                assert_eq!(a, b, "{word}");
            }
        }
    }
}
