//! Triage of the unrecognised evidence: what a SAM team writes rules for next.
//!
//! The evidence no rule recognised is grouped by normalised publisher, product name and version
//! family, and each group is counted in devices and rows and ranked, most devices first. Each
//! group carries a suggested `recognize` rule and application id to paste into a pack and
//! adjust, and a few devices to look at. Noise (hotfixes, updates, language packs, rows marked
//! ignored, …) is not grouped but counted apart by category.
//!
//! The input is plain evidence rows and noise counts, not recognition's own types, so that the
//! report does not depend on how recognition decided what is unrecognised or noise.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use tally_compiler::evidence::normalize_publisher;

use crate::estate::{Evidence, EvidenceField, EvidenceKind};
use crate::recognize::{DeviceView, like};

/// How many device ids a group lists as examples.
pub const SAMPLE_DEVICES: usize = 3;

/// The longest name pattern a suggested rule quotes, so that the rule, one field to a line,
/// fits 80 columns. A longer pattern is cut at a word and ends with `%`, which still matches
/// every row of the group.
const PATTERN_LIMIT: usize = 56;

/// The result of triage: the unrecognised evidence in ranked groups, and the noise by category.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Triage {
    /// Most devices first, then most rows, then by publisher, product, version family and kind.
    pub groups: Vec<Group>,
    /// Ranked like the groups: most devices first, then most rows, then by category.
    pub noise: Vec<NoiseCount>,
    /// Unrecognised rows in all.
    pub rows: usize,
    /// Devices with at least one unrecognised row.
    pub devices: usize,
}

/// Unrecognised evidence that looks like one product and major version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub kind: EvidenceKind,
    /// The publisher as most of the group's rows spell it; empty when none names one.
    pub publisher: String,
    /// The normalised product name, as most of the group's rows spell it.
    pub product: String,
    /// The major version: the leading digits of the version, empty when it has none.
    pub version_family: String,
    pub devices: usize,
    pub rows: usize,
    /// The first [`SAMPLE_DEVICES`] device ids, in order.
    pub sample_devices: Vec<String>,
    /// A suggested application id: `publisher_slug.product_slug_major`.
    pub application: String,
    pub rule: SuggestedRule,
}

/// Evidence of one noise category, counted apart from the unrecognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoiseCount {
    /// `hotfix`, `update`, `language_pack`, `driver`, `component`, `ignored`, ….
    pub category: String,
    pub rows: usize,
    pub devices: usize,
}

impl NoiseCount {
    /// Counts noise rows, each given with its category; in category order.
    pub fn count<'a>(rows: impl IntoIterator<Item = (&'a str, &'a Evidence)>) -> Vec<Self> {
        let mut by_category: BTreeMap<&str, (usize, BTreeSet<&str>)> = BTreeMap::new();
        for (category, evidence) in rows {
            let (count, devices) = by_category.entry(category).or_default();
            *count += 1;
            devices.insert(&evidence.device);
        }
        by_category
            .into_iter()
            .map(|(category, (rows, devices))| Self {
                category: category.to_owned(),
                rows,
                devices: devices.len(),
            })
            .collect()
    }
}

/// A `recognize` rule suggested for a group, field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuggestedRule {
    pub kind: EvidenceKind,
    /// Each field as written in the rule, such as `name like "Microsoft Edge%"`.
    pub fields: Vec<String>,
}

impl SuggestedRule {
    /// The rule with one field to a line, for when it does not fit on one.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!("recognize {} {{", self.kind.as_str())];
        lines.extend(self.fields.iter().map(|f| format!("    {f}")));
        lines.push("}".to_owned());
        lines
    }
}

impl fmt::Display for SuggestedRule {
    /// The rule on one line, fields two spaces apart as the standard packs write them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "recognize {} {{ {} }}",
            self.kind.as_str(),
            self.fields.join("  ")
        )
    }
}

