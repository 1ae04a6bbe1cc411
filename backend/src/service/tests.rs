//! The backend's operations together: jobs, leases, the outbox, tenants' isolation.

use std::time::Duration;

use time::OffsetDateTime;

use crate::model::{Document, DocumentId, DocumentStatus, ListFilter, TenantId};
use crate::{Backend, Config, INTERRUPTED_IN_PROCESS, WorkerConfig, pipeline, store};

async fn backend(dir: &std::path::Path, lease: Duration) -> Backend {
    let mut config = Config::new(dir);
    // These tests are about the queue; the parser process is tested through the
    // binary (api/tests/binary/hostile.rs).
    config.isolation = pipeline::Isolation::InProcess;
    config.workers = WorkerConfig {
        workers: 1,
        lease,
        poll: Duration::from_millis(20),
        max_attempts: 5,
    };
    Backend::open(config).await.unwrap()
}

async fn upload_text(b: &Backend, tenant: TenantId, text: &str) -> Document {
    let mut up = b.begin_upload().await.unwrap();
    up.write(text.as_bytes()).await.unwrap();
    b.submit(tenant, "note.txt", None, up).await.unwrap()
}

async fn wait_for(b: &Backend, tenant: TenantId, id: DocumentId) -> Document {
    for _ in 0..500 {
        let d = b.document(tenant, id).await.unwrap().unwrap();
        if matches!(d.status, DocumentStatus::Processed | DocumentStatus::Failed) {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("document {id} never finished");
}

async fn tenant(b: &Backend) -> TenantId {
    tenant_named(b, "t").await
}

async fn tenant_named(b: &Backend, name: &str) -> TenantId {
    let key = b.create_key(name).await.unwrap();
    b.authenticate(&key).await.unwrap().unwrap().id
}

#[tokio::test]
async fn the_outbox_holds_each_change_until_sent_and_forgets_old_sent_events() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path(), Duration::from_secs(30)).await;
    let t = tenant(&b).await;
    // No relay runs here: the events stay in the outbox.
    let doc = upload_text(&b, t, "hello world").await;
    let _workers = b.start_workers().await.unwrap();
    wait_for(&b, t, doc.id).await;
    assert!(b.delete(t, doc.id).await.unwrap());
    let pending = b.store().pending_events(100).await.unwrap();
    let topics: Vec<&str> = pending.iter().map(|r| r.topic.as_str()).collect();
    assert_eq!(topics.first(), Some(&"doc.uploaded"));
    assert_eq!(topics.last(), Some(&"doc.deleted"));
    assert!(topics.contains(&"doc.processed"));
    assert_eq!(b.outbox_lag().await.unwrap().0, pending.len() as u64);

    // Marking the first two leaves the rest pending, in order.
    b.store()
        .mark_sent(&[pending[0].seq, pending[1].seq], OffsetDateTime::now_utc())
        .await
        .unwrap();
    let rest = b.store().pending_events(100).await.unwrap();
    assert_eq!(rest, pending[2..].to_vec());

    // Sent events are purged only once older than the cut-off; unsent ones never.
    let store = b.store();
    assert_eq!(
        store
            .purge_sent(OffsetDateTime::now_utc() - Duration::from_secs(60))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .purge_sent(OffsetDateTime::now_utc() + Duration::from_secs(60))
            .await
            .unwrap(),
        2
    );
    assert_eq!(b.store().pending_events(100).await.unwrap(), rest);
}

