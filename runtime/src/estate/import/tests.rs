//! Tests of the estate importer over small in-memory estates, with snapshots of the rendered
//! diagnostics.

use std::str::FromStr;

use jiff::civil::date;
use rust_decimal::Decimal;
use tally_compiler::diagnostics::Code;
use tally_compiler::ir::{Counts, Duration, Metric, Rights, RightsKind, Sku};

use super::*;
use crate::estate::model::{
    Allocation, AllocationKind, AllocationTarget, EntitlementLimit, EvidenceField, Groups,
    LicenseStatus, Restrictions, VirtualCount, Virtualization,
};

/// A pack with a `device` and a `user` metric, one rights and one SKU.
fn pack() -> CompiledPack {
    let metric = |id: &str, counts| (id.to_owned(), Metric::simple(id, counts));
    let rights = Rights {
        id: "visio.pro".to_owned(),
        kind: RightsKind::Rights,
        members: Vec::new(),
    };
    let sku = Sku {
        id: "D86-05822".to_owned(),
        license_name: "Microsoft Visio Professional 2016".to_owned(),
        metric: "device".to_owned(),
        rights: "visio.pro".to_owned(),
        duration: Duration::Perpetual,
    };
    CompiledPack {
        metrics: [
            metric("device", Counts::Device),
            metric("user", Counts::User),
        ]
        .into(),
        rights: [(rights.id.clone(), rights)].into(),
        skus: [(sku.id.clone(), sku)].into(),
        ..CompiledPack::default()
    }
}

const DEVICES: &str = "\
id,name,chassis,os,os_type,processors,cores,threads,sockets,processor_model,host,cluster,assigned_user,calculated_user,role,status,groups
WS-0012,Design workstation,Notebook,Windows 11,desktop,1,8,16,1,Intel Core i7,,,jdoe,,Production,Active,location=Europe/Berlin;cost_center=4711
HV-01,,server,Windows Server 2022,server,2,32,64,2,,,CL-1,,,,,
VM-7,,virtual,,Server,,,,,,HV-01,CL-1,,asmith,,,
";

const USERS: &str = "\
ID,Name,Status,Groups
jdoe,Jane Doe,,location=Europe/Berlin
asmith,,Retired,
";

const EVIDENCE: &str = "\
device,kind,publisher,name,version,product_code,last_used,source,ignored
WS-0012,,Microsoft Corporation,Microsoft Visio Professional 2016,16.0.4266.1001,{90160000-0051-0000-1000-0000000FF1CE},2025-03-31,sccm,
VM-7,package,\"Adobe, Inc.\",Acrobat,23.1,,,,yes
";

