//! Benchmark report: how close the two U-Nets come to this machine's own
//! float32 matrix-multiply rate, measured in one run. Run it with
//! `cargo bench --bench ceiling`, or name sections to run only those
//! (`-- sweep check`); it prints Markdown. The whole report took 5 minutes
//! on 2 cores, most of it calm (load average 0.2 at start), and up to 11
//! minutes while other builds kept them busy. The default-check section
//! needs the dataset in EQCHECK_DATA and the committed models in
//! reports/cpu, and is skipped with a note when either is missing.

mod levers;
mod machine;
mod memory;
mod sweep;
mod throughput;
mod timing;

#[path = "../shared/check_timing.rs"]
mod check_timing;
#[path = "../shared/workload.rs"]
mod workload;

use std::path::{Path, PathBuf};

use eqcheck::data::Canvas;
use eqcheck::models::{build_with, Arch, Execution};
use eqcheck::training::ProfileName;
use tch::{nn, Device};

use machine::{load_average, Machine};
use throughput::{forward_flops, Pass, Product};
use workload::Workload;

const COMMAND: &str = "cargo bench --bench ceiling";

/// Most of a default check's time, in percent, that may go outside model
/// forward passes: the project's target.
const MAX_OUTSIDE_PERCENT: f64 = 5.0;

const ARCHS: [Arch; 2] = [Arch::Unet, Arch::GroupUnet];

/// Report sections in print order; naming some on the command line
/// (`cargo bench --bench ceiling -- sweep check`) runs only those.
const SECTIONS: [&str; 6] = ["memory", "ceiling", "models", "levers", "sweep", "check"];

fn main() {
    if std::env::var_os(levers::GLIBC_DEFAULTS_VARIABLE).is_some() {
        levers::print_glibc_default_rows();
        return;
    }
    // cargo passes --bench; every other argument names a section.
    let requested: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    if let Some(unknown) = requested.iter().find(|name| !SECTIONS.contains(&name.as_str())) {
        eprintln!("unknown section {unknown:?}; expected some of {}", SECTIONS.join(", "));
        std::process::exit(2);
    }
    let selected = |name: &str| requested.is_empty() || requested.iter().any(|r| r == name);

    let allocator = if eqcheck::allocator::keep_freed_tensor_memory() {
        "freed tensor memory kept (`allocator::keep_freed_tensor_memory`), except in the rows that say otherwise"
    } else {
        "glibc defaults, because `allocator::keep_freed_tensor_memory` failed"
    };
    let machine = Machine::current();
    println!("# Throughput against the matrix-multiply ceiling\n");
    let arguments = if requested.is_empty() {
        String::new()
    } else {
        format!(" -- {}", requested.join(" "))
    };
    println!("- command: `{COMMAND}{arguments}`");
    println!(
        "- CPU: {} ({}), {} logical CPUs",
        machine.cpu_model, machine.cpu_generation, machine.logical_cpus
    );
    println!(
        "- libtorch {}, {} intra-op threads (`at::get_num_threads`)",
        machine.libtorch_version, machine.torch_threads
    );
    println!("- allocator: {allocator}");
    println!("- load average (1, 5, 15 min) at start: {}", load_average());
    println!(
        "- runs follow one warm-up run. Rates and shares use the fastest run, which other processes \
         can only slow down, and the median shows the spread\n"
    );

    // Memory first, while no earlier workload has grown the heap that
    // later allocations would reuse without raising the peak.
    if selected("memory") {
        report_memory();
    }
    // The model sections state their rates as shares of the ceiling.
    if selected("ceiling") || selected("models") || selected("levers") {
        let ceiling = report_ceiling();
        if selected("models") {
            report_models(ceiling);
        }
        if selected("levers") {
            levers::report(ceiling.best);
        }
    }
    if selected("sweep") {
        report_sweep();
    }
    if selected("check") {
        report_check();
    }
    println!("Load average at the end: {}", load_average());
}

/// Returns GFLOP/s of a workload of `flops` that took `seconds`.
fn gflops_per_second(flops: f64, seconds: f64) -> f64 {
    flops / seconds / 1e9
}

/// Rates of the matrix-multiply section, GFLOP/s.
#[derive(Clone, Copy)]
pub struct Ceiling {
    /// Fastest `matmul` product.
    pub matmul: f64,
    /// Fastest product by either route: the ceiling every share uses.
    pub best: f64,
}

