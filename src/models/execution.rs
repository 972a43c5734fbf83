//! How a model executes its forward pass. The options change speed, not
//! the function computed: outputs agree with every option off within float
//! rounding, and the checkpoint's variable names and shapes stay the same.

use tch::Tensor;

/// Speed options of a model's forward pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Execution {
    /// Converts the input to channels-last (NHWC) memory layout. Later
    /// layers keep that layout, and libtorch's oneDNN convolutions then
    /// read and write activations without converting them on each call.
    pub channels_last: bool,
    /// Keeps each group convolution's expanded filter bank between forward
    /// passes run with gradients off, until its weights change.
    pub cache_filter_banks: bool,
}

impl Execution {
    /// Every option off: the model as first written.
    pub const BASELINE: Execution = Execution {
        channels_last: false,
        cache_filter_banks: false,
    };

    /// Filter-bank caching alone, which changes only Group U-Net inference.
    pub const CACHE_ONLY: Execution = Execution {
        channels_last: false,
        cache_filter_banks: true,
    };

    /// Channels-last input alone.
    pub const CHANNELS_LAST_ONLY: Execution = Execution {
        channels_last: true,
        cache_filter_banks: false,
    };

    /// Returns `x` in the layout this execution runs in.
    pub fn prepare_input(&self, x: &Tensor) -> Tensor {
        if self.channels_last {
            to_channels_last(x)
        } else {
            x.shallow_clone()
        }
    }
}

impl Default for Execution {
    fn default() -> Self {
        Execution {
            channels_last: true,
            cache_filter_banks: true,
        }
    }
}

/// Returns a copy of a `[N, C, H, W]` tensor with channels-last strides.
/// tch 0.26 exposes no memory-format argument, so this permutes to NHWC,
/// copies into a contiguous buffer, and permutes the view back to NCHW.
pub fn to_channels_last(x: &Tensor) -> Tensor {
    x.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2])
}

/// Returns whether a 4-D tensor has channels-last strides.
pub fn is_channels_last(x: &Tensor) -> bool {
    let size = x.size();
    let stride = x.stride();
    if size.len() != 4 {
        return false;
    }
    let (c, h, w) = (size[1], size[2], size[3]);
    stride[1] == 1 && stride[3] == c && stride[2] == c * w && stride[0] == c * h * w
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn channels_last_copy_keeps_values() {
        let x = Tensor::randn([2, 3, 4, 5], (Kind::Float, Device::Cpu));
        let converted = to_channels_last(&x);
        assert_eq!(converted.size(), x.size());
        assert!(is_channels_last(&converted));
        assert!(!is_channels_last(&x));
        assert!(converted.equal(&x));
    }
}
