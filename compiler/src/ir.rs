//! The compiled pack (IR): what the runtime consumes. Plain data with no source positions, so
//! that an edit that only moves text compares equal and downstream queries stop early.

use std::cmp::Ordering;

use crate::diagnostics::Span;
pub use crate::evidence::{EvidenceField, EvidenceKind, compare_versions, is_numeric_version};
use crate::evidence::{named, spelling};
use std::collections::BTreeMap;

use rust_decimal::Decimal;

/// Every declaration of every rule file, resolved and checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompiledPack {
    pub publishers: BTreeMap<String, Publisher>,
    pub products: BTreeMap<String, Product>,
    pub applications: BTreeMap<String, Application>,
    /// `ignore` declarations: evidence that is noise.
    pub ignores: BTreeMap<String, Ignore>,
    /// `rights` and `bundle` declarations, both of which say what a license covers.
    pub rights: BTreeMap<String, Rights>,
    pub metrics: BTreeMap<String, Metric>,
    pub tables: BTreeMap<String, Table>,
    /// Keyed by SKU (part number), as written.
    pub skus: BTreeMap<String, Sku>,
    /// In file order, files in path order.
    pub tests: Vec<TestCase>,
}

impl CompiledPack {
    /// A copy without the source positions a pack holds (the `path:line` of table rows and
    /// tests, and where each test's name is): packs compiled from the same rules laid out
    /// differently (as `tally fmt` lays them out, say) compare equal.
    pub fn without_locations(&self) -> CompiledPack {
        let mut pack = self.clone();
        for table in pack.tables.values_mut() {
            for row in &mut table.rows {
                row.location.clear();
            }
        }
        for test in &mut pack.tests {
            test.location.clear();
            test.span = Span::new(0, 0);
        }
        pack
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publisher {
    pub id: String,
    pub name: String,
    pub aliases: Vec<String>,
}

/// Whether an application needs a license.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Classification {
    Commercial,
    Freeware,
    Shareware,
    Internal,
    /// Recognised, but reported apart and never licensed.
    Ignored,
}

impl Classification {
    /// Each classification's spelling in rules and reports.
    pub const NAMES: &[(&str, Self)] = &[
        ("commercial", Self::Commercial),
        ("freeware", Self::Freeware),
        ("shareware", Self::Shareware),
        ("internal", Self::Internal),
        ("ignored", Self::Ignored),
    ];

    pub fn as_str(self) -> &'static str {
        spelling(Self::NAMES, self)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: String,
    pub name: String,
    pub publisher: String,
    pub classification: Classification,
    /// Editions from least to most capable.
    pub editions: Vec<String>,
    /// Marketing versions from oldest to newest; empty when the product does not list them.
    pub versions: Vec<String>,
}

impl Product {
    /// The rank of an edition (higher is more capable); `None` when not declared.
    pub fn edition_rank(&self, edition: &str) -> Option<usize> {
        self.editions
            .iter()
            .position(|e| e.eq_ignore_ascii_case(edition))
    }

    /// Orders two marketing versions of the product: by the product's `versions` when it lists
    /// them, else component by component when both are numeric. `None` when they cannot be
    /// ordered (a version not in the list, a name such as "Plan 2", or no version).
    pub fn compare_versions(&self, a: Option<&str>, b: Option<&str>) -> Option<Ordering> {
        DeclaredVersions(&self.versions).compare(a, b)
    }
}

/// A product's `versions`, in order (none when it lists none).
#[derive(Debug, Clone, Copy)]
pub struct DeclaredVersions<'a>(pub &'a [String]);

impl DeclaredVersions<'_> {
    /// Orders two marketing versions, as [`Product::compare_versions`] does.
    pub fn compare(self, a: Option<&str>, b: Option<&str>) -> Option<Ordering> {
        let (a, b) = (a?, b?);
        if a.eq_ignore_ascii_case(b) {
            return Some(Ordering::Equal);
        }
        if self.0.is_empty() {
            return (is_numeric_version(a) && is_numeric_version(b))
                .then(|| compare_versions(a, b));
        }
        let rank = |v: &str| self.0.iter().position(|x| x.eq_ignore_ascii_case(v));
        Some(rank(a)?.cmp(&rank(b)?))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub id: String,
    pub product: String,
    /// Marketing version, ordered within the product (see [`Product::compare_versions`]).
    pub version: Option<String>,
    pub edition: Option<String>,
    /// The day this version was released, `YYYY-MM-DD` (checked, so days compare as text):
    /// an upgrade right that ends with maintenance covers only versions released by then.
    pub released: Option<String>,
    /// The applications this suite stands in for: recognised with it, they fold into it.
    pub members: Vec<String>,
    pub rules: Vec<EvidenceRule>,
    /// Where the declaration in force was written, and what it overrides.
    pub origin: Origin,
}

