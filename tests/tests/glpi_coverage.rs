//! The standard packs on real inventory: the four Windows Uninstall dumps of the glpi-agent
//! project (`fixtures/glpi-estate`, 429 rows, 327 of them hotfixes and updates on one XP
//! workstation) through `tally recognize`. No hotfix or update becomes an application, every
//! commercial product in the dumps is recognised, and the recognised applications and the
//! coverage figures (also in `docs/content.md`) are snapshotted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde_json::Value;
use tally_compiler::diagnostics::SourceFile;
use tally_compiler::ir::CompiledPack;
use tally_runtime::estate::{self, EstateFiles, Evidence, EvidenceField};
use tally_runtime::recognize::{Recognizer, RowOutcome};
use tally_tests::{ESTATE_FILES, tally};

const ESTATE: &str = "fixtures/glpi-estate";

/// The commercial (and shareware) products in the dumps: device, display name, and the
/// application it must be recognised as.
const COMMERCIAL: &[(&str, &str, &str)] = &[
    (
        "xp",
        "Symantec Backup Exec Remote Agent for Windows Systems",
        "symantec.backup_exec_agent_windows.v11d",
    ),
    (
        "xp",
        "Symantec Endpoint Protection",
        "symantec.endpoint_protection.v12",
    ),
    ("xp", "Hummingbird Exceed 2006", "opentext.exceed.v2006"),
    (
        "xp",
        "Hummingbird Connectivity Secure Shell 2006",
        "opentext.connectivity_secure_shell.v2006",
    ),
    (
        "xp",
        "PROXY Pro Master",
        "proxy_networks.proxy_pro_master.v7",
    ),
    ("xp", "PROXY Pro Host", "proxy_networks.proxy_pro_host.v6"),
    (
        "xp",
        "O&O Defrag Workstation",
        "oo_software.defrag.workstation_11",
    ),
    (
        "xp",
        "O&O DiskImage Workstation",
        "oo_software.diskimage.workstation_6",
    ),
    (
        "xp",
        "O&O DriveLED Workstation",
        "oo_software.driveled.workstation_4",
    ),
    (
        "xp",
        "O&O DiskStat Workstation",
        "oo_software.diskstat.workstation_2",
    ),
    ("xp", "O&O Event Viewer", "oo_software.eventviewer.v1"),
    (
        "xp",
        "Identity Finder",
        "identity_finder.identity_finder.any",
    ),
    (
        "xp",
        "Privilege Authority Client",
        "scriptlogic.privilege_authority.client_2",
    ),
    ("xp", "Network Console", "logmein.network_console.v9"),
    ("xp", "GSview 4.8", "ghostgum.gsview.any"),
    ("xp", "Xming 7.5.0.15", "colin_harrison.xming.any"),
    ("10_russian", "КриптоПро CSP", "cryptopro.csp.v5"),
    ("10_russian", "1C Предприятие 7.7", "onec.enterprise.v7_7"),
    // Microsoft and Oracle (arl/microsoft/, arl/oracle/).
    (
        "xp",
        "Microsoft Office Professional Plus 2010",
        "microsoft.office.professional_plus_2010",
    ),
    ("xp", "Oracle Calendar", "oracle.calendar.v10_1"),
    (
        "mssql",
        "Microsoft SQL Server 2005",
        "microsoft.sql_server.v2005",
    ),
    (
        "mssql",
        "Microsoft SQL Server 2008",
        "microsoft.sql_server.v2008",
    ),
    (
        "mssql",
        "Microsoft SQL Server 2017",
        "microsoft.sql_server.v2017",
    ),
    (
        "mssql_engine",
        "SQL Server 2011 Database Engine Services",
        "microsoft.sql_server.v2012",
    ),
    // No year in the name: the major version of its build, 17, is SQL Server 2025's (the
    // upstream fixture altered the version, 17.77.6700.34).
    (
        "mssql_engine",
        "SQL Server Database Engine Services",
        "microsoft.sql_server.v2025",
    ),
];

/// The commercial products in the dumps that no rule recognises yet: device and display name.
/// Each must at least stay visible as unrecognised evidence, never be swallowed as noise. Move
/// an entry to `COMMERCIAL` once its application exists.
const COMMERCIAL_UNRECOGNISED: &[(&str, &str)] = &[];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn standard_pack() -> &'static CompiledPack {
    static PACK: OnceLock<CompiledPack> = OnceLock::new();
    PACK.get_or_init(|| {
        let sources: Vec<Arc<SourceFile>> = ["rules", "arl", "purl", "skus"]
            .iter()
            .flat_map(|d| tally_runtime::sources::read_pack(&root().join("..").join(d)).unwrap())
            .collect();
        tally_compiler::compile_sources(&sources).pack
    })
}

/// The estate's evidence rows, as the importer reads them.
fn evidence() -> Vec<Evidence> {
    let dir = root().join(ESTATE);
    let texts = ESTATE_FILES.map(|f| std::fs::read_to_string(dir.join(f)).unwrap());
    let files = EstateFiles::from_texts(ESTATE, texts.each_ref().map(String::as_str));
    let estate = estate::import(&files, standard_pack()).unwrap();
    assert_eq!(estate.evidence.len(), 429, "the dumps have 429 rows");
    estate.evidence
}

