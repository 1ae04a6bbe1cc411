//! The committed OpenAPI documents are exactly what the code generates and what the
//! server serves; Swagger UI is served.

use crate::common;

use common::TestServer;
use docintel_api::openapi;

fn committed(name: &str) -> String {
    let path = format!("{}/openapi/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn committed_specs_match_the_code() {
    let drift =
        openapi::committed_drift(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi"));
    assert!(
        drift.is_empty(),
        "{drift:?}: regenerate with `{}`",
        openapi::REGENERATE
    );
}

#[tokio::test]
async fn served_specs_equal_the_committed_files() {
    let s = TestServer::start().await;
    for version in docintel_api::versions::VERSIONS {
        let r = s
            .client
            .get(s.url(&format!("/openapi/{}.json", version.name)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(r.text().await.unwrap(), committed(version.name));
    }
    let r = s.client.get(s.url("/docs/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("swagger-ui"));
    let r = s
        .client
        .get(s.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("/openapi/v2.json"));
}

#[test]
fn v2_spec_has_what_the_sdk_generator_needs() {
    let doc: serde_json::Value = serde_json::from_str(&committed("v2")).unwrap();
    let list = &doc["paths"]["/v2/documents"]["get"];
    assert!(list.get("x-dropshot-pagination").is_some());
    let body = &doc["paths"]["/v2/documents"]["post"]["requestBody"]["content"]["application/octet-stream"]
        ["schema"];
    assert_eq!(body["type"], "string");
    assert_eq!(body["format"], "binary");
    assert_eq!(
        doc["components"]["securitySchemes"]["api_key"]["scheme"],
        "bearer"
    );
    // Every operation documents its problems and the request id header.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.contains_key("401"), "{method} {path}");
            for (status, r) in responses {
                assert!(
                    r["headers"].get("X-Request-Id").is_some(),
                    "{method} {path} {status}"
                );
                if status.starts_with('4') {
                    assert!(
                        r["content"].get("application/problem+json").is_some(),
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
}
