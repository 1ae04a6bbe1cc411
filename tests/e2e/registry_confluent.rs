//! Confluent's REST semantics, case by case, against the embedded registry (on SQLite,
//! and on PostgreSQL when `DOCINTEL_TEST_DATABASE_URL` is set, as `./test` does): schema
//! references, modes and imports, the endpoints clients and UIs call, schema text as
//! submitted, `deleted=true`, the exact error codes and media types, and the string/bytes
//! rule with its opt-in. Each case follows Confluent's documentation and its REST API
//! tests (written here from their behaviour). The last tests run Confluent's Python client
//! and kafkajs's registry client through references, mode and the new endpoints.

use std::time::{Duration, Instant};

use apache_avro::types::Value as Avro;
use reqwest::{Method, StatusCode};
use schema_registry_converter::async_impl::avro::AvroDecoder;
use schema_registry_converter::async_impl::schema_registry::SrSettings;
use serde_json::{Value, json};

use crate::common::TestServer;
use crate::registry::{CT, Registry, assert_error};

fn address(fields: Value) -> String {
    json!({"type": "record", "name": "Address", "namespace": "com.acme", "fields": fields})
        .to_string()
}

fn address_v1() -> String {
    address(json!([{"name": "city", "type": "string"}]))
}

/// An order whose `to` field is the Address another subject defines.
fn order(extra: Value) -> String {
    let mut fields = vec![json!({"name": "to", "type": "com.acme.Address"})];
    if !extra.is_null() {
        fields.push(extra);
    }
    json!({"type": "record", "name": "Order", "namespace": "com.acme", "fields": fields})
        .to_string()
}

fn address_ref(version: i64) -> Value {
    json!([{"name": "com.acme.Address", "subject": "address-value", "version": version}])
}

impl Registry<'_> {
    async fn send(&self, method: Method, path: &str, body: Value) -> reqwest::Response {
        self.write(method, path, body).send().await.unwrap()
    }
    async fn ok(&self, method: Method, path: &str, body: Value) -> Value {
        let r = self.send(method, path, body).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        r.json().await.unwrap()
    }
    async fn register_with(&self, subject: &str, body: Value) -> reqwest::Response {
        self.send(Method::POST, &format!("/subjects/{subject}/versions"), body)
            .await
    }
    async fn id(&self, subject: &str, body: Value) -> i64 {
        let r = self.register_with(subject, body).await;
        assert_eq!(r.status(), StatusCode::OK, "{subject}");
        r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }
    /// A write refused with `status` and `code`; returns the message.
    async fn refused(
        &self,
        method: Method,
        path: &str,
        body: Value,
        (status, code): (StatusCode, u32),
    ) -> String {
        assert_error(self.send(method, path, body).await, status, code).await
    }
    /// A registration refused with `status` and `code`; returns the message.
    async fn refused_registration(
        &self,
        subject: &str,
        body: Value,
        codes: (StatusCode, u32),
    ) -> String {
        let path = format!("/subjects/{subject}/versions");
        self.refused(Method::POST, &path, body, codes).await
    }
    /// A GET's body as text (the bare schema endpoints).
    async fn text(&self, path: &str) -> String {
        let r = self.get(path).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        r.text().await.unwrap()
    }
    async fn status_and_body(&self, path: &str) -> (StatusCode, Value) {
        let r = self.get(path).send().await.unwrap();
        (r.status(), r.json().await.unwrap())
    }
}

