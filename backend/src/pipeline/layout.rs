//! Building a document's layout: words with their boxes from a PDF's text layer (as
//! pdf-extract walks it) and from Tesseract's TSV output, grouped into lines and blocks.

use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};

use crate::layout::{BBox, Block, Line, Page, Source, Unit, Word, round, union};

/// Vertical extent of a glyph of the text layer, in ems above and below its baseline.
/// The text-layer parser does not expose each font's ascent and descent; these are close
/// to the standard fonts' (Helvetica 0.718/0.207, Times 0.683/0.217, Courier 0.629/0.157).
const ASCENT: f64 = 0.7;
const DESCENT: f64 = 0.2;

/// Glyphs of one page as they are shown, in points from the page's top-left corner.
#[derive(Debug, Default)]
struct PageGlyphs {
    words: Vec<RawWord>,
    word: Option<RawWord>,
}

#[derive(Debug, Clone)]
struct RawWord {
    text: String,
    x0: f64,
    x1: f64,
    /// Baseline, from the top.
    base: f64,
    /// Em size.
    size: f64,
}

/// An [`OutputDev`] that collects every page's words with their boxes, while the plain
/// text output it wraps writes the text as before (one walk of the content streams for
/// both).
pub struct TextLayer<'a, O: OutputDev> {
    text: &'a mut O,
    pages: Vec<Page>,
    current: Option<(Page, MediaBox, PageGlyphs)>,
    rotations: &'a [u16],
    /// Bytes of layout left: past it, pages keep their size but no words.
    budget: u64,
}

impl<'a, O: OutputDev> TextLayer<'a, O> {
    pub fn new(text: &'a mut O, rotations: &'a [u16], budget: u64) -> Self {
        Self {
            text,
            pages: Vec::new(),
            current: None,
            rotations,
            budget,
        }
    }

    pub fn into_pages(self) -> Vec<Page> {
        self.pages
    }
}

impl PageGlyphs {
    fn end_word(&mut self) {
        if let Some(w) = self.word.take() {
            self.words.push(w);
        }
    }

    fn glyph(&mut self, ch: &str, x: f64, base: f64, advance: f64, size: f64) {
        if ch.chars().all(char::is_whitespace) {
            self.end_word();
            return;
        }
        if let Some(w) = &self.word {
            let same_line = (base - w.base).abs() <= 0.5 * w.size.max(size);
            let adjoining = x >= w.x1 - 0.5 * w.size && x <= w.x1 + 0.15 * w.size.max(size);
            if !same_line || !adjoining {
                self.end_word();
            }
        }
        match &mut self.word {
            Some(w) => {
                w.text.push_str(ch);
                w.x1 = w.x1.max(x + advance);
                w.size = w.size.max(size);
            }
            None => {
                self.word = Some(RawWord {
                    text: ch.to_owned(),
                    x0: x,
                    x1: x + advance,
                    base,
                    size,
                })
            }
        }
    }
}

impl<O: OutputDev> OutputDev for TextLayer<'_, O> {
    fn begin_page(
        &mut self,
        page_num: u32,
        media_box: &MediaBox,
        art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.text.begin_page(page_num, media_box, art_box)?;
        let (w, h) = (
            (media_box.urx - media_box.llx).abs(),
            (media_box.ury - media_box.lly).abs(),
        );
        let rotation = self
            .rotations
            .get(page_num.saturating_sub(1) as usize)
            .copied()
            .unwrap_or(0);
        let page = Page::empty(page_num, w as f32, h as f32, Unit::Pt, rotation);
        self.current = Some((page, *media_box, PageGlyphs::default()));
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        self.text.end_page()?;
        if let Some((mut page, media, mut glyphs)) = self.current.take() {
            glyphs.end_word();
            let cost: u64 = glyphs.words.iter().map(|w| w.text.len() as u64 + 48).sum();
            if cost > self.budget {
                self.budget = 0;
            } else if !glyphs.words.is_empty() {
                self.budget -= cost;
                page.blocks = group(&glyphs.words, &media);
                page.source = Source::TextLayer;
            }
            self.pages.push(page);
        }
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        spacing: f64,
        font_size: f64,
        ch: &str,
    ) -> Result<(), OutputError> {
        self.text
            .output_character(trm, width, spacing, font_size, ch)?;
        if let Some((_, media, glyphs)) = &mut self.current {
            // trm = Tsm × Tm × CTM without the font size: its rows scale the glyph's
            // advance (x) and height (y) into user space.
            let sx = (trm.m11 * trm.m11 + trm.m12 * trm.m12).sqrt();
            let sy = (trm.m21 * trm.m21 + trm.m22 * trm.m22).sqrt();
            let size = font_size * sy;
            let advance = width * font_size * sx;
            let (x, y) = (trm.m31 - media.llx, media.ury - trm.m32);
            if size.is_finite() && advance.is_finite() && x.is_finite() && y.is_finite() {
                glyphs.glyph(ch, x, y, advance.max(0.0), size.abs());
            }
        }
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        self.text.begin_word()
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        self.text.end_word()
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        self.text.end_line()
    }
}