/// Groups the unrecognised evidence and ranks the groups; `noise` is passed through, ranked.
pub fn triage(unrecognized: &[&Evidence], mut noise: Vec<NoiseCount>) -> Triage {
    let mut members: BTreeMap<GroupKey, Members> = BTreeMap::new();
    for evidence in unrecognized {
        let title = title(evidence);
        let version = matchable_version(evidence);
        let product = normalize_name(title, version).text;
        let key = GroupKey {
            kind: evidence.kind,
            publisher: normalize_publisher(&evidence.publisher),
            qualifier: qualifier(evidence)
                .iter()
                .map(|q| q.trim().to_lowercase())
                .collect(),
            product: product.to_lowercase(),
            family: version_family(version).to_owned(),
        };
        members.entry(key).or_default().add(evidence, product);
    }
    let mut groups: Vec<Group> = members
        .into_iter()
        .map(|(key, members)| members.group(key))
        .collect();
    groups.sort_by(|a, b| {
        (b.devices, b.rows)
            .cmp(&(a.devices, a.rows))
            .then_with(|| rank_key(a).cmp(&rank_key(b)))
    });
    noise.sort_by(|a, b| (b.devices, b.rows, &a.category).cmp(&(a.devices, a.rows, &b.category)));
    let devices: BTreeSet<&str> = unrecognized.iter().map(|e| &*e.device).collect();
    Triage {
        groups,
        noise,
        rows: unrecognized.len(),
        devices: devices.len(),
    }
}

/// The order of groups with as many devices and rows: by what they are.
fn rank_key(group: &Group) -> (String, String, &str, EvidenceKind, &str) {
    (
        normalize_publisher(&group.publisher),
        group.product.to_lowercase(),
        &group.version_family,
        group.kind,
        &group.application,
    )
}

/// What makes rows one group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct GroupKey {
    kind: EvidenceKind,
    /// Normalised with [`normalize_publisher`].
    publisher: String,
    /// A WMI row's class and property, lowercased; empty for other kinds.
    qualifier: Vec<String>,
    /// The normalised name, lowercased.
    product: String,
    family: String,
}

/// The rows of one group, as they are spelt.
#[derive(Debug, Default)]
struct Members<'a> {
    rows: usize,
    devices: BTreeSet<&'a str>,
    publishers: BTreeMap<&'a str, usize>,
    /// Normalised names, as spelt.
    products: BTreeMap<String, usize>,
    /// Names as given, each with its row's version.
    titles: BTreeMap<(&'a str, &'a str), usize>,
    /// WMI class and property as given.
    qualifiers: BTreeMap<Vec<&'a str>, usize>,
    versions: BTreeSet<&'a str>,
    empty_publisher: bool,
}

impl<'a> Members<'a> {
    fn add(&mut self, evidence: &'a Evidence, product: String) {
        self.rows += 1;
        self.devices.insert(&evidence.device);
        *self
            .publishers
            .entry(evidence.publisher.trim())
            .or_default() += 1;
        *self.products.entry(product).or_default() += 1;
        let version = matchable_version(evidence);
        *self
            .titles
            .entry((title(evidence).trim(), version))
            .or_default() += 1;
        *self.qualifiers.entry(qualifier(evidence)).or_default() += 1;
        self.versions.insert(version.trim());
        self.empty_publisher |= evidence.publisher.trim().is_empty();
    }

    fn group(self, key: GroupKey) -> Group {
        let publisher = most_common(&self.publishers).copied().unwrap_or_default();
        let product = most_common(&self.products).cloned().unwrap_or_default();
        let rule = self.rule(key.kind, &key.family);
        Group {
            kind: key.kind,
            publisher: publisher.to_owned(),
            application: application_id(&key.publisher, &product, &key.family),
            product,
            version_family: key.family,
            devices: self.devices.len(),
            rows: self.rows,
            sample_devices: self
                .devices
                .iter()
                .take(SAMPLE_DEVICES)
                .map(|d| (*d).to_owned())
                .collect(),
            rule,
        }
    }