/// Reads are served from the store's document cache once seen; every kind of write
/// must show in the next read (claim, completion, thumbnail, deletion), and another
/// tenant never gets a cached document.
#[tokio::test]
async fn every_write_shows_in_the_next_read_of_a_cached_document() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path(), Duration::from_secs(30)).await;
    let t = tenant(&b).await;
    let other = tenant_named(&b, "other").await;
    let doc = upload_text(&b, t, "hello world").await;
    let read = || async { b.document(t, doc.id).await.unwrap() };
    for _ in 0..2 {
        assert_eq!(read().await.unwrap().status, DocumentStatus::Queued);
        assert!(b.document(other, doc.id).await.unwrap().is_none());
    }

    let job = b
        .store()
        .claim_job("w", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read().await.unwrap().status, DocumentStatus::Processing);

    let failed = store::JobResult::Failed {
        reason: "broken".into(),
        code: None,
    };
    assert!(
        b.store()
            .complete_job(&job, "w", &failed, &[], OffsetDateTime::now_utc())
            .await
            .unwrap()
    );
    let d = read().await.unwrap();
    assert_eq!(d.status, DocumentStatus::Failed);
    assert_eq!(d.failure.as_deref(), Some("broken"));

    assert!(
        b.store()
            .set_thumbnail(t, doc.id, "thumbs/x.png")
            .await
            .unwrap()
    );
    assert_eq!(
        read().await.unwrap().thumbnail_key.as_deref(),
        Some("thumbs/x.png")
    );
    assert!(b.document(other, doc.id).await.unwrap().is_none());

    assert!(b.delete(t, doc.id).await.unwrap());
    assert!(read().await.is_none());
}

#[tokio::test]
async fn a_job_whose_worker_died_is_resumed_after_its_lease_expires() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path(), Duration::from_millis(300)).await;
    let t = tenant(&b).await;
    let doc = upload_text(&b, t, "hello world").await;

    // A worker claims the job and dies without finishing or renewing its lease.
    let claimed = b
        .store()
        .claim_job("dead-worker", Duration::from_millis(300))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.document_id, doc.id);
    assert_eq!(
        b.document(t, doc.id).await.unwrap().unwrap().status,
        DocumentStatus::Processing
    );

    let _pool = b.start_workers_keeping_leases().await.unwrap();
    let done = wait_for(&b, t, doc.id).await;
    assert_eq!(done.status, DocumentStatus::Processed);
    assert_eq!(
        b.text(t, doc.id).await.unwrap().as_deref(),
        Some("hello world")
    );
    // The dead worker's late result is refused: it no longer holds the lease.
    let late = store::JobResult::Failed {
        reason: "late".into(),
        code: None,
    };
    assert!(
        !b.store()
            .complete_job(
                &claimed,
                "dead-worker",
                &late,
                &[],
                OffsetDateTime::now_utc()
            )
            .await
            .unwrap()
    );
    assert_eq!(b.queue_depth().await.unwrap(), 0);
}

/// Idle workers do not each poll the store: one does, once a poll. It still finds what
/// no wake-up announces (a lease that ran out), and work that arrives still gets many
/// workers.
#[tokio::test]
async fn idle_workers_poll_the_store_one_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path());
    config.isolation = pipeline::Isolation::InProcess;
    let lease = Duration::from_millis(300);
    config.workers = WorkerConfig {
        workers: 8,
        lease,
        poll: Duration::from_millis(20),
        max_attempts: 5,
    };
    let b = Backend::open(config).await.unwrap();
    let t = tenant(&b).await;
    // A job whose worker died before these started: nothing announces that its lease
    // runs out (a third of the way into the idle second below); the poll finds it.
    let dead = upload_text(&b, t, "dead worker's").await;
    let claimed = b.store().claim_job("dead-worker", lease).await.unwrap();
    assert_eq!(claimed.map(|c| c.document_id), Some(dead.id));
    let _workers = b.start_workers_keeping_leases().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = b.job_claims();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = b.job_claims() - before;
    // A poll every 20 ms is at most 50 claims in the second, and a few for the job found;
    // 8 workers polling each would make about 400.
    assert!((1..=75).contains(&idle), "{idle} claims in a second idle");
    assert_eq!(
        wait_for(&b, t, dead.id).await.status,
        DocumentStatus::Processed
    );

    // Many documents at once are all processed.
    let mut docs = Vec::new();
    for i in 0..20 {
        docs.push(upload_text(&b, t, &format!("note {i}")).await);
    }
    for d in docs {
        assert_eq!(
            wait_for(&b, t, d.id).await.status,
            DocumentStatus::Processed
        );
    }
}

