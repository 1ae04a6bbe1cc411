//! /v1: the deprecated legacy API, served as an adapter over v2, with its deprecation
//! headers on every response and 410 Gone after the sunset.

use crate::common;

use std::sync::Arc;

use common::{TestServer, assert_problem, pdf};
use docintel_api::deprecation;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

pub(crate) fn file_form(name: &str, bytes: Vec<u8>) -> Form {
    Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()))
}

pub(crate) async fn v1_upload(s: &TestServer, form: Form) -> reqwest::Response {
    s.client
        .post(s.url("/v1/documents"))
        .bearer_auth(&s.key)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Asserts the three deprecation headers are present, parse, and match the table.
fn assert_deprecation_headers(r: &reqwest::Response, successor: &str) {
    let dep = deprecation::all()[0];
    let h = r.headers();
    let deprecation = h
        .get("deprecation")
        .expect("Deprecation header")
        .to_str()
        .unwrap();
    let secs: i64 = deprecation
        .strip_prefix('@')
        .expect("@<seconds>")
        .parse()
        .expect("integer");
    assert_eq!(
        secs,
        dep.deprecated.midnight().assume_utc().unix_timestamp()
    );
    let sunset = httpdate::parse_http_date(h["sunset"].to_str().unwrap()).expect("IMF-fixdate");
    let sunset = time::OffsetDateTime::from(sunset);
    assert_eq!(sunset.date(), dep.sunset);
    assert!(
        sunset.unix_timestamp() >= secs,
        "sunset never before deprecation"
    );
    let link = h["link"].to_str().unwrap();
    assert!(
        link.contains(r#"</deprecations.md#v1>; rel="deprecation""#),
        "{link}"
    );
    assert!(
        link.contains(&format!(r#"<{successor}>; rel="successor-version""#)),
        "{link}"
    );
}

fn assert_no_deprecation_headers(r: &reqwest::Response) {
    for h in ["deprecation", "sunset", "link"] {
        assert!(!r.headers().contains_key(h), "v2 must not send {h}");
    }
}

async fn legacy_error(r: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(r.status(), status);
    assert_eq!(r.headers()["content-type"], "application/json");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v.as_object().unwrap().len(), 1, "only `error`: {v}");
    v["error"].as_str().expect("error string").to_owned()
}

#[tokio::test]
async fn v1_and_v2_views_of_one_document_agree() {
    let s = TestServer::start().await;
    let r = v1_upload(
        &s,
        file_form(
            "contract.pdf",
            pdf(&["SERVICE AGREEMENT", "between Acme and Globex"]),
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_deprecation_headers(&r, "/v2/documents");
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = r.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/v1/documents/{id}"));
    assert_eq!(created["status"], "queued");
    assert_eq!(created["text"], Value::Null);

    let v2 = s.wait_done(&id).await;
    let r = s.get(&location).send().await.unwrap();
    assert_deprecation_headers(&r, &format!("/v2/documents/{id}"));
    let v1: Value = r.json().await.unwrap();
    let v2_text = s
        .get(&format!("/v2/documents/{id}/text"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(v1["id"], v2["id"]);
    assert_eq!(v1["filename"], v2["filename"]);
    assert_eq!(v1["status"], v2["status"]);
    assert_eq!(v1["status"], "processed");
    assert_eq!(v1["created_at"], v2["created_at"]);
    assert_eq!(v1["text"], v2_text.as_str());
    assert!(v2_text.contains("SERVICE AGREEMENT"));
    assert_eq!(v1["label"], v2["classification"]["label"]);
    assert_eq!(v1["confidence"], v2["classification"]["confidence"]);
    let keys: Vec<_> = v1.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        [
            "confidence",
            "created_at",
            "filename",
            "id",
            "label",
            "status",
            "text"
        ]
    );
}

#[tokio::test]
async fn offset_pagination_with_total() {
    let s = TestServer::start().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            s.upload_ok(&format!("n{i}.txt"), format!("note {i}").into_bytes())
                .await,
        );
    }
    ids.reverse();
    let mut seen = Vec::new();
    for page in 1..=3 {
        let r = s
            .get(&format!("/v1/documents?page={page}&per_page=2"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_deprecation_headers(&r, "/v2/documents");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["total"], 5);
        assert_eq!(v["page"], page);
        assert_eq!(v["per_page"], 2);
        for d in v["documents"].as_array().unwrap() {
            seen.push(d["id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(seen, ids);
    let past: Value = s
        .get("/v1/documents?page=9&per_page=2")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(past["documents"], serde_json::json!([]));
    assert_eq!(past["total"], 5);
    // Pages start within the first 10,000 documents: the last that may is fine, the next
    // one is refused with the way on.
    for last in ["page=100&per_page=100", "page=10000&per_page=1"] {
        let r = s
            .get(&format!("/v1/documents?{last}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{last}");
    }
    let r = s
        .get("/v1/documents?page=101&per_page=100")
        .send()
        .await
        .unwrap();
    let message = legacy_error(r, StatusCode::BAD_REQUEST).await;
    assert!(message.contains("/v2/documents"), "{message}");
    let default: Value = s
        .get("/v1/documents")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(default["page"], 1);
    assert_eq!(default["per_page"], 20);
    assert_eq!(default["documents"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn errors_are_legacy_shaped_and_carry_the_headers() {
    let s = TestServer::start().await;
    let id = "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11";

    let r = s.client.get(s.url("/v1/documents")).send().await.unwrap();
    assert_deprecation_headers(&r, "/v2/documents");
    assert!(r.headers().contains_key("www-authenticate"));
    assert!(r.headers().contains_key("x-request-id"));
    legacy_error(r, StatusCode::UNAUTHORIZED).await;

    let r = s.get(&format!("/v1/documents/{id}")).send().await.unwrap();
    assert_deprecation_headers(&r, &format!("/v2/documents/{id}"));
    assert!(legacy_error(r, StatusCode::NOT_FOUND).await.contains(id));

    let r = s.get("/v1/documents/xyz").send().await.unwrap();
    assert_deprecation_headers(&r, "/v2/documents/xyz");
    legacy_error(r, StatusCode::BAD_REQUEST).await;

    for q in [
        "page=0",
        "page=abc",
        "per_page=0",
        "per_page=101",
        "page=18446744073709551615&per_page=100",
        // Past the first 10,000 documents, where offset pages stop.
        "page=101&per_page=100",
        "page=10001&per_page=1",
    ] {
        let r = s.get(&format!("/v1/documents?{q}")).send().await.unwrap();
        assert_deprecation_headers(&r, "/v2/documents");
        legacy_error(r, StatusCode::BAD_REQUEST).await;
    }
    // Unknown v1 routes are deprecated too.
    let r = s.get("/v1/nothing").send().await.unwrap();
    assert_deprecation_headers(&r, "/v2/nothing");
    legacy_error(r, StatusCode::NOT_FOUND).await;

    // v2 carries none of it.
    let r = s.get("/v2/documents").send().await.unwrap();
    assert_no_deprecation_headers(&r);
    let r = s.get("/v2/documents/xyz").send().await.unwrap();
    assert_no_deprecation_headers(&r);
    assert_problem(r, StatusCode::BAD_REQUEST, "invalid_id").await;
}

#[tokio::test]
async fn bad_multipart_uploads_store_nothing() {
    let s = TestServer::start_with(|c| c.max_upload_bytes = 4096).await;
    let text = || b"hello legacy".to_vec();

    let no_file = Form::new().text("name", "x");
    assert!(
        legacy_error(v1_upload(&s, no_file).await, StatusCode::BAD_REQUEST)
            .await
            .contains("field")
    );
    let two = Form::new()
        .part("file", Part::bytes(text()).file_name("a.txt"))
        .part("file", Part::bytes(text()).file_name("b.txt"));
    assert!(
        legacy_error(v1_upload(&s, two).await, StatusCode::BAD_REQUEST)
            .await
            .contains("exactly one")
    );
    let wrong_name = Form::new().part("document", Part::bytes(text()).file_name("a.txt"));
    assert!(
        legacy_error(v1_upload(&s, wrong_name).await, StatusCode::BAD_REQUEST)
            .await
            .contains("document")
    );
    let empty = file_form("a.txt", vec![]);
    legacy_error(v1_upload(&s, empty).await, StatusCode::BAD_REQUEST).await;
    let oversize = file_form("a.txt", vec![b'a'; 5000]);
    legacy_error(v1_upload(&s, oversize).await, StatusCode::PAYLOAD_TOO_LARGE).await;
    let unnamed = Form::new().part("file", Part::bytes(text()));
    legacy_error(v1_upload(&s, unnamed).await, StatusCode::BAD_REQUEST).await;
    let zip = file_form("a.zip", b"PK\x03\x04\x14\x00\x00\x00".to_vec());
    legacy_error(v1_upload(&s, zip).await, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    let bad_name = file_form("../../a.txt", text());
    legacy_error(v1_upload(&s, bad_name).await, StatusCode::BAD_REQUEST).await;
    let empty_form = Form::new();
    legacy_error(v1_upload(&s, empty_form).await, StatusCode::BAD_REQUEST).await;
    // Not multipart at all.
    let r = s
        .client
        .post(s.url("/v1/documents"))
        .bearer_auth(&s.key)
        .body("raw")
        .send()
        .await
        .unwrap();
    assert_deprecation_headers(&r, "/v2/documents");
    legacy_error(r, StatusCode::BAD_REQUEST).await;
    // A truncated multipart body.
    let r = s
        .client
        .post(s.url("/v1/documents"))
        .bearer_auth(&s.key)
        .header("content-type", "multipart/form-data; boundary=XYZ")
        .body(
            "--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhel",
        )
        .send()
        .await
        .unwrap();
    legacy_error(r, StatusCode::BAD_REQUEST).await;

    assert!(
        s.stored_blobs().await.is_empty(),
        "{:?}",
        s.stored_blobs().await
    );
    assert_eq!(s.document_count().await, 0);

    // And a good one at the limit is accepted.
    let r = v1_upload(&s, file_form("a.txt", vec![b'a'; 4096])).await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn v1_answers_410_after_its_sunset() {
    let sunset = deprecation::all()[0].sunset.midnight().assume_utc();
    let after = TestServer::launch(|l| l.clock = Arc::new(move || sunset)).await;
    let id = after.upload_ok("a.txt", "still here".into()).await;
    let routes = [
        (
            reqwest::Method::GET,
            "/v1/documents".to_owned(),
            "/v2/documents".to_owned(),
        ),
        (
            reqwest::Method::POST,
            "/v1/documents".to_owned(),
            "/v2/documents".to_owned(),
        ),
        (
            reqwest::Method::GET,
            format!("/v1/documents/{id}"),
            format!("/v2/documents/{id}"),
        ),
    ];
    for (method, path, successor) in &routes {
        let r = after
            .client
            .request(method.clone(), after.url(path))
            .bearer_auth(&after.key)
            .send()
            .await
            .unwrap();
        assert_deprecation_headers(&r, successor);
        let p = assert_problem(r, StatusCode::GONE, "gone").await;
        assert!(
            p["detail"].as_str().unwrap().contains(successor.as_str()),
            "{p}"
        );
    }
    // Even without a key: the route is gone for everyone.
    let r = after
        .client
        .get(after.url("/v1/documents"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::GONE);
    // v2 is unaffected.
    let r = after
        .get(&format!("/v2/documents/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // One second before the sunset v1 still works.
    let before =
        TestServer::launch(|l| l.clock = Arc::new(move || sunset - time::Duration::seconds(1)))
            .await;
    let r = before.get("/v1/documents").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

/// A page of 100 documents with long texts stays small: each listed document carries at
/// most 16,384 characters of its text and says when it was cut; the document itself still
/// has all of it.
#[tokio::test]
async fn v1_lists_carry_the_start_of_long_texts_only() {
    let s = TestServer::start().await;
    // Multi-byte characters: the cut is in characters, never inside one.
    let long = "é".repeat(100_000);
    let short = "a short note";
    let long_id = s.upload_ok("long.txt", long.clone().into_bytes()).await;
    let short_id = s.upload_ok("short.txt", short.as_bytes().to_vec()).await;
    s.wait_done(&long_id).await;
    s.wait_done(&short_id).await;

    let r = s.get("/v1/documents?per_page=100").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    assert!(body.len() < 100_000, "{} bytes", body.len());
    let list: Value = serde_json::from_str(&body).unwrap();
    let docs = list["documents"].as_array().unwrap();
    let by_id = |id: &str| docs.iter().find(|d| d["id"] == id).unwrap().clone();
    let cut = by_id(&long_id);
    assert_eq!(cut["text"].as_str().unwrap().chars().count(), 16_384);
    assert!(long.starts_with(cut["text"].as_str().unwrap()));
    assert_eq!(cut["text_truncated"], true);
    let whole = by_id(&short_id);
    assert_eq!(whole["text"], short);
    assert!(whole.get("text_truncated").is_none(), "{whole}");

    let one: Value = s
        .get(&format!("/v1/documents/{long_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["text"].as_str().unwrap(), long);
    assert!(one.get("text_truncated").is_none());
}
