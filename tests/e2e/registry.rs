//! The embedded schema registry through its Confluent REST API, on a real server: every
//! endpoint, the documented error for each bad input (with nothing stored), admin-only
//! writes, and schema_registry_converter — a real Confluent client — encoding and decoding
//! through it.

use crate::common;

use apache_avro::types::Value as Avro;
use common::TestServer;
use reqwest::{RequestBuilder, StatusCode};
use schema_registry_converter::async_impl::avro::{AvroDecoder, AvroEncoder};
use schema_registry_converter::async_impl::schema_registry::SrSettings;
use schema_registry_converter::schema_registry_common::SubjectNameStrategy;
use serde_json::{Value, json};

pub(crate) const CT: &str = "application/vnd.schemaregistry.v1+json";

fn record(name: &str, fields: Value) -> String {
    json!({"type": "record", "name": name, "namespace": "test", "fields": fields}).to_string()
}

fn v1() -> String {
    record("Thing", json!([{"name": "id", "type": "string"}]))
}
/// v1 plus a field with a default: BACKWARD and FORWARD compatible with v1.
fn v2() -> String {
    record(
        "Thing",
        json!([{"name": "id", "type": "string"}, {"name": "n", "type": "int", "default": 0}]),
    )
}
/// v1 plus a required field: new readers cannot read v1 data.
fn required() -> String {
    record(
        "Thing",
        json!([{"name": "id", "type": "string"}, {"name": "n", "type": "int"}]),
    )
}

pub(crate) struct Registry<'a> {
    pub(crate) server: &'a TestServer,
}

impl Registry<'_> {
    pub(crate) fn url(&self, path: &str) -> String {
        self.server.url(&format!("/registry{path}"))
    }
    pub(crate) fn get(&self, path: &str) -> RequestBuilder {
        self.server.client.get(self.url(path))
    }
    /// A write with the admin key and Confluent's content type.
    pub(crate) fn write(&self, method: reqwest::Method, path: &str, body: Value) -> RequestBuilder {
        self.server
            .client
            .request(method, self.url(path))
            .bearer_auth(&self.server.admin_key)
            .header("content-type", CT)
            .body(body.to_string())
    }
    pub(crate) fn post(&self, path: &str, body: Value) -> RequestBuilder {
        self.write(reqwest::Method::POST, path, body)
    }
    pub(crate) async fn register(&self, subject: &str, schema: &str) -> reqwest::Response {
        self.post(
            &format!("/subjects/{subject}/versions"),
            json!({"schema": schema}),
        )
        .send()
        .await
        .unwrap()
    }
    pub(crate) async fn versions(&self, subject: &str) -> Value {
        self.read(&format!("/subjects/{subject}/versions")).await
    }
    /// A GET's JSON body, whatever the status.
    pub(crate) async fn read(&self, path: &str) -> Value {
        self.get(path).send().await.unwrap().json().await.unwrap()
    }
}

