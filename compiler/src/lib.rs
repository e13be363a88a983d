//! The Tally rule-language compiler.
//!
//! Rule files are split into top-level declarations, each parsed on its own with a pest grammar
//! (so one syntax error costs one declaration), turned into a syntax tree, resolved and checked,
//! and lowered to a [`ir::CompiledPack`] that the runtime consumes. Every problem is a
//! [`diagnostics::Diagnostic`] with a stable code, a labelled span and a help line.

pub mod diagnostics;
pub mod ir;
