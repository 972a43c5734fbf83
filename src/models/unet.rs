//! The plain U-Net (Ronneberger, Fischer and Brox, "U-Net: Convolutional
//! Networks for Biomedical Image Segmentation", MICCAI 2015), with residual
//! blocks, Group Normalisation and average pooling as in the experiment.

use tch::nn::{self, Module};
use tch::Tensor;

use super::blocks::{conv3x3, downsample, upsample, ResBlock};
use super::execution::Execution;
use super::Widths;

/// Four downsampling levels and a bottleneck; each decoder level upsamples,
/// concatenates the encoder's output of the same resolution and applies a
/// residual block. A 1x1 convolution gives one channel of logits.
// NOTE: at the `cpu` profile's width of 8 this model runs at about 50% of
// the machine's matrix-multiply ceiling in inference and 38% in training
// (BENCHMARKS.md): its convolutions are narrow and its normalisation and
// element-wise layers are memory-bound. Fusing those layers into the
// convolutions, for example through a frozen TorchScript graph, is the
// lever left to try.
#[derive(Debug)]
pub struct UNet {
    stem: nn::Conv2D,
    encoders: Vec<ResBlock>,
    decoders: Vec<ResBlock>,
    head: nn::Conv2D,
    execution: Execution,
}

impl UNet {
    /// Creates the layers under `path` with the default [`Execution`].
    /// Weight names follow the layout of a PyTorch state dict, for example
    /// `encoders.1.conv2.weight`.
    pub fn new(path: &nn::Path, widths: Widths) -> Self {
        Self::with_execution(path, widths, Execution::default())
    }

    /// Creates the layers under `path`. Only `execution.channels_last`
    /// applies, because the plain U-Net has no filter banks to cache.
    pub fn with_execution(path: &nn::Path, widths: Widths, execution: Execution) -> Self {
        let w = widths.levels();
        let stem = conv3x3(path / "stem", 3, w[0]);
        let encoders = (0..5)
            .map(|i| {
                let c_in = if i == 0 { w[0] } else { w[i - 1] };
                ResBlock::new(&(path / "encoders" / i), c_in, w[i])
            })
            .collect();
        let decoders = (0..4)
            .map(|i| ResBlock::new(&(path / "decoders" / i), w[i + 1] + w[i], w[i]))
            .collect();
        let head = nn::conv2d(path / "head", w[0], 1, 1, Default::default());
        UNet {
            stem,
            encoders,
            decoders,
            head,
            execution,
        }
    }

    /// Maps `[batch, 3, P, P]` to `[batch, 1, P, P]` logits; P % 16 == 0.
    pub fn forward(&self, x: &Tensor, _train: bool) -> Tensor {
        let mut skips = Vec::with_capacity(4);
        let mut h = self.stem.forward(&self.execution.prepare_input(x));
        for (level, encoder) in self.encoders.iter().enumerate() {
            if level > 0 {
                h = downsample(&h);
            }
            h = encoder.forward(&h);
            if level < 4 {
                skips.push(h.shallow_clone());
            }
        }
        for (level, decoder) in self.decoders.iter().enumerate().rev() {
            h = decoder.forward(&Tensor::cat(&[upsample(&h), skips[level].shallow_clone()], 1));
        }
        self.head.forward(&h)
    }
}
