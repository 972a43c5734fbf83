//! Transformation families: parametrised changes of a padded input batch.
//!
//! Geometric families (rotation, the dihedral group D4, translation) move
//! pixels and carry an inverse, which equivariance needs. Photometric
//! families (brightness, contrast, gamma, Gaussian and Poisson noise,
//! Gaussian blur) change values only and are tested as invariances.
//!
//! All work on `[batch, channels, P, P]` canvases holding values in [0, 1]
//! before normalisation. Angles are in degrees, counter-clockwise positive;
//! translations are in pixels, positive x to the right and positive y down.

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::transforms::{adjust_brightness, adjust_contrast, rotate, rotate_by, Interpolation};

/// The families a property can draw transformations from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// Rotation by any angle (degrees); bilinear for images.
    Rotation,
    /// The eight symmetries of the square: element `4 * flip + k` is k
    /// quarter turns, preceded by a left-right flip when `flip` is 1.
    D4,
    /// Multiplies values by a factor; 1 is the identity.
    Brightness,
    /// Scales the distance from the mean luma by a factor; 1 is the identity.
    Contrast,
    /// Raises values to a power; 1 is the identity.
    Gamma,
    /// Adds zero-mean Gaussian noise of this standard deviation.
    GaussianNoise,
    /// Replaces each value v by Poisson(v * photons) / photons: shot noise
    /// at this photon count for a full-scale value.
    PoissonNoise,
    /// Gaussian blur of this standard deviation, in pixels.
    Blur,
    /// Horizontal shift in pixels.
    TranslateX,
    /// Vertical shift in pixels.
    TranslateY,
}

impl Family {
    /// Returns whether the family moves pixels (and so has an inverse that an
    /// equivariance property applies to the output).
    pub fn is_geometric(self) -> bool {
        matches!(self, Family::Rotation | Family::D4 | Family::TranslateX | Family::TranslateY)
    }

    /// Returns the parameter value that leaves the input unchanged.
    pub fn identity(self) -> f64 {
        match self {
            Family::Brightness | Family::Contrast | Family::Gamma => 1.0,
            Family::PoissonNoise => f64::INFINITY,
            _ => 0.0,
        }
    }

