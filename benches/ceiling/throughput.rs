//! Timed workloads: the float32 matrix multiply that sets the ceiling, and
//! forward passes and training steps of the two U-Nets.

use std::sync::mpsc;

use eqcheck::models::{build_with, forward_cost, to_channels_last, Arch, Execution};
use eqcheck::training::{AdamW, AdamWConfig};
use tch::nn;
use tch::{Device, Kind, Reduction, Tensor};

use super::timing::{measure, Timing};
use super::workload::Workload;

/// The two routes by which libtorch multiplies float32 matrices on a CPU.
#[derive(Clone, Copy, PartialEq)]
pub enum Product {
    /// `Tensor::matmul`, which libtorch hands to its BLAS (MKL in the
    /// PyPI wheel).
    Matmul,
    /// The same product as a 1x1 convolution over `side` channels and
    /// `side` pixels, which libtorch hands to oneDNN, the library that also
    /// runs the models' convolutions.
    Convolution,
}

impl Product {
    /// Returns the name the report prints.
    pub fn label(self) -> &'static str {
        match self {
            Product::Matmul => "`matmul` (BLAS)",
            Product::Convolution => "1x1 convolution (oneDNN)",
        }
    }

    /// Times `runs` products of two random `side` x `side` float32
    /// matrices. One product costs 2·side³ FLOPs either way.
    pub fn time(self, side: i64, runs: usize) -> Timing {
        let options = (Kind::Float, Device::Cpu);
        match self {
            Product::Matmul => {
                let a = Tensor::randn([side, side], options);
                let b = Tensor::randn([side, side], options);
                measure(runs, || {
                    let _ = a.matmul(&b);
                })
            }
            Product::Convolution => {
                // `side` pixels laid out as a 64-wide image, in the
                // channels-last layout the models run in.
                let pixels = to_channels_last(&Tensor::randn([1, side, side / 64, 64], options));
                let weights = Tensor::randn([side, side, 1, 1], options);
                let _no_grad = tch::no_grad_guard();
                measure(runs, || {
                    let _ = pixels.conv2d::<Tensor>(&weights, None, [1, 1], [0, 0], [1, 1], 1);
                })
            }
        }
    }
}

/// Inputs and targets of a workload, random but fixed across runs.
fn random_batch(workload: Workload) -> (Tensor, Tensor) {
    let Workload { canvas, batch, .. } = workload;
    let options = (Kind::Float, Device::Cpu);
    let images = Tensor::randn([batch, 3, canvas, canvas], options);
    let masks = Tensor::rand([batch, 1, canvas, canvas], options).round();
    (images, masks)
}

/// Times `runs` inference passes: gradients off and `train` false, as the
/// rotation sweep and the property checks call the model.
pub fn time_forward(arch: Arch, workload: Workload, execution: Execution, runs: usize) -> Timing {
    let vars = nn::VarStore::new(Device::Cpu);
    let model = build_with(&vars.root(), arch, workload.base_width, execution);
    let (images, _) = random_batch(workload);
    let _no_grad = tch::no_grad_guard();
    measure(runs, || {
        let _ = model.forward(&images, false);
    })
}

/// Times `runs` training steps as the trainer runs them: forward pass,
/// binary cross-entropy, backward pass and a step of the trainer's own
/// AdamW.
pub fn time_train_step(arch: Arch, workload: Workload, execution: Execution, runs: usize) -> Timing {
    let vars = nn::VarStore::new(Device::Cpu);
    let model = build_with(&vars.root(), arch, workload.base_width, execution);
    let (images, masks) = random_batch(workload);
    let mut optimizer = AdamW::new(&vars, AdamWConfig::default());
    measure(runs, || {
        let logits = model.forward(&images, true);
        let loss = logits.binary_cross_entropy_with_logits::<Tensor>(&masks, None, None, Reduction::Mean);
        optimizer.backward_step(&loss, 1e-3);
    })
}

/// Returns forward FLOPs per image of a workload.
pub fn forward_flops(arch: Arch, workload: Workload) -> f64 {
    match forward_cost(arch, workload.base_width, workload.canvas) {
        Ok(cost) => cost.flops() as f64,
        Err(error) => panic!("invalid workload: {error}"),
    }
}

/// The two passes of a model row.
#[derive(Clone, Copy, PartialEq)]
pub enum Pass {
    /// Gradients off, `train` false.
    Inference,
    /// Forward, backward and AdamW step.
    TrainStep,
}

impl Pass {
    /// Returns the name the report prints.
    pub fn label(self) -> &'static str {
        match self {
            Pass::Inference => "inference",
            Pass::TrainStep => "training step",
        }
    }

    /// Smallest share of the ceiling this pass should reach.
    pub fn target(self) -> f64 {
        match self {
            Pass::Inference => 0.80,
            Pass::TrainStep => 0.70,
        }
    }

    /// Says whether `share` of the ceiling meets the target, or by how
    /// many percentage points it falls short.
    pub fn verdict(self, share: f64) -> String {
        let target = self.target();
        if share >= target {
            format!("{:.0}%: met", 100.0 * target)
        } else {
            format!("{:.0}%: missed by {:.0} points", 100.0 * target, 100.0 * (target - share))
        }
    }

    /// FLOPs counted per image: a training step as three forward passes.
    pub fn flops(self, forward: f64) -> f64 {
        match self {
            Pass::Inference => forward,
            Pass::TrainStep => 3.0 * forward,
        }
    }

    /// Times `runs` passes of the model `arch` builds with `execution`.
    pub fn time(self, arch: Arch, workload: Workload, execution: Execution, runs: usize) -> Timing {
        match self {
            Pass::Inference => time_forward(arch, workload, execution, runs),
            Pass::TrainStep => time_train_step(arch, workload, execution, runs),
        }
    }
}


/// Times `runs` inference passes of one batch split across `replicas`
/// worker threads, each with its own copy of the model and one libtorch
/// thread: data parallelism in place of libtorch's intra-op threads. The
/// copies have their own random weights, which changes no FLOP count.
pub fn time_forward_replicas(arch: Arch, workload: Workload, execution: Execution, replicas: usize, runs: usize) -> Timing {
    let replicas = replicas.max(1);
    let share = (workload.batch as usize).div_ceil(replicas) as i64;
    let (images, _) = random_batch(workload);
    let (done_sender, done_receiver) = mpsc::channel::<()>();
    let mut workers = Vec::with_capacity(replicas);
    for _ in 0..replicas {
        let (sender, receiver) = mpsc::channel::<Tensor>();
        let done = done_sender.clone();
        let handle = std::thread::spawn(move || {
            // libtorch's thread count is per calling thread under OpenMP.
            tch::set_num_threads(1);
            let vars = nn::VarStore::new(Device::Cpu);
            let model = build_with(&vars.root(), arch, workload.base_width, execution);
            let _no_grad = tch::no_grad_guard();
            for part in receiver {
                let _ = model.forward(&part, false);
                if done.send(()).is_err() {
                    break;
                }
            }
        });
        workers.push((sender, handle));
    }
    let timing = measure(runs, || {
        let mut sent = 0;
        for (index, (sender, _)) in workers.iter().enumerate() {
            let start = index as i64 * share;
            let length = share.min(workload.batch - start);
            if length > 0 && sender.send(images.narrow(0, start, length).copy()).is_ok() {
                sent += 1;
            }
        }
        for _ in 0..sent {
            let _ = done_receiver.recv();
        }
    });
    for (sender, handle) in workers {
        drop(sender);
        let _ = handle.join();
    }
    timing
}
