//! Pictures of predictions: an input with the ground truth and the
//! prediction outlined, and an animated GIF of a rotation sweep.

use std::path::Path;

use ab_glyph::{FontRef, PxScale};
use image::codecs::gif::{GifEncoder, Repeat};
use image::{Delay, Frame, Rgb, RgbImage, RgbaImage};
use tch::{Kind, Tensor};

use super::style::font_bytes;
use crate::error::{Error, Result};

/// Pixels per canvas pixel in pictures.
const UPSCALE: u32 = 3;
/// Ground-truth outline colour (green).
const TRUTH_COLOR: Rgb<u8> = Rgb([0, 200, 70]);
/// Prediction outline colour (magenta).
const PREDICTION_COLOR: Rgb<u8> = Rgb([230, 0, 200]);
/// Height of the caption strip under a picture, in pixels.
const CAPTION_HEIGHT: u32 = 28;

/// Converts `[3, H, W]` values in [0, 1] to an upscaled RGB image with room
/// for a caption below.
fn to_rgb(image: &Tensor) -> Result<RgbImage> {
    let size = image.size();
    let (height, width) = (size[1] as u32, size[2] as u32);
    let bytes: Vec<u8> = Vec::<f32>::try_from(
        (image.clamp(0.0, 1.0) * 255.0).round().permute([1, 2, 0]).contiguous().view([-1]),
    )?
    .into_iter()
    .map(|v| v as u8)
    .collect();
    let small = RgbImage::from_raw(width, height, bytes).ok_or_else(|| Error::NonFinite {
        context: "picture buffer has the wrong size".into(),
    })?;
    let mut big = RgbImage::from_pixel(width * UPSCALE, height * UPSCALE + CAPTION_HEIGHT, Rgb([255, 255, 255]));
    for (x, y, pixel) in small.enumerate_pixels() {
        for dy in 0..UPSCALE {
            for dx in 0..UPSCALE {
                big.put_pixel(x * UPSCALE + dx, y * UPSCALE + dy, *pixel);
            }
        }
    }
    Ok(big)
}

/// Paints the boundary of a binary mask `[1, H, W]`: foreground pixels
/// with a background 4-neighbour.
fn outline(picture: &mut RgbImage, mask: &Tensor, color: Rgb<u8>) -> Result<()> {
    let size = mask.size();
    let (height, width) = (size[1] as usize, size[2] as usize);
    let values: Vec<f32> = Vec::try_from(mask.to_kind(Kind::Float).contiguous().view([-1]))?;
    let inside = |x: isize, y: isize| {
        x >= 0 && y >= 0 && (x as usize) < width && (y as usize) < height && values[y as usize * width + x as usize] > 0.5
    };
    for y in 0..height as isize {
        for x in 0..width as isize {
            let edge = inside(x, y) && !(inside(x - 1, y) && inside(x + 1, y) && inside(x, y - 1) && inside(x, y + 1));
            if edge {
                for dy in 0..UPSCALE {
                    for dx in 0..UPSCALE {
                        picture.put_pixel(x as u32 * UPSCALE + dx, y as u32 * UPSCALE + dy, color);
                    }
                }
            }
        }
    }
    Ok(())
}

/// Writes `caption` into the strip under the picture.
fn caption(picture: &mut RgbImage, text: &str) {
    if let Ok(font) = FontRef::try_from_slice(font_bytes()) {
        let y = (picture.height() - CAPTION_HEIGHT + 5) as i32;
        imageproc::drawing::draw_text_mut(picture, Rgb([0, 0, 0]), 6, y, PxScale::from(16.0), &font, text);
    }
}

/// Renders an input `[3, H, W]` in [0, 1] with the ground truth (green)
/// and the prediction (magenta) outlined, both `[1, H, W]`.
pub fn overlay(image: &Tensor, truth: &Tensor, prediction: &Tensor, text: &str) -> Result<RgbImage> {
    let mut picture = to_rgb(image)?;
    outline(&mut picture, truth, TRUTH_COLOR)?;
    outline(&mut picture, prediction, PREDICTION_COLOR)?;
    caption(&mut picture, text);
    Ok(picture)
}

/// Saves a picture as PNG.
pub fn save_png(path: &Path, picture: &RgbImage) -> Result<()> {
    picture.save(path).map_err(|e| Error::Report {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Writes frames as a looping GIF with `delay_ms` per frame.
pub fn save_gif(path: &Path, frames: Vec<RgbImage>, delay_ms: u32) -> Result<()> {
    let fail = |reason: String| Error::Report {
        path: path.to_path_buf(),
        reason,
    };
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut encoder = GifEncoder::new_with_speed(std::io::BufWriter::new(file), 10);
    encoder.set_repeat(Repeat::Infinite).map_err(|e| fail(e.to_string()))?;
    let frames = frames.into_iter().map(|rgb| {
        let rgba: RgbaImage = image::DynamicImage::ImageRgb8(rgb).to_rgba8();
        Frame::from_parts(rgba, 0, 0, Delay::from_numer_denom_ms(delay_ms, 1))
    });
    encoder.encode_frames(frames).map_err(|e| fail(e.to_string()))
}