    fn rule(&self, kind: EvidenceKind, family: &str) -> SuggestedRule {
        let spelling = |field: EvidenceField| {
            kind.fields()
                .iter()
                .find(|(_, f)| *f == field)
                .map_or("", |(name, _)| name)
        };
        let mut fields = Vec::new();
        let qualifier = most_common(&self.qualifiers).cloned().unwrap_or_default();
        for (field, text) in qualifier_fields(kind).iter().zip(qualifier) {
            fields.push(format!("{} {}", spelling(*field), exact(text)));
        }
        fields.push(format!(
            "{} like {}",
            spelling(title_field(kind)),
            quote(&self.title_pattern())
        ));
        if let Some(range) = version_clause(family, &self.versions) {
            fields.push(format!("{} {range}", spelling(EvidenceField::Version)));
        }
        if kind == EvidenceKind::Installer && self.empty_publisher {
            fields.push("empty_publisher".to_owned());
        }
        SuggestedRule { kind, fields }
    }

    /// A pattern every title of the group matches: the most common spelling with what
    /// normalisation dropped as `%`; failing that, the kept words with `%` between them.
    fn title_pattern(&self) -> String {
        let Some((title, version)) = most_common(&self.titles) else {
            return "%".to_owned();
        };
        let name = normalize_name(title, version);
        let words: Vec<&str> = name.text.split(' ').collect();
        let candidates = [
            name.pattern.clone(),
            format!("{}%", words.join("%")),
            format!("%{}%", words.join("%")),
        ];
        let matches_all = |pattern: &str| {
            let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
            self.titles.keys().all(|(title, _)| {
                let text: Vec<char> = title.trim().to_lowercase().chars().collect();
                like(&pattern, &text)
            })
        };
        let pattern = candidates
            .iter()
            .find(|p| matches_all(p))
            .map_or_else(|| "%".to_owned(), Clone::clone);
        shorten_pattern(&pattern)
    }
}

/// The most frequent key; of equally frequent ones, the first.
fn most_common<K: Ord>(counts: &BTreeMap<K, usize>) -> Option<&K> {
    let mut best: Option<(&K, usize)> = None;
    for (key, count) in counts {
        if best.is_none_or(|(_, most)| *count > most) {
            best = Some((key, *count));
        }
    }
    best.map(|(key, _)| key)
}

/// The field a rule names the product by: the name, or a WMI property's value.
fn title_field(kind: EvidenceKind) -> EvidenceField {
    match kind {
        EvidenceKind::Wmi => EvidenceField::Value,
        _ => EvidenceField::Name,
    }
}

fn title(evidence: &Evidence) -> &str {
    evidence.field(title_field(evidence.kind))
}

/// The fields that place a title, matched exactly: a WMI value's class and property.
fn qualifier_fields(kind: EvidenceKind) -> &'static [EvidenceField] {
    match kind {
        EvidenceKind::Wmi => &[EvidenceField::Class, EvidenceField::Property],
        _ => &[],
    }
}

fn qualifier(evidence: &Evidence) -> Vec<&str> {
    qualifier_fields(evidence.kind)
        .iter()
        .map(|f| evidence.field(*f).trim())
        .collect()
}

/// The row's version, when its kind's rules can match one.
fn matchable_version(evidence: &Evidence) -> &str {
    let versioned = evidence
        .kind
        .fields()
        .iter()
        .any(|(_, f)| *f == EvidenceField::Version);
    if versioned { &evidence.version } else { "" }
}

/// The major version: the version's leading digits; empty when it does not start with one.
pub fn version_family(version: &str) -> &str {
    let version = version.trim();
    let end = version
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(version.len());
    version.get(..end).unwrap_or_default()
}

