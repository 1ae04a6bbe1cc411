//! A searchable PDF of scanned pages: each page's image, with the words OCR read laid
//! over it as invisible text at their boxes, so that a viewer shows the scan and `find`,
//! copy and `pdftotext` get the words.
//!
//! The text uses one composite font whose glyph codes are the characters' UTF-16 code
//! units and whose every glyph is half an em wide (the approach of Tesseract's own PDF
//! renderer): no font file is needed, as the text is never drawn, and each word is
//! stretched to its box with horizontal scaling.

use std::fmt::Write as _;
use std::io::Write as _;

use image::DynamicImage;
use lopdf::{Dictionary, Document, Object, Stream, dictionary};

use crate::layout::Page;

/// Every glyph's advance, in thousandths of an em (the font's `DW`).
const GLYPH_WIDTH: f32 = 500.0;

/// A searchable PDF, written a page at a time: each page's image is compressed as it is
/// added, so only one decoded page is in memory at once.
pub struct Builder {
    doc: Document,
    pages_id: lopdf::ObjectId,
    font_id: lopdf::ObjectId,
    kids: Vec<Object>,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    pub fn new() -> Self {
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let font_id = add_font(&mut doc);
        Self {
            doc,
            pages_id,
            font_id,
            kids: Vec::new(),
        }
    }

    /// Adds a page of `width_pt` × `height_pt` points showing `image`, with the words of
    /// `layout` over it.
    pub fn add_page(
        &mut self,
        image: &DynamicImage,
        layout: &Page,
        width_pt: f32,
        height_pt: f32,
    ) -> Result<(), String> {
        let image_id = self.doc.add_object(image_stream(image)?);
        let mut content = format!("q {width_pt} 0 0 {height_pt} 0 0 cm /Im0 Do Q\nBT 3 Tr\n");
        for line in layout.blocks.iter().flat_map(|b| &b.lines) {
            let last = line.words.len().saturating_sub(1);
            for (i, word) in line.words.iter().enumerate() {
                let text = if i < last {
                    format!("{} ", word.text)
                } else {
                    word.text.clone()
                };
                push_word(&mut content, &text, word.bbox, width_pt, height_pt);
            }
        }
        content.push_str("ET\n");
        let mut contents = Stream::new(Dictionary::new(), content.into_bytes());
        let _ = contents.compress();
        let contents_id = self.doc.add_object(contents);
        let page_id = self.doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => self.pages_id,
            "MediaBox" => vec![0.into(), 0.into(), width_pt.into(), height_pt.into()],
            "Contents" => contents_id,
            "Resources" => dictionary! {
                "Font" => dictionary! { "F1" => self.font_id },
                "XObject" => dictionary! { "Im0" => image_id },
            },
        });
        self.kids.push(Object::from(page_id));
        Ok(())
    }

    /// The PDF's bytes.
    pub fn finish(mut self) -> Result<Vec<u8>, String> {
        let count = self.kids.len() as i64;
        self.doc.objects.insert(
            self.pages_id,
            Object::Dictionary(
                dictionary! { "Type" => "Pages", "Kids" => self.kids, "Count" => count },
            ),
        );
        let catalog = self
            .doc
            .add_object(dictionary! { "Type" => "Catalog", "Pages" => self.pages_id });
        self.doc.trailer.set("Root", catalog);
        let mut out = Vec::new();
        self.doc
            .save_to(&mut out)
            .map_err(|e| format!("could not write the searchable PDF: {e}"))?;
        Ok(out)
    }
}

/// Shows `text` invisibly over `bbox` (normalised, top-left origin) of a page.
fn push_word(content: &mut String, text: &str, bbox: [f32; 4], w: f32, h: f32) {
    let units: Vec<u16> = text
        .chars()
        .map(|c| {
            let mut buf = [0u16; 2];
            match c.encode_utf16(&mut buf) {
                [one] => *one,
                _ => 0xFFFD,
            }
        })
        .collect();
    let glyphs = text.trim_end().chars().count().max(1) as f32;
    let (x0, x1) = (bbox[0] * w, bbox[2] * w);
    let (top, bottom) = (bbox[1] * h, bbox[3] * h);
    let size = (bottom - top).max(1.0);
    let natural = glyphs * GLYPH_WIDTH / 1000.0 * size;
    let scale = ((x1 - x0).max(0.1) / natural * 100.0).clamp(1.0, 10_000.0);
    // The baseline a fifth of the box above its bottom, as for Latin text.
    let baseline = h - bottom + 0.2 * size;
    let _ = write!(
        content,
        "/F1 {size:.2} Tf {scale:.2} Tz 1 0 0 1 {x0:.2} {baseline:.2} Tm <"
    );
    for u in units {
        let _ = write!(content, "{u:04X}");
    }
    content.push_str("> Tj\n");
}

