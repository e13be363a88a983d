//! Benchmarks of reading `licenses.yaml`: a large, ordinary file at two sizes (so that the
//! time per byte can be compared), and pathologically nested files, which are refused after
//! one linear pass. Run with `cargo bench -p tally-runtime --bench import`.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tally_compiler::ir::CompiledPack;
use tally_runtime::estate::{self, EstateFiles};

/// The standard packs, compiled.
fn pack() -> CompiledPack {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let sources: Vec<_> = ["rules", "arl", "purl", "skus"]
        .iter()
        .flat_map(|dir| tally_runtime::sources::read_pack(&root.join(dir)).unwrap_or_default())
        .collect();
    tally_compiler::compile_sources(&sources).pack
}

/// A valid `licenses.yaml` of about `bytes` bytes, in block and flow style with comments.
fn licenses(bytes: usize) -> String {
    let mut text = String::from("# Generated for the import benchmark.\nlicenses:\n");
    let mut i = 0;
    while text.len() < bytes {
        text.push_str(&format!(
            "  # Record {i}: a device license with restrictions.\n  - id: L-{i:07}\n    name: \"Microsoft Office Professional Plus 2019 ({i})\"\n    metric: device\n    rights: microsoft.office.professional_plus_2019\n    priority: {}\n    limit: true_up\n    unit_price: {i}.25\n    extra_entitlements: 12345678901234567.89\n    currency: EUR\n    expiry: 2027-12-31\n    restrictions: {{ os_type: desktop, groups: [ \"location=Europe/{i}\" ] }}\n",
            i % 9 + 1
        ));
        i += 1;
    }
    text
}

fn files(licenses: &str) -> EstateFiles {
    EstateFiles::from_texts(
        "bench",
        [
            "id\n",
            "id\n",
            "device,name\n",
            licenses,
            "id,license,quantity\n",
        ],
    )
}

fn bench(c: &mut Criterion) {
    let pack = pack();
    let mut group = c.benchmark_group("import licenses.yaml");
    group.sample_size(10);
    for megabytes in [1, 10] {
        let text = licenses(megabytes * 1_000_000);
        let files = files(&text);
        // The file is valid: every record is imported.
        assert!(estate::import(&files, &pack).is_ok_and(|e| e.licenses.len() > 1_000));
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(format!("{megabytes} MB of records"), |b| {
            b.iter(|| estate::import(black_box(&files), &pack));
        });
    }
    // About 80 KB each; the YAML reader alone takes seconds on the first two.
    let nested = [
        (
            "40,000 nested flow lists",
            format!("licenses: {}{}\n", "[".repeat(40_000), "]".repeat(40_000)),
        ),
        (
            "nested flow mappings",
            format!(
                "licenses: {}1{}\n",
                "{a: ".repeat(16_000),
                "}".repeat(16_000)
            ),
        ),
        (
            "nested list items on one line",
            format!("licenses:\n{}x\n", "- ".repeat(40_000)),
        ),
        ("list items indented one more each line", {
            let mut text = String::from("licenses:\n");
            let mut level = 0;
            while text.len() < 80_000 {
                text.push_str(&" ".repeat(level));
                text.push_str("-\n");
                level += 1;
            }
            text
        }),
    ];
    // The worst the guard lets through: 1 MB of lists nested 16 levels deep (`licenses`, its
    // list and 14 more), which the YAML reader reads in full before it finds that the first
    // record is not a mapping.
    let allowed = format!("{}{}", "[".repeat(14), "]".repeat(14));
    let mut wide = String::from("licenses: [");
    while wide.len() < 1_000_000 {
        wide.push_str(&allowed);
        wide.push_str(",\n  ");
    }
    wide.push_str("]\n");
    let nested = nested
        .into_iter()
        .chain([("1 MB of lists nested 16 deep", wide)]);
    for (name, text) in &nested.collect::<Vec<_>>() {
        let files = files(text);
        assert!(estate::import(&files, &pack).is_err());
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(*name, |b| {
            b.iter(|| estate::import(black_box(&files), &pack));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
