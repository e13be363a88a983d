//! The estate: the data model and the importer for an estate folder.

pub mod codes;
mod csv_reader;
pub mod import;
mod licenses;
mod locate;
pub mod model;
mod values;
mod yaml;

pub use import::{EstateFiles, import};
pub use model::*;
