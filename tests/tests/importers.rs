//! `tally import` end to end over real inventory files (`fixtures/glpi-agent/`, from GLPI
//! Agent's test resources) and hand-written SWID tags (`fixtures/swid/`): the `.reg` importer
//! against an independent flattening of the same dumps, row for row; every fixture's output as
//! an insta snapshot; the imported rows make a valid estate; and `--into` appends without
//! touching the rows already there.
//!
//! Paths are relative to this crate's folder, where cargo runs the tests, so that snapshots
//! are the same on every machine.

use std::fs;
use std::path::Path;

use tally_tests::tally;

const DEVICE: &str = "WS-01";
const REGISTRY: &str = "fixtures/glpi-agent/resources/win32/registry";

/// Every fixture with the format that reads it.
const FIXTURES: &[(&str, &str)] = &[
    (
        "reg",
        "fixtures/glpi-agent/resources/win32/registry/10_russian-Uninstall.reg",
    ),
    (
        "reg",
        "fixtures/glpi-agent/resources/win32/registry/mssql-Uninstall.reg",
    ),
    (
        "reg",
        "fixtures/glpi-agent/resources/win32/registry/mssql_engine-Uninstall.reg",
    ),
    (
        "reg",
        "fixtures/glpi-agent/resources/win32/registry/xp-Uninstall.reg",
    ),
    ("dpkg", "fixtures/glpi-agent/resources/linux/packaging/dpkg"),
    ("rpm", "fixtures/glpi-agent/resources/linux/packaging/rpm"),
    (
        "wmi",
        "fixtures/glpi-agent/resources/win32/wmi/office_2016_01-SoftwareLicensingProduct.wmi",
    ),
    ("swid", "fixtures/swid"),
];

/// `tally import FORMAT INPUT --device WS-01 REST…`, which must succeed: its stdout.
fn import(format: &str, input: &str, rest: &[&str]) -> String {
    let mut args = vec!["import", format, input, "--device", DEVICE];
    args.extend(rest);
    let (code, out, err) = tally(&args);
    assert_eq!(code, 0, "{args:?}: {err}");
    assert_eq!(err, "", "{args:?}");
    out
}

