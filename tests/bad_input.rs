//! Bad input through the command line: every case exits with status 2 and
//! an error that names the offending file, or loads correctly where the
//! input is only unusual.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use tch::Tensor;

/// Copies 21 real samples from all ten species into a folder under `root`.
fn small_dataset(root: &Path) -> PathBuf {
    common::copy_every(root, 41)
}

/// Returns the first image id of a dataset copy, and its image and mask.
fn first_sample(data: &Path) -> (PathBuf, PathBuf) {
    let mut images: Vec<PathBuf> = std::fs::read_dir(data.join("images"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    images.sort();
    let id = images[0].file_stem().unwrap().to_str().unwrap().to_string();
    (images[0].clone(), data.join(format!("segmentations/{id}_seg0.png")))
}

/// Runs a one-epoch training on `data` with extra arguments and returns
/// the exit code and standard error.
fn train(data: &Path, out: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["--epochs", "1", "--side", "32", "--canvas", "48", "--width", "4"];
    args.extend(extra);
    train_with(data, out, &args)
}

/// Runs `eqcheck train --arch unet` on `data` with `args` and returns the
/// exit code and standard error.
fn train_with(data: &Path, out: &Path, args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_eqcheck"))
        .args(["train", "--arch", "unet"])
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .unwrap();
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// Asserts that training on `data` fails with exit code 2 and an error
/// that names `file` and contains `problem`.
fn assert_rejected(data: &Path, file: &Path, problem: &str) {
    let out = data.parent().unwrap().join("run");
    let (code, stderr) = train(data, &out, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    let name = file.file_name().unwrap().to_str().unwrap();
    assert!(stderr.contains(name), "error does not name {name}: {stderr}");
    assert!(stderr.contains(problem), "error does not say `{problem}`: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn missing_folder_and_a_file_instead_of_a_folder_are_named() {
    let root = tempfile::tempdir().unwrap();
    assert_rejected(&root.path().join("no-such-dataset"), Path::new("no-such-dataset"), "not found");
    let file = root.path().join("dataset.txt");
    std::fs::write(&file, "not a folder").unwrap();
    assert_rejected(&file, &file, "not a folder");
    let empty = root.path().join("empty");
    std::fs::create_dir_all(empty.join("images")).unwrap();
    std::fs::create_dir_all(empty.join("segmentations")).unwrap();
    assert_rejected(&empty, Path::new("images"), "no PNG images");
}

#[test]
fn out_path_file_rejected_early() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("run.txt");
    std::fs::write(&out, "kept").unwrap();
    // No dataset is needed: the output path is checked first.
    let (code, stderr) = train(&root.path().join("no-such-dataset"), &out, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("run.txt: --out names a run folder"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "kept");
}

#[test]
fn image_without_mask_is_named() {
    let root = tempfile::tempdir().unwrap();
    let data = small_dataset(root.path());
    let (image, mask) = first_sample(&data);
    std::fs::remove_file(&mask).unwrap();
    assert_rejected(&data, &image, "no mask");
}

#[test]
fn mask_of_another_size_is_named() {
    let root = tempfile::tempdir().unwrap();
    let data = small_dataset(root.path());
    let (_, mask) = first_sample(&data);
    image::GrayImage::new(7, 9).save(&mask).unwrap();
    assert_rejected(&data, &mask, "7x9");
}

#[test]
fn truncated_foreign_and_empty_files_are_named() {
    let root = tempfile::tempdir().unwrap();
    let data = small_dataset(root.path());
    let (image, mask) = first_sample(&data);
    let original_image = std::fs::read(&image).unwrap();
    let original_mask = std::fs::read(&mask).unwrap();

    std::fs::write(&image, &original_image[..original_image.len() / 3]).unwrap();
    assert_rejected(&data, &image, "");
    std::fs::write(&image, b"\xff\xd8\xff\xe0 a JPEG under a PNG name").unwrap();
    assert_rejected(&data, &image, "");
    std::fs::write(&image, b"").unwrap();
    assert_rejected(&data, &image, "empty");
    std::fs::write(&image, &original_image).unwrap();

    std::fs::write(&mask, &original_mask[..original_mask.len() / 2]).unwrap();
    assert_rejected(&data, &mask, "");
    std::fs::write(&mask, b"GIF89a").unwrap();
    assert_rejected(&data, &mask, "");
    std::fs::write(&mask, b"").unwrap();
    assert_rejected(&data, &mask, "empty");
}

#[test]
fn skip_bad_reports_each_skipped_sample_and_trains_on_the_rest() {
    let root = tempfile::tempdir().unwrap();
    let data = small_dataset(root.path());
    let (image, mask) = first_sample(&data);
    std::fs::write(&image, b"").unwrap();
    let mut images: Vec<PathBuf> = std::fs::read_dir(data.join("images")).unwrap().map(|e| e.unwrap().path()).collect();
    images.sort();
    let unpaired = images[1].clone();
    let id = unpaired.file_stem().unwrap().to_str().unwrap();
    std::fs::remove_file(data.join(format!("segmentations/{id}_seg0.png"))).unwrap();

    let (code, stderr) = train(&data, &root.path().join("run"), &["--skip-bad"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("skipped 2 bad samples"), "{stderr}");
    assert!(stderr.contains(image.file_name().unwrap().to_str().unwrap()), "{stderr}");
    assert!(stderr.contains(&format!("{id}.png: image has no mask")), "{stderr}");
    assert!(!mask.exists() || mask.is_file(), "the bad sample's files must stay as they were");
    // The other samples all take part: training plus validation images.
    let line = stderr.lines().find(|l| l.starts_with("training unet-minimal on")).unwrap();
    let counts: Vec<usize> = line.split(' ').filter_map(|word| word.parse().ok()).collect();
    assert_eq!(counts.iter().sum::<usize>(), images.len() - 2, "{line}");
}

#[test]
fn no_samples_left_after_skipping_is_an_error_that_says_why() {
    let root = tempfile::tempdir().unwrap();
    let data = small_dataset(root.path());
    let mut count = 0;
    for entry in std::fs::read_dir(data.join("images")).unwrap() {
        std::fs::write(entry.unwrap().path(), b"junk").unwrap();
        count += 1;
    }
    let (code, stderr) = train(&data, &root.path().join("run"), &["--skip-bad"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(&format!("no samples left after skipping {count} bad ones")), "{stderr}");
    assert!(stderr.contains(".png"), "the first bad file should be named: {stderr}");
}

#[test]
fn empty_and_all_foreground_masks_train_with_defined_iou() {
    let root = tempfile::tempdir().unwrap();
    let data = small_dataset(root.path());
    let mut masks: Vec<PathBuf> = std::fs::read_dir(data.join("segmentations")).unwrap().map(|e| e.unwrap().path()).collect();
    masks.sort();
    // Every mask empty but one, which covers the whole image.
    for (i, mask) in masks.iter().enumerate() {
        let (width, height) = image::image_dimensions(mask).unwrap();
        let value = if i == 0 { 255 } else { 0 };
        image::GrayImage::from_pixel(width, height, image::Luma([value])).save(mask).unwrap();
    }
    let out = root.path().join("run");
    let (code, stderr) = train(&data, &out, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let metrics: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(out.join("metrics.jsonl")).unwrap().lines().next().unwrap()).unwrap();
    for key in ["train_iou", "validation_iou"] {
        let iou = metrics[key].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&iou), "{key} = {iou}");
    }
}

#[test]
fn option_values_out_of_range_are_named() {
    let root = tempfile::tempdir().unwrap();
    let data = small_dataset(root.path());
    let out = root.path().join("run");
    for (option, value, problem) in [
        ("--threads", "0", "--threads 0"),
        ("--epochs", "0", "epochs = 0"),
        ("--epochs", "4294967295", "epochs = 4294967295"),
        ("--width", "1", "width = 1"),
        ("--width", "4096", "width = 4096"),
        ("--canvas", "50", "50"),
        ("--canvas", "100000", "canvas = 100000"),
        ("--side", "-4", "side = -4"),
        ("--seed", "minus-one", "minus-one"),
    ] {
        let (code, stderr) = train_with(&data, &out, &[option, value]);
        assert_eq!(code, Some(2), "{option} {value}: {stderr}");
        assert!(stderr.contains(problem), "{option} {value}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// Copies the committed plain U-Net and fills one of its weights with
/// `value`.
fn poisoned_model(root: &Path, value: f64) -> PathBuf {
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("reports/cpu/unet-minimal");
    let dir = root.join(format!("model-{value}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(source.join("config.json"), dir.join("config.json")).unwrap();
    let mut named = Tensor::read_safetensors(source.join("model.safetensors")).unwrap();
    for (name, tensor) in &mut named {
        if name.ends_with("bias") {
            *tensor = tensor.full_like(value);
            break;
        }
    }
    Tensor::write_safetensors(&named, dir.join("model.safetensors")).unwrap();
    dir
}

#[test]
fn non_finite_model_output_names_the_model() {
    let root = tempfile::tempdir().unwrap();
    for value in [f64::NAN, f64::INFINITY] {
        let model = poisoned_model(root.path(), value);
        let (code, stderr) = check_model(&model, &root.path().join("out"));
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains(&model.display().to_string()), "{stderr}");
        assert!(stderr.contains("not finite"), "{stderr}");
    }
}

/// Runs `eqcheck check` on `model` with the CI rotation spec and returns
/// the exit code and stderr.
fn check_model(model: &Path, out: &Path) -> (Option<i32>, String) {
    let spec = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("properties/ci/rotation-consistency.toml");
    let output = Command::new(env!("CARGO_BIN_EXE_eqcheck"))
        .arg("check")
        .arg("--model")
        .arg(model)
        .arg("--out")
        .arg(out)
        .arg(&spec)
        .output()
        .unwrap();
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn bad_run_config_named() {
    let root = tempfile::tempdir().unwrap();
    let model = poisoned_model(root.path(), 0.0);
    let config_path = model.join("config.json");
    let config = std::fs::read_to_string(&config_path).unwrap();
    let edited = config.replacen("\"side\": 96", "\"side\": 100000", 1);
    assert_ne!(edited, config, "the committed config should hold \"side\": 96");
    std::fs::write(&config_path, edited).unwrap();
    let (code, stderr) = check_model(&model, &root.path().join("out"));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(&config_path.display().to_string()), "{stderr}");
    assert!(stderr.contains("side = 100000"), "{stderr}");

    std::fs::remove_file(&config_path).unwrap();
    let (code, stderr) = check_model(&model, &root.path().join("out"));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(&config_path.display().to_string()), "{stderr}");
    assert!(stderr.contains("run config not found"), "{stderr}");
}

#[test]
fn bad_spec_value_names_the_file_and_key() {
    let root = tempfile::tempdir().unwrap();
    let spec = root.path().join("broken.toml");
    std::fs::write(
        &spec,
        "name = \"broken\"\nrelation = \"equivariance\"\nbound = 1.5\n\n[[transform]]\nfamily = \"rotation\"\nrange = [0.0, 360.0]\n",
    )
    .unwrap();
    let model = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("reports/cpu/unet-minimal");
    let output = Command::new(env!("CARGO_BIN_EXE_eqcheck"))
        .arg("check")
        .arg("--model")
        .arg(&model)
        .arg("--out")
        .arg(root.path().join("out"))
        .arg(&spec)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("broken.toml"), "{stderr}");
    assert!(stderr.contains("bound"), "{stderr}");
}
