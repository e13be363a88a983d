//! Metric evaluation: the quantity one holder of a license consumes, computed from a metric's
//! expression (or its sandboxed rhai script) over the holder's hardware, with a trace of the
//! arithmetic for explanations.
//!
//! All arithmetic is exact and checked (rust_decimal): an overflow or a division by zero is an
//! error that rejects the installation, never a panic. A hardware value inventory left empty
//! is *unknown*: a table lookup treats it as a value only `_` matches, anything else that reads
//! it fails with the field's name, so a missing core count is never taken as 0 or 1.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};
use tally_compiler::check::Record;
use tally_compiler::ir::{
    Aggregation, BinOp, Expr, Function, Hardware, Key, Quantity, Table, UnOp,
};
use tally_compiler::script::{CompiledScript, ScriptValue};

use crate::estate::{Device, Partition};
use crate::recognize::like;

/// Why a quantity could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EvalError {
    /// A hardware value the computation needs is not in inventory.
    Missing { hardware: Hardware, machine: String },
    /// Anything else: no table row, a division by zero, an overflow, a failing script.
    Failed(String),
}

/// A machine a metric reads: a device, a host with the VMs that run the software, or a
/// cluster of hosts.
#[derive(Debug, Clone)]
pub struct Machine<'a> {
    pub id: String,
    /// The device itself, or a cluster's hosts.
    pub devices: Vec<&'a Device>,
    pub cluster: bool,
    /// The VMs on it whose covered installations this holder counts.
    pub vms: Vec<&'a Device>,
    /// Whether the machine itself has a covered installation.
    pub installed: bool,
}

impl<'a> Machine<'a> {
    /// A single device with no VMs.
    pub fn device(device: &'a Device, installed: bool) -> Self {
        Self {
            id: device.id.clone(),
            devices: vec![device],
            cluster: false,
            vms: Vec::new(),
            installed,
        }
    }
}

/// What `license` holds in an expression.
#[derive(Debug, Clone, Default)]
pub struct LicenseFacts<'a> {
    pub id: String,
    /// (device, application) of each installation bound to the license.
    pub installations: Vec<(String, String)>,
    /// The devices of those installations.
    pub devices: Vec<&'a Device>,
    /// Users allocated to the license, with their devices.
    pub users: Vec<(String, Vec<&'a Device>)>,
    /// Usage rows of the covered applications: (moment, in use), summed per moment.
    pub usage: Vec<(String, Decimal)>,
    pub subcapacity: bool,
    pub metric_value: Option<Decimal>,
}

/// The holder a quantity is computed for.
#[derive(Debug, Clone)]
pub enum Holder<'a> {
    Machine(Machine<'a>),
    User {
        id: String,
        devices: Vec<&'a Device>,
    },
    License,
}

/// A computed quantity and how it was reached.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Computation {
    pub quantity: Decimal,
    /// The metric's expression as written (`ceil(host.cores * …)`).
    pub expression: String,
    /// The expression with the values it read substituted: `ceil(32 × 0.5) = 16`.
    pub formula: String,
    /// The values read, by how the formula names them (`host.cores` = `32`).
    pub inputs: Vec<(String, String)>,
    /// Minimums and rounding that changed the result.
    pub notes: Vec<String>,
}

/// Computes a holder's quantity with a metric's quantity rule. With `trace`, also how it came
/// out: the formula, its inputs and its notes; without, only the quantity, the same quantity
/// or the same error (the walk for positions reads the quantity only).
pub fn compute(
    quantity: &Quantity,
    variable: &str,
    holder: &Holder<'_>,
    license: &LicenseFacts<'_>,
    tables: &BTreeMap<String, Table>,
    trace: bool,
) -> Result<Computation, EvalError> {
    match quantity {
        Quantity::One => Ok(Computation {
            quantity: Decimal::ONE,
            ..Computation::default()
        }),
        Quantity::Expr { expr, formula } => {
            let mut eval = Evaluator {
                tables,
                license,
                inputs: Vec::new(),
                notes: Vec::new(),
                trace,
            };
            let mut scope = vec![(variable.to_string(), holder_value(holder))];
            let (value, rendered) = eval.eval(expr, &mut scope, true)?;
            let quantity = number(&value)?.normalize();
            if quantity < Decimal::ZERO {
                return Err(EvalError::Failed(format!(
                    "the quantity came out negative ({quantity})"
                )));
            }
            if !trace {
                return Ok(Computation {
                    quantity,
                    ..Computation::default()
                });
            }
            Ok(Computation {
                quantity,
                expression: formula.clone(),
                formula: if rendered == quantity.to_string() {
                    rendered
                } else {
                    format!("{rendered} = {quantity}")
                },
                inputs: eval.inputs,
                notes: eval.notes,
            })
        }
        Quantity::Script { path, text } => {
            let script = CompiledScript::compile(text).map_err(|e| {
                EvalError::Failed(format!(
                    "script {path}:{}:{}: {}",
                    e.line, e.column, e.message
                ))
            })?;
            let inputs = [
                (variable, script_holder(holder, license)),
                ("license", script_license(license)),
            ];
            let quantity = script
                .run(&inputs)
                .map_err(|e| {
                    EvalError::Failed(format!(
                        "script {path}:{}:{}: {}",
                        e.line, e.column, e.message
                    ))
                })?
                .normalize();
            Ok(Computation {
                quantity,
                expression: format!("script \"{path}\""),
                formula: format!("{path} = {quantity}"),
                inputs: Vec::new(),
                notes: Vec::new(),
            })
        }
    }
}