/// The records of a CSV text, each a map from column to value.
fn records(text: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .zip(r.iter())
                .map(|(c, v)| (c.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

#[test]
fn the_reg_importer_reads_every_uninstall_entry_row_for_row() {
    let expected = fs::read_to_string("fixtures/glpi-agent/uninstall_entries.flat.csv").unwrap();
    let expected = records(&expected);
    assert_eq!(expected.len(), 429);
    let field = |r: &std::collections::BTreeMap<String, String>, c: &str| {
        r.get(c).map_or(String::new(), |v| v.trim().to_owned())
    };
    let mut compared = 0;
    for file in [
        "10_russian-Uninstall.reg",
        "mssql-Uninstall.reg",
        "mssql_engine-Uninstall.reg",
        "xp-Uninstall.reg",
    ] {
        let want: Vec<[String; 7]> = expected
            .iter()
            .filter(|r| field(r, "source_file") == file)
            .map(|r| {
                let key = field(r, "key");
                let guid = key.len() == 38 && key.starts_with('{') && key.ends_with('}');
                let flag = if field(r, "SystemComponent") == "1" {
                    "true"
                } else {
                    ""
                };
                [
                    field(r, "DisplayName"),
                    field(r, "Publisher"),
                    field(r, "DisplayVersion"),
                    if guid { key } else { String::new() },
                    flag.to_owned(),
                    field(r, "ParentKeyName"),
                    field(r, "ReleaseType"),
                ]
            })
            .collect();
        let out = import("reg", &format!("{REGISTRY}/{file}"), &[]);
        let got: Vec<[String; 7]> = records(&out)
            .iter()
            .map(|r| {
                assert_eq!(field(r, "kind"), "installer");
                assert_eq!(field(r, "device"), DEVICE);
                [
                    "name",
                    "publisher",
                    "version",
                    "product_code",
                    "system_component",
                    "parent",
                    "release_type",
                ]
                .map(|c| field(r, c))
            })
            .collect();
        assert_eq!(got.len(), want.len(), "{file}");
        for (i, (got, want)) in got.iter().zip(&want).enumerate() {
            assert_eq!(got, want, "{file}, entry {i}");
        }
        compared += got.len();
    }
    assert_eq!(compared, 429);
}

#[test]
fn every_fixture_imports_as_its_snapshot() {
    for (format, input) in FIXTURES {
        let out = import(format, input, &[]);
        let name = Path::new(input).file_name().unwrap().to_str().unwrap();
        insta::assert_snapshot!(
            format!("{format}-{name}"),
            format!("$ tally import {format} {input} --device {DEVICE}\n{out}")
        );
    }
}

#[test]
fn imports_are_deterministic() {
    for (format, input) in FIXTURES {
        assert_eq!(import(format, input, &[]), import(format, input, &[]));
    }
}

/// A copy of the catalogue's base estate and its pack in a new temporary folder.
fn base_estate() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("estate");
    fs::create_dir(&dir).unwrap();
    for entry in fs::read_dir("bad-inputs/base").unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
    }
    (tmp, dir)
}

#[test]
fn imported_rows_make_a_valid_estate() {
    let (_tmp, dir) = base_estate();
    let estate = dir.to_str().unwrap();
    for (format, input) in FIXTURES {
        let out = import(format, input, &["--into", estate]);
        assert!(out.starts_with("appended "), "{out}");
    }
    let (code, out, err) = tally(&[
        "recognize",
        estate,
        "--no-std",
        "--pack",
        "bad-inputs/base/pack",
        "--as-of",
        "2026-11-01",
        "--format",
        "csv",
    ]);
    assert_eq!(code, 0, "{err}");
    // The base rows and every imported one, less the header.
    let rows = fs::read_to_string(dir.join("evidence.csv")).unwrap();
    assert!(rows.lines().count() > 429 + 16 + 10, "{out}");
}

#[test]
fn appending_keeps_the_rows_already_there() {
    let (_tmp, dir) = base_estate();
    let estate = dir.to_str().unwrap();
    let evidence = dir.join("evidence.csv");
    let before = fs::read_to_string(&evidence).unwrap();

    // The base file lacks `architecture`: it is added to the header, and every old row ends
    // in one more empty field, its bytes otherwise kept.
    let out = import("rpm", FIXTURES[5].1, &["--into", estate]);
    assert_eq!(
        out,
        format!(
            "appended 10 evidence rows to `{}`, adding the column `architecture`\n",
            evidence.display()
        )
    );
    let after = fs::read_to_string(&evidence).unwrap();
    let mut old = before.lines();
    let mut new = after.lines();
    assert_eq!(
        new.next(),
        old.next().map(|h| format!("{h},architecture")).as_deref()
    );
    for line in old {
        assert_eq!(new.next(), Some(format!("{line},").as_str()));
    }
    assert_eq!(new.count(), 10);

    // Now every column is there: the file grows by lines only.
    let out = import("dpkg", FIXTURES[4].1, &["--into", estate]);
    assert!(out.starts_with("appended 16 evidence rows"), "{out}");
    let last = fs::read_to_string(&evidence).unwrap();
    assert!(last.starts_with(&after), "existing rows changed");
    assert_eq!(last.lines().count(), after.lines().count() + 16);
}

#[test]
fn an_unknown_device_appends_nothing() {
    let (_tmp, dir) = base_estate();
    let estate = dir.to_str().unwrap();
    let evidence = dir.join("evidence.csv");
    let before = fs::read(&evidence).unwrap();
    let (code, out, err) = tally(&[
        "import",
        "rpm",
        FIXTURES[5].1,
        "--device",
        "WS-1",
        "--into",
        estate,
    ]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(
        err.contains("T0205") && err.contains("unknown device `WS-1`"),
        "{err}"
    );
    assert!(err.contains("did you mean `WS-01`?"), "{err}");
    assert_eq!(fs::read(&evidence).unwrap(), before);
    let leftovers: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