/// Asserts a Confluent error: status, content type and `error_code`; returns the message.
pub(crate) async fn assert_error(r: reqwest::Response, status: StatusCode, code: u32) -> String {
    let actual = r.status();
    let content_type = r.headers()["content-type"].clone();
    let v: Value = r.json().await.unwrap();
    assert_eq!(actual, status, "{v}");
    assert_eq!(content_type, CT);
    assert_eq!(v["error_code"], code, "{v}");
    v["message"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn docintel_registers_its_own_subjects_with_their_declared_levels() {
    let s = TestServer::start().await;
    let reg = Registry { server: &s };
    let subjects: Value = reg.read("/subjects").await;
    assert_eq!(
        subjects,
        json!([
            "doc.classified-value",
            "doc.deleted-value",
            "doc.failed-value",
            "doc.processed-value",
            "doc.uploaded-value"
        ])
    );
    let level: Value = reg.read("/config/doc.classified-value").await;
    assert_eq!(level["compatibilityLevel"], "FULL_TRANSITIVE");
    let level: Value = reg.read("/config/doc.uploaded-value").await;
    assert_eq!(level["compatibilityLevel"], "BACKWARD_TRANSITIVE");
    // The classified subject holds this build's schema: v2 of the repository's files.
    let latest: Value = reg
        .read("/subjects/doc.classified-value/versions/latest")
        .await;
    assert!(latest["schema"].as_str().unwrap().contains("model_version"));
}

#[tokio::test]
async fn register_look_up_read_and_evolve_a_subject() {
    let s = TestServer::start().await;
    let reg = Registry { server: &s };

    let r = reg.register("things-value", &v1()).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], CT);
    let id1 = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

    // The same schema again (other spacing): same id, no new version.
    let spaced =
        serde_json::to_string_pretty(&serde_json::from_str::<Value>(&v1()).unwrap()).unwrap();
    let again: Value = reg
        .register("things-value", &spaced)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["id"], id1);
    assert_eq!(reg.versions("things-value").await, json!([1]));

    let id2 = reg
        .register("things-value", &v2())
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_ne!(id1, id2);
    assert_eq!(reg.versions("things-value").await, json!([1, 2]));

    // Look up which version a schema is.
    let found: Value = reg
        .post("/subjects/things-value", json!({"schema": v1()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["version"], 1);
    assert_eq!(found["id"], id1);
    assert_eq!(found["subject"], "things-value");

    let latest: Value = reg.read("/subjects/things-value/versions/latest").await;
    assert_eq!(
        (latest["version"].as_i64(), latest["id"].as_i64()),
        (Some(2), Some(id2))
    );
    let raw: Value = reg.read("/subjects/things-value/versions/1/schema").await;
    assert_eq!(raw["name"], "Thing");

    // By global id, with and without a subject that uses it.
    let by_id: Value = reg
        .read(&format!("/schemas/ids/{id2}?subject=things-value"))
        .await;
    assert!(by_id["schema"].as_str().unwrap().contains("\"n\""));
    let raw: Value = reg.read(&format!("/schemas/ids/{id1}/schema")).await;
    assert_eq!(raw["fields"].as_array().unwrap().len(), 1);
    let r = reg
        .get(&format!("/schemas/ids/{id1}?subject=doc.uploaded-value"))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::NOT_FOUND, 40403).await;
}

