//! Export of a crate-trained model as TorchScript: the model is traced on
//! its own canvas, so the file takes what the crate's model takes,
//! `[batch, 3, P, P]` ImageNet-normalised RGB, and returns
//! `[batch, 1, P, P]` mask logits. Its description is written beside it.

use std::path::{Path, PathBuf};

use tch::{CModule, Device, Kind, Tensor};

use super::description::{description_path, ModelDescription};
use super::module::{torch_message, TorchScriptModel};
use crate::error::{Error, Result};
use crate::models::Predictor;
use crate::training::{load_model, write_atomically};

/// Largest difference in foreground probability allowed between the
/// exported file and the checkpoint. Both run the same libtorch kernels,
/// so only the order of float operations may differ.
const EXPORT_TOLERANCE: f64 = 1e-4;

/// Canvases the exported file is compared with the checkpoint on.
const COMPARED_CANVASES: i64 = 3;

/// The files an export wrote, and how closely the exported model follows
/// the checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    pub model: PathBuf,
    pub description_file: PathBuf,
    pub description: ModelDescription,
    /// Largest difference in foreground probability between the exported
    /// file and the checkpoint over a few patterned canvases.
    pub max_difference: f64,
}

/// Traces the model in the variant folder `dir`, saves it as TorchScript
/// at `out` with its description at `out` + `.toml`, then loads the file
/// back and compares it with the checkpoint.
///
/// Tracing records the operations run on one example input, so the file
/// takes only the canvas side the model was trained on. Any batch size
/// works.
pub fn export_torchscript(dir: &Path, out: &Path) -> Result<Export> {
    if out.is_dir() {
        return Err(Error::TorchScript {
            path: out.to_path_buf(),
            reason: "is a folder; give a file name such as model.pt".into(),
        });
    }
    let mut loaded = load_model(dir)?;
    // Traced weights become constants of the graph, which libtorch accepts
    // only for tensors that do not require gradients.
    loaded.vars.freeze();
    let canvas = loaded.config.canvas()?;
    let description = ModelDescription::for_profile(&loaded.config.profile);

    let module = {
        let _no_grad = tch::no_grad_guard();
        let example = Tensor::zeros([1, 3, canvas.canvas, canvas.canvas], (Kind::Float, Device::Cpu));
        let model = loaded.model.as_ref();
        CModule::create_by_tracing("eqcheck", "forward", &[example], &mut |inputs| {
            vec![model.forward(&inputs[0], false)]
        })
        .map_err(|e| Error::TorchScript {
            path: dir.to_path_buf(),
            reason: format!("tracing the model failed: {}", torch_message(&e)),
        })?
    };

    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    // libtorch names the archive's root after the part of the file name
    // before a dot and rejects an empty one, such as that of `.tmp-model`,
    // so the temporary name starts with the whole name: `model.partial`.
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = out.with_file_name(format!("{name}.partial"));
    module.save(&temporary).map_err(|e| Error::TorchScript {
        path: temporary.clone(),
        reason: format!("could not save the TorchScript file: {}", torch_message(&e)),
    })?;
    std::fs::rename(&temporary, out).map_err(|e| Error::io(out, e))?;
    let description_file = description_path(out);
    write_atomically(&description_file, description.to_toml().as_bytes())?;

    let exported = TorchScriptModel::load(out, description.clone())?;
    let canvases = patterned_canvases(canvas.canvas);
    let native = loaded.model.predict(&canvases)?;
    let traced = exported.predict(&canvases)?;
    let max_difference = (native - traced).abs().max().double_value(&[]);
    if max_difference > EXPORT_TOLERANCE {
        return Err(Error::TorchScript {
            path: out.to_path_buf(),
            reason: format!(
                "the exported model differs from the checkpoint in {} by {max_difference:.2e} in \
                 foreground probability (allowed {EXPORT_TOLERANCE:.0e})",
                dir.display()
            ),
        });
    }
    Ok(Export {
        model: out.to_path_buf(),
        description_file,
        description,
        max_difference,
    })
}

/// Returns deterministic canvases `[3, 3, P, P]` with values spread over
/// [0, 1], without touching libtorch's global random generator.
fn patterned_canvases(side: i64) -> Tensor {
    let count = COMPARED_CANVASES * 3 * side * side;
    let values = (Tensor::arange(count, (Kind::Float, Device::Cpu)) * 0.37).sin() * 0.5 + 0.5;
    values.view([COMPARED_CANVASES, 3, side, side])
}