/// Words (in the order shown) into lines and blocks, boxes normalised to the page.
fn group(words: &[RawWord], media: &MediaBox) -> Vec<Block> {
    let (w, h) = (
        (media.urx - media.llx).abs().max(1e-6),
        (media.ury - media.lly).abs().max(1e-6),
    );
    let norm = |r: &RawWord| -> BBox {
        [
            round(r.x0 / w),
            round((r.base - ASCENT * r.size) / h),
            round(r.x1 / w),
            round((r.base + DESCENT * r.size) / h),
        ]
    };
    let mut lines: Vec<(Vec<&RawWord>, f64, f64)> = Vec::new(); // words, baseline, size
    for word in words {
        match lines.last_mut() {
            Some((ws, base, size))
                if (word.base - *base).abs() <= 0.5 * size.max(word.size)
                    && ws.last().is_some_and(|p| word.x0 >= p.x1 - 0.5 * p.size) =>
            {
                ws.push(word);
                *size = size.max(word.size);
            }
            _ => lines.push((vec![word], word.base, word.size)),
        }
    }
    let mut blocks: Vec<(Vec<Line>, f64, f64)> = Vec::new(); // lines, last baseline, size
    for (ws, base, size) in lines {
        let words: Vec<Word> = ws
            .iter()
            .map(|r| Word {
                text: r.text.clone(),
                bbox: norm(r),
                confidence: None,
            })
            .collect();
        let Some(bbox) = words.iter().map(|w| w.bbox).reduce(union) else {
            continue;
        };
        let line = Line { bbox, words };
        let starts_item = line.words.first().is_some_and(|w| is_list_marker(&w.text));
        match blocks.last_mut() {
            Some((ls, last, last_size))
                if !starts_item
                    && base > *last
                    && base - *last <= 1.6 * last_size.max(size)
                    && (size - *last_size).abs() <= 0.2 * last_size.max(size) =>
            {
                ls.push(line);
                *last = base;
            }
            _ => blocks.push((vec![line], base, size)),
        }
    }
    blocks
        .into_iter()
        .filter_map(|(lines, _, _)| {
            let bbox = lines.iter().map(|l| l.bbox).reduce(union)?;
            Some(Block { bbox, lines })
        })
        .collect()
}

/// A word that starts a list item: a bullet, or a number or letter followed by `.` or `)`.
pub fn is_list_marker(word: &str) -> bool {
    if matches!(word, "•" | "-" | "*" | "–" | "◦" | "▪" | "·") {
        return true;
    }
    let Some(stem) = word.strip_suffix('.').or_else(|| word.strip_suffix(')')) else {
        return false;
    };
    (!stem.is_empty() && stem.len() <= 3 && stem.chars().all(|c| c.is_ascii_digit()))
        || (stem.len() == 1 && stem.chars().all(|c| c.is_ascii_lowercase()))
}

