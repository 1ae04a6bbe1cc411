//! Documents: tenant scoping, thumbnail failures, keyset pages, idempotency keys.

use super::*;

pub async fn every_query_is_scoped_to_its_tenant<F: Factory>() {
    let (_db, stores) = F::open(1).await;
    let s = &*stores[0];
    let (mine, theirs) = (tenant(s, "mine").await, tenant(s, "theirs").await);
    let id = upload(s, mine, "secret.txt").await;
    process_next(s, "the secret text").await;
    let hook = subscribe(s, mine, &["doc.processed"]).await;
    let now = OffsetDateTime::now_utc();

    // Seen by its tenant…
    assert!(s.get_document(mine, id).await.unwrap().is_some());
    assert_eq!(s.list_documents_offset(mine, 0, 10).await.unwrap().1, 1);
    // …and by no other.
    assert!(s.get_document(theirs, id).await.unwrap().is_none());
    let page = s
        .list_documents(theirs, &ListFilter::default(), None, 10)
        .await
        .unwrap();
    assert!(page.items.is_empty());
    let (items, total) = s.list_documents_offset(theirs, 0, 10).await.unwrap();
    assert!(items.is_empty() && total == 0);
    assert_eq!(s.get_text(theirs, id).await.unwrap(), None);
    assert!(s.get_pages(theirs, id, 1, 100).await.unwrap().is_empty());
    assert!(
        s.get_text_prefixes(theirs, &[id], 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(!s.set_thumbnail(theirs, id, "x.png").await.unwrap());
    let deleted = Event::deleted(id, theirs, now);
    assert!(
        s.delete_document(theirs, id, &[deleted], now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.get_webhook(theirs, hook.id).await.unwrap().is_none());
    assert!(s.list_webhooks(theirs).await.unwrap().is_empty());
    assert!(!s.delete_webhook(theirs, hook.id).await.unwrap());
    assert!(
        !s.rotate_webhook_secret(theirs, hook.id, "whsec_y", now)
            .await
            .unwrap()
    );
    assert!(!s.enable_webhook(theirs, hook.id).await.unwrap());
    assert!(
        s.webhook_deliveries(theirs, hook.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Nothing the other tenant tried changed anything.
    assert_eq!(
        s.get_text(mine, id).await.unwrap().as_deref(),
        Some("the secret text")
    );
    let doc = s.get_document(mine, id).await.unwrap().unwrap();
    assert_eq!(doc.thumbnail_key, None);
    assert_eq!(s.list_webhooks(mine).await.unwrap().len(), 1);
    let pages = s.get_pages(mine, id, 1, 100).await.unwrap();
    assert_eq!(
        pages.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert!(pages[0].1.contains("the secret text"), "{pages:?}");
}

pub async fn pages_are_read_by_range_and_go_with_their_document<F: Factory>() {
    let (_db, stores) = F::open(1).await;
    let s = &*stores[0];
    let mine = tenant(s, "mine").await;
    let id = upload(s, mine, "scan.png").await;
    let job = claim(s, "w").await.expect("a queued job");
    let mut result = processed("read by OCR");
    if let JobResult::Processed { extracted, .. } = &mut result {
        extracted.searchable_pdf = true;
    }
    let now = OffsetDateTime::now_utc();
    let events = Event::of_job(&job, &result, now);
    assert!(
        s.complete_job(&job, "w", &result, &events, now)
            .await
            .unwrap()
    );
    let second = s.get_pages(mine, id, 2, 2).await.unwrap();
    assert_eq!(second, vec![(2, "{\"page\":2}".to_owned())]);
    assert!(s.get_pages(mine, id, 3, 9).await.unwrap().is_empty());
    let deleted = Event::deleted(id, mine, now);
    let keys = s
        .delete_document(mine, id, &[deleted], now)
        .await
        .unwrap()
        .expect("deleted");
    // The searchable PDF OCR wrote is named for deletion with the document's bytes.
    assert_eq!(
        keys,
        vec![
            job.blob_key.clone(),
            docintel_backend::blobs::searchable_key(&job.blob_key)
        ]
    );
    assert!(s.get_pages(mine, id, 1, 9).await.unwrap().is_empty());
}

pub async fn a_thumbnail_failure_is_recorded_once_and_only_without_a_thumbnail<F: Factory>() {
    let (_db, stores) = F::open(2).await;
    let (s, other) = (&*stores[0], &*stores[1]);
    let t = tenant(s, "t").await;
    let theirs = tenant(s, "u").await;
    let failing = upload(s, t, "a.pdf").await;
    let rendered = upload(s, t, "b.pdf").await;
    process_next(s, "a").await;
    process_next(s, "b").await;
    assert!(
        !s.set_thumbnail_failure(theirs, failing, "no")
            .await
            .unwrap()
    );
    for _ in 0..2 {
        assert!(
            s.set_thumbnail_failure(t, failing, "pdftoppm failed: broken page")
                .await
                .unwrap()
        );
    }
    // Seen through another handle, the warning added once.
    let doc = other.get_document(t, failing).await.unwrap().unwrap();
    assert_eq!(
        doc.thumbnail_failure.as_deref(),
        Some("pdftoppm failed: broken page")
    );
    assert_eq!(doc.warnings, vec!["thumbnail_unavailable".to_owned()]);
    assert_eq!(doc.thumbnail_key, None);
    // A thumbnail made elsewhere wins over a later failure.
    assert!(s.set_thumbnail(t, rendered, "b.png").await.unwrap());
    assert!(!s.set_thumbnail_failure(t, rendered, "late").await.unwrap());
    let doc = other.get_document(t, rendered).await.unwrap().unwrap();
    assert_eq!(doc.thumbnail_failure, None);
    assert!(doc.warnings.is_empty());
}

pub async fn keyset_pages_are_stable_while_documents_arrive<F: Factory>() {
    let (_db, stores) = F::open(1).await;
    let s = &*stores[0];
    let t = tenant(s, "t").await;
    let mut before = HashSet::new();
    for _ in 0..10 {
        before.insert(upload(s, t, "old.txt").await);
    }
    let all = ListFilter::default();
    let first = s.list_documents(t, &all, None, 4).await.unwrap();
    let mut seen: Vec<Uuid> = first.items.iter().map(|d| d.id).collect();
    let mut after = first.next_after;
    // Newer documents arrive between pages: they sort before the first page (newest
    // first) and must neither repeat nor hide the older ones.
    for _ in 0..5 {
        upload(s, t, "new.txt").await;
    }
    while let Some(cursor) = after {
        let page = s.list_documents(t, &all, Some(cursor), 4).await.unwrap();
        seen.extend(page.items.iter().map(|d| d.id));
        after = page.next_after;
    }
    assert_eq!(seen.len(), 10, "{seen:?}");
    assert_eq!(seen.iter().copied().collect::<HashSet<_>>(), before);
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first");
}

/// A status filter pages through that status only, newest first, and no other tenant's.
pub async fn pages_by_status_hold_that_status_only<F: Factory>() {
    use docintel_backend::model::DocumentStatus;
    let (_db, stores) = F::open(1).await;
    let s = &*stores[0];
    let (t, other) = (tenant(s, "t").await, tenant(s, "other").await);
    let mut ids = Vec::new();
    for _ in 0..7 {
        ids.push(upload(s, t, "a.txt").await);
    }
    // Oldest first: the first four are processed, the last three stay queued.
    for _ in 0..4 {
        process_next(s, "text").await;
    }
    let processed_ids: HashSet<Uuid> = ids[..4].iter().copied().collect();
    for _ in 0..3 {
        upload(s, other, "b.txt").await;
    }
    for (status, expected) in [(DocumentStatus::Processed, 4), (DocumentStatus::Queued, 3)] {
        let filter = ListFilter {
            status: Some(status),
            ..ListFilter::default()
        };
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = s.list_documents(t, &filter, after, 2).await.unwrap();
            assert!(page.items.len() <= 2);
            for d in &page.items {
                assert_eq!(d.status, status, "{d:?}");
                assert_eq!(d.tenant_id, t);
                assert_eq!(
                    processed_ids.contains(&d.id),
                    status == DocumentStatus::Processed
                );
            }
            seen.extend(page.items.iter().map(|d| d.id));
            after = page.next_after;
            if after.is_none() {
                break;
            }
        }
        assert_eq!(seen.len(), expected, "{status:?}: {seen:?}");
        assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first");
    }
}

/// A bound on `created_at` that matches few of a tenant's many documents: each page looks
/// at `CREATED_WINDOW` of them at most, and the pages still find every match, in order.
pub async fn a_created_bound_looks_at_a_window_of_documents_a_page<F: Factory>() {
    use docintel_backend::model::CREATED_WINDOW;
    use docintel_backend::store::Upload;
    let (_db, stores) = F::open(1).await;
    let s = &*stores[0];
    let t = tenant(s, "t").await;
    let long_ago = OffsetDateTime::from_unix_timestamp(978_307_200).unwrap(); // 2001-01-01
    // The three oldest were created long ago; then more than a window of recent ones.
    let docs: Vec<(NewDocument, Event)> = (0..CREATED_WINDOW as usize + 500)
        .map(|i| {
            let (mut doc, event) = new_doc(t, "a.txt");
            if i < 3 {
                doc.created_at = long_ago + Duration::from_secs(i as u64);
            }
            (doc, event)
        })
        .collect();
    for chunk in docs.chunks(500) {
        let uploads: Vec<Upload<'_>> = chunk
            .iter()
            .map(|(doc, event)| Upload {
                doc,
                events: std::slice::from_ref(event),
                kept: None,
                caller: None,
            })
            .collect();
        for outcome in s
            .insert_documents(&uploads, docintel_backend::model::Quota::UNLIMITED)
            .await
            .unwrap()
        {
            assert!(outcome.unwrap().is_some());
        }
    }
    // The legacy offset listing's total is the kept count, not a walk.
    assert_eq!(
        s.list_documents_offset(t, 0, 1).await.unwrap().1,
        docs.len() as u64
    );
    let old: Vec<Uuid> = docs[..3].iter().rev().map(|(d, _)| d.id).collect();
    let before = ListFilter {
        created_before: Some(long_ago + Duration::from_secs(3600)),
        ..ListFilter::default()
    };
    // The newest window holds none of them: an empty page that goes on after it.
    let first = s.list_documents(t, &before, None, 20).await.unwrap();
    assert!(first.items.is_empty(), "{:?}", first.items);
    let window_end = docs[docs.len() - CREATED_WINDOW as usize].0.id;
    assert_eq!(first.next_after, Some(window_end));
    // The rest is less than a window: the three, newest first, and the end.
    let second = s
        .list_documents(t, &before, first.next_after, 20)
        .await
        .unwrap();
    assert_eq!(second.items.iter().map(|d| d.id).collect::<Vec<_>>(), old);
    assert_eq!(second.next_after, None);
    // With a status too (the window is then of that status).
    let queued_before = ListFilter {
        status: Some(docintel_backend::model::DocumentStatus::Queued),
        ..before.clone()
    };
    let first = s.list_documents(t, &queued_before, None, 2).await.unwrap();
    assert!(first.items.is_empty());
    let second = s
        .list_documents(t, &queued_before, first.next_after, 2)
        .await
        .unwrap();
    assert_eq!(
        second.items.iter().map(|d| d.id).collect::<Vec<_>>(),
        old[..2]
    );
    let third = s
        .list_documents(t, &queued_before, second.next_after, 2)
        .await
        .unwrap();
    assert_eq!(
        third.items.iter().map(|d| d.id).collect::<Vec<_>>(),
        old[2..]
    );
    assert_eq!(third.next_after, None);
    // A bound most documents match fills its pages as before.
    let recent = ListFilter {
        created_after: Some(long_ago + Duration::from_secs(3600)),
        ..ListFilter::default()
    };
    let page = s.list_documents(t, &recent, None, 100).await.unwrap();
    assert_eq!(page.items.len(), 100);
    assert_eq!(page.next_after, Some(page.items[99].id));
    assert_eq!(page.items[0].id, docs[docs.len() - 1].0.id);
}

pub async fn an_idempotency_key_stands_for_one_document<F: Factory>() {
    let (_db, stores) = F::open(2).await;
    let (t, other) = (
        tenant(&*stores[0], "t").await,
        tenant(&*stores[0], "other").await,
    );
    let now = OffsetDateTime::now_utc();
    let day = Duration::from_secs(24 * 3600);
    let response = |body: String| StoredResponse {
        request_hash: "h".into(),
        status: 202,
        location: None,
        body,
    };
    // A hundred requests with one key race from two handles: one document, one response.
    let mut tasks = Vec::new();
    for n in 0..100 {
        let store = stores[n % 2].clone();
        tasks.push(tokio::spawn(async move {
            let (doc, uploaded) = new_doc(t, "a.txt");
            let mine = response(doc.id.to_string());
            let kept = KeptResponse {
                key: "k",
                response: &mine,
                forget_before: now - day,
            };
            let inserted = store
                .insert_document(
                    &doc,
                    &[uploaded],
                    Some(kept),
                    docintel_backend::model::Quota::UNLIMITED,
                )
                .await;
            (doc.id, inserted.expect("no error, even when refused"))
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (id, inserted) = task.await.unwrap();
        if let Some(doc) = inserted {
            assert_eq!(doc.id, id);
            winners.push(id);
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let (docs, total) = stores[0].list_documents_offset(t, 0, 100).await.unwrap();
    assert_eq!((total, docs[0].id), (1, winners[0]));
    let kept = stores[1]
        .idempotent_response(t, "k", now - day)
        .await
        .unwrap();
    assert_eq!(
        kept,
        Some(response(winners[0].to_string())),
        "the winner's response"
    );
    assert_eq!(
        stores[0].pending_events(100).await.unwrap().len(),
        1,
        "one event"
    );
    // Keys are per tenant.
    assert_eq!(
        stores[0]
            .idempotent_response(other, "k", now - day)
            .await
            .unwrap(),
        None
    );
    // Past its lifetime the key is free again, and its old response forgotten.
    assert_eq!(
        stores[0]
            .idempotent_response(t, "k", now + Duration::from_secs(1))
            .await
            .unwrap(),
        None
    );
    let later = now + day + Duration::from_secs(1);
    let (doc, uploaded) = new_doc(t, "b.txt");
    let fresh = response("fresh".into());
    let kept = KeptResponse {
        key: "k",
        response: &fresh,
        forget_before: later - day,
    };
    assert!(
        stores[0]
            .insert_document(
                &doc,
                &[uploaded],
                Some(kept),
                docintel_backend::model::Quota::UNLIMITED
            )
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        stores[0]
            .idempotent_response(t, "k", now - day)
            .await
            .unwrap(),
        Some(fresh)
    );
}

/// A document deleted while a worker claims its job: both succeed or find nothing, never
/// an error (on PostgreSQL the two lock the job and the document: in one order only).
pub async fn a_delete_racing_a_claim_never_fails<F: Factory>() {
    let (_db, stores) = F::open(2).await;
    let t = tenant(&*stores[0], "t").await;
    for n in 0..100 {
        let id = upload(&*stores[0], t, &format!("{n}.txt")).await;
        let (claimer, deleter) = (stores[0].clone(), stores[1].clone());
        let claim = tokio::spawn(async move {
            claimer
                .claim_job(&format!("w{n}"), Duration::from_secs(30))
                .await
        });
        let delete = tokio::spawn(async move {
            deleter
                .delete_document(t, id, &[], OffsetDateTime::now_utc())
                .await
        });
        let (claimed, deleted) = (claim.await.unwrap(), delete.await.unwrap());
        assert!(claimed.is_ok(), "round {n}: claim {claimed:?}");
        assert!(
            matches!(deleted, Ok(Some(_))),
            "round {n}: delete {deleted:?}"
        );
    }
}

/// Polls `read` every 10 ms until `done` holds of what it returns, at most `BOUND`;
/// panics with `what` past it.
async fn within_bound<T>(
    what: &str,
    mut read: impl AsyncFnMut() -> T,
    done: impl Fn(&T) -> bool,
) -> T {
    const BOUND: Duration = Duration::from_secs(1);
    let start = std::time::Instant::now();
    loop {
        let got = read().await;
        if done(&got) {
            return got;
        }
        assert!(start.elapsed() < BOUND, "{what}: not within {BOUND:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub async fn a_document_changed_through_another_handle_is_never_served_stale<F: Factory>() {
    use docintel_backend::model::DocumentStatus;
    let (_db, stores) = F::open(2).await;
    // The embedded store is one process: its reads and changes go through one handle.
    let (reader, writer) = if stores[0].is_shared() {
        (&*stores[0], &*stores[1])
    } else {
        (&*stores[0], &*stores[0])
    };
    let _watching = reader.watch_documents().await.unwrap();
    let (mine, theirs) = (tenant(writer, "mine").await, tenant(writer, "theirs").await);
    let id = upload(writer, mine, "a.txt").await;
    let status = async || {
        reader
            .get_document(mine, id)
            .await
            .unwrap()
            .map(|d| d.status)
    };
    // Read twice (kept after the first), never by another tenant.
    for _ in 0..2 {
        assert_eq!(status().await, Some(DocumentStatus::Queued));
        assert!(reader.get_document(theirs, id).await.unwrap().is_none());
    }
    let job = claim(writer, "w").await.expect("queued");
    within_bound("claimed", status, |s| {
        *s == Some(DocumentStatus::Processing)
    })
    .await;
    let now = OffsetDateTime::now_utc();
    let result = processed("text");
    let events = Event::of_job(&job, &result, now);
    assert!(
        writer
            .complete_job(&job, "w", &result, &events, now)
            .await
            .unwrap()
    );
    within_bound("processed", status, |s| {
        *s == Some(DocumentStatus::Processed)
    })
    .await;
    assert!(reader.get_document(theirs, id).await.unwrap().is_none());
    assert!(writer.set_thumbnail(mine, id, "t.png").await.unwrap());
    within_bound(
        "thumbnail",
        async || reader.get_document(mine, id).await.unwrap(),
        |d| d.as_ref().is_some_and(|d| d.thumbnail_key.is_some()),
    )
    .await;
    assert!(
        writer
            .delete_document(mine, id, &[], now)
            .await
            .unwrap()
            .is_some()
    );
    within_bound("deleted", status, Option::is_none).await;
    // Once gone, never back.
    for _ in 0..20 {
        assert_eq!(status().await, None);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A small document's bytes are written in its row's transaction: read by every process
/// once it commits, never written when the row is refused, deleted alone when the
/// document stays (an infected one), and gone with a deleted document.
pub async fn inline_bytes_are_written_read_and_deleted_with_their_row<F: Factory>() {
    use docintel_backend::model::{Quota, QuotaSetting};
    use docintel_backend::store::InlineBytes;

    let (_db, stores) = F::open(2).await;
    let (s, other) = (&*stores[0], &*stores[1]);
    let t = tenant(s, "inline").await;
    let insert = |bytes: Option<&'static [u8]>, name: &'static str| async move {
        let (mut doc, uploaded) = new_doc(t, name);
        doc.inline_bytes = bytes.map(|b| InlineBytes(b.to_vec()));
        let inserted = s
            .insert_document(&doc, &[uploaded], None, Quota::UNLIMITED)
            .await;
        (doc, inserted)
    };

    let (small, inserted) = insert(Some(b"hello"), "small.txt").await;
    assert!(inserted.unwrap().is_some());
    assert_eq!(
        s.inline_blob(&small.blob_key).await.unwrap().as_deref(),
        Some(&b"hello"[..])
    );
    assert_eq!(
        other.inline_blob(&small.blob_key).await.unwrap().as_deref(),
        Some(&b"hello"[..]),
        "another process reads them"
    );
    // A document whose bytes have a blob of their own has none here.
    let (large, inserted) = insert(None, "large.txt").await;
    assert!(inserted.unwrap().is_some());
    assert_eq!(s.inline_blob(&large.blob_key).await.unwrap(), None);
    assert!(!s.delete_inline_blob(&large.blob_key).await.unwrap());

    // A claim brings the bytes kept with the row (none for the other), as does taking
    // the running jobs over after a restart.
    let claimed = s
        .claim_jobs("w", std::time::Duration::from_secs(60), 10)
        .await
        .unwrap();
    let kept = |jobs: &[ClaimedJob]| -> Vec<(Uuid, Option<Vec<u8>>)> {
        jobs.iter()
            .map(|j| (j.document_id, j.inline_bytes.clone().map(|b| b.0)))
            .collect()
    };
    let expected = vec![(small.id, Some(b"hello".to_vec())), (large.id, None)];
    assert_eq!(kept(&claimed), expected);
    let mut taken = other.take_running_jobs("w2").await.unwrap();
    taken.sort_by_key(|j| j.job_id);
    assert_eq!(kept(&taken), expected);

    // Refused with its row (a quota of two documents): nothing of it is written.
    s.set_storage_quota(t, QuotaSetting::Keep, QuotaSetting::Set(Some(2)))
        .await
        .unwrap();
    let (refused, inserted) = insert(Some(b"refused"), "refused.txt").await;
    assert!(inserted.is_err(), "past the quota");
    assert_eq!(s.inline_blob(&refused.blob_key).await.unwrap(), None);
    s.set_storage_quota(t, QuotaSetting::Keep, QuotaSetting::Default)
        .await
        .unwrap();

    // Deleted alone, the document stays.
    assert!(other.delete_inline_blob(&small.blob_key).await.unwrap());
    assert!(!s.delete_inline_blob(&small.blob_key).await.unwrap());
    assert_eq!(s.inline_blob(&small.blob_key).await.unwrap(), None);
    assert!(s.get_document(t, small.id).await.unwrap().is_some());

    // Deleted with their document (by another process).
    let (gone, inserted) = insert(Some(b"gone"), "gone.txt").await;
    assert!(inserted.unwrap().is_some());
    let now = OffsetDateTime::now_utc();
    let keys = other
        .delete_document(t, gone.id, &[Event::deleted(gone.id, t, now)], now)
        .await
        .unwrap()
        .expect("deleted");
    assert_eq!(keys, std::slice::from_ref(&gone.blob_key));
    assert_eq!(s.inline_blob(&gone.blob_key).await.unwrap(), None);
    assert_eq!(other.inline_blob(&gone.blob_key).await.unwrap(), None);
}
