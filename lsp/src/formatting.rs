//! Formatting: the document laid out as `tally fmt` lays it out, answered as one edit that
//! replaces the whole text. A document that does not parse, a standard pack (read-only), or a
//! document already formatted gets no edit.

use tally_compiler::diagnostics::Span;
use tally_compiler::format::format_source;
use tower_lsp_server::ls_types::{Position, Range, TextEdit, Uri};

use crate::navigation::range;
use crate::state::Snapshot;

pub fn format(snapshot: &Snapshot, uri: &Uri) -> Option<Vec<TextEdit>> {
    let (file, path) = snapshot.file_of(uri)?;
    if snapshot.files.read_only(path) {
        return None;
    }
    let text = &file.source(&snapshot.db).text;
    let formatted = format_source(path, text).ok()?;
    if formatted == *text {
        return Some(Vec::new());
    }
    let end = range(snapshot, file, Span::new(text.len(), text.len())).end;
    Some(vec![TextEdit {
        range: Range::new(Position::new(0, 0), end),
        new_text: formatted,
    }])
}