/// Whether a quantity reads the license's lists (`license.installations`, `devices`, `users`,
/// `usage`); a script may read anything.
pub fn reads_license_lists(quantity: &Quantity) -> bool {
    fn walk(expr: &Expr) -> bool {
        match expr {
            Expr::Field(inner, field) => {
                (matches!(inner.as_ref(), Expr::Var(v) if v == "license")
                    && matches!(
                        field.as_str(),
                        "installations" | "devices" | "users" | "usage"
                    ))
                    || walk(inner)
            }
            Expr::Number(_) | Expr::Text(_) | Expr::Bool(_) | Expr::Var(_) => false,
            Expr::Unary(_, e) => walk(e),
            Expr::Binary(_, a, b) => walk(a) || walk(b),
            Expr::If(a, b, c) => walk(a) || walk(b) || walk(c),
            Expr::Call(_, args) | Expr::Lookup { keys: args, .. } => args.iter().any(walk),
            Expr::Aggregate {
                collection,
                body,
                filter,
                ..
            } => walk(collection) || body.iter().chain(filter).any(|e| walk(e)),
        }
    }
    match quantity {
        Quantity::One => false,
        Quantity::Expr { expr, .. } => walk(expr),
        Quantity::Script { .. } => true,
    }
}

/// A value during evaluation.
#[derive(Debug, Clone)]
enum Val<'a> {
    Number(Decimal),
    Text(String),
    Bool(bool),
    Date(String),
    /// A hardware value inventory left empty.
    Unknown(Hardware, String),
    Machine(Box<Machine<'a>>),
    Processor(Decimal, Option<String>),
    User(String, Vec<&'a Device>),
    Installation(String, String),
    Usage(String, Decimal),
    License,
    List(Vec<Val<'a>>),
}

fn holder_value<'a>(holder: &Holder<'a>) -> Val<'a> {
    match holder {
        Holder::Machine(m) => Val::Machine(Box::new(m.clone())),
        Holder::User { id, devices } => Val::User(id.clone(), devices.clone()),
        Holder::License => Val::License,
    }
}

fn number(value: &Val<'_>) -> Result<Decimal, EvalError> {
    match value {
        Val::Number(n) => Ok(*n),
        Val::Unknown(hardware, machine) => Err(EvalError::Missing {
            hardware: *hardware,
            machine: machine.clone(),
        }),
        _ => Err(EvalError::Failed("expected a number".to_string())),
    }
}

fn boolean(value: &Val<'_>) -> Result<bool, EvalError> {
    match value {
        Val::Bool(b) => Ok(*b),
        Val::Unknown(hardware, machine) => Err(EvalError::Missing {
            hardware: *hardware,
            machine: machine.clone(),
        }),
        _ => Err(EvalError::Failed("expected `true` or `false`".to_string())),
    }
}

fn overflow() -> EvalError {
    EvalError::Failed("the arithmetic overflows".to_string())
}

/// How a value reads in a formula.
fn show(value: &Val<'_>) -> String {
    match value {
        Val::Number(n) => n.normalize().to_string(),
        Val::Text(t) => format!("`{t}`"),
        Val::Bool(b) => b.to_string(),
        Val::Date(d) => d.clone(),
        Val::Unknown(..) => "unknown".to_string(),
        Val::Machine(m) => format!("`{}`", m.id),
        Val::Processor(..) => "a processor".to_string(),
        Val::User(id, _) => format!("`{id}`"),
        Val::Installation(d, a) => format!("`{a}` on `{d}`"),
        Val::Usage(at, n) => format!("{n} at {at}"),
        Val::License => "the license".to_string(),
        Val::List(items) => format!("{} items", items.len()),
    }
}

/// How tightly an operator binds, for parentheses in rendered formulas.
fn precedence(op: BinOp) -> u8 {
    match op {
        BinOp::Or => 1,
        BinOp::And => 2,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Like => 3,
        BinOp::Add | BinOp::Sub => 4,
        BinOp::Mul | BinOp::Div => 5,
    }
}

