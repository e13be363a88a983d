//! Benchmarks that show the work on inputs is bounded: importing and compiling grow linearly
//! with the input, also for a single huge line, and an error on a huge line renders in time
//! that does not depend on its length. Run with `cargo bench -p tally-runtime --bench inputs`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use tally_compiler::diagnostics::SourceFile;
use tally_compiler::ir::CompiledPack;
use tally_runtime::estate::{self, EstateFiles};

const DEVICES_HEADER: &str = "id,name,chassis,os,os_type,processors,cores,processor_model\n";

/// `devices.csv` with `rows` servers.
fn devices(rows: usize) -> String {
    let mut text = String::from(DEVICES_HEADER);
    for i in 0..rows {
        text.push_str(&format!(
            "D{i:07},host-{i}.example.com,server,Windows Server 2022,server,2,16,Intel(R) Xeon(R) Gold 6130\n"
        ));
    }
    text
}

/// An estate of the given `devices.csv` and otherwise only header rows.
fn estate(devices: &str) -> EstateFiles {
    EstateFiles::from_texts(
        "bench",
        [
            devices,
            "id,name\n",
            "device,kind,publisher,name,version\n",
            "licenses: []\n",
            "license,quantity\n",
        ],
    )
}

fn import(c: &mut Criterion) {
    let pack = CompiledPack::default();
    let mut group = c.benchmark_group("import");
    group.sample_size(10);
    for rows in [100_000, 1_000_000] {
        let files = estate(&devices(rows));
        group.bench_function(format!("devices_csv/{rows}_rows"), |b| {
            b.iter(|| black_box(estate::import(&files, &pack).map(|e| e.devices.len())));
        });
    }
    let long = "x".repeat(10 << 20);
    let files = estate(&format!("{DEVICES_HEADER}D1,{long},server,,,2,16,\n"));
    group.bench_function("devices_csv/one_10MB_field", |b| {
        b.iter(|| black_box(estate::import(&files, &pack).map(|e| e.devices.len())));
    });
    // A bad value 10 MB long: importing finds it, and rendering the error stays short.
    let files = estate(&format!("{DEVICES_HEADER}D1,x,server,,,2,{long},\n"));
    group.bench_function("devices_csv/one_10MB_bad_field_rendered", |b| {
        b.iter(|| {
            let errors = estate::import(&files, &pack).err().unwrap_or_default();
            black_box(errors.iter().map(|d| d.render().len()).sum::<usize>())
        });
    });
    group.finish();
}

/// A rule file of `count` products, each on its own lines.
fn rules(count: usize) -> String {
    let mut text = String::from("publisher acme { name \"Acme\" }\n");
    for i in 0..count {
        text.push_str(&format!(
            "/// Product {i}.\nproduct acme.p{i} {{\n    name \"Product {i}\"\n    publisher acme\n}}\n"
        ));
    }
    text
}

/// Compiles one file; the number of diagnostics.
fn compile_one(source: &Arc<SourceFile>) -> usize {
    tally_compiler::compile_sources(std::slice::from_ref(source))
        .diagnostics
        .len()
}

fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    group.sample_size(10);
    // 5 lines a product: 200 000 products are a million lines.
    for count in [20_000, 200_000] {
        let source = SourceFile::new("bench.tally", rules(count));
        group.bench_function(format!("products/{}_lines", count * 5), |b| {
            b.iter(|| black_box(compile_one(&source)));
        });
    }
    let long = "x".repeat(10 << 20);
    let source = SourceFile::new(
        "bench.tally",
        format!("publisher acme {{ name \"{long}\" }}\n"),
    );
    group.bench_function("one_10MB_line", |b| {
        b.iter(|| black_box(compile_one(&source)));
    });
    group.finish();
}

criterion_group!(inputs, import, compile);
criterion_main!(inputs);
