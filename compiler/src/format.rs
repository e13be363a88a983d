//! The canonical layout of rule files: [`format_source`] is what `tally fmt` and the language
//! server's formatting call.
//!
//! The file is parsed and its syntax tree printed back in one style (see "Formatting" in
//! `docs/language.md`). What the tree does not hold is taken from the source:
//!
//! - every comment, placed by its offset among the tokens around it: a comment that shared a
//!   line with the token before it stays at the end of that line, any other is on a line of its
//!   own;
//! - literals as written: strings with their escapes, numbers with their digits (`1.50` stays
//!   `1.50`), dates and ranges;
//! - the author's line breaks inside a value, at the places a value may break (before a binary
//!   operator, `then`, `else`, `for` and `where`, after the comma of an argument or a list
//!   item), and whether a block was written on one line;
//! - the brackets in expressions (the tree marks an expression written in brackets), so the
//!   tokens print in the order written and the expression reads as it did;
//! - single blank lines between fields and between comments.
//!
//! What the formatter decides: indentation (four spaces a level), the spacing between tokens,
//! one field per line in a block that spans lines, one blank line between declarations, and
//! where continuation lines are indented. Before returning, the result is parsed again and
//! compared with the original tree and comments; if they differ (which would be a bug here),
//! the file is not formatted.
//!
//! [`expression_text`] prints an expression on one line the same way, for the formula that
//! explanations quote.

use crate::diagnostics::{Diagnostic, SourceFile, Span};
use crate::ir::{BinOp, UnOp};
use crate::syntax::ast::{
    Comment, Decl, ExpectAst, ExprAst, ExprKind, Field, KeyAst, RangeAst, Spanned, TargetAst, Value,
};
use crate::syntax::{ParsedFile, parse_rules};

/// The indentation of one block level, in spaces.
const INDENT: usize = 4;

/// Why a file was not formatted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatError {
    /// The file does not parse: its syntax errors (T0001, T0112). A file is only formatted
    /// once it parses.
    Syntax(Vec<Diagnostic>),
    /// The formatted text would not parse back to the same syntax tree and comments. This is a
    /// bug in the formatter; the file is left as it is.
    Unsafe,
}

/// The canonical text of a rule file, or why it cannot be formatted. `path` names the file in
/// diagnostics; the text is parsed as rules whatever its extension. Formatting is idempotent:
/// formatting the result again gives the result.
pub fn format_source(path: &str, text: &str) -> Result<String, FormatError> {
    let parsed = parse_rules(SourceFile::new(path, text));
    if !parsed.diagnostics.is_empty() {
        return Err(FormatError::Syntax(parsed.diagnostics));
    }
    let formatted = print(&parsed);
    let again = parse_rules(SourceFile::new(path, formatted.as_str()));
    if !same_file(&parsed, &again) {
        return Err(FormatError::Unsafe);
    }
    Ok(formatted)
}

/// Whether two parses hold the same declarations, positions aside, and the same comments.
fn same_file(a: &ParsedFile, b: &ParsedFile) -> bool {
    let texts = |p: &ParsedFile| {
        p.comments
            .iter()
            .map(|c| c.text.clone())
            .collect::<Vec<_>>()
    };
    b.diagnostics.is_empty()
        && texts(a) == texts(b)
        && a.decls.iter().map(unspanned::decl).collect::<Vec<_>>()
            == b.decls.iter().map(unspanned::decl).collect::<Vec<_>>()
}

/// Prints a parsed file (which must have no syntax errors) in the canonical layout.
fn print(parsed: &ParsedFile) -> String {
    let text = parsed.source.text.as_str();
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut printer = Printer::new(text, &parsed.comments, bom);
    for decl in &parsed.decls {
        printer.comments_before(decl.span.start, Place::Top);
        let blank = printer.after_decl || printer.blank_before(decl.span.start);
        printer.newline(0);
        printer.blank |= blank;
        printer.decl(decl);
        printer.after_decl = true;
    }
    printer.comments_before(usize::MAX, Place::Top);
    let mut out = printer.out;
    if !out.is_empty() {
        out.push('\n');
    }
    if crlf(text) {
        out = out.replace('\n', "\r\n");
    }
    out
}

