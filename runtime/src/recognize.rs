//! Recognition: turns raw evidence into installations with the compiled pack's rules.
//!
//! Patterns match a whole field, ignoring case and surrounding spaces: `%` is any run of
//! characters, `_` exactly one. A device has one installation per application however many
//! pieces of evidence match; the evidence rows behind it are kept as links.

use std::collections::{BTreeMap, HashMap};

use tally_compiler::ir::{CompiledPack, Pattern};

use crate::estate::{Evidence, EvidenceKind};

/// A compiled text matcher for one pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Matcher {
    Exact(String),
    /// Lowercased pattern characters; `%` and `_` are wildcards.
    Like(Vec<char>),
}

impl Matcher {
    fn new(pattern: &Pattern) -> Self {
        match pattern {
            Pattern::Exact(s) => Self::Exact(s.trim().to_lowercase()),
            Pattern::Like(s) => Self::Like(s.trim().to_lowercase().chars().collect()),
        }
    }

    fn matches(&self, text: &Field) -> bool {
        match self {
            Self::Exact(s) => *s == text.text,
            Self::Like(p) => like(p, &text.chars),
        }
    }

    /// The literal text every match must start with (lowercased).
    fn literal_prefix(&self) -> String {
        match self {
            Self::Exact(s) => s.clone(),
            Self::Like(p) => p.iter().take_while(|c| **c != '%' && **c != '_').collect(),
        }
    }
}

/// An evidence field, trimmed and lowercased, with its characters for wildcard matching.
struct Field {
    text: String,
    chars: Vec<char>,
}

impl Field {
    fn new(raw: &str) -> Self {
        let text = raw.trim().to_lowercase();
        let chars = text.chars().collect();
        Self { text, chars }
    }

    /// The first [`HEAD`] characters, the key of the rule index.
    fn head(&self) -> Option<String> {
        (self.chars.len() >= HEAD).then(|| self.chars.iter().take(HEAD).collect())
    }
}

/// How many leading characters of the name index the rules.
const HEAD: usize = 4;

/// Wildcard match with `%` (any run) and `_` (one character), anchored at both ends.
/// Iterative with single-star backtracking: linear in practice, never exponential.
pub(crate) fn like(pattern: &[char], text: &[char]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('%') => {
                star = Some((p, t));
                p += 1;
            }
            Some(c) if *c == '_' || Some(c) == text.get(t) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|c| *c == '%'))
}

/// How a rule checks the publisher.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PublisherCheck {
    /// The product publisher's name or one of its aliases.
    Names(Vec<String>),
    Pattern(Matcher),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    application: String,
    publisher: PublisherCheck,
    name: Matcher,
    version: Option<Matcher>,
}

/// Every installer rule of a pack, compiled for matching, and indexed by the first characters
/// of the name's literal prefix so that a piece of evidence is tried only against rules that
/// can match it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recognizer {
    rules: Vec<Rule>,
    /// Rules whose name starts with at least [`HEAD`] literal characters, by those characters.
    by_head: HashMap<String, Vec<usize>>,
    /// Rules whose name starts with a wildcard or a shorter literal: always tried.
    unindexed: Vec<usize>,
}

impl Recognizer {
    pub fn new(pack: &CompiledPack) -> Self {
        let mut rules = Vec::new();
        for app in pack.applications.values() {
            let names: Vec<String> = pack
                .products
                .get(&app.product)
                .and_then(|p| pack.publishers.get(&p.publisher))
                .map(|p| {
                    std::iter::once(&p.name)
                        .chain(&p.aliases)
                        .map(|n| n.trim().to_lowercase())
                        .collect()
                })
                .unwrap_or_default();
            for rule in &app.installer_rules {
                rules.push(Rule {
                    application: app.id.clone(),
                    publisher: match &rule.publisher {
                        Some(p) => PublisherCheck::Pattern(Matcher::new(p)),
                        None => PublisherCheck::Names(names.clone()),
                    },
                    name: Matcher::new(&rule.name),
                    version: rule.version.as_ref().map(Matcher::new),
                });
            }
        }
        let mut by_head: HashMap<String, Vec<usize>> = HashMap::new();
        let mut unindexed = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            let prefix: Vec<char> = rule.name.literal_prefix().chars().collect();
            if prefix.len() >= HEAD {
                by_head
                    .entry(prefix.iter().take(HEAD).collect())
                    .or_default()
                    .push(i);
            } else {
                unindexed.push(i);
            }
        }
        Self {
            rules,
            by_head,
            unindexed,
        }
    }

    /// The applications a piece of installer evidence is, sorted and without repeats.
    pub fn recognize(&self, publisher: &str, name: &str, version: &str) -> Vec<&str> {
        let (publisher, name, version) =
            (Field::new(publisher), Field::new(name), Field::new(version));
        let indexed = name
            .head()
            .and_then(|h| self.by_head.get(&h))
            .map_or(&[][..], Vec::as_slice);
        let mut found: Vec<&str> = indexed
            .iter()
            .chain(&self.unindexed)
            .filter_map(|i| self.rules.get(*i))
            .filter(|r| {
                r.name.matches(&name)
                    && r.version.as_ref().is_none_or(|v| v.matches(&version))
                    && match &r.publisher {
                        PublisherCheck::Names(names) => names.contains(&publisher.text),
                        PublisherCheck::Pattern(m) => m.matches(&publisher),
                    }
            })
            .map(|r| r.application.as_str())
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// One application installed on one device.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Installation {
    pub device: String,
    pub application: String,
    /// The `evidence.csv` lines that recognised it, in order.
    pub evidence: Vec<usize>,
}

