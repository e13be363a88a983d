//! The codes of the language server's own problems (T0320–T0329). Like every code, each has a
//! section in `docs/diagnostics.md`.

use tally_compiler::diagnostics::Code;

/// An `initializationOptions` value has the wrong type; its default is used.
pub const INVALID_OPTIONS: Code = Code("T0320");
/// The standard packs could not be written to their cache folder; they are shown as
/// `tally-std:` URIs instead.
pub const STANDARD_PACKS_NOT_WRITTEN: Code = Code("T0321");
/// A rename would change the standard packs, which are read-only.
pub const RENAME_READ_ONLY: Code = Code("T0322");
/// A rename's new name is not a name, or is taken, or the thing cannot be renamed.
pub const RENAME_INVALID: Code = Code("T0323");
/// A request failed inside the server; the server goes on.
pub const REQUEST_FAILED: Code = Code("T0325");
/// `tally lsp` could not start serving.
pub const START_FAILED: Code = Code("T0326");

/// Every code with its one-line summary, in code order.
pub const ALL: &[(Code, &str)] = &[
    (
        INVALID_OPTIONS,
        "an initialization option has the wrong type",
    ),
    (
        STANDARD_PACKS_NOT_WRITTEN,
        "the standard packs could not be written to their cache folder",
    ),
    (RENAME_READ_ONLY, "a rename would change the standard packs"),
    (
        RENAME_INVALID,
        "a rename's new name is not valid or is taken",
    ),
    (
        REQUEST_FAILED,
        "a request failed inside the language server",
    ),
    (START_FAILED, "the language server could not start"),
];
