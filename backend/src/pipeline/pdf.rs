//! PDF text layer extraction in pure Rust (lopdf + pdf-extract).

pub struct PdfText {
    pub text: String,
    pub pages: u32,
}

/// Hard cap on pages: a PDF claiming more is treated as hostile rather than walked.
const MAX_PAGES: usize = 10_000;

pub fn extract(bytes: &[u8]) -> Result<PdfText, String> {
    let doc = lopdf::Document::load_mem(bytes).map_err(|e| format!("malformed PDF: {e}"))?;
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
    let mut text = String::new();
    pdf_extract::output_doc(&doc, &mut pdf_extract::PlainTextOutput::new(&mut text))
        .map_err(|e| format!("could not extract the PDF text layer: {e}"))?;
    Ok(PdfText {
        text: text.trim().to_owned(),
        pages: pages as u32,
    })
}
