use tally_compiler::SourceFile;

use super::*;

fn recognizer(rules: &str) -> Recognizer {
    let compiled = tally_compiler::compile_sources(&[SourceFile::new("t.tally", rules)]);
    assert!(!compiled.has_errors(), "{:?}", compiled.diagnostics);
    Recognizer::new(&compiled.pack)
}

fn row(kind: EvidenceKind, publisher: &str, name: &str, version: &str) -> Evidence {
    let mut e = Evidence::from_fields(
        kind,
        [
            (EvidenceField::Publisher, publisher),
            (EvidenceField::Name, name),
            (EvidenceField::Version, version),
        ],
    );
    e.device = "D".into();
    e
}

fn installer(publisher: &str, name: &str, version: &str) -> Evidence {
    row(EvidenceKind::Installer, publisher, name, version)
}

fn apps(r: &Recognizer, e: &Evidence) -> Vec<String> {
    match r.classify(e) {
        RowOutcome::Applications(apps) => apps,
        RowOutcome::Noise { ignore, .. } => vec![format!("noise:{ignore}")],
    }
}

fn m(p: &str, t: &str) -> bool {
    Test::new(
        EvidenceField::Name,
        &FieldTest::Pattern(Pattern::Like(p.to_string())),
    )
    .matches(&Value::new(t))
}

#[test]
fn percent_and_underscore_are_wildcards_anchored_at_both_ends() {
    assert!(m(
        "Microsoft Visio Professional 2016%",
        "Microsoft Visio Professional 2016 - en-us"
    ));
    assert!(m("%Visio%2016%", "microsoft visio professional 2016"));
    assert!(!m("Visio%", "Microsoft Visio"));
    assert!(m("16._", "16.0"));
    assert!(!m("16._", "16.01"));
    assert!(m("%", ""));
    assert!(m("a%b%c", "aXXbYYbc"));
    assert!(!m("a%b%c", "aXXbYYb"));
    assert!(m(
        "Adobe Acrobat DC (64-bit)",
        "  ADOBE ACROBAT DC (64-BIT) "
    ));
}

const ACME: &str = r#"
    publisher acme { name "Acme, Inc." aliases "ACME Corp" }
    product acme.tool { name "Tool" publisher acme }
"#;

#[test]
fn the_index_finds_exact_prefix_inner_and_short_patterns() {
    let r = recognizer(&format!(
        r#"{ACME}
        application acme.long {{ product acme.tool recognize installer {{ name like "Acme Tool 2%" }} }}
        application acme.any {{ product acme.tool recognize installer {{ name like "%Widget%" }} }}
        application acme.short {{ product acme.tool recognize installer {{ name like "_T" }} }}
        application acme.exact {{ product acme.tool recognize installer {{ name "Acme Tool" publisher like "%" }} }}
    "#
    ));
    assert_eq!(
        apps(&r, &installer("ACME Corp", "Acme Tool 2024", "1")),
        ["acme.long"]
    );
    assert_eq!(
        apps(&r, &installer("Acme", "The Widget Suite", "")),
        ["acme.any"]
    );
    assert_eq!(apps(&r, &installer("Acme", "AT", "")), ["acme.short"]);
    assert_eq!(
        apps(&r, &installer("Someone Else", "acme tool", "")),
        ["acme.exact"]
    );
    assert!(apps(&r, &installer("Someone Else", "Acme Tool 2024", "")).is_empty());
    assert_eq!(
        apps(&r, &installer("Acme", "Acme Tool 2 Widget", "")),
        ["acme.any", "acme.long"]
    );
}

#[test]
fn publishers_compare_after_normalisation_and_may_be_empty_by_choice() {
    let r = recognizer(&format!(
        r#"{ACME}
        application acme.tool_1 {{ product acme.tool recognize installer {{ name "Tool One" }} }}
        application acme.tool_2 {{ product acme.tool recognize installer {{ name "Tool Two" empty_publisher }} }}
    "#
    ));
    for publisher in ["Acme, Inc.", "Acme Inc", "ACME", "acme corp."] {
        assert_eq!(
            apps(&r, &installer(publisher, "Tool One", "")),
            ["acme.tool_1"]
        );
    }
    assert!(apps(&r, &installer("", "Tool One", "")).is_empty());
    assert_eq!(apps(&r, &installer("", "Tool Two", "")), ["acme.tool_2"]);
    assert!(apps(&r, &installer("Other", "Tool Two", "")).is_empty());
}

