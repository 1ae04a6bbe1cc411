//! Uploads over the size limit, from real clients: every attempt gets its 413, whether
//! the client waits for `100 Continue` (refused before it sends the body) or sends the
//! body at once (the server reads and discards a bounded amount of it before closing, so
//! the answer is not lost to a reset). Also: bodies of no declared size are cut while
//! streaming, and that lingering read is bounded in bytes and in time.
//!
//! `OVERSIZE_BODY=N` runs the client tests with bodies of N bytes instead (e.g. 53477376,
//! 51 MiB, past the default limit), to measure without editing the test.

use crate::common;

use std::time::{Duration, Instant};

use common::TestServer;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const LIMIT: u64 = 1024 * 1024;
/// Four times the limit: past what a socket's buffers absorb on their own, so the
/// server must read for the client to finish sending.
const BODY: usize = 4 * 1024 * 1024;
const TIMES: usize = 10;

fn body_len() -> usize {
    std::env::var("OVERSIZE_BODY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(BODY)
}

async fn server() -> TestServer {
    TestServer::start_with(|c| c.max_upload_bytes = LIMIT).await
}

/// Nothing of the refused uploads was kept: no blob, no document, no temp file.
async fn nothing_stored(s: &TestServer) {
    assert!(
        s.stored_blobs().await.is_empty(),
        "{:?}",
        s.stored_blobs().await
    );
    assert_eq!(s.document_count().await, 0);
    let tmp = s.dir.path().join("blobs/.tmp");
    let left = std::fs::read_dir(&tmp).map_or(0, |d| d.count());
    assert_eq!(left, 0, "temp files left in {}", tmp.display());
}

/// Every attempt's outcome: a test fails listing the attempts that did not get their
/// 413, with how many of how many.
#[derive(Default)]
struct Tally {
    attempts: usize,
    failed: Vec<String>,
}

impl Tally {
    fn record(&mut self, context: String, outcome: Result<(), String>) {
        self.attempts += 1;
        if let Err(e) = outcome {
            self.failed.push(format!("{context}: {e}"));
        }
    }

    fn assert_all_answered(&self) {
        assert!(
            self.failed.is_empty(),
            "{} of {} attempts did not get their 413:\n{}",
            self.failed.len(),
            self.attempts,
            self.failed.join("\n")
        );
    }
}

/// Which 413 an API answers: v2's problem document or v1's legacy error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    V2,
    V1,
}

/// The answer was a 413 in `api`'s shape: v2's problem document (`payload_too_large`,
/// application/problem+json) or v1's `{"error": "…"}` (application/json).
fn check_413(api: Api, status: u16, content_type: &str, body: &Value) -> Result<(), String> {
    let shaped = match api {
        Api::V2 => {
            content_type == "application/problem+json"
                && body["status"] == 413
                && body["code"] == "payload_too_large"
        }
        Api::V1 => {
            content_type == "application/json"
                && body["error"].as_str().is_some_and(|e| e.contains("limit"))
        }
    };
    if status == 413 && shaped {
        Ok(())
    } else {
        Err(format!("{status} {content_type} {body}"))
    }
}

fn big_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("big.txt");
    std::fs::write(&path, vec![b'a'; body_len()]).unwrap();
    path
}

/// One curl run: the status, content type and body, or curl's error.
async fn curl(args: &[&str]) -> Result<(u16, String, Value), String> {
    let out_dir = tempfile::tempdir().unwrap();
    let out_file = out_dir.path().join("body");
    let out = tokio::process::Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "60",
            "-w",
            "%{http_code}\n%{content_type}",
        ])
        .arg("-o")
        .arg(&out_file)
        .args(args)
        .output()
        .await
        .expect("curl runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!(
            "curl: {} ({stdout})",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let (code, content_type) = stdout.split_once('\n').ok_or(stdout.clone())?;
    let body = std::fs::read(&out_file).unwrap_or_default();
    let body = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    Ok((
        code.parse().map_err(|_| stdout.clone())?,
        content_type.to_owned(),
        body,
    ))
}

