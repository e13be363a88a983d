//! A structure-aware input for the `pipeline` target: a small estate and a small rule pack,
//! built from `arbitrary` choices and written out as the text files a user would write, so that
//! the importer and the compiler see them as they see real ones.
//!
//! Most choices pick from names that exist (standard metrics, rights and SKUs, the scenario's own
//! applications, devices and users), so that most inputs import and compile and the fuzzer spends
//! its time in recognition, metrics and reconciliation; numbers range from small to enormous.

use std::fmt::Write as _;

use arbitrary::Arbitrary;
use tally_compiler::ir::CompiledPack;

/// At most this many records of each kind are written.
const MAX_RECORDS: usize = 12;

/// A whole estate and rule pack.
#[derive(Debug, Arbitrary)]
pub struct Scenario {
    pub devices: Vec<DeviceSpec>,
    pub users: Vec<UserSpec>,
    pub evidence: Vec<EvidenceSpec>,
    pub licenses: Vec<LicenseSpec>,
    pub purchases: Vec<PurchaseSpec>,
    pub usage: Option<Vec<UsageSpec>>,
    pub applications: Vec<ApplicationSpec>,
    pub metrics: Vec<MetricSpec>,
    /// Whether the standard metrics and tables (`rules/`) are loaded beside the scenario's pack.
    pub standard: bool,
}

#[derive(Debug, Arbitrary)]
pub struct DeviceSpec {
    pub chassis: Option<u8>,
    pub os_type: Option<bool>,
    pub processors: Option<Count>,
    pub cores: Option<Count>,
    pub threads: Option<Count>,
    pub sockets: Option<Count>,
    pub max_sockets: Option<Count>,
    pub processor_model: Option<u8>,
    pub host: Option<u8>,
    pub cluster: Option<u8>,
    pub partition: Option<u8>,
    pub subcapacity_eligible: Option<bool>,
    pub hosted_in: Option<u8>,
    pub purchased: Option<Day>,
    pub assigned_user: Option<u8>,
    pub calculated_user: Option<u8>,
    pub group: Option<u8>,
}

#[derive(Debug, Arbitrary)]
pub struct UserSpec {
    pub status: Option<u8>,
    pub group: Option<u8>,
}

#[derive(Debug, Arbitrary)]
pub struct EvidenceSpec {
    pub device: u8,
    pub software: u8,
    /// A suffix after the software's name, as installers add (` - en-us`).
    pub suffix: Option<u8>,
    pub ignored: bool,
    pub kind: Option<u8>,
}

#[derive(Debug, Arbitrary)]
pub struct LicenseSpec {
    /// A SKU of the standard packs instead of a metric and rights.
    pub sku: Option<u16>,
    pub metric: u16,
    pub rights: u16,
    pub priority: Option<u8>,
    pub limit: Option<u8>,
    pub status: Option<u8>,
    pub extra: Option<Amount>,
    pub unit_price: Option<Amount>,
    pub allocations: Vec<AllocationSpec>,
    pub virtualization: Option<(Option<u8>, Option<bool>)>,
    pub metric_value: Option<Amount>,
    pub os_type: Option<bool>,
    pub group: Option<u8>,
}

#[derive(Debug, Arbitrary)]
pub struct AllocationSpec {
    pub user: bool,
    pub id: u8,
    pub kind: u8,
}

#[derive(Debug, Arbitrary)]
pub struct PurchaseSpec {
    pub license: u8,
    pub quantity: Amount,
    pub unit_price: Option<Amount>,
    pub date: Option<Day>,
    pub effective: Option<Day>,
    pub expiry: Option<Day>,
    pub disabled: bool,
}

#[derive(Debug, Arbitrary)]
pub struct UsageSpec {
    pub application: u8,
    pub day: Day,
    pub hour: Option<(u8, u8)>,
    pub in_use: u32,
}

#[derive(Debug, Arbitrary)]
pub struct ApplicationSpec {
    /// Whether its rights cover earlier or later versions too.
    pub downgrade: bool,
    pub upgrade: bool,
    pub edition: bool,
}

