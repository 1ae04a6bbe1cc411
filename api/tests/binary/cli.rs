//! The commands as an operator uses them: first start, keys, restart after a kill,
//! schemas, logs and traces, shutdown.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use docintel_testkit::{pdf, wait_done_at};

use crate::docintel;
use crate::served::{create_admin_key, create_key, serve, serve_env};
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::Value;

async fn wait_all_done(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    ids: &[String],
) -> Vec<Value> {
    let mut out = Vec::new();
    for id in ids {
        out.push(wait_done_at(client, base, key, id, 2000).await);
    }
    out
}

#[tokio::test]
async fn first_start_prints_a_key_once_and_keys_create_is_scriptable() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let client = reqwest::Client::new();
    let key = {
        let s = serve(&data, &[]);
        let key = s
            .first_key
            .clone()
            .expect("first start prints the default key");
        let r = client
            .get(format!("{}/v2/documents", s.base))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        key
    };
    assert!(data.join("docintel.db").exists());
    assert!(data.join("blobs").is_dir());

    let s = serve(&data, &[]);
    assert_eq!(s.first_key, None, "the key is shown only at first start");
    let r = client
        .get(format!("{}/v2/documents", s.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "the first key still works after a restart"
    );

    let other = create_key(&data, "globex");
    assert!(other.starts_with("dik_"));
    let r = client
        .get(format!("{}/v2/documents", s.base))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

/// `docintel tenants ARGS --data-dir DATA`: whether it succeeded, and what it printed.
fn tenants(data: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(docintel())
        .arg("tenants")
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .output()
        .expect("run docintel tenants");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), printed)
}

#[tokio::test]
async fn tenants_limit_sets_storage_quotas_a_running_server_holds_at_the_next_upload() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let s = serve(&data, &["--quota-documents", "2"]);
    let key = s.first_key.clone().expect("the first key");
    let client = reqwest::Client::new();
    let upload = |n: u32| {
        client
            .post(format!("{}/v2/documents?filename=n{n}.txt", s.base))
            .bearer_auth(&key)
            .body(format!("note {n}"))
            .send()
    };
    for n in 0..2 {
        assert_eq!(upload(n).await.unwrap().status(), StatusCode::ACCEPTED);
    }
    let r = upload(2).await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["code"], "quota_exceeded");
    assert_eq!(problem["usage"]["max_documents"], 2, "the server's default");

    // The CLI, while the server runs: the next upload is held to the new quota.
    let (ok, printed) = tenants(
        &data,
        &["limit", "--tenant", "default", "--max-documents", "3"],
    );
    assert!(ok, "{printed}");
    assert_eq!(upload(3).await.unwrap().status(), StatusCode::ACCEPTED);
    assert_eq!(
        upload(4).await.unwrap().status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let (ok, printed) = tenants(&data, &["show", "--tenant", "default"]);
    assert!(ok, "{printed}");
    assert!(
        printed.contains("documents  3 stored; limit: 3 (its own)"),
        "{printed}"
    );
    assert!(
        printed.contains("bytes      18 stored; limit: the server's default (--quota-bytes)"),
        "{printed}"
    );

    // The request limit is set as before, alone or with a quota.
    let (ok, printed) = tenants(
        &data,
        &["limit", "--tenant", "default", "--limit", "100/10"],
    );
    assert!(ok, "{printed}");
    let (ok, printed) = tenants(
        &data,
        &[
            "limit",
            "--tenant",
            "default",
            "--default",
            "--max-bytes",
            "1GiB",
        ],
    );
    assert!(ok, "{printed}");
    // The worst input is refused with the reason, and changes nothing.
    for bad in [
        &["limit", "--tenant", "default", "--max-bytes", "-1"][..],
        &[
            "limit",
            "--tenant",
            "default",
            "--max-bytes",
            "99999999999999999999",
        ],
        &["limit", "--tenant", "default", "--max-documents", "1.5"],
        &["limit", "--tenant", "default"],
        &["show", "--tenant", "nobody"],
    ] {
        let (ok, printed) = tenants(&data, bad);
        assert!(!ok, "{bad:?} succeeded: {printed}");
    }
    let (_, printed) = tenants(&data, &["show", "--tenant", "default"]);
    assert!(printed.contains("limit: 1073741824 (its own)"), "{printed}");
}

