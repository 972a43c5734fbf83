//! A model (a crate checkpoint or a TorchScript file) and the validation
//! images it is checked on, loaded once, for the CLI and for `#[test]`
//! functions:
//!
//! ```no_run
//! # fn main() -> eqcheck::Result<()> {
//! use std::path::Path;
//! let checker = eqcheck::properties::Checker::open(
//!     Path::new("reports/cpu/group-unet-minimal"),
//!     Path::new("data/leedsbutterfly"),
//! )?;
//! checker.assert_holds(Path::new("properties/d4-equivariance.toml"));
//! # Ok(())
//! # }
//! ```

use std::path::Path;

use super::evaluate::Subject;
use super::outcome::PropertyOutcome;
use super::runner::check_property;
use super::spec::load_specs;
use crate::data::{stratified_split, ButterflyFolder, Canvas, Dataset};
use crate::error::{Error, Result};
use crate::models::Predictor;
use crate::torchscript::{ModelDescription, TorchScriptModel};
use crate::training::{load_model, MODEL_FILE};

/// A loaded model with the validation images it is checked on.
pub struct Checker {
    /// The model under test.
    pub model: Box<dyn Predictor>,
    /// The canvas geometry the model takes.
    pub canvas: Canvas,
    /// File or folder name of the model, used in reports.
    pub name: String,
    pub data: Dataset,
    /// Dataset indices of the validation split.
    pub validation: Vec<usize>,
}

/// Returns whether `model` names one of the crate's checkpoints: a variant
/// folder or the `model.safetensors` inside one.
pub fn is_checkpoint(model: &Path) -> bool {
    model.is_dir() || model.file_name().is_some_and(|n| n == MODEL_FILE)
}

/// Returns the last component of a path, for reports.
fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

impl Checker {
    /// Loads the model at `model` and the dataset at `data`. A variant
    /// folder (or the `model.safetensors` inside one) is a crate
    /// checkpoint, checked on the validation split it was trained with.
    /// Any other file is a TorchScript model, described by the file beside
    /// it named `<model>.toml`, or by the defaults when there is none.
    pub fn open(model: &Path, data: &Path) -> Result<Self> {
        if is_checkpoint(model) {
            Self::open_checkpoint(model, data)
        } else if model.exists() {
            Self::open_torchscript(model, ModelDescription::for_model(model)?, data)
        } else {
            Err(Error::Checkpoint {
                path: model.to_path_buf(),
                reason: "model not found; expected a variant folder with config.json and model.safetensors, \
                         or a TorchScript file"
                    .into(),
            })
        }
    }

    /// Loads a crate checkpoint: a variant folder, or the
    /// `model.safetensors` inside one.
    pub fn open_checkpoint(model: &Path, data: &Path) -> Result<Self> {
        let dir = if model.file_name().is_some_and(|n| n == MODEL_FILE) {
            model.parent().unwrap_or(Path::new("."))
        } else {
            model
        };
        let loaded = load_model(dir)?;
        let profile = &loaded.config.profile;
        let canvas = loaded.config.canvas()?;
        let (dataset, validation) = load_validation(data, profile.side, profile.validation_fraction, profile.seed)?;
        Ok(Checker {
            model: Box::new(loaded.model),
            canvas,
            name: display_name(dir),
            data: dataset,
            validation,
        })
    }

    /// Loads the TorchScript file `model` with `description`, probing it
    /// once, and the validation split that the description names.
    pub fn open_torchscript(model: &Path, description: ModelDescription, data: &Path) -> Result<Self> {
        let canvas = description.canvas()?;
        let (side, fraction, seed) = (description.side, description.validation_fraction, description.split_seed);
        let loaded = TorchScriptModel::load(model, description)?;
        let (dataset, validation) = load_validation(data, side, fraction, seed)?;
        Ok(Checker {
            model: Box::new(loaded),
            canvas,
            name: display_name(model),
            data: dataset,
            validation,
        })
    }

    /// Returns the model and canvas in the form the property engine takes.
    pub fn subject(&self) -> Subject<'_> {
        Subject {
            model: self.model.as_ref(),
            canvas: self.canvas,
        }
    }

    /// Checks every spec in `specs` (a file or a folder of `*.toml`).
    pub fn check(&self, specs: &Path) -> Result<Vec<PropertyOutcome>> {
        let subject = self.subject();
        load_specs(specs)?
            .iter()
            .map(|spec| check_property(&subject, &self.name, &self.data, &self.validation, spec))
            .collect()
    }

    /// Panics with the shrunk and worst counterexamples unless every
    /// property in `specs` holds.
    pub fn assert_holds(&self, specs: &Path) {
        let outcomes = self.check(specs).unwrap_or_else(|e| panic!("{e}"));
        let failures: Vec<String> = outcomes.iter().filter(|o| !o.holds).map(|o| o.to_string()).collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}

/// Loads the dataset at `data` resized to `side` and returns it with the
/// dataset indices of its validation split.
fn load_validation(data: &Path, side: i64, fraction: f64, seed: u64) -> Result<(Dataset, Vec<usize>)> {
    let (folder, _) = ButterflyFolder::open(data, false)?;
    let (dataset, _) = Dataset::load(&folder, side, false)?;
    let split = stratified_split(&dataset.species, fraction, seed);
    if split.validation.is_empty() {
        return Err(Error::dataset(data, "the validation split is empty"));
    }
    Ok((dataset, split.validation))
}
