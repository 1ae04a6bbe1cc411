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

/// 50 concurrent uploads of each of two tenants, over several handles (connections):
/// each ends with exactly its quota, one by documents and one by bytes.
pub async fn concurrent_uploads_stop_exactly_at_the_quota<F: Factory>() {
    let (_db, stores) = F::open(4).await;
    let by_docs = tenant(&*stores[0], "docs").await;
    let by_bytes = tenant(&*stores[0], "bytes").await;
    stores[0]
        .set_storage_quota(by_docs, QuotaSetting::Keep, QuotaSetting::Set(Some(10)))
        .await
        .unwrap();
    // Room for 7 documents of 5 bytes, not 8.
    stores[0]
        .set_storage_quota(by_bytes, QuotaSetting::Set(Some(39)), QuotaSetting::Keep)
        .await
        .unwrap();
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
    assert_eq!(count(&*stores[0], by_docs).await, 10);
    assert_eq!(stored(&*stores[0], by_docs).await, (10, 50));
    assert_eq!(count(&*stores[0], by_bytes).await, 7);
    assert_eq!(stored(&*stores[0], by_bytes).await, (7, 35));
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
