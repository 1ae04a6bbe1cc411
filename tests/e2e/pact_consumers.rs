//! Consumer-side contract tests. Each writes its pact through a Pact mock server and then
//! checks that the committed file in `contracts/pacts/` is exactly what it produced (the
//! pact library's version stamp aside). `DOCINTEL_UPDATE_PACTS=1` rewrites the committed
//! files instead.
//!
//! 1. `docintel-sdk`: the real SDK calls, against the mock, for the v2 API.
//! 2. `legacy-portal`: a v1 client, reading documents and relying on the deprecation headers.
//! 3. `notification-service`: a V4 asynchronous message pact for `doc.classified` — the
//!    JSON view of the Avro record it relies on, with metadata naming the content type,
//!    topic and schema subject; its handler below consumes each message the pact holds.

use std::path::{Path, PathBuf};
use std::time::Duration;

use pact_consumer::mock_server::StartMockServerAsync;
use pact_consumer::prelude::*;
use serde_json::Value;

pub const DOC_ID: &str = "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11";
pub const MISSING_ID: &str = "0192f0c4-0000-7000-8000-000000000404";
pub const PACT_KEY: &str = "dik_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

const UUID_RE: &str = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";
const TIME_RE: &str = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$";

fn committed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("contracts/pacts")
}

/// The pact without what changes from one pact library version to the next.
fn normalized(path: &Path) -> Value {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("pactRust");
    }
    v
}

/// Compares (or with DOCINTEL_UPDATE_PACTS=1 replaces) the committed pact.
fn check_committed(written_dir: &Path, file: &str) {
    let written = written_dir.join(file);
    let committed = committed_dir().join(file);
    if std::env::var_os("DOCINTEL_UPDATE_PACTS").is_some() {
        std::fs::copy(&written, &committed).unwrap();
        return;
    }
    assert!(
        committed.exists() && normalized(&written) == normalized(&committed),
        "contracts/pacts/{file} differs from what the consumer test produces; \
         rerun with DOCINTEL_UPDATE_PACTS=1 to update it (and review the diff)"
    );
}

fn document_body(status: &str) -> JsonPattern {
    json_pattern!({
        "id": term!(UUID_RE, DOC_ID),
        "filename": like!("invoice.pdf"),
        "status": status,
        "failure": null,
        "metadata": {
            "content_type": like!("application/pdf"),
            "size_bytes": like!(1234),
            "sha256": term!("^[0-9a-f]{64}$", "9f2b5c0e5d2a7f6f2c9a4f8b3c1d0e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e"),
            "page_count": like!(1),
            "word_count": like!(6),
            "char_count": like!(40),
            "language": null
        },
        "classification": {
            "label": like!("invoice"),
            "confidence": like!(0.97),
            "model_version": like!("nb-1-090edd4a")
        },
        "warnings": each_like!("thumbnail_unavailable", min = 0),
        "created_at": term!(TIME_RE, "2026-11-21T10:00:00.000Z"),
        "updated_at": term!(TIME_RE, "2026-11-21T10:00:01.000Z")
    })
}

