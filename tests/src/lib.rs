//! End-to-end scenario corpus; the tests live in `tests/`.
