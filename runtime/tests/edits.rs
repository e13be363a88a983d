//! Random edit sequences applied to the incremental workspace give byte-identical output to a
//! run from scratch on the final inputs (issue 8's proof of correctness).
//!
//! Each case starts from the Contoso sample estate and the standard packs, draws up to eight
//! edits (evidence added, removed or changed; a device's cores or host; a user's status; a
//! purchase added, changed, nudged by one unit or disabled; a license's priority or
//! allocation; a rule file edited), and applies each either as a [`Change`] or by loading the
//! whole edited estate (which diffs it by id), computing the positions after some of them (so
//! that a later purchase edit may reuse a family's walk). After the last step the JSON of the
//! positions and of every assessment row must equal that of a fresh workspace loaded with the
//! same estate and rules.
//!
//! 24 cases run by default; `PROPTEST_CASES=1000 cargo test -p tally-runtime --test edits`
//! runs a longer search.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use jiff::civil::date;
use proptest::prelude::*;
use rust_decimal::Decimal;
use tally_compiler::diagnostics::SourceFile;
use tally_runtime::db::Database;
use tally_runtime::estate::{
    self, Allocation, AllocationKind, AllocationTarget, Estate, EstateFiles, Evidence,
    EvidenceField, EvidenceKind, Purchase, UserStatus,
};
use tally_runtime::report::{self, Format};
use tally_runtime::sources;
use tally_runtime::workspace::{Change, RuleSource, Workspace};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn standard_rules() -> &'static [RuleSource] {
    static RULES: OnceLock<Vec<RuleSource>> = OnceLock::new();
    RULES.get_or_init(|| {
        ["rules", "arl", "purl", "skus"]
            .iter()
            .flat_map(|dir| sources::read_pack(&repo().join(dir)).unwrap_or_default())
            .map(|source| RuleSource {
                source,
                standard: true,
            })
            .collect()
    })
}

fn sample() -> &'static Estate {
    static ESTATE: OnceLock<Estate> = OnceLock::new();
    ESTATE.get_or_init(|| {
        let ws = Workspace::new(Database::default(), standard_rules().to_vec(), as_of());
        let files = EstateFiles::read_dir(&repo().join("examples/contoso"));
        files
            .and_then(|f| estate::import(&f, ws.pack()))
            .unwrap_or_default()
    })
}

fn as_of() -> jiff::civil::Date {
    date(2026, 11, 1)
}

/// The user's rule file, in one of its versions (`None`: not there).
const USER_FILE: &str = "mypack/contoso.tally";
const USER_RULES: [Option<&str>; 3] = [
    None,
    Some(
        "extend application microsoft.visio.professional_2016 {\n    recognize installer { name \"Visio Pro 2016 (Contoso package)\"  publisher \"Contoso IT\" }\n}\n",
    ),
    Some(
        "extend application microsoft.project.professional_2019 {\n    recognize installer { name \"Visio Pro 2016 (Contoso package)\"  publisher \"Contoso IT\" }\n}\n",
    ),
];

fn user_rule(version: usize) -> Option<RuleSource> {
    USER_RULES
        .get(version)
        .copied()
        .flatten()
        .map(|text| RuleSource {
            source: SourceFile::new(USER_FILE, text),
            standard: false,
        })
}

/// Installer rows that edits add: recognised, licensed, noise, and the user pack's.
const ROWS: [(&str, &str, &str); 6] = [
    (
        "Microsoft Corporation",
        "Microsoft Visio Professional 2016",
        "16.0.4266.1001",
    ),
    (
        "Microsoft Corporation",
        "Microsoft Office Professional Plus 2019 - en-us",
        "16.0.10417.20007",
    ),
    (
        "Microsoft Corporation",
        "Microsoft Project Professional 2019 - en-us",
        "16.0.10417.20007",
    ),
    (
        "Microsoft Corporation",
        "Security Update for Microsoft Office 2016 (KB5002113)",
        "",
    ),
    ("Notepad++ Team", "Notepad++ (64-bit x64)", "8.6.2"),
    ("Contoso IT", "Visio Pro 2016 (Contoso package)", "1.0"),
];

