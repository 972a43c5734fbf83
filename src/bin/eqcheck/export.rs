//! `eqcheck export`: write a crate-trained model as a TorchScript file,
//! with the description that `eqcheck check` reads beside it.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use eqcheck::torchscript::export_torchscript;

#[derive(Args)]
pub struct ExportArgs {
    /// Variant folder written by `eqcheck train` (config.json and model.safetensors).
    #[arg(long)]
    model: PathBuf,

    /// TorchScript file to write, such as model.pt; its description goes to <out>.toml.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let export = export_torchscript(&args.model, &args.out)?;
    let canvas = export.description.canvas;
    say!("TorchScript model written to {}", export.model.display());
    say!("description written to {}", export.description_file.display());
    say!("input: [batch, 3, {canvas}, {canvas}] ImageNet-normalised RGB; output: [batch, 1, {canvas}, {canvas}] mask logits");
    say!(
        "largest difference from the checkpoint: {:.2e} in foreground probability ({:.1} s)",
        export.max_difference,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