#[tokio::test]
async fn references_register_resolve_and_protect_what_they_name() {
    let s = TestServer::start().await;
    let reg = Registry { server: &s };
    let addr = reg
        .id("address-value", json!({"schema": address_v1()}))
        .await;
    let order_v1 = order(Value::Null);
    let body = json!({"schema": order_v1, "references": address_ref(1)});
    let id = reg.id("orders-value", body.clone()).await;
    assert_ne!(id, addr);
    // The same schema and references again: the same id, no new version.
    assert_eq!(reg.id("orders-value", body.clone()).await, id);
    assert_eq!(reg.versions("orders-value").await, json!([1]));

    // References come back on the version and on the id, as submitted.
    let v: Value = reg.read("/subjects/orders-value/versions/1").await;
    assert_eq!(v["references"], address_ref(1));
    assert_eq!(v["schema"], order_v1);
    let by_id: Value = reg.read(&format!("/schemas/ids/{id}")).await;
    assert_eq!(by_id["references"], address_ref(1));
    // A schema without references has no `references` field (as Confluent's).
    let plain: Value = reg.read(&format!("/schemas/ids/{addr}")).await;
    assert!(plain.get("references").is_none(), "{plain}");
    assert_eq!(
        reg.read("/subjects/address-value/versions/1/referencedby")
            .await,
        json!([id])
    );

    // The same text with other references is another schema; lookup needs the references.
    let found: Value = reg
        .ok(Method::POST, "/subjects/orders-value", body.clone())
        .await;
    assert_eq!(
        (found["id"].as_i64(), found["version"].as_i64()),
        (Some(id), Some(1))
    );
    reg.refused(
        Method::POST,
        "/subjects/orders-value",
        json!({"schema": order(Value::Null)}),
        (StatusCode::UNPROCESSABLE_ENTITY, 42201),
    )
    .await;

    // Compatibility resolves the references on both sides: a field with a default is
    // fine under BACKWARD, a required one is not.
    let with_default = json!({"name": "note", "type": "string", "default": ""});
    let r = reg
        .send(
            Method::POST,
            "/compatibility/subjects/orders-value/versions/latest?verbose=true",
            json!({"schema": order(with_default.clone()), "references": address_ref(1)}),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["is_compatible"], true);
    let required = json!({"name": "note", "type": "string"});
    reg.refused_registration(
        "orders-value",
        json!({"schema": order(required), "references": address_ref(1)}),
        (StatusCode::CONFLICT, 409),
    )
    .await;
    // A new Address version (a zip with a default); an order referring to it is read
    // through the references of both versions when checked against the first.
    let addr2 = reg
        .id(
            "address-value",
            json!({"schema": address(json!([{"name": "city", "type": "string"}, {"name": "zip", "type": "string", "default": ""}]))}),
        )
        .await;
    assert_ne!(addr2, addr);
    let id2 = reg
        .id(
            "orders-value",
            json!({"schema": order(Value::Null), "references": address_ref(2)}),
        )
        .await;
    assert_ne!(id2, id, "same text, other references: another schema");

    // A referenced version cannot be deleted, softly or for good, nor its subject.
    reg.refused(
        Method::DELETE,
        "/subjects/address-value/versions/1",
        json!({}),
        (StatusCode::UNPROCESSABLE_ENTITY, 42206),
    )
    .await;
    reg.refused(
        Method::DELETE,
        "/subjects/address-value",
        json!({}),
        (StatusCode::UNPROCESSABLE_ENTITY, 42206),
    )
    .await;
    // Once the referring version is soft-deleted, it no longer counts…
    reg.ok(
        Method::DELETE,
        "/subjects/orders-value/versions/1",
        json!({}),
    )
    .await;
    assert_eq!(
        reg.read("/subjects/address-value/versions/1/referencedby")
            .await,
        json!([])
    );
    assert_eq!(
        reg.read("/subjects/address-value/versions/1/referencedby?deleted=true")
            .await,
        json!([id])
    );
    reg.ok(
        Method::DELETE,
        "/subjects/address-value/versions/1",
        json!({}),
    )
    .await;
    // …except for a permanent delete, until it is gone for good too.
    reg.refused(
        Method::DELETE,
        "/subjects/address-value/versions/1?permanent=true",
        json!({}),
        (StatusCode::UNPROCESSABLE_ENTITY, 42206),
    )
    .await;
    reg.ok(
        Method::DELETE,
        "/subjects/orders-value/versions/1?permanent=true",
        json!({}),
    )
    .await;
    reg.ok(
        Method::DELETE,
        "/subjects/address-value/versions/1?permanent=true",
        json!({}),
    )
    .await;

    // A reference to a version that does not exist, or to no version at all.
    for refs in [
        json!([{"name": "com.acme.Address", "subject": "address-value", "version": 9}]),
        json!([{"name": "com.acme.Address", "subject": "nowhere", "version": 1}]),
        json!([{"name": "com.acme.Address", "subject": "address-value", "version": 0}]),
        // Its own subject's first version, which it would itself become.
        json!([{"name": "com.acme.Address", "subject": "fresh-value", "version": 1}]),
    ] {
        reg.refused_registration(
            "fresh-value",
            json!({"schema": order(Value::Null), "references": refs}),
            (StatusCode::UNPROCESSABLE_ENTITY, 42201),
        )
        .await;
    }
    // Unresolved without references.
    reg.refused_registration(
        "fresh-value",
        json!({"schema": order(Value::Null)}),
        (StatusCode::UNPROCESSABLE_ENTITY, 42201),
    )
    .await;
    let (status, _) = reg.status_and_body("/subjects/fresh-value/versions").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was stored");
}

