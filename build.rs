//! Bakes libtorch's library folder into the run path of every binary this
//! crate links (the CLI, tests, benches), so they start without
//! LD_LIBRARY_PATH. torch-sys reports that folder as DEP_TCH_LIBTORCH_LIB
//! through its `links = "tch"` key.
//!
//! Also passes libtorch's version, read from its headers beside that
//! folder, to the crate as EQCHECK_LIBTORCH_VERSION for the benchmark
//! report.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(lib_dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib_dir}");
        if let Some(version) = libtorch_version(Path::new(&lib_dir)) {
            println!("cargo:rustc-env=EQCHECK_LIBTORCH_VERSION={version}");
        }
    }
}

/// Reads `major.minor.patch` from the TORCH_VERSION_* defines of the
/// header that libtorch 2.x installs under `include/` next to `lib/`.
fn libtorch_version(lib_dir: &Path) -> Option<String> {
    let include = lib_dir.parent()?.join("include");
    let headers = [
        include.join("torch/headeronly/version.h"),
        include.join("torch/csrc/api/include/torch/version.h"),
    ];
    for header in headers {
        let Ok(text) = std::fs::read_to_string(&header) else {
            continue;
        };
        println!("cargo:rerun-if-changed={}", header.display());
        let number = |name: &str| {
            text.lines().find_map(|line| {
                let rest = line.trim().strip_prefix("#define ")?.strip_prefix(name)?;
                rest.trim().parse::<u32>().ok()
            })
        };
        let major = number("TORCH_VERSION_MAJOR");
        let minor = number("TORCH_VERSION_MINOR");
        let patch = number("TORCH_VERSION_PATCH");
        if let (Some(major), Some(minor), Some(patch)) = (major, minor, patch) {
            return Some(format!("{major}.{minor}.{patch}"));
        }
    }
    None
}
