//! Storage quotas: usage kept with every insert and delete, uploads past a quota refused
//! with nothing written, and no race between uploads (and deletes) passing a quota.

use super::*;
use docintel_backend::model::{Quota, QuotaSetting, StoredUsage, Usage};
use docintel_backend::{Error, IngestError};

const NONE: Quota = Quota::UNLIMITED;

/// Inserts a 5-byte document of `tenant` under `defaults`: its id, or the refusal's usage.
async fn try_upload(store: &dyn Store, tenant: TenantId, defaults: Quota) -> Result<Uuid, Usage> {
    let (doc, uploaded) = new_doc(tenant, "q.txt");
    match store
        .insert_document(&doc, &[uploaded], None, defaults)
        .await
    {
        Ok(Some(_)) => Ok(doc.id),
        Err(Error::Ingest(IngestError::QuotaExceeded(usage))) => Err(usage),
        other => panic!("unexpected insert result {other:?}"),
    }
}

async fn delete(store: &dyn Store, tenant: TenantId, id: Uuid) -> bool {
    let now = OffsetDateTime::now_utc();
    store
        .delete_document(tenant, id, &[Event::deleted(id, tenant, now)], now)
        .await
        .expect("delete")
        .is_some()
}

async fn stored(store: &dyn Store, tenant: TenantId) -> (u64, u64) {
    let u = store.tenant_usage(tenant).await.expect("usage");
    (u.documents, u.bytes)
}

async fn count(store: &dyn Store, tenant: TenantId) -> u64 {
    store
        .list_documents_offset(tenant, 0, 1)
        .await
        .expect("list")
        .1
}

pub async fn usage_follows_inserts_and_deletes_and_quotas_refuse<F: Factory>() {
    let (_db, stores) = F::open(1).await;
    let s = &*stores[0];
    let t = tenant(s, "quota").await;
    let other = tenant(s, "other").await;
    assert_eq!(s.tenant_usage(t).await.unwrap(), StoredUsage::default());

    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(try_upload(s, t, NONE).await.expect("within no quota"));
    }
    assert_eq!(stored(s, t).await, (3, 15));
    assert_eq!(stored(s, other).await, (0, 0), "another tenant's usage");

    // The tenant's own quota of 3 documents: the fourth is refused, nothing written.
    s.set_storage_quota(t, QuotaSetting::Keep, QuotaSetting::Set(Some(3)))
        .await
        .unwrap();
    let refused = try_upload(s, t, NONE).await.expect_err("past 3 documents");
    assert_eq!((refused.documents, refused.bytes), (3, 15));
    assert_eq!(refused.limits.max_documents, Some(3));
    assert_eq!(refused.limits.max_bytes, None);
    assert_eq!(count(s, t).await, 3, "a refused upload stores no document");
    assert_eq!(stored(s, t).await, (3, 15));
    // Another tenant is not held by it.
    try_upload(s, other, NONE).await.expect("other tenant");

    // A delete frees its share at once.
    assert!(delete(s, t, ids.remove(0)).await);
    assert_eq!(stored(s, t).await, (2, 10));
    ids.push(try_upload(s, t, NONE).await.expect("room again"));

    // Bytes: 15 stored, a limit of 19 leaves no room for 5 more; 20 does.
    s.set_storage_quota(t, QuotaSetting::Set(Some(19)), QuotaSetting::Default)
        .await
        .unwrap();
    let refused = try_upload(s, t, NONE).await.expect_err("past 19 bytes");
    assert_eq!(refused.limits.max_bytes, Some(19));
    s.set_storage_quota(t, QuotaSetting::Set(Some(20)), QuotaSetting::Keep)
        .await
        .unwrap();
    ids.push(try_upload(s, t, NONE).await.expect("exactly at 20 bytes"));
    assert_eq!(stored(s, t).await, (4, 20));

    // The operator's defaults hold tenants without their own quota, not those with one.
    s.set_storage_quota(t, QuotaSetting::Default, QuotaSetting::Default)
        .await
        .unwrap();
    let defaults = Quota {
        max_bytes: None,
        max_documents: Some(4),
    };
    let refused = try_upload(s, t, defaults).await.expect_err("default of 4");
    assert_eq!(refused.limits, defaults);
    s.set_storage_quota(t, QuotaSetting::Keep, QuotaSetting::Set(None))
        .await
        .unwrap();
    try_upload(s, t, defaults)
        .await
        .expect("its own unlimited quota wins over the default");
    assert_eq!(
        s.tenant_usage(t).await.unwrap().max_documents,
        Some(None),
        "stored as unlimited"
    );

    // Zero refuses every upload.
    s.set_storage_quota(other, QuotaSetting::Set(Some(0)), QuotaSetting::Keep)
        .await
        .unwrap();
    try_upload(s, other, NONE)
        .await
        .expect_err("a quota of 0 bytes");

    // A deleted document is gone from the usage once: a second delete changes nothing.
    let id = ids[0];
    assert!(delete(s, t, id).await);
    assert!(!delete(s, t, id).await);
    assert_eq!(stored(s, t).await, (4, 20));
    assert_eq!(count(s, t).await, 4);
}

