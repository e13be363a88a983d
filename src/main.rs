//! The `tally` binary: a thin shell around [`tally::run`].

use std::process::ExitCode;

fn main() -> ExitCode {
    tally::leave_memory_to_exit();
    let code = tally::run(
        std::env::args_os(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    ExitCode::from(code)
}