/// A record type `T{i}` that refers to `T{i-1}` (defined by subject `chain-{i-1}`).
fn link(i: usize) -> Value {
    let field = if i == 0 {
        json!({"name": "v", "type": "int"})
    } else {
        json!({"name": "prev", "type": format!("chain.T{}", i - 1)})
    };
    json!({"type": "record", "name": format!("T{i}"), "namespace": "chain", "fields": [field]})
}

#[tokio::test]
async fn hostile_references_are_bounded_with_a_clear_refusal() {
    let s = TestServer::start().await;
    let reg = Registry { server: &s };
    // A chain: each schema refers to the previous one, which refers to the one before…
    // Allowed up to the depth limit, refused past it.
    let depth = docintel_backend::registry::MAX_REFERENCE_DEPTH;
    let mut refused = None;
    for i in 0..=depth + 1 {
        let mut body = json!({"schema": link(i).to_string()});
        if i > 0 {
            body["references"] = json!([{"name": format!("chain.T{}", i - 1), "subject": format!("chain-{}", i - 1), "version": 1}]);
        }
        let r = reg.register_with(&format!("chain-{i}"), body).await;
        if r.status() != StatusCode::OK {
            refused = Some((
                i,
                assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, 42201).await,
            ));
            break;
        }
    }
    let (at, message) = refused.expect("a chain past the limit is refused");
    assert_eq!(at, depth + 1, "{message}");
    assert!(message.contains("nested more than"), "{message}");
    // The deepest accepted chain still resolves on every read and check.
    let deepest: Value = reg
        .read(&format!("/subjects/chain-{depth}/versions/latest"))
        .await;
    assert_eq!(
        deepest["references"][0]["subject"],
        format!("chain-{}", depth - 1)
    );

    // Fan-out: more distinct referenced schemas than allowed, directly or through another
    // reference (`mid` brings 60 of them); the same schema met twice counts once.
    let max = docintel_backend::registry::MAX_REFERENCES;
    let leaf_ref = |i: usize| json!({"name": format!("fan.L{i}"), "subject": format!("fan-{i}"), "version": 1});
    let leaf_field = |i: usize| json!({"name": format!("f{i}"), "type": format!("fan.L{i}")});
    for i in 0..=max {
        let leaf = json!({"type": "record", "name": format!("L{i}"), "namespace": "fan", "fields": [{"name": "x", "type": "int"}]});
        reg.id(&format!("fan-{i}"), json!({"schema": leaf.to_string()}))
            .await;
    }
    let record = |name: &str, fields: Vec<Value>| {
        json!({"type": "record", "name": name, "namespace": "fan", "fields": fields}).to_string()
    };
    reg.id(
        "mid-value",
        json!({"schema": record("Mid", (0..60).map(leaf_field).collect()), "references": (0..60).map(leaf_ref).collect::<Vec<_>>()}),
    )
    .await;
    // `top` refers to `mid` and to leaves 60..end, and again to leaf 0 (a diamond).
    let top = |end: usize| {
        let mut refs = vec![
            json!({"name": "fan.Mid", "subject": "mid-value", "version": 1}),
            leaf_ref(0),
        ];
        refs.extend((60..end).map(leaf_ref));
        let mut fields = vec![json!({"name": "mid", "type": "fan.Mid"})];
        fields.extend((60..end).map(leaf_field));
        json!({"schema": record("Top", fields), "references": refs})
    };
    let started = Instant::now();
    // 60 + 1 + 41 distinct schemas: over the limit.
    let message = reg
        .refused_registration(
            "top-value",
            top(max + 1),
            (StatusCode::UNPROCESSABLE_ENTITY, 42201),
        )
        .await;
    assert!(message.contains(&format!("more than {max}")), "{message}");
    // 60 + 1 + 39: at the limit, accepted, and checking against it again is cheap.
    reg.id("top-value", top(max - 1)).await;
    let r = reg
        .send(
            Method::POST,
            "/compatibility/subjects/top-value/versions?verbose=true",
            top(max - 1),
        )
        .await;
    let verdict: Value = r.json().await.unwrap();
    assert_eq!(verdict["is_compatible"], true, "{verdict}");
    let elapsed = started.elapsed();
    eprintln!(
        "fan-out of {max} referenced schemas: refused, registered and checked in {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
    // More references than allowed in one request, even to one schema: refused before
    // anything is read.
    let many = vec![leaf_ref(0); max + 1];
    let message = reg.refused_registration("many-value",
            json!({"schema": record("D", vec![json!({"name": "a", "type": "fan.L0"})]), "references": many}), (StatusCode::UNPROCESSABLE_ENTITY, 42201)).await;
    assert!(message.contains("references"), "{message}");
}

