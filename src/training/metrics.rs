//! Intersection over union of binary masks.

use tch::{Kind, Tensor};

/// Turns logits into a binary mask: probability above 0.5, which is a
/// logit above 0. Returns float 0/1 of the same shape.
pub fn binarize_logits(logits: &Tensor) -> Tensor {
    logits.gt(0.0).to_kind(Kind::Float)
}

/// Returns the IoU of each item of two binary masks `[batch, 1, H, W]` as a
/// `[batch]` tensor. Two empty masks agree fully, so their IoU is 1.
pub fn iou_per_image(prediction: &Tensor, target: &Tensor) -> Tensor {
    let dims = [1i64, 2, 3];
    let prediction = prediction.gt(0.5);
    let target = target.gt(0.5);
    let intersection = prediction
        .logical_and(&target)
        .sum_dim_intlist(dims.as_slice(), false, Kind::Float);
    let union = prediction
        .logical_or(&target)
        .sum_dim_intlist(dims.as_slice(), false, Kind::Float);
    let empty = union.eq(0.0);
    (intersection / union.clamp_min(1.0)).where_self(&empty.logical_not(), &empty.to_kind(Kind::Float))
}

/// Mean of per-image IoU values.
pub fn mean_iou(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.iter().sum::<f64>() / values.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(values: &[f32]) -> Tensor {
        Tensor::from_slice(values).view([1, 1, 1, values.len() as i64])
    }

    #[test]
    fn iou_counts_overlap_over_union() {
        let iou = iou_per_image(&mask(&[1.0, 1.0, 0.0, 0.0]), &mask(&[0.0, 1.0, 1.0, 0.0]));
        assert!((iou.double_value(&[0]) - 1.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn two_empty_masks_have_iou_one() {
        let empty = mask(&[0.0; 4]);
        assert_eq!(iou_per_image(&empty, &empty).double_value(&[0]), 1.0);
    }

    #[test]
    fn empty_against_full_has_iou_zero() {
        let iou = iou_per_image(&mask(&[0.0; 4]), &mask(&[1.0; 4]));
        assert_eq!(iou.double_value(&[0]), 0.0);
    }
}
