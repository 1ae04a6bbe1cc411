//! docintel-sdk against a real server on loopback: the calls external developers make,
//! typed errors, and retries through a misbehaving proxy.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use common::{PNG_1X1, TestServer, pdf};
use docintel_sdk::TryStreamExt;
use docintel_sdk::types::DocumentStatus;
use docintel_sdk::{Client, Error, ListFilter};

fn client(base: &str, key: &str) -> Client {
    Client::builder(base).api_key(key).build().unwrap()
}

#[tokio::test]
async fn upload_wait_read_page_and_delete() {
    let s = TestServer::start().await;
    let c = client(&s.base, &s.key);

    let doc = c
        .upload_and_wait(
            pdf(&["RECEIPT", "Coffee 3.50 EUR"]),
            "receipt.pdf",
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert_eq!(doc.status, DocumentStatus::Processed);
    assert_eq!(doc.metadata.content_type, "application/pdf");
    assert_eq!(doc.metadata.page_count, Some(1));
    assert!(c.text(doc.id).await.unwrap().contains("Coffee 3.50 EUR"));
    assert_eq!(c.document(doc.id).await.unwrap().id, doc.id);

    // More than one page of listing, through the stream.
    for i in 0..4 {
        c.upload(format!("note {i}").into_bytes(), "n.txt")
            .await
            .unwrap();
    }
    let filter = ListFilter {
        page_size: Some(2),
        ..Default::default()
    };
    let all: Vec<_> = c.list_documents(filter).try_collect().await.unwrap();
    assert_eq!(all.len(), 5);
    let mut ids: Vec<_> = all.iter().map(|d| d.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 5, "no document twice");
    let processed = ListFilter {
        status: Some(DocumentStatus::Processed),
        page_size: Some(2),
        ..Default::default()
    };
    let only: Vec<_> = c.list_documents(processed).try_collect().await.unwrap();
    assert!(only.iter().all(|d| d.status == DocumentStatus::Processed));
    assert!(only.iter().any(|d| d.id == doc.id));

    c.delete(doc.id).await.unwrap();
    let err = c.document(doc.id).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn errors_are_typed_problems() {
    let s = TestServer::start_with(|c| c.max_upload_bytes = 1024).await;
    let c = client(&s.base, &s.key);

    let e = client(&s.base, "dik_wrong")
        .document(uuid::Uuid::nil())
        .await
        .unwrap_err();
    let p = e.problem().expect("problem");
    assert_eq!((p.status, p.code.as_str()), (401, "unauthorized"));
    assert!(!p.request_id.is_empty());

    let e = c.document(uuid::Uuid::nil()).await.unwrap_err();
    assert_eq!(e.problem().unwrap().code, "not_found");

    let e = c.upload(vec![b'a'; 2000], "big.txt").await.unwrap_err();
    assert_eq!(e.problem().unwrap().status, 413);

    let e = c
        .upload(b"PK\x03\x04\x14\x00\x00\x00".to_vec(), "a.zip")
        .await
        .unwrap_err();
    assert_eq!(e.problem().unwrap().status, 415);
    assert!(e.to_string().contains("application/zip"), "{e}");

    let e = c
        .upload_and_wait(
            b"%PDF-1.4 broken".to_vec(),
            "bad.pdf",
            Duration::from_secs(20),
        )
        .await
        .unwrap_err();
    match e {
        Error::ProcessingFailed { reason, document } => {
            assert!(reason.contains("PDF"), "{reason}");
            assert_eq!(document.status, DocumentStatus::Failed);
        }
        other => panic!("expected ProcessingFailed, got {other:?}"),
    }

    let e = c
        .upload_and_wait(PNG_1X1.to_vec(), "a.png", Duration::ZERO)
        .await;
    match e {
        Err(Error::Timeout { status, .. }) => assert!(
            matches!(status, DocumentStatus::Queued | DocumentStatus::Processing),
            "{status}"
        ),
        Ok(_) => {}
        Err(other) => panic!("expected a timeout or success, got {other:?}"),
    }

    // Nothing listening: a transport error, after the retries.
    let dead = Client::builder("http://127.0.0.1:9")
        .api_key("k")
        .max_attempts(2)
        .build()
        .unwrap();
    assert!(matches!(
        dead.document(uuid::Uuid::nil()).await,
        Err(Error::Transport(_))
    ));
}

/// How the proxy misbehaves.
#[derive(Clone, Copy)]
enum Fault {
    /// Forward the first upload, then hold its response past the client's timeout.
    LoseFirstUploadResponse,
    /// Answer the first request 429 with `Retry-After: 1`.
    TooManyRequestsOnce,
    /// Forward, adding deprecation headers.
    Deprecate,
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    fault: Fault,
    seen: Arc<AtomicUsize>,
    http: reqwest::Client,
}

async fn forward(State(p): State<Proxy>, req: Request) -> Response {
    let n = p.seen.fetch_add(1, Ordering::SeqCst);
    if matches!(p.fault, Fault::TooManyRequestsOnce) && n == 0 {
        return (
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            "slow down",
        )
            .into_response();
    }
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let url = format!(
        "{}{}",
        p.upstream,
        parts.uri.path_and_query().map_or("", |pq| pq.as_str())
    );
    let mut out = p.http.request(parts.method.clone(), url).body(body);
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            out = out.header(name, value);
        }
    }
    let resp = out.send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.unwrap();
    if matches!(p.fault, Fault::LoseFirstUploadResponse) && parts.method == "POST" && n == 0 {
        // The server did the work; the client never hears of it.
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    let mut r = Response::builder().status(status);
    for (name, value) in &headers {
        r = r.header(name, value);
    }
    if matches!(p.fault, Fault::Deprecate) {
        r = r
            .header("deprecation", "@1780272000")
            .header("sunset", "Tue, 01 Jun 2027 00:00:00 GMT")
            .header("link", "</deprecations.md#v2>; rel=\"deprecation\"");
    }
    r.body(Body::from(bytes)).unwrap()
}

async fn proxy(upstream: &str, fault: Fault) -> (String, Arc<AtomicUsize>) {
    let seen = Arc::new(AtomicUsize::new(0));
    let state = Proxy {
        upstream: upstream.to_owned(),
        fault,
        seen: seen.clone(),
        http: reqwest::Client::new(),
    };
    let app = axum::Router::new().fallback(forward).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), seen)
}

