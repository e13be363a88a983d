//! Go to definition, find references and rename, across every pack of the workspace (the
//! standard packs included, read-only).
//!
//! What a name stands for is decided as the compiler decides it: a reference names a
//! declaration of one of the kinds its field expects, and `extend` and `override` name the
//! declaration they change. The occurrences of a declaration are its own name, the names of
//! its `extend`s and `override`s, and every reference that resolves to it.

use std::collections::{BTreeMap, BTreeSet};

use tally_compiler::diagnostics::Span;
use tally_compiler::syntax::ast::DeclKind;
use tally_runtime::db::RuleFile;
use tower_lsp_server::ls_types::{Location, Position, Range, TextEdit, Uri, WorkspaceEdit};

use crate::codes;
use crate::diagnostics::line_index;
use crate::index::{Definition, definitions, file_index, resolve};
use crate::requests::RequestError;
use crate::state::Snapshot;

/// The declaration a cursor is on, by its name and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub kind: DeclKind,
}

/// What is under the cursor: a declaration's name or a reference, with its span.
pub struct Found {
    pub file: RuleFile,
    pub span: Span,
    /// The declarations it stands for, plain ones first (empty for an unknown name).
    pub definitions: Vec<Definition>,
}

/// The byte offset of a position in a file.
pub fn offset(snapshot: &Snapshot, file: RuleFile, position: Position) -> usize {
    let text = &file.source(&snapshot.db).text;
    line_index(&snapshot.db, file).offset(text, position, snapshot.encoding())
}

pub fn range(snapshot: &Snapshot, file: RuleFile, span: Span) -> Range {
    let text = &file.source(&snapshot.db).text;
    line_index(&snapshot.db, file).range(text, span, snapshot.encoding())
}

pub fn location(snapshot: &Snapshot, file: RuleFile, span: Span) -> Option<Location> {
    let uri = snapshot.files.uri_of(&file.source(&snapshot.db).path)?;
    Some(Location::new(uri.clone(), range(snapshot, file, span)))
}

/// The declaration name or reference at a position of a document.
pub fn find(snapshot: &Snapshot, uri: &Uri, position: Position) -> Option<Found> {
    let (file, _) = snapshot.file_of(uri)?;
    let at = offset(snapshot, file, position);
    let index = file_index(&snapshot.db, file);
    let all = definitions(&snapshot.db, snapshot.rules);
    if let Some(symbol) = index.symbol_at(at) {
        let mut found: Vec<Definition> = resolve(all, &symbol.name, &[symbol.kind])
            .into_iter()
            .cloned()
            .collect();
        if found.is_empty() {
            found.push(Definition {
                file,
                kind: symbol.kind,
                modifier: symbol.modifier,
                name_span: symbol.name_span,
                span: symbol.span,
            });
        }
        return Some(Found {
            file,
            span: symbol.name_span,
            definitions: found,
        });
    }
    let reference = index.reference_at(at)?;
    Some(Found {
        file,
        span: reference.span,
        definitions: resolve(all, &reference.name, reference.kinds)
            .into_iter()
            .cloned()
            .collect(),
    })
}

/// Where the name at a position is declared: the plain declaration (the one an `extend` or
/// `override` changes), or, when there is none, the `extend`s and `override`s.
pub fn definition(snapshot: &Snapshot, uri: &Uri, position: Position) -> Vec<Location> {
    let Some(found) = find(snapshot, uri, position) else {
        return Vec::new();
    };
    let plain: Vec<&Definition> = found
        .definitions
        .iter()
        .filter(|d| d.modifier.is_none())
        .collect();
    let chosen: Vec<&Definition> = if plain.is_empty() {
        found.definitions.iter().collect()
    } else {
        plain
    };
    chosen
        .into_iter()
        .filter_map(|d| location(snapshot, d.file, d.name_span))
        .collect()
}

/// The declaration a position stands for.
pub fn target(snapshot: &Snapshot, uri: &Uri, position: Position) -> Option<(Found, Target)> {
    let found = find(snapshot, uri, position)?;
    let first = found.definitions.first()?;
    let (file, span) = (first.file, first.name_span);
    let name = file_index(&snapshot.db, file)
        .symbols
        .iter()
        .find(|s| s.name_span == span)?
        .name
        .clone();
    let kind = first.kind;
    Some((found, Target { name, kind }))
}

