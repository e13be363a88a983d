//! Reports: positions, assessments, recognition results and the triage of the unrecognised
//! rendered as an aligned table, JSON or CSV. Decimals are written as strings; output is
//! byte-identical for identical inputs.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::Value;

use tally_compiler::Diagnostic;
use tally_compiler::ir::CompiledPack;
use tally_compiler::syntax::ParsedFile;
use tally_compiler::syntax::ast::DeclKind;

use crate::estate::{Device, Evidence, EvidenceField, EvidenceKind};
use crate::pack_tests::TestResult;
use crate::position::Position;
use crate::recognize::DeviceRecognition;
use crate::reconcile::Assessment;
use crate::triage::{Group, NoiseCount, Triage};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// Rows of string cells under a header: the common shape behind every report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rows {
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    /// A structured value per row that JSON shows in place of the last column's text (for
    /// instance a calculation with its inputs as fields); `None` keeps the text.
    pub structured: Vec<Option<Value>>,
}

impl Rows {
    /// Renders in the given format. JSON is an array of objects keyed by the header; empty
    /// cells become `null`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Table => self.table(),
            Format::Csv => self.csv(),
            Format::Json => {
                let items: Vec<Value> = self
                    .rows
                    .iter()
                    .enumerate()
                    .map(|(i, r)| self.object(r, self.structured.get(i).cloned().flatten()))
                    .collect();
                json_text(&Value::Array(items))
            }
        }
    }

    fn object(&self, row: &[String], structured: Option<Value>) -> Value {
        let mut map = serde_json::Map::new();
        for (key, cell) in self.header.iter().zip(row) {
            let value = if cell.is_empty() {
                Value::Null
            } else {
                Value::String(cell.clone())
            };
            map.insert((*key).to_string(), value);
        }
        if let (Some(key), Some(value)) = (self.header.last(), structured) {
            map.insert((*key).to_string(), value);
        }
        Value::Object(map)
    }

    fn table(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: Vec<&str>| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
                .collect();
            format!("{}\n", padded.join("  ").trim_end())
        };
        let mut out = line(self.header.clone());
        out.push_str(&line(
            widths
                .iter()
                .map(|w| "-".repeat(*w))
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str)
                .collect(),
        ));
        for row in &self.rows {
            out.push_str(&line(row.iter().map(String::as_str).collect()));
        }
        out
    }

    fn csv(&self) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut ok = writer.write_record(&self.header).is_ok();
        for row in &self.rows {
            ok &= writer.write_record(row).is_ok();
        }
        match (ok, writer.into_inner()) {
            (true, Ok(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
            _ => String::new(),
        }
    }
}

