//! Benchmark report: how close the two U-Nets come to this machine's own
//! float32 matrix-multiply rate, measured in one run. Run it with
//! `cargo bench --bench ceiling`; it prints Markdown and takes a few
//! minutes on 2 cores. The default-check section needs the dataset in
//! EQCHECK_DATA and the committed models in reports/cpu, and is skipped
//! with a note when either is missing.

mod machine;
mod memory;
mod sweep;
mod throughput;
mod timing;

#[path = "../shared/check_timing.rs"]
mod check_timing;

use std::path::{Path, PathBuf};

use eqcheck::data::Canvas;
use eqcheck::models::{build_with, forward_cost, Arch, Execution};
use tch::{nn, Device};

use machine::{load_average, Machine};
use throughput::{time_forward, time_matmul, time_train_step, Workload};
use timing::Timing;

const COMMAND: &str = "cargo bench --bench ceiling";

/// Sizes of the `cpu` training profile (S = 64, P = 96, width 8) with its
/// batch of 16.
const CPU: Workload = Workload {
    profile: "cpu",
    canvas: 96,
    base_width: 8,
    batch: 16,
};

/// Sizes of the `paper` profile (S = 256, P = 384, width 32) with one
/// image, so that its training steps fit in the report's few minutes.
const PAPER: Workload = Workload {
    profile: "paper",
    canvas: 384,
    base_width: 32,
    batch: 1,
};

const ARCHS: [Arch; 2] = [Arch::Unet, Arch::GroupUnet];

fn main() {
    let machine = Machine::current();
    println!("# Throughput against the matrix-multiply ceiling\n");
    println!("- command: `{COMMAND}`");
    println!("- CPU: {}, {} logical CPUs", machine.cpu_model, machine.logical_cpus);
    println!(
        "- libtorch {}, {} intra-op threads (`at::get_num_threads`)",
        machine.libtorch_version, machine.torch_threads
    );
    println!("- load average (1, 5, 15 min) at start: {}", load_average());
    println!("- each time is the median of the stated runs, after one warm-up run\n");

    let ceiling = report_ceiling();
    report_models(ceiling);
    report_levers(ceiling);
    report_sweep();
    report_check();
    report_memory();
    println!("Load average at the end: {}", load_average());
}

/// Returns GFLOP/s of a workload of `flops` that took `seconds`.
fn gflops_per_second(flops: f64, seconds: f64) -> f64 {
    flops / seconds / 1e9
}

/// Prints the matrix-multiply section and returns the best rate, GFLOP/s.
fn report_ceiling() -> f64 {
    println!("## Ceiling: float32 matrix multiply through libtorch\n");
    println!("| product | runs | median (ms) | GFLOP/s |");
    println!("|---|---:|---:|---:|");
    let mut best = 0.0f64;
    for (side, runs) in [(2048i64, 20), (4096, 4)] {
        let timing = time_matmul(side, runs);
        let rate = gflops_per_second(2.0 * (side * side * side) as f64, timing.median);
        best = best.max(rate);
        println!("| {side} x {side} | {} | {:.1} | {rate:.1} |", timing.runs, 1e3 * timing.median);
    }
    println!("\nCeiling: {best:.1} GFLOP/s, the faster of the two.\n");
    best
}

/// Returns forward FLOPs per image of a workload.
fn forward_flops(arch: Arch, workload: Workload) -> f64 {
    match forward_cost(arch, workload.base_width, workload.canvas) {
        Ok(cost) => cost.flops() as f64,
        Err(error) => panic!("invalid workload: {error}"),
    }
}

/// The two passes of a model row.
#[derive(Clone, Copy, PartialEq)]
enum Pass {
    /// Gradients off, `train` false.
    Inference,
    /// Forward, backward and AdamW step.
    TrainStep,
}

