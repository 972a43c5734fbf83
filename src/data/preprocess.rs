//! Decoding, resizing and padding: every sample is resized to a square of
//! side S and zero-padded, centred, to a square canvas of side P, with
//! P >= S * sqrt(2) so that a rotation by any angle keeps the whole image on
//! the canvas. Normalisation with the ImageNet statistics happens last, on
//! the canvas, so padding and the border that a rotation uncovers are both
//! black before normalisation.

use std::path::Path;

use image::imageops::{self, FilterType};
use image::RgbImage;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use super::folder::{ButterflyFolder, SampleFiles};
use super::mask::load_mask;
use super::png_chunks::check_png_chunks;
use crate::error::{Error, Result};

/// ImageNet channel means (RGB), applied after padding.
pub const IMAGENET_MEAN: [f64; 3] = [0.485, 0.456, 0.406];
/// ImageNet channel standard deviations (RGB).
pub const IMAGENET_STD: [f64; 3] = [0.229, 0.224, 0.225];

/// The U-Nets downsample four times, so a canvas side must divide by 2^4.
pub const CANVAS_MULTIPLE: i64 = 16;
/// Largest side S accepted. The dataset's images are at most 750 pixels
/// high, and all 832 of them at S = 512 take 3.5 GB as float tensors.
pub const MAX_SIDE: i64 = 512;
/// Largest canvas side P accepted, about 2.7 times the original
/// experiment's 384.
pub const MAX_CANVAS: i64 = 1024;

/// Square geometry shared by training and evaluation: the resized image
/// side S and the padded canvas side P, both in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Canvas {
    pub side: i64,
    pub canvas: i64,
}

impl Canvas {
    /// Checks that P is a multiple of 16 and large enough that a rotated
    /// S x S image stays on the canvas.
    pub fn new(side: i64, canvas: i64) -> Result<Self> {
        check_side(side)?;
        if canvas % CANVAS_MULTIPLE != 0 {
            return Err(Error::InvalidOption {
                name: "canvas",
                value: canvas.to_string(),
                reason: format!("must be a multiple of {CANVAS_MULTIPLE}"),
            });
        }
        Self::unaligned(side, canvas)
    }

    /// Checks only that P is large enough that a rotated S x S image stays
    /// on the canvas, for models that, unlike the crate's U-Nets, take any
    /// canvas side.
    pub fn unaligned(side: i64, canvas: i64) -> Result<Self> {
        check_side(side)?;
        let min_canvas = (side as f64 * std::f64::consts::SQRT_2).ceil() as i64;
        if canvas > MAX_CANVAS {
            return Err(Error::InvalidOption {
                name: "canvas",
                value: canvas.to_string(),
                reason: format!("must be at most {MAX_CANVAS} pixels"),
            });
        }
        if canvas < min_canvas {
            return Err(Error::InvalidOption {
                name: "canvas",
                value: canvas.to_string(),
                reason: format!(
                    "must be at least side * sqrt(2) = {min_canvas} so no rotation cuts the image"
                ),
            });
        }
        Ok(Canvas { side, canvas })
    }

    /// Offset of the image's top-left pixel on the canvas, in pixels.
    pub fn offset(&self) -> i64 {
        (self.canvas - self.side) / 2
    }

    /// Zero-pads `[batch, channels, S, S]` to `[batch, channels, P, P]`.
    pub fn pad(&self, x: &Tensor) -> Tensor {
        let before = self.offset();
        let after = self.canvas - self.side - before;
        x.constant_pad_nd([before, after, before, after])
    }

    /// Crops the image area `[.., S, S]` out of `[.., P, P]`.
    pub fn crop(&self, x: &Tensor) -> Tensor {
        let dims = x.dim();
        let offset = self.offset();
        x.narrow((dims - 2) as i64, offset, self.side)
            .narrow((dims - 1) as i64, offset, self.side)
    }

    /// Normalises `[batch, 3, H, W]` RGB values in [0, 1] with the ImageNet
    /// mean and standard deviation.
    pub fn normalise(x: &Tensor) -> Tensor {
        let mean = Tensor::from_slice(&IMAGENET_MEAN)
            .to_kind(Kind::Float)
            .view([1, 3, 1, 1]);
        let std = Tensor::from_slice(&IMAGENET_STD)
            .to_kind(Kind::Float)
            .view([1, 3, 1, 1]);
        (x - mean) / std
    }

    /// Pads and normalises a batch of `[batch, 3, S, S]` images in [0, 1],
    /// the model input of the minimal pipeline.
    pub fn model_input(&self, images: &Tensor) -> Tensor {
        Self::normalise(&self.pad(images))
    }
}

fn check_side(side: i64) -> Result<()> {
    if !(8..=MAX_SIDE).contains(&side) {
        return Err(Error::InvalidOption {
            name: "side",
            value: side.to_string(),
            reason: format!("must be between 8 and {MAX_SIDE} pixels"),
        });
    }
    Ok(())
}

/// Decoded samples resized to S x S and held in memory as tensors.
pub struct Dataset {
    pub ids: Vec<String>,
    pub species: Vec<u16>,
    /// `[N, 3, S, S]` RGB in [0, 1].
    pub images: Tensor,
    /// `[N, 1, S, S]`, 1 for foreground and 0 for background.
    pub masks: Tensor,
    pub side: i64,
}

