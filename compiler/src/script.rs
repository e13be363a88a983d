//! Placeholder for the rhai sandbox (being written on its own branch).

use rust_decimal::Decimal;

pub enum ScriptValue {
    Number(Decimal),
    Text(String),
    Bool(bool),
    List(Vec<ScriptValue>),
    Record(std::collections::BTreeMap<String, ScriptValue>),
    Unknown,
}

pub struct ScriptError {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

pub struct CompiledScript;

impl CompiledScript {
    pub fn compile(_text: &str) -> Result<Self, ScriptError> {
        Ok(Self)
    }
    pub fn run(&self, _inputs: &[(&str, ScriptValue)]) -> Result<Decimal, ScriptError> {
        Ok(Decimal::ONE)
    }
}
