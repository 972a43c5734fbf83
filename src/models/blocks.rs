//! Shared layer helpers of the plain U-Net.

use tch::nn::{self, Module};
use tch::Tensor;

/// Number of Group Normalisation groups for `channels`: the largest of 8,
/// 4, 2 and 1 that divides it.
pub fn norm_groups(channels: i64) -> i64 {
    [8, 4, 2, 1]
        .into_iter()
        .find(|g| channels % g == 0)
        .unwrap_or(1)
}

/// Creates a 3x3 convolution with zero padding 1, which keeps the spatial
/// size.
pub fn conv3x3(path: nn::Path, c_in: i64, c_out: i64) -> nn::Conv2D {
    let config = nn::ConvConfig {
        padding: 1,
        ..Default::default()
    };
    nn::conv2d(path, c_in, c_out, 3, config)
}

/// Two 3x3 convolutions with Group Normalisation and ReLU, added to the
/// input (through a 1x1 convolution when the channel count changes).
#[derive(Debug)]
pub struct ResBlock {
    conv1: nn::Conv2D,
    norm1: nn::GroupNorm,
    conv2: nn::Conv2D,
    norm2: nn::GroupNorm,
    skip: Option<nn::Conv2D>,
}

impl ResBlock {
    pub fn new(path: &nn::Path, c_in: i64, c_out: i64) -> Self {
        let groups = norm_groups(c_out);
        let norm = |name: &str| nn::group_norm(path / name, groups, c_out, Default::default());
        let skip = (c_in != c_out)
            .then(|| nn::conv2d(path / "skip", c_in, c_out, 1, Default::default()));
        ResBlock {
            conv1: conv3x3(path / "conv1", c_in, c_out),
            norm1: norm("norm1"),
            conv2: conv3x3(path / "conv2", c_out, c_out),
            norm2: norm("norm2"),
            skip,
        }
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        let h = self.norm1.forward(&self.conv1.forward(x)).relu();
        let h = self.norm2.forward(&self.conv2.forward(&h));
        let skip = match &self.skip {
            Some(conv) => conv.forward(x),
            None => x.shallow_clone(),
        };
        (h + skip).relu()
    }
}

/// Halves height and width by 2x2 average pooling.
pub fn downsample(x: &Tensor) -> Tensor {
    x.avg_pool2d([2, 2], [2, 2], [0, 0], false, true, None)
}

/// Doubles height and width by nearest-neighbour upsampling.
pub fn upsample(x: &Tensor) -> Tensor {
    let size = x.size();
    x.upsample_nearest2d([size[2] * 2, size[3] * 2], None, None)
}
