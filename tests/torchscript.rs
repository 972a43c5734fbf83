//! TorchScript models under test: small models that PyTorch writes with
//! tests/python/make_models.py, checked through `eqcheck check` and the
//! library on a 50-image copy of the dataset, and models that do not match
//! their description.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use eqcheck::properties::{Checker, Evaluator, PropertyOutcome, PropertySpec};
use eqcheck::torchscript::{ChannelOrder, ModelDescription, OutputKind, TorchScriptModel};

/// Canvas side the test models are traced on, and the image side.
const CANVAS: i64 = 48;
const SIDE: i64 = 32;

/// Samples per species copied into the small dataset. The default split
/// sends round(5 * 0.2) = 1 of each species, 10 images, to validation.
const SAMPLES_PER_SPECIES: usize = 5;

struct Fixture {
    models: PathBuf,
    data: PathBuf,
}

/// Writes the test models with the venv's PyTorch and copies a small
/// dataset, once per test run, under Cargo's temporary folder.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("torchscript");
        if root.exists() {
            std::fs::remove_dir_all(&root).unwrap();
        }
        std::fs::create_dir_all(&root).unwrap();
        let models = root.join("models");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/make_models.py");
        let output = Command::new("python")
            .arg(&script)
            .arg(&models)
            .arg(CANVAS.to_string())
            .output()
            .expect("`python` with PyTorch must be on PATH; run the tests through ./run-tests");
        assert!(
            output.status.success(),
            "{} failed:\n{}",
            script.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        // One model gets a description file beside it, the way `eqcheck
        // export` writes one; the others are described by options.
        let description = ModelDescription {
            output: OutputKind::ClassLogits,
            ..small_canvas()
        };
        std::fs::write(models.join("cls-symmetric.pt.toml"), description.to_toml()).unwrap();
        let ids = sample_ids();
        let data = common::copy_samples(&root, &ids.iter().map(String::as_str).collect::<Vec<_>>());
        Fixture { models, data }
    })
}

/// Returns the first few image ids of every species, sorted.
fn sample_ids() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(common::dataset_dir().join("images"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().trim_end_matches(".png").to_string())
        .collect();
    names.sort();
    let mut ids: Vec<String> = Vec::new();
    for name in names {
        // The first three digits of an id are its species.
        let same_species = ids.iter().filter(|id| id[..3] == name[..3]).count();
        if same_species < SAMPLES_PER_SPECIES {
            ids.push(name);
        }
    }
    ids
}

/// Returns a description with the test models' geometry and every other
/// value at its default.
fn small_canvas() -> ModelDescription {
    ModelDescription {
        side: SIDE,
        canvas: CANVAS,
        ..ModelDescription::default()
    }
}

fn model(name: &str) -> PathBuf {
    fixture().models.join(name)
}

