//! Content-type detection from magic bytes. The file name and the client's Content-Type
//! are never trusted: a `.pdf` that is really a ZIP is refused.

use crate::model::ContentType;

/// How many leading bytes the detector needs to see.
pub const SNIFF_LEN: usize = 8192;

/// Classifies a document from its first bytes plus whether the whole body was valid
/// UTF-8 without NUL bytes (the one property magic bytes cannot tell).
pub fn sniff(head: &[u8], is_text: bool) -> Result<ContentType, String> {
    match infer::get(head) {
        Some(t) => match t.mime_type() {
            "application/pdf" => Ok(ContentType::Pdf),
            "image/png" => Ok(ContentType::Png),
            "image/jpeg" => Ok(ContentType::Jpeg),
            "image/tiff" => Ok(ContentType::Tiff),
            other => Err(other.to_owned()),
        },
        None if is_text => Ok(ContentType::Text),
        None => Err("application/octet-stream".to_owned()),
    }
}

/// Incremental "is this UTF-8 text?" check over a stream of chunks, so uploads are
/// validated while they stream instead of being buffered.
#[derive(Debug, Default)]
pub struct TextCheck {
    /// Bytes of a multi-byte sequence split across chunks.
    carry: Vec<u8>,
    broken: bool,
}

impl TextCheck {
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.broken {
            return;
        }
        if chunk.contains(&0) {
            self.broken = true;
            return;
        }
        let mut buf;
        let data = if self.carry.is_empty() {
            chunk
        } else {
            buf = std::mem::take(&mut self.carry);
            buf.extend_from_slice(chunk);
            &buf[..]
        };
        match std::str::from_utf8(data) {
            Ok(_) => {}
            // An incomplete sequence at the very end may be completed by the next chunk.
            Err(e) if e.error_len().is_none() => {
                self.carry = data[e.valid_up_to()..].to_vec();
            }
            Err(_) => self.broken = true,
        }
    }

    /// True when everything fed so far is complete, valid UTF-8 without NUL bytes.
    pub fn finish(&self) -> bool {
        !self.broken && self.carry.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_magic_not_name() {
        assert_eq!(sniff(b"%PDF-1.4\n...", false), Ok(ContentType::Pdf));
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", false),
            Ok(ContentType::Png)
        );
        assert_eq!(
            sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF", false),
            Ok(ContentType::Jpeg)
        );
        assert_eq!(
            sniff(b"II*\0\x08\0\0\0\x0e\0\0\x01", false),
            Ok(ContentType::Tiff)
        );
        assert_eq!(
            sniff(b"MM\0*\0\0\0\x08\0\x0e\x01\0", false),
            Ok(ContentType::Tiff)
        );
        assert_eq!(sniff(b"hello", true), Ok(ContentType::Text));
        assert_eq!(
            sniff(b"PK\x03\x04\x14\0\0\0", false),
            Err("application/zip".into())
        );
        assert_eq!(
            sniff(b"\x01\x02", false),
            Err("application/octet-stream".into())
        );
    }

    #[test]
    fn text_check_handles_split_sequences() {
        let s = "héllo wörld €".as_bytes();
        for cut in 0..s.len() {
            let mut c = TextCheck::default();
            c.feed(&s[..cut]);
            c.feed(&s[cut..]);
            assert!(c.finish(), "cut at {cut}");
        }
    }

    #[test]
    fn text_check_rejects_binary() {
        let mut c = TextCheck::default();
        c.feed(b"abc\0def");
        assert!(!c.finish());
        let mut c = TextCheck::default();
        c.feed(b"abc\xff");
        assert!(!c.finish());
        // A truncated multi-byte sequence at the end is not text either.
        let mut c = TextCheck::default();
        c.feed(&"€".as_bytes()[..2]);
        assert!(!c.finish());
    }
}
