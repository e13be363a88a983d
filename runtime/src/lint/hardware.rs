//! T0404 `hardware-not-provided`: a metric requires (or limits) hardware that its holder never
//! has, so the requirement is never checked. A holder's hardware comes from the estate
//! importer's `devices.csv` columns (`tally import` fills evidence, never hardware): a machine
//! holder (`counts device`, `host` or `cluster`) has every hardware word as a column, while a
//! user or the license as a whole has no hardware at all — reconciliation then skips
//! `requires` and `limit`, and installations on devices with unknown cores are not Rejected
//! as the author expected.

use std::sync::Arc;

use tally_compiler::SourceFile;
use tally_compiler::diagnostics::{Diagnostic, Span};
use tally_compiler::ir::Counts;
use tally_compiler::syntax::ast::{DeclKind, Value};

use super::{Context, codes};
use crate::estate::import::device_columns;

/// Whether a holder of `counts` has the hardware `word` (as `requires` spells it).
pub fn provided(counts: Counts, word: &str) -> bool {
    match counts {
        Counts::Device | Counts::Host | Counts::Cluster => device_columns().any(|c| c == word),
        Counts::User | Counts::License => false,
    }
}

pub(super) fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let pack = cx.pack();
    for (file, decl) in cx.linted_decls() {
        if decl.kind != DeclKind::Metric {
            continue;
        }
        let Some(metric) = pack.metrics.get(&decl.name.value) else {
            continue;
        };
        for field in &decl.fields {
            match (&field.value, field.key) {
                (Value::WordList(words), "requires") => {
                    for word in words {
                        if !provided(metric.counts, &word.value) {
                            let written = format!("requires {}", word.value);
                            out.push(finding(
                                &file.source,
                                &metric.id,
                                metric.counts,
                                word.span,
                                &written,
                                format!("remove `{}` from `requires`", word.value),
                            ));
                        }
                    }
                }
                (Value::Limit { what, .. }, "limit") if !provided(metric.counts, &what.value) => {
                    let written = file
                        .source
                        .text
                        .get(field.span.start..field.span.end)
                        .unwrap_or("limit")
                        .to_owned();
                    out.push(finding(
                        &file.source,
                        &metric.id,
                        metric.counts,
                        field.span,
                        &written,
                        "remove the `limit`".to_owned(),
                    ));
                }
                _ => {}
            }
        }
    }
}

fn finding(
    source: &Arc<SourceFile>,
    metric: &str,
    counts: Counts,
    span: Span,
    written: &str,
    or_else: String,
) -> Diagnostic {
    let holder = match counts {
        Counts::User => "users, which have no hardware",
        Counts::License => "the license as a whole, which has no hardware",
        Counts::Device | Counts::Host | Counts::Cluster => {
            "machines, whose inventory has no such hardware"
        }
    };
    Diagnostic::error(
        codes::HARDWARE_NOT_PROVIDED,
        source,
        Some(span),
        format!("metric `{metric}` counts {holder}: `{written}` is never checked"),
    )
    .with_label("never checked")
    .with_help(format!(
        "count a machine (`counts device`, `host` or `cluster`) to require its hardware, or {or_else}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_compiler::syntax::schema::HARDWARE;

    /// Every hardware word a metric can require is a `devices.csv` column, so machine holders
    /// have it; users and licenses have none.
    #[test]
    fn machines_have_every_hardware_word() {
        for word in HARDWARE {
            assert!(provided(Counts::Device, word), "{word}");
            assert!(provided(Counts::Cluster, word), "{word}");
            assert!(!provided(Counts::User, word), "{word}");
            assert!(!provided(Counts::License, word), "{word}");
        }
    }
}
