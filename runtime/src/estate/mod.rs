//! The estate: the data model and the importer for an estate folder.

pub mod import;
pub mod model;

pub use import::{EstateFiles, import};
pub use model::*;