/// An expression on one line, spaced as the formatter spaces it, without the comments inside
/// it and the brackets around it: how explanations quote a metric's formula, the same however the author laid the
/// expression out. `source` is the text the expression was parsed from.
pub fn expression_text(source: &str, e: &ExprAst) -> String {
    let mut printer = Printer::new(source, &[], e.span.start);
    printer.one_line = true;
    printer.expr_bare(e, None, 0);
    printer.out
}

/// Whether the file's first line ends in `\r\n`: its line ends are kept.
fn crlf(text: &str) -> bool {
    text.find('\n')
        .is_some_and(|nl| nl > 0 && text.as_bytes().get(nl - 1) == Some(&b'\r'))
}

/// Where comments are being placed, which decides their indentation and blank lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Between declarations: at column 0.
    Top,
    /// Between the fields of a block spanning lines: at the fields' indentation.
    Block,
    /// Inside a declaration's header or a field's value: where the value continues.
    Inline,
}

struct Printer<'a> {
    /// The source.
    text: &'a str,
    comments: &'a [Comment],
    /// The first comment not yet printed.
    next_comment: usize,
    out: String,
    /// Nothing has been written on the current line; it starts at `indent` when something is.
    line_empty: bool,
    /// The indentation of the current line.
    indent: usize,
    /// A blank line goes before the current line.
    blank: bool,
    /// The next token starts a new line at this indentation (an author's line break).
    pending_break: Option<usize>,
    /// A comment ended the current line, so the next token starts a new one.
    need_newline: bool,
    /// The source offset just past the last token or comment printed.
    last_end: usize,
    /// The indentation a line broken inside the current construct continues at.
    cont: usize,
    /// Nothing has been printed in the current block since its `{`.
    block_start: bool,
    /// The last thing printed at the top level was a declaration.
    after_decl: bool,
    /// The author's line breaks are not kept: everything goes on one line.
    one_line: bool,
}

impl<'a> Printer<'a> {
    /// A printer of `text`, whose printing starts at offset `start`.
    fn new(text: &'a str, comments: &'a [Comment], start: usize) -> Self {
        Printer {
            text,
            comments,
            next_comment: 0,
            out: String::with_capacity(text.len() + text.len() / 8),
            line_empty: true,
            indent: 0,
            blank: false,
            pending_break: None,
            need_newline: false,
            last_end: start,
            cont: INDENT,
            block_start: false,
            after_decl: false,
            one_line: false,
        }
    }

    // ---- output ----------------------------------------------------------------------------

    /// Writes `s`, after `spaces` spaces unless it starts the line.
    fn write(&mut self, s: &str, spaces: usize) {
        if self.line_empty {
            if !self.out.is_empty() {
                self.out.push('\n');
                if self.blank {
                    self.out.push('\n');
                }
            }
            self.blank = false;
            self.out.extend(std::iter::repeat_n(' ', self.indent));
            self.line_empty = false;
        } else {
            self.out.extend(std::iter::repeat_n(' ', spaces));
        }
        self.out.push_str(s);
    }

    /// Ends the current line (if anything is on it); the next starts at `indent`.
    fn newline(&mut self, indent: usize) {
        if !self.line_empty {
            self.line_empty = true;
            self.blank = false;
        }
        self.indent = indent;
        self.need_newline = false;
        self.pending_break = None;
    }

    /// The indentation of the line the next token goes on.
    fn next_indent(&self) -> usize {
        match self.pending_break {
            Some(indent) => indent,
            None if self.need_newline => self.cont,
            None => self.indent,
        }
    }

    /// Writes a token: first the comments before `at` (where it is in the source, when
    /// known), then a line break if one is due, then the text.
    fn emit(&mut self, text: &str, at: Option<Span>, spaces: usize) {
        self.settle(at.map(|at| at.start));
        self.write(text, spaces);
        if let Some(at) = at {
            self.last_end = self.last_end.max(at.end);
        }
    }

    /// Gets ready to write a token at `at` (where it is in the source, when known): prints
    /// the comments before it, then starts a new line if one is due.
    fn settle(&mut self, at: Option<usize>) {
        if let Some(at) = at {
            self.comments_before(at, Place::Inline);
        }
        if let Some(indent) = self.pending_break {
            self.newline(indent);
        } else if self.need_newline {
            let blank = at.is_some_and(|at| self.blank_before(at));
            self.newline(self.cont);
            self.blank |= blank;
        }
    }

    /// Writes the source text of `span` as a token.
    fn atom(&mut self, span: Span, spaces: usize) {
        let text = self.text.get(span.start..span.end).unwrap_or("");
        self.emit(text, Some(span), spaces);
    }

