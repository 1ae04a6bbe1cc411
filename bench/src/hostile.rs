//! Hostile HTTP: requests generated from every operation of the committed OpenAPI
//! documents and then broken in one of many ways (methods, ids, queries, headers,
//! bodies, framing, encodings), sent over raw TCP so that even malformed HTTP gets
//! through; then slow senders. The server must answer no 5xx, stay up, keep its memory,
//! and cut slow connections at its read timeouts.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::server::{Server, rss_kib_of};

/// Header and body read timeouts the server runs with here (seconds).
const READ_TIMEOUT: u64 = 2;

/// (method, path template) of every operation in v1.json and v2.json.
fn operations(spec_dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut ops = Vec::new();
    for version in ["v1", "v2"] {
        let doc: Value =
            serde_json::from_slice(&std::fs::read(spec_dir.join(format!("{version}.json")))?)?;
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
                if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                    ops.push((method.to_uppercase(), path.clone()));
                }
            }
        }
    }
    anyhow::ensure!(!ops.is_empty(), "no operations in {}", spec_dir.display());
    Ok(ops)
}

struct Target {
    address: String,
    key: String,
    document: String,
    webhook: String,
}

/// One request: a valid one for `op`, then broken by one of the mutations.
fn generate(rng: &mut impl Rng, op: &(String, String), t: &Target) -> Vec<u8> {
    let (mut method, template) = (op.0.clone(), op.1.clone());
    let id = if template.contains("/webhooks/") {
        &t.webhook
    } else {
        &t.document
    };
    let mut path = template.replace("{id}", id);
    let mut version = "HTTP/1.1".to_owned();
    let mut headers: Vec<(String, Vec<u8>)> = vec![
        ("Host".into(), t.address.clone().into_bytes()),
        (
            "Authorization".into(),
            format!("Bearer {}", t.key).into_bytes(),
        ),
        ("Connection".into(), b"close".to_vec()),
    ];
    let mut body: Vec<u8> = Vec::new();
    if method == "POST" && template.ends_with("/webhooks") {
        headers.push(("Content-Type".into(), b"application/json".to_vec()));
        body = json!({"url": "http://127.0.0.1:9/h", "event_types": ["doc.processed"]})
            .to_string()
            .into_bytes();
    } else if method == "POST" && template.ends_with("/documents") {
        if template.starts_with("/v1") {
            headers.push((
                "Content-Type".into(),
                b"multipart/form-data; boundary=b".to_vec(),
            ));
            body = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"n.txt\"\r\n\r\na note\r\n--b--\r\n".to_vec();
        } else {
            path.push_str("?filename=n.txt");
            headers.push(("Content-Type".into(), b"application/octet-stream".to_vec()));
            body = b"a note".to_vec();
        }
    }
    let mut declared: Option<String> = None;
    match rng.random_range(0..14) {
        0 => {
            method = [
                "PROPFIND",
                "TRACE",
                "CONNECT",
                "get",
                "G\tET",
                &"X".repeat(300),
                "PATCH",
                "",
            ]
            .choose(rng)
            .map(|s| s.to_string())
            .unwrap_or_default()
        }
        1 => {
            let bad = [
                "",
                "%00",
                "..%2F..%2Fetc%2Fpasswd",
                &"a".repeat(5000),
                "%ff%fe",
                "%F0%9F%98%80",
                "-1",
                "00000000-0000-0000-0000-000000000000x",
                "%2e%2e",
            ];
            path = template.replace("{id}", bad.choose(rng).copied().unwrap_or_default());
        }
        2 => {
            let q = [
                "filename=",
                "filename=..%2Fx",
                "filename=%00",
                "filename=%zz",
                &format!("filename={}", "n".repeat(5000)),
                "limit=-1",
                "limit=0",
                "limit=99999999999999999999",
                "limit=abc",
                "page_token=%%%",
                "page_token=AAAA",
                "status=nope",
                "page=-5&per_page=1e9",
                "a=1&a=2&a=3",
            ];
            let sep = if path.contains('?') { '&' } else { '?' };
            path = format!("{path}{sep}{}", q.choose(rng).copied().unwrap_or_default());
        }
        3 => set(
            &mut headers,
            "Content-Type",
            [
                "",
                "text/html",
                "application/json; charset=ebcdic",
                "multipart/form-data",
                "multipart/form-data; boundary=",
                "*/*",
                "\u{1}",
            ]
            .choose(rng)
            .copied()
            .unwrap_or_default()
            .as_bytes()
            .to_vec(),
        ),
        4 => set(
            &mut headers,
            "Authorization",
            [
                b"".to_vec(),
                b"Bearer".to_vec(),
                b"Basic Zm9vOmJhcg==".to_vec(),
                format!("Bearer {}", "k".repeat(10_000)).into_bytes(),
                vec![b'B', b'e', b'a', b'r', b'e', b'r', b' ', 0xff, 0xfe],
                format!("bearer {}", t.key).into_bytes(),
            ]
            .choose(rng)
            .cloned()
            .unwrap_or_default(),
        ),
        5 => headers.push((
            "Idempotency-Key".into(),
            [
                b"".to_vec(),
                "i".repeat(10_000).into_bytes(),
                b"a\x01b".to_vec(),
                "\u{1F600}".as_bytes().to_vec(),
            ]
            .choose(rng)
            .cloned()
            .unwrap_or_default(),
        )),
        6 => {
            set(&mut headers, "Content-Type", b"application/json".to_vec());
            body = [
                b"{\"url\": ".to_vec(),
                "[".repeat(100_000).into_bytes(),
                b"{\"url\": 5, \"event_types\": \"x\"}".to_vec(),
                b"\0\0\0".to_vec(),
                vec![0xc3, 0x28, 0xa0, 0xa1],
                b"null".to_vec(),
            ]
            .choose(rng)
            .cloned()
            .unwrap_or_default();
        }
        7 => body = vec![b'x'; 2 << 20],
        8 => {
            // A body shorter than declared (the server waits, then gives up) or longer.
            declared = Some(if rng.random_bool(0.1) {
                (body.len() + 100).to_string()
            } else {
                "0".into()
            });
            body.extend_from_slice(b"GARBAGE / HTTP/1.1\r\n\r\n");
        }
        9 => {
            headers.push(("Transfer-Encoding".into(), b"chunked".to_vec()));
            declared = Some(String::new());
            body = [
                b"zz\r\nabc\r\n0\r\n\r\n".to_vec(),
                b"ffffffffffffffff\r\na\r\n".to_vec(),
                b"3\r\nabcdef\r\n0\r\n\r\n".to_vec(),
                b"0\r\n".to_vec(),
            ]
            .choose(rng)
            .cloned()
            .unwrap_or_default();
        }
        10 => {
            headers.push(("Content-Encoding".into(), b"gzip".to_vec()));
            body = vec![0x1f, 0x8b, 8, 0, 0xde, 0xad, 0xbe, 0xef];
        }
        11 => {
            version = [
                "HTTP/9.9",
                "",
                "HTTP/1.1 extra",
                "HTTP/1.1\r\nX-Long: ",
                "http/1.1",
            ]
            .choose(rng)
            .copied()
            .unwrap_or_default()
            .to_owned()
        }
        12 => match rng.random_range(0..3) {
            0 => headers.push(("NoColonHere".into(), Vec::new())),
            1 => (0..300).for_each(|i| headers.push((format!("X-Extra-{i}"), b"v".to_vec()))),
            _ => headers.push(("X-Nul".into(), b"a\0b".to_vec())),
        },
        _ => {} // a valid request now and then
    }
    let mut out = format!("{method} {path} {version}\r\n").into_bytes();
    for (name, value) in &headers {
        out.extend_from_slice(name.as_bytes());
        if !value.is_empty() || name != "NoColonHere" {
            out.extend_from_slice(b": ");
        }
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    match declared {
        Some(d) if d.is_empty() => {}
        Some(d) => out.extend_from_slice(format!("Content-Length: {d}\r\n").as_bytes()),
        None => out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes()),
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&body);
    out
}