#[derive(Debug, Arbitrary)]
pub struct MetricSpec {
    pub counts: u8,
    pub requires: Vec<u8>,
    pub limit: Option<(u8, Option<u8>, Option<u8>)>,
    pub allocated_only: bool,
    pub quantity: Option<Expr>,
}

/// A quantity expression over the holder.
#[derive(Debug, Arbitrary)]
pub enum Expr {
    Number(Amount),
    /// A number field of the holder.
    Field(u8),
    Binary(u8, Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    Min(Box<Expr>, Box<Expr>),
    Max(Box<Expr>, Box<Expr>),
    Ceil(Box<Expr>),
    Floor(Box<Expr>),
    Round(Box<Expr>, u8),
    If(Box<Cond>, Box<Expr>, Box<Expr>),
    /// An aggregation over a list of the holder's (`sum`, `max`, `min` or `count`).
    Aggregate(u8, u8, Box<Expr>),
    /// A lookup in a standard table, keyed by the processor model.
    Lookup(u8),
}

#[derive(Debug, Arbitrary)]
pub enum Cond {
    Compare(u8, Expr, Expr),
    Like(u8),
    Flag(u8),
    Not(Box<Cond>),
    And(Box<Cond>, Box<Cond>),
}

/// A whole number, small or large.
#[derive(Debug, Arbitrary)]
pub enum Count {
    Small(u8),
    Any(u32),
}

/// A decimal, small, with a fraction, or enormous.
#[derive(Debug, Arbitrary)]
pub enum Amount {
    Whole(u16),
    Fraction(u32, u8),
    Huge(u128, u8),
    /// The largest decimal.
    Max,
}

/// A day, valid or not.
#[derive(Debug, Arbitrary)]
pub struct Day(pub u16, pub u8, pub u8);

const CHASSIS: &[&str] = &["desktop", "laptop", "tablet", "server", "vm", "other"];
const PARTITIONS: &[&str] = &["physical", "vm", "hard_partition", "container"];
const HOSTED_IN: &[&str] = &["on_premises", "aws", "azure", ""];
const MODELS: &[&str] = &[
    "Intel(R) Xeon(R) Silver 4110 CPU @ 2.10GHz",
    "Intel(R) Core(TM) i5-13500",
    "AMD EPYC 7763 64-Core Processor",
    "Intel(R) Itanium(R) Processor 9350",
    "IBM POWER7",
    "Ampere Altra Q80-30",
    "SPARC T8",
    "",
];
const USER_STATUSES: &[&str] = &["active", "inactive", "retired", "pending"];
const EVIDENCE_KINDS: &[&str] = &["installer", "file", "wmi", "package", "swid"];
const LIMITS: &[&str] = &["as_purchased", "true_up", "unlimited"];
const LICENSE_STATUSES: &[&str] = &["active", "purchased", "received", "in_stock", "retired"];
const ALLOCATION_KINDS: &[&str] = &["allocated", "awaiting_inventory", "permanent"];
const VIRTUAL_COUNTS: &[&str] = &["vm", "host", "cluster"];
const GROUPS: &[&str] = &[
    "location=Europe/Berlin",
    "location=Europe",
    "cost_center=4711",
    "location=America/New_York;cost_center=4712",
];
const SUFFIXES: &[&str] = &[" - en-us", " (x64)", "", " 2", "%"];
/// Number fields of a machine.
const MACHINE_NUMBERS: &[&str] = &["cores", "processors", "sockets", "max_sockets", "threads"];
const HARDWARE: &[&str] = &[
    "cores",
    "processors",
    "sockets",
    "max_sockets",
    "threads",
    "processor_model",
    "purchased",
    "host",
];
const LIMITED: &[&str] = &["cores", "processors", "sockets"];
const COUNTS: &[&str] = &["device", "user", "host", "cluster", "license"];
const OPERATORS: &[&str] = &["+", "-", "*", "/"];
const COMPARISONS: &[&str] = &["==", "!=", "<", "<=", ">", ">="];
const FLAGS: &[&str] = &["virtual", "cloud", "subcapacity_eligible", "installed"];

/// Picks one of `items` by `n`.
fn pick<'a>(items: &[&'a str], n: impl Into<usize>) -> &'a str {
    let n = n.into();
    items.get(n % items.len().max(1)).copied().unwrap_or("")
}