/// The words of one image read by Tesseract (`tesseract … tsv`), as a page of `width` ×
/// `height` pixels: Tesseract's paragraphs are the blocks, its lines the lines; each word
/// keeps its confidence (0–100 in the TSV, 0–1 here). Rows that do not parse are skipped.
pub fn page_from_tsv(tsv: &str, number: u32) -> Page {
    let mut dims = None;
    // Paragraphs (block, paragraph) of lines (block, paragraph, line) of words, in the
    // order Tesseract reads them.
    type Lines = Vec<((u32, u32, u32), Vec<Word>)>;
    let mut blocks: Vec<((u32, u32), Lines)> = Vec::new();
    let mut words = Vec::new();
    for row in tsv.lines() {
        let f: Vec<&str> = row.splitn(12, '\t').collect();
        if f.len() < 11 {
            continue;
        }
        let num = |i: usize| f[i].trim().parse::<u32>().ok();
        let (Some(level), Some(left), Some(top), Some(w), Some(h)) =
            (num(0), num(6), num(7), num(8), num(9))
        else {
            continue;
        };
        if level == 1 {
            dims = Some((w.max(1), h.max(1)));
            continue;
        }
        let text = f.get(11).map(|t| t.trim()).unwrap_or_default();
        if level != 5 || text.is_empty() {
            continue;
        }
        let conf = f[10].trim().parse::<f64>().ok().filter(|c| *c >= 0.0);
        let key = (
            num(2).unwrap_or(0),
            num(3).unwrap_or(0),
            num(4).unwrap_or(0),
        );
        words.push((key, text.to_owned(), [left, top, left + w, top + h], conf));
    }
    let (pw, ph) = dims.unwrap_or((1, 1));
    let (fw, fh) = (f64::from(pw), f64::from(ph));
    for (key, text, [x0, y0, x1, y1], conf) in words {
        let word = Word {
            text,
            bbox: [
                round(f64::from(x0) / fw),
                round(f64::from(y0) / fh),
                round(f64::from(x1) / fw),
                round(f64::from(y1) / fh),
            ],
            confidence: conf.map(|c| round((c / 100.0).min(1.0))),
        };
        let para = (key.0, key.1);
        if blocks.last().is_none_or(|(k, _)| *k != para) {
            blocks.push((para, Vec::new()));
        }
        let Some((_, lines)) = blocks.last_mut() else {
            continue;
        };
        match lines.last_mut() {
            Some((k, ws)) if *k == key => ws.push(word),
            _ => lines.push((key, vec![word])),
        }
    }
    let mut page = Page::empty(number, pw as f32, ph as f32, Unit::Px, 0);
    page.source = Source::Ocr;
    page.blocks = blocks
        .into_iter()
        .filter_map(|(_, lines)| {
            let lines: Vec<Line> = lines
                .into_iter()
                .filter_map(|(_, words)| {
                    let bbox = words.iter().map(|w| w.bbox).reduce(union)?;
                    Some(Line { bbox, words })
                })
                .collect();
            let bbox = lines.iter().map(|l| l.bbox).reduce(union)?;
            Some(Block { bbox, lines })
        })
        .collect();
    page.with_mean_confidence()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TSV: &str = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext
1\t1\t0\t0\t0\t0\t0\t0\t600\t200\t-1\t
2\t1\t1\t0\t0\t0\t10\t10\t300\t60\t-1\t
3\t1\t1\t1\t0\t0\t10\t10\t300\t60\t-1\t
4\t1\t1\t1\t1\t0\t10\t10\t300\t20\t-1\t
5\t1\t1\t1\t1\t1\t10\t10\t100\t20\t96.5\tInvoice
5\t1\t1\t1\t1\t2\t120\t10\t60\t20\t91\t42
4\t1\t1\t1\t2\t0\t10\t40\t200\t20\t-1\t
5\t1\t1\t1\t2\t1\t10\t40\t200\t20\t40\tTotal:
5\t1\t1\t1\t2\t2\t10\t40\t200\t20\t95\t \t
3\t1\t1\t2\t0\t0\t10\t100\t300\t20\t-1\t
5\t1\t1\t2\t1\t1\t10\t100\t300\t20\t88\tThanks
garbage row
x\t1\t1\t2\t1\t1\t10\t100\t300\t20\t88\tbad
";

    #[test]
    fn tesseract_tsv_becomes_blocks_lines_and_words() {
        let page = page_from_tsv(TSV, 3);
        assert_eq!((page.number, page.width, page.height), (3, 600.0, 200.0));
        assert_eq!((page.unit, page.source), (Unit::Px, Source::Ocr));
        assert_eq!(page.text(), "Invoice 42\nTotal:\n\nThanks");
        let first = &page.blocks[0].lines[0].words[0];
        assert_eq!(first.bbox, [0.0167, 0.05, 0.1833, 0.15]);
        assert_eq!(first.confidence, Some(0.965));
        assert_eq!(page.blocks[0].bbox, [0.0167, 0.05, 0.35, 0.3]);
        // (96.5 + 91 + 40 + 88) / 4
        assert_eq!(page.confidence, Some(0.7888));
    }

    #[test]
    fn a_layout_stops_at_its_budget_and_later_pages_keep_only_their_size() {
        let pdf = include_bytes!("../../benches/layout/corpus/three-pages.pdf");
        let whole = crate::pipeline::pdf::extract(pdf, 1 << 30, 1 << 30).unwrap();
        let cost = |p: &Page| -> u64 { p.words().map(|w| w.text.len() as u64 + 48).sum() };
        let first = cost(&whole.layout[0]);
        assert!(whole.layout.iter().all(|p| p.source == Source::TextLayer));
        // A budget that holds the first page only.
        let cut = crate::pipeline::pdf::extract(pdf, 1 << 30, first + 10).unwrap();
        assert_eq!(cut.layout.len(), 3);
        assert_eq!(cut.layout[0], whole.layout[0]);
        for page in &cut.layout[1..] {
            assert_eq!(page.source, Source::None);
            assert!(page.blocks.is_empty());
            assert_eq!(
                (page.width, page.height),
                (whole.layout[1].width, whole.layout[1].height)
            );
        }
        // The text is whole all the same: the budget bounds the layout only.
        assert_eq!(cut.text, whole.text);
    }

    #[test]
    fn list_markers() {
        for m in ["•", "-", "1.", "12)", "a)", "b."] {
            assert!(is_list_marker(m), "{m}");
        }
        for m in ["Total", "1.5", "2026.", "A.", "."] {
            assert!(!is_list_marker(m), "{m}");
        }
    }
}
