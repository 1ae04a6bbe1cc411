//! Multi-page TIFF, the format scanners and fax servers write: counting pages and
//! decoding them one at a time, each under the pixel limit and all of them within the
//! document's inflated-bytes budget.

use std::io::Cursor;

use image::{DynamicImage, GrayImage, RgbImage};
use tiff::ColorType;
use tiff::decoder::{Decoder, DecodingResult, Limits};

use super::images::MAX_PIXELS;

/// More pages than this is not a scan but an attack on the page walk.
pub const MAX_PAGES: u32 = 10_000;

fn unreadable(e: impl std::fmt::Display) -> String {
    format!("unreadable TIFF: {e}")
}

fn decoder(bytes: &[u8], max_alloc: u64) -> Result<Decoder<Cursor<&[u8]>>, String> {
    let mut limits = Limits::default();
    let cap = usize::try_from(max_alloc).unwrap_or(usize::MAX);
    limits.decoding_buffer_size = cap;
    limits.intermediate_buffer_size = cap;
    Ok(Decoder::new(Cursor::new(bytes))
        .map_err(unreadable)?
        .with_limits(limits))
}

/// Each page's size in pixels, without decoding any; the decoder refuses a chain of
/// pages that loops.
pub fn page_sizes(bytes: &[u8], max_alloc: u64) -> Result<Vec<(u32, u32)>, String> {
    let mut d = decoder(bytes, max_alloc)?;
    let mut sizes = vec![d.dimensions().map_err(unreadable)?];
    while d.more_images() {
        if sizes.len() as u32 >= MAX_PAGES {
            return Err(format!(
                "TIFF has more than {MAX_PAGES} pages; the limit is {MAX_PAGES}"
            ));
        }
        d.next_image().map_err(unreadable)?;
        sizes.push(d.dimensions().map_err(unreadable)?);
    }
    Ok(sizes)
}

/// Decodes the first `pages` pages, calling `each` with every page as it is decoded (so
/// only one is in memory at a time).
pub fn for_each_page(
    bytes: &[u8],
    pages: u32,
    max_alloc: u64,
    mut each: impl FnMut(u32, DynamicImage) -> Result<(), String>,
) -> Result<(), String> {
    let mut d = decoder(bytes, max_alloc)?;
    let mut left = max_alloc;
    for number in 1..=pages {
        if number > 1 {
            if !d.more_images() {
                break;
            }
            d.next_image().map_err(unreadable)?;
        }
        let (w, h) = d.dimensions().map_err(unreadable)?;
        let pixels = u64::from(w) * u64::from(h);
        if pixels > MAX_PIXELS {
            return Err(format!(
                "TIFF page {number} is {w}×{h} pixels; the limit is {MAX_PIXELS} pixels"
            ));
        }
        let color = d.colortype().map_err(unreadable)?;
        // What this page decodes to (8 bits a sample), out of what is left.
        left = left.checked_sub(pixels * channels(color)).ok_or_else(|| {
            format!(
                "the document could not be parsed: its pages need more than the {} MiB limit",
                max_alloc / (1024 * 1024)
            )
        })?;
        let data = d.read_image().map_err(unreadable)?;
        each(number, to_image(w, h, color, data)?)?;
    }
    Ok(())
}

/// Samples a pixel of `color` has (the bytes it takes once decoded to 8 bits a sample).
fn channels(color: ColorType) -> u64 {
    match color {
        ColorType::Gray(_) | ColorType::Palette(_) => 1,
        ColorType::GrayA(_) => 2,
        ColorType::RGB(_) | ColorType::YCbCr(_) => 3,
        _ => 4,
    }
}

