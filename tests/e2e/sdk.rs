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
    /// Answer every request 503 with `Retry-After: 0`.
    AlwaysUnavailable,
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
    if matches!(p.fault, Fault::AlwaysUnavailable) {
        return (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            [("retry-after", "0")],
            "down for maintenance",
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
    assert!(doc.replayed, "the retry got the first upload's answer");
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

/// A file streamed from disk is retried too: each attempt reads it again from the start.
#[tokio::test]
async fn a_file_upload_is_retried_with_the_file_read_again() {
    let s = TestServer::start().await;
    let (base, seen) = proxy(&s.base, Fault::LoseFirstUploadResponse).await;
    let c = Client::builder(&base)
        .api_key(&s.key)
        .timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("twice.pdf");
    let bytes = pdf(&["read twice"]);
    std::fs::write(&path, &bytes).unwrap();
    let up = c.upload_file(&path).await.unwrap();
    assert!(seen.load(Ordering::SeqCst) >= 2, "the upload was retried");
    assert!(up.replayed, "the retry got the first upload's answer");
    assert_eq!(s.document_count().await, 1);
    let done = c.wait(up.id, Duration::from_secs(20)).await.unwrap();
    assert_eq!(done.metadata.size_bytes, bytes.len() as u64);

    // Straight to the server: a first upload is not a replay, a repeat with its key is.
    let c = client(&s.base, &s.key);
    let first = c.upload_file_with_key(&path, "file-key-1").await.unwrap();
    let again = c.upload_file_with_key(&path, "file-key-1").await.unwrap();
    assert!(!first.replayed);
    assert!(again.replayed);
    assert_eq!(first.id, again.id);
}

/// An upload over the server's limit never leaves the client: refused with the code
/// the server would answer, no request sent.
#[tokio::test]
async fn an_oversize_upload_is_refused_before_sending() {
    let s = TestServer::start().await;
    let (base, seen) = proxy(&s.base, Fault::Deprecate).await;
    let c = client(&base, &s.key);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.pdf");
    // Sparse: nothing is written, the size is what the client reads.
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(docintel_sdk::MAX_UPLOAD_BYTES + 1).unwrap();
    let e = c.upload_file(&path).await.unwrap_err();
    assert!(
        matches!(&e, Error::Invalid { code, .. } if code == "payload_too_large"),
        "{e:?}"
    );
    assert_eq!(e.code(), Some("payload_too_large"));

    let small = Client::builder(&base)
        .api_key(&s.key)
        .max_upload_bytes(1024)
        .build()
        .unwrap();
    let e = small.upload(vec![b'a'; 1025], "big.txt").await.unwrap_err();
    assert_eq!(e.code(), Some("payload_too_large"), "{e:?}");
    assert!(e.to_string().contains("1024"), "{e}");
    assert_eq!(seen.load(Ordering::SeqCst), 0, "no request was sent");
    // At the limit it is sent (and the server takes it).
    small.upload(vec![b'a'; 1024], "ok.txt").await.unwrap();
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}

/// A real rate limit: the 429 arrives typed, with the server's `Retry-After`; one longer
/// than the policy waits for is returned at once. A 503 that outlasts the retries
/// arrives typed too, after every attempt.
#[tokio::test]
async fn rate_limits_and_outages_arrive_typed_with_retry_after() {
    // A day's window: on PostgreSQL the limit is a fixed window shared by replicas, and
    // two calls straddle two windows only at midnight UTC (a minute's would at every
    // minute's turn).
    let day = Duration::from_secs(86_400);
    let s = TestServer::launch(|l| {
        l.rate_limit = docintel_api::ratelimit::Limit {
            quota: 1,
            window: day,
        }
    })
    .await;
    let c = Client::builder(&s.base)
        .api_key(&s.key)
        .retry_policy(docintel_sdk::RetryPolicy {
            max_retry_after: Duration::from_secs(1),
            ..Default::default()
        })
        .build()
        .unwrap();
    c.list_documents_page(&ListFilter::default(), None)
        .await
        .unwrap();
    let e = c
        .list_documents_page(&ListFilter::default(), None)
        .await
        .unwrap_err();
    let Error::RateLimited {
        problem,
        retry_after,
    } = &e
    else {
        panic!("expected RateLimited, got {e:?}");
    };
    assert_eq!(problem.code, "rate_limited");
    let wait = retry_after.expect("the server sends Retry-After");
    assert!(wait > Duration::from_secs(1) && wait <= day, "{wait:?}");
    assert_eq!((e.status(), e.code()), (Some(429), Some("rate_limited")));
    assert_eq!(e.retry_after(), Some(wait));

    let (base, seen) = proxy(&s.base, Fault::AlwaysUnavailable).await;
    let c = Client::builder(&base)
        .api_key(&s.key)
        .max_attempts(3)
        .build()
        .unwrap();
    let e = c.document(uuid::Uuid::nil()).await.unwrap_err();
    assert_eq!(seen.load(Ordering::SeqCst), 3, "every attempt was made");
    assert!(
        matches!(e, Error::Unavailable { retry_after: Some(d), .. } if d.is_zero()),
        "{e:?}"
    );
    assert_eq!(e.status(), Some(503));
}

/// Page by page: each page's token fetches the next, the last has none; the same pages
/// as a stream.
#[tokio::test]
async fn documents_list_page_by_page() {
    let s = TestServer::start().await;
    let c = client(&s.base, &s.key);
    for i in 0..5 {
        c.upload(format!("note {i}").into_bytes(), "n.txt")
            .await
            .unwrap();
    }
    let filter = ListFilter {
        page_size: Some(2),
        ..Default::default()
    };
    let mut sizes = Vec::new();
    let mut ids = std::collections::HashSet::new();
    let mut token: Option<String> = None;
    loop {
        let page = c
            .list_documents_page(&filter, token.as_deref())
            .await
            .unwrap();
        sizes.push(page.items.len());
        ids.extend(page.items.iter().map(|d| d.id));
        token = page.next_page;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(sizes, [2, 2, 1]);
    assert_eq!(ids.len(), 5, "no document twice");

    let pages: Vec<_> = c.document_pages(filter).try_collect().await.unwrap();
    let sizes: Vec<_> = pages.iter().map(|p| p.items.len()).collect();
    assert_eq!(sizes, [2, 2, 1]);
    assert!(pages[..2].iter().all(|p| p.next_page.is_some()));

    let bad = ListFilter {
        page_size: Some(0),
        ..Default::default()
    };
    let e = c.list_documents_page(&bad, None).await.unwrap_err();
    assert_eq!(e.code(), Some("invalid_parameter"));
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

/// The version the SDK says it was generated for (and sends as `api-version`) is the
/// committed document's.
#[test]
fn the_sdk_names_the_api_version_it_was_generated_for() {
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("../../openapi/v2.json")).unwrap();
    assert_eq!(Some(Client::api_version()), doc["info"]["version"].as_str());
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
        "examples/highlight_word.rs",
        "examples/webhook_receiver.rs",
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

/// Builds one of the SDK's examples and returns its program. Built every time (a no-op
/// when fresh), so a program left by an older build is never run.
/// Runs an example program with `args` against `s` (its URL and key in the environment,
/// as a user's program gets them); its stdout, once it has succeeded.
async fn run_example(
    program: &std::path::Path,
    s: &TestServer,
    args: &[&std::ffi::OsStr],
) -> String {
    let out = tokio::process::Command::new(program)
        .args(args)
        .env("DOCINTEL_BASE_URL", &s.base)
        .env("DOCINTEL_API_KEY", &s.key)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn example(name: &str) -> std::path::PathBuf {
    let built = std::process::Command::new(env!("CARGO"))
        .args(["build", "-q", "-p", "docintel-sdk", "--example", name])
        .status()
        .unwrap();
    assert!(built.success(), "building the {name} example");
    std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join("examples")
        .join(name)
}

/// The SDK's first-program example (`sdks/rust/examples/first_program.rs`: only
/// `docintel-sdk` and `tokio`, the things a first program does) run as its own process
/// against a real server.
#[tokio::test]
async fn the_first_program_runs_against_a_real_server() {
    let program = example("first_program");
    let source = include_str!("../../sdks/rust/examples/first_program.rs");
    assert!(
        source.lines().count() <= 30,
        "the first program grew past 30 lines"
    );

    let s = TestServer::start().await;
    let c = client(&s.base, &s.key);
    for i in 0..2 {
        c.upload(format!("note {i}").into_bytes(), "n.txt")
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("invoice-42.pdf");
    std::fs::write(
        &file,
        pdf(&[
            "INVOICE No. 42",
            "Bill to: Acme Ltd",
            "Total due: 1,250.00 EUR",
            "Payment terms: 30 days",
        ]),
    )
    .unwrap();
    let stdout = run_example(&program, &s, &[file.as_os_str()]).await;
    for line in [
        "classified invoice ",
        "page of 3 documents",
        "error Some(404) Some(\"not_found\")",
        "error Some(401) Some(\"unauthorized\")",
        "webhook evt_1 doc.processed",
    ] {
        assert!(stdout.contains(line), "no {line:?} in:\n{stdout}");
    }
}

/// Layouts, Markdown and the searchable PDF through the client.
#[tokio::test]
async fn layout_markdown_and_searchable_pdf_through_the_client() {
    let s = TestServer::start().await;
    let c = client(&s.base, &s.key);
    let doc = c
        .upload_and_wait(
            pdf(&["INVOICE No. 42", "Total due: 1,250.00 EUR"]),
            "invoice.pdf",
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    let layout = c.layout(doc.id, Some("1")).await.unwrap();
    assert_eq!(
        (
            layout.page_count,
            layout.pages.len(),
            layout.next_pages.clone()
        ),
        (1, 1, None)
    );
    let pages: Vec<_> = c.layout_pages(doc.id).try_collect().await.unwrap();
    let found = docintel_sdk::find_words(&pages, "total");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].word.text, "Total");
    let png = c.thumbnail(doc.id).await.unwrap();
    let (w, h) = docintel_sdk::png_size(&png).unwrap();
    assert_eq!(w.max(h), 256);
    let px = found[0].to_pixels(w, h);
    assert!(
        px.width() > 0 && px.height() > 0 && px.right <= w && px.bottom <= h,
        "{px}"
    );
    assert!(c.markdown(doc.id).await.unwrap().contains("Total due"));
    assert_eq!(
        c.searchable_pdf(doc.id).await.unwrap_err().code(),
        Some("not_found")
    );
    // Refused before sending, and by the server.
    let e = c.layout(doc.id, Some("0")).await.unwrap_err();
    assert_eq!((e.status(), e.code()), (None, Some("invalid_parameter")));
    let e = c.layout(doc.id, Some("2-1")).await.unwrap_err();
    assert_eq!(
        (e.status(), e.code()),
        (Some(400), Some("invalid_parameter"))
    );
    let note = c
        .upload_and_wait(b"plain text".to_vec(), "n.txt", Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(
        c.layout(note.id, None).await.unwrap_err().code(),
        Some("not_found")
    );
    // A scan's searchable PDF comes back as a PDF.
    let scan = crate::processing::text_image(&["RECEIPT 7", "TOTAL 12.50"]);
    let doc = c
        .upload_and_wait(scan, "scan.png", Duration::from_secs(60))
        .await
        .unwrap();
    assert!(
        c.searchable_pdf(doc.id)
            .await
            .unwrap()
            .starts_with(b"%PDF-")
    );
}

/// The word-highlighting example as its own process, against a real server.
#[tokio::test]
async fn the_highlight_word_example_finds_a_words_box() {
    let program = example("highlight_word");
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("invoice-42.pdf");
    std::fs::write(&file, pdf(&["INVOICE No. 42", "Total due: 1,250.00 EUR"])).unwrap();
    let stdout = run_example(&program, &s, &[file.as_os_str(), "Total".as_ref()]).await;
    for line in [
        "layout: 1 page(s); \"Total\" found 1 time(s)",
        ": \"Total\" at ",
    ] {
        assert!(stdout.contains(line), "no {line:?} in:\n{stdout}");
    }
}

/// The webhook receiver example as its own process: subscribed on a real server, it
/// gets the signed `doc.processed` delivery and verifies it; a forged one it refuses.
#[tokio::test]
async fn the_webhook_receiver_example_verifies_real_deliveries() {
    use docintel_sdk::types::WebhookEventType;
    use tokio::io::AsyncBufReadExt;

    let program = example("webhook_receiver");
    let s = TestServer::start_with(crate::webhooks::fast_retries).await;
    let c = client(&s.base, &s.key);
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{addr}/webhooks");
    let created = c
        .create_webhook(&url, &[WebhookEventType::DocProcessed])
        .await
        .unwrap();
    let mut receiver = tokio::process::Command::new(&program)
        .env("DOCINTEL_WEBHOOK_SECRET", &created.secret)
        .env("DOCINTEL_WEBHOOK_ADDR", addr.to_string())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(receiver.stdout.take().unwrap()).lines();
    let mut next_line = async || {
        tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("the receiver printed nothing for 60 s")
            .unwrap()
            .expect("the receiver ended")
    };
    assert_eq!(next_line().await, format!("listening on {url}"));

    let doc = c
        .upload_and_wait(PNG_1X1.to_vec(), "pixel.png", Duration::from_secs(20))
        .await
        .unwrap();
    let line = next_line().await;
    assert!(
        line.starts_with("verified doc.processed ") && line.ends_with(&doc.id.to_string()),
        "{line}"
    );
    let event_id = line.split(' ').nth(2).unwrap().to_owned();
    let mut deliveries = c.webhook_deliveries(created.webhook.id);
    let delivery = deliveries.try_next().await.unwrap().expect("a delivery");
    assert_eq!(delivery.event_id, event_id);

    // A delivery signed with another secret is refused.
    let body = br#"{"id":"evt_forged","type":"doc.processed","created":"2026-12-01T10:00:00Z"}"#;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let forged = reqwest::Client::new()
        .post(&url)
        .header(
            "docintel-signature",
            docintel_sdk::sign_webhook("whsec_other", now, body),
        )
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
}

#[tokio::test]
async fn a_key_made_through_the_sdk_holds_only_its_scopes_until_revoked() {
    use docintel_sdk::types::KeyScope;
    let s = TestServer::start().await;
    let admin = client(&s.base, &s.key);
    let made = admin
        .create_key(&[KeyScope::DocumentsRead], None)
        .await
        .unwrap();
    assert_eq!(made.key.scopes, [KeyScope::DocumentsRead]);
    assert!(made.secret.starts_with(&made.key.prefix));
    let reader = client(&s.base, &made.secret);
    let page = reader
        .list_documents_page(&ListFilter::default(), None)
        .await
        .unwrap();
    assert!(page.items.is_empty());
    let e = reader
        .upload(b"a note".to_vec(), "n.txt")
        .await
        .unwrap_err();
    let p = e.problem().expect("problem");
    assert_eq!((p.status, p.code.as_str()), (403, "insufficient_scope"));
    assert!(p.detail.contains("documents:write"), "{}", p.detail);
    // Listed without its secret; revoked, it is refused at once by this server.
    let listed = admin.keys().await.unwrap();
    assert!(listed.iter().any(|k| k.id == made.key.id));
    admin.revoke_key(&made.key.id).await.unwrap();
    let e = reader.document(uuid::Uuid::nil()).await.unwrap_err();
    assert_eq!(e.status(), Some(401));
    assert!(
        !admin
            .keys()
            .await
            .unwrap()
            .iter()
            .any(|k| k.id == made.key.id)
    );
    // A malformed id is refused before anything is sent.
    let e = admin.revoke_key("not-a-key").await.unwrap_err();
    assert_eq!(e.code(), Some("invalid_id"));

    // The trail has both, newest first, made by the admin's key; the reader may not read it.
    use docintel_sdk::TryStreamExt;
    let filter = docintel_sdk::AuditFilter {
        action: Some("key.".into()),
        ..Default::default()
    };
    let trail: Vec<_> = admin.audit_events(filter).try_collect().await.unwrap();
    let actions: Vec<_> = trail.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["key.revoke", "key.create"]);
    assert!(trail.iter().all(|e| *e.resource_id == *made.key.id));
    let e = client(&s.base, &made.secret)
        .audit_events_page(&Default::default(), None)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(401), "revoked");
}

#[tokio::test]
async fn usage_and_the_quota_problem_through_the_client() {
    let s = TestServer::start_with(|c| {
        c.quota = docintel_backend::model::Quota {
            max_bytes: None,
            max_documents: Some(1),
        }
    })
    .await;
    let c = client(&s.base, &s.key);
    let u = c.usage().await.unwrap();
    assert_eq!(
        (u.documents, u.bytes, u.max_documents, u.max_bytes),
        (0, 0, Some(1), None)
    );
    c.upload(b"the only note".to_vec(), "one.txt")
        .await
        .unwrap();
    let e = c
        .upload(b"one too many".to_vec(), "two.txt")
        .await
        .unwrap_err();
    let p = e.problem().expect("problem");
    assert_eq!((p.status, p.code.as_str()), (413, "quota_exceeded"));
    let usage = p.usage.clone().expect("the usage in the problem");
    assert_eq!((usage.documents, usage.bytes), (1, 13));
    assert_eq!(c.usage().await.unwrap(), usage);
}
