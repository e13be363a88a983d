//! The `tally` binary: a thin shell around [`tally::run`].

use std::process::ExitCode;

/// Recognition and import allocate millions of small records from several threads; this
/// allocator keeps that from dominating a run (see `docs/architecture.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tally::leave_memory_to_exit();
    // The streams are not locked for the whole run: `tally lsp` writes to stdout from the
    // language server's own threads, which would wait for the lock forever.
    let code = tally::run(
        std::env::args_os(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    ExitCode::from(code)
}
