//! The job queue: exclusive claims, lease takeover, handing jobs back at a stop.

use super::*;

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
    cannot_complete(a, &first, "a").await;
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

/// `owner` no longer holds `job`: its result is refused.
async fn cannot_complete(store: &dyn Store, job: &ClaimedJob, owner: &str) {
    let now = OffsetDateTime::now_utc();
    let late = processed("late");
    let events = Event::of_job(job, &late, now);
    let done = store.complete_job(job, owner, &late, &events, now).await;
    assert!(!done.unwrap(), "{owner} completed a job it lost");
}

pub async fn a_deferred_job_waits_its_delay_uncounted_and_a_failure_keeps_its_code<F: Factory>() {
    let (_db, stores) = F::open(2).await;
    let (a, b) = (&*stores[0], &*stores[1]);
    let t = tenant(a, "t").await;
    let id = upload(a, t, "a.txt").await;
    let first = claim(a, "a").await.expect("claimed");
    // Only its holder defers it.
    assert!(
        !b.defer_job(first.job_id, "b", Duration::ZERO)
            .await
            .unwrap()
    );
    let delay = Duration::from_millis(700);
    assert!(a.defer_job(first.job_id, "a", delay).await.unwrap());
    assert!(claim(b, "b").await.is_none(), "claimed before its delay");
    // The old holder cannot complete it any more.
    cannot_complete(a, &first, "a").await;
    tokio::time::sleep(delay + Duration::from_millis(300)).await;
    let again = claim(b, "b").await.expect("claimed after its delay");
    assert_eq!(
        (again.document_id, again.attempts),
        (id, 1),
        "the deferral was counted"
    );

    let t0 = OffsetDateTime::now_utc();
    let failed = JobResult::Failed {
        reason: "malware detected: Eicar-Test-Signature".into(),
        code: Some(docintel_backend::model::FailureCode::MalwareDetected),
    };
    let events = Event::of_job(&again, &failed, t0);
    assert!(
        b.complete_job(&again, "b", &failed, &events, t0)
            .await
            .unwrap()
    );
    let doc = a.get_document(t, id).await.unwrap().expect("the document");
    assert_eq!(doc.failure_code.as_deref(), Some("malware_detected"));
    assert_eq!(
        doc.failure.as_deref(),
        Some("malware detected: Eicar-Test-Signature")
    );
    assert_eq!(a.queue_depth().await.unwrap(), 0);
}

pub async fn a_claim_takes_jobs_whose_lease_ran_out_with_queued_ones<F: Factory>() {
    let (_db, stores) = F::open(2).await;
    let (a, b) = (&*stores[0], &*stores[1]);
    let t = tenant(a, "t").await;
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(upload(a, t, "a.txt").await);
    }
    let lease = Duration::from_millis(300);
    let held = a.claim_jobs("a", lease, 2).await.unwrap();
    assert_eq!(held.len(), 2);
    tokio::time::sleep(lease + Duration::from_millis(200)).await;
    // Both expired jobs and the oldest queued one, however the store finds them.
    let of = |jobs: &[ClaimedJob]| {
        jobs.iter()
            .map(|j| (j.document_id, j.attempts))
            .collect::<Vec<_>>()
    };
    let long = Duration::from_secs(30);
    let taken = b.claim_jobs("b", long, 3).await.unwrap();
    assert_eq!(of(&taken), [(ids[0], 2), (ids[1], 2), (ids[2], 1)]);
    assert_eq!(
        of(&a.claim_jobs("a", long, 3).await.unwrap()),
        [(ids[3], 1)]
    );
    assert!(b.claim_jobs("b", long, 3).await.unwrap().is_empty());
}

