//! A PDF's first page drawn in this process by hayro (pure Rust): bytes in, PNG out.
//! It reads no file (the standard fonts and CMaps are compiled in), starts no process
//! and no thread, so it can run in the parser process under its system-call filter.
//!
//! What bounds it on hostile input: the picture is always [`THUMBNAIL_SIZE`] on its
//! longest side, whatever the page claims (a MediaBox of 10^9 points included); every
//! image of the document must fit the inflated-bytes budget once decoded, checked from
//! its dictionary before drawing; hayro has no hook to count the bytes its filters
//! inflate, so other streams are bounded by the parser process's memory limit (and were
//! counted by lopdf when the document was processed); time by the caller's deadline,
//! which kills the parser process (hayro cannot be interrupted).

use std::sync::Arc;
use std::time::Instant;

use hayro::hayro_interpret::InterpreterSettings;
use hayro::hayro_interpret::util::TransformExt;
use hayro::hayro_syntax::Pdf;
use hayro::hayro_syntax::object::{Name, Object};
use hayro::kurbo::Affine;
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::vello_cpu::{Pixmap, RasterizerSettings, RenderContext, Resources, TargetInit};
use hayro::{RenderCache, RenderSettings};

use super::Limits;
use super::images::THUMBNAIL_SIZE;

/// The first page of a PDF as a PNG whose longest side is [`THUMBNAIL_SIZE`].
pub fn first_page_png(bytes: &[u8], limits: &Limits, deadline: Instant) -> Result<Vec<u8>, String> {
    if Instant::now() >= deadline {
        return Err(TOO_SLOW.to_owned());
    }
    // hayro unwraps on some malformed input: that is this document's failure (and the
    // caller's cue to try another renderer), not the process's.
    let drawn = std::panic::catch_unwind(|| draw(bytes, limits.max_inflated_bytes))
        .map_err(|_| "the PDF renderer (hayro) failed on it (malformed input)".to_owned())??;
    if Instant::now() > deadline {
        return Err(TOO_SLOW.to_owned());
    }
    let (width, height, rgb) = drawn;
    let img = image::RgbImage::from_raw(width, height, rgb)
        .ok_or_else(|| "the PDF renderer (hayro) returned a short picture".to_owned())?;
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| format!("could not encode the thumbnail: {e}"))?;
    Ok(png)
}

const TOO_SLOW: &str = "PDF rendering (hayro) did not finish in time";

/// Width, height and RGB pixels of the first page.
fn draw(bytes: &[u8], max_inflated: u64) -> Result<(u32, u32, Vec<u8>), String> {
    let pdf = Pdf::new(Arc::new(bytes.to_vec()))
        .map_err(|e| format!("PDF rendering (hayro) failed: unreadable PDF ({e:?})"))?;
    check_images(&pdf, max_inflated)?;
    let page = pdf
        .pages()
        .first()
        .ok_or_else(|| "PDF rendering (hayro) failed: the PDF has no pages".to_owned())?;
    // hayro gives an empty or degenerate box A4's size, and rotation swaps the sides.
    let (w, h) = page.render_dimensions();
    let (width, height) = thumbnail_size(w, h);
    let mut ctx = RenderContext::new(width, height);
    let transform = Affine::scale_non_uniform(
        f64::from(width) / f64::from(w),
        f64::from(height) / f64::from(h),
    ) * page.initial_transform(true).to_kurbo();
    hayro::render_into(
        page,
        &RenderCache::new(),
        &InterpreterSettings::default(),
        &RenderSettings::default(),
        &mut ctx,
        transform,
    );
    ctx.flush();
    let mut pixmap = Pixmap::new(width, height);
    ctx.render_with(
        &mut pixmap,
        &mut Resources::default(),
        RasterizerSettings {
            target_init: TargetInit::Clear(WHITE),
            ..Default::default()
        },
    );
    // Drawn over opaque white, every pixel is opaque: premultiplied is plain RGB.
    let rgb = pixmap
        .data_as_u8_slice()
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    Ok((u32::from(width), u32::from(height), rgb))
}

/// Pixel size of a `w`×`h` page scaled so its longest side is [`THUMBNAIL_SIZE`] (as
/// `pdftoppm -scale-to` does); at least one pixel each way.
fn thumbnail_size(w: f32, h: f32) -> (u16, u16) {
    let side = THUMBNAIL_SIZE as f32;
    let (w, h) = (w.max(f32::MIN_POSITIVE), h.max(f32::MIN_POSITIVE));
    let scale = side / w.max(h);
    let px = |x: f32| (x * scale).round().clamp(1.0, side) as u16;
    (px(w), px(h))
}

/// Refuses a document one of whose images would decode to more than `max_inflated`
/// bytes, from the sizes its dictionary declares, before anything is decoded.
fn check_images(pdf: &Pdf, max_inflated: u64) -> Result<(), String> {
    for object in pdf.objects() {
        let Object::Stream(stream) = object else {
            continue;
        };
        let dict = stream.dict();
        if dict.get::<Name>(b"Subtype").as_deref() != Some(b"Image".as_slice()) {
            continue;
        }
        let side = |key: &[u8]| u64::from(dict.get::<u32>(key).unwrap_or(0));
        // Four bytes a pixel: the most any colour space decodes to (CMYK, or RGB with
        // a mask) before hayro converts it.
        let bytes = side(b"Width") * side(b"Height") * 4;
        if bytes > max_inflated {
            return Err(format!(
                "PDF rendering (hayro) refused it: an image would decode to more than the \
                 {} MiB limit",
                max_inflated / (1024 * 1024)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests;
