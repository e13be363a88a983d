//! Recognition at estate scale (issue 6): compiles a generated pack of 300,000 recognition
//! rules and recognises 100,000 devices × 200 Add/Remove Programs rows with it, reporting
//! compile time, recognition time, rows per second and peak memory (VmHWM).
//!
//! Run with `nice cargo bench -p tally-runtime --bench recognize` (the full size), or add
//! `-- quick` for 10,000 devices and 30,000 rules; `-- direct` (and `salsa`) pick the paths
//! measured, `-- devices=N` sets the number of devices. Everything is generated deterministically:
//!
//! - the pack: one file per publisher (publishers × products × versions × editions), each
//!   application recognised by its exact display name with a version range and by a
//!   `like "Name - %"` pattern with a version pattern; some applications by an inner
//!   `%…%` pattern, some with their own publisher pattern or `empty_publisher`; publishers have
//!   aliases; a noise file holds a few `ignore` declarations;
//! - the estate: a catalogue of distinct rows (matching, unknown software from known and
//!   unknown publishers, updates and hotfixes), drawn per device with a skew towards popular
//!   software, plus about 1% of rows unique to their device.
//!
//! Two paths are measured. `salsa` is the command line's: the rules go into a
//! [`Workspace`], the whole estate is loaded into it, and [`Workspace::recognition`] recognises
//! every device through the `device_recognition` query — the estate is then held in memory
//! as the command line holds it. `direct` generates each device's rows in turn and calls
//! [`recognize_device`] with the workspace's recognizer, so only one device's rows are held;
//! it shows the matcher's cost without the estate's memory. Both print a checksum of every
//! device's result, so runs before and after a change can be compared.

/// The allocator the `tally` binary uses, so the numbers are the command line's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::civil::date;
use tally_compiler::diagnostics::SourceFile;
use tally_runtime::bench::{cpu_time, peak_memory_mib};
use tally_runtime::db::Database;
use tally_runtime::estate::{Device, Estate, Evidence, EvidenceKind, Interner};
use tally_runtime::recognize::{DeviceRecognition, recognize_device};
use tally_runtime::workspace::{RuleSource, Workspace};

/// A small deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// In `0..n`, skewed towards 0: popular entries come first.
    fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((u * u * u * n as f64) as usize).min(n.saturating_sub(1))
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words.get(self.below(words.len())).copied().unwrap_or("")
    }
}

const FIRST: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Vandelay",
    "Massive",
    "Aperture",
    "Oscorp",
    "Wonka",
    "Monarch",
    "Dunder",
    "Nakatomi",
    "Gekko",
    "Pied Piper",
    "Virtucon",
    "Zorg",
    "Ollivander",
    "Prestige",
    "Blue Sun",
];
const SECOND: &[&str] = &[
    "Software",
    "Systems",
    "Technologies",
    "Labs",
    "Digital",
    "Solutions",
    "Networks",
    "Data",
    "Media",
    "Works",
];
const THIRD: &[&str] = &["North", "Global", "Interactive", "Research"];
const LEGAL: &[&str] = &["Inc.", "GmbH", "Ltd", "Corporation", "LLC", "S.A."];
const ADJECTIVES: &[&str] = &[
    "Pro", "Advanced", "Smart", "Quick", "Power", "Easy", "Secure", "Cloud", "Visual", "Total",
    "Net", "Data", "Media", "Photo", "Sound", "Code", "Report", "Backup", "Remote", "Office",
];
const NOUNS: &[&str] = &[
    "Studio",
    "Designer",
    "Analyzer",
    "Manager",
    "Suite",
    "Viewer",
    "Editor",
    "Server",
    "Client",
    "Toolkit",
    "Converter",
    "Monitor",
    "Builder",
    "Explorer",
    "Assistant",
    "Workbench",
    "Gateway",
    "Scanner",
    "Planner",
    "Player",
];
const EDITIONS: &[&str] = &["Standard", "Professional", "Enterprise"];
const LOCALES: &[&str] = &["en-us", "de-de", "fr-fr", "ja-jp", "es-es"];
/// Versions per product: 2015 to 2024, major versions 11 to 20.
const VERSIONS: usize = 10;

/// One generated publisher.
struct Publisher {
    id: String,
    name: String,
    alias: String,
    /// A spelling inventory reports that only normalisation equates with `name`.
    variant: String,
}

/// One generated application, with what a matching row looks like.
struct App {
    publisher: usize,
    name: String,
    major: usize,
}