#[tokio::test]
async fn modes_gate_writes_and_import_brings_ids_and_versions() {
    let s = TestServer::start().await;
    let reg = Registry { server: &s };
    assert_eq!(reg.read("/mode").await, json!({"mode": "READWRITE"}));
    let r = reg.get("/mode/m-value").send().await.unwrap();
    assert_error(r, StatusCode::NOT_FOUND, 40409).await;
    assert_eq!(
        reg.read("/mode/m-value?defaultToGlobal=true").await,
        json!({"mode": "READWRITE"})
    );
    let first = json!({"schema": address_v1()});
    reg.id("m-value", first.clone()).await;

    // Writes need an admin key.
    let r = s
        .client
        .put(reg.url("/mode/m-value"))
        .header("content-type", CT)
        .body(json!({"mode": "READONLY"}).to_string())
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::UNAUTHORIZED, 401).await;
    reg.refused(
        Method::PUT,
        "/mode/m-value",
        json!({"mode": "SIDEWAYS"}),
        (StatusCode::UNPROCESSABLE_ENTITY, 42204),
    )
    .await;

    // READONLY: reads answer, every write to the subject is refused.
    assert_eq!(
        reg.ok(Method::PUT, "/mode/m-value", json!({"mode": "READONLY"}))
            .await,
        json!({"mode": "READONLY"})
    );
    assert_eq!(reg.read("/mode/m-value").await, json!({"mode": "READONLY"}));
    for (method, path, body) in [
        (Method::POST, "/subjects/m-value/versions", first.clone()),
        (Method::DELETE, "/subjects/m-value/versions/1", json!({})),
        (Method::DELETE, "/subjects/m-value", json!({})),
        (
            Method::PUT,
            "/config/m-value",
            json!({"compatibility": "NONE"}),
        ),
    ] {
        let message = reg
            .refused(
                method,
                path,
                body,
                (StatusCode::UNPROCESSABLE_ENTITY, 42205),
            )
            .await;
        assert!(message.contains("read-only"), "{message}");
    }
    assert_eq!(reg.versions("m-value").await, json!([1]));
    // Other subjects are not affected.
    reg.id("other-value", first.clone()).await;
    assert_eq!(
        reg.ok(Method::DELETE, "/mode/m-value", json!({})).await,
        json!({"mode": "READONLY"})
    );
    reg.refused(
        Method::DELETE,
        "/mode/m-value",
        json!({}),
        (StatusCode::NOT_FOUND, 40401),
    )
    .await;

    // IMPORT needs an empty subject, unless forced.
    let message = reg
        .refused(
            Method::PUT,
            "/mode/m-value",
            json!({"mode": "IMPORT"}),
            (StatusCode::UNPROCESSABLE_ENTITY, 42205),
        )
        .await;
    assert!(message.contains("Cannot import"), "{message}");
    reg.refused(
        Method::PUT,
        "/mode",
        json!({"mode": "IMPORT"}),
        (StatusCode::UNPROCESSABLE_ENTITY, 42205),
    )
    .await;
    assert_eq!(
        reg.ok(Method::PUT, "/mode/imp-value", json!({"mode": "IMPORT"}))
            .await,
        json!({"mode": "IMPORT"})
    );
    // In IMPORT mode a registration brings its id (and may bring its version).
    let message = reg
        .refused_registration(
            "imp-value",
            first.clone(),
            (StatusCode::UNPROCESSABLE_ENTITY, 42205),
        )
        .await;
    assert!(message.contains("not in read-write mode"), "{message}");
    let incompatible = json!({"schema": json!({"type": "record", "name": "Other", "fields": [{"name": "n", "type": "long"}]}).to_string()});
    let mut imported = incompatible.clone();
    imported["id"] = json!(4242);
    imported["version"] = json!(3);
    assert_eq!(reg.id("imp-value", imported.clone()).await, 4242);
    assert_eq!(reg.id("imp-value", imported).await, 4242, "idempotent");
    assert_eq!(reg.versions("imp-value").await, json!([3]));
    let by_id: Value = reg.read("/schemas/ids/4242").await;
    assert_eq!(by_id["schema"], incompatible["schema"]);
    // Not checked for compatibility: an unrelated record follows at the next version.
    let mut next = json!({"schema": json!({"type": "record", "name": "Imported", "fields": []}).to_string(), "id": 4243});
    assert_eq!(reg.id("imp-value", next.clone()).await, 4243);
    assert_eq!(reg.versions("imp-value").await, json!([3, 4]));
    // An id another schema holds; a schema stored under another id; a taken version.
    let mut taken =
        json!({"schema": json!({"type": "fixed", "name": "F", "size": 4}).to_string(), "id": 4242});
    reg.refused_registration(
        "imp-value",
        taken.clone(),
        (StatusCode::UNPROCESSABLE_ENTITY, 42205),
    )
    .await;
    next["id"] = json!(5000);
    reg.refused_registration("imp-value", next, (StatusCode::UNPROCESSABLE_ENTITY, 42207))
        .await;
    taken["id"] = json!(5001);
    taken["version"] = json!(3);
    reg.refused_registration(
        "imp-value",
        taken,
        (StatusCode::UNPROCESSABLE_ENTITY, 42205),
    )
    .await;
    // Ids assigned later never collide with imported ones.
    reg.ok(Method::PUT, "/mode/imp-value", json!({"mode": "READWRITE"}))
        .await;
    let fresh = reg
        .id(
            "after-import-value",
            json!({"schema": json!({"type": "enum", "name": "E", "symbols": ["A"]}).to_string()}),
        )
        .await;
    assert!(fresh > 5001, "{fresh}");
    // Outside IMPORT mode an id is refused.
    let message = reg
        .refused_registration(
            "other-value",
            json!({"schema": address_v1(), "id": 7}),
            (StatusCode::UNPROCESSABLE_ENTITY, 42205),
        )
        .await;
    assert!(message.contains("not in import mode"), "{message}");

    // Forced IMPORT on a subject that has versions.
    assert_eq!(
        reg.ok(
            Method::PUT,
            "/mode/other-value?force=true",
            json!({"mode": "IMPORT"})
        )
        .await,
        json!({"mode": "IMPORT"})
    );
    // A subject emptied by soft deletes may enter IMPORT: its old versions go for good.
    reg.id("emptied-value", first.clone()).await;
    reg.ok(Method::DELETE, "/subjects/emptied-value", json!({}))
        .await;
    reg.ok(
        Method::PUT,
        "/mode/emptied-value",
        json!({"mode": "IMPORT"}),
    )
    .await;
    let (status, _) = reg
        .status_and_body("/subjects/emptied-value/versions?deleted=true")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Global READONLY covers every subject without a mode of its own.
    reg.ok(Method::PUT, "/mode", json!({"mode": "READONLY"}))
        .await;
    reg.refused_registration(
        "new-value",
        first.clone(),
        (StatusCode::UNPROCESSABLE_ENTITY, 42205),
    )
    .await;
    reg.refused(
        Method::PUT,
        "/config",
        json!({"compatibility": "NONE"}),
        (StatusCode::UNPROCESSABLE_ENTITY, 42205),
    )
    .await;
    assert_eq!(
        reg.ok(Method::DELETE, "/mode", json!({})).await,
        json!({"mode": "READONLY"})
    );
    assert_eq!(reg.read("/mode").await, json!({"mode": "READWRITE"}));
    reg.id("new-value", first).await;
    // A mode for a subject with a control character is refused.
    reg.refused(
        Method::PUT,
        "/mode/bad%07name",
        json!({"mode": "READONLY"}),
        (StatusCode::UNPROCESSABLE_ENTITY, 42208),
    )
    .await;
}

