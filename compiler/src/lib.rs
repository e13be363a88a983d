//! The Tally rule-language compiler.
//!
//! Rule files are split into top-level declarations, each parsed on its own with a pest grammar
//! (so one syntax error costs one declaration), turned into a syntax tree, resolved and checked,
//! and lowered to a [`ir::CompiledPack`] that the runtime consumes. Every problem is a
//! [`diagnostics::Diagnostic`] with a stable code, a labelled span and a help line.

pub mod check;
pub mod diagnostics;
pub mod evidence;
pub mod format;
pub mod ir;
pub mod parallel;
pub mod script;
pub mod snippet;
pub mod syntax;

use std::sync::Arc;

pub use check::{Compiled, compile};
pub use diagnostics::{Diagnostic, SourceFile};
pub use syntax::{ParsedFile, parse_file};

/// Parses and compiles rule files in one go (sorted by path, for deterministic output). Files
/// are parsed in parallel.
pub fn compile_sources(sources: &[Arc<SourceFile>]) -> Compiled {
    let mut parsed = parallel::map_with(sources, 1, || (), |_, s| parse_file(Arc::clone(s)));
    parsed.sort_by(|a, b| a.source.path.cmp(&b.source.path));
    compile(&parsed.iter().collect::<Vec<_>>())
}
