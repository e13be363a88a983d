//! T0403 `unrecognizable-application`: an application that nothing can recognise. It has no
//! `recognize` rule, or only rules with `existence ignore` (which link evidence but never
//! recognise), and it is neither a suite (recognised through its members) nor a suite's
//! member (recognised with the suite). No inventory can ever make an installation of it.
//!
//! This was `check`'s warning T0109; it is a lint so that an application declared on purpose
//! as the base of a `rights`, or for a `given application` test, can say so with
//! `// tally:allow(T0403)`.

use std::collections::BTreeSet;

use tally_compiler::diagnostics::Diagnostic;
use tally_compiler::ir::Existence;
use tally_compiler::syntax::ast::DeclKind;

use super::{Context, codes};

pub(super) fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let pack = cx.pack();
    let members: BTreeSet<&str> = pack
        .applications
        .values()
        .flat_map(|a| a.members.iter().map(String::as_str))
        .collect();
    for (file, decl) in cx.linted_decls() {
        if decl.kind != DeclKind::Application {
            continue;
        }
        let Some(app) = pack.applications.get(&decl.name.value) else {
            continue;
        };
        if !app.members.is_empty() || members.contains(app.id.as_str()) {
            continue;
        }
        if app.rules.iter().any(|r| r.existence != Existence::Ignore) {
            continue;
        }
        let (message, label) = if app.rules.is_empty() {
            (
                format!("application `{}` has no recognition rule", app.id),
                "never recognised",
            )
        } else {
            (
                format!(
                    "application `{}` has only `existence ignore` rules, which never recognise it",
                    app.id
                ),
                "never recognised",
            )
        };
        out.push(
            Diagnostic::error(
                codes::UNRECOGNIZABLE_APPLICATION,
                &file.source,
                Some(decl.name.span),
                message,
            )
            .with_label(label)
            .with_help(
                "add `recognize installer { name like \"…\" }` so inventory can find it, or make it a member of a suite",
            ),
        );
    }
}