#[tokio::test]
async fn the_endpoints_clients_and_uis_call() {
    let s = TestServer::start().await;
    let reg = Registry { server: &s };
    assert_eq!(reg.read("/schemas/types").await, json!(["AVRO"]));
    let body = json!({"schema": address_v1()});
    let id = reg.id("a-value", body.clone()).await;
    assert_eq!(reg.id("b-value", body.clone()).await, id);
    assert_eq!(
        reg.read(&format!("/schemas/ids/{id}/subjects")).await,
        json!(["a-value", "b-value"])
    );
    assert_eq!(
        reg.read(&format!("/schemas/ids/{id}/versions")).await,
        json!([{"subject": "a-value", "version": 1}, {"subject": "b-value", "version": 1}])
    );
    assert_eq!(
        reg.read(&format!("/schemas/ids/{id}/subjects?subject=b-value"))
            .await,
        json!(["b-value"])
    );
    assert_eq!(
        reg.read(&format!("/schemas/ids/{id}/subjects?offset=1&limit=1"))
            .await,
        json!(["b-value"])
    );
    reg.ok(Method::DELETE, "/subjects/a-value", json!({})).await;
    assert_eq!(
        reg.read(&format!("/schemas/ids/{id}/subjects")).await,
        json!(["b-value"])
    );
    assert_eq!(
        reg.read(&format!("/schemas/ids/{id}/subjects?deleted=true"))
            .await,
        json!(["a-value", "b-value"])
    );
    for path in [
        "/schemas/ids/987654/subjects",
        "/schemas/ids/987654/versions",
    ] {
        let r = reg.get(path).send().await.unwrap();
        assert_error(r, StatusCode::NOT_FOUND, 40403).await;
    }

    // Against every version the level looks at: transitive levels look at all.
    reg.ok(
        Method::PUT,
        "/config/t-value",
        json!({"compatibility": "BACKWARD_TRANSITIVE"}),
    )
    .await;
    let n = |fields: Value| json!({"schema": json!({"type": "record", "name": "N", "fields": fields}).to_string()});
    reg.id("t-value", n(json!([{"name": "s", "type": "string"}])))
        .await;
    reg.id(
        "t-value",
        n(json!([{"name": "s", "type": "string", "default": "x"}, {"name": "k", "type": "int", "default": 1}])),
    )
    .await;
    // Requiring `k`: v2's data has it, v1's does not.
    let candidate = n(json!([{"name": "k", "type": "int"}]));
    let verdict: Value = reg
        .ok(
            Method::POST,
            "/compatibility/subjects/t-value/versions?verbose=true",
            candidate.clone(),
        )
        .await;
    assert_eq!(verdict["is_compatible"], false, "{verdict}");
    assert_eq!(
        verdict["messages"].as_array().unwrap().len(),
        1,
        "{verdict}"
    );
    let latest: Value = reg
        .ok(
            Method::POST,
            "/compatibility/subjects/t-value/versions/latest",
            candidate.clone(),
        )
        .await;
    assert_eq!(latest, json!({"is_compatible": true}));
    // A subject with no versions accepts anything.
    let fresh: Value = reg
        .ok(
            Method::POST,
            "/compatibility/subjects/unknown-value/versions",
            candidate,
        )
        .await;
    assert_eq!(fresh, json!({"is_compatible": true}));
}

