//! The loader on the real dataset: both mask encodings, the split, and
//! clear errors for bad folders.

mod common;

use common::{copy_samples, dataset_dir};
use eqcheck::data::{decode_mask, load_mask, stratified_split, ButterflyFolder, Canvas, Dataset};
use eqcheck::Error;
use tch::Kind;

/// A mask stored as a palette (indexed) PNG.
const PALETTE_MASK_ID: &str = "0010008";
/// A mask stored as a resampled RGB PNG.
const RGB_MASK_ID: &str = "0010001";

fn foreground_fraction(mask: &image::GrayImage) -> f64 {
    let foreground = mask.pixels().filter(|p| p[0] == 255).count();
    foreground as f64 / (mask.width() * mask.height()) as f64
}

fn color_type(path: &std::path::Path) -> png::ColorType {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    png::Decoder::new(file).read_info().unwrap().info().color_type
}

fn mask_path(id: &str) -> std::path::PathBuf {
    dataset_dir().join("segmentations").join(format!("{id}_seg0.png"))
}

#[test]
fn palette_mask_loads_as_binary_foreground() {
    let path = mask_path(PALETTE_MASK_ID);
    assert_eq!(color_type(&path), png::ColorType::Indexed);
    let mask = load_mask(&path).unwrap();
    assert!(mask.pixels().all(|p| p[0] == 0 || p[0] == 255));
    let fraction = foreground_fraction(&mask);
    assert!((0.018..0.67).contains(&fraction), "foreground fraction {fraction}");
}

#[test]
fn palette_and_rgb_paths_agree_on_a_palette_mask() {
    // Expanding the palette to RGB and decoding that must give the same
    // mask as reading the indices, so the two encodings are consistent.
    let path = mask_path(PALETTE_MASK_ID);
    let from_indices = load_mask(&path).unwrap();
    let rgb = image::open(&path).unwrap().to_rgb8();
    let mut bytes = Vec::new();
    rgb.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
    let from_rgb = decode_mask(&bytes).unwrap();
    assert_eq!(from_indices.as_raw(), from_rgb.as_raw());
}

#[test]
fn rgb_mask_loads_as_binary_foreground() {
    let path = mask_path(RGB_MASK_ID);
    assert_eq!(color_type(&path), png::ColorType::Rgb);
    let mask = load_mask(&path).unwrap();
    let fraction = foreground_fraction(&mask);
    assert!((0.018..0.67).contains(&fraction), "foreground fraction {fraction}");
    // Blended edge colours must not leave stray foreground in the corners,
    // which are background in every image of this dataset.
    assert_eq!(mask.get_pixel(0, 0)[0], 0);
}

#[test]
fn whole_dataset_loads_with_expected_coverage() {
    let (folder, skipped) = ButterflyFolder::open(&dataset_dir(), false).unwrap();
    assert!(skipped.is_empty());
    assert_eq!(folder.samples.len(), 832);
    let (data, _) = Dataset::load(&folder, 32, false).unwrap();
    assert_eq!(data.images.size(), vec![832, 3, 32, 32]);
    // The dataset's masks cover 25% of an image on average.
    let coverage = data.masks.mean(Kind::Float).double_value(&[]);
    assert!((0.2..0.3).contains(&coverage), "mean coverage {coverage}");
    let species: std::collections::BTreeSet<u16> = data.species.iter().copied().collect();
    assert_eq!(species.len(), 10);
}

#[test]
fn real_split_is_eighty_twenty_by_species() {
    let (folder, _) = ButterflyFolder::open(&dataset_dir(), false).unwrap();
    let species: Vec<u16> = folder.samples.iter().map(|s| s.species).collect();
    let split = stratified_split(&species, 0.2, 42);
    assert_eq!(split.train.len() + split.validation.len(), 832);
    for s in 1..=10u16 {
        let total = species.iter().filter(|&&x| x == s).count() as f64;
        let validation = split.validation.iter().filter(|&&i| species[i] == s).count() as f64;
        assert!((validation - total * 0.2).abs() <= 0.5, "species {s}: {validation} of {total}");
    }
    assert_eq!(split, stratified_split(&species, 0.2, 42));
}