/// A job claimed ahead for a worker that comes later is worked only while its lease
/// holds: one that waited long is renewed first, and dropped if another worker took it
/// after its lease ran out.
#[tokio::test]
async fn a_job_claimed_ahead_is_worked_only_while_its_lease_holds() {
    use crate::jobs::still_held;
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path(), Duration::from_secs(3600)).await;
    let t = tenant(&b).await;
    upload_text(&b, t, "first").await;
    upload_text(&b, t, "second").await;
    let store = b.store();
    let short = Duration::from_millis(200);
    let long_ago = tokio::time::Instant::now()
        .checked_sub(Duration::from_secs(30))
        .unwrap();
    let mut ahead = store.claim_jobs("a-0", short, 2).await.unwrap();
    let second = ahead.pop().unwrap();
    let first = ahead.pop().unwrap();
    tokio::time::sleep(short * 2).await;
    // Both leases ran out; another worker takes the first job.
    let taken = store.claim_jobs("b-0", short, 1).await.unwrap();
    assert_eq!(taken[0].job_id, first.job_id);
    let lease = Duration::from_secs(60);
    assert!(
        still_held(&**store, lease, ("a-0".into(), first, long_ago))
            .await
            .is_none(),
        "a job another worker took is not worked again"
    );
    // Nobody took the second: it is renewed, so no other worker takes it now (the first
    // one's lease has run out again, and it is taken).
    let second_id = second.job_id;
    let kept = still_held(&**store, lease, ("a-0".into(), second, long_ago)).await;
    assert_eq!(
        kept.map(|(owner, _)| owner.to_string()).as_deref(),
        Some("a-0")
    );
    tokio::time::sleep(short * 2).await;
    let later: Vec<i64> = store
        .claim_jobs("c-0", short, 2)
        .await
        .unwrap()
        .iter()
        .map(|j| j.job_id)
        .collect();
    assert_eq!(later, [taken[0].job_id], "the renewed lease holds");
    assert_ne!(later[0], second_id);
}

/// Parsed in-process, a job that was running when the process died may be what
/// killed it: the next start fails it instead of running it again. (Parsed in a child
/// process, such a job resumes: api/tests/binary/cli.rs kills the real binary mid-job.)
#[tokio::test]
async fn in_process_a_job_interrupted_by_a_stop_is_failed_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let id;
    let t;
    {
        let b = backend(dir.path(), Duration::from_secs(3600)).await;
        t = tenant(&b).await;
        id = upload_text(&b, t, "survives a crash").await.id;
        b.store()
            .claim_job("killed-process", Duration::from_secs(3600))
            .await
            .unwrap()
            .unwrap();
    }
    // A new process on the same data folder; the lease would hold for an hour.
    let b = backend(dir.path(), Duration::from_secs(3600)).await;
    let _pool = b.start_workers().await.unwrap();
    let done = wait_for(&b, t, id).await;
    assert_eq!(done.status, DocumentStatus::Failed);
    assert_eq!(done.failure.as_deref(), Some(INTERRUPTED_IN_PROCESS));
    assert_eq!(b.queue_depth().await.unwrap(), 0);
    // Its owner hears of it like of any failure.
    let events = b.store().pending_events(100).await.unwrap();
    assert!(events.iter().any(|e| e.topic == "doc.failed"), "{events:?}");
}

