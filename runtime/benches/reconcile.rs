//! Benchmarks of the whole pipeline on synthetic estates built from the standard packs:
//! recognise and reconcile from scratch, and update the positions after one device's
//! evidence changed. Run with `cargo bench -p tally-runtime`.

use std::hint::black_box;
use std::path::Path;

use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, Criterion, criterion_group, criterion_main};
use jiff::civil::date;
use rust_decimal::Decimal;
use tally_runtime::db::Database;
use tally_runtime::estate::{
    Device, Estate, Evidence, EvidenceField, EvidenceKind, License, Partition, Purchase,
};
use tally_runtime::workspace::{Change, RuleSource, Workspace};

/// Installer entries the standard packs recognise, and noise they do not.
const SOFTWARE: &[(&str, &str, &str)] = &[
    (
        "Microsoft Corporation",
        "Microsoft Office Professional Plus 2019 - en-us",
        "16.0.10417.20007",
    ),
    (
        "Microsoft Corporation",
        "Microsoft Office Professional Plus 2016",
        "16.0.4266.1001",
    ),
    (
        "Microsoft Corporation",
        "Microsoft Visio Professional 2016",
        "16.0.4266.1001",
    ),
    (
        "Microsoft Corporation",
        "Microsoft Project Professional 2019 - en-us",
        "16.0.10417.20007",
    ),
    ("Microsoft Corporation", "Microsoft Edge", "131.0.2903.70"),
    (
        "Microsoft Corporation",
        "Microsoft Visual C++ 2015-2022 Redistributable (x64) - 14.36.32532",
        "14.36.32532.0",
    ),
    ("Google LLC", "Google Chrome", "131.0.6778.86"),
    ("Notepad++ Team", "Notepad++ (64-bit x64)", "8.6.2"),
    (
        "Microsoft Corporation",
        "Security Update for Microsoft Office 2016 (KB5002113)",
        "",
    ),
    ("Igor Pavlov", "7-Zip 23.01 (x64)", "23.01"),
];

fn rules() -> Vec<RuleSource> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    ["rules", "arl", "purl", "skus"]
        .iter()
        .flat_map(|dir| tally_runtime::sources::read_pack(&root.join(dir)).unwrap_or_default())
        .map(|source| RuleSource {
            source,
            standard: true,
        })
        .collect()
}

fn device(id: String) -> Device {
    Device {
        name: id.clone(),
        id,
        ..Device::default()
    }
}

fn evidence(device: &str, line: usize, pick: usize) -> Evidence {
    let (publisher, name, version) = SOFTWARE[pick % SOFTWARE.len()];
    let mut e = Evidence::from_fields(
        EvidenceKind::Installer,
        [
            (EvidenceField::Publisher, publisher),
            (EvidenceField::Name, name),
            (EvidenceField::Version, version),
        ],
    );
    e.line = line;
    e.device = device.into();
    e
}

fn license(id: &str, rights: &str, priority: u32) -> License {
    License {
        id: id.into(),
        name: id.into(),
        metric: "device".into(),
        rights: rights.into(),
        priority: Some(priority),
        ..License::default()
    }
}

/// `devices` devices with eight evidence rows each, and four licenses.
fn estate(devices: usize) -> Estate {
    let mut estate = Estate::default();
    let mut line = 1;
    for d in 0..devices {
        let id = format!("D{d:06}");
        for k in 0..8 {
            line += 1;
            estate.evidence.push(evidence(&id, line, d * 3 + k * 7));
        }
        estate.devices.push(device(id));
    }
    estate.licenses = vec![
        license("L-O2016", "microsoft.office.professional_plus_2016", 2),
        license("L-O2019", "microsoft.office.professional_plus_2019", 1),
        license("L-PROJECT", "microsoft.project.professional_2019", 1),
        license("L-VISIO", "microsoft.visio.professional_2016", 1),
    ];
    estate.purchases = estate
        .licenses
        .iter()
        .map(|l| Purchase {
            id: format!("P-{}", l.id),
            license: l.id.clone(),
            sku: None,
            quantity: Decimal::from(devices / 4),
            unit_price: Some(Decimal::new(39900, 2)),
            currency: Some("EUR".into()),
            date: None,
            effective: None,
            expiry: None,
            disabled: false,
        })
        .collect();
    estate
}

/// The same estate as a data centre: every eighth device is a host (2 × 8-core Xeon) and the
/// others are 4-core VMs on it; the licenses count by capacity metrics from `rules/`: IBM PVU
/// at sub-capacity, Windows Server Standard stacking, per core and Oracle processor.
fn data_centre(devices: usize) -> Estate {
    let mut estate = estate(devices);
    for (n, d) in estate.devices.iter_mut().enumerate() {
        let host = n - n % 8;
        if n == host {
            d.processors = Some(2);
            d.cores = Some(16);
            d.max_sockets = Some(2);
            d.processor_model = Some("Intel(R) Xeon(R) Silver 4110 CPU @ 2.10GHz".into());
        } else {
            d.cores = Some(4);
            d.host = Some(format!("D{host:06}"));
            d.partition = Partition::Vm;
        }
    }
    let metrics = [
        "ibm.pvu",
        "microsoft.windows_server_standard_core",
        "core",
        "oracle.processor",
    ];
    for (license, metric) in estate.licenses.iter_mut().zip(metrics) {
        license.metric = metric.into();
        license.virtualization.subcapacity = true;
    }
    for purchase in &mut estate.purchases {
        purchase.quantity = Decimal::from(devices * 100);
    }
    estate
}

/// Benchmarks loading `data` into a new workspace and computing every position.
fn from_scratch(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: String,
    rules: &[RuleSource],
    data: &Estate,
) {
    group.bench_function(name, |b| {
        b.iter_batched(
            || data.clone(),
            |data| {
                let mut ws = Workspace::new(Database::default(), rules.to_vec(), date(2026, 11, 1));
                ws.load(data);
                black_box(ws.positions().len())
            },
            BatchSize::LargeInput,
        );
    });
}

fn benches(c: &mut Criterion) {
    let rules = rules();
    let mut group = c.benchmark_group("reconcile");
    group.sample_size(10);
    for devices in [1_000, 10_000] {
        let name = format!("from_scratch_capacity/{devices}_devices");
        from_scratch(&mut group, name, &rules, &data_centre(devices));
        let data = estate(devices);
        from_scratch(
            &mut group,
            format!("from_scratch/{devices}_devices"),
            &rules,
            &data,
        );
        let mut ws = Workspace::new(Database::default(), rules.clone(), date(2026, 11, 1));
        ws.load(data.clone());
        let _ = ws.positions();
        let mut flip = 0;
        group.bench_function(format!("one_device_changed/{devices}_devices"), |b| {
            b.iter(|| {
                flip += 1;
                let rows = vec![evidence("D000000", 1, flip % 4)];
                let change = Change::Evidence {
                    device: "D000000".to_string(),
                    rows: rows.into(),
                };
                let _ = ws.apply(vec![change]);
                black_box(ws.positions().len())
            });
        });
    }
    group.finish();
}

criterion_group!(pipeline, benches);
criterion_main!(pipeline);