#[test]
fn padding_centres_the_image_on_the_canvas() {
    let canvas = Canvas::new(64, 96).unwrap();
    let image = tch::Tensor::ones([1, 3, 64, 64], (Kind::Float, tch::Device::Cpu));
    let padded = canvas.pad(&image);
    assert_eq!(padded.size(), vec![1, 3, 96, 96]);
    assert_eq!(padded.double_value(&[0, 0, 16, 16]), 1.0);
    assert_eq!(padded.double_value(&[0, 0, 15, 16]), 0.0);
    assert_eq!(padded.double_value(&[0, 0, 79, 79]), 1.0);
    assert_eq!(padded.double_value(&[0, 0, 80, 79]), 0.0);
    assert_eq!(canvas.crop(&padded).size(), vec![1, 3, 64, 64]);
}

#[test]
fn canvas_rejects_bad_sizes() {
    assert!(Canvas::new(64, 90).is_err(), "not a multiple of 16");
    assert!(Canvas::new(64, 80).is_err(), "smaller than side * sqrt(2)");
    assert!(Canvas::new(64, 96).is_ok());
}

#[test]
fn missing_folder_error_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dataset");
    let error = ButterflyFolder::open(&missing, false).unwrap_err();
    assert!(error.to_string().contains("no-such-dataset"), "{error}");
}

#[test]
fn image_without_mask_error_names_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let root = copy_samples(dir.path(), &[PALETTE_MASK_ID, RGB_MASK_ID]);
    std::fs::remove_file(root.join(format!("segmentations/{RGB_MASK_ID}_seg0.png"))).unwrap();
    let error = ButterflyFolder::open(&root, false).unwrap_err();
    assert!(error.to_string().contains(&format!("{RGB_MASK_ID}.png")), "{error}");
    assert!(error.to_string().contains("no mask"), "{error}");

    let (folder, skipped) = ButterflyFolder::open(&root, true).unwrap();
    assert_eq!(folder.samples.len(), 1);
    assert_eq!(skipped.len(), 1);
}

#[test]
fn mask_of_another_size_error_names_the_mask() {
    let dir = tempfile::tempdir().unwrap();
    let root = copy_samples(dir.path(), &[PALETTE_MASK_ID, RGB_MASK_ID]);
    let mask = root.join(format!("segmentations/{RGB_MASK_ID}_seg0.png"));
    image::RgbImage::new(10, 12).save(&mask).unwrap();
    let (folder, _) = ButterflyFolder::open(&root, false).unwrap();
    let error = Dataset::load(&folder, 32, false).err().unwrap();
    assert!(matches!(error, Error::MaskSize { .. }), "{error}");
    assert!(error.to_string().contains(&format!("{RGB_MASK_ID}_seg0.png")), "{error}");
    assert!(error.to_string().contains("10x12"), "{error}");

    let (data, skipped) = Dataset::load(&folder, 32, true).unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(skipped.len(), 1);
}

#[test]
fn unreadable_image_error_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = copy_samples(dir.path(), &[PALETTE_MASK_ID]);
    let image = root.join(format!("images/{PALETTE_MASK_ID}.png"));
    std::fs::write(&image, b"not a png").unwrap();
    let (folder, _) = ButterflyFolder::open(&root, false).unwrap();
    let error = Dataset::load(&folder, 32, false).err().unwrap();
    assert!(error.to_string().contains(&format!("{PALETTE_MASK_ID}.png")), "{error}");

    std::fs::write(&image, b"").unwrap();
    let error = Dataset::load(&folder, 32, false).err().unwrap();
    assert!(error.to_string().contains("empty"), "{error}");
}
