//! An acknowledged upload survives power loss, not only the process dying. The server
//! runs on an ext4 filesystem on a loop device; right after the `202` the server is
//! frozen (SIGSTOP) and the loop device's backing file is copied. The copy holds what
//! reached the "disk", and nothing that was still in the filesystem's page cache: the
//! state a power cut at that instant would leave. The copy is mounted (the journal
//! replays) and read.
//!
//! Needs root, `losetup`, `mkfs.ext4` and `mount` (./test runs as root here); without
//! them the test fails with the reason. `DOCINTEL_SKIP_POWER_CUT=1` skips it, saying so.

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::StatusCode;
use serde_json::Value;

use crate::served::serve_env;

/// Runs a command that must succeed; its stdout.
fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program}: {e} (the power-cut test needs root and util-linux)")
        });
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// An ext4 filesystem on a loop device over `image`, mounted at `at`; unmounted and
/// detached on drop.
struct Disk {
    device: String,
    at: PathBuf,
}

impl Disk {
    fn create(image: &Path, at: &Path) -> Self {
        let file = std::fs::File::create(image).unwrap();
        file.set_len(128 << 20).unwrap();
        let device = run("losetup", &["-f", "--show", image.to_str().unwrap()]);
        run("mkfs.ext4", &["-q", &device]);
        Self::mount(device, at)
    }

    fn attach(image: &Path, at: &Path) -> Self {
        let device = run("losetup", &["-f", "--show", image.to_str().unwrap()]);
        Self::mount(device, at)
    }

    fn mount(device: String, at: &Path) -> Self {
        std::fs::create_dir_all(at).unwrap();
        // A long journal commit interval: nothing reaches the disk unless it is flushed.
        run("mount", &["-o", "commit=60", &device, at.to_str().unwrap()]);
        Self {
            device,
            at: at.to_owned(),
        }
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.at).status();
        let _ = Command::new("losetup").args(["-d", &self.device]).status();
    }
}

