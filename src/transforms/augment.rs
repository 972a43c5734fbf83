//! The two training pipelines of the original experiment. Both end with
//! pad and normalise, which the trainer applies; this module holds the
//! random part that comes before.
//!
//! `full` applies, each with probability 0.5 per image and in this order:
//! - colour jitter: brightness, contrast and saturation factors drawn from
//!   [0.8, 1.2] and a hue shift of up to 0.2 of the hue circle either way;
//! - brightness and contrast: `alpha * x + beta` with alpha in [0.8, 1.2]
//!   and beta in [-0.2, 0.2];
//! - a safe rotation: an angle drawn from [-90, 90] degrees, with the image
//!   scaled by 1 / (|cos| + |sin|) so that no corner leaves the frame, a
//!   zero border, bilinear sampling for the image and nearest-neighbour
//!   sampling for the mask, so the mask stays binary and aligned.
//!
//! Random draws come from libtorch's generator, which `tch::manual_seed`
//! seeds.

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use super::color::{adjust_brightness, adjust_contrast, adjust_hue, adjust_saturation};
use super::rotate::{rotate_each, Interpolation};

/// Augmentation pipeline of a training run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Augmentation {
    /// Pad and normalise only.
    Minimal,
    /// Colour jitter, brightness and contrast, and safe rotation.
    Full,
}

impl std::fmt::Display for Augmentation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Augmentation::Minimal => "minimal",
            Augmentation::Full => "full",
        })
    }
}

/// Parameters of the `full` pipeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Augmenter {
    pub probability: f64,
    /// Half-width of the brightness, contrast and saturation jitter.
    pub jitter: f64,
    /// Largest hue shift, as a fraction of the hue circle.
    pub hue: f64,
    /// Half-width of the brightness shift and contrast change.
    pub brightness_contrast: f64,
    /// Largest rotation either way, in degrees.
    pub max_angle_deg: f64,
}

impl Default for Augmenter {
    fn default() -> Self {
        Augmenter {
            probability: 0.5,
            jitter: 0.2,
            hue: 0.2,
            brightness_contrast: 0.2,
            max_angle_deg: 90.0,
        }
    }
}

/// Draws `[batch]` values uniform in [low, high].
fn uniform(batch: i64, low: f64, high: f64) -> Tensor {
    Tensor::rand([batch], (Kind::Float, tch::Device::Cpu)) * (high - low) + low
}

impl Augmenter {
    /// Applies the pipeline to images `[B, 3, S, S]` in [0, 1] and masks
    /// `[B, 1, S, S]`, returning both, still aligned.
    pub fn apply(&self, images: &Tensor, masks: &Tensor) -> (Tensor, Tensor) {
        let images = self.color_jitter(images);
        let images = self.brightness_contrast(&images);
        self.safe_rotate(&images, masks)
    }

    /// Returns a `[B, 1, 1, 1]` boolean tensor, true with the pipeline's
    /// probability.
    fn chosen(&self, batch: i64) -> Tensor {
        Tensor::rand([batch], (Kind::Float, tch::Device::Cpu))
            .lt(self.probability)
            .view([-1, 1, 1, 1])
    }

    fn color_jitter(&self, x: &Tensor) -> Tensor {
        let batch = x.size()[0];
        let (low, high) = (1.0 - self.jitter, 1.0 + self.jitter);
        let jittered = adjust_brightness(x, &uniform(batch, low, high));
        let jittered = adjust_contrast(&jittered, &uniform(batch, low, high));
        let jittered = adjust_saturation(&jittered, &uniform(batch, low, high));
        let jittered = adjust_hue(&jittered, &uniform(batch, -self.hue, self.hue));
        jittered.where_self(&self.chosen(batch), x)
    }

    fn brightness_contrast(&self, x: &Tensor) -> Tensor {
        let batch = x.size()[0];
        let limit = self.brightness_contrast;
        let alpha = uniform(batch, 1.0 - limit, 1.0 + limit).view([-1, 1, 1, 1]);
        let beta = uniform(batch, -limit, limit).view([-1, 1, 1, 1]);
        let adjusted = (x * alpha + beta).clamp(0.0, 1.0);
        adjusted.where_self(&self.chosen(batch), x)
    }

    fn safe_rotate(&self, images: &Tensor, masks: &Tensor) -> (Tensor, Tensor) {
        let batch = images.size()[0];
        let chosen = self.chosen(batch).view([-1]);
        let angles = uniform(batch, -self.max_angle_deg, self.max_angle_deg)
            * chosen.to_kind(Kind::Float);
        let radians = &angles * (std::f64::consts::PI / 180.0);
        let scales = (radians.cos().abs() + radians.sin().abs()).reciprocal();
        let images = rotate_each(images, &angles, &scales, Interpolation::Bilinear);
        let masks = rotate_each(masks, &angles, &scales, Interpolation::Nearest);
        (images, masks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_masks_stay_binary() {
        tch::manual_seed(11);
        let images = Tensor::rand([8, 3, 32, 32], (Kind::Float, tch::Device::Cpu));
        let masks = Tensor::rand([8, 1, 32, 32], (Kind::Float, tch::Device::Cpu)).gt(0.5).to_kind(Kind::Float);
        let (images, masks) = Augmenter::default().apply(&images, &masks);
        let binary = masks.eq(0.0).logical_or(&masks.eq(1.0)).all().int64_value(&[]);
        assert_eq!(binary, 1);
        assert!(images.min().double_value(&[]) >= 0.0);
        assert!(images.max().double_value(&[]) <= 1.0);
    }
}
