//! Results of checking a property, and the text of a failure.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::family::Family;
use super::metric::{Metric, TopClasses};
use super::spec::{Reference, Relation};
use crate::text::count;

/// A case with its image, parameters, metric and the bound it was held to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counterexample {
    pub image_id: String,
    pub noise_seed: u64,
    /// One value per axis, in the family's unit; angles signed in
    /// (-180, 180] degrees, counter-clockwise positive.
    pub values: Vec<f64>,
    pub metric: f64,
    pub bound: f64,
    /// Whether every geometric parameter is an exact group element.
    pub exact: bool,
    /// For class outputs: the top-1 class before and after the
    /// transformation. A change fails the case whatever the metric is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<TopClasses>,
}

impl Counterexample {
    /// Describes why the case fails: the metric below its bound, a changed
    /// top-1 class, or both. `metric` names the metric.
    pub fn failure(&self, metric: Metric) -> String {
        let mut reasons = Vec::new();
        if self.metric < self.bound {
            let exact = if self.exact { " (exact element)" } else { "" };
            reasons.push(format!("{metric} {:.4} < bound {:.4}{exact}", self.metric, self.bound));
        }
        if let Some(classes) = self.classes.filter(TopClasses::changed) {
            reasons.push(format!(
                "top-1 class {} became {} ({metric} {:.4})",
                classes.reference, classes.transformed, self.metric
            ));
        }
        if reasons.is_empty() {
            reasons.push(format!("{metric} {:.4}, bound {:.4}", self.metric, self.bound));
        }
        reasons.join("; ")
    }
}

/// The metric an identity model (one that returns the ground truth) keeps
/// under the property's transformations: the floor set by resampling.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub mean: f64,
    pub min: f64,
}

/// The result of checking one property against one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertyOutcome {
    pub name: String,
    pub spec: PathBuf,
    pub model: String,
    pub relation: Relation,
    pub reference: Reference,
    pub metric: Metric,
    /// Families of the axes, in order.
    pub families: Vec<Family>,
    pub holds: bool,
    pub seed: u64,
    /// Generated cases that ran (all of them when the property holds).
    pub cases: usize,
    /// Stored failures replayed before generating.
    pub replayed: usize,
    /// Cases evaluated while shrinking.
    pub shrink_steps: usize,
    /// The failing case nearest the identity, when the property fails.
    pub shrunk: Option<Counterexample>,
    /// The generated case with the lowest metric.
    pub lowest: Option<Counterexample>,
    /// The lowest-metric parameters found on the image of the shrunk case
    /// (or, when the property holds, of the lowest-scoring case).
    pub worst: Option<Counterexample>,
    pub calibration: Calibration,
    pub seconds: f64,
    /// Part of `seconds` spent in model forward passes.
    pub forward_seconds: f64,
}

impl PropertyOutcome {
    /// Formats parameter values with their families and units.
    pub fn describe_values(&self, values: &[f64]) -> String {
        self.families
            .iter()
            .zip(values)
            .map(|(family, value)| format!("{family} {value:.2}{}", unit_suffix(*family)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Panics with the full failure message unless the property holds, for
    /// use in `#[test]` functions.
    pub fn assert_holds(&self) {
        assert!(self.holds, "{self}");
    }
}

fn unit_suffix(family: Family) -> String {
    match family.unit() {
        "" => String::new(),
        "deg" => " deg".into(),
        unit => format!(" {unit}"),
    }
}

impl fmt::Display for PropertyOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.holds { "holds" } else { "FAILS" };
        writeln!(
            f,
            "property `{}` ({}) {verdict} for model {} after {}: {} generated (seed {}), {} replayed",
            self.name,
            self.spec.display(),
            self.model,
            count(self.cases + self.replayed, "case"),
            self.cases,
            self.seed,
            self.replayed
        )?;
        if let Some(shrunk) = &self.shrunk {
            writeln!(
                f,
                "  shrunk: image {} at {}: {} (noise seed {})",
                shrunk.image_id,
                self.describe_values(&shrunk.values),
                shrunk.failure(self.metric),
                shrunk.noise_seed
            )?;
        }
        if let Some(worst) = &self.worst {
            let class_change = match worst.classes.filter(TopClasses::changed) {
                Some(classes) => format!(", top-1 class {} became {}", classes.reference, classes.transformed),
                None => String::new(),
            };
            writeln!(
                f,
                "  worst: image {} at {}: {} {:.4}{class_change}",
                worst.image_id,
                self.describe_values(&worst.values),
                self.metric,
                worst.metric
            )?;
        }
        write!(
            f,
            "  calibration: an identity model keeps {} {:.4} on average, {:.4} at least",
            self.metric, self.calibration.mean, self.calibration.min
        )
    }
}

