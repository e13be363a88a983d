//! Estate import (placeholder being written).
use super::model::Estate;
use std::sync::Arc;
use tally_compiler::diagnostics::{Diagnostic, SourceFile};
use tally_compiler::ir::CompiledPack;

/// The five files of an estate, as text.
#[derive(Debug, Clone)]
pub struct EstateFiles {
    pub devices: Arc<SourceFile>,
    pub users: Arc<SourceFile>,
    pub evidence: Arc<SourceFile>,
    pub licenses: Arc<SourceFile>,
    pub purchases: Arc<SourceFile>,
}

/// Parses and validates an estate against the compiled packs.
pub fn import(_files: &EstateFiles, _pack: &CompiledPack) -> Result<Estate, Vec<Diagnostic>> {
    Ok(Estate::default())
}
