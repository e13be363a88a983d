//! Completion: what may be written at the cursor, found from the text before it (which may not
//! parse yet): declaration keywords at the top level; inside a block, the fields of its schema
//! (a `recognize installer { … }` block's own fields included); after a field, the declared
//! names of the kinds it takes, its words, or, in a metric's expression, the functions,
//! tables and variables.

use tally_compiler::ir::{Aggregation, Function};
use tally_compiler::syntax::ast::{DeclKind, Modifier};
use tally_compiler::syntax::schema::{self, FieldSpec, Shape};
use tower_lsp_server::ls_types::{
    CompletionItem, CompletionItemKind, Documentation, Position, Uri,
};

use crate::index::{definitions, field_kinds};
use crate::navigation::offset;
use crate::state::Snapshot;

/// Where the cursor is, as far as completion cares.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Context {
    /// The header words of each open block, outermost first (`application x`, then
    /// `recognize installer`).
    blocks: Vec<Vec<String>>,
    /// The words on the cursor's line before it, without the word being typed.
    before: Vec<String>,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// Reads the text up to the cursor: strings and comments skipped, braces opening and
/// closing blocks.
fn context(text: &str, at: usize) -> Context {
    let text = text.get(..at).unwrap_or(text);
    let mut blocks: Vec<Vec<String>> = Vec::new();
    let mut line: Vec<String> = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut word = String::new();
    let flush = |word: &mut String, line: &mut Vec<String>| {
        if !word.is_empty() {
            line.push(std::mem::take(word));
        }
    };
    while let Some((_, c)) = chars.next() {
        match c {
            '"' => {
                flush(&mut word, &mut line);
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' | '\n' => break,
                        _ => {}
                    }
                }
                line.push("\"…\"".to_string());
            }
            '/' if chars.peek().is_some_and(|(_, n)| *n == '/') => {
                flush(&mut word, &mut line);
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                line.clear();
            }
            '{' => {
                flush(&mut word, &mut line);
                blocks.push(std::mem::take(&mut line));
            }
            '}' => {
                flush(&mut word, &mut line);
                blocks.pop();
                line.clear();
            }
            '\n' => {
                flush(&mut word, &mut line);
                line.clear();
            }
            c if is_word_char(c) => word.push(c),
            _ => flush(&mut word, &mut line),
        }
    }
    // The word being typed is not part of what comes before it.
    Context {
        blocks,
        before: line,
    }
}

/// The declaration kind a block header names: `application x`, `extend product y`.
fn header_kind(header: &[String]) -> Option<DeclKind> {
    let mut words = header.iter().map(String::as_str);
    let first = words.next()?;
    let keyword = if Modifier::from_keyword(first).is_some() {
        words.next()?
    } else {
        first
    };
    DeclKind::from_keyword(keyword)
}

/// The schema of the innermost block, with the declaration's kind.
fn block_schema(blocks: &[Vec<String>]) -> Option<(DeclKind, &'static [FieldSpec])> {
    let kind = header_kind(blocks.first()?)?;
    let mut spec = schema::fields(kind);
    for header in blocks.get(1..).unwrap_or_default() {
        let key = header.first()?;
        let word = header.get(1)?;
        let Shape::Sub(options) = schema::find(spec, key)?.shape else {
            return None;
        };
        let (_, Shape::Block(inner)) = options.iter().find(|(o, _)| o == word)? else {
            return None;
        };
        spec = inner;
    }
    Some((kind, spec))
}

fn item(label: &str, kind: CompletionItemKind, detail: Option<String>) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail,
        ..CompletionItem::default()
    }
}

/// The declared names of some kinds, each once, sorted.
fn names(snapshot: &Snapshot, kinds: &[DeclKind]) -> Vec<CompletionItem> {
    definitions(&snapshot.db, snapshot.rules)
        .iter()
        .filter_map(|(name, defs)| {
            let def = defs.iter().find(|d| kinds.contains(&d.kind))?;
            (!def.kind.named_by_string()).then(|| {
                item(
                    name,
                    CompletionItemKind::REFERENCE,
                    Some(def.kind.keyword().to_string()),
                )
            })
        })
        .collect()
}

fn words(list: &[&str]) -> Vec<CompletionItem> {
    list.iter()
        .map(|w| item(w, CompletionItemKind::ENUM_MEMBER, None))
        .collect()
}

fn keywords(list: &[&str]) -> Vec<CompletionItem> {
    list.iter()
        .map(|w| item(w, CompletionItemKind::KEYWORD, None))
        .collect()
}

