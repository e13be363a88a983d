//! Inline suppressions: a comment `// tally:allow(T0401)` — or with the lint's name,
//! `// tally:allow(overlapping-recognition)`, several separated by commas, and any reason after
//! the closing bracket — silences the named lints on one declaration or field:
//!
//! - on a line of its own, the one that starts on the next line that is not blank or a
//!   comment (so it may stand among the doc comments above a declaration);
//! - at the end of a line, the outermost one that starts on that line, or else the innermost
//!   one the comment is inside.
//!
//! A finding is silenced when the suppression's declaration or field holds where it points —
//! its primary place, or one of its related places (the other rule of an overlap). A name that
//! is no lint is an error (T0317); a suppression that silenced nothing is a warning (T0318).

use std::sync::Arc;

use tally_compiler::diagnostics::{Diagnostic, SourceFile, Span};
use tally_compiler::syntax::ParsedFile;
use tally_compiler::syntax::ast::{Field, Value};

use super::{Lint, codes};

/// The opening of a suppression, after `//`.
const MARKER: &str = "tally:allow(";

/// One `tally:allow(…)` comment.
struct Suppression {
    source: Arc<SourceFile>,
    /// The lints it names, each with where its name is written and whether it silenced
    /// something.
    names: Vec<(&'static Lint, Span, bool)>,
    /// The declaration or field it applies to.
    scope: Option<Span>,
}

/// The suppressions of the linted files.
pub(super) struct Suppressions {
    list: Vec<Suppression>,
    errors: Vec<Diagnostic>,
}

impl Suppressions {
    pub fn new<'a>(files: impl Iterator<Item = &'a ParsedFile>) -> Self {
        let mut out = Self {
            list: Vec::new(),
            errors: Vec::new(),
        };
        for file in files {
            let items = items(file);
            for comment in &file.comments {
                out.read(file, &items, comment.span, &comment.text);
            }
        }
        out
    }

    /// The diagnostics about names that are no lint.
    pub fn take_errors(&mut self) -> Vec<Diagnostic> {
        std::mem::take(&mut self.errors)
    }

    fn read(&mut self, file: &ParsedFile, items: &[Span], at: Span, text: &str) {
        let body = text.trim_start_matches('/');
        let lead = body.len() - body.trim_start().len();
        let Some(rest) = body.trim_start().strip_prefix(MARKER) else {
            return;
        };
        let source = &file.source;
        // Where the names start in the file.
        let names_start = at.start + (text.len() - body.len()) + lead + MARKER.len();
        let Some(close) = rest.find(')') else {
            self.errors.push(
                Diagnostic::error(
                    codes::UNKNOWN_SUPPRESSION,
                    source,
                    Some(at),
                    "this `tally:allow` comment has no closing `)`",
                )
                .with_label("unclosed")
                .with_help("write the lints to allow as `// tally:allow(T0401)`"),
            );
            return;
        };
        let mut names = Vec::new();
        let mut offset = 0;
        let list = rest.get(..close).unwrap_or_default();
        for part in list.split(',') {
            let name = part.trim();
            let start = names_start + offset + (part.len() - part.trim_start().len());
            offset += part.len() + 1;
            let span = Span::new(start, start + name.len());
            match super::find(name) {
                Some(lint) => names.push((lint, span, false)),
                None => {
                    let near = super::closest(name)
                        .map(|n| format!("did you mean `{n}`? "))
                        .unwrap_or_default();
                    let message = if name.is_empty() {
                        "this `tally:allow` comment names no lint".to_owned()
                    } else {
                        format!("`{name}` in `tally:allow` is not a lint")
                    };
                    let mut diagnostic = Diagnostic::error(
                        codes::UNKNOWN_SUPPRESSION,
                        source,
                        Some(if name.is_empty() { at } else { span }),
                        message,
                    )
                    .with_label("not a lint code or name")
                    .with_help(format!(
                        "{near}name lints by code or name, such as `T0401` or `overlapping-recognition`; docs/lints.md lists them"
                    ));
                    diagnostic.suggestion = super::closest(name).map(str::to_owned);
                    self.errors.push(diagnostic);
                }
            }
        }
        if names.is_empty() {
            return;
        }
        self.list.push(Suppression {
            source: Arc::clone(source),
            names,
            scope: scope(source, items, at),
        });
    }

    /// Whether a suppression silences `lint` where `diagnostic` points; marks it used.
    pub fn silences(&mut self, lint: &Lint, diagnostic: &Diagnostic) -> bool {
        let places = diagnostic
            .span
            .map(|s| (&diagnostic.source, s))
            .into_iter()
            .chain(diagnostic.related.iter().map(|r| (&r.source, r.span)));
        for (source, span) in places {
            for suppression in &mut self.list {
                let Some(scope) = suppression.scope else {
                    continue;
                };
                if suppression.source.path != source.path
                    || !(scope.start <= span.start && span.start < scope.end.max(scope.start + 1))
                {
                    continue;
                }
                if let Some(name) = suppression
                    .names
                    .iter_mut()
                    .find(|(l, _, _)| l.code == lint.code)
                {
                    name.2 = true;
                    return true;
                }
            }
        }
        false
    }

    /// A warning for each name that silenced nothing, among the lints `reported` says are on
    /// in the file.
    pub fn unused(&self, reported: impl Fn(&str, &Lint) -> bool) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for suppression in &self.list {
            for (lint, span, used) in &suppression.names {
                if *used || !reported(&suppression.source.path, lint) {
                    continue;
                }
                let message = match suppression.scope {
                    Some(_) => format!("`tally:allow({})` silences nothing here", lint.code),
                    None => format!(
                        "`tally:allow({})` stands above no declaration or field",
                        lint.code
                    ),
                };
                out.push(
                    Diagnostic::error(
                        codes::UNUSED_SUPPRESSION,
                        &suppression.source,
                        Some(*span),
                        message,
                    )
                    .warning()
                    .with_label(format!("no `{}` finding here", lint.name))
                    .with_help(
                        "remove it, or put it on the line above the declaration or field the finding points at",
                    ),
                );
            }
        }
        out
    }
}