fn set(headers: &mut Vec<(String, Vec<u8>)>, name: &str, value: Vec<u8>) {
    headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    headers.push((name.to_owned(), value));
}

/// Sends raw bytes; the status of the answer (0: the server closed without one).
async fn send(address: &str, request: &[u8]) -> u16 {
    let Ok(mut stream) = TcpStream::connect(address).await else {
        return 0;
    };
    // The server may answer and close before reading everything: that is allowed.
    let _ = stream.write_all(request).await;
    let mut head = vec![0u8; 64];
    let read = tokio::time::timeout(
        Duration::from_secs(READ_TIMEOUT * 3),
        stream.read(&mut head),
    )
    .await;
    match read {
        Ok(Ok(n)) if n >= 12 => std::str::from_utf8(&head[9..12])
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        _ => 0,
    }
}

/// Opens a connection that sends its head one byte per `pause`; how long until the
/// server closes it.
async fn slow_sender(address: &str, body: bool) -> Duration {
    let start = Instant::now();
    let Ok(mut stream) = TcpStream::connect(address).await else {
        return Duration::ZERO;
    };
    let head: &[u8] = if body {
        b"POST /v2/documents?filename=s.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nfirst bytes"
    } else {
        b"GET /v2/documents HTTP/1.1\r\nHost: x\r\nX-Slow: "
    };
    if stream.write_all(head).await.is_err() {
        return start.elapsed();
    }
    let mut buf = [0u8; 512];
    loop {
        tokio::select! {
            r = stream.read(&mut buf) => match r {
                Ok(0) | Err(_) => return start.elapsed(),
                Ok(_) => {} // an error answer: keep reading until the server closes
            },
            () = tokio::time::sleep(Duration::from_millis(500)) => {
                if stream.write_all(b"x").await.is_err() {
                    return start.elapsed();
                }
                if start.elapsed() > Duration::from_secs(READ_TIMEOUT * 10) {
                    return start.elapsed();
                }
            }
        }
    }
}

