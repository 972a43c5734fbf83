//! The description of a TorchScript model: the canvas it takes, how its
//! input is encoded (channel order, value range, normalisation), what it
//! returns, and which validation images it is checked on.
//!
//! It is read from a TOML file beside the model, named after it with
//! `.toml` appended (`model.pt.toml`), and every key is optional:
//!
//! ```toml
//! side = 96                          # images are resized to side x side ...
//! canvas = 144                       # ... and zero-padded, centred, to canvas x canvas
//! channel_order = "rgb"              # or "bgr"
//! value_range = [0.0, 1.0]           # input values for black and white
//! mean = [0.485, 0.456, 0.406]       # per channel, in the model's channel order
//! std = [0.229, 0.224, 0.225]        # and in the units of value_range
//! output = "mask-logits"             # mask-probabilities, class-logits, class-probabilities
//! split_seed = 42                    # the validation split of `eqcheck reproduce`
//! validation_fraction = 0.2
//! ```
//!
//! The defaults describe the crate's own models under the `cpu` profile.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::data::{Canvas, IMAGENET_MEAN, IMAGENET_STD};
use crate::error::{Error, Result};
use crate::models::Task;
use crate::training::{Profile, ProfileName};

/// Order of the three colour channels in the model's input.
// TODO: a `gray` order that converts to one luma channel would let
// single-channel models be checked; today every input has three channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ChannelOrder {
    Rgb,
    Bgr,
}

/// Kind of output a model returns for a batch of B canvases of side P.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum OutputKind {
    /// `[B, 1, P, P]` foreground logits; a sigmoid gives probabilities.
    MaskLogits,
    /// `[B, 1, P, P]` foreground probabilities in [0, 1].
    MaskProbabilities,
    /// `[B, classes]` logits; a softmax gives probabilities.
    ClassLogits,
    /// `[B, classes]` probabilities that sum to 1 per row.
    ClassProbabilities,
}

impl OutputKind {
    /// Returns the task whose outputs this kind holds.
    pub fn task(self) -> Task {
        match self {
            OutputKind::MaskLogits | OutputKind::MaskProbabilities => Task::Segmentation,
            OutputKind::ClassLogits | OutputKind::ClassProbabilities => Task::Classification,
        }
    }

    /// Returns whether the output contains probabilities rather than logits.
    pub fn is_probabilities(self) -> bool {
        matches!(self, OutputKind::MaskProbabilities | OutputKind::ClassProbabilities)
    }
}

impl std::fmt::Display for OutputKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OutputKind::MaskLogits => "mask-logits",
            OutputKind::MaskProbabilities => "mask-probabilities",
            OutputKind::ClassLogits => "class-logits",
            OutputKind::ClassProbabilities => "class-probabilities",
        })
    }
}

/// Description of a TorchScript model's input and output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelDescription {
    /// Side S, in pixels, that dataset images are resized to.
    pub side: i64,
    /// Side P, in pixels, of the square canvas the model takes.
    pub canvas: i64,
    pub channel_order: ChannelOrder,
    /// Input values that stand for black and for white, before
    /// normalisation: `[0, 1]` or `[0, 255]`, for example.
    pub value_range: [f64; 2],
    /// Subtracted per channel, in the model's channel order and in the
    /// units of `value_range`.
    pub mean: [f64; 3],
    /// Divides per channel after the mean is subtracted.
    pub std: [f64; 3],
    pub output: OutputKind,
    /// Seed of the stratified split that picks the validation images.
    pub split_seed: u64,
    /// Share of each species that goes to validation.
    pub validation_fraction: f64,
}

impl Default for ModelDescription {
    fn default() -> Self {
        let profile = Profile::preset(ProfileName::Cpu);
        ModelDescription {
            side: profile.side,
            canvas: profile.canvas,
            channel_order: ChannelOrder::Rgb,
            value_range: [0.0, 1.0],
            mean: IMAGENET_MEAN,
            std: IMAGENET_STD,
            output: OutputKind::MaskLogits,
            split_seed: profile.seed,
            validation_fraction: profile.validation_fraction,
        }
    }
}

