//! The suite on PostgreSQL: each check gets a fresh database (see
//! `docintel_testkit::postgres`) and its handles are separate pools on it.

use std::sync::Arc;

use docintel_backend::store::{PgStore, Store};
use docintel_testkit::postgres::TestDatabase;

use crate::Factory;

pub struct Postgres;

impl Factory for Postgres {
    type Guard = TestDatabase;

    async fn open(handles: usize) -> (TestDatabase, Vec<Arc<dyn Store>>) {
        let db = TestDatabase::create().await;
        let mut stores: Vec<Arc<dyn Store>> = Vec::new();
        for _ in 0..handles {
            let store = PgStore::connect(&db.url)
                .await
                .unwrap_or_else(|e| panic!("connecting to {}: {e}", db.url));
            stores.push(Arc::new(store));
        }
        (db, stores)
    }
}

/// While the document listener is down, changes go unheard: the cache must be bypassed
/// then and forgotten before it is used again. The change here is made unheard on
/// purpose (its trigger disabled), so only the pause and the flush can keep it from
/// being served stale.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_document_listener_never_lets_an_unheard_change_be_served_stale() {
    use docintel_backend::model::Quota;
    use docintel_backend::store::{DOCUMENT_LISTENER_NAME, NewDocument};
    use sqlx::Connection;
    use std::time::{Duration, Instant};

    let db = TestDatabase::create().await;
    let reader: Arc<dyn Store> = Arc::new(PgStore::connect(&db.url).await.unwrap());
    let _watching = reader.watch_documents().await.unwrap();
    let mut sql = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let now = time::OffsetDateTime::now_utc();
    let tenant = reader.create_tenant("t", now).await.unwrap().id;
    let id = uuid::Uuid::now_v7();
    let doc = NewDocument {
        id,
        tenant_id: tenant,
        filename: "before.txt".into(),
        content_type: docintel_backend::model::ContentType::Text,
        size_bytes: 1,
        sha256: "0".repeat(64),
        blob_key: "k".into(),
        created_at: now,
        inline_bytes: None,
    };
    reader
        .insert_document(&doc, &[], None, Quota::UNLIMITED)
        .await
        .unwrap()
        .unwrap();
    let filename = async || {
        reader
            .get_document(tenant, id)
            .await
            .unwrap()
            .map(|d| d.filename)
    };
    // Renames the document as another process would; unheard: with its notice suppressed.
    let rename = async |sql: &mut sqlx::PgConnection, name: &str, heard: bool| {
        let update = format!("UPDATE documents SET filename = '{name}' WHERE id = '{id}'");
        let update = if heard {
            update
        } else {
            format!(
                "ALTER TABLE documents DISABLE TRIGGER documents_changed; {update}; \
                 ALTER TABLE documents ENABLE TRIGGER documents_changed"
            )
        };
        sqlx::raw_sql(&update).execute(sql).await.unwrap();
    };
    // Waits (1 s at most) until the document read is named `name`.
    let shows = async |name: &str, what: &str| {
        let start = Instant::now();
        while filename().await.as_deref() != Some(name) {
            assert!(start.elapsed() < Duration::from_secs(1), "{what}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    assert_eq!(filename().await.as_deref(), Some("before.txt"));
    rename(&mut sql, "unheard.txt", false).await;
    // Kept: the unheard change is not seen (what the listener exists for).
    assert_eq!(
        filename().await.as_deref(),
        Some("before.txt"),
        "the cache is not in use"
    );

    let listener_pid = async |sql: &mut sqlx::PgConnection| -> Option<i32> {
        sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE application_name = $1")
            .bind(DOCUMENT_LISTENER_NAME)
            .fetch_optional(&mut *sql)
            .await
            .unwrap()
    };
    let first = listener_pid(&mut sql).await.expect("a listener session");
    let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(first)
        .fetch_one(&mut sql)
        .await
        .unwrap();
    assert!(killed);
    // The loss is noticed at once: the database is read again.
    shows("unheard.txt", "stale after the listener was lost").await;
    // Back again (a new session), a change made meanwhile or after is never stale.
    let start = Instant::now();
    loop {
        if let Some(pid) = listener_pid(&mut sql).await
            && pid != first
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the listener did not come back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(filename().await.as_deref(), Some("unheard.txt"));
    rename(&mut sql, "heard.txt", true).await;
    shows("heard.txt", "a change after the reconnect was not heard").await;
    // And kept again once heard (a read after the notice arrived): an unheard change is
    // now not seen.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(filename().await.as_deref(), Some("heard.txt"));
    rename(&mut sql, "unheard again.txt", false).await;
    assert_eq!(
        filename().await.as_deref(),
        Some("heard.txt"),
        "the cache is not in use after the reconnect"
    );
}

/// Uploads commit without waiting for their flush (their tenant's usage row is then
/// locked for the commit only); what `make_durable` acknowledges is flushed, and so is
/// what another process's `make_all_durable` (the event relay's) covers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn make_durable_flushes_every_upload_committed_before_it_in_any_process() {
    use docintel_backend::model::Quota;
    use docintel_backend::store::NewDocument;
    use sqlx::Connection;

    let db = TestDatabase::create().await;
    let uploader: Arc<dyn Store> = Arc::new(PgStore::connect(&db.url).await.unwrap());
    let relay: Arc<dyn Store> = Arc::new(PgStore::connect(&db.url).await.unwrap());
    let mut sql = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let now = time::OffsetDateTime::now_utc();
    let tenant = uploader.create_tenant("t", now).await.unwrap().id;
    for n in 0..2 {
        let doc = NewDocument {
            id: uuid::Uuid::now_v7(),
            tenant_id: tenant,
            filename: format!("{n}.txt"),
            content_type: docintel_backend::model::ContentType::Text,
            size_bytes: 1,
            sha256: "0".repeat(64),
            blob_key: format!("k{n}"),
            created_at: now,
            inline_bytes: Some(docintel_backend::store::InlineBytes(vec![b'a'])),
        };
        uploader
            .insert_document(&doc, &[], None, Quota::UNLIMITED)
            .await
            .unwrap()
            .unwrap();
        let committed: String = sqlx::query_scalar("SELECT pg_current_wal_insert_lsn()::text")
            .fetch_one(&mut sql)
            .await
            .unwrap();
        if n == 0 {
            // The uploading process's acknowledgement.
            uploader.make_durable().await.unwrap();
        } else {
            // The relay, in another process, before it publishes the upload's event.
            relay.make_all_durable().await.unwrap();
        }
        let flushed: bool =
            sqlx::query_scalar("SELECT pg_current_wal_flush_lsn() >= $1::text::pg_lsn")
                .bind(&committed)
                .fetch_one(&mut sql)
                .await
                .unwrap();
        assert!(flushed, "the upload's commit at {committed} is not flushed");
    }
    let usage: i64 = sqlx::query_scalar("SELECT documents FROM tenant_usage")
        .fetch_one(&mut sql)
        .await
        .unwrap();
    assert_eq!(usage, 2, "both uploads counted");
}

/// A burst of jobs into an empty queue is analyzed by the handle that queued it, not a
/// minute later by autovacuum: claims are planned for the queue's real length (with an
/// empty table's statistics PostgreSQL walks the whole queue on every claim). The young
/// documents' table is analyzed each time the handle's inserts double it, so that plans
/// cached while it was small (reading it whole) are made again for its size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_jobs_is_analyzed_at_once() {
    use docintel_backend::model::{ContentType, Quota};
    use docintel_backend::store::{NewDocument, Upload};
    use sqlx::Connection;
    use std::time::{Duration, Instant};

    let db = TestDatabase::create().await;
    let store: Arc<dyn Store> = Arc::new(PgStore::connect(&db.url).await.unwrap());
    let mut sql = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let analyzed = async |sql: &mut sqlx::PgConnection, table: &str| -> (i64, f32) {
        sqlx::query_as(
            "SELECT s.analyze_count, c.reltuples FROM pg_stat_user_tables s \
             JOIN pg_class c ON c.oid = s.relid WHERE s.relname = $1",
        )
        .bind(table)
        .fetch_one(sql)
        .await
        .unwrap()
    };
    assert_eq!(analyzed(&mut sql, "jobs").await.0, 0);
    assert_eq!(analyzed(&mut sql, "documents").await.0, 0);
    let now = time::OffsetDateTime::now_utc();
    let tenant = store.create_tenant("t", now).await.unwrap().id;
    for _ in 0..22 {
        let docs: Vec<NewDocument> = (0..50)
            .map(|_| {
                let id = uuid::Uuid::now_v7();
                NewDocument {
                    id,
                    tenant_id: tenant,
                    filename: "a.txt".into(),
                    content_type: ContentType::Text,
                    size_bytes: 1,
                    sha256: "0".repeat(64),
                    blob_key: format!("{}/{id}", tenant.0),
                    created_at: now,
                    inline_bytes: None,
                }
            })
            .collect();
        let uploads: Vec<Upload<'_>> = docs
            .iter()
            .map(|doc| Upload {
                doc,
                events: &[],
                kept: None,
                caller: None,
            })
            .collect();
        let outcomes = store
            .insert_documents(&uploads, Quota::UNLIMITED)
            .await
            .unwrap();
        assert!(outcomes.iter().all(|o| matches!(o, Ok(Some(_)))));
    }
    // The analyses run in the background; the statistics views lag by up to a second.
    // Documents: at 300 inserted (the first batch past 256), then at 600 (twice that).
    let started = Instant::now();
    let ((count, rows), (documents_count, documents_rows)) = loop {
        let jobs = analyzed(&mut sql, "jobs").await;
        let documents = analyzed(&mut sql, "documents").await;
        if (jobs.0 > 0 && documents.0 >= 2) || started.elapsed() > Duration::from_secs(30) {
            break (jobs, documents);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(count >= 1, "the jobs were never analyzed");
    assert!(
        rows >= 1000.0,
        "statistics of {rows} jobs, not the 1,100 queued"
    );
    assert!(
        documents_count >= 2,
        "the documents were analyzed {documents_count} times, not as they doubled"
    );
    assert!(
        documents_rows >= 300.0,
        "statistics of {documents_rows} documents after 1,100 inserted"
    );
}

/// The listeners hold connections of their own: a pool of one still serves work while they
/// listen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listening_takes_no_connection_from_the_pool() {
    let db = TestDatabase::create().await;
    let store: Arc<dyn Store> = Arc::new(PgStore::connect_with(&db.url, 1).await.unwrap());
    let _wakes = store.listen(Default::default()).await.unwrap();
    let _documents = store.watch_documents().await.unwrap();
    let now = time::OffsetDateTime::now_utc();
    store.create_tenant("t", now).await.unwrap();
    assert_eq!(store.queue_depth().await.unwrap(), 0);
}

/// However many callers wait, a handle holds no more connections than its pools' sizes:
/// `n` for reads of documents, `n - 1` for the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handle_holds_at_most_its_pool_size_of_connections() {
    use docintel_backend::model::ListFilter;
    use docintel_backend::store::pool_sizes;
    use sqlx::Connection;
    use std::time::Duration;

    assert_eq!(pool_sizes(3), (3, 2));
    assert_eq!(pool_sizes(1), (1, 1));
    let db = TestDatabase::create().await;
    let store: Arc<dyn Store> = Arc::new(PgStore::connect_with(&db.url, 3).await.unwrap());
    let tenant = store
        .create_tenant("t", time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    let mut sql = sqlx::PgConnection::connect(&db.url).await.unwrap();
    // Everyone's but this one; the connection that checked the URL may take a moment to go.
    let count = async |sql: &mut sqlx::PgConnection| -> i64 {
        sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_one(sql)
        .await
        .unwrap()
    };
    let settled = async |sql: &mut sqlx::PgConnection, at_most: i64| -> i64 {
        let mut held = count(sql).await;
        for _ in 0..40 {
            if held <= at_most {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            held = count(sql).await;
        }
        held
    };
    let work = (0..40).map(|_| {
        let store = store.clone();
        async move { store.queue_depth().await.map(|_| ()) }
    });
    for done in futures_util::future::join_all(work).await {
        done.unwrap();
    }
    let held = settled(&mut sql, 2).await;
    assert!((1..=2).contains(&held), "{held} connections held for work");
    let both = (0..80).map(|i| {
        let store = store.clone();
        async move {
            if i % 2 == 0 {
                store.queue_depth().await.map(|_| ())
            } else {
                let all = ListFilter::default();
                store
                    .list_documents(tenant.id, &all, None, 10)
                    .await
                    .map(|_| ())
            }
        }
    });
    for done in futures_util::future::join_all(both).await {
        done.unwrap();
    }
    let held = settled(&mut sql, 5).await;
    assert!(
        (3..=5).contains(&held),
        "{held} connections held, reads and work"
    );
}

/// Reads of documents have connections of their own: with every connection for work
/// waiting (here on a lock another session holds), a list still answers at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_of_documents_never_wait_for_a_connection_of_the_work() {
    use docintel_backend::model::ListFilter;
    use sqlx::Connection;
    use std::time::Duration;

    let db = TestDatabase::create().await;
    // One connection for work, two for reads.
    let store: Arc<dyn Store> = Arc::new(PgStore::connect_with(&db.url, 2).await.unwrap());
    let tenant = store
        .create_tenant("t", time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    let mut locker = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let mut tx = locker.begin().await.unwrap();
    sqlx::query("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await
        .unwrap();
    let blocked = tokio::spawn({
        let store = store.clone();
        async move { store.queue_depth().await }
    });
    // The work's only connection is waiting for the lock now.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !blocked.is_finished(),
        "the count did not wait for the lock"
    );
    let page = tokio::time::timeout(
        Duration::from_secs(2),
        store.list_documents(tenant.id, &ListFilter::default(), None, 10),
    )
    .await
    .expect("a list waited behind the work")
    .unwrap();
    assert!(page.items.is_empty());
    tx.rollback().await.unwrap();
    assert_eq!(blocked.await.unwrap().unwrap(), 0);
}

/// Results commit without waiting for their flush (a result lost with the log leaves its
/// job to be worked again); a webhook delivery one wrote is handed to the sender only once
/// flushed, so that a power cut cannot take back what was sent out. (The claim of
/// deliveries commits with its flush, which covers every commit before it; the relay
/// flushes before it publishes, checked above.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_is_handed_out_only_once_its_result_is_flushed() {
    use sqlx::Connection;

    let db = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = docintel_backend::Config::new(dir.path());
    config.database_url = Some(db.url.clone());
    let backend = docintel_backend::Backend::open(config).await.unwrap();
    let store = backend.store().clone();
    let mut sql = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let now = time::OffsetDateTime::now_utc();
    let tenant = store.create_tenant("t", now).await.unwrap().id;
    crate::checks::subscribe(&*store, tenant, &["doc.processed"]).await;
    crate::checks::upload(&*store, tenant, "a.txt").await;
    crate::checks::process_next(&*store, "done").await;
    let committed: String = sqlx::query_scalar("SELECT pg_current_wal_insert_lsn()::text")
        .fetch_one(&mut sql)
        .await
        .unwrap();
    let later = time::OffsetDateTime::now_utc();
    let due = backend
        .claim_deliveries(later, later + std::time::Duration::from_secs(60), 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 1, "the result's delivery");
    let flushed: bool = sqlx::query_scalar("SELECT pg_current_wal_flush_lsn() >= $1::text::pg_lsn")
        .bind(&committed)
        .fetch_one(&mut sql)
        .await
        .unwrap();
    assert!(
        flushed,
        "a delivery was handed out before its result's commit at {committed} was flushed"
    );
}