#[tokio::test]
async fn schema_text_is_kept_as_submitted() {
    let s = TestServer::start().await;
    let reg = Registry { server: &s };
    // Keys in an unusual order and spacing: returned exactly so, everywhere.
    let text = r#"{"type":"record","name":"Z","fields":[{"type":"string","name":"b"},{"name":"a","type":"int"}]}"#;
    let id = reg.id("z-value", json!({"schema": text})).await;
    let v: Value = reg.read("/subjects/z-value/versions/1").await;
    assert_eq!(v["schema"], text);
    assert_eq!(reg.text("/subjects/z-value/versions/1/schema").await, text);
    let by_id: Value = reg.read(&format!("/schemas/ids/{id}")).await;
    assert_eq!(by_id["schema"], text);
    assert_eq!(reg.text(&format!("/schemas/ids/{id}/schema")).await, text);
    // The same schema with other spacing and key order is the same schema.
    let reordered = r#"{ "name": "Z", "type": "record",
        "fields": [ {"name": "b", "type": "string"}, {"type": "int", "name": "a"} ] }"#;
    assert_eq!(reg.id("z-value", json!({"schema": reordered})).await, id);
    assert_eq!(reg.versions("z-value").await, json!([1]));
    let found: Value = reg
        .ok(
            Method::POST,
            "/subjects/z-value",
            json!({"schema": reordered}),
        )
        .await;
    assert_eq!(found["schema"], text);
}

