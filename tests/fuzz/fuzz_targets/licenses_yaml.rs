//! Arbitrary text as `licenses.yaml`, the other files from the sample estate. An estate that
//! imports runs through the whole pipeline; one that does not gives coded diagnostics that point
//! inside their files and render.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tally_fuzz::{import_and_run, sample_with};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    import_and_run(&sample_with(3, &text));
});