#[derive(Debug, Clone)]
enum Edit {
    AddEvidence {
        device: usize,
        row: usize,
    },
    RemoveEvidence {
        device: usize,
        at: usize,
    },
    ChangeVersion {
        device: usize,
        at: usize,
        version: usize,
    },
    Cores {
        device: usize,
        cores: u32,
    },
    Host {
        device: usize,
        host: Option<usize>,
    },
    UserStatus {
        user: usize,
        status: usize,
    },
    AddPurchase {
        license: usize,
        quantity: u32,
    },
    ChangePurchase {
        purchase: usize,
        quantity: u32,
    },
    DisablePurchase {
        purchase: usize,
    },
    /// One unit more or less: often inside the range over which the family's last walk
    /// decides the same, sometimes across it.
    NudgePurchase {
        purchase: usize,
        up: bool,
    },
    Priority {
        license: usize,
        priority: Option<u32>,
    },
    Allocate {
        license: usize,
        device: usize,
    },
    Rules {
        version: usize,
    },
}

fn edit() -> impl Strategy<Value = Edit> {
    let ix = || 0usize..1000;
    prop_oneof![
        3 => (ix(), 0..ROWS.len()).prop_map(|(device, row)| Edit::AddEvidence { device, row }),
        2 => (ix(), ix()).prop_map(|(device, at)| Edit::RemoveEvidence { device, at }),
        2 => (ix(), ix(), 0usize..3).prop_map(|(device, at, version)| Edit::ChangeVersion { device, at, version }),
        1 => (ix(), 1u32..64).prop_map(|(device, cores)| Edit::Cores { device, cores }),
        1 => (ix(), proptest::option::of(ix())).prop_map(|(device, host)| Edit::Host { device, host }),
        1 => (ix(), 0usize..4).prop_map(|(user, status)| Edit::UserStatus { user, status }),
        1 => (ix(), 1u32..30).prop_map(|(license, quantity)| Edit::AddPurchase { license, quantity }),
        1 => (ix(), 0u32..30).prop_map(|(purchase, quantity)| Edit::ChangePurchase { purchase, quantity }),
        1 => ix().prop_map(|purchase| Edit::DisablePurchase { purchase }),
        2 => (ix(), any::<bool>()).prop_map(|(purchase, up)| Edit::NudgePurchase { purchase, up }),
        1 => (ix(), proptest::option::of(1u32..5)).prop_map(|(license, priority)| Edit::Priority { license, priority }),
        1 => (ix(), ix()).prop_map(|(license, device)| Edit::Allocate { license, device }),
        1 => (0..USER_RULES.len()).prop_map(|version| Edit::Rules { version }),
    ]
}

/// The estate and the user rule file's version that edits act on.
#[derive(Clone)]
struct Inputs {
    estate: Estate,
    rules: usize,
}

fn pick<T>(items: &[T], i: usize) -> Option<usize> {
    (!items.is_empty()).then(|| i % items.len())
}

fn rows_of(estate: &Estate, device: &str) -> Vec<Evidence> {
    estate
        .evidence
        .iter()
        .filter(|e| &*e.device == device)
        .cloned()
        .collect()
}

