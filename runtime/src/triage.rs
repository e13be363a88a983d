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
use crate::recognize::like;

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
    let devices: BTreeSet<&str> = unrecognized.iter().map(|e| e.device.as_str()).collect();
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

/// Stands in for recognition's noise categories until it reports them: rows marked ignored
/// are noise `ignored`, and unrecognised installer rows whose name looks like a hotfix are
/// noise `hotfix`. Replace [`split`] with recognition's own categories when it has them.
pub mod provisional_noise {
    use std::collections::BTreeMap;

    use super::NoiseCount;
    use crate::estate::{Device, Evidence, EvidenceKind};
    use crate::recognize::DeviceRecognition;

    /// The unrecognised rows that are not noise, and the noise counted by category.
    pub fn split<'a>(
        recognition: &[(&Device, &DeviceRecognition)],
        evidence: &[&'a Evidence],
    ) -> (Vec<&'a Evidence>, Vec<NoiseCount>) {
        let by_line: BTreeMap<usize, &'a Evidence> =
            evidence.iter().map(|e| (e.line, *e)).collect();
        let rows = |lines: &[usize]| -> Vec<&'a Evidence> {
            lines
                .iter()
                .filter_map(|l| by_line.get(l).copied())
                .collect()
        };
        let mut unrecognized = Vec::new();
        let mut noise = Vec::new();
        for (_, found) in recognition {
            noise.extend(rows(&found.ignored).into_iter().map(|e| ("ignored", e)));
            for e in rows(&found.unrecognized) {
                if e.kind == EvidenceKind::Installer && looks_like_hotfix(&e.name) {
                    noise.push(("hotfix", e));
                } else {
                    unrecognized.push(e);
                }
            }
        }
        (unrecognized, NoiseCount::count(noise))
    }

    /// A name that cites a Knowledge Base article (`KB5002623`) or starts with "Hotfix".
    fn looks_like_hotfix(name: &str) -> bool {
        let name = name.trim().to_lowercase();
        name.starts_with("hotfix")
            || name
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter_map(|w| w.strip_prefix("kb"))
                .any(|digits| digits.len() >= 6 && digits.bytes().all(|b| b.is_ascii_digit()))
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn knowledge_base_articles_and_hotfixes_are_hotfixes() {
            for name in [
                "Security Update for Microsoft Office 2016 (KB5002623) 64-Bit Edition",
                "Update for Microsoft Office 2016 (KB5002606) 64-Bit Edition",
                "Hotfix for Microsoft .NET Framework 4.8",
                "KB4023057",
            ] {
                assert!(super::looks_like_hotfix(name), "{name}");
            }
            for name in [
                "Dell Command | Update for Windows Universal",
                "Microsoft Update Health Tools",
                "KB Tool 12",
            ] {
                assert!(!super::looks_like_hotfix(name), "{name}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalized(name: &str, version: &str) -> String {
        normalize_product_name(name, version)
    }

    #[test]
    fn language_tags_are_dropped() {
        assert_eq!(
            normalized(
                "Microsoft Office Proofing Tools 2016 - Deutsch",
                "16.0.4266.1001"
            ),
            "Microsoft Office Proofing Tools 2016"
        );
        assert_eq!(
            normalized("Microsoft Office Professional Plus 2019 - en-us", "16.0"),
            "Microsoft Office Professional Plus 2019"
        );
        assert_eq!(
            normalized("Microsoft Office Shared MUI (English) 2016", "16.0"),
            "Microsoft Office Shared MUI 2016"
        );
        assert_eq!(
            normalized("Mozilla Firefox (x64 de)", "132.0.2"),
            "Mozilla Firefox"
        );
        // Not a language after the separator, so kept.
        assert_eq!(
            normalized("Cisco Secure Client - AnyConnect VPN", "5.1.2.42"),
            "Cisco Secure Client - AnyConnect VPN"
        );
        assert_eq!(normalized("Acme - Pro", "1.0"), "Acme - Pro");
    }

    #[test]
    fn architecture_markers_are_dropped() {
        assert_eq!(
            normalized("Zoom Workplace (64-bit)", "6.2.51470"),
            "Zoom Workplace"
        );
        assert_eq!(normalized("Notepad++ (64-bit x64)", "8.6.9"), "Notepad++");
        assert_eq!(normalized("Acme Tool (x86)", ""), "Acme Tool");
        assert_eq!(normalized("Acme Tool x64", ""), "Acme Tool");
        assert_eq!(normalized("Acme Tool (64 Bit)", ""), "Acme Tool");
        assert_eq!(
            normalized("Microsoft Office 32-bit Components 2013", "15.0"),
            "Microsoft Office Components 2013"
        );
        assert_eq!(normalized("Foo 64-Bit Edition", ""), "Foo");
        // Nothing but a marker: kept as it is.
        assert_eq!(normalized("x64", ""), "x64");
    }

    #[test]
    fn numbers_that_repeat_the_version_are_dropped() {
        assert_eq!(
            normalized("Adobe Reader X (10.1.4)", "10.1.4"),
            "Adobe Reader X"
        );
        assert_eq!(
            normalized(
                "Microsoft Visual C++ 2015-2022 Redistributable (x64) - 14.36.32532",
                "14.36.32532.0"
            ),
            "Microsoft Visual C++ 2015-2022 Redistributable"
        );
        assert_eq!(
            normalized("Python 3.12.7 (64-bit)", "3.12.7150.0"),
            "Python"
        );
        assert_eq!(normalized("WinZip 27.0", "27.0.15240"), "WinZip");
        assert_eq!(
            normalized("Microsoft SQL Server Management Studio - 20.2", "20.2.30.0"),
            "Microsoft SQL Server Management Studio"
        );
        // A year, or a number the version does not repeat, is part of the name.
        assert_eq!(
            normalized("Microsoft Visio Viewer 2016", "16.0.4339.1001"),
            "Microsoft Visio Viewer 2016"
        );
        assert_eq!(normalized("Acme 2.5 Tools", "3.1"), "Acme 2.5 Tools");
        assert_eq!(normalized("Acme 2.5", ""), "Acme 2.5");
    }

    #[test]
    fn a_trailing_update_number_is_dropped() {
        assert_eq!(normalized("Java(TM) 6 Update 31", "6.0.310"), "Java(TM) 6");
        assert_eq!(
            normalized("Java 8 Update 401 (64-bit)", "8.0.4010.7"),
            "Java 8"
        );
        assert_eq!(normalized("Update 31", ""), "Update 31");
        assert_eq!(
            normalized("Microsoft Update Health Tools", "5.72.0.0"),
            "Microsoft Update Health Tools"
        );
    }

    #[test]
    fn spaces_are_collapsed() {
        assert_eq!(
            normalized("  Acme   Editor  2024 ", "24.1"),
            "Acme Editor 2024"
        );
    }

    #[test]
    fn patterns_keep_what_was_dropped_as_wildcards() {
        let pattern = |name: &str, version: &str| normalize_name(name, version).pattern;
        assert_eq!(pattern("Zoom Workplace (64-bit)", "6.2"), "Zoom Workplace%");
        assert_eq!(
            pattern("Microsoft Office 32-bit Components 2013", "15.0"),
            "Microsoft Office % Components 2013%"
        );
        assert_eq!(pattern("Microsoft Edge", "131.0"), "Microsoft Edge%");
    }

    #[test]
    fn the_version_family_is_the_leading_number() {
        assert_eq!(version_family("16.0.4266.1001"), "16");
        assert_eq!(version_family(" 2024.07.3"), "2024");
        assert_eq!(version_family("131"), "131");
        assert_eq!(version_family("XI"), "");
        assert_eq!(version_family(""), "");
    }

    #[test]
    fn application_ids_are_identifiers_without_the_publisher_twice() {
        assert_eq!(
            application_id("microsoft", "Microsoft Edge", "131"),
            "microsoft.edge_131"
        );
        assert_eq!(
            application_id("adobe systems", "Adobe Reader X", "10"),
            "adobe_systems.reader_x_10"
        );
        assert_eq!(
            application_id("notepad++ team", "Notepad++", "8"),
            "notepadpp_team.notepadpp_8"
        );
        assert_eq!(
            application_id("veeam software group", "Veeam Backup & Replication", "12"),
            "veeam_software_group.backup_and_replication_12"
        );
        assert_eq!(application_id("", "7-Zip", ""), "unknown.product_7_zip");
        assert_eq!(application_id("3m", "Ω", "1"), "publisher_3m.unknown_1");
    }

    fn row(line: usize, device: &str, publisher: &str, name: &str, version: &str) -> Evidence {
        Evidence {
            line,
            device: device.to_owned(),
            kind: EvidenceKind::Installer,
            publisher: publisher.to_owned(),
            name: name.to_owned(),
            version: version.to_owned(),
            details: Vec::new(),
            last_used: None,
            source: None,
            ignored: false,
        }
    }

    #[test]
    fn groups_are_ranked_by_devices_and_suggest_a_rule() {
        let rows = [
            row(2, "D1", "Acme, Inc.", "Acme Editor 2024 - en-us", "24.1"),
            row(3, "D1", "ACME", "Acme Editor 2024 - de-de", "24.3"),
            row(
                4,
                "D2",
                "Acme, Inc.",
                "Acme Editor 2024 (x64) - en-us",
                "24.3",
            ),
            row(5, "D2", "Acme, Inc.", "Acme Editor 2024 - en-us", "25.0"),
            row(6, "D3", "Other", "Other Tool", "1"),
            row(7, "D4", "Other", "Other Tool", "1.2"),
            row(8, "D5", "Other", "Other Tool", "1.3"),
            row(9, "D5", "", "No Publisher Tool", ""),
        ];
        let refs: Vec<&Evidence> = rows.iter().collect();
        let noise = vec![
            NoiseCount {
                category: "hotfix".into(),
                rows: 1,
                devices: 1,
            },
            NoiseCount {
                category: "update".into(),
                rows: 4,
                devices: 2,
            },
        ];
        let triage = triage(&refs, noise);
        assert_eq!((triage.rows, triage.devices), (8, 5));
        let summary: Vec<(String, String, usize, usize, String)> = triage
            .groups
            .iter()
            .map(|g| {
                (
                    g.product.clone(),
                    g.version_family.clone(),
                    g.devices,
                    g.rows,
                    g.rule.to_string(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    "Other Tool".into(),
                    "1".into(),
                    3,
                    3,
                    r#"recognize installer { name like "Other Tool%"  version >= "1" < "2" }"#
                        .into()
                ),
                (
                    "Acme Editor 2024".into(),
                    "24".into(),
                    2,
                    3,
                    r#"recognize installer { name like "Acme Editor 2024%"  version like "24.%" }"#
                        .into()
                ),
                (
                    "No Publisher Tool".into(),
                    "".into(),
                    1,
                    1,
                    r#"recognize installer { name like "No Publisher Tool%"  empty_publisher }"#
                        .into()
                ),
                (
                    "Acme Editor 2024".into(),
                    "25".into(),
                    1,
                    1,
                    r#"recognize installer { name like "Acme Editor 2024%"  version like "25.%" }"#
                        .into()
                ),
            ]
        );
        let acme = &triage.groups[1];
        assert_eq!(acme.publisher, "Acme, Inc.");
        assert_eq!(acme.application, "acme.editor_2024_24");
        assert_eq!(acme.sample_devices, vec!["D1", "D2"]);
        assert_eq!(triage.groups[0].sample_devices, vec!["D3", "D4", "D5"]);
        assert_eq!(
            triage
                .noise
                .iter()
                .map(|n| n.category.as_str())
                .collect::<Vec<_>>(),
            vec!["update", "hotfix"]
        );
    }

    #[test]
    fn a_pattern_matches_every_spelling_of_its_group() {
        let rows = [
            row(2, "D1", "Acme", "Acme x64 Tool", "1.0"),
            row(3, "D2", "Acme", "(x64) Acme Tool", "1.0"),
            row(4, "D3", "Acme", "Acme x64 Tool", "1.1"),
        ];
        let refs: Vec<&Evidence> = rows.iter().collect();
        let triage = triage(&refs, Vec::new());
        assert_eq!(triage.groups.len(), 1);
        assert_eq!(
            triage.groups[0].rule.fields,
            vec![r#"name like "%Acme%Tool%""#, r#"version like "1.%""#]
        );
    }

    #[test]
    fn long_patterns_are_cut_at_a_word() {
        let name = "Acme Enterprise Management Console Extensions for Remote Administration Plus";
        let rows = [row(2, "D1", "Acme", name, "3.0")];
        let refs: Vec<&Evidence> = rows.iter().collect();
        let rule = &triage(&refs, Vec::new()).groups[0].rule;
        assert_eq!(
            rule.fields[0],
            r#"name like "Acme Enterprise Management Console Extensions for%""#
        );
        assert!(rule.lines().iter().all(|l| l.chars().count() <= 76));
    }

    #[test]
    fn wmi_values_are_grouped_under_their_class_and_property() {
        let mut wmi = row(2, "D1", "", "", "");
        wmi.kind = EvidenceKind::Wmi;
        wmi.details = vec![
            (EvidenceField::Class, "SoftwareLicensingProduct".into()),
            (EvidenceField::Property, "Name".into()),
            (
                EvidenceField::Value,
                "Office 16, Office16ProPlusVL_MAK edition".into(),
            ),
        ];
        let rows = [wmi];
        let refs: Vec<&Evidence> = rows.iter().collect();
        let group = &triage(&refs, Vec::new()).groups[0];
        assert_eq!(
            group.rule.to_string(),
            r#"recognize wmi { class "SoftwareLicensingProduct"  property "Name"  value like "Office 16, Office16ProPlusVL_MAK edition%" }"#
        );
        assert_eq!(
            group.application,
            "unknown.office_16_office16proplusvl_mak_edition"
        );
    }

    #[test]
    fn quotes_and_backslashes_are_escaped() {
        assert_eq!(quote(r#"a "b" \c"#), r#""a \"b\" \\c""#);
        assert_eq!(quote("a\nb"), r#""a_b""#);
    }
}