/// Writes a spec into a fresh folder, so that no stored failure is
/// replayed, and returns the folder and the spec's path.
fn write_spec(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("property.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

const QUARTER_TURNS: &str = r#"
    name = "quarter-turns"
    relation = "equivariance"
    bound = 0.999
    cases = 16
    seed = 3
    images = 10
    [[transform]]
    family = "d4"
    range = [0.0, 3.0]
"#;

const CLASS_D4: &str = r#"
    name = "class-d4"
    relation = "invariance"
    metric = "top1-stability"
    bound = 0.0
    cases = 24
    seed = 4
    images = 10
    [[transform]]
    family = "d4"
    range = [0.0, 7.0]
"#;

/// Runs `eqcheck check` on the small dataset with extra arguments, writing
/// results to `out`.
fn run_check(model_path: &Path, spec: &Path, out: &Path, options: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eqcheck"))
        .arg("check")
        .arg("--model")
        .arg(model_path)
        .arg("--data")
        .arg(&fixture().data)
        .arg("--out")
        .arg(out)
        .args(options)
        .arg(spec)
        .output()
        .unwrap()
}

/// Reads the outcomes that `eqcheck check` wrote to `out`.
fn read_outcomes(out: &Path) -> Vec<PropertyOutcome> {
    serde_json::from_slice(&std::fs::read(out.join("check.json")).unwrap()).unwrap()
}

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

const SMALL_CANVAS_OPTIONS: [&str; 4] = ["--side", "32", "--canvas", "48"];

#[test]
fn quarter_turn_mean_holds_where_plain_net_fails() {
    let (dir, spec) = write_spec(QUARTER_TURNS);

    let out = dir.path().join("equivariant");
    let output = run_check(&model("seg-quarter-turn.pt"), &spec, &out, &SMALL_CANVAS_OPTIONS);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let outcome = &read_outcomes(&out)[0];
    assert!(outcome.holds, "{outcome}");
    assert_eq!(outcome.cases, 16);
    assert_eq!(outcome.worst.as_ref().unwrap().metric, 1.0, "{outcome}");

    // The plain network is checked after the equivariant one stored no
    // failure, so its result comes from generated cases.
    let out = dir.path().join("plain");
    let output = run_check(&model("seg-plain.pt"), &spec, &out, &SMALL_CANVAS_OPTIONS);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let outcome = &read_outcomes(&out)[0];
    assert!(!outcome.holds, "{outcome}");
    let shrunk = outcome.shrunk.as_ref().unwrap();
    assert!(shrunk.exact, "{outcome}");
    assert!(shrunk.values[0] >= 1.0, "{outcome}");
    assert!(shrunk.metric < 0.999, "{outcome}");
    assert!(shrunk.classes.is_none(), "{outcome}");
}

#[test]
fn symmetric_classifier_keeps_class_where_top_bottom_fails() {
    let (dir, spec) = write_spec(CLASS_D4);

    // Described by the file beside it.
    let out = dir.path().join("symmetric");
    let output = run_check(&model("cls-symmetric.pt"), &spec, &out, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let outcome = &read_outcomes(&out)[0];
    assert!(outcome.holds, "{outcome}");
    assert_eq!(outcome.calibration.min, 1.0);
    let worst = outcome.worst.as_ref().unwrap();
    assert!(!worst.classes.unwrap().changed(), "{outcome}");
    assert!(worst.metric > 0.9999, "{outcome}");

    // Described by options. A half turn swaps its classes 0 and 1.
    let out = dir.path().join("top-bottom");
    let options = ["--side", "32", "--canvas", "48", "--output", "class-logits"];
    let output = run_check(&model("cls-top-bottom.pt"), &spec, &out, &options);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let outcome = &read_outcomes(&out)[0];
    assert!(!outcome.holds, "{outcome}");
    let shrunk = outcome.shrunk.as_ref().unwrap();
    let classes = shrunk.classes.unwrap();
    assert!(classes.changed(), "{outcome}");
    assert!(classes.reference <= 1, "{outcome}");
    assert!(classes.transformed <= 1, "{outcome}");
    assert!(shrunk.values[0] >= 1.0, "{outcome}");
    assert!(outcome.to_string().contains("top-1 class"), "{outcome}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("became"), "{stdout}");
}

#[test]
fn shipped_classification_specs_report_drift() {
    let specs = tempfile::tempdir().unwrap();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("properties/classification");
    for entry in std::fs::read_dir(&shipped).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, specs.path().join(path.file_name().unwrap())).unwrap();
    }
    let checker = Checker::open(&model("cls-symmetric.pt"), &fixture().data).unwrap();
    let outcomes = checker.check(specs.path()).unwrap();
    let names: Vec<&str> = outcomes.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        ["brightness-invariance", "d4-invariance", "noise-invariance", "small-rotation-invariance"]
    );
    for outcome in &outcomes {
        let worst = outcome.worst.as_ref().unwrap();
        assert!(worst.classes.is_some(), "{outcome}");
        assert!((0.0..=1.0).contains(&worst.metric), "{outcome}");
        assert_eq!(outcome.calibration.min, 1.0, "{outcome}");
    }
    let d4 = &outcomes[1];
    assert!(d4.holds, "{d4}");
    // Brightness, noise and interpolated turns move the probabilities of a
    // classifier that is not built to ignore them.
    for outcome in [&outcomes[0], &outcomes[2], &outcomes[3]] {
        assert!(outcome.worst.as_ref().unwrap().metric < 0.9999, "no drift reported: {outcome}");
    }
}

/// Scores every case on every validation image of the small dataset.
fn per_case_scores(checker: &Checker, spec: &str, cases: &[Vec<f64>]) -> Vec<f64> {
    let spec = PropertySpec::parse(spec, Path::new("inline.toml")).unwrap();
    let subject = checker.subject();
    let mut evaluator = Evaluator::new(&subject, &spec, &checker.data, &checker.validation);
    (0..checker.validation.len())
        .flat_map(|image| evaluator.score(image, 7, cases).unwrap())
        .collect()
}

fn assert_close(a: &[f64], b: &[f64], tolerance: f64) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= tolerance, "case {i}: {x} against {y}");
    }
}

