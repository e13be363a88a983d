//! Parsing: split a file into declarations, read each declaration's header and its block of
//! fields against the kind's field schema, and parse each field's value with the pest grammar.
//!
//! Errors cost as little as possible. A syntax error costs one declaration at most; a
//! misspelt field or a malformed value costs only that field, and a declaration whose block is
//! broken keeps its name, so references to it do not turn into unknown-name errors.

pub mod ast;
pub mod expr;
pub mod schema;
pub mod split;

use std::str::FromStr;
use std::sync::Arc;

use pest::Parser;
use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;
use rust_decimal::Decimal;

use crate::diagnostics::{self, Diagnostic, SourceFile, Span, codes};
use ast::{
    BoundAst, Comment, Decl, DeclKind, ExpectAst, Field, KeyAst, Modifier, PatternAst, RangeAst,
    Spanned, TargetAst, Value, VersionBoundAst,
};
use expr::{ExprBuilder, unescape};
use schema::{FieldSpec, Shape};

#[derive(pest_derive::Parser)]
#[grammar = "syntax/tally.pest"]
struct TallyParser;

/// The syntax tree of one rule file, its comments and the syntax errors found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFile {
    pub source: Arc<SourceFile>,
    pub decls: Vec<Decl>,
    /// Every comment in the file, in order.
    pub comments: Vec<Comment>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Whether a path names a rule file (`.tally`); other pack files, such as rhai scripts, are
/// carried along but not parsed as rules.
pub fn is_rule_file(path: &str) -> bool {
    path.ends_with(".tally")
}

/// Parses one rule file; a file that is not a rule file (see [`is_rule_file`]) parses to
/// nothing.
pub fn parse_file(source: Arc<SourceFile>) -> ParsedFile {
    if !is_rule_file(&source.path) {
        return ParsedFile {
            source,
            decls: Vec::new(),
            comments: Vec::new(),
            diagnostics: Vec::new(),
        };
    }
    parse_rules(source)
}

/// Parses a text as a rule file, whatever its path: for an editor's unsaved buffer, say.
pub fn parse_rules(source: Arc<SourceFile>) -> ParsedFile {
    let chunks = split::split(&source.text);
    let run = read_chunks(&source, &chunks);
    ParsedFile {
        comments: split::comments(&source.text),
        source,
        decls: run.decls,
        diagnostics: run.diagnostics,
    }
}

/// Declarations parsed apart from their file, with their syntax errors, positions counted
/// from the start of the text they were parsed in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedRun {
    pub decls: Vec<Decl>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads the declarations of `chunks` (ranges of `source`'s text).
fn read_chunks(source: &Arc<SourceFile>, chunks: &[split::Chunk]) -> ParsedRun {
    let mut run = ParsedRun::default();
    for chunk in chunks {
        let mut reader = Reader {
            source,
            text: &source.text,
            pos: chunk.start,
            end: chunk.end,
            diagnostics: &mut run.diagnostics,
            doc: Vec::new(),
            broken: false,
        };
        if let Some(decl) = reader.decl(chunk.doc.clone()) {
            run.decls.push(decl);
        }
    }
    run
}

/// Parses a run of declaration chunks on its own: `text` is the run's text, and `chunks` are
/// ranges of it. A declaration is read within its chunk alone, so the result, moved to where
/// the run is in its file ([`assemble`]), is what parsing the whole file gives: an
/// incremental build parses again only the runs an edit changed.
pub fn parse_run(text: &str, chunks: &[split::Chunk]) -> ParsedRun {
    read_chunks(&SourceFile::new("", text), chunks)
}

/// A rule file from its runs, each parsed with [`parse_run`] and given with where its text
/// starts in the file, in order.
pub fn assemble<'r>(
    source: Arc<SourceFile>,
    runs: impl IntoIterator<Item = (usize, &'r ParsedRun)>,
) -> ParsedFile {
    let mut parsed = ParsedFile {
        comments: split::comments(&source.text),
        source: Arc::clone(&source),
        decls: Vec::new(),
        diagnostics: Vec::new(),
    };
    for (offset, run) in runs {
        parsed.decls.extend(run.decls.iter().map(|decl| {
            let mut decl = decl.clone();
            decl.shift(offset);
            decl
        }));
        parsed.diagnostics.extend(run.diagnostics.iter().map(|d| {
            let mut d = d.clone();
            d.source = Arc::clone(&source);
            d.span = d.span.map(|s| s.shifted(offset));
            for related in &mut d.related {
                related.source = Arc::clone(&source);
                related.span = related.span.shifted(offset);
            }
            d
        }));
    }
    parsed
}

/// Reads one declaration chunk.
struct Reader<'a> {
    source: &'a Arc<SourceFile>,
    text: &'a str,
    pos: usize,
    end: usize,
    diagnostics: &'a mut Vec<Diagnostic>,
    /// `///` lines seen since the last field.
    doc: Vec<String>,
    /// Whether a field of the declaration could not be read.
    broken: bool,
}

