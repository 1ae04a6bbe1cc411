//! Image decoding under hard limits, and thumbnails.

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};

/// Longest side of a thumbnail, in pixels.
pub const THUMBNAIL_SIZE: u32 = 256;
/// Images over this many pixels are refused before decoding (decompression bombs).
pub const MAX_PIXELS: u64 = 40_000_000;
/// Decodes an image, refusing oversize ones from their header, before any pixel is
/// allocated; the decoder may allocate at most `max_alloc` bytes (the document's
/// inflated-bytes budget).
pub fn decode(bytes: &[u8], max_alloc: u64) -> Result<image::DynamicImage, String> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("unreadable image: {e}"))?;
    let (w, h) = reader
        .into_dimensions()
        .map_err(|e| format!("unreadable image: {e}"))?;
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(format!(
            "image is {w}×{h} pixels; the limit is {MAX_PIXELS} pixels"
        ));
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("unreadable image: {e}"))?;
    let mut limits = Limits::default();
    limits.max_alloc = Some(max_alloc);
    reader.limits(limits);
    reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => format!(
            "the document could not be parsed: the image needs more than the {} MiB limit",
            max_alloc / (1024 * 1024)
        ),
        e => format!("unreadable image: {e}"),
    })
}

/// `img` as a PNG.
pub fn png(img: &image::DynamicImage) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .map_err(|e| format!("could not encode a page as PNG: {e}"))?;
    Ok(out)
}

/// A PNG whose longest side is at most [`THUMBNAIL_SIZE`].
pub fn thumbnail(img: &image::DynamicImage) -> Result<Vec<u8>, String> {
    png(&img.thumbnail(THUMBNAIL_SIZE, THUMBNAIL_SIZE))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: u64 = 512 << 20;

    fn decode(bytes: &[u8]) -> Result<image::DynamicImage, String> {
        super::decode(bytes, BUDGET)
    }

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::DynamicImage::new_rgb8(w, h);
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn thumbnails_keep_the_aspect_and_fit_256() {
        let img = decode(&png(1000, 500)).unwrap();
        let t = decode(&thumbnail(&img).unwrap()).unwrap();
        assert_eq!((t.width(), t.height()), (256, 128));
        let small = decode(&png(40, 30)).unwrap();
        let t = decode(&thumbnail(&small).unwrap()).unwrap();
        assert!(t.width() <= 256 && t.height() <= 256);
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for b in data {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    /// A well-formed PNG whose header claims `w`×`h` pixels (with a valid CRC).
    pub fn png_claiming(w: u32, h: u32) -> Vec<u8> {
        let mut bytes = png(1, 1);
        bytes[16..20].copy_from_slice(&w.to_be_bytes());
        bytes[20..24].copy_from_slice(&h.to_be_bytes());
        let crc = crc32(&bytes[12..29]);
        bytes[29..33].copy_from_slice(&crc.to_be_bytes());
        bytes
    }

    #[test]
    fn bombs_truncated_and_empty_images_are_refused() {
        let e = decode(&png_claiming(100_000, 100_000)).unwrap_err();
        assert!(e.contains("the limit is"), "{e}");
        let good = png(64, 64);
        assert!(decode(&good[..good.len() / 2]).is_err());
        assert!(decode(&[]).is_err());
        assert!(decode(b"\xFF\xD8\xFF\xE0garbage").is_err());
    }

    #[test]
    fn the_inflated_bytes_budget_bounds_what_an_image_may_decode_to() {
        // 3000×3000 RGB is 27 MB of pixels from a PNG of a few KB.
        let big = png(3000, 3000);
        assert!(big.len() < 200_000);
        let e = super::decode(&big, 8 << 20).unwrap_err();
        assert!(e.contains("more than the 8 MiB limit"), "{e}");
        assert!(super::decode(&big, 64 << 20).is_ok());
    }
}
