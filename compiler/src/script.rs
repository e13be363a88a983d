//! The sandbox for metric scripts (`metric … { script "file.rhai" }`).
//!
//! A script is [rhai](https://rhai.rs) compiled once into a [`CompiledScript`] and run with the
//! holder's fields in scope; its last value is the quantity. Numbers are exact decimals: rhai is
//! built without floats and with decimals, so a literal like `0.5` is a decimal and a whole
//! number like `16` is an integer (integer division truncates: write `1.0 / 3` for a fraction).
//!
//! The engine starts raw ([`rhai::Engine::new_raw`]) and gets only these standard packages:
//!
//! - `ArithmeticPackage`, `LogicPackage`, `BasicMathPackage`: arithmetic, comparisons,
//!   `min`/`max`, `ceiling`/`floor`/`round` and friends on integers and decimals;
//! - `BasicStringPackage`, `MoreStringPackage`: text building, `contains`, `to_lower`, …
//!   (to match processor models);
//! - `BasicArrayPackage`, `BasicMapPackage`, `BasicIteratorPackage`: lists, records, ranges and
//!   `for` loops over them.
//!
//! Left out on purpose: `LanguageCorePackage` (it has `sleep` and `exit`), the time package (a
//! clock makes results depend on when they ran; the `no_time` feature removes it), blobs, bit
//! fields and function-pointer introspection (nothing a license metric needs). rhai itself has no
//! file or network access; there is no module resolver (`no_module`), `eval` is a disabled
//! keyword, and so are `print` and `debug`: a script that uses them is refused when it is
//! compiled, rather than printing nowhere. Every run is bounded by the limits below; hitting one
//! is a [`ScriptError`] naming the [`Limit`].
//!
//! Two more guards: rhai's optimizer is off (it takes exponential time on nested `switch`, and
//! compiling has no operation limit), and rhai recurses on the native stack, where the limits
//! allow more than the 2 MiB of an ordinary thread (measured: up to 2 MiB in a release build,
//! 16 MiB in a debug build). So a script compiles and runs where it is called only when about
//! twice that is left, and otherwise on a fresh stack of [`SCRIPT_STACK`] bytes.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use rhai::packages::{
    ArithmeticPackage, BasicArrayPackage, BasicIteratorPackage, BasicMapPackage, BasicMathPackage,
    BasicStringPackage, LogicPackage, MoreStringPackage, Package,
};
use rhai::{AST, Dynamic, Engine, EvalAltResult, LexError, ParseError, ParseErrorType, Position};
use rust_decimal::Decimal;

/// The most operations (expressions evaluated, loop turns, calls) one run may take.
pub const MAX_OPERATIONS: u64 = 100_000;
/// The deepest nesting of script-function calls (stops runaway recursion).
pub const MAX_CALL_DEPTH: usize = 32;
/// The longest string, in bytes (for a list or record: all its strings together). Inputs
/// count too, so the limit leaves room for a license's whole list of devices.
pub const MAX_STRING_SIZE: usize = 1 << 20;
/// The most items in a list (nested lists count their items too).
pub const MAX_ARRAY_SIZE: usize = 100_000;
/// The most entries in a record (nested records count their entries too, so a list of 5,000
/// machine records of 14 fields fits). Adding a key with `m[key] = value` is checked when the
/// record is next used.
pub const MAX_MAP_SIZE: usize = 100_000;
/// The deepest nesting of one expression, checked when the script is compiled.
pub const MAX_EXPRESSION_DEPTH: usize = 64;

/// The size of the fresh stack a script gets when its caller has too little left (only the pages
/// it touches cost memory).
pub const SCRIPT_STACK: usize = 64 << 20;
/// How much stack must be left to compile or run a script in place: about twice what the limits
/// above were measured to need.
const STACK_RED_ZONE: usize = if cfg!(debug_assertions) {
    32 << 20
} else {
    8 << 20
};

/// Keywords a script may not use, refused when it is compiled.
const DISABLED: [&str; 3] = ["eval", "print", "debug"];

/// A value handed to a script: the holder's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptValue {
    Number(Decimal),
    Text(String),
    Bool(bool),
    List(Vec<ScriptValue>),
    Record(BTreeMap<String, ScriptValue>),
    /// A value inventory left empty; the script sees rhai's unit `()`.
    Unknown,
}