#[tokio::test]
async fn a_retried_upload_after_a_lost_response_creates_one_document() {
    let s = TestServer::start().await;
    let (base, seen) = proxy(&s.base, Fault::LoseFirstUploadResponse).await;
    let c = Client::builder(&base)
        .api_key(&s.key)
        .timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    let doc = c.upload(pdf(&["once"]), "once.pdf").await.unwrap();
    assert!(seen.load(Ordering::SeqCst) >= 2, "the upload was retried");
    assert_eq!(
        s.document_count().await,
        1,
        "one document for one logical upload"
    );
    let list: serde_json::Value = s
        .get("/v2/documents")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["id"], doc.id.to_string());
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let s = TestServer::start().await;
    let (base, seen) = proxy(&s.base, Fault::TooManyRequestsOnce).await;
    let c = client(&base, &s.key);
    let start = Instant::now();
    let page: Vec<_> = c
        .list_documents(ListFilter::default())
        .try_collect()
        .await
        .unwrap();
    assert!(page.is_empty());
    assert_eq!(seen.load(Ordering::SeqCst), 2);
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        start.elapsed()
    );

    // Without retries the 429 reaches the caller, typed.
    let (base, _) = proxy(&s.base, Fault::TooManyRequestsOnce).await;
    let once = Client::builder(&base)
        .api_key(&s.key)
        .max_attempts(1)
        .build()
        .unwrap();
    let e = once.document(uuid::Uuid::nil()).await.unwrap_err();
    assert_eq!(e.status(), Some(429));
}

#[tokio::test]
async fn hundred_concurrent_uploads_with_one_key_make_one_document() {
    let s = TestServer::start().await;
    let c = client(&s.base, &s.key);
    let body = pdf(&["same upload"]);
    let uploads = (0..100).map(|_| c.upload_with_key(body.clone(), "same.pdf", "one-key"));
    let docs = futures_util::future::join_all(uploads).await;
    let ids: std::collections::HashSet<_> = docs.into_iter().map(|d| d.unwrap().id).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(s.document_count().await, 1);
}

#[tokio::test]
async fn deprecation_headers_are_noticed() {
    let s = TestServer::start().await;
    let c = client(&s.base, &s.key);
    c.list_documents(ListFilter::default())
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    assert!(c.deprecation_notices().is_empty(), "v2 is not deprecated");

    let (base, _) = proxy(&s.base, Fault::Deprecate).await;
    let c = client(&base, &s.key);
    c.list_documents(ListFilter::default())
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    c.list_documents(ListFilter::default())
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    let notices = c.deprecation_notices();
    assert_eq!(notices.len(), 1, "one per operation");
    let n = &notices[0];
    assert_eq!(n.operation, "list_documents");
    assert_eq!(n.sunset.unwrap().to_rfc3339(), "2027-06-01T00:00:00+00:00");
    assert_eq!(
        n.deprecated_since.unwrap().to_rfc3339(),
        "2026-06-01T00:00:00+00:00"
    );
    assert!(n.days_left().is_some());
}

