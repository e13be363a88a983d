//! Recognition: turns raw evidence into installations with the compiled pack's rules.
//!
//! Patterns match a whole field, ignoring case and surrounding spaces: `%` is any run of
//! characters, `_` exactly one. A device has one installation per application however many
//! pieces of evidence match; the evidence rows behind it are kept as links.

use std::collections::BTreeMap;

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

    /// `text` must already be trimmed and lowercased.
    fn matches(&self, text: &str) -> bool {
        match self {
            Self::Exact(s) => s == text,
            Self::Like(p) => like(p, &text.chars().collect::<Vec<_>>()),
        }
    }
}

/// Wildcard match with `%` (any run) and `_` (one character), anchored at both ends.
/// Iterative with single-star backtracking: linear in practice, never exponential.
fn like(pattern: &[char], text: &[char]) -> bool {
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

/// Every installer rule of a pack, compiled for matching.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recognizer {
    rules: Vec<Rule>,
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
        Self { rules }
    }

    /// The applications a piece of installer evidence is, sorted and without repeats.
    pub fn recognize(&self, publisher: &str, name: &str, version: &str) -> Vec<&str> {
        let (publisher, name, version) = (
            publisher.trim().to_lowercase(),
            name.trim().to_lowercase(),
            version.trim().to_lowercase(),
        );
        let mut found: Vec<&str> = self
            .rules
            .iter()
            .filter(|r| {
                r.name.matches(&name)
                    && r.version.as_ref().is_none_or(|v| v.matches(&version))
                    && match &r.publisher {
                        PublisherCheck::Names(names) => names.contains(&publisher),
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
        Matcher::new(&Pattern::Like(p.to_string())).matches(&t.trim().to_lowercase())
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
    fn exact_patterns_ignore_case_only() {
        let exact = Matcher::new(&Pattern::Exact("VISIO.EXE".into()));
        assert!(exact.matches("visio.exe"));
        assert!(!exact.matches("visio.exe.bak"));
        assert!(!Matcher::new(&Pattern::Exact("a%".into())).matches("ab"));
    }
}