#[tokio::test]
async fn curl_gets_413_with_and_without_expect() {
    let s = server().await;
    let dir = tempfile::tempdir().unwrap();
    let file = big_file(dir.path());
    let data = format!("@{}", file.display());
    let form = format!("file=@{};filename=big.txt", file.display());
    let auth = format!("Authorization: Bearer {}", s.key);
    let v2 = s.url("/v2/documents?filename=big.txt");
    let v1 = s.url("/v1/documents");
    let mut tally = Tally::default();
    // `Expect:` with no value stops curl from sending its own.
    for expect in ["Expect: 100-continue", "Expect:"] {
        for i in 0..TIMES {
            let answer = curl(&[
                "-X",
                "POST",
                "-H",
                &auth,
                "-H",
                "Content-Type: application/octet-stream",
                "-H",
                expect,
                "--data-binary",
                &data,
                &v2,
            ])
            .await;
            tally.record(
                format!("v2 {expect:?} #{i}"),
                answer.and_then(|(code, ct, body)| check_413(Api::V2, code, &ct, &body)),
            );
            let answer = curl(&["-H", &auth, "-H", expect, "-F", &form, &v1]).await;
            tally.record(
                format!("v1 {expect:?} #{i}"),
                answer.and_then(|(code, ct, body)| check_413(Api::V1, code, &ct, &body)),
            );
        }
    }
    // No declared size: curl sends the file chunked, and the streaming check refuses it.
    for i in 0..TIMES {
        let answer = curl(&[
            "-X",
            "POST",
            "-H",
            &auth,
            "-H",
            "Transfer-Encoding: chunked",
            "-H",
            "Expect:",
            "--data-binary",
            &data,
            &v2,
        ])
        .await;
        tally.record(
            format!("v2 chunked #{i}"),
            answer.and_then(|(code, ct, body)| check_413(Api::V2, code, &ct, &body)),
        );
    }
    tally.assert_all_answered();
    nothing_stored(&s).await;
}

/// What a reqwest attempt got: checked against `api`'s 413.
async fn reqwest_answer(api: Api, sent: reqwest::Result<reqwest::Response>) -> Result<(), String> {
    let r = sent.map_err(|e| format!("{e:?}"))?;
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body: Value = r.json().await.map_err(|e| format!("{status}: {e:?}"))?;
    check_413(api, status, &ct, &body)
}

#[tokio::test]
async fn reqwest_and_the_sdk_get_413_with_and_without_expect() {
    let s = server().await;
    let mut tally = Tally::default();
    for expect in [true, false] {
        for i in 0..TIMES {
            // A client per attempt: a fresh connection, as a program's first upload has.
            let client = reqwest::Client::new();
            let mut request = client
                .post(s.url("/v2/documents?filename=big.txt"))
                .bearer_auth(&s.key)
                .header("content-type", "application/octet-stream")
                .body(vec![b'a'; body_len()]);
            if expect {
                request = request.header("expect", "100-continue");
            }
            let outcome = reqwest_answer(Api::V2, request.send().await).await;
            tally.record(format!("v2 expect={expect} #{i}"), outcome);

            let client = reqwest::Client::new();
            let form = Form::new().part(
                "file",
                Part::bytes(vec![b'a'; body_len()]).file_name("big.txt".to_owned()),
            );
            let mut request = client
                .post(s.url("/v1/documents"))
                .bearer_auth(&s.key)
                .multipart(form);
            if expect {
                request = request.header("expect", "100-continue");
            }
            let outcome = reqwest_answer(Api::V1, request.send().await).await;
            tally.record(format!("v1 expect={expect} #{i}"), outcome);
        }
    }
    // Without a declared size: reqwest streams the body chunked.
    for i in 0..TIMES {
        let chunks = (0..body_len() / 65536).map(|_| Ok::<_, std::io::Error>(vec![b'a'; 65536]));
        let sent = reqwest::Client::new()
            .post(s.url("/v2/documents?filename=big.txt"))
            .bearer_auth(&s.key)
            .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                chunks,
            )))
            .send()
            .await;
        tally.record(
            format!("v2 chunked #{i}"),
            reqwest_answer(Api::V2, sent).await,
        );
    }
    // The SDK: a typed 413, not a transport error.
    for i in 0..TIMES {
        let c = docintel_sdk::Client::builder(&s.base)
            .api_key(&s.key)
            .build()
            .unwrap();
        let outcome = match c.upload(vec![b'a'; body_len()], "big.txt").await {
            Ok(doc) => Err(format!("stored as {}", doc.id)),
            Err(e) => match e.problem() {
                Some(p) if (p.status, p.code.as_str()) == (413, "payload_too_large") => Ok(()),
                _ => Err(format!("{e:?}")),
            },
        };
        tally.record(format!("SDK #{i}"), outcome);
    }
    tally.assert_all_answered();
    nothing_stored(&s).await;
}

