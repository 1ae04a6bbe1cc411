//! Malware scanning end to end, against a real clamd (Debian's `clamav-daemon`) started
//! with a signature database the tests write (testkit `clamd.rs`): EICAR caught, its
//! bytes deleted and the failure published; clean documents unaffected; clamd down,
//! killed mid-scan, stalling; a 50 MB upload; `--scan optional`.

use crate::common;
use crate::events::{field, next_events};
use crate::webhooks::{Receiver, fast_retries, subscribe};

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use apache_avro::types::Value as Avro;
use common::TestServer;
use docintel_backend::scan::{ScanConfig, ScanMode};
use docintel_testkit::clamd::{Clamd, EICAR, EICAR_SIGNATURE};
use reqwest::StatusCode;
use schema_registry_converter::async_impl::avro::AvroDecoder;
use schema_registry_converter::async_impl::schema_registry::SrSettings;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const INVOICE: &[u8] = b"INVOICE No. 2024-117\nBill to: Acme Ltd\nAmount due: 1,250.00 EUR\nPayment terms: 30 days\nTotal due 1250.00";

fn scanning(clamd: &str, mode: ScanMode) -> ScanConfig {
    ScanConfig {
        clamd: Some(clamd.parse().expect("a clamd address")),
        mode,
        io_timeout: Duration::from_secs(10),
        retry_min: Duration::from_millis(100),
        retry_max: Duration::from_millis(400),
        ..ScanConfig::default()
    }
}

/// A PDF carrying the EICAR file as an embedded stream.
fn pdf_with_eicar() -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n\
        2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n\
        3 0 obj\n<< /Type /EmbeddedFile /Length 68 >>\nstream\n"
        .to_vec();
    pdf.extend_from_slice(EICAR);
    pdf.extend_from_slice(b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n");
    pdf
}