impl Count {
    fn text(&self) -> String {
        match self {
            Self::Small(n) => (n % 65).to_string(),
            Self::Any(n) => n.to_string(),
        }
    }
}

impl Amount {
    fn text(&self) -> String {
        match self {
            Self::Whole(n) => n.to_string(),
            Self::Fraction(n, scale) => {
                let digits = format!("{n:03}");
                let scale = usize::from(scale % 4).min(digits.len() - 1);
                let (whole, fraction) = digits.split_at(digits.len() - scale);
                if fraction.is_empty() {
                    whole.to_owned()
                } else {
                    format!("{whole}.{fraction}")
                }
            }
            // 20 to 30 digits: about as large as a decimal holds (29 digits), and beyond.
            Self::Huge(n, digits) => {
                let digits = 20 + u32::from(digits % 11);
                (n % 10u128.pow(digits)).to_string()
            }
            Self::Max => "79228162514264337593543950335".to_owned(),
        }
    }
}

impl Day {
    fn text(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}",
            1990 + self.0 % 60,
            1 + self.1 % 12,
            1 + self.2 % 31
        )
    }
}

/// The texts of a scenario: the estate files and the rule pack.
pub struct Texts {
    /// devices, users, evidence, licenses, purchases.
    pub estate: [String; 5],
    pub usage: Option<String>,
    pub rules: String,
}

impl Scenario {
    /// Writes the scenario out. `pack` is the compiled standard metrics and tables
    /// (`rules/`), which licenses may name when `standard` is set.
    pub fn texts(&self, pack: &CompiledPack) -> Texts {
        let apps = self.applications.len().clamp(1, MAX_RECORDS);
        let mut metrics: Vec<String> = (0..self.metrics.len().min(MAX_RECORDS))
            .map(|i| format!("fuzz.m{i}"))
            .collect();
        metrics.push("fuzz.device".to_owned());
        if self.standard {
            metrics.extend(pack.metrics.keys().cloned());
        }
        let mut rights: Vec<String> = (0..apps).map(|i| format!("fuzz.app{i}")).collect();
        rights.push("fuzz.suite".to_owned());
        let skus: Vec<String> = (0..apps).map(|i| format!("FZ-{i}")).collect();
        let software: Vec<(String, String, String)> = (0..apps)
            .map(|i| {
                (
                    "Fuzz Inc".to_owned(),
                    format!("Fuzz App {i}"),
                    format!("{i}.0"),
                )
            })
            .chain(std::iter::once((
                "Someone Else".to_owned(),
                "Unknown Tool".to_owned(),
                "1.0".to_owned(),
            )))
            .collect();
        Texts {
            estate: [
                self.devices_csv(),
                self.users_csv(),
                self.evidence_csv(&software),
                self.licenses_yaml(&metrics, &rights, &skus),
                self.purchases_csv(),
            ],
            usage: self.usage.as_ref().map(|rows| usage_csv(rows, apps)),
            rules: self.rules(apps, &metrics),
        }
    }

    /// The id of one of the scenario's devices (their ids are `D0`, `D1`, …).
    fn device(&self, n: u8) -> String {
        format!(
            "D{}",
            usize::from(n) % self.devices.len().clamp(1, MAX_RECORDS)
        )
    }

    fn user(&self, n: u8) -> String {
        format!(
            "U{}",
            usize::from(n) % self.users.len().clamp(1, MAX_RECORDS)
        )
    }

    fn license(&self, n: u8) -> String {
        format!(
            "L{}",
            usize::from(n) % self.licenses.len().clamp(1, MAX_RECORDS)
        )
    }

