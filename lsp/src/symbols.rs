//! Document symbols (a file's declarations), workspace symbols (declarations of every pack by
//! name) and folding ranges (declarations, nested blocks and runs of comments).

use tally_compiler::syntax::ast::{DeclKind, Field, Modifier, Value};
use tally_runtime::db::parsed;
use tower_lsp_server::ls_types::{
    DocumentSymbol, FoldingRange, FoldingRangeKind, Location, SymbolInformation, SymbolKind, Uri,
};

use crate::index::{definitions, file_index};
use crate::navigation::range;
use crate::state::Snapshot;

/// How many symbols a workspace-symbol query returns at most.
pub const WORKSPACE_SYMBOL_LIMIT: usize = 256;

pub fn symbol_kind(kind: DeclKind) -> SymbolKind {
    match kind {
        DeclKind::Publisher => SymbolKind::NAMESPACE,
        DeclKind::Product => SymbolKind::PACKAGE,
        DeclKind::Application => SymbolKind::CLASS,
        DeclKind::Rights => SymbolKind::INTERFACE,
        DeclKind::Bundle => SymbolKind::STRUCT,
        DeclKind::Metric => SymbolKind::FUNCTION,
        DeclKind::Table => SymbolKind::ARRAY,
        DeclKind::Sku => SymbolKind::CONSTANT,
        DeclKind::Test => SymbolKind::EVENT,
        DeclKind::Ignore => SymbolKind::ENUM_MEMBER,
    }
}

/// `application`, `extend application`.
fn detail(kind: DeclKind, modifier: Option<Modifier>) -> String {
    match modifier {
        Some(m) => format!("{} {}", m.keyword(), kind.keyword()),
        None => kind.keyword().to_string(),
    }
}

/// The declarations of a document, in file order.
pub fn document_symbols(snapshot: &Snapshot, uri: &Uri) -> Option<Vec<DocumentSymbol>> {
    let (file, _) = snapshot.file_of(uri)?;
    let index = file_index(&snapshot.db, file);
    Some(
        index
            .symbols
            .iter()
            .map(|symbol| {
                #[allow(deprecated)]
                DocumentSymbol {
                    name: symbol.name.clone(),
                    detail: Some(detail(symbol.kind, symbol.modifier)),
                    kind: symbol_kind(symbol.kind),
                    tags: None,
                    deprecated: None,
                    range: range(snapshot, file, symbol.span),
                    selection_range: range(snapshot, file, symbol.name_span),
                    children: None,
                }
            })
            .collect(),
    )
}

/// Whether every character of the query appears in the name in order, ignoring case.
fn matches(name: &str, query: &str) -> bool {
    let mut name = name.chars().flat_map(char::to_lowercase);
    query
        .chars()
        .flat_map(char::to_lowercase)
        .all(|q| name.any(|c| c == q))
}

/// The declarations whose name matches the query: names containing it first, then those
/// holding its characters in order; the workspace's own before the standard packs'; at most
/// [`WORKSPACE_SYMBOL_LIMIT`].
pub fn workspace_symbols(snapshot: &Snapshot, query: &str) -> Vec<SymbolInformation> {
    let db = &snapshot.db;
    let lowered = query.to_lowercase();
    let mut found = Vec::new();
    for (name, defs) in definitions(db, snapshot.rules) {
        if !matches(name, query) {
            continue;
        }
        let exact = name.to_lowercase().contains(&lowered);
        for def in defs {
            let path = &def.file.source(db).path;
            let read_only = snapshot.files.read_only(path);
            found.push(((!exact, read_only, name, path), def));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
        .into_iter()
        .take(WORKSPACE_SYMBOL_LIMIT)
        .filter_map(|((_, _, name, path), def)| {
            let uri = snapshot.files.uri_of(path)?;
            #[allow(deprecated)]
            Some(SymbolInformation {
                name: name.clone(),
                kind: symbol_kind(def.kind),
                tags: None,
                deprecated: None,
                location: Location::new(uri.clone(), range(snapshot, def.file, def.name_span)),
                container_name: Some(detail(def.kind, def.modifier)),
            })
        })
        .collect()
}

/// Folding ranges: every declaration and nested block over more than one line, and every
/// run of two or more comment lines.
pub fn folding_ranges(snapshot: &Snapshot, uri: &Uri) -> Option<Vec<FoldingRange>> {
    let (file, _) = snapshot.file_of(uri)?;
    let parsed = parsed(&snapshot.db, file);
    let mut ranges = Vec::new();
    let mut fold = |start: usize, end: usize, kind: Option<FoldingRangeKind>| {
        let r = range(
            snapshot,
            file,
            tally_compiler::diagnostics::Span::new(start, end),
        );
        if r.end.line > r.start.line {
            ranges.push(FoldingRange {
                start_line: r.start.line,
                start_character: None,
                end_line: r.end.line,
                end_character: None,
                kind,
                collapsed_text: None,
            });
        }
    };
    for decl in &parsed.decls {
        fold(
            decl.span.start,
            decl.span.end,
            Some(FoldingRangeKind::Region),
        );
        blocks(&decl.fields, &mut |field: &Field| {
            fold(
                field.span.start,
                field.span.end,
                Some(FoldingRangeKind::Region),
            );
        });
    }
    // Runs of comments on consecutive lines.
    let source = file.source(&snapshot.db);
    let mut run: Option<(usize, usize, usize)> = None; // (start, end, last line)
    for comment in &parsed.comments {
        let line = source.line_of(comment.span.start);
        run = match run {
            Some((start, _, last)) if line == last + 1 => Some((start, comment.span.end, line)),
            Some((start, end, _)) => {
                fold(start, end, Some(FoldingRangeKind::Comment));
                Some((comment.span.start, comment.span.end, line))
            }
            None => Some((comment.span.start, comment.span.end, line)),
        };
    }
    if let Some((start, end, _)) = run {
        fold(start, end, Some(FoldingRangeKind::Comment));
    }
    ranges.sort_by_key(|r| (r.start_line, r.end_line));
    Some(ranges)
}

/// Calls `each` for every field whose value is a nested block, at any depth.
fn blocks(fields: &[Field], each: &mut dyn FnMut(&Field)) {
    for field in fields {
        let inner = match &field.value {
            Value::Block(inner) => Some(inner),
            Value::Sub { value, .. } => match value.as_ref() {
                Value::Block(inner) => Some(inner),
                _ => None,
            },
            _ => None,
        };
        if let Some(inner) = inner {
            each(field);
            blocks(inner, each);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn queries_match_characters_in_order() {
        assert!(matches("microsoft.visio.professional_2016", "visio"));
        assert!(matches("microsoft.visio.professional_2016", "MSvis"));
        assert!(!matches("microsoft.visio", "oiv"));
        assert!(matches("anything", ""));
    }
}
