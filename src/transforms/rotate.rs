//! Rotation of `[batch, channels, height, width]` tensors about the image
//! centre, through `affine_grid` and `grid_sample`.
//!
//! Angles are in degrees and positive angles turn counter-clockwise as the
//! image is displayed (rows downward), the convention of `torch.rot90` on
//! the last two axes. Pixels that the rotation brings in from outside the
//! frame are zero. With `align_corners = false` the sampling grid is
//! symmetric about the centre, so a multiple of 90 degrees on a square
//! frame samples pixel centres exactly and reproduces `rot90` up to float
//! rounding; other angles interpolate.

use tch::{Kind, Tensor};

/// Sampling rule for values between pixel centres.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interpolation {
    /// For images and probability maps.
    Bilinear,
    /// For binary masks, which must stay binary.
    Nearest,
}

impl Interpolation {
    /// Returns the mode number that `grid_sampler` expects.
    fn mode(self) -> i64 {
        match self {
            Interpolation::Bilinear => 0,
            Interpolation::Nearest => 1,
        }
    }
}

/// Zero fill outside the frame.
const PADDING_ZEROS: i64 = 0;

/// Rotates every item of `x` (`[batch, channels, H, W]`) by `angle_deg`
/// degrees counter-clockwise.
pub fn rotate(x: &Tensor, angle_deg: f64, interpolation: Interpolation) -> Tensor {
    if angle_deg.rem_euclid(360.0) == 0.0 {
        return x.shallow_clone();
    }
    let size = x.size();
    let (batch, height, width) = (size[0], size[2], size[3]);
    let mut values = Vec::with_capacity((height * width * 2) as usize);
    push_affine_grid(&rotation_matrix(angle_deg, height, width), height, width, &mut values);
    let grid = Tensor::from_slice(&values)
        .view([1, height, width, 2])
        .to_device(x.device())
        .to_kind(x.kind())
        .expand([batch, height, width, 2], false);
    x.grid_sampler(&grid, interpolation.mode(), PADDING_ZEROS, false)
}

/// Rotates item i of `x` (`[batch, channels, H, W]`) by `angles_deg[i]`
/// degrees counter-clockwise, with the grid of [`rotate`], in one sampling
/// call. `x` contains one item per angle, or one item that every angle turns.
/// Unlike [`rotate`], a multiple of 360 degrees is sampled like any other
/// angle.
pub fn rotate_by(x: &Tensor, angles_deg: &[f64], interpolation: Interpolation) -> Tensor {
    let size = x.size();
    let (channels, height, width) = (size[1], size[2], size[3]);
    let count = angles_deg.len() as i64;
    let mut values = Vec::with_capacity((count * height * width * 2) as usize);
    for &angle in angles_deg {
        push_affine_grid(&rotation_matrix(angle, height, width), height, width, &mut values);
    }
    let grid = Tensor::from_slice(&values)
        .view([count, height, width, 2])
        .to_device(x.device())
        .to_kind(x.kind());
    let x = if size[0] == 1 {
        x.expand([count, channels, height, width], false)
    } else {
        x.shallow_clone()
    };
    x.grid_sampler(&grid, interpolation.mode(), PADDING_ZEROS, false)
}

/// Returns the normalised 2 x 3 matrix, row-major, that turns an
/// `height` x `width` image by `angle_deg` degrees counter-clockwise.
fn rotation_matrix(angle_deg: f64, height: i64, width: i64) -> [f32; 6] {
    // The matrix of `rotate_each` at scale 1, in the same float32 steps
    // but on the host, like the grid: property checks rotate single images
    // several times per case, where a dozen small tensor operations would
    // cost more than the sampling.
    // NOTE: Rust's sin and cos may differ from libtorch's vectorised ones
    // in the last bit, which moves a sampling point by about 1e-7 pixels.
    let radians = angle_deg as f32 * (std::f64::consts::PI / 180.0) as f32;
    let (sin, cos) = radians.sin_cos();
    let aspect = height as f32 / width as f32;
    [cos, -sin * aspect, 0.0, sin / aspect, cos, 0.0]
}

/// Appends the sampling grid `[H, W, 2]` that `affine_grid_generator`
/// makes, with `align_corners` false, for one row-major 2 x 3 matrix in
/// normalised coordinates. libtorch computes that grid as a batched matrix
/// product with an inner dimension of 3, which MKL runs on a slow path: in
/// a `perf` profile of `eqcheck check` it took most of each single-image
/// rotation. On the host it is two multiply-adds per pixel.
fn push_affine_grid(matrix: &[f32; 6], height: i64, width: i64, values: &mut Vec<f32>) {
    // Pixel centres in normalised coordinates, as affine_grid_generator's
    // base grid places them: (2i + 1) / n - 1 for pixel i of n.
    let centre = |i: i64, n: i64| (2 * i + 1) as f32 / n as f32 - 1.0;
    for row in 0..height {
        let y = centre(row, height);
        for column in 0..width {
            let x = centre(column, width);
            values.push(matrix[0] * x + matrix[1] * y + matrix[2]);
            values.push(matrix[3] * x + matrix[4] * y + matrix[5]);
        }
    }
}