const LICENSES: &str = "\
licenses:
  - id: L-VISIO-2016
    sku: D86-05822
    priority: 1
    limit: as_purchased
    unit_price: \"389.00\"
    currency: eur
    allocations:
      - device: WS-0012
        type: permanent
  - id: L-ACROBAT-DC
    name: Adobe Acrobat Pro DC
    metric: user
    rights: visio.pro
    limit: True_Up
    status: in_stock
    extra_entitlements: 2.50
    expiry: 2026-12-31
    restrictions:
      os_type: desktop
      groups: [ \"location=Europe\" ]
    allocations:
      - { user: jdoe }
      - device: VM-7
        type: awaiting_inventory
";

const PURCHASES: &str = "\
id,license,sku,quantity,unit_price,currency,date,effective,expiry,disabled
PO-2,,D86-05822,5,389.00,EUR,2024-05-02,,,
PO-1,L-ACROBAT-DC,,10,,,,2025-01-01,2025-12-31,0
";

/// The sample estate with one file replaced: 0 devices, 1 users, 2 evidence, 3 licenses,
/// 4 purchases.
fn estate_with(file: usize, text: &str) -> EstateFiles {
    let mut texts = [DEVICES, USERS, EVIDENCE, LICENSES, PURCHASES];
    if let Some(slot) = texts.get_mut(file) {
        *slot = text;
    }
    EstateFiles::from_texts("estate", texts)
}

/// The sample estate with one more license record appended to `licenses.yaml`.
fn estate_with_license(record: &str) -> EstateFiles {
    estate_with(3, &format!("{LICENSES}{record}"))
}

fn errors(files: &EstateFiles) -> Vec<Diagnostic> {
    import(files, &pack()).err().unwrap_or_default()
}

/// Every rendered diagnostic, separated by blank lines.
fn rendered(files: &EstateFiles) -> String {
    let errors = errors(files);
    assert!(!errors.is_empty(), "expected errors");
    for error in &errors {
        assert!(
            !error.label.is_empty() && !error.help.is_empty(),
            "{error:?}"
        );
        assert!(!error.message.ends_with('.'), "{error:?}");
    }
    errors
        .iter()
        .map(Diagnostic::render)
        .collect::<Vec<_>>()
        .join("\n")
}

fn codes_of(files: &EstateFiles) -> Vec<(Code, (usize, usize))> {
    errors(files)
        .iter()
        .map(|d| (d.code, d.line_col()))
        .collect()
}

fn decimal(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_default()
}

#[test]
fn a_valid_estate_round_trips() -> Result<(), Vec<Diagnostic>> {
    let estate = import(&estate_with(usize::MAX, ""), &pack())?;

    let ids = |ids: Vec<&str>| ids.into_iter().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        estate
            .devices
            .iter()
            .map(|d| d.id.clone())
            .collect::<Vec<_>>(),
        ids(vec!["HV-01", "VM-7", "WS-0012"])
    );
    let ws = estate.devices.iter().find(|d| d.id == "WS-0012");
    assert_eq!(
        ws,
        Some(&Device {
            id: "WS-0012".to_owned(),
            name: "Design workstation".to_owned(),
            chassis: Some(Chassis::Laptop),
            os: Some("Windows 11".to_owned()),
            os_type: Some(OsType::Desktop),
            processors: Some(1),
            cores: Some(8),
            threads: Some(16),
            sockets: Some(1),
            max_sockets: None,
            processor_model: Some("Intel Core i7".to_owned()),
            host: None,
            cluster: None,
            partition: Partition::Physical,
            subcapacity_eligible: true,
            hosted_in: None,
            purchased: None,
            assigned_user: Some("jdoe".to_owned()),
            calculated_user: None,
            role: Some("production".to_owned()),
            status: Some("active".to_owned()),
            groups: Groups::from([
                ("cost_center".to_owned(), "4711".to_owned()),
                ("location".to_owned(), "Europe/Berlin".to_owned()),
            ]),
        })
    );
    let vm = estate.devices.iter().find(|d| d.id == "VM-7");
    assert_eq!(vm.map(|d| d.name.as_str()), Some("VM-7"));
    assert_eq!(vm.and_then(|d| d.chassis), Some(Chassis::Vm));
    assert_eq!(vm.and_then(|d| d.host.as_deref()), Some("HV-01"));
    assert_eq!(vm.map(|d| d.partition), Some(Partition::Vm));
    assert_eq!(vm.and_then(Device::primary_user), Some("asmith"));

    assert_eq!(
        estate.users,
        vec![
            User {
                id: "asmith".to_owned(),
                name: "asmith".to_owned(),
                status: UserStatus::Retired,
                groups: Groups::new(),
            },
            User {
                id: "jdoe".to_owned(),
                name: "Jane Doe".to_owned(),
                status: UserStatus::Active,
                groups: Groups::from([("location".to_owned(), "Europe/Berlin".to_owned())]),
            },
        ]
    );

    assert_eq!(
        estate.evidence,
        vec![
            Evidence {
                line: 2,
                device: "WS-0012".into(),
                kind: EvidenceKind::Installer,
                publisher: "Microsoft Corporation".into(),
                name: "Microsoft Visio Professional 2016".into(),
                version: "16.0.4266.1001".into(),
                details: vec![(
                    EvidenceField::ProductCode,
                    "{90160000-0051-0000-1000-0000000FF1CE}".into()
                )],
                last_used: Some(date(2025, 3, 31)),
                source: Some("sccm".into()),
                ignored: false,
            },
            Evidence {
                line: 3,
                device: "VM-7".into(),
                kind: EvidenceKind::Package,
                publisher: "Adobe, Inc.".into(),
                name: "Acrobat".into(),
                version: "23.1".into(),
                details: Vec::new(),
                last_used: None,
                source: None,
                ignored: true,
            },
        ]
    );

    assert_eq!(
        estate.licenses,
        vec![
            License {
                id: "L-ACROBAT-DC".to_owned(),
                name: "Adobe Acrobat Pro DC".to_owned(),
                sku: None,
                metric: "user".to_owned(),
                rights: "visio.pro".to_owned(),
                priority: None,
                limit: EntitlementLimit::TrueUp,
                status: LicenseStatus::InStock,
                extra_entitlements: decimal("2.50"),
                unit_price: None,
                currency: None,
                expiry: Some(date(2026, 12, 31)),
                // An expiry and no duration: a subscription.
                duration: crate::estate::Duration::Subscription,
                restrictions: Restrictions {
                    os_type: Some(OsType::Desktop),
                    groups: vec![("location".to_owned(), "Europe".to_owned())],
                    ..Restrictions::default()
                },
                allocations: vec![
                    Allocation {
                        target: AllocationTarget::Device("VM-7".to_owned()),
                        kind: AllocationKind::AwaitingInventory,
                    },
                    Allocation {
                        target: AllocationTarget::User("jdoe".to_owned()),
                        kind: AllocationKind::Allocated,
                    },
                ],
                virtualization: Virtualization::default(),
                metric_value: None,
                ..License::default()
            },
            License {
                id: "L-VISIO-2016".to_owned(),
                name: "Microsoft Visio Professional 2016".to_owned(),
                sku: Some("D86-05822".to_owned()),
                metric: "device".to_owned(),
                rights: "visio.pro".to_owned(),
                priority: Some(1),
                limit: EntitlementLimit::AsPurchased,
                status: LicenseStatus::Active,
                extra_entitlements: Decimal::ZERO,
                unit_price: Some(decimal("389.00")),
                currency: Some("EUR".to_owned()),
                expiry: None,
                restrictions: Restrictions::default(),
                allocations: vec![Allocation {
                    target: AllocationTarget::Device("WS-0012".to_owned()),
                    kind: AllocationKind::Permanent,
                }],
                virtualization: Virtualization::default(),
                metric_value: None,
                ..License::default()
            },
        ]
    );
    assert_eq!(
        estate
            .licenses
            .first()
            .map(|l| l.extra_entitlements.to_string()),
        Some("2.50".to_owned())
    );

    assert_eq!(
        estate.purchases,
        vec![
            Purchase {
                id: "PO-1".to_owned(),
                license: "L-ACROBAT-DC".to_owned(),
                sku: None,
                quantity: decimal("10"),
                unit_price: None,
                currency: None,
                date: None,
                effective: Some(date(2025, 1, 1)),
                expiry: Some(date(2025, 12, 31)),
                disabled: false,
            },
            // Linked by its sku alone to the one license with that sku.
            Purchase {
                id: "PO-2".to_owned(),
                license: "L-VISIO-2016".to_owned(),
                sku: Some("D86-05822".to_owned()),
                quantity: decimal("5"),
                unit_price: Some(decimal("389.00")),
                currency: Some("EUR".to_owned()),
                date: Some(date(2024, 5, 2)),
                effective: None,
                expiry: None,
                disabled: false,
            },
        ]
    );
    Ok(())
}

#[test]
fn usage_is_read_and_sorted_by_application_and_moment() -> Result<(), Vec<Diagnostic>> {
    let usage = "\
Application,AT,in_use
ibm.db2,2025-03-31T14:30,12
ibm.db2,2025-03-31,3
flexlm.matlab,2025-04-01 09:00,0
ibm.db2,2025-03-31t14:30,2
";
    let files = estate_with(usize::MAX, "").with_usage(usage);
    assert_eq!(
        files.usage.as_ref().map(|f| f.path.as_str()),
        Some("estate/usage.csv")
    );
    let estate = import(&files, &pack())?;
    let found: Vec<_> = estate
        .usage
        .iter()
        .map(|u| (u.application.as_str(), u.at.as_str(), u.in_use))
        .collect();
    assert_eq!(
        found,
        [
            ("flexlm.matlab", "2025-04-01T09:00", Decimal::ZERO),
            ("ibm.db2", "2025-03-31", Decimal::from(3)),
            ("ibm.db2", "2025-03-31T14:30", Decimal::from(12)),
            ("ibm.db2", "2025-03-31T14:30", Decimal::from(2)),
        ]
    );
    Ok(())
}