    fn devices_csv(&self) -> String {
        let mut out = String::from(
            "id,chassis,os_type,processors,cores,threads,sockets,max_sockets,processor_model,host,cluster,partition,subcapacity_eligible,hosted_in,purchased,assigned_user,calculated_user,groups\n",
        );
        let opt = |v: Option<String>| v.unwrap_or_default();
        for (i, d) in self.devices.iter().take(MAX_RECORDS).enumerate() {
            let cells = [
                format!("D{i}"),
                opt(d.chassis.map(|c| pick(CHASSIS, c).to_owned())),
                opt(d
                    .os_type
                    .map(|s| if s { "server" } else { "desktop" }.to_owned())),
                opt(d.processors.as_ref().map(Count::text)),
                opt(d.cores.as_ref().map(Count::text)),
                opt(d.threads.as_ref().map(Count::text)),
                opt(d.sockets.as_ref().map(Count::text)),
                opt(d.max_sockets.as_ref().map(Count::text)),
                opt(d.processor_model.map(|m| pick(MODELS, m).to_owned())),
                opt(d
                    .host
                    .map(|h| self.device(h))
                    .filter(|h| *h != format!("D{i}"))),
                opt(d.cluster.map(|c| format!("C{}", c % 3))),
                opt(d.partition.map(|p| pick(PARTITIONS, p).to_owned())),
                opt(d.subcapacity_eligible.map(|s| s.to_string())),
                opt(d.hosted_in.map(|h| pick(HOSTED_IN, h).to_owned())),
                opt(d.purchased.as_ref().map(Day::text)),
                opt(d.assigned_user.map(|u| self.user(u))),
                opt(d.calculated_user.map(|u| self.user(u))),
                opt(d.group.map(|g| pick(GROUPS, g).to_owned())),
            ];
            row(&mut out, &cells);
        }
        if self.devices.is_empty() {
            // Every header column but the id left empty.
            let columns = out.split(',').count();
            row(
                &mut out,
                &[vec!["D0".to_owned()], vec![String::new(); columns - 1]].concat(),
            );
        }
        out
    }

    fn users_csv(&self) -> String {
        let mut out = String::from("id,name,status,groups\n");
        for (i, u) in self.users.iter().take(MAX_RECORDS).enumerate() {
            let id = format!("U{i}");
            let cells = [
                id.clone(),
                format!("User {id}"),
                u.status
                    .map(|s| pick(USER_STATUSES, s).to_owned())
                    .unwrap_or_default(),
                u.group
                    .map(|g| pick(GROUPS, g).to_owned())
                    .unwrap_or_default(),
            ];
            row(&mut out, &cells);
        }
        if self.users.is_empty() {
            out.push_str("U0,User U0,,\n");
        }
        out
    }

    fn evidence_csv(&self, software: &[(String, String, String)]) -> String {
        let mut out = String::from("device,kind,publisher,name,version,ignored\n");
        for e in self.evidence.iter().take(MAX_RECORDS * 4) {
            let (publisher, name, version) = software
                .get(usize::from(e.software) % software.len().max(1))
                .cloned()
                .unwrap_or_default();
            let suffix = e.suffix.map_or("", |s| pick(SUFFIXES, s));
            let cells = [
                self.device(e.device),
                e.kind
                    .map(|k| pick(EVIDENCE_KINDS, k).to_owned())
                    .unwrap_or_default(),
                publisher,
                format!("{name}{suffix}"),
                version,
                e.ignored.to_string(),
            ];
            row(&mut out, &cells);
        }
        out
    }

