//! Expressions: operator precedence is bound with pest's Pratt parser, from loosest to
//! tightest: `or`; `and`; `not`; comparisons and `like`; `+ -`; `* /`; unary `-`; table
//! lookup `[…]`.

use std::str::FromStr;
use std::sync::LazyLock;

use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};
use rust_decimal::Decimal;

use super::Rule;
use super::ast::{ExprAst, ExprKind, Spanned};
use crate::diagnostics::Span;
use crate::ir::{BinOp, UnOp};

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::or, Assoc::Left))
        .op(Op::infix(Rule::and, Assoc::Left))
        .op(Op::prefix(Rule::not))
        .op(Op::infix(Rule::eq, Assoc::Left)
            | Op::infix(Rule::ne, Assoc::Left)
            | Op::infix(Rule::lt, Assoc::Left)
            | Op::infix(Rule::le, Assoc::Left)
            | Op::infix(Rule::gt, Assoc::Left)
            | Op::infix(Rule::ge, Assoc::Left)
            | Op::infix(Rule::like, Assoc::Left))
        .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
        .op(Op::infix(Rule::mul, Assoc::Left) | Op::infix(Rule::div, Assoc::Left))
        .op(Op::prefix(Rule::neg))
        .op(Op::postfix(Rule::lookup))
});

/// How deep an expression may nest: operators applied to operators, brackets in brackets,
/// `if` in `if`. The compiler and the runtime walk expression trees recursively, so a deeper one
/// (`- - - … 1` thousands of times, say) would overflow the stack; real metrics nest a few
/// levels.
pub const MAX_DEPTH: usize = 128;

/// Where text that starts with an expression first nests more than [`MAX_DEPTH`] brackets and
/// `if`s deep, as a byte offset, before the parser (which recurses on them) reads it. Counted
/// up to the end of `text`, which may run past the expression: a conservative bound.
pub fn too_deep_before_parsing(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let (mut depth, mut ifs, mut at) = (0usize, 0usize, 0usize);
    while let Some(&b) = bytes.get(at) {
        match b {
            b'"' => {
                // A string: skip to its closing quote, past `\"` and `\\`.
                at += 1;
                while let Some(&c) = bytes.get(at) {
                    match c {
                        b'\\' => at += 2,
                        b'"' | b'\n' => break,
                        _ => at += 1,
                    }
                }
            }
            b'/' if bytes.get(at + 1) == Some(&b'/') => {
                while bytes.get(at).is_some_and(|&c| c != b'\n') {
                    at += 1;
                }
            }
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth = depth.saturating_sub(1),
            b'i' if bytes.get(at + 1) == Some(&b'f')
                && !at
                    .checked_sub(1)
                    .and_then(|before| bytes.get(before))
                    .is_some_and(|&c| is_ident_byte(c))
                && !bytes.get(at + 2).is_some_and(|&c| is_ident_byte(c)) =>
            {
                ifs += 1;
            }
            _ => {}
        }
        if depth + ifs > MAX_DEPTH {
            return Some(at);
        }
        at += 1;
    }
    None
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.'
}

/// An upper bound on the depth of the tree an `expr` pair builds: along every path, one level
/// for each operator of each enclosing expression, and one for each enclosing expression.
/// Walks the pairs without recursion.
pub fn depth_bound(pair: &Pair<'_, Rule>) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(pair.clone(), 0usize)];
    while let Some((pair, depth)) = stack.pop() {
        let depth = if pair.as_rule() == Rule::expr {
            let operators = pair
                .clone()
                .into_inner()
                .filter(|p| is_operator(p.as_rule()))
                .count();
            depth + operators + 1
        } else {
            depth
        };
        deepest = deepest.max(depth);
        stack.extend(pair.into_inner().map(|p| (p, depth)));
    }
    deepest
}

fn is_operator(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::or
            | Rule::and
            | Rule::not
            | Rule::eq
            | Rule::ne
            | Rule::lt
            | Rule::le
            | Rule::gt
            | Rule::ge
            | Rule::like
            | Rule::add
            | Rule::sub
            | Rule::mul
            | Rule::div
            | Rule::neg
            | Rule::lookup
    )
}

/// A literal that cannot be represented, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLiteral {
    pub span: Span,
    pub text: String,
}

/// Builds expression trees, shifting spans by `offset` (the text's place in the file).
pub struct ExprBuilder {
    pub offset: usize,
}

