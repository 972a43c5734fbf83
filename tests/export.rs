//! `eqcheck export` on the committed U-Nets: the TorchScript file must give
//! the same per-case metrics and property results as the checkpoint, on
//! the real data, and load in PyTorch.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};

use common::dataset_dir;
use eqcheck::properties::{check_property, Checker, Evaluator, PropertySpec};

/// Largest difference allowed between a metric computed through the
/// exported file and through the checkpoint. Both run the same libtorch
/// kernels on the same input, so the probabilities agree to float
/// rounding and a mask differs at most at pixels whose probability sits
/// at the 0.5 threshold.
const TOLERANCE: f64 = 1e-4;

/// A committed model loaded natively and through its exported file.
struct Pair {
    native: Checker,
    exported: Checker,
    exported_path: PathBuf,
}

/// Exports a committed variant with the CLI, once per test run, and loads
/// both forms. Tensors are not `Sync`, so tests take turns through a mutex.
fn pair(variant: &'static str) -> MutexGuard<'static, Pair> {
    static PLAIN: OnceLock<Mutex<Pair>> = OnceLock::new();
    static GROUP: OnceLock<Mutex<Pair>> = OnceLock::new();
    let cell = if variant == "unet-minimal" { &PLAIN } else { &GROUP };
    let mutex = cell.get_or_init(|| {
        let checkpoint = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/cpu").join(variant);
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("export").join(format!("{variant}.pt"));
        let output = Command::new(env!("CARGO_BIN_EXE_eqcheck"))
            .arg("export")
            .arg("--model")
            .arg(&checkpoint)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "export failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let pair = Pair {
            native: Checker::open(&checkpoint, &dataset_dir()).expect("committed model loads"),
            exported: Checker::open(&out, &dataset_dir()).expect("exported model loads with its description"),
            exported_path: out,
        };
        Mutex::new(pair)
    });
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

const ROTATION: &str = r#"
    name = "rotation"
    relation = "equivariance"
    bound = 0.9
    exact_bound = 0.999
    cases = 24
    seed = 31
    images = 8
    [[transform]]
    family = "rotation"
    range = [0.0, 360.0]
"#;

const BRIGHTNESS: &str = r#"
    name = "brightness"
    relation = "invariance"
    bound = 0.95
    cases = 24
    seed = 32
    images = 8
    [[transform]]
    family = "brightness"
    range = [0.6, 1.4]
"#;

/// Scores `cases` on the first eight validation images.
fn per_case_scores(checker: &Checker, spec: &str, cases: &[Vec<f64>]) -> Vec<f64> {
    let spec = PropertySpec::parse(spec, Path::new("inline.toml")).unwrap();
    let pool: Vec<usize> = checker.validation.iter().take(8).copied().collect();
    let subject = checker.subject();
    let mut evaluator = Evaluator::new(&subject, &spec, &checker.data, &pool);
    (0..pool.len())
        .flat_map(|image| evaluator.score(image, 5, cases).unwrap())
        .collect()
}

fn assert_same_scores(variant: &'static str, spec: &str, values: &[f64]) {
    let pair = pair(variant);
    assert_eq!(pair.native.validation, pair.exported.validation, "the description must keep the split");
    let cases: Vec<Vec<f64>> = values.iter().map(|&v| vec![v]).collect();
    let native = per_case_scores(&pair.native, spec, &cases);
    let exported = per_case_scores(&pair.exported, spec, &cases);
    assert_eq!(native.len(), exported.len());
    for (i, (a, b)) in native.iter().zip(&exported).enumerate() {
        assert!(
            (a - b).abs() <= TOLERANCE,
            "{variant}: case {i} ({:?}) scores {a} natively and {b} exported",
            cases[i % cases.len()]
        );
    }
}

const QUARTER_TURNS: &str = r#"
    name = "quarter-turns"
    relation = "equivariance"
    bound = 0.999
    cases = 16
    seed = 33
    images = 8
    [[transform]]
    family = "d4"
    range = [0.0, 3.0]
"#;

const ANGLES: [f64; 8] = [0.0, 10.0, 45.0, 90.0, 137.5, 180.0, 270.0, 333.0];
const FACTORS: [f64; 4] = [0.6, 0.8, 1.2, 1.4];

#[test]
fn exported_unet_scores_every_case_as_native() {
    assert_same_scores("unet-minimal", ROTATION, &ANGLES);
    assert_same_scores("unet-minimal", BRIGHTNESS, &FACTORS);
}

#[test]
fn exported_group_unet_scores_every_case_as_native() {
    assert_same_scores("group-unet-minimal", ROTATION, &ANGLES);
    assert_same_scores("group-unet-minimal", BRIGHTNESS, &FACTORS);
}

/// Checks a spec on both forms of a model, each from a fresh spec folder so
/// that neither replays the other's stored failure, and compares the
/// outcomes. Returns whether the property holds.
fn assert_same_outcome(variant: &'static str, spec_text: &str) -> bool {
    let pair = pair(variant);
    let mut outcomes = Vec::new();
    for checker in [&pair.native, &pair.exported] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("property.toml");
        std::fs::write(&path, spec_text).unwrap();
        let spec = PropertySpec::load(&path).unwrap();
        let subject = checker.subject();
        outcomes.push(check_property(&subject, variant, &checker.data, &checker.validation, &spec).unwrap());
    }
    let (native, exported) = (&outcomes[0], &outcomes[1]);
    assert_eq!(native.holds, exported.holds, "native:\n{native}\nexported:\n{exported}");
    assert_eq!(native.cases, exported.cases, "native:\n{native}\nexported:\n{exported}");
    let pairs = [
        (&native.shrunk, &exported.shrunk),
        (&native.lowest, &exported.lowest),
        (&native.worst, &exported.worst),
    ];
    for (a, b) in pairs {
        assert_eq!(a.is_some(), b.is_some(), "native:\n{native}\nexported:\n{exported}");
        if let (Some(a), Some(b)) = (a, b) {
            assert_eq!(a.image_id, b.image_id, "native:\n{native}\nexported:\n{exported}");
            assert_eq!(a.values, b.values, "native:\n{native}\nexported:\n{exported}");
            assert!((a.metric - b.metric).abs() <= TOLERANCE, "native:\n{native}\nexported:\n{exported}");
        }
    }
    native.holds
}