#[test]
fn version_ranges_compare_component_by_component() {
    let r = recognizer(&format!(
        r#"{ACME}
        application acme.tool_15 {{ product acme.tool
            recognize installer {{ name "Tool" version >= "15.0" < "16.0" }} }}
    "#
    ));
    for (version, hit) in [
        ("15.0.4569.1506", true),
        ("15", true),
        ("9.0", false),
        ("16.0", false),
        ("150.1", false),
        ("", false),
    ] {
        assert_eq!(
            !apps(&r, &installer("Acme", "Tool", version)).is_empty(),
            hit,
            "{version}"
        );
    }
}

#[test]
fn every_evidence_kind_matches_its_own_fields() {
    let r = recognizer(&format!(
        r#"{ACME}
        application acme.by_file {{ product acme.tool
            recognize file {{ name "tool.exe" company like "Acme%" size 1024 }} }}
        application acme.by_wmi {{ product acme.tool
            recognize wmi {{ class "SoftwareLicensingProduct" property "Name" value like "Tool 16%" }} }}
        application acme.by_package {{ product acme.tool
            recognize package {{ name "acme-tool" architecture "x86_64" }} }}
        application acme.by_swid {{ product acme.tool
            recognize swid {{ tag_id like "acme.com-tool-%" entitlement_required }} }}
    "#
    ));
    let mut file = row(EvidenceKind::File, "Acme Inc", "TOOL.EXE", "1.0");
    file.details = vec![(EvidenceField::Size, "1024".into())];
    assert_eq!(apps(&r, &file), ["acme.by_file"]);
    file.details = vec![(EvidenceField::Size, "1025".into())];
    assert!(apps(&r, &file).is_empty());

    let mut wmi = row(EvidenceKind::Wmi, "", "", "");
    wmi.details = vec![
        (EvidenceField::Class, "SoftwareLicensingProduct".into()),
        (EvidenceField::Property, "Name".into()),
        (EvidenceField::Value, "Tool 16 ProPlus".into()),
    ];
    assert_eq!(apps(&r, &wmi), ["acme.by_wmi"]);

    let mut package = row(EvidenceKind::Package, "Acme", "acme-tool", "2.1");
    package.details = vec![(EvidenceField::Architecture, "x86_64".into())];
    assert_eq!(apps(&r, &package), ["acme.by_package"]);
    // The same name as installer evidence is not a package.
    assert!(apps(&r, &installer("Acme", "acme-tool", "2.1")).is_empty());

    let mut swid = row(EvidenceKind::Swid, "Acme", "Tool", "3");
    swid.details = vec![
        (EvidenceField::TagId, "acme.com-tool-3".into()),
        (EvidenceField::EntitlementRequired, "true".into()),
    ];
    assert_eq!(apps(&r, &swid), ["acme.by_swid"]);
    swid.details[1].1 = "false".into();
    assert!(apps(&r, &swid).is_empty());
}

/// Recognises one device's rows, numbered as `evidence.csv` lines from 2 (which recognition
/// does not read: it names rows by their index).
fn device(r: &Recognizer, rows: Vec<Evidence>) -> DeviceRecognition {
    let rows: Vec<Evidence> = rows
        .into_iter()
        .enumerate()
        .map(|(i, mut e)| {
            e.line = i + 2;
            e
        })
        .collect();
    recognize_device(r, "D", &rows)
}

fn installed(d: &DeviceRecognition) -> Vec<(&str, Vec<EvidenceId>, Vec<&str>)> {
    d.installations
        .iter()
        .map(|i| {
            (
                i.application.as_ref(),
                i.evidence.to_vec(),
                i.absorbed.iter().map(AsRef::as_ref).collect(),
            )
        })
        .collect()
}

