//! The eqcheck command-line tool.
//!
//! Exit codes: 0 on success (every checked property holds), 1 when a
//! property fails, 2 on an error (bad input, unreadable files).

/// Prints a line to standard output, ignoring a closed pipe (for example
/// `eqcheck check ... | head`), so the exit code stays the documented one.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Prints a line to standard error, ignoring a closed pipe, so that a
/// long run goes on when the program reading its progress has exited.
macro_rules! tell {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod check;
mod evaluate;
mod export;
mod progress;
mod report;
mod reproduce;
mod train;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use eqcheck::training::ProfileName;

#[derive(Parser)]
#[command(name = "eqcheck", version, about = "Tests how image models behave when their input is transformed")]
struct Cli {
    /// Print progress events of the library (-v) and debug detail (-vv).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train one variant and write its checkpoint and metrics to a folder.
    Train(train::TrainArgs),
    /// Train all four variants, evaluate them under rotation and write a report.
    Reproduce(reproduce::ReproduceArgs),
    /// Re-evaluate the checkpoints of a reproduce run and rewrite its report.
    Evaluate(evaluate::EvaluateArgs),
    /// Check property specs against a trained model or a TorchScript file; exits 1 when one fails.
    Check(check::CheckArgs),
    /// Write a trained model as a TorchScript file with its description beside it.
    Export(export::ExportArgs),
    /// Write charts, pictures, an HTML page and a Markdown summary for a run.
    Report(report::ReportArgs),
}

/// Upper limit of --threads; far more threads than cores only adds
/// scheduling overhead.
const MAX_THREADS: i32 = 256;

/// Options shared by every command that reads the dataset.
#[derive(Args, Clone)]
pub struct DataArgs {
    /// Dataset folder in the Leeds Butterfly layout (images/, segmentations/).
    #[arg(long, env = "EQCHECK_DATA")]
    pub data: PathBuf,

    /// Leave out unreadable samples and report them instead of stopping.
    #[arg(long)]
    pub skip_bad: bool,

    /// libtorch threads; defaults to the number of cores.
    #[arg(long, allow_negative_numbers = true)]
    pub threads: Option<i32>,
}

impl DataArgs {
    /// Applies the thread count to libtorch.
    pub fn apply_threads(&self) -> anyhow::Result<()> {
        let threads = match self.threads {
            Some(n) if !(1..=MAX_THREADS).contains(&n) => {
                anyhow::bail!("invalid --threads {n}: must be between 1 and {MAX_THREADS}")
            }
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, |n| n.get() as i32),
        };
        tch::set_num_threads(threads);
        Ok(())
    }
}

/// Profile selection shared by train and reproduce.
#[derive(Args, Clone)]
pub struct ProfileArgs {
    /// Settings preset: `cpu` fits a 2-core machine, `paper` is the original 256/384 setting.
    #[arg(long, value_enum, default_value_t = ProfileName::Cpu)]
    pub profile: ProfileName,

    /// Override the number of epochs of every architecture.
    #[arg(long, allow_negative_numbers = true)]
    pub epochs: Option<usize>,

    /// Override the random seed of the split, initialisation and augmentation.
    #[arg(long)]
    pub seed: Option<u64>,

    /// Override the side S, in pixels, that images are resized to.
    #[arg(long, allow_negative_numbers = true)]
    pub side: Option<i64>,

    /// Override the side P, in pixels, of the padded canvas: a multiple of 16, at least S * sqrt(2).
    #[arg(long, allow_negative_numbers = true)]
    pub canvas: Option<i64>,

    /// Override the plain U-Net's channels at full resolution (the Group U-Net gets half as many fields).
    #[arg(long, allow_negative_numbers = true)]
    pub width: Option<i64>,
}

impl ProfileArgs {
    /// Returns the preset with the overrides applied.
    pub fn profile(&self) -> anyhow::Result<eqcheck::training::Profile> {
        let mut profile = eqcheck::training::Profile::preset(self.profile);
        if let Some(epochs) = self.epochs {
            profile.epochs_unet = epochs;
            profile.epochs_group_unet = epochs;
        }
        if let Some(seed) = self.seed {
            profile.seed = seed;
        }
        if let Some(side) = self.side {
            profile.side = side;
        }
        if let Some(canvas) = self.canvas {
            profile.canvas = canvas;
        }
        if let Some(width) = self.width {
            profile.base_width = width;
        }
        profile.validate()?;
        Ok(profile)
    }
}

/// Returns the command line as typed, for reports.
pub fn command_line() -> String {
    let mut args = std::env::args();
    let program = args.next().map(|p| {
        PathBuf::from(p)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    program.into_iter().chain(args).collect::<Vec<_>>().join(" ")
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| level.into()))
        .with_writer(std::io::stderr)
        .init();
    if !eqcheck::allocator::keep_freed_tensor_memory() {
        tracing::debug!("allocator settings not applied: freed tensor memory goes back to the kernel");
    }

    let result = match cli.command {
        Command::Train(args) => train::run(args).map(|()| true),
        Command::Reproduce(args) => reproduce::run(args).map(|()| true),
        Command::Evaluate(args) => evaluate::run(args).map(|()| true),
        Command::Check(args) => check::run(args),
        Command::Export(args) => export::run(args).map(|()| true),
        Command::Report(args) => report::run(args).map(|()| true),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            tell!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