/// Which sandbox limit a script hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    Operations,
    CallDepth,
    StringSize,
    ArraySize,
    MapSize,
    ExpressionDepth,
}

/// A script that does not compile, fails, hits a limit or returns something other than a
/// quantity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    pub message: String,
    /// 1-based line in the script text; 0 when unknown.
    pub line: usize,
    /// 1-based column (in characters) in the script text; 0 when unknown.
    pub column: usize,
    /// The limit that stopped the script, if that is what happened.
    pub limit: Option<Limit>,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ScriptError {}

/// A parsed script, ready to run any number of times, from any thread.
#[derive(Debug, Clone)]
pub struct CompiledScript {
    ast: AST,
}

impl CompiledScript {
    /// Parses a script once; syntax errors (and use of forbidden things like `eval`, `import`)
    /// come back with line and column.
    pub fn compile(text: &str) -> Result<Self, ScriptError> {
        on_script_stack(|| {
            engine()
                .compile(text)
                .map(|ast| Self { ast })
                .map_err(|err| parse_error(&err))
        })
    }

    /// Runs it with the given variables in scope (read-only); its last value must be a number
    /// (decimal or integer) >= 0, else a [`ScriptError`] saying what it returned.
    pub fn run(&self, inputs: &[(&str, ScriptValue)]) -> Result<Decimal, ScriptError> {
        let value = on_script_stack(|| {
            let mut scope = rhai::Scope::new();
            for (name, value) in inputs {
                scope.push_constant_dynamic(*name, to_dynamic(value));
            }
            engine()
                .eval_ast_with_scope::<Dynamic>(&mut scope, &self.ast)
                .map_err(|err| eval_error(&err))
        })?;
        let number = if let Ok(d) = value.as_decimal() {
            d
        } else if let Ok(i) = value.as_int() {
            Decimal::from(i)
        } else {
            return Err(unplaced(format!(
                "the script returned {}, not a number",
                describe(&value)
            )));
        };
        if number.is_sign_negative() && !number.is_zero() {
            return Err(unplaced(format!(
                "the script returned `{number}`; a quantity cannot be below 0"
            )));
        }
        Ok(number.normalize())
    }
}

fn on_script_stack<T>(work: impl FnOnce() -> T) -> T {
    stacker::maybe_grow(STACK_RED_ZONE, SCRIPT_STACK, work)
}

/// The one sandboxed engine, built on first use and shared (rhai's `sync` makes it `Sync`).
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut engine = Engine::new_raw();
        for package in [
            ArithmeticPackage::new().as_shared_module(),
            LogicPackage::new().as_shared_module(),
            BasicMathPackage::new().as_shared_module(),
            BasicStringPackage::new().as_shared_module(),
            MoreStringPackage::new().as_shared_module(),
            BasicArrayPackage::new().as_shared_module(),
            BasicMapPackage::new().as_shared_module(),
            BasicIteratorPackage::new().as_shared_module(),
        ] {
            engine.register_global_module(package);
        }
        for keyword in DISABLED {
            engine.disable_symbol(keyword);
        }
        engine
            .set_max_operations(MAX_OPERATIONS)
            .set_max_call_levels(MAX_CALL_DEPTH)
            .set_max_string_size(MAX_STRING_SIZE)
            .set_max_array_size(MAX_ARRAY_SIZE)
            .set_max_map_size(MAX_MAP_SIZE)
            .set_max_expr_depths(MAX_EXPRESSION_DEPTH, MAX_EXPRESSION_DEPTH)
            // A misspelt field is an error, not a silent `()`.
            .set_fail_on_invalid_map_property(true)
            .set_optimization_level(rhai::OptimizationLevel::None);
        engine
    })
}

fn to_dynamic(value: &ScriptValue) -> Dynamic {
    match value {
        ScriptValue::Number(d) => Dynamic::from_decimal(*d),
        ScriptValue::Text(s) => Dynamic::from(s.clone()),
        ScriptValue::Bool(b) => Dynamic::from_bool(*b),
        ScriptValue::List(items) => Dynamic::from_array(items.iter().map(to_dynamic).collect()),
        ScriptValue::Record(fields) => Dynamic::from_map(
            fields
                .iter()
                .map(|(k, v)| (k.as_str().into(), to_dynamic(v)))
                .collect(),
        ),
        ScriptValue::Unknown => Dynamic::UNIT,
    }
}

