//! The four steps of the rotation evaluation, each its own function:
//! 1. rotate the padded input (`rotate_input`), in [0, 1] before
//!    normalisation so the uncovered border is black like the padding;
//! 2. predict mask probabilities (`predict_probabilities`);
//! 3. rotate the probabilities back by the opposite angle and threshold at
//!    0.5 (`rotate_back_and_binarize`); turning probabilities rather than a
//!    binary mask avoids a second nearest-neighbour rounding;
//! 4. crop the image area and compute IoU against the ground truth and
//!    against the prediction on the unrotated input, which needs no labels.
//!
//! Angles are in degrees, positive counter-clockwise.

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::data::{Canvas, Dataset};
use crate::error::{Error, Result};
use crate::models::SegmentationModel;
use crate::training::iou_per_image;
use crate::transforms::{rotate, Interpolation};

/// Images per forward pass in the rotation sweep of `eqcheck reproduce`.
pub const SWEEP_BATCH: usize = 32;

/// Smallest sweep step, in degrees: 3600 angles, already far finer than
/// the pixel grid of any canvas this crate trains on.
pub const MIN_ANGLE_STEP_DEG: f64 = 0.1;

/// Returns the angles `0, step, 2 step, ...` below 360 degrees.
pub fn sweep_angles(step_deg: f64) -> Result<Vec<f64>> {
    if !(MIN_ANGLE_STEP_DEG..=360.0).contains(&step_deg) {
        return Err(Error::InvalidOption {
            name: "angle step",
            value: step_deg.to_string(),
            reason: format!("must be between {MIN_ANGLE_STEP_DEG} and 360 degrees"),
        });
    }
    let count = (360.0 / step_deg - 1e-9).ceil() as usize;
    Ok((0..count).map(|i| i as f64 * step_deg).collect())
}

/// Step 1: rotates padded images `[B, 3, P, P]` in [0, 1] by `angle_deg`.
pub fn rotate_input(padded: &Tensor, angle_deg: f64) -> Tensor {
    rotate(padded, angle_deg, Interpolation::Bilinear)
}

/// Step 2: returns mask probabilities `[B, 1, P, P]` for padded images in
/// [0, 1]. Fails when the model's output is not finite.
pub fn predict_probabilities(model: &dyn SegmentationModel, padded: &Tensor) -> Result<Tensor> {
    let _no_grad = tch::no_grad_guard();
    let logits = model.forward(&Canvas::normalise(padded), false);
    let finite = logits.isfinite().all().int64_value(&[]) == 1;
    if !finite {
        return Err(Error::NonFinite {
            context: "mask logits contain NaN or infinity".into(),
        });
    }
    Ok(logits.sigmoid())
}

/// Step 3: turns probabilities predicted at `angle_deg` back to the
/// original orientation and thresholds them at 0.5.
pub fn rotate_back_and_binarize(probabilities: &Tensor, angle_deg: f64) -> Tensor {
    rotate(probabilities, -angle_deg, Interpolation::Bilinear)
        .gt(0.5)
        .to_kind(tch::Kind::Float)
}

/// Per-image IoU at every angle of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RotationSweep {
    /// Degrees, counter-clockwise.
    pub angles_deg: Vec<f64>,
    pub image_ids: Vec<String>,
    /// `iou_truth[image][angle]`: IoU against the ground-truth mask.
    pub iou_truth: Vec<Vec<f64>>,
    /// `iou_consistency[image][angle]`: IoU against the model's own
    /// prediction on the unrotated input.
    pub iou_consistency: Vec<Vec<f64>>,
}

impl RotationSweep {
    /// Mean over images of the ground-truth IoU, one value per angle.
    pub fn mean_truth_by_angle(&self) -> Vec<f64> {
        mean_by_angle(&self.iou_truth, self.angles_deg.len())
    }

    /// Iterates over the label-free IoU rows, one per image.
    pub fn iter_consistency(&self) -> impl Iterator<Item = &Vec<f64>> {
        self.iou_consistency.iter()
    }

    /// Mean over angles of each image's label-free IoU.
    pub fn mean_consistency_by_image(&self) -> Vec<f64> {
        self.iou_consistency
            .iter()
            .map(|row| row.iter().sum::<f64>() / row.len().max(1) as f64)
            .collect()
    }

    /// Mean over images of the label-free IoU, one value per angle.
    pub fn mean_consistency_by_angle(&self) -> Vec<f64> {
        mean_by_angle(&self.iou_consistency, self.angles_deg.len())
    }
}