/// The path an expression reads, when it is a variable and fields (`host.cores`).
fn path(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Var(v) => Some(v.clone()),
        Expr::Field(inner, field) => Some(format!("{}.{field}", path(inner)?)),
        _ => None,
    }
}

type Scope<'a> = Vec<(String, Val<'a>)>;

struct Evaluator<'t, 'a> {
    tables: &'t BTreeMap<String, Table>,
    license: &'t LicenseFacts<'a>,
    inputs: Vec<(String, String)>,
    notes: Vec<String>,
    /// Whether values are rendered into the formula and inputs and notes recorded; without,
    /// every rendering is empty and only the value is computed.
    trace: bool,
}

impl<'a> Evaluator<'_, 'a> {
    /// `text()` when tracing, else nothing.
    fn shown(&self, text: impl FnOnce() -> String) -> String {
        if self.trace { text() } else { String::new() }
    }

    /// Evaluates `expr`, returning its value and its rendering with values substituted.
    /// `top` is false inside aggregations, where nothing is traced.
    fn eval(
        &mut self,
        expr: &Expr,
        scope: &mut Scope<'a>,
        top: bool,
    ) -> Result<(Val<'a>, String), EvalError> {
        Ok(match expr {
            Expr::Number(n) => (Val::Number(*n), self.shown(|| n.normalize().to_string())),
            Expr::Text(t) => (Val::Text(t.clone()), self.shown(|| format!("\"{t}\""))),
            Expr::Bool(b) => (Val::Bool(*b), self.shown(|| b.to_string())),
            Expr::Var(_) | Expr::Field(..) => {
                let value = self.read(expr, scope)?;
                let shown = self.shown(|| show(&value));
                if top
                    && self.trace
                    && let Some(p) = path(expr)
                    && !matches!(value, Val::List(_) | Val::Machine(_) | Val::License)
                {
                    self.record(p, shown.clone());
                }
                (value, shown)
            }
            Expr::Unary(op, inner) => {
                let (value, shown) = self.eval(inner, scope, top)?;
                match op {
                    UnOp::Neg => (
                        Val::Number(-number(&value)?),
                        self.shown(|| format!("-{shown}")),
                    ),
                    UnOp::Not => (
                        Val::Bool(!boolean(&value)?),
                        self.shown(|| format!("not {shown}")),
                    ),
                }
            }
            Expr::Binary(op, l, r) => self.binary(*op, l, r, scope, top)?,
            Expr::If(c, t, e) => {
                let (cond, _) = self.eval(c, scope, top)?;
                if boolean(&cond)? {
                    self.eval(t, scope, top)?
                } else {
                    self.eval(e, scope, top)?
                }
            }
            Expr::Call(f, args) => self.call(*f, args, scope, top)?,
            Expr::Aggregate {
                op,
                var,
                collection,
                body,
                filter,
            } => {
                let items = match self.read(collection, scope)? {
                    Val::List(items) => items,
                    _ => return Err(EvalError::Failed("expected a list".to_string())),
                };
                let mut values = Vec::new();
                for item in items {
                    scope.push((var.clone(), item));
                    let keep = match filter {
                        Some(f) => self.eval(f, scope, false).and_then(|(v, _)| boolean(&v)),
                        None => Ok(true),
                    };
                    let value = match (keep, body) {
                        (Ok(true), Some(b)) => self
                            .eval(b, scope, false)
                            .and_then(|(v, _)| number(&v).map(Some)),
                        (Ok(true), None) => Ok(Some(Decimal::ONE)),
                        (Ok(false), _) => Ok(None),
                        (Err(e), _) => Err(e),
                    };
                    scope.pop();
                    if let Some(v) = value? {
                        values.push(v);
                    }
                }
                let result = match op {
                    Aggregation::Sum | Aggregation::Count => values
                        .iter()
                        .try_fold(Decimal::ZERO, |acc, v| acc.checked_add(*v))
                        .ok_or_else(overflow)?,
                    Aggregation::Max => values.iter().copied().max().unwrap_or(Decimal::ZERO),
                    Aggregation::Min => values.iter().copied().min().unwrap_or(Decimal::ZERO),
                };
                if top
                    && self.trace
                    && let Some(p) = path(collection)
                {
                    let what = match op {
                        Aggregation::Count => format!("count over {p}"),
                        _ => format!("{} over {p}", op.as_str()),
                    };
                    self.record(what, result.normalize().to_string());
                }
                (
                    Val::Number(result),
                    self.shown(|| result.normalize().to_string()),
                )
            }
            Expr::Lookup { table, keys } => {
                let mut values = Vec::new();
                for key in keys {
                    values.push(self.eval(key, scope, top)?.0);
                }
                let (value, location) = self.lookup(table, &values)?;
                if top && self.trace {
                    let shown: Vec<String> = values.iter().map(show).collect();
                    let source = match location {
                        Some(l) => format!("{} (row at {l})", value.normalize()),
                        None => format!("{} (no row matches: the default)", value.normalize()),
                    };
                    self.record(format!("{table}[{}]", shown.join(", ")), source);
                }
                (
                    Val::Number(value),
                    self.shown(|| value.normalize().to_string()),
                )
            }
        })
    }

    fn record(&mut self, name: String, value: String) {
        if !self.inputs.iter().any(|(n, _)| *n == name) {
            self.inputs.push((name, value));
        }
    }

    fn binary(
        &mut self,
        op: BinOp,
        l: &Expr,
        r: &Expr,
        scope: &mut Scope<'a>,
        top: bool,
    ) -> Result<(Val<'a>, String), EvalError> {
        let (lv, ls) = self.eval(l, scope, top)?;
        // `and` and `or` stop early, so a condition can guard a read.
        if matches!(op, BinOp::And | BinOp::Or) {
            let left = boolean(&lv)?;
            if (op == BinOp::And) != left {
                return Ok((Val::Bool(left), ls));
            }
        }
        let (rv, rs) = self.eval(r, scope, top)?;
        let wrap = |e: &Expr, s: String| match e {
            Expr::Binary(inner, ..) if precedence(*inner) < precedence(op) => format!("({s})"),
            Expr::Binary(inner, ..) if precedence(*inner) == precedence(op) && e == r => {
                format!("({s})")
            }
            _ => s,
        };
        let rendered = self.shown(|| format!("{} {} {}", wrap(l, ls), op.symbol(), wrap(r, rs)));
        let value = match op {
            BinOp::And | BinOp::Or => Val::Bool(boolean(&rv)?),
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => {
                let (a, b) = (number(&lv)?, number(&rv)?);
                let result = match op {
                    BinOp::Add => a.checked_add(b),
                    BinOp::Sub => a.checked_sub(b),
                    BinOp::Mul => a.checked_mul(b),
                    _ => {
                        if b.is_zero() {
                            return Err(EvalError::Failed("division by zero".to_string()));
                        }
                        a.checked_div(b)
                    }
                };
                Val::Number(result.ok_or_else(overflow)?)
            }
            BinOp::Like => match (&lv, &rv) {
                (Val::Text(t), Val::Text(p)) => Val::Bool(like_text(p, t)),
                _ => Val::Bool(false),
            },
            _ => Val::Bool(compare(op, &lv, &rv)?),
        };
        Ok((value, rendered))
    }

    fn call(
        &mut self,
        f: Function,
        args: &[Expr],
        scope: &mut Scope<'a>,
        top: bool,
    ) -> Result<(Val<'a>, String), EvalError> {
        let mut values = Vec::new();
        let mut shown = Vec::new();
        for arg in args {
            let (v, s) = self.eval(arg, scope, top)?;
            values.push(number(&v)?);
            shown.push(s);
        }
        let first = values.first().copied().unwrap_or_default();
        let result = match f {
            Function::Min => values.iter().copied().min().unwrap_or_default(),
            Function::Max => values.iter().copied().max().unwrap_or_default(),
            Function::Ceil => first.ceil(),
            Function::Floor => first.floor(),
            Function::Round => {
                let places = values.get(1).copied().unwrap_or_default();
                let places = u32::try_from(places.trunc().mantissa())
                    .ok()
                    .filter(|p| *p <= 28 && places >= Decimal::ZERO)
                    .ok_or_else(|| {
                        EvalError::Failed("`round` takes 0 to 28 decimal places".to_string())
                    })?;
                first.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero)
            }
        };
        if top && self.trace {
            self.note(f, args, &values, result);
        }
        let rendered = self.shown(|| format!("{}({})", f.as_str(), shown.join(", ")));
        Ok((Val::Number(result), rendered))
    }

    /// Notes a minimum that applied (`max` won by a literal) or a rounding that changed a value.
    fn note(&mut self, f: Function, args: &[Expr], values: &[Decimal], result: Decimal) {
        let first = values.first().copied().unwrap_or_default();
        match f {
            Function::Max | Function::Min => {
                let literal = args.iter().zip(values).find_map(|(a, v)| match a {
                    Expr::Number(_) if *v == result => Some(*v),
                    _ => None,
                });
                let computed = args
                    .iter()
                    .zip(values)
                    .filter(|(a, _)| !matches!(a, Expr::Number(_)))
                    .map(|(_, v)| *v);
                let other = if f == Function::Max {
                    computed.max()
                } else {
                    computed.min()
                };
                if let (Some(limit), Some(other)) = (literal, other)
                    && other != limit
                {
                    let kind = if f == Function::Max {
                        "minimum"
                    } else {
                        "maximum"
                    };
                    self.notes.push(format!(
                        "{kind} of {} applied (computed {})",
                        limit.normalize(),
                        other.normalize()
                    ));
                }
            }
            Function::Ceil | Function::Floor | Function::Round if first != result => {
                let how = match f {
                    Function::Ceil => "rounded up",
                    Function::Floor => "rounded down",
                    _ => "rounded",
                };
                self.notes.push(format!(
                    "{how} from {} to {}",
                    first.normalize(),
                    result.normalize()
                ));
            }
            _ => {}
        }
    }

    /// Reads a variable or a field.
    fn read(&mut self, expr: &Expr, scope: &Scope<'a>) -> Result<Val<'a>, EvalError> {
        match expr {
            Expr::Var(name) => {
                if let Some((_, v)) = scope.iter().rev().find(|(n, _)| n == name) {
                    return Ok(v.clone());
                }
                if name == "license" {
                    return Ok(Val::License);
                }
                Err(EvalError::Failed(format!("unknown name `{name}`")))
            }
            Expr::Field(inner, field) => {
                let record = self.read(inner, scope)?;
                self.field(&record, field)
            }
            other => self.eval(other, &mut scope.clone(), false).map(|(v, _)| v),
        }
    }

    fn field(&self, record: &Val<'a>, field: &str) -> Result<Val<'a>, EvalError> {
        Ok(match record {
            Val::Machine(m) => machine_field(m, field)?,
            Val::Processor(cores, model) => match field {
                "cores" => Val::Number(*cores),
                "model" => model.clone().map_or(
                    Val::Unknown(Hardware::ProcessorModel, String::new()),
                    Val::Text,
                ),
                _ => return Err(unknown_field(field)),
            },
            Val::User(id, devices) => match field {
                "id" => Val::Text(id.clone()),
                "devices" => Val::List(
                    devices
                        .iter()
                        .map(|d| Val::Machine(Box::new(Machine::device(d, true))))
                        .collect(),
                ),
                _ => return Err(unknown_field(field)),
            },
            Val::Installation(device, application) => match field {
                "device" => Val::Text(device.clone()),
                "application" => Val::Text(application.clone()),
                _ => return Err(unknown_field(field)),
            },
            Val::Usage(at, in_use) => match field {
                "at" => Val::Text(at.clone()),
                "in_use" => Val::Number(*in_use),
                _ => return Err(unknown_field(field)),
            },
            Val::License => self.license_field(field)?,
            _ => return Err(unknown_field(field)),
        })
    }

    fn license_field(&self, field: &str) -> Result<Val<'a>, EvalError> {
        let l = self.license;
        Ok(match field {
            "id" => Val::Text(l.id.clone()),
            "installations" => Val::List(
                l.installations
                    .iter()
                    .map(|(d, a)| Val::Installation(d.clone(), a.clone()))
                    .collect(),
            ),
            "devices" => Val::List(
                l.devices
                    .iter()
                    .map(|d| Val::Machine(Box::new(Machine::device(d, true))))
                    .collect(),
            ),
            "users" => Val::List(
                l.users
                    .iter()
                    .map(|(id, devices)| Val::User(id.clone(), devices.clone()))
                    .collect(),
            ),
            "usage" => Val::List(
                l.usage
                    .iter()
                    .map(|(at, n)| Val::Usage(at.clone(), *n))
                    .collect(),
            ),
            "subcapacity" => Val::Bool(l.subcapacity),
            "metric_value" => Val::Number(l.metric_value.ok_or_else(|| {
                EvalError::Failed(format!("license `{}` has no `metric_value`", l.id))
            })?),
            _ => return Err(unknown_field(field)),
        })
    }

    fn lookup(
        &self,
        table: &str,
        keys: &[Val<'_>],
    ) -> Result<(Decimal, Option<String>), EvalError> {
        let Some(t) = self.tables.get(table) else {
            return Err(EvalError::Failed(format!("table `{table}` is not loaded")));
        };
        for row in &t.rows {
            if row.keys.iter().zip(keys).all(|(k, v)| key_matches(k, v)) {
                return Ok((row.value, Some(row.location.clone())));
            }
        }
        match t.default {
            Some(d) => Ok((d, None)),
            None => {
                let shown: Vec<String> = keys.iter().map(show).collect();
                Err(EvalError::Failed(format!(
                    "no row of table `{table}` matches {} and it has no default",
                    shown.join(", ")
                )))
            }
        }
    }
}

fn unknown_field(field: &str) -> EvalError {
    EvalError::Failed(format!("unknown field `{field}`"))
}

fn like_text(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.trim().to_lowercase().chars().collect();
    let t: Vec<char> = text.trim().to_lowercase().chars().collect();
    like(&p, &t)
}

fn key_matches(key: &Key, value: &Val<'_>) -> bool {
    match (key, value) {
        (Key::Any, _) => true,
        (_, Val::Unknown(..)) => false,
        (Key::Text(pattern), Val::Text(t)) => like_text(pattern, t),
        (Key::Number { min, max }, Val::Number(n)) => {
            min.is_none_or(|m| *n >= m) && max.is_none_or(|m| *n <= m)
        }
        (Key::Date { min, max }, Val::Date(d)) => {
            min.as_ref().is_none_or(|m| d >= m) && max.as_ref().is_none_or(|m| d <= m)
        }
        _ => false,
    }
}

fn compare(op: BinOp, l: &Val<'_>, r: &Val<'_>) -> Result<bool, EvalError> {
    use std::cmp::Ordering;
    let ordering: Ordering = match (l, r) {
        (Val::Number(a), Val::Number(b)) => a.cmp(b),
        (Val::Date(a), Val::Date(b)) => a.cmp(b),
        (Val::Text(a), Val::Text(b)) => a.to_lowercase().cmp(&b.to_lowercase()),
        (Val::Bool(a), Val::Bool(b)) => a.cmp(b),
        (Val::Unknown(h, m), _) | (_, Val::Unknown(h, m)) => {
            return Err(EvalError::Missing {
                hardware: *h,
                machine: m.clone(),
            });
        }
        _ => return Err(EvalError::Failed("values of different types".to_string())),
    };
    Ok(match op {
        BinOp::Eq => ordering.is_eq(),
        BinOp::Ne => !ordering.is_eq(),
        BinOp::Lt => ordering.is_lt(),
        BinOp::Le => ordering.is_le(),
        BinOp::Gt => ordering.is_gt(),
        _ => ordering.is_ge(),
    })
}

/// A whole-number hardware value of a device, or unknown.
fn hardware<'a>(device: &Device, which: Hardware) -> Val<'a> {
    let n = match which {
        Hardware::Cores => device.cores,
        Hardware::Processors => device.processors,
        Hardware::Sockets => device.sockets,
        Hardware::MaxSockets => device.max_sockets,
        Hardware::Threads => device.threads,
        _ => None,
    };
    n.map_or_else(
        || Val::Unknown(which, device.id.clone()),
        |n| Val::Number(Decimal::from(n)),
    )
}

/// Whether the device has the hardware value (for `requires`).
pub fn has_hardware(device: &Device, which: Hardware) -> bool {
    match which {
        Hardware::ProcessorModel => device.processor_model.is_some(),
        Hardware::Purchased => device.purchased.is_some(),
        Hardware::Host => device.host.is_some() || device.partition == Partition::Physical,
        _ => !matches!(hardware(device, which), Val::Unknown(..)),
    }
}

fn machine_field<'a>(m: &Machine<'a>, field: &str) -> Result<Val<'a>, EvalError> {
    let first = m.devices.first().copied();
    let sum = |which: Hardware| -> Val<'a> {
        let mut total = Decimal::ZERO;
        for d in &m.devices {
            match hardware(d, which) {
                // Hardware counts are at most u32::MAX per machine: the sum cannot reach
                // the largest decimal.
                Val::Number(n) => total = total.saturating_add(n),
                unknown => return unknown,
            }
        }
        if m.devices.is_empty() {
            return Val::Unknown(which, m.id.clone());
        }
        Val::Number(total)
    };
    let machine = |d: &&'a Device| Val::Machine(Box::new(Machine::device(d, true)));
    Ok(match field {
        "id" => Val::Text(m.id.clone()),
        "cores" => sum(Hardware::Cores),
        "processors" => sum(Hardware::Processors),
        "sockets" => sum(Hardware::Sockets),
        "max_sockets" => sum(Hardware::MaxSockets),
        "threads" => sum(Hardware::Threads),
        "processor_model" => match first.and_then(|d| d.processor_model.clone()) {
            Some(model) => Val::Text(model),
            None => Val::Unknown(Hardware::ProcessorModel, m.id.clone()),
        },
        "purchased" => match first.and_then(|d| d.purchased) {
            Some(date) => Val::Date(date.to_string()),
            None => Val::Unknown(Hardware::Purchased, m.id.clone()),
        },
        "virtual" => {
            Val::Bool(!m.cluster && first.is_some_and(|d| d.partition != Partition::Physical))
        }
        "partition" => Val::Text(
            if m.cluster {
                "cluster"
            } else {
                first.map_or("physical", |d| d.partition.name())
            }
            .to_string(),
        ),
        "cloud" => Val::Bool(first.is_some_and(Device::cloud)),
        "subcapacity_eligible" => Val::Bool(m.devices.iter().all(|d| d.subcapacity_eligible)),
        "installed" => Val::Bool(m.installed),
        "processor_list" => {
            let mut list = Vec::new();
            for d in &m.devices {
                let n = number(&hardware(d, Hardware::Processors))?;
                let cores = number(&hardware(d, Hardware::Cores))?;
                if n.is_zero() {
                    return Err(EvalError::Failed(format!(
                        "device `{}` has 0 processors",
                        d.id
                    )));
                }
                let per = cores.checked_div(n).ok_or_else(overflow)?;
                let count = u32::try_from(n.trunc().mantissa()).unwrap_or(0).min(4096);
                for _ in 0..count {
                    list.push(Val::Processor(per, d.processor_model.clone()));
                }
            }
            Val::List(list)
        }
        "vms" => Val::List(m.vms.iter().map(machine).collect()),
        "hosts" => Val::List(m.devices.iter().map(machine).collect()),
        _ => return Err(unknown_field(field)),
    })
}

