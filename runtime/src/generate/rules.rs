//! Synthetic recognition rules (`--rules N`), shaped like a large commercial recognition
//! library: publishers, products and one application per major version, each recognised by
//! its exact Add/Remove Programs name with a version pattern and by its localised name
//! (`like "Name - %"`).
//!
//! The first applications recognise the software of the generated estate that the standard
//! packs do not know (agents, vendor tools, Microsoft components, business software and the
//! long tail), so the rules match real rows; the rest are made-up products, half of them
//! named "Microsoft …", as a library's Microsoft catalogue dwarfs the others. Everything is
//! named under `gen.`, so nothing collides with the standard packs, and the rules compile
//! with them without errors or overlaps.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::catalogue::{Catalogue, UnknownProduct};
use super::{Options, provenance};

/// Rules per file: files stay far below the 16 MiB a rule file may hold, and several files
/// are parsed in parallel.
const RULES_PER_FILE: u64 = 10_000;

/// Rules per application.
const RULES_PER_APPLICATION: u64 = 2;

/// A generated rule file.
pub(super) struct RuleFile {
    /// The file name inside `rules/`.
    pub name: String,
    pub text: String,
    /// The recognition rules it holds.
    pub rules: u64,
}

/// Whether a file name is one [`files`] writes: `generated-0001.tally` and so on.
pub(super) fn is_generated_file_name(name: &str) -> bool {
    name.strip_prefix("generated-")
        .and_then(|rest| rest.strip_suffix(".tally"))
        .is_some_and(|number| !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()))
}

/// The rule files of `options.rules` recognition rules.
pub(super) fn files(options: &Options, catalogue: &Catalogue) -> Vec<RuleFile> {
    let mut library = Library {
        options,
        files: Vec::new(),
        declared: BTreeSet::new(),
        left: u64::from(options.rules),
    };
    let (known, rest): (Vec<_>, Vec<_>) = catalogue
        .unknown_products
        .iter()
        .enumerate()
        .partition(|(i, _)| *i < catalogue.everyday_unknown);
    for (_, product) in known {
        library.add_known(product);
    }
    // The rest of the estate's unknown software, interleaved with made-up products.
    let mut rest = rest.into_iter().map(|(_, p)| p);
    let mut made_up = 0;
    while library.left > 0 {
        match made_up % 4 {
            0 | 2 => match rest.next() {
                Some(product) => library.add_known(product),
                None => library.add_made_up(made_up),
            },
            _ => library.add_made_up(made_up),
        }
        made_up += 1;
    }
    library.files
}

/// The library being written.
struct Library<'a> {
    options: &'a Options,
    files: Vec<RuleFile>,
    /// Publisher and product ids declared so far.
    declared: BTreeSet<String>,
    /// Rules still to write.
    left: u64,
}

