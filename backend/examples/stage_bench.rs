//! Time per pipeline stage for a small one-page text PDF (release build):
//!
//! ```sh
//! cargo run --release -p docintel-backend --example stage_bench
//! ```
//! Each stage runs in a loop and reports its mean time per document.

use std::time::Instant;

use docintel_backend::classify::Model;
use docintel_backend::model::ContentType;
use docintel_backend::pipeline::{self, Context, Tools, sniff};

/// A real one-page PDF with a text layer (lopdf, as the tests build them).
fn pdf(lines: &[&str]) -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut ops = vec![
        Operation::new("BT", vec![]),
        Operation::new("Tf", vec!["F1".into(), 12.into()]),
        Operation::new("Td", vec![72.into(), 760.into()]),
    ];
    for line in lines {
        ops.push(Operation::new("Tj", vec![Object::string_literal(*line)]));
        ops.push(Operation::new("Td", vec![0.into(), (-16).into()]));
    }
    ops.push(Operation::new("ET", vec![]));
    let content = Content { operations: ops }.encode().expect("content");
    let content_id = doc.add_object(Stream::new(dictionary! {}, content));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
            "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save");
    out
}

fn time<T>(name: &str, n: u32, mut f: impl FnMut() -> T) {
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(f());
    }
    let per = start.elapsed() / n;
    println!("{name:<34} {:>10.1} µs", per.as_secs_f64() * 1e6);
}

fn main() {
    let model = Model::default_model().expect("model");
    let pdf = pdf(&[
        "INVOICE 2026-117",
        "Total due: 1,250.00 EUR",
        "Payable within 30 days",
    ]);
    let pdf = pdf.as_slice();
    assert!(matches!(
        pipeline::process(&Context::bare(), ContentType::Pdf, pdf),
        pipeline::Outcome::Processed { .. }
    ));
    let text = "INVOICE 2026-117\nTotal due: 1,250.00 EUR\nPayable within 30 days";
    let bare = Context::bare();
    let with_model = Context {
        model: Some(std::sync::Arc::new(model.clone())),
        ..Context::bare()
    };
    let tools = Context {
        tools: Tools::detect(),
        ..with_model.clone()
    };
    println!("stage (1-page text PDF, {} bytes)     mean", pdf.len());
    time("sniff (magic bytes + UTF-8 check)", 100_000, || {
        let mut c = sniff::TextCheck::default();
        c.feed(pdf);
        sniff::sniff(pdf, c.finish())
    });
    time("PDF text layer + metadata", 2_000, || {
        pipeline::process(&bare, ContentType::Pdf, pdf)
    });
    time("language (whatlang)", 20_000, || whatlang::detect(text));
    time("classify (naive Bayes)", 20_000, || model.classify(text));
    time("whole pipeline, no external tools", 2_000, || {
        pipeline::process(&with_model, ContentType::Pdf, pdf)
    });
    if tools.tools.pdftoppm.is_some() {
        time("whole pipeline + pdftoppm thumbnail", 50, || {
            pipeline::process(&tools, ContentType::Pdf, pdf)
        });
    }
}
