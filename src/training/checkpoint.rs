//! A variant's run folder: `config.json` says how to rebuild the model,
//! `model.safetensors` holds its weights and `metrics.jsonl` one line of
//! metrics per epoch. Every file is written to a temporary name and renamed
//! into place, so a reader never sees half a file.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::{nn, Device};

use super::profile::Profile;
use crate::data::Canvas;
use crate::error::{Error, Result};
use crate::models::{self, Arch, SegmentationModel};
use crate::transforms::Augmentation;

/// Weights of the latest finished epoch.
pub const MODEL_FILE: &str = "model.safetensors";
/// The variant's [`RunConfig`] as JSON.
pub const CONFIG_FILE: &str = "config.json";
/// One JSON object of epoch metrics per line.
pub const METRICS_FILE: &str = "metrics.jsonl";

/// Settings that rebuild a checkpoint's model: the architecture, and the
/// profile with its width and canvas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    pub arch: Arch,
    pub augmentation: Augmentation,
    pub profile: Profile,
}

impl RunConfig {
    /// Returns the canvas geometry the model was trained on.
    pub fn canvas(&self) -> Result<Canvas> {
        self.profile.canvas()
    }

    /// Folder name of the variant inside a reproduce run, for example
    /// `group-unet-full`.
    pub fn variant_name(&self) -> String {
        format!("{}-{}", self.arch, self.augmentation)
    }
}

/// A model rebuilt from a variant folder, with the variables it reads.
pub struct LoadedModel {
    pub config: RunConfig,
    pub vars: nn::VarStore,
    pub model: Box<dyn SegmentationModel>,
}

/// Rebuilds the model described by `dir/config.json` and loads
/// `dir/model.safetensors` into it.
pub fn load_model(dir: &Path) -> Result<LoadedModel> {
    if !dir.is_dir() {
        return Err(Error::Checkpoint {
            path: dir.to_path_buf(),
            reason: "model folder not found; expected a folder with config.json and model.safetensors".into(),
        });
    }
    let config_path = dir.join(CONFIG_FILE);
    if !config_path.is_file() {
        return Err(Error::Checkpoint {
            path: config_path,
            reason: "run config not found; a model folder holds config.json beside model.safetensors".into(),
        });
    }
    let text = std::fs::read_to_string(&config_path).map_err(|e| Error::io(&config_path, e))?;
    let invalid = |reason: String| Error::Checkpoint {
        path: config_path.clone(),
        reason: format!("invalid run config: {reason}"),
    };
    let config: RunConfig = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    // A model is built from these sizes before any weight is read, so an
    // edited config fails here and not inside libtorch.
    config.profile.validate().map_err(|e| invalid(e.to_string()))?;

    let mut vars = nn::VarStore::new(Device::Cpu);
    let model = models::build(&vars.root(), config.arch, config.profile.base_width);
    let weights = dir.join(MODEL_FILE);
    if !weights.is_file() {
        return Err(Error::Checkpoint {
            path: weights,
            reason: "checkpoint not found".into(),
        });
    }
    vars.load(&weights).map_err(|e| {
        // libtorch appends a C++ backtrace; its first line is the message.
        let message = e.to_string();
        let first_line = message.lines().next().unwrap_or_default().to_string();
        Error::Checkpoint {
            path: weights.clone(),
            reason: format!(
                "could not load weights for a {} of base width {} (corrupt file, or config.json \
                 describes another model): {first_line}",
                config.arch, config.profile.base_width
            ),
        }
    })?;
    Ok(LoadedModel {
        config,
        vars,
        model,
    })
}

/// Returns the temporary name a file is written under before its rename.
pub(crate) fn temporary_path(path: &Path) -> PathBuf {
    // The extension stays last because tch picks the weight format from it.
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    path.with_file_name(format!(".tmp-{name}"))
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let temporary = temporary_path(path);
    let mut file = std::fs::File::create(&temporary).map_err(|e| Error::io(&temporary, e))?;
    file.write_all(bytes).map_err(|e| Error::io(&temporary, e))?;
    file.sync_all().map_err(|e| Error::io(&temporary, e))?;
    std::fs::rename(&temporary, path).map_err(|e| Error::io(path, e))
}

/// Saves the variables to `path` (safetensors) through a temporary file
/// and a rename.
pub fn save_weights_atomically(vars: &nn::VarStore, path: &Path) -> Result<()> {
    let temporary = temporary_path(path);
    vars.save(&temporary).map_err(|e| Error::Checkpoint {
        path: temporary.clone(),
        reason: format!("could not save weights: {e}"),
    })?;
    std::fs::rename(&temporary, path).map_err(|e| Error::io(path, e))
}