/// Two tenants, one with a quota of 10 documents and one with room for 7 documents of 5
/// bytes (39 bytes, not 8 documents).
async fn two_quotas(store: &dyn Store) -> (TenantId, TenantId) {
    let by_docs = tenant(store, "docs").await;
    let by_bytes = tenant(store, "bytes").await;
    store
        .set_storage_quota(by_docs, QuotaSetting::Keep, QuotaSetting::Set(Some(10)))
        .await
        .unwrap();
    store
        .set_storage_quota(by_bytes, QuotaSetting::Set(Some(39)), QuotaSetting::Keep)
        .await
        .unwrap();
    (by_docs, by_bytes)
}

/// What [`two_quotas`]'s tenants hold at the end of a race: exactly their quotas.
async fn at_their_quotas(store: &dyn Store, (by_docs, by_bytes): (TenantId, TenantId)) {
    assert_eq!(count(store, by_docs).await, 10);
    assert_eq!(stored(store, by_docs).await, (10, 50));
    assert_eq!(count(store, by_bytes).await, 7);
    assert_eq!(stored(store, by_bytes).await, (7, 35));
}

/// 50 concurrent uploads of each of two tenants, over several handles (connections):
/// each ends with exactly its quota, one by documents and one by bytes.
pub async fn concurrent_uploads_stop_exactly_at_the_quota<F: Factory>() {
    let (_db, stores) = F::open(4).await;
    let (by_docs, by_bytes) = two_quotas(&*stores[0]).await;
    let mut tasks = Vec::new();
    for n in 0..100 {
        let store = stores[n % stores.len()].clone();
        let t = if n % 2 == 0 { by_docs } else { by_bytes };
        tasks.push(tokio::spawn(async move {
            try_upload(&*store, t, NONE).await.is_ok()
        }));
    }
    let mut stored_ok = 0;
    for task in tasks {
        stored_ok += usize::from(task.await.unwrap());
    }
    assert_eq!(stored_ok, 17);
    at_their_quotas(&*stores[0], (by_docs, by_bytes)).await;
}

/// The same race between groups of uploads inserted together, each group of both
/// tenants, half of them listing the tenants the other way round (each group locks the
/// usage rows in one order whatever its own): exactly the quotas again, no deadlock.
pub async fn concurrent_groups_of_uploads_stop_exactly_at_the_quota<F: Factory>() {
    let (_db, stores) = F::open(4).await;
    let tenants = two_quotas(&*stores[0]).await;
    let mut tasks = Vec::new();
    for n in 0..20 {
        let store = stores[n % stores.len()].clone();
        tasks.push(tokio::spawn(async move {
            let order = if n % 2 == 0 {
                [tenants.0, tenants.1]
            } else {
                [tenants.1, tenants.0]
            };
            let docs: Vec<(NewDocument, Event)> =
                (0..5).map(|i| new_doc(order[i % 2], "g.txt")).collect();
            let uploads: Vec<docintel_backend::store::Upload<'_>> = docs
                .iter()
                .map(|(doc, uploaded)| docintel_backend::store::Upload {
                    doc,
                    events: std::slice::from_ref(uploaded),
                    kept: None,
                    caller: None,
                })
                .collect();
            let outcomes = store.insert_documents(&uploads, NONE).await.expect("group");
            outcomes
                .iter()
                .filter(|o| match o {
                    Ok(Some(_)) => true,
                    Err(Error::Ingest(IngestError::QuotaExceeded(_))) => false,
                    other => panic!("unexpected outcome {other:?}"),
                })
                .count()
        }));
    }
    let mut stored_ok = 0;
    for task in tasks {
        stored_ok += task.await.unwrap();
    }
    assert_eq!(stored_ok, 17);
    at_their_quotas(&*stores[0], tenants).await;
}