/// The spans of every declaration and field of a file, nested ones included.
fn items(file: &ParsedFile) -> Vec<Span> {
    fn fields(list: &[Field], out: &mut Vec<Span>) {
        for field in list {
            out.push(field.span);
            match &field.value {
                Value::Block(inner) => fields(inner, out),
                Value::Sub { value, .. } => {
                    if let Value::Block(inner) = value.as_ref() {
                        fields(inner, out);
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    for decl in &file.decls {
        out.push(decl.span);
        fields(&decl.fields, &mut out);
    }
    out
}

/// The declaration or field a suppression comment at `at` applies to.
fn scope(source: &SourceFile, items: &[Span], at: Span) -> Option<Span> {
    let line = source.line_of(at.start);
    let before = source
        .text
        .get(source.line_start(line)..at.start)
        .unwrap_or_default();
    let outermost_on = |line: usize| {
        items
            .iter()
            .filter(|s| source.line_of(s.start) == line)
            .min_by_key(|s| (s.start, std::cmp::Reverse(s.end)))
            .copied()
    };
    if !before.trim().is_empty() {
        // At the end of a line.
        return outermost_on(line).or_else(|| {
            items
                .iter()
                .filter(|s| s.start <= at.start && at.start < s.end)
                .min_by_key(|s| s.end - s.start)
                .copied()
        });
    }
    let next = (line + 1..source.line_count()).find(|l| {
        let text = source
            .text
            .get(source.line_start(*l)..source.line_end(*l))
            .unwrap_or_default()
            .trim();
        !text.is_empty() && !text.starts_with("//")
    })?;
    outermost_on(next)
}

#[cfg(test)]
mod tests {
    use tally_compiler::SourceFile;
    use tally_compiler::diagnostics::{Code, Diagnostic, Span};
    use tally_compiler::syntax::parse_file;

    use super::*;

    fn finding(source: &Arc<SourceFile>, at: &str) -> Diagnostic {
        let start = source.text.find(at).unwrap_or_default();
        Diagnostic::error(
            codes::OVERLAPPING_RECOGNITION,
            source,
            Some(Span::new(start, start + at.len())),
            "overlap",
        )
    }

    const TEXT: &str = r#"publisher acme { name "Acme" }
// tally:allow(T0401) the viewer ships with Studio
/// Studio.
application acme.studio {
    product acme.studio
    recognize installer { name "Acme Studio" }
}
application acme.studio_pro {
    product acme.studio
    recognize installer { name "Acme Studio Pro" } // tally:allow(overlapping-recognition)
    // tally:allow(T0402)
    recognize installer { name "Acme Studio Lite" }
}
application acme.viewer { product acme.viewer } // tally:allow(T0499, unmatchable-rul)
"#;

    #[test]
    fn a_suppression_covers_the_item_below_or_beside_it() {
        let source = SourceFile::new("acme.tally", TEXT);
        let parsed = parse_file(Arc::clone(&source));
        let mut suppressions = Suppressions::new(std::iter::once(&parsed));
        let errors: Vec<(Code, String)> = suppressions
            .take_errors()
            .into_iter()
            .map(|d| (d.code, d.message))
            .collect();
        assert_eq!(
            errors,
            vec![
                (
                    codes::UNKNOWN_SUPPRESSION,
                    "`T0499` in `tally:allow` is not a lint".to_owned()
                ),
                (
                    codes::UNKNOWN_SUPPRESSION,
                    "`unmatchable-rul` in `tally:allow` is not a lint".to_owned()
                ),
            ]
        );
        let overlap = super::super::find("T0401");
        let unmatchable = super::super::find("T0402");
        let (Some(overlap), Some(unmatchable)) = (overlap, unmatchable) else {
            return;
        };
        // The comment above the doc comment covers the whole declaration.
        assert!(suppressions.silences(overlap, &finding(&source, "\"Acme Studio\"")));
        // The trailing one covers its own line's rule.
        assert!(suppressions.silences(overlap, &finding(&source, "\"Acme Studio Pro\"")));
        // T0402 is allowed for the Lite rule only.
        let mut lite = finding(&source, "\"Acme Studio Lite\"");
        lite.code = codes::UNMATCHABLE_RULE;
        assert!(suppressions.silences(unmatchable, &lite));
        let mut pro = finding(&source, "\"Acme Studio Pro\"");
        pro.code = codes::UNMATCHABLE_RULE;
        assert!(!suppressions.silences(unmatchable, &pro));
        assert!(!suppressions.silences(overlap, &finding(&source, "acme.viewer")));
        assert!(suppressions.unused(|_, _| true).is_empty());
    }

    #[test]
    fn an_unused_suppression_is_reported() {
        let source = SourceFile::new("acme.tally", TEXT);
        let parsed = parse_file(Arc::clone(&source));
        let suppressions = Suppressions::new(std::iter::once(&parsed));
        let unused: Vec<(usize, usize)> = suppressions
            .unused(|_, _| true)
            .iter()
            .map(Diagnostic::line_col)
            .collect();
        assert_eq!(unused, vec![(2, 16), (10, 67), (11, 20)]);
        assert!(suppressions.unused(|_, _| false).is_empty());
    }
}