    /// Writes a keyword or punctuation, found in the source after the last token.
    fn keyword(&mut self, word: &str, spaces: usize) {
        let at = self.find(word);
        self.emit(word, at, spaces);
    }

    /// Breaks the line before the next token if the source breaks it between `from` and `to`.
    fn break_if_broken(&mut self, from: usize, to: usize, indent: usize) {
        if !self.one_line && self.gap(from, to).contains('\n') {
            self.pending_break = Some(indent);
        }
    }

    // ---- the source ------------------------------------------------------------------------

    fn gap(&self, from: usize, to: usize) -> &str {
        self.text.get(from..to).unwrap_or("")
    }

    /// Whether the source has a blank line between the last thing printed and `to`.
    fn blank_before(&self, to: usize) -> bool {
        let gap = self.gap(self.last_end, to);
        let lines: Vec<&str> = gap.split('\n').collect();
        lines.len() > 2
            && lines
                .get(1..lines.len() - 1)
                .is_some_and(|inner| inner.iter().any(|l| l.trim().is_empty()))
    }

    /// The offset of the first token at or after `at`: white space and comments skipped.
    fn skip_trivia(&self, mut at: usize) -> usize {
        loop {
            let Some(rest) = self.text.get(at..) else {
                return at;
            };
            let trimmed = rest.trim_start();
            at += rest.len() - trimmed.len();
            if !trimmed.starts_with("//") {
                return at;
            }
            at += trimmed.find('\n').unwrap_or(trimmed.len());
        }
    }

    /// Where `word` is written after the last token printed (closing parentheses, which the
    /// tree does not keep, skipped).
    fn find(&self, word: &str) -> Option<Span> {
        let mut at = self.skip_trivia(self.last_end);
        while word != ")" && self.text.get(at..)?.starts_with(')') {
            at = self.skip_trivia(at + 1);
        }
        let rest = self.text.get(at..)?.strip_prefix(word)?;
        let wordy = word.chars().all(|c| c.is_ascii_alphabetic());
        if wordy
            && rest
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        {
            return None;
        }
        Some(Span::new(at, at + word.len()))
    }

    // ---- comments --------------------------------------------------------------------------

    /// Prints the comments that start before `pos`.
    fn comments_before(&mut self, pos: usize, place: Place) {
        while let Some(comment) = self.comments.get(self.next_comment) {
            if comment.span.start >= pos {
                return;
            }
            self.next_comment += 1;
            let same_line = !self.gap(self.last_end, comment.span.start).contains('\n');
            if same_line && !self.line_empty {
                self.write(&comment.text, 1);
            } else {
                let blank = match place {
                    Place::Top => self.after_decl || self.blank_before(comment.span.start),
                    Place::Block => !self.block_start && self.blank_before(comment.span.start),
                    Place::Inline => self.blank_before(comment.span.start),
                };
                let indent = match place {
                    Place::Top => 0,
                    Place::Block | Place::Inline => self.cont,
                };
                self.newline(indent);
                self.blank |= blank;
                self.write(&comment.text, 0);
                self.after_decl = false;
                self.block_start = false;
            }
            self.last_end = comment.span.end;
            self.need_newline = true;
        }
    }

    // ---- declarations and fields -----------------------------------------------------------

    fn decl(&mut self, decl: &Decl) {
        self.cont = INDENT;
        let mut spaces = 0;
        if let Some(modifier) = &decl.modifier {
            self.atom(modifier.span, 0);
            spaces = 1;
        }
        self.keyword(decl.kind.keyword(), spaces);
        self.atom(decl.name.span, 1);
        self.block(&decl.fields);
    }

