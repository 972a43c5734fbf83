//! Claims about the two architectures on random weights and inputs.

use eqcheck::models::{build, Arch};
use tch::{nn, Device, Kind, Tensor};

const BASE_WIDTH: i64 = 8;
const CANVAS: i64 = 48;

/// Returns ||a - b|| / ||b||.
fn relative_error(a: &Tensor, b: &Tensor) -> f64 {
    let difference = (a - b).norm().double_value(&[]);
    difference / b.norm().double_value(&[]).max(1e-12)
}

/// Returns the largest relative error between the logits of a rotated
/// input and the rotated logits of the input, over k = 1, 2, 3 quarter
/// turns.
fn quarter_turn_errors(arch: Arch) -> Vec<f64> {
    tch::manual_seed(5);
    let vars = nn::VarStore::new(Device::Cpu);
    let model = build(&vars.root(), arch, BASE_WIDTH);
    let x = Tensor::randn([2, 3, CANVAS, CANVAS], (Kind::Float, Device::Cpu));
    let _no_grad = tch::no_grad_guard();
    let logits = model.forward(&x, false);
    (1..4)
        .map(|k| {
            let of_rotated = model.forward(&x.rot90(k, [2, 3]), false);
            relative_error(&of_rotated, &logits.rot90(k, [2, 3]))
        })
        .collect()
}

#[test]
fn group_unet_is_exact_under_quarter_turns() {
    for (k, error) in quarter_turn_errors(Arch::GroupUnet).into_iter().enumerate() {
        assert!(error < 1e-4, "rotation by {} degrees: relative error {error:.2e}", 90 * (k + 1));
    }
}

#[test]
fn plain_unet_fails_the_quarter_turn_check() {
    for (k, error) in quarter_turn_errors(Arch::Unet).into_iter().enumerate() {
        assert!(
            error > 1e-2,
            "rotation by {} degrees: relative error {error:.2e}, the check could not fail",
            90 * (k + 1)
        );
    }
}

fn parameter_count(arch: Arch, base_width: i64) -> i64 {
    let vars = nn::VarStore::new(Device::Cpu);
    let _model = build(&vars.root(), arch, base_width);
    vars.trainable_variables().iter().map(|t| t.numel() as i64).sum()
}

#[test]
fn group_unet_parameters_within_ten_percent() {
    for base_width in [8, 16, 32] {
        let plain = parameter_count(Arch::Unet, base_width) as f64;
        let group = parameter_count(Arch::GroupUnet, base_width) as f64;
        let ratio = group / plain;
        assert!(
            (0.9..=1.1).contains(&ratio),
            "base width {base_width}: {group} group against {plain} plain parameters (ratio {ratio:.3})"
        );
    }
}

#[test]
fn both_models_keep_the_canvas_size() {
    for arch in [Arch::Unet, Arch::GroupUnet] {
        let vars = nn::VarStore::new(Device::Cpu);
        let model = build(&vars.root(), arch, BASE_WIDTH);
        let x = Tensor::zeros([1, 3, CANVAS, CANVAS], (Kind::Float, Device::Cpu));
        assert_eq!(model.forward(&x, false).size(), vec![1, 1, CANVAS, CANVAS], "{arch}");
    }
}
