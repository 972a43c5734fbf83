//! The library's one error type. Every variant that concerns a file carries
//! its path, so a message always tells the user which input to fix.

use std::path::PathBuf;

/// Errors returned by the eqcheck library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read or written.
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: std::io::Error },

    /// A file exists but its content is not a valid image.
    #[error("{path}: not a readable image: {reason}")]
    Image { path: PathBuf, reason: String },

    /// The dataset folder does not have the expected layout or content.
    #[error("{path}: {reason}")]
    Dataset { path: PathBuf, reason: String },

    /// A mask whose size differs from its image's.
    #[error(
        "{path}: mask is {mask_width}x{mask_height} but its image is \
         {image_width}x{image_height}"
    )]
    MaskSize {
        path: PathBuf,
        mask_width: u32,
        mask_height: u32,
        image_width: u32,
        image_height: u32,
    },

    /// An option or configuration value outside its valid range.
    #[error("invalid {name} = {value}: {reason}")]
    InvalidOption {
        name: &'static str,
        value: String,
        reason: String,
    },

    /// A checkpoint that is missing a tensor or has one of another shape.
    #[error("{path}: {reason}")]
    Checkpoint { path: PathBuf, reason: String },

    /// A model produced values that cannot be scored (NaN or infinite).
    #[error("model output is not finite: {context}")]
    NonFinite { context: String },

    /// An error raised by libtorch.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),

    /// A property spec that cannot be parsed or has a bad value.
    #[error("{path}: invalid property spec: {reason}")]
    Spec { path: PathBuf, reason: String },

    /// A TorchScript model that cannot be loaded, or whose input or output
    /// does not match its description.
    #[error("{path}: {reason}")]
    TorchScript { path: PathBuf, reason: String },

    /// A model description (sidecar file or options) with a bad value.
    #[error("{path}: invalid model description: {reason}")]
    Description { path: PathBuf, reason: String },

    /// A report file (JSON, chart) could not be produced.
    #[error("{path}: {reason}")]
    Report { path: PathBuf, reason: String },
}

/// Result type of the eqcheck library.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            error: source,
        }
    }

    /// Builds a dataset error for a path with a reason.
    pub fn dataset(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Dataset {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
