//! Where a word is on the page: upload a document, wait, find a word in its layout and
//! print its box in pixels of the first page's thumbnail (the box to draw to highlight it).
//!
//! `DOCINTEL_BASE_URL=… DOCINTEL_API_KEY=dik_… cargo run --example highlight_word -- invoice.pdf Total`
//!
//! The crate has no image dependency, so this prints the box rather than drawing it; with
//! the `image` crate, `imageproc::drawing::draw_hollow_rect_mut` on the decoded thumbnail
//! with `Rect::at(px.left as i32, px.top as i32).of_size(px.width(), px.height())` draws it.
use docintel_sdk::{Client, TryStreamExt};
use std::{env, time::Duration};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::builder(env::var("DOCINTEL_BASE_URL")?)
        .api_key(env::var("DOCINTEL_API_KEY")?)
        .build()?;
    let path = env::args()
        .nth(1)
        .ok_or("usage: highlight_word <file> [word]")?;
    let word = env::args().nth(2).unwrap_or_else(|| "Total".to_owned());
    let doc = client.upload_file(&path).await?;
    let doc = client.wait(doc.id, Duration::from_secs(60)).await?;

    // Every page, following `next_pages` (one request for up to 20 pages).
    let pages: Vec<_> = client.layout_pages(doc.id).try_collect().await?;
    let found = docintel_sdk::find_words(&pages, &word);
    let (n, times) = (pages.len(), found.len());
    println!("layout: {n} page(s); {word:?} found {times} time(s)");
    for f in &found {
        let [x0, y0, x1, y1] = f.bbox.coords();
        println!(
            "page {}: {:?} at [{x0:.4}, {y0:.4}, {x1:.4}, {y1:.4}]",
            f.page, f.word.text
        );
    }

    // The thumbnail shows the first page, its longest side 256 pixels.
    let Some(first) = found.iter().find(|f| f.page == 1) else {
        return Ok(());
    };
    let png = client.thumbnail(doc.id).await?;
    let (w, h) = docintel_sdk::png_size(&png).ok_or("the thumbnail is not a PNG")?;
    println!(
        "thumbnail {w}×{h}: {:?} at {}",
        first.word.text,
        first.to_pixels(w, h)
    );
    Ok(())
}