#[test]
fn file_existence_rules_decide_together() {
    let r = recognizer(&format!(
        r#"{ACME}
        application acme.tool_9 {{ product acme.tool
            recognize file {{ name "tool.exe" existence required }}
            recognize file {{ name "tool9.dll" }}
            recognize file {{ name "tool9-en.dll" }}
            recognize file {{ name "readme.txt" existence ignore }}
        }}
    "#
    ));
    let file = |name: &str| row(EvidenceKind::File, "Acme", name, "");
    let d = device(&r, vec![file("tool.exe"), file("readme.txt")]);
    assert!(
        d.installations.is_empty(),
        "needs one at-least-one file too"
    );
    assert_eq!(d.unrecognized, [0, 1]);
    let d = device(&r, vec![file("tool9.dll"), file("tool9-en.dll")]);
    assert!(d.installations.is_empty(), "the required file is missing");
    let d = device(
        &r,
        vec![file("tool.exe"), file("tool9-en.dll"), file("readme.txt")],
    );
    assert_eq!(installed(&d), [("acme.tool_9", vec![0, 1, 2], vec![])]);
    assert!(d.unrecognized.is_empty());
}

const SUITE_PARTS: &str = r#"
    publisher acme { name "Acme" }
    product acme.office { name "Office" publisher acme editions "Standard", "Professional" }
    product acme.writer { name "Writer" publisher acme }
    product acme.sheet { name "Sheet" publisher acme }
    application acme.writer_5 { product acme.writer recognize installer { name "Acme Writer 5" } }
    application acme.sheet_5 { product acme.sheet recognize installer { name "Acme Sheet 5" } }
"#;

#[test]
fn suites_absorb_members_and_editions_absorb_lesser_ones() {
    let r = recognizer(&format!(
        r#"{SUITE_PARTS}
        application acme.office_std_5 {{ product acme.office version "5" edition "Standard"
            recognize installer {{ name like "Acme Office%5" }} }}
        application acme.office_pro_5 {{ product acme.office version "5" edition "Professional"
            members acme.writer_5, acme.sheet_5
            recognize installer {{ name "Acme Office Professional 5" }} }}
    "#
    ));
    let i = |name: &str| installer("Acme", name, "5.0");
    // The Professional entry matches both editions' rules: one installation, no overlap.
    let d = device(
        &r,
        vec![
            i("Acme Office Professional 5"),
            i("Acme Writer 5"),
            i("Acme Sheet 5"),
        ],
    );
    assert_eq!(
        installed(&d),
        [(
            "acme.office_pro_5",
            vec![0, 1, 2],
            vec!["acme.office_std_5", "acme.sheet_5", "acme.writer_5"]
        )]
    );
    assert!(d.overlaps.is_empty());
    // Standard alone stays Standard, and the members stay themselves.
    let d = device(&r, vec![i("Acme Office Standard 5"), i("Acme Writer 5")]);
    assert_eq!(
        installed(&d),
        [
            ("acme.office_std_5", vec![0], vec![]),
            ("acme.writer_5", vec![1], vec![])
        ]
    );
}

#[test]
fn a_suite_without_rules_is_recognised_from_all_its_members() {
    let r = recognizer(&format!(
        r#"{SUITE_PARTS}
        application acme.bundle_5 {{ product acme.office version "5" members acme.writer_5, acme.sheet_5 }}
    "#
    ));
    let i = |name: &str| installer("Acme", name, "5.0");
    let d = device(&r, vec![i("Acme Writer 5"), i("Acme Sheet 5")]);
    assert_eq!(
        installed(&d),
        [(
            "acme.bundle_5",
            vec![0, 1],
            vec!["acme.sheet_5", "acme.writer_5"]
        )]
    );
    let d = device(&r, vec![i("Acme Writer 5")]);
    assert_eq!(installed(&d), [("acme.writer_5", vec![0], vec![])]);
}

