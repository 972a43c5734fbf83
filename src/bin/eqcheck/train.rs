//! `eqcheck train`: one architecture with one augmentation pipeline.

use std::path::PathBuf;

use clap::Args;
use eqcheck::experiment::load_data;
use eqcheck::models::Arch;
use eqcheck::text::count;
use eqcheck::training::{check_resumable, train, RunConfig, Start, STATE_FILE};
use eqcheck::transforms::Augmentation;

use crate::progress::training_bar;
use crate::{DataArgs, ProfileArgs};

#[derive(Args)]
pub struct TrainArgs {
    /// Architecture to train.
    #[arg(long, value_enum)]
    arch: Arch,

    /// Augmentation pipeline.
    #[arg(long = "augment", value_enum, default_value_t = Augmentation::Minimal)]
    augmentation: Augmentation,

    /// Folder for the checkpoint, config and per-epoch metrics; defaults to
    /// runs/<arch>-<augment>.
    #[arg(long)]
    out: Option<PathBuf>,

    /// Overwrite a checkpoint that the output folder already contains.
    #[arg(long, conflicts_with = "resume")]
    force: bool,

    /// Go on from the last finished epoch of an interrupted run in the
    /// output folder, with the same result as an uninterrupted run. Starts
    /// afresh when the folder contains no run yet, and rejects a folder with
    /// weights but no resume point, or with other settings.
    #[arg(long)]
    resume: bool,

    #[command(flatten)]
    data: DataArgs,

    #[command(flatten)]
    profile: ProfileArgs,
}

pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    args.data.apply_threads()?;
    let profile = args.profile.profile()?;
    let config = RunConfig {
        arch: args.arch,
        augmentation: args.augmentation,
        profile,
    };
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from("runs").join(config.variant_name()));

    anyhow::ensure!(
        !out.exists() || out.is_dir(),
        "{}: --out names a run folder, and this path is a file",
        out.display()
    );
    let existing = out.join(eqcheck::training::MODEL_FILE);
    anyhow::ensure!(
        args.force || args.resume || !existing.exists(),
        "{} already exists; pass --resume to go on with it or --force to overwrite it",
        existing.display()
    );
    if args.resume {
        // Checked before the data loads, so a wrong option fails at once.
        check_resumable(&out, &config)?;
        if !out.join(STATE_FILE).exists() {
            tell!("{}: no resume point in {}, so training starts afresh", config.variant_name(), out.display());
        }
    }
    let (data, split, skipped) = load_data(&args.data.data, &config.profile, args.data.skip_bad)?;
    report_skipped(&skipped);
    tell!(
        "training {} on {} images, validating on {}",
        config.variant_name(),
        split.train.len(),
        split.validation.len()
    );
    let start = if args.resume { Start::Resume } else { Start::Fresh };
    let outcome = train(&config, &data, &split, &out, start, &mut training_bar(config.variant_name()))?;
    if let Some(last) = outcome.last() {
        say!(
            "{}: train IoU {:.4}, validation IoU {:.4} after {}; checkpoint in {}",
            config.variant_name(),
            last.train_iou,
            last.validation_iou,
            count(last.epoch, "epoch"),
            out.display()
        );
    }
    Ok(())
}

/// Prints how many samples `--skip-bad` left out, and why.
pub fn report_skipped(skipped: &[eqcheck::Error]) {
    if skipped.is_empty() {
        return;
    }
    tell!("skipped {}:", count(skipped.len(), "bad sample"));
    for error in skipped {
        tell!("  {error}");
    }
}
