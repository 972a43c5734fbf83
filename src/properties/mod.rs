//! The property engine: invariance and equivariance stated as properties
//! over transformation families, searched with proptest, shrunk to the
//! failing parameters nearest the identity, and searched for the worst.
//!
//! A property names a family and its range ([`Family`], [`TransformSpec`]),
//! a relation ([`Relation`]), a reference ([`Reference`]), a metric
//! ([`Metric`]: mask agreement for segmentation, top-1 stability for
//! classification) and bounds ([`Tolerance`]). [`check_property`] runs one
//! against a model and returns a [`PropertyOutcome`]; [`Checker`] wraps the
//! loading for use in `#[test]` functions.

mod checker;
mod evaluate;
mod family;
mod metric;
mod outcome;
mod regressions;
mod runner;
mod search;
mod shrink;
mod spec;
mod tolerance;

pub use checker::{is_checkpoint, Checker};
pub use evaluate::{CaseScore, Evaluator, Subject};
pub use family::Family;
pub use metric::{top1_stability, Metric, TopClasses};
pub use outcome::{Calibration, Counterexample, PropertyOutcome};
pub use regressions::{regressions_path, Regressions, StoredCase};
pub use runner::check_property;
pub use search::search_worst;
pub use shrink::{origin_offset, shrink_from, AxisTree, Case, CaseStrategy, CaseTree};
pub use spec::{is_regression_file, load_specs, LoadedSpec, PropertySpec, Reference, Relation, TransformSpec};
pub use tolerance::Tolerance;