#[test]
fn the_sdk_packages_on_its_own() {
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "package",
            "-p",
            "docintel-sdk",
            "--list",
            "--allow-dirty",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files = String::from_utf8(out.stdout).unwrap();
    let files: Vec<&str> = files.lines().collect();
    for f in &files {
        assert!(
            !f.starts_with("..") && !f.starts_with('/'),
            "{f} is outside the crate"
        );
    }
    for needed in [
        "src/generated.rs",
        "src/lib.rs",
        "README.md",
        "examples/upload_and_wait.rs",
    ] {
        assert!(files.contains(&needed), "{needed} missing from {files:?}");
    }
}

/// What an external developer tripped over first: a stream to loop over with
/// `while let`, a client to print, and mistakes caught where they are made.
#[tokio::test]
async fn streams_loop_clients_print_and_mistakes_fail_early() {
    let s = TestServer::start().await;
    let c = client(&s.base, &s.key);
    for i in 0..3 {
        c.upload(format!("note {i}").into_bytes(), "n.txt")
            .await
            .unwrap();
    }
    // The stream is Unpin: `try_next` in a loop, with only the SDK's re-exports.
    let mut docs = c.list_documents(ListFilter {
        page_size: Some(2),
        ..Default::default()
    });
    let mut seen = 0;
    while let Some(doc) = docs.try_next().await.unwrap() {
        assert_eq!(doc.filename, "n.txt");
        seen += 1;
    }
    assert_eq!(seen, 3);

    // Debug shows where, never the key.
    let shown = format!("{c:?}");
    assert!(
        shown.contains(&s.base) && !shown.contains(&s.key),
        "{shown}"
    );

    // A base URL without a scheme fails in build(), not at the first call.
    for bad in [
        "127.0.0.1:8080",
        "localhost",
        "ftp://example.org",
        "http://",
    ] {
        match Client::builder(bad).build() {
            Err(Error::Invalid { code, detail }) => {
                assert_eq!(code, "invalid_base_url");
                assert!(detail.contains("base URL"), "{bad}: {detail}");
            }
            other => panic!("{bad}: {other:?}"),
        }
    }

    // Page sizes outside 1–100 are refused before any request.
    for size in [0, 101, 500] {
        let mut bad = c.list_documents(ListFilter {
            page_size: Some(size),
            ..Default::default()
        });
        match bad.try_next().await {
            Err(Error::Invalid { code, detail }) => {
                assert_eq!(code, "invalid_parameter");
                assert!(detail.contains("between 1 and 100"), "{detail}");
            }
            other => panic!("page_size {size}: {other:?}"),
        }
    }
}

/// `client.raw()` errors convert with `?` into the SDK's error, the server's problem
/// document parsed (they used to be an unread byte stream).
#[tokio::test]
async fn raw_errors_convert_into_the_sdk_error_with_the_problem() {
    use docintel_sdk::types::{WebhookCreate, WebhookCreateUrl};
    let s = TestServer::start().await;
    let c = client(&s.base, &s.key);
    async fn create(c: &Client) -> Result<(), Error> {
        c.raw()
            .create_webhook()
            .body(WebhookCreate {
                description: None,
                event_types: vec![],
                url: WebhookCreateUrl::try_from("https://example.org/hook").unwrap(),
            })
            .send()
            .await?;
        Ok(())
    }
    let e = create(&c).await.unwrap_err();
    let p = e
        .problem()
        .unwrap_or_else(|| panic!("not an API error: {e:?}"));
    assert_eq!(
        (p.status, p.code.as_str()),
        (422, "invalid_webhook"),
        "{p:?}"
    );
    assert!(p.detail.contains("at least one event"), "{p:?}");
    assert!(!p.request_id.is_empty());
    assert!(e.to_string().contains("invalid_webhook"), "{e}");
}