/// What an expression of a metric may use: functions, aggregations, tables, variables.
fn expression(snapshot: &Snapshot, text: &str) -> Vec<CompletionItem> {
    let mut items = Vec::new();
    for (name, _) in Function::NAMES {
        items.push(item(
            name,
            CompletionItemKind::FUNCTION,
            Some(format!("{name}(…)")),
        ));
    }
    for (name, _) in Aggregation::NAMES {
        if !Function::NAMES.iter().any(|(f, _)| f == name) {
            items.push(item(
                name,
                CompletionItemKind::FUNCTION,
                Some(format!("{name}(… for x in …)")),
            ));
        }
    }
    items.extend(names(snapshot, &[DeclKind::Table]));
    // The holder the metric counts, named as in `counts`, and the license.
    let holder = text
        .lines()
        .rev()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("counts "))
        .map(str::trim)
        .filter(|h| schema::HOLDERS.contains(h));
    for variable in holder.into_iter().chain(["license"]) {
        if !items.iter().any(|i| i.label == variable) {
            items.push(item(variable, CompletionItemKind::VARIABLE, None));
        }
    }
    items.extend(keywords(&[
        "if", "then", "else", "for", "in", "where", "and", "or", "not",
    ]));
    items
}

pub fn completion(
    snapshot: &Snapshot,
    uri: &Uri,
    position: Position,
) -> Option<Vec<CompletionItem>> {
    let (file, _) = snapshot.file_of(uri)?;
    let text = &file.source(&snapshot.db).text;
    let at = offset(snapshot, file, position);
    let context = context(text, at);
    let before: Vec<&str> = context.before.iter().map(String::as_str).collect();
    if context.blocks.is_empty() {
        return Some(match before.as_slice() {
            [] => keywords(tally_compiler::syntax::split::DECLARATION_KEYWORDS),
            [modifier] if Modifier::from_keyword(modifier).is_some() => {
                let kinds: Vec<&str> = DeclKind::ALL.iter().map(|k| k.keyword()).collect();
                keywords(&kinds)
            }
            [modifier, kind] if Modifier::from_keyword(modifier).is_some() => {
                match DeclKind::from_keyword(kind) {
                    Some(kind) => names(snapshot, &[kind]),
                    None => Vec::new(),
                }
            }
            _ => Vec::new(),
        });
    }
    let (kind, spec) = block_schema(&context.blocks)?;
    let block_text = text.get(..at).unwrap_or("");
    let Some((&key, rest)) = before.split_first() else {
        return Some(
            spec.iter()
                .map(|f| {
                    let mut field = item(f.key, CompletionItemKind::FIELD, Some(f.doc.to_string()));
                    field.documentation = Some(Documentation::String(format!(
                        "{}{}",
                        f.doc,
                        if f.required { " (required)" } else { "" }
                    )));
                    field
                })
                .collect(),
        );
    };
    let Some(field) = schema::find(spec, key) else {
        // A line that does not start with a field continues the one before: in a metric,
        // that is the expression.
        return Some(if kind == DeclKind::Metric {
            expression(snapshot, block_text)
        } else {
            Vec::new()
        });
    };
    Some(match (field.shape, rest) {
        (Shape::Ref | Shape::RefList, _) => names(snapshot, field_kinds(kind, key)),
        (Shape::Covers, []) => names(snapshot, &[DeclKind::Application, DeclKind::Product]),
        (Shape::Covers, [_]) => keywords(&["edition"]),
        (Shape::Word(list), []) | (Shape::WordList(list), _) => words(list),
        (Shape::Pattern | Shape::Version, []) => keywords(&["like"]),
        (Shape::Limit, []) => words(&["cores", "processors", "sockets"]),
        (Shape::Sub(options), []) => {
            let list: Vec<&str> = options.iter().map(|(o, _)| *o).collect();
            words(&list)
        }
        (Shape::Sub(options), [word]) => match options.iter().find(|(o, _)| o == word) {
            Some((_, Shape::Ref)) => names(snapshot, field_kinds(kind, word)),
            _ => Vec::new(),
        },
        (Shape::Expect, []) => keywords(&[
            "application",
            "no application",
            "unrecognized",
            "ignored",
            "covered by",
            "not covered by",
        ]),
        (Shape::Expect, ["application"] | ["no", "application"]) => {
            names(snapshot, &[DeclKind::Application])
        }
        (Shape::Expect, ["covered", "by"] | ["not", "covered", "by"]) => {
            let mut items = names(snapshot, &[DeclKind::Rights, DeclKind::Bundle]);
            items.extend(keywords(&["sku"]));
            items
        }
        (Shape::Expect, ["covered", "by", _]) => keywords(&["via"]),
        (Shape::Expect, ["covered", "by", _, "via"]) => words(&["direct", "downgrade", "upgrade"]),
        (Shape::Expr, _) => expression(snapshot, block_text),
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_is_the_open_blocks_and_the_line_so_far() {
        let text = "application a {\n  recognize installer {\n    name like \"x{\" // {\n    ver";
        let c = context(text, text.len());
        assert_eq!(
            c.blocks,
            vec![
                vec!["application".to_string(), "a".to_string()],
                vec!["recognize".to_string(), "installer".to_string()],
            ]
        );
        assert!(c.before.is_empty());
        let (kind, spec) = block_schema(&c.blocks).unwrap();
        assert_eq!(kind, DeclKind::Application);
        assert!(spec.iter().any(|f| f.key == "product_code"));
        let c = context("product p {\n  publisher ac", 24);
        assert_eq!(c.before, vec!["publisher".to_string()]);
        let c = context("product p { name \"P\" }\n", 23);
        assert!(c.blocks.is_empty());
    }
}
