//! A structural check of a PNG's chunks before any decoder reads them.
//!
//! png 0.18.1 accepts a PLTE chunk whose length is not a multiple of three
//! (only its range of 3 to 768 bytes is checked) and then panics while
//! expanding the palette. The PNG specification (section 11.2.3) requires
//! the length to be divisible by three, so such a file is rejected here
//! with a clear message instead.

/// The eight bytes every PNG file starts with.
const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// Checks the chunks of `bytes` up to the first image data chunk when
/// they form a PNG file; other formats pass through unchanged.
pub fn check_png_chunks(bytes: &[u8]) -> Result<(), String> {
    let Some(mut rest) = bytes.strip_prefix(&SIGNATURE[..]) else {
        return Ok(());
    };
    // Each chunk is a 4-byte length, a 4-byte type, the data and a CRC.
    while rest.len() >= 8 {
        let length = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let kind = &rest[4..8];
        if kind == b"IDAT" {
            break;
        }
        if kind == b"PLTE" && length % 3 != 0 {
            return Err(format!("invalid PNG palette: {length} bytes is not a multiple of 3"));
        }
        let Some(next) = rest.get(12usize.saturating_add(length)..) else {
            // A truncated chunk is left to the decoder, which reports it.
            break;
        };
        rest = next;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Returns a PNG signature followed by one chunk of `kind` with `data`
    /// (the CRC is left as zeros, which this check does not read).
    fn png_with_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut bytes = SIGNATURE.to_vec();
        bytes.extend((data.len() as u32).to_be_bytes());
        bytes.extend(kind);
        bytes.extend(data);
        bytes.extend([0; 4]);
        bytes
    }

    #[test]
    fn palette_of_four_bytes_is_rejected() {
        let error = check_png_chunks(&png_with_chunk(b"PLTE", &[0; 4])).unwrap_err();
        assert!(error.contains("4 bytes"), "{error}");
    }

    #[test]
    fn palette_of_whole_entries_passes() {
        assert!(check_png_chunks(&png_with_chunk(b"PLTE", &[0; 6])).is_ok());
    }

    #[test]
    fn other_formats_and_truncated_chunks_pass() {
        assert!(check_png_chunks(b"GIF89a").is_ok());
        let mut truncated = png_with_chunk(b"PLTE", &[0; 4]);
        truncated[11] = 201;
        assert!(check_png_chunks(&truncated).is_ok());
    }
}