/// The whole v2 surface on the hand-written client: webhooks from subscription to a
/// verified, parsed delivery, the thumbnail as bytes, an upload streamed from a file, and
/// a bad file name refused with the server's code before sending.
#[tokio::test]
async fn webhooks_thumbnails_and_file_uploads_through_the_client() {
    use crate::webhooks::{Receiver, fast_retries};
    use docintel_sdk::types::{WebhookEventType, WebhookState};

    let s = TestServer::start_with(fast_retries).await;
    let c = client(&s.base, &s.key);
    let (receiver, url) = Receiver::start(200).await;

    let created = c
        .create_webhook(&url, &[WebhookEventType::DocProcessed])
        .await
        .unwrap();
    assert!(created.secret.starts_with("whsec_"));
    let id = created.webhook.id;
    assert!(c.webhooks().await.unwrap().iter().any(|w| w.id == id));
    assert_eq!(c.webhook(id).await.unwrap().status, WebhookState::Active);

    // A PNG upload: processed, delivered, verified and parsed in one call.
    let doc = c
        .upload_and_wait(PNG_1X1.to_vec(), "pixel.png", Duration::from_secs(20))
        .await
        .unwrap();
    let delivery = &receiver.wait_for(1).await[0];
    let event = docintel_sdk::construct_event(
        &created.secret,
        &delivery.signature,
        &delivery.body,
        Duration::from_secs(300),
    )
    .unwrap();
    assert_eq!(event.type_, WebhookEventType::DocProcessed);
    assert_eq!(event.data.unwrap().id, doc.id);
    assert_eq!(event.id, delivery.event_id);
    // Another secret, or a tampered body, is refused.
    assert!(
        docintel_sdk::construct_event(
            "whsec_other",
            &delivery.signature,
            &delivery.body,
            Duration::from_secs(300)
        )
        .is_err()
    );

    let mut deliveries = c.webhook_deliveries(id);
    let first = deliveries.try_next().await.unwrap().expect("a delivery");
    assert_eq!(first.event_id, delivery.event_id);

    let rotated = c.rotate_webhook_secret(id).await.unwrap();
    assert_ne!(rotated.secret, created.secret);
    assert_eq!(c.enable_webhook(id).await.unwrap().id, id);
    c.delete_webhook(id).await.unwrap();
    assert_eq!(c.webhook(id).await.unwrap_err().code(), Some("not_found"));

    let png = c.thumbnail(doc.id).await.unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");

    // A file, streamed from disk, named after it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes-2026.txt");
    std::fs::write(&path, "meeting notes\n".repeat(10_000)).unwrap();
    let uploaded = c.upload_file(&path).await.unwrap();
    assert_eq!(uploaded.filename, "notes-2026.txt");
    let done = c.wait(uploaded.id, Duration::from_secs(20)).await.unwrap();
    assert_eq!(done.metadata.size_bytes, 140_000);

    // A bad name never leaves the client, and says so with the server's code.
    let e = c.upload(b"x".to_vec(), "").await.unwrap_err();
    assert_eq!(e.code(), Some("invalid_filename"), "{e:?}");
    let e = c
        .create_webhook("not a url", &[WebhookEventType::DocProcessed])
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("invalid_webhook"), "{e:?}");
}

/// The SDK's first-program example (`sdks/rust/examples/first_program.rs`: only `docintel-sdk`
/// and `tokio`, the eight things a first program does) run as its own process against
/// a real server. `cargo test --workspace` builds examples; run alone, this builds it.
#[tokio::test]
async fn the_first_program_runs_against_a_real_server() {
    let examples = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join("examples");
    let program = examples.join("first_program");
    if !program.exists() {
        let built = std::process::Command::new(env!("CARGO"))
            .args([
                "build",
                "-q",
                "-p",
                "docintel-sdk",
                "--example",
                "first_program",
            ])
            .status()
            .unwrap();
        assert!(built.success(), "building the example");
    }
    let source = include_str!("../../sdks/rust/examples/first_program.rs");
    assert!(
        source.lines().count() <= 60,
        "the first program grew past 60 lines"
    );

    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("invoice-42.txt");
    std::fs::write(
        &file,
        "INVOICE No. 42\nBill to: Acme Ltd\nTotal due: 1,250.00 EUR\nPayment terms: 30 days\n",
    )
    .unwrap();
    let out = tokio::process::Command::new(&program)
        .arg(&file)
        .env("DOCINTEL_URL", &s.base)
        .env("DOCINTEL_API_KEY", &s.key)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "classified invoice ",
        "text Some(\"INVOICE No. 42\")",
        "listed mine 1",
        "missing 404 not_found",
        "wrong key Some(401) Some(\"unauthorized\")",
        "webhook evt_1 doc.processed",
        "deprecations 0",
    ] {
        assert!(stdout.contains(line), "no {line:?} in:\n{stdout}");
    }
}
