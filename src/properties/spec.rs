//! Property specs: TOML files that state what a model must do under a
//! family of transformations.
//!
//! ```toml
//! name = "rotation-equivariance"
//! relation = "equivariance"   # or "invariance"
//! reference = "prediction"    # or "truth"
//! metric = "iou"              # "dice", "agreement"; "top1-stability" for classifiers
//! bound = 0.8                 # metric must reach this for interpolated parameters
//! exact_bound = 0.999         # ... and this for exact group elements (default: bound)
//! cases = 64
//! seed = 1
//! images = 32                 # validation images to draw cases from
//!
//! [[transform]]
//! family = "rotation"
//! range = [0.0, 360.0]
//! ```
//!
//! Several `[[transform]]` tables make a composition, applied in order.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::family::Family;
use super::metric::Metric;
use super::tolerance::Tolerance;
use crate::error::{Error, Result};
use crate::models::Task;

/// Whether the output must stay the same or move with the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relation {
    /// The output must not change.
    Invariance,
    /// The output must transform as the input did: the geometric part of
    /// the transformation is inverted on the output before comparing.
    Equivariance,
}

/// What the transformed prediction is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reference {
    /// The model's own prediction on the untransformed input; needs no labels.
    Prediction,
    /// The ground-truth mask.
    Truth,
}

/// One axis of a property's transformation: a family and its range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformSpec {
    pub family: Family,
    /// Inclusive parameter range, in the family's unit.
    #[serde(deserialize_with = "two_values")]
    pub range: [f64; 2],
}

/// Reads a range as exactly two numbers; serde's fixed-size arrays would
/// take the first two of a longer list and drop the rest unread.
fn two_values<'de, D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<[f64; 2], D::Error> {
    let values = Vec::<f64>::deserialize(deserializer)?;
    <[f64; 2]>::try_from(values.as_slice()).map_err(|_| {
        serde::de::Error::invalid_length(values.len(), &"two numbers, [low, high]")
    })
}

/// Largest rotation magnitude accepted in a range, in degrees: two full
/// turns. The worst-case search walks rotation at fixed steps, so the
/// range sets its number of model calls.
const MAX_GEOMETRIC_EXTENT: f64 = 720.0;
/// Largest translation magnitude accepted in a range, in pixels, for the
/// same reason.
const MAX_TRANSLATION: f64 = 1024.0;

/// Largest blur accepted, as a standard deviation in pixels: the kernel
/// spans six of them, so the cost of a case grows with the value.
const MAX_BLUR: f64 = 64.0;
/// Largest Gaussian noise accepted, as a standard deviation in the units
/// of pixel values in [0, 1]. Far beyond 1, every pixel is noise already.
const MAX_NOISE: f64 = 10.0;

/// A property as read from its file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PropertySpec {
    pub name: String,
    pub relation: Relation,
    #[serde(default = "default_reference")]
    pub reference: Reference,
    #[serde(default = "default_metric")]
    pub metric: Metric,
    pub bound: f64,
    #[serde(default)]
    pub exact_bound: Option<f64>,
    #[serde(default = "default_cases")]
    pub cases: u32,
    #[serde(default)]
    pub seed: u64,
    #[serde(default = "default_images")]
    pub images: usize,
    #[serde(rename = "transform")]
    pub transforms: Vec<TransformSpec>,
}

fn default_reference() -> Reference {
    Reference::Prediction
}
fn default_metric() -> Metric {
    Metric::Iou
}
fn default_cases() -> u32 {
    64
}
fn default_images() -> usize {
    32
}

/// A spec together with the file it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedSpec {
    pub path: PathBuf,
    pub spec: PropertySpec,
}