impl Dataset {
    /// Decodes and resizes every sample of `folder` to `side` x `side`.
    ///
    /// An unreadable image or mask, or a mask whose size differs from its
    /// image's, fails the load; with `skip_bad` such samples are left out
    /// and their errors returned beside the dataset instead.
    pub fn load(folder: &ButterflyFolder, side: i64, skip_bad: bool) -> Result<(Self, Vec<Error>)> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = folder.samples.len().div_ceil(threads).max(1);
        let results: Vec<Result<(Vec<f32>, Vec<f32>)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = folder
                .samples
                .chunks(chunk)
                .map(|files| {
                    scope.spawn(move || files.iter().map(|f| load_sample_guarded(f, side as u32)).collect::<Vec<_>>())
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| {
                    // Each sample catches its own panics, so the join only
                    // fails if the thread could not run at all.
                    h.join().unwrap_or_else(|_| Vec::new())
                })
                .collect()
        });
        if results.len() != folder.samples.len() {
            return Err(Error::dataset(&folder.root, "a loader thread stopped before reading its samples"));
        }

        let mut ids = Vec::new();
        let mut species = Vec::new();
        let mut image_values = Vec::new();
        let mut mask_values = Vec::new();
        let mut skipped = Vec::new();
        for (files, result) in folder.samples.iter().zip(results) {
            match result {
                Ok((image, mask)) => {
                    ids.push(files.id.clone());
                    species.push(files.species);
                    image_values.extend(image);
                    mask_values.extend(mask);
                }
                Err(error) if skip_bad => skipped.push(error),
                Err(error) => return Err(error),
            }
        }
        if ids.is_empty() {
            let reason = match skipped.first() {
                Some(first) => format!(
                    "no samples left after skipping {} bad ones; the first: {first}",
                    skipped.len()
                ),
                None => "the folder lists no samples".to_string(),
            };
            return Err(Error::dataset(&folder.root, reason));
        }
        let n = ids.len() as i64;
        let images = Tensor::from_slice(&image_values).view([n, 3, side, side]);
        let masks = Tensor::from_slice(&mask_values).view([n, 1, side, side]);
        let dataset = Dataset {
            ids,
            species,
            images,
            masks,
            side,
        };
        Ok((dataset, skipped))
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Returns whether the dataset has no samples.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Returns the images `[B, 3, S, S]` and masks `[B, 1, S, S]` at `indices`.
    pub fn batch(&self, indices: &[usize]) -> (Tensor, Tensor) {
        let index: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
        let index = Tensor::from_slice(&index);
        (
            self.images.index_select(0, &index),
            self.masks.index_select(0, &index),
        )
    }
}

/// Decodes an image file as 8-bit RGB. Grayscale, alpha, 16-bit and
/// palette images are converted; alpha is dropped.
pub fn load_rgb(path: &Path) -> Result<RgbImage> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    decode_rgb(&bytes).map_err(|reason| Error::Image {
        path: path.to_path_buf(),
        reason,
    })
}

/// Decodes the bytes of an image file as 8-bit RGB, as [`load_rgb`] does.
pub fn decode_rgb(bytes: &[u8]) -> std::result::Result<RgbImage, String> {
    if bytes.is_empty() {
        return Err("file is empty".into());
    }
    check_png_chunks(bytes)?;
    let image = image::load_from_memory(bytes).map_err(|e| e.to_string())?;
    Ok(image.to_rgb8())
}

/// Runs [`load_sample`], turning a panic inside a decoder into an error
/// that names the image, so one strange file cannot stop the whole load.
fn load_sample_guarded(files: &SampleFiles, side: u32) -> Result<(Vec<f32>, Vec<f32>)> {
    std::panic::catch_unwind(|| load_sample(files, side)).unwrap_or_else(|_| {
        Err(Error::dataset(
            &files.image,
            format!("decoding this image or its mask {} failed unexpectedly", files.mask.display()),
        ))
    })
}

/// Loads one sample and returns its image `[3, S, S]` in [0, 1] and its
/// mask `[S, S]` in {0, 1}, both flattened.
fn load_sample(files: &SampleFiles, side: u32) -> Result<(Vec<f32>, Vec<f32>)> {
    let image = load_rgb(&files.image)?;
    let mask = load_mask(&files.mask)?;
    if image.dimensions() != mask.dimensions() {
        return Err(Error::MaskSize {
            path: files.mask.clone(),
            mask_width: mask.width(),
            mask_height: mask.height(),
            image_width: image.width(),
            image_height: image.height(),
        });
    }

    let image = imageops::resize(&image, side, side, FilterType::Triangle);
    // Resampling the 0/255 mask with the same filter and thresholding at
    // the midpoint keeps its edge where the image's edge lands.
    let mask = imageops::resize(&mask, side, side, FilterType::Triangle);

    let plane = (side * side) as usize;
    let mut chw = vec![0.0f32; 3 * plane];
    for (i, pixel) in image.pixels().enumerate() {
        for c in 0..3 {
            chw[c * plane + i] = pixel[c] as f32 / 255.0;
        }
    }
    let mask = mask.pixels().map(|p| f32::from(p[0] >= 128)).collect();
    Ok((chw, mask))
}