#[tokio::test]
async fn httpx_sync_and_async_get_413_with_and_without_expect() {
    let s = server().await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/thirdparty/oversize_httpx.py"
    );
    let mut tally = Tally::default();
    for api in [Api::V2, Api::V1] {
        let name = if api == Api::V2 { "v2" } else { "v1" };
        let out = tokio::process::Command::new("python3")
            .arg(script)
            .args(["--base", &s.base, "--key", &s.key, "--api", name])
            .args([
                "--bytes",
                &body_len().to_string(),
                "--times",
                &TIMES.to_string(),
            ])
            .output()
            .await
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "httpx script failed (needs `pip install httpx`): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
        let runs = report.as_object().expect("runs");
        assert_eq!(runs.len(), if api == Api::V2 { 5 } else { 4 }, "{report}");
        for (run, attempts) in runs {
            let attempts = attempts.as_array().expect("attempts");
            assert_eq!(attempts.len(), TIMES, "{name} {run}");
            for (i, a) in attempts.iter().enumerate() {
                let outcome = match a["status"].as_u64() {
                    Some(status) => check_413(
                        api,
                        u16::try_from(status).unwrap_or_default(),
                        a["content_type"].as_str().unwrap_or_default(),
                        &a["body"],
                    ),
                    None => Err(a.to_string()),
                };
                tally.record(format!("{name} {run} #{i}"), outcome);
            }
        }
    }
    tally.assert_all_answered();
    nothing_stored(&s).await;
}

/// `host:port` of a test server.
fn address(s: &TestServer) -> String {
    s.base.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes; what came, and whether it ended in an orderly close
/// (not a reset).
async fn read_all(stream: &mut (impl AsyncReadExt + Unpin)) -> (String, bool) {
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), false),
        }
    }
}

#[tokio::test]
async fn expect_100_continue_is_refused_before_the_body_is_sent() {
    let s = server().await;
    let boundary = "x-boundary";
    let heads = [
        (
            "/v2/documents?filename=big.txt",
            "application/octet-stream".to_owned(),
            "application/problem+json",
        ),
        (
            "/v1/documents",
            format!("multipart/form-data; boundary={boundary}"),
            "application/json",
        ),
    ];
    for (path, content_type, answer_type) in heads {
        let mut stream = TcpStream::connect(address(&s)).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: docintel\r\nAuthorization: Bearer {}\r\n\
             Content-Type: {content_type}\r\nContent-Length: {BODY}\r\n\
             Expect: 100-continue\r\n\r\n",
            s.key
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        // No byte of the body is sent: the answer must come without it.
        let (answer, orderly) =
            tokio::time::timeout(Duration::from_secs(30), read_all(&mut stream))
                .await
                .expect("an answer without the body");
        assert!(answer.starts_with("HTTP/1.1 413 "), "{path}: {answer}");
        assert!(!answer.contains("100 Continue"), "{path}: {answer}");
        assert!(
            answer
                .to_ascii_lowercase()
                .contains(&format!("content-type: {answer_type}")),
            "{path}: {answer}"
        );
        assert!(orderly, "{path}: the connection was reset");
    }
    nothing_stored(&s).await;
}

/// Sends `head` and then all of `body` before reading anything, as httpx does; whether
/// all of it could be sent, and what the server answered. Many clients give up at a
/// failed send (httpx's async client, curl at times) and never read the answer, which
/// the reset that comes with the close may anyway have lost.
async fn send_all_then_read(
    s: &TestServer,
    head: &str,
    body: &[u8],
) -> (Result<(), String>, String) {
    let mut stream = TcpStream::connect(address(s)).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let sent = stream.write_all(body).await.map_err(|e| e.to_string());
    let (answer, _) = tokio::time::timeout(Duration::from_secs(60), read_all(&mut stream))
        .await
        .expect("an answer or a close");
    (sent, answer)
}

