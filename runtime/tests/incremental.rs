//! The incremental contract of the query graph, on the Contoso sample estate and the standard
//! packs: after an edit the result equals a run from scratch, and an edit re-executes only the
//! queries it affects (checked on salsa's execution log).

use std::path::{Path, PathBuf};

use jiff::civil::date;
use tally_compiler::SourceFile;
use tally_runtime::db::{Database, file_diagnostics};
use tally_runtime::estate::{self, Estate, EstateFiles, Evidence, EvidenceKind};
use tally_runtime::sources;
use tally_runtime::workspace::{Change, RuleSource, Workspace};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rules() -> Vec<RuleSource> {
    ["rules", "arl", "purl", "skus"]
        .iter()
        .flat_map(|dir| sources::read_pack(&repo().join(dir)).unwrap_or_default())
        .map(|source| RuleSource {
            source,
            standard: true,
        })
        .collect()
}

/// A workspace on the sample estate, and the imported estate itself.
fn sample(db: Database) -> (Workspace, Estate) {
    let mut ws = Workspace::new(db, rules(), date(2026, 11, 1));
    assert!(!ws.compiled().has_errors(), "the standard packs compile");
    let files = EstateFiles::read_dir(&repo().join("examples/contoso"));
    let estate = files.and_then(|f| estate::import(&f, ws.pack()));
    assert!(estate.is_ok(), "the sample estate imports");
    let estate = estate.unwrap_or_default();
    ws.load(estate.clone());
    (ws, estate)
}

fn visio_2016_on(device: &str, line: usize) -> Evidence {
    Evidence {
        line,
        device: device.into(),
        kind: EvidenceKind::Installer,
        publisher: "Microsoft Corporation".into(),
        name: "Microsoft Visio Professional 2016".into(),
        version: "16.0.4266.1001".into(),
        details: Vec::new(),
        last_used: None,
        source: Some("sccm".into()),
        ignored: false,
    }
}

fn evidence_of(estate: &Estate, device: &str) -> Vec<Evidence> {
    estate
        .evidence
        .iter()
        .filter(|e| &*e.device == device)
        .cloned()
        .collect()
}

fn evidence_change(device: &str, rows: Vec<Evidence>) -> Change {
    Change::Evidence {
        device: device.to_string(),
        rows: rows.into(),
    }
}

fn count(log: &[String], query: &str) -> usize {
    log.iter().filter(|q| q.as_str() == query).count()
}

#[test]
fn an_evidence_edit_equals_a_run_from_scratch() {
    let (mut ws, mut estate) = sample(Database::default());
    let before = ws.positions().to_vec();
    let device = "CON-WS-0001";
    let mut evidence = evidence_of(&estate, device);
    evidence.push(visio_2016_on(device, 9999));
    assert_eq!(ws.apply(vec![evidence_change(device, evidence)]), Ok(()));
    let incremental = ws.positions().to_vec();
    assert_ne!(
        before, incremental,
        "a new Visio installation changes the Visio position"
    );

    estate.evidence.push(visio_2016_on(device, 9999));
    let mut fresh = Workspace::new(Database::default(), rules(), date(2026, 11, 1));
    fresh.load(estate);
    assert_eq!(incremental, fresh.positions());
    assert_eq!(ws.assessments(), fresh.assessments());
}

#[test]
fn one_devices_edit_reruns_its_recognition_and_only_the_families_it_touches() {
    let (mut ws, estate) = sample(Database::with_log());
    let families = ws.families().len();
    let _ = ws.positions();
    let first = ws.db.take_log();
    assert_eq!(
        count(&first, "family_consumption"),
        families,
        "the first run reconciles every family"
    );

    let device = "CON-WS-0001";
    let mut evidence = evidence_of(&estate, device);
    evidence.push(visio_2016_on(device, 9999));
    assert_eq!(
        ws.apply(vec![evidence_change(device, evidence.clone())]),
        Ok(())
    );
    let _ = ws.positions();
    let log = ws.db.take_log();
    assert_eq!(
        count(&log, "device_recognition"),
        1,
        "only the edited device is recognised again: {log:?}"
    );
    assert_eq!(
        count(&log, "family_consumption"),
        1,
        "only the Visio family is reconciled again: {log:?}"
    );
    assert_eq!(
        count(&log, "compiled"),
        0,
        "the rules are not compiled again: {log:?}"
    );

    // Evidence that recognises nothing new changes no family's input.
    evidence.push(Evidence {
        name: "Notepad++ (64-bit x64)".into(),
        ..visio_2016_on(device, 9998)
    });
    assert_eq!(ws.apply(vec![evidence_change(device, evidence)]), Ok(()));
    let _ = ws.positions();
    let log = ws.db.take_log();
    assert_eq!(
        count(&log, "family_consumption"),
        0,
        "no family is reconciled again: {log:?}"
    );
}