#[test]
fn an_estate_without_usage_has_no_usage_rows() -> Result<(), Vec<Diagnostic>> {
    let files = estate_with(usize::MAX, "");
    assert!(files.usage.is_none());
    assert!(import(&files, &pack())?.usage.is_empty());
    let headers_only = files.with_usage("application,at,in_use\n");
    assert!(import(&headers_only, &pack())?.usage.is_empty());
    Ok(())
}

#[test]
fn bad_usage_rows_are_reported() {
    let usage = "\
application,at,in_use
,2025-03-31,1
ibm.db2,2025-03-31T25:00,-1
ibm.db2,31.03.2025,1.5
ibm.db2,,
";
    let files = estate_with(usize::MAX, "").with_usage(usage);
    assert_eq!(
        codes_of(&files),
        [
            (codes::ESTATE_VALUE, (2, 1)),
            (codes::ESTATE_VALUE, (3, 9)),
            (codes::ESTATE_VALUE, (3, 26)),
            (codes::ESTATE_VALUE, (4, 9)),
            (codes::ESTATE_VALUE, (4, 20)),
            (codes::ESTATE_VALUE, (5, 9)),
            (codes::ESTATE_VALUE, (5, 10)),
        ]
    );
    insta::assert_snapshot!(rendered(&files));
}

#[test]
fn usage_needs_its_three_columns() {
    let files = estate_with(usize::MAX, "").with_usage("application,in_use,users\nibm.db2,1,\n");
    let found: Vec<_> = errors(&files)
        .iter()
        .map(|d| (d.code, d.line_col(), d.message.clone()))
        .collect();
    assert_eq!(
        found,
        [
            (
                codes::ESTATE_COLUMNS,
                (1, 1),
                "missing column `at`".to_owned()
            ),
            (
                codes::ESTATE_COLUMNS,
                (1, 20),
                "unknown column `users`".to_owned()
            ),
        ]
    );
}

#[test]
fn import_is_deterministic() {
    let files = estate_with(usize::MAX, "");
    assert_eq!(import(&files, &pack()), import(&files, &pack()));
}

#[test]
fn headers_only_make_an_empty_estate() -> Result<(), Vec<Diagnostic>> {
    let files = EstateFiles::from_texts(
        "estate",
        [
            "id\n",
            "id\r\n",
            "device,name\n",
            "licenses: []\n",
            "\u{feff}id,license,quantity\n",
        ],
    );
    assert_eq!(import(&files, &pack())?, Estate::default());
    Ok(())
}

#[test]
fn a_bad_whole_number_points_at_its_field() {
    let devices = "id,name,cores\nWS-0012,\"Workstation, \"\"big\"\"\",four\nHV-01,,\nVM-7,,\n";
    let files = estate_with(0, devices);
    assert_eq!(codes_of(&files), [(codes::ESTATE_VALUE, (2, 32))]);
    insta::assert_snapshot!(rendered(&files));
}

/// The sample's devices with the virtualisation columns, and a few more devices.
const VIRTUAL_DEVICES: &str = "\
id,chassis,host,max_sockets,partition,subcapacity_eligible,hosted_in,purchased
WS-0012,laptop,,,,,,
HV-01,server,,4,,,On_Premises,2021-06-30
VM-7,,HV-01,,,no,,
LPAR-1,,HV-01,,Hard_Partition,yes,,
CT-1,vm,,,container,,aws,
VM-9,Virtual,,0,,1,Azure,
";

#[test]
fn virtualisation_columns_are_read_with_their_defaults() -> Result<(), Vec<Diagnostic>> {
    let estate = import(&estate_with(0, VIRTUAL_DEVICES), &pack())?;
    let found: Vec<_> = estate
        .devices
        .iter()
        .map(|d| {
            (
                d.id.as_str(),
                d.max_sockets,
                d.partition,
                d.subcapacity_eligible,
                d.hosted_in.as_deref(),
                d.cloud(),
                d.purchased,
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "CT-1",
                None,
                Partition::Container,
                true,
                Some("aws"),
                true,
                None
            ),
            (
                "HV-01",
                Some(4),
                Partition::Physical,
                true,
                None,
                false,
                Some(date(2021, 6, 30))
            ),
            (
                "LPAR-1",
                None,
                Partition::HardPartition,
                true,
                None,
                false,
                None
            ),
            ("VM-7", None, Partition::Vm, false, None, false, None),
            (
                "VM-9",
                Some(0),
                Partition::Vm,
                true,
                Some("Azure"),
                true,
                None
            ),
            (
                "WS-0012",
                None,
                Partition::Physical,
                true,
                None,
                false,
                None
            ),
        ]
    );
    Ok(())
}

#[test]
fn bad_virtualisation_columns_are_reported() {
    let devices = "\
id,max_sockets,partition,subcapacity_eligible,purchased
WS-0012,-1,lpar,maybe,2021-13-01
HV-01,4.5,Physicl,,
VM-7,,,,
";
    let files = estate_with(0, devices);
    assert_eq!(
        codes_of(&files),
        [
            (codes::ESTATE_VALUE, (2, 9)),
            (codes::ESTATE_VALUE, (2, 12)),
            (codes::ESTATE_VALUE, (2, 17)),
            (codes::ESTATE_VALUE, (2, 23)),
            (codes::ESTATE_VALUE, (3, 7)),
            (codes::ESTATE_VALUE, (3, 11)),
        ]
    );
    insta::assert_snapshot!(rendered(&files));
}

