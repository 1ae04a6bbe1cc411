//! Events end to end, in process: each state change's event leaves the outbox through the
//! relay, Confluent-framed with the id the registry gave this build's schema, in order
//! per document; decoded here by schema_registry_converter's decoder against the server's
//! own registry.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use apache_avro::types::Value as Avro;
use common::TestServer;
use docintel_backend::events::Published;
use reqwest::StatusCode;
use schema_registry_converter::async_impl::avro::AvroDecoder;
use schema_registry_converter::async_impl::schema_registry::SrSettings;
use serde_json::Value;
use tokio::sync::broadcast;

const INVOICE: &[u8] = b"INVOICE No. 2024-117\nBill to: Acme Ltd\nAmount due: 1,250.00 EUR\nPayment terms: 30 days\nTotal due 1250.00";

/// The next `n` events about `document`.
pub(crate) async fn next_events(
    rx: &mut broadcast::Receiver<Arc<Published>>,
    document: &str,
    n: usize,
) -> Vec<Arc<Published>> {
    let mut out = Vec::new();
    while out.len() < n {
        let p = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap_or_else(|_| panic!("only {} of {n} events for {document}: {out:?}", out.len()))
            .expect("subscribed");
        if p.key == document {
            out.push(p);
        }
    }
    out
}

pub(crate) fn field<'a>(record: &'a Avro, name: &str) -> &'a Avro {
    let Avro::Record(fields) = record else {
        panic!("not a record: {record:?}");
    };
    &fields
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no field {name} in {fields:?}"))
        .1
}

