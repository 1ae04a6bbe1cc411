//! A document's layout: its pages, and on each the blocks, lines and words of its text
//! with their positions, in reading order. Built by the parsers (a PDF's text layer, or
//! Tesseract for images and scans), stored per page, and rendered as Markdown.
//!
//! Boxes are `[x0, y0, x1, y1]` normalised to the page: 0 to 1, origin at the top-left
//! corner, x to the right, y down, whatever the page's unit. A page of a PDF is measured
//! in points (as its MediaBox says), an image in pixels.

pub mod markdown;

use serde::{Deserialize, Serialize};

/// A box on a page: `[x0, y0, x1, y1]`, normalised, top-left origin.
pub type BBox = [f32; 4];

/// Where a page's words came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The PDF's own text layer.
    TextLayer,
    /// Tesseract read the page's image.
    Ocr,
    /// No words: OCR is unavailable, or the page is past the OCR page limit.
    None,
}

/// The unit of a page's `width` and `height`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// PDF points (1/72 inch).
    Pt,
    /// Image pixels.
    Px,
}

/// One page and its text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    /// 1-based.
    pub number: u32,
    pub width: f32,
    pub height: f32,
    pub unit: Unit,
    /// Clockwise rotation the page is shown with (0, 90, 180 or 270); boxes are on the
    /// unrotated page.
    pub rotation: u16,
    pub source: Source,
    /// Mean of the words' OCR confidence (0 to 1); only for OCR'd pages with words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
    pub blocks: Vec<Block>,
}

/// A paragraph, heading, list item or table cell group: lines that belong together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Block {
    pub bbox: BBox,
    pub lines: Vec<Line>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub bbox: BBox,
    pub words: Vec<Word>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    pub text: String,
    pub bbox: BBox,
    /// Tesseract's confidence in the word (0 to 1); absent for words of a text layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
}

impl Page {
    /// A page with no words yet.
    pub fn empty(number: u32, width: f32, height: f32, unit: Unit, rotation: u16) -> Self {
        Self {
            number,
            width,
            height,
            unit,
            rotation,
            source: Source::None,
            confidence: None,
            blocks: Vec::new(),
        }
    }

    pub fn words(&self) -> impl Iterator<Item = &Word> {
        self.blocks
            .iter()
            .flat_map(|b| &b.lines)
            .flat_map(|l| &l.words)
    }

    /// The page's text: words joined by spaces, lines by newlines, blocks by a blank line.
    pub fn text(&self) -> String {
        let blocks: Vec<String> = self
            .blocks
            .iter()
            .map(|b| {
                b.lines
                    .iter()
                    .map(|l| {
                        l.words
                            .iter()
                            .map(|w| w.text.as_str())
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .collect();
        blocks.join("\n\n")
    }

    /// Sets the mean confidence from the words' (OCR pages).
    pub fn with_mean_confidence(mut self) -> Self {
        let (sum, n) = self
            .words()
            .filter_map(|w| w.confidence)
            .fold((0f64, 0u32), |(s, n), c| (s + f64::from(c), n + 1));
        self.confidence = (n > 0).then(|| round(sum / f64::from(n)));
        self
    }
}

/// Rounds a normalised coordinate or a confidence to 4 decimals: a ten-thousandth of a
/// page is finer than any glyph, and keeps the stored JSON short.
pub fn round(v: f64) -> f32 {
    ((v * 10_000.0).round() / 10_000.0) as f32
}

/// A rounded value (a confidence) as the `f64` the API and events carry: the same 4
/// decimals, not the binary noise of widening an `f32` (0.9567, not 0.95670002698898).
pub fn wide(v: f32) -> f64 {
    (f64::from(v) * 10_000.0).round() / 10_000.0
}

/// The smallest box holding both.
pub fn union(a: BBox, b: BBox) -> BBox {
    [
        a[0].min(b[0]),
        a[1].min(b[1]),
        a[2].max(b[2]),
        a[3].max(b[3]),
    ]
}

/// Intersection over union of two boxes (0 when either is empty).
pub fn iou(a: BBox, b: BBox) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    let area = |r: BBox| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - inter;
    if union <= 0.0 { 0.0 } else { inter / union }
}

/// The mean OCR confidence of a document and of each OCR'd page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcrConfidence {
    /// Mean over every OCR'd word of the document (0 to 1).
    pub mean: f32,
    /// Each OCR'd page's mean, by page number.
    pub pages: Vec<PageConfidence>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PageConfidence {
    pub page: u32,
    pub confidence: f32,
}

impl OcrConfidence {
    /// From the pages of a layout; `None` when no page has OCR'd words.
    pub fn of(pages: &[Page]) -> Option<Self> {
        let (sum, n) = pages
            .iter()
            .flat_map(|p| p.words())
            .filter_map(|w| w.confidence)
            .fold((0f64, 0u64), |(s, n), c| (s + f64::from(c), n + 1));
        if n == 0 {
            return None;
        }
        Some(Self {
            mean: round(sum / n as f64),
            pages: pages
                .iter()
                .filter_map(|p| {
                    p.confidence.map(|c| PageConfidence {
                        page: p.number,
                        confidence: c,
                    })
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_of_boxes() {
        let a = [0.0, 0.0, 0.5, 0.5];
        assert_eq!(iou(a, a), 1.0);
        assert_eq!(iou(a, [0.5, 0.5, 1.0, 1.0]), 0.0);
        let half = iou(a, [0.0, 0.0, 0.5, 0.25]);
        assert!((half - 0.5).abs() < 1e-6, "{half}");
        assert_eq!(iou([0.2, 0.2, 0.2, 0.2], [0.2, 0.2, 0.2, 0.2]), 0.0);
    }

    fn word(text: &str, confidence: Option<f32>) -> Word {
        Word {
            text: text.to_owned(),
            bbox: [0.0; 4],
            confidence,
        }
    }

    #[test]
    fn text_and_confidence_of_a_page() {
        let line = |words| Line {
            bbox: [0.0; 4],
            words,
        };
        let mut page = Page::empty(1, 100.0, 50.0, Unit::Px, 0);
        page.blocks = vec![
            Block {
                bbox: [0.0; 4],
                lines: vec![
                    line(vec![word("Total", Some(0.9)), word("due", Some(0.7))]),
                    line(vec![word("10", Some(0.5))]),
                ],
            },
            Block {
                bbox: [0.0; 4],
                lines: vec![line(vec![word("Thanks", Some(0.3))])],
            },
        ];
        assert_eq!(page.text(), "Total due\n10\n\nThanks");
        let page = page.with_mean_confidence();
        assert_eq!(page.confidence, Some(0.6));
        let text_layer = Page::empty(2, 1.0, 1.0, Unit::Pt, 0);
        let ocr = OcrConfidence::of(&[page, text_layer.clone()]).unwrap();
        assert_eq!(ocr.mean, 0.6);
        assert_eq!(
            ocr.pages,
            vec![PageConfidence {
                page: 1,
                confidence: 0.6
            }]
        );
        assert_eq!(OcrConfidence::of(&[text_layer]), None);
    }
}
