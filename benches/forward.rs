//! Forward-pass and training-step throughput of both architectures, with
//! criterion. Benchmark ids encode the pass, model, canvas side, batch
//! size and execution, for example `forward/group-unet/c96/b16/default`.
//! `cargo bench --bench ceiling` prints the same workloads as a share of
//! the machine's matmul rate.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use eqcheck::models::{build_with, Arch, Execution};
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Reduction, Tensor};

/// Canvas side, base width and batch of a timed pass.
struct Workload {
    canvas: i64,
    base_width: i64,
    batch: i64,
}

/// The `cpu` profile (P = 96, width 8) with its training batch.
const CPU: Workload = Workload {
    canvas: 96,
    base_width: 8,
    batch: 16,
};

/// The `paper` profile (P = 384, width 32) with one image, so that ten
/// samples fit in a few minutes.
const PAPER: Workload = Workload {
    canvas: 384,
    base_width: 32,
    batch: 1,
};

fn executions() -> [(&'static str, Execution); 2] {
    [("baseline", Execution::BASELINE), ("default", Execution::default())]
}

fn id(arch: Arch, workload: &Workload, execution: &str) -> String {
    format!("{arch}/c{}/b{}/{execution}", workload.canvas, workload.batch)
}

fn forward(c: &mut Criterion) {
    // As the CLI runs; criterion calls this group first.
    eqcheck::allocator::keep_freed_tensor_memory();
    let mut group = c.benchmark_group("forward");
    group.sample_size(10);
    for workload in [CPU, PAPER] {
        group.throughput(Throughput::Elements(workload.batch as u64));
        for arch in [Arch::Unet, Arch::GroupUnet] {
            for (name, execution) in executions() {
                let vars = nn::VarStore::new(Device::Cpu);
                let model = build_with(&vars.root(), arch, workload.base_width, execution);
                let x = Tensor::randn([workload.batch, 3, workload.canvas, workload.canvas], (Kind::Float, Device::Cpu));
                group.bench_function(id(arch, &workload, name), |b| {
                    b.iter(|| tch::no_grad(|| model.forward(&x, false)))
                });
            }
        }
    }
    group.finish();
}

fn train_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("train-step");
    group.sample_size(10);
    group.throughput(Throughput::Elements(CPU.batch as u64));
    for arch in [Arch::Unet, Arch::GroupUnet] {
        for (name, execution) in executions() {
            let vars = nn::VarStore::new(Device::Cpu);
            let model = build_with(&vars.root(), arch, CPU.base_width, execution);
            let mut optimizer = nn::AdamW::default().build(&vars, 1e-3).expect("optimizer");
            let x = Tensor::randn([CPU.batch, 3, CPU.canvas, CPU.canvas], (Kind::Float, Device::Cpu));
            let target = Tensor::rand([CPU.batch, 1, CPU.canvas, CPU.canvas], (Kind::Float, Device::Cpu)).round();
            group.bench_function(id(arch, &CPU, name), |b| {
                b.iter(|| {
                    let logits = model.forward(&x, true);
                    let loss = logits.binary_cross_entropy_with_logits::<Tensor>(&target, None, None, Reduction::Mean);
                    optimizer.backward_step(&loss);
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, forward, train_step);
criterion_main!(benches);
