//! Training a segmentation model: the profiles that size a run, the IoU
//! metric, checkpoints written atomically, and the epoch loop.

mod checkpoint;
mod metrics;
mod profile;
mod trainer;

pub(crate) use checkpoint::temporary_path;
pub use checkpoint::{load_model, save_weights_atomically, write_atomically, LoadedModel, RunConfig, MODEL_FILE, CONFIG_FILE, METRICS_FILE};
pub use metrics::{binarize_logits, iou_per_image, mean_iou};
pub use profile::{Profile, ProfileName};
pub use trainer::{evaluate_iou, train, EpochMetrics, TrainEvent, TrainOutcome};
