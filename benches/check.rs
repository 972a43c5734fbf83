//! Times a default `eqcheck check` (every spec in properties/) per
//! committed model and the share of that time spent in model forward
//! passes. Run with `cargo bench --bench check`; it reads the dataset from
//! EQCHECK_DATA and prints a Markdown table.

#[path = "shared/check_timing.rs"]
mod check_timing;

use std::path::{Path, PathBuf};

use check_timing::{time_default_check, VARIANTS};

fn main() {
    eqcheck::allocator::keep_freed_tensor_memory();
    let Some(data) = std::env::var_os("EQCHECK_DATA").map(PathBuf::from) else {
        eprintln!("set EQCHECK_DATA to the dataset folder");
        std::process::exit(2);
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    println!("| model | properties | check time (s) | forward passes (s) | forward share |");
    println!("|---|---:|---:|---:|---:|");
    for variant in VARIANTS {
        let timing = match time_default_check(root, &data, variant) {
            Ok(timing) => timing,
            Err(error) => {
                eprintln!("{error:#}");
                std::process::exit(2);
            }
        };
        println!(
            "| {variant} | {} | {:.1} | {:.1} | {:.0}% |",
            timing.properties,
            timing.seconds,
            timing.forward_seconds,
            100.0 * (1.0 - timing.outside_share())
        );
    }
}
