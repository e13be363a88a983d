//! The license records (`licenses.yaml`) and their purchases (`purchases.csv`).
//!
//! Licenses are bought per product [`Line`]: each line has templates that name a SKU of the
//! standard packs, or a metric and rights they declare. The licenses are spread over the
//! templates, niche products getting more records per installation than mass ones, as
//! departments buy those on their own. The purchases of a line add up to a fixed share of the
//! demand the evidence made ([`Demand`]): some lines are bought short, so that their
//! highest-priority license goes at risk, and others with entitlements to spare.

use std::io::{self, Write};

use jiff::civil::{Date, date};

use super::inventory::{Demand, Holder, LOCATIONS};
use super::{Options, Rng, money, provenance, push_csv_field};

/// A product line licenses are bought for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Line {
    OfficeProPlus,
    OfficeStandard,
    VisioPro,
    VisioStandard,
    ProjectPro,
    ProjectStandard,
    AcrobatPro,
    AcrobatStandard,
    CreativeCloud,
    AutoCad,
    AutoCadLt,
    Snagit,
    Tableau,
    WinZip,
    SqlEnterprise,
    SqlStandard,
}

impl Line {
    pub(super) const ALL: [Line; 16] = [
        Self::OfficeProPlus,
        Self::OfficeStandard,
        Self::VisioPro,
        Self::VisioStandard,
        Self::ProjectPro,
        Self::ProjectStandard,
        Self::AcrobatPro,
        Self::AcrobatStandard,
        Self::CreativeCloud,
        Self::AutoCad,
        Self::AutoCadLt,
        Self::Snagit,
        Self::Tableau,
        Self::WinZip,
        Self::SqlEnterprise,
        Self::SqlStandard,
    ];
    pub(super) const COUNT: usize = Self::ALL.len();

    pub(super) fn index(self) -> usize {
        self as usize
    }

    /// The share of the line's demand that is bought, in percent: below 100 the line is
    /// short and goes at risk; above, entitlements are left over.
    fn coverage(self) -> u64 {
        match self {
            Self::OfficeProPlus => 96,
            Self::OfficeStandard => 130,
            Self::VisioPro => 80,
            Self::VisioStandard => 150,
            Self::ProjectPro => 70,
            Self::ProjectStandard => 125,
            Self::AcrobatPro => 90,
            Self::AcrobatStandard => 140,
            Self::CreativeCloud => 85,
            Self::AutoCad => 110,
            Self::AutoCadLt => 75,
            Self::Snagit => 120,
            Self::Tableau => 90,
            Self::WinZip => 100,
            Self::SqlEnterprise => 80,
            Self::SqlStandard => 120,
        }
    }
}

/// What licenses of one kind are bought as.
#[derive(Debug)]
struct Template {
    line: Line,
    /// The middle of the license ids: `L-00001-MS-O2019-PP`.
    stem: &'static str,
    name: &'static str,
    terms: Terms,
    subscription: bool,
    /// The first year it was bought in.
    since: i16,
    /// The list price of one unit, in cents.
    price: u64,
    /// How many licenses of this template there are, relative to the other templates.
    weight: u32,
}