/// Waits until no document blob is stored (an infected document's bytes are deleted
/// just after its failure is recorded).
async fn blobs_gone(s: &TestServer) {
    for _ in 0..200 {
        if s.stored_blobs().await.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("blobs left: {:?}", s.stored_blobs().await);
}

/// The document's state now.
async fn status(s: &TestServer, id: &str) -> Value {
    s.get_json(&format!("/v2/documents/{id}")).await
}

/// Asserts that `id` stays unprocessed (queued or processing) for `how_long`.
async fn stays_unprocessed(s: &TestServer, id: &str, how_long: Duration) {
    let until = tokio::time::Instant::now() + how_long;
    while tokio::time::Instant::now() < until {
        let doc = status(s, id).await;
        assert!(
            doc["status"] == "queued" || doc["status"] == "processing",
            "processed or failed while it could not be scanned: {doc}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn eicar_is_caught_its_bytes_deleted_and_the_failure_published() {
    let clamd = Clamd::shared();
    let s = TestServer::start_with(|c| {
        fast_retries(c);
        c.scan = scanning(&clamd.address(), ScanMode::Required);
    })
    .await;
    let (receiver, url) = Receiver::start(200).await;
    subscribe(&s, &url, &["doc.failed"]).await;
    let mut rx = s.backend.subscribe();

    let txt = s.upload_ok("eicar.txt", EICAR.to_vec()).await;
    let events = next_events(&mut rx, &txt, 2).await;
    let topics: Vec<&str> = events.iter().map(|e| e.topic).collect();
    assert_eq!(topics, ["doc.uploaded", "doc.failed"], "never processed");
    let done = s.wait_done(&txt).await;
    assert_eq!(done["status"], "failed");
    assert_eq!(done["failure_code"], "malware_detected");
    let failure = done["failure"].as_str().unwrap();
    assert!(failure.contains(EICAR_SIGNATURE), "{failure}");
    blobs_gone(&s).await;
    assert!(s.thumbnail_files().is_empty());

    // doc.failed says why, for a human and for a machine (the schema's new field).
    let decoder = AvroDecoder::new(SrSettings::new(s.url("/registry")));
    let decoded = decoder.decode(Some(&events[1].value)).await.unwrap().value;
    assert_eq!(field(&decoded, "reason"), &Avro::String(failure.to_owned()));
    let Avro::Union(_, code) = field(&decoded, "code") else {
        panic!("code is a union");
    };
    assert_eq!(**code, Avro::String("malware_detected".into()));

    // The owner's webhook fires with the document and its code.
    let got = receiver.wait_for(1).await;
    let body: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(body["type"], "doc.failed");
    assert_eq!(body["data"]["id"], txt.as_str());
    assert_eq!(body["data"]["failure_code"], "malware_detected");

    // Inside a PDF too; nothing of it is served back.
    let pdf = s.upload_ok("report.pdf", pdf_with_eicar()).await;
    let done = s.wait_done(&pdf).await;
    assert_eq!(
        (done["status"].as_str(), done["failure_code"].as_str()),
        (Some("failed"), Some("malware_detected")),
        "{done}"
    );
    for path in [
        format!("/v2/documents/{pdf}/text"),
        format!("/v2/documents/{pdf}/thumbnail"),
    ] {
        let r = s.get(&path).send().await.unwrap();
        assert_ne!(r.status(), StatusCode::OK, "{path}");
    }
    blobs_gone(&s).await;

    // Clean documents are processed as before, without warnings or failure code.
    let clean_txt = s.upload_ok("invoice.txt", INVOICE.to_vec()).await;
    let clean_pdf = s
        .upload_ok(
            "invoice.pdf",
            common::pdf(&[
                "INVOICE No. 2024-117",
                "Bill to: Acme Ltd",
                "Amount due: 1,250.00 EUR",
            ]),
        )
        .await;
    for id in [clean_txt, clean_pdf] {
        let done = s.wait_done(&id).await;
        assert_eq!(done["status"], "processed", "{done}");
        assert_eq!(done["warnings"], serde_json::json!([]), "{done}");
        assert!(done.get("failure_code").is_none(), "{done}");
    }
    assert_eq!(s.stored_blobs().await.len(), 2);

    let ready: Value = s.get("/readyz").send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["scanner"]["answers"], true, "{ready}");
    assert_eq!(ready["scanner"]["mode"], "required", "{ready}");
}

#[tokio::test]
async fn a_50_mb_upload_is_streamed_to_clamd_whole() {
    let clamd = Clamd::shared();
    let s = TestServer::start_with(|c| {
        c.max_upload_bytes = 60 << 20;
        c.scan = scanning(&clamd.address(), ScanMode::Required);
    })
    .await;
    // The signature is in the last bytes: found only if every byte reached clamd.
    let mut big = b"quarterly figures\n".repeat((50 << 20) / 18);
    big.extend_from_slice(EICAR);
    assert!(big.len() >= 50 << 20);
    let id = s.upload_ok("big.txt", big).await;
    let done = common::wait_done_at(&s.client, &s.base, &s.key, &id, 3000).await;
    assert_eq!(done["failure_code"], "malware_detected", "{done}");
    blobs_gone(&s).await;
}

#[tokio::test]
async fn past_clamds_stream_limit_a_document_fails_unscanned_never_processed() {
    let clamd = Clamd::start_with_stream_max("1M");
    let s =
        TestServer::start_with(|c| c.scan = scanning(&clamd.address(), ScanMode::Required)).await;
    let id = s.upload_ok("long.txt", INVOICE.repeat(20_000)).await;
    let done = s.wait_done(&id).await;
    assert_eq!(
        (done["status"].as_str(), done["failure_code"].as_str()),
        (Some("failed"), Some("scan_failed")),
        "{done}"
    );
}

#[tokio::test]
async fn with_clamd_down_nothing_is_processed_until_it_returns() {
    let mut clamd = Clamd::start();
    clamd.kill();
    let s =
        TestServer::start_with(|c| c.scan = scanning(&clamd.address(), ScanMode::Required)).await;
    let id = s.upload_ok("invoice.txt", INVOICE.to_vec()).await;
    stays_unprocessed(&s, &id, Duration::from_secs(3)).await;
    let ready: Value = s.get("/readyz").send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["scanner"]["answers"], false, "{ready}");

    clamd.resume();
    let done = s.wait_done(&id).await;
    assert_eq!(done["status"], "processed", "{done}");
    assert_eq!(
        done["warnings"],
        serde_json::json!([]),
        "scanned, not waved through"
    );
}

/// Forwards TCP connections to clamd's unix socket, counting those that reached it and
/// reporting when `after` bytes of one have gone through; returns the address to scan
/// with.
async fn relay_to(
    clamd: &Clamd,
    after: usize,
    passed: tokio::sync::mpsc::Sender<()>,
    relayed: Arc<AtomicUsize>,
) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let socket = clamd.socket.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let Ok(mut upstream) = tokio::net::UnixStream::connect(&socket).await else {
                continue;
            };
            relayed.fetch_add(1, Ordering::SeqCst);
            let passed = passed.clone();
            tokio::spawn(async move {
                let (mut cr, mut cw) = client.split();
                let (mut ur, mut uw) = upstream.split();
                let up = async {
                    let mut buf = vec![0u8; 64 * 1024];
                    let mut sent = 0;
                    loop {
                        let n = cr.read(&mut buf).await.unwrap_or(0);
                        if n == 0 || uw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                        sent += n;
                        if sent >= after && sent - n < after {
                            let _ = passed.send(()).await;
                        }
                    }
                };
                let down = tokio::io::copy(&mut ur, &mut cw);
                tokio::select! { _ = up => {}, _ = down => {} }
            });
        }
    });
    format!("tcp:{addr}")
}

