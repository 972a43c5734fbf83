//! Figures of the original experiment, kept beside the measured ones.

use serde::{Deserialize, Serialize};

use crate::models::Arch;
use crate::transforms::Augmentation;

/// Train and validation IoU that the original experiment reported for one
/// variant (S = 256 on a 384 canvas, trained on a GPU).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PaperRow {
    pub train_iou: f64,
    pub validation_iou: f64,
}

/// Returns the original experiment's figures for a variant.
pub fn paper_reference(arch: Arch, augmentation: Augmentation) -> PaperRow {
    let (train_iou, validation_iou) = match (arch, augmentation) {
        (Arch::Unet, Augmentation::Minimal) => (0.9404, 0.8678),
        (Arch::Unet, Augmentation::Full) => (0.8543, 0.8522),
        (Arch::GroupUnet, Augmentation::Minimal) => (0.9076, 0.8563),
        (Arch::GroupUnet, Augmentation::Full) => (0.7927, 0.8332),
    };
    PaperRow {
        train_iou,
        validation_iou,
    }
}