/// Where a declaration in force came from, for explanations.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Origin {
    /// The file of the declaration (or of its `override`).
    pub file: String,
    /// The file of the declaration an `override` replaced.
    pub overrides: Option<String>,
    /// The files of `extend` declarations that added to it, sorted.
    pub extended_in: Vec<String>,
}

/// A text pattern matched case-insensitively against a whole evidence field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Pattern {
    /// `like "…"`: `%` is any run of characters, `_` exactly one.
    Like(String),
    /// A plain string: the field must equal it, ignoring case.
    Exact(String),
}

/// A comparison in a version range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VersionOp {
    Lt,
    Le,
    Gt,
    Ge,
}

impl VersionOp {
    pub const NAMES: &[(&str, Self)] = &[
        ("<", Self::Lt),
        ("<=", Self::Le),
        (">", Self::Gt),
        (">=", Self::Ge),
    ];

    /// Whether `version` compared with the bound satisfies the operator.
    pub fn holds(self, ordering: Ordering) -> bool {
        match self {
            Self::Lt => ordering == Ordering::Less,
            Self::Le => ordering != Ordering::Greater,
            Self::Gt => ordering == Ordering::Greater,
            Self::Ge => ordering != Ordering::Less,
        }
    }
}

/// What one field of an evidence row must be.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FieldTest {
    Pattern(Pattern),
    /// Every bound must hold, comparing component by component.
    Range(Vec<(VersionOp, String)>),
    /// The field must be `true`.
    Set,
}

/// How a rule's match counts towards recognising its application on a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Existence {
    /// Any one such rule matching is enough (with every `required` rule).
    #[default]
    AtLeastOne,
    /// The application is recognised only if this rule matches.
    Required,
    /// A match is linked to the application but does not recognise it.
    Ignore,
}

impl Existence {
    pub const NAMES: &[(&str, Self)] = &[
        ("at_least_one", Self::AtLeastOne),
        ("required", Self::Required),
        ("ignore", Self::Ignore),
    ];
}

/// Matches one piece of evidence of one kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EvidenceRule {
    pub kind: EvidenceKind,
    /// Each named field's test; fields not named match anything.
    pub tests: Vec<(EvidenceField, FieldTest)>,
    /// Installer and package rules without a `publisher` test: the row's publisher must be the
    /// product publisher's name or an alias (after normalisation).
    pub publisher_of_product: bool,
    /// Rows with an empty publisher match too.
    pub empty_publisher: bool,
    pub existence: Existence,
    /// The file the rule was written in.
    pub file: String,
}

/// What kind of noise an `ignore` declaration recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NoiseCategory {
    Hotfix,
    Update,
    ServicePack,
    LanguagePack,
    Driver,
    Component,
    Other,
}

impl NoiseCategory {
    pub const NAMES: &[(&str, Self)] = &[
        ("hotfix", Self::Hotfix),
        ("update", Self::Update),
        ("service_pack", Self::ServicePack),
        ("language_pack", Self::LanguagePack),
        ("driver", Self::Driver),
        ("component", Self::Component),
        ("other", Self::Other),
    ];

    pub fn as_str(self) -> &'static str {
        spelling(Self::NAMES, self)
    }
}

/// Evidence that is noise: it never becomes an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignore {
    pub id: String,
    pub category: NoiseCategory,
    pub rules: Vec<EvidenceRule>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RightsKind {
    /// A single-product license's use rights.
    Rights,
    /// A multi-product license: primary and supplementary products.
    Bundle,
}

/// What a license covers and how far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rights {
    pub id: String,
    pub kind: RightsKind,
    pub members: Vec<Coverage>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Primary,
    Supplementary,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CoverTarget {
    /// Every version of a product (optionally of one edition).
    Product(String),
    /// One application; with downgrade or upgrade, others of its product relative to it.
    Application(String),
}

/// One covered product or application.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Coverage {
    pub target: CoverTarget,
    /// Restricts a product target to one edition (and, with rights, lesser ones).
    pub edition: Option<String>,
    pub role: Role,
    /// Earlier versions, same or lesser edition.
    pub downgrade: bool,
    /// Later versions, same or lesser edition.
    pub upgrade: bool,
}

/// How a coverage reaches an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CoveredVia {
    Direct,
    Downgrade,
    Upgrade,
}

impl CoveredVia {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Downgrade => "downgrade right",
            Self::Upgrade => "upgrade right",
        }
    }
}

/// The answer to "does this rights declaration cover this application?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Covered {
    pub role: Role,
    pub via: CoveredVia,
}

