//! `eqcheck check`: run property specs against a trained model; the exit
//! code is the CI gate.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use eqcheck::properties::Checker;
use eqcheck::report::{check_table, write_check_results};

#[derive(Args)]
pub struct CheckArgs {
    /// Variant folder written by `eqcheck train` (or its model.safetensors).
    #[arg(long)]
    model: PathBuf,

    /// Property spec files or folders of `*.toml` specs.
    #[arg(required = true)]
    specs: Vec<PathBuf>,

    /// Folder for check.json, junit.xml and check.md; defaults to <model>/check.
    #[arg(long)]
    out: Option<PathBuf>,

    /// Dataset folder in the Leeds Butterfly layout.
    #[arg(long, env = "EQCHECK_DATA")]
    data: PathBuf,

    /// libtorch threads; defaults to the number of cores.
    #[arg(long)]
    threads: Option<i32>,
}

/// Returns whether every property held.
pub fn run(args: CheckArgs) -> anyhow::Result<bool> {
    crate::DataArgs {
        data: args.data.clone(),
        skip_bad: false,
        threads: args.threads,
    }
    .apply_threads()?;
    let checker = Checker::open(&args.model, &args.data)?;
    let mut outcomes = Vec::new();
    for specs in &args.specs {
        let found = checker
            .check(specs)
            .with_context(|| format!("checking {} against {}", args.model.display(), specs.display()))?;
        for outcome in &found {
            eprintln!("{outcome}");
        }
        outcomes.extend(found);
    }
    let out = args.out.unwrap_or_else(|| args.model.join("check"));
    write_check_results(&out, &outcomes)?;
    say!("{}", check_table(&outcomes));
    say!("results written to {}", out.display());
    Ok(outcomes.iter().all(|o| o.holds))
}
