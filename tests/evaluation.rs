//! Each step of the rotation evaluation, and the augmentations, on real
//! images and masks.

mod common;

use common::dataset_dir;
use eqcheck::data::{stratified_split, ButterflyFolder, Canvas, Dataset};
use eqcheck::eval::{predict_probabilities, rotate_back_and_binarize, rotate_input, sweep, sweep_angles};
use eqcheck::models::SegmentationModel;
use eqcheck::training::iou_per_image;
use eqcheck::transforms::Augmenter;
use eqcheck::Error;
use tch::{Kind, Tensor};

const SIDE: i64 = 32;
const CANVAS: i64 = 48;

/// Loads the first `count` validation samples of the real dataset.
fn validation_samples(count: usize) -> (Dataset, Vec<usize>) {
    let (folder, _) = ButterflyFolder::open(&dataset_dir(), false).unwrap();
    let mut folder = folder;
    // Every 40th sample keeps the load fast while covering all species.
    folder.samples = folder.samples.into_iter().step_by(40).collect();
    let (data, _) = Dataset::load(&folder, SIDE, false).unwrap();
    let split = stratified_split(&data.species, 0.2, 42);
    let indices = split.validation.into_iter().take(count).collect();
    (data, indices)
}

/// A per-pixel model: its logit is a fixed function of each pixel's colour,
/// so it commutes with any rotation up to interpolation.
struct PixelModel;

impl SegmentationModel for PixelModel {
    fn forward(&self, x: &Tensor, _train: bool) -> Tensor {
        (x.narrow(1, 1, 1) - x.narrow(1, 2, 1)) * 4.0
    }
}

/// A model whose output is NaN.
struct BrokenModel;

impl SegmentationModel for BrokenModel {
    fn forward(&self, x: &Tensor, _train: bool) -> Tensor {
        x.narrow(1, 0, 1) * f64::NAN
    }
}

#[test]
fn rotated_input_keeps_all_content_on_the_canvas() {
    let (data, indices) = validation_samples(4);
    let canvas = Canvas::new(SIDE, CANVAS).unwrap();
    let (images, _) = data.batch(&indices);
    let padded = canvas.pad(&images);
    let before = padded.sum(Kind::Float).double_value(&[]);
    for angle in [37.0, 45.0, 133.0] {
        let after = rotate_input(&padded, angle).sum(Kind::Float).double_value(&[]);
        let change = (after - before).abs() / before;
        assert!(change < 0.02, "{angle} degrees changed total intensity by {change:.4}");
    }
    let quarter = rotate_input(&padded, 90.0);
    let error = (quarter - padded.rot90(1, [2, 3])).abs().max().double_value(&[]);
    assert!(error < 1e-5, "a quarter turn differs from rot90 by {error}");
}

#[test]
fn predicted_probabilities_lie_in_unit_interval() {
    let (data, indices) = validation_samples(2);
    let canvas = Canvas::new(SIDE, CANVAS).unwrap();
    let (images, _) = data.batch(&indices);
    let probabilities = predict_probabilities(&PixelModel, &canvas.pad(&images)).unwrap();
    assert_eq!(probabilities.size(), vec![2, 1, CANVAS, CANVAS]);
    assert!(probabilities.min().double_value(&[]) >= 0.0);
    assert!(probabilities.max().double_value(&[]) <= 1.0);
}

#[test]
fn non_finite_model_output_is_an_error() {
    let (data, indices) = validation_samples(1);
    let canvas = Canvas::new(SIDE, CANVAS).unwrap();
    let (images, _) = data.batch(&indices);
    let error = predict_probabilities(&BrokenModel, &canvas.pad(&images)).unwrap_err();
    assert!(matches!(error, Error::NonFinite { .. }), "{error}");
}