fn mean_by_angle(rows: &[Vec<f64>], angles: usize) -> Vec<f64> {
    (0..angles)
        .map(|a| rows.iter().map(|row| row[a]).sum::<f64>() / rows.len().max(1) as f64)
        .collect()
}

/// Runs the four steps for every angle on the samples at `indices`, with
/// up to `batch` images in a forward pass. When fewer images than that
/// are swept, each pass turns them to several angles, so that a small
/// sweep still fills its batches. `on_angle` receives the number of
/// angles done after each pass over all images.
pub fn sweep(
    model: &dyn SegmentationModel,
    canvas: &Canvas,
    data: &Dataset,
    indices: &[usize],
    angles_deg: &[f64],
    batch: usize,
    on_angle: &mut dyn FnMut(usize),
) -> Result<RotationSweep> {
    let batch = batch.max(1);
    let mut iou_truth = vec![Vec::with_capacity(angles_deg.len()); indices.len()];
    let mut iou_consistency = vec![Vec::with_capacity(angles_deg.len()); indices.len()];
    // Binary references are kept as booleans, a quarter of the float size.
    let mut references = Vec::new();

    for chunk in indices.chunks(batch) {
        let (images, _) = data.batch(chunk);
        let probabilities = predict_probabilities(model, &canvas.pad(&images))?;
        references.push(canvas.crop(&probabilities).gt(0.5));
    }

    let angles_per_pass = (batch / indices.len().max(1)).max(1);
    let mut angles_done = 0;
    for angle_group in angles_deg.chunks(angles_per_pass) {
        let mut row = 0;
        for (chunk, reference) in indices.chunks(batch).zip(&references) {
            let (images, masks) = data.batch(chunk);
            let padded = canvas.pad(&images);
            let rotated: Vec<Tensor> = angle_group.iter().map(|&angle| rotate_input(&padded, angle)).collect();
            let probabilities = predict_probabilities(model, &Tensor::cat(&rotated, 0))?;
            let images_in_chunk = chunk.len() as i64;
            let mut per_angle = Vec::with_capacity(angle_group.len());
            for (k, &angle) in angle_group.iter().enumerate() {
                let at_angle = probabilities.narrow(0, k as i64 * images_in_chunk, images_in_chunk);
                let predicted = canvas.crop(&rotate_back_and_binarize(&at_angle, angle));
                let truth = Vec::<f64>::try_from(iou_per_image(&predicted, &masks))?;
                let consistency = Vec::<f64>::try_from(iou_per_image(&predicted, reference))?;
                per_angle.push((truth, consistency));
            }
            for image in 0..chunk.len() {
                for (truth, consistency) in &per_angle {
                    iou_truth[row + image].push(truth[image]);
                    iou_consistency[row + image].push(consistency[image]);
                }
            }
            row += chunk.len();
        }
        angles_done += angle_group.len();
        on_angle(angles_done);
    }
    Ok(RotationSweep {
        angles_deg: angles_deg.to_vec(),
        image_ids: indices.iter().map(|&i| data.ids[i].clone()).collect(),
        iou_truth,
        iou_consistency,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn angles_cover_the_circle_once() {
        let angles = sweep_angles(10.0).unwrap();
        assert_eq!(angles.len(), 36);
        assert_eq!(angles[0], 0.0);
        assert_eq!(angles[35], 350.0);
        assert_eq!(sweep_angles(7.0).unwrap().len(), 52);
    }

    #[test]
    fn bad_angle_steps_are_rejected() {
        assert!(sweep_angles(0.0).is_err());
        assert!(sweep_angles(0.001).is_err());
        assert!(sweep_angles(-5.0).is_err());
        assert!(sweep_angles(f64::NAN).is_err());
    }

    #[test]
    fn rotating_back_undoes_a_quarter_turn() {
        let probabilities = Tensor::zeros([1, 1, 8, 8], (tch::Kind::Float, tch::Device::Cpu));
        let _ = probabilities.narrow(2, 1, 3).narrow(3, 2, 2).fill_(0.9);
        let turned = rotate(&probabilities, 90.0, Interpolation::Bilinear);
        let back = rotate_back_and_binarize(&turned, 90.0);
        let expected = probabilities.gt(0.5).to_kind(tch::Kind::Float);
        assert_eq!((back - expected).abs().sum(tch::Kind::Float).double_value(&[]), 0.0);
    }
}