/// Every place that names a declaration, by file and span, sorted; with `declarations`, the
/// declarations (plain, `extend` and `override`) too.
pub fn occurrences(
    snapshot: &Snapshot,
    target: &Target,
    declarations: bool,
) -> BTreeMap<String, (RuleFile, BTreeSet<Span>)> {
    let db = &snapshot.db;
    let mut found: BTreeMap<String, (RuleFile, BTreeSet<Span>)> = BTreeMap::new();
    for file in snapshot.rules.files(db) {
        let index = file_index(db, *file);
        let mut spans = BTreeSet::new();
        for reference in &index.references {
            if reference.name == target.name && reference.kinds.contains(&target.kind) {
                spans.insert(reference.span);
            }
        }
        for symbol in &index.symbols {
            if symbol.name == target.name && symbol.kind == target.kind {
                if declarations {
                    spans.insert(symbol.name_span);
                } else {
                    spans.remove(&symbol.name_span);
                }
            }
        }
        if !spans.is_empty() {
            found.insert(file.source(db).path.clone(), (*file, spans));
        }
    }
    found
}

pub fn references(
    snapshot: &Snapshot,
    uri: &Uri,
    position: Position,
    declarations: bool,
) -> Vec<Location> {
    let Some((_, target)) = target(snapshot, uri, position) else {
        return Vec::new();
    };
    occurrences(snapshot, &target, declarations)
        .into_values()
        .flat_map(|(file, spans)| {
            spans
                .into_iter()
                .filter_map(move |span| location(snapshot, file, span))
        })
        .collect()
}

/// Whether a new name is one the language reads as a declaration name: a letter or `_`,
/// then letters, digits, `_` and `.`, with no empty segment.
fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && !name.ends_with('.')
        && !name.contains("..")
}

/// The range to rename at a position, and the name there; refused for the standard packs'
/// declarations and for the kinds named by strings.
pub fn prepare_rename(
    snapshot: &Snapshot,
    uri: &Uri,
    position: Position,
) -> Result<Option<(Range, String)>, RequestError> {
    let Some((found, target)) = target(snapshot, uri, position) else {
        return Ok(None);
    };
    check_renamable(snapshot, &target)?;
    Ok(Some((range(snapshot, found.file, found.span), target.name)))
}

fn check_renamable(snapshot: &Snapshot, target: &Target) -> Result<(), RequestError> {
    if target.kind.named_by_string() {
        return Err(RequestError::new(
            codes::RENAME_INVALID,
            format!(
                "{} `{}` is named by a string; edit the string instead of renaming",
                target.kind.keyword(),
                target.name
            ),
        ));
    }
    let db = &snapshot.db;
    let read_only = occurrences(snapshot, target, true)
        .into_iter()
        .find(|(path, _)| snapshot.files.read_only(path));
    if let Some((path, (file, spans))) = read_only {
        let (line, column) = spans
            .first()
            .map_or((1, 1), |s| file.source(db).line_col(s.start));
        return Err(RequestError::new(
            codes::RENAME_READ_ONLY,
            format!(
                "cannot rename {} `{}`: the standard packs name it ({path}:{line}:{column}), and they are read-only",
                target.kind.keyword(),
                target.name
            ),
        ));
    }
    Ok(())
}

/// The edits that rename the declaration at a position, in every file that names it.
pub fn rename(
    snapshot: &Snapshot,
    uri: &Uri,
    position: Position,
    new_name: &str,
) -> Result<Option<WorkspaceEdit>, RequestError> {
    let Some((_, target)) = target(snapshot, uri, position) else {
        return Ok(None);
    };
    check_renamable(snapshot, &target)?;
    if !is_name(new_name) {
        return Err(RequestError::new(
            codes::RENAME_INVALID,
            format!(
                "`{new_name}` is not a name: write a letter or `_`, then letters, digits, `_` and `.`"
            ),
        ));
    }
    if new_name != target.name {
        let all = definitions(&snapshot.db, snapshot.rules);
        if let Some(taken) = resolve(all, new_name, target.kind.namespace()).first() {
            let source = taken.file.source(&snapshot.db);
            let (line, column) = source.line_col(taken.name_span.start);
            return Err(RequestError::new(
                codes::RENAME_INVALID,
                format!(
                    "cannot rename {} `{}` to `{new_name}`: {} `{new_name}` is declared at {}:{line}:{column}",
                    target.kind.keyword(),
                    target.name,
                    taken.kind.keyword(),
                    source.path
                ),
            ));
        }
    }
    let mut changes = std::collections::HashMap::new();
    for (path, (file, spans)) in occurrences(snapshot, &target, true) {
        let Some(uri) = snapshot.files.uri_of(&path) else {
            continue;
        };
        let edits: Vec<TextEdit> = spans
            .into_iter()
            .map(|span| TextEdit::new(range(snapshot, file, span), new_name.to_string()))
            .collect();
        changes.insert(uri.clone(), edits);
    }
    Ok(Some(WorkspaceEdit::new(changes)))
}

#[cfg(test)]
mod tests {
    use super::is_name;

    #[test]
    fn names_follow_the_language() {
        assert!(is_name("acme.writer_2"));
        assert!(is_name("_x"));
        assert!(!is_name("2acme"));
        assert!(!is_name("acme."));
        assert!(!is_name("a..b"));
        assert!(!is_name("acme writer"));
        assert!(!is_name(""));
    }
}