#[test]
fn noise_wins_and_overlaps_are_reported() {
    let r = recognizer(&format!(
        r#"{ACME}
        product acme.other {{ name "Other" publisher acme }}
        application acme.tool_1 {{ product acme.tool recognize installer {{ name like "Acme Tool%" }} }}
        application acme.other_1 {{ product acme.other recognize installer {{ name like "%Tool%" }} }}
        ignore acme.updates {{ category update
            recognize installer {{ name like "Update for %" }}
            recognize installer {{ name like "%" system_component }} }}
    "#
    ));
    let mut hidden = installer("Acme", "Acme Tool Helper", "");
    hidden.details = vec![(EvidenceField::SystemComponent, "true".into())];
    let d = device(
        &r,
        vec![
            installer("Acme", "Update for Acme Tool (KB1)", ""),
            hidden,
            installer("Acme", "Acme Tool 1", ""),
            installer("Acme", "Unknown", ""),
        ],
    );
    assert_eq!(
        d.noise
            .iter()
            .map(|n| (n.evidence, n.category))
            .collect::<Vec<_>>(),
        [(0, NoiseCategory::Update), (1, NoiseCategory::Update)]
    );
    assert_eq!(d.unrecognized, [3]);
    assert_eq!(
        d.overlaps,
        [Overlap {
            evidence: 2,
            first: RuleRef {
                owner: "acme.other_1".into(),
                index: 0
            },
            second: RuleRef {
                owner: "acme.tool_1".into(),
                index: 0
            },
        }]
    );
}

#[test]
fn ignored_applications_are_kept_apart() {
    let r = recognizer(
        r#"
        publisher acme { name "Acme" }
        product acme.agent { name "Agent" publisher acme classification ignored }
        application acme.agent_1 { product acme.agent recognize installer { name "Acme Agent" } }
    "#,
    );
    let d = device(&r, vec![installer("Acme", "Acme Agent", "")]);
    assert!(d.installations.is_empty());
    assert_eq!(d.ignored_applications.len(), 1);
}

#[test]
fn results_name_rows_by_index_so_shifted_lines_change_nothing() {
    let r = recognizer(&format!(
        r#"{ACME}
        product acme.other {{ name "Other" publisher acme }}
        application acme.tool_1 {{ product acme.tool recognize installer {{ name like "Acme Tool%" }} }}
        application acme.other_1 {{ product acme.other recognize installer {{ name like "%Tool%" }} }}
        ignore acme.updates {{ category update recognize installer {{ name like "Update for %" }} }}
    "#
    ));
    let mut used = installer("Acme", "Acme Tool 1", "");
    used.last_used = Some(jiff::civil::date(2026, 3, 1));
    let mut marked = installer("Acme", "Acme Tool 1", "");
    marked.ignored = true;
    let rows = [
        installer("Acme", "Update for Acme Tool (KB1)", ""),
        marked,
        used,
        installer("Acme", "Unknown", ""),
    ];
    // The device's rows as they stand in the file, then after rows were inserted above them
    // and between them (other devices' rows, say): the same rows on other lines.
    let numbered = |lines: [usize; 4]| -> Vec<Evidence> {
        rows.iter()
            .zip(lines)
            .map(|(e, line)| Evidence { line, ..e.clone() })
            .collect()
    };
    let before = recognize_device(&r, "D", &numbered([2, 3, 4, 5]));
    let after = recognize_device(&r, "D", &numbered([3, 10, 11, 40]));
    assert_eq!(before, after);
    assert_eq!(
        installed(&before),
        [
            ("acme.other_1", vec![2], vec![]),
            ("acme.tool_1", vec![2], vec![])
        ]
    );
    assert_eq!(
        before.installations.first().and_then(|i| i.last_used),
        Some(jiff::civil::date(2026, 3, 1))
    );
    assert_eq!(before.noise.first().map(|n| n.evidence), Some(0));
    assert_eq!(before.ignored, [1]);
    assert_eq!(before.unrecognized, [3]);
    assert_eq!(before.overlaps.first().map(|o| o.evidence), Some(2));
}
