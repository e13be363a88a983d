//! Each CSV file of an estate on arbitrary text, the others from the sample estate: the first
//! byte picks the file (`d` devices, `u` users, `e` evidence, `p` purchases, `c` usage, any
//! other byte by its value), the rest is its text. An estate that imports runs through
//! recognition, reconciliation, positions and explain; one that does not gives coded diagnostics
//! that point inside their files and render.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tally_fuzz::{import_and_run, sample_with};

/// The CSV files, as indexes of `sample_with`.
const FILES: [usize; 5] = [0, 1, 2, 4, 5];

fn file(pick: u8) -> usize {
    match pick {
        b'd' => 0,
        b'u' => 1,
        b'e' => 2,
        b'p' => 4,
        b'c' => 5,
        other => FILES[usize::from(other) % FILES.len()],
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    import_and_run(&sample_with(file(pick), &text));
});
