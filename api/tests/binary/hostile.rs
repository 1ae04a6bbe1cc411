//! What a hostile client can do to the process, tried as an attacker would against the
//! real `docintel` binary: a crash, memory, descriptors, logs. (What needs no process of
//! its own is in the end-to-end suite, tests/e2e/hostile.rs.)

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use docintel_testkit::{assert_problem, pdf, wait_done_at};
use lopdf::{Document, Stream, dictionary};
use reqwest::StatusCode;
use serde_json::Value;

use crate::served::{Served, create_admin_key, serve};

/// A one-page PDF whose catalog has an entry nested `depth` deep (arrays, or dictionaries),
/// written by hand: lopdf's writer and destructor recurse too.
fn deeply_nested_pdf(depth: usize, dict: bool) -> Vec<u8> {
    let (open, close) = if dict { ("<</A ", ">>") } else { ("[", "]") };
    let x = format!("{}null{}", open.repeat(depth), close.repeat(depth));
    let objects = [
        format!("<< /Type /Catalog /Pages 2 0 R /X {x} >>"),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>".to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A one-page PDF whose content stream is `inflated` zero bytes, deflated (~1 KB per MB).
fn flate_bomb(inflated: usize) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..inflated >> 20 {
        z.write_all(&chunk).unwrap();
    }
    let compressed = z.finish().unwrap();
    let mut doc = Document::load_mem(&pdf(&["hello"])).unwrap();
    let page = *doc.get_pages().values().next().unwrap();
    let content = doc.add_object(Stream::new(
        dictionary! { "Filter" => "FlateDecode" },
        compressed,
    ));
    doc.get_object_mut(page)
        .unwrap()
        .as_dict_mut()
        .unwrap()
        .set("Contents", content);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

async fn upload(s: &Served, key: &str, name: &str, bytes: Vec<u8>) -> String {
    let r = reqwest::Client::new()
        .post(format!("{}/v2/documents", s.base))
        .query(&[("filename", name)])
        .bearer_auth(key)
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn healthy(base: &str) -> bool {
    reqwest::get(format!("{base}/healthz"))
        .await
        .is_ok_and(|r| r.status() == StatusCode::OK)
}

fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))?
        .trim()
        .trim_end_matches(" kB")
        .trim()
        .parse()
        .ok()
}

/// Watches `pid`'s children (the parser processes) every millisecond while `run` runs;
/// returns what `run` returned and the highest resident peak (VmHWM) seen among them.
async fn with_children_peak<T>(pid: u32, run: impl std::future::Future<Output = T>) -> (T, u64) {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                for child in crate::served::children_of(pid) {
                    peak = peak.max(status_kib(child, "VmHWM:").unwrap_or(0));
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            peak
        })
    };
    let out = run.await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    (out, watcher.join().unwrap())
}

#[tokio::test]
async fn a_pdf_nested_too_deep_fails_alone_and_the_server_stays_up() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let (key, ids) = {
        let s = serve(dir.path(), &["--workers", "2"]);
        let key = s.first_key.clone().unwrap();
        let ids = vec![
            upload(
                &s,
                &key,
                "deep-array.pdf",
                deeply_nested_pdf(200_000, false),
            )
            .await,
            upload(&s, &key, "deep-dict.pdf", deeply_nested_pdf(200_000, true)).await,
            upload(
                &s,
                &key,
                "fine.pdf",
                pdf(&["INVOICE 7", "Total due: 10 EUR"]),
            )
            .await,
        ];
        let done: Vec<Value> = {
            let mut v = Vec::new();
            for id in &ids {
                v.push(wait_done_at(&client, &s.base, &key, id, 3000).await);
            }
            v
        };
        for deep in &done[..2] {
            assert_eq!(deep["status"], "failed", "{deep}");
            let failure = deep["failure"].as_str().unwrap();
            assert!(
                failure.starts_with("the document could not be parsed: it is nested too deeply"),
                "{failure}"
            );
        }
        assert_eq!(done[2]["status"], "processed", "{}", done[2]);
        // The server never noticed: same process, still answering.
        let mut s = s;
        assert!(s.child.try_wait().unwrap().is_none(), "the server died");
        assert!(healthy(&s.base).await);
        (key, ids)
    };
    // Nothing is left to crash the next start either.
    let s = serve(dir.path(), &["--workers", "2"]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut s = s;
    assert!(
        s.child.try_wait().unwrap().is_none(),
        "the restarted server died"
    );
    let again = wait_done_at(&client, &s.base, &key, &ids[0], 10).await;
    assert_eq!(again["status"], "failed");
    assert!(healthy(&s.base).await);
}

