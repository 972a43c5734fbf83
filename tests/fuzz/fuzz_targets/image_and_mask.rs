//! Arbitrary bytes as an image file and as a mask file: decoding returns an
//! image or an error, never a panic, and a decoded mask is binary.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(image) = eqcheck::data::decode_rgb(bytes) {
        assert_eq!(image.as_raw().len(), 3 * image.width() as usize * image.height() as usize);
    }
    if let Ok(mask) = eqcheck::data::decode_mask(bytes) {
        assert!(mask.pixels().all(|p| p[0] == 0 || p[0] == 255), "mask pixels must be 0 or 255");
    }
});
