//! The checks, each generic over how the store is opened.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use docintel_backend::events::Event;
use docintel_backend::model::{ContentType, Extracted, ListFilter, TenantId};
use docintel_backend::store::{
    ClaimedJob, JobResult, KeptResponse, NewDocument, Store, StoredResponse,
};
use docintel_backend::webhooks::NewWebhook;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Factory;

async fn tenant(store: &dyn Store, name: &str) -> TenantId {
    store
        .create_tenant(name, OffsetDateTime::now_utc())
        .await
        .expect("tenant")
        .id
}

/// Inserts a queued text document (with its `doc.uploaded` event); returns its id.
async fn upload(store: &dyn Store, tenant: TenantId, name: &str) -> Uuid {
    let (doc, uploaded) = new_doc(tenant, name);
    store
        .insert_document(&doc, &[uploaded], None)
        .await
        .expect("insert")
        .expect("inserted");
    doc.id
}

/// A queued text document to insert, and its `doc.uploaded` event.
fn new_doc(tenant: TenantId, name: &str) -> (NewDocument, Event) {
    let id = Uuid::now_v7();
    let doc = NewDocument {
        id,
        tenant_id: tenant,
        filename: name.to_owned(),
        content_type: ContentType::Text,
        size_bytes: 5,
        sha256: "0".repeat(64),
        blob_key: format!("{}/{}", tenant.0.simple(), id.simple()),
        created_at: OffsetDateTime::now_utc(),
    };
    let uploaded = Event::uploaded(
        id,
        tenant,
        doc.created_at,
        name,
        "text/plain",
        5,
        &doc.sha256,
    );
    (doc, uploaded)
}

fn processed(text: &str) -> JobResult {
    JobResult::Processed {
        text: text.to_owned(),
        extracted: Extracted::default(),
        warnings: Vec::new(),
        classification: None,
        thumbnail_key: None,
    }
}

async fn claim(store: &dyn Store, owner: &str) -> Option<ClaimedJob> {
    store
        .claim_job(owner, Duration::from_secs(30))
        .await
        .expect("claim")
}

/// Claims the next job and completes it as processed with `text`.
async fn process_next(store: &dyn Store, text: &str) -> ClaimedJob {
    let now = OffsetDateTime::now_utc();
    let job = claim(store, "w").await.expect("a queued job");
    let result = processed(text);
    let events = Event::of_job(&job, &result, now);
    assert!(
        store
            .complete_job(&job, "w", &result, &events, now)
            .await
            .expect("complete")
    );
    job
}

pub async fn claims_are_exclusive_across_handles<F: Factory>() {
    let (_db, stores) = F::open(2).await;
    let t = tenant(&*stores[0], "t").await;
    let mut uploaded = HashSet::new();
    for n in 0..40 {
        uploaded.insert(upload(&*stores[n % 2], t, "a.txt").await);
    }
    // Eight claimers, four per handle, race until the queue is empty.
    let mut tasks = Vec::new();
    for n in 0..8 {
        let store = stores[n % 2].clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(job) = claim(&*store, &format!("w{n}")).await {
                got.push(job.document_id);
            }
            got
        }));
    }
    let mut claimed = Vec::new();
    for t in tasks {
        claimed.extend(t.await.expect("claimer"));
    }
    let unique: HashSet<_> = claimed.iter().copied().collect();
    assert_eq!(unique.len(), claimed.len(), "a job was claimed twice");
    assert_eq!(unique, uploaded, "every job claimed once");
}

