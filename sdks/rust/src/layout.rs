//! Layouts on the [`Client`] (where each word is on its page), a document's searchable
//! PDF and its text as Markdown; and the helpers to find a word and turn its box into
//! pixels of a page image or thumbnail.

use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};

use crate::Client;
use crate::client::{body_bytes, pages};
use crate::error::{Error, Result, answer};
use crate::types::{
    BoundingBox, DocumentLayout, GetDocumentLayoutPages, GetDocumentTextFormat, PageView, WordView,
};

impl Client {
    /// A processed document's layout: its pages, each with its blocks, lines and words
    /// in reading order, every one with its [`BoundingBox`]. `pages` is one page (`"3"`)
    /// or a range (`"1-20"`, at most 100 pages); `None` asks for the first 20. The
    /// answer's `next_pages` is the range after it (`None` after the last page);
    /// [`Client::layout_pages`] follows it for you. A `pages` that is not a page or a
    /// range fails with [`Error::Invalid`] `invalid_parameter` before sending; a text
    /// document, which has no layout, with a 404 `not_found`.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
    /// let id: docintel_sdk::uuid::Uuid = "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11".parse().unwrap();
    /// let layout = client.layout(id, Some("1-5")).await?;
    /// for page in &layout.pages {
    ///     println!("page {} ({}): {} words", page.number, page.source, page.words().count());
    /// }
    /// println!("next: {:?}", layout.next_pages);
    /// # Ok(()) }
    /// ```
    pub async fn layout(&self, id: uuid::Uuid, pages: Option<&str>) -> Result<DocumentLayout> {
        let mut req = self.raw().get_document_layout().id(id);
        if let Some(pages) = pages {
            let range = GetDocumentLayoutPages::try_from(pages).map_err(|e| Error::Invalid {
                code: "invalid_parameter".into(),
                detail: format!(
                    "pages {pages:?}: {e} (expected a page like 3 or a range like 1-20)"
                ),
            })?;
            req = req.pages(range);
        }
        answer(req.send()).await
    }

    /// Every page of a document's layout, in order, fetched a range at a time (following
    /// `next_pages`) as the stream is read. The stream is `Unpin`: loop over it with
    /// `try_next`, or collect it.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
    /// use docintel_sdk::TryStreamExt;
    /// let id: docintel_sdk::uuid::Uuid = "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11".parse().unwrap();
    /// let mut pages = client.layout_pages(id);
    /// while let Some(page) = pages.try_next().await? {
    ///     for found in page.find_words("Total") {
    ///         println!("page {}: {:?}", page.number, found.bbox);
    ///     }
    /// }
    /// // Or all at once.
    /// let all: Vec<_> = client.layout_pages(id).try_collect().await?;
    /// println!("{} pages", all.len());
    /// # Ok(()) }
    /// ```
    pub fn layout_pages(&self, id: uuid::Uuid) -> BoxStream<'_, Result<PageView>> {
        layout_page_stream(move |range| async move { self.layout(id, range.as_deref()).await })
    }

    /// The searchable PDF of an image, TIFF or scanned PDF that OCR read: its pages as
    /// pictures with the words laid over them as invisible text. A document without one
    /// (text, a PDF with a text layer, or no OCR on the server) answers 404 `not_found`;
    /// its `metadata.searchable_pdf` says beforehand whether it has one.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
    /// let id: docintel_sdk::uuid::Uuid = "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11".parse().unwrap();
    /// if client.document(id).await?.metadata.searchable_pdf == Some(true) {
    ///     let pdf: docintel_sdk::bytes::Bytes = client.searchable_pdf(id).await?;
    ///     std::fs::write("searchable.pdf", &pdf).unwrap();
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn searchable_pdf(&self, id: uuid::Uuid) -> Result<bytes::Bytes> {
        body_bytes(answer(self.raw().get_searchable_pdf().id(id).send()).await?).await
    }

    /// A processed document's text as Markdown (`format=markdown`): headings, list items
    /// and paragraphs recovered from its layout.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
    /// let id: docintel_sdk::uuid::Uuid = "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11".parse().unwrap();
    /// std::fs::write("invoice.md", client.markdown(id).await?).unwrap();
    /// # Ok(()) }
    /// ```
    pub async fn markdown(&self, id: uuid::Uuid) -> Result<String> {
        let call = self
            .raw()
            .get_document_text()
            .id(id)
            .format(GetDocumentTextFormat::Markdown)
            .send();
        String::from_utf8(body_bytes(answer(call).await?).await?.to_vec())
            .map_err(|e| Error::UnexpectedResponse(e.to_string()))
    }
}

