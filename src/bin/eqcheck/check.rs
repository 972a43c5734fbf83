//! `eqcheck check`: run property specs against a trained model or a
//! TorchScript file; the exit code is the CI gate.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use eqcheck::properties::{is_checkpoint, Checker};
use eqcheck::report::{check_table, write_check_results};
use eqcheck::torchscript::{description_path, ChannelOrder, ModelDescription, OutputKind};

#[derive(Args)]
pub struct CheckArgs {
    /// Variant folder written by `eqcheck train` (or its model.safetensors), or a TorchScript file.
    #[arg(long)]
    model: PathBuf,

    /// Property spec files or folders of `*.toml` specs.
    #[arg(required = true)]
    specs: Vec<PathBuf>,

    /// Folder for check.json, junit.xml and check.md; defaults to <model>/check for a
    /// variant folder and <model>-check beside a TorchScript file.
    #[arg(long)]
    out: Option<PathBuf>,

    /// Dataset folder in the Leeds Butterfly layout.
    #[arg(long, env = "EQCHECK_DATA")]
    data: PathBuf,

    /// libtorch threads; defaults to the number of cores.
    #[arg(long)]
    threads: Option<i32>,

    #[command(flatten)]
    description: DescriptionArgs,
}

// NOTE: a property spec has no `[model]` table, because one model is
// loaded and probed once for every spec of a run. Reading the description
// from a spec would need a rule for specs that disagree.
/// Options that describe a TorchScript model's input and output. Each one
/// overrides the description file, and unset options keep its values or
/// the defaults, which describe the crate's own models.
#[derive(Args)]
#[command(next_help_heading = "TorchScript model description")]
struct DescriptionArgs {
    /// Description file (TOML); defaults to <model>.toml beside the model when it exists.
    #[arg(long)]
    description: Option<PathBuf>,

    /// Side, in pixels, that images are resized to before padding [default: 96].
    #[arg(long)]
    side: Option<i64>,

    /// Side, in pixels, of the square canvas the model takes; at least side * sqrt(2) [default: 144].
    #[arg(long)]
    canvas: Option<i64>,

    /// Channel order of the model's input [default: rgb].
    #[arg(long, value_enum)]
    channel_order: Option<ChannelOrder>,

    /// Input values for black and white before normalisation, such as 0,255 [default: 0,1].
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    value_range: Option<Vec<f64>>,

    /// Per-channel mean subtracted, in the model's channel order and the units of --value-range
    /// [default: 0.485,0.456,0.406].
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    mean: Option<Vec<f64>>,

    /// Per-channel standard deviation divided by [default: 0.229,0.224,0.225].
    #[arg(long, value_delimiter = ',')]
    std: Option<Vec<f64>>,

    /// Kind of output the model returns [default: mask-logits].
    #[arg(long, value_enum)]
    output: Option<OutputKind>,
}

impl DescriptionArgs {
    /// Returns whether any option is set.
    fn any(&self) -> bool {
        self.description.is_some()
            || self.side.is_some()
            || self.canvas.is_some()
            || self.channel_order.is_some()
            || self.value_range.is_some()
            || self.mean.is_some()
            || self.std.is_some()
            || self.output.is_some()
    }

    /// Builds the description of `model`: the file named by --description,
    /// or the one beside the model, or the defaults, then the options.
    fn resolve(&self, model: &Path) -> anyhow::Result<ModelDescription> {
        let mut description = match &self.description {
            Some(path) => ModelDescription::load(path)?,
            None => ModelDescription::for_model(model)?,
        };
        if let Some(side) = self.side {
            description.side = side;
        }
        if let Some(canvas) = self.canvas {
            description.canvas = canvas;
        }
        if let Some(order) = self.channel_order {
            description.channel_order = order;
        }
        if let Some(range) = &self.value_range {
            description.value_range = to_array::<2>("--value-range", range)?;
        }
        if let Some(mean) = &self.mean {
            description.mean = to_array::<3>("--mean", mean)?;
        }
        if let Some(std) = &self.std {
            description.std = to_array::<3>("--std", std)?;
        }
        if let Some(output) = self.output {
            description.output = output;
        }
        // A description file is checked when it loads, so a value that
        // fails here came from an option.
        description.validate(Path::new("the command-line options"))?;
        Ok(description)
    }
}

/// Converts a comma-separated option to exactly `N` values.
fn to_array<const N: usize>(option: &str, values: &[f64]) -> anyhow::Result<[f64; N]> {
    values
        .try_into()
        .map_err(|_| anyhow::anyhow!("invalid {option}: expected {N} comma-separated values, got {}", values.len()))
}

/// Returns the default results folder of a model.
fn default_out(model: &Path) -> PathBuf {
    if model.is_dir() {
        return model.join("check");
    }
    let stem = model.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    model.with_file_name(format!("{stem}-check"))
}

/// Returns whether every property held.
pub fn run(args: CheckArgs) -> anyhow::Result<bool> {
    crate::DataArgs {
        data: args.data.clone(),
        skip_bad: false,
        threads: args.threads,
    }
    .apply_threads()?;
    let checker = if is_checkpoint(&args.model) {
        anyhow::ensure!(
            !args.description.any(),
            "{}: the description options apply to TorchScript files; a variant folder is described by its config.json",
            args.model.display()
        );
        Checker::open_checkpoint(&args.model, &args.data)?
    } else {
        anyhow::ensure!(
            args.model.exists(),
            "{}: model not found; expected a variant folder with config.json and model.safetensors, or a TorchScript file",
            args.model.display()
        );
        let description = args.description.resolve(&args.model)?;
        let sidecar = description_path(&args.model);
        let source = match &args.description.description {
            Some(path) => path.display().to_string(),
            None if sidecar.is_file() => sidecar.display().to_string(),
            None => "the defaults".to_string(),
        };
        tracing::info!(model = %args.model.display(), description = %source, "loading TorchScript model");
        Checker::open_torchscript(&args.model, description, &args.data)?
    };
    let mut outcomes = Vec::new();
    for specs in &args.specs {
        let found = checker
            .check(specs)
            .with_context(|| format!("checking {} against {}", args.model.display(), specs.display()))?;
        for outcome in &found {
            tell!("{outcome}");
        }
        outcomes.extend(found);
    }
    let out = args.out.unwrap_or_else(|| default_out(&args.model));
    write_check_results(&out, &outcomes)?;
    say!("{}", check_table(&outcomes));
    say!("results written to {}", out.display());
    Ok(outcomes.iter().all(|o| o.holds))
}