/// The holder as a script sees it: a map of the same fields expressions read.
fn script_holder(holder: &Holder<'_>, license: &LicenseFacts<'_>) -> ScriptValue {
    match holder {
        Holder::Machine(m) => script_machine(m),
        Holder::User { id, devices } => ScriptValue::Record(BTreeMap::from([
            ("id".to_string(), ScriptValue::Text(id.clone())),
            (
                "devices".to_string(),
                ScriptValue::List(
                    devices
                        .iter()
                        .map(|d| script_machine(&Machine::device(d, true)))
                        .collect(),
                ),
            ),
        ])),
        Holder::License => script_license(license),
    }
}

fn script_value(value: Val<'_>) -> ScriptValue {
    match value {
        Val::Number(n) => ScriptValue::Number(n),
        Val::Text(t) | Val::Date(t) => ScriptValue::Text(t),
        Val::Bool(b) => ScriptValue::Bool(b),
        Val::Machine(m) => script_machine(&m),
        Val::List(items) => ScriptValue::List(items.into_iter().map(script_value).collect()),
        Val::Processor(cores, model) => ScriptValue::Record(BTreeMap::from([
            ("cores".to_string(), ScriptValue::Number(cores)),
            (
                "model".to_string(),
                model.map_or(ScriptValue::Unknown, ScriptValue::Text),
            ),
        ])),
        _ => ScriptValue::Unknown,
    }
}

