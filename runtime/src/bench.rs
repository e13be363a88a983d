//! `tally bench`: measures a full run on an estate folder stage by stage (read, compile,
//! import, load with recognition, reconcile), the peak memory, and the latency of single-device
//! and single-purchase updates over random edits, with the number of queries each update
//! re-executed. The result is JSON, so runs can be compared and kept.

use std::path::Path;
use std::time::{Duration, Instant};

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Serialize;
use tally_compiler::diagnostics::Diagnostic;

use crate::db::Database;
use crate::estate::{self, EstateFiles, Evidence};
use crate::generate::Rng;
use crate::workspace::{Change, RuleSource, Workspace};

/// What `tally bench` measured.
#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub estate: EstateSize,
    pub full_run: FullRun,
    pub device_edits: Latency,
    pub purchase_edits: Latency,
}

#[derive(Debug, Serialize)]
pub struct EstateSize {
    pub devices: usize,
    pub users: usize,
    pub evidence_rows: usize,
    pub licenses: usize,
    pub purchases: usize,
    pub families: usize,
    pub installations: usize,
}

/// Milliseconds per stage of a run from scratch, and the process's peak memory after it.
#[derive(Debug, Serialize)]
pub struct FullRun {
    pub read_ms: u128,
    pub compile_ms: u128,
    pub import_ms: u128,
    /// Grouping rows by device, recognising every device, building the installation index.
    pub load_ms: u128,
    /// Reconciling every family and computing the positions.
    pub reconcile_ms: u128,
    pub total_ms: u128,
    /// The CPU time of each stage, all threads: on a shared machine it says what the wall
    /// clock would on an idle one.
    pub cpu_ms: StageCpu,
    /// The resident set's high-water mark (`VmHWM`), when the system reports it.
    pub peak_memory_mib: Option<u64>,
}

/// Milliseconds of CPU time per stage of a full run (see [`cpu_time`]).
#[derive(Debug, Serialize)]
pub struct StageCpu {
    pub read: u128,
    pub compile: u128,
    pub import: u128,
    pub load: u128,
    pub reconcile: u128,
    pub total: u128,
}

/// The latency of one kind of update: apply one edit, then recompute the positions.
#[derive(Debug, Serialize)]
pub struct Latency {
    pub edits: usize,
    pub median_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Queries re-executed per edit.
    pub queries_median: usize,
    pub queries_p99: usize,
    pub queries_max: usize,
}

/// Runs the benchmark on an estate folder with the given rules: `edits` random edits of each
/// kind, drawn from `seed`. `progress` hears of each stage of the full run as it ends (its
/// name and milliseconds), so a long run shows where it is.
pub fn run(
    rules: Vec<RuleSource>,
    dir: &Path,
    as_of: Date,
    (edits, seed): (usize, u64),
    progress: &mut dyn FnMut(&str, u128),
) -> Result<BenchReport, Vec<Diagnostic>> {
    let (started, cpu_started) = (Instant::now(), cpu_time());
    let mut cpu_mark = cpu_started;
    // The CPU time since the last stage ended.
    let mut stage_cpu = || {
        let now = cpu_time();
        let stage = now.saturating_sub(cpu_mark).as_millis();
        cpu_mark = now;
        stage
    };
    let files = EstateFiles::open_dir(dir)?;
    let read = started.elapsed();
    let read_cpu = stage_cpu();
    progress("read", read.as_millis());

    let mark = Instant::now();
    let mut ws = Workspace::new(Database::with_log(), rules, as_of);
    if let Err(errors) = ws.check_rules() {
        return Err(errors.to_vec());
    }
    let compile = mark.elapsed();
    let compile_cpu = stage_cpu();
    progress("compile", compile.as_millis());

    let mark = Instant::now();
    let estate = estate::import(&files, ws.pack())?;
    drop(files);
    let import = mark.elapsed();
    let import_cpu = stage_cpu();
    progress("import", import.as_millis());
    let mut size = EstateSize {
        devices: estate.devices.len(),
        users: estate.users.len(),
        evidence_rows: estate.evidence.len(),
        licenses: estate.licenses.len(),
        purchases: estate.purchases.len(),
        families: 0,
        installations: 0,
    };
    let purchases = estate.purchases.clone();

    let mark = Instant::now();
    ws.load(estate);
    let load = mark.elapsed();
    let load_cpu = stage_cpu();
    progress("load", load.as_millis());

    let mark = Instant::now();
    let _ = ws.positions();
    let reconcile = mark.elapsed();
    let reconcile_cpu = stage_cpu();
    progress("reconcile", reconcile.as_millis());
    let total = started.elapsed();
    size.families = ws.families().len();
    size.installations = ws
        .recognition()
        .iter()
        .map(|v| v.recognition.installations.len())
        .sum();
    let full_run = FullRun {
        read_ms: read.as_millis(),
        compile_ms: compile.as_millis(),
        import_ms: import.as_millis(),
        load_ms: load.as_millis(),
        reconcile_ms: reconcile.as_millis(),
        total_ms: total.as_millis(),
        cpu_ms: StageCpu {
            read: read_cpu,
            compile: compile_cpu,
            import: import_cpu,
            load: load_cpu,
            reconcile: reconcile_cpu,
            total: cpu_time().saturating_sub(cpu_started).as_millis(),
        },
        peak_memory_mib: peak_memory_mib(),
    };
    let _ = ws.db.take_log();

    let mut random = Rng::new(seed, 0, 0);
    let devices: Vec<String> = ws
        .recognition()
        .iter()
        .filter(|v| !v.evidence.is_empty())
        .map(|v| v.device.id.clone())
        .collect();
    let device_edits = measure(&mut ws, edits, |ws| device_edit(ws, &devices, &mut random));
    let mut random = Rng::new(seed, 1, 0);
    let mut purchases = purchases;
    let purchase_edits = measure(&mut ws, edits, |_| {
        purchase_edit(&mut purchases, &mut random)
    });
    Ok(BenchReport {
        estate: size,
        full_run,
        device_edits,
        purchase_edits,
    })
}