#[tokio::test]
async fn documents_survive_a_sigkill_mid_processing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = create_key(&data, "acme");
    let client = reqwest::Client::new();
    const BATCH: usize = 100;
    let mut ids: Vec<String> = Vec::new();
    {
        // One worker, so most of the queue is still waiting when the process dies.
        let mut s = serve(&data, &["--workers", "1"]);
        // Uploads arrive faster than one worker drains them, so a backlog builds up; on
        // a machine busy enough that the worker keeps up, another batch is sent until
        // one is waiting (the kill must interrupt processing to prove anything).
        for round in 0..5 {
            let uploads = (0..BATCH).map(|i| {
                let i = round * BATCH + i;
                let (client, base, key) = (client.clone(), s.base.clone(), key.clone());
                async move {
                    let r = client
                        .post(format!("{base}/v2/documents?filename=d{i}.pdf"))
                        .bearer_auth(&key)
                        .body(pdf(&[&format!("Document number {i}"), "Total due 10 EUR"]))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), StatusCode::ACCEPTED);
                    r.json::<Value>().await.unwrap()["id"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                }
            });
            ids.extend(
                futures_util::stream::iter(uploads)
                    .buffered(16)
                    .collect::<Vec<_>>()
                    .await,
            );
            let waiting: Value = client
                .get(format!("{}/v2/documents?limit=1&status=queued", s.base))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let waiting = !waiting["items"].as_array().unwrap().is_empty();
            eprintln!("after {} uploads, some still queued: {waiting}", ids.len());
            if waiting {
                break;
            }
        }
        let waiting: Value = client
            .get(format!("{}/v2/documents?limit=1&status=queued", s.base))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            !waiting["items"].as_array().unwrap().is_empty(),
            "the kill must interrupt processing for this test to mean anything"
        );
        // SIGKILL: no shutdown hook runs.
        s.child.kill().unwrap();
        s.child.wait().unwrap();
    }
    let s = serve(&data, &["--workers", "2"]);
    let docs = wait_all_done(&client, &s.base, &key, &ids).await;
    for (i, d) in docs.iter().enumerate() {
        assert_eq!(d["status"], "processed", "{d}");
        let text = client
            .get(format!("{}/v2/documents/{}/text", s.base, ids[i]))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(text.contains(&format!("Document number {i}")), "{text:?}");
    }
    // One result each: exactly as many documents as uploads, no duplicates.
    let mut listed = 0;
    let mut token: Option<String> = None;
    loop {
        let url = match &token {
            Some(t) => format!("{}/v2/documents?limit=100&page_token={t}", s.base),
            None => format!("{}/v2/documents?limit=100", s.base),
        };
        let page: Value = client
            .get(url)
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        listed += page["items"].as_array().unwrap().len();
        match page["next_page"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(listed, ids.len());
}

#[test]
fn schemas_commands_exit_0_1_2() {
    let root = crate::workspace_root();
    let run = |args: &[&str]| {
        Command::new(docintel())
            .args(args)
            .current_dir(root)
            .output()
            .expect("run docintel")
    };
    let ok = run(&["schemas", "check"]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("doc.classified: 2 version(s)"));

    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, fields: &str| {
        let p = dir.path().join(name);
        std::fs::write(
            &p,
            format!(r#"{{"type":"record","name":"E","namespace":"t","fields":[{fields}]}}"#),
        )
        .unwrap();
        p.display().to_string()
    };
    let v1 = write("v1.avsc", r#"{"name":"id","type":"string"}"#);
    let v2 = write(
        "v2.avsc",
        r#"{"name":"id","type":"string"},{"name":"n","type":"int"}"#,
    );
    let compat = |mode: &str, files: &[&str]| {
        let mut args = vec!["schemas", "compat", "--mode", mode];
        args.extend_from_slice(files);
        run(&args).status.code()
    };
    assert_eq!(compat("FORWARD", &[&v1, &v2]), Some(0));
    assert_eq!(
        compat("BACKWARD", &[&v1, &v2]),
        Some(1),
        "a new required field breaks readers of old data"
    );
    assert_eq!(compat("NONE", &[&v1, &v2]), Some(0));
    let bad = dir.path().join("bad.avsc");
    std::fs::write(&bad, "{not avro").unwrap();
    assert_eq!(compat("BACKWARD", &[&v1, bad.to_str().unwrap()]), Some(2));
    assert_eq!(compat("SIDEWAYS", &[&v1, &v2]), Some(2));
    // bytes read as string: accepted as Confluent accepts it, refused under the opt-in.
    let bytes = write("bytes.avsc", r#"{"name":"id","type":"bytes"}"#);
    assert_eq!(compat("BACKWARD", &[&bytes, &v1]), Some(0));
    let strict = run(&[
        "schemas",
        "compat",
        "--mode",
        "BACKWARD",
        "--refuse-bytes-as-string",
        &bytes,
        &v1,
    ]);
    assert_eq!(strict.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&strict.stdout).contains("refuseBytesAsString"));
}

#[tokio::test]
async fn schemas_register_and_an_external_registry() {
    let root = crate::workspace_root();
    let a_dir = tempfile::tempdir().unwrap();
    let a = serve(a_dir.path(), &[]);
    let admin = create_admin_key(a_dir.path());
    let registry = format!("{}/registry", a.base);
    let register = |extra: &[&str]| {
        Command::new(docintel())
            .args(["schemas", "register", "--registry", &registry])
            .args(extra)
            .current_dir(root)
            .output()
            .expect("run schemas register")
    };

    // Without an admin key the registry refuses: exit 1, with its reason.
    let refused = register(&[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("401"));

    let ok = register(&["--registry-token", &admin]);
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    for line in [
        "doc.classified-value v1: id",
        "doc.classified-value v2: id",
        "doc.uploaded-value v1: id",
    ] {
        assert!(stdout.contains(line), "{line} in {stdout}");
    }
    // Basic auth (Confluent clients' way) works too; registering again changes nothing.
    let again = register(&["--registry-basic", &format!("admin:{admin}")]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&again.stdout), stdout);

    // No registry there: exit 2.
    let gone = Command::new(docintel())
        .args([
            "schemas",
            "register",
            "--registry",
            "http://127.0.0.1:9/registry",
        ])
        .current_dir(root)
        .output()
        .unwrap();
    assert_eq!(gone.status.code(), Some(2));

    // A second docintel using the first one's registry: it serves none itself, and its
    // events carry the first registry's ids.
    let b_dir = tempfile::tempdir().unwrap();
    let b = serve(
        b_dir.path(),
        &["--registry", &registry, "--registry-token", &admin],
    );
    let client = reqwest::Client::new();
    let r = client
        .get(format!("{}/registry/subjects", b.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let key = b.first_key.clone().expect("first key");
    let r = client
        .post(format!("{}/v2/documents?filename=a.txt", b.base))
        .bearer_auth(&key)
        .body("hello from b")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    // The relay delivered (nothing unsent) through the external registry.
    let backend_db = b_dir.path().join("docintel.db");
    let mut drained = false;
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(25)).await;
        if rusqlite_count(&backend_db) == Some(0) {
            drained = true;
            break;
        }
    }
    assert!(drained, "b's outbox drained through a's registry");
}

/// Unsent outbox rows in a data folder's database (read-only, beside the running server).
fn rusqlite_count(db: &Path) -> Option<i64> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .ok()?;
    conn.query_row(
        "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL",
        [],
        |r| r.get(0),
    )
    .ok()
}

#[tokio::test]
async fn refuses_to_start_when_the_registry_rejects_its_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let first = serve(dir.path(), &[]);
    let admin = create_admin_key(dir.path());
    let client = reqwest::Client::new();
    let ct = "application/vnd.schemaregistry.v1+json";
    // Someone else takes over doc.uploaded-value: deletes it, and registers an unrelated
    // schema there.
    let r = client
        .delete(format!(
            "{}/registry/subjects/doc.uploaded-value",
            first.base
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client
        .put(format!("{}/registry/config/doc.uploaded-value", first.base))
        .bearer_auth(&admin)
        .header("content-type", ct)
        .body(r#"{"compatibility":"NONE"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let foreign = r#"{"type":"record","name":"Other","namespace":"x","fields":[{"name":"zzz","type":"int"}]}"#;
    let r = client
        .post(format!(
            "{}/registry/subjects/doc.uploaded-value/versions",
            first.base
        ))
        .bearer_auth(&admin)
        .header("content-type", ct)
        .body(serde_json::json!({ "schema": foreign }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    drop(first);

    let mut child = Command::new(docintel())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("DOCINTEL_DATA_DIR", dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut status = None;
    for _ in 0..400 {
        if let Some(s) = child.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let Some(status) = status else {
        let _ = child.kill();
        panic!("docintel started although its schema is incompatible");
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success());
    assert!(stderr.contains("will not start"), "{stderr}");
    assert!(stderr.contains("doc.uploaded-value"), "{stderr}");
    assert!(stderr.contains("incompatible"), "{stderr}");
}

/// (content type, body) of each export request a collector received.
type Exports = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>;

#[tokio::test]
async fn json_logs_and_otlp_traces_carry_the_request_span() {
    // A collector: records what arrives at /v1/traces.
    let received: Exports = Default::default();
    let sink = received.clone();
    let collector = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let sink = sink.clone();
                async move {
                    let ct = headers
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    sink.lock().unwrap().push((ct, body.to_vec()));
                    axum::http::StatusCode::OK
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, collector).await });

    let dir = tempfile::tempdir().unwrap();
    let served = serve_env(
        dir.path(),
        &["--log-format", "json", "--otlp-endpoint", &endpoint],
        &[("OTEL_BSP_SCHEDULE_DELAY", "100"), ("RUST_LOG", "info")],
    );
    let key = served.first_key.clone().expect("the first key is printed");
    let request_id = "trace-me-0001";
    let r = reqwest::Client::new()
        .get(format!("{}/v2/documents", served.base))
        .bearer_auth(&key)
        .header("x-request-id", request_id)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // The access log line: JSON, with the span's fields.
    let mut access = None;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while access.is_none() && std::time::Instant::now() < deadline {
        if let Ok(line) = served.logs.recv_timeout(Duration::from_millis(200)) {
            let v: Value =
                serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
            if v["span"]["request_id"] == request_id && v["fields"]["message"] == "answered" {
                access = Some(v);
            }
        }
    }
    let access = access.expect("an access log line for the request");
    assert_eq!(access["span"]["route"], "/v2/documents");
    assert_eq!(access["span"]["tenant"], "default");
    assert_eq!(access["span"]["method"], "GET");
    assert_eq!(access["level"], "INFO");
    assert_eq!(access["span"]["status"], 200);
    assert!(access["span"]["latency_ms"].as_f64().is_some(), "{access}");

    // The span, exported over OTLP/HTTP (protobuf: its strings appear verbatim).
    let mut found = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let got = received.lock().unwrap().clone();
        if got.iter().any(|(ct, body)| {
            ct == "application/x-protobuf"
                && [
                    request_id.as_bytes(),
                    b"docintel",
                    b"/v2/documents",
                    b"default",
                    b"status",
                    b"latency_ms",
                ]
                .iter()
                .all(|needle| body.windows(needle.len()).any(|w| w == *needle))
        }) {
            found = true;
            break;
        }
    }
    assert!(found, "no exported span with the request's fields");
}

/// SIGTERM (what service managers send) stops the server gracefully: exit status 0, and
/// the log lines written on the way out reach stderr (they pass through a writer thread
/// that is flushed only on a clean exit).
#[cfg(unix)]
#[tokio::test]
async fn sigterm_stops_the_server_cleanly_and_flushes_its_logs() {
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve(dir.path(), &[]);
    let key = served.first_key.clone().expect("the first key is printed");
    let r = reqwest::Client::new()
        .get(format!("{}/v2/documents", served.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let pid = served.child.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(sent.success());
    let mut status = None;
    for _ in 0..200 {
        if let Some(s) = served.child.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = status.expect("docintel did not exit after SIGTERM");
    assert_eq!(
        status.code(),
        Some(0),
        "SIGTERM is a clean stop, not a kill"
    );
    // Everything stderr carried, up to its end (the reader thread stops at EOF).
    let mut logs = Vec::new();
    while let Ok(line) = served.logs.recv_timeout(Duration::from_secs(10)) {
        logs.push(line);
    }
    assert!(
        logs.iter().any(|l| l.contains("shutting down"))
            && logs.iter().any(|l| l.contains("stopped")),
        "the shutdown lines were not flushed: {logs:?}"
    );
}

#[test]
fn a_database_it_cannot_use_stops_the_start_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let start = |url: &str| {
        Command::new(docintel())
            .args(["serve", "--listen", "127.0.0.1:0", "--database-url", url])
            .arg("--data-dir")
            .arg(dir.path())
            .env("RUST_BACKTRACE", "0")
            .output()
            .unwrap()
    };
    // Nothing listens on port 1: refused at once, named with host and reason, and the
    // password never printed.
    let out = start("postgres://docintel:s3cret@127.0.0.1:1/docintel");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("cannot use the database postgres://docintel@127.0.0.1:1/docintel"),
        "{stderr}"
    );
    assert!(stderr.contains("Connection refused"), "{stderr}");
    assert!(
        !stderr.contains("s3cret") && !stderr.contains("panicked"),
        "{stderr}"
    );
    // Not a PostgreSQL URL at all.
    let out = start("mysql://db/x");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("must be a postgres:// URL"), "{stderr}");
}

#[test]
fn model_eval_reports_calibration_and_draws_a_reliability_diagram() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("reliability.png");
    let out = std::process::Command::new(crate::docintel())
        .args(["model", "eval", "--data"])
        .arg(crate::workspace_root().join("models/heldout"))
        .arg("--diagram")
        .arg(&png)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for line in [
        "documents ",
        "accuracy ",
        "accuracy on known kinds ",
        "out-of-scope answered other ",
        "macro-F1 ",
        "ECE (10 bins) ",
        "most confident 10% ",
        "wrong answers with confidence above 0.9: ",
    ] {
        assert!(text.contains(line), "no {line:?} in:\n{text}");
    }
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(
        bytes.len() > 10_000,
        "an empty image? {} bytes",
        bytes.len()
    );
}

/// Runs `docintel ARGS`; its stdout, after checking it succeeded (or failed) as `ok` says.
fn run_docintel(args: &[&str], ok: bool) -> String {
    let out = Command::new(docintel())
        .args(args)
        .output()
        .expect("run docintel");
    assert_eq!(
        out.status.success(),
        ok,
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn the_operators_changes_are_audited_and_audit_export_prints_them_as_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let key = create_key(dir.path(), "initech");
    create_key(dir.path(), "globex");
    let id = docintel_backend::keys::key_id(&docintel_backend::keys::hash(&key));
    run_docintel(
        &[
            "keys",
            "revoke",
            "--tenant",
            "initech",
            &id,
            "--data-dir",
            data,
        ],
        true,
    );
    run_docintel(
        &[
            "tenants",
            "limit",
            "--tenant",
            "initech",
            "--limit",
            "10/1",
            "--data-dir",
            data,
        ],
        true,
    );
    let quota = [
        "tenants",
        "limit",
        "--tenant",
        "initech",
        "--max-documents",
        "5",
    ];
    run_docintel(&[&quota[..], &["--data-dir", data]].concat(), true);

    let lines = run_docintel(
        &["audit", "export", "--tenant", "initech", "--data-dir", data],
        true,
    );
    let entries: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "tenant.quota",
            "tenant.rate_limit",
            "key.revoke",
            "key.create"
        ],
        "newest first"
    );
    assert!(
        entries
            .iter()
            .all(|e| e["actor"] == "operator" && e["address"].is_null())
    );
    assert_eq!(entries[2]["resource_id"], id.as_str());
    assert!(!lines.contains(&key), "never a secret");

    // Every tenant's without --tenant; filtered by action.
    let all = run_docintel(&["audit", "export", "--data-dir", data], true);
    assert_eq!(all.lines().count(), 5);
    let creates = run_docintel(
        &[
            "audit",
            "export",
            "--action",
            "key.create",
            "--data-dir",
            data,
        ],
        true,
    );
    assert_eq!(creates.lines().count(), 2);
    // Bad arguments fail with a message, printing nothing.
    let since = [
        "audit",
        "export",
        "--since",
        "yesterday",
        "--data-dir",
        data,
    ];
    assert_eq!(run_docintel(&since, false), "");
    let nobody = ["audit", "export", "--tenant", "nobody", "--data-dir", data];
    assert_eq!(run_docintel(&nobody, false), "");
}
