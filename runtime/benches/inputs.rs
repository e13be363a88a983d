//! Benchmarks that show the work on inputs is bounded: importing and compiling grow linearly
//! with the input, also for a single huge line, and an error on a huge line renders in time
//! that does not depend on its length. Run with `cargo bench -p tally-runtime --bench inputs`.
//!
//! Importing an `evidence.csv` of 2,000,000 rows is left out of that run (it takes a while);
//! `TALLY_BENCH_EVIDENCE=1 cargo bench -p tally-runtime --bench inputs -- evidence` adds it to
//! the criterion run, and `TALLY_BENCH_EVIDENCE=peak cargo bench -p tally-runtime --bench
//! inputs` instead imports it once and prints the time and the peak memory (`VmHWM`) of the
//! import alone, and of the process with the estate's text.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, criterion_group};
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

/// A small deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49eb_2231_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or_default()
    }
}

const EVIDENCE_HEADER: &str = "device,kind,publisher,name,version,product_code,system_component,parent,release_type,size,architecture,last_used,source,ignored\n";

/// Evidence rows per device, as inventory tools report them.
const ROWS_PER_DEVICE: usize = 200;

/// `devices.csv` and `evidence.csv` with `rows` evidence rows, 200 a device, drawn from a
/// catalogue of 20,000 rows: mostly installer entries (some with a product code, some hidden
/// system components, some updates under a parent), also files with a size and packages with
/// an architecture; some rows have a last-used date, a few are ignored.
fn evidence_estate(rows: usize) -> (String, String) {
    let mut rng = Rng(7);
    let publishers = [
        "Microsoft Corporation",
        "Adobe Inc.",
        "Google LLC",
        "\"Contoso, Ltd.\"",
        "Oracle Corporation",
        "Mozilla",
        "\"Red Hat, Inc.\"",
        "",
    ];
    let catalogue: Vec<String> = (0..20_000)
        .map(|i| {
            let publisher = publishers[rng.below(publishers.len())];
            let version = format!("{}.{}.{}", i % 17, rng.below(40), rng.below(9000));
            match rng.below(10) {
                0 => format!("file,{publisher},product{i}.exe,{version},,,,,{},", rng.below(1 << 30)),
                1 => format!("package,{publisher},pkg-{i},{version},,,,,,x86_64"),
                2 => format!(
                    "installer,{publisher},Security Update for Product {} (KB{i}),,,,Product {},Security Update,,",
                    i / 10,
                    i / 10
                ),
                3 => format!("installer,{publisher},Runtime Component {i} (x64),{version},,true,,,,"),
                _ => format!(
                    "installer,{publisher},Product {i} Professional {},{version},{{{:08X}-0000-0000-0000-{i:012}}},,,,,",
                    2016 + i % 9,
                    rng.next() as u32
                ),
            }
        })
        .collect();
    let devices_count = rows.div_ceil(ROWS_PER_DEVICE);
    let mut devices = String::from(DEVICES_HEADER);
    for d in 0..devices_count {
        devices.push_str(&format!(
            "WS-{d:06},ws-{d}.example.com,desktop,Windows 11,desktop,1,8,Intel(R) Core(TM) i7\n"
        ));
    }
    let mut text = String::with_capacity(rows * 110);
    text.push_str(EVIDENCE_HEADER);
    for row in 0..rows {
        let device = row / ROWS_PER_DEVICE;
        let entry = &catalogue[rng.below(catalogue.len())];
        let last_used = if rng.below(4) == 0 {
            format!("2025-{:02}-{:02}", 1 + rng.below(12), 1 + rng.below(28))
        } else {
            String::new()
        };
        let ignored = if rng.below(100) == 0 { "true" } else { "" };
        text.push_str(&format!(
            "WS-{device:06},{entry},{last_used},sccm,{ignored}\n"
        ));
    }
    (devices, text)
}

/// The resident set's high-water mark in MiB, when the system reports it.
fn peak_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

/// The CPU time the process has used (user and system), in seconds, when the system reports
/// it: `/proc/self/stat` counts it in ticks, which are 1/100 s on Linux.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let (_, after_name) = stat.rsplit_once(')')?;
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some((user + system) as f64 / 100.0)
}

/// Imports 2 M evidence rows once: prints the time and the peak memory of the import alone
/// (the high-water mark is reset before it, where the system allows) and of the whole process.
fn evidence_peak() {
    let pack = CompiledPack::default();
    let (devices, evidence) = evidence_estate(2_000_000);
    let files = EstateFiles::from_texts(
        "bench",
        [
            &devices,
            "id,name\n",
            &evidence,
            "licenses: []\n",
            "id,license,quantity\n",
        ],
    );
    drop((devices, evidence));
    let with_text = peak_mib();
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = peak_mib();
    let (start, cpu) = (Instant::now(), cpu_seconds());
    let imported = estate::import(&files, &pack);
    let elapsed = start.elapsed();
    let cpu = cpu_seconds().zip(cpu).map(|(after, before)| after - before);
    let peak = peak_mib();
    let show = |m: Option<u64>| m.map_or_else(|| "n/a".to_owned(), |m| format!("{m} MiB"));
    println!(
        "evidence.csv of 2,000,000 rows ({} MB): imported {} rows in {:.2} s ({} s of CPU); peak {} (the text and the generator: {}; resident before the import {}{})",
        files.evidence.text().map_or(0, |s| s.text.len()) / 1_000_000,
        imported.as_ref().map_or(0, |e| e.evidence.len()),
        elapsed.as_secs_f64(),
        cpu.map_or_else(|| "n/a".to_owned(), |s| format!("{s:.2}")),
        show(peak),
        show(with_text),
        show(before),
        if reset { "" } else { ", peak not reset" },
    );
    if let Err(errors) = &imported {
        println!(
            "{} errors, first: {:?}",
            errors.len(),
            errors.first().map(|d| &d.message)
        );
    }
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
    if std::env::var("TALLY_BENCH_EVIDENCE").is_ok() {
        let (devices, evidence) = evidence_estate(2_000_000);
        let files = EstateFiles::from_texts(
            "bench",
            [
                &devices,
                "id,name\n",
                &evidence,
                "licenses: []\n",
                "id,license,quantity\n",
            ],
        );
        group.bench_function("evidence_csv/2000000_rows", |b| {
            b.iter(|| black_box(estate::import(&files, &pack).map(|e| e.evidence.len())));
        });
    }
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

fn main() {
    if std::env::var("TALLY_BENCH_EVIDENCE").is_ok_and(|v| v == "peak") {
        evidence_peak();
        return;
    }
    inputs();
    Criterion::default().configure_from_args().final_summary();
}
