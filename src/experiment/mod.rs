//! The experiment that `eqcheck reproduce` runs: four variants (two
//! architectures by two augmentation pipelines) trained on the same split,
//! then swept over rotation angles and reported side by side.

mod paper;
mod variant;

pub use paper::{paper_reference, PaperRow};
pub use variant::{
    evaluate_variant, load_data, read_metrics, ExperimentResults, MachineInfo, SampleResult,
    VariantResult, VARIANTS,
};