async fn registry_id(s: &TestServer, subject: &str) -> u32 {
    let v: Value = s
        .client
        .get(s.url(&format!("/registry/subjects/{subject}/versions/latest")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["id"].as_u64().unwrap() as u32
}

#[tokio::test]
async fn a_document_life_publishes_its_events_in_order_in_the_confluent_format() {
    let s = TestServer::start().await;
    let mut rx = s.backend.subscribe();
    let id = s.upload_ok("invoice.txt", INVOICE.to_vec()).await;
    let done = s.wait_done(&id).await;
    assert_eq!(done["status"], "processed");
    let r = s
        .delete(&format!("/v2/documents/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let events = next_events(&mut rx, &id, 4).await;
    let topics: Vec<&str> = events.iter().map(|e| e.topic).collect();
    assert_eq!(
        topics,
        [
            "doc.uploaded",
            "doc.processed",
            "doc.classified",
            "doc.deleted"
        ]
    );
    assert!(
        events.windows(2).all(|w| w[0].seq < w[1].seq),
        "outbox order"
    );

    let decoder = AvroDecoder::new(SrSettings::new(s.url("/registry")));
    let mut event_ids = std::collections::HashSet::new();
    for e in &events {
        // Byte 0 = 0, then the big-endian id the registry holds for this subject.
        assert_eq!(e.value[0], 0);
        let schema_id = u32::from_be_bytes(e.value[1..5].try_into().unwrap());
        assert_eq!(
            schema_id,
            registry_id(&s, &format!("{}-value", e.topic)).await
        );
        let decoded = decoder.decode(Some(&e.value)).await.expect("decodes").value;
        assert_eq!(
            field(&decoded, "document_id"),
            &Avro::Uuid(id.parse().unwrap())
        );
        let Avro::Uuid(event_id) = field(&decoded, "event_id") else {
            panic!("event_id is a uuid");
        };
        assert_eq!(event_id.to_string(), e.event_id);
        assert!(event_ids.insert(e.event_id.clone()), "event ids are unique");
        assert!(
            matches!(field(&decoded, "occurred_at"), Avro::TimestampMillis(ms) if *ms > 1_700_000_000_000)
        );
        match e.topic {
            "doc.uploaded" => {
                assert_eq!(
                    field(&decoded, "filename"),
                    &Avro::String("invoice.txt".into())
                );
                assert_eq!(
                    field(&decoded, "size_bytes"),
                    &Avro::Long(INVOICE.len() as i64)
                );
                assert_eq!(
                    field(&decoded, "content_type"),
                    &Avro::String("text/plain".into())
                );
            }
            "doc.processed" => {
                assert_eq!(
                    field(&decoded, "page_count"),
                    &Avro::Union(0, Box::new(Avro::Null))
                );
                assert_eq!(
                    field(&decoded, "word_count"),
                    &Avro::Long(done["metadata"]["word_count"].as_i64().unwrap())
                );
                // No OCR read a text: v2's additions keep their defaults.
                assert_eq!(
                    field(&decoded, "ocr_confidence"),
                    &Avro::Union(0, Box::new(Avro::Null))
                );
                assert_eq!(field(&decoded, "ocr_pages"), &Avro::Array(Vec::new()));
            }
            "doc.classified" => {
                let label = done["classification"]["label"].as_str().unwrap();
                assert_eq!(label, "invoice");
                assert_eq!(field(&decoded, "label"), &Avro::String(label.into()));
                assert_eq!(
                    field(&decoded, "model_version"),
                    &Avro::String(
                        done["classification"]["model_version"]
                            .as_str()
                            .unwrap()
                            .into()
                    )
                );
                assert!(
                    matches!(field(&decoded, "confidence"), Avro::Double(c) if *c > 0.0 && *c <= 1.0)
                );
            }
            _ => {}
        }
    }
    // Everything relayed is marked sent.
    for _ in 0..100 {
        if s.backend.outbox_lag().await.unwrap().0 == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "the outbox did not drain: {:?}",
        s.backend.outbox_lag().await
    );
}

/// `doc.processed` v2 carries the OCR confidence the document view shows.
#[tokio::test]
async fn an_ocr_read_document_publishes_its_confidence() {
    crate::processing::tools();
    let s = TestServer::start().await;
    let mut rx = s.backend.subscribe();
    let png = crate::processing::text_image(&["DELIVERY NOTE 88", "TWELVE BOXES"]);
    let id = s.upload_ok("scan.png", png).await;
    let done = s.wait_done(&id).await;
    assert_eq!(done["status"], "processed", "{done}");
    let events = next_events(&mut rx, &id, 2).await;
    let processed = events
        .iter()
        .find(|e| e.topic == "doc.processed")
        .expect("doc.processed");
    let decoder = AvroDecoder::new(SrSettings::new(s.url("/registry")));
    let decoded = decoder
        .decode(Some(&processed.value))
        .await
        .expect("decodes")
        .value;
    let mean = done["metadata"]["ocr_confidence"].as_f64().expect("a mean");
    assert_eq!(
        field(&decoded, "ocr_confidence"),
        &Avro::Union(1, Box::new(Avro::Double(mean)))
    );
    let Avro::Array(pages) = field(&decoded, "ocr_pages") else {
        panic!("ocr_pages is an array");
    };
    assert_eq!(pages.len(), 1);
    assert_eq!(field(&pages[0], "page"), &Avro::Int(1));
    assert_eq!(
        field(&pages[0], "confidence"),
        &Avro::Double(
            done["metadata"]["ocr_pages"][0]["confidence"]
                .as_f64()
                .unwrap()
        )
    );
}

#[tokio::test]
async fn a_failed_document_publishes_doc_failed_with_its_reason() {
    let s = TestServer::start().await;
    let mut rx = s.backend.subscribe();
    let id = s
        .upload_ok(
            "broken.pdf",
            b"%PDF-1.7\nthis is not really a pdf\n%%EOF".to_vec(),
        )
        .await;
    let events = next_events(&mut rx, &id, 2).await;
    assert_eq!(events[0].topic, "doc.uploaded");
    assert_eq!(events[1].topic, "doc.failed");
    let decoder = AvroDecoder::new(SrSettings::new(s.url("/registry")));
    let decoded = decoder.decode(Some(&events[1].value)).await.unwrap().value;
    let Avro::String(reason) = field(&decoded, "reason") else {
        panic!("reason is a string");
    };
    let done = s.wait_done(&id).await;
    assert_eq!(done["failure"].as_str(), Some(reason.as_str()));
}

#[tokio::test]
async fn refused_requests_write_no_event() {
    let s = TestServer::start().await;
    let mut rx = s.backend.subscribe();
    // Empty, unsupported, and deleting what does not exist: nothing changes, no event.
    assert_eq!(
        s.upload("empty.txt", Vec::new()).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        s.upload("x.bin", vec![0u8, 1, 2, 3, 0xff, 0xfe])
            .await
            .status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let r = s
        .delete("/v2/documents/01a1ffb4-333d-76e8-a095-e4c54c648734")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A real upload afterwards: its event is the first the subscriber sees.
    let id = s.upload_ok("a.txt", b"hello there".to_vec()).await;
    let first = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an event")
        .unwrap();
    assert_eq!(
        (first.topic, first.key.as_str()),
        ("doc.uploaded", id.as_str())
    );
}