/// The generated pack: its files and what the estate generator needs to know about it.
struct Pack {
    files: Vec<Arc<SourceFile>>,
    publishers: Vec<Publisher>,
    apps: Vec<App>,
    rules: usize,
}

fn publisher(i: usize) -> Publisher {
    let first = FIRST.get(i % FIRST.len()).copied().unwrap_or("");
    let second = SECOND
        .get(i / FIRST.len() % SECOND.len())
        .copied()
        .unwrap_or("");
    let third = THIRD
        .get(i / (FIRST.len() * SECOND.len()) % THIRD.len())
        .copied()
        .unwrap_or("");
    let round = i / (FIRST.len() * SECOND.len() * THIRD.len());
    let short = if round == 0 {
        format!("{first} {second} {third}")
    } else {
        format!("{first} {second} {third} {round}")
    };
    let legal = LEGAL.get(i % LEGAL.len()).copied().unwrap_or("Inc.");
    Publisher {
        id: format!("p{i}"),
        name: format!("{short}, {legal}"),
        alias: format!("{short} Group"),
        variant: format!("{} {}", short.to_uppercase(), legal),
    }
}

/// Generates a pack of about `target` recognition rules over `publishers` files.
fn pack(target: usize, publishers: usize) -> Pack {
    let per_publisher = target.div_ceil(publishers);
    let mut pack = Pack {
        files: Vec::new(),
        publishers: Vec::new(),
        apps: Vec::new(),
        rules: 0,
    };
    for p in 0..publishers {
        let publisher = publisher(p);
        let mut text = format!(
            "/// {name}.\npublisher {id} {{\n    name \"{name}\"\n    aliases \"{alias}\"\n}}\n\n",
            name = publisher.name,
            id = publisher.id,
            alias = publisher.alias,
        );
        let mut rules = 0;
        let mut q = 0;
        while rules < per_publisher && pack.rules < target {
            let adjective = ADJECTIVES.get(q % ADJECTIVES.len()).copied().unwrap_or("");
            let noun = NOUNS
                .get((q / ADJECTIVES.len() + p) % NOUNS.len())
                .copied()
                .unwrap_or("");
            let round = q / (ADJECTIVES.len() * NOUNS.len());
            let first = FIRST.get(p % FIRST.len()).copied().unwrap_or("");
            let product_name = if round == 0 {
                format!("{first} {adjective} {noun}")
            } else {
                format!("{first} {adjective} {noun} {round}")
            };
            let product = format!("{}.q{q}", publisher.id);
            let editions: &[&str] = if q.is_multiple_of(3) {
                &EDITIONS[..2]
            } else {
                &[]
            };
            text.push_str(&format!(
                "/// {product_name}.\nproduct {product} {{\n    name \"{product_name}\"\n    publisher {}\n    classification commercial\n",
                publisher.id
            ));
            if !editions.is_empty() {
                let list: Vec<String> = editions.iter().map(|e| format!("\"{e}\"")).collect();
                text.push_str(&format!("    editions {}\n", list.join(", ")));
            }
            text.push_str("}\n\n");
            for v in 0..VERSIONS {
                let year = 2015 + v;
                let major = 11 + v;
                let editions: Vec<Option<&str>> = if editions.is_empty() {
                    vec![None]
                } else {
                    editions.iter().copied().map(Some).collect()
                };
                for edition in editions {
                    let (suffix, name) = match edition {
                        Some(e) => (
                            format!("{}_{year}", e.to_lowercase()),
                            format!("{product_name} {e} {year}"),
                        ),
                        None => (format!("v{year}"), format!("{product_name} {year}")),
                    };
                    let n = pack.apps.len();
                    text.push_str(&format!(
                        "/// {name}.\napplication {product}.{suffix} {{\n    product {product}\n    version \"{year}\"\n"
                    ));
                    if let Some(e) = edition {
                        text.push_str(&format!("    edition \"{e}\"\n"));
                    }
                    text.push_str(&format!(
                        "    recognize installer {{ name \"{name}\"  version >= \"{major}.0\" < \"{}.0\" }}\n",
                        major + 1
                    ));
                    text.push_str(&format!(
                        "    recognize installer {{ name like \"{name} - %\"  version like \"{major}.%\" }}\n"
                    ));
                    rules += 2;
                    if n.is_multiple_of(13) {
                        text.push_str(&format!(
                            "    recognize installer {{ name like \"%{name} Add-in%\"  existence ignore }}\n"
                        ));
                        rules += 1;
                    }
                    if n.is_multiple_of(17) {
                        text.push_str(&format!(
                            "    recognize installer {{ name \"{name} (x64)\"  publisher like \"{}%\" }}\n",
                            first.to_lowercase()
                        ));
                        rules += 1;
                    }
                    if n.is_multiple_of(29) {
                        text.push_str(&format!(
                            "    recognize installer {{ name \"{name} Runtime\"  empty_publisher }}\n"
                        ));
                        rules += 1;
                    }
                    text.push_str("}\n\n");
                    pack.apps.push(App {
                        publisher: p,
                        name,
                        major,
                    });
                }
            }
            q += 1;
        }
        pack.rules += rules;
        pack.files.push(SourceFile::new(
            format!("bench/{:04}_{}.tally", p, publisher.id),
            text,
        ));
        pack.publishers.push(publisher);
    }
    let noise = "\
/// Security updates.
ignore bench.updates {
    category update
    recognize installer { name like \"Security Update for %\" }
    recognize installer { name like \"Update for %\" }
    recognize installer { name like \"%(KB_%)%\" }
}

/// Hotfixes.
ignore bench.hotfixes {
    category hotfix
    recognize installer { name like \"Hotfix for %\" }
    recognize installer { release_type like \"%hotfix%\" }
}

/// Language packs.
ignore bench.language_packs {
    category language_pack
    recognize installer { name like \"% Language Pack%\" }
}

/// Drivers.
ignore bench.drivers {
    category driver
    recognize installer { name like \"Driver Package %\" }
}
";
    pack.rules += 8;
    pack.files
        .push(SourceFile::new("bench/noise.tally", noise.to_string()));
    pack
}

/// One row of the catalogue: publisher, name, version.
type Row = (String, String, String);

/// A catalogue of `size` distinct-ish rows: about 60% recognised, 25% unknown, 15% noise.
fn catalogue(pack: &Pack, size: usize, rng: &mut Rng) -> Vec<Row> {
    let mut rows = Vec::with_capacity(size);
    for _ in 0..size {
        let roll = rng.below(100);
        let row = if roll < 60 {
            let app = pack.apps.get(rng.below(pack.apps.len()));
            let publisher = app.and_then(|a| pack.publishers.get(a.publisher));
            match (app, publisher) {
                (Some(app), Some(p)) => {
                    let publisher = match rng.below(4) {
                        0 => p.alias.clone(),
                        1 => p.variant.clone(),
                        _ => p.name.clone(),
                    };
                    let name = if rng.below(3) == 0 {
                        format!("{} - {}", app.name, rng.pick(LOCALES))
                    } else {
                        app.name.clone()
                    };
                    let version = format!("{}.{}.{}", app.major, rng.below(5), rng.below(9000));
                    (publisher, name, version)
                }
                _ => continue,
            }
        } else if roll < 85 {
            // Unknown software, half of it from publishers the pack knows.
            let publisher = if rng.below(2) == 0 {
                pack.publishers
                    .get(rng.below(pack.publishers.len()))
                    .map_or_else(String::new, |p| p.name.clone())
            } else {
                format!("{} {}", rng.pick(FIRST), rng.pick(LEGAL))
            };
            let name = format!(
                "{} {} {} {}",
                rng.pick(FIRST),
                rng.pick(ADJECTIVES),
                rng.pick(NOUNS),
                rng.below(40)
            );
            (
                publisher,
                name,
                format!("{}.{}", rng.below(30), rng.below(99)),
            )
        } else {
            let app = pack
                .apps
                .get(rng.below(pack.apps.len()))
                .map_or("", |a| a.name.as_str());
            let name = match rng.below(4) {
                0 => format!(
                    "Security Update for {app} (KB{})",
                    4_000_000 + rng.below(999_999)
                ),
                1 => format!("Update for {app} (KB{})", 4_000_000 + rng.below(999_999)),
                2 => format!("Hotfix for {app}"),
                _ => format!("{app} Language Pack - {}", rng.pick(LOCALES)),
            };
            ("Microsoft Corporation".to_string(), name, String::new())
        };
        rows.push(row);
    }
    rows
}

/// The sizes of one run.
struct Size {
    rules: usize,
    publishers: usize,
    devices: usize,
    rows_per_device: usize,
    catalogue: usize,
}

/// One row of the catalogue as an import holds it: the publisher and version shared.
type SharedRow = (Arc<str>, Arc<str>, Arc<str>);

/// Generates the rows of device `d`, numbering lines from `line`; texts are shared through
/// `strings`, as the import shares them.
fn device_rows(
    d: usize,
    id: &Arc<str>,
    size: &Size,
    catalogue: &[SharedRow],
    line: usize,
    strings: &mut Interner,
) -> Vec<Evidence> {
    let mut rng = Rng(0x5eed ^ (d as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
    (0..size.rows_per_device)
        .map(|k| {
            let (publisher, name, version) = if rng.below(100) == 0 {
                // Noise of this device alone: a driver, or software with an odd build.
                match catalogue.get(rng.below(catalogue.len())) {
                    Some((p, n, v)) if rng.below(2) == 0 => (
                        Arc::clone(p),
                        Arc::clone(n),
                        strings.intern(&format!("{v}.{d}")),
                    ),
                    _ => (
                        strings.intern("Contoso Ltd"),
                        strings.intern(&format!("Driver Package {d}-{k}")),
                        strings.intern("1.0"),
                    ),
                }
            } else {
                catalogue
                    .get(rng.skewed(catalogue.len()))
                    .cloned()
                    .unwrap_or_default()
            };
            Evidence {
                line: line + k,
                device: Arc::clone(id),
                kind: EvidenceKind::Installer,
                publisher,
                name,
                version,
                details: Vec::new(),
                last_used: None,
                source: None,
                ignored: false,
            }
        })
        .collect()
}

fn device_id(d: usize) -> Arc<str> {
    format!("D{d:07}").into()
}

fn show_peak() -> String {
    peak_memory_mib().map_or_else(|| "n/a".to_string(), |m| format!("{m} MiB"))
}

/// Adds one device's result to the checksum and the totals.
#[derive(Default)]
struct Totals {
    hash: DefaultHasher,
    installations: usize,
    unrecognized: usize,
    noise: usize,
    overlaps: usize,
}

impl Totals {
    fn add(&mut self, r: &DeviceRecognition) {
        r.installations.hash(&mut self.hash);
        r.ignored_applications.hash(&mut self.hash);
        r.unrecognized.hash(&mut self.hash);
        r.noise.hash(&mut self.hash);
        r.ignored.hash(&mut self.hash);
        r.overlaps.hash(&mut self.hash);
        self.installations += r.installations.len();
        self.unrecognized += r.unrecognized.len();
        self.noise += r.noise.len();
        self.overlaps += r.overlaps.len();
    }

    fn report(&self, rows: usize, took: Duration, cpu: Duration) {
        println!(
            "  {rows} rows in {:.2} s ({:.2} s of CPU): {:.0} rows/s; {} installations, {} unrecognised, {} noise, {} overlaps; checksum {:016x}",
            took.as_secs_f64(),
            cpu.as_secs_f64(),
            rows as f64 / took.as_secs_f64().max(1e-9),
            self.installations,
            self.unrecognized,
            self.noise,
            self.overlaps,
            self.hash.finish()
        );
    }
}

fn run(label: &str, size: &Size, paths: &[&str]) {
    println!(
        "== {label}: {} rules over {} files, {} devices × {} rows, catalogue of {} rows",
        size.rules,
        size.publishers + 1,
        size.devices,
        size.rows_per_device,
        size.catalogue
    );
    let started = Instant::now();
    let pack = pack(size.rules, size.publishers);
    println!(
        "  generated {} rules, {} applications, {} bytes of rules in {:.2} s",
        pack.rules,
        pack.apps.len(),
        pack.files.iter().map(|f| f.text.len()).sum::<usize>(),
        started.elapsed().as_secs_f64()
    );
    let sources: Vec<RuleSource> = pack
        .files
        .iter()
        .map(|source| RuleSource {
            source: Arc::clone(source),
            standard: false,
        })
        .collect();

    // `compile_sources` in its two steps, timed apart.
    let started = Instant::now();
    let parsed = tally_compiler::parallel::map_with(
        &pack.files,
        1,
        || (),
        |_, f| tally_compiler::parse_file(Arc::clone(f)),
    );
    let parse = started.elapsed();
    let started = Instant::now();
    let compiled = tally_compiler::compile(&parsed.iter().collect::<Vec<_>>());
    println!(
        "  compile_sources: parse {:.2} s + check and lower {:.2} s ({} diagnostics, {} errors)",
        parse.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        compiled.diagnostics.len(),
        compiled.has_errors() as usize
    );
    drop((parsed, compiled));

    let (started, cpu_before) = (Instant::now(), cpu_time());
    let mut ws = Workspace::new(Database::default(), sources, date(2026, 11, 1));
    let errors = ws.compiled().has_errors();
    let (compile, compile_cpu) = (started.elapsed(), cpu_time().saturating_sub(cpu_before));
    let started = Instant::now();
    let _ = ws.recognizer();
    let matcher = started.elapsed();
    println!(
        "  compile (workspace, as the command line): {:.2} s ({:.2} s of CPU){}; recognizer: {:.2} s; peak {}",
        compile.as_secs_f64(),
        compile_cpu.as_secs_f64(),
        if errors { " WITH ERRORS" } else { "" },
        matcher.as_secs_f64(),
        show_peak()
    );

    let mut rng = Rng(42);
    let mut strings = Interner::default();
    let catalogue: Vec<SharedRow> = catalogue(&pack, size.catalogue, &mut rng)
        .into_iter()
        .map(|(p, n, v)| (strings.intern(&p), strings.intern(&n), strings.intern(&v)))
        .collect();
    let rows = size.devices * size.rows_per_device;

    if paths.contains(&"direct") {
        let recognizer = ws.recognizer().clone();
        let mut totals = Totals::default();
        let (mut took, mut cpu) = (Duration::ZERO, Duration::ZERO);
        let mut line = 2;
        // Devices are recognised a batch at a time, so that the CPU clock's ticks add up.
        for batch in (0..size.devices).collect::<Vec<_>>().chunks(1000) {
            let devices: Vec<(Arc<str>, Vec<Evidence>)> = batch
                .iter()
                .map(|d| {
                    let id = device_id(*d);
                    let evidence = device_rows(*d, &id, size, &catalogue, line, &mut strings);
                    line += evidence.len();
                    (id, evidence)
                })
                .collect();
            let (started, cpu_before) = (Instant::now(), cpu_time());
            let results: Vec<DeviceRecognition> = devices
                .iter()
                .map(|(id, evidence)| recognize_device(&recognizer, id, evidence))
                .collect();
            took += started.elapsed();
            cpu += cpu_time().saturating_sub(cpu_before);
            results.iter().for_each(|r| totals.add(r));
        }
        println!(
            "  direct (recognize_device per device on one thread, rows generated per device):"
        );
        totals.report(rows, took, cpu);
        println!("  peak {}", show_peak());
    }

    if paths.contains(&"salsa") {
        let started = Instant::now();
        let mut estate = Estate::default();
        let mut line = 2;
        for d in 0..size.devices {
            let id = device_id(d);
            let evidence = device_rows(d, &id, size, &catalogue, line, &mut strings);
            line += evidence.len();
            estate.evidence.extend(evidence);
            estate.devices.push(Device {
                name: id.to_string(),
                id: id.to_string(),
                ..Device::default()
            });
        }
        let generated = started.elapsed();
        println!(
            "  salsa: generated the estate in {:.2} s (peak {})",
            generated.as_secs_f64(),
            show_peak()
        );
        // Loading recognises every device and builds the installation index.
        let (started, cpu_before) = (Instant::now(), cpu_time());
        ws.load(estate);
        let (took, cpu) = (started.elapsed(), cpu_time().saturating_sub(cpu_before));
        let mut totals = Totals::default();
        for view in &ws.recognition() {
            totals.add(view.recognition);
        }
        println!("  salsa (Workspace::load, as the command line: grouping, recognition, index):");
        totals.report(rows, took, cpu);
        println!("  peak {}", show_peak());
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "quick");
    let mut paths: Vec<&str> = ["direct", "salsa"]
        .into_iter()
        .filter(|p| args.iter().any(|a| a == p))
        .collect();
    if paths.is_empty() {
        paths = vec!["salsa"];
    }
    let size = if quick {
        Size {
            rules: 30_000,
            publishers: 100,
            devices: 10_000,
            rows_per_device: 200,
            catalogue: 20_000,
        }
    } else {
        Size {
            rules: 300_000,
            publishers: 1_000,
            devices: 100_000,
            rows_per_device: 200,
            catalogue: 50_000,
        }
    };
    // `devices=N` overrides the number of devices (for a slow baseline).
    let size = match args
        .iter()
        .find_map(|a| a.strip_prefix("devices=")?.parse().ok())
    {
        Some(devices) => Size { devices, ..size },
        None => size,
    };
    run(if quick { "quick" } else { "full" }, &size, &paths);
}
