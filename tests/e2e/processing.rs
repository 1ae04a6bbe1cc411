//! Processing depth end to end: OCR of images and scans, thumbnails, classification,
//! hostile files and stuck tools. Needs Tesseract and pdftoppm (`.ci/run` installs
//! tesseract-ocr, tesseract-ocr-eng and poppler-utils); without them these tests fail
//! and say what is missing rather than pass vacuously.

use crate::common;

use std::io::Cursor;
use std::time::{Duration, Instant};

use common::{TestServer, assert_problem, pdf, pdf_pages};
use docintel_backend::pipeline::Tools;
use reqwest::StatusCode;
use serde_json::Value;

pub(crate) fn tools() -> Tools {
    let t = Tools::detect();
    assert!(
        t.tesseract.is_some(),
        "tesseract is not installed: apt install tesseract-ocr tesseract-ocr-eng"
    );
    assert!(
        t.pdftoppm.is_some(),
        "pdftoppm is not installed: apt install poppler-utils"
    );
    t
}

/// A page of text rendered to a PNG by pdftoppm: an image whose text only OCR can read.
pub(crate) fn text_image(lines: &[&str]) -> Vec<u8> {
    drawn(lines, 1600)
}

/// A page of `lines` drawn by pdftoppm, `longest` pixels on its longest side.
fn drawn(lines: &[&str], longest: u32) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut pages = tools()
        .render_pdf(&pdf(lines), 1, 1, longest, deadline)
        .unwrap()
        .unwrap();
    pages.swap_remove(0)
}