impl ExprBuilder {
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.offset + s.start(), self.offset + s.end())
    }

    fn spanned(&self, pair: &Pair<'_, Rule>) -> Spanned<String> {
        Spanned {
            value: pair.as_str().to_string(),
            span: self.span(pair),
        }
    }

    /// Builds the tree of an `expr` pair.
    pub fn expr(&self, pair: Pair<'_, Rule>) -> Result<ExprAst, BadLiteral> {
        PRATT
            .map_primary(|p| self.primary(p))
            .map_prefix(|op, rhs| {
                let rhs = rhs?;
                let unary = if op.as_rule() == Rule::neg {
                    UnOp::Neg
                } else {
                    UnOp::Not
                };
                Ok(ExprAst {
                    span: Span::new(self.span(&op).start, rhs.span.end),
                    kind: ExprKind::Unary(unary, Box::new(rhs)),
                    bracketed: false,
                })
            })
            .map_postfix(|lhs, op| {
                let lhs = lhs?;
                let span = Span::new(lhs.span.start, self.span(&op).end);
                let keys = op
                    .into_inner()
                    .map(|k| self.expr(k))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(ExprAst {
                    span,
                    kind: ExprKind::Lookup {
                        table: Box::new(lhs),
                        keys,
                    },
                    bracketed: false,
                })
            })
            .map_infix(|lhs, op, rhs| {
                let (lhs, rhs) = (lhs?, rhs?);
                let op = match op.as_rule() {
                    Rule::or => BinOp::Or,
                    Rule::and => BinOp::And,
                    Rule::eq => BinOp::Eq,
                    Rule::ne => BinOp::Ne,
                    Rule::lt => BinOp::Lt,
                    Rule::le => BinOp::Le,
                    Rule::gt => BinOp::Gt,
                    Rule::ge => BinOp::Ge,
                    Rule::like => BinOp::Like,
                    Rule::add => BinOp::Add,
                    Rule::sub => BinOp::Sub,
                    Rule::mul => BinOp::Mul,
                    _ => BinOp::Div,
                };
                Ok(ExprAst {
                    span: Span::new(lhs.span.start, rhs.span.end),
                    kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                    bracketed: false,
                })
            })
            .parse(pair.into_inner())
    }

    fn primary(&self, pair: Pair<'_, Rule>) -> Result<ExprAst, BadLiteral> {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::expr => {
                return self.expr(pair).map(|inner| ExprAst {
                    bracketed: true,
                    ..inner
                });
            }
            Rule::number => ExprKind::Number(self.number(&pair)?),
            Rule::string => ExprKind::Text(unescape(pair.as_str())),
            Rule::boolean => ExprKind::Bool(pair.as_str() == "true"),
            Rule::path => ExprKind::Path(pair.as_str().to_string()),
            Rule::if_expr => {
                let mut parts = pair
                    .into_inner()
                    .filter(|p| p.as_rule() == Rule::expr)
                    .map(|p| self.expr(p));
                let (Some(c), Some(t), Some(e)) = (parts.next(), parts.next(), parts.next()) else {
                    return Err(BadLiteral {
                        span,
                        text: String::new(),
                    });
                };
                ExprKind::If(Box::new(c?), Box::new(t?), Box::new(e?))
            }
            Rule::call => {
                let mut inner = pair.into_inner();
                let function = inner.next().map(|f| self.spanned(&f)).unwrap_or(Spanned {
                    value: String::new(),
                    span,
                });
                let args = inner.map(|a| self.expr(a)).collect::<Result<_, _>>()?;
                ExprKind::Call { function, args }
            }
            Rule::aggregate | Rule::count => {
                let counting = pair.as_rule() == Rule::count;
                let mut function = None;
                let mut body = None;
                let mut binder = None;
                let mut collection = None;
                let mut filter = None;
                for part in pair.into_inner() {
                    match part.as_rule() {
                        Rule::function => function = Some(self.spanned(&part)),
                        Rule::binder => binder = Some(self.spanned(&part)),
                        Rule::path => collection = Some(self.spanned(&part)),
                        Rule::expr if !counting && body.is_none() && binder.is_none() => {
                            body = Some(Box::new(self.expr(part)?))
                        }
                        Rule::expr => filter = Some(Box::new(self.expr(part)?)),
                        _ => {}
                    }
                }
                let empty = Spanned {
                    value: String::new(),
                    span,
                };
                ExprKind::Aggregate {
                    function: function.unwrap_or_else(|| empty.clone()),
                    body,
                    binder: binder.unwrap_or_else(|| empty.clone()),
                    collection: collection.unwrap_or(empty),
                    filter,
                }
            }
            _ => {
                return Err(BadLiteral {
                    span,
                    text: pair.as_str().to_string(),
                });
            }
        };
        Ok(ExprAst {
            kind,
            span,
            bracketed: false,
        })
    }

    /// A decimal literal; one too large for a decimal is an error.
    pub fn number(&self, pair: &Pair<'_, Rule>) -> Result<Decimal, BadLiteral> {
        Decimal::from_str(pair.as_str()).map_err(|_| BadLiteral {
            span: self.span(pair),
            text: pair.as_str().to_string(),
        })
    }
}

/// A string literal's content with `\"` and `\\` unescaped.
pub fn unescape(raw: &str) -> String {
    let inner = raw.get(1..raw.len().saturating_sub(1)).unwrap_or("");
    inner.replace("\\\"", "\"").replace("\\\\", "\\")
}
