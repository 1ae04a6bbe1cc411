//! Scale-out, proven with the real binary under `kill -9`: two `api` and two `worker`
//! processes on one PostgreSQL, blobs in an S3 server (moto), events in a Kafka broker
//! (tansu), webhooks to a receiver in this test. The run book in docs/scaling-out.md
//! starts the same topology with the same options.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use docintel_testkit::peers::{Broker, S3Server, WebhookReceiver, consume};
use docintel_testkit::postgres::Cluster;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;

use crate::served::{Served, serve_env};

mod documents;
mod replicas;

const BUCKET: &str = "docintel";

/// No request limits: every simulated client of these tests shares one address.
const UNLIMITED: [&str; 6] = [
    "--rate-limit",
    "off",
    "--ip-rate-limit",
    "off",
    "--max-in-flight-per-address",
    "off",
];

/// The shared services, and the options every docintel process of the topology takes.
struct Topology {
    pg: Cluster,
    s3: S3Server,
    kafka: Broker,
    dirs: tempfile::TempDir,
}

impl Topology {
    async fn start() -> Self {
        let pg = Cluster::start();
        let s3 = S3Server::start();
        s3.create_bucket(BUCKET).await;
        Self {
            pg,
            s3,
            kafka: Broker::start(),
            dirs: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn common(&self) -> Vec<String> {
        [
            "--database-url",
            &self.pg.url,
            "--blob-store",
            &format!("s3://{BUCKET}/blobs"),
            "--kafka-brokers",
            &self.kafka.address(),
            "--webhooks-allow-private",
            "--webhook-initial-backoff-ms",
            "200",
            "--workers",
            "2",
            // Short leases: a killed worker's jobs are taken over within seconds.
            "--job-lease-secs",
            "3",
            "--blob-sweep-every-secs",
            "1",
            "--blob-sweep-grace-secs",
            "4",
        ]
        .iter()
        .chain(UNLIMITED.iter())
        .map(|s| s.to_string())
        .collect()
    }

    /// Starts one process of `role`; each has a data folder of its own (it keeps nothing
    /// there: state is in PostgreSQL, blobs in S3).
    fn process(&self, role: &str, extra: &[String]) -> Served {
        let dir = self
            .dirs
            .path()
            .join(uuid::Uuid::new_v4().simple().to_string());
        let mut args = vec!["--role".to_owned(), role.to_owned()];
        args.extend(self.common());
        args.extend(extra.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env = self.s3.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        serve_env(&dir, &args, &env)
    }

    /// A worker: no admin key, no registry address; its relay uses the embedded registry
    /// over the shared database, through the worker's own listener.
    fn worker(&self) -> Served {
        self.process("worker", &[])
    }

    async fn db(&self) -> sqlx::PgConnection {
        sqlx::PgConnection::connect(&self.pg.url)
            .await
            .expect("connect to the test database")
    }

    /// The keys of every committed object under the blob prefix (S3 ListObjectsV2;
    /// moto accepts unsigned requests).
    async fn blob_keys(&self) -> HashSet<String> {
        let mut keys = HashSet::new();
        let mut token: Option<String> = None;
        loop {
            let mut url = format!("{}/{BUCKET}?list-type=2&prefix=blobs/", self.s3.endpoint());
            if let Some(t) = &token {
                url.push_str(&format!("&continuation-token={t}"));
            }
            let xml = reqwest::get(&url)
                .await
                .expect("list")
                .text()
                .await
                .expect("body");
            for part in xml.split("<Key>").skip(1) {
                let key = part.split("</Key>").next().unwrap_or_default();
                keys.insert(key.trim_start_matches("blobs/").to_owned());
            }
            token = xml
                .split("<NextContinuationToken>")
                .nth(1)
                .and_then(|t| t.split("</NextContinuationToken>").next())
                .map(str::to_owned);
            if token.is_none() {
                return keys;
            }
        }
    }
}

/// Starts two processes at the same moment (their start-up steps race).
fn two_at_once(start: impl Fn() -> Served + Sync) -> (Served, Served) {
    std::thread::scope(|s| {
        let a = s.spawn(&start);
        let b = s.spawn(&start);
        (a.join().expect("first"), b.join().expect("second"))
    })
}

async fn upload(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    name: &str,
    body: Vec<u8>,
    idempotency_key: Option<&str>,
) -> Result<(StatusCode, Value), reqwest::Error> {
    let mut req = client
        .post(format!("{base}/v2/documents?filename={name}"))
        .bearer_auth(key)
        .header("Content-Type", "application/octet-stream")
        .body(body);
    if let Some(k) = idempotency_key {
        req = req.header("Idempotency-Key", k);
    }
    let resp = req.send().await?;
    let status = resp.status();
    let v: Value = resp.json().await.unwrap_or(Value::Null);
    Ok((status, v))
}

/// Which of `processes` reports that it relays events now.
async fn relay_leader(client: &reqwest::Client, processes: &[Served]) -> Option<usize> {
    for (n, p) in processes.iter().enumerate() {
        let Ok(r) = client.get(format!("{}/metrics", p.base)).send().await else {
            continue;
        };
        let text = r.text().await.unwrap_or_default();
        if text.lines().any(|l| l == "docintel_event_relay_leader 1") {
            return Some(n);
        }
    }
    None
}

/// The lease owner prefix a worker process logged at start.
fn lease_prefix(p: &Served) -> String {
    p.startup
        .iter()
        .find_map(|line| {
            line.contains("processing workers started")
                .then(|| {
                    line.split("leases=")
                        .nth(1)?
                        .split_whitespace()
                        .next()
                        .map(str::to_owned)
                })
                .flatten()
        })
        .expect("the worker logs its lease owner")
}

/// Kills `worker` with SIGKILL once it holds a job; the document of that job.
async fn kill_while_processing(t: &Topology, worker: &mut Served) -> String {
    let prefix = lease_prefix(worker);
    let pid = worker.child.id().to_string();
    let signal = |which: &str| {
        let status = std::process::Command::new("kill")
            .args([which, &pid])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {which} {pid}");
    };
    let mut db = t.db().await;
    for _ in 0..2000 {
        // Frozen, the worker can finish nothing: a job it is seen holding now is one it
        // never finishes (a job is done in milliseconds, so without the freeze it could be
        // finished between this look and the kill). What it sent before it froze lands first.
        signal("-STOP");
        tokio::time::sleep(Duration::from_millis(20)).await;
        let held: Option<String> = sqlx::query_scalar(
            "SELECT document_id FROM jobs WHERE state = 'running' \
             AND substr(lease_owner, 1, length($1)) = $1 LIMIT 1",
        )
        .bind(&prefix)
        .fetch_optional(&mut db)
        .await
        .unwrap();
        if let Some(doc) = held {
            kill9(worker);
            return doc;
        }
        signal("-CONT");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("worker {prefix} never took a job");
}

fn kill9(p: &mut Served) {
    p.child.kill().expect("kill -9");
    let _ = p.child.wait();
}

/// A request body from chunks sent on a channel (so the test decides when it stops).
fn tokio_stream(
    mut rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_apis_and_two_workers_survive_kill_9_and_lose_nothing() {
    let t = Topology::start().await;

    // Two API processes start at once on an empty database: one creates the default
    // tenant and shows its key; both register the event schemas without conflict.
    let (api1, api2) = two_at_once(|| t.process("api", &[]));
    let keys: Vec<&String> = [&api1.first_key, &api2.first_key]
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(
        keys.len(),
        1,
        "exactly one process created the default tenant"
    );
    let key = keys[0].clone();
    let (w1, w2) = two_at_once(|| t.worker());
    let mut apis = [api1, api2];
    let mut workers = [w1, w2];

    let client = reqwest::Client::new();
    for p in apis.iter().chain(&workers) {
        let ready: Value = client
            .get(format!("{}/readyz", p.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(ready["status"], "ready", "{}: {ready}", p.base);
    }
    // A worker serves no API.
    let r = client
        .get(format!("{}/v2/documents", workers[0].base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let receiver = WebhookReceiver::start().await;
    let hook_url = receiver.url.clone();
    let r = client
        .post(format!("{}/v2/webhooks", apis[0].base))
        .bearer_auth(&key)
        .json(&json!({"url": hook_url, "event_types": ["doc.processed"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );

    // 150 plain uploads over both API processes, and 50 keys each sent to both at once
    // and then once more.
    let bases: Vec<String> = apis.iter().map(|a| a.base.clone()).collect();
    let mut accepted: HashSet<String> = HashSet::new();
    let mut by_key: HashMap<String, HashSet<String>> = HashMap::new();
    let mut tasks = tokio::task::JoinSet::new();
    let mut interrupted = None;
    let (mut killed, mut killed_at) = (0, None);
    for i in 0..200usize {
        let (c, key) = (client.clone(), key.clone());
        let bases = bases.clone();
        tasks.spawn(async move {
            let client = c;
            let body =
                format!("Meeting notes {i}\nAgenda: quarterly review of item {i}.").into_bytes();
            if i < 150 {
                let (status, v) = upload(
                    &client,
                    &bases[i % 2],
                    &key,
                    &format!("n{i}.txt"),
                    body,
                    None,
                )
                .await
                .expect("upload");
                assert_eq!(status, StatusCode::ACCEPTED, "{v}");
                (None, vec![v["id"].as_str().unwrap().to_owned()])
            } else {
                let ik = format!("chaos-{i}");
                let name = format!("k{i}.txt");
                let (a, b) = tokio::join!(
                    upload(&client, &bases[0], &key, &name, body.clone(), Some(&ik)),
                    upload(&client, &bases[1], &key, &name, body.clone(), Some(&ik)),
                );
                let retried = upload(&client, &bases[i % 2], &key, &name, body, Some(&ik)).await;
                let mut ids = Vec::new();
                for r in [a, b, retried] {
                    let (status, v) = r.expect("upload");
                    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
                    ids.push(v["id"].as_str().unwrap().to_owned());
                }
                (Some(ik), ids)
            }
        });
        // While uploads run: kill -9 the worker that relays events, in the middle of a
        // job.
        if i == 120 {
            let leader = relay_leader(&client, &workers)
                .await
                .expect("a worker leads the relay");
            killed = leader;
            interrupted = Some(kill_while_processing(&t, &mut workers[leader]).await);
            killed_at = Some(std::time::Instant::now());
        }
    }
    while let Some(done) = tasks.join_next().await {
        let (ik, ids) = done.expect("upload task");
        if let Some(ik) = ik {
            by_key.entry(ik).or_default().extend(ids.iter().cloned());
        }
        accepted.extend(ids);
    }
    assert!(
        by_key.values().all(|ids| ids.len() == 1),
        "one document per key"
    );
    assert_eq!(accepted.len(), 200);

    // kill -9 an API process while an upload streams into it: the client sees the
    // connection fail, nothing is accepted, nothing half-written becomes visible.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let streaming = {
        let (client, key, base) = (client.clone(), key.clone(), apis[1].base.clone());
        tokio::spawn(async move {
            client
                .post(format!("{base}/v2/documents?filename=cut.txt"))
                .bearer_auth(&key)
                .header("Content-Type", "application/octet-stream")
                .body(reqwest::Body::wrap_stream(tokio_stream(rx)))
                .send()
                .await
        })
    };
    tx.send(Ok(vec![b'a'; 1 << 20])).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    kill9(&mut apis[1]);
    assert!(
        streaming.await.unwrap().is_err(),
        "a cut upload is not accepted"
    );
    drop(tx);

    // The other worker takes over the relay (its follower retries every second).
    let survivor = 1 - killed;
    loop {
        if relay_leader(&client, &workers[survivor..=survivor])
            .await
            .is_some()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took_over = killed_at.expect("killed").elapsed();
    eprintln!("relay taken over {took_over:?} after its leader was killed");
    assert!(
        took_over < Duration::from_secs(30),
        "takeover took {took_over:?}"
    );

    // Replacements.
    apis[1] = t.process("api", &[]);
    workers[killed] = t.worker();

    // A blob a killed process left without its document (put straight into the bucket,
    // as an upload killed between its blob and its row would): the sweep removes it.
    let orphan = format!(
        "{}/{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let put = client
        .put(format!("{}/{BUCKET}/blobs/{orphan}", t.s3.endpoint()))
        .body("orphan")
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());

    // Everything accepted gets processed.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
    let mut pending: HashSet<String> = accepted.clone();
    while !pending.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} documents never processed, e.g. {:?}",
            pending.len(),
            pending.iter().next()
        );
        let mut done = Vec::new();
        for id in pending.iter().take(50) {
            let v: Value = docintel_testkit::get_json(
                &client,
                &format!("{}/v2/documents/{id}", apis[0].base),
                &key,
            )
            .await;
            match v["status"].as_str() {
                Some("processed") => done.push(id.clone()),
                Some("failed") => panic!("document {id} failed: {v}"),
                _ => {}
            }
        }
        if done.is_empty() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        for id in done {
            pending.remove(&id);
        }
    }

    // The database: exactly the accepted documents, none processed more than twice, the
    // outbox drained (the relay's leader may have been the killed worker).
    let mut db = t.db().await;
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM documents")
        .fetch_all(&mut db)
        .await
        .unwrap();
    assert_eq!(ids.iter().cloned().collect::<HashSet<_>>(), accepted);
    let attempts: Vec<(String, i32)> = sqlx::query_as("SELECT id, attempts FROM documents")
        .fetch_all(&mut db)
        .await
        .unwrap();
    let attempts: HashMap<String, i32> = attempts.into_iter().collect();
    let most = attempts.values().max().copied().unwrap_or_default();
    assert!(most <= 2, "a job ran {most} times");
    let interrupted = interrupted.expect("a worker was killed");
    assert_eq!(
        attempts.get(&interrupted),
        Some(&2),
        "the job the killed worker held ran again, once, elsewhere"
    );
    eprintln!(
        "documents processed twice after kill -9: {}",
        attempts.values().filter(|a| **a == 2).count()
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let unsent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")
            .fetch_one(&mut db)
            .await
            .unwrap();
        if unsent == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{unsent} events never left the outbox"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Kafka, read with a real client: every document's doc.uploaded. A re-send (the
    // relay's leader died between publishing and marking sent) repeats the same event,
    // byte for byte: at least once, never a second event.
    let uploaded = consume(&t.kafka.address(), "doc.uploaded").await;
    let mut per_doc: HashMap<String, HashSet<Vec<u8>>> = HashMap::new();
    for (doc, value) in uploaded {
        per_doc.entry(doc).or_default().insert(value);
    }
    assert_eq!(per_doc.keys().cloned().collect::<HashSet<_>>(), accepted);
    assert!(
        per_doc.values().all(|values| values.len() == 1),
        "one doc.uploaded event per document"
    );

    // Blobs: each document has its own, and after the sweep nothing else is left.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let blobs = loop {
        let blobs = t.blob_keys().await;
        if !blobs.contains(&orphan) {
            break blobs;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the orphan blob was never swept"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let blob_keys: HashSet<String> = sqlx::query_scalar("SELECT blob_key FROM documents")
        .fetch_all(&mut db)
        .await
        .unwrap()
        .into_iter()
        .collect();
    // A small document's bytes are kept in the database instead (`document_bytes`).
    let inline: HashSet<String> = sqlx::query_scalar(
        "SELECT d.blob_key FROM documents d JOIN document_bytes b ON b.document_id = d.id",
    )
    .fetch_all(&mut db)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let missing: Vec<&String> = blob_keys
        .iter()
        .filter(|k| !blobs.contains(*k) && !inline.contains(*k))
        .collect();
    assert!(
        missing.is_empty(),
        "documents without their bytes: {missing:?}"
    );
    let unowned: Vec<&String> = blobs
        .iter()
        .filter(|k| !blob_keys.contains(k.trim_end_matches(".thumb.png")))
        .collect();
    assert!(unowned.is_empty(), "blobs without a document: {unowned:?}");

    // Webhooks: one doc.processed per document reached the receiver; a repeat carries the
    // same Docintel-Event-Id and body.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let got = receiver.all();
        let events: HashMap<&str, HashSet<&str>> =
            got.iter().fold(HashMap::new(), |mut m, (id, body)| {
                m.entry(id.as_str()).or_default().insert(body.as_str());
                m
            });
        if events.len() == accepted.len() {
            assert!(events.values().all(|bodies| bodies.len() == 1));
            let docs: HashSet<String> = got
                .iter()
                .map(|(_, body)| {
                    let v: Value = serde_json::from_str(body).unwrap();
                    v["data"]["id"].as_str().unwrap_or_default().to_owned()
                })
                .collect();
            assert_eq!(docs, accepted, "one delivery per document");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} of {} webhook events received",
            events.len(),
            accepted.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
