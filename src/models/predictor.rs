//! The interface of a model under test: the property engine hands it
//! padded canvases and reads back probabilities, whether the model is one
//! of the crate's checkpoints or a TorchScript file.

use serde::{Deserialize, Serialize};
use tch::Tensor;

use super::SegmentationModel;
use crate::error::Result;
use crate::eval::predict_probabilities;

/// What a model predicts, which decides how its outputs are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// One foreground probability per pixel, `[batch, 1, P, P]`.
    Segmentation,
    /// One probability per class, `[batch, classes]`.
    Classification,
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Task::Segmentation => "segmentation",
            Task::Classification => "classification",
        })
    }
}

/// A model under test. It receives canvases as the property engine builds
/// them, `[batch, 3, P, P]` RGB in [0, 1] with the image padded and then
/// transformed, and does its own normalisation.
pub trait Predictor: Send {
    /// Returns what the model predicts.
    fn task(&self) -> Task;

    /// Predicts probabilities: `[batch, 1, P, P]` foreground probabilities
    /// for segmentation, `[batch, classes]` class probabilities for
    /// classification.
    fn predict(&self, canvases: &Tensor) -> Result<Tensor>;
}

/// The crate's own models: ImageNet normalisation in, mask logits out.
impl Predictor for Box<dyn SegmentationModel> {
    fn task(&self) -> Task {
        Task::Segmentation
    }

    fn predict(&self, canvases: &Tensor) -> Result<Tensor> {
        predict_probabilities(self.as_ref(), canvases)
    }
}