    /// Unit of the parameter, for reports.
    pub fn unit(self) -> &'static str {
        match self {
            Family::Rotation => "deg",
            Family::Blur | Family::TranslateX | Family::TranslateY => "px",
            Family::PoissonNoise => "photons",
            Family::D4 => "element",
            _ => "",
        }
    }

    /// Maps a parameter to its signed distance from the identity, the axis
    /// along which shrinking moves. Rotation angles wrap into (-180, 180],
    /// so 350 degrees is -10. Poisson noise uses 1 / sqrt(photons), its
    /// relative noise level.
    pub fn to_offset(self, value: f64) -> f64 {
        match self {
            Family::Rotation => {
                let wrapped = value.rem_euclid(360.0);
                if wrapped > 180.0 {
                    wrapped - 360.0
                } else {
                    wrapped
                }
            }
            Family::PoissonNoise => 1.0 / value.max(f64::MIN_POSITIVE).sqrt(),
            _ => value - self.identity(),
        }
    }

    /// Inverse of [`Family::to_offset`].
    pub fn from_offset(self, offset: f64) -> f64 {
        match self {
            Family::Rotation => offset,
            Family::PoissonNoise => {
                if offset <= 0.0 {
                    f64::INFINITY
                } else {
                    1.0 / (offset * offset)
                }
            }
            Family::D4 => (offset + self.identity()).round(),
            _ => offset + self.identity(),
        }
    }

    /// Smallest step worth distinguishing on the offset axis: shrinking
    /// stops refining below it.
    pub fn resolution(self) -> f64 {
        match self {
            Family::Rotation => 0.05,
            Family::D4 => 1.0,
            Family::TranslateX | Family::TranslateY | Family::Blur => 0.01,
            Family::PoissonNoise => 1e-4,
            _ => 1e-3,
        }
    }

    /// Returns whether `value` is an exact group element: a multiple of 90 degrees,
    /// any D4 element, or a whole-pixel shift. Only these can be exact on a
    /// pixel grid.
    pub fn is_exact(self, value: f64) -> bool {
        match self {
            Family::Rotation => (value / 90.0 - (value / 90.0).round()).abs() < 1e-9,
            Family::D4 => true,
            Family::TranslateX | Family::TranslateY => (value - value.round()).abs() < 1e-9,
            _ => value == self.identity(),
        }
    }

    /// Applies the transformation with parameter `value` to `x`.
    /// `noise_seed` fixes the noise pattern of the noise families, so a
    /// case evaluates the same way every time and shrinking only scales it.
    /// `interpolation` applies to the geometric families.
    pub fn apply(self, x: &Tensor, value: f64, noise_seed: u64, interpolation: Interpolation) -> Tensor {
        match self {
            Family::Rotation => {
                if self.is_exact(value) {
                    // Quarter turns as pixel permutations: exact, unlike
                    // interpolated sampling.
                    let k = (value / 90.0).round() as i64;
                    x.rot90(k.rem_euclid(4), [2, 3])
                } else {
                    rotate(x, value, interpolation)
                }
            }
            Family::D4 => {
                let element = (value.round() as i64).rem_euclid(8);
                let flipped = if element >= 4 { x.flip([3]) } else { x.shallow_clone() };
                flipped.rot90(element % 4, [2, 3])
            }
            Family::TranslateX => translate(x, value, 0.0, interpolation),
            Family::TranslateY => translate(x, 0.0, value, interpolation),
            Family::Brightness => {
                adjust_brightness(x, &Tensor::full([x.size()[0]], value, (Kind::Float, x.device())))
            }
            Family::Contrast => {
                adjust_contrast(x, &Tensor::full([x.size()[0]], value, (Kind::Float, x.device())))
            }
            Family::Gamma => x.clamp(0.0, 1.0).pow_tensor_scalar(value),
            Family::GaussianNoise => {
                let noise = seeded_normal(x, noise_seed);
                (x + noise * value).clamp(0.0, 1.0)
            }
            Family::PoissonNoise => {
                if !value.is_finite() {
                    return x.shallow_clone();
                }
                tch::manual_seed(noise_seed as i64);
                let photons = value.max(1e-6);
                ((x.clamp(0.0, 1.0) * photons).poisson() / photons).clamp(0.0, 1.0)
            }
            Family::Blur => gaussian_blur(x, value),
        }
    }

    /// Applies the inverse of the geometric transformation with parameter
    /// `value`; photometric families return `x` unchanged.
    pub fn invert(self, x: &Tensor, value: f64, interpolation: Interpolation) -> Tensor {
        match self {
            Family::Rotation => self.apply(x, -value, 0, interpolation),
            Family::D4 => {
                let element = (value.round() as i64).rem_euclid(8);
                let unturned = x.rot90(-(element % 4), [2, 3]);
                if element >= 4 {
                    unturned.flip([3])
                } else {
                    unturned
                }
            }
            Family::TranslateX => translate(x, -value, 0.0, interpolation),
            Family::TranslateY => translate(x, 0.0, -value, interpolation),
            _ => x.shallow_clone(),
        }
    }

    /// Applies the transformation to each item of a batch with its own
    /// value: item i of the result is [`Family::apply`] on item i of `x`,
    /// or on its only item, with `values[i]`. Interpolated rotations share
    /// one sampling call, and the other families run item by item.
    pub fn apply_each(self, x: &Tensor, values: &[f64], noise_seed: u64, interpolation: Interpolation) -> Tensor {
        if self.samples_together(values) {
            return rotate_by(x, values, interpolation);
        }
        map_items(x, values, |item, value| self.apply(item, value, noise_seed, interpolation))
    }

    /// Inverts the geometric transformation item by item, as
    /// [`Family::apply_each`] applies it.
    pub fn invert_each(self, x: &Tensor, values: &[f64], interpolation: Interpolation) -> Tensor {
        if self.samples_together(values) {
            let opposite: Vec<f64> = values.iter().map(|value| -value).collect();
            return rotate_by(x, &opposite, interpolation);
        }
        map_items(x, values, |item, value| self.invert(item, value, interpolation))
    }

    /// Returns whether every value is an interpolated rotation, which
    /// [`rotate_by`] samples in one call exactly as [`Family::apply`]
    /// samples each. Quarter turns stay pixel permutations.
    fn samples_together(self, values: &[f64]) -> bool {
        self == Family::Rotation && values.len() > 1 && values.iter().all(|&value| !self.is_exact(value))
    }
}