#[tokio::test]
async fn every_route_answers_413_to_a_client_that_sends_all_before_reading() {
    let s = server().await;
    // Past what the sockets' buffers absorb while nothing reads (the server's receive
    // window stays small when it reads nothing): the server must read for the client to
    // finish sending.
    const BIG: usize = 16 * 1024 * 1024;
    let over = |n: usize| vec![b'a'; n];
    let auth = |key: &str| format!("Host: docintel\r\nAuthorization: Bearer {key}\r\n");
    let chunked = {
        let mut body = Vec::new();
        for piece in over(BIG).chunks(64 * 1024) {
            body.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            body.extend_from_slice(piece);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"0\r\n\r\n");
        body
    };
    let multipart = {
        let mut body =
            b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.txt\"\r\n\r\n"
                .to_vec();
        body.extend_from_slice(&over(BIG));
        body.extend_from_slice(b"\r\n--b--\r\n");
        body
    };
    let sized = |path: &str, key: &str, content_type: &str, body: Vec<u8>| {
        (
            format!(
                "POST {path} HTTP/1.1\r\n{}Content-Type: {content_type}\r\n\
                 Content-Length: {}\r\n\r\n",
                auth(key),
                body.len()
            ),
            body,
        )
    };
    let cases = [
        (
            "v2, declared",
            sized(
                "/v2/documents?filename=big.txt",
                &s.key,
                "application/octet-stream",
                over(BIG),
            ),
        ),
        (
            "v2, chunked",
            (
                format!(
                    "POST /v2/documents?filename=big.txt HTTP/1.1\r\n{}\
                     Transfer-Encoding: chunked\r\n\r\n",
                    auth(&s.key)
                ),
                chunked,
            ),
        ),
        (
            "v1, declared",
            sized(
                "/v1/documents",
                &s.key,
                "multipart/form-data; boundary=b",
                multipart,
            ),
        ),
        // The registry's and the broker's own body limits (1 MiB, 4 MiB).
        (
            "registry",
            sized(
                "/registry/subjects/x/versions",
                &s.admin_key,
                "application/vnd.schemaregistry.v1+json",
                over(BIG),
            ),
        ),
        (
            "broker",
            sized(
                "/broker/contracts/publish",
                &s.admin_key,
                "application/json",
                over(BIG),
            ),
        ),
    ];
    for (what, (head, body)) in &cases {
        for i in 0..3 {
            let (sent, answer) = send_all_then_read(&s, head, body).await;
            assert_eq!(sent, Ok(()), "{what} #{i}: the server stopped reading");
            assert!(
                answer.starts_with("HTTP/1.1 413 "),
                "{what} #{i}: {answer:?}"
            );
        }
    }
    nothing_stored(&s).await;
}

/// Declares 1 GiB and sends it as fast as it can, or one piece per `every`; returns how
/// much it sent before the server closed, when it read the 413 (if it did), and when the
/// sending failed.
async fn send_endlessly(
    s: &TestServer,
    every: Option<Duration>,
) -> (u64, Option<Instant>, Instant) {
    let stream = TcpStream::connect(address(s)).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let head = format!(
        "POST /v2/documents?filename=big.txt HTTP/1.1\r\nHost: docintel\r\n\
         Authorization: Bearer {}\r\nContent-Length: {}\r\n\r\n",
        s.key,
        1u64 << 30
    );
    write.write_all(head.as_bytes()).await.unwrap();
    let reader = tokio::spawn(async move {
        let mut got = Vec::new();
        let mut buf = [0u8; 8192];
        let mut answered = None;
        while let Ok(n) = read.read(&mut buf).await {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            if answered.is_none() && got.starts_with(b"HTTP/1.1 413 ") {
                answered = Some(Instant::now());
            }
        }
        answered
    });
    let piece = vec![b'a'; 64 * 1024];
    let mut sent = 0u64;
    while sent < 1 << 30 {
        if write.write_all(&piece).await.is_err() {
            break;
        }
        sent += piece.len() as u64;
        if let Some(every) = every {
            tokio::time::sleep(every).await;
        }
    }
    let failed = Instant::now();
    let answered = reader.await.unwrap();
    (sent, answered, failed)
}

#[tokio::test]
async fn the_lingering_read_stops_at_its_byte_bound() {
    let s = TestServer::launch(|l| {
        l.config.max_upload_bytes = LIMIT;
        l.serve_limits.linger_bytes = 2 * 1024 * 1024;
        l.serve_limits.linger_time = Duration::from_secs(60);
    })
    .await;
    let started = Instant::now();
    let (sent, _, failed) = tokio::time::timeout(Duration::from_secs(50), send_endlessly(&s, None))
        .await
        .expect("the connection is closed before the time bound");
    // What the server read (2 MiB) plus what the two sockets' buffers held.
    assert!(sent < 32 * 1024 * 1024, "{sent} bytes sent");
    assert!(failed - started < Duration::from_secs(50));
    nothing_stored(&s).await;
}

#[tokio::test]
async fn the_lingering_read_stops_at_its_time_bound() {
    let linger = Duration::from_secs(1);
    let s = TestServer::launch(|l| {
        l.config.max_upload_bytes = LIMIT;
        l.serve_limits.linger_bytes = 1 << 30;
        l.serve_limits.linger_time = linger;
    })
    .await;
    // 64 KiB every 50 ms: 1 GiB would take 14 minutes.
    let (sent, answered, failed) = tokio::time::timeout(
        Duration::from_secs(60),
        send_endlessly(&s, Some(Duration::from_millis(50))),
    )
    .await
    .expect("the connection is closed at the time bound");
    let answered = answered.expect("the 413 was read");
    // The server kept reading after its answer (so a client still sending finishes and
    // reads it), and not for ever.
    let lingered = failed - answered;
    assert!(
        lingered >= linger / 2,
        "closed {lingered:?} after the answer"
    );
    assert!(sent < 1 << 30, "{sent} bytes sent");
    nothing_stored(&s).await;
}
