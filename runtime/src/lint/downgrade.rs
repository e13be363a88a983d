//! T0407 `downgrade-without-version`: a `downgrade` or `upgrade` right with no version to
//! count from. Such a right reaches the other versions of its base application's product; it
//! does nothing for a member that is
//!
//! - an application without a version, or with one that cannot be ordered (the product lists
//!   no `versions` and it is not a number, as "Plan 2"): only that application is covered;
//! - a product without `edition`: every version of it is covered already.
//!
//! (`check` warns, T0118, about the other applications of a product that such a right cannot
//! place; this lint is about the right's own base.)

use tally_compiler::diagnostics::Diagnostic;
use tally_compiler::ir::{CompiledPack, is_numeric_version};
use tally_compiler::syntax::ast::{DeclKind, Spanned, Value};

use super::{Context, codes};

pub(super) fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let pack = cx.pack();
    for (file, decl) in cx.linted_decls() {
        if !matches!(decl.kind, DeclKind::Rights | DeclKind::Bundle) {
            continue;
        }
        let Some(flag) = decl
            .fields
            .iter()
            .find(|f| matches!(f.key, "downgrade" | "upgrade"))
        else {
            continue;
        };
        let right = flag.key;
        let mut members: Vec<(&Spanned<String>, bool)> = Vec::new();
        for field in &decl.fields {
            match &field.value {
                Value::Covers { target, edition } => members.push((target, edition.is_some())),
                Value::RefList(list) => members.extend(list.iter().map(|t| (t, false))),
                _ => {}
            }
        }
        for (target, edition) in members {
            let Some(why) = reaches_nothing(pack, &target.value, edition) else {
                continue;
            };
            let (message, help) = match why {
                Why::NoVersion => (
                    format!(
                        "`{right}` reaches no other version from application `{}`, which has no version",
                        target.value
                    ),
                    format!(
                        "give `{}` its version, or drop `{right}` if only this application is meant",
                        target.value
                    ),
                ),
                Why::Unordered(version) => (
                    format!(
                        "`{right}` reaches no other version from application `{}`, whose version `{version}` cannot be ordered",
                        target.value
                    ),
                    "list the product's versions in order (`versions \"…\", \"…\"`) including this one, or drop the right if only this application is meant"
                        .to_owned(),
                ),
                Why::WholeProduct => (
                    format!(
                        "`{right}` adds nothing to product `{}`: covering a product covers every version of it",
                        target.value
                    ),
                    format!(
                        "name an edition (`covers {} edition \"…\"`) for the right to reach lesser editions, cover an application to count versions from, or drop `{right}`",
                        target.value
                    ),
                ),
            };
            out.push(
                Diagnostic::error(
                    codes::DOWNGRADE_WITHOUT_VERSION,
                    &file.source,
                    Some(target.span),
                    message,
                )
                .with_label("no version to count from")
                .with_help(help)
                .with_related(
                    &file.source,
                    flag.key_span,
                    format!("the {right} right"),
                ),
            );
        }
    }
}

/// Why a right reaches nothing from a member.
enum Why {
    NoVersion,
    Unordered(String),
    WholeProduct,
}

/// Why a downgrade or upgrade right reaches nothing from the member `target`, if it does not.
fn reaches_nothing(pack: &CompiledPack, target: &str, edition: bool) -> Option<Why> {
    if pack.products.contains_key(target) {
        return (!edition).then_some(Why::WholeProduct);
    }
    let app = pack.applications.get(target)?;
    let product = pack.products.get(&app.product)?;
    let Some(version) = &app.version else {
        return Some(Why::NoVersion);
    };
    let ordered = if product.versions.is_empty() {
        is_numeric_version(version)
    } else {
        // A version the list lacks is T0121, an error of its own.
        true
    };
    (!ordered).then(|| Why::Unordered(version.clone()))
}