#[tokio::test]
async fn deleted_flags_error_codes_and_media_types() {
    let s = TestServer::start().await;
    let reg = Registry { server: &s };
    let v1 = json!({"schema": address_v1()});
    let v2 = json!({"schema": address(json!([{"name": "city", "type": "string"}, {"name": "zip", "type": "string", "default": ""}]))});
    reg.id("d-value", v1.clone()).await;
    reg.id("d-value", v2.clone()).await;
    reg.ok(Method::DELETE, "/subjects/d-value/versions/1", json!({}))
        .await;
    assert_eq!(reg.versions("d-value").await, json!([2]));
    assert_eq!(
        reg.read("/subjects/d-value/versions?deleted=true").await,
        json!([1, 2])
    );
    let (status, body) = reg.status_and_body("/subjects/d-value/versions/1").await;
    assert_eq!(
        (status, &body["error_code"]),
        (StatusCode::NOT_FOUND, &json!(40402))
    );
    let old: Value = reg.read("/subjects/d-value/versions/1?deleted=true").await;
    assert_eq!(old["version"], 1);
    assert_eq!(
        reg.text("/subjects/d-value/versions/1/schema?deleted=true")
            .await,
        address_v1()
    );
    // Lookup finds a soft-deleted version only when asked to.
    reg.refused(
        Method::POST,
        "/subjects/d-value",
        v1.clone(),
        (StatusCode::NOT_FOUND, 40403),
    )
    .await;
    let found: Value = reg
        .ok(Method::POST, "/subjects/d-value?deleted=true", v1.clone())
        .await;
    assert_eq!(found["version"], 1);
    // A second soft delete of the version: 40406; of the subject: 40404.
    let message = reg
        .refused(
            Method::DELETE,
            "/subjects/d-value/versions/1",
            json!({}),
            (StatusCode::NOT_FOUND, 40406),
        )
        .await;
    assert!(message.contains("soft deleted"), "{message}");
    reg.ok(Method::DELETE, "/subjects/d-value", json!({})).await;
    reg.refused(
        Method::DELETE,
        "/subjects/d-value",
        json!({}),
        (StatusCode::NOT_FOUND, 40404),
    )
    .await;
    // Only soft-deleted versions: listed with deleted=true, unknown without.
    let (status, body) = reg.status_and_body("/subjects/d-value/versions").await;
    assert_eq!(
        (status, &body["error_code"]),
        (StatusCode::NOT_FOUND, &json!(40401))
    );
    assert_eq!(
        reg.read("/subjects/d-value/versions?deleted=true").await,
        json!([1, 2])
    );

    // A compatibility check against a numbered version of an unknown subject: 40402.
    reg.refused(
        Method::POST,
        "/compatibility/subjects/ghost-value/versions/1",
        v1.clone(),
        (StatusCode::NOT_FOUND, 40402),
    )
    .await;
    // Subjects with control characters are refused where they are created.
    for path in [
        "/subjects/bad%01name/versions",
        "/subjects/tab%09name/versions",
    ] {
        reg.refused(
            Method::POST,
            path,
            v1.clone(),
            (StatusCode::UNPROCESSABLE_ENTITY, 42208),
        )
        .await;
    }
    reg.refused(
        Method::PUT,
        "/config/bad%01name",
        json!({"compatibility": "NONE"}),
        (StatusCode::UNPROCESSABLE_ENTITY, 42208),
    )
    .await;

    // Media types: an Accept with none of the registry's types gets 406; the answer is
    // in the type asked for.
    let accept = |value: &'static str| {
        s.client
            .get(reg.url("/subjects"))
            .header("accept", value)
            .send()
    };
    let r = accept("text/plain").await.unwrap();
    assert_error(r, StatusCode::NOT_ACCEPTABLE, 406).await;
    let r = accept("application/xml, text/html;q=0.9").await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_ACCEPTABLE);
    let r = accept("application/json").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/json");
    for value in [
        "*/*",
        "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json, application/json",
        "application/json;q=0.5, application/vnd.schemaregistry.v1+json",
    ] {
        let r = accept(value).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{value}");
        assert_eq!(r.headers()["content-type"], CT, "{value}");
    }
    let r = accept("application/vnd.schemaregistry.v1+json;q=0, application/json")
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/json");
}

fn bytes_then_string() -> (Value, Value) {
    let field = |t: &str| json!({"schema": json!({"type": "record", "name": "B", "fields": [{"name": "data", "type": t}]}).to_string()});
    (field("bytes"), field("string"))
}