pub async fn an_expired_lease_is_taken_over_and_the_loser_writes_nothing<F: Factory>() {
    let (_db, stores) = F::open(2).await;
    let (a, b) = (&*stores[0], &*stores[1]);
    let t = tenant(a, "t").await;
    let id = upload(a, t, "a.txt").await;
    // Leases run on the store's clock (the server's, for a shared database): real time.
    let lease = Duration::from_millis(600);
    let first = a.claim_job("a", lease).await.unwrap().expect("claimed");
    assert_eq!(
        (first.document_id, first.tenant_id, first.attempts),
        (id, t, 1)
    );
    // Held: nobody else gets it before the lease ends, and renewing keeps it held.
    assert!(b.claim_job("b", lease).await.unwrap().is_none());
    tokio::time::sleep(lease / 2).await;
    assert!(a.renew_lease(first.job_id, "a", lease).await.unwrap());
    tokio::time::sleep(lease / 2).await;
    assert!(
        b.claim_job("b", lease).await.unwrap().is_none(),
        "renewed, still held"
    );
    tokio::time::sleep(lease + Duration::from_millis(200)).await;
    let second = b
        .claim_job("b", Duration::from_secs(30))
        .await
        .unwrap()
        .expect("taken over after expiry");
    assert_eq!((second.document_id, second.attempts), (id, 2));
    // The first owner lost it: it can neither renew nor complete.
    let t0 = OffsetDateTime::now_utc();
    assert!(!a.renew_lease(first.job_id, "a", lease).await.unwrap());
    let late = processed("late");
    let events = Event::of_job(&first, &late, t0);
    assert!(
        !a.complete_job(&first, "a", &late, &events, t0)
            .await
            .unwrap()
    );
    assert_eq!(
        a.get_text(t, id).await.unwrap(),
        None,
        "the loser wrote its text"
    );
    let result = processed("winner");
    let events = Event::of_job(&second, &result, t0);
    assert!(
        b.complete_job(&second, "b", &result, &events, t0)
            .await
            .unwrap()
    );
    assert_eq!(a.get_text(t, id).await.unwrap().as_deref(), Some("winner"));
    assert_eq!(a.queue_depth().await.unwrap(), 0);
}

pub async fn the_outbox_keeps_order_until_marked_sent<F: Factory>() {
    let (_db, stores) = F::open(1).await;
    let s = &*stores[0];
    let t = tenant(s, "t").await;
    let ids = [
        upload(s, t, "1.txt").await,
        upload(s, t, "2.txt").await,
        upload(s, t, "3.txt").await,
    ];
    let now = OffsetDateTime::now_utc();
    let deleted = Event::deleted(ids[0], t, now);
    assert!(
        s.delete_document(t, ids[0], &[deleted], now)
            .await
            .unwrap()
            .is_some()
    );
    // A delete that finds nothing writes no event.
    let nothing = Event::deleted(ids[0], t, now);
    assert!(
        s.delete_document(t, ids[0], &[nothing], now)
            .await
            .unwrap()
            .is_none()
    );

    let pending = s.pending_events(100).await.unwrap();
    let topics: Vec<&str> = pending.iter().map(|r| r.topic.as_str()).collect();
    assert_eq!(
        topics,
        [
            "doc.uploaded",
            "doc.uploaded",
            "doc.uploaded",
            "doc.deleted"
        ]
    );
    assert!(pending.windows(2).all(|w| w[0].seq < w[1].seq));
    for (row, id) in pending.iter().zip(ids) {
        assert!(row.payload.contains(&id.to_string()), "{}", row.payload);
    }
    // Marked by id: an event between two marked ones (read later, say, because it
    // committed later) stays pending.
    s.mark_sent(&[pending[0].seq, pending[2].seq], now)
        .await
        .unwrap();
    let rest = s.pending_events(100).await.unwrap();
    assert_eq!(rest, vec![pending[1].clone(), pending[3].clone()]);
    s.mark_sent(&[pending[1].seq], now).await.unwrap();
    s.mark_sent(&[], now).await.unwrap();
    assert_eq!(s.pending_events(100).await.unwrap(), pending[3..].to_vec());
    assert_eq!(s.outbox_lag().await.unwrap().0, 1);
    // Sent events are forgotten only once old enough.
    assert_eq!(
        s.purge_sent(now - Duration::from_secs(60)).await.unwrap(),
        0
    );
    assert_eq!(
        s.purge_sent(now + Duration::from_secs(60)).await.unwrap(),
        3
    );
    assert_eq!(s.pending_events(100).await.unwrap(), pending[3..].to_vec());
}

