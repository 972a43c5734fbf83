//! The Leeds Butterfly Dataset: reading its folder, decoding both mask
//! encodings, the seeded train/validation split and the resize-and-pad
//! preprocessing that puts every image on one square canvas.

mod folder;
mod mask;
mod preprocess;
mod split;

pub use folder::{ButterflyFolder, SampleFiles};
pub use mask::{decode_mask, load_mask};
pub use preprocess::{decode_rgb, load_rgb, Canvas, Dataset, IMAGENET_MEAN, IMAGENET_STD};
pub use split::{stratified_split, Split};