    fn licenses_yaml(&self, metrics: &[String], rights: &[String], skus: &[String]) -> String {
        let mut out = String::from("licenses:\n");
        if self.licenses.is_empty() {
            return "licenses: []\n".to_owned();
        }
        let choose = |names: &[String], n: u16| -> String {
            names
                .get(usize::from(n) % names.len().max(1))
                .cloned()
                .unwrap_or_default()
        };
        for (i, l) in self.licenses.iter().take(MAX_RECORDS).enumerate() {
            let _ = writeln!(out, "  - id: L{i}");
            match l.sku.filter(|_| !skus.is_empty()) {
                Some(sku) => {
                    let _ = writeln!(out, "    sku: \"{}\"", choose(skus, sku));
                }
                None => {
                    let _ = writeln!(out, "    metric: \"{}\"", choose(metrics, l.metric));
                    let _ = writeln!(out, "    rights: \"{}\"", choose(rights, l.rights));
                }
            }
            if let Some(p) = l.priority {
                let _ = writeln!(out, "    priority: {}", 1 + p % 4);
            }
            if let Some(limit) = l.limit {
                let _ = writeln!(out, "    limit: {}", pick(LIMITS, limit));
            }
            if let Some(status) = l.status {
                let _ = writeln!(out, "    status: {}", pick(LICENSE_STATUSES, status));
            }
            if let Some(extra) = &l.extra {
                let _ = writeln!(out, "    extra_entitlements: \"{}\"", extra.text());
            }
            if let Some(price) = &l.unit_price {
                let _ = writeln!(
                    out,
                    "    unit_price: \"{}\"\n    currency: EUR",
                    price.text()
                );
            }
            if let Some(value) = &l.metric_value {
                let _ = writeln!(out, "    metric_value: \"{}\"", value.text());
            }
            if let Some((count, capacity)) = l.virtualization {
                out.push_str("    virtualization:\n");
                if let Some(count) = count {
                    let _ = writeln!(out, "      count: {}", pick(VIRTUAL_COUNTS, count));
                }
                let capacity = match capacity {
                    Some(true) => "sub",
                    Some(false) => "full",
                    None => "",
                };
                let _ = writeln!(out, "      capacity: \"{capacity}\"");
            }
            if l.os_type.is_some() || l.group.is_some() {
                out.push_str("    restrictions:\n");
                if let Some(server) = l.os_type {
                    let os = if server { "server" } else { "desktop" };
                    let _ = writeln!(out, "      os_type: {os}");
                }
                if let Some(group) = l.group {
                    let first = pick(GROUPS, group).split(';').next().unwrap_or_default();
                    let _ = writeln!(out, "      groups: [\"{first}\"]");
                }
            }
            if !l.allocations.is_empty() {
                out.push_str("    allocations:\n");
                for a in l.allocations.iter().take(4) {
                    let target = if a.user {
                        format!("user: {}", self.user(a.id))
                    } else {
                        format!("device: {}", self.device(a.id))
                    };
                    let _ = writeln!(
                        out,
                        "      - {target}\n        type: {}",
                        pick(ALLOCATION_KINDS, a.kind)
                    );
                }
            }
        }
        out
    }

    fn purchases_csv(&self) -> String {
        let mut out = String::from(
            "id,license,quantity,unit_price,currency,date,effective,expiry,disabled\n",
        );
        let purchases = if self.licenses.is_empty() {
            &[][..]
        } else {
            &self.purchases[..]
        };
        for (i, p) in purchases.iter().take(MAX_RECORDS).enumerate() {
            let cells = [
                format!("P{i}"),
                self.license(p.license),
                p.quantity.text(),
                p.unit_price.as_ref().map(Amount::text).unwrap_or_default(),
                if p.unit_price.is_some() { "EUR" } else { "" }.to_owned(),
                p.date.as_ref().map(Day::text).unwrap_or_default(),
                p.effective.as_ref().map(Day::text).unwrap_or_default(),
                p.expiry.as_ref().map(Day::text).unwrap_or_default(),
                p.disabled.to_string(),
            ];
            row(&mut out, &cells);
        }
        out
    }

