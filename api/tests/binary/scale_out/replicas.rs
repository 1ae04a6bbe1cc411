//! Scale-out beyond surviving kills: an S3 outage answered 503 and recovered from, the
//! roles that need a shared database, and one request quota across API replicas.

use super::*;

#[tokio::test]
async fn when_s3_is_down_uploads_answer_503_and_recover_when_it_returns() {
    let mut s3 = S3Server::start();
    s3.create_bucket(BUCKET).await;
    let data = tempfile::tempdir().unwrap();
    let env = s3.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let blob_store = format!("s3://{BUCKET}/b");
    let served = serve_env(data.path(), &["--blob-store", &blob_store], &env);
    let key = served.first_key.clone().expect("first key");
    let client = reqwest::Client::new();
    // Past the size kept in the database (64 KiB): these need S3.
    let large = |note: &str| format!("{note} ").repeat(8000).into_bytes();
    let send =
        |name: &'static str, body: Vec<u8>| upload(&client, &served.base, &key, name, body, None);
    let (status, first) = send("a.txt", large("first note")).await.unwrap();
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");

    // A refused upload (not a supported type) leaves no object behind.
    let (status, _) = send("x.bin", vec![0u8, 159, 146, 150, 1, 2]).await.unwrap();
    assert!(status.is_client_error(), "{status}");
    let objects = reqwest::get(format!("{}/{BUCKET}?list-type=2", s3.endpoint()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        objects.matches("<Key>").count(),
        1,
        "only the first document's blob: {objects}"
    );

    s3.stop();
    let resp = client
        .post(format!("{}/v2/documents?filename=b.txt", served.base))
        .bearer_auth(&key)
        .header("Content-Type", "application/octet-stream")
        .body(large("second note"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.headers().get("retry-after").is_some());
    let problem: Value = resp.json().await.unwrap();
    assert_eq!(problem["code"], "unavailable", "{problem}");
    // A small document needs no S3: its bytes go into the database with its row.
    let (status, small) = send("s.txt", b"small note".to_vec()).await.unwrap();
    assert_eq!(status, StatusCode::ACCEPTED, "{small}");
    let small = small["id"].as_str().unwrap();
    let done = docintel_testkit::wait_done_at(&client, &served.base, &key, small, 2000).await;
    assert_eq!(done["status"], "processed", "{done}");
    let listed = list_names(&client, &served.base, &key).await;
    assert_eq!(
        listed,
        ["s.txt", "a.txt"],
        "nothing half-written is visible"
    );
    let ready = client
        .get(format!("{}/readyz", served.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["checks"]["blobs"], false, "{ready}");
    assert_eq!(ready["checks"]["database"], true, "{ready}");

    s3.resume();
    s3.create_bucket(BUCKET).await;
    let (status, v) = send("c.txt", large("third note")).await.unwrap();
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    let id = v["id"].as_str().unwrap();
    let done = docintel_testkit::wait_done_at(&client, &served.base, &key, id, 2000).await;
    assert_eq!(done["status"], "processed", "{done}");
}

async fn list_names(client: &reqwest::Client, base: &str, key: &str) -> Vec<String> {
    let v: Value = docintel_testkit::get_json(client, &format!("{base}/v2/documents"), key).await;
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["filename"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn roles_other_than_all_need_a_shared_database() {
    let data = tempfile::tempdir().unwrap();
    for role in ["worker", "api"] {
        let out = std::process::Command::new(crate::docintel())
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--role",
                role,
                "--data-dir",
            ])
            .arg(data.path())
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("Error")).collect();
        assert_eq!(errors.len(), 1, "{stderr}");
        assert!(errors[0].contains("--database-url"), "{stderr}");
    }
    assert!(
        !Path::new(&data.path().join("docintel.db")).exists(),
        "nothing was created"
    );
}

#[tokio::test]
async fn two_api_replicas_serve_one_quota_between_them() {
    let pg = Cluster::start();
    let dirs = tempfile::tempdir().unwrap();
    let quota = 60;
    let limit = format!("{quota}/3600");
    let (a, b) = two_at_once(|| {
        let dir = dirs.path().join(uuid::Uuid::new_v4().simple().to_string());
        let args = [
            "--role",
            "api",
            "--database-url",
            &pg.url,
            "--rate-limit",
            &limit,
        ];
        serve_env(&dir, &args, &[])
    });
    let key = a
        .first_key
        .clone()
        .or(b.first_key.clone())
        .expect("a first key");
    let client = reqwest::Client::new();
    let (mut served, mut refused) = (0, 0);
    for i in 0..(3 * quota) {
        let base = if i % 3 == 0 { &b.base } else { &a.base };
        let r = client
            .get(format!("{base}/v2/documents"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        match r.status() {
            StatusCode::OK => served += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(r.headers().get("retry-after").is_some());
                refused += 1;
            }
            other => panic!("{other}"),
        }
    }
    // One hour-long window (the test straddles two only at the turn of an hour): at most
    // the quota in all, at least the quota less one unspent slice per other replica.
    let slice = docintel_api::ratelimit::shared::slice_size(quota);
    eprintln!(
        "quota {quota} over two replicas: served {served}, refused {refused} (slice {slice})"
    );
    assert!(served <= quota, "served {served}");
    assert!(served >= quota - slice, "served {served}");
    assert_eq!(served + refused, 3 * quota);
}
