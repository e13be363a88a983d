//! T0406 `shadowed-table-row`: a table row that never applies. Rows are tried in order and
//! the first whose keys all match wins, so a row is dead when one earlier row matches every
//! key it matches: for each column, the earlier key is `_`, or a pattern that takes in this
//! row's pattern (`"%Xeon%"` takes in `"%Xeon Platinum%"`), or a range that holds this row's
//! range. The usual cause is a general row written above a specific one.

use tally_compiler::diagnostics::Diagnostic;
use tally_compiler::ir::{Key, Row};
use tally_compiler::syntax::ast::{DeclKind, Value};

use super::patterns::{Tokens, range_covers};
use super::{Context, codes};

pub(super) fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let pack = cx.pack();
    for (file, decl) in cx.linted_decls() {
        if decl.kind != DeclKind::Table {
            continue;
        }
        let Some(table) = pack.tables.get(&decl.name.value) else {
            continue;
        };
        let written: Vec<_> = decl
            .fields
            .iter()
            .filter(|f| f.key == "row" && matches!(f.value, Value::Row { .. }))
            .collect();
        if written.len() != table.rows.len() {
            continue;
        }
        for (i, row) in table.rows.iter().enumerate() {
            let earlier = table
                .rows
                .iter()
                .take(i)
                .position(|first| row_covers(first, row));
            let (Some(j), Some(here)) = (earlier, written.get(i)) else {
                continue;
            };
            let Some(first) = written.get(j) else {
                continue;
            };
            let (line, _) = file.source.line_col(first.span.start);
            out.push(
                Diagnostic::error(
                    codes::SHADOWED_TABLE_ROW,
                    &file.source,
                    Some(here.span),
                    format!(
                        "this row of table `{}` is never used: the row on line {line} matches all it matches",
                        table.id
                    ),
                )
                .with_label("never used")
                .with_help(
                    "rows are tried in order and the first match wins: move this row above the general one, or remove it",
                )
                .with_related(&file.source, first.span, "matches first"),
            );
        }
    }
}

/// Whether every lookup `row` matches is matched by `first` too.
fn row_covers(first: &Row, row: &Row) -> bool {
    first.keys.len() == row.keys.len()
        && first
            .keys
            .iter()
            .zip(&row.keys)
            .all(|(outer, inner)| key_covers(outer, inner))
}

fn key_covers(outer: &Key, inner: &Key) -> bool {
    match (outer, inner) {
        (Key::Any, _) => true,
        (_, Key::Any) => false,
        (Key::Text(g), Key::Text(s)) => Tokens::like(g).covers(&Tokens::like(s)),
        (Key::Number { min, max }, Key::Number { min: lo, max: hi }) => {
            range_covers((min.as_ref(), max.as_ref()), (lo.as_ref(), hi.as_ref()))
        }
        (Key::Date { min, max }, Key::Date { min: lo, max: hi }) => {
            range_covers((min.as_ref(), max.as_ref()), (lo.as_ref(), hi.as_ref()))
        }
        _ => false,
    }
}