/// A field or value that could not be read; its diagnostic has been recorded.
struct Broken;

impl<'a> Reader<'a> {
    fn rest(&self) -> &'a str {
        let text: &'a str = self.text;
        text.get(self.pos..self.end).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// Skips white space and comments, keeping `///` lines as the next field's doc.
    fn skip_trivia(&mut self) {
        loop {
            let rest = self.rest();
            let trimmed = rest.trim_start();
            let skipped = rest.len() - trimmed.len();
            if rest
                .get(..skipped)
                .is_some_and(|ws| ws.matches('\n').count() > 1)
            {
                self.doc.clear();
            }
            self.pos += skipped;
            if !trimmed.starts_with("//") {
                return;
            }
            let len = trimmed.find('\n').unwrap_or(trimmed.len());
            let line = trimmed.get(..len).unwrap_or("");
            if let Some(doc) = line.strip_prefix("///").filter(|d| !d.starts_with('/')) {
                self.doc
                    .push(doc.strip_prefix(' ').unwrap_or(doc).to_string());
            }
            self.pos += len;
        }
    }

    /// The word at the cursor: letters, digits, `_` and `.`, starting with a letter or `_`.
    fn peek_word(&self) -> Option<Spanned<String>> {
        let rest = self.rest();
        let first = rest.chars().next()?;
        if !(first.is_ascii_alphabetic() || first == '_') {
            return None;
        }
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(rest.len());
        Some(Spanned {
            value: rest.get(..len)?.to_string(),
            span: Span::new(self.pos, self.pos + len),
        })
    }

    /// The token at the cursor, for messages: a word, a string start or one character.
    fn token_span(&self) -> Span {
        if let Some(word) = self.peek_word() {
            return word.span;
        }
        let len = self.peek().map_or(0, char::len_utf8);
        Span::new(self.pos, self.pos + len)
    }

    fn found(&self) -> String {
        let span = self.token_span();
        match self.text.get(span.start..span.end) {
            Some(t) if !t.is_empty() => format!("`{t}`"),
            _ => "the end of the declaration".to_string(),
        }
    }

    fn error(&mut self, span: Span, message: String, label: &str, help: String) {
        self.broken = true;
        self.diagnostics.push(
            Diagnostic::error(codes::SYNTAX, self.source, Some(span), message)
                .with_label(label)
                .with_help(help),
        );
    }

    fn decl(&mut self, doc: Vec<String>) -> Option<Decl> {
        let start = self.pos;
        let mut word = self.peek_word();
        let modifier = word.as_ref().and_then(|w| {
            Modifier::from_keyword(&w.value).map(|m| Spanned {
                value: m,
                span: w.span,
            })
        });
        if let Some(m) = &modifier {
            self.pos = m.span.end;
            self.skip_trivia();
            word = self.peek_word();
        }
        let Some(kind) = word.as_ref().and_then(|w| DeclKind::from_keyword(&w.value)) else {
            let span = self.token_span();
            let found = self.found();
            let help = match word.as_ref().and_then(|w| {
                diagnostics::closest(&w.value, split::DECLARATION_KEYWORDS.iter().copied())
            }) {
                Some(near) => format!("did you mean `{near}`?"),
                None => {
                    let keywords: Vec<String> = split::DECLARATION_KEYWORDS
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect();
                    format!("a declaration starts with one of {}", keywords.join(", "))
                }
            };
            self.error(
                span,
                format!("expected a declaration, found {found}"),
                "not a declaration keyword",
                help,
            );
            return None;
        };
        self.pos += kind.keyword().len();
        self.skip_trivia();
        let b = Build { offset: self.pos };
        let name = if kind.named_by_string() {
            b.string(&first(self.parse_rule(Rule::string_value).ok()?).ok()?)
        } else {
            b.text(&first(self.parse_rule(Rule::ident_value).ok()?).ok()?)
        };
        self.skip_trivia();
        let mut fields = Vec::new();
        let help = || {
            format!(
                "write the fields of {} `{}` inside `{{ … }}`",
                kind.keyword(),
                name.value
            )
        };
        if self.open_brace(help) {
            let what = format!("{} `{}`", kind.keyword(), name.value);
            fields = self.block(schema::fields(kind), &what);
        }
        self.skip_trivia();
        if self.pos < self.end {
            let found = self.found();
            self.error(
                self.token_span(),
                format!("unexpected {found} after the end of the declaration"),
                "not part of any declaration",
                "a declaration ends at its closing `}`; start the next one on its own line"
                    .to_string(),
            );
        }
        Some(Decl {
            modifier,
            kind,
            name,
            doc,
            span: Span::new(start, self.end.min(self.pos.max(start))),
            fields,
            complete: !self.broken,
        })
    }

