//! A migration that fails on PostgreSQL leaves the schema as it was and names itself: the
//! store's migrations run through sqlx's migrator, one transaction per migration. Shown
//! with a scratch pair of migrations, the second of which fails half-way.

use docintel_testkit::postgres::TestDatabase;
use sqlx::migrate::Migrator;

#[tokio::test]
async fn a_failing_migration_is_rolled_back_and_named() {
    let db = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("0001_first.sql"),
        "CREATE TABLE first (x INT);",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("0002_second.sql"),
        "CREATE TABLE second (x INT);\nINSERT INTO missing_table VALUES (1);",
    )
    .unwrap();
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let error = Migrator::new(dir.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .expect_err("the second migration fails");
    let message = error.to_string();
    assert!(message.contains("migration 2"), "{message}");
    assert!(message.contains("missing_table"), "{message}");
    let exists = |table: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, bool>("SELECT to_regclass($1) IS NOT NULL")
                .bind(table)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert!(exists("first").await, "the first migration stays applied");
    assert!(
        !exists("second").await,
        "the failed one left a table behind"
    );
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(applied, [1]);
}

/// Applies the store's migrations numbered below 22 (the schema before storage quotas)
/// from `dir` to `pool`'s database.
async fn migrate_before_quotas<DB: sqlx::Database>(dir: &str, pool: &sqlx::Pool<DB>)
where
    <DB as sqlx::Database>::Connection: sqlx::migrate::Migrate,
{
    let before = tempfile::tempdir().unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    for entry in std::fs::read_dir(source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name[..4].parse::<u32>().unwrap() < 22 {
            std::fs::copy(&path, before.path().join(name)).unwrap();
        }
    }
    Migrator::new(before.path())
        .await
        .unwrap()
        .run(pool)
        .await
        .unwrap();
}

/// Two tenants, one with three documents (10, 20 and 30 bytes), one with none.
const SEED: &[&str] = &[
    "INSERT INTO tenants (id, name, created_at) VALUES \
     ('00000000-0000-7000-8000-000000000001', 'full', 0), \
     ('00000000-0000-7000-8000-000000000002', 'empty', 0)",
    "INSERT INTO documents (id, tenant_id, filename, status, content_type, size_bytes, \
     sha256, blob_key, created_at, updated_at) VALUES \
     ('00000000-0000-7000-8000-00000000000a', '00000000-0000-7000-8000-000000000001', 'a.txt', 'processed', 'text/plain', 10, 'x', 'a', 0, 0), \
     ('00000000-0000-7000-8000-00000000000b', '00000000-0000-7000-8000-000000000001', 'b.txt', 'failed', 'text/plain', 20, 'x', 'b', 0, 0), \
     ('00000000-0000-7000-8000-00000000000c', '00000000-0000-7000-8000-000000000001', 'c.txt', 'queued', 'text/plain', 30, 'x', 'c', 0, 0)",
];

async fn usage_is_initialised(store: &dyn docintel_backend::store::Store) {
    use docintel_backend::model::TenantId;
    let id = |s: &str| TenantId(s.parse().unwrap());
    let full = store
        .tenant_usage(id("00000000-0000-7000-8000-000000000001"))
        .await
        .unwrap();
    assert_eq!(
        (full.documents, full.bytes),
        (3, 60),
        "failed ones count too"
    );
    assert_eq!((full.max_documents, full.max_bytes), (None, None));
    let empty = store
        .tenant_usage(id("00000000-0000-7000-8000-000000000002"))
        .await
        .unwrap();
    assert_eq!((empty.documents, empty.bytes), (0, 0));
}

#[tokio::test]
async fn the_quota_migration_counts_existing_documents_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("docintel.db");
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    migrate_before_quotas("migrations", &pool).await;
    for statement in SEED {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    pool.close().await;
    let store = docintel_backend::store::SqliteStore::open(&path)
        .await
        .unwrap();
    usage_is_initialised(&store).await;
}

#[tokio::test]
async fn the_quota_migration_counts_existing_documents_postgres() {
    let db = TestDatabase::create().await;
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    migrate_before_quotas("migrations-postgres", &pool).await;
    for statement in SEED {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    pool.close().await;
    let store = docintel_backend::store::PgStore::connect(&db.url)
        .await
        .unwrap();
    usage_is_initialised(&store).await;
}
