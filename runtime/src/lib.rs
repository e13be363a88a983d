//! The Tally runtime: estate import, recognition and triage of the unrecognised, reconciliation,
//! positions, assessments and reports, computed incrementally over a salsa database.

pub mod bench;
pub mod db;
pub mod delta;
pub mod diff;
pub mod estate;
pub mod files;
pub mod generate;
pub mod git;
pub mod inventory;
pub mod lint;
pub mod manifest;
pub mod metric;
pub mod overlaps;
pub mod pack_tests;
pub mod position;
pub mod recognize;
pub mod reconcile;
pub mod report;
pub mod reports;
pub mod samples;
pub mod scenarios;
pub mod sources;
pub mod triage;
pub mod workspace;
