use std::time::Duration;

use super::*;

fn render(bytes: &[u8]) -> Result<image::RgbImage, String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let png = first_page_png(bytes, &Limits::default(), deadline)?;
    Ok(image::load_from_memory(&png).unwrap().to_rgb8())
}

/// Pixels clearly darker than the white page: ink.
fn ink(img: &image::RgbImage) -> usize {
    img.pixels()
        .filter(|p| p.0.iter().any(|&c| c < 160))
        .count()
}

/// A PDF of `objects` (numbered from 1; object 1 is the catalog) with a correct
/// cross-reference table.
fn pdf(objects: &[&str]) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn stream(dict: &str, data: &str) -> String {
    format!(
        "<< {dict} /Length {} >>\nstream\n{data}\nendstream",
        data.len()
    )
}

/// One page with `media_box`, drawing `content`; more objects may follow as 5, 6, ….
fn page(media_box: &str, resources: &str, content: &str, more: &[&str]) -> Vec<u8> {
    let page = format!(
        "<< /Type /Page /Parent 2 0 R /MediaBox {media_box} /Resources << {resources} >> \
         /Contents 4 0 R >>"
    );
    let content = stream("", content);
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        &page,
        &content,
    ];
    objects.extend_from_slice(more);
    pdf(&objects)
}

const FONT: &str = "/Font << /F1 5 0 R >>";
const HELVETICA: &str = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>";
const TEXT: &str = "BT /F1 48 Tf 40 600 Td (Hello, thumbnails) Tj ET";

#[test]
fn real_pdfs_render_at_thumbnail_size_with_their_text() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    for (path, inked) in [
        ("backend/src/pipeline/warmup.pdf", true),
        ("fuzz/corpus/seed-parser_process/text.pdf", true),
        ("governance/src/checks/invoice.pdf", true),
        // Broken in ways pdf-extract met: they still draw (an empty page at worst).
        (
            "backend/src/pipeline/fixtures/pdf-extract-missing-object.pdf",
            false,
        ),
        (
            "backend/src/pipeline/fixtures/pdf-extract-no-mediabox.pdf",
            false,
        ),
    ] {
        let bytes = std::fs::read(format!("{root}/{path}")).unwrap();
        let img = render(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(img.width().max(img.height()), THUMBNAIL_SIZE, "{path}");
        assert!(
            img.width() < img.height(),
            "{path}: portrait pages stay portrait"
        );
        if inked {
            assert!(ink(&img) > 0, "{path}: its text is drawn");
        }
    }
}

