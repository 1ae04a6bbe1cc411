//! Hostile HTTP: requests generated from every operation of the committed OpenAPI
//! documents and then broken in one of many ways (methods, ids, queries, headers,
//! bodies, framing, encodings), sent over raw TCP so that even malformed HTTP gets
//! through; then slow senders and slow bodies, and requests built to be expensive to
//! answer (an Avro compatibility check, a large verification result, a long selector
//! list). The server must answer no 5xx, stay up, keep its memory, answer `/healthz`
//! throughout, and cut slow connections at its read limits.

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
/// The body deadline, minimum rate (bytes/s) and its grace (s) the server runs with here.
const BODY_DEADLINE: u64 = 4;
const MIN_BODY_RATE: u64 = 64;
const MIN_BODY_RATE_GRACE: u64 = 2;
/// Fields per level of the nested records in the expensive compatibility check.
const NESTED_FIELDS: usize = 667;

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

/// A schema registration without a key whose body comes one byte per 500 ms: never a
/// pause long enough for the read timeout, far below the minimum rate. How long until
/// the server closed the connection, and the status it answered (0: none).
async fn slow_body(address: &str) -> (Duration, u16) {
    let start = Instant::now();
    let Ok(mut stream) = TcpStream::connect(address).await else {
        return (Duration::ZERO, 0);
    };
    let head = "POST /registry/subjects/slow/versions HTTP/1.1\r\nHost: x\r\n\
                Content-Type: application/vnd.schemaregistry.v1+json\r\n\
                Content-Length: 10000\r\n\r\n{";
    if stream.write_all(head.as_bytes()).await.is_err() {
        return (start.elapsed(), 0);
    }
    let mut seen = Vec::new();
    let mut buf = [0u8; 512];
    let mut writing = true;
    loop {
        tokio::select! {
            r = stream.read(&mut buf) => match r {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    seen.extend_from_slice(&buf[..n]);
                    writing = false;
                }
            },
            () = tokio::time::sleep(Duration::from_millis(500)), if writing => {
                if stream.write_all(b" ").await.is_err() {
                    writing = false;
                }
            }
            () = tokio::time::sleep(Duration::from_secs(BODY_DEADLINE * 5)) => break,
        }
    }
    let status = std::str::from_utf8(seen.get(9..12).unwrap_or_default())
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (start.elapsed(), status)
}