/// Applies `n` edits one at a time, recomputing the positions after each.
fn measure(
    ws: &mut Workspace,
    n: usize,
    mut next: impl FnMut(&Workspace) -> Option<Change>,
) -> Latency {
    let mut times: Vec<Duration> = Vec::with_capacity(n);
    let mut queries: Vec<usize> = Vec::with_capacity(n);
    for _ in 0..n {
        let Some(change) = next(ws) else {
            break;
        };
        let started = Instant::now();
        // The change names a loaded device or purchase, so it applies.
        let _ = ws.apply(vec![change]);
        let _ = ws.positions();
        times.push(started.elapsed());
        queries.push(ws.db.take_log().len());
    }
    times.sort_unstable();
    queries.sort_unstable();
    let ms = |d: Option<&Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    Latency {
        edits: times.len(),
        median_ms: ms(times.get(times.len() / 2)),
        p99_ms: ms(times.get(times.len() * 99 / 100)),
        max_ms: ms(times.last()),
        queries_median: queries.get(queries.len() / 2).copied().unwrap_or(0),
        queries_p99: queries.get(queries.len() * 99 / 100).copied().unwrap_or(0),
        queries_max: queries.last().copied().unwrap_or(0),
    }
}

/// One device's inventory changes as a rescan would change it: a row added (copied from
/// another device), a row removed, or a row's version changed.
fn device_edit(ws: &Workspace, devices: &[String], random: &mut Rng) -> Option<Change> {
    let device = devices.get(random.below(devices.len()))?;
    let mut rows: Vec<Evidence> = ws.evidence_of(device)?.to_vec();
    match random.below(3) {
        0 => {
            let other = devices.get(random.below(devices.len()))?;
            let theirs = ws.evidence_of(other)?;
            let mut row = theirs.get(random.below(theirs.len()))?.clone();
            row.device = rows.first()?.device.clone();
            row.line = rows.iter().map(|r| r.line).max().unwrap_or(0) + 1;
            rows.push(row);
        }
        1 if rows.len() > 1 => {
            rows.remove(random.below(rows.len()));
        }
        _ => {
            let at = random.below(rows.len());
            let row = rows.get_mut(at)?;
            row.version = format!("{}.1", row.version).into();
        }
    }
    Some(Change::Evidence {
        device: device.clone(),
        rows: rows.into(),
    })
}

/// One purchase's quantity goes up or down, or it is disabled or enabled again.
fn purchase_edit(purchases: &mut [crate::estate::Purchase], random: &mut Rng) -> Option<Change> {
    let at = random.below(purchases.len());
    let purchase = purchases.get_mut(at)?;
    if random.below(10) == 0 {
        purchase.disabled = !purchase.disabled;
    } else {
        let step = Decimal::from(1 + random.below(5));
        purchase.quantity = if random.below(2) == 0 || purchase.quantity < step {
            purchase.quantity + step
        } else {
            purchase.quantity - step
        };
    }
    Some(Change::Purchase(purchase.clone()))
}

/// The CPU time this process has used so far, user and system, all threads, from
/// `/proc/self/stat` (Linux; zero elsewhere).
pub fn cpu_time() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            // The fields after the command name (which is in parentheses): utime is the 12th.
            let rest = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let user: u64 = fields.get(11)?.parse().ok()?;
            let system: u64 = fields.get(12)?.parse().ok()?;
            Some(user + system)
        })
        .unwrap_or(0);
    // Linux reports clock ticks of 1/100 s.
    Duration::from_millis(ticks * 10)
}

/// The process's peak resident memory in MiB, from `/proc/self/status` (Linux).
pub fn peak_memory_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}