/// A Type0 font with Identity-H codes, every glyph `GLYPH_WIDTH` wide, and a ToUnicode
/// map from each code to the same UTF-16 unit.
fn add_font(doc: &mut Document) -> lopdf::ObjectId {
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    // A range may only vary its last byte: one per high byte, surrogates left out.
    let highs: Vec<u16> = (0u16..=0xFF)
        .filter(|h| !(0xD8..=0xDF).contains(h))
        .collect();
    for chunk in highs.chunks(100) {
        let _ = writeln!(cmap, "{} beginbfrange", chunk.len());
        for h in chunk {
            let _ = writeln!(cmap, "<{h:02X}00> <{h:02X}FF> <{h:02X}00>");
        }
        cmap.push_str("endbfrange\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    let mut to_unicode = Stream::new(Dictionary::new(), cmap.into_bytes());
    let _ = to_unicode.compress();
    let to_unicode = doc.add_object(to_unicode);
    let descriptor = doc.add_object(dictionary! {
        "Type" => "FontDescriptor",
        "FontName" => "GlyphLessFont",
        "Flags" => 5,
        "FontBBox" => vec![0.into(), 0.into(), (GLYPH_WIDTH as i64).into(), 1000.into()],
        "ItalicAngle" => 0,
        "Ascent" => 1000,
        "Descent" => 0,
        "CapHeight" => 1000,
        "StemV" => 80,
    });
    let cid_font = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "CIDFontType2",
        "BaseFont" => "GlyphLessFont",
        "CIDSystemInfo" => dictionary! {
            "Registry" => Object::string_literal("Adobe"),
            "Ordering" => Object::string_literal("Identity"),
            "Supplement" => 0,
        },
        "FontDescriptor" => descriptor,
        "DW" => GLYPH_WIDTH as i64,
        "CIDToGIDMap" => "Identity",
    });
    doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type0",
        "BaseFont" => "GlyphLessFont",
        "Encoding" => "Identity-H",
        "DescendantFonts" => vec![cid_font.into()],
        "ToUnicode" => to_unicode,
    })
}

/// The page's picture as an image XObject: 8-bit grey or RGB pixels, Flate-compressed.
fn image_stream(image: &DynamicImage) -> Result<Stream, String> {
    let (color_space, pixels) = if image.color().has_color() {
        ("DeviceRGB", image.to_rgb8().into_raw())
    } else {
        ("DeviceGray", image.to_luma8().into_raw())
    };
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(&pixels)
        .and_then(|()| z.flush())
        .map_err(|e| format!("could not compress a page image: {e}"))?;
    let data = z
        .finish()
        .map_err(|e| format!("could not compress a page image: {e}"))?;
    Ok(Stream::new(
        dictionary! {
            "Type" => "XObject",
            "Subtype" => "Image",
            "Width" => image.width() as i64,
            "Height" => image.height() as i64,
            "ColorSpace" => color_space,
            "BitsPerComponent" => 8,
            "Filter" => "FlateDecode",
        },
        data,
    )
    .with_compression(false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{Block, Line, Source, Unit, Word};

    fn word(text: &str, bbox: [f32; 4]) -> Word {
        Word {
            text: text.to_owned(),
            bbox,
            confidence: Some(0.9),
        }
    }

    #[test]
    fn the_invisible_words_are_what_pdftotext_reads() {
        let image = DynamicImage::new_luma8(400, 200);
        let mut page = Page::empty(1, 400.0, 200.0, Unit::Px, 0);
        page.source = Source::Ocr;
        let line = |words: Vec<Word>| Line {
            bbox: [0.0; 4],
            words,
        };
        page.blocks = vec![Block {
            bbox: [0.0; 4],
            lines: vec![
                line(vec![
                    word("Invoice", [0.05, 0.1, 0.3, 0.2]),
                    word("Nº42", [0.35, 0.1, 0.5, 0.2]),
                ]),
                line(vec![
                    word("Total:", [0.05, 0.4, 0.2, 0.5]),
                    word("1,250.00", [0.22, 0.4, 0.4, 0.5]),
                    word("€", [0.42, 0.4, 0.45, 0.5]),
                ]),
            ],
        }];
        let second = Page::empty(2, 400.0, 200.0, Unit::Px, 0);
        let mut pdf = Builder::new();
        pdf.add_page(&image, &page, 288.0, 144.0).unwrap();
        pdf.add_page(&image, &second, 288.0, 144.0).unwrap();
        let pdf = pdf.finish().unwrap();
        let text = docintel_testkit::pdftotext(&pdf, &[]);
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(lines, vec!["Invoice Nº42", "Total: 1,250.00 €"], "{text:?}");
        // Two pages: pdftotext separates them with a form feed.
        assert_eq!(text.matches('\u{c}').count(), 2, "{text:?}");
    }
}
