//! Overlapping recognition in an estate as findings (T0119): rows that rules of two installed
//! applications match (`recognize`), each naming both rules' locations. Rules that can match
//! one row before any estate is read are the lint T0401 (see [`crate::lint`]).

use std::collections::BTreeMap;

use tally_compiler::Compiled;
use tally_compiler::diagnostics::{Diagnostic, codes};

use crate::recognize::{DeviceView, RuleRef};

/// The rows of an estate linked to two installations, one finding per pair of rules with the
/// first row and the number of others.
pub fn in_estate(compiled: &Compiled, recognition: &[DeviceView<'_>]) -> Vec<Diagnostic> {
    let mut pairs: BTreeMap<(&RuleRef, &RuleRef), (usize, &str, usize)> = BTreeMap::new();
    for view in recognition {
        for overlap in &view.recognition.overlaps {
            // The row is named by its `evidence.csv` line.
            let line = view.row(overlap.evidence).map_or(0, |e| e.line);
            pairs
                .entry((&overlap.first, &overlap.second))
                .and_modify(|(_, _, more)| *more += 1)
                .or_insert((line, view.device.id.as_str(), 0));
        }
    }
    pairs
        .into_iter()
        .filter_map(|((a, b), (line, device, more))| {
            let others = match more {
                0 => String::new(),
                1 => " (and 1 more row)".to_string(),
                n => format!(" (and {n} more rows)"),
            };
            finding(
                compiled,
                a,
                b,
                format!(
                    "evidence.csv line {line} (device {device}) is recognised as both `{}` and `{}`{others}",
                    a.owner, b.owner
                ),
            )
        })
        .collect()
}

fn finding(compiled: &Compiled, a: &RuleRef, b: &RuleRef, message: String) -> Option<Diagnostic> {
    let (source, span) = compiled.rule_sites.get(&(a.owner.clone(), a.index))?;
    let (other_source, other_span) = compiled.rule_sites.get(&(b.owner.clone(), b.index))?;
    Some(
        Diagnostic::error(codes::OVERLAPPING_RULES, source, Some(*span), message)
            .warning()
            .with_label(format!("rule of `{}`", a.owner))
            .with_help(
                "narrow one pattern (add a version or publisher, drop a `%`), or make one application a suite member of the other",
            )
            .with_related(other_source, *other_span, format!("rule of `{}`", b.owner)),
    )
}