/// 8-bit grey or RGB pixels from what the decoder gave; other layouts are refused.
fn to_image(
    w: u32,
    h: u32,
    color: ColorType,
    data: DecodingResult,
) -> Result<DynamicImage, String> {
    let unsupported = || Err(format!("unsupported TIFF pixel format {color:?}"));
    let n = w as usize * h as usize;
    let bytes = match data {
        DecodingResult::U8(v) => v,
        // 16-bit samples keep their high byte.
        DecodingResult::U16(v) => v.iter().map(|s| (s >> 8) as u8).collect(),
        _ => return unsupported(),
    };
    let short = || unreadable("a page has fewer pixels than its size says");
    let gray = |v: Vec<u8>| {
        GrayImage::from_raw(w, h, v)
            .map(DynamicImage::ImageLuma8)
            .ok_or_else(short)
    };
    let rgb = |v: Vec<u8>| {
        RgbImage::from_raw(w, h, v)
            .map(DynamicImage::ImageRgb8)
            .ok_or_else(short)
    };
    match color {
        ColorType::Gray(1) => {
            // Rows of packed bits, most significant first, each row padded to a byte.
            let row = (w as usize).div_ceil(8);
            if bytes.len() < row * h as usize {
                return Err(short());
            }
            let mut out = Vec::with_capacity(n);
            for r in bytes.chunks_exact(row).take(h as usize) {
                out.extend((0..w as usize).map(|x| {
                    if r[x / 8] & (0x80 >> (x % 8)) != 0 {
                        255
                    } else {
                        0
                    }
                }));
            }
            gray(out)
        }
        ColorType::Gray(8 | 16) => gray(bytes),
        ColorType::GrayA(8 | 16) => gray(bytes.chunks_exact(2).map(|p| p[0]).collect()),
        ColorType::RGB(8 | 16) => rgb(bytes),
        ColorType::RGBA(8 | 16) => rgb(bytes
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect()),
        _ => unsupported(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A TIFF of `pages` grey pages of `w`×`h`, page k filled with grey level k.
    pub fn tiff_of(pages: u8, w: u32, h: u32) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut enc = tiff::encoder::TiffEncoder::new(&mut out).unwrap();
        for k in 0..pages {
            let data = vec![k; (w * h) as usize];
            enc.write_image::<tiff::encoder::colortype::Gray8>(w, h, &data)
                .unwrap();
        }
        out.into_inner()
    }

    #[test]
    fn pages_are_counted_and_decoded_one_by_one() {
        let t = tiff_of(3, 40, 20);
        assert_eq!(page_sizes(&t, 1 << 20).unwrap(), vec![(40, 20); 3]);
        let mut seen = Vec::new();
        for_each_page(&t, 3, 1 << 20, |n, img| {
            seen.push((
                n,
                img.width(),
                img.height(),
                img.to_luma8().get_pixel(0, 0)[0],
            ));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, vec![(1, 40, 20, 0), (2, 40, 20, 1), (3, 40, 20, 2)]);
        // Only the pages asked for.
        let mut n = 0;
        for_each_page(&t, 2, 1 << 20, |_, _| {
            n += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(n, 2);
    }

    #[test]
    fn hostile_tiffs_are_refused() {
        // The budget: three grey pages of 40×20 need 2,400 bytes.
        let t = tiff_of(3, 40, 20);
        assert!(for_each_page(&t, 3, 2_400, |_, _| Ok(())).is_ok());
        let e = for_each_page(&t, 3, 2_000, |_, _| Ok(())).unwrap_err();
        assert!(e.contains("need more than"), "{e}");
        // Truncated, empty, garbage.
        for bad in [&t[..t.len() / 2], &b""[..], b"II*\0garbage"] {
            let r = for_each_page(bad, 3, 1 << 20, |_, _| Ok(()));
            assert!(r.is_err(), "{r:?}");
        }
        // A page chain that loops back on itself: the next-IFD offset of the first page
        // points at the first page again.
        let one = tiff_of(1, 4, 4);
        let first_ifd = u32::from_le_bytes(one[4..8].try_into().unwrap()) as usize;
        let entries = u16::from_le_bytes(one[first_ifd..first_ifd + 2].try_into().unwrap());
        let next_at = first_ifd + 2 + 12 * entries as usize;
        let mut looped = one.clone();
        looped[next_at..next_at + 4].copy_from_slice(&(first_ifd as u32).to_le_bytes());
        assert!(page_sizes(&looped, 1 << 20).is_err());
    }
}
