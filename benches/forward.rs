//! Forward-pass and training-step throughput of both architectures.
//! Benchmark ids encode the model, canvas side and batch size, for
//! example `forward/group-unet/canvas96/batch16`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use eqcheck::models::{build, Arch};
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Reduction, Tensor};

/// Base width of the default `cpu` profile.
const BASE_WIDTH: i64 = 8;
const CANVAS: i64 = 96;
const BATCH: i64 = 16;

fn forward(c: &mut Criterion) {
    let mut group = c.benchmark_group("forward");
    group.sample_size(10);
    group.throughput(Throughput::Elements(BATCH as u64));
    for arch in [Arch::Unet, Arch::GroupUnet] {
        let vars = nn::VarStore::new(Device::Cpu);
        let model = build(&vars.root(), arch, BASE_WIDTH);
        let x = Tensor::randn([BATCH, 3, CANVAS, CANVAS], (Kind::Float, Device::Cpu));
        group.bench_function(format!("{arch}/canvas{CANVAS}/batch{BATCH}"), |b| {
            b.iter(|| tch::no_grad(|| model.forward(&x, false)))
        });
    }
    group.finish();
}

fn train_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("train-step");
    group.sample_size(10);
    group.throughput(Throughput::Elements(BATCH as u64));
    for arch in [Arch::Unet, Arch::GroupUnet] {
        let vars = nn::VarStore::new(Device::Cpu);
        let model = build(&vars.root(), arch, BASE_WIDTH);
        let mut optimizer = nn::AdamW::default().build(&vars, 1e-3).expect("optimizer");
        let x = Tensor::randn([BATCH, 3, CANVAS, CANVAS], (Kind::Float, Device::Cpu));
        let target = Tensor::rand([BATCH, 1, CANVAS, CANVAS], (Kind::Float, Device::Cpu)).round();
        group.bench_function(format!("{arch}/canvas{CANVAS}/batch{BATCH}"), |b| {
            b.iter(|| {
                let logits = model.forward(&x, true);
                let loss = logits.binary_cross_entropy_with_logits::<Tensor>(&target, None, None, Reduction::Mean);
                optimizer.backward_step(&loss);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, forward, train_step);
criterion_main!(benches);