#[tokio::test]
async fn bytes_read_as_string_is_allowed_by_default_and_refused_on_request() {
    let s = TestServer::start().await;
    let reg = Registry { server: &s };
    let (bytes, string) = bytes_then_string();
    // Confluent's answer by default, in both directions.
    let first = reg.id("default-value", bytes.clone()).await;
    reg.id("default-value", string.clone()).await;
    reg.ok(
        Method::PUT,
        "/config/default-value",
        json!({"compatibility": "FULL_TRANSITIVE"}),
    )
    .await;
    let (_, relaxed) = bytes_then_string();
    let relaxed = json!({"schema": relaxed["schema"].as_str().unwrap().replace("\"B\"", "\"B\",\"doc\":\"text\"")});
    reg.id("default-value", relaxed).await;
    assert_eq!(reg.versions("default-value").await, json!([1, 2, 3]));
    // Registering the first schema again is a no-op answering its id.
    assert_eq!(reg.id("default-value", bytes.clone()).await, first);

    // Opted into per subject: bytes → string is refused, with the reason.
    let set = reg
        .ok(
            Method::PUT,
            "/config/strict-value",
            json!({"compatibility": "BACKWARD", "refuseBytesAsString": true}),
        )
        .await;
    assert_eq!(
        set,
        json!({"compatibility": "BACKWARD", "refuseBytesAsString": true})
    );
    assert_eq!(
        reg.read("/config/strict-value").await,
        json!({"compatibilityLevel": "BACKWARD", "refuseBytesAsString": true})
    );
    reg.id("strict-value", bytes.clone()).await;
    let message = reg
        .refused_registration("strict-value", string.clone(), (StatusCode::CONFLICT, 409))
        .await;
    assert!(message.contains("refuseBytesAsString"), "{message}");
    let verdict: Value = reg
        .ok(
            Method::POST,
            "/compatibility/subjects/strict-value/versions/latest",
            string.clone(),
        )
        .await;
    assert_eq!(verdict["is_compatible"], false);

    // Globally: every subject without its own setting; a subject's own `false` wins.
    let set = reg
        .ok(Method::PUT, "/config", json!({"refuseBytesAsString": true}))
        .await;
    assert_eq!(set, json!({"refuseBytesAsString": true}));
    let global: Value = reg.read("/config").await;
    assert_eq!(global["refuseBytesAsString"], true);
    assert_eq!(
        global["compatibilityLevel"], "BACKWARD",
        "the level is untouched"
    );
    reg.id("global-value", bytes.clone()).await;
    reg.refused_registration("global-value", string.clone(), (StatusCode::CONFLICT, 409))
        .await;
    reg.ok(
        Method::PUT,
        "/config/lenient-value",
        json!({"refuseBytesAsString": false}),
    )
    .await;
    reg.id("lenient-value", bytes.clone()).await;
    reg.id("lenient-value", string.clone()).await;
    // Deleting the subject's configuration removes its setting too.
    let had: Value = reg
        .ok(Method::DELETE, "/config/strict-value", json!({}))
        .await;
    assert_eq!(had["refuseBytesAsString"], true);
    let r = reg.get("/config/strict-value").send().await.unwrap();
    assert_error(r, StatusCode::NOT_FOUND, 40408).await;
    // Nothing to set: refused.
    reg.refused(
        Method::PUT,
        "/config",
        json!({}),
        (StatusCode::UNPROCESSABLE_ENTITY, 42203),
    )
    .await;
}

/// Runs a third-party proof script; returns its one JSON line.
async fn proof(program: &str, args: &[&str]) -> Value {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/thirdparty");
    let out = tokio::process::Command::new(program)
        .current_dir(dir)
        .args(args)
        .output()
        .await
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON line")
}

#[tokio::test]
async fn confluent_python_client_uses_references_mode_and_the_new_endpoints() {
    let s = TestServer::start().await;
    let result = proof(
        "python3",
        &[
            "confluent_references.py",
            "--registry",
            &s.url("/registry"),
            "--admin-key",
            &s.admin_key,
        ],
    )
    .await;
    assert_eq!(result["ok"], true, "{result}");
    // What the Python client's serializer framed, with references, decodes in Rust too
    // (schema_registry_converter fetches the referenced schemas).
    let framed = hex_decode(result["framed"].as_str().unwrap());
    let decoded = AvroDecoder::new(SrSettings::new(s.url("/registry")))
        .decode(Some(&framed))
        .await
        .expect("decode")
        .value;
    let Avro::Record(fields) = decoded else {
        panic!("a record: {decoded:?}")
    };
    assert_eq!(fields[0].0, "to");
    let Avro::Record(to) = &fields[0].1 else {
        panic!("the referenced record: {fields:?}")
    };
    assert_eq!(to[0], ("city".to_owned(), Avro::String("Lyon".to_owned())));
}

/// Fails the test, saying how to install it, when kafkajs's registry client is missing.
pub(crate) fn kafkajs_installed() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/thirdparty");
    assert!(
        std::path::Path::new(dir)
            .join("node_modules/@kafkajs/confluent-schema-registry")
            .is_dir(),
        "kafkajs registry client missing: run `npm ci --prefix tests/thirdparty`"
    );
}

fn hex_decode(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[tokio::test]
async fn kafkajs_registry_client_uses_references_mode_and_the_new_endpoints() {
    let s = TestServer::start().await;
    kafkajs_installed();
    let result = proof(
        "node",
        &["kafkajs_references.mjs", &s.url("/registry"), &s.admin_key],
    )
    .await;
    assert_eq!(result["ok"], true, "{result}");
}
