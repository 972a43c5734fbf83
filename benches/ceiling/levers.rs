//! The levers section: the allocator setting, each speed option of
//! `models::Execution` and the thread count, switched one at a time at the
//! cpu canvas.
//!
//! glibc's allocator settings cannot be put back within one process, so
//! the rows under glibc's defaults come from a child run of this binary
//! with [`GLIBC_DEFAULTS_VARIABLE`] set, which prints them as tab-separated
//! lines for the parent to read.

use std::process::Command;

use eqcheck::models::{Arch, Execution};

use super::throughput::{forward_flops, time_forward_replicas, Pass};
use super::workload::Workload;
use super::{gflops_per_second, ARCHS};

/// Set (to any value) in the environment of the child run that measures
/// under glibc's default allocator settings.
pub const GLIBC_DEFAULTS_VARIABLE: &str = "EQCHECK_REPORT_GLIBC_DEFAULTS";

const GLIBC_DEFAULTS: &str = "glibc defaults";
const KEPT: &str = "freed memory kept";

/// A labelled execution with its thread count; 0 keeps libtorch's default.
type Setting = (&'static str, Execution, i32);

/// Settings measured under glibc's defaults, in the child run.
fn glibc_default_settings() -> Vec<Setting> {
    vec![
        ("baseline: NCHW, bank rebuilt", Execution::BASELINE, 0),
        ("default execution", Execution::default(), 0),
    ]
}

/// Settings measured with freed tensor memory kept, in this process.
fn kept_memory_settings() -> Vec<Setting> {
    vec![
        ("baseline: NCHW, bank rebuilt", Execution::BASELINE, 0),
        ("cached filter banks", Execution::CACHE_ONLY, 0),
        ("channels-last", Execution::CHANNELS_LAST_ONLY, 0),
        ("default execution", Execution::default(), 0),
        ("default execution", Execution::default(), 1),
    ]
}

/// One measured setting of one model and pass.
struct Row {
    arch: String,
    pass: String,
    allocator: String,
    execution: String,
    threads: i32,
    median_seconds: f64,
    min_seconds: f64,
    /// FLOPs of one batch, counted as in the models section.
    batch_flops: f64,
}

/// Times every applicable setting for both models and passes, and with
/// `with_replicas` also inference split across one single-thread model
/// copy per libtorch thread.
fn measure(allocator: &str, settings: &[Setting], with_replicas: bool) -> Vec<Row> {
    let default_threads = tch::get_num_threads();
    let workload = Workload::cpu();
    let mut rows = Vec::new();
    for arch in ARCHS {
        let forward = forward_flops(arch, workload);
        for pass in [Pass::Inference, Pass::TrainStep] {
            for &(label, execution, threads) in settings {
                let no_effect = execution == Execution::CACHE_ONLY && (pass == Pass::TrainStep || arch == Arch::Unet);
                if no_effect {
                    continue;
                }
                let threads = if threads > 0 { threads } else { default_threads };
                let runs = if pass == Pass::Inference { 10 } else { 5 };
                tch::set_num_threads(threads);
                let timing = pass.time(arch, workload, execution, runs);
                tch::set_num_threads(default_threads);
                rows.push(Row {
                    arch: arch.to_string(),
                    pass: pass.label().to_string(),
                    allocator: allocator.to_string(),
                    execution: label.to_string(),
                    threads,
                    median_seconds: timing.median,
                    min_seconds: timing.min,
                    batch_flops: pass.flops(forward) * workload.batch as f64,
                });
            }
            if with_replicas && pass == Pass::Inference {
                let replicas = default_threads.max(1) as usize;
                let timing = time_forward_replicas(arch, workload, Execution::default(), replicas, 10);
                rows.push(Row {
                    arch: arch.to_string(),
                    pass: pass.label().to_string(),
                    allocator: allocator.to_string(),
                    execution: format!("default execution, batch split over {replicas} single-thread copies"),
                    threads: 1,
                    median_seconds: timing.median,
                    min_seconds: timing.min,
                    batch_flops: pass.flops(forward) * workload.batch as f64,
                });
            }
        }
    }
    rows
}

/// Measures the glibc-default rows and prints them as tab-separated
/// lines; the entry point of the child run.
pub fn print_glibc_default_rows() {
    for row in measure(GLIBC_DEFAULTS, &glibc_default_settings(), false) {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            row.arch, row.pass, row.execution, row.threads, row.median_seconds, row.min_seconds, row.batch_flops
        );
    }
}

/// Runs this binary as the child run and reads its rows. Returns the
/// reason instead when the child fails.
fn glibc_default_rows() -> Result<Vec<Row>, String> {
    let executable = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let output = Command::new(executable)
        .env(GLIBC_DEFAULTS_VARIABLE, "1")
        .output()
        .map_err(|e| format!("cannot start the child run: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("child run failed ({}): {}", output.status, stderr.trim()));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout.lines().map(parse_row).collect()
}

fn parse_row(line: &str) -> Result<Row, String> {
    let fields: Vec<&str> = line.split('\t').collect();
    let [arch, pass, execution, threads, median, min, flops] = fields.as_slice() else {
        return Err(format!("invalid row from the child run: {line:?}"));
    };
    let number = |text: &str| text.parse::<f64>().map_err(|e| format!("invalid number {text:?}: {e}"));
    Ok(Row {
        arch: arch.to_string(),
        pass: pass.to_string(),
        allocator: GLIBC_DEFAULTS.to_string(),
        execution: execution.to_string(),
        threads: threads.parse().map_err(|e| format!("invalid thread count {threads:?}: {e}"))?,
        median_seconds: number(median)?,
        min_seconds: number(min)?,
        batch_flops: number(flops)?,
    })
}

/// Prints the levers table, with speed-ups of the fastest runs against
/// the first row of each model and pass: glibc's defaults with the
/// baseline execution.
pub fn report(ceiling: f64) {
    let workload = Workload::cpu();
    println!(
        "## Levers at the cpu canvas (P = {}, width {}, batch {})\n",
        workload.canvas, workload.base_width, workload.batch
    );
    println!(
        "One change at a time. Allocator: glibc's defaults, or `allocator::keep_freed_tensor_memory` \
         as the CLI and these benchmarks set it. Bank caching changes group U-Net inference only.\n"
    );
    let mut rows = match glibc_default_rows() {
        Ok(rows) => rows,
        Err(reason) => {
            println!("Rows under glibc's defaults are missing: {reason}\n");
            Vec::new()
        }
    };
    rows.extend(measure(KEPT, &kept_memory_settings(), true));

    println!(
        "| model | pass | allocator | execution | threads | median (ms) | min (ms) | GFLOP/s | share of ceiling \
         | speed-up |"
    );
    println!("|---|---|---|---|---:|---:|---:|---:|---:|---:|");
    for arch in ARCHS.map(|a| a.to_string()) {
        for pass in [Pass::Inference, Pass::TrainStep].map(|p| p.label()) {
            let group: Vec<&Row> = rows.iter().filter(|r| r.arch == arch && r.pass == pass).collect();
            let Some(first) = group.first() else {
                continue;
            };
            let reference = first.min_seconds;
            for row in group {
                let rate = gflops_per_second(row.batch_flops, row.min_seconds);
                println!(
                    "| {arch} | {pass} | {} | {} | {} | {:.1} | {:.1} | {rate:.1} | {:.0}% | {:.2}x |",
                    row.allocator,
                    row.execution,
                    row.threads,
                    1e3 * row.median_seconds,
                    1e3 * row.min_seconds,
                    100.0 * rate / ceiling,
                    reference / row.min_seconds
                );
            }
        }
    }
    println!();
}
