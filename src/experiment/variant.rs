//! Loading the data once, and evaluating one trained variant: its training
//! metrics, its rotation sweep over the validation split and over one
//! sample image, and their summaries.

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::paper::{paper_reference, PaperRow};
use crate::data::{stratified_split, ButterflyFolder, Dataset, Split};
use crate::error::{Error, Result};
use crate::eval::{summarise, sweep, AngleSummary, RotationSweep, SWEEP_BATCH};
use crate::models::Arch;
use crate::training::{load_model, EpochMetrics, Profile, METRICS_FILE};
use crate::transforms::Augmentation;

/// The four variants in report order.
pub const VARIANTS: [(Arch, Augmentation); 4] = [
    (Arch::Unet, Augmentation::Minimal),
    (Arch::Unet, Augmentation::Full),
    (Arch::GroupUnet, Augmentation::Minimal),
    (Arch::GroupUnet, Augmentation::Full),
];

/// Loads the dataset at the profile's side and splits it with its seed.
/// Returns the errors of skipped samples when `skip_bad` is set.
pub fn load_data(dir: &Path, profile: &Profile, skip_bad: bool) -> Result<(Dataset, Split, Vec<Error>)> {
    profile.canvas()?;
    let (folder, mut skipped) = ButterflyFolder::open(dir, skip_bad)?;
    let (data, bad) = Dataset::load(&folder, profile.side, skip_bad)?;
    skipped.extend(bad);
    // NOTE: the split is derived from the loaded samples and the seed, not
    // stored with a run, so another data folder or skipped samples change
    // it; storing the validation ids in the run folder would pin it.
    let split = stratified_split(&data.species, profile.validation_fraction, profile.seed);
    if split.train.is_empty() || split.validation.is_empty() {
        return Err(Error::dataset(
            dir,
            format!(
                "{} usable samples leave {} for training and {} for validation; both need at least one",
                data.len(),
                split.train.len(),
                split.validation.len()
            ),
        ));
    }
    Ok((data, split, skipped))
}

/// The machine a run was measured on, for the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineInfo {
    pub cpu: String,
    pub cores: usize,
    pub torch_threads: i32,
    pub os: String,
}

impl MachineInfo {
    /// Describes this machine.
    pub fn current() -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|line| line.starts_with("model name"))
                    .and_then(|line| line.split(':').nth(1))
                    .map(|name| name.trim().to_string())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        MachineInfo {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            torch_threads: tch::get_num_threads(),
            os: std::env::consts::OS.to_string(),
        }
    }
}

/// Sweep figures of one sample image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleResult {
    pub image_id: String,
    pub truth_by_angle: Vec<f64>,
    pub consistency_by_angle: Vec<f64>,
    pub truth: AngleSummary,
    pub consistency: AngleSummary,
}

/// Everything the report shows of one variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantResult {
    pub arch: Arch,
    pub augmentation: Augmentation,
    pub parameters: i64,
    pub epochs: usize,
    /// Mean per-image IoU over the last epoch's augmented training batches.
    pub train_iou: f64,
    /// Mean per-image IoU over the validation split after the last epoch.
    pub validation_iou: f64,
    pub training_seconds: f64,
    pub paper: PaperRow,
    /// Label-free IoU against the unrotated prediction, over angles.
    pub consistency: AngleSummary,
    /// IoU against the ground truth, over angles.
    pub truth: AngleSummary,
    pub consistency_by_angle: Vec<f64>,
    pub truth_by_angle: Vec<f64>,
    pub sample: SampleResult,
    pub evaluation_seconds: f64,
}

/// A whole reproduce run: the settings, the machine and the four variants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentResults {
    /// The command line that produced these results.
    pub command: String,
    pub machine: MachineInfo,
    pub profile: Profile,
    pub validation_images: usize,
    pub angles_deg: Vec<f64>,
    pub variants: Vec<VariantResult>,
}

/// Reads the per-epoch metrics of a variant folder.
pub fn read_metrics(dir: &Path) -> Result<Vec<EpochMetrics>> {
    let path = dir.join(METRICS_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line).map_err(|e| Error::Checkpoint {
                path: path.clone(),
                reason: format!("line {}: {e}", i + 1),
            })
        })
        .collect()
}

/// Loads the variant in `dir`, sweeps it over `angles_deg` on the
/// validation split and on the sample at `sample_index`, writes the
/// per-image sweep to `dir/sweep.json` and returns the summaries.
pub fn evaluate_variant(
    dir: &Path,
    data: &Dataset,
    split: &Split,
    sample_index: usize,
    angles_deg: &[f64],
    on_angle: &mut dyn FnMut(usize),
) -> Result<VariantResult> {
    let started = Instant::now();
    let loaded = load_model(dir)?;
    let canvas = loaded.config.canvas()?;
    let metrics = read_metrics(dir)?;
    let last = metrics.last().ok_or_else(|| Error::Checkpoint {
        path: dir.join(METRICS_FILE),
        reason: "no finished epoch recorded".into(),
    })?;

    let model = loaded.model.as_ref();
    let result = sweep(model, &canvas, data, &split.validation, angles_deg, SWEEP_BATCH, on_angle)?;
    let sample = sweep(model, &canvas, data, &[sample_index], angles_deg, 1, &mut |_| {})?;
    write_sweep(dir, &result)?;

    let summary = |values: &[f64]| {
        summarise(angles_deg, values).ok_or_else(|| Error::InvalidOption {
            name: "angles",
            value: format!("{} angles", angles_deg.len()),
            reason: "the sweep needs at least one angle".into(),
        })
    };
    let consistency_by_angle = result.mean_consistency_by_angle();
    let truth_by_angle = result.mean_truth_by_angle();
    let sample_truth = sample.mean_truth_by_angle();
    let sample_consistency = sample.mean_consistency_by_angle();
    let config = &loaded.config;
    let parameters = loaded.vars.trainable_variables().iter().map(|t| t.numel() as i64).sum();
    Ok(VariantResult {
        arch: config.arch,
        augmentation: config.augmentation,
        parameters,
        epochs: metrics.len(),
        train_iou: last.train_iou,
        validation_iou: last.validation_iou,
        training_seconds: metrics.iter().map(|m| m.seconds).sum(),
        paper: paper_reference(config.arch, config.augmentation),
        consistency: summary(&consistency_by_angle)?,
        truth: summary(&truth_by_angle)?,
        sample: SampleResult {
            image_id: data.ids[sample_index].clone(),
            truth: summary(&sample_truth)?,
            consistency: summary(&sample_consistency)?,
            truth_by_angle: sample_truth,
            consistency_by_angle: sample_consistency,
        },
        consistency_by_angle,
        truth_by_angle,
        evaluation_seconds: started.elapsed().as_secs_f64(),
    })
}

/// Writes the per-image sweep of a variant as JSON.
fn write_sweep(dir: &Path, result: &RotationSweep) -> Result<()> {
    let path = dir.join("sweep.json");
    let json = serde_json::to_vec(result).map_err(|e| Error::Report {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    crate::training::write_atomically(&path, &json)
}
