//! Times a default `eqcheck check`: every spec in properties/ against one
//! committed model of reports/cpu, measured after the model and dataset
//! are loaded. Both `benches/check.rs` and the ceiling report use it.

use std::path::Path;
use std::time::Instant;

use eqcheck::properties::{is_regression_file, Checker};

/// Committed variants, in report order.
pub const VARIANTS: [&str; 4] = ["unet-minimal", "unet-full", "group-unet-minimal", "group-unet-full"];

/// Wall time of one check and the part spent in model forward passes.
pub struct CheckTiming {
    pub properties: usize,
    pub seconds: f64,
    pub forward_seconds: f64,
}

impl CheckTiming {
    /// Share of the check spent outside model forward passes, in [0, 1].
    pub fn outside_share(&self) -> f64 {
        1.0 - self.forward_seconds / self.seconds
    }
}

/// Checks the default specs against `reports/cpu/<variant>` of the
/// checkout at `root`, reading the dataset at `data`.
pub fn time_default_check(root: &Path, data: &Path, variant: &str) -> anyhow::Result<CheckTiming> {
    let model = root.join("reports/cpu").join(variant);
    let checker = Checker::open(&model, data).map_err(|e| anyhow::anyhow!("{variant}: {e}"))?;
    // Fresh copies of the specs, so no stored failure shortens the run.
    let specs = tempfile::tempdir()?;
    for entry in std::fs::read_dir(root.join("properties"))? {
        let path = entry?.path();
        let is_spec = path.extension().is_some_and(|e| e == "toml") && !is_regression_file(&path);
        if let (true, Some(name)) = (is_spec, path.file_name()) {
            std::fs::copy(&path, specs.path().join(name))?;
        }
    }
    let started = Instant::now();
    let outcomes = checker.check(specs.path())?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(CheckTiming {
        properties: outcomes.len(),
        seconds,
        forward_seconds: outcomes.iter().map(|o| o.forward_seconds).sum(),
    })
}
