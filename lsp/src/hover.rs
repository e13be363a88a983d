//! Hover: over a declaration's name or a reference to it, its kind, name and doc comment,
//! and what matters for its kind: an application's evidence patterns and the applications
//! whose rules can match the same evidence; a metric's formula and required fields; a table's
//! keys, row count and source. Over a field name, what the field means.

use tally_compiler::diagnostics::Span;
use tally_compiler::syntax::ast::{Decl, DeclKind, Field, Modifier, Value};
use tally_compiler::syntax::schema::{self, FieldSpec, Shape};
use tally_runtime::db::{pack, parsed, recognizer};
use tally_runtime::lint::overlap::overlapping_applications;
use tower_lsp_server::ls_types::{Hover, HoverContents, MarkupContent, MarkupKind, Position, Uri};

use crate::index::{Definition, contains};
use crate::navigation::{self, offset, range};
use crate::state::Snapshot;

pub fn hover(snapshot: &Snapshot, uri: &Uri, position: Position) -> Option<Hover> {
    if let Some(found) = navigation::find(snapshot, uri, position)
        && !found.definitions.is_empty()
    {
        let text = describe(snapshot, &found.definitions);
        return Some(markdown(
            text,
            Some(range(snapshot, found.file, found.span)),
        ));
    }
    let (file, _) = snapshot.file_of(uri)?;
    let at = offset(snapshot, file, position);
    let parsed = parsed(&snapshot.db, file);
    let decl = parsed.decls.iter().find(|d| contains(d.span, at))?;
    let (spec, span) = field_at(schema::fields(decl.kind), &decl.fields, at)?;
    let mut text = format!("`{}`: {}", spec.key, spec.doc);
    if spec.required {
        text.push_str(" (required)");
    }
    if let Shape::Word(words) | Shape::WordList(words) = spec.shape {
        let words: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
        text.push_str(&format!("\n\nOne of {}.", words.join(", ")));
    }
    Some(markdown(text, Some(range(snapshot, file, span))))
}

fn markdown(value: String, range: Option<tower_lsp_server::ls_types::Range>) -> Hover {
    Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range,
    }
}

/// The field whose key is at `offset`, in a block or the blocks nested in it.
fn field_at(
    spec: &'static [FieldSpec],
    fields: &[Field],
    offset: usize,
) -> Option<(&'static FieldSpec, Span)> {
    for field in fields {
        let field_spec = schema::find(spec, field.key)?;
        if contains(field.key_span, offset) {
            return Some((field_spec, field.key_span));
        }
        if let (Value::Sub { word, value }, Shape::Sub(options)) = (&field.value, field_spec.shape)
            && let Value::Block(inner) = value.as_ref()
            && let Some((_, Shape::Block(inner_spec))) =
                options.iter().find(|(o, _)| *o == word.value)
            && contains(field.span, offset)
        {
            return field_at(inner_spec, inner, offset);
        }
    }
    None
}