/// Applies an edit to the inputs and returns the changes that say the same.
fn edit_inputs(inputs: &mut Inputs, edit: &Edit) -> Vec<Change> {
    let estate = &mut inputs.estate;
    let evidence_of = |estate: &Estate, d: usize| {
        let id = estate.devices[d].id.clone();
        Change::Evidence {
            rows: rows_of(estate, &id).into(),
            device: id,
        }
    };
    match *edit {
        Edit::AddEvidence { device, row } => {
            let Some(d) = pick(&estate.devices, device) else {
                return Vec::new();
            };
            let (publisher, name, version) = ROWS[row];
            let line = estate.evidence.iter().map(|e| e.line).max().unwrap_or(1) + 1;
            let mut row = Evidence::from_fields(
                EvidenceKind::Installer,
                [
                    (EvidenceField::Publisher, publisher),
                    (EvidenceField::Name, name),
                    (EvidenceField::Version, version),
                ],
            );
            row.line = line;
            row.device = estate.devices[d].id.as_str().into();
            estate.evidence.push(row);
            vec![evidence_of(estate, d)]
        }
        Edit::RemoveEvidence { device, at } | Edit::ChangeVersion { device, at, .. } => {
            let Some(d) = pick(&estate.devices, device) else {
                return Vec::new();
            };
            let id = estate.devices[d].id.clone();
            let positions: Vec<usize> = (0..estate.evidence.len())
                .filter(|i| *estate.evidence[*i].device == *id)
                .collect();
            let Some(p) = pick(&positions, at).map(|p| positions[p]) else {
                return Vec::new();
            };
            if let Edit::ChangeVersion { version, .. } = *edit {
                let row = &mut estate.evidence[p];
                row.version = ["15.0.1", "16.0.4266.1001", ""][version].into();
            } else {
                estate.evidence.remove(p);
            }
            vec![evidence_of(estate, d)]
        }
        Edit::Cores { device, cores } => {
            let Some(d) = pick(&estate.devices, device) else {
                return Vec::new();
            };
            estate.devices[d].cores = Some(cores);
            vec![Change::Device(estate.devices[d].clone())]
        }
        Edit::Host { device, host } => {
            let Some(d) = pick(&estate.devices, device) else {
                return Vec::new();
            };
            // A host is a device without a host of its own that hosts nothing else here, and
            // a device that hosts others gets no host.
            let id = estate.devices[d].id.clone();
            if estate
                .devices
                .iter()
                .any(|x| x.host.as_deref() == Some(id.as_str()))
            {
                return Vec::new();
            }
            let host = host.and_then(|h| {
                let candidates: Vec<String> = estate
                    .devices
                    .iter()
                    .filter(|x| x.host.is_none() && x.id != id)
                    .map(|x| x.id.clone())
                    .collect();
                pick(&candidates, h).map(|i| candidates[i].clone())
            });
            estate.devices[d].host = host;
            vec![Change::Device(estate.devices[d].clone())]
        }
        Edit::UserStatus { user, status } => {
            let Some(u) = pick(&estate.users, user) else {
                return Vec::new();
            };
            estate.users[u].status = [
                UserStatus::Active,
                UserStatus::Inactive,
                UserStatus::Retired,
                UserStatus::Pending,
            ][status];
            vec![Change::User(estate.users[u].clone())]
        }
        Edit::AddPurchase { license, quantity } => {
            let Some(l) = pick(&estate.licenses, license) else {
                return Vec::new();
            };
            let purchase = Purchase {
                id: format!("PO-EDIT-{:04}", estate.purchases.len()),
                license: estate.licenses[l].id.clone(),
                sku: None,
                quantity: Decimal::from(quantity),
                unit_price: None,
                currency: None,
                date: None,
                effective: None,
                expiry: None,
                disabled: false,
            };
            estate.purchases.push(purchase.clone());
            estate.purchases.sort_by(|a, b| a.id.cmp(&b.id));
            vec![Change::Purchase(purchase)]
        }
        Edit::ChangePurchase { purchase, quantity } => {
            let Some(p) = pick(&estate.purchases, purchase) else {
                return Vec::new();
            };
            estate.purchases[p].quantity = Decimal::from(quantity);
            vec![Change::Purchase(estate.purchases[p].clone())]
        }
        Edit::NudgePurchase { purchase, up } => {
            let Some(p) = pick(&estate.purchases, purchase) else {
                return Vec::new();
            };
            let quantity = &mut estate.purchases[p].quantity;
            *quantity = if up {
                *quantity + Decimal::ONE
            } else {
                (*quantity - Decimal::ONE).max(Decimal::ZERO)
            };
            vec![Change::Purchase(estate.purchases[p].clone())]
        }
        Edit::DisablePurchase { purchase } => {
            let Some(p) = pick(&estate.purchases, purchase) else {
                return Vec::new();
            };
            estate.purchases[p].disabled = true;
            vec![Change::Purchase(estate.purchases[p].clone())]
        }
        Edit::Priority { license, priority } => {
            let Some(l) = pick(&estate.licenses, license) else {
                return Vec::new();
            };
            estate.licenses[l].priority = priority;
            vec![Change::License(estate.licenses[l].clone())]
        }
        Edit::Allocate { license, device } => {
            let (Some(l), Some(d)) = (
                pick(&estate.licenses, license),
                pick(&estate.devices, device),
            ) else {
                return Vec::new();
            };
            let target = AllocationTarget::Device(estate.devices[d].id.clone());
            let allocations = &mut estate.licenses[l].allocations;
            if allocations.iter().any(|a| a.target == target) {
                return Vec::new();
            }
            allocations.push(Allocation {
                target,
                kind: AllocationKind::Allocated,
            });
            vec![Change::License(estate.licenses[l].clone())]
        }
        Edit::Rules { version } => {
            let before = inputs.rules;
            inputs.rules = version;
            match (user_rule(before), user_rule(version)) {
                (_, Some(source)) => vec![Change::RuleFile(source)],
                (Some(_), None) => vec![Change::RemoveRuleFile(USER_FILE.to_string())],
                (None, None) => Vec::new(),
            }
        }
    }
}