    /// Consumes a `{`, or reports that one was expected (with the help `help` makes).
    fn open_brace(&mut self, help: impl FnOnce() -> String) -> bool {
        if self.peek() == Some('{') {
            self.pos += 1;
            return true;
        }
        let found = self.found();
        self.error(
            self.token_span(),
            format!("expected `{{`, found {found}"),
            "expected `{` here",
            help(),
        );
        false
    }

    /// Reads fields up to the closing `}` (consumed). `what` names the block in messages.
    fn block(&mut self, schema: &'static [FieldSpec], what: &str) -> Vec<Field> {
        let mut fields = Vec::new();
        loop {
            self.skip_trivia();
            match self.peek() {
                None => {
                    let at = Span::new(self.pos, self.pos);
                    self.error(
                        at,
                        format!("{what} has no closing `}}`"),
                        "expected `}` here",
                        "add the `}` that closes the block".to_string(),
                    );
                    return fields;
                }
                Some('}') => {
                    self.pos += 1;
                    return fields;
                }
                _ => {}
            }
            let doc = std::mem::take(&mut self.doc);
            let Some(key) = self.peek_word() else {
                let found = self.found();
                self.error(
                    self.token_span(),
                    format!("expected a field of {what}, found {found}"),
                    "expected a field name",
                    format!("{what} takes {}", schema::list_keys(schema)),
                );
                self.recover(schema, true);
                continue;
            };
            let Some(spec) = schema::find(schema, &key.value) else {
                self.unknown_field(schema, what, &key);
                self.pos = key.span.end;
                self.recover(schema, false);
                continue;
            };
            self.pos = key.span.end;
            match self.value(spec.shape, spec.key) {
                Ok(value) => fields.push(Field {
                    key: spec.key,
                    key_span: key.span,
                    span: Span::new(key.span.start, self.pos),
                    doc,
                    value,
                }),
                Err(Broken) => {
                    if let Some(last) = self.diagnostics.last_mut()
                        && last.code == codes::SYNTAX
                        && last.help == GENERIC_HELP
                    {
                        last.help = format!(
                            "`{}` takes {}; see docs/language.md",
                            spec.key,
                            spec.shape.describe()
                        );
                    }
                    self.recover(schema, false)
                }
            }
        }
    }

    fn unknown_field(&mut self, schema: &'static [FieldSpec], what: &str, key: &Spanned<String>) {
        self.broken = true;
        let near = diagnostics::closest(&key.value, schema.iter().map(|f| f.key));
        let help = match near {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!("{what} takes {}", schema::list_keys(schema)),
        };
        let mut diagnostic = Diagnostic::error(
            codes::UNKNOWN_FIELD,
            self.source,
            Some(key.span),
            format!("unknown field `{}` in {what}", key.value),
        )
        .with_label("not a field of this block")
        .with_help(help);
        if let Some(near) = near {
            diagnostic = diagnostic.with_suggestion(near);
        }
        self.diagnostics.push(diagnostic);
    }

