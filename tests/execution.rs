//! The speed options of `models::Execution` must not change what a model
//! computes: each is compared with a baseline model holding a copy of the
//! same weights.

use eqcheck::models::{build_with, is_channels_last, Arch, Execution, SegmentationModel};
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Reduction, Tensor};

const BASE_WIDTH: i64 = 8;
const CANVAS: i64 = 48;

/// A model with its variables.
struct Built {
    vars: nn::VarStore,
    model: Box<dyn SegmentationModel>,
}

fn build_model(arch: Arch, execution: Execution) -> Built {
    let vars = nn::VarStore::new(Device::Cpu);
    let model = build_with(&vars.root(), arch, BASE_WIDTH, execution);
    Built { vars, model }
}

/// Returns a model built with `execution` whose weights are copied from
/// `source`.
fn copy_of(source: &Built, arch: Arch, execution: Execution) -> Built {
    let mut built = build_model(arch, execution);
    built.vars.copy(&source.vars).expect("same variables");
    built
}

fn predict(model: &dyn SegmentationModel, x: &Tensor) -> Tensor {
    let _no_grad = tch::no_grad_guard();
    model.forward(x, false)
}

fn max_abs_difference(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

fn input(batch: i64) -> Tensor {
    Tensor::randn([batch, 3, CANVAS, CANVAS], (Kind::Float, Device::Cpu))
}

#[test]
fn cached_banks_give_identical_logits() {
    tch::manual_seed(11);
    let baseline = build_model(Arch::GroupUnet, Execution::BASELINE);
    let cached = copy_of(&baseline, Arch::GroupUnet, Execution::CACHE_ONLY);
    let x = input(2);
    let expected = predict(baseline.model.as_ref(), &x);

    let first = predict(cached.model.as_ref(), &x);
    let second = predict(cached.model.as_ref(), &x);
    assert!(first.equal(&expected), "first pass differs by {}", max_abs_difference(&first, &expected));
    assert!(second.equal(&expected), "cached pass differs by {}", max_abs_difference(&second, &expected));
}

#[test]
fn cached_banks_follow_optimizer_step() {
    tch::manual_seed(12);
    let trained = build_model(Arch::GroupUnet, Execution::CACHE_ONLY);
    let x = input(2);
    let before = predict(trained.model.as_ref(), &x);

    let mut optimizer = nn::AdamW::default().build(&trained.vars, 1e-2).unwrap();
    let target = Tensor::ones([2, 1, CANVAS, CANVAS], (Kind::Float, Device::Cpu));
    let logits = trained.model.forward(&x, true);
    let loss = logits.binary_cross_entropy_with_logits::<Tensor>(&target, None, None, Reduction::Mean);
    optimizer.backward_step(&loss);

    let after = predict(trained.model.as_ref(), &x);
    let reference = copy_of(&trained, Arch::GroupUnet, Execution::BASELINE);
    let expected = predict(reference.model.as_ref(), &x);
    assert!(!after.equal(&before), "the step changed no logit, so the check could not fail");
    assert!(after.equal(&expected), "stale bank: differs by {}", max_abs_difference(&after, &expected));
}

#[test]
fn cached_banks_follow_weight_copy() {
    tch::manual_seed(13);
    let mut cached = build_model(Arch::GroupUnet, Execution::CACHE_ONLY);
    let x = input(1);
    let before = predict(cached.model.as_ref(), &x);

    let other = build_model(Arch::GroupUnet, Execution::BASELINE);
    cached.vars.copy(&other.vars).unwrap();
    let expected = predict(other.model.as_ref(), &x);
    let after = predict(cached.model.as_ref(), &x);
    assert!(!after.equal(&before), "the copy changed no logit, so the check could not fail");
    assert!(after.equal(&expected), "stale bank: differs by {}", max_abs_difference(&after, &expected));
}

#[test]
fn gradients_reach_weights_with_cache_enabled() {
    for train in [true, false] {
        tch::manual_seed(14);
        let built = build_model(Arch::GroupUnet, Execution::default());
        let x = input(1);
        let _ = predict(built.model.as_ref(), &x);

        let loss = built.model.forward(&x, train).square().mean(Kind::Float);
        loss.backward();
        let variables = built.vars.variables();
        let weight = &variables["encoders.0.conv1.weight"];
        let gradient_norm = weight.grad().norm().double_value(&[]);
        assert!(gradient_norm > 0.0, "train = {train}: no gradient reached the group convolution weight");
    }
}

#[test]
fn channels_last_logits_match_baseline() {
    for arch in [Arch::Unet, Arch::GroupUnet] {
        tch::manual_seed(15);
        let baseline = build_model(arch, Execution::BASELINE);
        let channels_last = copy_of(&baseline, arch, Execution::CHANNELS_LAST_ONLY);
        let x = input(2);
        let expected = predict(baseline.model.as_ref(), &x);
        let actual = predict(channels_last.model.as_ref(), &x);
        let scale = expected.abs().max().double_value(&[]);
        let difference = max_abs_difference(&actual, &expected);
        assert!(difference <= 1e-4 * scale, "{arch}: logits differ by {difference:.2e} at scale {scale:.2e}");
    }
}

#[test]
fn channels_last_input_runs_in_that_layout() {
    let x = input(1);
    let converted = Execution::CHANNELS_LAST_ONLY.prepare_input(&x);
    assert!(is_channels_last(&converted));
    assert!(converted.equal(&x));
    let unchanged = Execution::BASELINE.prepare_input(&x);
    assert!(!is_channels_last(&unchanged));
}

#[test]
fn default_execution_matches_baseline_in_training() {
    for arch in [Arch::Unet, Arch::GroupUnet] {
        tch::manual_seed(16);
        let baseline = build_model(arch, Execution::BASELINE);
        let fast = copy_of(&baseline, arch, Execution::default());
        let x = input(2);
        let expected = baseline.model.forward(&x, true);
        let actual = fast.model.forward(&x, true);
        let scale = expected.abs().max().double_value(&[]);
        let difference = max_abs_difference(&actual, &expected);
        assert!(difference <= 1e-4 * scale, "{arch}: logits differ by {difference:.2e} at scale {scale:.2e}");
    }
}
