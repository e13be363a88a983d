//! Type checking of metric expressions and lowering of `metric` and `table` declarations.
//!
//! Expressions are checked against the records a metric can read (the holder, `license`, and
//! the elements of the collections they hold); every unknown name, unknown field, unknown
//! function and type error is one coded diagnostic, and the expression is lowered to the IR
//! only when it is sound.

use std::sync::Arc;

use rust_decimal::Decimal;

use super::Checker;
use crate::diagnostics::{self, SourceFile, Span, codes};
use crate::ir::{
    Aggregation, BinOp, Counts, Expr, Function, Hardware, Key, KeyType, Limit, Metric, Quantity,
    Row, Table, UnOp,
};
use crate::syntax::ast::{BoundAst, Decl, DeclKind, ExprAst, ExprKind, KeyAst, RangeAst, Value};

/// The records expressions can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    Machine,
    Processor,
    User,
    Installation,
    Usage,
    License,
}

/// The type of an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Number,
    Text,
    Bool,
    Date,
    Record(Record),
    List(Record),
}

impl Ty {
    fn describe(self) -> &'static str {
        match self {
            Self::Number => "a number",
            Self::Text => "text",
            Self::Bool => "`true` or `false`",
            Self::Date => "a date",
            Self::Record(r) => r.describe(),
            Self::List(r) => r.describe_list(),
        }
    }
}

impl Record {
    fn describe(self) -> &'static str {
        match self {
            Self::Machine => "a machine",
            Self::Processor => "a processor",
            Self::User => "a user",
            Self::Installation => "an installation",
            Self::Usage => "a usage row",
            Self::License => "a license",
        }
    }

    fn describe_list(self) -> &'static str {
        match self {
            Self::Machine => "a list of machines",
            Self::Processor => "a list of processors",
            Self::User => "a list of users",
            Self::Installation => "a list of installations",
            Self::Usage => "a list of usage rows",
            Self::License => "a list of licenses",
        }
    }

    /// The fields of the record and their types. The runtime binds the same names.
    pub fn fields(self) -> &'static [(&'static str, Ty)] {
        match self {
            Self::Machine => &[
                ("id", Ty::Text),
                ("cores", Ty::Number),
                ("processors", Ty::Number),
                ("sockets", Ty::Number),
                ("max_sockets", Ty::Number),
                ("threads", Ty::Number),
                ("processor_model", Ty::Text),
                ("purchased", Ty::Date),
                ("virtual", Ty::Bool),
                ("partition", Ty::Text),
                ("cloud", Ty::Bool),
                ("subcapacity_eligible", Ty::Bool),
                ("installed", Ty::Bool),
                ("processor_list", Ty::List(Record::Processor)),
                ("vms", Ty::List(Record::Machine)),
                ("hosts", Ty::List(Record::Machine)),
            ],
            Self::Processor => &[("cores", Ty::Number), ("model", Ty::Text)],
            Self::User => &[("id", Ty::Text), ("devices", Ty::List(Record::Machine))],
            Self::Installation => &[("device", Ty::Text), ("application", Ty::Text)],
            Self::Usage => &[("at", Ty::Text), ("in_use", Ty::Number)],
            Self::License => &[
                ("id", Ty::Text),
                ("installations", Ty::List(Record::Installation)),
                ("devices", Ty::List(Record::Machine)),
                ("users", Ty::List(Record::User)),
                ("usage", Ty::List(Record::Usage)),
                ("subcapacity", Ty::Bool),
                ("metric_value", Ty::Number),
            ],
        }
    }
}

/// The record a holder variable has.
pub fn holder_record(counts: Counts) -> Record {
    match counts {
        Counts::Device | Counts::Host | Counts::Cluster => Record::Machine,
        Counts::User => Record::User,
        Counts::License => Record::License,
    }
}

/// The variables in scope, innermost last.
type Scope = Vec<(String, Ty)>;

