//! `tally watch` end to end, in-process: on a copy of the sample estate, a save that installs
//! Visio on a device prints the license's move and the device; a broken `devices.csv` prints
//! its diagnostic and keeps the last good state; fixing it applies everything saved since,
//! against that state. Each expected line is waited for (polling the output, up to a generous
//! limit), never assumed after a fixed sleep.

use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/contoso");

/// How long one expected line may take: loading the standard packs in a debug build on two
/// busy cores takes a while, and so may the file-system events.
const PATIENCE: Duration = Duration::from_secs(60);

/// A stream the watch writes to on its thread while the test reads it on its own.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

struct Session {
    out: Shared,
    err: Shared,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<thread::JoinHandle<u8>>,
}

impl Session {
    fn start(estate: &Path, extra: &[&Path]) -> Self {
        let (out, err) = (Shared::default(), Shared::default());
        let (stop, stopped) = mpsc::channel();
        let mut args = vec![
            "tally".to_owned(),
            "watch".to_owned(),
            estate.display().to_string(),
            "--as-of".to_owned(),
            "2026-11-01".to_owned(),
        ];
        for pack in extra {
            args.extend(["--pack".to_owned(), pack.display().to_string()]);
        }
        let (mut o, mut e) = (out.clone(), err.clone());
        let thread = thread::spawn(move || tally::run_until(args, &mut o, &mut e, &stopped));
        Self {
            out,
            err,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Waits until stdout after byte `from` satisfies `done`; returns that part of stdout.
    fn wait_out(&self, from: usize, what: &str, done: impl Fn(&str) -> bool) -> String {
        self.wait(what, || {
            let out = self.out.text();
            let part = out.get(from..).unwrap_or_default().to_owned();
            done(&part).then_some(part)
        })
    }

    /// Waits until stderr satisfies `done`; returns stderr.
    fn wait_err(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        self.wait(what, || {
            let err = self.err.text();
            done(&err).then_some(err)
        })
    }

    fn wait(&self, what: &str, mut ready: impl FnMut() -> Option<String>) -> String {
        let started = Instant::now();
        loop {
            if let Some(text) = ready() {
                return text;
            }
            let ended = self.thread.as_ref().is_some_and(|t| t.is_finished());
            if ended || started.elapsed() > PATIENCE {
                panic!(
                    "no {what} after {:?}{}\n--- stdout:\n{}\n--- stderr:\n{}",
                    started.elapsed(),
                    if ended { " (the watch ended)" } else { "" },
                    self.out.text(),
                    self.err.text()
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(&mut self) -> u8 {
        drop(self.stop.take());
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // A failed test still ends the watch.
        self.stop.take();
    }
}

fn append(path: &Path, line: &str) {
    let mut file = fs::OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(line.as_bytes()).unwrap();
}

fn visio_on(device: &str) -> String {
    format!(
        "{device},installer,Microsoft Corporation,Microsoft Visio Professional 2016,16.0.4266.1001,,,sccm,\n"
    )
}

/// A copy of the sample estate in `dir`.
fn sample_in(dir: &Path) -> std::path::PathBuf {
    let estate = dir.join("contoso");
    fs::create_dir(&estate).unwrap();
    for entry in fs::read_dir(SAMPLE).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, estate.join(path.file_name().unwrap())).unwrap();
    }
    estate
}

#[test]
fn watch_prints_what_moved_and_keeps_the_last_good_state_on_a_bad_save() {
    let dir = tempfile::tempdir().unwrap();
    let estate = sample_in(dir.path());
    let mut session = Session::start(&estate, &[]);

    // The position once, then the watching line.
    let start = session.wait_out(0, "watching line", |o| o.contains("press Ctrl-C to stop"));
    assert!(start.contains("L-MS-VISIO-PRO-2016"), "{start}");
    assert!(
        start.contains(&format!(
            "watching {} and 0 rule files; press Ctrl-C to stop",
            estate.display()
        )),
        "{start}"
    );
    let mark = start.len();

    // Visio Professional 2016 on a device that had no Visio: one more consumed, and why.
    append(&estate.join("evidence.csv"), &visio_on("CON-WS-0005"));
    let update = session.wait_out(mark, "delta of the Visio install", |o| {
        o.contains("CON-WS-0005")
    });
    assert!(
        update.contains("evidence.csv: 1 license changed"),
        "{update}"
    );
    assert!(
        update.contains("L-MS-VISIO-PRO-2016: consumed 8 → 9, available -2 → -3"),
        "{update}"
    );
    // The new row; which rows go over the entitlements is the reconciliation order's call.
    assert!(
        update.contains("  + device CON-WS-0005, microsoft.visio.professional_2016: Consumed, "),
        "{update}"
    );
    assert!(update.contains(" ms)"), "{update}");
    let mark = mark + update.len();

    // A broken devices.csv: its diagnostic as other commands render it, the state kept.
    let devices = estate.join("devices.csv");
    let good = fs::read_to_string(&devices).unwrap();
    let broken = good.replacen(",desktop,1,14,20,1,", ",desktop,1,four,20,1,", 1);
    assert_ne!(good, broken);
    fs::write(&devices, &broken).unwrap();
    let err = session.wait_err("kept-state line", |e| {
        e.contains("kept the last good state; fix the file to go on")
    });
    assert!(err.contains("T0203"), "{err}");
    assert!(err.contains("devices.csv:2:"), "{err}");
    assert!(err.contains("help:"), "{err}");
    let update = session.wait_out(mark, "error line", |o| o.contains("1 error"));
    assert!(update.contains("devices.csv: 1 error"), "{update}");
    let mark = mark + update.len();

    // A good save elsewhere while devices.csv is broken is not applied either.
    append(&estate.join("evidence.csv"), &visio_on("CON-WS-0006"));
    session.wait_err("second kept-state line", |e| {
        e.matches("kept the last good state").count() == 2
    });

    // Fixed: everything since the last good state applies, and the delta is taken against it.
    fs::write(&devices, &good).unwrap();
    let update = session.wait_out(mark, "recovery", |o| o.contains("good again"));
    let update = if update.contains("CON-WS-0006") {
        update
    } else {
        session.wait_out(mark, "recovery delta", |o| o.contains("CON-WS-0006"))
    };
    assert!(
        update.contains("good again; 1 license changed since the last good state"),
        "{update}"
    );
    assert!(
        update.contains("L-MS-VISIO-PRO-2016: consumed 9 → 10, available -3 → -4"),
        "{update}"
    );
    assert!(
        update.contains("  + device CON-WS-0006, microsoft.visio.professional_2016: Consumed, "),
        "{update}"
    );
    assert!(!update.contains("+ device CON-WS-0005"), "{update}");

    assert_eq!(session.stop(), 0, "{}", session.err.text());
}

#[test]
fn watch_needs_an_estate_folder() {
    let (code, out, err) = tally_tests::tally(&["watch"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.starts_with("error[T0301]"), "{err}");
    assert!(err.contains("<ESTATE>"), "{err}");
    let (code, _, err) = tally_tests::tally(&["watch", "/no/such/estate"]);
    assert_eq!(code, 2);
    assert!(err.contains("T0201"), "{err}");
}

/// A rule that makes Visio Viewer 2016 (on CON-LT-0001 in the sample) count as Visio
/// Professional 2016.
const VIEWER_AS_VISIO: &str = "/// Visio Viewer counted as Visio Professional, for the test.
extend application microsoft.visio.professional_2016 {
    recognize installer { name like \"Microsoft Visio Viewer 2016%\" }
}
";

#[test]
fn watch_applies_new_broken_fixed_and_removed_rule_files() {
    let dir = tempfile::tempdir().unwrap();
    let estate = sample_in(dir.path());
    let pack = dir.path().join("pack");
    fs::create_dir(&pack).unwrap();
    fs::write(
        pack.join("site.tally"),
        "/// Our own publisher.\npublisher contoso {\n    name \"Contoso Ltd\"\n}\n",
    )
    .unwrap();
    let mut session = Session::start(&estate, &[&pack]);
    let start = session.wait_out(0, "watching line", |o| o.contains("press Ctrl-C to stop"));
    assert!(
        start.contains(" and 1 rule file; press Ctrl-C to stop"),
        "{start}"
    );
    let mark = start.len();

    // A new rule file, saved with a syntax error: its diagnostic, and nothing applied.
    let viewer = pack.join("sub").join("viewer.tally");
    fs::create_dir(pack.join("sub")).unwrap();
    fs::write(&viewer, VIEWER_AS_VISIO.replacen("\n}\n", "\n", 1)).unwrap();
    let err = session.wait_err("kept-state line", |e| {
        e.contains("kept the last good state")
    });
    assert!(err.contains("T0001"), "{err}");
    assert!(err.contains("viewer.tally:"), "{err}");
    let update = session.wait_out(mark, "error line", |o| o.contains("1 error"));
    let mark = mark + update.len();

    // Fixed: the rule applies and Visio Viewer installations now consume Visio.
    fs::write(&viewer, VIEWER_AS_VISIO).unwrap();
    let update = session.wait_out(mark, "rule delta", |o| o.contains("+ device CON-LT-0001"));
    assert!(
        update.contains("viewer.tally: good again; 1 license changed"),
        "{update}"
    );
    assert!(
        update.contains("L-MS-VISIO-PRO-2016: consumed 8 → "),
        "{update}"
    );
    let mark = mark + update.len();

    // Removed: back to the position on start.
    fs::remove_file(&viewer).unwrap();
    let update = session.wait_out(mark, "removal delta", |o| {
        o.contains("- device CON-LT-0001")
    });
    assert!(update.contains("1 file removed"), "{update}");
    assert!(update.contains(" → 8, available "), "{update}");

    assert_eq!(session.stop(), 0, "{}", session.err.text());
}
