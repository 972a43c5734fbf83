//! `eqcheck evaluate`: the rotation evaluation and report of a run folder
//! whose four variants are already trained.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use eqcheck::data::{Dataset, Split};
use eqcheck::eval::sweep_angles;
use eqcheck::experiment::{evaluate_variant, load_data, ExperimentResults, MachineInfo, VARIANTS};
use eqcheck::report::write_results;
use eqcheck::training::{load_model, Profile, RunConfig};

use crate::progress::sweep_bar;
use crate::train::report_skipped;
use crate::{command_line, DataArgs};

#[derive(Args)]
pub struct EvaluateArgs {
    /// Run folder written by `eqcheck reproduce`, with one sub-folder per variant.
    run: PathBuf,

    /// Angle step of the rotation sweep in degrees; defaults to the profile's (10).
    #[arg(long)]
    angle_step: Option<f64>,

    #[command(flatten)]
    data: DataArgs,
}

pub fn run(args: EvaluateArgs) -> anyhow::Result<()> {
    args.data.apply_threads()?;
    let (profile, data, split) = load_run_data(&args.run, &args.data)?;
    evaluate_run(&args.run, &data, &split, &profile, args.angle_step)
}

/// Reads the profile of a run folder from its first variant, then loads
/// and splits the dataset the way that profile did.
pub fn load_run_data(run: &Path, data: &DataArgs) -> anyhow::Result<(Profile, Dataset, Split)> {
    let first = variant_dir(run, &VARIANTS[0]);
    let profile = load_model(&first)
        .with_context(|| format!("{} is not a reproduce run folder", run.display()))?
        .config
        .profile;
    let (dataset, split, skipped) = load_data(&data.data, &profile, data.skip_bad)?;
    report_skipped(&skipped);
    Ok((profile, dataset, split))
}

/// Returns the folder of a variant inside a run folder.
pub fn variant_dir(run: &Path, variant: &(eqcheck::models::Arch, eqcheck::transforms::Augmentation)) -> PathBuf {
    let config = RunConfig {
        arch: variant.0,
        augmentation: variant.1,
        profile: Profile::preset(eqcheck::training::ProfileName::Cpu),
    };
    run.join(config.variant_name())
}

/// Sweeps every variant of `run` over rotation angles and writes the
/// report files into `run`.
pub fn evaluate_run(
    run: &Path,
    data: &Dataset,
    split: &Split,
    profile: &Profile,
    angle_step: Option<f64>,
) -> anyhow::Result<()> {
    let mut profile = profile.clone();
    if let Some(step) = angle_step {
        profile.angle_step_deg = step;
    }
    let angles = sweep_angles(profile.angle_step_deg)?;
    let sample_index = split.validation[(profile.seed as usize) % split.validation.len()];

    let mut variants = Vec::new();
    for variant in &VARIANTS {
        let dir = variant_dir(run, variant);
        let label = format!("{}-{}", variant.0, variant.1);
        let bar = sweep_bar(&label, angles.len());
        let result = evaluate_variant(&dir, data, split, sample_index, &angles, &mut |done| bar.set_position(done as u64))
            .with_context(|| format!("evaluating {}", dir.display()))?;
        bar.finish_and_clear();
        tell!(
            "{label}: validation IoU {:.4}, rotation consistency mean {:.4}, min {:.4} at {:.0} degrees ({:.0} s)",
            result.validation_iou,
            result.consistency.mean,
            result.consistency.min,
            result.consistency.worst_angle_deg,
            result.evaluation_seconds
        );
        variants.push(result);
    }

    let results = ExperimentResults {
        command: command_line(),
        machine: MachineInfo::current(),
        profile,
        validation_images: split.validation.len(),
        angles_deg: angles,
        variants,
    };
    write_results(run, &results)?;
    say!("{}", eqcheck::report::markdown_table(&results));
    say!("report written to {}", run.join("results.md").display());
    Ok(())
}