#[tokio::test]
async fn incompatible_schemas_are_refused_and_not_stored() {
    let s = TestServer::start().await;
    let reg = Registry { server: &s };
    reg.register("things-value", &v1()).await;

    // Default level BACKWARD: a new required field cannot read old data.
    let message = assert_error(
        reg.register("things-value", &required()).await,
        StatusCode::CONFLICT,
        409,
    )
    .await;
    assert!(message.contains("incompatible"), "{message}");
    assert_eq!(reg.versions("things-value").await, json!([1]));

    // The compatibility endpoint says the same, with reasons when verbose.
    let verdict: Value = reg
        .post(
            "/compatibility/subjects/things-value/versions/latest?verbose=true",
            json!({"schema": required()}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(verdict["is_compatible"], false);
    assert!(!verdict["messages"].as_array().unwrap().is_empty());
    let verdict: Value = reg
        .post(
            "/compatibility/subjects/things-value/versions/1",
            json!({"schema": v2()}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(verdict, json!({"is_compatible": true}));

    // Under NONE the same schema is accepted.
    let r = reg
        .write(
            reqwest::Method::PUT,
            "/config/things-value",
            json!({"compatibility": "NONE"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"compatibility": "NONE"})
    );
    assert_eq!(
        reg.register("things-value", &required()).await.status(),
        StatusCode::OK
    );
    assert_eq!(reg.versions("things-value").await, json!([1, 2]));
}

#[tokio::test]
async fn transitive_levels_check_every_earlier_version() {
    let s = TestServer::start().await;
    let reg = Registry { server: &s };
    let a = record("T", json!([{"name": "a", "type": "string"}]));
    // b drops `a` and adds `b` with a default: reads a's data (a is ignored).
    let b = record("T", json!([{"name": "b", "type": "string", "default": ""}]));
    // c makes `b` required: reads b's data, but not a's (which has no `b`).
    let c = record("T", json!([{"name": "b", "type": "string"}]));
    reg.register("chain-value", &a).await;
    reg.register("chain-value", &b).await;
    let put = |level: &str| {
        reg.write(
            reqwest::Method::PUT,
            "/config/chain-value",
            json!({"compatibility": level}),
        )
        .send()
    };
    put("BACKWARD_TRANSITIVE").await.unwrap();
    assert_error(
        reg.register("chain-value", &c).await,
        StatusCode::CONFLICT,
        409,
    )
    .await;
    put("BACKWARD").await.unwrap();
    assert_eq!(
        reg.register("chain-value", &c).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn bad_input_gets_the_documented_error_and_stores_nothing() {
    let s = TestServer::start().await;
    let reg = Registry { server: &s };
    let before: Value = reg.read("/subjects").await;

    // Invalid Avro (JSON, but not a schema), and not JSON at all.
    for bad in [
        r#"{"type":"record","name":"X"}"#,
        r#"{"type":"nonsense"}"#,
        "{not json",
    ] {
        let r = reg.register("bad-value", bad).await;
        assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, 42201).await;
    }
    // Oversized schema (within the body limit): refused as invalid.
    let huge_doc = "x".repeat(300 * 1024);
    let huge = json!({"type": "record", "name": "Big", "doc": huge_doc, "fields": []}).to_string();
    assert_error(
        reg.register("bad-value", &huge).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        42201,
    )
    .await;
    // A body beyond the request limit.
    let r = reg
        .post(
            "/subjects/bad-value/versions",
            json!({"schema": "x".repeat(3 << 20)}),
        )
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::PAYLOAD_TOO_LARGE, 413).await;
    // Unsupported schema types.
    let r = reg
        .post(
            "/subjects/bad-value/versions",
            json!({"schema": "{}", "schemaType": "PROTOBUF"}),
        )
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, 42201).await;
    // Wrong content type.
    let r = s
        .client
        .post(reg.url("/subjects/bad-value/versions"))
        .bearer_auth(&s.admin_key)
        .header("content-type", "text/plain")
        .body(json!({"schema": v1()}).to_string())
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::UNSUPPORTED_MEDIA_TYPE, 415).await;
    // A body without the schema field.
    let r = reg
        .post("/subjects/bad-value/versions", json!({"scheme": "x"}))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, 422).await;

    let after: Value = reg.read("/subjects").await;
    assert_eq!(before, after, "nothing was stored");

    // Unknown subject, version and id; malformed version; bad level.
    let r = reg
        .get("/subjects/nope-value/versions")
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::NOT_FOUND, 40401).await;
    let r = reg
        .get("/subjects/doc.uploaded-value/versions/9")
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::NOT_FOUND, 40402).await;
    for v in ["0", "abc", "-2", "99999999999"] {
        let r = reg
            .get(&format!("/subjects/doc.uploaded-value/versions/{v}"))
            .send()
            .await
            .unwrap();
        assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, 42202).await;
    }
    for id in ["999", "0"] {
        let r = reg.get(&format!("/schemas/ids/{id}")).send().await.unwrap();
        assert_error(r, StatusCode::NOT_FOUND, 40403).await;
    }
    // Not an id at all: no such resource, a plain 404 (as Confluent's integer path).
    for id in ["x", "99999999999"] {
        let r = reg.get(&format!("/schemas/ids/{id}")).send().await.unwrap();
        assert_error(r, StatusCode::NOT_FOUND, 404).await;
    }
    let r = reg
        .post("/subjects/doc.uploaded-value", json!({"schema": v1()}))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::NOT_FOUND, 40403).await;
    let r = reg
        .write(
            reqwest::Method::PUT,
            "/config",
            json!({"compatibility": "SIDEWAYS"}),
        )
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, 42203).await;
    let r = reg.get("/config/doc-with-no-level").send().await.unwrap();
    assert_error(r, StatusCode::NOT_FOUND, 40408).await;
    let global: Value = reg
        .read("/config/doc-with-no-level?defaultToGlobal=true")
        .await;
    assert_eq!(global["compatibilityLevel"], "BACKWARD");
    let r = reg.get("/no/such/endpoint").send().await.unwrap();
    assert_error(r, StatusCode::NOT_FOUND, 404).await;
}

