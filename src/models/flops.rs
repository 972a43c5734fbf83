//! Arithmetic cost of one forward pass, found by walking the layers in the
//! order `UNet::new` and `GroupUNet::new` create them.
//!
//! Only convolutions are counted. A k x k convolution from Cin to Cout
//! channels on an H x W map costs Cin·Cout·k²·H·W multiply-adds, which is
//! 2·Cin·Cout·k²·H·W FLOPs. Bias additions, Group Normalisation, ReLU,
//! pooling, upsampling, concatenation and the Group U-Net's mean over the
//! group axis are left out: each costs a few operations per activation,
//! against at least Cin multiply-adds per output of the convolution that
//! precedes it.
//!
//! A C4 layer is counted as libtorch executes it: one ordinary convolution
//! with the expanded filter bank, from 4·fields_in to 4·fields_out channels
//! (3 input channels for the lifting layer). That is four times the
//! multiply-adds its learned weights alone would suggest, because the bank
//! contains each learned filter in four rotations.
//!
//! The same walk counts parameters, so a test can compare it with the
//! VarStore of the real model and catch a walk that no longer matches.

use super::group_conv::GROUP_ORDER;
use super::{arch_widths, Arch, Widths};
use crate::error::{Error, Result};

/// Largest canvas side and base width [`forward_cost`] accepts. Within
/// them every count fits in the 128-bit integers of the walk.
const MAX_CANVAS: i64 = 1 << 20;
const MAX_BASE_WIDTH: i64 = 1 << 20;

/// Cost of one forward pass for one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForwardCost {
    /// Multiply-adds of all convolutions.
    pub multiply_adds: u64,
    /// Learned values: convolution weights and biases, and normalisation
    /// scales and shifts.
    pub parameters: u64,
}

impl ForwardCost {
    /// FLOPs of the convolutions: two per multiply-add.
    pub fn flops(&self) -> u64 {
        2 * self.multiply_adds
    }
}

/// Counts the multiply-adds and parameters of one forward pass of the model
/// [`super::build`] creates for `arch` and `base_width`, on one image of
/// `canvas` x `canvas` pixels. Fails unless the canvas side is a positive
/// multiple of 16 and the base width is positive, or when a count does not
/// fit in 64 bits.
pub fn forward_cost(arch: Arch, base_width: i64, canvas: i64) -> Result<ForwardCost> {
    if !(1..=MAX_BASE_WIDTH).contains(&base_width) {
        return Err(Error::InvalidOption {
            name: "base width",
            value: base_width.to_string(),
            reason: format!("must be between 1 and {MAX_BASE_WIDTH}"),
        });
    }
    if !(16..=MAX_CANVAS).contains(&canvas) || canvas % 16 != 0 {
        return Err(Error::InvalidOption {
            name: "canvas",
            value: canvas.to_string(),
            reason: format!("must be a multiple of 16 between 16 and {MAX_CANVAS} pixels"),
        });
    }

    let mut walk = Walk::default();
    let widths = arch_widths(arch, base_width);
    match arch {
        Arch::Unet => walk.unet(widths, canvas),
        Arch::GroupUnet => walk.group_unet(widths, canvas),
    }
    let to_u64 = |count: u128, what: &str| {
        u64::try_from(count).map_err(|_| Error::InvalidOption {
            name: "canvas",
            value: canvas.to_string(),
            reason: format!("the {what} of base width {base_width} at this canvas exceed 64 bits"),
        })
    };
    Ok(ForwardCost {
        multiply_adds: to_u64(walk.multiply_adds, "multiply-adds")?,
        parameters: to_u64(walk.parameters, "parameters")?,
    })
}

/// Running totals of the layers visited so far.
#[derive(Default)]
struct Walk {
    multiply_adds: u128,
    parameters: u128,
}

impl Walk {
    /// Adds an ordinary convolution with bias on a `side` x `side` map.
    fn conv(&mut self, c_in: i64, c_out: i64, kernel: i64, side: i64) {
        let weights = (c_in * c_out * kernel * kernel) as u128;
        self.multiply_adds += weights * (side * side) as u128;
        self.parameters += weights + c_out as u128;
    }

    /// Adds Group Normalisation with one scale and one shift per channel.
    fn group_norm(&mut self, channels: i64) {
        self.parameters += 2 * channels as u128;
    }

    /// Adds a `C4Lifting`, which learns `[fields_out, c_in, k, k]` and a bias per field,
    /// and executes a convolution from `c_in` to `4 * fields_out` channels.
    fn c4_lifting(&mut self, c_in: i64, fields_out: i64, kernel: i64, side: i64) {
        let executed = (c_in * fields_out * GROUP_ORDER * kernel * kernel) as u128;
        self.multiply_adds += executed * (side * side) as u128;
        self.parameters += (fields_out * c_in * kernel * kernel + fields_out) as u128;
    }

    /// Adds a `C4Conv`, which learns `[fields_out, fields_in, 4, k, k]` and a bias per
    /// field, and executes a convolution from `4 * fields_in` to
    /// `4 * fields_out` channels.
    fn c4_conv(&mut self, fields_in: i64, fields_out: i64, kernel: i64, side: i64) {
        let channels_in = fields_in * GROUP_ORDER;
        let channels_out = fields_out * GROUP_ORDER;
        let executed = (channels_in * channels_out * kernel * kernel) as u128;
        self.multiply_adds += executed * (side * side) as u128;
        let learned = fields_out * fields_in * GROUP_ORDER * kernel * kernel;
        self.parameters += (learned + fields_out) as u128;
    }

    /// Adds a `C4GroupNorm`, with one scale and one shift per field.
    fn c4_group_norm(&mut self, fields: i64) {
        self.parameters += 2 * fields as u128;
    }