/// Prints the matrix-multiply section and returns its rates.
fn report_ceiling() -> Ceiling {
    println!("## Ceiling: float32 matrix multiply through libtorch\n");
    println!(
        "The same square products by libtorch's two routes. On some CPUs (AMD Zen 5, for one) \
         the BLAS of the PyPI wheel runs a narrower kernel than oneDNN, so the faster route is \
         the ceiling, and the models table also states shares of `matmul` alone.\n"
    );
    println!("| product | route | runs | median (ms) | min (ms) | GFLOP/s |");
    println!("|---|---|---:|---:|---:|---:|");
    let mut ceiling = Ceiling { matmul: 0.0, best: 0.0 };
    for product in [Product::Matmul, Product::Convolution] {
        for (side, runs) in [(2048i64, 20), (4096, 4)] {
            let timing = product.time(side, runs);
            let rate = gflops_per_second(2.0 * (side * side * side) as f64, timing.min);
            if product == Product::Matmul {
                ceiling.matmul = ceiling.matmul.max(rate);
            }
            ceiling.best = ceiling.best.max(rate);
            println!(
                "| {side} x {side} | {} | {} | {:.1} | {:.1} | {rate:.1} |",
                product.label(),
                timing.runs,
                1e3 * timing.median,
                1e3 * timing.min
            );
        }
    }
    println!(
        "\nCeiling: {:.1} GFLOP/s, the fastest product ({:.1} GFLOP/s by `matmul` alone).\n",
        ceiling.best, ceiling.matmul
    );
    ceiling
}

fn report_models(ceiling: Ceiling) {
    println!("## Models\n");
    println!(
        "FLOPs count convolutions only, 2·Cin·Cout·k²·H·W each (`models::forward_cost`). A \
         group convolution counts as libtorch executes it, with the expanded filter bank of \
         four rotated copies. A training step (forward, backward, AdamW step) counts as 3x the \
         forward FLOPs. Default `Execution` (channels-last, cached filter banks). The targets \
         are the project's: inference at 80% of the ceiling or more, a training step at 70% or \
         more. A share of `matmul` above 100% means the pass beats libtorch's own `matmul` of a \
         large square product, which happens where that route is the slower one.\n"
    );
    println!(
        "| model | profile | canvas | width | batch | pass | forward GFLOP/image | runs | median (ms) \
         | min (ms) | images/s | GFLOP/s | share of ceiling | share of `matmul` | target (share of ceiling) |"
    );
    println!("|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for workload in [Workload::cpu(), Workload::paper()] {
        for arch in ARCHS {
            let forward = forward_flops(arch, workload);
            for pass in [Pass::Inference, Pass::TrainStep] {
                let runs = match (workload.profile, pass) {
                    (ProfileName::Cpu, Pass::Inference) => 10,
                    (ProfileName::Cpu, Pass::TrainStep) => 5,
                    (_, Pass::Inference) => 3,
                    (_, Pass::TrainStep) => 2,
                };
                let timing = pass.time(arch, workload, Execution::default(), runs);
                let batch = workload.batch as f64;
                let rate = gflops_per_second(pass.flops(forward) * batch, timing.min);
                println!(
                    "| {arch} | {} | {} | {} | {} | {} | {:.2} | {} | {:.1} | {:.1} | {:.1} | {rate:.1} | {:.0}% | {:.0}% | {} |",
                    workload.profile,
                    workload.canvas,
                    workload.base_width,
                    workload.batch,
                    pass.label(),
                    forward / 1e9,
                    timing.runs,
                    1e3 * timing.median,
                    1e3 * timing.min,
                    batch / timing.min,
                    100.0 * rate / ceiling.best,
                    100.0 * rate / ceiling.matmul,
                    pass.verdict(rate / ceiling.best)
                );
            }
        }
    }
    println!();
}