const CLASS_ROTATION: &str = r#"
    name = "class-rotation"
    relation = "invariance"
    metric = "top1-stability"
    bound = 0.0
    [[transform]]
    family = "rotation"
    range = [0.0, 360.0]
"#;

#[test]
fn bgr_255_description_matches_rgb_model() {
    let data = &fixture().data;
    let rgb = Checker::open(&model("cls-symmetric.pt"), data).unwrap();
    let description = ModelDescription {
        channel_order: ChannelOrder::Bgr,
        value_range: [0.0, 255.0],
        mean: [0.0; 3],
        std: [1.0; 3],
        output: OutputKind::ClassLogits,
        ..small_canvas()
    };
    let bgr = Checker::open_torchscript(&model("cls-symmetric-bgr.pt"), description, data).unwrap();
    let cases: Vec<Vec<f64>> = [5.0, 30.0, 90.0, 200.0].iter().map(|&a| vec![a]).collect();
    let expected = per_case_scores(&rgb, CLASS_ROTATION, &cases);
    let found = per_case_scores(&bgr, CLASS_ROTATION, &cases);
    assert!(expected.iter().any(|&s| s < 0.9999), "the cases should move the probabilities: {expected:?}");
    assert_close(&found, &expected, 1e-5);
}

#[test]
fn probability_output_matches_logits_output() {
    let data = &fixture().data;
    let logits = Checker::open_torchscript(&model("seg-plain.pt"), small_canvas(), data).unwrap();
    let description = ModelDescription {
        output: OutputKind::MaskProbabilities,
        ..small_canvas()
    };
    let probabilities = Checker::open_torchscript(&model("seg-plain-probabilities.pt"), description, data).unwrap();
    let spec = QUARTER_TURNS.replace("\"d4\"\n    range = [0.0, 3.0]", "\"rotation\"\n    range = [0.0, 360.0]");
    let cases: Vec<Vec<f64>> = [10.0, 90.0, 135.0].iter().map(|&a| vec![a]).collect();
    let expected = per_case_scores(&logits, &spec, &cases);
    assert!(expected.iter().any(|&s| s < 0.999), "the plain net should not be equivariant: {expected:?}");
    assert_close(&per_case_scores(&probabilities, &spec, &cases), &expected, 1e-6);
}

/// Loads a model and returns its error message.
fn load_error(path: &Path, description: ModelDescription) -> String {
    TorchScriptModel::load(path, description).unwrap_err().to_string()
}

#[test]
fn mismatched_models_name_file_and_shapes() {
    let with_output = |output| ModelDescription {
        output,
        ..small_canvas()
    };
    let cases = [
        ("bad-gray-input.pt", OutputKind::MaskLogits, vec!["[2, 3, 48, 48]", "1 channels"]),
        ("bad-half-mask.pt", OutputKind::MaskLogits, vec!["[2, 1, 24, 24]", "expects [2, 1, 48, 48]"]),
        ("bad-tuple.pt", OutputKind::MaskLogits, vec!["returned a tuple", "[2, 1, 48, 48]"]),
        ("cls-symmetric.pt", OutputKind::MaskLogits, vec!["shape [2, 5]", "expects [2, 1, 48, 48]"]),
        ("seg-plain.pt", OutputKind::ClassLogits, vec!["shape [2, 1, 48, 48]", "[2, C]"]),
        ("seg-plain.pt", OutputKind::MaskProbabilities, vec!["[0, 1]", "mask-logits"]),
        ("cls-symmetric.pt", OutputKind::ClassProbabilities, vec!["class-logits"]),
    ];
    for (name, output, expected) in cases {
        let path = model(name);
        let error = load_error(&path, with_output(output));
        assert!(error.contains(&path.display().to_string()), "{name}: {error}");
        for text in expected {
            assert!(error.contains(text), "{name} as {output}: expected `{text}` in: {error}");
        }
    }
}

