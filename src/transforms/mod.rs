//! Image transformations on batched tensors: rotation about the canvas
//! centre, colour changes, and the training augmentation pipelines built
//! from them.

mod augment;
mod color;
mod rotate;

pub use augment::{Augmentation, Augmenter};
pub use color::{
    adjust_brightness, adjust_contrast, adjust_hue, adjust_saturation, hsv_to_rgb, rgb_to_hsv,
};
pub use rotate::{rotate, rotate_by, rotate_each, Interpolation};