/// What a script returned, in words, for an error message.
fn describe(value: &Dynamic) -> String {
    if value.is_unit() {
        "nothing".to_string()
    } else if let Ok(b) = value.as_bool() {
        format!("`{b}`")
    } else if let Ok(s) = value.as_immutable_string_ref() {
        let s: String = s.chars().take(40).collect();
        format!("the text `{s}`")
    } else if value.is_array() {
        "a list".to_string()
    } else if value.is_map() {
        "a record".to_string()
    } else {
        with_article(friendly_type(value.type_name()))
    }
}

/// A user's word for one of rhai's type names (`a | b` lists names of one type).
fn friendly_type(rhai_name: &str) -> &'static str {
    rhai_name
        .split('|')
        .map(friendly_type_one)
        .find(|word| *word != "value")
        .unwrap_or("value")
}

fn friendly_type_one(rhai_name: &str) -> &'static str {
    match rhai_name.trim() {
        "i64" | "i32" | "INT" => "integer",
        "decimal" | "Decimal" | "rust_decimal::Decimal" => "number",
        "string" | "String" | "ImmutableString" | "&str" | "alloc::string::String" => "text",
        "bool" => "boolean",
        "char" => "character",
        "array" | "Array" => "list",
        "map" | "Map" => "record",
        "()" => "nothing",
        "Fn" | "FnPtr" => "function",
        "range" | "range=" => "range",
        _ => "value",
    }
}

fn article(word: &str) -> &'static str {
    match word {
        "integer" => "an",
        "nothing" | "text" => "",
        _ => "a",
    }
}

fn with_article(word: &str) -> String {
    match article(word) {
        "" => word.to_string(),
        a => format!("{a} {word}"),
    }
}

fn unplaced(message: String) -> ScriptError {
    ScriptError {
        message,
        line: 0,
        column: 0,
        limit: None,
    }
}

fn placed(message: String, pos: Position, limit: Option<Limit>) -> ScriptError {
    let line = pos.line().unwrap_or(0);
    // rhai's column 0 means "before the first character": show it as column 1.
    let column = match (line, pos.position()) {
        (0, _) => 0,
        (_, Some(c)) => c,
        (_, None) => 1,
    };
    ScriptError {
        message,
        line,
        column,
        limit,
    }
}

fn parse_error(err: &ParseError) -> ScriptError {
    let (message, limit) = match err.err_type() {
        ParseErrorType::ExprTooDeep => (
            format!("an expression is nested more than {MAX_EXPRESSION_DEPTH} deep"),
            Some(Limit::ExpressionDepth),
        ),
        ParseErrorType::LiteralTooLarge(what, _) => size_message(what),
        ParseErrorType::BadInput(LexError::ImproperSymbol(symbol, _))
            if DISABLED.contains(&symbol.as_str()) =>
        {
            (
                format!("`{symbol}` is not available in a license script"),
                None,
            )
        }
        ParseErrorType::Reserved(word) if matches!(word.as_str(), "import" | "export") => (
            format!("`{word}` is not available in a license script: it cannot load modules"),
            None,
        ),
        ParseErrorType::Reserved(word) => (format!("`{word}` is a reserved word"), None),
        ParseErrorType::UnexpectedEOF => ("the script ends too early".to_string(), None),
        other => (tidy(&other.to_string()), None),
    };
    placed(message, err.position(), limit)
}

/// A size limit's message, from rhai's description of what grew too large. rhai counts a value
/// with everything inside it, so an input with many machines can hit these too.
fn size_message(what: &str) -> (String, Option<Limit>) {
    if what.contains("string") {
        (
            format!(
                "a value holds more than {MAX_STRING_SIZE} bytes of text (a list or record counts the text inside it)"
            ),
            Some(Limit::StringSize),
        )
    } else if what.contains("array") {
        (
            format!(
                "a list holds more than {MAX_ARRAY_SIZE} items (counting the items of lists inside it)"
            ),
            Some(Limit::ArraySize),
        )
    } else {
        (
            format!(
                "a record holds more than {MAX_MAP_SIZE} entries (counting the entries of records inside it)"
            ),
            Some(Limit::MapSize),
        )
    }
}

