//! The Group U-Net: the plain U-Net's shape built from C4 group
//! convolutions, so that turning the input by a multiple of 90 degrees
//! turns the logits by the same amount, exactly. A mean over the group axis
//! before the 1x1 head makes the last features invariant to the cyclic
//! shift while they still rotate with the image.

use tch::nn::{self, Module};
use tch::Tensor;

use super::blocks::{downsample, norm_groups, upsample};
use super::execution::Execution;
use super::group_conv::{C4Conv, C4GroupNorm, C4Lifting, GROUP_ORDER};
use super::Widths;

/// The residual block of the plain U-Net, with every layer replaced by its
/// C4 counterpart. Widths count fields.
#[derive(Debug)]
struct C4ResBlock {
    conv1: C4Conv,
    norm1: C4GroupNorm,
    conv2: C4Conv,
    norm2: C4GroupNorm,
    skip: Option<C4Conv>,
}

impl C4ResBlock {
    fn new(path: &nn::Path, fields_in: i64, fields_out: i64, cache_banks: bool) -> Self {
        let groups = norm_groups(fields_out);
        let conv = |name: &str, fields_in: i64, kernel: i64| {
            C4Conv::new(&(path / name), fields_in, fields_out, kernel).cache_filter_bank(cache_banks)
        };
        let skip = (fields_in != fields_out).then(|| conv("skip", fields_in, 1));
        C4ResBlock {
            conv1: conv("conv1", fields_in, 3),
            norm1: C4GroupNorm::new(&(path / "norm1"), fields_out, groups),
            conv2: conv("conv2", fields_out, 3),
            norm2: C4GroupNorm::new(&(path / "norm2"), fields_out, groups),
            skip,
        }
    }

    fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let h = self.norm1.forward(&self.conv1.forward_t(x, train)).relu();
        let h = self.norm2.forward(&self.conv2.forward_t(&h, train));
        let skip = match &self.skip {
            Some(conv) => conv.forward_t(x, train),
            None => x.shallow_clone(),
        };
        (h + skip).relu()
    }
}

/// U-Net of C4 group convolutions; `widths` counts fields of four channels.
#[derive(Debug)]
pub struct GroupUNet {
    lifting: C4Lifting,
    encoders: Vec<C4ResBlock>,
    decoders: Vec<C4ResBlock>,
    head: nn::Conv2D,
    execution: Execution,
}

impl GroupUNet {
    /// Creates the layers under `path`, named like the plain U-Net's, with
    /// the default [`Execution`].
    pub fn new(path: &nn::Path, widths: Widths) -> Self {
        Self::with_execution(path, widths, Execution::default())
    }

    /// Creates the layers under `path`, named like the plain U-Net's.
    pub fn with_execution(path: &nn::Path, widths: Widths, execution: Execution) -> Self {
        let w = widths.levels();
        let cache_banks = execution.cache_filter_banks;
        let lifting = C4Lifting::new(&(path / "stem"), 3, w[0], 3).cache_filter_bank(cache_banks);
        let encoders = (0..5)
            .map(|i| {
                let fields_in = if i == 0 { w[0] } else { w[i - 1] };
                C4ResBlock::new(&(path / "encoders" / i), fields_in, w[i], cache_banks)
            })
            .collect();
        let decoders = (0..4)
            .map(|i| C4ResBlock::new(&(path / "decoders" / i), w[i + 1] + w[i], w[i], cache_banks))
            .collect();
        let head = nn::conv2d(path / "head", w[0], 1, 1, Default::default());
        GroupUNet {
            lifting,
            encoders,
            decoders,
            head,
            execution,
        }
    }

    /// Maps `[batch, 3, P, P]` to `[batch, 1, P, P]` logits; P % 16 == 0.
    /// With `train` false and gradients off, the group convolutions may
    /// reuse their cached filter banks.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let mut skips = Vec::with_capacity(4);
        let mut h = self.lifting.forward_t(&self.execution.prepare_input(x), train);
        for (level, encoder) in self.encoders.iter().enumerate() {
            if level > 0 {
                h = downsample(&h);
            }
            h = encoder.forward(&h, train);
            if level < 4 {
                skips.push(h.shallow_clone());
            }
        }
        for (level, decoder) in self.decoders.iter().enumerate().rev() {
            let joined = Tensor::cat(&[upsample(&h), skips[level].shallow_clone()], 1);
            h = decoder.forward(&joined, train);
        }

        // The batch dimension stays -1 so that a traced copy of this model
        // (`eqcheck export`) accepts any batch size, not only the traced one.
        let size = h.size();
        let fields = size[1] / GROUP_ORDER;
        let pooled = h
            .view([-1, fields, GROUP_ORDER, size[2], size[3]])
            .mean_dim([2].as_slice(), false, h.kind());
        self.head.forward(&pooled)
    }
}