    /// Skips what is left of a broken field: up to the next known field name, the block's
    /// `}`, or the end. With `at_least_one`, skips at least one token first.
    fn recover(&mut self, schema: &'static [FieldSpec], mut at_least_one: bool) {
        loop {
            self.skip_trivia();
            let Some(c) = self.peek() else { return };
            if c == '}' {
                return;
            }
            if let Some(word) = self.peek_word() {
                if !at_least_one && schema::find(schema, &word.value).is_some() {
                    return;
                }
                self.pos = word.span.end;
            } else if c == '"' {
                self.pos = split::string_end(self.text.as_bytes(), self.pos).min(self.end);
            } else if c == '{' {
                self.pos = split::block_end(self.text, self.pos).min(self.end);
            } else {
                self.pos += c.len_utf8();
            }
            at_least_one = false;
        }
    }

    /// Parses `rule` at the cursor and moves past what it matched; a failure is a T0001
    /// diagnostic saying what was expected.
    fn parse_rule(&mut self, rule: Rule) -> Result<Pair<'a, Rule>, Broken> {
        let start = self.pos;
        let full: &'a str = self.text;
        let text = full.get(start..self.end).unwrap_or("");
        match TallyParser::parse(rule, text) {
            Ok(mut pairs) => {
                let pair = pairs.next().ok_or(Broken)?;
                self.pos = start + pair.as_span().end();
                Ok(pair)
            }
            Err(error) => {
                let diagnostic = syntax_error(self.source, start, text, &error);
                self.broken = true;
                self.diagnostics.push(diagnostic);
                Err(Broken)
            }
        }
    }

    /// Reads a value of the given shape.
    fn value(&mut self, shape: Shape, key: &str) -> Result<Value, Broken> {
        self.skip_trivia();
        let offset = self.pos;
        let b = Build { offset };
        Ok(match shape {
            Shape::Flag => Value::Flag,
            Shape::Sub(options) => {
                let word = self.peek_word();
                let Some((word, inner)) = word.and_then(|w| {
                    options
                        .iter()
                        .find(|(o, _)| *o == w.value)
                        .map(|(_, s)| (w, *s))
                }) else {
                    let listed: Vec<String> =
                        options.iter().map(|(o, _)| format!("`{o}`")).collect();
                    let found = self.found();
                    self.error(
                        self.token_span(),
                        format!(
                            "expected {} after `{key}`, found {found}",
                            listed.join(" or ")
                        ),
                        "expected a keyword here",
                        format!("write `{key} {}`", options.first().map_or("", |o| o.0)),
                    );
                    return Err(Broken);
                };
                self.pos = word.span.end;
                let value = self.value(inner, &format!("{key} {}", word.value))?;
                Value::Sub {
                    word,
                    value: Box::new(value),
                }
            }
            Shape::Block(schema) => {
                let help = || {
                    format!(
                        "`{key}` takes a block: `{{ {} }}`",
                        schema::list_keys(schema)
                    )
                };
                if !self.open_brace(help) {
                    return Err(Broken);
                }
                Value::Block(self.block(schema, &format!("this `{key}` block")))
            }
            Shape::Str => {
                let pair = self.parse_rule(Rule::string_value)?;
                Value::Str(b.string(&first(pair)?))
            }
            Shape::StrList => {
                let pair = self.parse_rule(Rule::string_list)?;
                Value::StrList(pair.into_inner().map(|p| b.string(&p)).collect())
            }
            Shape::Ref | Shape::Word(_) => {
                let pair = self.parse_rule(Rule::ident_value)?;
                let name = b.text(&first(pair)?);
                if matches!(shape, Shape::Ref) {
                    Value::Ref(name)
                } else {
                    Value::Word(name)
                }
            }
            Shape::RefList | Shape::WordList(_) => {
                let pair = self.parse_rule(Rule::ident_list)?;
                let names = pair.into_inner().map(|p| b.text(&p)).collect();
                if matches!(shape, Shape::RefList) {
                    Value::RefList(names)
                } else {
                    Value::WordList(names)
                }
            }
            Shape::Number => {
                let pair = self.parse_rule(Rule::number_value)?;
                let number = first(pair)?;
                Value::Number(self.decimal(&b, &number)?)
            }
            Shape::Version => {
                let pair = first(self.parse_rule(Rule::version_value)?)?;
                if pair.as_rule() == Rule::version_range {
                    let mut bounds = Vec::new();
                    for bound in pair.into_inner() {
                        let mut parts = bound.into_inner();
                        let op = b.text(&parts.next().ok_or(Broken)?);
                        let version = b.string(&parts.next().ok_or(Broken)?);
                        bounds.push(VersionBoundAst { op, version });
                    }
                    Value::VersionRange(bounds)
                } else {
                    Value::Pattern(b.pattern(pair).ok_or(Broken)?)
                }
            }
            Shape::Pattern => {
                let pair = first(self.parse_rule(Rule::pattern_value)?)?;
                Value::Pattern(b.pattern(pair).ok_or(Broken)?)
            }
            Shape::Covers => {
                let pair = self.parse_rule(Rule::covers_value)?;
                let mut inner = pair
                    .into_inner()
                    .filter(|p| p.as_rule() != Rule::kw_edition);
                let target = b.text(&inner.next().ok_or(Broken)?);
                let edition = inner.next().map(|e| b.string(&e));
                Value::Covers { target, edition }
            }
            Shape::Expr => {
                let rest = self.text.get(offset..self.end).unwrap_or("");
                if let Some(at) = expr::too_deep_before_parsing(rest) {
                    self.too_deep(Span::new(offset + at, offset + at + 1));
                    return Err(Broken);
                }
                let pair = first(self.parse_rule(Rule::expr_value)?)?;
                if expr::depth_bound(&pair) > expr::MAX_DEPTH {
                    self.too_deep(b.span(&pair));
                    return Err(Broken);
                }
                match (ExprBuilder { offset }).expr(pair) {
                    Ok(e) => Value::Expr(e),
                    Err(bad) => {
                        self.bad_number(bad.span, &bad.text);
                        return Err(Broken);
                    }
                }
            }
            Shape::Limit => {
                let pair = self.parse_rule(Rule::limit_value)?;
                let mut inner = pair.into_inner();
                let what = b.text(&inner.next().ok_or(Broken)?);
                let range = self.range(&b, inner.next().ok_or(Broken)?)?;
                Value::Limit { what, range }
            }
            Shape::Row => {
                let pair = self.parse_rule(Rule::row_value)?;
                let mut keys = Vec::new();
                let mut value = None;
                for part in pair.into_inner() {
                    match part.as_rule() {
                        Rule::row_key => {
                            let key = first(part)?;
                            keys.push(match key.as_rule() {
                                Rule::wildcard => KeyAst::Any(b.span(&key)),
                                Rule::string => KeyAst::Text(b.string(&key)),
                                _ => KeyAst::Range(self.range(&b, key)?),
                            });
                        }
                        _ => value = Some(self.decimal(&b, &part)?),
                    }
                }
                Value::Row {
                    keys,
                    value: value.ok_or(Broken)?,
                }
            }
            Shape::Expect => {
                let pair = first(self.parse_rule(Rule::expect_value)?)?;
                Value::Expect(b.expectation(pair).ok_or(Broken)?)
            }
        })
    }

    fn decimal(&mut self, b: &Build, pair: &Pair<'_, Rule>) -> Result<Spanned<Decimal>, Broken> {
        match Decimal::from_str(pair.as_str()) {
            Ok(value) => Ok(Spanned {
                value,
                span: b.span(pair),
            }),
            Err(_) => {
                self.bad_number(b.span(pair), pair.as_str());
                Err(Broken)
            }
        }
    }

    fn too_deep(&mut self, span: Span) {
        self.error(
            span,
            format!(
                "this expression nests more than {} levels deep",
                expr::MAX_DEPTH
            ),
            "nested too deeply",
            "count operators, brackets and `if`s inside one another: split the computation into a table or a script, or simplify it".to_string(),
        );
    }

    fn bad_number(&mut self, span: Span, text: &str) {
        self.error(
            span,
            format!("the number `{text}` is too large"),
            "out of range",
            "numbers have at most 28 significant digits".to_string(),
        );
    }

    fn range(&mut self, b: &Build, pair: Pair<'a, Rule>) -> Result<RangeAst, Broken> {
        let span = b.span(&pair);
        let dots = pair.as_str().find("..").map(|at| span.start + at);
        let mut low = None;
        let mut high = None;
        for bound in pair.into_inner() {
            let value = if bound.as_rule() == Rule::date {
                BoundAst::Date(bound.as_str().to_string())
            } else {
                BoundAst::Number(self.decimal(b, &bound)?.value)
            };
            match dots {
                None => {
                    low = Some(value.clone());
                    high = Some(value);
                }
                Some(at) if b.span(&bound).start < at => low = Some(value),
                Some(_) => high = Some(value),
            }
        }
        Ok(RangeAst { low, high, span })
    }
}

