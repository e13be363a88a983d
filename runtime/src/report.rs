//! Reports: positions, assessments and recognition results rendered as an aligned table, JSON
//! or CSV. Decimals are written as strings; output is byte-identical for identical inputs.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::Value;

use tally_compiler::Diagnostic;
use tally_compiler::ir::CompiledPack;

use crate::estate::{Device, Evidence};
use crate::pack_tests::TestResult;
use crate::position::Position;
use crate::recognize::DeviceRecognition;
use crate::reconcile::Assessment;

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
            text(|e| &e.name),
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

#[cfg(test)]
mod tests {
    use super::*;

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
