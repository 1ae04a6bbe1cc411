//! The lint's ruleset (`governance/spectral.yaml`: spectral:oas and the OWASP API Security
//! ruleset) on small documents: one that meets every rule, and copies that each miss one
//! OWASP requirement. Needs spectral and the ruleset from `npm ci --prefix tests/thirdparty`.

use std::path::{Path, PathBuf};

use docintel_governance::checks::lint;
use docintel_governance::report::{Finding, Severity};
use serde_json::{Value, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn spectral() -> PathBuf {
    let owasp = root().join("tests/thirdparty/node_modules/@stoplight/spectral-owasp-ruleset");
    assert!(
        owasp.is_dir(),
        "the OWASP ruleset is not installed: run npm ci --prefix tests/thirdparty"
    );
    lint::spectral(&root())
        .expect("spectral is not installed: run npm ci --prefix tests/thirdparty")
}

/// A response header as the OWASP ruleset wants every schema: bounded and restricted.
fn header(description: &str) -> Value {
    json!({
        "description": description,
        "schema": { "type": "string", "maxLength": 256, "pattern": "^[ -~]*$" }
    })
}

fn problem(description: &str, headers: Value) -> Value {
    json!({
        "description": description,
        "headers": headers,
        "content": {
            "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } }
        }
    })
}

/// One operation that meets spectral:oas and every OWASP rule docintel keeps.
fn clean() -> Value {
    let limited = json!({
        "RateLimit": header("The client's remaining budget."),
        "RateLimit-Policy": header("The client's quota."),
    });
    let mut retry = limited.clone();
    retry["Retry-After"] = json!({
        "description": "Seconds to wait.",
        "schema": { "type": "integer", "format": "int32", "minimum": 1, "maximum": 86400 }
    });
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "fixture",
            "version": "1.0.0",
            "description": "A document that meets the lint's ruleset.",
            "contact": { "name": "docintel", "url": "https://example.com" }
        },
        "servers": [
            { "url": "https://api.example.com", "description": "production", "x-internal": false }
        ],
        "security": [{ "api_key": [] }],
        "tags": [{ "name": "things", "description": "Things." }],
        "paths": {
            "/things/{id}": {
                "get": {
                    "operationId": "get_thing",
                    "summary": "Read a thing",
                    "description": "Reads a thing.",
                    "tags": ["things"],
                    "parameters": [{
                        "name": "id",
                        "in": "path",
                        "required": true,
                        "description": "The thing's id.",
                        "schema": { "type": "string", "format": "uuid", "maxLength": 36 }
                    }],
                    "responses": {
                        "200": {
                            "description": "The thing.",
                            "headers": limited,
                            "content": {
                                "application/json": {
                                    "schema": { "$ref": "#/components/schemas/Thing" }
                                }
                            }
                        },
                        "400": problem("A bad id.", limited.clone()),
                        "401": problem("No valid key.", limited.clone()),
                        "404": problem("No such thing.", limited.clone()),
                        "429": problem("Over the rate limit.", retry),
                        // Answered by the HTTP layer, before any client is known: no
                        // rate-limit headers (an exception in the ruleset).
                        "431": { "description": "Request headers too large." },
                        "500": problem("An internal error.", json!({}))
                    }
                }
            }
        },
        "components": {
            "securitySchemes": {
                "api_key": { "type": "http", "scheme": "bearer", "description": "An API key." }
            },
            "schemas": {
                "Thing": {
                    "type": "object",
                    "required": ["id", "names"],
                    "properties": {
                        "id": { "type": "string", "format": "uuid", "maxLength": 36 },
                        "names": {
                            "type": "array",
                            "maxItems": 10,
                            "items": { "type": "string", "maxLength": 50, "pattern": "^\\S+$" }
                        }
                    }
                },
                "Problem": {
                    "type": "object",
                    "required": ["title", "status"],
                    "properties": {
                        "title": { "type": "string", "maxLength": 200, "pattern": "^.+$" },
                        "status": {
                            "type": "integer", "format": "int32", "minimum": 400, "maximum": 599
                        }
                    }
                }
            }
        }
    })
}

async fn lint_doc(doc: &Value) -> Vec<Finding> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fixture.json");
    std::fs::write(&file, serde_json::to_string_pretty(doc).unwrap()).unwrap();
    lint::lint(&spectral(), &root(), &root().join(lint::RULESET), &[file]).await
}