#[test]
fn wrong_canvas_names_input_shape() {
    let description = ModelDescription {
        side: 40,
        canvas: 64,
        ..ModelDescription::default()
    };
    // The test model is fully convolutional, so only the half-size model's
    // shape check can fail on another canvas.
    let error = load_error(&model("bad-half-mask.pt"), description);
    assert!(error.contains("[2, 1, 32, 32]"), "{error}");
    assert!(error.contains("[2, 3, 64, 64]"), "{error}");
}

#[test]
fn non_torchscript_files_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.pt");
    std::fs::write(&text, "not a model").unwrap();
    let empty = dir.path().join("empty.pt");
    std::fs::write(&empty, "").unwrap();
    let weights = dir.path().join("weights.pt");
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/cpu/unet-minimal/model.safetensors");
    std::fs::copy(committed, &weights).unwrap();
    for path in [&text, &empty, &weights] {
        let error = load_error(path, small_canvas());
        assert!(error.contains(&path.display().to_string()), "{error}");
        assert!(error.contains("not a TorchScript file"), "{error}");
    }
    let missing = dir.path().join("missing.pt");
    let error = load_error(&missing, small_canvas());
    assert!(error.contains("missing.pt"), "{error}");
    assert!(error.contains("not found"), "{error}");
}

#[test]
fn cli_rejects_bad_models_with_exit_code_2() {
    let (dir, spec) = write_spec(QUARTER_TURNS);
    let out = dir.path().join("out");
    let path = model("bad-gray-input.pt");
    let output = run_check(&path, &spec, &out, &SMALL_CANVAS_OPTIONS);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&path.display().to_string()), "{stderr}");
    assert!(stderr.contains("[2, 3, 48, 48]"), "{stderr}");

    let missing = dir.path().join("missing.pt");
    let output = run_check(&missing, &spec, &out, &[]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("model not found"), "{}", describe(&output));

    let output = run_check(&model("seg-plain.pt"), &spec, &out, &["--mean", "0.5,0.5"]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--mean"), "{}", describe(&output));

    let output = run_check(&model("seg-plain.pt"), &spec, &out, &["--value-range", "1,0"]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("the command-line options"), "{}", describe(&output));
    assert!(stderr.contains("`value_range`"), "{}", describe(&output));

    let checkpoint = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/cpu/unet-minimal");
    let output = run_check(&checkpoint, &spec, &out, &["--canvas", "48"]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("config.json"), "{}", describe(&output));
    assert!(!out.exists(), "nothing should be written on an error");
}

#[test]
fn spec_metric_must_fit_model_output() {
    let checker = Checker::open(&model("cls-symmetric.pt"), &fixture().data).unwrap();
    let (_dir, spec) = write_spec(QUARTER_TURNS);
    let error = checker.check(&spec).unwrap_err().to_string();
    assert!(error.contains("property.toml"), "{error}");
    assert!(error.contains("top1-stability"), "{error}");
}

#[test]
fn bad_description_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.pt");
    std::fs::copy(model("seg-plain.pt"), &path).unwrap();
    let sidecar = dir.path().join("net.pt.toml");
    std::fs::write(&sidecar, "side = 32\ncanvas = 48\nstd = [0.2, 0.0, 0.2]\n").unwrap();
    let error = Checker::open(&path, &fixture().data).err().unwrap().to_string();
    assert!(error.contains(&sidecar.display().to_string()), "{error}");
    assert!(error.contains("`std`"), "{error}");
}