/// Uploads `body` under `durability`, cuts the power right after the `202`, and says what
/// the disk kept: whether the document's row is there, whether its bytes are (in the
/// database for a small document, else in its blob file), and the database's integrity
/// check.
async fn cut_after_202(durability: &str, body: &'static [u8]) -> (bool, bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");
    let disk = Disk::create(&image, &dir.path().join("mnt"));
    let data = disk.at.join("data");
    let mut served = serve_env(&data, &["--sqlite-durability", durability], &[]);
    let key = served.first_key.clone().expect("first key");
    // Everything before the upload is on disk: only the upload is in question.
    run("sync", &[]);
    let resp = reqwest::Client::new()
        .post(format!("{}/v2/documents?filename=note.txt", served.base))
        .bearer_auth(&key)
        .header("Content-Type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap();
    // The power cut: freeze the server, then take what the device holds.
    run("kill", &["-STOP", &served.child.id().to_string()]);
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let doc: Value = resp.json().await.unwrap();
    let id = doc["id"].as_str().unwrap().to_owned();
    let snapshot = dir.path().join("after-cut.img");
    std::fs::copy(&image, &snapshot).unwrap();
    let _ = served.child.kill();
    let _ = served.child.wait();
    drop(disk);

    let after = Disk::attach(&snapshot, &dir.path().join("after"));
    let db = rusqlite::Connection::open(after.at.join("data/docintel.db")).unwrap();
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    let row: Option<String> = db
        .query_row("SELECT blob_key FROM documents WHERE id = ?1", [&id], |r| {
            r.get(0)
        })
        .ok();
    let inline: Option<Vec<u8>> = db
        .query_row(
            "SELECT bytes FROM document_bytes WHERE document_id = ?1",
            [&id],
            |r| r.get(0),
        )
        .ok();
    let bytes = inline.or_else(|| {
        row.as_ref()
            .and_then(|key| std::fs::read(after.at.join("data/blobs").join(key)).ok())
    });
    (row.is_some(), bytes.as_deref() == Some(body), integrity)
}

/// Text past the size up to which documents are kept in the database (64 KiB).
static LARGE_NOTE: std::sync::LazyLock<Vec<u8>> =
    std::sync::LazyLock::new(|| "an acknowledged long note ".repeat(4000).into_bytes());

#[tokio::test]
async fn an_acknowledged_upload_survives_a_power_cut() {
    if std::env::var_os("DOCINTEL_SKIP_POWER_CUT").is_some() {
        eprintln!("SKIPPED: DOCINTEL_SKIP_POWER_CUT is set");
        return;
    }
    // A small document's bytes are written with its row; a larger one's to a file.
    for body in [b"an acknowledged note".as_slice(), LARGE_NOTE.as_slice()] {
        let (row, bytes, integrity) = cut_after_202("full", body).await;
        assert_eq!(integrity, "ok");
        assert!(row, "the acknowledged document's row was lost");
        assert!(
            bytes,
            "the acknowledged document's bytes were lost ({} bytes)",
            body.len()
        );
    }

    // The same cut under `normal` loses the row (and the bytes kept with it): the test
    // sees the difference the setting makes.
    let (row, bytes, integrity) = cut_after_202("normal", b"an acknowledged note").await;
    assert!(!bytes, "the bytes outlived their row");
    assert_eq!(integrity, "ok", "normal loses commits, never consistency");
    assert!(
        !row,
        "under normal the row was on disk already: the cut proves nothing"
    );
}

/// A tmpfs of `size` mounted at `at`, unmounted on drop.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(at: &Path, size: &str) -> Self {
        std::fs::create_dir_all(at).unwrap();
        run(
            "mount",
            &[
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "tmpfs",
                at.to_str().unwrap(),
            ],
        );
        Self(at.to_owned())
    }

    fn resize(&self, size: &str) {
        run(
            "mount",
            &[
                "-o",
                &format!("remount,size={size}"),
                self.0.to_str().unwrap(),
            ],
        );
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[tokio::test]
async fn a_full_disk_refuses_uploads_cleanly_and_recovers_when_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let disk = SmallDisk::mount(&dir.path().join("small"), "8m");
    let data = disk.0.join("data");
    let served = serve_env(&data, &["--job-lease-secs", "2"], &[]);
    let key = served.first_key.clone().expect("first key");
    let client = reqwest::Client::new();
    let upload = |name: String| {
        let (client, key, base) = (client.clone(), key.clone(), served.base.clone());
        async move {
            let body = format!("{name}\n").repeat(64 * 1024 / (name.len() + 1) * 8);
            client
                .post(format!("{base}/v2/documents?filename={name}"))
                .bearer_auth(&key)
                .header("Content-Type", "application/octet-stream")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let mut accepted = Vec::new();
    let mut refusal = None;
    for i in 0..64 {
        let r = upload(format!("n{i}.txt")).await;
        if r.status() == StatusCode::ACCEPTED {
            let v: Value = r.json().await.unwrap();
            accepted.push(v["id"].as_str().unwrap().to_owned());
            continue;
        }
        refusal = Some(r);
        break;
    }
    let refusal = refusal.expect("an 8 MiB disk filled up");
    assert!(
        [
            StatusCode::INSUFFICIENT_STORAGE,
            StatusCode::SERVICE_UNAVAILABLE
        ]
        .contains(&refusal.status()),
        "{}",
        refusal.status()
    );
    assert!(refusal.headers().get("retry-after").is_some());
    assert_eq!(
        refusal.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = refusal.json().await.unwrap();
    eprintln!("{} accepted, then: {problem}", accepted.len());
    assert!(!accepted.is_empty());

    // Space returns: uploads are accepted again, and everything accepted is processed.
    disk.resize("256m");
    let r = upload("after.txt".to_owned()).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let v: Value = r.json().await.unwrap();
    accepted.push(v["id"].as_str().unwrap().to_owned());
    for id in &accepted {
        // Up to a minute each (this runs beside the chaos tests on 2 cores); if one never
        // finishes, the server's warnings say why.
        let done = match docintel_testkit::poll_done(&client, &served.base, &key, id, 6000).await {
            Ok(v) | Err(v) => v,
        };
        if done["status"] != "processed" {
            let logs: Vec<String> = served
                .logs
                .try_iter()
                .filter(|l| l.contains("WARN") || l.contains("ERROR"))
                .collect();
            panic!("{done}\nserver warnings:\n{}", logs.join("\n"));
        }
    }
    // Nothing half-written is visible: the listing is exactly what was accepted, and the
    // database is whole.
    let list: Value = docintel_testkit::get_json(
        &client,
        &format!("{}/v2/documents?limit=100", served.base),
        &key,
    )
    .await;
    let mut listed: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    accepted.sort();
    assert_eq!(listed, accepted);
    let db = rusqlite::Connection::open(data.join("docintel.db")).unwrap();
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
}