#[tokio::test]
async fn docintel_sdk_consumer() {
    let out = tempfile::tempdir().unwrap();
    let mut pact = PactBuilderAsync::new_v4("docintel-sdk", "docintel");
    pact.output_dir(out.path());
    pact.interaction("upload a text document", "", |mut i| async move {
        i.given("the API key is valid");
        i.request
            .post()
            .path("/v2/documents")
            .query_param("filename", "invoice.txt")
            .header("Authorization", auth())
            .header("Content-Type", "application/octet-stream")
            .body("Invoice 42. Total due: 10 EUR.");
        i.response
            .status(202)
            .header("Location", term!("^/v2/documents/[0-9a-f-]{36}$", format!("/v2/documents/{DOC_ID}")))
            .header("Content-Type", "application/json")
            .json_body(json_pattern!({
                "id": term!(UUID_RE, DOC_ID),
                "filename": "invoice.txt",
                "status": "queued",
                "failure": null,
                "metadata": {
                    "content_type": "text/plain",
                    "size_bytes": 30,
                    "sha256": like!("0bd7d4c2f3a1e6f0c3b1e2d4a5f6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4"),
                    "page_count": null,
                    "word_count": null,
                    "char_count": null,
                    "language": null
                },
                "classification": null,
                "warnings": [],
                "created_at": term!(TIME_RE, "2026-11-21T10:00:00.000Z"),
                "updated_at": term!(TIME_RE, "2026-11-21T10:00:00.000Z")
            }));
        i
    })
    .await;
    pact.interaction("get a processed invoice", "", |mut i| async move {
        i.given(format!(
            "a processed invoice document exists with id {DOC_ID}"
        ));
        i.request
            .get()
            .path(format!("/v2/documents/{DOC_ID}"))
            .header("Authorization", auth());
        i.response
            .ok()
            .header("Content-Type", "application/json")
            .json_body(document_body("processed"));
        i
    })
    .await;
    pact.interaction("list documents, one page", "", |mut i| async move {
        i.given(format!(
            "a processed invoice document exists with id {DOC_ID}"
        ));
        i.request
            .get()
            .path("/v2/documents")
            .query_param("limit", "100")
            .header("Authorization", auth());
        i.response
            .ok()
            .header("Content-Type", "application/json")
            .json_body(json_pattern!({
                "items": [document_body("processed")],
                "next_page": null
            }));
        i
    })
    .await;
    pact.interaction("delete a document", "", |mut i| async move {
        i.given(format!(
            "a processed invoice document exists with id {DOC_ID}"
        ));
        i.request
            .delete()
            .path(format!("/v2/documents/{DOC_ID}"))
            .header("Authorization", auth());
        i.response.status(204);
        i
    })
    .await;
    pact.interaction(
        "get a document that does not exist",
        "",
        |mut i| async move {
            i.given(format!("no document with id {MISSING_ID}"));
            i.request
                .get()
                .path(format!("/v2/documents/{MISSING_ID}"))
                .header("Authorization", auth());
            i.response
                .not_found()
                .header("Content-Type", "application/problem+json")
                .json_body(json_pattern!({
                    "type": "/problems/not_found",
                    "title": "Not Found",
                    "status": 404,
                    "detail": like!(format!("no document with id {MISSING_ID}")),
                    "instance": format!("/v2/documents/{MISSING_ID}"),
                    "code": "not_found",
                    "request_id": like!("01a1ffda-1d54-7153-af1d-ebb160a79ab5")
                }));
            i
        },
    )
    .await;
    pact.interaction("use an expired key", "", |mut i| async move {
        i.given("an expired key");
        i.request
            .get()
            .path(format!("/v2/documents/{DOC_ID}"))
            .header("Authorization", "Bearer dik_expired");
        i.response
            .unauthorized()
            .header("WWW-Authenticate", r#"Bearer realm="docintel""#)
            .header("Content-Type", "application/problem+json")
            .json_body(json_pattern!({
                "type": "/problems/unauthorized",
                "title": "Unauthorized",
                "status": 401,
                "detail": like!("invalid API key"),
                "instance": like!(format!("/v2/documents/{DOC_ID}")),
                "code": "unauthorized",
                "request_id": like!("01a1ffda-1d54-7153-af1d-ebb160a79ab5")
            }));
        i
    })
    .await;
    {
        let server = pact.start_mock_server_async(None, None).await;
        let base = server.url().to_string();
        let sdk = docintel_sdk::Client::builder(base.trim_end_matches('/'))
            .api_key(PACT_KEY)
            .max_attempts(1)
            .build()
            .unwrap();
        let doc = sdk
            .upload(b"Invoice 42. Total due: 10 EUR.".to_vec(), "invoice.txt")
            .await
            .unwrap();
        assert_eq!(doc.status, docintel_sdk::types::DocumentStatus::Queued);
        assert!(!doc.replayed, "a first upload is not a replay");
        let id: uuid::Uuid = DOC_ID.parse().unwrap();
        let got = sdk.document(id).await.unwrap();
        assert_eq!(got.classification.unwrap().label, "invoice");
        use futures_util::TryStreamExt;
        let all: Vec<_> = sdk
            .list_documents(Default::default())
            .try_collect()
            .await
            .unwrap();
        assert_eq!(all.len(), 1);
        sdk.delete(id).await.unwrap();
        let missing = sdk.document(MISSING_ID.parse().unwrap()).await.unwrap_err();
        assert_eq!(missing.problem().unwrap().code, "not_found");
        let expired = docintel_sdk::Client::builder(base.trim_end_matches('/'))
            .api_key("dik_expired")
            .max_attempts(1)
            .build()
            .unwrap();
        let e = expired.document(id).await.unwrap_err();
        assert_eq!(e.status(), Some(401));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    check_committed(out.path(), "docintel-sdk-docintel.json");
}

fn auth() -> pact_consumer::patterns::Term<pact_consumer::patterns::StringPattern> {
    term!("^Bearer dik_[0-9a-f]{64}$", format!("Bearer {PACT_KEY}"))
}

#[tokio::test]
async fn legacy_portal_consumer() {
    let out = tempfile::tempdir().unwrap();
    let mut pact = PactBuilderAsync::new_v4("legacy-portal", "docintel");
    pact.output_dir(out.path());
    let deprecation_headers = |r: &mut pact_consumer::builders::ResponseBuilder| {
        r.header("Deprecation", term!(r"^@\d+$", "@1780272000"))
            .header(
                "Sunset",
                term!(
                    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$",
                    "Tue, 01 Jun 2027 00:00:00 GMT"
                ),
            )
            .header(
                "Link",
                // Pact matches a regex against the whole value.
                term!(
                    r#"^<[^>]+#v1>; rel="deprecation"(; type="text/markdown")?, <[^>]+>; rel="successor-version"$"#,
                    r#"</deprecations.md#v1>; rel="deprecation"; type="text/markdown", </v2/documents>; rel="successor-version""#
                ),
            );
    };
    let legacy_doc = || {
        json_pattern!({
            "id": term!(UUID_RE, DOC_ID),
            "filename": like!("invoice.pdf"),
            "status": "processed",
            "label": like!("invoice"),
            "confidence": like!(0.97),
            "text": like!("INVOICE 2026-117 Total due: 1,250.00 EUR"),
            "created_at": term!(TIME_RE, "2026-11-21T10:00:00.000Z")
        })
    };
    pact.interaction("get a document the legacy way", "", |mut i| async move {
        i.given(format!(
            "a processed invoice document exists with id {DOC_ID}"
        ));
        i.request
            .get()
            .path(format!("/v1/documents/{DOC_ID}"))
            .header("Authorization", auth());
        deprecation_headers(&mut i.response);
        i.response.ok().json_body(legacy_doc());
        i
    })
    .await;
    pact.interaction("list documents the legacy way", "", |mut i| async move {
        i.given(format!(
            "a processed invoice document exists with id {DOC_ID}"
        ));
        i.request
            .get()
            .path("/v1/documents")
            .query_param("page", "1")
            .query_param("per_page", "20")
            .header("Authorization", auth());
        deprecation_headers(&mut i.response);
        i.response.ok().json_body(json_pattern!({
            "documents": [legacy_doc()],
            "page": 1,
            "per_page": 20,
            "total": 1
        }));
        i
    })
    .await;
    {
        let server = pact.start_mock_server_async(None, None).await;
        let base = server.url().to_string();
        let base = base.trim_end_matches('/');
        let http = reqwest::Client::new();
        let r = http
            .get(format!("{base}/v1/documents/{DOC_ID}"))
            .bearer_auth(PACT_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["sunset"].to_str().unwrap().ends_with("GMT"));
        let doc: Value = r.json().await.unwrap();
        assert_eq!(doc["label"], "invoice");
        let r = http
            .get(format!("{base}/v1/documents?page=1&per_page=20"))
            .bearer_auth(PACT_KEY)
            .send()
            .await
            .unwrap();
        let list: Value = r.json().await.unwrap();
        assert_eq!(list["total"], 1);
    }
    check_committed(out.path(), "legacy-portal-docintel.json");
}

/// What the notification service reads from a `doc.classified` event (its own type, in
/// its own code base; reproduced here as the consumer's side of the contract).
#[derive(Debug, serde::Deserialize)]
struct Classified {
    event_id: String,
    document_id: String,
    tenant_id: String,
    label: String,
    confidence: f64,
    model_version: String,
}

/// The notification service's handler: the text it would send the document's owner.
fn notification_for(event: &Classified) -> String {
    format!(
        "Document {} of tenant {} was classified as {} ({:.0}% confident, model {}) [event {}]",
        event.document_id,
        event.tenant_id,
        event.label,
        event.confidence * 100.0,
        event.model_version,
        event.event_id
    )
}

#[test]
fn notification_service_message_consumer() {
    let out = tempfile::tempdir().unwrap();
    let mut pact = PactBuilder::new_v4("notification-service", "docintel");
    pact.with_output_dir(out.path());
    pact.message_interaction("a doc.classified event for a processed invoice", |mut i| {
        i.given(format!(
            "a processed invoice document exists with id {DOC_ID}"
        ));
        i.metadata("contentType", "application/json");
        i.metadata("topic", "doc.classified");
        i.metadata("schema_subject", "doc.classified-value");
        i.json_body(json_pattern!({
            "event_id": term!(UUID_RE, "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b99"),
            "occurred_at": like!(1_780_000_000_000i64),
            "document_id": DOC_ID,
            "tenant_id": term!(UUID_RE, "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b00"),
            "label": like!("invoice"),
            "confidence": like!(0.97),
            "model_version": like!("nb-1-090edd4a")
        }));
        i
    });
    let mut handled = 0;
    for message in pact.messages() {
        let body = message.contents.contents.value().expect("a body");
        let event: Classified = serde_json::from_slice(&body).expect("the handler reads it");
        let text = notification_for(&event);
        assert!(text.contains(DOC_ID) && text.contains("invoice"), "{text}");
        assert_eq!(
            message.contents.metadata.get("schema_subject"),
            Some(&serde_json::json!("doc.classified-value"))
        );
        handled += 1;
    }
    assert_eq!(handled, 1);
    check_committed(out.path(), "notification-service-docintel.json");
}
