//! The reference developers read: every answer of every operation is documented with
//! its headers, every example validates against its schema and has the shape of what a
//! real server sends, every problem code has a page, and the webhooks section describes
//! the deliveries a receiver really gets.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::TestServer;
use crate::webhooks::{Receiver, fast_retries};
use docintel_api::problems::ErrorCode;
use docintel_api::versions::VERSIONS;

fn committed(name: &str) -> Value {
    serde_json::from_str(&crate::openapi::committed(name)).unwrap()
}

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

/// Every (path, method, operation) of a document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((path.clone(), method.to_owned(), op.clone()));
            }
        }
    }
    out
}

fn pointer_escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Validates `instance` against the schema at JSON pointer `at` of `doc`, resolving the
/// document's `$ref`s: the whole document is the schema's root, so `#/components/…`
/// resolve as they do for OpenAPI readers.
fn check(doc: &Value, at: &str, instance: &Value) -> Result<(), String> {
    let mut root = doc.clone();
    // A URI fragment: what RFC 3986 does not allow there (braces, spaces) is
    // percent-encoded.
    let fragment: String = at
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    root["$ref"] = json!(format!("#{fragment}"));
    root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    let validator = jsonschema::draft202012::options()
        .build(&root)
        .map_err(|e| format!("schema at {at} does not compile: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{at}: {}", errors.join("; ")))
    }
}

/// Every example a media type object holds (`example`, `examples.*.value`).
fn media_examples(media: &Value) -> Vec<Value> {
    let mut out: Vec<Value> = media.get("example").cloned().into_iter().collect();
    if let Some(examples) = media.get("examples").and_then(Value::as_object) {
        out.extend(examples.values().filter_map(|e| e.get("value").cloned()));
    }
    out
}