fn report_sweep() {
    /// Images and angles of the timed sweeps: a validation-like set, and
    /// the single sample image that `eqcheck reproduce` sweeps at 10 degrees.
    const SWEEPS: [(usize, usize); 2] = [(32, 12), (1, 36)];
    println!("## Rotation sweep at the cpu canvas\n");
    println!(
        "`eval::sweep` on synthetic images with random weights, {} images per forward pass as in \
         `eqcheck reproduce` (a sweep of fewer images fills the batch with several angles). \
         Throughput counts image-angle pairs, that is angles per second for one image.\n",
        eqcheck::eval::SWEEP_BATCH
    );
    println!("| model | images | angles | seconds | angles per second per image |");
    println!("|---|---:|---:|---:|---:|");
    let canvas = cpu_canvas();
    let data = sweep::synthetic_dataset(32, canvas.side);
    for arch in ARCHS {
        let vars = nn::VarStore::new(Device::Cpu);
        let model = build_with(&vars.root(), arch, Workload::cpu().base_width, Execution::default());
        sweep::time_sweep(model.as_ref(), &canvas, &data, 4, 1);
        for (images, angles) in SWEEPS {
            let seconds = sweep::time_sweep(model.as_ref(), &canvas, &data, images, angles);
            let pairs = (images * angles) as f64;
            println!("| {arch} | {images} | {angles} | {seconds:.2} | {:.1} |", pairs / seconds);
        }
    }
    println!();
}

fn cpu_canvas() -> Canvas {
    let workload = Workload::cpu();
    match Canvas::new(workload.side, workload.canvas) {
        Ok(canvas) => canvas,
        Err(error) => panic!("cpu canvas: {error}"),
    }
}

fn report_check() {
    println!("## Default `eqcheck check`\n");
    let Some(data) = std::env::var_os("EQCHECK_DATA").map(PathBuf::from) else {
        println!("Skipped: set EQCHECK_DATA to the dataset folder (`. setup/env.sh` does).\n");
        return;
    };
    println!(
        "Every spec in properties/ against the committed minimal-augmentation models of \
         reports/cpu, timed after loading, as `cargo bench --bench check` measures it.\n"
    );
    println!("| model | properties | check time (s) | forward passes (s) | outside forward passes | target |");
    println!("|---|---:|---:|---:|---:|---|");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for variant in check_timing::VARIANTS.iter().filter(|v| v.ends_with("-minimal")) {
        match check_timing::time_default_check(root, &data, variant) {
            Ok(timing) => {
                let outside = 100.0 * timing.outside_share();
                let verdict = if outside <= MAX_OUTSIDE_PERCENT {
                    format!("{MAX_OUTSIDE_PERCENT}% or less: met")
                } else {
                    format!("{MAX_OUTSIDE_PERCENT}% or less: over by {:.1} points", outside - MAX_OUTSIDE_PERCENT)
                };
                println!(
                    "| {variant} | {} | {:.1} | {:.1} | {outside:.1}% | {verdict} |",
                    timing.properties, timing.seconds, timing.forward_seconds
                )
            }
            Err(error) => println!("| {variant} | skipped: {error:#} | | | | |"),
        }
    }
    println!();
}

fn report_memory() {
    const MAX_IMAGES: usize = 128;
    const SWEEPS: [(usize, usize); 6] = [(8, 9), (32, 9), (64, 9), (128, 9), (8, 36), (8, 144)];
    println!("## Peak memory of the rotation sweep\n");
    println!(
        "Peak resident set size of this process during one `eval::sweep` of the plain U-Net at \
         the cpu canvas, {} images per forward pass: VmHWM of /proc/self/status, reset through \
         /proc/self/clear_refs before each sweep. The {MAX_IMAGES}-image synthetic dataset is \
         allocated, and one full-batch sweep run, before the first row. A flat peak means \
         results stream: memory does not grow with images or angles.\n",
        eqcheck::eval::SWEEP_BATCH
    );
    println!("| images | angles | peak (MiB) | change from the first row (MiB) |");
    println!("|---:|---:|---:|---:|");
    let canvas = cpu_canvas();
    let data = sweep::synthetic_dataset(MAX_IMAGES, canvas.side);
    let vars = nn::VarStore::new(Device::Cpu);
    let model = build_with(&vars.root(), Arch::Unet, Workload::cpu().base_width, Execution::default());
    sweep::time_sweep(model.as_ref(), &canvas, &data, eqcheck::eval::SWEEP_BATCH, 1);

    let mut first_peak = None;
    for (images, angles) in SWEEPS {
        let memory = sweep::sweep_memory(model.as_ref(), &canvas, &data, images, angles);
        let Some(peak) = memory.peak else {
            println!("| {images} | {angles} | unavailable: /proc/self/clear_refs rejected the reset | |");
            continue;
        };
        let first = *first_peak.get_or_insert(peak);
        println!("| {images} | {angles} | {peak:.0} | {:+.0} |", peak - first);
    }
    println!();
}
