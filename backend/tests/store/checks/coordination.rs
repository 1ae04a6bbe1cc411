//! Several processes on one store: leadership, wake-ups, shared request quotas.

use super::*;

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
    upload_heard(&*stores[0], &wakes, t, "a.txt").await;

    // A claim queues no work: taking a job or finding none, it wakes nobody (woken idle
    // workers would claim, and wake each other, forever). Notifications arrive in commit
    // order, so once a later delete's event has woken the handle, a claim's would have too.
    // The second upload's own wake-ups arrive on their own time: wait for them first, so
    // that they cannot be taken for a claim's, nor stand for the fence below.
    let other = upload_heard(&*stores[0], &wakes, t, "b.txt").await;
    let jobs = wakes.jobs.notified();
    tokio::pin!(jobs);
    jobs.as_mut().enable();
    let lease = Duration::from_secs(30);
    assert_eq!(
        stores[0].claim_jobs("a-0", lease, 1).await.unwrap().len(),
        1
    );
    assert_eq!(
        stores[0].claim_jobs("a-0", lease, 1).await.unwrap().len(),
        1
    );
    assert!(
        stores[0]
            .claim_jobs("a-0", lease, 1)
            .await
            .unwrap()
            .is_empty()
    );
    let events = wakes.events.notified();
    let now = OffsetDateTime::now_utc();
    let deleted = Event::deleted(other, t, now);
    stores[0]
        .delete_document(t, other, &[deleted], now)
        .await
        .unwrap()
        .expect("deleted");
    tokio::time::timeout(Duration::from_secs(10), events)
        .await
        .expect("the delete's event woke the other handle");
    assert!(
        futures_util::FutureExt::now_or_never(jobs.as_mut()).is_none(),
        "a claim woke the workers"
    );
    // A lease handed back makes its job claimable again: that wakes them.
    assert_eq!(stores[0].release_leases_of("a-").await.unwrap(), 1);
    tokio::time::timeout(Duration::from_secs(10), jobs)
        .await
        .expect("the job handed back woke the other handle");

    // A result whose events nobody subscribed to writes no delivery, and wakes no
    // webhook sender (it would look for deliveries after every batch of results). Fenced
    // as above, by a later upload's wake-ups.
    let deliveries = wakes.deliveries.notified();
    tokio::pin!(deliveries);
    deliveries.as_mut().enable();
    process_next(&*stores[0], "one").await;
    upload_heard(&*stores[0], &wakes, t, "c.txt").await;
    assert!(
        futures_util::FutureExt::now_or_never(deliveries.as_mut()).is_none(),
        "a result nobody subscribed to woke the webhook senders"
    );
    // One a subscription wants does (the same waiter: a sender is woken with
    // `notify_one`, which goes to the waiter that waited longest).
    subscribe(&*stores[0], t, &["doc.processed"]).await;
    process_next(&*stores[0], "two").await;
    tokio::time::timeout(Duration::from_secs(10), deliveries)
        .await
        .expect("a result a subscription wants woke the webhook senders");
    listening.abort();
}

/// Uploads `name` and waits until its job and its event woke the handle listening with
/// `wakes`.
async fn upload_heard(
    store: &dyn Store,
    wakes: &docintel_backend::store::Wakes,
    tenant: TenantId,
    name: &str,
) -> Uuid {
    let jobs = wakes.jobs.notified();
    let events = wakes.events.notified();
    let id = upload(store, tenant, name).await;
    tokio::time::timeout(Duration::from_secs(10), async {
        jobs.await;
        events.await;
    })
    .await
    .unwrap_or_else(|_| panic!("the upload of {name}: its job and event woke the other handle"));
    id
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