#[test]
fn a_text_page_keeps_its_aspect_and_draws_the_text() {
    let img = render(&page("[0 0 612 792]", FONT, TEXT, &[HELVETICA])).unwrap();
    // 612×792 points at 256/792: 198 px wide.
    assert_eq!((img.width(), img.height()), (198, 256));
    assert!(ink(&img) > 100, "ink: {}", ink(&img));
    // The text is near the top (PDF's y axis points up), not mirrored to the bottom.
    let top = (0..img.height() / 2)
        .flat_map(|y| (0..img.width()).map(move |x| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0[0] < 160)
        .count();
    assert_eq!(top, ink(&img));
}

#[test]
fn rotated_pages_are_drawn_turned() {
    let bytes = page("[0 0 612 792]", FONT, TEXT, &[HELVETICA]);
    let rotated = String::from_utf8(bytes)
        .unwrap()
        .replace("/Type /Page /Parent", "/Type /Page /Rotate 90 /Parent");
    let img = render(&pdf_reflowed(&rotated)).unwrap();
    assert_eq!((img.width(), img.height()), (256, 198));
    assert!(ink(&img) > 100);
}

/// The same objects with the cross-reference table recomputed after an edit.
fn pdf_reflowed(text: &str) -> Vec<u8> {
    let bodies: Vec<String> = text
        .split(" 0 obj\n")
        .skip(1)
        .map(|part| part.split("\nendobj\n").next().unwrap().to_owned())
        .collect();
    let refs: Vec<&str> = bodies.iter().map(String::as_str).collect();
    pdf(&refs)
}

#[test]
fn a_huge_media_box_still_makes_a_small_picture_quickly() {
    let start = Instant::now();
    let img = render(&page(
        "[0 0 1000000000 1000000000]",
        FONT,
        TEXT,
        &[HELVETICA],
    ))
    .unwrap();
    assert_eq!((img.width(), img.height()), (256, 256));
    let img = render(&page("[0 0 1000000000 10]", "", "0 0 1 1 re f", &[])).unwrap();
    assert_eq!((img.width(), img.height()), (256, 1));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn a_zero_size_or_inverted_page_is_drawn_at_a_default_size() {
    for media_box in [
        "[0 0 0 0]",
        "[100 100 100 100]",
        "[612 792 0 0]",
        "[0 0 -5 -5]",
    ] {
        let img = render(&page(media_box, FONT, TEXT, &[HELVETICA]))
            .unwrap_or_else(|e| panic!("{media_box}: {e}"));
        assert_eq!(img.width().max(img.height()), 256, "{media_box}");
        assert!(img.width() >= 1 && img.height() >= 1);
    }
}

#[test]
fn no_pages_garbage_and_empty_input_fail_with_a_reason() {
    let no_pages = pdf(&[
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [] /Count 0 >>",
    ]);
    for bytes in [
        no_pages,
        Vec::new(),
        b"%PDF-1.4".to_vec(),
        b"not a pdf at all".to_vec(),
        (0..20_000u32).map(|i| (i * 7919 % 251) as u8).collect(),
    ] {
        let e = render(&bytes).unwrap_err();
        assert!(e.contains("hayro"), "{e}");
    }
}

#[test]
fn deep_nesting_fails_or_draws_without_overflowing_the_stack() {
    // Nested arrays in the page dictionary, nested q/Q in the content, and a form that
    // draws itself: each must end (refused or drawn), on a test thread's small stack.
    let arrays = format!("{}0{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_dict = pdf(&[
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        &format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /X {arrays} >>"),
    ]);
    let _ = render(&deep_dict);
    let saves = format!(
        "{}0 0 10 10 re f{}",
        "q ".repeat(100_000),
        " Q".repeat(100_000)
    );
    assert!(render(&page("[0 0 100 100]", "", &saves, &[])).is_ok());
    let recursive_form = stream(
        "/Type /XObject /Subtype /Form /BBox [0 0 100 100] /Resources << /XObject << /X 5 0 R >> >>",
        "0 0 10 10 re f /X Do",
    );
    let img = render(&page(
        "[0 0 100 100]",
        "/XObject << /X 5 0 R >>",
        "/X Do",
        &[&recursive_form],
    ))
    .unwrap();
    assert!(ink(&img) > 0, "the form draws once at least");
}

/// A PDF with a text layer that hayro refuses to draw (an image declared at
/// 60000×60000 RGB, 14 GB once decoded, in a few bytes of dictionary) and that the
/// rest of the pipeline reads: how tests reach the pdftoppm fallback.
pub(crate) fn refused_by_hayro() -> Vec<u8> {
    let image = stream(
        "/Type /XObject /Subtype /Image /Width 60000 /Height 60000 /ColorSpace /DeviceRGB \
         /BitsPerComponent 8",
        "xxxx",
    );
    page(
        "[0 0 612 792]",
        &format!("{FONT} /XObject << /Im 6 0 R >>"),
        &format!("{TEXT} q 100 0 0 100 0 0 cm /Im Do Q"),
        &[HELVETICA, &image],
    )
}

#[test]
fn an_image_too_big_for_the_budget_is_refused_before_decoding() {
    let e = render(&refused_by_hayro()).unwrap_err();
    assert!(e.contains("more than the 256 MiB limit"), "{e}");
}

#[test]
fn an_image_within_the_budget_is_drawn() {
    // 2×1 red-and-blue RGB image stretched over the page.
    // (0x01 stands for 0xFF, which a &str cannot hold as one byte; nothing else in
    // the file is 0x01.)
    let image = stream(
        "/Type /XObject /Subtype /Image /Width 2 /Height 1 /ColorSpace /DeviceRGB \
         /BitsPerComponent 8",
        "\u{1}\0\0\0\0\u{1}",
    );
    let mut bytes = page(
        "[0 0 100 100]",
        "/XObject << /Im 5 0 R >>",
        "q 100 0 0 100 0 0 cm /Im Do Q",
        &[&image],
    );
    for b in bytes.iter_mut() {
        if *b == 1 {
            *b = 0xff;
        }
    }
    let img = render(&bytes).unwrap();
    let left = img.get_pixel(10, 128).0;
    let right = img.get_pixel(245, 128).0;
    assert!(left[0] > 200 && left[2] < 60, "{left:?}");
    assert!(right[2] > 200 && right[0] < 60, "{right:?}");
}

#[test]
fn a_passed_deadline_renders_nothing() {
    let bytes = page("[0 0 612 792]", FONT, TEXT, &[HELVETICA]);
    let e = first_page_png(&bytes, &Limits::default(), Instant::now()).unwrap_err();
    assert_eq!(e, TOO_SLOW);
}

#[test]
fn thumbnail_sizes_fit_the_longest_side() {
    assert_eq!(thumbnail_size(612.0, 792.0), (198, 256));
    assert_eq!(thumbnail_size(842.0, 595.0), (256, 181));
    assert_eq!(thumbnail_size(1e9, 1.0), (256, 1));
    assert_eq!(thumbnail_size(10.0, 10.0), (256, 256));
}
