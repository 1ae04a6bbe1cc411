//! The comparison against docintel's own documents and pacts, and mutated copies of them.

use std::path::Path;

use docintel_contract_check::{Comparison, Document, Kind, compare};
use serde_json::{Value, json};

fn read(relative: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn documents() -> (Document, Document) {
    (
        Document::new(read("openapi/v1.json")).unwrap(),
        Document::new(read("openapi/v2.json")).unwrap(),
    )
}

fn check(pact: &Value) -> Comparison {
    let (v1, v2) = documents();
    compare(pact, &[&v1, &v2]).unwrap()
}

fn analytics() -> Value {
    read("contracts/pacts/analytics-team-docintel.json")
}

fn messages(c: &Comparison) -> Vec<String> {
    c.mismatches.iter().map(ToString::to_string).collect()
}

#[test]
fn every_committed_pact_asks_only_for_what_the_documents_promise() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../contracts/pacts");
    let mut compared = 0;
    let mut skipped = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let pact: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let c = check(&pact);
        assert!(c.success(), "{}: {:#?}", path.display(), messages(&c));
        compared += c.compared;
        skipped += c.messages;
    }
    assert_eq!(compared, 19, "HTTP interactions");
    assert_eq!(
        skipped, 1,
        "the notification-service message is counted, not compared"
    );
}

#[test]
fn an_undocumented_response_field_is_named_with_its_operation() {
    let mut pact = analytics();
    pact["interactions"][0]["response"]["body"]["content"]["items"][0]["department"] =
        json!("finance");
    let c = check(&pact);
    assert_eq!(c.mismatches.len(), 1, "{:#?}", messages(&c));
    let m = &c.mismatches[0];
    assert_eq!(m.kind, Kind::UndeclaredField);
    assert_eq!(m.operation, "GET /v2/documents");
    assert_eq!(
        m.to_string(),
        "interaction \"list processed documents for label statistics\": the pact expects \
         `items[].department`, which GET /v2/documents's 200 does not document"
    );
}

#[test]
fn a_nested_undocumented_field_is_found_below_declared_ones() {
    let mut pact = analytics();
    pact["interactions"][0]["response"]["body"]["content"]["items"][0]["metadata"]["author"] =
        json!("ann");
    let c = check(&pact);
    assert_eq!(
        messages(&c),
        vec![
            "interaction \"list processed documents for label statistics\": the pact expects \
             `items[].metadata.author`, which GET /v2/documents's 200 does not document"
        ]
    );
}

#[test]
fn an_undocumented_status_a_wrong_path_and_a_wrong_method_are_mismatches() {
    let mut pact = analytics();
    pact["interactions"][0]["response"]["status"] = json!(418);
    let c = check(&pact);
    assert_eq!(c.mismatches[0].kind, Kind::Status);
    assert!(
        c.mismatches[0]
            .message
            .starts_with("the pact expects status 418, which GET /v2/documents does not document"),
        "{:?}",
        c.mismatches[0].message
    );

    let mut pact = analytics();
    pact["interactions"][0]["request"]["path"] = json!("/v2/documentz");
    let c = check(&pact);
    assert_eq!(c.mismatches[0].kind, Kind::Path);
    assert!(
        c.mismatches[0]
            .to_string()
            .contains("GET /v2/documentz matches no path"),
        "{}",
        c.mismatches[0]
    );

    let mut pact = analytics();
    pact["interactions"][0]["request"]["method"] = json!("PATCH");
    let c = check(&pact);
    assert_eq!(c.mismatches[0].kind, Kind::Method);
    assert_eq!(
        c.mismatches[0].message,
        "/v2/documents is documented, but not with method PATCH"
    );
}

#[test]
fn a_value_of_the_wrong_type_fails_even_under_a_matcher() {
    let mut pact = analytics();
    pact["interactions"][0]["response"]["body"]["content"]["items"][0]["metadata"]["word_count"] =
        json!("six");
    let c = check(&pact);
    assert_eq!(c.mismatches.len(), 1, "{:#?}", messages(&c));
    assert_eq!(c.mismatches[0].kind, Kind::ResponseBody);
    assert!(
        c.mismatches[0]
            .message
            .contains("`items[0].metadata.word_count`"),
        "{}",
        c.mismatches[0].message
    );
}