/// Calls `transform` on item i of `x` (or on its only item) with
/// `values[i]`, and concatenates the results along the batch.
fn map_items(x: &Tensor, values: &[f64], transform: impl Fn(&Tensor, f64) -> Tensor) -> Tensor {
    let shared = x.size()[0] == 1;
    let items: Vec<Tensor> = values
        .iter()
        .enumerate()
        .map(|(i, &value)| {
            let item = if shared { x.shallow_clone() } else { x.narrow(0, i as i64, 1) };
            transform(&item, value)
        })
        .collect();
    Tensor::cat(&items, 0)
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Family::Rotation => "rotation",
            Family::D4 => "d4",
            Family::Brightness => "brightness",
            Family::Contrast => "contrast",
            Family::Gamma => "gamma",
            Family::GaussianNoise => "gaussian-noise",
            Family::PoissonNoise => "poisson-noise",
            Family::Blur => "blur",
            Family::TranslateX => "translate-x",
            Family::TranslateY => "translate-y",
        };
        f.write_str(name)
    }
}

/// Returns standard normal noise shaped like `x`, the same for the same
/// seed.
fn seeded_normal(x: &Tensor, seed: u64) -> Tensor {
    tch::manual_seed(seed as i64);
    Tensor::randn(x.size(), (x.kind(), x.device()))
}

/// Shifts `x` by (dx, dy) pixels with zero fill. Whole-pixel shifts move
/// pixels exactly; fractional ones interpolate.
fn translate(x: &Tensor, dx: f64, dy: f64, interpolation: Interpolation) -> Tensor {
    let size = x.size();
    let (height, width) = (size[2], size[3]);
    if (dx - dx.round()).abs() < 1e-9 && (dy - dy.round()).abs() < 1e-9 {
        let (dx, dy) = (dx.round() as i64, dy.round() as i64);
        if dx.abs() >= width || dy.abs() >= height {
            return x.zeros_like();
        }
        // Pad on the side the content moves towards' opposite, then cut the
        // far side: a shift with zero fill.
        let padded = x.constant_pad_nd([dx.max(0), (-dx).max(0), dy.max(0), (-dy).max(0)]);
        return padded
            .narrow(3, (-dx).max(0), width)
            .narrow(2, (-dy).max(0), height);
    }
    // The sampling grid maps output to input, so it holds the opposite
    // shift, in normalised units of half the frame.
    let theta = Tensor::from_slice(&[
        1.0f32,
        0.0,
        (-2.0 * dx / width as f64) as f32,
        0.0,
        1.0,
        (-2.0 * dy / height as f64) as f32,
    ])
    .view([1, 2, 3])
    .repeat([size[0], 1, 1]);
    let grid = Tensor::affine_grid_generator(&theta, size.as_slice(), false);
    let mode = match interpolation {
        Interpolation::Bilinear => 0,
        Interpolation::Nearest => 1,
    };
    x.grid_sampler(&grid, mode, 0, false)
}