/// A document's text, as its owner downloads it.
async fn text_of(s: &TestServer, id: &str) -> String {
    s.get(&format!("/v2/documents/{id}/text"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn to_jpeg(png: &[u8]) -> (Vec<u8>, u32, u32) {
    let img = image::load_from_memory(png).unwrap().to_rgb8();
    let (w, h) = img.dimensions();
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Jpeg)
        .unwrap();
    (out, w, h)
}

async fn thumbnail(s: &TestServer, id: &str) -> image::DynamicImage {
    let r = s
        .get(&format!("/v2/documents/{id}/thumbnail"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    image::load_from_memory_with_format(&r.bytes().await.unwrap(), image::ImageFormat::Png).unwrap()
}

#[tokio::test]
async fn images_are_read_by_ocr_and_get_thumbnails() {
    tools();
    let s = TestServer::start().await;
    let png = text_image(&["INVOICE NUMBER 4711", "TOTAL DUE 980 EUR"]);
    let id = s.upload_ok("scan.png", png.clone()).await;
    let done = s.wait_done(&id).await;
    assert_eq!(done["status"], "processed", "{done}");
    assert_eq!(done["warnings"], serde_json::json!([]));
    let text = text_of(&s, &id).await;
    assert!(text.contains("INVOICE NUMBER 4711"), "OCR read: {text:?}");
    let t = thumbnail(&s, &id).await;
    assert_eq!(t.width().max(t.height()), 256);

    let (jpeg, _, _) = to_jpeg(&png);
    let id = s.upload_ok("scan.jpg", jpeg).await;
    let done = s.wait_done(&id).await;
    assert_eq!(done["metadata"]["content_type"], "image/jpeg");
    let text = text_of(&s, &id).await;
    assert!(text.contains("TOTAL DUE 980 EUR"), "OCR read: {text:?}");
}

#[tokio::test]
async fn scanned_pdfs_without_a_text_layer_are_read_by_ocr() {
    tools();
    let s = TestServer::start().await;
    let (jpeg, w, h) = to_jpeg(&text_image(&[
        "EMPLOYMENT CONTRACT",
        "The employee agrees to the terms",
    ]));
    let id = s
        .upload_ok("scan.pdf", common::scanned_pdf(&jpeg, w, h))
        .await;
    let done = s.wait_done(&id).await;
    assert_eq!(done["status"], "processed", "{done}");
    assert_eq!(done["metadata"]["page_count"], 1);
    let text = text_of(&s, &id).await;
    assert!(text.contains("EMPLOYMENT CONTRACT"), "OCR read: {text:?}");
    assert_eq!(done["classification"]["label"], "contract", "{done}");
    let t = thumbnail(&s, &id).await;
    assert_eq!(t.width().max(t.height()), 256);
}

#[tokio::test]
async fn without_tools_images_say_so_and_pdfs_are_drawn_in_process() {
    let s = TestServer::start_with(|c| c.tools = Some(Tools::none())).await;
    let id = s.upload_ok("scan.png", common::PNG_1X1.to_vec()).await;
    let done = s.wait_done(&id).await;
    assert_eq!(done["status"], "processed");
    assert_eq!(done["warnings"], serde_json::json!(["ocr_unavailable"]));
    assert_eq!(done["classification"], Value::Null, "no text, no guess");

    let id = s.upload_ok("a.pdf", pdf(&["hello there"])).await;
    let done = s.wait_done(&id).await;
    assert_eq!(done["warnings"], serde_json::json!([]));
    // No pdftoppm: hayro draws it in the parser process.
    let t = thumbnail(&s, &id).await;
    assert_eq!(t.width().max(t.height()), 256);

    let id = s.upload_ok("a.txt", "just text".into()).await;
    s.wait_done(&id).await;
    let r = s
        .get(&format!("/v2/documents/{id}/thumbnail"))
        .send()
        .await
        .unwrap();
    let p = assert_problem(r, StatusCode::NOT_FOUND, "not_found").await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("text documents have no thumbnail")
    );
}

#[tokio::test]
async fn documents_are_classified_with_a_model_version() {
    let s = TestServer::start().await;
    let cases = [
        (
            "invoice",
            "INVOICE\nInvoice number: INV-2231\nBill to: Acme\nTotal due: 1,200.00 EUR\nPayment terms: net 30 days",
        ),
        (
            "letter",
            "Dear Mr Novak,\nI am writing to confirm our meeting next week. Following our conversation, I would like to thank you for your support during the project, and I look forward to hearing from you at your earliest convenience.\nYours sincerely,\nAnna Weber",
        ),
        (
            "resume",
            "Curriculum vitae\nWork history\n2019 - present: Data analyst at Globex\nEducation\nMSc Physics\nSkills: Python, SQL",
        ),
        (
            "receipt",
            "Receipt #88812\nCashier: Mona\ncoffee 3.50\ncroissant 2.20\nCard payment VISA\nAmount paid: 5.70 EUR",
        ),
    ];
    for (label, text) in cases {
        let id = s.upload_ok("doc.txt", text.into()).await;
        let done = s.wait_done(&id).await;
        let c = &done["classification"];
        assert_eq!(c["label"], label, "{text:?} → {c}");
        let conf = c["confidence"].as_f64().unwrap();
        assert!(conf > 0.0 && conf <= 1.0);
        assert!(c["model_version"].as_str().unwrap().starts_with("lr-2-"));
        // Only the letter is long enough to tell its language reliably; the others
        // get null rather than a guess.
        if label == "letter" {
            assert_eq!(done["metadata"]["language"], "eng", "{done}");
        }
    }
}

#[tokio::test]
async fn hostile_files_fail_with_a_reason_and_the_server_stays_up() {
    let s = TestServer::start().await;
    let good = pdf(&["fine"]);
    let mut nested = b"%PDF-1.4\n1 0 obj\n".to_vec();
    nested.extend(std::iter::repeat_n(b'[', 200_000));
    nested.extend(std::iter::repeat_n(b']', 200_000));
    nested.extend(b"\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n");
    let mut broken_xref = good.clone();
    if let Some(pos) = broken_xref.windows(4).rposition(|w| w == b"xref") {
        broken_xref.truncate(pos + 4);
        broken_xref.extend(
            b"\n0 9999999\nthis is not an xref table\ntrailer\n<<>>\nstartxref\n999999\n%%EOF",
        );
    }
    let mut absurd_pages = String::from_utf8_lossy(&good).into_owned();
    absurd_pages = absurd_pages.replace("/Count 1", "/Count 999999999");
    let mut junk = b"%PDF-1.7\n".to_vec();
    junk.extend((0..50_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    let truncated_png = {
        let png = text_image(&["x"]);
        png[..png.len() / 3].to_vec()
    };
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        ("junk behind a PDF header", junk, true),
        ("deeply nested PDF objects", nested, true),
        ("broken xref", broken_xref, false),
        ("absurd page count", absurd_pages.into_bytes(), false),
        ("decompression-bomb PNG", docintel_png_bomb(), true),
        ("truncated PNG", truncated_png, true),
        ("PNG header only", b"\x89PNG\r\n\x1a\n".to_vec(), true),
        (
            "JPEG header only",
            b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00".to_vec(),
            true,
        ),
    ];
    let mut ids = Vec::new();
    for (what, bytes, _) in &cases {
        let r = s
            .upload(&format!("{}.bin", what.replace(' ', "_")), bytes.clone())
            .await;
        assert_eq!(r.status(), StatusCode::ACCEPTED, "{what}");
        ids.push(
            r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for ((what, _, must_fail), id) in cases.iter().zip(&ids) {
        let done = s.wait_done(id).await;
        if *must_fail {
            assert_eq!(done["status"], "failed", "{what}: {done}");
        }
        if done["status"] == "failed" {
            assert!(!done["failure"].as_str().unwrap().is_empty(), "{what}");
        }
    }
    let bomb = s.wait_done(&ids[4]).await;
    assert!(
        bomb["failure"].as_str().unwrap().contains("limit"),
        "{bomb}"
    );
    // Still serving, and still processing.
    let id = s
        .upload_ok("after.pdf", pdf_pages(&[&["still alive"]]))
        .await;
    assert_eq!(s.wait_done(&id).await["status"], "processed");
}

/// A well-formed PNG (valid CRC) claiming 100000×100000 pixels.
fn docintel_png_bomb() -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for b in data {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let mut bytes = common::PNG_1X1.to_vec();
    bytes[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bytes[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

#[tokio::test]
async fn a_stuck_ocr_is_stopped_and_the_document_fails() {
    // A stand-in for a Tesseract that hangs (the one boundary a test cannot make real).
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("tesseract");
    std::fs::write(&fake, "#!/bin/sh\nsleep 30\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let s = TestServer::start_with(|c| {
        c.tools = Some(Tools {
            tesseract: Some(fake.clone()),
            pdftoppm: None,
            ocr_library: false,
        });
        c.job_timeout = Duration::from_secs(1);
    })
    .await;
    let mut png = Vec::new();
    image::DynamicImage::new_rgb8(50, 50)
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let id = s.upload_ok("stuck.png", png).await;
    let done = s.wait_done(&id).await;
    assert_eq!(done["status"], "failed");
    assert!(
        done["failure"]
            .as_str()
            .unwrap()
            .contains("did not finish in time"),
        "{done}"
    );
}

#[tokio::test]
async fn a_stuck_ocr_engine_is_stopped_and_the_document_fails() {
    // Tesseract's library, as the server uses it, on a page of 60 lines drawn 6,000 px
    // tall (28 megapixels): reading it takes seconds (4.5 s of CPU), past a two-second limit.
    let s = TestServer::start_with(|c| {
        c.tools = Some(tools());
        c.job_timeout = Duration::from_secs(2);
    })
    .await;
    assert!(tools().ocr_library);
    let lines: Vec<String> = (0..60)
        .map(|i| format!("Line {i}: the quick brown fox jumps over the lazy dog, again and again"))
        .collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let id = s.upload_ok("dense.png", drawn(&lines, 6000)).await;
    let done = s.wait_done(&id).await;
    assert_eq!(done["status"], "failed", "{done}");
    let failure = done["failure"].as_str().unwrap();
    assert!(
        failure.contains("did not finish in time") || failure.contains("took longer than"),
        "{done}"
    );
    // The next image is read as usual.
    let id = s
        .upload_ok("next.png", text_image(&["Quarterly report"]))
        .await;
    let done = s.wait_done(&id).await;
    assert_eq!(done["status"], "processed", "{done}");
}

#[tokio::test]
async fn the_largest_colour_image_is_read_within_the_memory_limit() {
    // 40 megapixels of RGB (the most an image may have): a page drawn 6,666 px tall on a
    // wider background. The OCR child holds the decoded page and Tesseract's copy of it
    // under its 1 GiB.
    let s = TestServer::start_with(|c| c.tools = Some(tools())).await;
    let line = image::load_from_memory(&drawn(&["Colour scan of a receipt"], 6666))
        .unwrap()
        .to_rgb8();
    let mut page = image::RgbImage::from_pixel(6000, 6666, image::Rgb([250, 248, 240]));
    image::imageops::overlay(&mut page, &line, 0, 0);
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(page)
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let id = s.upload_ok("large.png", png).await;
    let done = s.wait_done(&id).await;
    assert_eq!(done["status"], "processed", "{done}");
    let text = text_of(&s, &id).await;
    assert!(text.contains("receipt"), "OCR read: {text:?}");
}

/// An executable script standing in for an external tool (the one boundary a test
/// cannot make misbehave for real).
fn fake_tool(dir: &std::path::Path, name: &str, script: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[tokio::test]
async fn crashing_or_hanging_tools_fail_the_document_not_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let crashing = fake_tool(dir.path(), "tesseract", "kill -SEGV $$");
    let hanging = fake_tool(dir.path(), "pdftoppm", "sleep 30");
    let s = TestServer::start_with(|c| {
        c.tools = Some(Tools {
            tesseract: Some(crashing.clone()),
            pdftoppm: Some(hanging.clone()),
            ocr_library: false,
        });
        c.job_timeout = Duration::from_secs(2);
    })
    .await;
    let mut png = Vec::new();
    image::DynamicImage::new_rgb8(40, 40)
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let image = s.upload_ok("crash.png", png).await;
    let (w, h) = (40, 40);
    let mut jpeg = Vec::new();
    image::DynamicImage::new_rgb8(w, h)
        .write_to(&mut Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
        .unwrap();
    let scan = s
        .upload_ok("scan.pdf", common::scanned_pdf(&jpeg, w, h))
        .await;
    for (id, why) in [(&image, "signal: 11"), (&scan, "did not finish in time")] {
        let done = s.wait_done(id).await;
        assert_eq!(done["status"], "failed", "{done}");
        let reason = done["failure"].as_str().unwrap_or_default();
        assert!(reason.contains(why), "a failure says why: {done}");
    }
    // The server is as healthy as before, and the next document is processed.
    let ready = s.client.get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let text = s.upload_ok("fine.txt", b"still working".to_vec()).await;
    assert_eq!(s.wait_done(&text).await["status"], "processed");
}
