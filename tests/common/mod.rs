//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Returns the real dataset folder named by EQCHECK_DATA, which
/// `setup/env.sh` sets.
pub fn dataset_dir() -> PathBuf {
    let dir = std::env::var_os("EQCHECK_DATA")
        .map(PathBuf::from)
        .expect("EQCHECK_DATA must name the Leeds Butterfly folder; run the tests through ./run-tests");
    assert!(
        dir.join("images").is_dir(),
        "dataset folder {} has no images/ folder; set EQCHECK_DATA to the Leeds Butterfly folder",
        dir.display()
    );
    dir
}

/// Copies every `step`-th sample of the real dataset, in id order, into a
/// new dataset folder under `root`, and returns that folder.
pub fn copy_every(root: &Path, step: usize) -> PathBuf {
    let mut ids: Vec<String> = std::fs::read_dir(dataset_dir().join("images"))
        .unwrap()
        .filter_map(|entry| entry.unwrap().file_name().into_string().ok()?.strip_suffix(".png").map(str::to_string))
        .collect();
    ids.sort();
    let picked: Vec<&str> = ids.iter().step_by(step).map(String::as_str).collect();
    copy_samples(root, &picked)
}

/// Copies the image and mask of each id from the real dataset into a new
/// dataset folder under `root`, and returns that folder.
pub fn copy_samples(root: &Path, ids: &[&str]) -> PathBuf {
    let source = dataset_dir();
    let target = root.join("dataset");
    std::fs::create_dir_all(target.join("images")).unwrap();
    std::fs::create_dir_all(target.join("segmentations")).unwrap();
    for id in ids {
        let image = format!("images/{id}.png");
        let mask = format!("segmentations/{id}_seg0.png");
        std::fs::copy(source.join(&image), target.join(&image)).unwrap();
        std::fs::copy(source.join(&mask), target.join(&mask)).unwrap();
    }
    target
}