/// Blurs each channel with a Gaussian of standard deviation `sigma`
/// pixels, truncated at three standard deviations, with zero padding.
fn gaussian_blur(x: &Tensor, sigma: f64) -> Tensor {
    if sigma <= 0.0 {
        return x.shallow_clone();
    }
    let radius = (3.0 * sigma).ceil().max(1.0) as i64;
    let taps: Vec<f32> = (-radius..=radius)
        .map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp() as f32)
        .collect();
    let sum: f32 = taps.iter().sum();
    let kernel = Tensor::from_slice(&taps) / f64::from(sum);
    let channels = x.size()[1];
    let length = 2 * radius + 1;
    let horizontal = kernel.view([1, 1, 1, length]).repeat([channels, 1, 1, 1]);
    let vertical = kernel.view([1, 1, length, 1]).repeat([channels, 1, 1, 1]);
    let blurred = x.conv2d(&horizontal, None::<Tensor>, [1, 1], [0, radius], [1, 1], channels);
    blurred.conv2d(&vertical, None::<Tensor>, [1, 1], [radius, 0], [1, 1], channels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn random(seed: i64) -> Tensor {
        tch::manual_seed(seed);
        Tensor::rand([2, 3, 12, 12], (Kind::Float, Device::Cpu))
    }

    #[test]
    fn batched_rotation_matches_single() {
        let image = random(5).narrow(0, 0, 1);
        // Only interpolated angles take the shared sampling call. A quarter
        // turn among them sends every item through `apply`.
        for angles in [vec![13.0, -47.5, 200.25], vec![90.0, 13.0]] {
            let turned = Family::Rotation.apply_each(&image, &angles, 0, Interpolation::Bilinear);
            let back = Family::Rotation.invert_each(&turned, &angles, Interpolation::Nearest);
            for (i, &angle) in angles.iter().enumerate() {
                let item = turned.narrow(0, i as i64, 1);
                let single = Family::Rotation.apply(&image, angle, 0, Interpolation::Bilinear);
                assert!(item.equal(&single), "turned by {angle}");
                let undone = Family::Rotation.invert(&item, angle, Interpolation::Nearest);
                assert!(back.narrow(0, i as i64, 1).equal(&undone), "turned back by {angle}");
            }
        }
    }

    fn max_difference(a: &Tensor, b: &Tensor) -> f64 {
        (a - b).abs().max().double_value(&[])
    }

    #[test]
    fn rotation_offsets_wrap_to_signed_angles() {
        assert_eq!(Family::Rotation.to_offset(350.0), -10.0);
        assert_eq!(Family::Rotation.to_offset(10.0), 10.0);
        assert_eq!(Family::Rotation.to_offset(-370.0), -10.0);
        assert_eq!(Family::Rotation.to_offset(180.0), 180.0);
    }

    #[test]
    fn poisson_offset_round_trips() {
        let photons = 400.0;
        let offset = Family::PoissonNoise.to_offset(photons);
        assert!((offset - 0.05).abs() < 1e-12);
        assert!((Family::PoissonNoise.from_offset(offset) - photons).abs() < 1e-6);
    }

    #[test]
    fn every_d4_element_is_inverted() {
        let x = random(1);
        for element in 0..8 {
            let value = element as f64;
            let back = Family::D4.invert(&Family::D4.apply(&x, value, 0, Interpolation::Bilinear), value, Interpolation::Bilinear);
            assert_eq!(max_difference(&back, &x), 0.0, "element {element}");
        }
    }

    #[test]
    fn d4_elements_are_distinct() {
        let x = random(2);
        let images: Vec<Tensor> = (0..8).map(|e| Family::D4.apply(&x, e as f64, 0, Interpolation::Bilinear)).collect();
        for i in 0..8 {
            for j in (i + 1)..8 {
                assert!(max_difference(&images[i], &images[j]) > 0.0, "elements {i} and {j}");
            }
        }
    }

    #[test]
    fn whole_pixel_translation_is_exact_and_invertible_inside() {
        let x = random(3);
        let moved = Family::TranslateX.apply(&x, 2.0, 0, Interpolation::Bilinear);
        assert_eq!(moved.double_value(&[0, 0, 5, 7]), x.double_value(&[0, 0, 5, 5]));
        assert_eq!(moved.double_value(&[0, 0, 5, 0]), 0.0);
        let down = Family::TranslateY.apply(&x, 3.0, 0, Interpolation::Bilinear);
        assert_eq!(down.double_value(&[1, 2, 6, 4]), x.double_value(&[1, 2, 3, 4]));
    }

    #[test]
    fn fractional_translation_matches_whole_pixels_at_integers() {
        let x = random(4);
        let exact = translate(&x, 1.0, -2.0, Interpolation::Bilinear);
        let sampled = translate(&x, 1.0 + 1e-7, -2.0, Interpolation::Bilinear);
        assert!(max_difference(&exact, &sampled) < 1e-4);
    }

    #[test]
    fn blur_keeps_a_constant_image_inside() {
        let x = Tensor::ones([1, 3, 20, 20], (Kind::Float, Device::Cpu)) * 0.5;
        let blurred = Family::Blur.apply(&x, 1.0, 0, Interpolation::Bilinear);
        assert!((blurred.double_value(&[0, 0, 10, 10]) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn noise_is_fixed_by_its_seed() {
        let x = random(5);
        let a = Family::GaussianNoise.apply(&x, 0.1, 77, Interpolation::Bilinear);
        let b = Family::GaussianNoise.apply(&x, 0.1, 77, Interpolation::Bilinear);
        let c = Family::GaussianNoise.apply(&x, 0.1, 78, Interpolation::Bilinear);
        assert_eq!(max_difference(&a, &b), 0.0);
        assert!(max_difference(&a, &c) > 0.0);
        let p = Family::PoissonNoise.apply(&x, 100.0, 9, Interpolation::Bilinear);
        let q = Family::PoissonNoise.apply(&x, 100.0, 9, Interpolation::Bilinear);
        assert_eq!(max_difference(&p, &q), 0.0);
    }

    #[test]
    fn identities_leave_the_input_unchanged() {
        let x = random(6);
        for family in [Family::Rotation, Family::D4, Family::Brightness, Family::Gamma, Family::GaussianNoise, Family::Blur, Family::TranslateX] {
            let same = family.apply(&x, family.identity(), 1, Interpolation::Bilinear);
            assert!(max_difference(&same, &x) < 1e-6, "{family}");
        }
    }
}