    /// A `{ … }` block: on one line if it was written on one line, else one field per line.
    fn block(&mut self, fields: &[Field]) {
        let Some(open) = self.find("{") else {
            // Not reached for a file that parsed: every block has its brace.
            return;
        };
        let close = self.skip_trivia(fields.last().map_or(open.end, |f| f.span.end));
        let close = Span::new(close, close + 1);
        // The brace stays on the line of the declaration's name or the block's keyword: a
        // comment before it follows it.
        self.emit("{", None, 1);
        self.last_end = self.last_end.max(open.end);
        let comment_inside = self
            .comments
            .get(self.next_comment)
            .is_some_and(|c| c.span.start < close.start);
        let one_line = fields.is_empty() || !self.gap(open.start, close.start).contains('\n');
        if !comment_inside && one_line {
            for (i, field) in fields.iter().enumerate() {
                self.field(field, if i == 0 { 1 } else { 2 });
            }
            self.emit("}", Some(close), usize::from(!fields.is_empty()));
            return;
        }
        let outer = self.indent;
        let inner = outer + INDENT;
        let saved = self.cont;
        self.cont = inner;
        self.block_start = true;
        for field in fields {
            self.comments_before(field.span.start, Place::Block);
            let blank = !self.block_start && self.blank_before(field.span.start);
            self.newline(inner);
            self.blank |= blank;
            self.block_start = false;
            self.field(field, 0);
        }
        self.comments_before(close.start, Place::Block);
        self.block_start = false;
        self.newline(outer);
        self.cont = saved;
        self.emit("}", Some(close), 0);
    }

    fn field(&mut self, field: &Field, spaces: usize) {
        self.atom(field.key_span, spaces);
        let saved = self.cont;
        self.cont = self.indent + INDENT;
        self.value(&field.value);
        self.cont = saved;
    }

    fn value(&mut self, value: &Value) {
        match value {
            Value::Flag => {}
            Value::Str(s) | Value::Ref(s) | Value::Word(s) => self.atom(s.span, 1),
            Value::StrList(items) | Value::RefList(items) | Value::WordList(items) => {
                self.list(items)
            }
            Value::Number(n) => self.atom(n.span, 1),
            Value::Pattern(pattern) => {
                if pattern.like {
                    self.keyword("like", 1);
                }
                self.atom(pattern.text.span, 1);
            }
            Value::VersionRange(bounds) => {
                for bound in bounds {
                    self.atom(bound.op.span, 1);
                    self.atom(bound.version.span, 1);
                }
            }
            Value::Covers { target, edition } => {
                self.atom(target.span, 1);
                if let Some(edition) = edition {
                    self.keyword("edition", 1);
                    self.atom(edition.span, 1);
                }
            }
            Value::Expr(e) => self.expr(e, None, 1),
            Value::Limit { what, range } => {
                self.atom(what.span, 1);
                self.range(range, 1);
            }
            Value::Row { keys, value } => {
                let cont = self.cont;
                let mut previous: Option<Span> = None;
                for key in keys {
                    if let Some(previous) = previous {
                        self.keyword(",", 0);
                        self.break_if_broken(previous.end, key.span().start, cont);
                    }
                    match key {
                        KeyAst::Any(span) => self.atom(*span, 1),
                        KeyAst::Text(text) => self.atom(text.span, 1),
                        KeyAst::Range(range) => self.range(range, 1),
                    }
                    previous = Some(key.span());
                }
                self.keyword("=>", 1);
                self.atom(value.span, 1);
            }
            Value::Expect(expect) => self.expect(expect),
            Value::Sub { word, value } => {
                self.atom(word.span, 1);
                self.value(value);
            }
            Value::Block(fields) => self.block(fields),
        }
    }

    /// Items separated by `, `, breaking where the author broke them.
    fn list(&mut self, items: &[Spanned<String>]) {
        let cont = self.cont;
        let mut previous: Option<Span> = None;
        for item in items {
            if let Some(previous) = previous {
                self.keyword(",", 0);
                self.break_if_broken(previous.end, item.span.start, cont);
            }
            self.atom(item.span, 1);
            previous = Some(item.span);
        }
    }

    fn range(&mut self, range: &RangeAst, spaces: usize) {
        self.atom(range.span, spaces);
    }

    fn expect(&mut self, expect: &ExpectAst) {
        match expect {
            ExpectAst::Application(name) => {
                self.keyword("application", 1);
                self.atom(name.span, 1);
            }
            ExpectAst::NoApplication(name) => {
                self.keyword("no", 1);
                self.keyword("application", 1);
                self.atom(name.span, 1);
            }
            ExpectAst::Unrecognized => self.keyword("unrecognized", 1),
            ExpectAst::Ignored => self.keyword("ignored", 1),
            ExpectAst::CoveredBy { target, via } => {
                self.keyword("covered", 1);
                self.keyword("by", 1);
                self.target(target);
                if let Some(via) = via {
                    self.keyword("via", 1);
                    self.atom(via.span, 1);
                }
            }
            ExpectAst::NotCoveredBy(target) => {
                self.keyword("not", 1);
                self.keyword("covered", 1);
                self.keyword("by", 1);
                self.target(target);
            }
        }
    }