impl PropertySpec {
    /// Parses and checks a spec; errors name `path` and the offending key.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let spec: PropertySpec = toml::from_str(text).map_err(|e| Error::Spec {
            path: path.to_path_buf(),
            // The full message carries the line and column and quotes the
            // offending text.
            reason: e.to_string().trim_end().to_string(),
        })?;
        spec.validate(path)?;
        Ok(spec)
    }

    /// Reads and checks the spec file at `path`.
    pub fn load(path: &Path) -> Result<LoadedSpec> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let spec = Self::parse(&text, path)?;
        Ok(LoadedSpec {
            path: path.to_path_buf(),
            spec,
        })
    }

    /// Returns the tolerance that the bounds describe.
    pub fn tolerance(&self) -> Tolerance {
        Tolerance {
            interpolated: self.bound,
            exact: self.exact_bound.unwrap_or(self.bound),
        }
    }

    /// Returns whether any axis moves pixels.
    pub fn has_geometry(&self) -> bool {
        self.transforms.iter().any(|t| t.family.is_geometric())
    }

    fn validate(&self, path: &Path) -> Result<()> {
        let fail = |key: &str, reason: String| Error::Spec {
            path: path.to_path_buf(),
            reason: format!("key `{key}`: {reason}"),
        };
        if self.name.trim().is_empty() {
            return Err(fail("name", "must not be empty".into()));
        }
        for (key, bound) in [("bound", Some(self.bound)), ("exact_bound", self.exact_bound)] {
            if let Some(bound) = bound {
                if !(0.0..=1.0).contains(&bound) {
                    return Err(fail(key, format!("{bound} is outside [0, 1]")));
                }
            }
        }
        if self.cases == 0 {
            return Err(fail("cases", "must be at least 1".into()));
        }
        if self.images == 0 {
            return Err(fail("images", "must be at least 1".into()));
        }
        if self.transforms.is_empty() {
            return Err(fail("transform", "at least one [[transform]] table is needed".into()));
        }
        for (i, transform) in self.transforms.iter().enumerate() {
            let [low, high] = transform.range;
            if !(low.is_finite() && high.is_finite()) {
                return Err(fail(
                    &format!("transform[{i}].range"),
                    format!("[{low}, {high}] must hold two finite numbers"),
                ));
            }
            if low >= high {
                return Err(fail(
                    &format!("transform[{i}].range"),
                    format!("[{low}, {high}] is empty; the first value must be below the second"),
                ));
            }
            let extent = match transform.family {
                Family::Rotation => Some(MAX_GEOMETRIC_EXTENT),
                Family::TranslateX | Family::TranslateY => Some(MAX_TRANSLATION),
                _ => None,
            };
            if let Some(extent) = extent.filter(|&e| low < -e || high > e) {
                return Err(fail(
                    &format!("transform[{i}].range"),
                    format!("{} takes values within [-{extent}, {extent}], got [{low}, {high}]", transform.family),
                ));
            }
            let largest = match transform.family {
                Family::Blur => Some(MAX_BLUR),
                Family::GaussianNoise => Some(MAX_NOISE),
                _ => None,
            };
            if let Some(largest) = largest.filter(|&largest| high > largest) {
                return Err(fail(
                    &format!("transform[{i}].range"),
                    format!("{} takes values up to {largest}, got [{low}, {high}]", transform.family),
                ));
            }
            if transform.family == Family::D4 && (low < 0.0 || high > 7.0) {
                return Err(fail(
                    &format!("transform[{i}].range"),
                    format!("d4 has elements 0 to 7, got [{low}, {high}]"),
                ));
            }
            let positive_only = matches!(
                transform.family,
                Family::Brightness | Family::Contrast | Family::Gamma | Family::PoissonNoise
            );
            let non_negative = matches!(transform.family, Family::GaussianNoise | Family::Blur);
            if (positive_only && low <= 0.0) || (non_negative && low < 0.0) {
                return Err(fail(
                    &format!("transform[{i}].range"),
                    format!("{} needs {} values, got {low}", transform.family, if positive_only { "positive" } else { "non-negative" }),
                ));
            }
        }
        if self.metric.task() == Task::Classification {
            if self.relation != Relation::Invariance {
                return Err(fail(
                    "relation",
                    "a class does not move with the image; top1-stability needs relation = \"invariance\"".into(),
                ));
            }
            if self.reference != Reference::Prediction {
                return Err(fail(
                    "reference",
                    "top1-stability compares with the model's own prediction; use reference = \"prediction\"".into(),
                ));
            }
        }
        if self.relation == Relation::Equivariance && !self.has_geometry() {
            return Err(fail(
                "relation",
                "equivariance needs a geometric family (rotation, d4, translate-x, translate-y); \
                 use invariance for photometric ones"
                    .into(),
            ));
        }
        Ok(())
    }
}

impl LoadedSpec {
    /// Checks that the spec's metric compares what `model` predicts.
    pub fn check_task(&self, task: Task, model: &str) -> Result<()> {
        let metric = self.spec.metric;
        if metric.task() == task {
            return Ok(());
        }
        let hint = match task {
            Task::Segmentation => "use a mask metric: \"iou\", \"dice\" or \"agreement\"",
            Task::Classification => "use metric = \"top1-stability\" with relation = \"invariance\"",
        };
        Err(Error::Spec {
            path: self.path.clone(),
            reason: format!("metric {metric} compares {} outputs, but model {model} is a {task} model; {hint}", metric.task()),
        })
    }
}

/// Reads every `*.toml` spec in `path` (a file or a folder, sorted by name).
pub fn load_specs(path: &Path) -> Result<Vec<LoadedSpec>> {
    if path.is_file() {
        return Ok(vec![PropertySpec::load(path)?]);
    }
    if !path.is_dir() {
        return Err(Error::dataset(path, "property spec file or folder not found"));
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| Error::io(path, e))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml") && !is_regression_file(p))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::dataset(path, "no property specs (*.toml) found"));
    }
    files.iter().map(|f| PropertySpec::load(f)).collect()
}