impl Checker<'_> {
    /// Checks an expression and lowers it; `None` (with diagnostics) when it is unsound.
    pub(super) fn check_expr(
        &mut self,
        source: &Arc<SourceFile>,
        scope: &mut Scope,
        ast: &ExprAst,
    ) -> Option<(Expr, Ty)> {
        match &ast.kind {
            ExprKind::Number(n) => Some((Expr::Number(*n), Ty::Number)),
            ExprKind::Text(t) => Some((Expr::Text(t.clone()), Ty::Text)),
            ExprKind::Bool(b) => Some((Expr::Bool(*b), Ty::Bool)),
            ExprKind::Path(path) => self.check_path(source, scope, path, ast.span),
            ExprKind::Unary(op, inner) => {
                let (e, ty) = self.check_expr(source, scope, inner)?;
                let want = if *op == UnOp::Neg {
                    Ty::Number
                } else {
                    Ty::Bool
                };
                self.expect_type(source, inner.span, ty, want, "this operand")?;
                Some((Expr::Unary(*op, Box::new(e)), want))
            }
            ExprKind::Binary(op, l, r) => {
                let left = self.check_expr(source, scope, l);
                let right = self.check_expr(source, scope, r);
                let ((le, lt), (re, rt)) = (left?, right?);
                let ty = self.binary_type(source, *op, (l.span, lt), (r.span, rt))?;
                Some((Expr::Binary(*op, Box::new(le), Box::new(re)), ty))
            }
            ExprKind::If(c, t, e) => {
                let cond = self.check_expr(source, scope, c);
                let then = self.check_expr(source, scope, t);
                let other = self.check_expr(source, scope, e);
                let ((ce, ct), (te, tt), (ee, et)) = (cond?, then?, other?);
                self.expect_type(source, c.span, ct, Ty::Bool, "the condition")?;
                self.expect_type(source, e.span, et, tt, "the `else` branch")?;
                Some((Expr::If(Box::new(ce), Box::new(te), Box::new(ee)), tt))
            }
            ExprKind::Call { function, args } => {
                let Some(f) = Function::NAMES
                    .iter()
                    .find(|(n, _)| *n == function.value)
                    .map(|(_, f)| *f)
                else {
                    self.unknown_function(source, &function.value, function.span);
                    return None;
                };
                let (min, max) = match f {
                    Function::Min | Function::Max => (2, usize::MAX),
                    Function::Ceil | Function::Floor => (1, 1),
                    Function::Round => (2, 2),
                };
                if args.len() < min || args.len() > max {
                    let wanted = match f {
                        Function::Min | Function::Max => "two or more numbers".to_string(),
                        Function::Ceil | Function::Floor => "one number".to_string(),
                        Function::Round => "a number and the decimal places".to_string(),
                    };
                    self.push(
                        codes::UNKNOWN_FUNCTION,
                        source,
                        ast.span,
                        format!("`{}` takes {wanted}, not {}", f.as_str(), args.len()),
                        "wrong number of arguments",
                        format!("write `{}` with {wanted}", f.as_str()),
                    );
                    return None;
                }
                let mut lowered = Vec::new();
                let mut sound = true;
                for arg in args {
                    match self.check_expr(source, scope, arg) {
                        Some((e, ty)) => {
                            sound &= self
                                .expect_type(source, arg.span, ty, Ty::Number, "an argument")
                                .is_some();
                            lowered.push(e);
                        }
                        None => sound = false,
                    }
                }
                sound.then_some((Expr::Call(f, lowered), Ty::Number))
            }
            ExprKind::Aggregate {
                function,
                body,
                binder,
                collection,
                filter,
            } => {
                let op = Aggregation::NAMES
                    .iter()
                    .find(|(n, _)| *n == function.value)
                    .map(|(_, a)| *a);
                let Some(op) = op else {
                    self.unknown_function(source, &function.value, function.span);
                    return None;
                };
                if (op == Aggregation::Count) != body.is_none() {
                    let help = if op == Aggregation::Count {
                        "write `count(v in host.vms)`, with a `where` to filter".to_string()
                    } else {
                        format!("write `{}(v.cores for v in host.vms)`", op.as_str())
                    };
                    self.push(
                        codes::UNKNOWN_FUNCTION,
                        source,
                        function.span,
                        format!("`{}` is written differently", op.as_str()),
                        "wrong form",
                        help,
                    );
                    return None;
                }
                let (coll, coll_ty) =
                    self.check_path(source, scope, &collection.value, collection.span)?;
                let Ty::List(element) = coll_ty else {
                    self.push(
                        codes::TYPE_MISMATCH,
                        source,
                        collection.span,
                        format!(
                            "`{}` is {}, not a list to go through",
                            collection.value,
                            coll_ty.describe()
                        ),
                        "not a list",
                        "go through a list such as `host.vms` or `device.processor_list`"
                            .to_string(),
                    );
                    return None;
                };
                scope.push((binder.value.clone(), Ty::Record(element)));
                let body = body.as_ref().map(|b| {
                    self.check_expr(source, scope, b).and_then(|(e, ty)| {
                        self.expect_type(source, b.span, ty, Ty::Number, "the value")?;
                        Some(Box::new(e))
                    })
                });
                let filter = filter.as_ref().map(|f| {
                    self.check_expr(source, scope, f).and_then(|(e, ty)| {
                        self.expect_type(source, f.span, ty, Ty::Bool, "the `where` condition")?;
                        Some(Box::new(e))
                    })
                });
                scope.pop();
                let body = match body {
                    Some(b) => Some(b?),
                    None => None,
                };
                let filter = match filter {
                    Some(f) => Some(f?),
                    None => None,
                };
                Some((
                    Expr::Aggregate {
                        op,
                        var: binder.value.clone(),
                        collection: Box::new(coll),
                        body,
                        filter,
                    },
                    Ty::Number,
                ))
            }
            ExprKind::Lookup { table, keys } => self.check_lookup(source, scope, table, keys),
        }
    }

    fn unknown_function(&mut self, source: &Arc<SourceFile>, name: &str, span: Span) {
        let names = Function::NAMES
            .iter()
            .map(|(n, _)| *n)
            .chain(Aggregation::NAMES.iter().map(|(n, _)| *n));
        let help = match diagnostics::closest(name, names) {
            Some(near) => format!("did you mean `{near}`?"),
            None => "the functions are `min`, `max`, `ceil`, `floor`, `round`, `sum`, `count`"
                .to_string(),
        };
        self.push(
            codes::UNKNOWN_FUNCTION,
            source,
            span,
            format!("unknown function `{name}`"),
            "no such function",
            help,
        );
    }

    fn expect_type(
        &mut self,
        source: &Arc<SourceFile>,
        span: Span,
        have: Ty,
        want: Ty,
        what: &str,
    ) -> Option<()> {
        if have == want {
            return Some(());
        }
        self.push(
            codes::TYPE_MISMATCH,
            source,
            span,
            format!(
                "{what} must be {}, but it is {}",
                want.describe(),
                have.describe()
            ),
            &format!("{} here", have.describe()),
            format!("write an expression that gives {}", want.describe()),
        );
        None
    }

    fn binary_type(
        &mut self,
        source: &Arc<SourceFile>,
        op: BinOp,
        (lspan, lt): (Span, Ty),
        (rspan, rt): (Span, Ty),
    ) -> Option<Ty> {
        let operand = format!("an operand of `{}`", op.symbol());
        match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => {
                let l = self.expect_type(source, lspan, lt, Ty::Number, &operand);
                let r = self.expect_type(source, rspan, rt, Ty::Number, &operand);
                l.and(r).map(|()| Ty::Number)
            }
            BinOp::And | BinOp::Or => {
                let l = self.expect_type(source, lspan, lt, Ty::Bool, &operand);
                let r = self.expect_type(source, rspan, rt, Ty::Bool, &operand);
                l.and(r).map(|()| Ty::Bool)
            }
            BinOp::Like => {
                let l = self.expect_type(source, lspan, lt, Ty::Text, &operand);
                let r = self.expect_type(source, rspan, rt, Ty::Text, &operand);
                l.and(r).map(|()| Ty::Bool)
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let comparable = match op {
                    BinOp::Eq | BinOp::Ne => {
                        matches!(lt, Ty::Number | Ty::Text | Ty::Bool | Ty::Date)
                    }
                    _ => matches!(lt, Ty::Number | Ty::Date),
                };
                if !comparable {
                    self.push(
                        codes::TYPE_MISMATCH,
                        source,
                        lspan,
                        format!(
                            "{} cannot be compared with `{}`",
                            lt.describe(),
                            op.symbol()
                        ),
                        "not comparable",
                        "compare numbers or dates, or test text with `==` or `like`".to_string(),
                    );
                    return None;
                }
                self.expect_type(source, rspan, rt, lt, &operand)
                    .map(|()| Ty::Bool)
            }
        }
    }

    /// A variable and its fields: `device.cores`, `p`, `host.vms`.
    fn check_path(
        &mut self,
        source: &Arc<SourceFile>,
        scope: &Scope,
        path: &str,
        span: Span,
    ) -> Option<(Expr, Ty)> {
        let mut segments = path.split('.');
        let root = segments.next().unwrap_or("");
        let Some((_, ty)) = scope.iter().rev().find(|(n, _)| n == root) else {
            if self.lookup(DeclKind::Table, path).is_some() {
                self.push(
                    codes::TYPE_MISMATCH,
                    source,
                    span,
                    format!("table `{path}` is used without keys"),
                    "a table needs keys",
                    format!("look a value up with `{path}[…]`"),
                );
                return None;
            }
            let names: Vec<&str> = scope.iter().map(|(n, _)| n.as_str()).collect();
            let help = match diagnostics::closest(root, names.iter().copied()) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!(
                    "the names here are {}",
                    names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let root_span = Span::new(span.start, span.start + root.len());
            self.push(
                codes::UNKNOWN_VARIABLE,
                source,
                root_span,
                format!("unknown name `{root}`"),
                "not defined here",
                help,
            );
            return None;
        };
        let mut ty = *ty;
        let mut expr = Expr::Var(root.to_string());
        let mut at = span.start + root.len() + 1;
        for segment in segments {
            let seg_span = Span::new(at, at + segment.len());
            at += segment.len() + 1;
            let Ty::Record(record) = ty else {
                self.push(
                    codes::TYPE_MISMATCH,
                    source,
                    seg_span,
                    format!("{} has no fields", ty.describe()),
                    "no field here",
                    "read fields of a machine, user, license or list element".to_string(),
                );
                return None;
            };
            let Some((_, field_ty)) = record.fields().iter().find(|(n, _)| *n == segment) else {
                let help =
                    match diagnostics::closest(segment, record.fields().iter().map(|(n, _)| *n)) {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => format!(
                            "{} has {}",
                            record.describe(),
                            record
                                .fields()
                                .iter()
                                .map(|(n, _)| format!("`{n}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                self.push(
                    codes::UNKNOWN_VARIABLE,
                    source,
                    seg_span,
                    format!("{} has no field `{segment}`", record.describe()),
                    "unknown field",
                    help,
                );
                return None;
            };
            ty = *field_ty;
            expr = Expr::Field(Box::new(expr), segment.to_string());
        }
        Some((expr, ty))
    }

    fn check_lookup(
        &mut self,
        source: &Arc<SourceFile>,
        scope: &mut Scope,
        table: &ExprAst,
        keys: &[ExprAst],
    ) -> Option<(Expr, Ty)> {
        let ExprKind::Path(name) = &table.kind else {
            self.push(
                codes::TYPE_MISMATCH,
                source,
                table.span,
                "only a table can be looked up with `[…]`".to_string(),
                "not a table",
                "write a table name such as `oracle.core_factor[…]`".to_string(),
            );
            return None;
        };
        let name_spanned = crate::syntax::ast::Spanned {
            value: name.clone(),
            span: table.span,
        };
        self.resolve(source, &name_spanned, &[DeclKind::Table])?;
        let types = self.table_key_types(name);
        let mut lowered = Vec::new();
        let mut sound = true;
        for key in keys {
            match self.check_expr(source, scope, key) {
                Some((e, ty)) => {
                    lowered.push(e);
                    let want = types.get(lowered.len() - 1).copied();
                    if let Some(want) = want {
                        let want = match want {
                            KeyType::Text => Ty::Text,
                            KeyType::Number => Ty::Number,
                            KeyType::Date => Ty::Date,
                        };
                        sound &= self
                            .expect_type(source, key.span, ty, want, "this key")
                            .is_some();
                    }
                }
                None => sound = false,
            }
        }
        if !types.is_empty() && types.len() != keys.len() {
            self.push(
                codes::TYPE_MISMATCH,
                source,
                table.span,
                format!(
                    "table `{name}` has {} key(s), but {} are given",
                    types.len(),
                    keys.len()
                ),
                "wrong number of keys",
                format!(
                    "give one key per column the table's `keys` lists ({})",
                    types.len()
                ),
            );
            return None;
        }
        sound.then(|| {
            (
                Expr::Lookup {
                    table: name.clone(),
                    keys: lowered,
                },
                Ty::Number,
            )
        })
    }

    /// The key types of a declared table, as written (unknown words are left out).
    fn table_key_types(&self, name: &str) -> Vec<KeyType> {
        match self.projection(DeclKind::Table, name) {
            super::Projection::Keys(keys) => keys,
            _ => Vec::new(),
        }
    }

    pub(super) fn lower_metric(&mut self, source: &Arc<SourceFile>, decl: &Decl) -> Option<Metric> {
        let counts = super::first_word(decl, "counts")
            .and_then(|w| self.word(source, w, "unit to count", Counts::NAMES))?;
        let mut metric = Metric::simple(&decl.name.value, counts);
        for field in &decl.fields {
            match (&field.value, field.key) {
                (Value::WordList(words), "requires") => {
                    for w in words {
                        if let Some(h) = self.word(source, w, "hardware value", Hardware::NAMES) {
                            metric.requires.push(h);
                        }
                    }
                }
                (Value::Limit { what, range }, _) => {
                    let hardware = self.word(
                        source,
                        what,
                        "limit",
                        &[
                            ("cores", Hardware::Cores),
                            ("processors", Hardware::Processors),
                            ("sockets", Hardware::Sockets),
                        ],
                    );
                    let bounds = self.number_range(source, range);
                    if let (Some(hardware), Some((min, max))) = (hardware, bounds) {
                        metric.limits.push(Limit { hardware, min, max });
                    }
                }
                (Value::Flag, "allocated_only") => metric.allocated_only = true,
                _ => {}
            }
        }
        let quantity = decl.fields.iter().find(|f| f.key == "quantity");
        let script = decl.fields.iter().find(|f| f.key == "script");
        if let (Some(_), Some(second)) = (quantity, script) {
            self.push(
                codes::DUPLICATE_FIELD,
                source,
                second.span,
                format!(
                    "metric `{}` has both `quantity` and `script`",
                    decl.name.value
                ),
                "second way to compute the quantity",
                "keep either the expression or the script".to_string(),
            );
            return None;
        }
        if let Some(Value::Expr(ast)) = quantity.map(|f| &f.value) {
            let mut scope: Scope = vec![("license".to_string(), Ty::Record(Record::License))];
            scope.push((
                counts.as_str().to_string(),
                Ty::Record(holder_record(counts)),
            ));
            let (expr, ty) = self.check_expr(source, &mut scope, ast)?;
            self.expect_type(source, ast.span, ty, Ty::Number, "`quantity`")?;
            let formula = crate::format::expression_text(&source.text, ast);
            metric.quantity = Quantity::Expr { expr, formula };
        }
        if let Some(Value::Str(file)) = script.map(|f| &f.value) {
            metric.quantity = self.lower_script(source, &decl.name.value, file)?;
        }
        Some(metric)
    }

    /// A range of numbers, reporting dates and empty ranges.
    fn number_range(
        &mut self,
        source: &Arc<SourceFile>,
        range: &RangeAst,
    ) -> Option<(Option<Decimal>, Option<Decimal>)> {
        let number = |b: &Option<BoundAst>| match b {
            None => Some(None),
            Some(BoundAst::Number(n)) => Some(Some(*n)),
            Some(BoundAst::Date(_)) => None,
        };
        match (number(&range.low), number(&range.high)) {
            (Some(None), Some(None)) => {
                self.push(
                    codes::INVALID_TABLE,
                    source,
                    range.span,
                    "this range has no bounds".to_string(),
                    "empty range",
                    "write `1..4`, `..16` or `4..`".to_string(),
                );
                None
            }
            (Some(low), Some(high)) => {
                if let (Some(l), Some(h)) = (low, high)
                    && l > h
                {
                    self.push(
                        codes::INVALID_TABLE,
                        source,
                        range.span,
                        format!("this range runs backwards, from {l} down to {h}"),
                        "matches nothing",
                        "write the smaller bound first".to_string(),
                    );
                    return None;
                }
                Some((low, high))
            }
            _ => {
                self.push(
                    codes::INVALID_TABLE,
                    source,
                    range.span,
                    "expected a range of numbers, found a date".to_string(),
                    "a date here",
                    "write numbers, such as `1..4`".to_string(),
                );
                None
            }
        }
    }

    pub(super) fn lower_table(&mut self, source: &Arc<SourceFile>, decl: &Decl) -> Option<Table> {
        let mut keys = Vec::new();
        for field in &decl.fields {
            if let (Value::WordList(words), "keys") = (&field.value, field.key) {
                for w in words {
                    keys.push(self.word(source, w, "key type", KeyType::NAMES)?);
                }
            }
        }
        let default = decl.fields.iter().find_map(|f| match &f.value {
            Value::Number(n) if f.key == "default" => Some(n.value),
            _ => None,
        });
        let mut rows = Vec::new();
        for field in &decl.fields {
            let Value::Row {
                keys: row_keys,
                value,
            } = &field.value
            else {
                continue;
            };
            if row_keys.len() != keys.len() {
                self.push(
                    codes::INVALID_TABLE,
                    source,
                    field.span,
                    format!(
                        "this row has {} key(s), but table `{}` has {}",
                        row_keys.len(),
                        decl.name.value,
                        keys.len()
                    ),
                    "wrong number of keys",
                    "give one key per column listed in `keys`, or `_` for any value".to_string(),
                );
                continue;
            }
            let mut lowered = Vec::new();
            for (key, ty) in row_keys.iter().zip(&keys) {
                match self.lower_key(source, key, *ty) {
                    Some(k) => lowered.push(k),
                    None => break,
                }
            }
            if lowered.len() == keys.len() {
                let (line, _) = source.line_col(field.span.start);
                rows.push(Row {
                    keys: lowered,
                    value: value.value,
                    location: format!("{}:{line}", source.path),
                });
            }
        }
        Some(Table {
            id: decl.name.value.clone(),
            keys,
            default,
            rows,
        })
    }

    fn lower_key(&mut self, source: &Arc<SourceFile>, key: &KeyAst, ty: KeyType) -> Option<Key> {
        let mismatch = |checker: &mut Self, want: &str| {
            checker.push(
                codes::INVALID_TABLE,
                source,
                key.span(),
                format!("this key must be {want}"),
                "does not fit the column",
                "write keys in the order and of the types `keys` lists; `_` matches anything"
                    .to_string(),
            );
            None
        };
        match (key, ty) {
            (KeyAst::Any(_), _) => Some(Key::Any),
            (KeyAst::Text(t), KeyType::Text) => Some(Key::Text(t.value.clone())),
            (KeyAst::Range(r), KeyType::Number) => match (&r.low, &r.high) {
                (Some(BoundAst::Date(_)), _) | (_, Some(BoundAst::Date(_))) => {
                    mismatch(self, "a number or a range of numbers")
                }
                _ => {
                    let (min, max) = self.number_range(source, r)?;
                    Some(Key::Number { min, max })
                }
            },
            (KeyAst::Range(r), KeyType::Date) => {
                let date = |b: &Option<BoundAst>| match b {
                    None => Some(None),
                    Some(BoundAst::Date(d)) => Some(Some(d.clone())),
                    Some(BoundAst::Number(_)) => None,
                };
                match (date(&r.low), date(&r.high)) {
                    (Some(min), Some(max)) => Some(Key::Date { min, max }),
                    _ => mismatch(self, "a date or a range of dates"),
                }
            }
            (_, KeyType::Text) => mismatch(self, "a quoted text pattern"),
            (_, KeyType::Number) => mismatch(self, "a number or a range of numbers"),
            (_, KeyType::Date) => mismatch(self, "a date or a range of dates"),
        }
    }

    fn lower_script(
        &mut self,
        source: &Arc<SourceFile>,
        metric: &str,
        file: &crate::syntax::ast::Spanned<String>,
    ) -> Option<Quantity> {
        let dir = source
            .path
            .rfind('/')
            .and_then(|i| source.path.get(..=i))
            .unwrap_or("");
        let path = format!("{dir}{}", file.value);
        let Some(script) = self.declarations.script(&path) else {
            self.push(
                codes::SCRIPT_ERROR,
                source,
                file.span,
                format!(
                    "metric `{metric}` names a script `{}` that is not in the pack",
                    file.value
                ),
                "no such file",
                format!("put `{}` next to this rule file", file.value),
            );
            return None;
        };
        if let Err(error) = crate::script::CompiledScript::compile(&script.text) {
            let offset = offset_of(&script.text, error.line, error.column);
            self.diagnostics.push(
                crate::Diagnostic::error(
                    codes::SCRIPT_ERROR,
                    &script,
                    Some(Span::new(offset, offset)),
                    format!(
                        "the script of metric `{metric}` does not compile: {}",
                        error.message
                    ),
                )
                .with_label("here")
                .with_help("fix the script; see docs/metrics.md for what scripts can use")
                .with_related(source, file.span, "the metric that runs it"),
            );
            return None;
        }
        Some(Quantity::Script {
            path,
            text: script.text.clone(),
        })
    }
}

/// The byte offset of a 1-based line and column (0 meaning unknown) in `text`.
pub fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>();
    let in_line = text
        .get(line_start..)
        .unwrap_or("")
        .chars()
        .take(column.saturating_sub(1))
        .map(char::len_utf8)
        .sum::<usize>();
    (line_start + in_line).min(text.len())
}
