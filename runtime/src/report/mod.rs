//! Reports: positions, assessments, recognition results and the triage of the unrecognised
//! rendered as an aligned table, JSON or CSV ([`rows`] says how). Decimals are written as exact
//! JSON numbers; output is byte-identical for identical inputs.

pub mod ci;
pub mod rows;

pub use rows::{Column, Format, Kind, Layout, Rows, TEXT_WIDTH, fit, json_text};

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::Value;

use tally_compiler::Diagnostic;
use tally_compiler::ir::CompiledPack;
use tally_compiler::syntax::ParsedFile;
use tally_compiler::syntax::ast::DeclKind;

use crate::estate::{Evidence, EvidenceField, EvidenceKind};
use crate::pack_tests::TestResult;
use crate::position::Position;
use crate::recognize::{DeviceView, EvidenceId};
use crate::reconcile::Assessment;
use crate::triage::{Group, NoiseCount, Triage};

fn dec(d: Decimal) -> String {
    d.to_string()
}

fn opt_dec(d: Option<Decimal>) -> String {
    d.map(dec).unwrap_or_default()
}

/// `true` or `false`, as a boolean column holds them.
fn flag(b: bool) -> String {
    b.to_string()
}

/// The effective license position, one row per license, with the attributes of seed 002 that
/// the model has. A retired license has `retired` true and no `available` figure. A figure too
/// large to compute with is left empty, and a `note` column (there only when some position has
/// a note) says why. The default table shows the license, its figures, status and cost at
/// risk; `--wide` shows every column.
pub fn positions(positions: &[Position]) -> Rows {
    let noted = positions.iter().any(|p| p.note.is_some());
    let mut columns = vec![
        Column::key("license"),
        Column::text("name").wide(),
        Column::text("publisher").wide(),
        Column::text("product").wide(),
        Column::key("metric").wide(),
        Column::key("limit").wide(),
        Column::key("license_status").wide(),
        Column::bool("retired").wide(),
        Column::key("duration").wide(),
        Column::key("expiry").wide(),
        Column::bool("downgrade").wide(),
        Column::bool("upgrade").wide(),
        Column::bool("virtualization").wide(),
        Column::bool("second_use").wide(),
        Column::number("entitled"),
        Column::number("consumed"),
        Column::number("available"),
        Column::key("status"),
        Column::number("unit_price").wide(),
        Column::key("currency").wide(),
        Column::number("cost_at_risk"),
    ];
    if noted {
        columns.push(Column::text("note"));
    }
    let rows = positions
        .iter()
        .map(|p| {
            let mut cells = vec![
                p.license.clone(),
                p.name.clone(),
                p.publisher.clone(),
                p.product.clone(),
                p.metric.clone(),
                p.limit.name().to_string(),
                p.lifecycle.name().to_string(),
                flag(p.retired()),
                p.duration_name().to_string(),
                p.expiry.map(|d| d.to_string()).unwrap_or_default(),
                flag(p.downgrade),
                flag(p.upgrade),
                flag(p.virtualization),
                flag(p.second_use),
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
        .collect();
    Rows::new(columns, rows)
}

/// The assessment rows, with seed 003's columns: the default table shows the license, device,
/// user, application, result, reason, units and message; `--wide` (and JSON and CSV always)
/// adds the access mode, allocation type, whether the application is installed and used,
/// the license's priority, whether the application is supplementary on it, its entitlement
/// limit, the exemption reason and the entitlements left on the license after the row.
///
/// When a row's license computes quantities from hardware, a `calculation` column (the last)
/// shows the metric, the formula with the values it read, and the minimums and rounding that
/// applied; JSON gives the inputs as fields.
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
    // Device-counted rows name no user: the default table then leaves the column out.
    let user = Column::key("user");
    let user = if rows.iter().any(|a| a.user.is_some()) {
        user
    } else {
        user.wide()
    };
    let mut columns = vec![
        Column::key("license"),
        Column::key("device"),
        user,
        Column::key("application"),
        Column::key("result"),
        Column::key("reason"),
        Column::number("units"),
        Column::text("message"),
        Column::key("access_mode").wide(),
        Column::key("allocation_type").wide(),
        Column::bool("installed").wide(),
        Column::bool("used").wide(),
        Column::number("priority").wide(),
        Column::bool("supplementary").wide(),
        Column::key("entitlement_limit").wide(),
        Column::text("exemption").wide(),
        Column::number("available_after").wide(),
    ];
    if layered {
        columns.push(Column::text("source").wide());
    }
    // Last, so that JSON can show the calculation as a structured value.
    if calculated {
        columns.push(Column::text("calculation").wide());
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
                a.access_mode().unwrap_or_default().to_string(),
                a.allocation
                    .map(|k| k.name().to_string())
                    .unwrap_or_default(),
                flag(a.installed()),
                a.used.map(flag).unwrap_or_default(),
                a.priority.map(|p| p.to_string()).unwrap_or_default(),
                flag(a.supplementary),
                a.limit.name().to_string(),
                a.exemption.clone().unwrap_or_default(),
                opt_dec(a.available_after),
            ];
            if layered {
                cells.push(
                    a.application
                        .as_ref()
                        .and_then(|app| sources.get(app))
                        .cloned()
                        .unwrap_or_default(),
                );
            }
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
            structured.push(a.computation.as_ref().map(|(metric, c)| {
                let inputs: serde_json::Map<String, Value> = c
                    .inputs
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect();
                serde_json::json!({
                    "metric": metric,
                    "quantity": rows::decimal(c.quantity),
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
        columns,
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
        e.name.to_string()
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
pub fn recognition(devices: &[DeviceView<'_>]) -> Rows {
    let mut rows = Vec::new();
    // The rows that evidence ids name are shown by their `evidence.csv` lines.
    let row = |status: &str,
               view: &DeviceView<'_>,
               application: &str,
               ids: &[EvidenceId],
               note: String| {
        let evidence: Vec<&Evidence> = view.rows(ids).collect();
        let first = evidence.first();
        let text = |f: fn(&Evidence) -> &str| first.map(|e| f(e).to_string()).unwrap_or_default();
        let lines: Vec<String> = evidence.iter().map(|e| e.line.to_string()).collect();
        vec![
            status.to_string(),
            view.device.id.to_string(),
            application.to_string(),
            text(|e| e.kind.as_str()),
            text(|e| &e.publisher),
            first.map(|e| describe_evidence(e)).unwrap_or_default(),
            text(|e| &e.version),
            lines.join(";"),
            note,
        ]
    };
    for view in devices {
        let found = view.recognition;
        for (status, installs) in [
            ("installed", &found.installations),
            ("ignored_application", &found.ignored_applications),
        ] {
            for inst in installs {
                let note = match inst.absorbed.as_slice() {
                    [] => String::new(),
                    absorbed => format!("absorbs {}", absorbed.join(", ")),
                };
                rows.push(row(status, view, &inst.application, &inst.evidence, note));
            }
        }
        for id in &found.unrecognized {
            rows.push(row("unrecognized", view, "", &[*id], String::new()));
        }
        for noise in &found.noise {
            let note = format!("{} ({})", noise.category.as_str(), noise.ignore);
            rows.push(row("noise", view, "", &[noise.evidence], note));
        }
        for id in &found.ignored {
            rows.push(row("ignored", view, "", &[*id], String::new()));
        }
    }
    Rows::new(
        vec![
            Column::key("status"),
            Column::key("device"),
            Column::key("application"),
            Column::key("kind").wide(),
            Column::text("publisher").wide(),
            Column::text("name"),
            Column::text("version").wide(),
            Column::text("evidence_lines").wide(),
            Column::text("note").wide(),
        ],
        rows,
    )
}

/// Diagnostics, one row each, with their position as line and column.
pub fn diagnostics(diagnostics: &[Diagnostic]) -> Rows {
    Rows::new(
        vec![
            Column::key("severity"),
            Column::key("code"),
            Column::text("file"),
            Column::number("line"),
            Column::number("column"),
            Column::text("message"),
            Column::text("label").wide(),
            Column::text("help").wide(),
        ],
        diagnostics
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
    )
}

/// Named counts as one row, such as what `tally check` found in the packs.
pub fn counts(counts: &[(&'static str, usize)]) -> Rows {
    Rows::new(
        counts
            .iter()
            .map(|(name, _)| Column::number(name))
            .collect(),
        vec![counts.iter().map(|(_, n)| n.to_string()).collect()],
    )
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
    let mut columns = vec![Column::text("file")];
    columns.extend(
        DeclKind::ALL
            .iter()
            .map(|kind| Column::number(kind.keyword())),
    );
    columns.push(Column::number("total"));
    Rows::new(columns, rows)
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
    Rows::new(
        vec![
            Column::key("result"),
            Column::text("test"),
            Column::text("location"),
            Column::text("failure"),
        ],
        results
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
    )
}

/// Test results as JUnit XML, which CI systems (GitHub, GitLab, Jenkins, Azure DevOps) show
/// as a test report: one `testsuite` per file the tests are written in, in order of first
/// appearance, one `testcase` per test, with a `failure` for each failed test and `skipped` for
/// a skipped one.
pub fn junit(results: &[TestResult]) -> String {
    let mut files: Vec<(&str, Vec<&TestResult>)> = Vec::new();
    for r in results {
        match files.iter_mut().find(|(path, _)| *path == r.path) {
            Some((_, tests)) => tests.push(r),
            None => files.push((&r.path, vec![r])),
        }
    }
    let failed = results.iter().filter(|r| !r.passed()).count();
    let skipped = results.iter().filter(|r| r.skipped.is_some()).count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"tally\" tests=\"{}\" failures=\"{failed}\" skipped=\"{skipped}\">\n",
        results.len()
    );
    for (path, tests) in files {
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n",
            xml(path),
            tests.len(),
            tests.iter().filter(|r| !r.passed()).count(),
            tests.iter().filter(|r| r.skipped.is_some()).count()
        ));
        for r in tests {
            let line = r.location.rsplit_once(':').map_or("", |(_, l)| l);
            let line = if line.chars().all(|c| c.is_ascii_digit()) && !line.is_empty() {
                format!(" line=\"{line}\"")
            } else {
                String::new()
            };
            out.push_str(&format!(
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\"{line}",
                xml(&r.name),
                xml(path),
                xml(path)
            ));
            if let Some(reason) = &r.skipped {
                out.push_str(&format!(
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                    xml(reason)
                ));
            } else if r.passed() {
                out.push_str("/>\n");
            } else {
                out.push_str(&format!(
                    ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                    xml(r.failures.first().map_or("", String::as_str)),
                    xml(&r.failures.join("\n"))
                ));
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Text escaped for XML attributes and content; characters XML 1.0 cannot hold are dropped.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
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
    Rows::new(
        vec![
            Column::key("category"),
            Column::number("devices"),
            Column::number("rows"),
            Column::key("kind"),
            Column::text("publisher"),
            Column::text("product"),
            Column::text("version_family"),
            Column::text("sample_devices"),
            Column::key("suggested_application"),
            Column::text("suggested_rule"),
        ],
        rows,
    )
    .render(format)
}

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
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
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
}
