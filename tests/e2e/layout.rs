//! Layout, searchable PDFs, Markdown and multi-page TIFF end to end: word boxes from a
//! PDF's text layer against the corpus truth, OCR'd scans (PNG, a 3-page TIFF) whose
//! searchable PDF `pdftotext` reads as the OCR text, and the bad and hostile inputs of the
//! new paths. Needs Tesseract and poppler-utils, as the processing tests do.

use std::io::Cursor;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{TestServer, assert_problem};
use crate::processing::{text_image, tools};
use docintel_backend::layout::iou;

const INVOICE: &[u8] = include_bytes!("../../backend/benches/layout/corpus/invoice.pdf");
const INVOICE_TRUTH: &str = include_str!("../../backend/benches/layout/corpus/invoice.truth.json");
const THREE_PAGES: &[u8] = include_bytes!("../../backend/benches/layout/corpus/three-pages.pdf");

/// A box of a JSON answer or of the truth, as the layout's own type.
fn bbox(v: &Value) -> [f32; 4] {
    std::array::from_fn(|i| v[i].as_f64().unwrap() as f32)
}

fn words(page: &Value) -> Vec<&Value> {
    page["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["lines"].as_array().unwrap())
        .flat_map(|l| l["words"].as_array().unwrap())
        .collect()
}

async fn get(s: &TestServer, path: &str) -> reqwest::Response {
    s.get(path).send().await.unwrap()
}

/// Whitespace-separated words of `text`, one space between them.
fn normalised(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `pdftotext -raw` of a PDF (the text in the order its pages show it) and its pages.
fn pdftotext(pdf: &[u8]) -> (String, usize) {
    let text = crate::common::pdftotext(pdf, &["-raw"]);
    let pages = text.matches('\u{c}').count();
    (text, pages)
}

#[tokio::test]
async fn a_text_layer_gives_word_boxes_of_the_truth_and_markdown() {
    let s = TestServer::start().await;
    let id = s.upload_ok("invoice.pdf", INVOICE.to_vec()).await;
    let done = s.wait_done(&id).await;
    assert_eq!(done["status"], "processed", "{done}");
    assert_eq!(done["metadata"]["ocr_confidence"], Value::Null);
    assert_eq!(done["metadata"]["ocr_pages"], serde_json::json!([]));
    assert_eq!(done["metadata"]["searchable_pdf"], false);

    let r = get(&s, &format!("/v2/documents/{id}/layout")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let layout: Value = r.json().await.unwrap();
    assert_eq!(layout["document_id"], id);
    assert_eq!(layout["page_count"], 1);
    assert_eq!(layout["next_pages"], Value::Null);
    assert_eq!(layout["ocr_page_limit"], 20);
    let page = &layout["pages"][0];
    assert_eq!(page["number"], 1);
    assert_eq!(page["unit"], "pt");
    assert_eq!(page["source"], "text_layer");
    assert_eq!(page["confidence"], Value::Null);
    assert!(
        (page["width"].as_f64().unwrap() - 595.28).abs() < 0.01,
        "{page}"
    );
    // Every word of the truth is found with its text and a box that overlaps it well.
    let truth: Value = serde_json::from_str(INVOICE_TRUTH).unwrap();
    let got = words(page);
    let expected = truth["pages"][0]["words"].as_array().unwrap();
    let matched = expected
        .iter()
        .filter(|t| {
            got.iter()
                .any(|w| w["text"] == t["text"] && iou(bbox(&w["bbox"]), bbox(&t["box"])) >= 0.8)
        })
        .count();
    assert!(
        matched * 100 >= expected.len() * 98,
        "{matched} of {} words match the truth",
        expected.len()
    );
    assert!(got.iter().all(|w| w["confidence"].is_null()));

    // Markdown: the 20 pt title is a heading; by `format` or by `Accept`.
    let r = get(&s, &format!("/v2/documents/{id}/text?format=markdown")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/markdown; charset=utf-8");
    let md = r.text().await.unwrap();
    assert!(md.starts_with("# INVOICE"), "{md}");
    let r = s
        .get(&format!("/v2/documents/{id}/text"))
        .header("accept", "text/markdown")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "text/markdown; charset=utf-8");
    assert_eq!(r.text().await.unwrap(), md);
    // Plain text stays the default, and `format=text` wins over `Accept`.
    let r = s
        .get(&format!("/v2/documents/{id}/text?format=text"))
        .header("accept", "text/markdown")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    assert!(!r.text().await.unwrap().starts_with('#'));

    // A document with a text layer has no searchable PDF to give.
    let r = get(&s, &format!("/v2/documents/{id}/searchable.pdf")).await;
    let p = assert_problem(r, StatusCode::NOT_FOUND, "not_found").await;
    assert!(p["detail"].as_str().unwrap().contains("text layer"), "{p}");
}

/// The first `pages` pages of the corpus's contract rendered `longest` pixels high, as one
/// grey TIFF.
fn contract_tiff(pages: u32, longest: u32) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let rendered = tools()
        .render_pdf(THREE_PAGES, 1, pages, longest, deadline)
        .unwrap()
        .unwrap();
    let mut out = Cursor::new(Vec::new());
    let mut tiff = tiff::encoder::TiffEncoder::new(&mut out).unwrap();
    for png in rendered {
        let gray = image::load_from_memory(&png).unwrap().to_luma8();
        tiff.write_image::<tiff::encoder::colortype::Gray8>(gray.width(), gray.height(), &gray)
            .unwrap();
    }
    out.into_inner()
}

/// The three pages of the contract at 150 dpi (A4 is 1,754 pixels high).
fn three_page_tiff() -> Vec<u8> {
    contract_tiff(3, 1754)
}

/// Checks a processed scan of `pages` pages: OCR confidence in the view, OCR'd pages in
/// the layout, and a searchable PDF whose text is the document's text.
async fn assert_searchable(s: &TestServer, id: &str, pages: usize) {
    let done = s.wait_done(id).await;
    assert_eq!(done["status"], "processed", "{done}");
    let meta = &done["metadata"];
    let mean = meta["ocr_confidence"].as_f64().expect("a confidence");
    assert!(mean > 0.5 && mean <= 1.0, "{meta}");
    assert_eq!(meta["ocr_pages"].as_array().unwrap().len(), pages, "{meta}");
    assert_eq!(meta["searchable_pdf"], true);

    let layout: Value = get(s, &format!("/v2/documents/{id}/layout"))
        .await
        .json()
        .await
        .unwrap();
    let got = layout["pages"].as_array().unwrap();
    assert_eq!(got.len(), pages, "{layout}");
    for (i, page) in got.iter().enumerate() {
        assert_eq!(page["number"], i + 1);
        assert_eq!(page["source"], "ocr");
        assert_eq!(page["unit"], "px");
        let c = page["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&c));
        let ws = words(page);
        assert!(!ws.is_empty(), "page {} has no words", i + 1);
        for w in ws {
            let c = w["confidence"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&c), "{w}");
            let b = &w["bbox"];
            assert!(b[0].as_f64() < b[2].as_f64() && b[1].as_f64() < b[3].as_f64());
            assert!(b[2].as_f64().unwrap() <= 1.0 && b[3].as_f64().unwrap() <= 1.0);
        }
    }

    let text = get(s, &format!("/v2/documents/{id}/text"))
        .await
        .text()
        .await
        .unwrap();
    let r = get(s, &format!("/v2/documents/{id}/searchable.pdf")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let (read, pdf_pages) = pdftotext(&r.bytes().await.unwrap());
    assert_eq!(pdf_pages, pages);
    assert_eq!(normalised(&read), normalised(&text));
}

#[tokio::test]
async fn a_scanned_png_and_a_three_page_tiff_come_back_searchable() {
    tools();
    let s = TestServer::start().await;
    let png = text_image(&["INVOICE NUMBER 4711", "TOTAL DUE 980 EUR"]);
    let id = s.upload_ok("scan.png", png).await;
    assert_searchable(&s, &id, 1).await;
    let text = get(&s, &format!("/v2/documents/{id}/text"))
        .await
        .text()
        .await
        .unwrap();
    assert!(text.contains("TOTAL DUE 980 EUR"), "{text}");

    let id = s.upload_ok("contract.tiff", three_page_tiff()).await;
    let done = s.wait_done(&id).await;
    assert_eq!(done["metadata"]["content_type"], "image/tiff");
    assert_eq!(done["metadata"]["page_count"], 3);
    assert_searchable(&s, &id, 3).await;
    let text = get(&s, &format!("/v2/documents/{id}/text"))
        .await
        .text()
        .await
        .unwrap();
    assert!(text.contains("SERVICE AGREEMENT"), "{text}");
    // One page at a time, following `next_pages`.
    let first: Value = get(&s, &format!("/v2/documents/{id}/layout?pages=1"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["pages"].as_array().unwrap().len(), 1);
    assert_eq!(first["next_pages"], "2-2");
    let last: Value = get(&s, &format!("/v2/documents/{id}/layout?pages=3-3"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(last["pages"][0]["number"], 3);
    assert_eq!(last["next_pages"], Value::Null);

    // Deleting the document removes its searchable PDF with it.
    let r = s
        .client
        .delete(s.url(&format!("/v2/documents/{id}")))
        .bearer_auth(&s.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let left: Vec<_> = s
        .all_blob_files()
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(&id.replace('-', "")))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// A TIFF whose first page says it is `w`×`h` pixels (one strip of a few bytes).
fn tiff_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut t = b"II*\0\x08\0\0\0".to_vec();
    let entries: [(u16, u16, u32, u32); 8] = [
        (256, 4, 1, w),   // ImageWidth
        (257, 4, 1, h),   // ImageLength
        (258, 3, 1, 8),   // BitsPerSample
        (259, 3, 1, 1),   // Compression: none
        (262, 3, 1, 1),   // BlackIsZero
        (273, 4, 1, 200), // StripOffsets
        (278, 4, 1, h),   // RowsPerStrip
        (279, 4, 1, 16),  // StripByteCounts
    ];
    t.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, kind, count, value) in entries {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&kind.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value.to_le_bytes());
    }
    t.extend_from_slice(&0u32.to_le_bytes());
    t.resize(216, 0x80);
    t
}

#[tokio::test]
async fn bad_and_hostile_inputs_of_the_new_paths_are_refused_cleanly() {
    let s = TestServer::start().await;
    let text = s.upload_ok("note.txt", b"Hello layout".to_vec()).await;
    assert_eq!(s.wait_done(&text).await["status"], "processed");
    let r = get(&s, &format!("/v2/documents/{text}/layout")).await;
    let p = assert_problem(r, StatusCode::NOT_FOUND, "not_found").await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("text documents have no layout")
    );
    // A text document's Markdown is its text.
    let r = get(&s, &format!("/v2/documents/{text}/text?format=markdown")).await;
    assert_eq!(r.text().await.unwrap(), "Hello layout");
    let r = get(&s, &format!("/v2/documents/{text}/searchable.pdf")).await;
    assert_problem(r, StatusCode::NOT_FOUND, "not_found").await;

    let pdf = s.upload_ok("invoice.pdf", INVOICE.to_vec()).await;
    assert_eq!(s.wait_done(&pdf).await["status"], "processed");
    for query in [
        "pages=0",
        "pages=2",
        "pages=1-101",
        "pages=3-1",
        "pages=abc",
        "pages=1-",
        "pages=99999999999999999999",
        "pages=1&pages=2",
        "page=1",
    ] {
        let r = get(&s, &format!("/v2/documents/{pdf}/layout?{query}")).await;
        assert_problem(r, StatusCode::BAD_REQUEST, "invalid_parameter").await;
    }
    let r = get(&s, &format!("/v2/documents/{pdf}/text?format=html")).await;
    assert_problem(r, StatusCode::BAD_REQUEST, "invalid_parameter").await;
    // Not processed yet, or failed: the same answers as the text's.
    let r = get(
        &s,
        &format!("/v2/documents/{}/layout", uuid::Uuid::now_v7()),
    )
    .await;
    assert_problem(r, StatusCode::NOT_FOUND, "not_found").await;

    // Hostile TIFFs fail alone, with a reason, and the server goes on.
    let good = three_page_tiff();
    let one_page = contract_tiff(1, 400);
    // The first page's next-page offset pointed back at itself: a loop of pages.
    let mut looped = one_page.clone();
    let ifd = u32::from_le_bytes(looped[4..8].try_into().unwrap()) as usize;
    let n = u16::from_le_bytes(looped[ifd..ifd + 2].try_into().unwrap()) as usize;
    let next = ifd + 2 + 12 * n;
    looped[next..next + 4].copy_from_slice(&(ifd as u32).to_le_bytes());
    for (name, bytes, says) in [
        ("bomb.tiff", tiff_claiming(100_000, 100_000), "limit"),
        (
            "truncated.tiff",
            good[..good.len() / 3].to_vec(),
            "unreadable",
        ),
        ("looped.tiff", looped, "cycle"),
    ] {
        let id = s.upload_ok(name, bytes).await;
        let done = s.wait_done(&id).await;
        assert_eq!(done["status"], "failed", "{name}: {done}");
        let reason = done["failure"].as_str().unwrap();
        assert!(reason.contains(says), "{name}: {reason}");
    }
    let r = get(&s, "/readyz").await;
    assert_eq!(r.status(), StatusCode::OK);
}
