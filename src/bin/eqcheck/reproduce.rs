//! `eqcheck reproduce`: train the four variants on one split, then
//! evaluate them under rotation and write the report.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use eqcheck::experiment::{load_data, VARIANTS};
use eqcheck::training::{check_resumable, train, RunConfig, Start, MODEL_FILE};

use crate::evaluate::{evaluate_run, variant_dir};
use crate::progress::training_bar;
use crate::train::report_skipped;
use crate::{DataArgs, ProfileArgs};

#[derive(Args)]
pub struct ReproduceArgs {
    /// Run folder for the four variants and the report; defaults to reports/<profile>.
    #[arg(long)]
    out: Option<PathBuf>,

    /// Train again even where the run folder already contains a checkpoint.
    #[arg(long, conflicts_with = "resume")]
    force: bool,

    /// Go on with an interrupted run: finished variants are kept and the
    /// others continue from their last finished epoch.
    #[arg(long)]
    resume: bool,

    #[command(flatten)]
    data: DataArgs,

    #[command(flatten)]
    profile: ProfileArgs,
}

pub fn run(args: ReproduceArgs) -> anyhow::Result<()> {
    args.data.apply_threads()?;
    let profile = args.profile.profile()?;
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from("reports").join(profile.name.to_string()));
    anyhow::ensure!(
        !out.exists() || out.is_dir(),
        "{}: --out names a run folder, and this path is a file",
        out.display()
    );
    for variant in &VARIANTS {
        let existing = variant_dir(&out, variant).join(MODEL_FILE);
        anyhow::ensure!(
            args.force || args.resume || !existing.exists(),
            "{} already exists; pass --resume to go on with it, --force to train again, or run `eqcheck evaluate {}` to re-evaluate it",
            existing.display(),
            out.display()
        );
        if args.resume {
            let config = RunConfig {
                arch: variant.0,
                augmentation: variant.1,
                profile: profile.clone(),
            };
            check_resumable(&variant_dir(&out, variant), &config)?;
        }
    }

    let (data, split, skipped) = load_data(&args.data.data, &profile, args.data.skip_bad)?;
    report_skipped(&skipped);
    tell!(
        "reproducing on {} training and {} validation images into {}",
        split.train.len(),
        split.validation.len(),
        out.display()
    );
    for &(arch, augmentation) in &VARIANTS {
        let config = RunConfig {
            arch,
            augmentation,
            profile: profile.clone(),
        };
        let dir = variant_dir(&out, &(arch, augmentation));
        let start = if args.resume { Start::Resume } else { Start::Fresh };
        train(&config, &data, &split, &dir, start, &mut training_bar(config.variant_name()))
            .with_context(|| format!("training {}", config.variant_name()))?;
    }
    evaluate_run(&out, &data, &split, &profile, None)
}
