//! Diagnostics for continuous integration: a SARIF 2.1.0 log ([`to_sarif`]) for code-scanning
//! tools, and GitHub Actions workflow commands ([`to_github`]) that annotate the files of a
//! pull request. Both take any [`Diagnostic`]s — from `check`, `lint`, `test` or an estate
//! import — and give the same text for the same diagnostics, whatever their order.
//!
//! Positions are 1-based lines and columns counted in Unicode characters (code points), as the
//! text output counts them; the SARIF log says so (`columnKind: unicodeCodePoints`). A region
//! ends at the character after the span (SARIF's `endColumn` is exclusive). Paths are written
//! as the command was given them (relative paths stay relative, `\` becomes `/`), percent-
//! encoded where a URI needs it; give relative paths for GitHub to place annotations.
//!
//! Each code links to its documentation: a lint's section in `docs/lints.md`, any other code's
//! in `docs/diagnostics.md`, under [`DOCS_BASE`]. The anchors are made from those files'
//! headings as GitHub makes them, so a renamed heading cannot leave a dead link.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tally_compiler::diagnostics::{Code, Diagnostic, Severity, SourceFile, Span};

use crate::lint;

/// The documentation folder of the repository (the `repository` of `Cargo.toml`), on its
/// main branch.
pub const DOCS_BASE: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/docs/");

const DIAGNOSTICS_PAGE: (&str, &str) = (
    "diagnostics.md",
    include_str!("../../../docs/diagnostics.md"),
);
const LINTS_PAGE: (&str, &str) = ("lints.md", include_str!("../../../docs/lints.md"));

/// The page and heading text (after `## `) that document a code.
fn heading(code: Code) -> Option<(&'static str, &'static str)> {
    let pages = if lint::LINTS.iter().any(|l| l.code == code) {
        [LINTS_PAGE, DIAGNOSTICS_PAGE]
    } else {
        [DIAGNOSTICS_PAGE, LINTS_PAGE]
    };
    let prefix = format!("{code}:");
    pages.iter().find_map(|(page, text)| {
        text.lines()
            .filter_map(|l| l.strip_prefix("## "))
            .find(|h| h.starts_with(&prefix))
            .map(|h| (*page, h))
    })
}

/// The anchor GitHub gives a heading: lowercase, punctuation dropped, spaces as `-`.
fn anchor(heading: &str) -> String {
    heading
        .chars()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The documentation of a code: its section's address.
pub fn help_uri(code: Code) -> String {
    match heading(code) {
        Some((page, text)) => format!("{DOCS_BASE}{page}#{}", anchor(text)),
        None => format!("{DOCS_BASE}{}", DIAGNOSTICS_PAGE.0),
    }
}

/// What a code is about, in a few words: a lint's summary, or the title of the code's
/// section.
pub fn short_description(code: Code) -> String {
    if let Some(l) = lint::LINTS.iter().find(|l| l.code == code) {
        return l.summary.to_owned();
    }
    heading(code)
        .and_then(|(_, h)| h.split_once(": "))
        .map_or_else(|| code.to_string(), |(_, title)| title.replace('`', ""))
}

/// The message with its help line, as both formats show it.
fn text(d: &Diagnostic) -> String {
    if d.help.is_empty() {
        d.message.clone()
    } else {
        format!("{}\nhelp: {}", d.message, d.help)
    }
}

/// A path as a URI reference: `/` for separators, and every byte other than an unreserved
/// character or `/` percent-encoded.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Start line and column, end line and column (exclusive), 1-based, in characters.
fn region(source: &SourceFile, span: Span) -> (usize, usize, usize, usize) {
    let span = source.clamp(span);
    let (line, column) = source.line_col(span.start);
    let (end_line, end_column) = source.line_col(span.end);
    (line, column, end_line, end_column)
}

fn location(source: &SourceFile, span: Option<Span>) -> Value {
    let mut physical = json!({ "artifactLocation": { "uri": uri(&source.path) } });
    if let (Some(span), Value::Object(map)) = (span, &mut physical) {
        let (line, column, end_line, end_column) = region(source, span);
        map.insert(
            "region".to_owned(),
            json!({
                "startLine": line,
                "startColumn": column,
                "endLine": end_line,
                "endColumn": end_column,
            }),
        );
    }
    json!({ "physicalLocation": physical })
}

/// The order results are written in: by file, place, code and message.
fn sorted(diagnostics: &[Diagnostic]) -> Vec<&Diagnostic> {
    let mut out: Vec<&Diagnostic> = diagnostics.iter().collect();
    out.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            let place = d.span.map(|s| region(&d.source, s));
            (d.source.path.clone(), place, d.code, d.message.clone())
        };
        key(a).cmp(&key(b))
    });
    out
}