#[test]
fn a_host_must_be_another_physical_device() {
    let devices = "\
id,host
WS-0012,
HV-01,
VM-7,HV-01
VM-8,VM-7
VM-9,VM-9
VM-10,HV-02
";
    let files = estate_with(0, devices);
    assert_eq!(
        codes_of(&files),
        [
            (codes::ESTATE_VALUE, (5, 6)),
            (codes::ESTATE_VALUE, (6, 6)),
            (codes::ESTATE_UNKNOWN_REFERENCE, (7, 7)),
        ]
    );
    insta::assert_snapshot!(rendered(&files));
}

#[test]
fn a_bad_quoted_field_is_underlined_inside_its_quotes() {
    let devices = "id,cores\nWS-0012,\n\"HV-01\",\" -1\" \nVM-7,\n";
    let files = estate_with(0, devices);
    assert_eq!(codes_of(&files), [(codes::ESTATE_VALUE, (3, 11))]);
}

#[test]
fn an_unknown_column_is_reported_with_a_suggestion() {
    let files = estate_with(0, "id,name,cpus,chasis\nWS-0012,,,\nHV-01,,,\nVM-7,,,\n");
    insta::assert_snapshot!(rendered(&files));
}

#[test]
fn a_missing_required_column_is_reported() {
    let files = estate_with(2, "device,publisher\nWS-0012,Microsoft\n");
    insta::assert_snapshot!(rendered(&files));
}

#[test]
fn duplicate_ids_point_at_the_second_use() {
    let users = "id,name\njdoe,Jane\nasmith,Al\njdoe,John\n";
    let files = estate_with(1, users);
    assert_eq!(codes_of(&files), [(codes::ESTATE_DUPLICATE_ID, (4, 1))]);
    insta::assert_snapshot!(rendered(&files));
}

#[test]
fn evidence_must_name_a_known_device() {
    let evidence = "device,name\nWS-0012,Visio\nWS-0013,Visio\n";
    let files = estate_with(2, evidence);
    insta::assert_snapshot!(rendered(&files));
}

#[test]
fn references_into_an_unreadable_file_are_not_checked() {
    // devices.csv lacks its id column: evidence cannot be checked against it.
    let files = estate_with(0, "name\nWS-0012\n");
    assert_eq!(codes_of(&files), [(codes::ESTATE_COLUMNS, (1, 1))]);
}

#[test]
fn an_unknown_sku_suggests_a_close_one() {
    let files = estate_with_license("  - id: L-1\n    sku: D86-05823\n");
    insta::assert_snapshot!(rendered(&files));
}

#[test]
fn unknown_metric_and_rights_are_reported() {
    let licenses =
        "licenses:\n  - id: L-1\n    metric: devise\n    rights: visio.pr0\n  - id: L-2\n";
    let files = estate_with(3, licenses);
    let errors = errors(&files);
    let messages: Vec<&str> = errors.iter().map(|d| d.message.as_str()).collect();
    assert!(
        messages.contains(&"unknown metric `devise`"),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"unknown rights `visio.pr0`"),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"license needs a sku, or both a metric and rights"),
        "{messages:?}"
    );
    let helps: Vec<&str> = errors.iter().map(|d| d.help.as_str()).collect();
    assert!(
        helps
            .iter()
            .any(|h| h.starts_with("did you mean `device`?")),
        "{helps:?}"
    );
}

#[test]
fn bad_yaml_syntax_is_one_error() {
    let licenses = "licenses:\n  - id: L-1\n   sku: D86-05822\n";
    let files = estate_with(3, licenses);
    insta::assert_snapshot!(rendered(&files));
}

#[test]
fn an_unknown_yaml_field_suggests_a_close_one() {
    let licenses = "licenses:\n  - id: L-1\n    skuu: D86-05822\n";
    let files = estate_with(3, licenses);
    insta::assert_snapshot!(rendered(&files));
}

#[test]
fn a_bad_date_is_reported() {
    let files = estate_with_license(
        "  - id: L-1\n    metric: device\n    rights: visio.pro\n    expiry: 2026-02-30\n",
    );
    insta::assert_snapshot!(rendered(&files));
}

#[test]
fn virtualization_and_metric_value_are_read() -> Result<(), Vec<Diagnostic>> {
    let files = estate_with_license(
        "  - id: L-DB2\n    metric: device\n    rights: visio.pro\n    metric_value: 2.20\n    virtualization:\n      count: Host\n      capacity: sub\n\
         \x20 - id: L-FLOW\n    metric: device\n    rights: visio.pro\n    virtualization: { count: cluster }\n    metric_value: \"0\"\n\
         \x20 - id: L-FULL\n    metric: device\n    rights: visio.pro\n    virtualization: { capacity: FULL }\n",
    );
    let estate = import(&files, &pack())?;
    let found: Vec<_> = estate
        .licenses
        .iter()
        .map(|l| {
            (
                l.id.as_str(),
                l.virtualization,
                l.metric_value.map(|v| v.to_string()),
            )
        })
        .collect();
    let virtualization = |count, subcapacity| Virtualization { count, subcapacity };
    assert_eq!(
        found,
        [
            ("L-ACROBAT-DC", Virtualization::default(), None),
            (
                "L-DB2",
                virtualization(Some(VirtualCount::Host), true),
                Some("2.20".to_owned())
            ),
            (
                "L-FLOW",
                virtualization(Some(VirtualCount::Cluster), false),
                Some("0".to_owned())
            ),
            ("L-FULL", virtualization(None, false), None),
            ("L-VISIO-2016", Virtualization::default(), None),
        ]
    );
    Ok(())
}

#[test]
fn bad_virtualization_and_metric_value_are_reported() {
    let files = estate_with_license(
        "  - id: L-1\n    metric: device\n    rights: visio.pro\n    metric_value: -2.2\n    virtualization:\n      count: vms\n      capacity: partial\n\
         \x20 - id: L-2\n    metric: device\n    rights: visio.pro\n    metric_value: 2,2\n    virtualization: { count: 2 }\n",
    );
    assert_eq!(
        codes_of(&files),
        [
            (codes::ESTATE_VALUE, (29, 19)),
            (codes::ESTATE_VALUE, (31, 14)),
            (codes::ESTATE_VALUE, (32, 17)),
            (codes::ESTATE_VALUE, (36, 19)),
            (codes::ESTATE_VALUE, (37, 30)),
        ]
    );
    insta::assert_snapshot!(rendered(&files));
}

