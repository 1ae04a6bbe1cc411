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