/// What recognition found on one device.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceRecognition {
    /// Sorted by application.
    pub installations: Vec<Installation>,
    /// Evidence lines no rule recognised.
    pub unrecognized: Vec<usize>,
    /// Evidence lines marked as ignored.
    pub ignored: Vec<usize>,
}

/// Recognises one device's evidence.
pub fn recognize_device(
    recognizer: &Recognizer,
    device: &str,
    evidence: &[Evidence],
) -> DeviceRecognition {
    let mut result = DeviceRecognition::default();
    let mut by_app: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for e in evidence {
        if e.ignored {
            result.ignored.push(e.line);
            continue;
        }
        let apps = match e.kind {
            EvidenceKind::Installer => recognizer.recognize(&e.publisher, &e.name, &e.version),
            _ => Vec::new(),
        };
        if apps.is_empty() {
            result.unrecognized.push(e.line);
        }
        for app in apps {
            by_app.entry(app).or_default().push(e.line);
        }
    }
    result.installations = by_app
        .into_iter()
        .map(|(app, lines)| Installation {
            device: device.to_string(),
            application: app.to_string(),
            evidence: lines,
        })
        .collect();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        Matcher::new(&Pattern::Like(p.to_string())).matches(&Field::new(t))
    }

    #[test]
    fn percent_and_underscore_are_wildcards_anchored_at_both_ends() {
        assert!(m(
            "Microsoft Visio Professional 2016%",
            "Microsoft Visio Professional 2016 - en-us"
        ));
        assert!(m("%Visio%2016%", "microsoft visio professional 2016"));
        assert!(!m("Visio%", "Microsoft Visio"));
        assert!(m("16._", "16.0"));
        assert!(!m("16._", "16.01"));
        assert!(m("%", ""));
        assert!(m("a%b%c", "aXXbYYbc"));
        assert!(!m("a%b%c", "aXXbYYb"));
        assert!(m(
            "Adobe Acrobat DC (64-bit)",
            "  ADOBE ACROBAT DC (64-BIT) "
        ));
    }

    #[test]
    fn the_rule_index_keeps_wildcard_and_short_prefixes() {
        let rules = r#"
            publisher acme { name "Acme" aliases "ACME Corp" }
            product acme.tool { name "Tool" publisher acme }
            application acme.long { product acme.tool recognize installer { name like "Acme Tool 2%" } }
            application acme.any { product acme.tool recognize installer { name like "%Widget%" } }
            application acme.short { product acme.tool recognize installer { name like "AT%" } }
            application acme.exact { product acme.tool recognize installer { name "Acme Tool" publisher like "%" } }
        "#;
        let compiled =
            tally_compiler::compile_sources(&[tally_compiler::SourceFile::new("t.tally", rules)]);
        assert!(!compiled.has_errors(), "{:?}", compiled.diagnostics);
        let r = Recognizer::new(&compiled.pack);
        assert_eq!(
            r.recognize("ACME Corp", "Acme Tool 2024", "1"),
            vec!["acme.long"]
        );
        assert_eq!(
            r.recognize("Acme", "The Widget Suite", ""),
            vec!["acme.any"]
        );
        assert_eq!(r.recognize("Acme", "AT", ""), vec!["acme.short"]);
        assert_eq!(
            r.recognize("Someone Else", "acme tool", ""),
            vec!["acme.exact"]
        );
        assert_eq!(
            r.recognize("Someone Else", "Acme Tool 2024", ""),
            Vec::<&str>::new()
        );
        assert_eq!(
            r.recognize("Acme", "Acme Tool 2 Widget", ""),
            vec!["acme.any", "acme.long"]
        );
    }

    #[test]
    fn exact_patterns_ignore_case_only() {
        let exact = Matcher::new(&Pattern::Exact("VISIO.EXE".into()));
        assert!(exact.matches(&Field::new("visio.exe")));
        assert!(!exact.matches(&Field::new("visio.exe.bak")));
        assert!(!Matcher::new(&Pattern::Exact("a%".into())).matches(&Field::new("ab")));
    }
}
