//! Agreement metrics between two binary masks, counted only over valid
//! pixels (those inside the image in both frames), and the top-1
//! stability of class probabilities.

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::error::{Error, Result};
use crate::models::Task;
use crate::training::iou_per_image;

/// Comparison of two predictions. Every metric is 1 for identical ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Metric {
    /// Intersection over union of the foreground; 1 when both are empty.
    Iou,
    /// 2 |A and B| / (|A| + |B|); 1 when both are empty.
    Dice,
    /// Share of valid pixels on which the masks agree.
    Agreement,
    /// For class probabilities: 1 minus the drift of the reference top-1
    /// class's probability. A case with another top-1 class fails whatever
    /// this value is.
    Top1Stability,
}

/// The top-1 classes of the reference and of the transformed prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopClasses {
    pub reference: i64,
    pub transformed: i64,
}

impl TopClasses {
    /// Returns whether the transformation changed the top-1 class.
    pub fn changed(&self) -> bool {
        self.reference != self.transformed
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Metric::Iou => "IoU",
            Metric::Dice => "Dice",
            Metric::Agreement => "pixel agreement",
            Metric::Top1Stability => "top-1 stability",
        })
    }
}

impl Metric {
    /// Returns the task whose predictions the metric compares.
    pub fn task(self) -> Task {
        match self {
            Metric::Iou | Metric::Dice | Metric::Agreement => Task::Segmentation,
            Metric::Top1Stability => Task::Classification,
        }
    }

    /// Scores each item of binary masks `[batch, 1, H, W]`, counting only
    /// pixels where `valid` (same shape, 0 or 1) is 1. Returns `[batch]`,
    /// or an error for a metric of class probabilities.
    pub fn score(self, prediction: &Tensor, reference: &Tensor, valid: &Tensor) -> Result<Tensor> {
        let dims = [1i64, 2, 3];
        let valid = valid.gt(0.5);
        let a = prediction.gt(0.5).logical_and(&valid);
        let b = reference.gt(0.5).logical_and(&valid);
        let count = |t: &Tensor| t.sum_dim_intlist(dims.as_slice(), false, Kind::Float);
        let both = count(&a.logical_and(&b));
        match self {
            Metric::Iou => Ok(iou_per_image(&a.to_kind(Kind::Float), &b.to_kind(Kind::Float))),
            Metric::Dice => Ok(ratio_or_one(&(both * 2.0), &(count(&a) + count(&b)))),
            Metric::Agreement => {
                let agree = count(&a.eq_tensor(&b).logical_and(&valid));
                Ok(ratio_or_one(&agree, &count(&valid)))
            }
            Metric::Top1Stability => Err(Error::InvalidOption {
                name: "metric",
                value: "top1-stability".into(),
                reason: "compares class probabilities, not masks".into(),
            }),
        }
    }
}

/// Compares class probabilities `[batch, classes]` with the reference
/// prediction `[1, classes]`: returns, per item, the top-1 stability
/// (1 minus the absolute change of the probability of the reference's
/// top-1 class) and both top-1 classes.
pub fn top1_stability(probabilities: &Tensor, reference: &Tensor) -> Vec<(f64, TopClasses)> {
    let reference_class = reference.argmax(-1, false).int64_value(&[0]);
    let reference_probability = reference.double_value(&[0, reference_class]);
    let transformed_classes = probabilities.argmax(-1, false);
    (0..probabilities.size()[0])
        .map(|i| {
            let drift = (probabilities.double_value(&[i, reference_class]) - reference_probability).abs();
            let classes = TopClasses {
                reference: reference_class,
                transformed: transformed_classes.int64_value(&[i]),
            };
            (1.0 - drift, classes)
        })
        .collect()
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
        let score = |metric: Metric| metric.score(&a, &b, &all).unwrap().double_value(&[0]);
        assert!((score(Metric::Iou) - 1.0 / 3.0).abs() < 1e-6);
        assert!((score(Metric::Dice) - 0.5).abs() < 1e-6);
        assert!((score(Metric::Agreement) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn invalid_pixels_are_not_counted() {
        let a = mask(&[1.0, 1.0, 0.0, 0.0]);
        let b = mask(&[1.0, 0.0, 0.0, 1.0]);
        let first_only = mask(&[1.0, 0.0, 0.0, 0.0]);
        assert_eq!(Metric::Iou.score(&a, &b, &first_only).unwrap().double_value(&[0]), 1.0);
        assert_eq!(Metric::Agreement.score(&a, &b, &first_only).unwrap().double_value(&[0]), 1.0);
    }

    #[test]
    fn empty_masks_agree_fully() {
        let empty = mask(&[0.0; 4]);
        let all = mask(&[1.0; 4]);
        for metric in [Metric::Iou, Metric::Dice, Metric::Agreement] {
            assert_eq!(metric.score(&empty, &empty, &all).unwrap().double_value(&[0]), 1.0, "{metric}");
        }
    }

    #[test]
    fn top1_stability_reports_drift_and_class_change() {
        let reference = Tensor::from_slice(&[0.1f32, 0.7, 0.2]).view([1, 3]);
        let transformed = Tensor::from_slice(&[0.1f32, 0.6, 0.3, 0.5, 0.2, 0.3]).view([2, 3]);
        let scores = top1_stability(&transformed, &reference);
        assert!((scores[0].0 - 0.9).abs() < 1e-6, "{scores:?}");
        assert!(!scores[0].1.changed());
        assert!((scores[1].0 - 0.5).abs() < 1e-6, "{scores:?}");
        assert_eq!(scores[1].1, TopClasses { reference: 1, transformed: 0 });
        assert!(scores[1].1.changed());
    }

    #[test]
    fn class_metric_rejects_masks() {
        let a = mask(&[1.0, 0.0]);
        let error = Metric::Top1Stability.score(&a, &a, &a).unwrap_err().to_string();
        assert!(error.contains("class probabilities"), "{error}");
    }
}
