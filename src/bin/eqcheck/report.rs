//! `eqcheck report`: charts, pictures, tables, an HTML page and a Markdown
//! summary for a reproduce run, optionally with property results.

use std::path::PathBuf;

use clap::Args;
use eqcheck::experiment::VARIANTS;
use eqcheck::properties::{check_property, load_specs, Subject};
use eqcheck::report::{build_report, ReportInputs};
use eqcheck::training::load_model;

use crate::evaluate::{load_run_data, variant_dir};
use crate::DataArgs;

#[derive(Args)]
pub struct ReportArgs {
    /// Run folder written by `eqcheck reproduce` (after `eqcheck evaluate`).
    run: PathBuf,

    /// Folder for the report; defaults to <run>/report.
    #[arg(long)]
    out: Option<PathBuf>,

    /// Property specs (a file or folder) to check every model against and tabulate.
    #[arg(long)]
    properties: Option<PathBuf>,

    /// Lowest IoU drawn as the pass band of the rotation charts.
    #[arg(long, default_value_t = 0.9)]
    band: f64,

    #[command(flatten)]
    data: DataArgs,
}

pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    anyhow::ensure!((0.0..=1.0).contains(&args.band), "invalid --band {}: must be in [0, 1]", args.band);
    args.data.apply_threads()?;
    let (_, data, split) = load_run_data(&args.run, &args.data)?;

    let mut checks = Vec::new();
    if let Some(specs) = &args.properties {
        let specs = load_specs(specs)?;
        for variant in &VARIANTS {
            let dir = variant_dir(&args.run, variant);
            let loaded = load_model(&dir)?;
            let subject = Subject {
                model: &loaded.model,
                canvas: loaded.config.canvas()?,
            };
            let name = loaded.config.variant_name();
            for spec in &specs {
                tell!("checking {} on {name}", spec.spec.name);
                checks.push(check_property(&subject, &name, &data, &split.validation, spec)?);
            }
        }
    }

    let out = args.out.unwrap_or_else(|| args.run.join("report"));
    let inputs = ReportInputs {
        run: &args.run,
        data: &data,
        validation: &split.validation,
        checks: &checks,
        band: args.band,
        out: &out,
    };
    let page = build_report(&inputs, &mut |step| tell!("report: {step}"))?;
    say!("report written to {}", page.display());
    say!("summary written to {}", out.join("summary.md").display());
    Ok(())
}
