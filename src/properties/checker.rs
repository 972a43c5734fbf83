//! A model and the validation images it is checked on, loaded once, for
//! the CLI and for `#[test]` functions:
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
use crate::data::{stratified_split, ButterflyFolder, Dataset};
use crate::error::{Error, Result};
use crate::training::{load_model, LoadedModel, MODEL_FILE};

/// A loaded model with the validation split of the profile it was trained
/// with.
pub struct Checker {
    pub model: LoadedModel,
    /// Folder name of the model, used in reports.
    pub name: String,
    pub data: Dataset,
    /// Dataset indices of the validation split.
    pub validation: Vec<usize>,
}

impl Checker {
    /// Loads the model in `model` (a variant folder, or the
    /// `model.safetensors` inside one) and the dataset at `data`.
    pub fn open(model: &Path, data: &Path) -> Result<Self> {
        let dir = if model.file_name().is_some_and(|n| n == MODEL_FILE) {
            model.parent().unwrap_or(Path::new("."))
        } else {
            model
        };
        let loaded = load_model(dir)?;
        let profile = &loaded.config.profile;
        let (folder, _) = ButterflyFolder::open(data, false)?;
        let (dataset, _) = Dataset::load(&folder, profile.side, false)?;
        let split = stratified_split(&dataset.species, profile.validation_fraction, profile.seed);
        if split.validation.is_empty() {
            return Err(Error::dataset(data, "the validation split is empty"));
        }
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| dir.display().to_string());
        Ok(Checker {
            model: loaded,
            name,
            data: dataset,
            validation: split.validation,
        })
    }

    /// Checks every spec in `specs` (a file or a folder of `*.toml`).
    pub fn check(&self, specs: &Path) -> Result<Vec<PropertyOutcome>> {
        let canvas = self.model.config.canvas()?;
        let subject = Subject {
            model: self.model.model.as_ref(),
            canvas,
        };
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