// A rotation spec's worst-case search scores hundreds of angles one image
// at a time, so the outcomes are compared on cheaper searches: brightness,
// which the plain U-Net fails and so also shrinks, and D4, which the Group
// U-Net holds. The per-case tests above cover rotation.
#[test]
fn exported_unet_gives_native_property_outcomes() {
    let holds = assert_same_outcome("unet-minimal", BRIGHTNESS);
    assert!(!holds, "brightness should fail, so that the shrunk cases are compared too");
    assert_same_outcome("unet-minimal", QUARTER_TURNS);
}

#[test]
fn exported_group_unet_gives_native_property_outcomes() {
    assert!(assert_same_outcome("group-unet-minimal", QUARTER_TURNS));
}

#[test]
fn exported_file_loads_in_pytorch() {
    // A traced file keeps the canvas it was traced on.
    let (path, canvas) = {
        let pair = pair("unet-minimal");
        (pair.exported_path.clone(), pair.exported.canvas.canvas)
    };
    let script = "import sys, torch\n\
                  side = int(sys.argv[2])\n\
                  model = torch.jit.load(sys.argv[1])\n\
                  out = model(torch.zeros(3, 3, side, side))\n\
                  print(list(out.shape))";
    let output = Command::new("python")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .arg(canvas.to_string())
        .output()
        .expect("`python` with PyTorch must be on PATH; run the tests through ./run-tests");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(stdout.trim(), format!("[3, 1, {canvas}, {canvas}]"));
}

#[test]
fn export_of_a_missing_folder_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-variant");
    let output = Command::new(env!("CARGO_BIN_EXE_eqcheck"))
        .arg("export")
        .arg("--model")
        .arg(&missing)
        .arg("--out")
        .arg(dir.path().join("model.pt"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no-such-variant"), "{stderr}");
    assert!(!dir.path().join("model.pt").exists());
}
