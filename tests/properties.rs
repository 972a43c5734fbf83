//! The property engine against the committed models on the real data.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

use common::dataset_dir;
use eqcheck::properties::{check_property, Checker, Family, PropertyOutcome, PropertySpec};

/// Committed checkpoints of the default reproduce run.
fn model_dir(variant: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/cpu").join(variant)
}

/// Returns the shared checker of a committed model, loaded once. Tensors
/// are not `Sync`, so tests take turns through a mutex.
fn checker(variant: &'static str) -> MutexGuard<'static, Checker> {
    static PLAIN: OnceLock<Mutex<Checker>> = OnceLock::new();
    static GROUP: OnceLock<Mutex<Checker>> = OnceLock::new();
    let cell = if variant == "unet-minimal" { &PLAIN } else { &GROUP };
    let mutex = cell.get_or_init(|| {
        Mutex::new(Checker::open(&model_dir(variant), &dataset_dir()).expect("committed model loads"))
    });
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Writes a spec into a fresh folder, so that its regressions file starts
/// empty, and returns the folder (kept alive by the caller) and the path.
fn write_spec(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("property.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn check_one(variant: &'static str, spec: &Path) -> PropertyOutcome {
    let mut outcomes = checker(variant).check(spec).unwrap();
    assert_eq!(outcomes.len(), 1);
    outcomes.remove(0)
}

const QUARTER_TURNS: &str = r#"
    name = "quarter-turns"
    relation = "equivariance"
    bound = 0.999
    cases = 24
    seed = 11
    images = 16
    [[transform]]
    family = "d4"
    range = [0.0, 3.0]
"#;

/// Fails for the plain U-Net somewhere between 0 and 180 degrees.
const STRICT_ROTATION: &str = r#"
    name = "strict-rotation"
    relation = "equivariance"
    bound = 0.97
    cases = 32
    seed = 21
    images = 8
    [[transform]]
    family = "rotation"
    range = [0.0, 360.0]
"#;

#[test]
fn group_unet_holds_quarter_turn_equivariance() {
    let (_dir, spec) = write_spec(QUARTER_TURNS);
    let outcome = check_one("group-unet-minimal", &spec);
    assert!(outcome.holds, "{outcome}");
    assert_eq!(outcome.cases, 24);
}

#[test]
fn plain_unet_fails_quarter_turn_equivariance() {
    let (_dir, spec) = write_spec(QUARTER_TURNS);
    let outcome = check_one("unet-minimal", &spec);
    assert!(!outcome.holds, "{outcome}");
    let shrunk = outcome.shrunk.as_ref().unwrap();
    assert!(shrunk.exact);
    assert!(shrunk.values[0] >= 1.0, "{outcome}");
}

/// Scores one image of a property over a dense angle sweep.
fn dense_sweep(checker: &Checker, spec_path: &Path, image_id: &str, step: f64) -> Vec<(f64, f64)> {
    let spec = PropertySpec::load(spec_path).unwrap().spec;
    let index = checker.data.ids.iter().position(|id| id == image_id).unwrap();
    let pool = [index];
    let subject = checker.subject();
    let mut evaluator = eqcheck::properties::Evaluator::new(&subject, &spec, &checker.data, &pool);
    let count = (360.0 / step) as usize;
    let angles: Vec<f64> = (0..count).map(|i| -180.0 + step * (i + 1) as f64).collect();
    let cases: Vec<Vec<f64>> = angles.iter().map(|&a| vec![a]).collect();
    let scores = evaluator.score(0, 0, &cases).unwrap();
    angles.into_iter().zip(scores).collect()
}

#[test]
fn shrunk_and_worst_angles_match_a_dense_sweep() {
    let (_dir, spec) = write_spec(STRICT_ROTATION);
    let outcome = check_one("unet-minimal", &spec);
    let checker = checker("unet-minimal");
    assert!(!outcome.holds, "{outcome}");
    let shrunk = outcome.shrunk.as_ref().unwrap();
    let worst = outcome.worst.as_ref().unwrap();
    assert_eq!(shrunk.image_id, worst.image_id);

    let sweep = dense_sweep(&checker, &spec, &shrunk.image_id, 0.25);
    let bound = shrunk.bound;
    let smallest_failing = sweep
        .iter()
        .filter(|(_, score)| *score < bound)
        .map(|(angle, _)| *angle)
        .min_by(|a, b| a.abs().total_cmp(&b.abs()))
        .unwrap();
    assert!(
        (shrunk.values[0].abs() - smallest_failing.abs()).abs() <= 1.0,
        "shrunk to {} but the dense sweep first fails at {smallest_failing}\n{outcome}",
        shrunk.values[0]
    );

    let (sweep_worst, sweep_min) = sweep.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
    let angle_gap = Family::Rotation.to_offset(worst.values[0] - sweep_worst).abs();
    assert!(
        angle_gap <= 0.5 || (worst.metric - sweep_min).abs() < 1e-9,
        "worst at {} ({:.4}), dense sweep minimum at {sweep_worst} ({sweep_min:.4})",
        worst.values[0],
        worst.metric
    );
}

#[test]
fn same_seed_gives_identical_results_and_failures_replay_first() {
    let (dir, spec) = write_spec(STRICT_ROTATION);
    let first = check_one("unet-minimal", &spec);
    assert!(!first.holds);
    assert_eq!(first.replayed, 0);
    let regressions = dir.path().join("property.regressions.toml");
    assert!(regressions.exists(), "the failure was not stored");

    // The stored failure is replayed first and shrinks to the same case.
    let replayed = check_one("unet-minimal", &spec);
    assert_eq!(replayed.replayed, 1);
    assert_eq!(replayed.cases, 0, "a replayed failure needs no new cases");
    assert_eq!(replayed.shrunk, first.shrunk);
    let summary = replayed.to_string();
    assert!(summary.contains("after 1 case: 0 generated"), "{summary}");
    assert!(summary.contains(", 1 replayed"), "{summary}");

    // Without the stored failure the same seed repeats the same run.
    std::fs::remove_file(&regressions).unwrap();
    let again = check_one("unet-minimal", &spec);
    assert_eq!(again.cases, first.cases);
    assert_eq!(again.shrunk, first.shrunk);
    assert_eq!(again.worst, first.worst);
    assert_eq!(again.calibration, first.calibration);
}

#[test]
fn calibration_floor_is_one_for_quarter_turns() {
    let (_dir, spec) = write_spec(QUARTER_TURNS);
    let outcome = check_one("group-unet-minimal", &spec);
    assert_eq!(outcome.calibration.min, 1.0, "{outcome}");
    let (_dir, spec) = write_spec(STRICT_ROTATION);
    let spec = PropertySpec::load(&spec).unwrap();
    let checker = checker("group-unet-minimal");
    let subject = checker.subject();
    let outcome = check_property(&subject, "group", &checker.data, &checker.validation, &spec).unwrap();
    assert!(outcome.calibration.min < 1.0, "interpolated angles lose something: {outcome}");
    assert!(outcome.calibration.min > 0.8, "{outcome}");
}

#[test]
fn bad_spec_errors_name_file_and_key() {
    let cases = [
        ("family = \"d4\"", "family = \"shear\"", "shear"),
        ("range = [0.0, 3.0]", "range = [3.0, 3.0]", "transform[0].range"),
        ("bound = 0.999", "bound = -0.5", "`bound`"),
        ("seed = 11", "seed = 11\ncolour = 1", "colour"),
    ];
    for (from, to, expected) in cases {
        let (_dir, spec) = write_spec(&QUARTER_TURNS.replace(from, to));
        let error = PropertySpec::load(&spec).unwrap_err().to_string();
        assert!(error.contains("property.toml"), "{error}");
        assert!(error.contains(expected), "{error}");
    }
}

#[test]
fn shipped_specs_parse() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("properties");
    let specs = eqcheck::properties::load_specs(&dir).unwrap();
    assert!(specs.len() >= 5);
    let ci = eqcheck::properties::load_specs(&dir.join("ci")).unwrap();
    assert!(!ci.is_empty());
}

#[test]
fn photometric_changes_keep_every_pixel_valid() {
    // Darkening to 20% changes the plain U-Net's masks; if the darkening
    // also shrank the set of valid pixels, the metric would read 1.
    let (_dir, spec) = write_spec(
        r#"
        name = "dark"
        relation = "invariance"
        bound = 0.0
        cases = 1
        images = 8
        [[transform]]
        family = "brightness"
        range = [0.1, 0.3]
        "#,
    );
    let spec = PropertySpec::load(&spec).unwrap().spec;
    let checker = checker("unet-minimal");
    let subject = checker.subject();
    let pool: Vec<usize> = checker.validation.iter().take(8).copied().collect();
    let mut evaluator = eqcheck::properties::Evaluator::new(&subject, &spec, &checker.data, &pool);
    let mut total = 0.0;
    for image in 0..pool.len() {
        total += evaluator.score(image, 0, &[vec![0.2]]).unwrap()[0];
    }
    let mean = total / pool.len() as f64;
    assert!(mean < 0.99, "mean IoU {mean} at brightness 0.2");
}