/// `tally recognize --format json` on the estate.
fn recognized() -> Vec<Value> {
    let (code, out, err) = tally(&["recognize", ESTATE, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    match serde_json::from_str(&out) {
        Ok(Value::Array(items)) => items,
        other => panic!("expected a JSON array, got {other:?}"),
    }
}

/// The evidence lines of the report rows with `status`.
fn lines_with_status(rows: &[Value], status: &str) -> BTreeSet<usize> {
    rows.iter()
        .filter(|r| r["status"] == status)
        .flat_map(|r| {
            r["evidence_lines"]
                .as_str()
                .unwrap_or_default()
                .split(';')
                .filter_map(|l| l.parse().ok())
                .collect::<Vec<usize>>()
        })
        .collect()
}

/// Whether the registry or the name says the row is a hotfix, an update or a service pack.
fn is_update(e: &Evidence) -> bool {
    let name = e.name.to_lowercase();
    let kb = name.contains("(kb") || name.contains("- kb");
    let named = [
        "security update for",
        "update for",
        "hotfix for",
        "definition update for",
    ]
    .iter()
    .any(|p| name.starts_with(p));
    let service_pack = name.contains("service pack") && !name.starts_with("microsoft .net");
    let release = !e.field(EvidenceField::ReleaseType).is_empty();
    kb || named || service_pack || release
}

#[test]
fn no_hotfix_or_update_is_an_application() {
    let rows = recognized();
    let installed = lines_with_status(&rows, "installed");
    let noise = lines_with_status(&rows, "noise");
    let evidence = evidence();
    let updates: Vec<&Evidence> = evidence.iter().filter(|e| is_update(e)).collect();
    assert!(updates.len() >= 327, "found {} update rows", updates.len());
    for e in updates {
        assert!(
            !installed.contains(&e.line),
            "update row {} `{}` is an application",
            e.line,
            e.name
        );
        assert!(
            noise.contains(&e.line),
            "update row {} `{}` is not counted as noise",
            e.line,
            e.name
        );
    }
}

#[test]
fn every_commercial_product_in_the_dumps_is_recognised() {
    let rows = recognized();
    let found: BTreeSet<(String, String, String)> = rows
        .iter()
        .filter(|r| r["status"] == "installed")
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            (s("device"), s("name"), s("application"))
        })
        .collect();
    for (device, name, application) in COMMERCIAL {
        assert!(
            found.contains(&(
                device.to_string(),
                name.to_string(),
                application.to_string()
            )),
            "`{name}` on {device} is not recognised as {application}"
        );
    }
    let visible: BTreeSet<(String, String)> = rows
        .iter()
        .filter(|r| r["status"] == "unrecognized")
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            (s("device"), s("name"))
        })
        .collect();
    for (device, name) in COMMERCIAL_UNRECOGNISED {
        assert!(
            visible.contains(&(device.to_string(), name.to_string())),
            "`{name}` on {device} is not reported as unrecognised: noise swallowed it"
        );
    }
}

#[test]
fn recognised_applications_and_coverage() {
    let rows = recognized();
    let evidence = evidence();
    let installed = lines_with_status(&rows, "installed");
    let unrecognized = lines_with_status(&rows, "unrecognized");
    let noise_lines = lines_with_status(&rows, "noise");
    assert_eq!(
        noise_lines.len() + installed.len() + unrecognized.len(),
        evidence.len(),
        "every row is noise, recognised or unrecognised, once"
    );

    // The report's note on a noise row is "CATEGORY (IGNORE)"; the library agrees with it.
    let recognizer = Recognizer::new(standard_pack());
    let mut noise: BTreeMap<String, usize> = BTreeMap::new();
    for r in rows.iter().filter(|r| r["status"] == "noise") {
        let note = r["note"].as_str().unwrap_or_default();
        let category = note.split(' ').next().unwrap_or_default().to_owned();
        *noise.entry(category).or_default() += 1;
    }
    for e in &evidence {
        let is_noise = matches!(recognizer.classify(e), RowOutcome::Noise { .. });
        assert_eq!(is_noise, noise_lines.contains(&e.line), "line {}", e.line);
    }
    let commercial_left = rows
        .iter()
        .filter(|r| r["status"] == "unrecognized")
        .filter(|r| {
            COMMERCIAL_UNRECOGNISED
                .iter()
                .any(|(d, n)| r["device"] == *d && r["name"] == *n)
        })
        .count();

    let mut out = format!(
        "rows: {}\nnoise: {} ({})\nrecognised: {} rows, {} installations\n\
         unrecognised commercial: {commercial_left}\nunrecognised other: {}\n\n",
        evidence.len(),
        noise_lines.len(),
        noise
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        installed.len(),
        rows.iter().filter(|r| r["status"] == "installed").count(),
        unrecognized.len() - commercial_left,
    );
    for r in rows.iter().filter(|r| r["status"] != "noise") {
        let s = |k: &str| r[k].as_str().unwrap_or_default();
        let app = if r["status"] == "installed" {
            s("application")
        } else {
            "(unrecognised)"
        };
        out.push_str(&format!(
            "{:<12} {:<48} {} | {}\n",
            s("device"),
            app,
            s("name"),
            s("version")
        ));
    }
    insta::assert_snapshot!(out);
}

/// The triage of what the standard packs leave unrecognised in the dumps: what a team would
/// write rules for next.
#[test]
fn triage_of_the_dumps() {
    let (code, out, err) = tally(&[
        "recognize",
        ESTATE,
        "--unrecognized",
        "--as-of",
        "2026-11-01",
    ]);
    assert_eq!((code, err.as_str()), (0, ""));
    insta::assert_snapshot!(out);
}
