//! PDF text layer extraction in pure Rust (lopdf + pdf-extract), under a budget of
//! inflated bytes.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use lopdf::{Object, ObjectId, Stream};

use super::layout::TextLayer;
use crate::layout::Page;

pub struct PdfText {
    pub text: String,
    pub pages: u32,
    /// Every page with its words, as long as `layout_budget` lasts.
    pub layout: Vec<Page>,
}

/// Hard cap on pages: a PDF claiming more is treated as hostile rather than walked.
const MAX_PAGES: usize = 10_000;

pub fn extract(bytes: &[u8], max_inflated: u64, layout_budget: u64) -> Result<PdfText, String> {
    let doc = load_within(bytes, max_inflated)?;
    if doc.is_encrypted() {
        return Err("encrypted PDFs are not supported".to_owned());
    }
    let pages = doc.get_pages().len();
    if pages == 0 {
        return Err("malformed PDF: it has no pages".to_owned());
    }
    if pages > MAX_PAGES {
        return Err(format!("PDF has {pages} pages; the limit is {MAX_PAGES}"));
    }
    let rotations = rotations(&doc);
    let mut text = String::new();
    let mut plain = pdf_extract::PlainTextOutput::new(&mut text);
    let mut layout = TextLayer::new(&mut plain, &rotations, layout_budget);
    pdf_extract::output_doc(&doc, &mut layout)
        .map_err(|e| format!("could not extract the PDF text layer: {e}"))?;
    let layout = layout.into_pages();
    Ok(PdfText {
        text: text.trim().to_owned(),
        pages: pages as u32,
        layout,
    })
}

/// Each page's size in points as it is shown (its MediaBox, turned by its `/Rotate`).
pub fn page_sizes(bytes: &[u8], max_inflated: u64) -> Result<Vec<(f32, f32)>, String> {
    let doc = load_within(bytes, max_inflated)?;
    let rotations = rotations(&doc);
    Ok(doc
        .get_pages()
        .values()
        .zip(rotations)
        .map(|(id, rotation)| {
            let (w, h) = media_box(&doc, *id).unwrap_or((612.0, 792.0));
            if rotation % 180 == 90 { (h, w) } else { (w, h) }
        })
        .collect())
}

/// A page's inherited value of `key`, walking up the page tree (bounded: a loop in the
/// tree must not hang the parser).
fn inherited<'a>(doc: &'a lopdf::Document, page: ObjectId, key: &[u8]) -> Option<&'a Object> {
    let mut node = doc.get_dictionary(page).ok();
    for _ in 0..32 {
        let dict = node?;
        if let Ok(v) = dict.get(key) {
            return doc.dereference(v).ok().map(|(_, o)| o);
        }
        node = dict
            .get(b"Parent")
            .and_then(Object::as_reference)
            .and_then(|p| doc.get_dictionary(p))
            .ok();
    }
    None
}

fn media_box(doc: &lopdf::Document, page: ObjectId) -> Option<(f32, f32)> {
    let b = inherited(doc, page, b"MediaBox")?.as_array().ok()?;
    let n: Vec<f32> = b.iter().filter_map(|o| o.as_float().ok()).collect();
    let [x0, y0, x1, y1] = n[..] else { return None };
    Some(((x1 - x0).abs(), (y1 - y0).abs()))
}

/// Each page's `/Rotate` (inherited from the page tree), normalised to 0, 90, 180 or 270.
fn rotations(doc: &lopdf::Document) -> Vec<u16> {
    doc.get_pages()
        .values()
        .map(|id| {
            inherited(doc, *id, b"Rotate")
                .and_then(|r| r.as_i64().ok())
                .map_or(0, |r| (r.rem_euclid(360) / 90 * 90) as u16)
        })
        .collect()
}

// lopdf takes a plain `fn` as its object filter (no closure state) and calls it from
// rayon's threads, so the budget of the load in progress lives here. Loads take turns
// through LOAD; in the parser process there is only ever one.
static LOAD: Mutex<()> = Mutex::new(());
static LEFT: AtomicU64 = AtomicU64::new(0);
static OVER: AtomicBool = AtomicBool::new(false);

/// Loads a PDF, refusing it when its compressed streams inflate to more than `budget`
/// bytes in total. The check runs as lopdf reads each object, before it inflates object
/// streams itself, and measures without keeping what it inflates.
fn load_within(bytes: &[u8], budget: u64) -> Result<lopdf::Document, String> {
    let _turn = LOAD.lock().unwrap_or_else(|p| p.into_inner());
    LEFT.store(budget, Ordering::SeqCst);
    OVER.store(false, Ordering::SeqCst);
    let loaded = lopdf::Reader {
        buffer: bytes,
        document: lopdf::Document::new(),
        encryption_state: None,
        raw_objects: BTreeMap::new(),
    }
    .read(Some(within_budget));
    if OVER.load(Ordering::SeqCst) {
        return Err(format!(
            "the document could not be parsed: its compressed streams inflate to more than \
             the {} MiB limit",
            budget / (1024 * 1024)
        ));
    }
    loaded.map_err(|e| format!("malformed PDF: {e}"))
}

fn within_budget(id: ObjectId, object: &mut Object) -> Option<(ObjectId, Object)> {
    if let Object::Stream(stream) = object {
        let left = LEFT.load(Ordering::SeqCst);
        let fits = inflated_len(stream, left).and_then(|n| {
            LEFT.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |l| l.checked_sub(n))
                .ok()
        });
        if fits.is_none() {
            OVER.store(true, Ordering::SeqCst);
            return None;
        }
        // For a top-level object lopdf keeps `object` and ignores what is returned; only
        // members of object streams (never streams themselves) use the returned copy.
        return Some((id, Object::Null));
    }
    Some((id, object.clone()))
}