#[tokio::test]
async fn writes_need_an_admin_key() {
    let s = TestServer::start().await;
    let reg = Registry { server: &s };
    let body = json!({"schema": v1()}).to_string();
    let send = |auth: Option<(&str, &str)>| {
        let mut rb = s
            .client
            .post(reg.url("/subjects/guarded-value/versions"))
            .header("content-type", CT)
            .body(body.clone());
        match auth {
            Some(("bearer", key)) => rb = rb.bearer_auth(key),
            Some((user, key)) => rb = rb.basic_auth(user, Some(key)),
            None => {}
        }
        rb.send()
    };
    let r = send(None).await.unwrap();
    assert!(r.headers().contains_key("www-authenticate"));
    assert_error(r, StatusCode::UNAUTHORIZED, 401).await;
    assert_error(
        send(Some(("bearer", "dik_wrong"))).await.unwrap(),
        StatusCode::UNAUTHORIZED,
        401,
    )
    .await;
    // A tenant key that is not an admin key.
    assert_error(
        send(Some(("bearer", &s.key))).await.unwrap(),
        StatusCode::FORBIDDEN,
        40301,
    )
    .await;
    assert_error(
        send(Some(("anyone", &s.key))).await.unwrap(),
        StatusCode::FORBIDDEN,
        40301,
    )
    .await;
    assert_eq!(reg.versions("guarded-value").await["error_code"], 40401);
    // Admin, by Basic (Confluent clients) and by Bearer.
    assert_eq!(
        send(Some(("admin", &s.admin_key))).await.unwrap().status(),
        StatusCode::OK
    );
    let r = s
        .client
        .delete(reg.url("/subjects/guarded-value"))
        .bearer_auth(&s.key)
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::FORBIDDEN, 40301).await;
    assert_eq!(reg.versions("guarded-value").await, json!([1]));
}

#[tokio::test]
async fn writes_spend_the_keys_rate_limit_whatever_the_credential_form() {
    let s = TestServer::launch(|l| {
        l.rate_limit = docintel_api::ratelimit::Limit {
            quota: 3,
            // A day's: a fixed window shared by replicas (PostgreSQL) turns only at
            // midnight UTC, not between these requests.
            window: std::time::Duration::from_secs(86_400),
        }
    })
    .await;
    let reg = Registry { server: &s };
    let body = json!({"schema": v1()}).to_string();
    let send = |bearer: bool| {
        let rb = s
            .client
            .post(reg.url("/subjects/limited-value/versions"))
            .header("content-type", CT)
            .body(body.clone());
        let rb = if bearer {
            rb.bearer_auth(&s.admin_key)
        } else {
            rb.basic_auth("admin", Some(&s.admin_key))
        };
        rb.send()
    };
    for bearer in [true, false, true] {
        let r = send(bearer).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers().contains_key("ratelimit"), "{:?}", r.headers());
    }
    let r = send(false).await.unwrap();
    assert!(r.headers().contains_key("retry-after"));
    let message = assert_error(r, StatusCode::TOO_MANY_REQUESTS, 42901).await;
    assert!(message.contains("retry after"), "{message}");
    // Reads need no key and spend none.
    assert_eq!(reg.versions("limited-value").await, json!([1]));
}

#[tokio::test]
async fn soft_and_permanent_deletes() {
    let s = TestServer::start().await;
    let reg = Registry { server: &s };
    let id1 = reg
        .register("gone-value", &v1())
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .clone();
    reg.register("gone-value", &v2()).await;
    let delete = |path: &str| reg.write(reqwest::Method::DELETE, path, json!({})).send();

    // Deleting version 2 for good needs a soft delete first.
    let r = delete("/subjects/gone-value/versions/2?permanent=true")
        .await
        .unwrap();
    assert_error(r, StatusCode::NOT_FOUND, 40407).await;
    let r = delete("/subjects/gone-value/versions/2").await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!(2));
    assert_eq!(reg.versions("gone-value").await, json!([1]));

    // A permanent subject delete needs a soft delete first.
    let r = delete("/subjects/gone-value?permanent=true").await.unwrap();
    assert_error(r, StatusCode::NOT_FOUND, 40405).await;
    let r = delete("/subjects/gone-value").await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!([1]));
    assert_eq!(reg.versions("gone-value").await["error_code"], 40401);
    let listed: Value = reg.read("/subjects").await;
    assert!(!listed.as_array().unwrap().contains(&json!("gone-value")));
    let listed: Value = reg.read("/subjects?deleted=true").await;
    assert!(listed.as_array().unwrap().contains(&json!("gone-value")));
    // A soft-deleted schema is still readable by id (old events still decode).
    let r = reg
        .get(&format!("/schemas/ids/{id1}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = delete("/subjects/gone-value").await.unwrap();
    assert_error(r, StatusCode::NOT_FOUND, 40404).await;
    let r = delete("/subjects/gone-value?permanent=true").await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!([1, 2]));
    let listed: Value = reg.read("/subjects?deleted=true").await;
    assert!(!listed.as_array().unwrap().contains(&json!("gone-value")));
}