/// Uploads a bomb of `inflated` zero bytes to a server started with `flags`; asserts it
/// fails with `reason`, the parser processes stay under `parser_bound_kib` and the server
/// under 256 MiB; returns both peaks in KiB.
async fn bomb_fails(
    flags: &[&str],
    inflated: usize,
    reason: &str,
    parser_bound_kib: u64,
) -> (u64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(dir.path(), flags);
    let key = s.first_key.clone().unwrap();
    let bomb = flate_bomb(inflated);
    assert!(bomb.len() < inflated / 500, "{} bytes", bomb.len());
    let pid = s.child.id();
    let (done, parser_peak_kib) = with_children_peak(pid, async {
        let id = upload(&s, &key, "bomb.pdf", bomb).await;
        wait_done_at(&reqwest::Client::new(), &s.base, &key, &id, 6000).await
    })
    .await;
    assert_eq!(done["status"], "failed", "{done}");
    let failure = done["failure"].as_str().unwrap();
    assert!(failure.contains(reason), "{failure}");
    let server_peak_kib = status_kib(pid, "VmHWM:").unwrap();
    assert!(
        parser_peak_kib <= parser_bound_kib,
        "parser peak {parser_peak_kib} KiB"
    );
    assert!(
        server_peak_kib < 256 << 10,
        "server peak {server_peak_kib} KiB"
    );
    assert!(healthy(&s.base).await);
    (server_peak_kib, parser_peak_kib)
}

#[tokio::test]
async fn a_compression_bomb_fails_within_the_inflated_bytes_budget() {
    // 2 GiB of zeros in ~2 MB. The budget is measured without keeping what is inflated.
    let (server, parser) = bomb_fails(
        &[],
        2048 << 20,
        "inflate to more than the 256 MiB limit",
        128 << 10,
    )
    .await;
    eprintln!("2 GiB bomb: server peak RSS {server} KiB, parser peak {parser} KiB");
}

#[tokio::test]
async fn past_the_budget_the_kernel_limit_stops_the_parser_not_the_server() {
    // A budget too large to catch the bomb: the address-space limit must.
    let (server, parser) = bomb_fails(
        &["--max-inflated-mib", "4096", "--parser-memory-mib", "256"],
        1024 << 20,
        "exceeded the memory limit (256 MiB)",
        256 << 10,
    )
    .await;
    eprintln!("1 GiB bomb past the budget: server peak RSS {server} KiB, parser peak {parser} KiB");
}

/// Reads until the server closes the connection; false if it is still open after `wait`.
fn closed_within(mut conn: TcpStream, wait: Duration) -> (bool, String) {
    conn.set_read_timeout(Some(wait)).unwrap();
    let started = Instant::now();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => return (true, String::from_utf8_lossy(&seen).into_owned()),
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return (true, String::from_utf8_lossy(&seen).into_owned());
            }
            Err(_) => return (false, String::from_utf8_lossy(&seen).into_owned()),
        }
        if started.elapsed() > wait {
            return (false, String::from_utf8_lossy(&seen).into_owned());
        }
    }
}

#[tokio::test]
async fn slow_and_idle_connections_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(
        dir.path(),
        &[
            "--header-read-timeout-secs",
            "1",
            "--body-read-timeout-secs",
            "1",
        ],
    );
    let key = s.first_key.clone().unwrap();
    let addr = s.base.trim_start_matches("http://").to_owned();
    // Without the timeouts these stay open for ever; 20 s is far beyond the 1 s set.
    let patience = Duration::from_secs(20);
    let results = tokio::task::spawn_blocking(move || {
        let idle = TcpStream::connect(&addr).unwrap();
        let mut partial_head = TcpStream::connect(&addr).unwrap();
        partial_head
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .unwrap();
        let mut partial_body = TcpStream::connect(&addr).unwrap();
        partial_body
            .write_all(
                format!(
                    "POST /v2/documents?filename=slow.txt HTTP/1.1\r\nHost: x\r\n\
                     Authorization: Bearer {key}\r\nContent-Length: 1000\r\n\r\nonly ten b"
                )
                .as_bytes(),
            )
            .unwrap();
        [idle, partial_head, partial_body].map(|c| closed_within(c, patience))
    })
    .await
    .unwrap();
    for (what, (closed, seen)) in ["idle", "partial head", "partial body"]
        .iter()
        .zip(&results)
    {
        assert!(closed, "{what} connection still open; it got {seen:?}");
    }
    // The slow body got an answer before the connection closed.
    assert!(results[2].1.starts_with("HTTP/1.1 408"), "{}", results[2].1);
    assert!(results[2].1.contains("body_too_slow"), "{}", results[2].1);
    assert!(healthy(&s.base).await);
}

