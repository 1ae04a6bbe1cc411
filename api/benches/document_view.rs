//! What rendering one document costs on the hot GET path: the store's cached `Document`
//! cloned, turned into the v2 view, and serialized to JSON.
//!
//! `cargo bench -p docintel-api --bench document_view`

use criterion::{Criterion, criterion_group, criterion_main};
use docintel_api::views::DocumentView;
use docintel_backend::model::{
    Classification, ContentType, Document, DocumentStatus, Extracted, TenantId,
};
use std::hint::black_box;

fn document() -> Document {
    let at = time::macros::datetime!(2026-11-22 01:19:05.465 UTC);
    Document {
        id: uuid::Uuid::now_v7(),
        tenant_id: TenantId(uuid::Uuid::now_v7()),
        filename: "invoice-2026-11.pdf".into(),
        status: DocumentStatus::Processed,
        failure: None,
        failure_code: None,
        content_type: ContentType::Pdf,
        size_bytes: 48_213,
        sha256: "93de4145f5671a32ed6e5da5da1ba7fd8664fd12b39a708adf45fede32262f34".into(),
        extracted: Some(Extracted {
            page_count: Some(2),
            word_count: 412,
            char_count: 2_630,
            language: Some("eng".into()),
            ..Extracted::default()
        }),
        warnings: Vec::new(),
        classification: Some(Classification {
            label: "invoice".into(),
            confidence: 0.9999995924424172,
            model_version: "nb-1-090edd4a".into(),
        }),
        thumbnail_key: None,
        thumbnail_failure: None,
        created_at: at,
        updated_at: at,
    }
}

fn render(c: &mut Criterion) {
    let doc = document();
    let view = DocumentView::from(doc.clone());
    c.bench_function("clone + view + JSON", |b| {
        b.iter(|| serde_json::to_vec(&DocumentView::from(black_box(&doc).clone())))
    });
    c.bench_function("JSON of a view", |b| {
        b.iter(|| serde_json::to_vec(black_box(&view)))
    });
    c.bench_function("clone of the cached document", |b| {
        b.iter(|| black_box(&doc).clone())
    });
}

criterion_group!(benches, render);
criterion_main!(benches);
