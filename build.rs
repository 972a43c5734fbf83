//! Bakes libtorch's library folder into the run path of every binary this
//! crate links (the CLI, tests, benches), so they start without
//! LD_LIBRARY_PATH. torch-sys reports that folder as DEP_TCH_LIBTORCH_LIB
//! through its `links = "tch"` key.

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(lib_dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib_dir}");
    }
}
