//! The resume point of a training run: after every epoch, one
//! safetensors file holds the weights, AdamW's moments and step, and the
//! number of finished epochs. Since the shuffle and the augmentation of an
//! epoch depend only on the seed and the epoch number, a run that resumes
//! from this file continues exactly as if it had never stopped.

use std::collections::BTreeMap;
use std::path::Path;

use tch::{nn, Tensor};

use super::adamw::AdamW;
use super::checkpoint::temporary_path;
use crate::error::{Error, Result};

/// The resume point inside a variant's folder.
pub const STATE_FILE: &str = "training-state.safetensors";

/// Prefix of the model weights inside the state file.
const WEIGHTS: &str = "model.";
/// Name of the finished-epoch counter inside the state file.
const EPOCH: &str = "epoch";

/// Writes the resume point after `epoch` finished epochs to `path`, through
/// a temporary file and a rename.
pub fn save_state(path: &Path, vars: &nn::VarStore, optimizer: &AdamW, epoch: usize) -> Result<()> {
    let mut named: Vec<(String, Tensor)> = vars
        .variables()
        .into_iter()
        .map(|(name, tensor)| (format!("{WEIGHTS}{name}"), tensor))
        .collect();
    named.extend(optimizer.state());
    named.push((EPOCH.to_string(), Tensor::from(epoch as i64)));
    let temporary = temporary_path(path);
    Tensor::write_safetensors(&named, &temporary).map_err(|e| Error::Checkpoint {
        path: temporary.clone(),
        reason: format!("could not save the training state: {e}"),
    })?;
    std::fs::rename(&temporary, path).map_err(|e| Error::io(path, e))
}

/// Loads the resume point at `path` into `vars` and `optimizer` and
/// returns the number of finished epochs.
pub fn restore_state(path: &Path, vars: &nn::VarStore, optimizer: &mut AdamW) -> Result<usize> {
    let invalid = |reason: String| Error::Checkpoint {
        path: path.to_path_buf(),
        reason,
    };
    let named: BTreeMap<String, Tensor> = Tensor::read_safetensors(path)
        .map_err(|e| invalid(format!("not a readable training state: {}", first_line(&e.to_string()))))?
        .into_iter()
        .collect();
    let epoch = named
        .get(EPOCH)
        .ok_or_else(|| invalid(format!("training state has no `{EPOCH}`")))?
        .f_int64_value(&[])
        .map_err(|e| invalid(format!("bad `{EPOCH}`: {e}")))?;
    let epoch = usize::try_from(epoch).map_err(|_| invalid(format!("negative `{EPOCH}` {epoch}")))?;

    let _no_grad = tch::no_grad_guard();
    for (name, mut variable) in vars.variables() {
        let key = format!("{WEIGHTS}{name}");
        let saved = named
            .get(&key)
            .ok_or_else(|| invalid(format!("training state has no weights `{key}`")))?;
        if saved.size() != variable.size() {
            return Err(invalid(format!(
                "weights `{key}` have shape {:?}, the model needs {:?}",
                saved.size(),
                variable.size()
            )));
        }
        variable.copy_(saved);
    }
    optimizer.restore(&named, path)?;
    Ok(epoch)
}

/// Returns the first line of a libtorch message, without its backtrace.
fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or_default()
}