    /// The scenario's pack: a publisher, a product, its applications (each with an installer
    /// rule, its own rights and a SKU), a bundle of the first two, and the metrics.
    fn rules(&self, apps: usize, metrics: &[String]) -> String {
        let mut out = String::from(
            "publisher fuzz { name \"Fuzz Inc\" }\n\
             product fuzz.tool { name \"Tool\" publisher fuzz editions \"Standard\", \"Pro\" }\n\
             bundle fuzz.suite { primary fuzz.app0 supplementary fuzz.app1 }\n\
             metric fuzz.device { counts device }\n",
        );
        for i in 0..apps {
            let spec = self.applications.get(i);
            let edition = if spec.is_some_and(|a| a.edition) {
                "Pro"
            } else {
                "Standard"
            };
            let _ = writeln!(
                out,
                "application fuzz.app{i} {{ product fuzz.tool version \"{i}.0\" edition \"{edition}\" recognize installer {{ name like \"Fuzz App {i}%\" }} }}"
            );
            let mut rights = format!("rights fuzz.app{i} {{ covers fuzz.app{i}");
            if spec.is_some_and(|a| a.downgrade) {
                rights.push_str(" downgrade");
            }
            if spec.is_some_and(|a| a.upgrade) {
                rights.push_str(" upgrade");
            }
            let _ = writeln!(out, "{rights} }}");
            let metric = metrics
                .get(i % metrics.len().max(1))
                .map_or("fuzz.device", String::as_str);
            let _ = writeln!(
                out,
                "sku \"FZ-{i}\" {{ license \"Fuzz {i}\" metric {metric} rights fuzz.app{i} }}"
            );
        }
        if apps < 2 {
            // The bundle's supplementary member.
            out.push_str("application fuzz.app1 { product fuzz.tool version \"1.0\" recognize installer { name like \"Fuzz App 1%\" } }\n");
        }
        for (i, m) in self.metrics.iter().take(MAX_RECORDS).enumerate() {
            let counts = pick(COUNTS, m.counts);
            let _ = write!(out, "metric fuzz.m{i} {{\n    counts {counts}\n");
            if !m.requires.is_empty() {
                let words: Vec<&str> = m
                    .requires
                    .iter()
                    .take(3)
                    .map(|r| pick(HARDWARE, *r))
                    .collect();
                let _ = writeln!(out, "    requires {}", words.join(", "));
            }
            if let Some((what, low, high)) = m.limit {
                let (low, high) = match (low, high) {
                    (Some(l), Some(h)) => (Some(l.min(h)), Some(l.max(h))),
                    (None, None) => (Some(1), None),
                    bounds => bounds,
                };
                let low = low.map(|l| l.to_string()).unwrap_or_default();
                let high = high.map(|h| h.to_string()).unwrap_or_default();
                let _ = writeln!(out, "    limit {} {low}..{high}", pick(LIMITED, what));
            }
            if m.allocated_only {
                out.push_str("    allocated_only\n");
            }
            if let Some(quantity) = &m.quantity {
                let mut text = String::new();
                quantity.write(
                    &mut text,
                    &Context {
                        holder: counts,
                        tables: self.standard,
                    },
                    0,
                );
                let _ = writeln!(out, "    quantity {text}");
            }
            out.push_str("}\n");
        }
        out
    }
}

fn usage_csv(rows: &[UsageSpec], apps: usize) -> String {
    let mut out = String::from("application,at,in_use\n");
    for u in rows.iter().take(MAX_RECORDS) {
        let at = match u.hour {
            Some((h, m)) => format!("{}T{:02}:{:02}", u.day.text(), h % 24, m % 60),
            None => u.day.text(),
        };
        let _ = writeln!(
            out,
            "fuzz.app{},{at},{}",
            usize::from(u.application) % apps.max(1),
            u.in_use
        );
    }
    out
}

/// Appends a CSV row, quoting cells that need it.
fn row(out: &mut String, cells: &[String]) {
    let cells: Vec<String> = cells
        .iter()
        .map(|c| {
            if c.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.clone()
            }
        })
        .collect();
    out.push_str(&cells.join(","));
    out.push('\n');
}

/// What an expression is written for.
struct Context<'a> {
    /// The holder variable: `device`, `user`, `host`, `cluster` or `license`.
    holder: &'a str,
    /// Whether the standard tables are loaded.
    tables: bool,
}

/// Deep enough to be interesting, shallow enough for the compiler's stack.
const MAX_DEPTH: usize = 6;