    fn target(&mut self, target: &TargetAst) {
        match target {
            TargetAst::Rights(name) => self.atom(name.span, 1),
            TargetAst::Sku(sku) => {
                self.keyword("sku", 1);
                self.atom(sku.span, 1);
            }
        }
    }

    // ---- expressions -----------------------------------------------------------------------

    /// Prints an expression, in the brackets the author wrote around it (one pair however
    /// many were written). `cont` is where its lines continue when the author broke them;
    /// `None` for four spaces deeper than the line it starts on.
    fn expr(&mut self, e: &ExprAst, cont: Option<usize>, spaces: usize) {
        // The comments before the expression, and a line break before it, come first: the line
        // the expression starts on decides where its own lines continue.
        if !e.bracketed {
            self.settle(Some(e.span.start));
        }
        if e.bracketed {
            self.keyword("(", spaces);
            self.expr_bare(e, None, 0);
            self.keyword(")", 0);
        } else {
            self.expr_bare(e, cont, spaces);
        }
    }

    /// Prints an expression without the brackets around it.
    fn expr_bare(&mut self, e: &ExprAst, cont: Option<usize>, spaces: usize) {
        let start = self.next_indent();
        let cont = cont.unwrap_or(start + INDENT);
        let saved = self.cont;
        self.cont = cont;
        match &e.kind {
            ExprKind::Number(_) | ExprKind::Text(_) | ExprKind::Bool(_) | ExprKind::Path(_) => {
                self.atom(e.span, spaces)
            }
            ExprKind::Unary(op, operand) => {
                let (symbol, gap) = match op {
                    UnOp::Neg => ("-", 0),
                    UnOp::Not => ("not", 1),
                };
                self.emit(
                    symbol,
                    Some(Span::new(e.span.start, e.span.start + symbol.len())),
                    spaces,
                );
                self.operand(operand, cont, gap);
            }
            ExprKind::Binary(op, left, right) => {
                self.operand(left, cont, spaces);
                let symbol = spelling(*op);
                let at = self.find(symbol);
                if let Some(at) = at {
                    self.comments_before(at.start, Place::Inline);
                }
                self.break_if_broken(left.span.end, right.span.start, cont);
                self.emit(symbol, at, 1);
                self.operand(right, cont, 1);
            }
            ExprKind::If(condition, then, otherwise) => {
                self.emit(
                    "if",
                    Some(Span::new(e.span.start, e.span.start + 2)),
                    spaces,
                );
                self.expr(condition, Some(start + 2 * INDENT), 1);
                self.break_if_broken(condition.span.end, then.span.start, start + INDENT);
                self.keyword("then", 1);
                let branch = self.next_indent() + INDENT;
                self.expr(then, Some(branch.max(start + 2 * INDENT)), 1);
                self.break_if_broken(then.span.end, otherwise.span.start, start + INDENT);
                self.keyword("else", 1);
                let branch = self.next_indent() + INDENT;
                self.expr(otherwise, Some(branch.max(start + 2 * INDENT)), 1);
            }
            ExprKind::Call { function, args } => {
                self.atom(function.span, spaces);
                self.keyword("(", 0);
                self.arguments(args, start + INDENT);
                self.emit(")", Some(closing(e.span)), 0);
            }
            ExprKind::Aggregate {
                function,
                body,
                binder,
                collection,
                filter,
            } => {
                self.atom(function.span, spaces);
                self.keyword("(", 0);
                let mut binder_spaces = 0;
                if let Some(body) = body {
                    self.expr(body, None, 0);
                    self.break_if_broken(body.span.end, binder.span.start, start + INDENT);
                    self.keyword("for", 1);
                    binder_spaces = 1;
                }
                self.atom(binder.span, binder_spaces);
                self.keyword("in", 1);
                self.atom(collection.span, 1);
                if let Some(filter) = filter {
                    self.break_if_broken(collection.span.end, filter.span.start, start + INDENT);
                    self.keyword("where", 1);
                    self.expr(filter, None, 1);
                }
                self.emit(")", Some(closing(e.span)), 0);
            }
            ExprKind::Lookup { table, keys } => {
                self.operand(table, cont, spaces);
                self.keyword("[", 0);
                self.arguments(keys, start + INDENT);
                self.emit("]", Some(closing(e.span)), 0);
            }
        }
        self.cont = saved;
    }