/// The Markdown describing a declaration and its `extend`s and `override`s.
fn describe(snapshot: &Snapshot, definitions: &[Definition]) -> String {
    let db = &snapshot.db;
    let decls: Vec<(&Definition, &Decl)> = definitions
        .iter()
        .filter_map(|d| {
            let decl = parsed(db, d.file)
                .decls
                .iter()
                .find(|decl| decl.name.span == d.name_span)?;
            Some((d, decl))
        })
        .collect();
    let Some((first, decl)) = decls.first().copied() else {
        return String::new();
    };
    let mut out = format!(
        "```tally\n{} {}\n```\n",
        decl.kind.keyword(),
        decl.name.value
    );
    if !decl.doc.is_empty() {
        out.push('\n');
        out.push_str(&decl.doc.join("\n"));
        out.push('\n');
    }
    let text_of = |d: &Definition, span: Span| -> String {
        let text = &d.file.source(db).text;
        squeeze(text.get(span.start..span.end).unwrap_or(""))
    };
    match decl.kind {
        DeclKind::Application => {
            let mut facts = Vec::new();
            for key in ["product", "version", "edition"] {
                if let Some(field) = decl.fields.iter().find(|f| f.key == key) {
                    let value = text_of(first, field.span);
                    facts.push(format!("`{value}`"));
                }
            }
            if !facts.is_empty() {
                out.push_str(&format!("\n{}\n", facts.join(" · ")));
            }
            let patterns: Vec<String> = decls
                .iter()
                .flat_map(|(d, decl)| {
                    decl.fields
                        .iter()
                        .filter(|f| f.key == "recognize")
                        .map(|f| format!("- `{}`", text_of(d, f.span)))
                })
                .collect();
            out.push_str("\n**Evidence patterns**\n\n");
            if patterns.is_empty() {
                out.push_str("none: inventory can never produce this application\n");
            } else {
                out.push_str(&patterns.join("\n"));
                out.push('\n');
            }
            let rules = snapshot.rules;
            let others =
                overlapping_applications(pack(db, rules), recognizer(db, rules), &decl.name.value);
            out.push_str("\n**Overlaps**: ");
            match others {
                others if !others.is_empty() => {
                    let names: Vec<String> = others.iter().map(|o| format!("`{o}`")).collect();
                    out.push_str(&format!(
                        "its rules can match the same evidence as {}\n",
                        names.join(", ")
                    ));
                }
                _ => out.push_str("none\n"),
            }
        }
        DeclKind::Metric => {
            let field = |key: &str| decl.fields.iter().find(|f| f.key == key);
            if let Some(counts) = field("counts") {
                out.push_str(&format!(
                    "\nCounts per `{}`.\n",
                    text_after_key(&text_of(first, counts.span))
                ));
            }
            match (field("quantity"), field("script")) {
                (Some(quantity), _) => out.push_str(&format!(
                    "\n**Formula**\n\n```tally\n{}\n```\n",
                    dedent(
                        first
                            .file
                            .source(db)
                            .text
                            .get(quantity.span.start..quantity.span.end)
                            .unwrap_or("")
                    )
                )),
                (None, Some(script)) => out.push_str(&format!(
                    "\n**Formula**: the script `{}`\n",
                    text_after_key(&text_of(first, script.span))
                )),
                (None, None) => out.push_str("\n**Formula**: 1 per holder\n"),
            }
            let required: Vec<String> = decl
                .fields
                .iter()
                .filter_map(|f| match &f.value {
                    Value::WordList(words) if f.key == "requires" => Some(
                        words
                            .iter()
                            .map(|w| format!("`{}`", w.value))
                            .collect::<Vec<_>>(),
                    ),
                    _ => None,
                })
                .flatten()
                .collect();
            out.push_str("\n**Required fields**: ");
            if required.is_empty() {
                out.push_str("none\n");
            } else {
                out.push_str(&format!("{}\n", required.join(", ")));
            }
            let limits: Vec<String> = decl
                .fields
                .iter()
                .filter(|f| f.key == "limit")
                .map(|f| format!("`{}`", text_of(first, f.span)))
                .collect();
            if !limits.is_empty() {
                out.push_str(&format!("\n**Limits**: {}\n", limits.join(", ")));
            }
        }
        DeclKind::Table => {
            let rows = decls
                .iter()
                .flat_map(|(_, decl)| decl.fields.iter().filter(|f| f.key == "row"))
                .count();
            if let Some(keys) = decl.fields.iter().find(|f| f.key == "keys") {
                out.push_str(&format!(
                    "\nKeys: `{}`\n",
                    text_after_key(&text_of(first, keys.span))
                ));
            }
            let rows = if rows == 1 {
                "1 row".to_string()
            } else {
                format!("{rows} rows")
            };
            out.push_str(&format!("\n**{rows}**"));
            if let Some(default) = decl.fields.iter().find(|f| f.key == "default") {
                out.push_str(&format!(", `{}`", text_of(first, default.span)));
            }
            out.push('\n');
        }
        _ => {}
    }
    let mut places = Vec::new();
    for (d, decl) in &decls {
        let source = d.file.source(db);
        let (line, _) = source.line_col(d.span.start);
        let how = match decl.modifier.as_ref().map(|m| m.value) {
            Some(Modifier::Extend) => "extended",
            Some(Modifier::Override) => "overridden",
            None => "declared",
        };
        let standard = if snapshot.files.read_only(&source.path) {
            " (standard pack, read-only)"
        } else {
            ""
        };
        places.push(format!("{how} in `{}:{line}`{standard}", source.path));
    }
    out.push_str(&format!("\n*{}*\n", capitalise(&places.join(", "))));
    out
}

/// The text with every run of white space made one space.
fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A field's text as written, its continuation lines shifted left by their common indent.
fn dedent(text: &str) -> String {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("").trim_end();
    let rest: Vec<&str> = lines.collect();
    let indent = rest
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    std::iter::once(first.to_string())
        .chain(rest.iter().map(|l| {
            let cut = l.char_indices().nth(indent).map_or(l.len(), |(i, _)| i);
            format!("    {}", l.get(cut..).unwrap_or("").trim_end())
        }))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `counts host` → `host`.
fn text_after_key(text: &str) -> &str {
    text.split_once(' ').map_or(text, |(_, rest)| rest)
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
