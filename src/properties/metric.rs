//! Agreement metrics between two binary masks, counted only over valid
//! pixels: those inside the image in both frames.

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::training::iou_per_image;

/// Comparison of two masks. Every metric is 1 for identical masks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Metric {
    /// Intersection over union of the foreground; 1 when both are empty.
    Iou,
    /// 2 |A and B| / (|A| + |B|); 1 when both are empty.
    Dice,
    /// Share of valid pixels on which the masks agree.
    Agreement,
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Metric::Iou => "IoU",
            Metric::Dice => "Dice",
            Metric::Agreement => "pixel agreement",
        })
    }
}

impl Metric {
    /// Scores each item of binary masks `[batch, 1, H, W]`, counting only
    /// pixels where `valid` (same shape, 0 or 1) is 1. Returns `[batch]`.
    pub fn score(self, prediction: &Tensor, reference: &Tensor, valid: &Tensor) -> Tensor {
        let dims = [1i64, 2, 3];
        let valid = valid.gt(0.5);
        let a = prediction.gt(0.5).logical_and(&valid);
        let b = reference.gt(0.5).logical_and(&valid);
        let count = |t: &Tensor| t.sum_dim_intlist(dims.as_slice(), false, Kind::Float);
        let both = count(&a.logical_and(&b));
        match self {
            Metric::Iou => iou_per_image(&a.to_kind(Kind::Float), &b.to_kind(Kind::Float)),
            Metric::Dice => ratio_or_one(&(both * 2.0), &(count(&a) + count(&b))),
            Metric::Agreement => {
                let agree = count(&a.eq_tensor(&b).logical_and(&valid));
                ratio_or_one(&agree, &count(&valid))
            }
        }
    }
}

/// Returns numerator / denominator, and 1 where the denominator is 0.
fn ratio_or_one(numerator: &Tensor, denominator: &Tensor) -> Tensor {
    let empty = denominator.eq(0.0);
    (numerator / denominator.clamp_min(1.0)).where_self(&empty.logical_not(), &empty.to_kind(Kind::Float))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(values: &[f32]) -> Tensor {
        Tensor::from_slice(values).view([1, 1, 1, values.len() as i64])
    }

    #[test]
    fn metrics_on_a_small_case() {
        let a = mask(&[1.0, 1.0, 0.0, 0.0]);
        let b = mask(&[0.0, 1.0, 1.0, 0.0]);
        let all = mask(&[1.0; 4]);
        assert!((Metric::Iou.score(&a, &b, &all).double_value(&[0]) - 1.0 / 3.0).abs() < 1e-6);
        assert!((Metric::Dice.score(&a, &b, &all).double_value(&[0]) - 0.5).abs() < 1e-6);
        assert!((Metric::Agreement.score(&a, &b, &all).double_value(&[0]) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn invalid_pixels_are_not_counted() {
        let a = mask(&[1.0, 1.0, 0.0, 0.0]);
        let b = mask(&[1.0, 0.0, 0.0, 1.0]);
        let first_only = mask(&[1.0, 0.0, 0.0, 0.0]);
        assert_eq!(Metric::Iou.score(&a, &b, &first_only).double_value(&[0]), 1.0);
        assert_eq!(Metric::Agreement.score(&a, &b, &first_only).double_value(&[0]), 1.0);
    }

    #[test]
    fn empty_masks_agree_fully() {
        let empty = mask(&[0.0; 4]);
        let all = mask(&[1.0; 4]);
        for metric in [Metric::Iou, Metric::Dice, Metric::Agreement] {
            assert_eq!(metric.score(&empty, &empty, &all).double_value(&[0]), 1.0, "{metric}");
        }
    }
}