fn eval_error(err: &EvalAltResult) -> ScriptError {
    // An error inside a script function: report where it happened, not the call.
    let err = err.unwrap_inner();
    let (message, limit) = match err {
        EvalAltResult::ErrorTooManyOperations(_) => (
            format!("the script ran more than {MAX_OPERATIONS} operations"),
            Some(Limit::Operations),
        ),
        EvalAltResult::ErrorStackOverflow(_) => (
            format!("the script nests function calls more than {MAX_CALL_DEPTH} deep"),
            Some(Limit::CallDepth),
        ),
        EvalAltResult::ErrorDataTooLarge(what, _) => size_message(&what.to_lowercase()),
        EvalAltResult::ErrorParsing(parse, _) => {
            let inner = ParseError(Box::new(parse.clone()), err.position());
            return parse_error(&inner);
        }
        EvalAltResult::ErrorVariableNotFound(name, _) => (format!("`{name}` is not defined"), None),
        EvalAltResult::ErrorPropertyNotFound(name, _) => {
            (format!("there is no field `{name}`"), None)
        }
        EvalAltResult::ErrorFunctionNotFound(signature, _) => (function_not_found(signature), None),
        EvalAltResult::ErrorMismatchDataType(expected, actual, _) => (
            format!(
                "expected {}, found {}",
                with_article(friendly_type(expected)),
                with_article(friendly_type(actual))
            ),
            None,
        ),
        EvalAltResult::ErrorAssignmentToConstant(name, _) => {
            (format!("`{name}` is an input and cannot be changed"), None)
        }
        EvalAltResult::ErrorNonPureMethodCallOnConstant(name, _) => (
            format!("`{name}` would change an input; copy it into a variable first"),
            None,
        ),
        EvalAltResult::ErrorRuntime(value, _) => (format!("the script threw `{value}`"), None),
        other => (tidy(&other.to_string()), None),
    };
    placed(message, err.position(), limit)
}

/// rhai's function signature `name (type, type)` in the user's words.
fn function_not_found(signature: &str) -> String {
    let (name, args) = match signature.split_once(" (") {
        Some((name, rest)) => (name, rest.trim_end_matches(')')),
        None => (signature, ""),
    };
    let args: Vec<&str> = args
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| friendly_type(a.trim_start_matches("&mut ")))
        .collect();
    if args.is_empty() {
        format!("there is no function `{name}()`")
    } else {
        format!("there is no function `{name}` for {}", args.join(", "))
    }
}