/// Slow senders (heads and bodies) all at once while `/healthz` is asked every 250 ms:
/// how long until each was cut, the slow bodies' statuses, and `/healthz`'s answers.
async fn slow_clients(
    address: &str,
    health: &str,
) -> (Vec<Duration>, Vec<u16>, BTreeMap<u16, usize>) {
    let done = std::sync::atomic::AtomicBool::new(false);
    let work = async {
        let (heads, bodies) = tokio::join!(
            futures_util::future::join_all((0..20).map(|i| slow_sender(address, i % 2 == 1))),
            futures_util::future::join_all((0..6).map(|_| slow_body(address))),
        );
        done.store(true, Ordering::SeqCst);
        (heads, bodies)
    };
    let probe = async {
        let client = reqwest::Client::new();
        let mut answers = BTreeMap::<u16, usize>::new();
        while !done.load(Ordering::SeqCst) {
            let status = client
                .get(health)
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .map_or(0, |r| r.status().as_u16());
            *answers.entry(status).or_default() += 1;
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        answers
    };
    let ((heads, bodies), answers) = tokio::join!(work, probe);
    let mut cut = heads;
    cut.extend(bodies.iter().map(|(d, _)| *d));
    (cut, bodies.into_iter().map(|(_, s)| s).collect(), answers)
}

/// One request of [`expensive`]: its status (0: no answer) and time go into `out`.
async fn timed(
    out: &mut Vec<(&'static str, u16, f64)>,
    what: &'static str,
    request: reqwest::RequestBuilder,
) -> Option<reqwest::Response> {
    let started = Instant::now();
    let response = request.send().await.ok();
    let status = response.as_ref().map_or(0, |r| r.status().as_u16());
    out.push((what, status, started.elapsed().as_secs_f64()));
    response
}

/// Requests built to be expensive to answer; (what, status (0: no answer), seconds).
/// What they need first is named "setup: …".
async fn expensive(server: &Server) -> anyhow::Result<Vec<(&'static str, u16, f64)>> {
    const REGISTRY_JSON: &str = "application/vnd.schemaregistry.v1+json";
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let admin = server.admin_key()?;
    let mut out = Vec::new();

    // Three nested named records. The reader's versions of them have a field per level
    // for every field of the writer's, found through an alias and naming the level
    // below: about 2,000 fields in all, and as many paths to the innermost difference
    // as the product of the three levels' fields (a checker that lists every path to
    // it, or compares each one anew, does not finish).
    let c = json!({"type": "record", "name": "C", "fields": [{"name": "v", "type": "string"}]});
    let b = json!({"type": "record", "name": "B", "fields": [{"name": "c", "type": c}]});
    let a = json!({"type": "record", "name": "A", "fields": [{"name": "b", "type": b}]});
    let writer = json!({"type": "record", "name": "Outer", "namespace": "hostile", "fields": [{"name": "a", "type": a}]});
    let level = |prefix: &str, alias: &str, defined: Value, name: &str| -> Vec<Value> {
        let mut fields =
            vec![json!({"name": format!("{prefix}0"), "aliases": [alias], "type": defined})];
        fields.extend((1..NESTED_FIELDS).map(|i| {
            json!({"name": format!("{prefix}{i}"), "aliases": [alias, format!("{prefix}_{i}")], "type": name})
        }));
        fields
    };
    let c = json!({"type": "record", "name": "C", "fields": [{"name": "v", "type": "int"}]});
    let b = json!({"type": "record", "name": "B", "fields": level("c", "c", c, "hostile.C")});
    let a = json!({"type": "record", "name": "A", "fields": level("b", "b", b, "hostile.B")});
    let reader = json!({"type": "record", "name": "Outer", "namespace": "hostile", "fields": level("f", "a", a, "hostile.A")});
    let registry = format!("{}/registry", server.base);
    timed(
        &mut out,
        "setup: register three nested records",
        client
            .post(format!("{registry}/subjects/hostile-nested/versions"))
            .bearer_auth(&admin)
            .header("Content-Type", REGISTRY_JSON)
            .body(json!({"schema": writer.to_string()}).to_string()),
    )
    .await;
    timed(
        &mut out,
        "compatibility, 2,000 fields over three nested levels",
        client
            .post(format!(
                "{registry}/compatibility/subjects/hostile-nested/versions/latest"
            ))
            .bearer_auth(&admin)
            .header("Content-Type", REGISTRY_JSON)
            .body(json!({"schema": reader.to_string()}).to_string()),
    )
    .await;

    // A pact to verify, then a verification result of about 3 MiB.
    let broker = format!("{}/broker", server.base);
    let pact = json!({
        "consumer": {"name": "hostile-consumer"},
        "provider": {"name": "hostile-provider"},
        "interactions": [{"description": "a request", "request": {"method": "GET", "path": "/"}, "response": {"status": 200}}],
        "metadata": {"pactSpecification": {"version": "3.0.0"}}
    });
    let published = timed(
        &mut out,
        "setup: publish a pact",
        client
            .put(format!(
                "{broker}/pacts/provider/hostile-provider/consumer/hostile-consumer/version/1.0.0"
            ))
            .bearer_auth(&server.key)
            .json(&pact),
    )
    .await;
    let view: Value = match published {
        Some(r) if r.status().is_success() => r.json().await.unwrap_or_default(),
        _ => Value::Null,
    };
    // Without the link the setup step above has failed already; any answer here is moot.
    let results_url = view["_links"]["pb:publish-verification-results"]["href"]
        .as_str()
        .map_or_else(|| format!("{broker}/unpublished"), str::to_owned);
    let test_results: Vec<Value> = (0..12_000)
        .map(|i| json!({"interactionId": format!("{i:08}"), "success": false, "mismatches": [{"description": "x".repeat(200)}]}))
        .collect();
    timed(
        &mut out,
        "a verification result of 3 MiB",
        client
            .post(results_url)
            .bearer_auth(&server.key)
            .json(&json!({
                "success": false,
                "providerApplicationVersion": "1.0.0",
                "testResults": test_results,
            })),
    )
    .await;

    let selectors: Vec<Value> = (0..3000)
        .map(|i| json!({"branch": format!("branch-{i}")}))
        .collect();
    timed(
        &mut out,
        "pacts for verification, 3,000 selectors",
        client
            .post(format!(
                "{broker}/pacts/provider/hostile-provider/for-verification"
            ))
            .bearer_auth(&server.key)
            .json(&json!({"consumerVersionSelectors": selectors})),
    )
    .await;
    Ok(out)
}

pub async fn run(program: &Path, requests: usize, spec_dir: &Path) -> anyhow::Result<bool> {
    let timeout = READ_TIMEOUT.to_string();
    // The server's memory is read to tell growth the hostile input leaves behind. Its
    // allocator gives freed pages back lazily, when the thread that freed them allocates
    // again, so a server with nothing to do after a burst keeps the burst's pages (80-95
    // MiB at the end, against 60 with them given back at once): they are given back at
    // once here, and what is read is what is in use.
    let mut server = Server::start_with(
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
            "--body-deadline-secs",
            &BODY_DEADLINE.to_string(),
            "--min-body-rate",
            &MIN_BODY_RATE.to_string(),
            "--min-body-rate-grace-secs",
            &MIN_BODY_RATE_GRACE.to_string(),
            "--max-upload-bytes",
            "1048576",
        ],
        &[("MIMALLOC_PURGE_DELAY", "0")],
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
    // Where memory stood before the slow clients and the expensive requests: tells a
    // growth in the malformed-request phase from one in the sections after it.
    let rss_malformed = rss_kib_of(pid) as usize;

    let (slow, body_statuses, health_during) =
        slow_clients(&target.address, &format!("{}/healthz", server.base)).await;
    let slowest = slow.iter().max().copied().unwrap_or_default();
    let expensive = expensive(&server).await?;
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
        "| RSS after the first tenth / after the malformed requests / at the end | {:.1} / {:.1} / {:.1} MiB |",
        rss_warm as f64 / 1024.0,
        rss_malformed as f64 / 1024.0,
        rss_end as f64 / 1024.0
    );
    println!(
        "| slow senders (20 heads, 6 bodies): longest until cut (read timeouts {READ_TIMEOUT} s, \
         body deadline {BODY_DEADLINE} s, {MIN_BODY_RATE} bytes/s after {MIN_BODY_RATE_GRACE} s) | {:.1} s |",
        slowest.as_secs_f64()
    );
    println!("| slow bodies answered | {body_statuses:?} |");
    println!("| /healthz meanwhile, by status | {health_during:?} |");
    for (what, status, secs) in &expensive {
        println!("| {what} | {status} in {secs:.2} s |");
    }
    for e in server_errors.lock().map(|e| e.clone()).unwrap_or_default() {
        println!("5xx for: {e:?}");
    }
    // Memory: what the first tenth left is the baseline; allow 32 MiB of allocator noise.
    let grew = rss_end.saturating_sub(rss_warm) > 32 * 1024;
    let bodies_cut = body_statuses.iter().all(|s| *s == 408);
    let healthy_throughout = health_during.keys().all(|s| *s == 200) && !health_during.is_empty();
    // The compatibility check may say yes or no, never fail; the broker refuses both.
    let expensive_ok = expensive.iter().all(|(what, status, _)| {
        if what.starts_with("setup") {
            (200..300).contains(status)
        } else if what.starts_with("compatibility") {
            (200..500).contains(status)
        } else {
            (400..500).contains(status)
        }
    });
    Ok(fives == 0
        && alive
        && healthy
        && !grew
        && slowest <= Duration::from_secs(READ_TIMEOUT * 3)
        && bodies_cut
        && healthy_throughout
        && expensive_ok)
}
