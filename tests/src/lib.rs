//! End-to-end scenario corpus and what its tests share; the tests live in `tests/`.

/// Runs `tally` in-process with `args` (without the program name): the exit code, stdout and
/// stderr.
pub fn tally<S: AsRef<str>>(args: &[S]) -> (u8, String, String) {
    let argv = std::iter::once("tally").chain(args.iter().map(AsRef::as_ref));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = tally::run(argv, &mut out, &mut err);
    (
        code,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

/// The five files every estate folder holds, in the order `EstateFiles::from_texts` takes them.
pub const ESTATE_FILES: [&str; 5] = [
    "devices.csv",
    "users.csv",
    "evidence.csv",
    "licenses.yaml",
    "purchases.csv",
];