/// How many bytes `stream` inflates to through the filters lopdf decodes (Flate, LZW;
/// ASCII85 only shrinks), or `None` past `cap`. Nothing past `cap` is kept in memory.
pub(crate) fn inflated_len(stream: &Stream, cap: u64) -> Option<u64> {
    let filters = stream.filters().unwrap_or_default();
    let mut data = std::borrow::Cow::Borrowed(stream.content.as_slice());
    for (i, filter) in filters.iter().enumerate() {
        let last = i + 1 == filters.len();
        match *filter {
            b"FlateDecode" if last => return count(flate2::read::ZlibDecoder::new(&*data), cap),
            b"FlateDecode" => {
                data = read_capped(flate2::read::ZlibDecoder::new(&*data), cap)?.into();
            }
            b"LZWDecode" => {
                let mut out = CappedVec {
                    buf: Vec::new(),
                    cap,
                    exceeded: false,
                };
                // lopdf's own LZW settings: MSB order, 8-bit codes, early change. A
                // corrupt stream keeps what came out of it, as lopdf does.
                let mut decoder =
                    weezl::decode::Decoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8);
                let _ = decoder.into_stream(&mut out).decode_all(&*data);
                if out.exceeded {
                    return None;
                }
                data = out.buf.into();
            }
            // Not decoded by lopdf (ASCII85 shrinks; images stay compressed).
            _ => break,
        }
    }
    let n = data.len() as u64;
    (n <= cap).then_some(n)
}

/// Counts what `r` yields, up to `cap`; a corrupt stream counts what came out of it.
fn count(r: impl Read, cap: u64) -> Option<u64> {
    let mut limited = r.take(cap + 1);
    let mut buf = [0u8; 16 * 1024];
    let mut n = 0u64;
    loop {
        match limited.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k as u64,
        }
    }
    (n <= cap).then_some(n)
}

fn read_capped(r: impl Read, cap: u64) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let _ = r.take(cap + 1).read_to_end(&mut out);
    (out.len() as u64 <= cap).then_some(out)
}

/// A writer that refuses to grow past `cap` bytes.
struct CappedVec {
    buf: Vec<u8>,
    cap: u64,
    exceeded: bool,
}

impl std::io::Write for CappedVec {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() as u64 + b.len() as u64 > self.cap {
            self.exceeded = true;
            return Err(std::io::Error::other("inflated-bytes budget exceeded"));
        }
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn stream(filters: &[&str], content: Vec<u8>) -> Stream {
        let mut dict = lopdf::Dictionary::new();
        let names = filters
            .iter()
            .map(|f| Object::Name(f.as_bytes().to_vec()))
            .collect();
        dict.set("Filter", Object::Array(names));
        Stream::new(dict, content)
    }

    #[test]
    fn inflated_sizes_are_measured_through_chained_filters() {
        let once = stream(&["FlateDecode"], zlib(&[b'a'; 100_000]));
        assert_eq!(inflated_len(&once, 1 << 20), Some(100_000));
        assert_eq!(inflated_len(&once, 99_999), None);
        let twice = stream(
            &["FlateDecode", "FlateDecode"],
            zlib(&zlib(&[0u8; 3_000_000])),
        );
        assert_eq!(inflated_len(&twice, 1 << 22), Some(3_000_000));
        assert_eq!(inflated_len(&twice, 1 << 20), None);
        let plain = Stream::new(lopdf::Dictionary::new(), vec![1, 2, 3]);
        assert_eq!(inflated_len(&plain, 10), Some(3));
    }

    /// A one-page PDF whose content stream is `content` with `filter`.
    pub(crate) fn pdf_with_stream(content: Vec<u8>, filter: &str) -> Vec<u8> {
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        let mut obj = |out: &mut Vec<u8>, body: &[u8]| {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        };
        obj(&mut out, b"<< /Type /Catalog /Pages 2 0 R >>");
        obj(&mut out, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
        obj(
            &mut out,
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        );
        let mut body = format!(
            "<< /Length {} /Filter /{filter} >>\nstream\n",
            content.len()
        )
        .into_bytes();
        body.extend_from_slice(&content);
        body.extend_from_slice(b"\nendstream");
        obj(&mut out, &body);
        let xref = out.len();
        out.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes(),
        );
        for o in &offsets {
            out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                offsets.len() + 1
            )
            .as_bytes(),
        );
        out
    }

    #[test]
    fn a_flate_bomb_is_refused_before_it_is_inflated() {
        // 64 MiB of zeros in ~64 KiB: over a 16 MiB budget, under a 128 MiB one.
        let bomb = pdf_with_stream(zlib(&vec![0u8; 64 << 20]), "FlateDecode");
        assert!(bomb.len() < 100_000, "{}", bomb.len());
        let e = extract(&bomb, 16 << 20, 1 << 20).err().expect("refused");
        assert!(e.contains("inflate to more than the 16 MiB limit"), "{e}");
        // The same document within a larger budget is parsed (no text, but no error from
        // the budget).
        match extract(&bomb, 128 << 20, 1 << 20) {
            Ok(_) => {}
            Err(e) => assert!(!e.contains("inflate"), "{e}"),
        }
    }
}