pub async fn run(program: &Path, requests: usize, spec_dir: &Path) -> anyhow::Result<bool> {
    let timeout = READ_TIMEOUT.to_string();
    let mut server = Server::start(
        program,
        &[
            "--rate-limit",
            "off",
            "--ip-rate-limit",
            "off",
            "--header-read-timeout-secs",
            &timeout,
            "--body-read-timeout-secs",
            &timeout,
            "--max-upload-bytes",
            "1048576",
        ],
    )?;
    let client = reqwest::Client::new();
    let doc: Value = client
        .post(format!("{}/v2/documents?filename=target.txt", server.base))
        .bearer_auth(&server.key)
        .body("a document to aim at")
        .send()
        .await?
        .json()
        .await?;
    let webhook: Value = client
        .post(format!("{}/v2/webhooks", server.base))
        .bearer_auth(&server.key)
        .json(&json!({"url": "https://example.com/h", "event_types": ["doc.processed"]}))
        .send()
        .await?
        .json()
        .await?;
    let target = Arc::new(Target {
        address: server.address().to_owned(),
        key: server.key.clone(),
        document: doc["id"].as_str().unwrap_or_default().to_owned(),
        webhook: webhook["webhook"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    });
    let ops = Arc::new(operations(spec_dir)?);
    let next = Arc::new(AtomicUsize::new(0));
    let statuses = Arc::new(Mutex::new(BTreeMap::<u16, usize>::new()));
    let server_errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let rss_warm = Arc::new(AtomicUsize::new(0));
    let pid = server.pid();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (target, ops, next, statuses, server_errors, rss_warm) = (
            target.clone(),
            ops.clone(),
            next.clone(),
            statuses.clone(),
            server_errors.clone(),
            rss_warm.clone(),
        );
        tasks.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= requests {
                    return;
                }
                if n == requests / 10 {
                    rss_warm.store(rss_kib_of(pid) as usize, Ordering::SeqCst);
                }
                let request = {
                    let mut rng = rand::rng();
                    let op = ops.choose(&mut rng).cloned().unwrap_or_default();
                    generate(&mut rng, &op, &target)
                };
                let status = send(&target.address, &request).await;
                if let Ok(mut s) = statuses.lock() {
                    *s.entry(status).or_default() += 1;
                }
                if status >= 500
                    && let Ok(mut e) = server_errors.lock()
                    && e.len() < 5
                {
                    e.push(
                        String::from_utf8_lossy(&request[..request.len().min(300)]).into_owned(),
                    );
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = started.elapsed();

    let slow: Vec<Duration> =
        futures_util::future::join_all((0..20).map(|i| slow_sender(&target.address, i % 2 == 1)))
            .await;
    let slowest = slow.iter().max().copied().unwrap_or_default();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_end = rss_kib_of(pid) as usize;
    let rss_warm = rss_warm.load(Ordering::SeqCst);
    let alive = server.alive();
    let healthy = client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success());
    let statuses = statuses.lock().map(|s| s.clone()).unwrap_or_default();
    let fives: usize = statuses
        .iter()
        .filter(|(s, _)| **s >= 500)
        .map(|(_, n)| n)
        .sum();

    println!("| figure | value |");
    println!("| --- | --- |");
    println!(
        "| malformed requests over {} operations | {requests} in {:.1} s |",
        ops.len(),
        elapsed.as_secs_f64()
    );
    println!("| answers by status (0: closed without one) | {statuses:?} |");
    println!("| 5xx | {fives} |");
    println!("| server alive, /healthz | {alive}, {healthy} |");
    println!(
        "| RSS after the first tenth / at the end | {:.1} / {:.1} MiB |",
        rss_warm as f64 / 1024.0,
        rss_end as f64 / 1024.0
    );
    println!(
        "| slow senders (20): longest until cut (read timeouts {READ_TIMEOUT} s) | {:.1} s |",
        slowest.as_secs_f64()
    );
    for e in server_errors.lock().map(|e| e.clone()).unwrap_or_default() {
        println!("5xx for: {e:?}");
    }
    // Memory: what the first tenth left is the baseline; allow 32 MiB of allocator noise.
    let grew = rss_end.saturating_sub(rss_warm) > 32 * 1024;
    Ok(fives == 0 && alive && healthy && !grew && slowest <= Duration::from_secs(READ_TIMEOUT * 3))
}