/// The pages of the layouts `fetch` gets, following `next_pages` (`fetch` gets the range
/// to fetch, `None` for the first).
fn layout_page_stream<'a, F, Fut>(fetch: F) -> BoxStream<'a, Result<PageView>>
where
    F: Fn(Option<String>) -> Fut + Send + 'a,
    Fut: std::future::Future<Output = Result<DocumentLayout>> + Send + 'a,
{
    pages(fetch, |layout: &DocumentLayout| layout.next_pages.clone())
        .map_ok(|layout| stream::iter(layout.pages.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
}

/// A box in pixels of a rendering (a thumbnail, a page image): `left` and `top` are the
/// first pixel column and row it covers, `right` and `bottom` one past the last ones, so
/// it covers `width()` × `height()` pixels. Made by [`BoundingBox::to_pixels`], which
/// rounds outwards: the pixel box covers all of the word.
///
/// ```
/// let px = docintel_sdk::PixelBox { left: 10, top: 20, right: 40, bottom: 28 };
/// assert_eq!((px.width(), px.height()), (30, 8));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PixelBox {
    /// The first column.
    pub left: u32,
    /// The first row.
    pub top: u32,
    /// One past the last column.
    pub right: u32,
    /// One past the last row.
    pub bottom: u32,
}

impl PixelBox {
    /// Columns covered.
    ///
    /// ```
    /// assert_eq!(docintel_sdk::PixelBox { left: 3, top: 0, right: 5, bottom: 1 }.width(), 2);
    /// ```
    pub fn width(&self) -> u32 {
        self.right.saturating_sub(self.left)
    }

    /// Rows covered.
    ///
    /// ```
    /// assert_eq!(docintel_sdk::PixelBox { left: 0, top: 4, right: 1, bottom: 9 }.height(), 5);
    /// ```
    pub fn height(&self) -> u32 {
        self.bottom.saturating_sub(self.top)
    }
}

impl std::fmt::Display for PixelBox {
    /// `x0,y0 → x1,y1 (w×h)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{},{} → {},{} ({}×{})",
            self.left,
            self.top,
            self.right,
            self.bottom,
            self.width(),
            self.height()
        )
    }
}

impl BoundingBox {
    /// The box's four numbers `[x0, y0, x1, y1]`, each clamped to 0–1 (a missing or
    /// non-finite one reads as 0) and ordered so that `x0 <= x1` and `y0 <= y1`.
    ///
    /// ```
    /// use docintel_sdk::types::BoundingBox;
    /// assert_eq!(BoundingBox(vec![0.5, 0.2, 0.1, 1.5]).coords(), [0.1, 0.2, 0.5, 1.0]);
    /// ```
    pub fn coords(&self) -> [f32; 4] {
        let at = |i: usize| {
            self.0
                .get(i)
                .copied()
                .filter(|v| v.is_finite())
                .unwrap_or(0.0)
                .clamp(0.0, 1.0)
        };
        let (x0, y0, x1, y1) = (at(0), at(1), at(2), at(3));
        [x0.min(x1), y0.min(y1), x0.max(x1), y0.max(y1)]
    }