/// Walks every schema of `v` (at pointer `at`) and collects `(pointer, example)` for each
/// property-level `example`/`examples`.
fn schema_examples(v: &Value, at: &str, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(obj) => {
            let is_schema = obj.contains_key("type")
                || obj.contains_key("$ref")
                || obj.contains_key("enum")
                || obj.contains_key("allOf")
                || obj.contains_key("oneOf");
            if is_schema {
                if let Some(e) = obj.get("example") {
                    out.push((at.to_owned(), e.clone()));
                }
                if let Some(Value::Array(es)) = obj.get("examples") {
                    out.extend(es.iter().map(|e| (at.to_owned(), e.clone())));
                }
            }
            for (k, child) in obj {
                // Example values are data, not schemas.
                if matches!(k.as_str(), "example" | "examples") && is_schema {
                    continue;
                }
                if k == "examples" || k == "example" {
                    continue;
                }
                schema_examples(child, &format!("{at}/{}", pointer_escape(k)), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                schema_examples(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_operation_documents_its_shared_answers_and_headers() {
    for version in VERSIONS {
        let doc = committed(version.name);
        for (path, method, op) in operations(&doc) {
            let responses = op["responses"].as_object().unwrap();
            let at = format!("{} {path}", method.to_uppercase());
            let mut statuses = vec!["401", "408", "429", "431", "500", "503"];
            if method != "get" {
                statuses.push("507");
            }
            if version.retirement.is_some() {
                statuses.push("410");
            }
            for status in statuses {
                assert!(responses.contains_key(status), "{at}: no {status}");
            }
            for (status, r) in responses {
                let headers = r.get("headers").and_then(Value::as_object);
                let has = |h: &str| headers.is_some_and(|hs| hs.contains_key(h));
                if status == "431" {
                    // hyper answers it before any of the server's code runs.
                    assert!(headers.is_none_or(|h| h.is_empty()), "{at} 431");
                    assert!(r.get("content").is_none(), "{at} 431");
                    continue;
                }
                for h in ["X-Request-Id", "RateLimit", "RateLimit-Policy"] {
                    assert!(has(h), "{at} {status}: no {h}");
                }
                let retry = matches!(status.as_str(), "429" | "503" | "507");
                assert_eq!(has("Retry-After"), retry, "{at} {status}: Retry-After");
                assert_eq!(
                    has("WWW-Authenticate"),
                    status == "401",
                    "{at} {status}: WWW-Authenticate"
                );
                if status.starts_with(['4', '5']) {
                    let content = r["content"].as_object().unwrap();
                    assert!(!content.is_empty(), "{at} {status}: no body documented");
                    for media in content.values() {
                        assert!(
                            !media_examples(media).is_empty(),
                            "{at} {status}: no example"
                        );
                    }
                }
                if version.retirement.is_some() {
                    for h in ["Deprecation", "Sunset", "Link"] {
                        assert!(has(h), "{at} {status}: no {h}");
                    }
                }
            }
        }
    }
}

/// Each code's problem examples are its own: the code, its status, its page.
#[test]
fn problem_examples_name_their_code_status_and_page() {
    let doc = committed("v2");
    let mut seen = std::collections::HashSet::new();
    for (path, method, op) in operations(&doc) {
        for (status, r) in op["responses"].as_object().unwrap() {
            let Some(media) = r.pointer("/content/application~1problem+json") else {
                continue;
            };
            for (name, example) in media["examples"].as_object().unwrap() {
                let code = ErrorCode::parse(name).unwrap_or_else(|| panic!("{name}"));
                assert_eq!(example["value"]["code"], name.as_str());
                assert_eq!(
                    example["value"]["status"].as_u64(),
                    Some(status.parse().unwrap()),
                    "{method} {path}"
                );
                assert_eq!(example["value"]["type"], code.type_uri());
                seen.insert(code);
            }
        }
    }
    // Every code an operation can answer appears somewhere; `gone` is v1's, and
    // `method_not_allowed` belongs to no operation.
    for code in ErrorCode::ALL {
        if !matches!(code, ErrorCode::Gone | ErrorCode::MethodNotAllowed)
            && *code != ErrorCode::InvalidMultipart
        {
            assert!(seen.contains(code), "{code} is in no v2 operation");
        }
    }
}

#[test]
fn every_v2_body_response_and_parameter_has_an_example_that_validates() {
    let doc = committed("v2");
    let mut checked = 0;
    for (path, method, op) in operations(&doc) {
        let at = format!("/paths/{}/{method}", pointer_escape(&path));
        for (i, p) in op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let example = p.get("example").unwrap_or_else(|| {
                panic!("{method} {path}: parameter {} has no example", p["name"])
            });
            check(&doc, &format!("{at}/parameters/{i}/schema"), example).unwrap();
            checked += 1;
        }
        let mut media = Vec::new();
        if let Some(body) = op.get("requestBody") {
            for (mime, m) in body["content"].as_object().unwrap() {
                media.push((
                    format!("{at}/requestBody/content/{}", pointer_escape(mime)),
                    mime.clone(),
                    m.clone(),
                ));
            }
        }
        for (status, r) in op["responses"].as_object().unwrap() {
            for (mime, m) in r
                .get("content")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                media.push((
                    format!("{at}/responses/{status}/content/{}", pointer_escape(mime)),
                    mime.clone(),
                    m.clone(),
                ));
            }
        }
        for (pointer, mime, m) in media {
            let examples = media_examples(&m);
            if mime == "image/png" || mime == "application/pdf" {
                // A binary image or PDF has no JSON example; its schema says binary.
                assert_eq!(m["schema"]["format"], "binary", "{pointer}");
                continue;
            }
            assert!(!examples.is_empty(), "{pointer}: no example");
            for e in examples {
                check(&doc, &format!("{pointer}/schema"), &e).unwrap();
                checked += 1;
            }
        }
    }
    let mut props = Vec::new();
    schema_examples(&doc["components"], "/components", &mut props);
    for (pointer, example) in &props {
        check(&doc, pointer, example).unwrap();
    }
    assert!(checked > 100, "only {checked} examples checked");
    assert!(props.len() > 40, "only {} schema examples", props.len());
}

/// The keys of every object, recursively (arrays by their first element): the shape a
/// client's code depends on.
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => a.first().map(shape).map_or(json!([]), |s| json!([s])),
        Value::Null => json!("null"),
        Value::Bool(_) => json!("bool"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
    }
}

/// The same keys at every level: `null` and a value of the type are the same shape, an
/// empty array matches any.
fn same_shape(example: &Value, real: &Value, at: &str) {
    match (example, real) {
        (Value::Object(e), Value::Object(r)) => {
            let ek: Vec<&String> = e.keys().collect();
            let rk: Vec<&String> = r.keys().collect();
            assert_eq!(
                ek, rk,
                "{at}: the example's keys differ from a real answer's"
            );
            for (k, v) in e {
                same_shape(v, &r[k], &format!("{at}.{k}"));
            }
        }
        (Value::Array(e), Value::Array(r)) => {
            if let (Some(e), Some(r)) = (e.first(), r.first()) {
                same_shape(e, r, &format!("{at}[0]"));
            }
        }
        (Value::Null, _) | (_, Value::Null) => {}
        (e, r) => assert_eq!(shape(e), shape(r), "{at}"),
    }
}

/// What a real server answers validates against the documented schema, and the
/// documented example has its shape.
fn matches_real(doc: &Value, path: &str, method: &str, status: u16, real: &Value) {
    let pointer = format!(
        "/paths/{}/{method}/responses/{status}/content/{}",
        pointer_escape(path),
        pointer_escape(if status >= 400 {
            "application/problem+json"
        } else {
            "application/json"
        })
    );
    let media = doc
        .pointer(&pointer)
        .unwrap_or_else(|| panic!("{method} {path} {status} is not documented"));
    check(doc, &format!("{pointer}/schema"), real).unwrap();
    let examples = media_examples(media);
    assert!(!examples.is_empty(), "{pointer}");
    let example = if status >= 400 {
        // The example of the code the server answered with.
        media["examples"][real["code"].as_str().unwrap()]["value"].clone()
    } else {
        examples[0].clone()
    };
    same_shape(&example, real, &format!("{method} {path} {status}"));
}

#[tokio::test]
async fn examples_have_the_shape_of_real_answers() {
    let doc = committed("v2");
    let s = TestServer::start_with(fast_retries).await;
    let (receiver, url) = Receiver::start(200).await;

    let r = s
        .client
        .post(s.url("/v2/webhooks"))
        .bearer_auth(&s.key)
        .json(
            &json!({"url": url, "event_types": ["doc.processed", "doc.failed"],
                      "description": "Invoices into the ledger"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    matches_real(&doc, "/v2/webhooks", "post", 201, &created);
    let hook = created["webhook"]["id"].as_str().unwrap().to_owned();

    let r = s
        .client
        .post(s.url("/v2/documents?filename=invoice-2026-11.pdf"))
        .bearer_auth(&s.key)
        .header("Idempotency-Key", "upload-1")
        .body(crate::common::pdf(&[
            "INVOICE 2026-11",
            "Acme Corp",
            "Total due 1250.00 EUR",
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let queued: Value = r.json().await.unwrap();
    matches_real(&doc, "/v2/documents", "post", 202, &queued);
    let id = queued["id"].as_str().unwrap().to_owned();
    let processed = s.wait_done(&id).await;
    assert_eq!(processed["status"], "processed");
    matches_real(&doc, "/v2/documents/{id}", "get", 200, &processed);

    for (path, real_path) in [
        ("/v2/documents", "/v2/documents".to_owned()),
        ("/v2/webhooks", "/v2/webhooks".to_owned()),
        ("/v2/webhooks/{id}", format!("/v2/webhooks/{hook}")),
    ] {
        let real: Value = s
            .get(&real_path)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        matches_real(&doc, path, "get", 200, &real);
    }
    let r = s
        .client
        .post(s.url(&format!("/v2/webhooks/{hook}/rotate-secret")))
        .bearer_auth(&s.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    matches_real(
        &doc,
        "/v2/webhooks/{id}/rotate-secret",
        "post",
        200,
        &r.json().await.unwrap(),
    );

    // The delivery, as the receiver got it and as the log shows it.
    let got = receiver.wait_for(1).await;
    let body: Value = serde_json::from_slice(&got[0].body).unwrap();
    let event_type = body["type"].as_str().unwrap();
    let pointer = format!(
        "/webhooks/{}/post/requestBody/content/application~1json",
        pointer_escape(event_type)
    );
    check(&doc, &format!("{pointer}/schema"), &body).unwrap();
    same_shape(
        &doc.pointer(&format!("{pointer}/example")).unwrap().clone(),
        &body,
        event_type,
    );
    let params = doc
        .pointer(&format!(
            "/webhooks/{}/post/parameters",
            pointer_escape(event_type)
        ))
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    assert_eq!(params, ["Docintel-Signature", "Docintel-Event-Id"]);
    assert!(got[0].signature.starts_with("t=") && got[0].signature.contains(",v1="));
    let mut log = Value::Null;
    for _ in 0..500 {
        log = s
            .get(&format!("/v2/webhooks/{hook}/deliveries"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if log["items"][0]["status"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(log["items"][0]["status"], "delivered", "{log}");
    matches_real(&doc, "/v2/webhooks/{id}/deliveries", "get", 200, &log);

    // Problems: each validates against the schema, the `code` enum included.
    let missing = "0192f0c4-0000-7000-8000-000000000404";
    for (path, real_path) in [
        ("/v2/documents/{id}", format!("/v2/documents/{missing}")),
        ("/v2/documents/{id}", "/v2/documents/not-an-id".to_owned()),
        ("/v2/webhooks/{id}", format!("/v2/webhooks/{missing}")),
    ] {
        let r = s.get(&real_path).send().await.unwrap();
        let status = r.status().as_u16();
        assert!(status == 404 || status == 400);
        matches_real(&doc, path, "get", status, &r.json().await.unwrap());
    }
    let r = s.client.get(s.url("/v2/documents")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"docintel\"");
    matches_real(&doc, "/v2/documents", "get", 401, &r.json().await.unwrap());
}

#[test]
fn webhooks_list_every_event_type() {
    let doc = committed("v2");
    let mut listed: Vec<&String> = doc["webhooks"].as_object().unwrap().keys().collect();
    listed.sort();
    let mut types: Vec<&str> = docintel_api::views::WebhookEventType::ALL
        .iter()
        .map(|t| t.name())
        .collect();
    types.sort();
    assert_eq!(listed, types);
    for (name, item) in doc["webhooks"].as_object().unwrap() {
        let example = &item["post"]["requestBody"]["content"]["application/json"]["example"];
        assert_eq!(example["type"], name.as_str());
        check(
            &doc,
            &format!(
                "/webhooks/{}/post/requestBody/content/application~1json/schema",
                pointer_escape(name)
            ),
            example,
        )
        .unwrap();
        // A payload of another type does not validate as this one.
        let mut other = example.clone();
        other["type"] = json!(if name == "doc.failed" {
            "doc.processed"
        } else {
            "doc.failed"
        });
        assert!(
            check(
                &doc,
                &format!(
                    "/webhooks/{}/post/requestBody/content/application~1json/schema",
                    pointer_escape(name)
                ),
                &other
            )
            .is_err()
        );
    }
}

#[tokio::test]
async fn every_problem_code_has_a_page() {
    let s = TestServer::start().await;
    let index: Value = s
        .client
        .get(s.url("/problems"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(index.as_array().unwrap().len(), ErrorCode::ALL.len());
    for code in ErrorCode::ALL {
        let r = s.client.get(s.url(&code.type_uri())).send().await.unwrap();
        assert_eq!(r.status(), 200, "{code}");
        assert_eq!(r.headers()["content-type"], "application/json");
        let entry: Value = r.json().await.unwrap();
        assert_eq!(entry["code"], code.as_str());
        assert_eq!(entry["status"], code.status().as_u16());
        assert_eq!(entry["meaning"], code.meaning());
        let r = s
            .client
            .get(s.url(&code.type_uri()))
            .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
        let html = r.text().await.unwrap();
        assert!(
            html.contains(&format!("<h1><code>{code}</code></h1>")),
            "{html}"
        );
    }
    let r = s
        .client
        .get(s.url("/problems/no_such_code"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["code"], "not_found");
    // An HTML page is escaped: no markup from the path reaches it.
    let r = s
        .client
        .get(s.url("/problems"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert_eq!(html.matches("<tr><td>").count(), ErrorCode::ALL.len());
}

#[test]
fn the_committed_error_page_is_the_catalogue() {
    let path = format!("{}/docs/errors.md", env!("CARGO_MANIFEST_DIR"));
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == docintel_api::problems::markdown(),
        "docs/errors.md is out of date: run `{}`",
        docintel_api::openapi::REGENERATE
    );
}

/// The one answer the server's code never sees: hyper's 431 for an oversized header
/// section. It is what the documents say it is: no body, the connection closed.
#[tokio::test]
async fn an_oversized_header_section_gets_the_documented_431() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = TestServer::start().await;
    let addr = s.base.trim_start_matches("http://").to_owned();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let big = "a".repeat(512 * 1024);
    let request = format!(
        "GET /v2/documents HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nX-Big: {big}\r\n\r\n",
        s.key
    );
    // The server may stop reading (and answer) before the whole head is sent.
    let _ = conn.write_all(request.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    assert!(body.is_empty(), "{body}");
    let doc = committed("v2");
    let documented = &doc["paths"]["/v2/documents"]["get"]["responses"]["431"];
    assert!(documented.is_object());
    assert!(documented.get("content").is_none());
}
