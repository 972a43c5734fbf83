//! Times a default `eqcheck check` (every spec in properties/) per
//! committed model and the share of that time spent in model forward
//! passes. Run with `cargo bench --bench check`; it reads the dataset from
//! EQCHECK_DATA and prints a Markdown table.

use std::path::{Path, PathBuf};
use std::time::Instant;

use eqcheck::properties::Checker;

const VARIANTS: [&str; 4] = ["unet-minimal", "unet-full", "group-unet-minimal", "group-unet-full"];

fn main() {
    let Some(data) = std::env::var_os("EQCHECK_DATA").map(PathBuf::from) else {
        eprintln!("set EQCHECK_DATA to the dataset folder");
        std::process::exit(2);
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    println!("| model | properties | check time (s) | forward passes (s) | forward share |");
    println!("|---|---:|---:|---:|---:|");
    for variant in VARIANTS {
        let checker = match Checker::open(&root.join("reports/cpu").join(variant), &data) {
            Ok(checker) => checker,
            Err(error) => {
                eprintln!("{variant}: {error}");
                std::process::exit(2);
            }
        };
        // Fresh copies of the specs, so no stored failure shortens the run.
        let specs = tempfile::tempdir().expect("temporary folder");
        for entry in std::fs::read_dir(root.join("properties")).expect("properties folder") {
            let path = entry.expect("entry").path();
            let is_spec = path.extension().is_some_and(|e| e == "toml")
                && !eqcheck::properties::is_regression_file(&path);
            if is_spec {
                std::fs::copy(&path, specs.path().join(path.file_name().expect("name"))).expect("copy spec");
            }
        }
        let started = Instant::now();
        let outcomes = checker.check(specs.path()).expect("check runs");
        let seconds = started.elapsed().as_secs_f64();
        let forward: f64 = outcomes.iter().map(|o| o.forward_seconds).sum();
        println!(
            "| {variant} | {} | {seconds:.1} | {forward:.1} | {:.0}% |",
            outcomes.len(),
            100.0 * forward / seconds
        );
    }
}