/// Pretty JSON with a final newline.
pub fn json_text(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

fn dec(d: Decimal) -> String {
    d.to_string()
}

fn opt_dec(d: Option<Decimal>) -> String {
    d.map(dec).unwrap_or_default()
}

/// The effective license position, one row per license. A figure too large to compute with
/// is left empty, and a `note` column (there only when some position has a note) says why.
pub fn positions(positions: &[Position]) -> Rows {
    let noted = positions.iter().any(|p| p.note.is_some());
    let mut header = vec![
        "license",
        "name",
        "metric",
        "limit",
        "license_status",
        "entitled",
        "consumed",
        "available",
        "status",
        "unit_price",
        "currency",
        "cost_at_risk",
    ];
    if noted {
        header.push("note");
    }
    Rows {
        structured: Vec::new(),
        header,
        rows: positions
            .iter()
            .map(|p| {
                let mut cells = vec![
                    p.license.clone(),
                    p.name.clone(),
                    p.metric.clone(),
                    p.limit.name().to_string(),
                    p.lifecycle.name().to_string(),
                    opt_dec(p.entitled),
                    opt_dec(p.consumed),
                    opt_dec(p.available),
                    p.status.as_str().to_string(),
                    opt_dec(p.unit_price),
                    p.currency.clone().unwrap_or_default(),
                    opt_dec(p.cost_at_risk),
                ];
                if noted {
                    cells.push(p.note.clone().unwrap_or_default());
                }
                cells
            })
            .collect(),
    }
}

/// The assessment rows. When a row's license computes quantities from hardware, a
/// `calculation` column shows the metric, the formula with the values it read, and the
/// minimums and rounding that applied; JSON gives the inputs as fields.
///
/// `sources` says where the declaration in force of each application whose declaration another
/// pack extends or overrides came from (see [`declaration_sources`]); a `source` column shows
/// it when any row's application has one.
pub fn assessments<'a>(
    rows: impl IntoIterator<Item = &'a Assessment>,
    sources: &BTreeMap<String, String>,
) -> Rows {
    let rows: Vec<&Assessment> = rows.into_iter().collect();
    let calculated = rows.iter().any(|a| a.computation.is_some());
    let layered = rows.iter().any(|a| {
        a.application
            .as_ref()
            .is_some_and(|app| sources.contains_key(app))
    });
    let mut header = vec![
        "license",
        "device",
        "user",
        "application",
        "result",
        "reason",
        "units",
        "message",
    ];
    if calculated {
        header.push("calculation");
    }
    if layered {
        header.push("source");
    }
    let mut structured = Vec::new();
    let rows = rows
        .into_iter()
        .map(|a| {
            let mut cells = vec![
                a.license.clone(),
                a.device.clone().unwrap_or_default(),
                a.user.clone().unwrap_or_default(),
                a.application.clone().unwrap_or_default(),
                a.outcome.as_str().to_string(),
                a.reason.code().to_string(),
                dec(a.units),
                a.message.clone(),
            ];
            if calculated {
                cells.push(
                    a.computation
                        .as_ref()
                        .map_or_else(String::new, |(metric, c)| {
                            let mut text = format!("{metric}: {}", c.formula);
                            let inputs: Vec<String> =
                                c.inputs.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                            if !inputs.is_empty() {
                                text.push_str(&format!(" with {}", inputs.join(", ")));
                            }
                            for note in &c.notes {
                                text.push_str("; ");
                                text.push_str(note);
                            }
                            text
                        }),
                );
            }
            if layered {
                cells.push(
                    a.application
                        .as_ref()
                        .and_then(|app| sources.get(app))
                        .cloned()
                        .unwrap_or_default(),
                );
            }
            structured.push(a.computation.as_ref().map(|(metric, c)| {
                let inputs: serde_json::Map<String, Value> = c
                    .inputs
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect();
                serde_json::json!({
                    "metric": metric,
                    "quantity": dec(c.quantity),
                    "expression": c.expression,
                    "formula": c.formula,
                    "inputs": inputs,
                    "notes": c.notes,
                })
            }));
            cells
        })
        .collect();
    Rows {
        header,
        rows,
        structured,
    }
}

/// An evidence row's name as reports show it; a WMI row, which has none, shows its class,
/// property and value.
fn describe_evidence(e: &Evidence) -> String {
    if e.kind == EvidenceKind::Wmi {
        let f = |field| e.field(field);
        format!(
            "{} {} = {}",
            f(EvidenceField::Class),
            f(EvidenceField::Property),
            f(EvidenceField::Value)
        )
    } else {
        e.name.clone()
    }
}

/// Where each application whose declaration is layered (overridden or extended by another
/// pack) is declared: "mypack/visio.tally, overriding arl/microsoft/visio.tally", "arl/…,
/// extended in mypack/visio.tally".
pub fn declaration_sources(pack: &CompiledPack) -> BTreeMap<String, String> {
    pack.applications
        .values()
        .filter(|a| a.origin.overrides.is_some() || !a.origin.extended_in.is_empty())
        .map(|a| {
            let mut text = a.origin.file.clone();
            if let Some(replaced) = &a.origin.overrides {
                text.push_str(&format!(", overriding {replaced}"));
            }
            if !a.origin.extended_in.is_empty() {
                text.push_str(&format!(
                    ", extended in {}",
                    a.origin.extended_in.join(", ")
                ));
            }
            (a.id.clone(), text)
        })
        .collect()
}

