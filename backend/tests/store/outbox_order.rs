//! On PostgreSQL a lower outbox `seq` can commit after a higher one was read: identity
//! values are handed out at insert, commits happen in any order. The relay marks the
//! rows it published by their ids, so the late one is still pending afterwards (marking
//! "every seq up to the highest read" would have lost it). SQLite serialises writers, so
//! this interleaving cannot happen there.

use std::sync::Arc;

use docintel_backend::events::Event;
use docintel_backend::store::{PgStore, Store};
use docintel_testkit::postgres::TestDatabase;
use sqlx::Connection;
use time::OffsetDateTime;

#[tokio::test]
async fn an_event_that_commits_late_is_not_marked_sent_with_its_successors() {
    let db = TestDatabase::create().await;
    let store: Arc<dyn Store> = Arc::new(PgStore::connect(&db.url).await.unwrap());
    let tenant = store
        .create_tenant("t", OffsetDateTime::now_utc())
        .await
        .unwrap()
        .id;
    let now = OffsetDateTime::now_utc();
    let early = Event::deleted(uuid::Uuid::now_v7(), tenant, now);
    // A writer takes the lower seq and holds its transaction open…
    let mut slow = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut slow).await.unwrap();
    let low: i64 = sqlx::query_scalar(
        "INSERT INTO outbox (event_id, topic, document_id, tenant_id, payload, created_at) \
         VALUES ($1, $2, $3, $4, $5, 0) RETURNING seq",
    )
    .bind(early.event_id())
    .bind(early.topic().name)
    .bind(early.document_id())
    .bind(early.tenant_id())
    .bind(early.to_json())
    .fetch_one(&mut slow)
    .await
    .unwrap();
    // …while another change commits a higher one, which the relay reads and publishes.
    let id = uuid::Uuid::now_v7();
    let doc_event = Event::uploaded(id, tenant, now, "a.txt", "text/plain", 1, "00");
    let new = docintel_backend::store::NewDocument {
        id,
        tenant_id: tenant,
        filename: "a.txt".into(),
        content_type: docintel_backend::model::ContentType::Text,
        size_bytes: 1,
        sha256: "00".into(),
        blob_key: "k".into(),
        created_at: now,
        inline_bytes: None,
    };
    store
        .insert_document(
            &new,
            &[doc_event],
            None,
            docintel_backend::model::Quota::UNLIMITED,
        )
        .await
        .unwrap();
    let read = store.pending_events(100).await.unwrap();
    assert!(read.iter().all(|r| r.seq > low), "{read:?}");
    assert_eq!(read.len(), 1);
    // The slow writer commits after the relay read, before it marks what it published.
    sqlx::query("COMMIT").execute(&mut slow).await.unwrap();
    store
        .mark_sent(&read.iter().map(|r| r.seq).collect::<Vec<_>>(), now)
        .await
        .unwrap();
    // The late event is pending, not lost.
    let pending = store.pending_events(100).await.unwrap();
    assert_eq!(pending.iter().map(|r| r.seq).collect::<Vec<_>>(), [low]);
    assert_eq!(pending[0].topic, "doc.deleted");
}
