//! T0405 `sku-covers-nothing`: a SKU whose license template covers nothing. A SKU maps a part
//! number to a license template — a metric and the `rights` or `bundle` that say what the
//! license covers. (A SKU without `metric` or `rights` is already an error, T0105.) When those
//! rights cover no application any loaded pack declares — they name only products no
//! application belongs to — a license bought by this SKU can never consume, and its
//! entitlements show as unused however much of the product is installed.

use tally_compiler::diagnostics::Diagnostic;
use tally_compiler::ir::RightsKind;
use tally_compiler::syntax::ast::{DeclKind, Value};

use super::{Context, codes};

pub(super) fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let pack = cx.pack();
    for (file, decl) in cx.linted_decls() {
        if decl.kind != DeclKind::Sku {
            continue;
        }
        let Some(sku) = pack.skus.get(&decl.name.value) else {
            continue;
        };
        if pack
            .applications
            .keys()
            .any(|app| pack.covers(&sku.rights, app).is_some())
        {
            continue;
        }
        let Some(rights) = decl.fields.iter().find_map(|f| match &f.value {
            Value::Ref(r) if f.key == "rights" => Some(r),
            _ => None,
        }) else {
            continue;
        };
        let (kind, verb) = match pack.rights.get(&sku.rights).map(|r| r.kind) {
            Some(RightsKind::Bundle) => ("bundle", "covers"),
            _ => ("rights", "cover"),
        };
        let mut diagnostic = Diagnostic::error(
            codes::SKU_COVERS_NOTHING,
            &file.source,
            Some(rights.span),
            format!(
                "sku `{}` grants {kind} `{}`, which {verb} no declared application, so its licenses never consume",
                sku.id, sku.rights
            ),
        )
        .with_label("covers no application")
        .with_help(format!(
            "declare the applications of the products `{}` covers, or grant rights that cover them",
            sku.rights
        ));
        let declared = cx.files.iter().find_map(|(f, _)| {
            f.decls
                .iter()
                .find(|d| {
                    matches!(d.kind, DeclKind::Rights | DeclKind::Bundle)
                        && d.modifier.is_none()
                        && d.name.value == sku.rights
                })
                .map(|d| (f, d))
        });
        if let Some((f, d)) = declared {
            diagnostic = diagnostic.with_related(&f.source, d.name.span, "declared here");
        }
        out.push(diagnostic);
    }
}