#[tokio::test]
async fn a_job_that_keeps_dying_is_failed_not_retried_forever() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path(), Duration::from_secs(3600)).await;
    let t = tenant(&b).await;
    let id = upload_text(&b, t, "poison").await.id;
    for _ in 0..5 {
        b.store()
            .claim_job("crashing", Duration::from_secs(3600))
            .await
            .unwrap()
            .unwrap();
        b.store().release_all_leases().await.unwrap();
    }
    let _pool = b.start_workers().await.unwrap();
    let done = wait_for(&b, t, id).await;
    assert_eq!(done.status, DocumentStatus::Failed);
    assert!(done.failure.unwrap().contains("interrupted 5 times"));
}

#[tokio::test]
async fn tenants_are_isolated_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path(), Duration::from_secs(60)).await;
    let a = tenant(&b).await;
    let key = b.create_key("other").await.unwrap();
    let other = b.authenticate(&key).await.unwrap().unwrap().id;
    let doc = upload_text(&b, a, "mine").await;
    assert!(b.document(other, doc.id).await.unwrap().is_none());
    assert!(!b.delete(other, doc.id).await.unwrap());
    let page = b
        .list(other, &ListFilter::default(), None, 10)
        .await
        .unwrap();
    assert!(page.items.is_empty());
    assert!(b.document(a, doc.id).await.unwrap().is_some());
}

#[tokio::test]
async fn a_page_of_text_prefixes_is_read_for_its_tenant_only() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path(), Duration::from_secs(30)).await;
    let (t, other) = (tenant(&b).await, tenant_named(&b, "other").await);
    let short = upload_text(&b, t, "short note").await;
    let long = upload_text(&b, t, &"word ".repeat(100)).await;
    let theirs = upload_text(&b, other, "someone else's").await;
    let _workers = b.start_workers().await.unwrap();
    for (tenant, id) in [(t, short.id), (t, long.id), (other, theirs.id)] {
        assert_eq!(
            wait_for(&b, tenant, id).await.status,
            DocumentStatus::Processed
        );
    }
    let unknown = uuid::Uuid::now_v7();
    let got = b
        .text_prefixes(t, &[short.id, long.id, theirs.id, unknown], 20)
        .await
        .unwrap();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[&short.id], ("short note".to_owned(), false));
    assert_eq!(got[&long.id], ("word ".repeat(4), true));
    assert!(!got.contains_key(&theirs.id), "another tenant's text");
    assert!(b.text_prefixes(t, &[], 20).await.unwrap().is_empty());
}