/// Recognition, per device: one row per installation (and per installation of an application
/// classified `ignored`), then one per unrecognised, noise or ignored evidence row. Each row
/// shows the evidence kind; `note` says what an installation absorbed or which `ignore`
/// declaration a noise row matched.
pub fn recognition(devices: &[(&Device, &DeviceRecognition)], evidence: &[&Evidence]) -> Rows {
    let by_line: BTreeMap<usize, &Evidence> = evidence.iter().map(|e| (e.line, *e)).collect();
    let mut rows = Vec::new();
    let row = |status: &str, device: &str, application: &str, lines: &[usize], note: String| {
        let first = lines.first().and_then(|l| by_line.get(l));
        let text = |f: fn(&Evidence) -> &str| first.map(|e| f(e).to_string()).unwrap_or_default();
        let lines: Vec<String> = lines.iter().map(usize::to_string).collect();
        vec![
            status.to_string(),
            device.to_string(),
            application.to_string(),
            text(|e| e.kind.as_str()),
            text(|e| &e.publisher),
            first.map(|e| describe_evidence(e)).unwrap_or_default(),
            text(|e| &e.version),
            lines.join(";"),
            note,
        ]
    };
    for (device, found) in devices {
        for (status, installs) in [
            ("installed", &found.installations),
            ("ignored_application", &found.ignored_applications),
        ] {
            for inst in installs {
                let note = match inst.absorbed.as_slice() {
                    [] => String::new(),
                    absorbed => format!("absorbs {}", absorbed.join(", ")),
                };
                rows.push(row(
                    status,
                    &device.id,
                    &inst.application,
                    &inst.evidence,
                    note,
                ));
            }
        }
        for line in &found.unrecognized {
            rows.push(row("unrecognized", &device.id, "", &[*line], String::new()));
        }
        for noise in &found.noise {
            let note = format!("{} ({})", noise.category.as_str(), noise.ignore);
            rows.push(row("noise", &device.id, "", &[noise.line], note));
        }
        for line in &found.ignored {
            rows.push(row("ignored", &device.id, "", &[*line], String::new()));
        }
    }
    Rows {
        structured: Vec::new(),
        header: vec![
            "status",
            "device",
            "application",
            "kind",
            "publisher",
            "name",
            "version",
            "evidence_lines",
            "note",
        ],
        rows,
    }
}

/// Diagnostics, one row each, with their position as line and column.
pub fn diagnostics(diagnostics: &[Diagnostic]) -> Rows {
    Rows {
        structured: Vec::new(),
        header: vec![
            "severity", "code", "file", "line", "column", "message", "label", "help",
        ],
        rows: diagnostics
            .iter()
            .map(|d| {
                let (line, column) = d.line_col();
                vec![
                    if d.is_error() { "error" } else { "warning" }.to_string(),
                    d.code.to_string(),
                    d.source.path.clone(),
                    line.to_string(),
                    column.to_string(),
                    d.message.clone(),
                    d.label.clone(),
                    d.help.clone(),
                ]
            })
            .collect(),
    }
}

