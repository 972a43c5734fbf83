//! Colour changes on `[batch, 3, H, W]` RGB tensors with values in [0, 1].
//! Each takes one factor per batch item as a `[batch]` tensor and clamps
//! its result to [0, 1].

use tch::{Kind, Tensor};

/// ITU-R BT.601 luma weights, the grayscale that contrast and saturation
/// changes pull towards.
const LUMA: [f64; 3] = [0.299, 0.587, 0.114];

/// Reshapes a `[batch]` factor so it broadcasts over `[batch, C, H, W]`.
fn per_item(factor: &Tensor) -> Tensor {
    factor.to_kind(Kind::Float).view([-1, 1, 1, 1])
}

/// Returns the luma `[batch, 1, H, W]` of RGB images.
fn grayscale(x: &Tensor) -> Tensor {
    let weights = Tensor::from_slice(&LUMA).to_kind(x.kind()).view([1, 3, 1, 1]);
    (x * weights).sum_dim_intlist(1, true, x.kind())
}

/// Multiplies every value by its item's factor.
pub fn adjust_brightness(x: &Tensor, factor: &Tensor) -> Tensor {
    (x * per_item(factor)).clamp(0.0, 1.0)
}

/// Scales each item's distance from its mean luma by the factor.
pub fn adjust_contrast(x: &Tensor, factor: &Tensor) -> Tensor {
    let mean = grayscale(x).mean_dim([1, 2, 3].as_slice(), true, x.kind());
    ((x - &mean) * per_item(factor) + mean).clamp(0.0, 1.0)
}

/// Scales each pixel's distance from its own luma by the factor; 0 gives
/// grayscale.
pub fn adjust_saturation(x: &Tensor, factor: &Tensor) -> Tensor {
    let gray = grayscale(x);
    ((x - &gray) * per_item(factor) + gray).clamp(0.0, 1.0)
}

/// Shifts the hue of each item by a fraction of the hue circle (0.5 is
/// half a turn), through HSV.
pub fn adjust_hue(x: &Tensor, shift: &Tensor) -> Tensor {
    let hsv = rgb_to_hsv(x);
    let hue = (hsv.narrow(1, 0, 1) + per_item(shift)).remainder(1.0);
    let hsv = Tensor::cat(&[hue, hsv.narrow(1, 1, 2)], 1);
    hsv_to_rgb(&hsv)
}

/// Converts RGB in [0, 1] to HSV, each channel in [0, 1].
pub fn rgb_to_hsv(x: &Tensor) -> Tensor {
    let (r, g, b) = (x.narrow(1, 0, 1), x.narrow(1, 1, 1), x.narrow(1, 2, 1));
    let max = x.amax([1].as_slice(), true);
    let min = x.amin([1].as_slice(), true);
    let delta = &max - &min;
    let gray = delta.eq(0.0);
    let safe_delta = delta.where_self(&gray.logical_not(), &delta.ones_like());

    let saturation = (&delta / max.clamp_min(1e-12)).where_self(&max.gt(0.0), &max.zeros_like());
    // Hue in sixths of the circle, by which channel is largest.
    let hue_r = ((&g - &b) / &safe_delta).remainder(6.0);
    let hue_g = (&b - &r) / &safe_delta + 2.0;
    let hue_b = (&r - &g) / &safe_delta + 4.0;
    let hue = hue_b.where_self(&b.eq_tensor(&max), &hue_b);
    let hue = hue_g.where_self(&g.eq_tensor(&max), &hue);
    let hue = hue_r.where_self(&r.eq_tensor(&max), &hue);
    let hue = (hue / 6.0).where_self(&gray.logical_not(), &delta.zeros_like());
    Tensor::cat(&[hue, saturation, max], 1)
}

/// Converts HSV in [0, 1] back to RGB in [0, 1].
pub fn hsv_to_rgb(hsv: &Tensor) -> Tensor {
    let (h, s, v) = (hsv.narrow(1, 0, 1), hsv.narrow(1, 1, 1), hsv.narrow(1, 2, 1));
    // Channel n of {R: 5, G: 3, B: 1} is v - v s clamp(min(k, 4 - k), 0, 1)
    // with k = (n + 6h) mod 6, a closed form of the six-sector formula.
    let channel = |n: f64| {
        let k = (&h * 6.0 + n).remainder(6.0);
        let ramp = k.minimum(&(k.neg() + 4.0)).clamp(0.0, 1.0);
        &v - &v * &s * ramp
    };
    Tensor::cat(&[channel(5.0), channel(3.0), channel(1.0)], 1).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hsv_round_trip_is_identity() {
        tch::manual_seed(3);
        let x = Tensor::rand([2, 3, 8, 8], (Kind::Float, tch::Device::Cpu));
        let back = hsv_to_rgb(&rgb_to_hsv(&x));
        let error = (back - &x).abs().max().double_value(&[]);
        assert!(error < 1e-5, "round-trip error {error}");
    }

    #[test]
    fn pure_red_has_hue_zero_and_full_saturation() {
        let red = Tensor::from_slice(&[1.0f32, 0.0, 0.0]).view([1, 3, 1, 1]);
        let hsv = rgb_to_hsv(&red);
        assert_eq!(hsv.double_value(&[0, 0, 0, 0]), 0.0);
        assert_eq!(hsv.double_value(&[0, 1, 0, 0]), 1.0);
        assert_eq!(hsv.double_value(&[0, 2, 0, 0]), 1.0);
    }

    #[test]
    fn hue_shift_by_a_third_turns_red_green() {
        let red = Tensor::from_slice(&[1.0f32, 0.0, 0.0]).view([1, 3, 1, 1]);
        let shifted = adjust_hue(&red, &Tensor::from_slice(&[1.0f32 / 3.0]));
        let expected = Tensor::from_slice(&[0.0f32, 1.0, 0.0]).view([1, 3, 1, 1]);
        let error = (shifted - expected).abs().max().double_value(&[]);
        assert!(error < 1e-5, "error {error}");
    }

    #[test]
    fn zero_saturation_gives_gray() {
        tch::manual_seed(4);
        let x = Tensor::rand([1, 3, 4, 4], (Kind::Float, tch::Device::Cpu));
        let gray = adjust_saturation(&x, &Tensor::from_slice(&[0.0f32]));
        let spread = (gray.amax([1].as_slice(), false) - gray.amin([1].as_slice(), false))
            .max()
            .double_value(&[]);
        assert!(spread < 1e-6, "channels differ by {spread}");
    }
}
