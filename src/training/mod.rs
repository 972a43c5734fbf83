//! Training a segmentation model: the profiles that size a run, the IoU
//! metric, the optimizer, checkpoints written atomically, the resume point,
//! and the epoch loop.

mod adamw;
mod checkpoint;
mod metrics;
mod profile;
mod resume;
mod trainer;

pub use checkpoint::{load_model, save_weights_atomically, write_atomically, LoadedModel, RunConfig, MODEL_FILE, CONFIG_FILE, METRICS_FILE};
pub use metrics::{binarize_logits, iou_per_image, mean_iou};
pub use adamw::{AdamW, AdamWConfig};
pub use profile::{Profile, ProfileName};
pub use resume::STATE_FILE;
pub use trainer::{check_resumable, evaluate_iou, train, EpochMetrics, Start, TrainEvent, TrainOutcome};
