//! Parsing: split a file into declarations, parse each with the pest grammar, and build the
//! syntax tree. Syntax errors become T0001 diagnostics; each costs only its own declaration.

pub mod ast;
pub mod split;

use std::sync::Arc;

use pest::Parser;
use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;

use crate::diagnostics::{Diagnostic, SourceFile, Span, codes};
use ast::{Decl, DeclKind, ExpectAst, Field, PatternAst, Spanned, TargetAst, Value};

#[derive(pest_derive::Parser)]
#[grammar = "syntax/tally.pest"]
struct TallyParser;

/// The syntax tree of one rule file and the syntax errors found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFile {
    pub source: Arc<SourceFile>,
    pub decls: Vec<Decl>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses one rule file.
pub fn parse_file(source: Arc<SourceFile>) -> ParsedFile {
    let mut decls = Vec::new();
    let mut diagnostics = Vec::new();
    for chunk in split::split(&source.text) {
        let Some(text) = source.text.get(chunk.start..chunk.end) else {
            continue;
        };
        match TallyParser::parse(Rule::decl, text) {
            Ok(mut pairs) => {
                let builder = Builder {
                    offset: chunk.start,
                };
                if let Some(decl) = pairs.next().and_then(|p| builder.decl(p, chunk.doc)) {
                    decls.push(decl);
                }
            }
            Err(error) => diagnostics.push(syntax_error(&source, chunk.start, text, &error)),
        }
    }
    ParsedFile {
        source,
        decls,
        diagnostics,
    }
}

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
    let kind = text.split_whitespace().next().unwrap_or("");
    let help = match field_help(kind) {
        Some(h) => h,
        None => format!(
            "a declaration starts with one of {}, then its name and a `{{ … }}` block",
            split::DECLARATION_KEYWORDS
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let end = pos + found.map_or(0, str::len);
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
    .with_help(help)
}

/// The token at `pos`: a word, a string start or one punctuation character.
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

/// Which fields a declaration kind takes, for the help line of a syntax error.
fn field_help(keyword: &str) -> Option<String> {
    let kind = [
        DeclKind::Publisher,
        DeclKind::Product,
        DeclKind::Application,
        DeclKind::Rights,
        DeclKind::Bundle,
        DeclKind::Metric,
        DeclKind::Sku,
        DeclKind::Test,
    ]
    .into_iter()
    .find(|k| k.keyword() == keyword)?;
    let fields: Vec<String> = kind
        .fields()
        .iter()
        .map(|(k, _, _)| format!("`{k}`"))
        .collect();
    let list = or_list(&fields.iter().map(String::as_str).collect::<Vec<_>>())?;
    Some(format!(
        "a `{keyword}` block takes {list}; see docs/language.md",
        list = list.replacen(" or ", " and ", 1)
    ))
}

/// How a grammar rule is named in messages; `None` for rules that are never worth naming.
fn describe(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "the end of the declaration",
        Rule::ident | Rule::segment => "a name such as `microsoft.visio`",
        Rule::string | Rule::string_text => "a quoted string",
        Rule::word => "a keyword",
        Rule::open => "`{`",
        Rule::close => "`}`",
        Rule::pattern | Rule::like_pattern => "a string or `like \"…\"`",
        Rule::kw_publisher => "`publisher`",
        Rule::kw_product => "`product`",
        Rule::kw_application => "`application`",
        Rule::kw_rights => "`rights`",
        Rule::kw_bundle => "`bundle`",
        Rule::kw_metric => "`metric`",
        Rule::kw_sku => "`sku`",
        Rule::kw_test => "`test`",
        Rule::kw_name => "`name`",
        Rule::kw_aliases => "`aliases`",
        Rule::kw_classification => "`classification`",
        Rule::kw_editions => "`editions`",
        Rule::kw_version => "`version`",
        Rule::kw_edition => "`edition`",
        Rule::kw_recognize => "`recognize`",
        Rule::kw_installer => "`installer`",
        Rule::kw_like => "`like`",
        Rule::kw_covers => "`covers`",
        Rule::kw_downgrade => "`downgrade`",
        Rule::kw_upgrade => "`upgrade`",
        Rule::kw_primary => "`primary`",
        Rule::kw_supplementary => "`supplementary`",
        Rule::kw_counts => "`counts`",
        Rule::kw_license => "`license`",
        Rule::kw_duration => "`duration`",
        Rule::kw_given => "`given`",
        Rule::kw_expect => "`expect`",
        Rule::kw_no => "`no`",
        Rule::kw_not => "`not`",
        Rule::kw_covered => "`covered`",
        Rule::kw_by => "`by`",
        Rule::kw_via => "`via`",
        Rule::kw_unrecognized => "`unrecognized`",
        _ => return None,
    })
}

