//! The processing pipeline: bytes of a stored document in, extracted text and metadata
//! out. Pure functions; the job runner decides where bytes come from and results go.

mod pdf;
pub mod sniff;

use crate::model::{ContentType, Extracted};

/// The result of processing one document.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Processed {
        text: String,
        extracted: Extracted,
        warnings: Vec<String>,
    },
    /// The document could not be processed; the reason is shown to its owner.
    Failed { reason: String },
}

/// Runs every stage for one document. CPU-bound: call it from a blocking thread.
pub fn process(content_type: ContentType, bytes: &[u8]) -> Outcome {
    let (text, page_count, warnings) = match content_type {
        ContentType::Pdf => match pdf::extract(bytes) {
            Ok(p) => (p.text, Some(p.pages), Vec::new()),
            Err(reason) => return Outcome::Failed { reason },
        },
        ContentType::Text => match std::str::from_utf8(bytes) {
            Ok(s) => (s.to_owned(), None, Vec::new()),
            Err(e) => {
                return Outcome::Failed {
                    reason: format!("text is not valid UTF-8: {e}"),
                };
            }
        },
        // OCR arrives with the processing-depth work; until then say so visibly.
        ContentType::Png | ContentType::Jpeg => {
            (String::new(), None, vec!["ocr_unavailable".to_owned()])
        }
    };
    let extracted = Extracted {
        page_count,
        word_count: text.split_whitespace().count() as u64,
        char_count: text.chars().count() as u64,
    };
    Outcome::Processed {
        text,
        extracted,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_documents_count_words() {
        let Outcome::Processed {
            text, extracted, ..
        } = process(ContentType::Text, "Invoice  no. 42\nTotal: 10 €".as_bytes())
        else {
            panic!("expected processed");
        };
        assert_eq!(text, "Invoice  no. 42\nTotal: 10 €");
        assert_eq!(extracted.word_count, 6);
        assert_eq!(extracted.char_count, 27);
        assert_eq!(extracted.page_count, None);
    }

    #[test]
    fn images_warn_instead_of_silently_returning_nothing() {
        let Outcome::Processed { warnings, .. } = process(ContentType::Png, b"\x89PNG") else {
            panic!("expected processed");
        };
        assert_eq!(warnings, vec!["ocr_unavailable".to_owned()]);
    }
}