impl Template {
    /// Whether the license counts users, so that allocations name users: the metric, or the
    /// metric of the SKU as the standard packs declare it.
    fn per_user(&self) -> bool {
        match self.terms {
            Terms::Metric { metric, .. } => metric == "user",
            Terms::Sku(sku) => matches!(
                sku,
                "65000001BA01A12" | "65000002BA01A12" | "TAB-CRT-NU-12M" | "SNAG-NU-MNT1"
            ),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Terms {
    /// A SKU of the standard packs, which names the metric and rights.
    Sku(&'static str),
    /// A metric and rights (or bundle) declared by the standard packs.
    Metric {
        metric: &'static str,
        rights: &'static str,
    },
}

const fn sku(
    line: Line,
    stem: &'static str,
    name: &'static str,
    sku: &'static str,
    since: i16,
    price: u64,
    weight: u32,
) -> Template {
    Template {
        line,
        stem,
        name,
        terms: Terms::Sku(sku),
        subscription: false,
        since,
        price,
        weight,
    }
}

const fn metric(
    line: Line,
    stem: &'static str,
    name: &'static str,
    (metric, rights): (&'static str, &'static str),
    since: i16,
    price: u64,
    weight: u32,
) -> Template {
    Template {
        line,
        stem,
        name,
        terms: Terms::Metric { metric, rights },
        subscription: false,
        since,
        price,
        weight,
    }
}

const fn subscription(template: Template) -> Template {
    Template {
        subscription: true,
        ..template
    }
}

/// Every template, most important first: with fewer licenses than templates, the first ones
/// are used.
const TEMPLATES: &[Template] = {
    use Line::*;
    &[
        sku(
            OfficeProPlus,
            "MS-O2019-PP",
            "Microsoft Office Professional Plus 2019",
            "79P-05729",
            2019,
            41_250,
            1,
        ),
        sku(
            OfficeProPlus,
            "MS-O2016-PP",
            "Microsoft Office Professional Plus 2016",
            "79P-05552",
            2016,
            39_800,
            1,
        ),
        sku(
            OfficeStandard,
            "MS-O2019-STD",
            "Microsoft Office Standard 2019",
            "021-10554",
            2019,
            30_500,
            1,
        ),
        sku(
            VisioPro,
            "MS-VISIO-PRO-2016",
            "Microsoft Visio Professional 2016",
            "D86-05822",
            2016,
            38_900,
            3,
        ),
        sku(
            ProjectPro,
            "MS-PROJECT-PRO-2019",
            "Microsoft Project Professional 2019",
            "H30-99019",
            2019,
            109_900,
            3,
        ),
        subscription(sku(
            AcrobatPro,
            "ADOBE-ACROBAT-PRO-VIP",
            "Adobe Acrobat Pro DC for teams",
            "65000001BA01A12",
            2024,
            23_988,
            1,
        )),
        sku(
            SqlStandard,
            "MS-SQL-STD-2022",
            "Microsoft SQL Server 2022 Standard Core",
            "7NQ-99022",
            2023,
            197_250,
            6,
        ),
        sku(
            SqlEnterprise,
            "MS-SQL-ENT-2022",
            "Microsoft SQL Server 2022 Enterprise Core",
            "7JQ-99022",
            2023,
            756_150,
            6,
        ),
        subscription(sku(
            Tableau,
            "TABLEAU-CREATOR",
            "Tableau Creator",
            "TAB-CRT-NU-12M",
            2024,
            90_000,
            6,
        )),
        sku(
            Snagit,
            "TECHSMITH-SNAGIT",
            "TechSmith Snagit (with Maintenance)",
            "SNAG-NU-MNT1",
            2020,
            6_299,
            6,
        ),
        sku(
            WinZip,
            "COREL-WINZIP",
            "WinZip Enterprise (with Maintenance)",
            "LCWZENTMNT1",
            2018,
            3_495,
            6,
        ),
        subscription(metric(
            AutoCad,
            "ADSK-AUTOCAD",
            "Autodesk AutoCAD (named user subscription)",
            ("user", "autodesk.autocad.v2025"),
            2024,
            229_500,
            6,
        )),
        subscription(metric(
            AutoCadLt,
            "ADSK-AUTOCAD-LT",
            "Autodesk AutoCAD LT (named user subscription)",
            ("user", "autodesk.autocad_lt.v2025"),
            2024,
            53_500,
            6,
        )),
        subscription(metric(
            CreativeCloud,
            "ADOBE-CC-ALL-APPS",
            "Adobe Creative Cloud All Apps",
            ("user", "adobe.creative_cloud_all_apps"),
            2023,
            83_988,
            5,
        )),
        sku(
            VisioStandard,
            "MS-VISIO-STD-2019",
            "Microsoft Visio Standard 2019",
            "D87-99019",
            2019,
            28_900,
            3,
        ),
        sku(
            ProjectStandard,
            "MS-PROJECT-STD-2019",
            "Microsoft Project Standard 2019",
            "076-99019",
            2019,
            62_900,
            3,
        ),
        subscription(sku(
            AcrobatStandard,
            "ADOBE-ACROBAT-STD-VIP",
            "Adobe Acrobat Standard DC for teams",
            "65000002BA01A12",
            2024,
            16_188,
            2,
        )),
        metric(
            OfficeProPlus,
            "MS-O2021-PP",
            "Microsoft Office LTSC Professional Plus 2021",
            ("device", "microsoft.office.professional_plus_2021"),
            2022,
            44_900,
            1,
        ),
        sku(
            OfficeStandard,
            "MS-O2016-STD",
            "Microsoft Office Standard 2016",
            "021-99016",
            2016,
            28_900,
            1,
        ),
        metric(
            OfficeStandard,
            "MS-O2021-STD",
            "Microsoft Office LTSC Standard 2021",
            ("device", "microsoft.office.standard_2021"),
            2022,
            33_900,
            1,
        ),
        sku(
            VisioPro,
            "MS-VISIO-PRO-2019",
            "Microsoft Visio Professional 2019",
            "D86-99019",
            2019,
            53_900,
            3,
        ),
        metric(
            VisioPro,
            "MS-VISIO-PRO-2021",
            "Microsoft Visio LTSC Professional 2021",
            ("device", "microsoft.visio.professional_2021"),
            2022,
            57_900,
            2,
        ),
        metric(
            VisioStandard,
            "MS-VISIO-STD-2021",
            "Microsoft Visio LTSC Standard 2021",
            ("device", "microsoft.visio.standard_2021"),
            2022,
            30_900,
            2,
        ),
        metric(
            ProjectPro,
            "MS-PROJECT-PRO-2021",
            "Microsoft Project Professional 2021",
            ("device", "microsoft.project.professional_2021"),
            2022,
            114_900,
            2,
        ),
        metric(
            ProjectStandard,
            "MS-PROJECT-STD-2021",
            "Microsoft Project Standard 2021",
            ("device", "microsoft.project.standard_2021"),
            2022,
            67_900,
            2,
        ),
        sku(
            AcrobatPro,
            "ADOBE-ACROBAT-XI-PRO",
            "Adobe Acrobat XI Pro",
            "65000003AD01A00",
            2014,
            28_900,
            1,
        ),
        metric(
            AcrobatPro,
            "ADOBE-ACROBAT-PRO-2020",
            "Adobe Acrobat Pro 2020",
            ("device", "adobe.acrobat.pro_2020"),
            2020,
            44_900,
            1,
        ),
        metric(
            AcrobatPro,
            "ADOBE-ACROBAT-PRO-2017",
            "Adobe Acrobat Pro 2017",
            ("device", "adobe.acrobat.pro_2017"),
            2017,
            44_900,
            1,
        ),
        subscription(metric(
            AcrobatPro,
            "ADOBE-ACROBAT-PRO-ETLA",
            "Adobe Acrobat Pro (enterprise term agreement)",
            ("user", "adobe.acrobat.pro"),
            2023,
            19_900,
            1,
        )),
        metric(
            AcrobatStandard,
            "ADOBE-ACROBAT-XI-STD",
            "Adobe Acrobat XI Standard",
            ("device", "adobe.acrobat.standard_xi"),
            2014,
            19_900,
            2,
        ),
        subscription(metric(
            CreativeCloud,
            "ADOBE-PHOTOSHOP",
            "Adobe Photoshop (single app)",
            ("user", "adobe.photoshop"),
            2023,
            31_188,
            4,
        )),
        sku(
            SqlEnterprise,
            "MS-SQL-ENT-2019",
            "Microsoft SQL Server 2019 Enterprise Core",
            "7JQ-99019",
            2020,
            698_900,
            6,
        ),
        sku(
            SqlStandard,
            "MS-SQL-STD-2019",
            "Microsoft SQL Server 2019 Standard Core",
            "7NQ-99019",
            2020,
            184_400,
            6,
        ),
        metric(
            SqlStandard,
            "MS-SQL-STD-2017",
            "Microsoft SQL Server 2017 Standard (per core)",
            ("core", "microsoft.sql_server.standard_2017"),
            2018,
            179_900,
            4,
        ),
    ]
};

/// Agreements licenses are bought under; a license's name says which.
const AGREEMENTS: [&str; 6] = [
    "Enterprise Agreement",
    "Select Plus",
    "Open Value",
    "reseller order",
    "department purchase",
    "true-up order",
];

/// The regions a license may be restricted to: the top of [`LOCATIONS`]' paths.
const REGIONS: [(&str, &str); 3] = [("Europe", "EUR"), ("America", "USD"), ("Asia", "USD")];

/// A subscription's term: start, end.
const TERMS: [(Date, Date); 3] = [
    (date(2026, 3, 1), date(2027, 2, 28)),
    // Ends within 90 days of the as-of day.
    (date(2026, 1, 1), date(2026, 12, 31)),
    // Ended before the as-of day.
    (date(2025, 7, 1), date(2026, 6, 30)),
];

/// One license record with its purchases.
#[derive(Debug)]
pub(super) struct Record {
    id: String,
    name: String,
    template: &'static Template,
    priority: Option<u32>,
    limit: Option<&'static str>,
    retired: bool,
    currency: &'static str,
    unit_price: Option<u64>,
    extra: u32,
    term: Option<(Date, Date)>,
    region: Option<&'static str>,
    os_type_server: bool,
    second_use: bool,
    exempt_roles: bool,
    /// `(device or user, id, allocation type)`.
    allocations: Vec<(&'static str, String, &'static str)>,
    /// `(device or user, id, reason)`: a reason of the list, or a custom text for users.
    exemptions: Vec<(&'static str, String, &'static str)>,
    /// `(group, quantity)`.
    assignments: Vec<(String, u64)>,
    purchases: Vec<Purchase>,
}

#[derive(Debug)]
struct Purchase {
    id: String,
    quantity: u64,
    unit_price: u64,
    date: Date,
    term: Option<(Date, Date)>,
    disabled: bool,
}

/// How many licenses each template gets: one each first (as far as they go), then the rest
/// in proportion to the weights, largest remainders first.
fn counts(total: u32) -> Vec<u32> {
    let templates = TEMPLATES.len() as u32;
    let mut counts: Vec<u32> = (0..templates)
        .map(|i| u32::from(i < total.min(templates)))
        .collect();
    let rest = u64::from(total.saturating_sub(templates));
    let weights: u64 = TEMPLATES.iter().map(|t| u64::from(t.weight)).sum();
    let mut remainders: Vec<(u64, usize)> = Vec::new();
    let mut given = 0;
    for (i, template) in TEMPLATES.iter().enumerate() {
        let share = rest * u64::from(template.weight);
        counts[i] += (share / weights) as u32;
        given += share / weights;
        remainders.push((share % weights, i));
    }
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in remainders.iter().take((rest - given) as usize) {
        counts[i] += 1;
    }
    counts
}

/// Splits `total` into `weights.len()` whole parts in proportion to the weights.
fn split(total: u64, weights: &[u64]) -> Vec<u64> {
    let sum: u64 = weights.iter().sum::<u64>().max(1);
    let mut parts = Vec::with_capacity(weights.len());
    let (mut before, mut running) = (0, 0);
    for weight in weights {
        running += weight;
        let upto = total * running / sum;
        parts.push(upto - before);
        before = upto;
    }
    parts
}

/// The license records for the estate: [`Options::license_count`] of them.
pub(super) fn licenses(options: &Options, demand: &Demand) -> Vec<Record> {
    const LICENSE_STREAM: u64 = 4;
    let mut records: Vec<Record> = Vec::new();
    let mut number = 0u64;
    for (template, count) in TEMPLATES.iter().zip(counts(options.license_count())) {
        for k in 0..count {
            number += 1;
            let mut rng = Rng::new(options.seed, LICENSE_STREAM, number);
            records.push(record(template, k, number, &mut rng));
        }
    }
    buy(options, demand, &mut records);
    attach_holders(options, demand, &mut records);
    records
}

/// One license record, without purchases: number `k` of its template.
fn record(template: &'static Template, k: u32, number: u64, rng: &mut Rng) -> Record {
    let first = k == 0;
    let region = (!first && rng.per_mille(150)).then(|| *rng.pick(&REGIONS));
    let currency = match region {
        Some((_, currency)) => currency,
        None if rng.per_mille(100) => "USD",
        None => "EUR",
    };
    let agreement = rng.pick(&AGREEMENTS);
    // Old releases' licenses may have been retired since.
    let retired = !first && template.since <= 2019 && rng.per_mille(25);
    let year = bought_in(template, retired, rng);
    let name = match region {
        Some((region, _)) => format!("{} ({agreement} {year}, {region})", template.name),
        None => format!("{} ({agreement} {year})", template.name),
    };
    let limit = match template.line {
        Line::ProjectPro if matches!(template.terms, Terms::Sku(_)) => Some("true_up"),
        // The first WinZip license is a site license for Germany.
        Line::WinZip if first => Some("unlimited"),
        _ => None,
    };
    let region = match (template.line, first) {
        (Line::WinZip, true) => Some("Europe/DE"),
        _ => region.map(|(r, _)| r),
    };
    let sql = matches!(template.line, Line::SqlEnterprise | Line::SqlStandard);
    let office = matches!(template.line, Line::OfficeProPlus | Line::OfficeStandard);
    let mut assignments = Vec::new();
    if !sql && region.is_none() && limit.is_none() && rng.per_mille(80) {
        let (location, _) = *rng.pick(&LOCATIONS);
        assignments.push((format!("location={location}"), 0));
    }
    Record {
        id: format!("L-{number:05}-{}", template.stem),
        name,
        template,
        priority: (!rng.per_mille(100)).then(|| rng.between(1, 5)),
        limit,
        retired,
        currency,
        unit_price: rng
            .per_mille(100)
            .then(|| template.price * u64::from(rng.between(80, 95)) / 100),
        extra: if rng.per_mille(50) {
            rng.between(1, 3)
        } else {
            0
        },
        // The first license of a template is current; later ones may end soon or have ended.
        term: template.subscription.then(|| {
            if first {
                TERMS[0]
            } else {
                TERMS[rng.weighted([70, 20, 10])]
            }
        }),
        region,
        os_type_server: sql && rng.per_mille(300),
        second_use: office && rng.per_mille(300),
        exempt_roles: sql && rng.per_mille(500),
        allocations: Vec::new(),
        exemptions: Vec::new(),
        assignments,
        purchases: Vec::new(),
    }
}

/// Buys each line's share of its demand, split over the line's current licenses by random
/// weights; retired licenses keep purchases of their own, long before.
fn buy(options: &Options, demand: &Demand, records: &mut [Record]) {
    const PURCHASE_STREAM: u64 = 5;
    let mut order = 0u64;
    for line in Line::ALL {
        let members: Vec<usize> = (0..records.len())
            .filter(|&i| records[i].template.line == line && !records[i].retired)
            .collect();
        if members.is_empty() {
            continue;
        }
        let mut rng = Rng::new(options.seed, PURCHASE_STREAM, line.index() as u64);
        let units = demand.units[line.index()];
        let total = if units == 0 {
            // Shelfware: bought, never installed.
            members.len() as u64 * u64::from(rng.between(2, 10))
        } else {
            (units * line.coverage()).div_ceil(100)
        };
        let weights: Vec<u64> = members
            .iter()
            .map(|_| u64::from(rng.between(1, 8)))
            .collect();
        // Every license holds at least one unit.
        let count = members.len() as u64;
        let shares = split(total.saturating_sub(count), &weights);
        for (&i, share) in members.iter().zip(shares) {
            let record = &mut records[i];
            let quantity = if record.limit == Some("unlimited") {
                1
            } else {
                share + 1
            };
            record.purchases = purchases(record, quantity, &mut order, &mut rng);
            // A quarter of the entitlements goes to the group first.
            for (_, share) in &mut record.assignments {
                *share = quantity / 4;
            }
            record.assignments.retain(|(_, share)| *share > 0);
        }
    }
    for record in records.iter_mut().filter(|r| r.retired) {
        let mut rng = Rng::new(options.seed, PURCHASE_STREAM, 1000 + order);
        let quantity = u64::from(rng.between(5, 50));
        record.purchases = purchases(record, quantity, &mut order, &mut rng);
    }
}

/// A year the template's licenses were bought in: from its first year on, and for a retired
/// license within three years of it.
fn bought_in(template: &Template, retired: bool, rng: &mut Rng) -> i16 {
    let last = if retired {
        (template.since + 3).min(2026)
    } else {
        2026
    };
    template.since + rng.between(0, (last - template.since).max(0) as u32) as i16
}

/// The purchase lines of `quantity` units: one to three orders, sometimes with a cancelled
/// one beside them.
fn purchases(record: &Record, quantity: u64, order: &mut u64, rng: &mut Rng) -> Vec<Purchase> {
    let template = record.template;
    let orders = if quantity >= 3 { rng.between(1, 3) } else { 1 };
    let weights: Vec<u64> = (0..orders).map(|_| u64::from(rng.between(1, 4))).collect();
    let mut lines: Vec<Purchase> = Vec::new();
    for (n, part) in split(quantity, &weights).into_iter().enumerate() {
        if part == 0 && n > 0 {
            continue;
        }
        *order += 1;
        let bought = match record.term {
            Some((start, _)) => start,
            None => {
                let year = bought_in(template, record.retired, rng);
                let month = rng.between(1, if year == 2026 { 9 } else { 12 }) as i8;
                Date::new(year, month, rng.between(1, 28) as i8).unwrap_or(super::AS_OF)
            }
        };
        // Prices move: each order is within 10% of the list price.
        let unit_price = template.price * u64::from(rng.between(90, 110)) / 100;
        lines.push(Purchase {
            id: format!("PO-{}-{:06}", bought.year(), *order),
            quantity: part,
            unit_price,
            date: bought,
            term: record.term,
            disabled: false,
        });
    }
    if rng.per_mille(60)
        && let Some(first) = lines.first()
    {
        *order += 1;
        lines.push(Purchase {
            id: format!("PO-{}-{:06}", first.date.year(), *order),
            quantity: u64::from(rng.between(1, 10)),
            disabled: true,
            ..*first
        });
    }
    lines
}

/// Allocates and exempts devices and users that have the licenses' software: each holder at
/// most once, spread over the licenses of its line.
fn attach_holders(options: &Options, demand: &Demand, records: &mut [Record]) {
    const HOLDER_STREAM: u64 = 6;
    for line in Line::ALL {
        let mut holders: Vec<&Holder> = demand.holders[line.index()].iter().collect();
        let mut rng = Rng::new(options.seed, HOLDER_STREAM, line.index() as u64);
        let members: Vec<usize> = (0..records.len())
            .filter(|&i| records[i].template.line == line && !records[i].retired)
            .collect();
        for i in members {
            let record = &mut records[i];
            let per_user = record.template.per_user();
            if matches!(line, Line::SqlEnterprise | Line::SqlStandard) {
                // Test and development servers are exempted by hand.
                if let Some(at) = holders
                    .iter()
                    .position(|h| matches!(h.role, "test" | "development"))
                {
                    let holder = holders.remove(at);
                    let reason = if holder.role == "test" {
                        "test"
                    } else {
                        "development"
                    };
                    record
                        .exemptions
                        .push(("device", holder.device.clone(), reason));
                }
                continue;
            }
            if !rng.per_mille(250) {
                continue;
            }
            for _ in 0..rng.between(1, 3) {
                let Some(holder) = holders.pop() else {
                    break;
                };
                let kind = match rng.below(10) {
                    0..7 => "allocated",
                    7..9 => "permanent",
                    _ => "awaiting_inventory",
                };
                match (&holder.user, per_user) {
                    (Some(user), true) => record.allocations.push(("user", user.clone(), kind)),
                    _ => record
                        .allocations
                        .push(("device", holder.device.clone(), kind)),
                }
            }
            if rng.per_mille(200)
                && let Some(holder) = holders.pop()
            {
                match (&holder.user, per_user) {
                    (Some(user), true) => {
                        record
                            .exemptions
                            .push(("user", user.clone(), "on parental leave"))
                    }
                    _ => record
                        .exemptions
                        .push(("device", holder.device.clone(), "training")),
                }
            }
        }
    }
}

/// A YAML double-quoted scalar.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

pub(super) fn write_licenses(
    out: &mut impl Write,
    options: &Options,
    records: &[Record],
) -> io::Result<()> {
    out.write_all(provenance(options, "#").as_bytes())?;
    out.write_all(b"licenses:\n")?;
    let mut text = String::new();
    for r in records {
        text.clear();
        text.push_str(&format!(
            "  - id: {}\n    name: {}\n",
            r.id,
            quoted(&r.name)
        ));
        match r.template.terms {
            Terms::Sku(sku) => text.push_str(&format!("    sku: {}\n", quoted(sku))),
            Terms::Metric { metric, rights } => {
                text.push_str(&format!("    metric: {metric}\n    rights: {rights}\n"));
            }
        }
        if let Some(priority) = r.priority {
            text.push_str(&format!("    priority: {priority}\n"));
        }
        if let Some(limit) = r.limit {
            text.push_str(&format!("    limit: {limit}\n"));
        }
        if r.retired {
            text.push_str("    status: retired\n");
        }
        if r.extra > 0 {
            text.push_str(&format!("    extra_entitlements: {}\n", r.extra));
        }
        if let Some(price) = r.unit_price {
            text.push_str(&format!("    unit_price: {}\n", quoted(&money(price))));
        }
        text.push_str(&format!("    currency: {}\n", r.currency));
        if let Some((start, expiry)) = r.term {
            text.push_str(&format!("    start: {start}\n    expiry: {expiry}\n"));
        }
        if r.region.is_some() || r.os_type_server {
            text.push_str("    restrictions:\n");
            if r.os_type_server {
                text.push_str("      os_type: server\n");
            }
            if let Some(region) = r.region {
                text.push_str(&format!(
                    "      groups: [{}]\n",
                    quoted(&format!("location={region}"))
                ));
            }
        }
        if r.second_use {
            text.push_str("    second_use: { work_laptop: true }\n");
        }
        if r.exempt_roles {
            text.push_str("    exempt_roles: [disaster_recovery]\n");
        }
        if !r.assignments.is_empty() {
            text.push_str("    assignments:\n");
            for (group, quantity) in &r.assignments {
                text.push_str(&format!(
                    "      - {{ group: {}, quantity: {quantity} }}\n",
                    quoted(group)
                ));
            }
        }
        if !r.allocations.is_empty() {
            text.push_str("    allocations:\n");
            for (target, id, kind) in &r.allocations {
                text.push_str(&format!(
                    "      - {{ {target}: {}, type: {kind} }}\n",
                    quoted(id)
                ));
            }
        }
        if !r.exemptions.is_empty() {
            text.push_str("    exemptions:\n");
            for (target, id, reason) in &r.exemptions {
                let why = if *target == "user" {
                    format!("custom: {}", quoted(reason))
                } else {
                    format!("reason: {reason}")
                };
                text.push_str(&format!("      - {{ {target}: {}, {why} }}\n", quoted(id)));
            }
        }
        out.write_all(text.as_bytes())?;
    }
    Ok(())
}

/// Writes `purchases.csv`; the number of purchase lines.
pub(super) fn write_purchases(out: &mut impl Write, records: &[Record]) -> io::Result<u64> {
    out.write_all(b"id,license,sku,quantity,unit_price,currency,date,effective,expiry,disabled\n")?;
    let mut written = 0;
    let mut line = String::new();
    for r in records {
        let sku = match r.template.terms {
            Terms::Sku(sku) => sku,
            Terms::Metric { .. } => "",
        };
        for p in &r.purchases {
            line.clear();
            let (effective, expiry) = p
                .term
                .map(|(start, end)| (start.to_string(), end.to_string()))
                .unwrap_or_default();
            let fields = [
                p.id.as_str(),
                &r.id,
                sku,
                &p.quantity.to_string(),
                &money(p.unit_price),
                r.currency,
                &p.date.to_string(),
                &effective,
                &expiry,
                if p.disabled { "true" } else { "" },
            ];
            for (i, field) in fields.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                push_csv_field(&mut line, field);
            }
            line.push('\n');
            out.write_all(line.as_bytes())?;
            written += 1;
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licenses_are_spread_over_every_template_by_weight() {
        let counts_of = |total| counts(total);
        assert_eq!(counts_of(5).iter().sum::<u32>(), 5);
        assert_eq!(counts_of(5)[..5], [1, 1, 1, 1, 1]);
        let many = counts_of(5_000);
        assert_eq!(many.iter().sum::<u32>(), 5_000);
        assert!(many.iter().all(|&n| n > 0));
        // Office Professional Plus 2019 (weight 1) gets fewer than SQL Server (weight 6).
        assert!(many[0] * 5 < many[6], "{many:?}");
    }

    #[test]
    fn splits_add_up() {
        assert_eq!(split(10, &[1, 1, 2]), [2, 3, 5]);
        assert_eq!(split(0, &[3, 4]), [0, 0]);
        assert_eq!(split(7, &[1]), [7]);
    }
}
