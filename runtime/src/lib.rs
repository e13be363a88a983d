//! The Tally runtime: estate import, recognition, reconciliation, positions, assessments and
//! reports, computed incrementally over a salsa database.

pub mod estate;
