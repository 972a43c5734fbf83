//! Decodes a foreground mask from either encoding found in the dataset.
//!
//! Indexed (palette) PNGs store class indices 0 to 3, where 1 and 3 are
//! foreground (the dataset's README). Other masks were resampled to RGB, so
//! their edges carry blended colours: there the palette colours white and
//! green are foreground and black and red background, which the green
//! channel separates at 128. Grayscale masks follow the same rule through
//! their gray value, except 8-bit label masks holding only 0 and 1, where 1
//! is foreground.

use std::io::Cursor;
use std::path::Path;

use image::GrayImage;

use super::png_chunks::check_png_chunks;
use crate::error::{Error, Result};

/// Palette indices that mark foreground.
const FOREGROUND_INDICES: [u8; 2] = [1, 3];

/// Green-channel value at or above which a resampled pixel is foreground.
const GREEN_THRESHOLD: u8 = 128;

/// Reads a mask file as a binary image: 255 foreground, 0 background.
pub fn load_mask(path: &Path) -> Result<GrayImage> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    decode_mask(&bytes).map_err(|reason| Error::Image {
        path: path.to_path_buf(),
        reason,
    })
}

/// Decodes PNG bytes into a binary mask: 255 foreground, 0 background.
pub fn decode_mask(bytes: &[u8]) -> std::result::Result<GrayImage, String> {
    if bytes.is_empty() {
        return Err("file is empty".into());
    }
    check_png_chunks(bytes)?;
    if let Some(mask) = decode_palette_indices(bytes)? {
        return Ok(mask);
    }
    let decoded = image::load_from_memory_with_format(bytes, image::ImageFormat::Png).map_err(|e| e.to_string())?;
    if let image::DynamicImage::ImageLuma8(gray) = &decoded {
        // Label masks store the class index itself: 0 background, 1
        // foreground. Thresholding them at 128 would find no foreground.
        if gray.pixels().all(|p| p[0] <= 1) {
            let pixels = gray.pixels().map(|p| p[0] * 255).collect();
            return GrayImage::from_raw(gray.width(), gray.height(), pixels).ok_or_else(|| "bad dimensions".into());
        }
    }
    let rgb = decoded.to_rgb8();
    let (width, height) = rgb.dimensions();
    let pixels = rgb
        .pixels()
        .map(|p| if p[1] >= GREEN_THRESHOLD { 255 } else { 0 })
        .collect();
    GrayImage::from_raw(width, height, pixels).ok_or_else(|| "bad dimensions".into())
}

/// Largest decoded mask accepted, in bytes. The header states the size,
/// so a corrupt header could otherwise ask for any amount of memory. The
/// image crate's default allocation limit is also 512 MiB.
const MAX_DECODED_BYTES: usize = 512 << 20;

/// Reads palette indices directly when the PNG is indexed; `None` for any
/// other colour type.
fn decode_palette_indices(bytes: &[u8]) -> std::result::Result<Option<GrayImage>, String> {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::IDENTITY);
    let mut reader = decoder.read_info().map_err(|e| e.to_string())?;
    if reader.info().color_type != png::ColorType::Indexed {
        return Ok(None);
    }
    let size = reader
        .output_buffer_size()
        .filter(|&size| size <= MAX_DECODED_BYTES)
        .ok_or_else(|| {
            let info = reader.info();
            format!(
                "a {}x{} image is too large to decode (over {} MiB)",
                info.width,
                info.height,
                MAX_DECODED_BYTES >> 20
            )
        })?;
    let mut buffer = vec![0; size];
    let frame = reader.next_frame(&mut buffer).map_err(|e| e.to_string())?;
    let bits = frame.bit_depth as usize;
    let (width, height) = (frame.width as usize, frame.height as usize);

    let mut pixels = Vec::with_capacity(width * height);
    for row in buffer.chunks(frame.line_size).take(height) {
        for x in 0..width {
            let index = unpack_index(row, x, bits);
            let foreground = FOREGROUND_INDICES.contains(&index);
            pixels.push(if foreground { 255 } else { 0 });
        }
    }
    Ok(GrayImage::from_raw(frame.width, frame.height, pixels))
}

/// Returns the palette index of pixel `x` in a row packed at `bits` bits
/// per pixel (1, 2, 4 or 8), most significant bits first as PNG stores them.
fn unpack_index(row: &[u8], x: usize, bits: usize) -> u8 {
    let per_byte = 8 / bits;
    let byte = row[x / per_byte];
    let shift = 8 - bits * (x % per_byte + 1);
    (byte >> shift) & ((1u16 << bits) - 1) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpack_two_bit_indices() {
        // 0b00_01_10_11 holds indices 0, 1, 2, 3 from left to right.
        let row = [0b0001_1011];
        let indices: Vec<u8> = (0..4).map(|x| unpack_index(&row, x, 2)).collect();
        assert_eq!(indices, vec![0, 1, 2, 3]);
    }

    #[test]
    fn unpack_one_bit_indices() {
        let row = [0b1000_0001];
        assert_eq!(unpack_index(&row, 0, 1), 1);
        assert_eq!(unpack_index(&row, 1, 1), 0);
        assert_eq!(unpack_index(&row, 7, 1), 1);
    }

    #[test]
    fn empty_bytes_are_rejected() {
        assert_eq!(decode_mask(&[]).unwrap_err(), "file is empty");
    }
}
