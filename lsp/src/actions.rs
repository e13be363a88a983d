//! Code actions for the diagnostics under the cursor: replace a misspelt name with the
//! declared one the diagnostic suggests, and declare a missing name (a new declaration of
//! the kind the reference expects, with its required fields, at the end of the file).

use std::collections::HashMap;

use serde_json::json;
use tally_compiler::diagnostics::{Span, codes};
use tally_compiler::syntax::ast::DeclKind;
use tally_compiler::syntax::schema::{self, Shape};
use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Range, TextEdit, Uri, WorkspaceEdit,
};

use crate::diagnostics::{diagnostics_by_file, to_lsp};
use crate::index::file_index;
use crate::navigation::range;
use crate::state::Snapshot;

pub fn code_actions(
    snapshot: &Snapshot,
    uri: &Uri,
    wanted: Range,
) -> Option<Vec<CodeActionOrCommand>> {
    let (file, path) = snapshot.file_of(uri)?;
    if snapshot.files.read_only(path) {
        return Some(Vec::new());
    }
    let db = &snapshot.db;
    let text = &file.source(db).text;
    let by_file = diagnostics_by_file(db, snapshot.rules);
    let mut actions = Vec::new();
    for diagnostic in by_file.get(path).into_iter().flatten() {
        let Some(span) = diagnostic.span else {
            continue;
        };
        let at = range(snapshot, file, span);
        if at.end < wanted.start || wanted.end < at.start {
            continue;
        }
        let lsp_diagnostic = to_lsp(snapshot, diagnostic);
        if let Some(suggestion) = &diagnostic.suggestion {
            let written = text.get(span.start..span.end).unwrap_or("");
            actions.push(action(
                format!("Replace `{written}` with `{suggestion}`"),
                uri,
                vec![TextEdit::new(at, suggestion.clone())],
                &lsp_diagnostic,
                true,
            ));
        }
        if diagnostic.code == codes::UNKNOWN_NAME {
            let Some(reference) = file_index(db, file)
                .references
                .iter()
                .find(|r| r.span == span)
            else {
                continue;
            };
            for kind in reference.kinds {
                let end = range(snapshot, file, Span::new(text.len(), text.len()));
                let separator = if text.ends_with("\n\n") || text.is_empty() {
                    ""
                } else if text.ends_with('\n') {
                    "\n"
                } else {
                    "\n\n"
                };
                let declaration = skeleton(*kind, &reference.name);
                actions.push(action(
                    format!("Declare {} `{}`", kind.keyword(), reference.name),
                    uri,
                    vec![TextEdit::new(
                        Range::new(end.end, end.end),
                        format!("{separator}{declaration}"),
                    )],
                    &lsp_diagnostic,
                    false,
                ));
            }
        }
    }
    Some(actions)
}

fn action(
    title: String,
    uri: &Uri,
    edits: Vec<TextEdit>,
    diagnostic: &tower_lsp_server::ls_types::Diagnostic,
    preferred: bool,
) -> CodeActionOrCommand {
    let mut changes = HashMap::new();
    changes.insert(uri.clone(), edits);
    CodeActionOrCommand::CodeAction(CodeAction {
        title,
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![diagnostic.clone()]),
        edit: Some(WorkspaceEdit::new(changes)),
        command: None,
        is_preferred: preferred.then_some(true),
        disabled: None,
        data: Some(json!({ "code": diagnostic.code })),
    })
}

/// A new declaration of a kind with its required fields, each with a value to replace.
pub fn skeleton(kind: DeclKind, name: &str) -> String {
    let mut out = format!("{} {name} {{\n", kind.keyword());
    for field in schema::fields(kind).iter().filter(|f| f.required) {
        let value = match field.shape {
            Shape::Str if field.key == "name" => format!("\"{}\"", title(name)),
            Shape::Str => "\"\"".to_string(),
            Shape::Ref | Shape::RefList | Shape::Covers => guess(kind, field.key, name),
            Shape::Word(words) | Shape::WordList(words) => {
                words.first().copied().unwrap_or("").to_string()
            }
            Shape::Number => "0".to_string(),
            Shape::Expr => "1".to_string(),
            Shape::Expect => "unrecognized".to_string(),
            Shape::Sub(options) => match options.first() {
                Some((word, Shape::Block(_))) => format!("{word} {{ name \"{}\" }}", title(name)),
                Some((word, _)) => format!("{word} {}", guess(kind, field.key, name)),
                None => String::new(),
            },
            _ => String::new(),
        };
        out.push_str(&format!("    {} {value}\n", field.key));
    }
    out.push_str("}\n");
    out
}

/// A likely name for a reference field of a new declaration: a product's publisher is the
/// first part of its name (`acme` for `acme.writer`), an application's product its name
/// without the version (`acme.writer` for `acme.writer_2024`); otherwise the name itself.
fn guess(kind: DeclKind, key: &str, name: &str) -> String {
    match (kind, key) {
        (DeclKind::Product, "publisher") => name.split('.').next().unwrap_or(name).to_string(),
        (DeclKind::Application, "product") => match name.rsplit_once('_') {
            Some((product, _)) if product.contains('.') => product.to_string(),
            _ => name.to_string(),
        },
        _ => name.to_string(),
    }
}

/// `acme.writer_pro` → `Writer Pro`.
fn title(name: &str) -> String {
    name.rsplit('.')
        .next()
        .unwrap_or(name)
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skeletons_have_the_required_fields() {
        assert_eq!(
            skeleton(DeclKind::Product, "acme.writer"),
            "product acme.writer {\n    name \"Writer\"\n    publisher acme\n}\n"
        );
        assert_eq!(
            skeleton(DeclKind::Application, "acme.writer_2024"),
            "application acme.writer_2024 {\n    product acme.writer\n}\n"
        );
        assert_eq!(
            skeleton(DeclKind::Publisher, "acme"),
            "publisher acme {\n    name \"Acme\"\n}\n"
        );
    }
}