/// The first inner pair of a value rule.
fn first(pair: Pair<'_, Rule>) -> Result<Pair<'_, Rule>, Broken> {
    pair.into_inner().next().ok_or(Broken)
}

/// Builds syntax-tree nodes from pest pairs, shifting spans by the value's offset in the file.
struct Build {
    offset: usize,
}

impl Build {
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.offset + s.start(), self.offset + s.end())
    }

    fn text(&self, pair: &Pair<'_, Rule>) -> Spanned<String> {
        Spanned {
            value: pair.as_str().to_string(),
            span: self.span(pair),
        }
    }

    /// A string literal's unescaped content, spanned over the whole literal.
    fn string(&self, pair: &Pair<'_, Rule>) -> Spanned<String> {
        Spanned {
            value: unescape(pair.as_str()),
            span: self.span(pair),
        }
    }

    /// `like "…"` or a plain string.
    fn pattern(&self, pair: Pair<'_, Rule>) -> Option<PatternAst> {
        let like = pair.as_rule() == Rule::like_pattern;
        let text = if like {
            pair.into_inner().find(|p| p.as_rule() == Rule::string)?
        } else {
            pair
        };
        Some(PatternAst {
            like,
            text: self.string(&text),
        })
    }

    fn expectation(&self, pair: Pair<'_, Rule>) -> Option<ExpectAst> {
        let rule = pair.as_rule();
        let kids: Vec<Pair<'_, Rule>> = pair
            .into_inner()
            .filter(|p| {
                matches!(
                    p.as_rule(),
                    Rule::ident | Rule::rights_target | Rule::segment
                )
            })
            .collect();
        Some(match rule {
            Rule::expect_application => ExpectAst::Application(self.text(kids.first()?)),
            Rule::expect_no_application => ExpectAst::NoApplication(self.text(kids.first()?)),
            Rule::expect_unrecognized => ExpectAst::Unrecognized,
            Rule::expect_ignored => ExpectAst::Ignored,
            Rule::expect_covered => ExpectAst::CoveredBy {
                target: self.target(kids.first()?)?,
                via: kids.get(1).map(|w| self.text(w)),
            },
            Rule::expect_not_covered => ExpectAst::NotCoveredBy(self.target(kids.first()?)?),
            _ => return None,
        })
    }

    fn target(&self, pair: &Pair<'_, Rule>) -> Option<TargetAst> {
        let inner = pair.clone().into_inner().next()?;
        Some(match inner.as_rule() {
            Rule::sku_target => TargetAst::Sku(
                self.string(&inner.into_inner().find(|p| p.as_rule() == Rule::string)?),
            ),
            _ => TargetAst::Rights(self.text(&inner)),
        })
    }
}

