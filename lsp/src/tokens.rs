//! Semantic tokens: the file is cut into comments, strings, numbers, words and operators, and
//! each word is classed by what the syntax tree says it is: a declaration's name (by kind,
//! with `declaration`), a reference (by the kind it resolves to; `defaultLibrary` when that
//! is in the standard packs), a field name, a closed-set word, a keyword, a function or a
//! variable of an expression.

use std::collections::HashMap;

use tally_compiler::diagnostics::Span;
use tally_compiler::ir::{Aggregation, Function};
use tally_compiler::syntax::ast::{DeclKind, ExprAst, ExprKind, Field, Value};
use tally_runtime::db::parsed;
use tower_lsp_server::ls_types::{
    SemanticToken, SemanticTokenModifier, SemanticTokenType, SemanticTokensLegend, Uri,
};

use crate::diagnostics::line_index;
use crate::index::{definitions, file_index, resolve};
use crate::state::Snapshot;

/// The token types, in legend order.
const TYPES: &[SemanticTokenType] = &[
    SemanticTokenType::NAMESPACE,
    SemanticTokenType::TYPE,
    SemanticTokenType::CLASS,
    SemanticTokenType::INTERFACE,
    SemanticTokenType::STRUCT,
    SemanticTokenType::FUNCTION,
    SemanticTokenType::ENUM,
    SemanticTokenType::EVENT,
    SemanticTokenType::MACRO,
    SemanticTokenType::ENUM_MEMBER,
    SemanticTokenType::PROPERTY,
    SemanticTokenType::VARIABLE,
    SemanticTokenType::KEYWORD,
    SemanticTokenType::STRING,
    SemanticTokenType::NUMBER,
    SemanticTokenType::COMMENT,
    SemanticTokenType::OPERATOR,
];

const MODIFIERS: &[SemanticTokenModifier] = &[
    SemanticTokenModifier::DECLARATION,
    SemanticTokenModifier::DEFAULT_LIBRARY,
];

const DECLARATION: u32 = 1;
const DEFAULT_LIBRARY: u32 = 2;

pub fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: TYPES.to_vec(),
        token_modifiers: MODIFIERS.to_vec(),
    }
}

/// The index of a type in [`TYPES`].
fn ty(wanted: &SemanticTokenType) -> u32 {
    TYPES
        .iter()
        .position(|t| t == wanted)
        .and_then(|i| u32::try_from(i).ok())
        .unwrap_or(0)
}

fn kind_type(kind: DeclKind) -> SemanticTokenType {
    match kind {
        DeclKind::Publisher => SemanticTokenType::NAMESPACE,
        DeclKind::Product => SemanticTokenType::TYPE,
        DeclKind::Application => SemanticTokenType::CLASS,
        DeclKind::Rights => SemanticTokenType::INTERFACE,
        DeclKind::Bundle => SemanticTokenType::STRUCT,
        DeclKind::Metric => SemanticTokenType::FUNCTION,
        DeclKind::Table => SemanticTokenType::ENUM,
        DeclKind::Sku => SemanticTokenType::ENUM_MEMBER,
        DeclKind::Test => SemanticTokenType::EVENT,
        DeclKind::Ignore => SemanticTokenType::MACRO,
    }
}

/// Words that are keywords wherever they are.
const KEYWORDS: &[&str] = &[
    "extend",
    "override",
    "like",
    "if",
    "then",
    "else",
    "for",
    "in",
    "where",
    "and",
    "or",
    "not",
    "true",
    "false",
    "edition",
    "covered",
    "by",
    "via",
    "sku",
    "no",
    "application",
];

/// One lexeme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lexeme {
    Comment,
    Str,
    Number,
    Word,
    Operator,
}