/// Builds syntax-tree nodes from pest pairs, shifting spans by the chunk's offset in the file.
struct Builder {
    offset: usize,
}

/// Whether a pair is a keyword token, which carries no information once parsed.
fn is_keyword(pair: &Pair<'_, Rule>) -> bool {
    matches!(
        pair.as_rule(),
        Rule::open
            | Rule::close
            | Rule::kw_publisher
            | Rule::kw_product
            | Rule::kw_application
            | Rule::kw_rights
            | Rule::kw_bundle
            | Rule::kw_metric
            | Rule::kw_sku
            | Rule::kw_test
            | Rule::kw_name
            | Rule::kw_aliases
            | Rule::kw_classification
            | Rule::kw_editions
            | Rule::kw_version
            | Rule::kw_edition
            | Rule::kw_recognize
            | Rule::kw_installer
            | Rule::kw_like
            | Rule::kw_covers
            | Rule::kw_downgrade
            | Rule::kw_upgrade
            | Rule::kw_primary
            | Rule::kw_supplementary
            | Rule::kw_counts
            | Rule::kw_license
            | Rule::kw_duration
            | Rule::kw_given
            | Rule::kw_expect
            | Rule::kw_no
            | Rule::kw_not
            | Rule::kw_covered
            | Rule::kw_by
            | Rule::kw_via
            | Rule::kw_unrecognized
    )
}