/// Uploads and deletes racing on a full quota: at no moment are more documents stored
/// than the quota, and the usage matches the documents at the end.
pub async fn racing_uploads_and_deletes_never_pass_the_quota<F: Factory>() {
    let (_db, stores) = F::open(4).await;
    let t = tenant(&*stores[0], "race").await;
    stores[0]
        .set_storage_quota(t, QuotaSetting::Keep, QuotaSetting::Set(Some(10)))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.push(try_upload(&*stores[0], t, NONE).await.expect("fill"));
    }
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let store = stores[0].clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut most = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                most = most.max(count(&*store, t).await);
                tokio::task::yield_now().await;
            }
            most
        })
    };
    let mut tasks = Vec::new();
    for (n, id) in ids.into_iter().enumerate() {
        let store = stores[n % stores.len()].clone();
        tasks.push(tokio::spawn(async move {
            assert!(delete(&*store, t, id).await);
            0
        }));
        for k in 0..3 {
            let store = stores[(n + k + 1) % stores.len()].clone();
            tasks.push(tokio::spawn(async move {
                usize::from(try_upload(&*store, t, NONE).await.is_ok())
            }));
        }
    }
    let mut uploaded = 0;
    for task in tasks {
        uploaded += task.await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let most = watcher.await.unwrap();
    assert!(most <= 10, "{most} documents stored at once, quota 10");
    let now = count(&*stores[0], t).await;
    assert_eq!(
        now, uploaded as u64,
        "every fill deleted, the rest uploaded"
    );
    assert!(now <= 10);
    assert_eq!(stored(&*stores[0], t).await, (now, now * 5));
}

