//! The estate: the data model, the importer for an estate folder, and appending imported
//! evidence to one.

mod append;
pub mod codes;
mod csv_reader;
pub mod import;
mod licenses;
pub(crate) mod locate;
pub mod model;
mod values;
pub(crate) mod yaml;

pub use append::{Appended, append_evidence, evidence_csv};
pub use import::{EstateFiles, import};
pub use model::*;
