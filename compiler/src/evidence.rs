//! The vocabulary that rules and inventory share: the kinds of evidence, the fields each kind
//! carries, how publisher names are normalised and how version strings are compared.
//!
//! The compiler checks `recognize` blocks against these tables and the runtime's importers fill
//! evidence rows from them, so a field is added in one place.

use std::cmp::Ordering;

/// How a value of a closed set is spelt, from its table of spellings.
pub fn spelling<T: Copy + PartialEq>(names: &[(&'static str, T)], value: T) -> &'static str {
    names
        .iter()
        .find(|(_, v)| *v == value)
        .map_or("", |(n, _)| n)
}

/// The value a spelling names, from its table of spellings.
pub fn named<T: Copy>(names: &[(&str, T)], name: &str) -> Option<T> {
    names.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// Where a piece of raw evidence comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EvidenceKind {
    /// An Add/Remove Programs (or MSI) entry.
    Installer,
    /// A file found on disk.
    File,
    /// A WMI class property, or a registry value collected as one.
    Wmi,
    /// A package manager's package (dpkg, rpm, …).
    Package,
    /// An ISO/IEC 19770-2 software identification tag.
    Swid,
}

impl EvidenceKind {
    /// Each kind's spelling in `evidence.csv`, in `recognize` and in reports.
    pub const NAMES: &[(&str, Self)] = &[
        ("installer", Self::Installer),
        ("file", Self::File),
        ("wmi", Self::Wmi),
        ("package", Self::Package),
        ("swid", Self::Swid),
    ];

    pub fn as_str(self) -> &'static str {
        spelling(Self::NAMES, self)
    }

    pub fn from_name(name: &str) -> Option<Self> {
        named(Self::NAMES, name)
    }

    /// The fields a row of this kind carries, each with its name in a `recognize` block.
    /// The first field is the one the rule index keys on.
    pub fn fields(self) -> &'static [(&'static str, EvidenceField)] {
        use EvidenceField as F;
        match self {
            Self::Installer => &[
                ("name", F::Name),
                ("publisher", F::Publisher),
                ("version", F::Version),
                ("product_code", F::ProductCode),
                ("system_component", F::SystemComponent),
                ("parent", F::Parent),
                ("release_type", F::ReleaseType),
            ],
            Self::File => &[
                ("name", F::Name),
                ("company", F::Publisher),
                ("version", F::Version),
                ("description", F::Description),
                ("size", F::Size),
            ],
            Self::Wmi => &[
                ("class", F::Class),
                ("property", F::Property),
                ("value", F::Value),
            ],
            Self::Package => &[
                ("name", F::Name),
                ("publisher", F::Publisher),
                ("version", F::Version),
                ("architecture", F::Architecture),
            ],
            Self::Swid => &[
                ("name", F::Name),
                ("tag_id", F::TagId),
                ("creator", F::Publisher),
                ("version", F::Version),
                ("edition", F::Edition),
                ("licensor", F::Licensor),
                ("entitlement_required", F::EntitlementRequired),
            ],
        }
    }

    /// The field a rule of this kind must name, and which keys its index.
    pub fn key_field(self) -> EvidenceField {
        match self {
            Self::Wmi => EvidenceField::Class,
            _ => EvidenceField::Name,
        }
    }
}

/// One field of an evidence row. `evidence.csv` has one column per field, named by
/// [`EvidenceField::column`]; each kind uses the fields [`EvidenceKind::fields`] lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EvidenceField {
    /// Installer and package publisher, file company, SWID software creator.
    Publisher,
    /// Display name, file name, package name, SWID product name.
    Name,
    Version,
    /// An MSI product code.
    ProductCode,
    /// The installer entry is marked `SystemComponent` (hidden from Add/Remove Programs):
    /// `true` or `false`.
    SystemComponent,
    /// The installer entry's parent (`ParentKeyName`): updates hang under their product.
    Parent,
    /// The installer entry's `ReleaseType`: `Hotfix`, `Security Update`, `Update Rollup`, ….
    ReleaseType,
    /// A file's description.
    Description,
    /// A file's size in bytes.
    Size,
    /// A WMI class, or `Win32_Registry` for a registry value.
    Class,
    /// A WMI property, or a registry value's path and name.
    Property,
    /// A WMI property's value, or a registry value's data.
    Value,
    /// A package's architecture (`x86_64`, `amd64`, `noarch`, …).
    Architecture,
    /// A SWID tag's `tagId`.
    TagId,
    /// A SWID tag's edition.
    Edition,
    /// A SWID tag's licensor.
    Licensor,
    /// A SWID tag's `entitlementDataRequired`: `true` or `false`.
    EntitlementRequired,
}

impl EvidenceField {
    /// Every field with its `evidence.csv` column.
    pub const COLUMNS: &[(&str, Self)] = &[
        ("publisher", Self::Publisher),
        ("name", Self::Name),
        ("version", Self::Version),
        ("product_code", Self::ProductCode),
        ("system_component", Self::SystemComponent),
        ("parent", Self::Parent),
        ("release_type", Self::ReleaseType),
        ("description", Self::Description),
        ("size", Self::Size),
        ("class", Self::Class),
        ("property", Self::Property),
        ("value", Self::Value),
        ("architecture", Self::Architecture),
        ("tag_id", Self::TagId),
        ("edition", Self::Edition),
        ("licensor", Self::Licensor),
        ("entitlement_required", Self::EntitlementRequired),
    ];

    /// The field's column in `evidence.csv`.
    pub fn column(self) -> &'static str {
        spelling(Self::COLUMNS, self)
    }

    /// Whether the field holds `true` or `false` (matched by a flag in a rule).
    pub fn is_flag(self) -> bool {
        matches!(self, Self::SystemComponent | Self::EntitlementRequired)
    }
}