#[tokio::test]
async fn a_secret_in_a_webhook_url_reaches_neither_the_log_nor_the_delivery_log() {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(
        dir.path(),
        &[
            "--webhooks-allow-private",
            "--webhook-initial-backoff-ms",
            "50",
        ],
    );
    let key = s.first_key.clone().unwrap();
    let client = reqwest::Client::new();
    // Port 9 (discard) is closed here: every attempt fails to connect.
    let hook: Value = client
        .post(format!("{}/v2/webhooks", s.base))
        .bearer_auth(&key)
        .json(&serde_json::json!({"url": "http://127.0.0.1:9/in?token=s3cr3t-t0ken", "event_types": ["doc.processed"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hook_id = hook["webhook"]["id"].as_str().unwrap().to_owned();
    let id = upload(&s, &key, "n.txt", b"a note".to_vec()).await;
    wait_done_at(&client, &s.base, &key, &id, 1000).await;
    let mut last_error = None;
    for _ in 0..300 {
        let d: Value = client
            .get(format!("{}/v2/webhooks/{hook_id}/deliveries", s.base))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(e) = d["items"][0]["last_error"].as_str() {
            last_error = Some(e.to_owned());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let last_error = last_error.expect("a failed attempt was logged");
    assert!(!last_error.contains("s3cr3t"), "{last_error}");
    // The warning is written after the attempt is recorded, by the log thread: wait for it.
    let mut logs: Vec<String> = Vec::new();
    while !logs.iter().any(|l| l.contains("webhook delivery failed")) {
        match s.logs.recv_timeout(Duration::from_secs(10)) {
            Ok(line) => logs.push(line),
            Err(_) => panic!("no failed delivery was logged: {logs:?}"),
        }
    }
    logs.extend(s.logs.try_iter());
    assert!(!logs.iter().any(|l| l.contains("s3cr3t")), "{logs:?}");
}

#[tokio::test]
async fn requests_without_a_valid_key_are_limited_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(dir.path(), &["--ip-rate-limit", "5/60"]);
    let key = s.first_key.clone().unwrap();
    let client = reqwest::Client::new();
    for path in [
        "/metrics",
        "/healthz",
        "/registry/subjects",
        "/v2/documents",
        "/nowhere",
    ] {
        let r = client
            .get(format!("{}{path}", s.base))
            .send()
            .await
            .unwrap();
        assert_ne!(r.status(), StatusCode::TOO_MANY_REQUESTS, "{path}");
    }
    // The address's bucket is empty: anonymous and wrong-key requests wait.
    let r = client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    let r = client
        .get(format!("{}/v2/documents", s.base))
        .bearer_auth("dik_wrong")
        .send()
        .await
        .unwrap();
    assert_problem(r, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // A valid key is limited by its own bucket, not the address's.
    for _ in 0..3 {
        let r = client
            .get(format!("{}/v2/documents", s.base))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
}

/// A client at `from` that sends `head`, then `piece` every `every` until the server
/// answers; everything it got once the server closed (`None`: not closed within a
/// minute).
async fn trickle(
    server: std::net::SocketAddr,
    from: std::net::IpAddr,
    head: String,
    piece: &'static [u8],
    every: Duration,
) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let socket = tokio::net::TcpSocket::new_v4().ok()?;
    socket.bind(std::net::SocketAddr::new(from, 0)).ok()?;
    let mut stream = socket.connect(server).await.ok()?;
    stream.write_all(head.as_bytes()).await.ok()?;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let mut ticker = tokio::time::interval(every);
    let patience = tokio::time::sleep(Duration::from_secs(60));
    tokio::pin!(patience);
    let mut writing = true;
    loop {
        tokio::select! {
            r = stream.read(&mut buf) => match r {
                Ok(0) | Err(_) => return Some(String::from_utf8_lossy(&seen).into_owned()),
                Ok(n) => {
                    seen.extend_from_slice(&buf[..n]);
                    writing = false;
                }
            },
            _ = ticker.tick(), if writing => {
                if stream.write_all(piece).await.is_err() {
                    writing = false;
                }
            }
            () = &mut patience => return None,
        }
    }
}

/// The next slow client to finish: its name and what it got.
async fn next(
    done: &mut tokio::sync::mpsc::UnboundedReceiver<(&'static str, Option<String>)>,
) -> (&'static str, Option<String>) {
    tokio::time::timeout(Duration::from_secs(90), done.recv())
        .await
        .expect("a slow client finished")
        .expect("a slow client")
}

#[tokio::test]
async fn trickling_bodies_hold_neither_the_server_nor_its_probes() {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(
        dir.path(),
        &[
            "--max-in-flight",
            "4",
            "--max-in-flight-per-address",
            "2",
            "--body-deadline-secs",
            "8",
            "--min-body-rate",
            "64",
            "--min-body-rate-grace-secs",
            "5",
        ],
    );
    let key = s.first_key.clone().unwrap();
    // With an admin key the registry reads the body whatever it checks first.
    let admin = create_admin_key(dir.path());
    let server: std::net::SocketAddr = s.base.trim_start_matches("http://").parse().unwrap();
    let from = |last: u8| std::net::IpAddr::from([127, 0, 0, last]);
    let client_at = |last: u8| {
        reqwest::Client::builder()
            .local_address(from(last))
            .build()
            .unwrap()
    };
    let status_of = |last: u8, path: &'static str| {
        let request = client_at(last)
            .get(format!("{}{path}", s.base))
            .bearer_auth(&key);
        async move { request.send().await.unwrap().status() }
    };
    let mut ready = false;
    for _ in 0..300 {
        if status_of(9, "/readyz").await == StatusCode::OK {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "the server never became ready");

    let head = |length: usize| {
        format!(
            "POST /registry/subjects/x/versions HTTP/1.1\r\nHost: x\r\n\
             Authorization: Bearer {admin}\r\n\
             Content-Type: application/vnd.schemaregistry.v1+json\r\n\
             Content-Length: {length}\r\n\r\n"
        )
    };
    let (tx, mut done) = tokio::sync::mpsc::unbounded_channel();
    let spawn = |name: &'static str, at: u8, head: String, piece: &'static [u8], every| {
        let tx = tx.clone();
        tokio::spawn(async move {
            let _ = tx.send((name, trickle(server, from(at), head, piece, every).await));
        });
    };

    // 200 bytes/s is well above the rate, but the body is never whole: the deadline
    // cuts it.
    spawn(
        "steady",
        5,
        head(1 << 20),
        &[b' '; 20],
        Duration::from_millis(100),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    // One byte a second from one address, six times: more than the server's four
    // places. Two are let in, four refused at once.
    for _ in 0..6 {
        spawn("trickle", 1, head(10_000), b" ", Duration::from_secs(1));
    }
    for _ in 0..4 {
        let (name, seen) = next(&mut done).await;
        let seen = seen.unwrap_or_default();
        assert_eq!(name, "trickle");
        assert!(seen.starts_with("HTTP/1.1 429"), "{seen}");
        assert!(seen.contains("too_many_in_flight"), "{seen}");
    }
    // While they trickle, a keyed request from elsewhere is served, and the probes.
    assert_eq!(status_of(9, "/v2/documents").await, StatusCode::OK);
    assert_eq!(status_of(1, "/healthz").await, StatusCode::OK);

    // A second address takes the last place; now every place is held by a slow body.
    for _ in 0..2 {
        spawn("full house", 2, head(10_000), b" ", Duration::from_secs(1));
    }
    let (name, seen) = next(&mut done).await;
    let seen = seen.unwrap_or_default();
    assert_eq!(name, "full house");
    assert!(seen.starts_with("HTTP/1.1 503"), "{seen}");
    assert!(seen.contains("overloaded"), "{seen}");
    // Full: other requests are shed, yet health, readiness and metrics are answered.
    assert_eq!(
        status_of(9, "/v2/documents").await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    for probe in ["/healthz", "/readyz", "/metrics"] {
        assert_eq!(status_of(9, probe).await, StatusCode::OK, "{probe}");
    }
    assert_eq!(
        status_of(9, "/v2/documents").await,
        StatusCode::SERVICE_UNAVAILABLE,
        "the slow bodies were cut before the probes were tried"
    );

    // Every slow body is answered 408 and its connection closed: the trickles for
    // their rate, the steady one at the deadline.
    let mut cut = Vec::new();
    for _ in 0..4 {
        let (name, seen) = next(&mut done).await;
        let seen = seen.unwrap_or_else(|| panic!("{name}: still open after a minute"));
        assert!(seen.starts_with("HTTP/1.1 408"), "{name}: {seen}");
        assert!(seen.contains("body_too_slow"), "{name}: {seen}");
        assert!(seen.contains("connection: close"), "{name}: {seen}");
        let why = if name == "steady" {
            "within 8s"
        } else {
            "slower than 64 bytes/s"
        };
        assert!(seen.contains(why), "{name}: {seen}");
        cut.push(name);
    }
    cut.sort_unstable();
    assert_eq!(cut, ["full house", "steady", "trickle", "trickle"]);
    // The places are free again.
    assert_eq!(status_of(1, "/v2/documents").await, StatusCode::OK);
}