#[test]
fn one_purchases_edit_reconciles_only_its_licenses_family() {
    let (mut ws, estate) = sample(Database::with_log());
    let _ = ws.positions();
    let _ = ws.db.take_log();
    let license = "L-MS-VISIO-PRO-2016";
    let family_size = ws
        .families()
        .values()
        .find(|f| f.licenses.iter().any(|l| l == license))
        .map(|f| f.licenses.len());
    let Some(mut purchase) = estate
        .purchases
        .iter()
        .find(|p| p.license == license)
        .cloned()
    else {
        panic!("the sample has a Visio purchase");
    };
    purchase.quantity += rust_decimal::Decimal::ONE;
    assert_eq!(ws.apply(vec![Change::Purchase(purchase)]), Ok(()));
    let position = ws
        .positions()
        .iter()
        .find(|p| p.license == license)
        .cloned();
    let log = ws.db.take_log();
    assert_eq!(count(&log, "family_consumption"), 1, "{log:?}");
    assert_eq!(
        count(&log, "family_input"),
        0,
        "the family input does not depend on purchases: {log:?}"
    );
    assert_eq!(count(&log, "device_recognition"), 0, "{log:?}");
    assert_eq!(
        count(&log, "families"),
        0,
        "families do not depend on purchases: {log:?}"
    );
    assert!(
        count(&log, "position_shard") <= family_size.unwrap_or(0),
        "only the shards of the family's licenses are computed again: {log:?}"
    );
    assert_eq!(
        position.and_then(|p| p.entitled),
        Some(rust_decimal::Decimal::from(7)),
        "the position counts the extra unit"
    );
}

/// The positions of a workspace loaded from scratch with `estate`.
fn positions_from_scratch(estate: Estate) -> Vec<tally_runtime::position::Position> {
    let mut fresh = Workspace::new(Database::default(), rules(), date(2026, 11, 1));
    fresh.load(estate);
    fresh.positions().to_vec()
}

#[test]
fn a_purchase_edit_that_moves_no_decision_walks_no_family_again() {
    let (mut ws, mut estate) = sample(Database::with_log());
    let _ = ws.positions();
    let log = ws.db.take_log();
    let walks = count(&log, "family_walk");
    assert_eq!(
        walks,
        ws.families().len(),
        "a first run walks every family once: {log:?}"
    );
    // Acrobat Pro DC has 8 units and 7 consumed: with 100 more, every installation that found
    // room still does.
    let Some(purchase) = estate.purchases.iter_mut().find(|p| p.id == "PO-2026-0017") else {
        panic!("the sample has an Acrobat Pro DC purchase");
    };
    purchase.quantity += rust_decimal::Decimal::from(100);
    let raised = purchase.clone();
    assert_eq!(ws.apply(vec![Change::Purchase(raised)]), Ok(()));
    let positions = ws.positions().to_vec();
    let log = ws.db.take_log();
    assert_eq!(
        count(&log, "family_walk"),
        0,
        "the family's last walk holds: {log:?}"
    );
    assert_eq!(count(&log, "family_input"), 0, "{log:?}");
    assert_eq!(positions, positions_from_scratch(estate.clone()));

    // Down to 3 units, four of the installations that found room no longer do: the family is
    // walked again.
    let Some(purchase) = estate.purchases.iter_mut().find(|p| p.id == "PO-2026-0017") else {
        panic!("the sample has an Acrobat Pro DC purchase");
    };
    purchase.quantity = rust_decimal::Decimal::from(3);
    let lowered = purchase.clone();
    assert_eq!(ws.apply(vec![Change::Purchase(lowered)]), Ok(()));
    let positions = ws.positions().to_vec();
    let log = ws.db.take_log();
    assert_eq!(count(&log, "family_walk"), 1, "{log:?}");
    assert_eq!(positions, positions_from_scratch(estate));
}

#[test]
fn loading_the_same_estate_again_changes_nothing() {
    let (mut ws, estate) = sample(Database::with_log());
    let before = ws.positions().to_vec();
    let _ = ws.db.take_log();
    ws.load(estate);
    assert_eq!(ws.positions(), before.as_slice());
    let log = ws.db.take_log();
    assert!(log.is_empty(), "nothing is computed again: {log:?}");
}