/// Legal-form words dropped from the end of a publisher's name.
const LEGAL_SUFFIXES: &[&str] = &[
    "ab",
    "ag",
    "as",
    "bv",
    "co",
    "company",
    "corp",
    "corporation",
    "gmbh",
    "inc",
    "incorporated",
    "kg",
    "kk",
    "limited",
    "llc",
    "llp",
    "lp",
    "ltd",
    "nv",
    "oy",
    "plc",
    "pty",
    "sa",
    "sarl",
    "sas",
    "spa",
    "srl",
];

/// A publisher's name reduced to what identifies it: lowercase, punctuation dropped, spaces
/// collapsed, and legal forms at the end removed, so "Autodesk, Inc.", "Autodesk Inc" and
/// "AUTODESK" are all `autodesk`. A name made only of legal forms is kept as it is.
pub fn normalize_publisher(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '&' || c == '+' {
                c
            } else {
                ' '
            }
        })
        .flat_map(char::to_lowercase)
        .collect();
    let mut words: Vec<&str> = cleaned.split_whitespace().collect();
    while words.len() > 1
        && words
            .last()
            .is_some_and(|w| LEGAL_SUFFIXES.binary_search(w).is_ok())
    {
        words.pop();
    }
    words.join(" ")
}

/// Compares version strings component by component: runs of digits by value, other text
/// case-insensitively; a missing component counts as 0, so `16` = `16.0` and `9.2` < `10`.
/// Text sorts before numbers (`2016 R2` > `2016`, `10.0.beta` < `10.0.1`).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let (ta, tb) = (version_tokens(a), version_tokens(b));
    let zero = VersionToken::Number(String::new());
    for i in 0..ta.len().max(tb.len()) {
        let (x, y) = (ta.get(i), tb.get(i));
        let ord = match (x, y) {
            (None, Some(VersionToken::Text(_))) => Ordering::Less,
            (Some(VersionToken::Text(_)), None) => Ordering::Greater,
            _ => compare_tokens(x.unwrap_or(&zero), y.unwrap_or(&zero)),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// Whether a version can be placed in order without a product's list: it starts with a digit.
pub fn is_numeric_version(version: &str) -> bool {
    version.trim().starts_with(|c: char| c.is_ascii_digit())
}

fn compare_tokens(x: &VersionToken, y: &VersionToken) -> Ordering {
    match (x, y) {
        (VersionToken::Number(x), VersionToken::Number(y)) => {
            let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
            x.len().cmp(&y.len()).then_with(|| x.cmp(y))
        }
        (VersionToken::Number(_), VersionToken::Text(_)) => Ordering::Greater,
        (VersionToken::Text(_), VersionToken::Number(_)) => Ordering::Less,
        (VersionToken::Text(x), VersionToken::Text(y)) => x.cmp(y),
    }
}

#[derive(Debug)]
enum VersionToken {
    Number(String),
    Text(String),
}

fn version_tokens(s: &str) -> Vec<VersionToken> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut digits = false;
    let mut push = |current: &mut String, digits: bool| {
        let s = std::mem::take(current);
        out.push(if digits {
            VersionToken::Number(s)
        } else {
            VersionToken::Text(s)
        });
    };
    for c in s.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                push(&mut current, digits);
            }
            continue;
        }
        let is_digit = c.is_ascii_digit();
        if !current.is_empty() && is_digit != digits {
            push(&mut current, digits);
        }
        digits = is_digit;
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        push(&mut current, digits);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legal_forms_and_punctuation_do_not_distinguish_publishers() {
        for spelling in [
            "Autodesk, Inc.",
            "Autodesk Inc",
            "AUTODESK",
            " Autodesk  Inc. ",
        ] {
            assert_eq!(normalize_publisher(spelling), "autodesk", "{spelling}");
        }
        assert_eq!(normalize_publisher("Microsoft Corporation"), "microsoft");
        assert_eq!(
            normalize_publisher("Adobe Systems Incorporated"),
            "adobe systems"
        );
        assert_eq!(
            normalize_publisher("Oracle America, Inc."),
            "oracle america"
        );
        assert_eq!(normalize_publisher("AT&T"), "at&t");
        assert_eq!(normalize_publisher("Inc."), "inc");
        assert_eq!(normalize_publisher(""), "");
    }

    #[test]
    fn the_suffix_list_is_sorted_for_binary_search() {
        assert!(LEGAL_SUFFIXES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn versions_compare_component_by_component() {
        assert_eq!(compare_versions("2013", "2016"), Ordering::Less);
        assert_eq!(compare_versions("9.2", "10.0"), Ordering::Less);
        assert_eq!(compare_versions("15.0.4569", "15.0"), Ordering::Greater);
        assert_eq!(compare_versions("16", "16.0.0"), Ordering::Equal);
        assert_eq!(compare_versions("007", "7"), Ordering::Equal);
        assert_eq!(compare_versions("2016 R2", "2016"), Ordering::Greater);
        assert_eq!(compare_versions("10.0.beta", "10.0.1"), Ordering::Less);
        assert_eq!(compare_versions("XI", "xi"), Ordering::Equal);
        assert_eq!(compare_versions("15.0.4569.1506", "16.0"), Ordering::Less);
    }

    #[test]
    fn every_kind_keys_on_a_field_it_has() {
        for (_, kind) in EvidenceKind::NAMES {
            assert!(kind.fields().iter().any(|(_, f)| *f == kind.key_field()));
            assert_eq!(
                kind.fields().first().map(|(_, f)| *f),
                Some(kind.key_field())
            );
        }
    }
}
