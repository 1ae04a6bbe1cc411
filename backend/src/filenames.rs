//! The rules a document's file name must follow.

use crate::IngestError;

/// A file name is kept for display and download only, never used as a path; still,
/// anything that could be one, or that is not printable, is refused.
pub fn validate_filename(name: &str) -> Result<(), IngestError> {
    if name.trim().is_empty() {
        return Err(IngestError::BadFilename("it is empty"));
    }
    if name.chars().count() > 255 {
        return Err(IngestError::BadFilename("it is longer than 255 characters"));
    }
    if name.contains(['/', '\\']) {
        return Err(IngestError::BadFilename("it contains a path separator"));
    }
    if name == "." || name == ".." {
        return Err(IngestError::BadFilename("it is a relative path"));
    }
    if name.chars().any(char::is_control) {
        return Err(IngestError::BadFilename("it contains control characters"));
    }
    if name.chars().any(is_bidi_control) {
        // `invoice\u{202E}fdp.exe` displays as `invoiceexe.pdf`.
        return Err(IngestError::BadFilename(
            "it contains bidirectional text controls, which can disguise a name",
        ));
    }
    if name.contains('\u{FFFD}') {
        return Err(IngestError::BadFilename(
            "it is not valid UTF-8 (or contains U+FFFD, the mark of a lost character)",
        ));
    }
    if name.chars().all(|c| c.is_whitespace() || is_invisible(c)) {
        return Err(IngestError::BadFilename("it has no visible character"));
    }
    Ok(())
}

/// Characters that reorder how the text around them is displayed.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that take no space: zero-width space and joiners, word joiner, byte-order
/// mark, soft hyphen. Legitimate inside a name (joiners shape Indic and Persian text,
/// emoji), never a name on their own.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames() {
        assert!(validate_filename("invoice 2026-01.pdf").is_ok());
        assert!(validate_filename("résumé.txt").is_ok());
        for bad in [
            "",
            "  ",
            "../etc/passwd",
            "a/b",
            "a\\b",
            "..",
            "a\nb",
            "a\0b",
        ] {
            assert!(validate_filename(bad).is_err(), "{bad:?}");
        }
        assert!(validate_filename(&"x".repeat(256)).is_err());
        // Names that disguise themselves or show nothing.
        for bad in [
            "invoice\u{202E}fdp.exe",
            "a\u{2067}b.pdf",
            "\u{200B}\u{200C}\u{200D}",
            "\u{FEFF}",
            " \u{2060} ",
            "bad\u{FFFD}name.pdf",
        ] {
            assert!(validate_filename(bad).is_err(), "{bad:?}");
        }
        // Joiners inside a real name stay allowed (Persian, emoji sequences).
        assert!(validate_filename("می\u{200C}خواهم.txt").is_ok());
        assert!(validate_filename("👩\u{200D}💻 notes.txt").is_ok());
        // The limit is in characters (as the OpenAPI maxLength says), not bytes.
        assert!(validate_filename(&"é".repeat(255)).is_ok());
        assert!(validate_filename(&"é".repeat(256)).is_err());
    }
}
