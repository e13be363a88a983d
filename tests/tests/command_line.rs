//! The command line stays honest: it says when it runs on the bundled sample estate, and a
//! failed write to stdout exits non-zero (T0305), except a reader that closed the pipe early.

use std::io::{self, Write};

use tally_tests::tally;

const AS_OF: &str = "2026-11-01";

#[test]
fn the_sample_estate_is_named_on_stderr_unless_asked_for() {
    let (code, out, err) = tally(&["reconcile", "--as-of", AS_OF]);
    assert_eq!(code, 0);
    assert!(!out.is_empty());
    assert_eq!(err, tally::SAMPLE_NOTE);
    assert_eq!(err.lines().count(), 1);
    let (code, _, err) = tally(&["report", "unlicensed", "--sample", "--as-of", AS_OF]);
    assert_eq!((code, err.as_str()), (0, ""));
    // A folder given: no note.
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/contoso");
    let (code, _, err) = tally(&["reconcile", sample, "--as-of", AS_OF]);
    assert_eq!((code, err.as_str()), (0, ""));
    // `--sample` with a folder is a usage error.
    let (code, _, err) = tally(&["reconcile", sample, "--sample"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("error[T0301]"), "{err}");
}

/// A stdout that accepts `room` bytes (a write takes what fits, as a pipe does), then fails
/// every write with `kind`.
struct Failing {
    room: usize,
    kind: io::ErrorKind,
    written: Vec<u8>,
}

impl Write for Failing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let fits = buf.len().min(self.room - self.written.len());
        if fits == 0 && !buf.is_empty() {
            return Err(io::Error::from(self.kind));
        }
        self.written.extend_from_slice(&buf[..fits]);
        Ok(fits)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn run_into(out: &mut dyn Write, args: &[&str]) -> (u8, String) {
    let mut err = Vec::new();
    let argv = std::iter::once("tally").chain(args.iter().copied());
    let code = tally::run(argv, out, &mut err);
    (code, String::from_utf8_lossy(&err).into_owned())
}

#[test]
fn a_full_disk_exits_with_3_and_says_so() {
    let mut out = Failing {
        room: 100,
        kind: io::ErrorKind::StorageFull,
        written: Vec::new(),
    };
    let (code, err) = run_into(&mut out, &["reconcile", "--sample", "--as-of", AS_OF]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("T0305") && err.contains("the output could not be written"),
        "{err}"
    );
    assert!(err.contains("help:"), "{err}");
    // As JSON, the diagnostic is a JSON record.
    out.written.clear();
    let (code, err) = run_into(
        &mut out,
        &[
            "reconcile",
            "--sample",
            "--as-of",
            AS_OF,
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 3);
    let parsed: serde_json::Value = serde_json::from_str(&err).unwrap();
    assert_eq!(parsed[0]["code"], "T0305");
}

#[test]
fn a_closed_stream_exits_non_zero_but_a_reader_that_stopped_early_does_not() {
    let mut closed = Failing {
        room: 0,
        kind: io::ErrorKind::Other,
        written: Vec::new(),
    };
    let (code, err) = run_into(&mut closed, &["report", "under-consumed", "--sample"]);
    assert_eq!(code, 3, "{err}");
    // `tally reconcile | head -3`: head reads three lines and closes the pipe.
    let mut head = Failing {
        room: 300,
        kind: io::ErrorKind::BrokenPipe,
        written: Vec::new(),
    };
    let (code, err) = run_into(&mut head, &["reconcile", "--sample", "--as-of", AS_OF]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(!head.written.is_empty());
    // The command's own exit code stands.
    head.written.clear();
    let (code, err) = run_into(
        &mut head,
        &[
            "reconcile",
            "--sample",
            "--as-of",
            AS_OF,
            "--fail-on",
            "at-risk",
        ],
    );
    assert_eq!((code, err.as_str()), (1, ""));
}