impl Library<'_> {
    /// The file the next declarations go to: a new one when the current one is full.
    fn file(&mut self) -> &mut RuleFile {
        let full = self.files.last().is_none_or(|f| f.rules >= RULES_PER_FILE);
        if full {
            let number = self.files.len() + 1;
            let mut text = provenance(self.options, "//");
            text.push_str(
                "// Synthetic recognition rules: the estate's software that the standard packs do not\n\
                 // know, and made-up products. Every name is under `gen.`.\n\n",
            );
            self.files.push(RuleFile {
                name: format!("generated-{number:04}.tally"),
                text,
                rules: 0,
            });
        }
        let last = self.files.len() - 1;
        &mut self.files[last]
    }

    /// Declares the publisher (unless it is Microsoft, which the standard packs declare) and
    /// returns its id.
    fn publisher(&mut self, name: &str) -> String {
        if name == "Microsoft Corporation" {
            return "microsoft".to_owned();
        }
        let id = format!("gen.{}", slug(name));
        if self.declared.insert(id.clone()) {
            let text = &mut self.file().text;
            let _ = write!(
                text,
                "/// {name}.\npublisher {id} {{\n    name {}\n}}\n\n",
                quoted(name)
            );
        }
        id
    }

    /// Declares the product and returns its id.
    fn product(&mut self, publisher: &str, publisher_id: &str, name: &str) -> String {
        let owner = if publisher_id == "microsoft" {
            "gen.microsoft".to_owned()
        } else {
            publisher_id.to_owned()
        };
        let id = format!("{owner}.{}", slug(name));
        if self.declared.insert(id.clone()) {
            let text = &mut self.file().text;
            let _ = write!(
                text,
                "/// {name}, by {publisher}.\nproduct {id} {{\n    name {}\n    publisher {publisher_id}\n}}\n\n",
                quoted(name)
            );
        }
        id
    }

    /// One application of the product for the major version: its exact name, and its
    /// localised name, each with the major version; as many of the two rules as are left.
    fn application(&mut self, product: &str, name: &str, major: &str) {
        if self.left == 0 {
            return;
        }
        let id = format!(
            "{product}.v{}",
            major.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        );
        if !self.declared.insert(id.clone()) {
            return;
        }
        let rules = self.left.min(RULES_PER_APPLICATION);
        self.left -= rules;
        let localised = quoted(&format!("{name} - %"));
        let name = quoted(name);
        let version = quoted(&format!("{major}.%"));
        let file = self.file();
        let _ = write!(
            file.text,
            "application {id} {{\n    product {product}\n    version {}\n    recognize installer {{ name {name}  version like {version} }}\n",
            quoted(major)
        );
        if rules > 1 {
            let _ = writeln!(
                file.text,
                "    recognize installer {{ name like {localised}  version like {version} }}"
            );
        }
        file.text.push_str("}\n\n");
        file.rules += rules;
    }

    /// Software of the estate: an application per major version it is seen in.
    fn add_known(&mut self, product: &UnknownProduct) {
        let publisher = self.publisher(&product.publisher);
        let id = self.product(&product.publisher, &publisher, &product.name);
        let mut majors: Vec<&str> = product
            .versions
            .iter()
            .filter_map(|v| v.split('.').next())
            .filter(|major| !major.is_empty())
            .collect();
        majors.dedup();
        for major in majors {
            self.application(&id, &product.name, major);
        }
    }

    /// Made-up product `n`: every other one by Microsoft, the rest by made-up vendors; each
    /// with applications for up to ten releases.
    fn add_made_up(&mut self, n: usize) {
        let (publisher, name) = if n % 2 == 1 {
            (
                "Microsoft Corporation".to_owned(),
                format!("Microsoft {}", made_up_name(n / 2)),
            )
        } else {
            let vendor = made_up_vendor(n / 2);
            let short = vendor.split(' ').next().unwrap_or_default().to_owned();
            (vendor, format!("{short} {}", made_up_name(n / 2 + 7)))
        };
        let publisher_id = self.publisher(&publisher);
        let product = self.product(&publisher, &publisher_id, &name);
        for release in 0..10 {
            self.application(&product, &name, &(11 + release).to_string());
        }
    }
}

