//! Group convolutions over C4, the cyclic group of quarter turns (Cohen and
//! Welling, "Group Equivariant Convolutional Networks", ICML 2016).
//!
//! A C4 feature map stores each field as four channels, one per rotation r
//! of the group, laid out as `[batch, fields * 4, H, W]` with channel
//! `field * 4 + r`. Rotating the input by a quarter turn rotates every
//! channel spatially and shifts each field's four channels cyclically by
//! one. This is exact on the pixel grid because `rot90` only permutes
//! pixels, square 3x3 filters with symmetric zero padding commute with it,
//! and so do 2x2 pooling and 2x upsampling on even sizes.

use tch::nn;
use tch::Tensor;

use super::bank_cache::BankCache;

/// Order of the rotation group: four quarter turns.
pub const GROUP_ORDER: i64 = 4;

/// Stacks the four rotated copies of `filters` (`[out, ..., k, k]`) along a
/// new axis 1, turning copy r by r quarter turns on the last two axes and,
/// when `shift_axis` is given, rolling that axis by r as well.
fn rotated_filter_bank(filters: &Tensor, shift_axis: Option<i64>) -> Tensor {
    let dims = filters.dim() as i64;
    let copies: Vec<Tensor> = (0..GROUP_ORDER)
        .map(|r| {
            let shifted = match shift_axis {
                Some(axis) => filters.roll([r], [axis]),
                None => filters.shallow_clone(),
            };
            shifted.rot90(r, [dims - 2, dims - 1])
        })
        .collect();
    Tensor::stack(&copies, 1)
}

/// Lifts an ordinary image to a C4 feature map: one learned filter per
/// output field, applied in its four rotations.
#[derive(Debug)]
pub struct C4Lifting {
    /// `[fields_out, channels_in, k, k]`.
    weight: Tensor,
    /// `[fields_out]`.
    bias: Tensor,
    bank: BankCache,
}

impl C4Lifting {
    /// Creates the layer with its filter bank cache enabled.
    pub fn new(path: &nn::Path, channels_in: i64, fields_out: i64, kernel: i64) -> Self {
        C4Lifting {
            weight: path.kaiming_uniform("weight", &[fields_out, channels_in, kernel, kernel]),
            bias: path.zeros("bias", &[fields_out]),
            bank: BankCache::new(true),
        }
    }

    /// Enables or disables the reuse of the expanded filter bank between
    /// forward passes with gradients off.
    pub fn cache_filter_bank(mut self, enabled: bool) -> Self {
        self.bank = BankCache::new(enabled);
        self
    }

    /// Maps `[batch, channels_in, H, W]` to `[batch, fields_out * 4, H, W]`,
    /// expanding the filter bank anew.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        self.forward_t(x, true)
    }

    /// Maps `[batch, channels_in, H, W]` to `[batch, fields_out * 4, H, W]`.
    /// With `train` false and gradients off, reuses the cached filter bank.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let kernel = self.weight.size()[2];
        let (bank, bias) = self
            .bank
            .get_or_expand(&self.weight, &self.bias, train, || self.expand());
        x.conv2d(&bank, Some(&bias), [1, 1], [kernel / 2, kernel / 2], [1, 1], 1)
    }

    /// Returns the executed filter bank `[fields_out * 4, channels_in, k, k]`
    /// and its bias `[fields_out * 4]`.
    fn expand(&self) -> (Tensor, Tensor) {
        let size = self.weight.size();
        let (fields, channels, kernel) = (size[0], size[1], size[2]);
        let bank = rotated_filter_bank(&self.weight, None)
            .reshape([fields * GROUP_ORDER, channels, kernel, kernel]);
        let bias = self.bias.repeat_interleave_self_int(GROUP_ORDER, 0, None);
        (bank, bias)
    }
}

/// A convolution from one C4 feature map to another. The filter for output
/// rotation r is the learned filter turned by r quarter turns with its
/// group axis rolled by r, which makes the layer commute with rotations.
#[derive(Debug)]
pub struct C4Conv {
    /// `[fields_out, fields_in, 4, k, k]`.
    weight: Tensor,
    /// `[fields_out]`.
    bias: Tensor,
    bank: BankCache,
}

impl C4Conv {
    /// Creates the layer with its filter bank cache enabled.
    pub fn new(path: &nn::Path, fields_in: i64, fields_out: i64, kernel: i64) -> Self {
        let dims = [fields_out, fields_in, GROUP_ORDER, kernel, kernel];
        C4Conv {
            weight: path.kaiming_uniform("weight", &dims),
            bias: path.zeros("bias", &[fields_out]),
            bank: BankCache::new(true),
        }
    }

