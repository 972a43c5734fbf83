//! eqcheck tests how image models behave when their input is transformed:
//! a segmentation mask should turn when the image turns (equivariance) and
//! stay put when only brightness or noise changes (invariance), and a
//! classifier's top-1 class should not change.
//!
//! The crate trains its first workload itself: a plain U-Net and a C4 Group
//! U-Net on the Leeds Butterfly Dataset, compared by how consistent their
//! predictions stay under rotation. Models trained elsewhere are checked
//! as TorchScript files.

pub mod allocator;
pub mod data;
pub mod error;
pub mod eval;
pub mod experiment;
pub mod models;
pub mod properties;
pub mod report;
pub mod text;
pub mod torchscript;
pub mod training;
pub mod transforms;

pub use error::{Error, Result};