#[tokio::test]
async fn clamd_killed_mid_scan_the_job_is_retried_and_never_processed_unscanned() {
    let mut clamd = Clamd::start();
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let relayed = Arc::new(AtomicUsize::new(0));
    let addr = relay_to(&clamd, 4 << 20, tx, relayed.clone()).await;
    let s = TestServer::start_with(|c| {
        c.max_upload_bytes = 60 << 20;
        c.scan = scanning(&addr, ScanMode::Required);
        // Slow enough that the kill lands while the document is still streaming.
        c.scan.chunk_bytes = 16 * 1024;
    })
    .await;
    let id = s
        .upload_ok(
            "ledger.txt",
            b"ledger entry 0001 paid\n".repeat((40 << 20) / 23),
        )
        .await;
    tokio::time::timeout(Duration::from_secs(60), rx.recv())
        .await
        .expect("the scan started")
        .expect("relay");
    clamd.kill();
    stays_unprocessed(&s, &id, Duration::from_secs(2)).await;

    clamd.resume();
    let done = common::wait_done_at(&s.client, &s.base, &s.key, &id, 3000).await;
    assert_eq!(done["status"], "processed", "{done}");
    assert_eq!(done["warnings"], serde_json::json!([]), "{done}");
    // Scanned again in full after the kill: the cut scan did not count.
    assert!(relayed.load(Ordering::SeqCst) >= 2, "not scanned again");
}

#[tokio::test]
async fn with_scanning_optional_and_clamd_down_documents_are_processed_marked_not_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let nowhere = format!("unix:{}", dir.path().join("no-clamd.sock").display());
    let s = TestServer::start_with(|c| c.scan = scanning(&nowhere, ScanMode::Optional)).await;
    let id = s.upload_ok("invoice.txt", INVOICE.to_vec()).await;
    let done = s.wait_done(&id).await;
    assert_eq!(done["status"], "processed", "{done}");
    assert_eq!(
        done["warnings"],
        serde_json::json!(["not_scanned"]),
        "{done}"
    );
}

#[tokio::test]
async fn a_clamd_that_accepts_and_stalls_times_out_and_the_job_is_retried() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counted = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            held.push(conn);
        }
    });
    let s = TestServer::start_with(|c| {
        c.scan = scanning(&format!("tcp:{addr}"), ScanMode::Required);
        c.scan.io_timeout = Duration::from_millis(500);
    })
    .await;
    let id = s.upload_ok("invoice.txt", INVOICE.to_vec()).await;
    stays_unprocessed(&s, &id, Duration::from_secs(3)).await;
    assert!(
        accepted.load(Ordering::SeqCst) >= 2,
        "the job was not retried: {} connections",
        accepted.load(Ordering::SeqCst)
    );
    // The server is fine: it answers, and takes uploads.
    assert_eq!(
        s.get("/healthz").send().await.unwrap().status(),
        StatusCode::OK
    );
    s.upload_ok("another.txt", INVOICE.to_vec()).await;
    assert_eq!(s.document_count().await, 2);
}