/// Cuts the text into lexemes (white space and brackets left out).
fn lex(text: &str) -> Vec<(Lexeme, Span)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        let start = at;
        let kind = match b {
            b'/' if bytes.get(at + 1) == Some(&b'/') => {
                at = text
                    .get(at..)
                    .and_then(|r| r.find('\n'))
                    .map_or(text.len(), |n| at + n);
                Lexeme::Comment
            }
            b'"' => {
                at += 1;
                while let Some(&c) = bytes.get(at) {
                    at += 1;
                    match c {
                        b'\\' => at += 1,
                        b'"' | b'\n' => break,
                        _ => {}
                    }
                }
                at = at.min(text.len());
                Lexeme::Str
            }
            b'0'..=b'9' => {
                while bytes.get(at).is_some_and(|c| {
                    c.is_ascii_digit()
                        || *c == b'.' && bytes.get(at + 1).is_some_and(u8::is_ascii_digit)
                }) {
                    at += 1;
                }
                Lexeme::Number
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while bytes
                    .get(at)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.')
                {
                    at += 1;
                }
                Lexeme::Word
            }
            b'=' | b'<' | b'>' | b'!' | b'+' | b'-' | b'*' | b'/' | b'%' => {
                at += 1;
                while bytes
                    .get(at)
                    .is_some_and(|c| matches!(c, b'=' | b'>' | b'<'))
                {
                    at += 1;
                }
                Lexeme::Operator
            }
            _ => {
                // Other characters (brackets, commas, white space, non-ASCII text outside
                // strings) are not tokens.
                at += text
                    .get(at..)
                    .and_then(|r| r.chars().next())
                    .map_or(1, char::len_utf8);
                continue;
            }
        };
        out.push((kind, Span::new(start, at)));
    }
    out
}

/// A token's type and modifiers, by the offset where it starts.
type Classes = HashMap<usize, (u32, u32)>;

/// The class of each word the syntax tree knows, by its start.
fn classes(snapshot: &Snapshot, uri: &Uri) -> Option<(tally_runtime::db::RuleFile, Classes)> {
    let (file, _) = snapshot.file_of(uri)?;
    let db = &snapshot.db;
    let index = file_index(db, file);
    let all = definitions(db, snapshot.rules);
    let mut classes: HashMap<usize, (u32, u32)> = HashMap::new();
    for symbol in &index.symbols {
        let standard = snapshot.files.read_only(&file.source(db).path);
        let library = if standard { DEFAULT_LIBRARY } else { 0 };
        classes.insert(
            symbol.name_span.start,
            (ty(&kind_type(symbol.kind)), DECLARATION | library),
        );
    }
    for reference in &index.references {
        let found = resolve(all, &reference.name, reference.kinds);
        let (kind, library) = match found.first() {
            Some(def) => (
                def.kind,
                if snapshot.files.read_only(&def.file.source(db).path) {
                    DEFAULT_LIBRARY
                } else {
                    0
                },
            ),
            None => (
                reference
                    .kinds
                    .first()
                    .copied()
                    .unwrap_or(DeclKind::Application),
                0,
            ),
        };
        classes
            .entry(reference.span.start)
            .or_insert((ty(&kind_type(kind)), library));
    }
    for decl in &parsed(db, file).decls {
        if let Some(modifier) = &decl.modifier {
            classes.insert(modifier.span.start, (ty(&SemanticTokenType::KEYWORD), 0));
        }
        fields(&decl.fields, &mut classes);
    }
    Some((file, classes))
}

fn fields(fields: &[Field], classes: &mut HashMap<usize, (u32, u32)>) {
    let property = ty(&SemanticTokenType::PROPERTY);
    let member = ty(&SemanticTokenType::ENUM_MEMBER);
    for field in fields {
        classes.entry(field.key_span.start).or_insert((property, 0));
        value(&field.value, classes, member);
    }
}

fn value(value: &Value, classes: &mut HashMap<usize, (u32, u32)>, member: u32) {
    match value {
        Value::Word(w) => {
            classes.entry(w.span.start).or_insert((member, 0));
        }
        Value::WordList(words) => {
            for w in words {
                classes.entry(w.span.start).or_insert((member, 0));
            }
        }
        Value::Sub { word, value: inner } => {
            classes.entry(word.span.start).or_insert((member, 0));
            value_inner(inner, classes, member);
        }
        Value::Block(inner) => fields(inner, classes),
        Value::Limit { what, .. } => {
            classes.entry(what.span.start).or_insert((member, 0));
        }
        Value::Expr(expr) => expression(expr, classes),
        _ => {}
    }
}

fn value_inner(inner: &Value, classes: &mut HashMap<usize, (u32, u32)>, member: u32) {
    value(inner, classes, member);
}