/// The diagnostics as a SARIF 2.1.0 log with one run of the tool `tally` at `tool_version`:
/// a rule for each code used (its id, short description and documentation), and a result
/// for each diagnostic (its code, level `error` or `warning`, message with the help line,
/// location and related locations), sorted by file and position. Pretty-printed JSON with a
/// final newline.
pub fn to_sarif(diagnostics: &[Diagnostic], tool_version: &str) -> String {
    let codes: BTreeMap<Code, usize> = {
        let mut used: Vec<Code> = diagnostics.iter().map(|d| d.code).collect();
        used.sort();
        used.dedup();
        used.into_iter().enumerate().map(|(i, c)| (c, i)).collect()
    };
    let rules: Vec<Value> = codes
        .keys()
        .map(|code| {
            let mut rule = json!({
                "id": code.0,
                "shortDescription": { "text": short_description(*code) },
                "helpUri": help_uri(*code),
            });
            if let (Some(l), Value::Object(map)) =
                (lint::LINTS.iter().find(|l| l.code == *code), &mut rule)
            {
                map.insert("name".to_owned(), json!(l.name));
                let level = match l.default {
                    lint::Level::Error => "error",
                    lint::Level::Warning => "warning",
                    lint::Level::Off => "none",
                };
                map.insert("defaultConfiguration".to_owned(), json!({ "level": level }));
            }
            rule
        })
        .collect();
    let results: Vec<Value> = sorted(diagnostics)
        .into_iter()
        .map(|d| {
            let level = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let mut result = json!({
                "ruleId": d.code.0,
                "ruleIndex": codes.get(&d.code).copied().unwrap_or_default(),
                "level": level,
                "message": { "text": text(d) },
                "locations": [location(&d.source, d.span)],
            });
            if !d.related.is_empty()
                && let Value::Object(map) = &mut result
            {
                let related: Vec<Value> = d
                    .related
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let mut place = location(&r.source, Some(r.span));
                        if let Value::Object(m) = &mut place {
                            m.insert("id".to_owned(), json!(i + 1));
                            m.insert("message".to_owned(), json!({ "text": r.label }));
                        }
                        place
                    })
                    .collect();
                map.insert("relatedLocations".to_owned(), Value::Array(related));
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "tally",
                    "version": tool_version,
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

/// Escapes the message of a workflow command.
fn github_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value of a workflow command.
fn github_property(text: &str) -> String {
    github_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// The diagnostics as GitHub Actions workflow commands, one line each, sorted as
/// [`to_sarif`] sorts them: `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=T0101::…`
/// (`::warning` for a warning). The message carries the help line and the related places;
/// `%`, line breaks, and in properties `:` and `,`, are escaped as GitHub reads them. A
/// diagnostic about no file (such as the output itself) has no `file`.
pub fn to_github(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in sorted(diagnostics) {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut properties = Vec::new();
        if !d.source.path.is_empty() && !d.source.path.starts_with('<') {
            properties.push(format!("file={}", github_property(&d.source.path)));
            if let Some(span) = d.span {
                let (line, column, end_line, end_column) = region(&d.source, span);
                properties.push(format!("line={line}"));
                properties.push(format!("col={column}"));
                properties.push(format!("endLine={end_line}"));
                properties.push(format!("endColumn={end_column}"));
            }
        }
        properties.push(format!("title={}", github_property(d.code.0)));
        let mut message = text(d);
        for r in &d.related {
            let (line, column) = r.source.line_col(r.span.start);
            message.push_str(&format!(
                "\nsee {}:{line}:{column}: {}",
                r.source.path, r.label
            ));
        }
        out.push_str(&format!(
            "::{command} {}::{}\n",
            properties.join(","),
            github_data(&message)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_compiler::diagnostics::codes;

    #[test]
    fn anchors_follow_the_headings() {
        assert_eq!(
            anchor("T0120: `extend` or `override` cannot apply"),
            "t0120-extend-or-override-cannot-apply"
        );
        assert_eq!(
            anchor("T0119: one piece of evidence matches two applications (warning)"),
            "t0119-one-piece-of-evidence-matches-two-applications-warning"
        );
        assert_eq!(
            help_uri(codes::UNKNOWN_NAME),
            format!("{DOCS_BASE}diagnostics.md#t0101-unknown-name")
        );
        assert_eq!(
            help_uri(lint::codes::SHADOWED_TABLE_ROW),
            format!("{DOCS_BASE}lints.md#t0406-shadowed-table-row")
        );
        assert_eq!(short_description(codes::UNKNOWN_NAME), "unknown name");
    }

    #[test]
    fn every_code_has_a_section_to_link_to() {
        let all = codes::ALL
            .iter()
            .chain(crate::estate::codes::ALL)
            .chain(lint::codes::ALL);
        for (code, _) in all {
            assert!(heading(*code).is_some(), "{code} has no section");
        }
    }

    #[test]
    fn workflow_commands_escape_what_github_reads() {
        let source = SourceFile::new("packs/a,b: c.tally", "ab\ncdé f\n");
        let d = Diagnostic::error(
            codes::UNKNOWN_NAME,
            &source,
            Some(Span::new(5, 9)),
            "100% wrong\nhere",
        )
        .with_help("fix it");
        assert_eq!(
            to_github(&[d]),
            "::error file=packs/a%2Cb%3A c.tally,line=2,col=3,endLine=2,endColumn=6,title=T0101::100%25 wrong%0Ahere%0Ahelp: fix it\n"
        );
        assert_eq!(github_data("a\r\nb"), "a%0D%0Ab");
        assert_eq!(github_property("a:b,c%"), "a%3Ab%2Cc%25");
    }

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(
            uri("packs\\my pack/ü.tally"),
            "packs/my%20pack/%C3%BC.tally"
        );
    }
}
