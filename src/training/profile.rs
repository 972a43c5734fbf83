//! Profiles: the sizes and schedules that make a training run fit a
//! machine.

use serde::{Deserialize, Serialize};

use crate::data::Canvas;
use crate::error::{Error, Result};
use crate::models::Arch;

/// Widest base width accepted: 16 times the `cpu` profile's and 4 times
/// the `paper` profile's.
pub const MAX_BASE_WIDTH: i64 = 128;
/// Most epochs accepted for one run.
pub const MAX_EPOCHS: usize = 10_000;

/// A named set of training settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ProfileName {
    /// Sized for a 2-core CPU: the four variants train and evaluate within
    /// 45 minutes.
    Cpu,
    /// The original experiment's setting (S = 256, P = 384), for a GPU.
    Paper,
}

impl std::fmt::Display for ProfileName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ProfileName::Cpu => "cpu",
            ProfileName::Paper => "paper",
        })
    }
}

/// Everything that sizes a training run and its evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub name: ProfileName,
    /// Side S the images are resized to, in pixels.
    pub side: i64,
    /// Side P of the padded canvas, in pixels.
    pub canvas: i64,
    /// Channels of the plain U-Net's first level; the Group U-Net gets
    /// half as many fields.
    pub base_width: i64,
    pub epochs_unet: usize,
    pub epochs_group_unet: usize,
    pub batch_size: usize,
    /// Peak learning rate of AdamW; it decays along a cosine to 5% of
    /// this value at the last epoch.
    pub learning_rate: f64,
    pub weight_decay: f64,
    pub validation_fraction: f64,
    pub seed: u64,
    /// Angle step of the rotation evaluation, in degrees.
    pub angle_step_deg: f64,
}

impl Profile {
    /// Returns the preset of a profile name.
    pub fn preset(name: ProfileName) -> Self {
        match name {
            ProfileName::Cpu => Profile {
                name,
                // At S = 64 the plain U-Net with minimal augmentation levels
                // off near validation IoU 0.84; at S = 96 it reaches 0.86
                // for 2.25 times the arithmetic.
                side: 96,
                canvas: 144,
                base_width: 8,
                // A Group U-Net epoch costs about 2.6 times a plain one
                // here (24 s against 9 s on 2 cores), so it gets fewer
                // epochs to keep the four variants within 45 minutes.
                epochs_unet: 40,
                epochs_group_unet: 25,
                batch_size: 16,
                learning_rate: 3e-3,
                weight_decay: 1e-4,
                validation_fraction: 0.2,
                seed: 42,
                angle_step_deg: 10.0,
            },
            ProfileName::Paper => Profile {
                name,
                side: 256,
                canvas: 384,
                base_width: 32,
                epochs_unet: 50,
                epochs_group_unet: 50,
                batch_size: 16,
                learning_rate: 1e-3,
                weight_decay: 1e-4,
                validation_fraction: 0.2,
                seed: 42,
                angle_step_deg: 10.0,
            },
        }
    }

    /// Checks every setting against the range that trains at all, so that
    /// a typing error fails here and not as an allocation inside libtorch.
    pub fn validate(&self) -> Result<()> {
        self.canvas()?;
        let invalid = |name: &'static str, value: String, reason: &str| {
            Err(Error::InvalidOption {
                name,
                value,
                reason: reason.to_string(),
            })
        };
        if !(4..=MAX_BASE_WIDTH).contains(&self.base_width) || self.base_width % 2 != 0 {
            return invalid(
                "width",
                self.base_width.to_string(),
                "must be even and between 4 and 128, so that the Group U-Net gets at least 2 fields",
            );
        }
        for epochs in [self.epochs_unet, self.epochs_group_unet] {
            if !(1..=MAX_EPOCHS).contains(&epochs) {
                return invalid("epochs", epochs.to_string(), "must be between 1 and 10000");
            }
        }
        if !(1..=1024).contains(&self.batch_size) {
            return invalid("batch-size", self.batch_size.to_string(), "must be between 1 and 1024");
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return invalid("learning-rate", self.learning_rate.to_string(), "must be positive");
        }
        if !(self.validation_fraction > 0.0 && self.validation_fraction < 1.0) {
            return invalid("validation-fraction", self.validation_fraction.to_string(), "must lie strictly between 0 and 1");
        }
        Ok(())
    }

    /// Returns the checked canvas geometry.
    pub fn canvas(&self) -> Result<Canvas> {
        Canvas::new(self.side, self.canvas)
    }

    /// Number of epochs for an architecture.
    pub fn epochs(&self, arch: Arch) -> usize {
        match arch {
            Arch::Unet => self.epochs_unet,
            Arch::GroupUnet => self.epochs_group_unet,
        }
    }
}