/// Returns whether `path` is a regressions file rather than a spec.
pub fn is_regression_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".regressions.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = r#"
        name = "rotation"
        relation = "equivariance"
        bound = 0.8
        [[transform]]
        family = "rotation"
        range = [0.0, 360.0]
    "#;

    fn error_of(text: &str) -> String {
        PropertySpec::parse(text, Path::new("specs/bad.toml")).unwrap_err().to_string()
    }

    #[test]
    fn valid_spec_gets_defaults() {
        let spec = PropertySpec::parse(VALID, Path::new("x.toml")).unwrap();
        assert_eq!(spec.cases, 64);
        assert_eq!(spec.metric, Metric::Iou);
        assert_eq!(spec.reference, Reference::Prediction);
        assert_eq!(spec.tolerance().exact, 0.8);
    }

    #[test]
    fn unknown_family_is_named() {
        let error = error_of(&VALID.replace("\"rotation\"\n        range", "\"shear\"\n        range"));
        assert!(error.contains("specs/bad.toml"), "{error}");
        assert!(error.contains("shear"), "{error}");
    }

    #[test]
    fn range_of_three_values_is_rejected() {
        let error = error_of(&VALID.replace("range = [0.0, 360.0]", "range = [0.0, 1.0, 2.0]"));
        assert!(error.contains("two numbers"), "{error}");
    }

    #[test]
    fn rotation_range_beyond_two_turns_is_rejected() {
        let error = error_of(&VALID.replace("range = [0.0, 360.0]", "range = [-1e30, 1e30]"));
        assert!(error.contains("transform[0].range"), "{error}");
    }

    #[test]
    fn blur_and_noise_limits_enforced() {
        let blur = VALID
            .replace("relation = \"equivariance\"", "relation = \"invariance\"")
            .replace("\"rotation\"\n        range = [0.0, 360.0]", "\"blur\"\n        range = [0.0, 1e6]");
        let error = error_of(&blur);
        assert!(error.contains("blur takes values up to 64"), "{error}");
        let noise = blur.replace("\"blur\"", "\"gaussian-noise\"").replace("1e6", "1e30");
        let error = error_of(&noise);
        assert!(error.contains("gaussian-noise takes values up to 10"), "{error}");
    }

    #[test]
    fn non_finite_range_rejected() {
        for range in ["[nan, 1.0]", "[0.0, inf]"] {
            let error = error_of(&VALID.replace("[0.0, 360.0]", range));
            assert!(error.contains("two finite numbers"), "{range}: {error}");
        }
    }

    #[test]
    fn empty_range_is_named() {
        let error = error_of(&VALID.replace("[0.0, 360.0]", "[10.0, 10.0]"));
        assert!(error.contains("specs/bad.toml"), "{error}");
        assert!(error.contains("transform[0].range"), "{error}");
    }

    #[test]
    fn bound_outside_unit_interval_is_named() {
        let error = error_of(&VALID.replace("bound = 0.8", "bound = 1.5"));
        assert!(error.contains("`bound`"), "{error}");
        assert!(error.contains("specs/bad.toml"), "{error}");
    }

    #[test]
    fn unknown_key_is_named() {
        let error = error_of(&VALID.replace("bound = 0.8", "bound = 0.8\nthreshold = 3"));
        assert!(error.contains("threshold"), "{error}");
        assert!(error.contains("specs/bad.toml"), "{error}");
    }

    #[test]
    fn d4_range_beyond_its_eight_elements_is_rejected() {
        let text = VALID.replace("\"rotation\"\n        range = [0.0, 360.0]", "\"d4\"\n        range = [0.0, 9.0]");
        let error = error_of(&text);
        assert!(error.contains("transform[0].range"), "{error}");
        assert!(error.contains("0 to 7"), "{error}");
    }

    #[test]
    fn class_metric_needs_invariance_against_the_prediction() {
        let text = VALID.replace("bound = 0.8", "bound = 0.8\nmetric = \"top1-stability\"");
        assert!(error_of(&text).contains("`relation`"));
        let invariance = text.replace("\"equivariance\"", "\"invariance\"");
        PropertySpec::parse(&invariance, Path::new("x.toml")).unwrap();
        let truth = invariance.replace("bound = 0.8", "bound = 0.8\nreference = \"truth\"");
        assert!(error_of(&truth).contains("`reference`"));
    }

    #[test]
    fn metric_of_another_task_is_named() {
        let loaded = LoadedSpec {
            path: PathBuf::from("specs/rotation.toml"),
            spec: PropertySpec::parse(VALID, Path::new("x.toml")).unwrap(),
        };
        loaded.check_task(Task::Segmentation, "net.pt").unwrap();
        let error = loaded.check_task(Task::Classification, "net.pt").unwrap_err().to_string();
        assert!(error.contains("specs/rotation.toml"), "{error}");
        assert!(error.contains("IoU"), "{error}");
        assert!(error.contains("top1-stability"), "{error}");
    }

    #[test]
    fn equivariance_without_geometry_is_rejected() {
        let text = VALID.replace("\"rotation\"\n        range = [0.0, 360.0]", "\"brightness\"\n        range = [0.5, 1.5]");
        let error = error_of(&text);
        assert!(error.contains("`relation`"), "{error}");
    }
}
