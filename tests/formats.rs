//! Image and mask encodings beyond the dataset's own: each loads to the
//! same pixels.

use std::io::BufWriter;
use std::path::Path;

use eqcheck::data::{load_mask, load_rgb};

/// Writes a PNG with the given colour type, bit depth, optional palette and
/// raw (already packed) rows.
fn write_png(path: &Path, width: u32, height: u32, color: png::ColorType, depth: png::BitDepth, palette: Option<Vec<u8>>, data: &[u8]) {
    let file = std::fs::File::create(path).unwrap();
    let mut encoder = png::Encoder::new(BufWriter::new(file), width, height);
    encoder.set_color(color);
    encoder.set_depth(depth);
    if let Some(palette) = palette {
        encoder.set_palette(palette);
    }
    encoder.write_header().unwrap().write_image_data(data).unwrap();
}

/// Palette of the dataset's masks: black, white, red, green.
fn mask_palette() -> Vec<u8> {
    vec![0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 255, 0]
}

fn foreground(mask: &image::GrayImage) -> Vec<bool> {
    mask.pixels().map(|p| p[0] == 255).collect()
}

#[test]
fn palette_masks_of_every_bit_depth_decode_indices() {
    let dir = tempfile::tempdir().unwrap();
    // Indices 0, 1, 2, 3 in one row of four pixels: foreground is 1 and 3.
    let cases = [
        (png::BitDepth::Two, vec![0b0001_1011]),
        (png::BitDepth::Four, vec![0x01, 0x23]),
        (png::BitDepth::Eight, vec![0, 1, 2, 3]),
    ];
    for (depth, row) in cases {
        let path = dir.path().join(format!("mask-{depth:?}.png"));
        write_png(&path, 4, 1, png::ColorType::Indexed, depth, Some(mask_palette()), &row);
        let mask = load_mask(&path).unwrap();
        assert_eq!(foreground(&mask), vec![false, true, false, true], "{depth:?}");
    }
    // One bit per pixel can only hold indices 0 and 1.
    let path = dir.path().join("mask-one-bit.png");
    write_png(&path, 8, 1, png::ColorType::Indexed, png::BitDepth::One, Some(mask_palette()[..6].to_vec()), &[0b1010_0000]);
    let mask = load_mask(&path).unwrap();
    assert_eq!(foreground(&mask), vec![true, false, true, false, false, false, false, false]);
}

#[test]
fn grayscale_and_sixteen_bit_masks_threshold_at_half() {
    let dir = tempfile::tempdir().unwrap();
    let gray = dir.path().join("gray.png");
    write_png(&gray, 3, 1, png::ColorType::Grayscale, png::BitDepth::Eight, None, &[0, 127, 200]);
    assert_eq!(foreground(&load_mask(&gray).unwrap()), vec![false, false, true]);

    let gray16 = dir.path().join("gray16.png");
    let values: Vec<u8> = [0u16, 30_000, 65_535].iter().flat_map(|v| v.to_be_bytes()).collect();
    write_png(&gray16, 3, 1, png::ColorType::Grayscale, png::BitDepth::Sixteen, None, &values);
    assert_eq!(foreground(&load_mask(&gray16).unwrap()), vec![false, false, true]);
}

#[test]
fn image_encodings_load_as_rgb() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, png::ColorType, png::BitDepth, Vec<u8>, [u8; 3])> = vec![
        ("gray", png::ColorType::Grayscale, png::BitDepth::Eight, vec![100], [100, 100, 100]),
        ("gray-alpha", png::ColorType::GrayscaleAlpha, png::BitDepth::Eight, vec![100, 7], [100, 100, 100]),
        ("rgba", png::ColorType::Rgba, png::BitDepth::Eight, vec![10, 20, 30, 0], [10, 20, 30]),
        ("rgb16", png::ColorType::Rgb, png::BitDepth::Sixteen, vec![255, 255, 0, 0, 128, 0], [255, 0, 128]),
    ];
    for (name, color, depth, data, expected) in cases {
        let path = dir.path().join(format!("{name}.png"));
        write_png(&path, 1, 1, color, depth, None, &data);
        let rgb = load_rgb(&path).unwrap();
        assert_eq!(rgb.get_pixel(0, 0).0, expected, "{name}");
    }
    // Two pixels with palette indices 1 (white) and 0 (black) at 1 bit,
    // and 2 (red) and 3 (green) at 2, 4 and 8 bits.
    let palettes = [
        (png::BitDepth::One, vec![0b1000_0000], [[255, 255, 255], [0, 0, 0]]),
        (png::BitDepth::Two, vec![0b1011_0000], [[255, 0, 0], [0, 255, 0]]),
        (png::BitDepth::Four, vec![0x23], [[255, 0, 0], [0, 255, 0]]),
        (png::BitDepth::Eight, vec![2, 3], [[255, 0, 0], [0, 255, 0]]),
    ];
    for (depth, row, expected) in palettes {
        let path = dir.path().join(format!("palette-{depth:?}.png"));
        let palette = if depth == png::BitDepth::One { mask_palette()[..6].to_vec() } else { mask_palette() };
        write_png(&path, 2, 1, png::ColorType::Indexed, depth, Some(palette), &row);
        let rgb = load_rgb(&path).unwrap();
        assert_eq!([rgb.get_pixel(0, 0).0, rgb.get_pixel(1, 0).0], expected, "{depth:?}");
    }
}

#[test]
fn truncated_and_foreign_files_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.png");
    write_png(&good, 4, 4, png::ColorType::Rgb, png::BitDepth::Eight, None, &[50; 48]);
    let bytes = std::fs::read(&good).unwrap();
    let truncated = dir.path().join("truncated.png");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let foreign = dir.path().join("foreign.png");
    std::fs::write(&foreign, b"GIF89a not really").unwrap();
    for path in [&truncated, &foreign] {
        let image_error = load_rgb(path).unwrap_err().to_string();
        assert!(image_error.contains(path.file_name().unwrap().to_str().unwrap()), "{image_error}");
        let mask_error = load_mask(path).unwrap_err().to_string();
        assert!(mask_error.contains(path.file_name().unwrap().to_str().unwrap()), "{mask_error}");
    }
}

#[test]
fn oversized_header_is_rejected_before_allocating() {
    // A palette PNG whose header claims 180 x 2,113,863,815 pixels: decoding
    // it would need about 380 GB.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/seeds/image_and_mask/huge-palette-header.png");
    let error = load_mask(&path).unwrap_err().to_string();
    assert!(error.contains("huge-palette-header.png"), "{error}");
    assert!(error.contains("too large"), "{error}");
    let error = load_rgb(&path).unwrap_err().to_string();
    assert!(error.contains("huge-palette-header.png"), "{error}");
}

#[test]
fn palette_of_partial_entries_is_rejected() {
    // Its PLTE chunk has 28 bytes, which the png crate would slice past
    // the end of while expanding the palette.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/seeds/image_and_mask/palette-of-28-bytes.png");
    for error in [load_rgb(&path).unwrap_err().to_string(), load_mask(&path).unwrap_err().to_string()] {
        assert!(error.contains("palette-of-28-bytes.png"), "{error}");
        assert!(error.contains("28 bytes is not a multiple of 3"), "{error}");
    }
}

#[test]
fn label_index_masks_read_one_as_foreground() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("labels.png");
    write_png(&path, 3, 1, png::ColorType::Grayscale, png::BitDepth::Eight, None, &[0, 1, 0]);
    assert_eq!(foreground(&load_mask(&path).unwrap()), vec![false, true, false]);
}
