//! The rotation evaluation: turn the padded input, predict, turn the
//! prediction back, crop and compare, at every angle of a sweep.

mod rotation;
mod summary;

pub use rotation::{
    predict_probabilities, rotate_input, rotate_back_and_binarize, sweep, sweep_angles,
    RotationSweep, SWEEP_BATCH,
};
pub use summary::{summarise, AngleSummary};