pub async fn every_query_is_scoped_to_its_tenant<F: Factory>() {
    let (_db, stores) = F::open(1).await;
    let s = &*stores[0];
    let (mine, theirs) = (tenant(s, "mine").await, tenant(s, "theirs").await);
    let id = upload(s, mine, "secret.txt").await;
    process_next(s, "the secret text").await;
    let hook = s
        .create_webhook(
            mine,
            &NewWebhook {
                url: "https://example.com/hook".into(),
                description: None,
                event_types: vec!["doc.processed".into()],
            },
            "whsec_x",
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
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

pub async fn registry_versions_are_numbered_once_under_races<F: Factory>() {
    let (_db, stores) = F::open(2).await;
    let schema = r#"{"type":"record","name":"R","fields":[]}"#;
    let id = stores[0]
        .registry_schema_id(schema, true)
        .await
        .unwrap()
        .expect("registered");
    assert_eq!(
        stores[1].registry_schema_id(schema, true).await.unwrap(),
        Some(id),
        "one id per schema text"
    );
    let mut tasks = Vec::new();
    for n in 0..10 {
        let store: Arc<dyn Store> = stores[n % 2].clone();
        tasks.push(tokio::spawn(async move {
            // What the registry does: read the history, add after it, re-read if it moved.
            loop {
                let after = store
                    .registry_versions("s-value")
                    .await
                    .unwrap()
                    .iter()
                    .map(|v| v.version)
                    .max()
                    .unwrap_or(0);
                if let Some(v) = store
                    .registry_add_version("s-value", id, after)
                    .await
                    .unwrap()
                {
                    return v;
                }
            }
        }));
    }
    let mut versions = Vec::new();
    for t in tasks {
        versions.push(t.await.unwrap());
    }
    versions.sort_unstable();
    assert_eq!(versions, (1..=10).collect::<Vec<i64>>());
    let listed: Vec<i64> = stores[0]
        .registry_versions("s-value")
        .await
        .unwrap()
        .iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(listed, versions);
    assert_eq!(
        stores[1]
            .registry_add_version("s-value", id, 9)
            .await
            .unwrap(),
        None,
        "a write checked against a history that has moved on is refused"
    );
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
            let inserted = store.insert_document(&doc, &[uploaded], Some(kept)).await;
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
            .insert_document(&doc, &[uploaded], Some(kept))
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

pub async fn a_delivery_is_written_with_its_event_for_each_active_subscriber<F: Factory>() {
    let (_db, stores) = F::open(1).await;
    let s = &*stores[0];
    let (t, other) = (tenant(s, "t").await, tenant(s, "other").await);
    let subscribe = |tenant, types: &[&str]| {
        let new = NewWebhook {
            url: "https://example.com/hook".into(),
            description: None,
            event_types: types.iter().map(|t| t.to_string()).collect(),
        };
        async move {
            s.create_webhook(tenant, &new, "whsec_x", OffsetDateTime::now_utc())
                .await
                .unwrap()
        }
    };
    let processed_hook = subscribe(t, &["doc.processed"]).await;
    let failed_hook = subscribe(t, &["doc.failed"]).await;
    let their_hook = subscribe(other, &["doc.processed"]).await;
    upload(s, t, "a.txt").await;
    let job = process_next(s, "hello").await;

    let deliveries = s
        .webhook_deliveries(t, processed_hook.id, 10)
        .await
        .unwrap();
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert_eq!(deliveries[0].event_type, "doc.processed");
    assert_eq!(deliveries[0].document_id, job.document_id);
    assert!(
        s.webhook_deliveries(t, failed_hook.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.webhook_deliveries(other, their_hook.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let now = OffsetDateTime::now_utc();
    let due = s
        .claim_deliveries(now, now + Duration::from_secs(30), 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].tenant_id, t);
    assert!(due[0].event.contains(&job.document_id.to_string()));
    // Claimed: not handed out twice while the claim holds.
    assert!(
        s.claim_deliveries(now, now + Duration::from_secs(30), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn a_graceful_stop_hands_jobs_back_without_counting_the_attempt<F: Factory>() {
    let (_db, stores) = F::open(1).await;
    let s = &*stores[0];
    let t = tenant(s, "t").await;
    let mine = upload(s, t, "mine.txt").await;
    let theirs = upload(s, t, "theirs.txt").await;
    let a = claim(s, "proc-a-0").await.expect("a job");
    let b = claim(s, "proc-b-0").await.expect("another job");
    assert_eq!((a.document_id, b.document_id), (mine, theirs));
    assert_eq!(s.release_leases_of("proc-a-").await.unwrap(), 1);
    // Process a's job is queued again with its attempt uncounted; b's is still b's.
    let again = claim(s, "proc-c-0").await.expect("the released job");
    assert_eq!(again.document_id, mine);
    assert_eq!(again.attempts, 1, "the interrupted attempt was not counted");
    assert!(
        claim(s, "proc-c-1").await.is_none(),
        "b's lease still holds"
    );
    assert_eq!(s.release_leases_of("proc-a-").await.unwrap(), 0);
}

pub async fn one_process_leads_a_task_and_another_takes_over<F: Factory>() {
    use docintel_backend::store::LeaderTask;
    let (_db, stores) = F::open(2).await;
    let mut first = stores[0]
        .try_lead(LeaderTask::Relay)
        .await
        .unwrap()
        .expect("nobody leads yet");
    assert!(first.still_held().await);
    let second = stores[1].try_lead(LeaderTask::Relay).await.unwrap();
    if !stores[0].is_shared() {
        // One process per store: it always leads.
        assert!(second.is_some());
        return;
    }
    assert!(second.is_none(), "two leaders of one task");
    assert!(
        stores[1]
            .try_lead(LeaderTask::BlobSweep)
            .await
            .unwrap()
            .is_some(),
        "tasks are led independently"
    );
    drop(first);
    // The lock goes with the leader's session, which the server closes on its own time.
    let mut taken = None;
    for _ in 0..50 {
        taken = stores[1].try_lead(LeaderTask::Relay).await.unwrap();
        if taken.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(taken.is_some(), "nobody took over from a leader that left");
}

pub async fn work_queued_by_one_handle_wakes_another<F: Factory>() {
    use docintel_backend::store::Wakes;
    let (_db, stores) = F::open(2).await;
    let wakes = Wakes::default();
    let Some(listening) = stores[1].listen(wakes.clone()).await.unwrap() else {
        assert!(
            !stores[1].is_shared(),
            "a shared store must forward wake-ups"
        );
        return;
    };
    let t = tenant(&*stores[0], "t").await;
    let jobs = wakes.jobs.notified();
    let events = wakes.events.notified();
    upload(&*stores[0], t, "a.txt").await;
    tokio::time::timeout(Duration::from_secs(10), async {
        jobs.await;
        events.await;
    })
    .await
    .expect("the upload's job and event woke the other handle");
    listening.abort();
}

pub async fn shared_quota_slices_never_exceed_the_quota<F: Factory>() {
    let (_db, stores) = F::open(2).await;
    let mut tasks = Vec::new();
    for n in 0..20 {
        let store: Arc<dyn Store> = stores[n % 2].clone();
        tasks.push(tokio::spawn(async move {
            let mut got = 0;
            loop {
                let slice = store.lease_quota("k", 1_000, 7, 100).await.unwrap().got;
                if slice == 0 {
                    return got;
                }
                got += slice;
            }
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 100, "every request of the window handed out, once");
    let lease = |got, granted| docintel_backend::store::QuotaLease { got, granted };
    assert_eq!(
        stores[0].lease_quota("k", 1_000, 7, 100).await.unwrap(),
        lease(0, 100)
    );
    assert_eq!(
        stores[0].lease_quota("k", 2_000, 7, 100).await.unwrap(),
        lease(7, 7),
        "a new window"
    );
    assert_eq!(
        stores[0].lease_quota("k", 2_000, 7, 100).await.unwrap(),
        lease(7, 14)
    );
    assert_eq!(
        stores[0].lease_quota("other", 1_000, 7, 100).await.unwrap(),
        lease(7, 7),
        "per key"
    );
    assert_eq!(stores[1].forget_quota_windows(2_000).await.unwrap(), 2);
    assert_eq!(
        stores[1].lease_quota("k", 1_000, 200, 100).await.unwrap(),
        lease(100, 100)
    );
}

pub async fn broker_records_are_created_once_and_never_lose_an_update<F: Factory>() {
    let (_db, stores) = F::open(2).await;
    let pair = "consumer\u{1f}docintel";
    // Both handles try to create the same record: one wins, the other writes nothing.
    let (a, b) = tokio::join!(
        stores[0].broker_insert("pact", pair, "1.0.0", r#"{"n":0,"who":"a"}"#),
        stores[1].broker_insert("pact", pair, "1.0.0", r#"{"n":0,"who":"b"}"#),
    );
    assert!(a.unwrap() ^ b.unwrap(), "exactly one insert wins");
    let stored = stores[1]
        .broker_get("pact", pair, "1.0.0")
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(
        (stored.scope.as_str(), stored.key.as_str()),
        (pair, "1.0.0")
    );

    // A replace from a stale read is refused and changes nothing.
    assert!(
        !stores[0]
            .broker_replace("pact", pair, "1.0.0", r#"{"stale":true}"#, r#"{"n":99}"#)
            .await
            .unwrap()
    );
    assert_eq!(
        stores[0]
            .broker_get("pact", pair, "1.0.0")
            .await
            .unwrap()
            .unwrap()
            .body,
        stored.body
    );

    // Ten writers on two handles, each reading then replacing (what Records::upsert
    // does): every increment lands.
    let mut tasks = Vec::new();
    for n in 0..10 {
        let store: Arc<dyn Store> = stores[n % 2].clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let read = store
                    .broker_get("pact", "consumer\u{1f}docintel", "1.0.0")
                    .await
                    .unwrap()
                    .unwrap();
                let mut v: serde_json::Value = serde_json::from_str(&read.body).unwrap();
                v["n"] = (v["n"].as_i64().unwrap() + 1).into();
                if store
                    .broker_replace(
                        "pact",
                        "consumer\u{1f}docintel",
                        "1.0.0",
                        &read.body,
                        &v.to_string(),
                    )
                    .await
                    .unwrap()
                {
                    return;
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let last = stores[0]
        .broker_get("pact", pair, "1.0.0")
        .await
        .unwrap()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&last.body).unwrap();
    assert_eq!(v["n"], 10, "{}", last.body);
    assert_eq!(last.seq, stored.seq, "a replace keeps the record's place");

    // Lists are per kind, optionally per scope, oldest first.
    for version in ["1.1.0", "0.9.0"] {
        assert!(
            stores[1]
                .broker_insert("pact", pair, version, "{}")
                .await
                .unwrap()
        );
    }
    assert!(
        stores[1]
            .broker_insert("pact", "other\u{1f}docintel", "1.0.0", "{}")
            .await
            .unwrap()
    );
    assert!(
        stores[1]
            .broker_insert("version", pair, "1.0.0", "{}")
            .await
            .unwrap()
    );
    let keys = |rows: Vec<docintel_backend::store::BrokerRecord>| -> Vec<String> {
        rows.into_iter()
            .map(|r| format!("{}/{}", r.scope, r.key))
            .collect()
    };
    let in_pair = keys(stores[0].broker_list("pact", Some(pair)).await.unwrap());
    assert_eq!(
        in_pair,
        ["1.0.0", "1.1.0", "0.9.0"].map(|k| format!("{pair}/{k}"))
    );
    let every_pact = stores[0].broker_list("pact", None).await.unwrap();
    assert_eq!(every_pact.len(), 4);
    assert!(every_pact.windows(2).all(|w| w[0].seq < w[1].seq));
    // A read of some scopes: their records only, oldest first, in one query; and the
    // scopes of a kind without their bodies.
    let other = "other\u{1f}docintel".to_owned();
    let some = keys(
        stores[1]
            .broker_list_in(
                "pact",
                &[other.clone(), pair.to_owned(), "absent".to_owned()],
            )
            .await
            .unwrap(),
    );
    assert_eq!(
        some,
        [
            format!("{pair}/1.0.0"),
            format!("{pair}/1.1.0"),
            format!("{pair}/0.9.0"),
            format!("{other}/1.0.0"),
        ]
    );
    assert!(
        stores[1]
            .broker_list_in("pact", &[])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        stores[1]
            .broker_list_in("version", std::slice::from_ref(&other))
            .await
            .unwrap()
            .is_empty()
    );
    let mut scopes = vec![other.clone(), pair.to_owned()];
    scopes.sort();
    assert_eq!(stores[0].broker_scopes("pact").await.unwrap(), scopes);

    // Deleting one record, then a whole scope, leaves the rest alone.
    assert_eq!(
        stores[0]
            .broker_delete("pact", pair, Some("0.9.0"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        stores[0].broker_delete("pact", pair, None).await.unwrap(),
        2
    );
    assert!(
        stores[1]
            .broker_get("pact", pair, "1.0.0")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(stores[1].broker_list("pact", None).await.unwrap().len(), 1);
    assert_eq!(
        stores[1].broker_list("version", None).await.unwrap().len(),
        1
    );
}
