//! The embedded store: SQLite through sqlx (async, pooled, with built-in migrations), one
//! process per database file. Writes run the shared SQL (`store/sql/`); point reads go
//! through rusqlite and a document cache, and durability through group commit.

mod audit;
mod broker;
mod coordination;
mod dialect;
mod documents;
mod durability;
mod idempotency;
mod jobs;
mod outbox;
mod registry;
mod tenants;
#[cfg(test)]
mod trace;
mod webhooks;

use audit::{audited, push_audits, write_audit};
use idempotency::keep_responses;
use outbox::{push_outbox, write_outbox};

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::doc_cache::DocCache;
use super::rows::*;
use super::sql::prelude::*;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    wal_sync: Arc<durability::WalSync>,
    reads: Arc<ReadPool>,
    docs: Arc<DocCache>,
}

/// Point reads on the hot path go through plain rusqlite connections: sqlx's SQLite
/// driver hands every statement to a per-connection thread, which costs more than the
/// read itself (measured: 12k vs 29k req/s for GET /v2/documents/{id}). Each runtime
/// thread keeps its own read-only connection per database, so reads contend on nothing;
/// in WAL mode a reader never waits for a writer, so these microsecond reads run inline.
struct ReadPool {
    path: PathBuf,
}

thread_local! {
    static READ_CONNECTIONS: std::cell::RefCell<Vec<(PathBuf, rusqlite::Connection)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

impl ReadPool {
    fn open(&self) -> rusqlite::Result<rusqlite::Connection> {
        let c = rusqlite::Connection::open_with_flags(
            &self.path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        c.busy_timeout(Duration::from_secs(10))?;
        Ok(c)
    }

    fn with<R>(&self, f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<R>) -> Result<R> {
        READ_CONNECTIONS.with(|cell| {
            let mut conns = cell.borrow_mut();
            let i = match conns.iter().position(|(p, _)| *p == self.path) {
                Some(i) => i,
                None => {
                    conns.push((self.path.clone(), self.open()?));
                    conns.len() - 1
                }
            };
            Ok(f(&conns[i].1)?)
        })
    }
}

impl Drop for ReadPool {
    /// Closes this thread's connection to a store that goes away (others close with
    /// their threads).
    fn drop(&mut self) {
        let _ = READ_CONNECTIONS.try_with(|cell| {
            if let Ok(mut conns) = cell.try_borrow_mut() {
                conns.retain(|(p, _)| *p != self.path);
            }
        });
    }
}

/// When the embedded store's writes count as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Whatever is acknowledged is on disk first: a `202` survives power loss and OS
    /// crashes. Commits do not each wait for the disk; an acknowledgement waits for one
    /// flush of the log that covers every commit made meanwhile (group commit, see
    /// `durability.rs`).
    #[default]
    Full,
    /// Commits survive the process crashing, but an OS crash or power loss may lose the
    /// last acknowledged ones. Slightly faster where fsync is slow.
    Normal,
}

impl FromStr for Durability {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "full" => Ok(Self::Full),
            "normal" => Ok(Self::Normal),
            other => Err(format!("{other}: expected full or normal")),
        }
    }
}