/// The help line of a syntax error before the reader knows which field it is in.
const GENERIC_HELP: &str = "see docs/language.md for the form of each field";

/// Turns a pest error into a diagnostic that says what was expected, in the user's words.
fn syntax_error(
    source: &Arc<SourceFile>,
    offset: usize,
    text: &str,
    error: &pest::error::Error<Rule>,
) -> Diagnostic {
    let pos = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let found = next_token(text, pos);
    let expected = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let mut names: Vec<&str> = positives.iter().filter_map(|r| describe(*r)).collect();
            names.sort_unstable();
            names.dedup();
            names
        }
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let expected_text = or_list(&expected);
    let message = match (&expected_text, found) {
        (Some(e), Some(f)) => format!("expected {e}, found `{f}`"),
        (Some(e), None) => format!("expected {e}, found the end of the declaration"),
        (None, Some(f)) => format!("unexpected `{f}`"),
        (None, None) => "unexpected end of the declaration".to_string(),
    };
    let end = pos + found.map_or(0, str::len);
    if let Some((bad, len)) = bad_escape(text, pos) {
        let at = offset + bad;
        return Diagnostic::error(
            codes::SYNTAX,
            source,
            Some(Span::new(at, at + len)),
            "this string has an escape Tally does not know".to_string(),
        )
        .with_label("unknown escape")
        .with_help("strings know only `\\\"` and `\\\\`: write a backslash as `\\\\`, e.g. \"HKLM\\\\SOFTWARE\"");
    }
    Diagnostic::error(
        codes::SYNTAX,
        source,
        Some(Span::new(offset + pos, offset + end)),
        message,
    )
    .with_label(match &expected_text {
        Some(e) => format!("expected {e} here"),
        None => "not valid here".to_string(),
    })
    .with_help(GENERIC_HELP)
}