#[tokio::test]
async fn schema_registry_converter_encodes_and_decodes_through_it() {
    let s = TestServer::start().await;
    let reg = Registry { server: &s };
    reg.register("greetings-value", &v2()).await;
    let settings = SrSettings::new(reg.url(""));
    let encoder = AvroEncoder::new(settings.clone());
    let bytes = encoder
        .encode(
            vec![("id", Avro::String("hello".into())), ("n", Avro::Int(7))],
            SubjectNameStrategy::TopicNameStrategy("greetings".into(), false),
        )
        .await
        .expect("encode through the embedded registry");
    let latest: Value = reg.read("/subjects/greetings-value/versions/latest").await;
    assert_eq!(bytes[0], 0, "magic byte");
    assert_eq!(
        i64::from(u32::from_be_bytes(bytes[1..5].try_into().unwrap())),
        latest["id"].as_i64().unwrap()
    );
    let decoded = AvroDecoder::new(settings)
        .decode(Some(&bytes))
        .await
        .expect("decode");
    let Avro::Record(fields) = decoded.value else {
        panic!("a record");
    };
    assert_eq!(
        fields,
        vec![
            ("id".to_owned(), Avro::String("hello".into())),
            ("n".to_owned(), Avro::Int(7))
        ]
    );
}

/// Three nested named records with `n` fields each, every field after the first reusing
/// the next level's type by name; as a reader, each field renamed with the old name as an
/// alias and the bottom type changed, so every bottom field is incompatible and each
/// named type is reached through n^k paths.
fn nested(n: usize, reader: bool) -> String {
    let level = |name: &str, first: Value, by_name: &str| {
        let fields: Vec<Value> = (0..n)
            .map(|i| {
                let ty = if i == 0 {
                    first.clone()
                } else {
                    json!(by_name)
                };
                if reader {
                    json!({"name": format!("r{i}"), "aliases": [format!("f{i}")], "type": ty})
                } else {
                    json!({"name": format!("f{i}"), "type": ty})
                }
            })
            .collect();
        json!({"type": "record", "name": name, "namespace": "deep", "fields": fields})
    };
    let bottom = if reader { "string" } else { "int" };
    let c = level("C", json!(bottom), bottom);
    let b = level("B", c, "deep.C");
    level("A", b, "deep.B").to_string()
}

#[tokio::test]
async fn compatibility_checks_cost_what_the_schemas_hold_without_a_key() {
    let s = TestServer::start().await;
    let reg = Registry { server: &s };
    // 2,100 fields: each named type reached 700^k ways.
    let writer = nested(700, false);
    assert_eq!(
        reg.register("deep-value", &writer).await.status(),
        StatusCode::OK
    );
    let check = |subject: &str, schema: String| {
        s.client
            .post(reg.url(&format!(
                "/compatibility/subjects/{subject}/versions/latest?verbose=true"
            )))
            .header("content-type", CT)
            .body(json!({ "schema": schema }).to_string())
            .send()
    };
    let r = check("deep-value", nested(700, true)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let verdict: Value = r.json().await.unwrap();
    assert_eq!(verdict["is_compatible"], false);
    let messages = verdict["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "one version compared");
    // Each bottom field's reason once, not once per path to it.
    let text = messages[0].as_str().unwrap();
    assert_eq!(
        text.matches("TYPE_MISMATCH").count(),
        700,
        "{}",
        &text[..300]
    );

    // A question whose work is beyond any real schema's: 422, and nothing stuck.
    let union = |prefix: &str| {
        Value::Array(
            (0..400)
                .map(|i| json!({"type": "record", "name": format!("{prefix}{i}"), "fields": []}))
                .collect(),
        )
        .to_string()
    };
    assert_eq!(
        reg.register("wide-value", &union("W")).await.status(),
        StatusCode::OK
    );
    let message = assert_error(
        check("wide-value", union("R")).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        42201,
    )
    .await;
    assert!(message.contains("too complex"), "{message}");
    let message = assert_error(
        reg.register("wide-value", &union("R")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        42201,
    )
    .await;
    assert!(message.contains("too complex"), "{message}");
    assert_eq!(reg.versions("wide-value").await, json!([1]));
    assert_eq!(
        s.client
            .get(s.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}