    /// Arguments or lookup keys: `a, b`, breaking after a comma where the author did.
    fn arguments(&mut self, args: &[ExprAst], cont: usize) {
        let mut previous: Option<Span> = None;
        for arg in args {
            if let Some(previous) = previous {
                self.keyword(",", 0);
                self.break_if_broken(previous.end, arg.span.start, cont);
            }
            self.expr(arg, None, usize::from(previous.is_some()));
            previous = Some(arg.span);
        }
    }

    /// An operand of an operator. The brackets around it are the author's: the tokens print
    /// in the order written, so the expression reads as it did, and needs no others. An
    /// operator chain continues at the chain's indentation.
    fn operand(&mut self, e: &ExprAst, cont: usize, spaces: usize) {
        let chained = !e.bracketed && matches!(e.kind, ExprKind::Binary(..) | ExprKind::Unary(..));
        self.expr(e, chained.then_some(cont), spaces);
    }
}

/// The span of the closing bracket that ends `span`.
fn closing(span: Span) -> Span {
    Span::new(span.end.saturating_sub(1), span.end)
}

/// An operator as the language spells it.
fn spelling(op: BinOp) -> &'static str {
    match op {
        BinOp::Mul => "*",
        other => other.symbol(),
    }
}

/// Copies of syntax trees with every source position set to zero, for comparing two parses
/// of the same rules written differently.
mod unspanned {
    use super::*;

    const NOWHERE: Span = Span { start: 0, end: 0 };

    fn spanned<T: Clone>(s: &Spanned<T>) -> Spanned<T> {
        Spanned {
            value: s.value.clone(),
            span: NOWHERE,
        }
    }

    /// The declaration with its positions (and those of everything in it) zeroed.
    pub fn decl(d: &Decl) -> Decl {
        Decl {
            modifier: d.modifier.as_ref().map(spanned),
            kind: d.kind,
            name: spanned(&d.name),
            doc: d.doc.clone(),
            span: NOWHERE,
            fields: d.fields.iter().map(field).collect(),
            complete: d.complete,
        }
    }

    fn field(f: &Field) -> Field {
        Field {
            key: f.key,
            key_span: NOWHERE,
            span: NOWHERE,
            doc: f.doc.clone(),
            value: value(&f.value),
        }
    }

    fn range(r: &RangeAst) -> RangeAst {
        RangeAst {
            span: NOWHERE,
            ..r.clone()
        }
    }

    fn target(t: &TargetAst) -> TargetAst {
        match t {
            TargetAst::Rights(name) => TargetAst::Rights(spanned(name)),
            TargetAst::Sku(sku) => TargetAst::Sku(spanned(sku)),
        }
    }

    fn value(v: &Value) -> Value {
        let list = |items: &[Spanned<String>]| items.iter().map(spanned).collect();
        match v {
            Value::Flag => Value::Flag,
            Value::Str(s) => Value::Str(spanned(s)),
            Value::StrList(items) => Value::StrList(list(items)),
            Value::Ref(s) => Value::Ref(spanned(s)),
            Value::RefList(items) => Value::RefList(list(items)),
            Value::Word(s) => Value::Word(spanned(s)),
            Value::WordList(items) => Value::WordList(list(items)),
            Value::Number(n) => Value::Number(spanned(n)),
            Value::Pattern(p) => Value::Pattern(crate::syntax::ast::PatternAst {
                like: p.like,
                text: spanned(&p.text),
            }),
            Value::VersionRange(bounds) => Value::VersionRange(
                bounds
                    .iter()
                    .map(|b| crate::syntax::ast::VersionBoundAst {
                        op: spanned(&b.op),
                        version: spanned(&b.version),
                    })
                    .collect(),
            ),
            Value::Covers { target, edition } => Value::Covers {
                target: spanned(target),
                edition: edition.as_ref().map(spanned),
            },
            Value::Expr(e) => Value::Expr(expr(e)),
            Value::Limit { what, range: r } => Value::Limit {
                what: spanned(what),
                range: range(r),
            },
            Value::Row { keys, value } => Value::Row {
                keys: keys
                    .iter()
                    .map(|k| match k {
                        KeyAst::Any(_) => KeyAst::Any(NOWHERE),
                        KeyAst::Text(t) => KeyAst::Text(spanned(t)),
                        KeyAst::Range(r) => KeyAst::Range(range(r)),
                    })
                    .collect(),
                value: spanned(value),
            },
            Value::Expect(e) => Value::Expect(match e {
                ExpectAst::Application(n) => ExpectAst::Application(spanned(n)),
                ExpectAst::NoApplication(n) => ExpectAst::NoApplication(spanned(n)),
                ExpectAst::Unrecognized => ExpectAst::Unrecognized,
                ExpectAst::Ignored => ExpectAst::Ignored,
                ExpectAst::CoveredBy { target: t, via } => ExpectAst::CoveredBy {
                    target: target(t),
                    via: via.as_ref().map(spanned),
                },
                ExpectAst::NotCoveredBy(t) => ExpectAst::NotCoveredBy(target(t)),
            }),
            Value::Sub { word, value: inner } => Value::Sub {
                word: spanned(word),
                value: Box::new(value(inner)),
            },
            Value::Block(fields) => Value::Block(fields.iter().map(field).collect()),
        }
    }