/// The JSON a user would get: positions and every assessment row.
fn output(ws: &Workspace) -> String {
    let positions = report::positions(ws.positions()).render(Format::Json);
    let rows = report::assessments(ws.assessments(), &BTreeMap::new()).render(Format::Json);
    format!("{positions}\n{rows}")
}

fn rules(version: usize) -> Vec<RuleSource> {
    let mut rules = standard_rules().to_vec();
    rules.extend(user_rule(version));
    rules
}

fn from_scratch(inputs: &Inputs) -> String {
    let mut ws = Workspace::new(Database::default(), rules(inputs.rules), as_of());
    ws.load(inputs.estate.clone());
    output(&ws)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(24),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn incremental_output_equals_a_run_from_scratch(
        edits in proptest::collection::vec((edit(), any::<bool>(), any::<bool>()), 1..8)
    ) {
        let mut inputs = Inputs { estate: sample().clone(), rules: 0 };
        let mut ws = Workspace::new(Database::default(), rules(0), as_of());
        ws.load(inputs.estate.clone());
        let _ = output(&ws);
        for (edit, as_load, look) in &edits {
            let changes = edit_inputs(&mut inputs, edit);
            let rules_edit = matches!(edit, Edit::Rules { .. });
            if *as_load && !rules_edit {
                ws.load(inputs.estate.clone());
            } else {
                prop_assert_eq!(ws.apply(changes), Ok(()));
            }
            // Positions computed between edits, so that the next edit may reuse a walk.
            if *look {
                let _ = ws.positions();
            }
        }
        prop_assert_eq!(output(&ws), from_scratch(&inputs), "after {:?}", edits);
        // Positions are reconciled without rows: their figures are the sums of the rows'.
        let mut sums: BTreeMap<&str, Decimal> = BTreeMap::new();
        for row in ws.assessments() {
            *sums.entry(row.license.as_str()).or_default() += row.units;
        }
        for position in ws.positions() {
            let summed = sums.get(position.license.as_str()).copied().unwrap_or_default();
            prop_assert_eq!(position.consumed, Some(summed), "{}", position.license);
        }
    }
}

#[test]
fn the_sample_and_the_packs_load() {
    assert!(!sample().devices.is_empty(), "the sample estate imports");
    for version in 0..USER_RULES.len() {
        let ws = Workspace::new(Database::default(), rules(version), as_of());
        assert!(!ws.compiled().has_errors(), "user rules {version} compile");
    }
}