/// The version part of a suggested rule: `like "16.%"` when every version continues the family
/// with a dot, else the range of the family (`>= "16" < "17"`), which also takes `16` alone.
fn version_clause(family: &str, versions: &BTreeSet<&str>) -> Option<String> {
    if family.is_empty() {
        return None;
    }
    let dotted = format!("{family}.");
    if versions.iter().all(|v| v.starts_with(&dotted)) {
        return Some(format!("like {}", quote(&format!("{family}.%"))));
    }
    let next = family.parse::<u64>().ok().and_then(|n| n.checked_add(1));
    Some(match next {
        Some(next) => format!(">= {} < {}", quote(family), quote(&next.to_string())),
        None => format!("like {}", quote(&format!("{family}%"))),
    })
}

/// A rule string: quoted, with `"` and `\` escaped. Line breaks, which a rule string cannot
/// hold, become `_` (any one character) in patterns.
fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push('_'),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An exact rule value; a text with a line break becomes a `like` pattern with `_` for it.
fn exact(text: &str) -> String {
    if text.contains(['\n', '\r']) {
        format!("like {}", quote(text))
    } else {
        quote(text)
    }
}

/// Cuts a pattern longer than [`PATTERN_LIMIT`] at a word and ends it with `%`.
fn shorten_pattern(pattern: &str) -> String {
    if pattern.chars().count() <= PATTERN_LIMIT {
        return pattern.to_owned();
    }
    let head: String = pattern.chars().take(PATTERN_LIMIT - 1).collect();
    let cut = head
        .rfind([' ', '%'])
        .filter(|at| *at > 0)
        .unwrap_or(head.len());
    format!("{}%", head.get(..cut).unwrap_or(&head).trim_end())
}

/// A suggested application id: `publisher_slug.product_slug_major`, the product without the
/// publisher's name in front (`microsoft.edge_131`, not `microsoft.microsoft_edge_131`).
fn application_id(publisher: &str, product: &str, family: &str) -> String {
    let publisher_words: Vec<&str> = publisher.split(' ').filter(|w| !w.is_empty()).collect();
    let product_words: Vec<&str> = product.split_whitespace().collect();
    let shared = product_words
        .iter()
        .zip(&publisher_words)
        .take_while(|(word, publisher_word)| normalize_publisher(word) == **publisher_word)
        .count();
    let own_words = match product_words.get(shared..) {
        Some(rest) if !rest.is_empty() => rest,
        _ => &product_words[..],
    };
    let mut product_slug = slug(&own_words.join(" "), "product");
    if !family.is_empty() {
        product_slug.push('_');
        product_slug.push_str(family);
    }
    format!("{}.{product_slug}", slug(publisher, "publisher"))
}

/// Text as one segment of an identifier: lowercase ASCII letters, digits and `_`, starting
/// with a letter (`+` is `p`, so C++ is `cpp`; `&` is `and`). A slug that would start with
/// a digit gets `prefix_` in front; an empty one is `unknown`.
fn slug(text: &str, prefix: &str) -> String {
    let mut out = String::new();
    let mut gap = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        let piece = match c {
            'a'..='z' | '0'..='9' => c.to_string(),
            '+' => "p".to_owned(),
            '&' => "and".to_owned(),
            _ => {
                gap = true;
                continue;
            }
        };
        if gap && !out.is_empty() {
            out.push('_');
        }
        gap = false;
        out.push_str(&piece);
    }
    if out.is_empty() {
        "unknown".to_owned()
    } else if out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("{prefix}_{out}")
    } else {
        out
    }
}

/// A name normalised for grouping, and a pattern for the name as it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NormalizedName {
    /// The words kept, one space apart.
    text: String,
    /// The name with each run of dropped words as `%`, ending with `%`.
    pattern: String,
}

/// A product name without what varies between installations of one product: architecture
/// markers (`(64-bit)`, `x64`, `(x86)`), language tags (` - en-us`, ` - Deutsch`,
/// `(English)`), numbers that repeat the version (`WinZip 27.0` at 27.0.15240, `(10.1.4)`),
/// a trailing update number (`Java 8 Update 401`) and the separators these leave at the end;
/// spaces are collapsed.
pub fn normalize_product_name(name: &str, version: &str) -> String {
    normalize_name(name, version).text
}

