//! Reading estate and pack files safely: links that leave their folder, special files, loops
//! of links and text that is not UTF-8 are refused with a coded error and nothing on stdout,
//! and what a refused link points at is never shown. Unix only: it makes links and pipes.
#![cfg(unix)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use tally_tests::tally;

/// A copy of the sample estate in a new temporary folder.
fn sample_estate() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("estate");
    fs::create_dir(&dir).unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/contoso");
    for entry in fs::read_dir(sample).unwrap() {
        let entry = entry.unwrap().path();
        if entry.extension().is_some_and(|e| e == "csv" || e == "yaml") {
            fs::copy(&entry, dir.join(entry.file_name().unwrap())).unwrap();
        }
    }
    (tmp, dir)
}

fn reconcile(dir: &Path) -> (u8, String, String) {
    tally(&["reconcile", dir.to_str().unwrap(), "--as-of", "2026-11-01"])
}

/// Exit 2, nothing on stdout, and the code on stderr.
fn assert_refused(result: (u8, String, String), code: &str) -> String {
    let (exit, out, err) = result;
    assert_eq!(exit, 2, "{err}");
    assert_eq!(out, "");
    assert!(err.contains(code), "expected {code}: {err}");
    err
}

#[test]
fn a_link_out_of_the_estate_folder_is_refused_unread() {
    let (tmp, dir) = sample_estate();
    let secret = tmp.path().join("secret.csv");
    fs::write(&secret, "id,name\nTOP-SECRET-VALUE,x\n").unwrap();
    fs::remove_file(dir.join("users.csv")).unwrap();
    symlink(&secret, dir.join("users.csv")).unwrap();
    let err = assert_refused(reconcile(&dir), "T0208");
    assert!(err.contains("outside the folder"), "{err}");
    assert!(!err.contains("TOP-SECRET-VALUE"), "{err}");
}

#[test]
fn a_link_inside_the_estate_folder_is_followed() {
    let (_tmp, dir) = sample_estate();
    fs::create_dir(dir.join("exports")).unwrap();
    fs::rename(dir.join("users.csv"), dir.join("exports/users.csv")).unwrap();
    symlink(dir.join("exports/users.csv"), dir.join("users.csv")).unwrap();
    let (code, _, err) = reconcile(&dir);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_named_pipe_or_a_device_is_refused_without_waiting() {
    let (_tmp, dir) = sample_estate();
    fs::remove_file(dir.join("devices.csv")).unwrap();
    let made = Command::new("mkfifo").arg(dir.join("devices.csv")).status();
    if made.is_ok_and(|s| s.success()) {
        let err = assert_refused(reconcile(&dir), "T0208");
        assert!(err.contains("named pipe"), "{err}");
        fs::remove_file(dir.join("devices.csv")).unwrap();
    }
    symlink("/dev/zero", dir.join("devices.csv")).unwrap();
    assert_refused(reconcile(&dir), "T0208");
}

#[test]
fn a_loop_of_links_is_refused() {
    let (_tmp, dir) = sample_estate();
    fs::remove_file(dir.join("purchases.csv")).unwrap();
    symlink(dir.join("loop.csv"), dir.join("purchases.csv")).unwrap();
    symlink(dir.join("purchases.csv"), dir.join("loop.csv")).unwrap();
    let err = assert_refused(reconcile(&dir), "T0208");
    assert!(err.contains("nowhere"), "{err}");
}

#[test]
fn text_that_is_not_utf8_is_located_at_its_first_bad_byte() {
    let (_tmp, dir) = sample_estate();
    let mut bytes = fs::read(dir.join("users.csv")).unwrap();
    let second_line = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    bytes.insert(second_line + 2, 0xff);
    fs::write(dir.join("users.csv"), bytes).unwrap();
    let err = assert_refused(reconcile(&dir), "T0201");
    assert!(err.contains("users.csv:2:3]"), "{err}");
    assert!(
        err.contains(&format!("offset {}", second_line + 2)),
        "{err}"
    );
}

#[test]
fn a_byte_order_mark_and_crlf_line_ends_are_accepted() {
    let (_tmp, dir) = sample_estate();
    let (_, expected, _) = reconcile(&dir);
    for name in [
        "devices.csv",
        "users.csv",
        "evidence.csv",
        "licenses.yaml",
        "purchases.csv",
    ] {
        let text = fs::read_to_string(dir.join(name)).unwrap();
        fs::write(
            dir.join(name),
            format!("\u{feff}{}", text.replace('\n', "\r\n")),
        )
        .unwrap();
    }
    let (code, out, err) = reconcile(&dir);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, expected);
}

#[test]
fn a_pack_file_linked_out_of_its_folder_is_refused_unread() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = tmp.path().join("pack");
    fs::create_dir(&pack).unwrap();
    fs::write(tmp.path().join("env"), "API_TOKEN=TOP-SECRET-VALUE\n").unwrap();
    symlink(tmp.path().join("env"), pack.join("evil.tally")).unwrap();
    let err = assert_refused(tally(&["check", pack.to_str().unwrap()]), "T0208");
    assert!(!err.contains("TOP-SECRET-VALUE"), "{err}");
}

#[test]
fn a_loop_of_folders_in_a_pack_ends() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = tmp.path().join("pack");
    fs::create_dir(&pack).unwrap();
    fs::write(pack.join("a.tally"), "publisher acme { name \"Acme\" }\n").unwrap();
    symlink(&pack, pack.join("again")).unwrap();
    let (code, _, err) = tally(&["check", pack.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_rule_file_with_a_byte_order_mark_and_crlf_compiles() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a.tally");
    fs::write(
        &file,
        "\u{feff}// Acme\r\npublisher acme {\r\n    name \"Acme\"\r\n}\r\n",
    )
    .unwrap();
    let (code, _, err) = tally(&["check", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
}
