//! Avro encode + Confluent framing throughput, the way the relay does it: a
//! `doc.classified` event through docintel's `Encoder` (schema_registry_converter, schema
//! id from a real embedded registry on loopback, fetched once and cached), against
//! apache_avro writing the same record without framing or registry (the floor).
//!
//! `cargo bench -p docintel-api --bench event_encode`; the peer in another language is
//! `python3 api/benches/fastavro_encode.py` (fastavro, same record, same schema).

use std::time::{Duration, Instant};

use apache_avro::Schema;
use apache_avro::writer::datum::GenericDatumWriter;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use docintel_api::{AppState, app};
use docintel_backend::events::relay::Encoder;
use docintel_backend::events::{CLASSIFIED, DocClassified, Event, Head};
use docintel_backend::model::TenantId;
use docintel_backend::registry::client::Credentials;
use docintel_backend::{Backend, Config};
use uuid::Uuid;

fn event() -> DocClassified {
    let head = Head::new(
        Uuid::now_v7(),
        TenantId(Uuid::now_v7()),
        time::OffsetDateTime::now_utc(),
    );
    DocClassified::new(head, "invoice".into(), 0.9731, "nb-1-090edd4a".into())
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (encoder, _server) = rt.block_on(async {
        let backend = Backend::open(Config::new(dir.path())).await.unwrap();
        let state = AppState::new(backend).await.unwrap();
        docintel_api::publishing::register_schemas(&state, &Default::default())
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/registry", listener.local_addr().unwrap());
        let token = Credentials::Bearer(state.registry_token.value().to_owned());
        let server = tokio::spawn(async move { axum::serve(listener, app(state)).await });
        (Encoder::new(&url, Some(&token)).unwrap(), server)
    });
    let classified = Event::Classified(event());
    // Warm the encoder's schema cache (the one registry round trip).
    let framed = rt.block_on(encoder.encode(&classified)).unwrap();
    assert_eq!(framed[0], 0);

    let mut group = c.benchmark_group("doc.classified");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("docintel Encoder: schema_registry_converter, framed", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    std::hint::black_box(encoder.encode(&classified).await.unwrap());
                }
                start.elapsed()
            })
        })
    });
    let schema = Schema::parse_str(CLASSIFIED.schema).unwrap();
    let writer = GenericDatumWriter::builder(&schema).build().unwrap();
    let record = event();
    let raw = writer.write_ser_to_vec(&record).unwrap();
    assert_eq!(
        raw.len() + 5,
        framed.len(),
        "same datum, plus the 5-byte frame"
    );
    group.bench_function("apache_avro datum, no frame (floor)", |b| {
        b.iter(|| std::hint::black_box(writer.write_ser_to_vec(&record).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
