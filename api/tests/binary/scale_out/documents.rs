//! Documents kept in each API replica's memory: a change made anywhere (another replica,
//! a worker) is seen everywhere within a bound, never another tenant's document, and a
//! lost listener never lets a change go unseen.

use std::time::Instant;

use docintel_backend::store::DOCUMENT_LISTENER_NAME;

use super::*;
use crate::served::docintel_keys;

/// How long a change may take to reach another replica (measured: a few milliseconds).
const BOUND: Duration = Duration::from_secs(1);

/// The status of `id` on `base` (`None`: 404).
async fn status(client: &reqwest::Client, base: &str, key: &str, id: &str) -> Option<String> {
    let r = client
        .get(format!("{base}/v2/documents/{id}"))
        .bearer_auth(key)
        .send()
        .await
        .expect("GET");
    match r.status() {
        StatusCode::OK => {
            let v: Value = r.json().await.expect("JSON");
            Some(v["status"].as_str().expect("a status").to_owned())
        }
        StatusCode::NOT_FOUND => None,
        other => panic!("GET {id}: {other}"),
    }
}

/// Polls `base` until `id`'s status is `want`, at most `within`; how long it took.
async fn until(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    id: &str,
    want: Option<&str>,
    within: Duration,
) -> Duration {
    let start = Instant::now();
    loop {
        let got = status(client, base, key, id).await;
        if got.as_deref() == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "{id} on {base}: {got:?}, not {want:?} within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until `a` shows `id` as `want` (processing takes seconds); then `b` must within
/// [`BOUND`] (how long it took), and after a 404 (`None`), never the document again.
async fn b_follows_a(
    client: &reqwest::Client,
    (a, b): (&Served, &Served),
    key: &str,
    id: &str,
    want: Option<&str>,
) -> Duration {
    until(client, &a.base, key, id, want, Duration::from_secs(30)).await;
    let took = until(client, &b.base, key, id, want, BOUND).await;
    if want.is_none() {
        for _ in 0..50 {
            assert_eq!(
                status(client, &b.base, key, id).await,
                None,
                "back after a 404"
            );
        }
    }
    took
}

async fn delete(client: &reqwest::Client, base: &str, key: &str, id: &str) {
    let r = client
        .delete(format!("{base}/v2/documents/{id}"))
        .bearer_auth(key)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

async fn upload_one(client: &reqwest::Client, base: &str, key: &str, name: &str) -> String {
    let (code, v) = upload(client, base, key, name, b"a note".to_vec(), None)
        .await
        .expect("upload");
    assert_eq!(code, StatusCode::ACCEPTED, "{v}");
    v["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn api_replicas_never_serve_a_document_changed_elsewhere() {
    let pg = Cluster::start();
    let dirs = tempfile::tempdir().unwrap();
    let blobs = format!("file://{}", dirs.path().join("blobs").display());
    let start = |role: &str| {
        let dir = dirs.path().join(uuid::Uuid::new_v4().simple().to_string());
        let mut args = vec![
            "--role",
            role,
            "--database-url",
            &pg.url,
            "--blob-store",
            &blobs,
        ];
        args.extend(UNLIMITED);
        serve_env(&dir, &args, &[])
    };
    let (a, b) = two_at_once(|| start("api"));
    let key = a
        .first_key
        .clone()
        .or(b.first_key.clone())
        .expect("a first key");
    let other = docintel_keys(&[
        "create",
        "--tenant",
        "other",
        "--database-url",
        &pg.url,
        "--data-dir",
        &dirs.path().join("cli").display().to_string(),
    ]);
    let client = reqwest::Client::new();
    let c = &client;

    // Uploaded on A while no worker runs; read (and kept) on B.
    let id = upload_one(c, &a.base, &key, "a.txt").await;
    for _ in 0..3 {
        assert_eq!(
            status(c, &b.base, &key, &id).await.as_deref(),
            Some("queued")
        );
    }
    for p in [&a, &b] {
        assert_eq!(
            status(c, &p.base, &other, &id).await,
            None,
            "another tenant's"
        );
    }
    // Processed by a worker: B follows A.
    let _worker = start("worker");
    let processing = b_follows_a(c, (&a, &b), &key, &id, Some("processed")).await;
    for p in [&a, &b] {
        assert_eq!(
            status(c, &p.base, &other, &id).await,
            None,
            "another tenant's"
        );
    }
    delete(c, &a.base, &key, &id).await;
    let deleting = b_follows_a(c, (&a, &b), &key, &id, None).await;
    eprintln!("B saw the processing within {processing:?}, the delete within {deleting:?}");

    // The listeners' sessions killed: a change made meanwhile is never served stale, and
    // once they are back, changes are heard again.
    let mut db = sqlx::PgConnection::connect(&pg.url).await.unwrap();
    let id = upload_one(c, &a.base, &key, "b.txt").await;
    b_follows_a(c, (&a, &b), &key, &id, Some("processed")).await;
    let listeners = async |db: &mut sqlx::PgConnection| -> Vec<i32> {
        sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE application_name = $1")
            .bind(DOCUMENT_LISTENER_NAME)
            .fetch_all(db)
            .await
            .unwrap()
    };
    let before = listeners(&mut db).await;
    assert_eq!(before.len(), 2, "one listener per API replica: {before:?}");
    let killed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = $1) t",
    )
    .bind(DOCUMENT_LISTENER_NAME)
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(killed, 2);
    delete(c, &a.base, &key, &id).await;
    b_follows_a(c, (&a, &b), &key, &id, None).await;
    let start_wait = Instant::now();
    loop {
        let now = listeners(&mut db).await;
        if now.len() == 2 && now.iter().all(|p| !before.contains(p)) {
            break;
        }
        assert!(
            start_wait.elapsed() < Duration::from_secs(10),
            "the listeners did not come back: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let id = upload_one(c, &a.base, &key, "c.txt").await;
    b_follows_a(c, (&a, &b), &key, &id, Some("processed")).await;
    delete(c, &a.base, &key, &id).await;
    b_follows_a(c, (&a, &b), &key, &id, None).await;
}