fn normalize_name(name: &str, version: &str) -> NormalizedName {
    let units = units(name);
    let mut kept = vec![true; units.len()];
    for (i, unit) in units.iter().enumerate() {
        let after_architecture = i
            .checked_sub(1)
            .and_then(|p| units.get(p))
            .is_some_and(|previous| is_architecture(previous));
        if is_architecture(unit)
            || is_noise_group(unit)
            || repeats_version(unit, version)
            || (after_architecture && unit.eq_ignore_ascii_case("edition"))
        {
            kept[i] = false;
        }
    }
    drop_trailing_noise(&units, &mut kept);
    if !kept.contains(&true) {
        kept.fill(true);
    }
    let text: Vec<&str> = units
        .iter()
        .zip(&kept)
        .filter(|(_, k)| **k)
        .map(|(u, _)| u.as_str())
        .collect();
    let mut parts: Vec<&str> = Vec::new();
    for (unit, kept) in units.iter().zip(&kept) {
        if *kept {
            parts.push(unit);
        } else if parts.last() != Some(&"%") {
            parts.push("%");
        }
    }
    if parts.last() == Some(&"%") {
        parts.pop();
    }
    NormalizedName {
        text: text.join(" "),
        pattern: format!("{}%", parts.join(" ")),
    }
}

/// Drops what is left at the end once the rest is gone: separators, a language tag after a
/// separator (` - Deutsch`), an update number (`Update 31`).
fn drop_trailing_noise(units: &[String], kept: &mut [bool]) {
    loop {
        let mut live = kept.iter().enumerate().rev().filter(|(_, k)| **k);
        let Some((last, _)) = live.next() else { return };
        let before = live.next().map(|(i, _)| i);
        let (Some(unit), previous) = (units.get(last), before.and_then(|i| units.get(i))) else {
            return;
        };
        let dropped = if is_separator(unit)
            || (is_language_tag(unit) && previous.is_some_and(|p| is_separator(p)))
        {
            vec![last]
        } else if let Some(update) = before.filter(|b| {
            unit.bytes().all(|c| c.is_ascii_digit())
                && previous.is_some_and(|p| p.eq_ignore_ascii_case("update"))
                && kept.get(..*b).is_some_and(|k| k.contains(&true))
        }) {
            vec![last, update]
        } else {
            return;
        };
        for i in dropped {
            if let Some(k) = kept.get_mut(i) {
                *k = false;
            }
        }
    }
}

/// A name's words, with a parenthesised group as one unit: `(64-bit x64)`.
fn units(name: &str) -> Vec<String> {
    let mut units = Vec::new();
    let mut group: Option<String> = None;
    for word in name.split_whitespace() {
        match group.as_mut() {
            Some(open) => {
                open.push(' ');
                open.push_str(word);
                if word.ends_with(')') {
                    units.extend(group.take());
                }
            }
            None if word.starts_with('(') && !word.ends_with(')') => {
                group = Some(word.to_owned());
            }
            None => units.push(word.to_owned()),
        }
    }
    if let Some(unclosed) = group {
        units.extend(unclosed.split(' ').map(str::to_owned));
    }
    units
}

/// Architectures as installers write them.
const ARCHITECTURES: &[&str] = &[
    "32-bit", "64-bit", "aarch64", "amd64", "arm64", "ia64", "x64", "x86", "x86-64", "x86_64",
];

/// Languages' codes that may stand alone as a tag (` - de`) or begin one (`en-us`).
const LANGUAGE_CODES: &[&str] = &[
    "ar", "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "he", "hr", "hu", "it", "ja",
    "ko", "lt", "lv", "nb", "nl", "no", "pl", "pt", "ro", "ru", "sk", "sl", "sr", "sv", "th", "tr",
    "uk", "zh",
];