#[test]
fn a_type_matcher_lets_the_example_stand_for_any_value_of_its_type() {
    let mut pact = read("contracts/pacts/docintel-sdk-docintel.json");
    let get = pact["interactions"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|i| i["description"] == "get a processed invoice")
        .unwrap();
    // `status` is an enum; a value outside it fails as a literal expectation…
    get["response"]["body"]["content"]["status"] = json!("archived");
    let only = json!({"interactions": [get.clone()], "metadata": {"pactSpecification": {"version": "4.0"}}});
    let c = check(&only);
    assert_eq!(c.mismatches.len(), 1, "{:#?}", messages(&c));
    assert!(
        c.mismatches[0].message.contains("`status`"),
        "{}",
        c.mismatches[0]
    );
    // …and passes under a type matcher: the consumer takes any string there.
    get["response"]["matchingRules"]["body"]["$.status"] =
        json!({"combine": "AND", "matchers": [{"match": "type"}]});
    let only = json!({"interactions": [get.clone()], "metadata": {"pactSpecification": {"version": "4.0"}}});
    let c = check(&only);
    assert!(c.success(), "{:#?}", messages(&c));
    // A matcher on a parent cascades, as Pact's type matching does.
    get["response"]["matchingRules"]["body"] =
        json!({"$": {"combine": "AND", "matchers": [{"match": "type"}]}});
    let only = json!({"interactions": [get.clone()], "metadata": {"pactSpecification": {"version": "4.0"}}});
    assert!(check(&only).success());
}

#[test]
fn required_parameters_and_request_bodies_are_checked() {
    let mut pact = read("contracts/pacts/docintel-sdk-docintel.json");
    let interactions = pact["interactions"].as_array_mut().unwrap();
    let upload = interactions
        .iter_mut()
        .find(|i| i["description"] == "upload a text document")
        .unwrap();
    upload["request"]["query"] = json!({});
    let c = check(&pact);
    assert_eq!(
        messages(&c),
        vec![
            "interaction \"upload a text document\": POST /v2/documents requires the query \
             parameter `filename`, which the pact does not send"
        ]
    );

    // A JSON request body against its schema (required fields included).
    let pact = json!({
        "consumer": {"name": "hooks"}, "provider": {"name": "docintel"},
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
        "interactions": [{
            "description": "subscribe",
            "request": {"method": "POST", "path": "/v2/webhooks",
                "headers": {"Content-Type": "application/json"},
                "body": {"event_types": ["doc.processed"], "colour": "red"}},
            "response": {"status": 201}
        }]
    });
    let c = check(&pact);
    assert_eq!(c.mismatches.len(), 2, "{:#?}", messages(&c));
    assert!(c.mismatches.iter().all(|m| m.kind == Kind::RequestBody));
    let text = messages(&c).join("\n");
    assert!(text.contains("\"url\" is a required property"), "{text}");
    assert!(text.contains("colour"), "{text}");
}

#[test]
fn v2_pacts_are_read_as_v2_writes_them() {
    let pact = json!({
        "consumer": {"name": "old"}, "provider": {"name": "docintel"},
        "metadata": {"pactSpecification": {"version": "2.0.0"}},
        "interactions": [{
            "description": "a list",
            "request": {"method": "get", "path": "/v2/documents", "query": "limit=5"},
            "response": {
                "status": 200,
                "headers": {"Content-Type": "application/json; charset=utf-8"},
                "body": {"items": [{"id": "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11", "status": "whatever", "owner": "x"}]},
                "matchingRules": {"$.body.items[*].status": {"match": "type"}}
            }
        }]
    });
    let c = check(&pact);
    assert_eq!(
        messages(&c),
        vec![
            "interaction \"a list\": the pact expects `items[].owner`, which GET \
             /v2/documents's 200 does not document"
        ]
    );
}