fn expression(expr: &ExprAst, classes: &mut HashMap<usize, (u32, u32)>) {
    let function = ty(&SemanticTokenType::FUNCTION);
    let variable = ty(&SemanticTokenType::VARIABLE);
    match &expr.kind {
        ExprKind::Path(_) => {
            classes.entry(expr.span.start).or_insert((variable, 0));
        }
        ExprKind::Call { function: f, args } => {
            classes.entry(f.span.start).or_insert((function, 0));
            for arg in args {
                expression(arg, classes);
            }
        }
        ExprKind::Aggregate {
            function: f,
            body,
            binder,
            collection,
            filter,
        } => {
            classes.entry(f.span.start).or_insert((function, 0));
            classes.entry(binder.span.start).or_insert((variable, 0));
            classes
                .entry(collection.span.start)
                .or_insert((variable, 0));
            for inner in [body, filter].into_iter().flatten() {
                expression(inner, classes);
            }
        }
        ExprKind::Lookup { table, keys } => {
            expression(table, classes);
            for key in keys {
                expression(key, classes);
            }
        }
        ExprKind::Unary(_, inner) => expression(inner, classes),
        ExprKind::Binary(_, a, b) => {
            expression(a, classes);
            expression(b, classes);
        }
        ExprKind::If(a, b, c) => {
            for inner in [a, b, c] {
                expression(inner, classes);
            }
        }
        ExprKind::Number(_) | ExprKind::Text(_) | ExprKind::Bool(_) => {}
    }
}

/// The semantic tokens of a document, encoded relative to each other as the protocol wants.
pub fn tokens(snapshot: &Snapshot, uri: &Uri) -> Option<Vec<SemanticToken>> {
    let (file, classes) = classes(snapshot, uri)?;
    let db = &snapshot.db;
    let text = &file.source(db).text;
    let lines = line_index(db, file);
    let encoding = snapshot.encoding();
    let keyword = ty(&SemanticTokenType::KEYWORD);
    let function = ty(&SemanticTokenType::FUNCTION);
    let declaration_keyword = |word: &str| DeclKind::from_keyword(word).is_some();
    let functions = |word: &str| {
        Function::NAMES.iter().any(|(n, _)| *n == word)
            || Aggregation::NAMES.iter().any(|(n, _)| *n == word)
    };
    let mut out = Vec::new();
    let (mut line, mut column) = (0, 0);
    for (lexeme, span) in lex(text) {
        let word = text.get(span.start..span.end).unwrap_or("");
        let class = match lexeme {
            Lexeme::Comment => Some((ty(&SemanticTokenType::COMMENT), 0)),
            Lexeme::Number => Some((ty(&SemanticTokenType::NUMBER), 0)),
            Lexeme::Operator => Some((ty(&SemanticTokenType::OPERATOR), 0)),
            Lexeme::Str => Some(
                classes
                    .get(&span.start)
                    .copied()
                    .unwrap_or((ty(&SemanticTokenType::STRING), 0)),
            ),
            Lexeme::Word => classes.get(&span.start).copied().or_else(|| {
                if declaration_keyword(word) || KEYWORDS.contains(&word) {
                    Some((keyword, 0))
                } else if functions(word) {
                    Some((function, 0))
                } else {
                    None
                }
            }),
        };
        let Some((token_type, modifiers)) = class else {
            continue;
        };
        let start = lines.position(text, span.start, encoding);
        let end = lines.position(text, span.end, encoding);
        if end.line != start.line || end.character <= start.character {
            continue;
        }
        let delta_line = start.line - line;
        let delta_start = if delta_line == 0 {
            start.character - column
        } else {
            start.character
        };
        out.push(SemanticToken {
            delta_line,
            delta_start,
            length: end.character - start.character,
            token_type,
            token_modifiers_bitset: modifiers,
        });
        (line, column) = (start.line, start.character);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexemes_cover_strings_comments_numbers_and_words() {
        let text = "metric m { quantity ceil(host.cores * 0.5) } // note\n\"a \\\" b\"";
        let kinds: Vec<(Lexeme, &str)> = lex(text)
            .into_iter()
            .map(|(k, s)| (k, &text[s.start..s.end]))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (Lexeme::Word, "metric"),
                (Lexeme::Word, "m"),
                (Lexeme::Word, "quantity"),
                (Lexeme::Word, "ceil"),
                (Lexeme::Word, "host.cores"),
                (Lexeme::Operator, "*"),
                (Lexeme::Number, "0.5"),
                (Lexeme::Comment, "// note"),
                (Lexeme::Str, "\"a \\\" b\""),
            ]
        );
    }
}