/// Languages' names, in English and in themselves, as language packs are named.
const LANGUAGE_NAMES: &[&str] = &[
    "arabic",
    "chinese",
    "czech",
    "čeština",
    "danish",
    "dansk",
    "deutsch",
    "dutch",
    "english",
    "español",
    "finnish",
    "français",
    "french",
    "german",
    "greek",
    "hungarian",
    "italian",
    "italiano",
    "japanese",
    "korean",
    "magyar",
    "nederlands",
    "norsk",
    "norwegian",
    "polish",
    "polski",
    "portuguese",
    "português",
    "russian",
    "spanish",
    "suomi",
    "svenska",
    "swedish",
    "turkish",
    "türkçe",
];

/// A word without the punctuation around it, lowercased.
fn bare(word: &str) -> String {
    word.trim_matches(|c: char| matches!(c, '(' | ')' | '[' | ']' | ',' | ';' | ':'))
        .to_lowercase()
}

fn is_architecture(unit: &str) -> bool {
    !unit.starts_with('(') && ARCHITECTURES.contains(&bare(unit).as_str())
}

fn is_language_tag(word: &str) -> bool {
    let word = bare(word);
    if LANGUAGE_NAMES.contains(&word.as_str()) {
        return true;
    }
    let mut parts = word.split(['-', '_']);
    let code = parts.next().unwrap_or_default();
    let region: Vec<&str> = parts.collect();
    LANGUAGE_CODES.contains(&code)
        && region.len() <= 2
        && region
            .iter()
            .all(|p| (2..=4).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// A parenthesised group of architectures and language tags only: `(64-bit)`, `(x64 de)`,
/// `(English)`, `(64 bit)`.
fn is_noise_group(unit: &str) -> bool {
    let Some(inner) = unit
        .strip_prefix('(')
        .and_then(|rest| rest.strip_suffix(')'))
    else {
        return false;
    };
    let inner = inner.to_lowercase().replace(" bit", "-bit");
    let words: Vec<&str> = inner
        .split([' ', ',', '/', ';'])
        .filter(|w| !w.is_empty())
        .collect();
    !words.is_empty()
        && words
            .iter()
            .all(|w| ARCHITECTURES.contains(w) || is_language_tag(w))
}

fn is_separator(unit: &str) -> bool {
    matches!(unit, "-" | "–" | "—" | "|" | ":" | ",")
}

/// Whether a word is a dotted number that repeats the version's first two components: `27.0`
/// at 27.0.15240, `(10.1.4)` at 10.1.4, `v3.12.7` at 3.12.7150.0.
fn repeats_version(unit: &str, version: &str) -> bool {
    let word = bare(unit);
    let word = word.strip_prefix('v').unwrap_or(&word);
    let parts: Vec<&str> = word.split('.').collect();
    let numeric = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if parts.len() < 2 || !parts.iter().all(numeric) {
        return false;
    }
    let version_parts: Vec<&str> = version.trim().split('.').collect();
    let same = |(a, b): (&&str, &&str)| {
        numeric(b) && a.trim_start_matches('0') == b.trim_start_matches('0')
    };
    version_parts.len() >= 2 && parts.iter().zip(&version_parts).take(2).all(same)
}

/// The unrecognised rows that are not noise, and the noise counted by category: rows an
/// `ignore` declaration matched, under its category, and rows the estate marks as ignored,
/// under `ignored`.
pub fn split<'a>(recognition: &[DeviceView<'a>]) -> (Vec<&'a Evidence>, Vec<NoiseCount>) {
    let mut unrecognized = Vec::new();
    let mut noise = Vec::new();
    for view in recognition {
        let found = view.recognition;
        noise.extend(view.rows(&found.ignored).map(|e| ("ignored", e)));
        noise.extend(
            found
                .noise
                .iter()
                .filter_map(|n| Some((n.category.as_str(), view.row(n.evidence)?))),
        );
        unrecognized.extend(view.rows(&found.unrecognized));
    }
    (unrecognized, NoiseCount::count(noise))
}