/// What holds one set of a license's units: each holder consumes the metric's quantity once,
/// however many covered installations it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Counts {
    /// Each device with a covered installation.
    Device,
    /// Each user across all their devices; unknown users count per device.
    User,
    /// Each physical host: a VM's installation rolls up to its host.
    Host,
    /// Each cluster: a VM's installation rolls up to its host's cluster.
    Cluster,
    /// The whole license is one holder.
    License,
}

impl Counts {
    /// Each holder's spelling in `counts` and in reports.
    pub const NAMES: &[(&str, Self)] = &[
        ("device", Self::Device),
        ("user", Self::User),
        ("host", Self::Host),
        ("cluster", Self::Cluster),
        ("license", Self::License),
    ];

    pub fn as_str(self) -> &'static str {
        spelling(Self::NAMES, self)
    }
}

/// A hardware value a metric can need from inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Hardware {
    Cores,
    Processors,
    Sockets,
    MaxSockets,
    Threads,
    ProcessorModel,
    Purchased,
    Host,
}

impl Hardware {
    /// Each value's spelling in `requires`, `limit` and expressions.
    pub const NAMES: &[(&str, Self)] = &[
        ("cores", Self::Cores),
        ("processors", Self::Processors),
        ("sockets", Self::Sockets),
        ("max_sockets", Self::MaxSockets),
        ("threads", Self::Threads),
        ("processor_model", Self::ProcessorModel),
        ("purchased", Self::Purchased),
        ("host", Self::Host),
    ];

    pub fn as_str(self) -> &'static str {
        spelling(Self::NAMES, self)
    }

    pub fn from_name(name: &str) -> Option<Self> {
        named(Self::NAMES, name)
    }
}

/// `limit cores ..64`: the holder's hardware must lie in the range (inclusive).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Limit {
    pub hardware: Hardware,
    pub min: Option<Decimal>,
    pub max: Option<Decimal>,
}

/// How a metric computes one holder's units.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Quantity {
    /// One unit per holder.
    One,
    /// An expression, with its text as written for explanations.
    Expr { expr: Expr, formula: String },
    /// A rhai script: its path (for messages) and text.
    Script { path: String, text: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Metric {
    pub id: String,
    pub counts: Counts,
    /// Hardware the holder must have, in the order written.
    pub requires: Vec<Hardware>,
    pub limits: Vec<Limit>,
    pub quantity: Quantity,
    /// Only allocated users or devices consume (Named User).
    pub allocated_only: bool,
}

impl Metric {
    /// A metric that counts one unit per holder.
    pub fn simple(id: &str, counts: Counts) -> Self {
        Self {
            id: id.to_string(),
            counts,
            requires: Vec::new(),
            limits: Vec::new(),
            quantity: Quantity::One,
            allocated_only: false,
        }
    }
}

/// A unary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnOp {
    Neg,
    Not,
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
    Add,
    Sub,
    Mul,
    Div,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Or => "or",
            Self::And => "and",
            Self::Eq => "==",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
            Self::Like => "like",
            Self::Add => "+",
            Self::Sub => "-",
            Self::Mul => "×",
            Self::Div => "/",
        }
    }
}

/// A built-in function that takes values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    Min,
    Max,
    Ceil,
    Floor,
    Round,
}

impl Function {
    pub const NAMES: &[(&str, Self)] = &[
        ("min", Self::Min),
        ("max", Self::Max),
        ("ceil", Self::Ceil),
        ("floor", Self::Floor),
        ("round", Self::Round),
    ];

    pub fn as_str(self) -> &'static str {
        spelling(Self::NAMES, self)
    }
}

/// An aggregation over a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Aggregation {
    Sum,
    Count,
    Max,
    Min,
}

impl Aggregation {
    pub const NAMES: &[(&str, Self)] = &[
        ("sum", Self::Sum),
        ("count", Self::Count),
        ("max", Self::Max),
        ("min", Self::Min),
    ];

    pub fn as_str(self) -> &'static str {
        spelling(Self::NAMES, self)
    }
}

/// A type-checked metric expression. Variables and fields are names the runtime binds: the
/// holder (`device`, `host`, …), `license`, and the binders of aggregations.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expr {
    Number(Decimal),
    Text(String),
    Bool(bool),
    Var(String),
    /// A field of a record: `device.cores` is `Field(Var("device"), "cores")`.
    Field(Box<Expr>, String),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Call(Function, Vec<Expr>),
    Aggregate {
        op: Aggregation,
        var: String,
        collection: Box<Expr>,
        /// `None` for `count`.
        body: Option<Box<Expr>>,
        filter: Option<Box<Expr>>,
    },
    Lookup {
        table: String,
        keys: Vec<Expr>,
    },
}