/// Uploads inserted together (one transaction): each counted against its tenant's quota
/// after those before it, each keeping its own key (the first of a key in the group, and
/// none held by an earlier response), each audited under its own caller; what is refused
/// or held writes nothing, not even its key.
pub async fn uploads_inserted_together_each_count_and_keep_their_own_keys<F: Factory>() {
    use docintel_backend::audit::{AuditFilter, Caller};
    use docintel_backend::store::Upload;

    let (_db, stores) = F::open(1).await;
    let s = &*stores[0];
    let (a, b) = (tenant(s, "a").await, tenant(s, "b").await);
    s.set_storage_quota(a, QuotaSetting::Keep, QuotaSetting::Set(Some(2)))
        .await
        .unwrap();
    let response = |n: u32| StoredResponse {
        request_hash: format!("h{n}"),
        status: 202,
        location: Some(format!("/v2/documents/{n}")),
        body: format!("{{\"n\":{n}}}"),
    };
    let day = Duration::from_secs(24 * 3600);
    // An earlier response holds b's key "held".
    let (earlier, e0) = new_doc(b, "earlier.txt");
    let r0 = response(0);
    let kept = KeptResponse {
        key: "held",
        response: &r0,
        forget_before: earlier.created_at - day,
    };
    assert!(
        s.insert_document(&earlier, &[e0], Some(kept), NONE)
            .await
            .unwrap()
            .is_some()
    );

    let plan: [(TenantId, Option<&str>); 7] = [
        (a, Some("k1")),
        (b, Some("held")),
        (a, None),
        (a, Some("k2")), // a's third document: past its quota of 2
        (b, Some("k3")),
        (b, Some("k3")), // the group's second upload under b's "k3"
        (b, None),
    ];
    let docs: Vec<(NewDocument, Event)> = plan.iter().map(|(t, _)| new_doc(*t, "g.txt")).collect();
    let responses: Vec<StoredResponse> = (1..=7).map(response).collect();
    let callers: Vec<Caller> = plan
        .iter()
        .enumerate()
        .map(|(i, (t, _))| Caller {
            tenant: Some(*t),
            actor: Some(format!("key-{i}")),
            address: Some("192.0.2.1".into()),
            request_id: Some(format!("req-{i}")),
        })
        .collect();
    let uploads: Vec<Upload<'_>> = plan
        .iter()
        .enumerate()
        .map(|(i, (_, key))| Upload {
            doc: &docs[i].0,
            events: std::slice::from_ref(&docs[i].1),
            kept: key.map(|key| KeptResponse {
                key,
                response: &responses[i],
                forget_before: docs[i].0.created_at - day,
            }),
            caller: Some(&callers[i]),
        })
        .collect();
    let outcomes = s
        .insert_documents(&uploads, NONE)
        .await
        .expect("one transaction");
    let shape: Vec<&str> = outcomes
        .iter()
        .map(|o| match o {
            Ok(Some(_)) => "inserted",
            Ok(None) => "held",
            Err(Error::Ingest(IngestError::QuotaExceeded(_))) => "refused",
            Err(e) => panic!("unexpected outcome {e:?}"),
        })
        .collect();
    assert_eq!(
        shape,
        [
            "inserted", "held", "inserted", "refused", "inserted", "held", "inserted"
        ]
    );
    let Err(Error::Ingest(IngestError::QuotaExceeded(usage))) = &outcomes[3] else {
        unreachable!()
    };
    assert_eq!(
        (usage.documents, usage.bytes),
        (2, 10),
        "the usage the two before it made"
    );
    assert_eq!(usage.limits.max_documents, Some(2));
    let inserted = [0, 2, 4, 6];
    for i in inserted {
        let doc = outcomes[i].as_ref().unwrap().as_ref().unwrap();
        assert_eq!((doc.id, doc.tenant_id), (docs[i].0.id, plan[i].0));
    }

    // Usage and documents: a's two, b's earlier one and two.
    assert_eq!(stored(s, a).await, (2, 10));
    assert_eq!(stored(s, b).await, (3, 15));
    assert_eq!((count(s, a).await, count(s, b).await), (2, 3));
    for i in [1, 3, 5] {
        assert!(
            s.get_document(plan[i].0, docs[i].0.id)
                .await
                .unwrap()
                .is_none(),
            "upload {i}"
        );
    }

    // Keys: each kept one answers with its own response; the refused upload's is gone.
    let since = OffsetDateTime::now_utc() - day;
    let kept = |t, key| s.idempotent_response(t, key, since);
    assert_eq!(kept(a, "k1").await.unwrap(), Some(responses[0].clone()));
    assert_eq!(kept(b, "held").await.unwrap(), Some(r0.clone()));
    assert_eq!(
        kept(a, "k2").await.unwrap(),
        None,
        "a refused upload keeps no key"
    );
    assert_eq!(kept(b, "k3").await.unwrap(), Some(responses[4].clone()));

    // Jobs in the group's order, after the earlier upload's; an event each.
    let jobs = s
        .claim_jobs("w", Duration::from_secs(60), 10)
        .await
        .unwrap();
    let claimed: Vec<Uuid> = jobs.iter().map(|j| j.document_id).collect();
    let expected: Vec<Uuid> = std::iter::once(earlier.id)
        .chain(inserted.iter().map(|i| docs[*i].0.id))
        .collect();
    assert_eq!(claimed, expected);
    let events = s.pending_events(100).await.unwrap();
    let uploaded: HashSet<String> = events
        .iter()
        .map(|e| {
            Event::from_json(&e.topic, &e.payload)
                .unwrap()
                .document_id()
                .to_string()
        })
        .collect();
    assert_eq!(uploaded, expected.iter().map(Uuid::to_string).collect());

    // The audit trail: an entry per inserted upload, under its own caller.
    for t in [a, b] {
        let trail = s
            .audit_events(Some(t), &AuditFilter::default(), None, 100)
            .await
            .unwrap();
        let mut got: Vec<(String, String, Option<String>)> = trail
            .into_iter()
            .map(|e| (e.resource_id, e.actor, e.request_id))
            .collect();
        got.sort();
        let mut want: Vec<(String, String, Option<String>)> = inserted
            .iter()
            .filter(|i| plan[**i].0 == t)
            .map(|&i| {
                (
                    docs[i].0.id.to_string(),
                    format!("key-{i}"),
                    Some(format!("req-{i}")),
                )
            })
            .collect();
        want.sort();
        assert_eq!(got, want);
    }
}