fn script_machine(m: &Machine<'_>) -> ScriptValue {
    let mut map = BTreeMap::new();
    // Every field an expression can read, but the nested machine lists other than `vms`.
    for (field, _) in Record::Machine.fields() {
        if matches!(*field, "hosts" | "processor_list") {
            continue;
        }
        let value = machine_field(m, field).map_or(ScriptValue::Unknown, script_value);
        map.insert((*field).to_string(), value);
    }
    ScriptValue::Record(map)
}

fn script_license(l: &LicenseFacts<'_>) -> ScriptValue {
    let mut map = BTreeMap::new();
    map.insert("id".to_string(), ScriptValue::Text(l.id.clone()));
    map.insert(
        "metric_value".to_string(),
        l.metric_value
            .map_or(ScriptValue::Unknown, ScriptValue::Number),
    );
    map.insert("subcapacity".to_string(), ScriptValue::Bool(l.subcapacity));
    map.insert(
        "installations".to_string(),
        ScriptValue::Number(Decimal::from(l.installations.len())),
    );
    map.insert(
        "devices".to_string(),
        ScriptValue::List(
            l.devices
                .iter()
                .map(|d| script_machine(&Machine::device(d, true)))
                .collect(),
        ),
    );
    map.insert(
        "users".to_string(),
        ScriptValue::Number(Decimal::from(l.users.len())),
    );
    map.insert(
        "usage".to_string(),
        ScriptValue::List(
            l.usage
                .iter()
                .map(|(at, n)| {
                    ScriptValue::Record(BTreeMap::from([
                        ("at".to_string(), ScriptValue::Text(at.clone())),
                        ("in_use".to_string(), ScriptValue::Number(*n)),
                    ]))
                })
                .collect(),
        ),
    );
    ScriptValue::Record(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_compiler::ir::Metric;
    use tally_compiler::{SourceFile, compile_sources};

    /// Compiles `text` and returns its metric `m` and its tables.
    fn compiled(text: &str) -> Option<(Metric, BTreeMap<String, Table>)> {
        let out = compile_sources(&[SourceFile::new("t.tally", text)]);
        assert!(!out.has_errors(), "{:?}", out.diagnostics);
        Some((out.pack.metrics.get("m")?.clone(), out.pack.tables))
    }

    fn server(processors: u32, cores: u32, model: &str) -> Device {
        Device {
            id: "S1".into(),
            processors: Some(processors),
            cores: Some(cores),
            processor_model: Some(model.into()),
            ..Device::default()
        }
    }

    /// Computes metric `m` of `text` for `device`, and checks that the quantity alone (as the
    /// walk for positions computes it, without rendering) comes out the same, or fails alike.
    fn run(text: &str, device: &Device) -> Result<Computation, EvalError> {
        let (metric, tables) = compiled(text).ok_or(EvalError::Failed("no metric".into()))?;
        let holder = Holder::Machine(Machine::device(device, true));
        let (facts, variable) = (LicenseFacts::default(), metric.counts.as_str());
        let traced = compute(&metric.quantity, variable, &holder, &facts, &tables, true);
        let alone = compute(&metric.quantity, variable, &holder, &facts, &tables, false);
        assert_eq!(
            format!("{:?}", traced.as_ref().map(|c| c.quantity)),
            format!("{:?}", alone.map(|c| c.quantity)),
            "the quantity alone differs from the traced one"
        );
        traced
    }

    /// Runs a per-device script metric on a one-processor server with `cores` cores.
    fn run_script(path: &str, text: &str, cores: u32) -> Result<Computation, EvalError> {
        let quantity = Quantity::Script {
            path: path.into(),
            text: text.into(),
        };
        let device = server(1, cores, "x");
        let holder = Holder::Machine(Machine::device(&device, true));
        let facts = LicenseFacts::default();
        compute(&quantity, "device", &holder, &facts, &BTreeMap::new(), true)
    }

    const SERVER_CORE: &str = "metric m { counts host  quantity max(16, sum(max(8, p.cores) for p in host.processor_list)) }";

    #[test]
    fn windows_server_core_minimums_per_processor_and_per_server() {
        let q = |p, c| run(SERVER_CORE, &server(p, c, "x")).map(|c| c.quantity);
        assert_eq!(q(4, 16), Ok(Decimal::from(32)));
        assert_eq!(q(2, 8), Ok(Decimal::from(16)));
        assert_eq!(q(1, 6), Ok(Decimal::from(16)));
        assert_eq!(q(2, 20), Ok(Decimal::from(20)));
        let one_by_six = run(SERVER_CORE, &server(1, 6, "x"));
        assert_eq!(
            one_by_six.map(|c| (c.formula, c.notes)),
            Ok((
                "max(16, 8) = 16".to_string(),
                vec!["minimum of 16 applied (computed 8)".to_string()]
            ))
        );
    }

    #[test]
    fn a_missing_core_count_is_an_error_never_zero() {
        let device = Device {
            cores: None,
            ..server(2, 0, "x")
        };
        assert_eq!(
            run(SERVER_CORE, &device).map(|c| c.quantity),
            Err(EvalError::Missing {
                hardware: Hardware::Cores,
                machine: "S1".into()
            })
        );
    }

    #[test]
    fn table_rows_match_in_order_and_unknown_values_match_only_the_wildcard() {
        let text = "table f { keys text, date  default 1.0
                        row \"%Itanium%\", ..2010-11-30 => 0.5
                        row \"%Xeon%\", _ => 0.5 }
                    metric m { counts device  quantity ceil(device.cores * f[device.processor_model, device.purchased]) }";
        let mut itanium = server(1, 8, "Intel Itanium 9350");
        assert_eq!(
            run(text, &itanium).map(|c| c.quantity),
            Ok(Decimal::from(8))
        );
        itanium.purchased = jiff::civil::Date::new(2010, 6, 1).ok();
        assert_eq!(
            run(text, &itanium).map(|c| c.quantity),
            Ok(Decimal::from(4))
        );
        let xeon = server(2, 32, "Intel Xeon Gold 6142");
        let computed = run(text, &xeon);
        assert_eq!(computed.as_ref().map(|c| c.quantity), Ok(Decimal::from(16)));
        assert_eq!(
            computed.map(|c| c.formula),
            Ok("ceil(32 × 0.5) = 16".to_string())
        );
    }

    #[test]
    fn arithmetic_is_exact_and_checked() {
        let text = "metric m { counts device  quantity device.cores / (device.processors - 2) }";
        assert!(matches!(
            run(text, &server(2, 8, "x")),
            Err(EvalError::Failed(m)) if m.contains("division by zero")
        ));
        let text = "metric m { counts device  quantity device.cores * 0.1 + 0.2 }";
        assert_eq!(
            run(text, &server(1, 1, "x")).map(|c| c.quantity),
            Ok(Decimal::new(3, 1))
        );
        let text =
            "metric m { counts device  quantity 79228162514264337593543950335 * device.cores }";
        assert!(matches!(
            run(text, &server(1, 2, "x")),
            Err(EvalError::Failed(m)) if m.contains("overflows")
        ));
    }

    #[test]
    fn a_runaway_script_fails_with_its_limit_and_line() {
        let result = run_script("packs/loop.rhai", "let n = 0;\nloop { n += 1; }", 4);
        assert!(matches!(
            result,
            Err(EvalError::Failed(m)) if m.starts_with("script packs/loop.rhai:2:") && m.contains("operations")
        ));
    }

    #[test]
    fn scripts_read_the_holder_as_exact_decimals() {
        let result = run_script("s.rhai", "(device.cores * 0.25).ceiling()", 6);
        assert_eq!(result.map(|c| c.quantity), Ok(Decimal::TWO));
    }
}