impl Pass {
    fn label(self) -> &'static str {
        match self {
            Pass::Inference => "inference",
            Pass::TrainStep => "training step",
        }
    }

    /// FLOPs counted per image: a training step as three forward passes.
    fn flops(self, forward: f64) -> f64 {
        match self {
            Pass::Inference => forward,
            Pass::TrainStep => 3.0 * forward,
        }
    }

    fn time(self, arch: Arch, workload: Workload, execution: Execution, runs: usize) -> Timing {
        match self {
            Pass::Inference => time_forward(arch, workload, execution, runs),
            Pass::TrainStep => time_train_step(arch, workload, execution, runs),
        }
    }
}

fn report_models(ceiling: f64) {
    println!("## Models\n");
    println!(
        "FLOPs count convolutions only, 2·Cin·Cout·k²·H·W each (`models::forward_cost`). A \
         group convolution counts as libtorch executes it, with the expanded filter bank of \
         four rotated copies. A training step (forward, backward, AdamW step) counts as 3x the \
         forward FLOPs. Default `Execution` (channels-last, cached filter banks).\n"
    );
    println!(
        "| model | profile | canvas | width | batch | pass | forward GFLOP/image | runs | median (ms) \
         | min (ms) | images/s | GFLOP/s | share of matmul |"
    );
    println!("|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    for workload in [CPU, PAPER] {
        for arch in ARCHS {
            let forward = forward_flops(arch, workload);
            for pass in [Pass::Inference, Pass::TrainStep] {
                let runs = match (workload.profile, pass) {
                    ("cpu", Pass::Inference) => 10,
                    ("cpu", Pass::TrainStep) => 5,
                    (_, Pass::Inference) => 3,
                    (_, Pass::TrainStep) => 2,
                };
                let timing = pass.time(arch, workload, Execution::default(), runs);
                let batch = workload.batch as f64;
                let rate = gflops_per_second(pass.flops(forward) * batch, timing.median);
                println!(
                    "| {arch} | {} | {} | {} | {} | {} | {:.2} | {} | {:.1} | {:.1} | {:.1} | {rate:.1} | {:.0}% |",
                    workload.profile,
                    workload.canvas,
                    workload.base_width,
                    workload.batch,
                    pass.label(),
                    forward / 1e9,
                    timing.runs,
                    1e3 * timing.median,
                    1e3 * timing.min,
                    batch / timing.median,
                    100.0 * rate / ceiling
                );
            }
        }
    }
    println!();
}

/// Labelled execution settings compared in the levers section.
const LEVERS: [(&str, Execution, i32); 5] = [
    ("baseline: NCHW, bank rebuilt", Execution::BASELINE, 0),
    (
        "cached filter banks",
        Execution {
            channels_last: false,
            cache_filter_banks: true,
        },
        0,
    ),
    (
        "channels-last",
        Execution {
            channels_last: true,
            cache_filter_banks: false,
        },
        0,
    ),
    (
        "default: both",
        Execution {
            channels_last: true,
            cache_filter_banks: true,
        },
        0,
    ),
    (
        "default, 1 thread",
        Execution {
            channels_last: true,
            cache_filter_banks: true,
        },
        1,
    ),
];

fn report_levers(ceiling: f64) {
    println!("## Levers at the cpu canvas (P = 96, width 8, batch 16)\n");
    println!("Thread count 0 means libtorch's default. Bank caching applies to inference of the group U-Net only.\n");
    println!("| model | pass | execution | threads | median (ms) | GFLOP/s | share of matmul | speed-up |");
    println!("|---|---|---|---:|---:|---:|---:|---:|");
    let default_threads = tch::get_num_threads();
    for arch in ARCHS {
        let forward = forward_flops(arch, CPU);
        for pass in [Pass::Inference, Pass::TrainStep] {
            let mut baseline = None;
            for (label, execution, threads) in LEVERS {
                let skip = match pass {
                    Pass::Inference => arch == Arch::Unet && execution.cache_filter_banks && !execution.channels_last,
                    Pass::TrainStep => execution.cache_filter_banks != execution.channels_last,
                };
                if skip {
                    continue;
                }
                let runs = if pass == Pass::Inference { 10 } else { 5 };
                tch::set_num_threads(if threads > 0 { threads } else { default_threads });
                let timing = pass.time(arch, CPU, execution, runs);
                tch::set_num_threads(default_threads);
                let base = *baseline.get_or_insert(timing.median);
                let rate = gflops_per_second(pass.flops(forward) * CPU.batch as f64, timing.median);
                println!(
                    "| {arch} | {} | {label} | {} | {:.1} | {rate:.1} | {:.0}% | {:.2}x |",
                    pass.label(),
                    if threads > 0 { threads } else { default_threads },
                    1e3 * timing.median,
                    100.0 * rate / ceiling,
                    base / timing.median
                );
            }
        }
    }
    println!();
}