fn located(findings: &[Finding], rule: &str) -> Vec<String> {
    let mut at: Vec<String> = findings
        .iter()
        .filter(|f| f.rule == rule)
        .map(|f| {
            assert_eq!(f.severity, Severity::Breaking, "{f:?}");
            f.location.rsplit_once('#').unwrap().1.to_owned()
        })
        .collect();
    at.sort();
    at
}

#[tokio::test]
async fn a_document_that_meets_every_rule_has_no_finding() {
    let findings = lint_doc(&clean()).await;
    assert_eq!(findings, [], "{findings:#?}");
}

/// OWASP API4 (unrestricted resource consumption): a 2xx or 4xx response that does not
/// declare its rate-limit headers is an error, and so a failure of the gate.
#[tokio::test]
async fn a_response_without_rate_limit_headers_fails() {
    let mut doc = clean();
    let responses = &mut doc["paths"]["/things/{id}"]["get"]["responses"];
    // Headers, but not the rate-limit ones.
    responses["200"]["headers"] = json!({ "X-Request-Id": header("The request's id.") });
    // No headers at all.
    responses["404"].as_object_mut().unwrap().remove("headers");
    let findings = lint_doc(&doc).await;
    assert_eq!(
        located(&findings, "owasp:api4:2023-rate-limit"),
        [
            "/paths/~1things~1{id}/get/responses/200/headers",
            "/paths/~1things~1{id}/get/responses/404",
        ],
        "{findings:#?}"
    );
    let finding = findings
        .iter()
        .find(|f| f.rule == "owasp:api4:2023-rate-limit")
        .unwrap();
    assert!(finding.fix.contains("OWASP"), "{finding:?}");
}

/// The rule accepts one of the header conventions, not a mix: `RateLimit` (what docintel
/// sends) and the older `RateLimit-Limit` + `RateLimit-Reset` together are refused.
#[tokio::test]
async fn rate_limit_headers_of_two_conventions_fail() {
    let mut doc = clean();
    let headers = &mut doc["paths"]["/things/{id}"]["get"]["responses"]["200"]["headers"];
    headers["RateLimit-Limit"] = header("The quota.");
    headers["RateLimit-Reset"] = header("Seconds until the quota resets.");
    let findings = lint_doc(&doc).await;
    assert_eq!(
        located(&findings, "owasp:api4:2023-rate-limit"),
        ["/paths/~1things~1{id}/get/responses/200/headers"],
        "{findings:#?}"
    );
}

/// OWASP API4 again: a string without `maxLength` (a format is not a bound) and an array
/// without `maxItems` fail; a 429 without `Retry-After` fails.
#[tokio::test]
async fn unbounded_strings_arrays_and_a_429_without_retry_after_fail() {
    let mut doc = clean();
    let thing = &mut doc["components"]["schemas"]["Thing"]["properties"];
    thing["id"].as_object_mut().unwrap().remove("maxLength");
    thing["names"].as_object_mut().unwrap().remove("maxItems");
    let responses = &mut doc["paths"]["/things/{id}"]["get"]["responses"];
    responses["429"]["headers"]
        .as_object_mut()
        .unwrap()
        .remove("Retry-After");
    let findings = lint_doc(&doc).await;
    assert_eq!(
        located(&findings, "owasp:api4:2023-string-limit"),
        ["/components/schemas/Thing/properties/id"],
        "{findings:#?}"
    );
    assert_eq!(
        located(&findings, "owasp:api4:2023-array-limit"),
        ["/components/schemas/Thing/properties/names"],
        "{findings:#?}"
    );
    assert_eq!(
        located(&findings, "owasp:api4:2023-rate-limit-retry-after"),
        ["/paths/~1things~1{id}/get/responses/429/headers"],
        "{findings:#?}"
    );
}

/// The exceptions in governance/spectral.yaml are only those: a document without CORS
/// headers, an environment in its server description or rate-limit headers on a 431
/// passes (see `clean`), but a server without `x-internal` still fails.
#[tokio::test]
async fn only_the_listed_exceptions_are_off() {
    let mut doc = clean();
    doc["servers"] =
        json!([{ "url": "/", "description": "The server this document is served by." }]);
    let findings = lint_doc(&doc).await;
    let rules: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(rules, ["owasp:api9:2023-inventory-access"], "{findings:#?}");
    assert_eq!(
        located(&findings, "owasp:api9:2023-inventory-access"),
        ["/servers/0"]
    );
}