/// A key type of a table column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    Text,
    Number,
    Date,
}

impl KeyType {
    pub const NAMES: &[(&str, Self)] = &[
        ("text", Self::Text),
        ("number", Self::Number),
        ("date", Self::Date),
    ];
}

/// One key of a table row.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// Matches anything, an unknown value too.
    Any,
    /// A `like` pattern, matched ignoring case.
    Text(String),
    /// An inclusive range of numbers.
    Number {
        min: Option<Decimal>,
        max: Option<Decimal>,
    },
    /// An inclusive range of dates (`YYYY-MM-DD`, which sort as text).
    Date {
        min: Option<String>,
        max: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Row {
    pub keys: Vec<Key>,
    pub value: Decimal,
    /// `path:line` of the row, for explanations.
    pub location: String,
}

/// A reference table: rows tried in order, the first whose keys all match wins.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Table {
    pub id: String,
    pub keys: Vec<KeyType>,
    pub default: Option<Decimal>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Duration {
    Perpetual,
    Subscription,
}

/// A SKU (part number) and the license template it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sku {
    pub id: String,
    pub license_name: String,
    pub metric: String,
    pub rights: String,
    pub duration: Duration,
}

/// A `test` block, ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCase {
    pub name: String,
    /// `path:line` of the block, for the report.
    pub location: String,
    /// The path of the file the block is in, and where its name is written.
    pub path: String,
    pub span: Span,
    pub givens: Vec<Given>,
    pub expects: Vec<Expect>,
    /// Why the test is not run: it names a declaration that another pack overrides.
    pub skipped: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Given {
    /// A piece of evidence: its kind and the fields it fills.
    Evidence {
        kind: EvidenceKind,
        fields: Vec<(EvidenceField, String)>,
    },
    /// An application assumed to be installed.
    Application(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// The evidence is recognised as this application.
    Application(String),
    /// The evidence is not recognised as this application.
    NoApplication(String),
    /// The evidence is recognised as nothing at all.
    Unrecognized,
    /// The evidence is noise.
    Ignored,
    /// The given application is covered by this rights, bundle or SKU's rights.
    CoveredBy {
        rights: String,
        via: Option<CoveredVia>,
    },
    /// The given application is not covered.
    NotCoveredBy(String),
}

impl CompiledPack {
    /// Whether `rights` covers `application`, and how. Coverage by any member wins in member
    /// order, with primary membership preferred over supplementary.
    pub fn covers(&self, rights: &str, application: &str) -> Option<Covered> {
        let rights = self.rights.get(rights)?;
        let app = self.applications.get(application)?;
        let mut best: Option<Covered> = None;
        for member in &rights.members {
            if let Some(via) = self.member_covers(member, app) {
                let found = Covered {
                    role: member.role,
                    via,
                };
                let better = match best {
                    None => true,
                    Some(b) => (found.role, found.via) < (b.role, b.via),
                };
                if better {
                    best = Some(found);
                }
            }
        }
        best
    }

    fn member_covers(&self, member: &Coverage, app: &Application) -> Option<CoveredVia> {
        let product = self.products.get(&app.product)?;
        let (base_version, base_edition) = match &member.target {
            CoverTarget::Product(p) => {
                if *p != app.product {
                    return None;
                }
                (None, member.edition.as_deref())
            }
            CoverTarget::Application(a) => {
                if *a == app.id {
                    return Some(CoveredVia::Direct);
                }
                let base = self.applications.get(a)?;
                if base.product != app.product {
                    return None;
                }
                (base.version.as_deref(), base.edition.as_deref())
            }
        };
        let edition_cmp = match (base_edition, app.edition.as_deref()) {
            (None, _) => Ordering::Equal,
            (Some(_), None) => return None,
            (Some(base), Some(have)) if base.eq_ignore_ascii_case(have) => Ordering::Equal,
            (Some(base), Some(have)) => {
                let (b, h) = (product.edition_rank(base)?, product.edition_rank(have)?);
                h.cmp(&b)
            }
        };
        let version_cmp = match base_version {
            None => Ordering::Equal,
            Some(base) => product.compare_versions(app.version.as_deref(), Some(base))?,
        };
        match (version_cmp, edition_cmp) {
            (Ordering::Equal, Ordering::Equal) => Some(CoveredVia::Direct),
            (Ordering::Less | Ordering::Equal, Ordering::Less | Ordering::Equal)
                if member.downgrade =>
            {
                Some(CoveredVia::Downgrade)
            }
            (Ordering::Greater, Ordering::Less | Ordering::Equal) if member.upgrade => {
                Some(CoveredVia::Upgrade)
            }
            _ => None,
        }
    }
}