#[test]
fn shifted_evidence_lines_reconcile_nothing_again() {
    let (mut ws, estate) = sample(Database::with_log());
    let before = ws.positions().to_vec();
    let _ = ws.db.take_log();

    // A row inserted at the top of evidence.csv moves every other row one line down: each
    // device is recognised again, to the same result, as recognition names rows by their index
    // among the device's rows.
    // Devices without evidence have nothing to shift.
    let devices = ws
        .recognition()
        .iter()
        .filter(|v| !v.evidence.is_empty())
        .count();
    let mut shifted = estate.clone();
    for e in &mut shifted.evidence {
        e.line += 1;
    }
    ws.load(shifted);
    assert_eq!(ws.positions(), before);
    let log = ws.db.take_log();
    assert_eq!(count(&log, "device_recognition"), devices);
    assert_eq!(
        count(&log, "family_input"),
        0,
        "no installation moved: {log:?}"
    );
    assert_eq!(
        count(&log, "family_consumption"),
        0,
        "no family is reconciled again: {log:?}"
    );

    // The reports still show the rows' lines, as they now stand.
    let mut shown = 0;
    for view in ws.recognition() {
        let original = evidence_of(&estate, &view.device.id);
        for id in &view.recognition.unrecognized {
            let at = usize::try_from(*id).unwrap();
            assert_eq!(
                view.row(*id).map(|e| e.line),
                original.get(at).map(|e| e.line + 1)
            );
            shown += 1;
        }
    }
    assert!(shown > 0, "the sample has unrecognised rows");
}

/// A user's pack of `text` with the standard packs, edited as an editor edits it (files parsed
/// by runs of declarations).
fn with_user_pack(text: &str) -> Workspace {
    let mut sources = rules();
    sources.push(RuleSource {
        source: SourceFile::new("user/my.tally", text),
        standard: false,
    });
    Workspace::for_editing(Database::with_log(), sources, date(2026, 11, 1))
}

fn edit_user_pack(ws: &mut Workspace, text: &str) {
    let change = Change::RuleFile(RuleSource {
        source: SourceFile::new("user/my.tally", text),
        standard: false,
    });
    assert_eq!(ws.apply(vec![change]), Ok(()));
}

/// Every file's diagnostics, as the language server publishes them.
fn all_diagnostics(ws: &Workspace) -> usize {
    let rules = ws.estate.rules(&ws.db);
    rules
        .files(&ws.db)
        .iter()
        .map(|f| file_diagnostics(&ws.db, *f, rules).len())
        .sum()
}

const USER_PACK: &str = "publisher my.publisher {
    name \"Mine\"
}

product my.product {
    name \"Thing\"
    publisher my.publisher
}

application my.app {
    product my.product
    recognize installer { name like \"Thing %\" }
}

rights my.rights {
    covers microsoft.visio.professional_2016
    downgrade
}
";

#[test]
fn an_edit_that_renames_nothing_checks_only_its_file() {
    let mut ws = with_user_pack(USER_PACK);
    assert_eq!(all_diagnostics(&ws), 0);
    let _ = ws.db.take_log();

    // Inside a declaration: the product's name.
    edit_user_pack(&mut ws, &USER_PACK.replace("\"Thing\"", "\"Things\""));
    assert_eq!(all_diagnostics(&ws), 0);
    let log = ws.db.take_log();
    assert_eq!(
        count(&log, "parsed"),
        1,
        "the edited file is parsed: {log:?}"
    );
    assert_eq!(count(&log, "parsed_run"), 1, "one run of it: {log:?}");
    assert_eq!(count(&log, "declared_names"), 1, "{log:?}");
    assert_eq!(count(&log, "name_table"), 0, "no name changed: {log:?}");
    assert_eq!(
        count(&log, "file_check"),
        1,
        "only the edited file is checked again: {log:?}"
    );
    assert_eq!(count(&log, "version_context"), 0, "{log:?}");
    assert_eq!(count(&log, "file_diagnostics"), 1, "{log:?}");
    assert_eq!(
        count(&log, "compiled"),
        0,
        "nothing compiles the whole pack: {log:?}"
    );

    // A reference made unknown: still one file.
    edit_user_pack(
        &mut ws,
        &USER_PACK.replace("publisher my.publisher\n}", "publisher my.publishr\n}"),
    );
    assert_eq!(all_diagnostics(&ws), 1);
    let log = ws.db.take_log();
    assert_eq!(count(&log, "file_check"), 1, "{log:?}");
    assert_eq!(count(&log, "name_table"), 0, "{log:?}");

    // A rename changes the name table: every file is checked against the new one, and the
    // application directory follows it.
    let mine = |ws: &Workspace| -> Vec<String> {
        ws.estate
            .installed(&ws.db)
            .keys()
            .filter(|k| k.starts_with("my."))
            .cloned()
            .collect()
    };
    assert_eq!(mine(&ws), ["my.app"]);
    edit_user_pack(&mut ws, &USER_PACK.replace("my.app", "my.application"));
    assert_eq!(all_diagnostics(&ws), 0);
    let log = ws.db.take_log();
    assert_eq!(count(&log, "name_table"), 1, "{log:?}");
    assert!(count(&log, "file_check") > 1, "{log:?}");
    assert_eq!(mine(&ws), ["my.application"]);
}