    /// The box in pixels of a rendering of the page `width` × `height` pixels, such as
    /// its thumbnail (whose longest side is 256 pixels) or a page image: each edge scaled
    /// and rounded outwards, within the image. The box must be on the page as the
    /// rendering shows it: for a page with a `rotation`, use [`PageView::shown`] first
    /// (or [`FoundWord::to_pixels`], which does).
    ///
    /// ```
    /// use docintel_sdk::{PixelBox, types::BoundingBox};
    /// let word = BoundingBox(vec![0.1176, 0.0712, 0.2471, 0.0871]);
    /// // On a 181 × 256 thumbnail of an A4 page.
    /// assert_eq!(word.to_pixels(181, 256), PixelBox { left: 21, top: 18, right: 45, bottom: 23 });
    /// ```
    pub fn to_pixels(&self, width: u32, height: u32) -> PixelBox {
        let [x0, y0, x1, y1] = self.coords();
        // A box's numbers are f32 (0.2 is 0.2000000030): an edge within a thousandth of
        // a pixel of a whole pixel is on it, rather than rounded out past it.
        const SLACK: f64 = 1e-3;
        let scale = |v: f32, size: u32, outwards: fn(f64) -> f64| {
            let px = f64::from(v) * f64::from(size);
            // In 0..=size, since v is in 0..=1.
            outwards(px).clamp(0.0, f64::from(size)) as u32
        };
        PixelBox {
            left: scale(x0, width, |px| (px + SLACK).floor()),
            top: scale(y0, height, |px| (px + SLACK).floor()),
            right: scale(x1, width, |px| (px - SLACK).ceil()),
            bottom: scale(y1, height, |px| (px - SLACK).ceil()),
        }
    }
}

/// A word [`PageView::find_words`] or [`find_words`] found: the word (its `text`,
/// `bbox` and `confidence`), and its page's number and box as the page is shown.
///
/// ```no_run
/// # async fn run(client: docintel_sdk::Client, id: docintel_sdk::uuid::Uuid) -> Result<(), docintel_sdk::Error> {
/// let layout = client.layout(id, None).await?;
/// if let Some(found) = layout.find_words("Total").first() {
///     println!("{:?} on page {} at {}", found.word.text, found.page, found.to_pixels(181, 256));
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FoundWord<'a> {
    /// The page's number (1-based).
    pub page: u32,
    /// The word, with its box on the page before any rotation (as the API gives it).
    pub word: &'a WordView,
    /// The word's box on the page as it is shown, i.e. turned by the page's `rotation`:
    /// the box to scale to a thumbnail or rendering.
    pub bbox: BoundingBox,
}

impl FoundWord<'_> {
    /// The word's box in pixels of a rendering of its page, `width` × `height` pixels
    /// (the page's rotation is taken into account).
    ///
    /// ```
    /// use docintel_sdk::types::{PageView, PageSource, PageUnit, BlockView, LineView, WordView};
    /// let word = WordView { text: "Total".into(), bbox: vec![0.5, 0.5, 0.75, 0.625].into(), confidence: None };
    /// let line = LineView { bbox: word.bbox.clone(), words: vec![word.clone()] };
    /// let page = PageView {
    ///     number: 1, width: 200.0, height: 200.0, unit: PageUnit::Pt, rotation: 0,
    ///     source: PageSource::TextLayer, confidence: None,
    ///     blocks: vec![BlockView { bbox: line.bbox.clone(), lines: vec![line] }],
    /// };
    /// let found = &page.find_words("total")[0];
    /// assert_eq!(found.to_pixels(256, 256).to_string(), "128,128 → 192,160 (64×32)");
    /// ```
    pub fn to_pixels(&self, width: u32, height: u32) -> crate::PixelBox {
        self.bbox.to_pixels(width, height)
    }
}