#[test]
fn an_unknown_virtualization_field_is_reported() {
    let files = estate_with_license(
        "  - id: L-1\n    metric: device\n    rights: visio.pro\n    virtualization:\n      count: host\n      capacty: sub\n",
    );
    assert_eq!(codes_of(&files), [(codes::ESTATE_SYNTAX, (31, 7))]);
    insta::assert_snapshot!(rendered(&files));
}

#[test]
fn a_purchase_by_sku_needs_exactly_one_license() {
    let licenses = "licenses:\n  - id: L-1\n    sku: D86-05822\n  - id: L-2\n    sku: D86-05822\n";
    let purchases = "id,sku,quantity\nPO-1,D86-05822,1\nPO-2,D86-0582,1\n";
    let files = EstateFiles::from_texts("estate", [DEVICES, USERS, EVIDENCE, licenses, purchases]);
    insta::assert_snapshot!(rendered(&files));
}

#[test]
fn a_negative_quantity_is_reported() {
    let purchases = "id,license,quantity\nPO-1,L-VISIO-2016,-3\nPO-2,L-VISIO-2016,1e3\n";
    let files = estate_with(4, purchases);
    insta::assert_snapshot!(rendered(&files));
}

#[test]
fn negative_yaml_decimals_are_reported() {
    let files = estate_with_license(
        "  - id: L-1\n    metric: device\n    rights: visio.pro\n    unit_price: -389.00\n",
    );
    let errors = errors(&files);
    let found: Vec<_> = errors
        .iter()
        .map(|d| (d.message.as_str(), d.line_col()))
        .collect();
    assert_eq!(found, [("negative unit price `-389.00`", (29, 17))]);
}

#[test]
fn errors_in_all_files_are_collected() {
    let files = EstateFiles::from_texts(
        "estate",
        [
            "id,cores\nWS-1,x\n",
            "id,status\nu1,gone\n",
            "device,name,last_used\nWS-1,,yesterday\n",
            "licenses:\n  - id: L-1\n    sku: D86-05822\n    limit: none\n    allocations:\n      - user: nobody\n",
            "id,license,quantity\nPO-1,L-2,\n",
        ],
    );
    let found: Vec<(String, &str)> = errors(&files)
        .iter()
        .map(|d| {
            let (line, column) = d.line_col();
            (format!("{}:{line}:{column}", d.source.path), d.code.0)
        })
        .collect();
    let at = |path: &str, code: &'static str| (path.to_owned(), code);
    assert_eq!(
        found,
        [
            at("estate/devices.csv:2:6", "T0203"),
            at("estate/evidence.csv:2:6", "T0203"),
            at("estate/evidence.csv:2:7", "T0203"),
            at("estate/licenses.yaml:4:12", "T0203"),
            at("estate/licenses.yaml:6:15", "T0205"),
            at("estate/purchases.csv:2:6", "T0205"),
            at("estate/purchases.csv:2:10", "T0203"),
            at("estate/users.csv:2:4", "T0203"),
        ]
    );
}