/// Returns the description file that belongs to a model file: its name
/// with `.toml` appended.
pub fn description_path(model: &Path) -> PathBuf {
    let mut name = model.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".toml");
    model.with_file_name(name)
}

impl ModelDescription {
    /// Describes a crate model trained with `profile`.
    pub fn for_profile(profile: &Profile) -> Self {
        ModelDescription {
            side: profile.side,
            canvas: profile.canvas,
            split_seed: profile.seed,
            validation_fraction: profile.validation_fraction,
            ..ModelDescription::default()
        }
    }

    /// Parses and checks a description; errors name `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let description: ModelDescription = toml::from_str(text).map_err(|e| Error::Description {
            path: path.to_path_buf(),
            reason: e.to_string().trim_end().to_string(),
        })?;
        description.validate(path)?;
        Ok(description)
    }

    /// Reads and checks the description file at `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, path)
    }

    /// Returns the description beside `model` when there is one, and the
    /// defaults otherwise.
    pub fn for_model(model: &Path) -> Result<Self> {
        let path = description_path(model);
        if path.is_file() {
            Self::load(&path)
        } else {
            Ok(ModelDescription::default())
        }
    }

    /// Renders the description as TOML, with a header line.
    pub fn to_toml(&self) -> String {
        // The toml crate serialises a flat struct of numbers, strings and
        // arrays without error, NaN included.
        let body = toml::to_string(self).unwrap_or_default();
        format!("# What the TorchScript model beside this file expects and returns, for `eqcheck check`.\n\n{body}")
    }

    /// Checks every value; errors name `path` (the file the description
    /// came from, or the model it describes) and the key.
    pub fn validate(&self, path: &Path) -> Result<()> {
        let fail = |key: &str, reason: String| Error::Description {
            path: path.to_path_buf(),
            reason: format!("key `{key}`: {reason}"),
        };
        self.canvas().map_err(|e| fail("side` and `canvas", e.to_string()))?;
        let [low, high] = self.value_range;
        if !(low.is_finite() && high.is_finite()) || low >= high {
            return Err(fail("value_range", format!("[{low}, {high}] must go from black to a larger white value")));
        }
        if self.mean.iter().any(|m| !m.is_finite()) {
            return Err(fail("mean", format!("{:?} must be finite", self.mean)));
        }
        if self.std.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(fail("std", format!("{:?} must be positive", self.std)));
        }
        if !(self.validation_fraction > 0.0 && self.validation_fraction < 1.0) {
            return Err(fail("validation_fraction", format!("{} must be between 0 and 1", self.validation_fraction)));
        }
        Ok(())
    }

    /// Returns the canvas geometry. Any canvas side is allowed as long as
    /// a rotated image stays on it.
    pub fn canvas(&self) -> Result<Canvas> {
        Canvas::unaligned(self.side, self.canvas)
    }

    /// Encodes canvases `[B, 3, P, P]`, RGB in [0, 1], as the model's
    /// input: channel order, value range, then normalisation.
    pub fn encode(&self, canvases: &Tensor) -> Tensor {
        let ordered = match self.channel_order {
            ChannelOrder::Rgb => canvases.shallow_clone(),
            ChannelOrder::Bgr => canvases.flip([1]),
        };
        let [low, high] = self.value_range;
        let scaled = ordered * (high - low) + low;
        let per_channel = |values: &[f64; 3]| Tensor::from_slice(values).to_kind(Kind::Float).view([1, 3, 1, 1]);
        (scaled - per_channel(&self.mean)) / per_channel(&self.std)
    }

    /// Turns the model's raw output into probabilities: a sigmoid for mask
    /// logits, a softmax over classes for class logits.
    pub fn probabilities(&self, output: &Tensor) -> Tensor {
        let output = output.to_kind(Kind::Float);
        match self.output {
            OutputKind::MaskLogits => output.sigmoid(),
            OutputKind::ClassLogits => output.softmax(-1, Kind::Float),
            OutputKind::MaskProbabilities | OutputKind::ClassProbabilities => output,
        }
    }

    /// Returns the output shape expected for a batch of `batch` canvases,
    /// with `C` standing for the number of classes.
    pub fn expected_output(&self, batch: i64) -> String {
        match self.output.task() {
            Task::Segmentation => format!("[{batch}, 1, {0}, {0}]", self.canvas),
            Task::Classification => format!("[{batch}, C] with C >= 2 classes"),
        }
    }

    /// Returns whether an output shape fits a batch of `batch` canvases.
    pub fn output_fits(&self, shape: &[i64], batch: i64) -> bool {
        match self.output.task() {
            Task::Segmentation => shape == [batch, 1, self.canvas, self.canvas],
            Task::Classification => shape.len() == 2 && shape[0] == batch && shape[1] >= 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> String {
        ModelDescription::parse(text, Path::new("models/net.pt.toml")).unwrap_err().to_string()
    }

    #[test]
    fn empty_description_gets_the_crate_defaults() {
        let description = ModelDescription::parse("", Path::new("x.toml")).unwrap();
        assert_eq!(description, ModelDescription::default());
        assert_eq!(description.canvas, 144);
        assert_eq!(description.output, OutputKind::MaskLogits);
    }

    #[test]
    fn description_round_trips_through_toml() {
        let description = ModelDescription {
            side: 32,
            canvas: 48,
            channel_order: ChannelOrder::Bgr,
            output: OutputKind::ClassLogits,
            ..ModelDescription::default()
        };
        let parsed = ModelDescription::parse(&description.to_toml(), Path::new("x.toml")).unwrap();
        assert_eq!(parsed, description);
        let invalid = ModelDescription {
            mean: [f64::NAN, 0.0, 0.0],
            ..ModelDescription::default()
        };
        assert!(invalid.to_toml().contains("mean = [nan, 0.0, 0.0]"), "{}", invalid.to_toml());
    }

    #[test]
    fn sidecar_is_the_model_name_with_toml_appended() {
        assert_eq!(description_path(Path::new("a/model.pt")), Path::new("a/model.pt.toml"));
    }

    #[test]
    fn bad_values_name_file_and_key() {
        let cases = [
            ("canvas = 40", "`canvas`"),
            ("std = [0.2, 0.0, 0.2]", "`std`"),
            ("value_range = [1.0, 0.0]", "`value_range`"),
            ("output = \"boxes\"", "boxes"),
            ("colour = 1", "colour"),
            ("mean = [0.5, 0.5]", "mean"),
            ("validation_fraction = 1.0", "`validation_fraction`"),
        ];
        for (text, expected) in cases {
            let error = error_of(text);
            assert!(error.contains("models/net.pt.toml"), "{error}");
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn bgr_and_value_range_encode_as_described() {
        let description = ModelDescription {
            channel_order: ChannelOrder::Bgr,
            value_range: [0.0, 255.0],
            mean: [10.0, 20.0, 30.0],
            std: [2.0, 2.0, 2.0],
            ..ModelDescription::default()
        };
        // One pixel with red 1, green 0.5, blue 0.
        let rgb = Tensor::from_slice(&[1.0f32, 0.5, 0.0]).view([1, 3, 1, 1]);
        let encoded = description.encode(&rgb);
        let values: Vec<f64> = (0..3).map(|c| encoded.double_value(&[0, c, 0, 0])).collect();
        assert_eq!(values, vec![(0.0 - 10.0) / 2.0, (127.5 - 20.0) / 2.0, (255.0 - 30.0) / 2.0]);
    }

    #[test]
    fn default_encoding_matches_the_crate_normalisation() {
        tch::manual_seed(3);
        let x = Tensor::rand([2, 3, 8, 8], (Kind::Float, tch::Device::Cpu));
        let difference = (ModelDescription::default().encode(&x) - Canvas::normalise(&x)).abs().max().double_value(&[]);
        assert_eq!(difference, 0.0);
    }
}