fn report_sweep() {
    const IMAGES: usize = 32;
    const ANGLES: usize = 12;
    println!("## Rotation sweep at the cpu canvas\n");
    println!(
        "`eval::sweep` over {IMAGES} synthetic images at {ANGLES} angles, {} images per batch as in \
         `eqcheck reproduce`, random weights. Throughput counts image-angle pairs: angles per \
         second for one image.\n",
        eqcheck::eval::SWEEP_BATCH
    );
    println!("| model | images | angles | seconds | angles per second per image |");
    println!("|---|---:|---:|---:|---:|");
    let canvas = cpu_canvas();
    let data = sweep::synthetic_dataset(IMAGES, canvas.side);
    for arch in ARCHS {
        let vars = nn::VarStore::new(Device::Cpu);
        let model = build_with(&vars.root(), arch, CPU.base_width, Execution::default());
        sweep::time_sweep(model.as_ref(), &canvas, &data, 4, 1);
        let seconds = sweep::time_sweep(model.as_ref(), &canvas, &data, IMAGES, ANGLES);
        let pairs = (IMAGES * ANGLES) as f64;
        println!("| {arch} | {IMAGES} | {ANGLES} | {seconds:.2} | {:.1} |", pairs / seconds);
    }
    println!();
}

fn cpu_canvas() -> Canvas {
    match Canvas::new(64, CPU.canvas) {
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
    println!("| model | properties | check time (s) | forward passes (s) | outside forward passes |");
    println!("|---|---:|---:|---:|---:|");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for variant in check_timing::VARIANTS.iter().filter(|v| v.ends_with("-minimal")) {
        match check_timing::time_default_check(root, &data, variant) {
            Ok(timing) => println!(
                "| {variant} | {} | {:.1} | {:.1} | {:.1}% |",
                timing.properties,
                timing.seconds,
                timing.forward_seconds,
                100.0 * timing.outside_share()
            ),
            Err(error) => println!("| {variant} | skipped: {error:#} | | | |"),
        }
    }
    println!();
}

fn report_memory() {
    const MAX_IMAGES: usize = 128;
    println!("## Peak memory of the rotation sweep\n");
    println!(
        "Resident set size of this process around one `eval::sweep` of the plain U-Net at the \
         cpu canvas; the peak is VmHWM of /proc/self/status after resetting it through \
         /proc/self/clear_refs. The {MAX_IMAGES}-image synthetic dataset is allocated before the \
         first row.\n"
    );
    println!("| images | angles | before (MiB) | peak (MiB) | peak - before (MiB) |");
    println!("|---:|---:|---:|---:|---:|");
    let canvas = cpu_canvas();
    let data = sweep::synthetic_dataset(MAX_IMAGES, canvas.side);
    let vars = nn::VarStore::new(Device::Cpu);
    let model = build_with(&vars.root(), Arch::Unet, CPU.base_width, Execution::default());
    sweep::time_sweep(model.as_ref(), &canvas, &data, 4, 1);
    for (images, angles) in [(8, 9), (32, 9), (128, 9), (8, 36), (8, 144)] {
        let memory = sweep::sweep_memory(model.as_ref(), &canvas, &data, images, angles);
        match memory.peak {
            Some(peak) => println!(
                "| {} | {} | {:.0} | {peak:.0} | {:.0} |",
                memory.images,
                memory.angles,
                memory.before,
                peak - memory.before
            ),
            None => println!(
                "| {} | {} | {:.0} | unavailable: /proc/self/clear_refs rejected the reset | |",
                memory.images, memory.angles, memory.before
            ),
        }
    }
    println!();
}
