//! The v2 documents API end to end: a real server on loopback, real files, real bytes.

use crate::common;

use common::{PNG_1X1, TestServer, assert_problem, pdf, pdf_pages};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

#[tokio::test]
async fn upload_process_read_list_delete() {
    let s = TestServer::start().await;
    let bytes = pdf(&["INVOICE 2026-117", "Total due: 1,250.00 EUR"]);
    let r = s.upload("invoice.pdf", bytes.clone()).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(r.headers().contains_key("x-request-id"));
    let v: Value = r.json().await.unwrap();
    let id = v["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/v2/documents/{id}"));
    assert_eq!(v["status"], "queued");
    assert_eq!(v["filename"], "invoice.pdf");
    assert_eq!(v["classification"], Value::Null);

    let done = s.wait_done(&id).await;
    assert_eq!(done["status"], "processed", "{done}");
    assert_eq!(done["failure"], Value::Null);
    let m = &done["metadata"];
    assert_eq!(m["content_type"], "application/pdf");
    assert_eq!(m["size_bytes"], bytes.len() as u64);
    assert_eq!(m["sha256"], hex::encode(Sha256::digest(&bytes)));
    assert_eq!(m["page_count"], 1);
    assert_eq!(m["word_count"], 6);
    assert_eq!(done["classification"]["label"], "invoice", "{done}");

    let r = s.get(&location).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = s.get(&format!("{location}/text")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    let text = r.text().await.unwrap();
    assert!(text.contains("INVOICE 2026-117"), "{text:?}");
    assert!(text.contains("Total due: 1,250.00 EUR"), "{text:?}");

    let list: Value = s
        .get("/v2/documents")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["id"], id.as_str());
    assert_eq!(list["next_page"], Value::Null);

    assert_eq!(s.stored_blobs().await.len(), 1);
    // A PDF's thumbnail is rendered on first request, then kept.
    assert!(s.thumbnail_files().is_empty());
    for _ in 0..2 {
        let r = s
            .get(&format!("{location}/thumbnail"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "image/png");
    }
    assert_eq!(
        s.thumbnail_files().len(),
        1,
        "the first page was rendered once"
    );
    let r = s.delete(&location).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(
        s.stored_blobs().await.is_empty(),
        "blob removed with the document"
    );
    assert!(
        s.thumbnail_files().is_empty(),
        "thumbnail removed with the document"
    );
    assert_problem(
        s.get(&location).send().await.unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        s.delete(&location).send().await.unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn type_comes_from_the_bytes_not_the_name() {
    // Without OCR installed, so images say so.
    let s =
        TestServer::start_with(|c| c.tools = Some(docintel_backend::pipeline::Tools::none())).await;
    let id = s
        .upload_ok("looks-like.pdf", "plain words here".into())
        .await;
    let done = s.wait_done(&id).await;
    assert_eq!(done["metadata"]["content_type"], "text/plain");
    assert_eq!(done["metadata"]["page_count"], Value::Null);
    let text = s
        .get(&format!("/v2/documents/{id}/text"))
        .send()
        .await
        .unwrap();
    assert_eq!(text.text().await.unwrap(), "plain words here");

    // An image is processed, and says plainly that it has no text without OCR.
    let id = s.upload_ok("scan.txt", PNG_1X1.to_vec()).await;
    let done = s.wait_done(&id).await;
    assert_eq!(done["status"], "processed");
    assert_eq!(done["metadata"]["content_type"], "image/png");
    assert_eq!(done["warnings"], serde_json::json!(["ocr_unavailable"]));

    // A declared type that is a lie is refused.
    let r = s
        .client
        .post(s.url("/v2/documents?filename=x.png"))
        .bearer_auth(&s.key)
        .header("content-type", "image/png")
        .body(pdf(&["hello"]))
        .send()
        .await
        .unwrap();
    let p = assert_problem(
        r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("application/pdf"));
    // A matching declared type is fine.
    let r = s
        .client
        .post(s.url("/v2/documents?filename=x.pdf"))
        .bearer_auth(&s.key)
        .header("content-type", "application/pdf")
        .body(pdf(&["hello"]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn a_malformed_pdf_is_kept_and_fails_with_a_reason() {
    let s = TestServer::start().await;
    let id = s
        .upload_ok(
            "broken.pdf",
            b"%PDF-1.7\nthis is not really a pdf\n%%EOF".to_vec(),
        )
        .await;
    let done = s.wait_done(&id).await;
    assert_eq!(done["status"], "failed");
    let reason = done["failure"].as_str().unwrap();
    assert!(reason.contains("PDF"), "{reason}");
    assert_eq!(s.stored_blobs().await.len(), 1, "the bytes are kept");
    let r = s
        .get(&format!("/v2/documents/{id}/text"))
        .send()
        .await
        .unwrap();
    assert_problem(r, StatusCode::CONFLICT, "processing_failed").await;
}

#[tokio::test]
async fn bad_uploads_get_clear_errors_and_store_nothing() {
    let s = TestServer::start_with(|c| c.max_upload_bytes = 4096).await;
    let up = |name: &'static str, body: Vec<u8>| s.upload(name, body);

    assert_problem(
        up("a.txt", vec![]).await,
        StatusCode::BAD_REQUEST,
        "empty_body",
    )
    .await;
    assert_problem(
        up("a.txt", vec![b'a'; 5000]).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
    let zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00".to_vec();
    let p = assert_problem(
        up("a.pdf", zip).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("application/zip"));
    assert_problem(
        up("a.bin", vec![0, 1, 2, 3, 255]).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    assert_problem(
        up("../../etc/passwd", b"x".to_vec()).await,
        StatusCode::BAD_REQUEST,
        "invalid_filename",
    )
    .await;
    assert_problem(
        up("", b"x".to_vec()).await,
        StatusCode::BAD_REQUEST,
        "invalid_filename",
    )
    .await;
    assert_problem(
        up("a\u{7}b.txt", b"x".to_vec()).await,
        StatusCode::BAD_REQUEST,
        "invalid_filename",
    )
    .await;

    // No filename at all, and an unknown parameter.
    let r = s
        .client
        .post(s.url("/v2/documents"))
        .bearer_auth(&s.key)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_problem(r, StatusCode::BAD_REQUEST, "invalid_parameter").await;
    let r = s
        .client
        .post(s.url("/v2/documents?filename=a.txt&colour=red"))
        .bearer_auth(&s.key)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_problem(r, StatusCode::BAD_REQUEST, "invalid_parameter").await;

    // An oversize body without Content-Length is cut off while streaming.
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = (0..10)
        .map(|_| Ok(bytes::Bytes::from(vec![b'a'; 1000])))
        .collect();
    let r = s
        .client
        .post(s.url("/v2/documents?filename=a.txt"))
        .bearer_auth(&s.key)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_problem(r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;

    assert!(
        s.stored_blobs().await.is_empty(),
        "{:?}",
        s.stored_blobs().await
    );
    assert_eq!(s.document_count().await, 0);
    let tmp = std::fs::read_dir(s.dir.path().join("blobs/.tmp"))
        .unwrap()
        .count();
    assert_eq!(tmp, 0, "no temp files left behind");

    // A body of exactly the limit is accepted.
    let r = up("a.txt", vec![b'a'; 4096]).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn bad_ids_and_unknown_routes() {
    let s = TestServer::start().await;
    let r = s.get("/v2/documents/not-a-uuid").send().await.unwrap();
    let p = assert_problem(r, StatusCode::BAD_REQUEST, "invalid_id").await;
    assert!(p["detail"].as_str().unwrap().contains("not-a-uuid"));
    let r = s
        .get("/v2/documents/0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11")
        .send()
        .await
        .unwrap();
    assert_problem(r, StatusCode::NOT_FOUND, "not_found").await;
    let r = s
        .get("/v2/documents/0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11/text")
        .send()
        .await
        .unwrap();
    assert_problem(r, StatusCode::NOT_FOUND, "not_found").await;
    let r = s.get("/v2/nothing-here").send().await.unwrap();
    assert_problem(r, StatusCode::NOT_FOUND, "not_found").await;
    let r = s
        .client
        .put(s.url("/v2/documents"))
        .bearer_auth(&s.key)
        .send()
        .await
        .unwrap();
    assert_problem(r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}

#[tokio::test]
async fn authentication_is_required_everywhere() {
    let s = TestServer::start().await;
    let id = "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11";
    let routes = [
        (reqwest::Method::GET, "/v2/documents".to_owned()),
        (
            reqwest::Method::POST,
            "/v2/documents?filename=a.txt".to_owned(),
        ),
        (reqwest::Method::GET, format!("/v2/documents/{id}")),
        (reqwest::Method::DELETE, format!("/v2/documents/{id}")),
        (reqwest::Method::GET, format!("/v2/documents/{id}/text")),
    ];
    for (method, path) in routes {
        let no_key = s
            .client
            .request(method.clone(), s.url(&path))
            .body("x")
            .send()
            .await
            .unwrap();
        assert_eq!(
            no_key.headers()["www-authenticate"],
            r#"Bearer realm="docintel""#
        );
        assert_problem(no_key, StatusCode::UNAUTHORIZED, "unauthorized").await;
        let wrong = s
            .client
            .request(method.clone(), s.url(&path))
            .bearer_auth("dik_0000")
            .body("x")
            .send()
            .await
            .unwrap();
        assert_problem(wrong, StatusCode::UNAUTHORIZED, "unauthorized").await;
        let basic = s
            .client
            .request(method, s.url(&path))
            .basic_auth("user", Some(&s.key))
            .send()
            .await
            .unwrap();
        assert_problem(basic, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    assert!(s.stored_blobs().await.is_empty());
}

#[tokio::test]
async fn a_tenant_never_sees_another_tenants_documents() {
    let s = TestServer::start().await;
    let other = s.backend.create_key("globex").await.unwrap();
    let id = s.upload_ok("mine.txt", "acme secret".into()).await;
    s.wait_done(&id).await;
    let doc = format!("/v2/documents/{id}");
    let as_other =
        |m: reqwest::Method, p: String| s.client.request(m, s.url(&p)).bearer_auth(&other);

    assert_problem(
        as_other(reqwest::Method::GET, doc.clone())
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        as_other(reqwest::Method::GET, format!("{doc}/text"))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        as_other(reqwest::Method::DELETE, doc.clone())
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let list: Value = as_other(reqwest::Method::GET, "/v2/documents".into())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], serde_json::json!([]));

    // A page token from one tenant does not work for another.
    for _ in 0..2 {
        s.upload_ok("more.txt", "more".into()).await;
    }
    let page: Value = s
        .get("/v2/documents?limit=1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = page["next_page"].as_str().unwrap();
    let r = as_other(
        reqwest::Method::GET,
        format!("/v2/documents?limit=1&page_token={token}"),
    )
    .send()
    .await
    .unwrap();
    assert_problem(r, StatusCode::BAD_REQUEST, "invalid_page_token").await;

    // Still there for its owner.
    assert_eq!(s.get(&doc).send().await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn pagination_walks_every_document_once_newest_first() {
    let s = TestServer::start().await;
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(
            s.upload_ok(
                &format!("d{i}.txt"),
                format!("document number {i}").into_bytes(),
            )
            .await,
        );
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut req = s.get("/v2/documents").query(&[("limit", "3")]);
        if let Some(t) = &token {
            req = req.query(&[("page_token", t)]);
        }
        let page: Value = req.send().await.unwrap().json().await.unwrap();
        pages += 1;
        for item in page["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        match page["next_page"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ids);

    // Filters: status, and the created range.
    for id in &ids {
        s.wait_done(id).await;
    }
    let bad = s.upload_ok("bad.pdf", b"%PDF-1.4 junk".to_vec()).await;
    s.wait_done(&bad).await;
    let failed: Value = s
        .get("/v2/documents?status=failed")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(failed["items"].as_array().unwrap().len(), 1);
    assert_eq!(failed["items"][0]["id"], bad.as_str());
    // The next page needs only the token: the filters travel inside it.
    let first: Value = s
        .get("/v2/documents?status=processed&limit=4")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = first["next_page"].as_str().unwrap();
    let rest: Value = s
        .get("/v2/documents")
        .query(&[("page_token", token), ("limit", "100")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rest = rest["items"].as_array().unwrap();
    assert_eq!(rest.len(), 3, "7 processed in all");
    assert!(rest.iter().all(|d| d["status"] == "processed"));
    let future: Value = s
        .get("/v2/documents?created_after=2999-01-01T00:00:00Z")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(future["items"], serde_json::json!([]));
    let past: Value = s
        .get("/v2/documents?created_before=2999-01-01T00:00:00Z&created_after=2000-01-01T00:00:00Z&limit=100")
        .send().await.unwrap().json().await.unwrap();
    assert_eq!(past["items"].as_array().unwrap().len(), 8);
}

#[tokio::test]
async fn bad_list_parameters_are_rejected() {
    let s = TestServer::start().await;
    for _ in 0..3 {
        s.upload_ok("a.txt", "a".into()).await;
    }
    for q in [
        "limit=0",
        "limit=101",
        "limit=abc",
        "limit=-1",
        "status=lost",
        "created_after=yesterday",
        "sort=name",
    ] {
        let r = s.get(&format!("/v2/documents?{q}")).send().await.unwrap();
        assert_problem(r, StatusCode::BAD_REQUEST, "invalid_parameter").await;
    }
    let page: Value = s
        .get("/v2/documents?limit=1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = page["next_page"].as_str().unwrap().to_owned();
    // Forged, truncated and tampered tokens.
    let mut tampered = token.clone().into_bytes();
    tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
    for t in [
        "garbage",
        &token[..10],
        std::str::from_utf8(&tampered).unwrap(),
    ] {
        let r = s
            .get("/v2/documents")
            .query(&[("page_token", t)])
            .send()
            .await
            .unwrap();
        assert_problem(r, StatusCode::BAD_REQUEST, "invalid_page_token").await;
    }
    // A token reused with other filters is stale.
    let r = s
        .get("/v2/documents")
        .query(&[
            ("page_token", token.as_str()),
            ("limit", "1"),
            ("status", "processed"),
        ])
        .send()
        .await
        .unwrap();
    let p = assert_problem(r, StatusCode::BAD_REQUEST, "invalid_page_token").await;
    assert!(p["detail"].as_str().unwrap().contains("filters"));
    // The genuine one still works.
    let r = s
        .get("/v2/documents")
        .query(&[("page_token", token.as_str()), ("limit", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let s = TestServer::start().await;
    let r = s
        .get("/v2/documents")
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "trace-abc-123");
    let r = s
        .get("/v2/documents/nope")
        .header("x-request-id", "trace-def-456")
        .send()
        .await
        .unwrap();
    let p = assert_problem(r, StatusCode::BAD_REQUEST, "invalid_id").await;
    assert_eq!(p["request_id"], "trace-def-456");
    // No id, or an unusable one: a fresh one each time.
    let a = s.get("/v2/documents").send().await.unwrap();
    let b = s
        .get("/v2/documents")
        .header("x-request-id", "has spaces!")
        .send()
        .await
        .unwrap();
    let (a, b) = (
        a.headers()["x-request-id"].clone(),
        b.headers()["x-request-id"].clone(),
    );
    assert_ne!(a, b);
    assert_ne!(b, "has spaces!");
    assert!(uuid::Uuid::parse_str(a.to_str().unwrap()).is_ok());
    // Unauthenticated routes too.
    let r = s.client.get(s.url("/healthz")).send().await.unwrap();
    assert!(r.headers().contains_key("x-request-id"));
}

#[tokio::test]
async fn multi_page_pdfs_count_their_pages() {
    let s = TestServer::start().await;
    let id = s
        .upload_ok(
            "report.pdf",
            pdf_pages(&[&["Quarterly report"], &["Page two"], &["Page three"]]),
        )
        .await;
    let done = s.wait_done(&id).await;
    assert_eq!(done["metadata"]["page_count"], 3);
    let text = s
        .get(&format!("/v2/documents/{id}/text"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("Quarterly report") && text.contains("Page three"),
        "{text:?}"
    );
}

#[tokio::test]
async fn idempotency_keys_make_uploads_safe_to_retry() {
    let s = TestServer::start().await;
    let post = |key: &'static str, body: &'static str| {
        s.client
            .post(s.url("/v2/documents?filename=a.txt"))
            .bearer_auth(&s.key)
            .header("idempotency-key", key)
            .body(body)
            .send()
    };
    let first = post("key-1", "same body").await.unwrap();
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    assert!(!first.headers().contains_key("idempotent-replayed"));
    let location = first.headers()["location"].clone();
    let first: Value = first.json().await.unwrap();

    let again = post("key-1", "same body").await.unwrap();
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["location"], location);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first, "the first response, replayed");

    let other = post("key-1", "another body").await.unwrap();
    assert_problem(
        other,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    let bad = post("has space", "x").await.unwrap();
    assert_problem(bad, StatusCode::BAD_REQUEST, "invalid_idempotency_key").await;

    // Without a key, or with a new key, a new document each time.
    post("key-2", "same body").await.unwrap();
    s.upload_ok("a.txt", "same body".into()).await;
    assert_eq!(s.document_count().await, 3);

    // Another tenant's identical key is its own.
    let other_key = s.backend.create_key("globex").await.unwrap();
    let r = s
        .client
        .post(s.url("/v2/documents?filename=a.txt"))
        .bearer_auth(&other_key)
        .header("idempotency-key", "key-1")
        .body("same body")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert!(!r.headers().contains_key("idempotent-replayed"));
}

#[tokio::test]
async fn concurrent_requests_with_one_key_create_one_document() {
    let s = TestServer::start().await;
    let requests = (0..50).map(|_| {
        s.client
            .post(s.url("/v2/documents?filename=race.pdf"))
            .bearer_auth(&s.key)
            .header("idempotency-key", "race")
            .body(pdf(&["race"]))
            .send()
    });
    let responses = futures_util::future::join_all(requests).await;
    let mut ids = std::collections::HashSet::new();
    for r in responses {
        let r = r.unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        ids.insert(
            r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(s.document_count().await, 1);
    assert_eq!(s.stored_blobs().await.len(), 1);
}
