use docintel_backend::audit::{self, AuditFilter};
use docintel_backend::model::Quota;
use docintel_backend::store::NewKey;

use super::*;

/// The trail's entries as (action, resource id), newest first.
async fn trail(
    store: &dyn Store,
    tenant: Option<TenantId>,
    filter: &AuditFilter,
) -> Vec<(String, String)> {
    store
        .audit_events(tenant, filter, None, 100)
        .await
        .expect("audit events")
        .into_iter()
        .map(|e| (e.action, e.resource_id))
        .collect()
}

fn entry(action: &str, id: impl ToString) -> (String, String) {
    (action.to_owned(), id.to_string())
}

pub async fn audited_writes_record_their_caller_in_their_own_transaction<F: Factory>() {
    let (_db, stores) = F::open(2).await;
    let store = &*stores[0];
    let (t, other) = (tenant(store, "t").await, tenant(store, "other").await);
    let all = AuditFilter::default();

    // The system's own writes (no caller) are not recorded.
    let unaudited = upload(store, t, "system.txt").await;
    assert_eq!(trail(store, None, &all).await, vec![]);

    let key_hash = "ab".repeat(32);
    let (doc, hook) = audit::within(Some("192.0.2.1".into()), Some("req-1".into()), async {
        audit::identify(t, "key_00000000000000aa");
        let doc = upload(store, t, "a.txt").await;
        let hook = store
            .create_webhook(
                t,
                &NewWebhook {
                    url: "https://example.com/h".into(),
                    description: None,
                    event_types: vec!["doc.processed".into()],
                },
                "whsec_secret",
                OffsetDateTime::now_utc(),
            )
            .await
            .expect("webhook");
        let now = OffsetDateTime::now_utc();
        assert!(
            store
                .rotate_webhook_secret(t, hook.id, "whsec_2", now)
                .await
                .unwrap()
        );
        assert!(store.enable_webhook(t, hook.id).await.unwrap());
        // Another tenant's webhook: nothing changes, nothing is recorded.
        assert!(!store.delete_webhook(other, hook.id).await.unwrap());
        assert!(store.delete_webhook(t, hook.id).await.unwrap());
        let key = NewKey {
            key_hash: &key_hash,
            prefix: "dik_abababab",
            admin: false,
            scopes: docintel_backend::keys::Scopes::ALL,
            expires_at: None,
            now,
        };
        store.add_api_key(t, key).await.expect("key");
        assert!(
            store
                .revoke_api_key(t, "key_abababababababab", now)
                .await
                .unwrap()
        );
        assert!(
            !store
                .revoke_api_key(t, "key_abababababababab", now)
                .await
                .unwrap()
        );
        let deleted = store.delete_document(t, doc, &[], now).await.unwrap();
        assert!(deleted.is_some());
        assert!(
            store
                .broker_insert("pact", "c/p", "1.0", "{}")
                .await
                .unwrap()
        );
        assert!(
            !store
                .broker_insert("pact", "c/p", "1.0", "{}")
                .await
                .unwrap()
        );
        (doc, hook.id)
    })
    .await;

    let expected = vec![
        entry("broker.pact.create", "c/p/1.0"),
        entry("document.delete", doc),
        entry("key.revoke", "key_abababababababab"),
        entry("key.create", "key_abababababababab"),
        entry("webhook.delete", hook),
        entry("webhook.enable", hook),
        entry("webhook.rotate_secret", hook),
        entry("webhook.create", hook),
        entry("document.upload", doc),
    ];
    // Another handle (another process) reads what was committed.
    assert_eq!(trail(&*stores[1], Some(t), &all).await, expected);
    assert_eq!(
        trail(store, Some(other), &all).await,
        vec![],
        "not the other tenant's"
    );
    assert!(!expected.iter().any(|(_, id)| *id == unaudited.to_string()));
    let events = store.audit_events(Some(t), &all, None, 100).await.unwrap();
    for e in &events {
        assert_eq!(e.tenant, t);
        assert_eq!(e.actor, "key_00000000000000aa");
        assert_eq!(e.address.as_deref(), Some("192.0.2.1"));
        assert_eq!(e.request_id.as_deref(), Some("req-1"));
    }
    assert!(
        events.windows(2).all(|w| w[0].seq > w[1].seq),
        "newest first"
    );

    // Filters: an exact action, a prefix (whose `_` is no wildcard), time, and pages.
    let only = |action: &str| AuditFilter {
        action: Some(action.to_owned()),
        ..AuditFilter::default()
    };
    assert_eq!(
        trail(store, Some(t), &only("document.delete")).await,
        vec![entry("document.delete", doc)]
    );
    assert_eq!(
        trail(store, Some(t), &only("webhook.")).await,
        expected[4..8].to_vec()
    );
    assert_eq!(trail(store, Some(t), &only("webhook_")).await, vec![]);
    assert_eq!(
        trail(store, Some(t), &only("document.upload.")).await,
        vec![]
    );
    let future = AuditFilter {
        since: Some(OffsetDateTime::now_utc() + time::Duration::hours(1)),
        ..AuditFilter::default()
    };
    assert_eq!(trail(store, Some(t), &future).await, vec![]);
    let past = AuditFilter {
        until: Some(OffsetDateTime::now_utc() + time::Duration::hours(1)),
        ..AuditFilter::default()
    };
    assert_eq!(trail(store, Some(t), &past).await.len(), expected.len());
    let first = store.audit_events(Some(t), &all, None, 4).await.unwrap();
    let rest = store
        .audit_events(Some(t), &all, Some(first[3].seq), 100)
        .await
        .unwrap();
    assert_eq!((first.len(), rest.len()), (4, expected.len() - 4));
    assert_eq!(rest[0].action, expected[4].0);

    // A write refused inside its transaction leaves no entry: the rollback takes it too.
    audit::as_operator(t, async {
        let response = StoredResponse {
            request_hash: "h".into(),
            status: 202,
            location: None,
            body: String::new(),
        };
        let now = OffsetDateTime::now_utc();
        let kept = KeptResponse {
            key: "k",
            response: &response,
            forget_before: now - Duration::from_secs(3600),
        };
        let (first, e1) = new_doc(t, "x.txt");
        let (second, e2) = new_doc(t, "y.txt");
        assert!(
            store
                .insert_document(&first, &[e1], Some(kept), Quota::UNLIMITED)
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .insert_document(&second, &[e2], Some(kept), Quota::UNLIMITED)
                .await
                .unwrap()
                .is_none()
        );
        let trail = trail(store, Some(t), &only("document.upload")).await;
        assert_eq!(trail[0], entry("document.upload", first.id), "{trail:?}");
        assert!(!trail.contains(&entry("document.upload", second.id)));
        let newest = store.audit_events(Some(t), &all, None, 1).await.unwrap();
        assert_eq!(newest[0].actor, audit::OPERATOR);
        assert_eq!(newest[0].address, None);
    })
    .await;

    // Retention removes what is older than its bound, and only that.
    let total = trail(store, None, &all).await.len() as u64;
    assert_eq!(
        store
            .purge_audit_events(OffsetDateTime::now_utc() - time::Duration::hours(1), 100)
            .await
            .unwrap(),
        0
    );
    let removed = store
        .purge_audit_events(OffsetDateTime::now_utc() + time::Duration::hours(1), 3)
        .await
        .unwrap();
    assert_eq!(removed, 3, "at most the batch");
    assert_eq!(trail(store, None, &all).await.len() as u64, total - 3);
}