impl Builder {
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.offset + s.start(), self.offset + s.end())
    }

    fn spanned_text(&self, pair: &Pair<'_, Rule>) -> Spanned<String> {
        Spanned {
            value: pair.as_str().to_string(),
            span: self.span(pair),
        }
    }

    /// A string literal's unescaped content, spanned over the whole literal.
    fn string(&self, pair: &Pair<'_, Rule>) -> Spanned<String> {
        let raw = pair.as_str();
        let inner = raw.get(1..raw.len().saturating_sub(1)).unwrap_or("");
        Spanned {
            value: inner.replace("\\\"", "\"").replace("\\\\", "\\"),
            span: self.span(pair),
        }
    }

    /// The meaningful children of a pair (keywords and braces dropped).
    fn children<'i>(pair: &Pair<'i, Rule>) -> Vec<Pair<'i, Rule>> {
        pair.clone()
            .into_inner()
            .filter(|p| !is_keyword(p))
            .collect()
    }

    fn decl(&self, pair: Pair<'_, Rule>, doc: Vec<String>) -> Option<Decl> {
        let inner = pair.into_inner().find(|p| p.as_rule() != Rule::EOI)?;
        let kind = match inner.as_rule() {
            Rule::publisher_decl => DeclKind::Publisher,
            Rule::product_decl => DeclKind::Product,
            Rule::application_decl => DeclKind::Application,
            Rule::rights_decl => DeclKind::Rights,
            Rule::bundle_decl => DeclKind::Bundle,
            Rule::metric_decl => DeclKind::Metric,
            Rule::sku_decl => DeclKind::Sku,
            Rule::test_decl => DeclKind::Test,
            _ => return None,
        };
        let span = self.span(&inner);
        let mut children = Self::children(&inner).into_iter();
        let name_pair = children.next()?;
        let name = match name_pair.as_rule() {
            Rule::string => self.string(&name_pair),
            _ => self.spanned_text(&name_pair),
        };
        let fields = children.filter_map(|p| self.field(p)).collect();
        Some(Decl {
            kind,
            name,
            doc,
            span,
            fields,
        })
    }

    fn field(&self, pair: Pair<'_, Rule>) -> Option<Field> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let kids = Self::children(&pair);
        let first = kids.first();
        let (key, value) = match rule {
            Rule::name_field => ("name", Value::Str(self.string(first?))),
            Rule::aliases_field => (
                "aliases",
                Value::StrList(kids.iter().map(|p| self.string(p)).collect()),
            ),
            Rule::editions_field => (
                "editions",
                Value::StrList(kids.iter().map(|p| self.string(p)).collect()),
            ),
            Rule::publisher_ref => ("publisher", Value::Ref(self.spanned_text(first?))),
            Rule::product_ref => ("product", Value::Ref(self.spanned_text(first?))),
            Rule::metric_ref => ("metric", Value::Ref(self.spanned_text(first?))),
            Rule::rights_ref => ("rights", Value::Ref(self.spanned_text(first?))),
            Rule::classification_field => {
                ("classification", Value::Word(self.spanned_text(first?)))
            }
            Rule::counts_field => ("counts", Value::Word(self.spanned_text(first?))),
            Rule::duration_field => ("duration", Value::Word(self.spanned_text(first?))),
            Rule::version_field => ("version", Value::Str(self.string(first?))),
            Rule::edition_field => ("edition", Value::Str(self.string(first?))),
            Rule::license_field => ("license", Value::Str(self.string(first?))),
            Rule::downgrade_flag => ("downgrade", Value::Flag),
            Rule::upgrade_flag => ("upgrade", Value::Flag),
            Rule::primary_field => (
                "primary",
                Value::RefList(kids.iter().map(|p| self.spanned_text(p)).collect()),
            ),
            Rule::supplementary_field => (
                "supplementary",
                Value::RefList(kids.iter().map(|p| self.spanned_text(p)).collect()),
            ),
            Rule::covers_field => {
                let edition = kids
                    .get(1)
                    .and_then(|e| Self::children(e).first().map(|s| self.string(s)));
                (
                    "covers",
                    Value::Covers {
                        target: self.spanned_text(first?),
                        edition,
                    },
                )
            }
            Rule::recognize_installer => (
                "recognize installer",
                Value::Block(
                    kids.into_iter()
                        .filter_map(|p| self.match_field(p))
                        .collect(),
                ),
            ),
            Rule::given_installer => (
                "given",
                Value::Block(
                    kids.into_iter()
                        .filter_map(|p| self.match_field(p))
                        .collect(),
                ),
            ),
            Rule::given_application => {
                ("given", Value::GivenApplication(self.spanned_text(first?)))
            }
            Rule::expect_item => ("expect", Value::Expect(self.expectation(first?)?)),
            _ => return None,
        };
        Some(Field { key, span, value })
    }

    /// `name like "…"` inside `recognize installer`, or `name "…"` inside `given installer`.
    fn match_field(&self, pair: Pair<'_, Rule>) -> Option<Field> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let key = match inner.next()?.as_str() {
            "publisher" => "publisher",
            "name" => "name",
            _ => "version",
        };
        let value_pair = inner.next()?;
        let value = match value_pair.as_rule() {
            Rule::pattern => {
                let p = value_pair.into_inner().next()?;
                match p.as_rule() {
                    Rule::like_pattern => {
                        let s = Self::children(&p).into_iter().next()?;
                        Value::Pattern(PatternAst {
                            like: true,
                            text: self.string(&s),
                        })
                    }
                    _ => Value::Pattern(PatternAst {
                        like: false,
                        text: self.string(&p),
                    }),
                }
            }
            _ => Value::Str(self.string(&value_pair)),
        };
        Some(Field { key, span, value })
    }

    fn expectation(&self, pair: &Pair<'_, Rule>) -> Option<ExpectAst> {
        let kids = Self::children(pair);
        Some(match pair.as_rule() {
            Rule::expect_application => ExpectAst::Application(self.spanned_text(kids.first()?)),
            Rule::expect_no_application => {
                ExpectAst::NoApplication(self.spanned_text(kids.first()?))
            }
            Rule::expect_unrecognized => ExpectAst::Unrecognized,
            Rule::expect_covered => ExpectAst::CoveredBy {
                target: self.target(kids.first()?)?,
                via: kids.get(1).map(|w| self.spanned_text(w)),
            },
            Rule::expect_not_covered => ExpectAst::NotCoveredBy(self.target(kids.first()?)?),
            _ => return None,
        })
    }

    fn target(&self, pair: &Pair<'_, Rule>) -> Option<TargetAst> {
        let inner = pair.clone().into_inner().next()?;
        Some(match inner.as_rule() {
            Rule::sku_target => TargetAst::Sku(self.string(Self::children(&inner).first()?)),
            _ => TargetAst::Rights(self.spanned_text(&inner)),
        })
    }
}
