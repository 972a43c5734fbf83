//! The training loop: AdamW on binary cross-entropy of the mask logits,
//! with train and validation IoU after every epoch, and after each epoch
//! the metrics, a resume point and the latest weights in the variant's
//! folder.

use std::path::Path;
use std::time::Instant;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::nn;
use tch::{Device, Reduction, Tensor};

use super::adamw::{AdamW, AdamWConfig};
use super::checkpoint::{save_weights_atomically, write_atomically, RunConfig, CONFIG_FILE, METRICS_FILE, MODEL_FILE};
use super::resume::{restore_state, save_state, STATE_FILE};
use super::metrics::{binarize_logits, iou_per_image};
use crate::data::{Canvas, Dataset, Split};
use crate::error::{Error, Result};
use crate::models::{self, SegmentationModel};
use crate::transforms::{Augmentation, Augmenter};

/// The learning rate decays to this fraction of its peak.
const FINAL_LR_FRACTION: f64 = 0.05;
/// Share of all steps spent warming the learning rate up linearly.
const WARMUP_FRACTION: f64 = 0.05;
/// Images per forward pass when no gradient is needed.
const EVAL_BATCH: usize = 32;

/// Metrics of one finished epoch, one line of `metrics.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// Counted from 1.
    pub epoch: usize,
    pub train_loss: f64,
    /// Mean per-image IoU over the epoch's training batches, as augmented.
    pub train_iou: f64,
    /// Mean per-image IoU over the validation split, unaugmented.
    pub validation_iou: f64,
    /// Learning rate at the epoch's last step.
    pub learning_rate: f64,
    /// Wall-clock time of the epoch, validation included.
    pub seconds: f64,
}

/// The starting point of a training run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// From freshly initialised weights, replacing what the folder holds.
    Fresh,
    /// From the folder's resume point when it has one, otherwise fresh.
    Resume,
}

/// Progress reports sent while training runs.
pub enum TrainEvent<'a> {
    /// The run continues after `epoch` epochs that an earlier run finished.
    Resumed { epoch: usize },
    EpochStarted { epoch: usize, epochs: usize, batches: usize },
    BatchDone { loss: f64 },
    EpochDone(&'a EpochMetrics),
}

/// All epochs' metrics of a finished run.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    pub epochs: Vec<EpochMetrics>,
}

impl TrainOutcome {
    /// Returns the metrics of the last epoch.
    pub fn last(&self) -> Option<&EpochMetrics> {
        self.epochs.last()
    }
}

/// Returns the learning rate at `step` of `total`: a linear warm-up, then
/// a cosine decay from `peak` to `FINAL_LR_FRACTION * peak`.
fn learning_rate(peak: f64, step: usize, total: usize) -> f64 {
    let warmup = ((total as f64 * WARMUP_FRACTION) as usize).max(1);
    if step < warmup {
        return peak * (step + 1) as f64 / warmup as f64;
    }
    let progress = (step - warmup) as f64 / (total - warmup).max(1) as f64;
    let floor = peak * FINAL_LR_FRACTION;
    floor + 0.5 * (peak - floor) * (1.0 + (std::f64::consts::PI * progress).cos())
}