/// Named counts as one row, such as what `tally check` found in the packs.
pub fn counts(counts: &[(&'static str, usize)]) -> Rows {
    Rows {
        structured: Vec::new(),
        header: counts.iter().map(|(name, _)| *name).collect(),
        rows: vec![counts.iter().map(|(_, n)| n.to_string()).collect()],
    }
}

/// Rule files with their declarations counted by kind, then a `total` row.
pub fn declaration_counts(files: &[ParsedFile]) -> Rows {
    let mut total = vec![0; DeclKind::ALL.len()];
    let mut rows: Vec<Vec<String>> = Vec::new();
    for file in files {
        let counts: Vec<usize> = DeclKind::ALL
            .iter()
            .map(|kind| file.decls.iter().filter(|d| d.kind == *kind).count())
            .collect();
        for (sum, count) in total.iter_mut().zip(&counts) {
            *sum += count;
        }
        rows.push(count_row(&file.source.path, &counts));
    }
    rows.push(count_row("total", &total));
    let mut header = vec!["file"];
    header.extend(DeclKind::ALL.iter().map(|kind| kind.keyword()));
    header.push("total");
    Rows {
        header,
        rows,
        structured: Vec::new(),
    }
}

/// A name, its counts and their sum.
fn count_row(name: &str, counts: &[usize]) -> Vec<String> {
    let mut row = vec![name.to_owned()];
    row.extend(counts.iter().map(usize::to_string));
    row.push(counts.iter().sum::<usize>().to_string());
    row
}

/// Pack test results.
pub fn tests(results: &[TestResult]) -> Rows {
    Rows {
        structured: Vec::new(),
        header: vec!["result", "test", "location", "failure"],
        rows: results
            .iter()
            .map(|r| {
                let (result, detail) = match (&r.skipped, r.passed()) {
                    (Some(reason), _) => ("skip", reason.clone()),
                    (None, true) => ("pass", String::new()),
                    (None, false) => ("FAIL", r.failures.join("; ")),
                };
                vec![
                    result.to_string(),
                    r.name.clone(),
                    r.location.clone(),
                    detail,
                ]
            })
            .collect(),
    }
}

/// The triage of the unrecognised evidence. JSON and CSV have one row per group, then one per
/// noise category: `category` is `unrecognized` for a group and the noise's category otherwise.
/// The table is a block per group, every line within [`TEXT_WIDTH`] columns.
pub fn triage(triage: &Triage, format: Format) -> String {
    if format == Format::Table {
        return triage_text(triage);
    }
    let count = |n: usize| n.to_string();
    let mut rows: Vec<Vec<String>> = triage
        .groups
        .iter()
        .map(|g| {
            vec![
                "unrecognized".to_owned(),
                count(g.devices),
                count(g.rows),
                g.kind.as_str().to_owned(),
                g.publisher.clone(),
                g.product.clone(),
                g.version_family.clone(),
                g.sample_devices.join(";"),
                g.application.clone(),
                g.rule.to_string(),
            ]
        })
        .collect();
    rows.extend(triage.noise.iter().map(|n| {
        let mut row = vec![n.category.clone(), count(n.devices), count(n.rows)];
        row.resize(10, String::new());
        row
    }));
    Rows {
        structured: Vec::new(),
        header: vec![
            "category",
            "devices",
            "rows",
            "kind",
            "publisher",
            "product",
            "version_family",
            "sample_devices",
            "suggested_application",
            "suggested_rule",
        ],
        rows,
    }
    .render(format)
}

/// The width the triage table keeps to.
pub const TEXT_WIDTH: usize = 80;

fn triage_text(triage: &Triage) -> String {
    let mut out = String::new();
    let summary = if triage.groups.is_empty() {
        "No unrecognised evidence.".to_owned()
    } else {
        format!(
            "{} on {} in {}, most devices first.",
            plural(triage.rows, "unrecognised row"),
            plural(triage.devices, "device"),
            plural(triage.groups.len(), "group")
        )
    };
    out.push_str(&wrap(&summary));
    if !triage.noise.is_empty() {
        let noise: Vec<String> = triage.noise.iter().map(noise_text).collect();
        out.push_str(&wrap(&format!(
            "Noise, counted apart: {}.",
            noise.join("; ")
        )));
    }
    let rank_width = triage.groups.len().to_string().len();
    for (i, group) in triage.groups.iter().enumerate() {
        out.push('\n');
        group_text(&mut out, group, i + 1, rank_width);
    }
    out
}

fn noise_text(noise: &NoiseCount) -> String {
    format!(
        "{} {} on {}",
        noise.category,
        plural(noise.rows, "row"),
        plural(noise.devices, "device")
    )
}

/// One group: a heading with its counts, then publisher, sample devices, application id and
/// rule, indented under the heading.
fn group_text(out: &mut String, group: &Group, rank: usize, rank_width: usize) {
    let counts = format!(
        "{}, {}",
        plural(group.devices, "device"),
        plural(group.rows, "row")
    );
    let mut title = group.product.clone();
    if !group.version_family.is_empty() {
        title.push_str(&format!(" ({}.x)", group.version_family));
    }
    let rank = format!("{rank:>rank_width$}. ");
    let room = TEXT_WIDTH.saturating_sub(rank.chars().count() + counts.chars().count() + 2);
    let title = fit(&title, room);
    let gap = room + 2 - title.chars().count();
    out.push_str(&format!("{rank}{title}{}{counts}\n", " ".repeat(gap)));
    let indent = " ".repeat(rank.chars().count());
    let publisher = if group.publisher.is_empty() {
        "(none)"
    } else {
        &group.publisher
    };
    let mut seen_on = group.sample_devices.join(", ");
    if group.devices > group.sample_devices.len() {
        seen_on.push_str(", …");
    }
    for (label, value) in [
        ("publisher", publisher),
        ("seen on", &seen_on),
        ("application", &group.application),
    ] {
        out.push_str(&fit(&format!("{indent}{label:<13}{value}"), TEXT_WIDTH));
        out.push('\n');
    }
    let rule = group.rule.to_string();
    let lines = if indent.len() + rule.chars().count() <= TEXT_WIDTH {
        vec![rule]
    } else {
        group.rule.lines()
    };
    for line in lines {
        out.push_str(&fit(&format!("{indent}{line}"), TEXT_WIDTH));
        out.push('\n');
    }
}

/// `1 row`, `2 rows`.
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Text cut to `width` characters, ending with `…` when it was cut.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Text wrapped at spaces to lines of at most [`TEXT_WIDTH`] characters (a longer word keeps
/// a line of its own), each ending with a newline.
fn wrap(text: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > TEXT_WIDTH {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_triage_table_keeps_within_its_width() {
        use crate::triage::SuggestedRule;
        use tally_compiler::evidence::EvidenceKind;

        let long = "A Very Long Product Name ".repeat(5);
        let group = Group {
            kind: EvidenceKind::Wmi,
            publisher: "An Even Longer Publisher Name ".repeat(4),
            product: long.trim().to_owned(),
            version_family: "2024".into(),
            devices: 1234,
            rows: 5678,
            sample_devices: vec!["DEVICE-".repeat(12), "D2".into(), "D3".into()],
            application: "acme.tool_2024".into(),
            rule: SuggestedRule {
                kind: EvidenceKind::Wmi,
                fields: vec![format!("class \"{}\"", "C".repeat(90))],
            },
        };
        let noise = (0..8)
            .map(|i| NoiseCount {
                category: format!("category_{i}"),
                rows: 10,
                devices: 2,
            })
            .collect();
        let text = triage(
            &Triage {
                groups: vec![group],
                noise,
                rows: 5678,
                devices: 1234,
            },
            Format::Table,
        );
        assert!(
            text.lines().all(|l| l.chars().count() <= TEXT_WIDTH),
            "{text}"
        );
        let heading = text
            .lines()
            .find(|l| l.starts_with("1. "))
            .unwrap_or_default();
        assert!(heading.ends_with("…  1234 devices, 5678 rows"), "{heading}");
        assert!(text.contains("\n   seen on      DEVICE-DEVICE-"), "{text}");
    }

    #[test]
    fn renders_three_formats() {
        let rows = Rows {
            structured: Vec::new(),
            header: vec!["a", "bb"],
            rows: vec![
                vec!["1".into(), String::new()],
                vec!["x,y".into(), "2".into()],
            ],
        };
        assert_eq!(rows.render(Format::Table), "a    bb\n---  --\n1\nx,y  2\n");
        assert_eq!(rows.render(Format::Csv), "a,bb\n1,\n\"x,y\",2\n");
        assert_eq!(
            rows.render(Format::Json),
            "[\n  {\n    \"a\": \"1\",\n    \"bb\": null\n  },\n  {\n    \"a\": \"x,y\",\n    \"bb\": \"2\"\n  }\n]\n"
        );
    }
}