/// A stand-in for pdftoppm: logs `start`/`end` around `body` to `<dir>/renders.log`, so
/// that tests count renders and see their overlap. The page goes to its stdout.
fn fake_pdftoppm(dir: &std::path::Path, body: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("pdftoppm.sh");
    let log = dir.join("renders.log");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\necho start >> {log}\n{body}\nstatus=$?\necho end >> {log}\nexit $status\n",
            log = log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The render log's lines.
fn renders(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("renders.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Most renders that ran at once, from the log's `start`/`end` order.
fn most_at_once(log: &[String]) -> usize {
    let (mut now, mut most) = (0usize, 0);
    for line in log {
        if line == "start" {
            now += 1;
            most = most.max(now);
        } else {
            now = now.saturating_sub(1);
        }
    }
    most
}

/// A backend whose pdftoppm is `pdftoppm`, with one worker (so one render at a time).
async fn rendering_backend(dir: &std::path::Path, pdftoppm: std::path::PathBuf) -> Backend {
    let mut config = Config::new(dir.join("data"));
    config.isolation = pipeline::Isolation::InProcess;
    config.tools = Some(pipeline::Tools {
        tesseract: None,
        pdftoppm: Some(pdftoppm),
        ocr_library: false,
    });
    config.workers = WorkerConfig {
        workers: 1,
        lease: Duration::from_secs(30),
        poll: Duration::from_millis(20),
        max_attempts: 5,
    };
    Backend::open(config).await.unwrap()
}

/// Uploads `n` PDFs with a text layer that only pdftoppm renders (hayro refuses them),
/// and waits until they are processed.
async fn processed_pdfs(b: &Backend, t: TenantId, n: usize) -> Vec<Document> {
    let pdf = pipeline::render::tests::refused_by_hayro();
    let mut docs = Vec::new();
    for _ in 0..n {
        let mut up = b.begin_upload().await.unwrap();
        up.write(&pdf).await.unwrap();
        docs.push(b.submit(t, "a.pdf", None, up).await.unwrap());
    }
    let _workers = b.start_workers().await.unwrap();
    let mut done = Vec::new();
    for doc in docs {
        let doc = wait_for(b, t, doc.id).await;
        assert_eq!(doc.status, DocumentStatus::Processed, "{:?}", doc.failure);
        done.push(doc);
    }
    done
}

#[tokio::test]
async fn without_pdftoppm_a_pdf_thumbnail_is_drawn_in_process_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path().join("data"));
    config.isolation = pipeline::Isolation::InProcess;
    config.tools = Some(pipeline::Tools::none());
    let b = Backend::open(config).await.unwrap();
    let t = tenant(&b).await;
    let mut up = b.begin_upload().await.unwrap();
    up.write(include_bytes!("../pipeline/warmup.pdf"))
        .await
        .unwrap();
    let doc = b.submit(t, "a.pdf", None, up).await.unwrap();
    let _workers = b.start_workers().await.unwrap();
    let doc = wait_for(&b, t, doc.id).await;
    assert_eq!(doc.status, DocumentStatus::Processed, "{:?}", doc.failure);
    assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
    let crate::Thumbnail::Png(png) = b.thumbnail(&doc).await.unwrap() else {
        panic!("no thumbnail");
    };
    let img = image::load_from_memory(&png).unwrap();
    assert_eq!((img.width(), img.height()), (198, 256));
    let kept = b.document(t, doc.id).await.unwrap().unwrap();
    assert!(kept.thumbnail_key.is_some() && kept.thumbnail_failure.is_none());
}

#[tokio::test]
async fn a_failed_thumbnail_render_is_remembered_and_not_tried_again() {
    let dir = tempfile::tempdir().unwrap();
    let tool = fake_pdftoppm(dir.path(), "echo 'Syntax Error: broken page' >&2; false");
    let (t, id) = {
        let b = rendering_backend(dir.path(), tool.clone()).await;
        let t = tenant(&b).await;
        let doc = processed_pdfs(&b, t, 1).await.remove(0);
        assert!(renders(dir.path()).is_empty(), "processing renders nothing");
        let first = b.thumbnail(&doc).await.unwrap();
        assert_eq!(
            first,
            crate::Thumbnail::Failed(
                "PDF rendering (hayro) refused it: an image would decode to more than the \
                 256 MiB limit; PDF rendering (pdftoppm) failed: Syntax Error: broken page"
                    .into()
            )
        );
        assert_eq!(renders(dir.path()).len(), 2, "one render: start and end");
        // The document says so, and asking again (with the document as read now, or as
        // read before the failure) answers the same without rendering.
        let now = b.document(t, doc.id).await.unwrap().unwrap();
        assert!(now.thumbnail_failure.is_some());
        assert_eq!(
            now.warnings,
            vec![pipeline::THUMBNAIL_UNAVAILABLE.to_owned()]
        );
        assert_eq!(b.thumbnail(&now).await.unwrap(), first);
        assert_eq!(b.thumbnail(&doc).await.unwrap(), first);
        assert_eq!(b.0.thumbnails.started(), 1);
        (t, doc.id)
    };
    // Kept in the store: a restarted server does not render it either.
    let b = rendering_backend(dir.path(), tool).await;
    let doc = b.document(t, id).await.unwrap().unwrap();
    assert!(matches!(
        b.thumbnail(&doc).await.unwrap(),
        crate::Thumbnail::Failed(_)
    ));
    assert_eq!(renders(dir.path()).len(), 2);
    assert_eq!(b.0.thumbnails.started(), 0);
}

#[tokio::test]
async fn concurrent_requests_render_a_thumbnail_once_then_it_is_served_from_storage() {
    let dir = tempfile::tempdir().unwrap();
    let mut png = Vec::new();
    image::DynamicImage::new_rgb8(256, 200)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let page = dir.path().join("page.png");
    std::fs::write(&page, &png).unwrap();
    // Slow enough that the requests below overlap it.
    let tool = fake_pdftoppm(dir.path(), &format!("sleep 0.3; cat {}", page.display()));
    let b = rendering_backend(dir.path(), tool).await;
    let t = tenant(&b).await;
    let doc = processed_pdfs(&b, t, 1).await.remove(0);
    let asks: Vec<_> = (0..8)
        .map(|_| {
            let (b, doc) = (b.clone(), doc.clone());
            tokio::spawn(async move { b.thumbnail(&doc).await.unwrap() })
        })
        .collect();
    for ask in asks {
        assert_eq!(ask.await.unwrap(), crate::Thumbnail::Png(png.clone()));
    }
    assert_eq!(renders(dir.path()).len(), 2, "rendered once");
    let stored = b.document(t, doc.id).await.unwrap().unwrap();
    let key = stored.thumbnail_key.clone().expect("kept");
    assert_eq!(b.blobs().read(&key).await.unwrap(), png);
    // From storage: the blob is what is served, not a new render.
    b.blobs().put(&key, b"kept bytes").await.unwrap();
    assert_eq!(
        b.thumbnail(&stored).await.unwrap(),
        crate::Thumbnail::Png(b"kept bytes".to_vec())
    );
    assert_eq!(renders(dir.path()).len(), 2);
    assert_eq!(b.0.thumbnails.started(), 1);
}

#[tokio::test]
async fn renders_of_different_documents_wait_for_a_free_slot() {
    let dir = tempfile::tempdir().unwrap();
    let tool = fake_pdftoppm(dir.path(), "sleep 0.2; false");
    let b = rendering_backend(dir.path(), tool).await;
    let t = tenant(&b).await;
    let docs = processed_pdfs(&b, t, 3).await;
    let asks: Vec<_> = docs
        .into_iter()
        .map(|doc| {
            let b = b.clone();
            tokio::spawn(async move { b.thumbnail(&doc).await.unwrap() })
        })
        .collect();
    for ask in asks {
        assert!(matches!(ask.await.unwrap(), crate::Thumbnail::Failed(_)));
    }
    let log = renders(dir.path());
    assert_eq!(log.len(), 6, "each document rendered once: {log:?}");
    // One worker: one render slot.
    assert_eq!(most_at_once(&log), 1, "{log:?}");
}

/// Every file under `dir` (staging files included).
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                folders.push(entry.path());
            } else {
                found.push(entry.path());
            }
        }
    }
    found
}