/// Trains the variant that `config` describes on `split` of `data` and
/// writes its config, per-epoch metrics, resume point and latest weights
/// into `dir`.
///
/// With [`Start::Resume`], a run stopped at any moment (even killed) goes
/// on from its last finished epoch and ends with the same weights and
/// metrics as a run that never stopped, given the same thread count.
pub fn train(
    config: &RunConfig,
    data: &Dataset,
    split: &Split,
    dir: &Path,
    start: Start,
    on_event: &mut dyn FnMut(TrainEvent),
) -> Result<TrainOutcome> {
    let profile = &config.profile;
    profile.validate()?;
    let canvas = profile.canvas()?;
    if canvas.side != data.side {
        return Err(Error::InvalidOption {
            name: "side",
            value: data.side.to_string(),
            reason: format!("the dataset was resized to {} but the profile expects {}", data.side, canvas.side),
        });
    }
    if split.train.is_empty() || split.validation.is_empty() {
        return Err(Error::dataset(
            dir,
            format!(
                "the split has {} training and {} validation images; both need at least one",
                split.train.len(),
                split.validation.len()
            ),
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    match start {
        Start::Resume => check_resumable(dir, config)?,
        Start::Fresh => {
            // A resume point of an earlier run in this folder must not
            // outlive the config.json that this run writes over it.
            let state = dir.join(STATE_FILE);
            if state.exists() {
                std::fs::remove_file(&state).map_err(|e| Error::io(&state, e))?;
            }
        }
    }
    let config_json = serde_json::to_vec_pretty(config).map_err(|e| Error::Report {
        path: dir.join(CONFIG_FILE),
        reason: e.to_string(),
    })?;
    write_atomically(&dir.join(CONFIG_FILE), &config_json)?;

    tch::manual_seed(profile.seed as i64);
    // NOTE: training and evaluation run on the CPU only; the `paper`
    // profile needs a device option (tch::Device::cuda_if_available) to
    // use a GPU.
    let vars = nn::VarStore::new(Device::Cpu);
    let model = models::build(&vars.root(), config.arch, profile.base_width);
    let mut optimizer = AdamW::new(
        &vars,
        AdamWConfig {
            weight_decay: profile.weight_decay,
            ..Default::default()
        },
    );

    let epochs = profile.epochs(config.arch);
    let batches = split.train.len().div_ceil(profile.batch_size);
    let total_steps = epochs * batches;
    let augmenter = Augmenter::default();
    let state_path = dir.join(STATE_FILE);
    let metrics_path = dir.join(METRICS_FILE);
    let mut history = Vec::new();
    if start == Start::Resume && state_path.exists() {
        let finished = restore_state(&state_path, &vars, &mut optimizer)?;
        history = read_history(&metrics_path, finished)?;
        on_event(TrainEvent::Resumed { epoch: finished });
    }
    let mut metrics_text = String::new();
    if !history.is_empty() {
        // The lines of finished epochs are kept as written, so a resumed
        // file repeats them byte for byte.
        let text = std::fs::read_to_string(&metrics_path).map_err(|e| Error::io(&metrics_path, e))?;
        for line in text.lines().take(history.len()) {
            metrics_text.push_str(line);
            metrics_text.push('\n');
        }
    }
    let mut step = history.len() * batches;

    for epoch in history.len() + 1..=epochs {
        let started = Instant::now();
        on_event(TrainEvent::EpochStarted { epoch, epochs, batches });
        // Seeding per epoch makes every epoch's shuffle and augmentation a
        // function of (seed, epoch) alone.
        tch::manual_seed((profile.seed + epoch as u64) as i64);
        let mut order = split.train.clone();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(profile.seed ^ (epoch as u64) << 32));

        let mut loss_sum = 0.0;
        let mut train_ious = Vec::with_capacity(order.len());
        let mut lr = profile.learning_rate;
        for indices in order.chunks(profile.batch_size) {
            lr = learning_rate(profile.learning_rate, step, total_steps);
            let (images, masks) = data.batch(indices);
            let (images, masks) = match config.augmentation {
                Augmentation::Minimal => (images, masks),
                Augmentation::Full => augmenter.apply(&images, &masks),
            };
            let logits = model.forward(&canvas.model_input(&images), true);
            let loss = logits.binary_cross_entropy_with_logits::<Tensor>(
                &canvas.pad(&masks),
                None,
                None,
                Reduction::Mean,
            );
            let loss_value = loss.double_value(&[]);
            if !loss_value.is_finite() {
                return Err(Error::NonFinite {
                    context: format!("training loss of {} at epoch {epoch} in {}", config.variant_name(), dir.display()),
                });
            }
            optimizer.backward_step(&loss, lr);

            let predicted = binarize_logits(&canvas.crop(&logits.detach()));
            train_ious.extend(Vec::<f64>::try_from(iou_per_image(&predicted, &masks))?);
            loss_sum += loss_value * indices.len() as f64;
            step += 1;
            on_event(TrainEvent::BatchDone { loss: loss_value });
        }

        let validation_iou = evaluate_iou(model.as_ref(), &canvas, data, &split.validation)?;
        let metrics = EpochMetrics {
            epoch,
            train_loss: loss_sum / order.len() as f64,
            train_iou: train_ious.iter().sum::<f64>() / train_ious.len() as f64,
            validation_iou,
            learning_rate: lr,
            seconds: started.elapsed().as_secs_f64(),
        };
        tracing::info!(variant = %config.variant_name(), epoch, train_iou = metrics.train_iou, validation_iou, "epoch done");

        // Metrics first, then the resume point: a run killed between the
        // two resumes from the previous epoch and drops the extra line.
        metrics_text.push_str(&metrics_line(&metrics, &metrics_path)?);
        write_atomically(&metrics_path, metrics_text.as_bytes())?;
        save_state(&state_path, &vars, &optimizer, epoch)?;
        save_weights_atomically(&vars, &dir.join(MODEL_FILE))?;
        on_event(TrainEvent::EpochDone(&metrics));
        history.push(metrics);
    }
    Ok(TrainOutcome { epochs: history })
}

/// Returns `metrics` as one line of `metrics.jsonl`, newline included.
fn metrics_line(metrics: &EpochMetrics, path: &Path) -> Result<String> {
    let mut line = serde_json::to_string(metrics).map_err(|e| Error::Report {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    line.push('\n');
    Ok(line)
}

/// Reads the metrics of the first `epochs` epochs from `path`; lines after
/// them belong to an epoch whose resume point was never written.
fn read_history(path: &Path, epochs: usize) -> Result<Vec<EpochMetrics>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let history = text
        .lines()
        .take(epochs)
        .enumerate()
        .map(|(i, line)| {
            let invalid = |reason: String| Error::Checkpoint {
                path: path.to_path_buf(),
                reason: format!("line {}: {reason}", i + 1),
            };
            let metrics: EpochMetrics = serde_json::from_str(line).map_err(|e| invalid(e.to_string()))?;
            if metrics.epoch != i + 1 {
                return Err(invalid(format!("holds epoch {}, expected {}", metrics.epoch, i + 1)));
            }
            Ok(metrics)
        })
        .collect::<Result<Vec<EpochMetrics>>>()?;
    if history.len() < epochs {
        return Err(Error::Checkpoint {
            path: path.to_path_buf(),
            reason: format!("{} epochs of metrics, but the resume point is after epoch {epochs}", history.len()),
        });
    }
    Ok(history)
}

/// Checks that the run in `dir` can go on with `config`: its `config.json`
/// must describe the same run, because resuming with other settings would
/// mix two runs in one folder, and weights need a resume point beside
/// them. An empty or missing folder passes, and training starts afresh.
pub fn check_resumable(dir: &Path, config: &RunConfig) -> Result<()> {
    if !dir.join(STATE_FILE).exists() && dir.join(MODEL_FILE).exists() {
        return Err(Error::Checkpoint {
            path: dir.to_path_buf(),
            reason: format!("the folder contains weights but no {STATE_FILE} to resume from; train afresh with --force"),
        });
    }
    let path = dir.join(CONFIG_FILE);
    if !path.exists() {
        if dir.join(STATE_FILE).exists() {
            return Err(Error::Checkpoint {
                path,
                reason: format!(
                    "missing, so the settings that {STATE_FILE} was trained with are unknown; \
                     restore it, or train afresh with --force"
                ),
            });
        }
        return Ok(());
    }
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let saved: RunConfig = serde_json::from_str(&text).map_err(|e| Error::Checkpoint {
        path: path.clone(),
        reason: format!("invalid run config: {e}"),
    })?;
    if &saved != config {
        return Err(Error::Checkpoint {
            path,
            reason: format!(
                "the folder contains a run of {} with other settings ({}); resume it with the settings it was started with",
                saved.variant_name(),
                config_differences(&saved, config)
            ),
        });
    }
    Ok(())
}

/// Names the settings in which `saved` and `requested` differ, as
/// `key: saved -> requested`.
fn config_differences(saved: &RunConfig, requested: &RunConfig) -> String {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (flatten(saved), flatten(requested))
    else {
        return "unknown".to_string();
    };
    let changed: Vec<String> = a
        .iter()
        .filter(|(key, value)| b.get(*key) != Some(value))
        .map(|(key, value)| format!("{key}: {value} -> {}", b.get(key).unwrap_or(&serde_json::Value::Null)))
        .collect();
    changed.join(", ")
}

/// Returns `config` as one JSON object, with the profile's fields beside
/// the architecture and augmentation.
fn flatten(config: &RunConfig) -> serde_json::Result<serde_json::Value> {
    let mut value = serde_json::to_value(&config.profile)?;
    if let serde_json::Value::Object(fields) = &mut value {
        fields.insert("arch".into(), serde_json::to_value(config.arch)?);
        fields.insert("augmentation".into(), serde_json::to_value(config.augmentation)?);
    }
    Ok(value)
}

/// Returns the mean per-image IoU of `model` on the samples at `indices`,
/// without augmentation.
pub fn evaluate_iou(
    model: &dyn SegmentationModel,
    canvas: &Canvas,
    data: &Dataset,
    indices: &[usize],
) -> Result<f64> {
    let _no_grad = tch::no_grad_guard();
    let mut ious = Vec::with_capacity(indices.len());
    for chunk in indices.chunks(EVAL_BATCH) {
        let (images, masks) = data.batch(chunk);
        let logits = model.forward(&canvas.model_input(&images), false);
        let predicted = binarize_logits(&canvas.crop(&logits));
        ious.extend(Vec::<f64>::try_from(iou_per_image(&predicted, &masks))?);
    }
    Ok(ious.iter().sum::<f64>() / ious.len().max(1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learning_rate_warms_up_then_decays() {
        let total = 1000;
        assert!(learning_rate(1.0, 0, total) < 0.1);
        assert!((learning_rate(1.0, 50, total) - 1.0).abs() < 1e-3);
        let last = learning_rate(1.0, total - 1, total);
        assert!((last - FINAL_LR_FRACTION).abs() < 1e-3, "last rate {last}");
    }
}
