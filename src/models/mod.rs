//! The two segmentation architectures compared by the experiment, the
//! trait through which training and evaluation use them, and the
//! [`Predictor`] interface through which properties use any model under
//! test.
//!
//! Both architectures map `[batch, 3, P, P]` normalised RGB to
//! `[batch, 1, P, P]` mask logits, with P divisible by 16 because each has
//! four 2x downsamplings.

mod bank_cache;
mod blocks;
mod execution;
mod flops;
mod group_conv;
mod group_unet;
mod predictor;
mod unet;

use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

pub use execution::{is_channels_last, to_channels_last, Execution};
pub use flops::{forward_cost, ForwardCost};
pub use group_conv::{C4Conv, C4GroupNorm, C4Lifting, GROUP_ORDER};
pub use group_unet::GroupUNet;
pub use predictor::{Predictor, Task};
pub use unet::UNet;

/// Architecture of a training run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Arch {
    /// Plain U-Net with residual blocks.
    Unet,
    /// U-Net of C4 group convolutions, exactly equivariant to quarter turns.
    GroupUnet,
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Arch::Unet => "unet",
            Arch::GroupUnet => "group-unet",
        })
    }
}

/// A segmentation model: normalised images in, mask logits out.
pub trait SegmentationModel: Send {
    /// Maps `[batch, 3, P, P]` to `[batch, 1, P, P]` logits.
    fn forward(&self, x: &Tensor, train: bool) -> Tensor;
}

impl SegmentationModel for UNet {
    fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        UNet::forward(self, x, train)
    }
}

impl SegmentationModel for GroupUNet {
    fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        GroupUNet::forward(self, x, train)
    }
}

/// Channel widths of a model's five levels: the plain U-Net uses
/// `base * [1, 2, 4, 8, 16]` channels, the Group U-Net as many fields of
/// four channels each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Widths {
    pub base: i64,
}

impl Widths {
    /// Widths of the five levels, from the full-resolution one down.
    pub fn levels(&self) -> [i64; 5] {
        [1, 2, 4, 8, 16].map(|m| m * self.base)
    }
}

/// Builds the architecture's layers under `path`. The plain U-Net gets
/// `base` channels at full resolution, the Group U-Net `base / 2` fields,
/// which gives both about the same number of parameters because a C4
/// filter holds four times the weights of a plain one with the same
/// number of inputs and outputs.
pub fn build(path: &nn::Path, arch: Arch, base: i64) -> Box<dyn SegmentationModel> {
    build_with(path, arch, base, Execution::default())
}

/// Builds like [`build`], with the given speed options.
pub fn build_with(path: &nn::Path, arch: Arch, base: i64, execution: Execution) -> Box<dyn SegmentationModel> {
    let widths = arch_widths(arch, base);
    match arch {
        Arch::Unet => Box::new(UNet::with_execution(path, widths, execution)),
        Arch::GroupUnet => Box::new(GroupUNet::with_execution(path, widths, execution)),
    }
}

/// Returns the widths [`build`] gives an architecture for a base width:
/// channels for the plain U-Net, fields for the Group U-Net.
pub fn arch_widths(arch: Arch, base: i64) -> Widths {
    match arch {
        Arch::Unet => Widths { base },
        Arch::GroupUnet => Widths { base: (base / 2).max(1) },
    }
}