impl PageView {
    /// The page's words in reading order (block by block, line by line).
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client, id: docintel_sdk::uuid::Uuid) -> Result<(), docintel_sdk::Error> {
    /// let layout = client.layout(id, Some("1")).await?;
    /// let text: Vec<&str> = layout.pages[0].words().map(|w| w.text.as_str()).collect();
    /// println!("{}", text.join(" "));
    /// # Ok(()) }
    /// ```
    pub fn words(&self) -> impl Iterator<Item = &WordView> + '_ {
        self.blocks
            .iter()
            .flat_map(|b| b.lines.iter())
            .flat_map(|l| l.words.iter())
    }

    /// The page's words equal to `text`, ignoring case and the punctuation around a word
    /// (`"total"` finds `Total:` and `(TOTAL)`), in reading order. `text` is one word.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client, id: docintel_sdk::uuid::Uuid) -> Result<(), docintel_sdk::Error> {
    /// let layout = client.layout(id, Some("1")).await?;
    /// for found in layout.pages[0].find_words("total") {
    ///     println!("{} at {:?}", found.word.text, found.bbox.coords());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn find_words(&self, text: &str) -> Vec<FoundWord<'_>> {
        let wanted = normalise(text);
        if wanted.is_empty() {
            return Vec::new();
        }
        self.words()
            .filter(|w| normalise(&w.text) == wanted)
            .map(|word| FoundWord {
                page: self.number,
                word,
                bbox: self.shown(&word.bbox),
            })
            .collect()
    }

    /// `bbox` (a box on this page, as the API gives it) on the page as it is shown,
    /// turned clockwise by the page's `rotation` (0, 90, 180 or 270 degrees): the box
    /// to scale to a rendering of the page. Unchanged when the rotation is 0, as it is
    /// for OCR'd pages.
    ///
    /// ```
    /// use docintel_sdk::types::{BoundingBox, PageView, PageSource, PageUnit};
    /// let page = PageView {
    ///     number: 1, width: 842.0, height: 595.0, unit: PageUnit::Pt, rotation: 90,
    ///     source: PageSource::TextLayer, confidence: None, blocks: vec![],
    /// };
    /// // The top-left corner of the page turns to the top-right corner.
    /// let corner = BoundingBox(vec![0.0, 0.0, 0.25, 0.5]);
    /// assert_eq!(page.shown(&corner).coords(), [0.5, 0.0, 1.0, 0.25]);
    /// ```
    pub fn shown(&self, bbox: &BoundingBox) -> BoundingBox {
        let [x0, y0, x1, y1] = bbox.coords();
        let turned = match self.rotation % 360 {
            90 => [1.0 - y1, x0, 1.0 - y0, x1],
            180 => [1.0 - x1, 1.0 - y1, 1.0 - x0, 1.0 - y0],
            270 => [y0, 1.0 - x1, y1, 1.0 - x0],
            _ => [x0, y0, x1, y1],
        };
        BoundingBox(turned.to_vec())
    }
}

impl DocumentLayout {
    /// The words equal to `text` on the pages of this answer (see
    /// [`PageView::find_words`]), in page order. For every page of a long document, use
    /// [`find_words`] on [`Client::layout_pages`].
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client, id: docintel_sdk::uuid::Uuid) -> Result<(), docintel_sdk::Error> {
    /// for found in client.layout(id, None).await?.find_words("Total") {
    ///     println!("page {}: {:?}", found.page, found.bbox.coords());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn find_words(&self, text: &str) -> Vec<FoundWord<'_>> {
        find_words(&self.pages, text)
    }
}

/// The words equal to `text` on `pages` (see [`PageView::find_words`]), in page order.
///
/// ```no_run
/// # async fn run(client: docintel_sdk::Client, id: docintel_sdk::uuid::Uuid) -> Result<(), docintel_sdk::Error> {
/// use docintel_sdk::TryStreamExt;
/// let pages: Vec<_> = client.layout_pages(id).try_collect().await?;
/// for found in docintel_sdk::find_words(&pages, "Total") {
///     println!("page {}: {}", found.page, found.word.text);
/// }
/// # Ok(()) }
/// ```
pub fn find_words<'a>(
    pages: impl IntoIterator<Item = &'a PageView>,
    text: &str,
) -> Vec<FoundWord<'a>> {
    pages.into_iter().flat_map(|p| p.find_words(text)).collect()
}