#[test]
fn rotating_a_mask_there_and_back_keeps_it() {
    let (data, indices) = validation_samples(4);
    let canvas = Canvas::new(SIDE, CANVAS).unwrap();
    let (_, masks) = data.batch(&indices);
    let padded = canvas.pad(&masks);
    for angle in [90.0, 180.0, 270.0] {
        let back = canvas.crop(&rotate_back_and_binarize(&rotate_input(&padded, angle), angle));
        let iou = iou_per_image(&back, &masks).min().double_value(&[]);
        assert_eq!(iou, 1.0, "{angle} degrees");
    }
    for angle in [10.0, 45.0, 200.0] {
        let back = canvas.crop(&rotate_back_and_binarize(&rotate_input(&padded, angle), angle));
        let iou = iou_per_image(&back, &masks).min().double_value(&[]);
        assert!(iou > 0.85, "{angle} degrees: round-trip IoU {iou:.4}");
    }
}

#[test]
fn sweep_of_a_pixel_model_is_exact_at_quarter_turns() {
    let (data, indices) = validation_samples(6);
    let canvas = Canvas::new(SIDE, CANVAS).unwrap();
    let angles = sweep_angles(45.0).unwrap();
    let mut angles_done = 0;
    let result = sweep(&PixelModel, &canvas, &data, &indices, &angles, 4, &mut |n| angles_done = n).unwrap();
    assert_eq!(angles_done, angles.len());
    assert_eq!(result.image_ids.len(), indices.len());
    let consistency = result.mean_consistency_by_angle();
    let truth = result.mean_truth_by_angle();
    for (a, angle) in angles.iter().enumerate() {
        if angle % 90.0 == 0.0 {
            assert_eq!(consistency[a], 1.0, "{angle} degrees");
            assert!((truth[a] - truth[0]).abs() < 1e-12, "{angle} degrees");
        } else {
            assert!(consistency[a] > 0.7, "{angle} degrees: consistency {}", consistency[a]);
            assert!(consistency[a] < 1.0, "{angle} degrees interpolates, so it cannot be exact");
        }
    }
}

#[test]
fn sweep_batching_angles_keeps_results() {
    let (data, indices) = validation_samples(3);
    let canvas = Canvas::new(SIDE, CANVAS).unwrap();
    let angles = sweep_angles(45.0).unwrap();
    let one_by_one = sweep(&PixelModel, &canvas, &data, &indices, &angles, 1, &mut |_| {}).unwrap();

    // 9 slots for 3 images: 3 angles per pass, so the 8 angles take passes
    // of 3, 3 and 2.
    let mut progress = Vec::new();
    let batched = sweep(&PixelModel, &canvas, &data, &indices, &angles, 9, &mut |n| progress.push(n)).unwrap();
    assert_eq!(progress, vec![3, 6, 8]);
    assert_eq!(batched, one_by_one);
}

#[test]
fn augmented_masks_stay_aligned_with_images() {
    let (data, indices) = validation_samples(8);
    let (_, masks) = data.batch(&indices);
    // With the mask itself as the image and colour changes off, the
    // rotated image thresholded at 0.5 must match the rotated mask.
    let images = masks.repeat([1, 3, 1, 1]);
    let rotation_only = Augmenter {
        probability: 1.0,
        jitter: 0.0,
        hue: 0.0,
        brightness_contrast: 0.0,
        max_angle_deg: 90.0,
    };
    tch::manual_seed(9);
    let (images, rotated_masks) = rotation_only.apply(&images, &masks);
    let from_image = images.narrow(1, 0, 1).gt(0.5).to_kind(Kind::Float);
    let iou = iou_per_image(&from_image, &rotated_masks);
    assert!(iou.min().double_value(&[]) > 0.9, "alignment IoU {iou:?}");
    let moved = (&rotated_masks - &masks).abs().sum(Kind::Float).double_value(&[]);
    assert!(moved > 0.0, "the rotation left every mask in place");
}

#[test]
fn colour_augmentation_leaves_masks_untouched() {
    let (data, indices) = validation_samples(8);
    let (images, masks) = data.batch(&indices);
    let colour_only = Augmenter {
        max_angle_deg: 0.0,
        probability: 1.0,
        ..Augmenter::default()
    };
    tch::manual_seed(10);
    let (augmented, same_masks) = colour_only.apply(&images, &masks);
    assert_eq!((same_masks - &masks).abs().sum(Kind::Float).double_value(&[]), 0.0);
    assert!((augmented - images).abs().max().double_value(&[]) > 0.01);
}