/// Where a string starting at `pos` has a backslash that starts no known escape, and the
/// length in bytes of the backslash and the character after it.
fn bad_escape(text: &str, pos: usize) -> Option<(usize, usize)> {
    let rest = text.get(pos..)?.strip_prefix('"')?;
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' | '\n' => return None,
            '\\' => match chars.next() {
                Some((_, '"' | '\\')) => {}
                next => return Some((pos + 1 + i, 1 + next.map_or(0, |(_, c)| c.len_utf8()))),
            },
            _ => {}
        }
    }
    None
}

/// The token at `pos`: a word, a number, or one punctuation character.
fn next_token(text: &str, pos: usize) -> Option<&str> {
    let rest = text.get(pos..)?;
    let first = rest.chars().next()?;
    let len = if first.is_alphanumeric() || first == '_' || first == '.' {
        rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(rest.len())
    } else {
        first.len_utf8()
    };
    rest.get(..len)
}

/// "`a`", "`a` or `b`", "`a`, `b` or `c`".
fn or_list(items: &[&str]) -> Option<String> {
    match items {
        [] => None,
        [one] => Some((*one).to_string()),
        [init @ .., last] => Some(format!("{} or {last}", init.join(", "))),
    }
}

/// How a grammar rule is named in messages; `None` for rules that are never worth naming.
fn describe(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::ident | Rule::segment | Rule::ident_value | Rule::ident_list => {
            "a name such as `microsoft.visio`"
        }
        Rule::string | Rule::string_text | Rule::string_value | Rule::string_list => {
            "a quoted string"
        }
        Rule::number | Rule::number_value => "a number",
        Rule::date => "a date",
        Rule::range => "a range such as `1..4`",
        Rule::wildcard => "`_`",
        Rule::row_key => "a row key (a string, a number, a range or `_`)",
        Rule::pattern_value | Rule::like_pattern => "a string or `like \"…\"`",
        Rule::version_value | Rule::version_range | Rule::version_bound => {
            "a string, `like \"…\"` or a range such as `>= \"15.0\" < \"16.0\"`"
        }
        Rule::version_op => "`>=`, `>`, `<=` or `<`",
        Rule::expr | Rule::expr_value => "an expression",
        Rule::path => "a name",
        Rule::boolean => "`true` or `false`",
        Rule::call | Rule::aggregate | Rule::count | Rule::function => "a function call",
        Rule::lookup => "`[`",
        Rule::if_expr | Rule::kw_if => "`if`",
        Rule::kw_then => "`then`",
        Rule::kw_else => "`else`",
        Rule::kw_for => "`for`",
        Rule::kw_in => "`in`",
        Rule::binder => "a variable name",
        Rule::or
        | Rule::and
        | Rule::eq
        | Rule::ne
        | Rule::le
        | Rule::ge
        | Rule::lt
        | Rule::gt
        | Rule::like
        | Rule::add
        | Rule::sub
        | Rule::mul
        | Rule::div => "an operator",
        Rule::neg | Rule::not => "an expression",
        Rule::kw_like => "`like`",
        Rule::kw_edition => "`edition`",
        Rule::kw_application => "`application`",
        Rule::kw_no => "`no`",
        Rule::kw_not => "`not`",
        Rule::kw_unrecognized => "`unrecognized`",
        Rule::kw_ignored => "`ignored`",
        Rule::kw_covered => "`covered`",
        Rule::kw_by => "`by`",
        Rule::kw_via => "`via`",
        Rule::kw_sku => "`sku`",
        Rule::expect_value => {
            "`application`, `no application`, `unrecognized`, `ignored` or `covered by`"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::BinOp;

    fn parse(text: &str) -> ParsedFile {
        parse_file(SourceFile::new("t.tally", text))
    }

    /// The messages of the syntax errors of a metric with this quantity.
    fn depth_errors(quantity: &str) -> Vec<String> {
        let parsed = parse(&format!(
            "metric m {{ counts device  quantity {quantity} }}"
        ));
        parsed
            .diagnostics
            .iter()
            .map(|d| d.message.clone())
            .collect()
    }

    #[test]
    fn expressions_nest_at_most_max_depth_levels() {
        let too_deep = vec![format!(
            "this expression nests more than {} levels deep",
            expr::MAX_DEPTH
        )];
        // Operators: one level each, and one for the expression.
        let minus = |n: usize| format!("{}1", "-".repeat(n));
        assert!(depth_errors(&minus(expr::MAX_DEPTH - 1)).is_empty());
        assert_eq!(depth_errors(&minus(expr::MAX_DEPTH)), too_deep);
        let sum = |n: usize| format!("1{}", " + 1".repeat(n));
        assert!(depth_errors(&sum(expr::MAX_DEPTH - 1)).is_empty());
        assert_eq!(depth_errors(&sum(expr::MAX_DEPTH)), too_deep);
        // Brackets and `if`s: one level each (also counted before parsing, which recurses on
        // them).
        let brackets = |n: usize| format!("{}1{}", "(".repeat(n), ")".repeat(n));
        assert!(depth_errors(&brackets(expr::MAX_DEPTH - 1)).is_empty());
        assert_eq!(depth_errors(&brackets(expr::MAX_DEPTH)), too_deep);
        assert_eq!(depth_errors(&brackets(expr::MAX_DEPTH * 100)), too_deep);
        let ifs = |n: usize| format!("{}1{}", "if true then ".repeat(n), " else 2".repeat(n));
        assert!(depth_errors(&ifs(expr::MAX_DEPTH / 2)).is_empty());
        assert_eq!(depth_errors(&ifs(expr::MAX_DEPTH + 1)), too_deep);
        // Words that only look like `if`, and brackets in strings and comments, do not count.
        let quoted = format!(
            "if device.processor_model like \"{}\" then 1 else 2 // {}\n",
            "(".repeat(200),
            "[".repeat(200)
        );
        assert!(depth_errors(&quoted).is_empty());
        assert!(expr::too_deep_before_parsing(&"iff elif ".repeat(200)).is_none());
    }

    #[test]
    fn comments_and_field_docs_are_kept() {
        let parsed = parse(
            "// file header\n/// The metric.\nmetric m {\n    /// What holds units.\n    counts device // trailing\n}\n",
        );
        let texts: Vec<&str> = parsed.comments.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            texts,
            vec![
                "// file header",
                "/// The metric.",
                "/// What holds units.",
                "// trailing"
            ]
        );
        let decl = parsed.decls.first();
        assert_eq!(
            decl.map(|d| d.doc.clone()),
            Some(vec!["The metric.".to_string()])
        );
        assert_eq!(
            decl.and_then(|d| d.fields.first()).map(|f| f.doc.clone()),
            Some(vec!["What holds units.".to_string()])
        );
    }

    #[test]
    fn fields_may_share_a_line_and_a_bad_field_costs_only_itself() {
        let parsed = parse("product p { name \"P\"  pubisher acme  classification commercial }");
        let keys: Vec<&str> = parsed
            .decls
            .iter()
            .flat_map(|d| d.fields.iter().map(|f| f.key))
            .collect();
        assert_eq!(keys, vec!["name", "classification"]);
        assert_eq!(parsed.diagnostics.len(), 1);
        assert_eq!(parsed.decls.first().map(|d| d.complete), Some(false));
    }

    #[test]
    fn operators_bind_by_precedence() {
        let parsed = parse("metric m { counts device  quantity 1 + 2 * 3 > 4 and not false }");
        let expr = parsed
            .decls
            .first()
            .and_then(|d| d.fields.get(1))
            .map(|f| f.value.clone());
        let Some(Value::Expr(e)) = expr else {
            unreachable!("the quantity is an expression")
        };
        let ast::ExprKind::Binary(BinOp::And, left, _) = e.kind else {
            unreachable!("`and` binds loosest")
        };
        let ast::ExprKind::Binary(BinOp::Gt, sum, _) = left.kind else {
            unreachable!("`>` binds looser than arithmetic")
        };
        assert!(matches!(sum.kind, ast::ExprKind::Binary(BinOp::Add, _, _)));
    }
}