/// rhai's own message in the project's wording: lowercase start, `backticks`, no final period.
fn tidy(message: &str) -> String {
    let first_line = message.lines().next().unwrap_or("").trim();
    // The position is reported on its own.
    let first_line = match first_line.rfind(" (line ") {
        Some(at) if first_line.ends_with(')') => first_line.get(..at).unwrap_or(first_line),
        _ => first_line,
    };
    let mut chars = first_line.chars();
    let mut out: String = match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::from("the script failed"),
    };
    out = out.replace('\'', "`");
    while out.ends_with('.') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> ScriptValue {
        ScriptValue::Number(text.parse().unwrap_or_default())
    }

    fn record(fields: &[(&str, ScriptValue)]) -> ScriptValue {
        ScriptValue::Record(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.clone()))
                .collect(),
        )
    }

    fn run(text: &str, inputs: &[(&str, ScriptValue)]) -> Result<Decimal, ScriptError> {
        CompiledScript::compile(text)?.run(inputs)
    }

    fn limit_hit(text: &str) -> Option<Limit> {
        run(text, &[]).err().and_then(|err| err.limit)
    }

    #[test]
    fn ibm_rvu_tiers_in_exact_decimals() -> Result<(), ScriptError> {
        let script = r#"
            // IBM RVU: each tier's units at its rate, each tier's part rounded up.
            let tiers = [
                #{ from: 0.0, to: 0.5, rate: 100 },
                #{ from: 0.5, to: 1.0, rate: 130 },
                #{ from: 1.0, to: 2.0, rate: 74 },
                #{ from: 2.0, to: 3.0, rate: 46 },
            ];
            let value = license.metric_value;
            let total = 0;
            for tier in tiers {
                if value > tier.from {
                    total += ceiling((min(value, tier.to) - tier.from) * tier.rate);
                }
            }
            total
        "#;
        let license = record(&[("metric_value", number("2.2"))]);
        assert_eq!(run(script, &[("license", license)])?, Decimal::from(199));
        Ok(())
    }

    #[test]
    fn literals_are_exact_decimals() -> Result<(), ScriptError> {
        assert_eq!(run("(0.1 + 0.2) * 10", &[])?, Decimal::from(3));
        assert_eq!(
            run("if 0.1 + 0.2 == 0.3 { 1 } else { 0 }", &[])?,
            Decimal::ONE
        );
        Ok(())
    }

    #[test]
    fn reads_record_fields_and_lists() -> Result<(), ScriptError> {
        let vm = |cores: &str, installed: bool| {
            record(&[
                ("cores", number(cores)),
                ("installed", ScriptValue::Bool(installed)),
            ])
        };
        let host = record(&[
            ("cores", number("16")),
            (
                "processor_model",
                ScriptValue::Text("Intel Xeon Gold".into()),
            ),
            ("purchased", ScriptValue::Unknown),
            (
                "vms",
                ScriptValue::List(vec![vm("2", true), vm("4", true), vm("8", false)]),
            ),
        ]);
        let script = r#"
            let vm_cores = 0;
            for vm in host.vms { if vm.installed { vm_cores += vm.cores; } }
            let factor = if host.processor_model.to_lower().contains("xeon") { 0.5 } else { 1.0 };
            let dated = if host.purchased == () { 0 } else { 1000 };
            min(host.cores, vm_cores) * factor + host.vms.len() + dated
        "#;
        // min(16, 6) * 0.5 + 3 + 0
        assert_eq!(run(script, &[("host", host)])?, Decimal::from(6));
        Ok(())
    }

    #[test]
    fn integers_are_accepted() -> Result<(), ScriptError> {
        assert_eq!(run("40 + 2", &[])?, Decimal::from(42));
        Ok(())
    }

    #[test]
    fn compiled_scripts_are_shared_across_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<CompiledScript>();
    }

    #[test]
    fn operations_limit_stops_a_runaway_loop() {
        assert_eq!(
            limit_hit("let x = 0; loop { x += 1; }"),
            Some(Limit::Operations)
        );
        let err = run("let x = 0;\nloop { x += 1; }", &[]).err();
        assert_eq!(
            err.map(|e| (e.message, e.line)),
            Some(("the script ran more than 100000 operations".to_string(), 2))
        );
    }

    #[test]
    fn call_depth_limit_stops_recursion() {
        assert_eq!(
            limit_hit("fn deeper(n) { deeper(n + 1) }\ndeeper(0)"),
            Some(Limit::CallDepth)
        );
    }

    #[test]
    fn string_size_limit() {
        assert_eq!(
            limit_hit(r#"let s = "x"; loop { s += s; }"#),
            Some(Limit::StringSize)
        );
    }

    #[test]
    fn array_size_limit() {
        assert_eq!(
            limit_hit("let a = [1]; loop { a += a; }"),
            Some(Limit::ArraySize)
        );
    }

    #[test]
    fn map_size_limit() {
        // Building a record that large by hand takes more operations than a run may use, so
        // the record comes in as an input, which counts the same.
        let big = ScriptValue::Record(
            (0..=MAX_MAP_SIZE)
                .map(|i| (format!("k{i}"), number("1")))
                .collect(),
        );
        assert_eq!(
            run("big.len()", &[("big", big)])
                .err()
                .and_then(|e| e.limit),
            Some(Limit::MapSize)
        );
    }

    #[test]
    fn inputs_of_an_ordinary_estate_fit_the_limits() {
        let machine =
            ScriptValue::Record((0..15).map(|i| (format!("f{i}"), number("1"))).collect());
        let license = record(&[("devices", ScriptValue::List(vec![machine; 2000]))]);
        let inputs = [("license", license)];
        assert_eq!(
            run("license.devices.len()", &inputs),
            Ok(Decimal::from(2000))
        );
    }

    #[test]
    fn expression_depth_limit() {
        let deep = format!("{}1{}", "(".repeat(100), ")".repeat(100));
        assert_eq!(
            CompiledScript::compile(&deep).err().and_then(|e| e.limit),
            Some(Limit::ExpressionDepth)
        );
    }

    #[test]
    fn deep_scripts_do_not_overflow_a_small_stack() {
        // Nested as deep as compiling allows, recursing as deep as running allows, on a thread
        // with 1 MiB of stack: the script gets a stack of its own and stops at the call limit.
        let body = format!("{}f(n + 1){}", "max(1, ".repeat(27), ")".repeat(27));
        let text = format!("fn f(n) {{ if n > 100 {{ 0 }} else {{ {body} }} }}\nf(0)");
        let outcome = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || CompiledScript::compile(&text).map(|script| script.run(&[])))
            .map(std::thread::JoinHandle::join);
        assert!(
            matches!(&outcome, Ok(Ok(Ok(Err(e)))) if e.limit == Some(Limit::CallDepth)),
            "{outcome:?}"
        );
    }

    #[test]
    fn nested_switch_compiles_quickly() {
        // rhai's optimizer takes exponential time here (minutes at this depth); it is off.
        let text = format!("{}1{}", "switch 1 { _ => ".repeat(25), " }".repeat(25));
        let started = std::time::Instant::now();
        assert!(CompiledScript::compile(&text).is_ok());
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn eval_is_refused() {
        let err = CompiledScript::compile("let x = 1;\neval(\"40 + 2\")").err();
        assert_eq!(
            err.map(|e| (e.message, e.line, e.column)),
            Some((
                "`eval` is not available in a license script".to_string(),
                2,
                1
            ))
        );
    }

    #[test]
    fn import_is_refused() {
        let err = CompiledScript::compile(r#"import "tiers" as t; 1"#).err();
        assert_eq!(
            err.map(|e| (e.message, e.line, e.column)),
            Some((
                "`import` is not available in a license script: it cannot load modules".to_string(),
                1,
                1
            ))
        );
    }

    #[test]
    fn print_and_debug_are_refused() {
        for text in [r#"print("hello"); 1"#, r#"debug("hello"); 1"#] {
            let message = CompiledScript::compile(text).err().map(|e| e.message);
            assert!(
                message
                    .as_deref()
                    .is_some_and(|m| m.ends_with("is not available in a license script")),
                "{text}: {message:?}"
            );
        }
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        let err = CompiledScript::compile("let x = 1;\nlet y = x +* 2;\ny").err();
        assert_eq!(err.map(|e| (e.line, e.column)), Some((2, 12)));
    }

    #[test]
    fn non_number_results_are_errors() {
        let cases = [
            (
                r#""ten""#,
                "the script returned the text `ten`, not a number",
            ),
            ("true", "the script returned `true`, not a number"),
            ("let x = 1;", "the script returned nothing, not a number"),
            ("[1, 2]", "the script returned a list, not a number"),
            (
                "-0.5",
                "the script returned `-0.5`; a quantity cannot be below 0",
            ),
        ];
        for (text, message) in cases {
            assert_eq!(
                run(text, &[]).err().map(|e| e.message),
                Some(message.to_string()),
                "{text}"
            );
        }
    }

    #[test]
    fn runtime_errors_are_placed_and_worded() {
        let err = run("let x = 1;\nx + nope", &[]).err();
        assert_eq!(
            err.map(|e| (e.message, e.line, e.column)),
            Some(("`nope` is not defined".to_string(), 2, 5))
        );
        let host = record(&[("cores", number("4"))]);
        let err = run("host.coers", &[("host", host)])
            .err()
            .map(|e| e.message);
        assert_eq!(err.as_deref(), Some("there is no field `coers`"));
        let err = run(r#""a" - 1"#, &[]).err().map(|e| e.message);
        assert_eq!(
            err.as_deref(),
            Some("there is no function `-` for text, integer")
        );
        let err = run("let tiers = [1];\ntiers[3]", &[]).err();
        assert_eq!(
            err.map(|e| (e.message, e.line, e.column)),
            Some((
                "array index 3 out of bounds: only 1 element in array".to_string(),
                2,
                7
            ))
        );
    }
}