/// `len` bytes of words.
fn words(len: usize) -> String {
    "invoice total due ".repeat(len / 18 + 1)[..len].to_owned()
}

fn document_bytes_rows(dir: &std::path::Path) -> i64 {
    rusqlite::Connection::open(dir.join("docintel.db"))
        .unwrap()
        .query_row("SELECT COUNT(*) FROM document_bytes", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn a_small_upload_is_kept_with_its_row_and_a_larger_one_in_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path(), Duration::from_secs(30)).await;
    let t = tenant(&b).await;
    let blobs = dir.path().join("blobs");
    let max = crate::blobs::DEFAULT_INLINE_MAX_BYTES as usize;

    // Exactly at the limit: no file is made, not even a staging one.
    let small = upload_text(&b, t, &words(max)).await;
    assert_eq!(files_under(&blobs), Vec::<std::path::PathBuf>::new());
    let small_key = super::documents::blob_key(t, small.id);
    assert_eq!(
        b.store().inline_blob(&small_key).await.unwrap(),
        Some(words(max).into_bytes())
    );
    assert!(b.0.blobs.exists(&small_key).await.unwrap());

    // One byte more: a file of its own, and nothing in the database.
    let large = upload_text(&b, t, &words(max + 1)).await;
    let large_key = super::documents::blob_key(t, large.id);
    assert_eq!(files_under(&blobs), [blobs.join(&large_key)]);
    assert_eq!(b.store().inline_blob(&large_key).await.unwrap(), None);
    assert_eq!(document_bytes_rows(dir.path()), 1);

    // The workers read both.
    let _workers = b.start_workers().await.unwrap();
    for doc in [&small, &large] {
        let done = wait_for(&b, t, doc.id).await;
        assert_eq!(done.status, DocumentStatus::Processed, "{done:?}");
        let text = b.text(t, doc.id).await.unwrap().unwrap();
        assert!(text.starts_with("invoice total due"), "{text:.40}");
    }

    // Deleted with their documents.
    assert!(b.delete(t, small.id).await.unwrap());
    assert!(b.delete(t, large.id).await.unwrap());
    assert_eq!(document_bytes_rows(dir.path()), 0);
    assert_eq!(files_under(&blobs), Vec::<std::path::PathBuf>::new());
    assert!(!b.0.blobs.exists(&small_key).await.unwrap());
}