/// The width and height of a PNG (a [thumbnail](Client::thumbnail)), read from its
/// header; `None` when the bytes are not a PNG.
///
/// ```no_run
/// # async fn run(client: docintel_sdk::Client, id: docintel_sdk::uuid::Uuid) -> Result<(), docintel_sdk::Error> {
/// let png = client.thumbnail(id).await?;
/// if let Some((width, height)) = docintel_sdk::png_size(&png) {
///     println!("{width}×{height}");
/// }
/// # Ok(()) }
/// ```
pub fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    if png.get(..8)? != b"\x89PNG\r\n\x1a\n" || png.get(12..16)? != b"IHDR" {
        return None;
    }
    let at = |i: usize| Some(u32::from_be_bytes(png.get(i..i + 4)?.try_into().ok()?));
    Some((at(16)?, at(20)?))
}

/// A word as it is compared: lower case, without the punctuation around it.
fn normalise(word: &str) -> String {
    word.trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{BlockView, LineView, PageSource, PageUnit};

    fn word(text: &str, bbox: [f32; 4]) -> WordView {
        WordView {
            text: text.into(),
            bbox: bbox.to_vec().into(),
            confidence: None,
        }
    }

    fn page(number: u32, rotation: u16, words: Vec<WordView>) -> PageView {
        let line = LineView {
            bbox: vec![0.0, 0.0, 1.0, 1.0].into(),
            words,
        };
        PageView {
            number,
            width: 612.0,
            height: 792.0,
            unit: PageUnit::Pt,
            rotation,
            source: PageSource::TextLayer,
            confidence: None,
            blocks: vec![BlockView {
                bbox: line.bbox.clone(),
                lines: vec![line],
            }],
        }
    }

    fn layout(pages: Vec<PageView>, page_count: u32, next: Option<&str>) -> DocumentLayout {
        DocumentLayout {
            document_id: uuid::Uuid::nil(),
            next_pages: next.map(str::to_owned),
            ocr_page_limit: 20,
            page_count,
            pages,
        }
    }

    #[test]
    fn boxes_scale_to_pixels_rounded_outwards_and_within_the_image() {
        let b = BoundingBox(vec![0.1, 0.25, 0.5, 0.5]);
        assert_eq!(
            b.to_pixels(256, 200),
            PixelBox {
                left: 25,
                top: 50,
                right: 128,
                bottom: 100
            }
        );
        // 0.1 × 256 = 25.6: the box starts at column 25 and ends past 128.
        let b = BoundingBox(vec![0.1, 0.0, 0.501, 1.0]);
        let px = b.to_pixels(256, 181);
        assert_eq!((px.left, px.right, px.top, px.bottom), (25, 129, 0, 181));
        // Out of range, reversed, missing or not a number: clamped, ordered, zero.
        let odd = BoundingBox(vec![1.2, -0.5, 0.5, f32::NAN]);
        assert_eq!(odd.coords(), [0.5, 0.0, 1.0, 0.0]);
        assert_eq!(odd.to_pixels(100, 100).height(), 0);
        assert_eq!(
            BoundingBox(vec![]).to_pixels(10, 10),
            PixelBox {
                left: 0,
                top: 0,
                right: 0,
                bottom: 0
            }
        );
        // A zero-sized rendering.
        assert_eq!(
            BoundingBox(vec![0.2, 0.2, 0.8, 0.8])
                .to_pixels(0, 0)
                .width(),
            0
        );
    }

    #[test]
    fn rotated_pages_turn_their_boxes_clockwise() {
        let b = BoundingBox(vec![0.1, 0.2, 0.3, 0.6]);
        let turned = |rotation| page(1, rotation, vec![]).shown(&b).coords();
        let close = |a: [f32; 4], b: [f32; 4]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6);
        assert!(close(turned(0), [0.1, 0.2, 0.3, 0.6]));
        assert!(close(turned(90), [0.4, 0.1, 0.8, 0.3]));
        assert!(close(turned(180), [0.7, 0.4, 0.9, 0.8]));
        assert!(close(turned(270), [0.2, 0.7, 0.6, 0.9]));
        // Four quarter turns are none.
        let mut p = page(1, 90, vec![]);
        let mut once = b.clone();
        for _ in 0..4 {
            once = p.shown(&once);
        }
        assert!(close(once.coords(), b.coords()));
        p.rotation = 360;
        assert!(close(p.shown(&b).coords(), b.coords()));
    }

    #[test]
    fn words_are_found_ignoring_case_and_punctuation() {
        let pages = [
            page(
                1,
                0,
                vec![
                    word("Subtotal", [0.1, 0.1, 0.2, 0.12]),
                    word("Total:", [0.1, 0.5, 0.2, 0.52]),
                    word("1,250.00", [0.3, 0.5, 0.4, 0.52]),
                ],
            ),
            page(2, 90, vec![word("(TOTAL)", [0.0, 0.0, 0.5, 0.5])]),
        ];
        assert_eq!(pages[0].words().count(), 3);
        let found = find_words(&pages, "total");
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].page, found[0].word.text.as_str()), (1, "Total:"));
        assert_eq!(
            found[0].to_pixels(100, 100),
            PixelBox {
                left: 10,
                top: 50,
                right: 20,
                bottom: 52
            }
        );
        assert_eq!((found[1].page, found[1].word.text.as_str()), (2, "(TOTAL)"));
        // On page 2, turned 90°: the box as shown, not as given.
        assert_eq!(found[1].bbox.coords(), [0.5, 0.0, 1.0, 0.5]);
        assert_eq!(find_words(&pages, "1,250.00").len(), 1);
        assert!(find_words(&pages, "").is_empty());
        assert!(find_words(&pages, "::").is_empty());
        let l = layout(pages.to_vec(), 2, None);
        assert_eq!(l.find_words("TOTAL").len(), 2);
    }

    #[test]
    fn png_sizes_come_from_the_header() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend(181u32.to_be_bytes());
        png.extend(256u32.to_be_bytes());
        assert_eq!(png_size(&png), Some((181, 256)));
        assert_eq!(png_size(&png[..20]), None);
        assert_eq!(
            png_size(b"GIF89a\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"),
            None
        );
    }

    #[tokio::test]
    async fn layout_pages_follow_next_pages_to_the_end() {
        let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = asked.clone();
        let fetch = move |range: Option<String>| {
            seen.lock().unwrap().push(range.clone());
            async move {
                Ok(match range.as_deref() {
                    None => layout(vec![page(1, 0, vec![]), page(2, 0, vec![])], 5, Some("3-4")),
                    Some("3-4") => {
                        layout(vec![page(3, 0, vec![]), page(4, 0, vec![])], 5, Some("5-5"))
                    }
                    Some("5-5") => layout(vec![page(5, 0, vec![])], 5, None),
                    Some(other) => panic!("asked for {other}"),
                })
            }
        };
        let all: Vec<PageView> = layout_page_stream(fetch).try_collect().await.unwrap();
        assert_eq!(
            all.iter().map(|p| p.number).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        assert_eq!(
            *asked.lock().unwrap(),
            [None, Some("3-4".to_owned()), Some("5-5".to_owned())]
        );
    }

    #[tokio::test]
    async fn a_failing_range_ends_the_pages_with_its_error() {
        let fetch = |range: Option<String>| async move {
            match range {
                None => Ok(layout(vec![page(1, 0, vec![])], 2, Some("2-2"))),
                Some(_) => Err(Error::InvalidRequest("gone".into())),
            }
        };
        let mut s = layout_page_stream(fetch);
        assert_eq!(s.try_next().await.unwrap().unwrap().number, 1);
        assert!(s.try_next().await.is_err());
    }

    #[tokio::test]
    async fn a_bad_range_is_refused_before_sending() {
        // Nothing listens on port 9: a request sent would fail with a transport error.
        let client = Client::builder("http://127.0.0.1:9")
            .max_attempts(1)
            .build()
            .unwrap();
        for bad in ["0", "1-", "a", "3-2-1", ""] {
            let e = client
                .layout(uuid::Uuid::nil(), Some(bad))
                .await
                .unwrap_err();
            assert_eq!(e.code(), Some("invalid_parameter"), "{bad}: {e:?}");
        }
    }
}
