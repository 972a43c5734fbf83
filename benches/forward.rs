//! Forward-pass and training-step throughput of both architectures, with
//! criterion. Benchmark ids encode the pass, model, canvas side, batch
//! size and execution, for example `forward/group-unet/c144/b16/default`.
//! `cargo bench --bench ceiling` prints the same workloads as a share of
//! the machine's matmul rate.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use eqcheck::models::{build_with, Arch, Execution};
use eqcheck::training::{AdamW, AdamWConfig};
use tch::nn;
use tch::{Device, Kind, Reduction, Tensor};

// The ceiling report reads the fields that these benchmarks leave unused.
#[allow(dead_code)]
#[path = "shared/workload.rs"]
mod workload;
use workload::Workload;

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
    for workload in [Workload::cpu(), Workload::paper()] {
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
    let cpu = Workload::cpu();
    group.throughput(Throughput::Elements(cpu.batch as u64));
    for arch in [Arch::Unet, Arch::GroupUnet] {
        for (name, execution) in executions() {
            let vars = nn::VarStore::new(Device::Cpu);
            let model = build_with(&vars.root(), arch, cpu.base_width, execution);
            let mut optimizer = AdamW::new(&vars, AdamWConfig::default());
            let x = Tensor::randn([cpu.batch, 3, cpu.canvas, cpu.canvas], (Kind::Float, Device::Cpu));
            let target = Tensor::rand([cpu.batch, 1, cpu.canvas, cpu.canvas], (Kind::Float, Device::Cpu)).round();
            group.bench_function(id(arch, &cpu, name), |b| {
                b.iter(|| {
                    let logits = model.forward(&x, true);
                    let loss = logits.binary_cross_entropy_with_logits::<Tensor>(&target, None, None, Reduction::Mean);
                    optimizer.backward_step(&loss, 1e-3);
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, forward, train_step);
criterion_main!(benches);
