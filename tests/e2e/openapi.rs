//! The committed OpenAPI documents are exactly what the code generates and what the
//! server serves; Swagger UI is served.

use crate::common;

use common::TestServer;
use docintel_api::openapi;

/// The committed document of version `name`, as text.
pub(crate) fn committed(name: &str) -> String {
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
                if status == "431" {
                    // Answered by hyper before the app: no body, no request id.
                    continue;
                }
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

/// Adding a version is adding a row to the table (docs/openapi.md, "Adding a version"): a
/// scratch v3 that re-exports v2's webhooks and answers a document with one more field,
/// declared here and nowhere else, is routed, described, served and listed in Swagger UI.
mod scratch_v3 {
    use axum::Json;
    use axum::extract::State;
    use docintel_api::auth::{Auth, DocumentsRead};
    use docintel_api::error::ApiError;
    use docintel_api::extract::IdPath;
    use docintel_api::versions::{ApiVersion, V1, V2};
    use docintel_api::views::DocumentView;
    use docintel_api::{AppState, v2};
    use serde::Serialize;
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;

    /// v2's document, plus where to read its text.
    #[derive(Serialize, utoipa::ToSchema)]
    pub struct DocumentV3 {
        #[serde(flatten)]
        document: DocumentView,
        text_url: String,
    }

    #[utoipa::path(get, path = "/documents/{id}", tag = "documents",
        security(("api_key" = ["documents:read"])),
        params(("id" = uuid::Uuid, Path, description = "The document id.")),
        responses((status = 200, description = "The document.", body = DocumentV3)))]
    async fn get_document(
        State(state): State<AppState>,
        Auth(tenant, _): Auth<DocumentsRead>,
        IdPath(id): IdPath,
    ) -> Result<Json<DocumentV3>, ApiError> {
        let doc = state
            .backend
            .document(tenant.id, id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no document with id {id}")))?;
        Ok(Json(DocumentV3 {
            document: doc.into(),
            text_url: V3.path(&format!("/documents/{id}/text")),
        }))
    }

    fn doc() -> utoipa::openapi::OpenApi {
        let mut doc = v2::doc();
        doc.info.title = "docintel API (scratch v3)".to_owned();
        doc
    }

    fn routes() -> OpenApiRouter<AppState> {
        v2::webhooks::router().merge(OpenApiRouter::new().routes(routes!(get_document)))
    }

    pub const V3: ApiVersion = ApiVersion {
        name: "v3",
        prefix: "/v3",
        release: "3.0.0",
        doc,
        routes,
        retirement: None,
    };

    pub static TABLE: &[ApiVersion] = &[V3, V2, V1];
}

#[tokio::test]
async fn a_version_is_one_row_of_the_table() {
    let s = TestServer::launch(|l| l.versions = scratch_v3::TABLE).await;
    let id = s.upload_ok("a.txt", b"hello from v2".to_vec()).await;
    let v2: serde_json::Value = s
        .get(&format!("/v2/documents/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = s.get(&format!("/v3/documents/{id}")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v3: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v3["text_url"], format!("/v3/documents/{id}/text"));
    assert_eq!(v3["id"], v2["id"]);
    assert_eq!(v3["filename"], "a.txt");
    // Re-exported from v2, under v3's prefix; what v3 does not route is not there.
    assert_eq!(s.get("/v3/webhooks").send().await.unwrap().status(), 200);
    assert_eq!(s.get("/v3/documents").send().await.unwrap().status(), 404);

    let spec: serde_json::Value = s
        .client
        .get(s.url("/openapi/v3.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(spec["info"]["version"], "3.0.0");
    assert_eq!(spec["info"]["title"], "docintel API (scratch v3)");
    let paths = spec["paths"].as_object().unwrap();
    assert!(
        paths.contains_key("/v3/documents/{id}"),
        "{:?}",
        paths.keys()
    );
    assert!(paths.contains_key("/v3/webhooks"));
    assert!(
        paths.keys().all(|p| p.starts_with("/v3/")),
        "{:?}",
        paths.keys()
    );
    // DocumentV3 is v2's DocumentView (flattened: allOf) plus text_url.
    let schema = spec["components"]["schemas"]["DocumentV3"].to_string();
    assert!(
        schema.contains("text_url") && schema.contains("DocumentView"),
        "{schema}"
    );
    // Deprecation follows only the table's retirements: v3 is current.
    let op = &spec["paths"]["/v3/documents/{id}"]["get"];
    assert!(op.get("deprecated").is_none());
    let init = s
        .client
        .get(s.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("/openapi/v3.json") && init.contains("/openapi/v2.json"));
}