impl Expr {
    /// Writes the expression for a metric whose holder is named `holder`.
    fn write(&self, out: &mut String, cx: &Context<'_>, depth: usize) {
        let holder = cx.holder;
        if depth > MAX_DEPTH {
            out.push('1');
            return;
        }
        let machine = matches!(holder, "device" | "host" | "cluster");
        let sub = |e: &Expr, out: &mut String| e.write(out, cx, depth + 1);
        match self {
            Self::Number(n) => out.push_str(&n.text()),
            Self::Field(f) => match holder {
                "user" => out.push_str("count(d in user.devices)"),
                "license" => out.push_str(if f % 2 == 0 {
                    "license.metric_value"
                } else {
                    "count(i in license.installations)"
                }),
                _ => {
                    let _ = write!(out, "{holder}.{}", pick(MACHINE_NUMBERS, *f));
                }
            },
            Self::Binary(op, a, b) => {
                out.push('(');
                sub(a, out);
                let _ = write!(out, " {} ", pick(OPERATORS, *op));
                sub(b, out);
                out.push(')');
            }
            Self::Neg(a) => {
                out.push_str("-(");
                sub(a, out);
                out.push(')');
            }
            Self::Min(a, b) | Self::Max(a, b) => {
                out.push_str(if matches!(self, Self::Min(..)) {
                    "min("
                } else {
                    "max("
                });
                sub(a, out);
                out.push_str(", ");
                sub(b, out);
                out.push(')');
            }
            Self::Ceil(a) | Self::Floor(a) => {
                out.push_str(if matches!(self, Self::Ceil(_)) {
                    "ceil("
                } else {
                    "floor("
                });
                sub(a, out);
                out.push(')');
            }
            Self::Round(a, places) => {
                out.push_str("round(");
                sub(a, out);
                let _ = write!(out, ", {})", places % 30);
            }
            Self::If(c, a, b) => {
                out.push_str("(if ");
                c.write(out, cx, depth + 1);
                out.push_str(" then ");
                sub(a, out);
                out.push_str(" else ");
                sub(b, out);
                out.push(')');
            }
            Self::Aggregate(kind, list, body) => {
                let (list, element) = match (machine, holder) {
                    (true, _) => match list % 3 {
                        0 => (format!("{holder}.processor_list"), "processor"),
                        1 => (format!("{holder}.vms"), "machine"),
                        _ => (format!("{holder}.hosts"), "machine"),
                    },
                    (false, "user") => ("user.devices".to_owned(), "machine"),
                    _ => match list % 2 {
                        0 => ("license.devices".to_owned(), "machine"),
                        _ => ("license.usage".to_owned(), "usage"),
                    },
                };
                let field = match element {
                    "processor" => "cores",
                    "usage" => "in_use",
                    _ => pick(MACHINE_NUMBERS, *kind),
                };
                match kind % 4 {
                    3 => {
                        let _ = write!(out, "count(x in {list})");
                    }
                    k => {
                        let name = pick(&["sum", "max", "min"], k);
                        let _ = write!(out, "{name}(x.{field} * (");
                        sub(body, out);
                        let _ = write!(out, ") for x in {list})");
                    }
                }
            }
            Self::Lookup(table) => {
                if machine && cx.tables {
                    let _ = write!(
                        out,
                        "{}",
                        match table % 2 {
                            0 => format!("points.per_processor[{holder}.processor_model]"),
                            _ => format!(
                                "oracle.core_factor[{holder}.processor_model, {holder}.purchased]"
                            ),
                        }
                    );
                } else {
                    out.push('2');
                }
            }
        }
    }
}

impl Cond {
    fn write(&self, out: &mut String, cx: &Context<'_>, depth: usize) {
        let holder = cx.holder;
        if depth > MAX_DEPTH {
            out.push_str("true");
            return;
        }
        let machine = matches!(holder, "device" | "host" | "cluster");
        match self {
            Self::Compare(op, a, b) => {
                a.write(out, cx, depth + 1);
                let _ = write!(out, " {} ", pick(COMPARISONS, *op));
                b.write(out, cx, depth + 1);
            }
            Self::Like(model) if machine => {
                let _ = write!(
                    out,
                    "{holder}.processor_model like \"%{}%\"",
                    pick(&["Xeon", "Ampere", "POWER", "EPYC"], *model)
                );
            }
            Self::Flag(flag) if machine => {
                let _ = write!(out, "{holder}.{}", pick(FLAGS, *flag));
            }
            Self::Like(_) | Self::Flag(_) => out.push_str("license.subcapacity"),
            Self::Not(c) => {
                out.push_str("not (");
                c.write(out, cx, depth + 1);
                out.push(')');
            }
            Self::And(a, b) => {
                out.push('(');
                a.write(out, cx, depth + 1);
                out.push_str(") and (");
                b.write(out, cx, depth + 1);
                out.push(')');
            }
        }
    }
}