    /// Adds a `blocks::ResBlock`.
    fn res_block(&mut self, c_in: i64, c_out: i64, side: i64) {
        self.conv(c_in, c_out, 3, side);
        self.group_norm(c_out);
        self.conv(c_out, c_out, 3, side);
        self.group_norm(c_out);
        if c_in != c_out {
            self.conv(c_in, c_out, 1, side);
        }
    }

    /// Adds a `group_unet::C4ResBlock`.
    fn c4_res_block(&mut self, fields_in: i64, fields_out: i64, side: i64) {
        self.c4_conv(fields_in, fields_out, 3, side);
        self.c4_group_norm(fields_out);
        self.c4_conv(fields_out, fields_out, 3, side);
        self.c4_group_norm(fields_out);
        if fields_in != fields_out {
            self.c4_conv(fields_in, fields_out, 1, side);
        }
    }

    /// Adds a `UNet`, whose level i works on a map of side `canvas / 2^i`.
    fn unet(&mut self, widths: Widths, canvas: i64) {
        let w = widths.levels();
        self.conv(3, w[0], 3, canvas);
        for i in 0..5 {
            let c_in = if i == 0 { w[0] } else { w[i - 1] };
            self.res_block(c_in, w[i], canvas >> i);
        }
        for i in 0..4 {
            self.res_block(w[i + 1] + w[i], w[i], canvas >> i);
        }
        self.conv(w[0], 1, 1, canvas);
    }

    /// Adds a `GroupUNet`: as `unet`, with fields in place of channels and a
    /// plain 1x1 head after the mean over the group axis.
    fn group_unet(&mut self, widths: Widths, canvas: i64) {
        let w = widths.levels();
        self.c4_lifting(3, w[0], 3, canvas);
        for i in 0..5 {
            let fields_in = if i == 0 { w[0] } else { w[i - 1] };
            self.c4_res_block(fields_in, w[i], canvas >> i);
        }
        for i in 0..4 {
            self.c4_res_block(w[i + 1] + w[i], w[i], canvas >> i);
        }
        self.conv(w[0], 1, 1, canvas);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::build;
    use tch::{nn, Device};

    fn varstore_parameters(arch: Arch, base_width: i64) -> u64 {
        let vars = nn::VarStore::new(Device::Cpu);
        let _model = build(&vars.root(), arch, base_width);
        vars.trainable_variables().iter().map(|t| t.numel() as u64).sum()
    }

    #[test]
    fn walk_counts_varstore_parameters() {
        for arch in [Arch::Unet, Arch::GroupUnet] {
            for base_width in [1, 2, 6, 8, 32] {
                let walked = forward_cost(arch, base_width, 64).unwrap().parameters;
                let stored = varstore_parameters(arch, base_width);
                assert_eq!(walked, stored, "{arch} of base width {base_width}");
            }
        }
    }

    #[test]
    fn doubled_canvas_quadruples_multiply_adds() {
        for arch in [Arch::Unet, Arch::GroupUnet] {
            let small = forward_cost(arch, 8, 96).unwrap();
            let large = forward_cost(arch, 8, 192).unwrap();
            assert_eq!(large.multiply_adds, 4 * small.multiply_adds, "{arch}");
            assert_eq!(large.parameters, small.parameters, "{arch}");
        }
    }

    #[test]
    fn plain_unet_of_base_one_matches_hand_count() {
        // Canvas 16, widths 1, 2, 4, 8, 16 on sides 16, 8, 4, 2, 1.
        // Each term is c_in·c_out·k² multiply-adds per pixel, times pixels.
        let stem = 3 * 9 * 256;
        let encoders = (9 + 9) * 256
            + (2 * 9 + 4 * 9 + 2) * 64
            + (8 * 9 + 16 * 9 + 8) * 16
            + (32 * 9 + 64 * 9 + 32) * 4
            + (128 * 9 + 256 * 9 + 128);
        let decoders = (3 * 9 + 9 + 3) * 256
            + (6 * 2 * 9 + 4 * 9 + 6 * 2) * 64
            + (12 * 4 * 9 + 16 * 9 + 12 * 4) * 16
            + (24 * 8 * 9 + 64 * 9 + 24 * 8) * 4;
        let head = 256;
        let cost = forward_cost(Arch::Unet, 1, 16).unwrap();
        assert_eq!(cost.multiply_adds, stem + encoders + decoders + head);
        assert_eq!(cost.flops(), 2 * cost.multiply_adds);
    }

    #[test]
    fn group_conv_counts_expanded_bank() {
        // One C4Conv from 2 to 3 fields, 3x3, on a 4x4 map: the bank is a
        // 12 x 8 x 3 x 3 convolution, the learned weight 3 x 2 x 4 x 3 x 3.
        let mut walk = Walk::default();
        walk.c4_conv(2, 3, 3, 4);
        assert_eq!(walk.multiply_adds, 12 * 8 * 9 * 16);
        assert_eq!(walk.parameters, 3 * 2 * 4 * 9 + 3);
    }

    #[test]
    fn invalid_sizes_are_rejected() {
        assert!(forward_cost(Arch::Unet, 8, 0).is_err());
        assert!(forward_cost(Arch::Unet, 8, 100).is_err());
        assert!(forward_cost(Arch::Unet, 8, -96).is_err());
        assert!(forward_cost(Arch::GroupUnet, 0, 96).is_err());
        assert!(forward_cost(Arch::GroupUnet, -8, 96).is_err());
        assert!(forward_cost(Arch::Unet, 8, MAX_CANVAS * 16).is_err());
    }

    #[test]
    fn largest_sizes_fail_without_panic() {
        let result = forward_cost(Arch::GroupUnet, MAX_BASE_WIDTH, MAX_CANVAS);
        assert!(result.is_err(), "{result:?}");
    }
}