#[tokio::test]
async fn bytes_kept_inline_survive_a_crash_and_are_read_with_inline_storage_off() {
    let dir = tempfile::tempdir().unwrap();
    let (kept, t) = {
        let b = backend(dir.path(), Duration::from_secs(30)).await;
        let t = tenant(&b).await;
        let doc = upload_text(&b, t, "kept with its row").await;
        // Acknowledged as the façade does, then the process is gone without closing.
        b.make_durable().await.unwrap();
        std::mem::forget(b);
        (doc, t)
    };
    let mut config = Config::new(dir.path());
    config.isolation = pipeline::Isolation::InProcess;
    config.inline_max_bytes = 0;
    let b = Backend::open(config).await.unwrap();
    let blobs = dir.path().join("blobs");
    assert_eq!(files_under(&blobs), Vec::<std::path::PathBuf>::new());

    // Off: a small upload gets a file.
    let filed = upload_text(&b, t, "a file of its own").await;
    assert_eq!(
        files_under(&blobs),
        [blobs.join(super::documents::blob_key(t, filed.id))]
    );
    assert_eq!(document_bytes_rows(dir.path()), 1);

    // The bytes kept before are still read, and processed.
    let _workers = b.start_workers().await.unwrap();
    for (doc, text) in [(&kept, "kept with its row"), (&filed, "a file of its own")] {
        assert_eq!(
            wait_for(&b, t, doc.id).await.status,
            DocumentStatus::Processed
        );
        assert_eq!(b.text(t, doc.id).await.unwrap().unwrap().trim(), text);
    }
}

/// The webhook sender is woken by results, whose events subscriptions may want, not by
/// uploads or deletes, whose events no webhook takes (it would look for deliveries after
/// every one).
#[tokio::test]
async fn uploads_and_deletes_wake_no_webhook_sender_and_results_do() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path(), Duration::from_secs(30)).await;
    let t = tenant(&b).await;
    let deliveries = b.wakes().deliveries.notified();
    tokio::pin!(deliveries);
    deliveries.as_mut().enable();
    let gone = upload_text(&b, t, "deleted before it is read").await;
    assert!(b.delete(t, gone.id).await.unwrap());
    let doc = upload_text(&b, t, "processed").await;
    assert!(
        futures_util::FutureExt::now_or_never(deliveries.as_mut()).is_none(),
        "an upload or a delete woke the webhook sender"
    );
    let _workers = b.start_workers().await.unwrap();
    assert_eq!(
        wait_for(&b, t, doc.id).await.status,
        DocumentStatus::Processed
    );
    tokio::time::timeout(Duration::from_secs(10), deliveries)
        .await
        .expect("a result woke the webhook sender");
}