#[test]
fn a_response_media_type_the_operation_does_not_document_is_a_mismatch() {
    let mut pact = analytics();
    pact["interactions"][0]["response"]["body"]["contentType"] = json!("application/xml");
    pact["interactions"][0]["response"]["headers"]["Content-Type"] = json!(["application/xml"]);
    pact["interactions"][0]["response"]["body"]["content"] = json!("<items/>");
    let c = check(&pact);
    assert_eq!(c.mismatches[0].kind, Kind::MediaType, "{:#?}", messages(&c));
    assert!(c.mismatches[0].message.contains("application/xml"));
}

#[test]
fn a_big_pact_is_compared_whole() {
    // 2 MiB of items, one of them asking for an undocumented field: every item is
    // walked, and the mismatch is reported once.
    let mut pact = analytics();
    let item = pact["interactions"][0]["response"]["body"]["content"]["items"][0].clone();
    let mut items = vec![item.clone(); 12_000];
    items[11_999]["department"] = json!("finance");
    pact["interactions"][0]["response"]["body"]["content"]["items"] = json!(items);
    assert!(pact.to_string().len() > 2_000_000);
    let c = check(&pact);
    assert_eq!(c.mismatches.len(), 1, "{:#?}", messages(&c));
    assert_eq!(c.mismatches[0].kind, Kind::UndeclaredField);
}

#[test]
fn what_is_not_a_pact_or_a_document_is_refused() {
    let (v1, v2) = documents();
    assert!(compare(&json!([1, 2]), &[&v1, &v2]).is_err());
    assert!(compare(&json!({"consumer": {}}), &[&v1, &v2]).is_err());
    assert!(Document::new(json!({"openapi": "3.1.0"})).is_err());
}

#[test]
fn a_document_that_makes_validation_explode_is_refused_within_a_budget() {
    // Each level tries two branches that both recurse: 2^depth evaluations for a body
    // nested `depth` deep, were every branch tried.
    let doc = Document::new(json!({
        "openapi": "3.1.0",
        "paths": {"/tree": {"get": {"responses": {"200": {"description": "a tree",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}}}}}},
        "components": {"schemas": {"Node": {"anyOf": [
            {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}, "a": {"type": "string"}}},
            {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}, "b": {"type": "string"}}}
        ]}}}
    }))
    .unwrap();
    let mut body = json!({"a": 1});
    for _ in 0..60 {
        body = json!({"next": body});
    }
    let pact = json!({
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
        "interactions": [{"description": "a deep tree",
            "request": {"method": "GET", "path": "/tree"},
            "response": {"status": 200, "body": body}}]
    });
    let c = compare(&pact, &[&doc]).unwrap();
    assert_eq!(c.mismatches.len(), 1, "{:#?}", messages(&c));
    assert!(
        c.mismatches[0].message.contains("was not validated"),
        "{}",
        c.mismatches[0]
    );
}

#[test]
fn the_validation_budget_is_the_whole_pacts_not_each_bodys() {
    // Many interactions, each cheap on its own: the budget runs out across them, and
    // what is left is reported, not validated.
    let doc = Document::new(json!({
        "openapi": "3.1.0",
        "paths": {"/tree": {"get": {"responses": {"200": {"description": "a tree",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}}}}}},
        "components": {"schemas": {"Node": {"anyOf": [
            {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}}},
            {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}}}
        ]}}}
    }))
    .unwrap();
    let mut body = json!({});
    for _ in 0..16 {
        body = json!({"next": body});
    }
    let interaction = json!({"description": "a tree",
        "request": {"method": "GET", "path": "/tree"},
        "response": {"status": 200, "body": body}});
    let pact = json!({
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
        "interactions": vec![interaction; 200]
    });
    let c = compare(&pact, &[&doc]).unwrap();
    assert!(
        !c.mismatches.is_empty()
            && c.mismatches
                .iter()
                .all(|m| m.message.contains("was not validated")),
        "{:#?}",
        messages(&c)
    );
}