    /// The expression with its positions zeroed.
    pub fn expr(e: &ExprAst) -> ExprAst {
        let boxed = |e: &ExprAst| Box::new(expr(e));
        let kind = match &e.kind {
            ExprKind::Number(n) => ExprKind::Number(*n),
            ExprKind::Text(t) => ExprKind::Text(t.clone()),
            ExprKind::Bool(b) => ExprKind::Bool(*b),
            ExprKind::Path(p) => ExprKind::Path(p.clone()),
            ExprKind::Unary(op, x) => ExprKind::Unary(*op, boxed(x)),
            ExprKind::Binary(op, l, r) => ExprKind::Binary(*op, boxed(l), boxed(r)),
            ExprKind::If(c, t, f) => ExprKind::If(boxed(c), boxed(t), boxed(f)),
            ExprKind::Call { function, args } => ExprKind::Call {
                function: spanned(function),
                args: args.iter().map(expr).collect(),
            },
            ExprKind::Aggregate {
                function,
                body,
                binder,
                collection,
                filter,
            } => ExprKind::Aggregate {
                function: spanned(function),
                body: body.as_deref().map(boxed),
                binder: spanned(binder),
                collection: spanned(collection),
                filter: filter.as_deref().map(boxed),
            },
            ExprKind::Lookup { table, keys } => ExprKind::Lookup {
                table: boxed(table),
                keys: keys.iter().map(expr).collect(),
            },
        };
        ExprAst {
            kind,
            span: NOWHERE,
            bracketed: e.bracketed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quantity(text: &str) -> Option<ExprAst> {
        let parsed = parse_rules(SourceFile::new("t.tally", text));
        parsed
            .decls
            .first()?
            .fields
            .iter()
            .find_map(|f| match &f.value {
                Value::Expr(e) => Some(e.clone()),
                _ => None,
            })
    }

    #[test]
    fn a_formula_is_one_line_spaced_canonically_without_its_comments() {
        let text = "metric m {\n    counts device\n    quantity (max(1,2*( 3+device.cores )) // why\n        -ceil( 4 /\n  2))\n}\n";
        let expr = quantity(text);
        assert_eq!(
            expr.map(|e| expression_text(text, &e)),
            Some("max(1, 2 * (3 + device.cores)) - ceil(4 / 2)".to_string())
        );
    }

    #[test]
    fn only_a_file_that_parses_is_formatted() {
        let result = format_source("t.tally", "publisher acme { name }\n");
        assert!(
            matches!(&result, Err(FormatError::Syntax(d)) if d.len() == 1),
            "{result:?}"
        );
        // Any name: an editor's unsaved buffer has none.
        assert_eq!(
            format_source("untitled", "publisher  acme {name \"A\"}"),
            Ok("publisher acme { name \"A\" }\n".to_string())
        );
    }

    #[test]
    fn white_space_alone_formats_to_nothing_and_comments_alone_stay() {
        assert_eq!(format_source("t.tally", ""), Ok(String::new()));
        assert_eq!(format_source("t.tally", "\n \t\n\n"), Ok(String::new()));
        assert_eq!(
            format_source("t.tally", "\u{feff}\r\n// one\r\n\r\n\r\n   // two  \r\n"),
            Ok("// one\r\n\r\n// two\r\n".to_string())
        );
    }
}