    /// Enables or disables the reuse of the expanded filter bank between
    /// forward passes with gradients off.
    pub fn cache_filter_bank(mut self, enabled: bool) -> Self {
        self.bank = BankCache::new(enabled);
        self
    }

    /// Maps `[batch, fields_in * 4, H, W]` to `[batch, fields_out * 4, H, W]`,
    /// expanding the filter bank anew.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        self.forward_t(x, true)
    }

    /// Maps `[batch, fields_in * 4, H, W]` to `[batch, fields_out * 4, H, W]`.
    /// With `train` false and gradients off, reuses the cached filter bank.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let kernel = self.weight.size()[3];
        let (bank, bias) = self
            .bank
            .get_or_expand(&self.weight, &self.bias, train, || self.expand());
        x.conv2d(&bank, Some(&bias), [1, 1], [kernel / 2, kernel / 2], [1, 1], 1)
    }

    /// Returns the executed filter bank `[fields_out * 4, fields_in * 4, k, k]`
    /// and its bias `[fields_out * 4]`.
    fn expand(&self) -> (Tensor, Tensor) {
        let size = self.weight.size();
        let (fields_out, fields_in, kernel) = (size[0], size[1], size[3]);
        let bank = rotated_filter_bank(&self.weight, Some(2)).reshape([
            fields_out * GROUP_ORDER,
            fields_in * GROUP_ORDER,
            kernel,
            kernel,
        ]);
        let bias = self.bias.repeat_interleave_self_int(GROUP_ORDER, 0, None);
        (bank, bias)
    }
}

/// Group Normalisation over whole fields, with one scale and shift per
/// field shared by its four rotation channels. Per-channel affine weights
/// would treat rotations differently and so break equivariance.
#[derive(Debug)]
pub struct C4GroupNorm {
    groups: i64,
    /// `[fields]`.
    weight: Tensor,
    /// `[fields]`.
    bias: Tensor,
}

impl C4GroupNorm {
    /// `groups` must divide `fields`, so each group contains whole fields.
    pub fn new(path: &nn::Path, fields: i64, groups: i64) -> Self {
        C4GroupNorm {
            groups,
            weight: path.ones("weight", &[fields]),
            bias: path.zeros("bias", &[fields]),
        }
    }

    /// Normalises `[batch, fields * 4, H, W]`.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        let normalised = x.group_norm(self.groups, None::<Tensor>, None::<Tensor>, 1e-5, false);
        let scale = self
            .weight
            .repeat_interleave_self_int(GROUP_ORDER, 0, None)
            .view([1, -1, 1, 1]);
        let shift = self
            .bias
            .repeat_interleave_self_int(GROUP_ORDER, 0, None)
            .view([1, -1, 1, 1]);
        normalised * scale + shift
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    /// Rotates a C4 feature map by one quarter turn: spatially, and by a
    /// cyclic shift of one along each field's group axis.
    fn act(x: &Tensor) -> Tensor {
        let size = x.size();
        let fields = size[1] / GROUP_ORDER;
        x.rot90(1, [2, 3])
            .view([size[0], fields, GROUP_ORDER, size[2], size[3]])
            .roll([1], [2])
            .view([size[0], size[1], size[2], size[3]])
    }

    fn relative_error(a: &Tensor, b: &Tensor) -> f64 {
        let diff = (a - b).norm().double_value(&[]);
        diff / b.norm().double_value(&[]).max(1e-12)
    }

    #[test]
    fn lifting_commutes_with_quarter_turns() {
        tch::manual_seed(1);
        let vs = nn::VarStore::new(Device::Cpu);
        let layer = C4Lifting::new(&vs.root(), 3, 2, 3);
        let x = Tensor::randn([1, 3, 8, 8], (Kind::Float, Device::Cpu));
        let error = relative_error(&layer.forward(&x.rot90(1, [2, 3])), &act(&layer.forward(&x)));
        assert!(error < 1e-5, "relative error {error}");
    }

    #[test]
    fn group_conv_commutes_with_quarter_turns() {
        tch::manual_seed(2);
        let vs = nn::VarStore::new(Device::Cpu);
        let layer = C4Conv::new(&vs.root(), 2, 3, 3);
        let x = Tensor::randn([1, 8, 8, 8], (Kind::Float, Device::Cpu));
        let error = relative_error(&layer.forward(&act(&x)), &act(&layer.forward(&x)));
        assert!(error < 1e-5, "relative error {error}");
    }
}