impl SqliteStore {
    /// Opens (creating if missing) the database file and runs pending migrations; every
    /// commit is durable ([`Durability::Full`]).
    pub async fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, Durability::Full).await
    }

    pub async fn open_with(path: &Path, durability: Durability) -> Result<Self> {
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Commits write the log and return; the log is flushed at checkpoints, and
            // before an acknowledgement by `make_durable` (Durability::Full).
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            // A connection that comes back with a transaction still counted open is closed,
            // not reused. When a write fails with SQLITE_FULL, SQLite may roll the whole
            // transaction back by itself; sqlx's ROLLBACK then fails, its count stays at
            // one, the connection's next `begin` becomes a SAVEPOINT whose rollback leaves
            // a real transaction open, and that connection holds the write lock: every
            // other writer got "database is locked" until restart (the disk-full test saw
            // it). Closing the connection ends whatever it holds.
            //
            // A transaction dropped without a commit or a rollback (a claim that found no
            // job) has its rollback queued on the connection's thread, not yet run: a
            // ping, which runs after it, waits for it. Without that wait the connection
            // looked confused and was replaced, its schema read again, on every poll.
            .after_release(|conn, _| {
                Box::pin(async move {
                    if !sqlx::Connection::is_in_transaction(conn) {
                        return Ok(true);
                    }
                    sqlx::Connection::ping(conn).await?;
                    Ok(!sqlx::Connection::is_in_transaction(conn))
                })
            })
            // sqlx checks every connection it hands out, a hand-off to the connection's
            // thread and back like a statement (one per transaction). Only a connection
            // idle for a while is checked now, as on PostgreSQL.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > super::CHECK_IF_IDLE_FOR {
                        #[cfg(test)]
                        tracing::trace!(target: trace::PING, "ping");
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            });
        #[cfg(test)]
        let pool = pool.after_connect(|conn, _| Box::pin(trace::install(conn)));
        let pool = pool.connect_with(options).await?;
        MIGRATOR.run(&pool).await?;
        let wal_sync = durability::WalSync::new(path, durability)?;
        Ok(Self {
            pool,
            wal_sync: Arc::new(wal_sync),
            reads: Arc::new(ReadPool {
                path: path.to_owned(),
            }),
            docs: Arc::new(DocCache::live()),
        })
    }
}

impl SqliteStore {
    /// The pool reads share with everything else: SQLite readers never wait for the writer.
    fn readers(&self) -> &SqlitePool {
        &self.pool
    }

    /// Nothing to note: every commit returns before its flush, and `make_durable`
    /// flushes whatever was committed.
    fn committed_unflushed(&self) {}

    /// Nothing to do: SQLite claims the oldest jobs by walking the table in id order,
    /// whatever its statistics.
    fn jobs_queued(&self, _n: usize) {}
}

row_mappers!(SqliteRow);

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Connection as _;

    /// A transaction dropped unfinished (as a claim that finds no job drops its own) is
    /// rolled back and its connection kept: the pool's one connection is the same after
    /// (its temporary table, which lives as long as the connection, is still there).
    #[tokio::test]
    async fn a_dropped_transaction_is_rolled_back_and_its_connection_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("db.sqlite"))
            .await
            .unwrap();
        sqlx::query("CREATE TEMP TABLE this_connection (x INTEGER)")
            .execute(&store.pool)
            .await
            .unwrap();
        for _ in 0..5 {
            let mut tx = store.pool.begin().await.unwrap();
            sqlx::query("INSERT INTO this_connection VALUES (1)")
                .execute(&mut *tx)
                .await
                .unwrap();
            drop(tx);
            assert!(
                store
                    .claim_jobs("w", Duration::from_secs(30), 4)
                    .await
                    .unwrap()
                    .is_empty()
            );
        }
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM this_connection")
            .fetch_one(&store.pool)
            .await
            .expect("the same connection: its temporary table is there");
        assert_eq!(rows, 0, "every dropped insert was rolled back");
    }

    /// What a write that fails with SQLITE_FULL can leave behind: SQLite ended the
    /// transaction itself, sqlx still counts it open. Such a connection must not be handed
    /// out again.
    #[tokio::test]
    async fn a_connection_whose_transaction_sqlite_ended_is_not_reused() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("db.sqlite"))
            .await
            .unwrap();
        for _ in 0..3 {
            let mut tx = store.pool.begin().await.unwrap();
            sqlx::query("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
                .execute(&mut *tx)
                .await
                .unwrap();
            // SQLite's own rollback, behind sqlx's back.
            sqlx::query("ROLLBACK").execute(&mut *tx).await.unwrap();
        }
        // Every connection handed out afterwards starts clean, and writes commit.
        for _ in 0..8 {
            let mut conn = store.pool.acquire().await.unwrap();
            assert!(
                !conn.is_in_transaction(),
                "a confused connection was reused"
            );
            let mut tx = conn.begin().await.unwrap();
            sqlx::query("CREATE TABLE IF NOT EXISTS u (x INTEGER)")
                .execute(&mut *tx)
                .await
                .unwrap();
            sqlx::query("INSERT INTO u VALUES (1)")
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM u")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(n, 8);
    }
}