const MADE_UP_ADJECTIVES: &[&str] = &[
    "Cloud",
    "Secure",
    "Smart",
    "Dynamic",
    "Unified",
    "Insight",
    "Fabric",
    "Azure",
    "Fleet",
    "Identity",
    "Policy",
    "Compliance",
    "Endpoint",
    "Workflow",
    "Analytics",
    "Device",
    "Graph",
    "Sentinel",
    "Purview",
    "Defender",
    "Intune",
    "Bing",
    "Stream",
    "Sway",
    "Planner",
    "Loop",
    "Viva",
    "Forms",
    "Lists",
    "Bookings",
];
const MADE_UP_NOUNS: &[&str] = &[
    "Navigator",
    "Composer",
    "Orchestrator",
    "Portal",
    "Vault",
    "Connector",
    "Agent",
    "Console",
    "Broker",
    "Dashboard",
    "Hub",
    "Engine",
    "Launcher",
    "Bridge",
    "Collector",
    "Designer Kit",
    "Runtime Host",
    "Sync Service",
    "Update Service",
    "Admin Center",
    "Shell Extension",
    "Companion",
    "Recorder",
    "Inspector",
    "Migrator",
];
const MADE_UP_VENDOR_WORDS: &[&str] = &[
    "Quantum",
    "Nimbus",
    "Vertex",
    "Helix",
    "Lumen",
    "Cobalt",
    "Falcon",
    "Orchid",
    "Summit",
    "Harbor",
    "Pioneer",
    "Zenith",
    "Beacon",
    "Cascade",
    "Sterling",
    "Meridian",
    "Atlas",
    "Evergreen",
    "Granite",
    "Ironwood",
];
const MADE_UP_VENDOR_KINDS: &[&str] = &[
    "Software",
    "Systems",
    "Analytics",
    "Informatics",
    "Dynamics",
    "Labs",
    "Interactive",
    "Computing",
    "Security",
    "Networks",
];
const MADE_UP_LEGAL: &[&str] = &["Inc.", "GmbH", "Ltd.", "LLC", "AG", "S.A.S.", "Oy", "K.K."];

/// A made-up product name: adjective and noun, with a generation number once the
/// combinations run out.
fn made_up_name(n: usize) -> String {
    let adjective = MADE_UP_ADJECTIVES[n % MADE_UP_ADJECTIVES.len()];
    let noun = MADE_UP_NOUNS[(n / MADE_UP_ADJECTIVES.len()) % MADE_UP_NOUNS.len()];
    match n / (MADE_UP_ADJECTIVES.len() * MADE_UP_NOUNS.len()) {
        0 => format!("{adjective} {noun}"),
        generation => format!("{adjective} {noun} G{}", generation + 1),
    }
}

/// A made-up vendor among 1,600.
fn made_up_vendor(n: usize) -> String {
    let words = MADE_UP_VENDOR_WORDS.len();
    let kinds = MADE_UP_VENDOR_KINDS.len();
    let word = MADE_UP_VENDOR_WORDS[n % words];
    let kind = MADE_UP_VENDOR_KINDS[(n / words) % kinds];
    let legal = MADE_UP_LEGAL[(n / (words * kinds)) % MADE_UP_LEGAL.len()];
    format!("{word} {kind} {legal}")
}

/// An identifier segment: lower case letters, digits and `_`, starting with a letter.
fn slug(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('_') && !slug.is_empty() {
            slug.push('_');
        }
    }
    let slug = slug.trim_end_matches('_');
    if slug.starts_with(|c: char| c.is_ascii_alphabetic()) {
        slug.to_owned()
    } else {
        format!("x{slug}")
    }
}

/// A rule-language string.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_identifier_segments() {
        assert_eq!(slug("Dell Command | Update"), "dell_command_update");
        assert_eq!(slug("7-Zip"), "x7_zip");
        assert_eq!(slug("Margie's Travel"), "margie_s_travel");
        assert_eq!(slug("A. Datum Corporation"), "a_datum_corporation");
    }

    #[test]
    fn generated_file_names_are_recognised() {
        assert!(is_generated_file_name("generated-0001.tally"));
        assert!(!is_generated_file_name("generated-.tally"));
        assert!(!is_generated_file_name("mine.tally"));
        assert!(!is_generated_file_name("generated-0001.tally.bak"));
    }

    #[test]
    fn exactly_the_rules_asked_for_are_written() {
        let catalogue = Catalogue::new();
        for rules in [1, 499, 500, 25_001] {
            let options = Options {
                devices: 10,
                seed: 1,
                licenses: None,
                rules,
            };
            let files = files(&options, &catalogue);
            let written: u64 = files.iter().map(|f| f.rules).sum();
            assert_eq!(written, u64::from(rules));
            let counted: usize = files
                .iter()
                .map(|f| f.text.matches("recognize installer").count())
                .sum();
            assert_eq!(counted as u64, written);
            assert!(files.iter().all(|f| f.rules <= RULES_PER_FILE));
        }
    }
}