pub async fn several_jobs_are_claimed_oldest_first_and_recorded_in_one_commit<F: Factory>() {
    let (_db, stores) = F::open(2).await;
    let (a, b) = (&*stores[0], &*stores[1]);
    let t = tenant(a, "t").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(upload(&*stores[n % 2], t, "a.txt").await);
    }
    let lease = Duration::from_secs(30);
    let first = a.claim_jobs("a", lease, 3).await.unwrap();
    let of = |jobs: &[ClaimedJob]| jobs.iter().map(|j| j.document_id).collect::<Vec<_>>();
    assert_eq!(of(&first), ids[..3], "the three oldest, oldest first");
    assert!(first.iter().all(|j| j.attempts == 1 && j.tenant_id == t));
    // (Read through the handle that writes: the embedded store's cache is one process's.)
    for id in &ids[..3] {
        let doc = a.get_document(t, *id).await.unwrap().expect("document");
        assert_eq!(doc.status.as_str(), "processing");
    }
    // Another handle gets only what is left, however many it asks for.
    let rest = b.claim_jobs("b", lease, 10).await.unwrap();
    assert_eq!(of(&rest), ids[3..]);
    assert!(a.claim_jobs("a", lease, 10).await.unwrap().is_empty());

    // One commit for four results: one of them for a job `a` does not hold (dropped,
    // nothing of it written: document, text, pages, events, deliveries), the others
    // recorded.
    let hook = subscribe(a, t, &["doc.processed"]).await;
    let now = OffsetDateTime::now_utc();
    let (one, two) = (processed("one"), processed("two"));
    let failed = JobResult::Failed {
        reason: "unreadable".into(),
        code: None,
    };
    let stolen = processed("stolen");
    let results = [
        (&first[0], &one),
        (&first[1], &two),
        (&rest[0], &stolen),
        (&first[2], &failed),
    ];
    let events: Vec<Vec<Event>> = results
        .iter()
        .map(|(job, result)| Event::of_job(job, result, now))
        .collect();
    let done: Vec<Completion<'_>> = results
        .iter()
        .zip(&events)
        .map(|((job, result), events)| Completion {
            job,
            owner: "a",
            result,
            events,
            now,
        })
        .collect();
    let before = a.pending_events(1000).await.unwrap().len();
    assert_eq!(
        a.complete_jobs(&done).await.unwrap(),
        [true, true, false, true]
    );
    assert_eq!(a.get_text(t, ids[0]).await.unwrap().as_deref(), Some("one"));
    assert_eq!(a.get_text(t, ids[1]).await.unwrap().as_deref(), Some("two"));
    let failed = a.get_document(t, ids[2]).await.unwrap().expect("document");
    assert_eq!(
        (failed.status.as_str(), failed.failure.as_deref()),
        ("failed", Some("unreadable"))
    );
    let untouched = a.get_document(t, ids[3]).await.unwrap().expect("document");
    assert_eq!(untouched.status.as_str(), "processing");
    assert_eq!(a.get_text(t, ids[3]).await.unwrap(), None);
    assert_eq!(a.get_pages(t, ids[0], 1, 9).await.unwrap().len(), 2);
    assert!(a.get_pages(t, ids[3], 1, 9).await.unwrap().is_empty());
    let mut delivered: Vec<_> = a
        .webhook_deliveries(t, hook.id, 10)
        .await
        .unwrap()
        .iter()
        .map(|d| d.document_id)
        .collect();
    delivered.sort();
    assert_eq!(
        delivered,
        ids[..2],
        "the processed documents' deliveries only"
    );
    assert_eq!(
        b.queue_depth().await.unwrap(),
        2,
        "b's two jobs are still held"
    );
    // Only the recorded results' events were written.
    let written = events[0].len() + events[1].len() + events[3].len();
    assert_eq!(
        a.pending_events(1000).await.unwrap().len(),
        before + written
    );
    // b still completes its job.
    let result = processed("b's");
    let events = Event::of_job(&rest[0], &result, now);
    assert!(
        b.complete_job(&rest[0], "b", &result, &events, now)
            .await
            .unwrap()
    );
}