#[test]
fn a_missing_file_is_reported_by_read_dir() -> std::io::Result<()> {
    let dir = std::env::temp_dir().join(format!("tally-estate-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    for (name, text) in [
        ("devices.csv", DEVICES),
        ("users.csv", USERS),
        ("evidence.csv", EVIDENCE),
        ("licenses.yaml", LICENSES),
    ] {
        std::fs::write(dir.join(name), text)?;
    }
    let result = EstateFiles::read_dir(&dir);
    std::fs::remove_dir_all(&dir)?;
    let errors = result.err().unwrap_or_default();
    let found: Vec<_> = errors
        .iter()
        .map(|d| {
            (
                d.code,
                d.span,
                d.message.replace(&dir.display().to_string(), "<dir>"),
            )
        })
        .collect();
    assert_eq!(
        found,
        [(
            codes::ESTATE_FILE,
            None,
            "missing estate file `<dir>/purchases.csv`".to_owned()
        )]
    );
    let help = errors.first().map(|d| d.help.as_str()).unwrap_or_default();
    insta::assert_snapshot!(help);
    Ok(())
}

#[test]
fn read_dir_reads_all_five_files_and_usage_if_there() -> std::io::Result<()> {
    let dir = std::env::temp_dir().join(format!("tally-estate-ok-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    for (name, text) in FILE_NAMES
        .iter()
        .zip([DEVICES, USERS, EVIDENCE, LICENSES, PURCHASES])
    {
        std::fs::write(dir.join(name), text)?;
    }
    let files = EstateFiles::read_dir(&dir);
    std::fs::write(dir.join("usage.csv"), "application,at,in_use\n")?;
    let with_usage = EstateFiles::read_dir(&dir);
    std::fs::remove_dir_all(&dir)?;
    let files = files.ok();
    assert_eq!(
        files.as_ref().map(|f| f.purchases.path.clone()),
        Some(dir.join("purchases.csv").display().to_string())
    );
    assert_eq!(
        files.as_ref().map(|f| f.licenses.text.clone()),
        Some(LICENSES.to_owned())
    );
    assert_eq!(files.map(|f| f.usage.is_none()), Some(true));
    assert_eq!(
        with_usage
            .ok()
            .and_then(|f| f.usage)
            .map(|u| u.path.clone()),
        Some(dir.join("usage.csv").display().to_string())
    );
    Ok(())
}

#[test]
fn an_unreadable_usage_file_is_reported_by_read_dir() -> std::io::Result<()> {
    let dir = std::env::temp_dir().join(format!("tally-estate-usage-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("usage.csv"))?;
    for (name, text) in FILE_NAMES
        .iter()
        .zip([DEVICES, USERS, EVIDENCE, LICENSES, PURCHASES])
    {
        std::fs::write(dir.join(name), text)?;
    }
    let result = EstateFiles::read_dir(&dir);
    std::fs::remove_dir_all(&dir)?;
    let errors = result.err().unwrap_or_default();
    let found: Vec<_> = errors
        .iter()
        .map(|d| (d.code, d.span, d.label.as_str()))
        .collect();
    assert_eq!(
        found,
        [(codes::INPUT_REFUSED, None, "`usage.csv` could not be read")]
    );
    Ok(())
}

#[test]
fn malformed_rows_and_empty_fields_are_reported() {
    let evidence = "device,name\nWS-0012,\nWS-0012,Visio,extra\n\"VM-7,Visio\n";
    let files = estate_with(2, evidence);
    assert_eq!(
        codes_of(&files),
        [
            (codes::ESTATE_VALUE, (2, 9)),
            (codes::ESTATE_SYNTAX, (3, 1)),
            (codes::ESTATE_SYNTAX, (4, 1)),
        ]
    );
    insta::assert_snapshot!(rendered(&files));
}

#[test]
fn an_empty_csv_file_has_no_header() {
    let files = estate_with(1, "\n  \n");
    let errors = errors(&files);
    let found: Vec<_> = errors
        .iter()
        .map(|d| (d.code, d.span, d.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [(
            codes::ESTATE_COLUMNS,
            Some(Span::new(0, 0)),
            "`users.csv` has no header row"
        )]
    );
}

/// Each error's message with its line and column.
fn messages_at(files: &EstateFiles) -> Vec<(String, (usize, usize))> {
    errors(files)
        .iter()
        .map(|d| (d.message.clone(), d.line_col()))
        .collect()
}

/// An expected error for [`messages_at`].
fn at(message: &str, line: usize, column: usize) -> (String, (usize, usize)) {
    (message.to_owned(), (line, column))
}

#[test]
fn license_records_are_checked_field_by_field() {
    let files = estate_with_license(
        "  - name: no id\n    sku: D86-05822\n\
         \x20 - id: L-1\n    metric: device\n    rights: visio.pro\n    priority: 0\n    currency: euro\n\
         \x20   restrictions:\n      os_type: mainframe\n      groups: [ location ]\n\
         \x20   allocations:\n      - { device: WS-0012, user: jdoe }\n      - type: permanent\n\
         \x20     - user: jdoe\n      - user: jdoe\n        type: permanant\n",
    );
    let found = messages_at(&files);
    assert_eq!(
        found,
        [
            at("missing license id", 26, 3),
            at("invalid priority `0`", 31, 15),
            at("invalid currency `euro`", 32, 15),
            at("unknown os type `mainframe`", 34, 16),
            at("invalid group `location`", 35, 17),
            at("allocation names both a device and a user", 37, 34),
            at("allocation names no device or user", 38, 7),
            at("user `jdoe` is allocated to this license twice", 40, 15),
            at("unknown allocation type `permanant`", 41, 15),
        ]
    );
}

#[test]
fn yaml_numbers_are_exact_in_every_style() -> Result<(), Vec<Diagnostic>> {
    let exact = decimal("12345678901234567.89");
    for licenses in [
        "{\"licenses\":[{\"id\":\"A\",\"metric\":\"device\",\"rights\":\"visio.pro\",\"unit_price\":12345678901234567.89,\"extra_entitlements\":0.1}]}",
        "licenses: [ { id: A, metric: device, rights: visio.pro, unit_price: 12345678901234567.89, extra_entitlements: 0.1 } ]\n",
        "licenses:\n  - id: A\n    metric: device\n    rights: visio.pro\n    unit_price: 12345678901234567.89\n    extra_entitlements: 0.1\n",
    ] {
        let files = estate_with(3, licenses);
        let evidence = files.evidence.text().map_err(|d| vec![*d])?;
        let files = EstateFiles::from_texts(
            "estate",
            [
                &files.devices.text,
                &files.users.text,
                &evidence.text,
                &files.licenses.text,
                "id,license,quantity\n",
            ],
        );
        let estate = import(&files, &pack())?;
        let found: Vec<_> = estate
            .licenses
            .iter()
            .map(|l| (l.id.as_str(), l.unit_price, l.extra_entitlements))
            .collect();
        assert_eq!(found, [("A", Some(exact), decimal("0.1"))], "{licenses}");
    }
    Ok(())
}

#[test]
fn exponents_and_out_of_range_whole_numbers_are_refused() {
    let files = estate_with_license(
        "  - id: L-1\n    metric: device\n    rights: visio.pro\n    unit_price: 1e2\n    priority: 4294967296\n\
         \x20 - { id: L-2, metric: device, rights: visio.pro, extra_entitlements: 2.5E-1, priority: 1e1 }\n",
    );
    let found = messages_at(&files);
    assert_eq!(
        found,
        [
            at("invalid unit price `1e2`", 29, 17),
            at("invalid priority `4294967296`", 30, 15),
            at("invalid extra entitlements `2.5E-1`", 31, 71),
            at("invalid priority `1e1`", 31, 89),
        ]
    );
    insta::assert_snapshot!(rendered(&files));
}

#[test]
fn the_largest_priority_is_a_priority() -> Result<(), Vec<Diagnostic>> {
    let files = estate_with_license(
        "  - id: L-1\n    metric: device\n    rights: visio.pro\n    priority: 4294967295\n",
    );
    let estate = import(&files, &pack())?;
    let priority = estate
        .licenses
        .iter()
        .find(|l| l.id == "L-1")
        .and_then(|l| l.priority);
    assert_eq!(priority, Some(u32::MAX));
    Ok(())
}

#[test]
fn purchases_too_large_to_add_up_are_refused() {
    let purchases = "id,license,quantity,disabled\n\
        PO-1,L-VISIO-2016,79228162514264337593543950335,\n\
        PO-2,L-VISIO-2016,79228162514264337593543950335,yes\n\
        PO-3,L-VISIO-2016,79228162514264337593543950335,\n\
        PO-4,L-ACROBAT-DC,79228162514264337593543950333,\n\
        PO-5,L-ACROBAT-DC,0.5,\n";
    let files = estate_with(4, purchases);
    // PO-2 is disabled and counts for nothing; L-ACROBAT-DC has 2.50 extra entitlements.
    assert_eq!(
        codes_of(&files),
        [
            (codes::ESTATE_TOO_LARGE, (4, 19)),
            (codes::ESTATE_TOO_LARGE, (5, 19)),
        ]
    );
    insta::assert_snapshot!(rendered(&files));
    let fits = "id,license,quantity\nPO-1,L-VISIO-2016,79228162514264337593543950334\nPO-2,L-VISIO-2016,1\n";
    assert_eq!(codes_of(&estate_with(4, fits)), []);
}

#[test]
fn errors_in_json_and_in_values_on_their_own_line_are_located() {
    let json = "{\"licenses\":[{\"id\":\"A\",\"metric\":\"device\",\"rights\":\"visio.pro\",\"unit_price\":1e2}]}";
    let files = EstateFiles::from_texts(
        "estate",
        [DEVICES, USERS, EVIDENCE, json, "id,license,quantity\n"],
    );
    assert_eq!(codes_of(&files), [(codes::ESTATE_VALUE, (1, 76))]);
    let files = estate_with_license(
        "  - id:\n      L-1\n    metric: device\n    rights: visio.pro\n    priority:\n      0\n",
    );
    assert_eq!(codes_of(&files), [(codes::ESTATE_VALUE, (31, 7))]);
}

#[test]
fn evidence_fields_are_checked_per_kind() {
    let evidence = "\
device,kind,name,size,system_component,class,property,value,entitlement_required,product_code
WS-0012,file,visio.exe,1.5,,,,,,
WS-0012,installer,,,,,,,,
WS-0012,wmi,,,,SoftwareLicensingProduct,,x,,
WS-0012,package,bash,,,,,,,{90160000}
WS-0012,swid,Visio,,,,,,perhaps,
WS-0012,msi,Visio,,,,,,,{90160000}
";
    assert_eq!(
        messages_at(&estate_with(2, evidence)),
        [
            at("invalid file size `1.5`", 2, 24),
            at("missing evidence name", 3, 19),
            at("missing WMI property", 4, 41),
            at("`package` evidence has no `product_code`", 5, 28),
            at("invalid entitlement required flag `perhaps`", 6, 25),
            at("unknown evidence kind `msi`", 7, 9),
        ]
    );
}

#[test]
fn evidence_fields_are_stored_normalised() -> Result<(), Vec<Diagnostic>> {
    let evidence = "\
device,kind,name,publisher,version,size,system_component,class,property,value,entitlement_required,product_code,parent,release_type
WS-0012,file,visio.exe,Microsoft Corporation,16.0,0004096,,,,,,,,
WS-0012,installer,KB123,,,,Yes,,,,,,Office,Update
WS-0012,installer,Visio,,,,no,,,,,{90160000},,
WS-0012,wmi,,,,,,SoftwareLicensingProduct,Name,Office 16,,,,
WS-0012,swid,Visio,,,,,,,,1,,,
WS-0012,swid,Project,,,,,,,,false,,,
";
    let estate = import(&estate_with(2, evidence), &pack())?;
    let details: Vec<_> = estate
        .evidence
        .iter()
        .map(|e| (e.kind, &*e.name, e.details.clone()))
        .collect();
    let text = |field, value: &str| (field, Arc::<str>::from(value));
    assert_eq!(
        details,
        [
            (
                EvidenceKind::File,
                "visio.exe",
                vec![text(EvidenceField::Size, "4096")]
            ),
            (
                EvidenceKind::Installer,
                "KB123",
                vec![
                    text(EvidenceField::SystemComponent, "true"),
                    text(EvidenceField::Parent, "Office"),
                    text(EvidenceField::ReleaseType, "Update"),
                ]
            ),
            (
                EvidenceKind::Installer,
                "Visio",
                vec![text(EvidenceField::ProductCode, "{90160000}")]
            ),
            (
                EvidenceKind::Wmi,
                "",
                vec![
                    text(EvidenceField::Class, "SoftwareLicensingProduct"),
                    text(EvidenceField::Property, "Name"),
                    text(EvidenceField::Value, "Office 16"),
                ]
            ),
            (
                EvidenceKind::Swid,
                "Visio",
                vec![text(EvidenceField::EntitlementRequired, "true")]
            ),
            (EvidenceKind::Swid, "Project", vec![]),
        ]
    );
    assert_eq!(
        estate.evidence.first().map(|e| &*e.publisher),
        Some("Microsoft Corporation")
    );
    Ok(())
}

#[test]
fn sizes_may_pass_four_gibibytes() -> Result<(), Vec<Diagnostic>> {
    let evidence = "device,kind,name,size\nWS-0012,file,disk.vhdx,68719476736\n";
    let estate = import(&estate_with(2, evidence), &pack())?;
    assert_eq!(
        estate
            .evidence
            .first()
            .map(|e| e.field(EvidenceField::Size)),
        Some("68719476736")
    );
    Ok(())
}

#[test]
fn reread_replaces_one_file_and_says_whether_it_changed() -> std::io::Result<()> {
    let dir = std::env::temp_dir().join(format!("tally-estate-reread-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    for (name, text) in FILE_NAMES
        .iter()
        .zip([DEVICES, USERS, EVIDENCE, LICENSES, PURCHASES])
    {
        std::fs::write(dir.join(name), text)?;
    }
    let mut files =
        EstateFiles::read_dir(&dir).map_err(|e| std::io::Error::other(format!("{e:?}")))?;
    let same = files.reread(&dir, "evidence.csv").ok();
    let edited = format!("{EVIDENCE}\n");
    std::fs::write(dir.join("evidence.csv"), &edited)?;
    let changed = files.reread(&dir, "evidence.csv").ok();
    let evidence = files.evidence.text().map(|s| s.text.clone()).ok();
    std::fs::write(dir.join("usage.csv"), "application,at,in_use\n")?;
    let usage_added = files.reread(&dir, "usage.csv").ok();
    let has_usage = files.usage.is_some();
    std::fs::remove_file(dir.join("usage.csv"))?;
    let usage_gone = files.reread(&dir, "usage.csv").ok();
    std::fs::remove_file(dir.join("devices.csv"))?;
    let missing = files.reread(&dir, "devices.csv").err().map(|d| d.code);
    let other = files.reread(&dir, "notes.txt").ok();
    std::fs::remove_dir_all(&dir)?;
    assert_eq!(same, Some(false));
    assert_eq!(changed, Some(true));
    assert_eq!(evidence, Some(edited));
    assert_eq!((usage_added, has_usage), (Some(true), true));
    assert_eq!((usage_gone, files.usage.is_none()), (Some(true), true));
    // A file that cannot be read fails, and the one held is kept.
    assert_eq!(missing, Some(codes::ESTATE_FILE));
    assert_eq!(files.devices.text, DEVICES);
    assert_eq!(other, Some(false));
    assert!(EstateFiles::is_estate_file("usage.csv") && !EstateFiles::is_estate_file("notes.txt"));
    Ok(())
}

/// `lines` evidence rows over seven devices, with quoted fields that span lines, blank lines and
/// rows of both kinds, after a header.
fn varied_evidence(lines: usize) -> String {
    let mut text = String::from("device,kind,publisher,name,version,product_code,source\n");
    for i in 0..lines {
        let device = format!("D{}", i % 7);
        let name = if i % 5 == 0 {
            format!("\"Tool, \"\"{}\"\"\nedition\"", i % 11)
        } else {
            format!("App {}", i % 13)
        };
        let kind = if i % 9 == 0 { "" } else { "installer" };
        let code = if i % 4 == 0 { "{ABC}" } else { "" };
        text.push_str(&format!(
            "{device},{kind},Acme,{name},{}.0,{code},scan\n",
            i % 3
        ));
        if i % 50 == 0 {
            text.push('\n');
        }
    }
    text
}

#[test]
fn evidence_read_in_pieces_is_evidence_read_in_one_go() {
    let text = varied_evidence(300);
    let source = Arc::new(SourceFile::new("evidence.csv", text.as_str()));
    let (mut check, mut table) = read_table(&source, EVIDENCE_COLUMNS);
    let mut whole = Vec::new();
    read_evidence_rows(&mut table, &mut check, &source, None, &mut whole);
    assert!(check.is_clean());
    for size in [1, 40, 700, 5000, text.len()] {
        for threads in [1, 2, 3] {
            let how = InPieces {
                threads,
                size,
                least: 0,
            };
            let read = in_pieces::read_evidence_in_pieces(text.as_bytes(), 0, "e.csv", how);
            let Some(read) = read else {
                panic!("pieces of {size} were not read");
            };
            assert_eq!(read, whole, "pieces of {size} on {threads} threads");
            // Each distinct text is held once, across pieces.
            let first = read.iter().find(|e| &*e.device == "D0");
            let last = read.iter().rev().find(|e| &*e.device == "D0");
            assert!(
                first
                    .zip(last)
                    .is_some_and(|(a, b)| Arc::ptr_eq(&a.device, &b.device))
            );
        }
    }
    // A problem in any piece, or a small file: nothing is read in pieces.
    let broken = format!("{text}D1,installer,Acme,,1.0,,scan\n");
    let how = InPieces {
        threads: 2,
        size: 100,
        least: 0,
    };
    assert!(in_pieces::read_evidence_in_pieces(broken.as_bytes(), 0, "e.csv", how).is_none());
    assert!(in_pieces::read_evidence_in_pieces(&b"\xff\xfe"[..], 0, "e.csv", how).is_none());
    let small = InPieces {
        least: 1 << 20,
        ..how
    };
    assert!(in_pieces::read_evidence_in_pieces(text.as_bytes(), 10, "e.csv", small).is_none());
}

#[test]
fn a_large_evidence_file_left_in_the_folder_imports_and_reports_as_its_text() -> std::io::Result<()>
{
    let dir = std::env::temp_dir().join(format!("tally-estate-pieces-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let devices = (0..7).fold(DEVICES.to_owned(), |text, i| {
        format!("{text}D{i}{}\n", ",".repeat(16))
    });
    // Larger than the least size read in pieces.
    let evidence = varied_evidence(120_000);
    assert!(evidence.len() as u64 > InPieces::here().least);
    for (name, text) in FILE_NAMES
        .iter()
        .zip([&devices, USERS, &evidence, LICENSES, PURCHASES])
    {
        std::fs::write(dir.join(name), text)?;
    }
    let imported = |dir: &Path| {
        let open = EstateFiles::open_dir(dir).map_err(|e| format!("{e:?}"));
        let read = EstateFiles::read_dir(dir).map_err(|e| format!("{e:?}"));
        let import = |files: &EstateFiles| {
            import(files, &pack())
                .map(|estate| estate.evidence)
                .map_err(|errors| errors.iter().map(Diagnostic::render).collect::<Vec<_>>())
        };
        Ok::<_, String>((open?, read?)).map(|(open, read)| {
            let in_folder = matches!(open.evidence, EvidenceFile::InFolder(_));
            (in_folder, import(&open), import(&read))
        })
    };
    let good = imported(&dir);
    // A row naming a device the estate lacks: reported as reading the text in one go reports it.
    let unknown = format!("{evidence}D9,installer,Acme,App 1,1.0,,scan\n");
    std::fs::write(dir.join("evidence.csv"), unknown)?;
    let bad = imported(&dir);
    std::fs::remove_dir_all(&dir)?;
    let Ok((true, Ok(from_folder), Ok(from_text))) = good else {
        panic!("the estate did not import from the folder: {good:?}");
    };
    assert_eq!(from_folder.len(), 120_000);
    assert_eq!(from_folder, from_text);
    let Ok((true, Err(from_folder), Err(from_text))) = bad else {
        panic!("the unknown device was not reported: {bad:?}");
    };
    assert_eq!(from_folder.len(), 1);
    assert!(
        from_folder
            .iter()
            .all(|r| r.contains("unknown device `D9`"))
    );
    assert_eq!(from_folder, from_text);
    Ok(())
}