/// Rotates item i of `x` (`[batch, channels, H, W]`) by `angles_deg[i]`
/// degrees counter-clockwise and scales its content by `scales[i]` about
/// the centre (a scale below 1 shrinks it). Both are `[batch]` tensors.
pub fn rotate_each(
    x: &Tensor,
    angles_deg: &Tensor,
    scales: &Tensor,
    interpolation: Interpolation,
) -> Tensor {
    let size = x.size();
    let (height, width) = (size[2] as f64, size[3] as f64);
    let radians = angles_deg.to_kind(Kind::Float) * (std::f64::consts::PI / 180.0);
    let (cos, sin) = (radians.cos(), radians.sin());
    let inverse_scale = scales.to_kind(Kind::Float).reciprocal();

    // The grid maps each output pixel back to where it samples the input,
    // so it holds the inverse rotation. In pixel units with y pointing
    // down, a counter-clockwise turn by t sends (x, y) to
    // (x cos t + y sin t, -x sin t + y cos t); its inverse is
    // [[cos, -sin], [sin, cos]]. Normalised coordinates divide x by W/2
    // and y by H/2, which puts the aspect ratio on the off-diagonal terms.
    let zeros = Tensor::zeros_like(&cos);
    let row_x = Tensor::stack(
        &[&cos * &inverse_scale, -(&sin * &inverse_scale) * (height / width), zeros.shallow_clone()],
        1,
    );
    let row_y = Tensor::stack(
        &[&sin * &inverse_scale * (width / height), &cos * &inverse_scale, zeros],
        1,
    );
    let theta = Tensor::stack(&[row_x, row_y], 1).to_kind(x.kind());
    sample_affine(x, &theta, interpolation)
}

/// Samples `x` at the grid of the normalised affine maps `theta`
/// (`[batch, 2, 3]`), with zeros outside the frame.
fn sample_affine(x: &Tensor, theta: &Tensor, interpolation: Interpolation) -> Tensor {
    let grid = Tensor::affine_grid_generator(theta, x.size().as_slice(), false);
    x.grid_sampler(&grid, interpolation.mode(), PADDING_ZEROS, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
        (a - b).abs().max().double_value(&[])
    }

    #[test]
    fn quarter_turns_match_rot90() {
        tch::manual_seed(0);
        let x = Tensor::rand([2, 3, 16, 16], (Kind::Float, tch::Device::Cpu));
        for k in 1..4 {
            let rotated = rotate(&x, 90.0 * k as f64, Interpolation::Bilinear);
            let expected = x.rot90(k, [2, 3]);
            assert!(max_abs_diff(&rotated, &expected) < 1e-5, "k = {k}");
        }
    }

    #[test]
    fn positive_angle_turns_counter_clockwise() {
        // A bright pixel right of the centre must end up above it.
        let x = Tensor::zeros([1, 1, 9, 9], (Kind::Float, tch::Device::Cpu));
        let _ = x.get(0).get(0).get(4).get(7).fill_(1.0);
        let rotated = rotate(&x, 90.0, Interpolation::Nearest);
        assert_eq!(rotated.double_value(&[0, 0, 1, 4]), 1.0);
        assert_eq!(rotated.sum(Kind::Float).double_value(&[]), 1.0);
    }

    #[test]
    fn single_angle_matches_rotate_each() {
        tch::manual_seed(1);
        let x = Tensor::rand([2, 3, 12, 20], (Kind::Float, tch::Device::Cpu));
        for angle in [13.0, -70.0, 135.5] {
            let angles = Tensor::full([2], angle, (Kind::Float, tch::Device::Cpu));
            let scales = Tensor::ones([2], (Kind::Float, tch::Device::Cpu));
            let expected = rotate_each(&x, &angles, &scales, Interpolation::Bilinear);
            let difference = max_abs_diff(&rotate(&x, angle, Interpolation::Bilinear), &expected);
            assert!(difference < 1e-5, "{angle} degrees: differs by {difference}");
        }
    }

    #[test]
    fn zero_angle_is_identity() {
        let x = Tensor::rand([1, 1, 8, 8], (Kind::Float, tch::Device::Cpu));
        assert_eq!(max_abs_diff(&rotate(&x, 360.0, Interpolation::Bilinear), &x), 0.0);
    }
}
