//! The shared store: PostgreSQL through sqlx, for several docintel processes over one
//! database. Same tables and rules as the SQLite store (`migrations-postgres/`), with
//! row locks where processes meet: job and delivery claims take `FOR UPDATE SKIP LOCKED`,
//! registry writes an advisory lock. Documents read are kept in a cache that every change,
//! by any process, invalidates (see `coordination.rs`).

mod audit;
mod broker;
mod coordination;
mod dialect;
mod documents;
mod idempotency;
mod jobs;
mod outbox;
mod registry;
mod tenants;
mod webhooks;

pub use coordination::DOCUMENT_LISTENER_NAME;

use audit::{audited, push_audits, write_audit};
use idempotency::keep_responses;
use outbox::{push_outbox, write_outbox};

use async_trait::async_trait;
use sqlx::Connection;
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use time::OffsetDateTime;
use uuid::Uuid;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::doc_cache::DocCache;
use super::rows::*;
use super::sql::prelude::*;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations-postgres");

#[derive(Clone)]
pub struct PgStore {
    /// Everything but the API's reads of documents: uploads, the queue, events, webhooks.
    pool: PgPool,
    /// The API's reads of documents (see [`pool_sizes`]).
    reads: PgPool,
    /// For connections of their own (a leader's lock), outside the pool.
    options: PgConnectOptions,
    /// Paused until [`CoordinationStore::watch_documents`] hears other processes' changes.
    docs: Arc<DocCache>,
    /// Flushes of the log that acknowledgements wait for (see `make_durable`).
    flush: Arc<crate::group_flush::GroupFlush>,
    /// Commits this handle made without waiting for their flush, and how many of them a
    /// finished flush covers.
    unflushed: Arc<AtomicU64>,
    flushed: Arc<AtomicU64>,
    /// When the queue's tables were last analyzed by this handle (see `jobs_queued`).
    analyzed: Arc<Analyzed>,
}

/// The queue's tables fill in bursts (thousands of jobs in a second, from empty), faster
/// than autovacuum analyzes them (once a minute at most). With the statistics of an empty
/// table PostgreSQL plans a claim as a walk through the whole queue: 2 ms a claim at 2,000
/// jobs queued, 0.24 ms once analyzed, and more the longer the queue. So a handle that
/// queued this many jobs since its last analysis analyzes the tables itself.
const ANALYZE_AFTER_JOBS: u64 = 1_000;
/// And at most this often: an analysis samples at most 30,000 rows a table (milliseconds),
/// and a steady queue needs no new one every thousand jobs.
const ANALYZE_AT_MOST_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// A statement's generic plan, cached by each connection, is made once for the table
/// sizes of that moment and kept until the table is analyzed. Made while the documents'
/// tables were small, it reads them whole (cheaper than an index then) and goes on doing
/// so as they grow: a batch of results read every row of the table. So while they are
/// young, a handle analyzes them each time its inserts double them, from this many on...
const ANALYZE_DOCUMENTS_FROM: u64 = 256;
/// ...up to this many: by then autovacuum analyzes them often enough (at 10% more rows).
const ANALYZE_DOCUMENTS_UNTIL: u64 = 1 << 20;

#[derive(Default)]
struct Analyzed {
    /// Jobs queued since the last analysis.
    queued: AtomicU64,
    /// Documents inserted by this handle, and how many it had inserted when it last
    /// analyzed their tables.
    documents: AtomicU64,
    documents_analyzed: AtomicU64,
    /// When the last analysis started.
    last: std::sync::Mutex<Option<std::time::Instant>>,
}

/// A handle's pool size unless told otherwise: one more than this machine's cores, at
/// least 3 (the listeners have connections of their own). Few are faster than many: the
/// work is the database's CPU, and with more backends than it has cores they only take
/// turns. Measured with the database on the server's two cores: 3 connections ingested
/// 1.14× what 15 did, with lists and reads as fast; 1 starved the lists (0.4×).
pub fn default_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    u32::try_from(cores + 1).unwrap_or(u32::MAX).clamp(3, 256)
}

/// The connections a pool size of `n` gives (at most): the API's reads of documents `n`,
/// and everything else `n - 1`, at least 1. Apart, reads never queue behind writes, and
/// writes and the queue's work, which are the database's CPU, run on one connection fewer
/// than reads need at 64 at once: on two cores shared with the database, ingest took
/// 1.11× the documents/s with 2 connections for work instead of 3, while lists at 64
/// connections took 0.6× the requests/s with 2 instead of 3.
pub fn pool_sizes(n: u32) -> (u32, u32) {
    let reads = n.max(1);
    (reads, (reads - 1).max(1))
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`) with [`default_pool_size`]
    /// connections and runs pending migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, default_pool_size()).await
    }

    /// [`connect`](Self::connect) with at most `pool_size` connections for reads of
    /// documents and one fewer for the rest ([`pool_sizes`]).
    pub async fn connect_with(url: &str, pool_size: u32) -> Result<Self> {
        let store = Self::connect_only(url, pool_size).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without touching the schema (for roles that may not change it). One
    /// connection is made first, so a wrong host, port, user or database is reported
    /// with its reason rather than as a pool timeout.
    pub async fn connect_only(url: &str, pool_size: u32) -> Result<Self> {
        let refused = |source| Error::Connect {
            url: redact_url(url),
            source,
        };
        let options: PgConnectOptions = url.parse().map_err(refused)?;
        let first = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            PgConnection::connect_with(&options),
        )
        .await
        .map_err(|_| refused(sqlx::Error::PoolTimedOut))?
        .map_err(refused)?;
        let _ = first.close().await;
        let (reads, work) = pool_sizes(pool_size);
        Ok(Self {
            pool: Self::pool(&options, work),
            reads: Self::pool(&options, reads),
            options,
            docs: Arc::new(DocCache::paused()),
            flush: Default::default(),
            unflushed: Default::default(),
            flushed: Default::default(),
            analyzed: Default::default(),
        })
    }

    /// A pool of at most `size` connections (made when first needed).
    fn pool(options: &PgConnectOptions, size: u32) -> PgPool {
        PgPoolOptions::new()
            .max_connections(size)
            // A request waits this long for a connection before it is told to retry (503).
            .acquire_timeout(std::time::Duration::from_secs(3))
            // sqlx checks every connection it hands out with a round trip of its own, which
            // doubled the round trips of a point read. Only a connection idle for a while
            // is checked now; one that died in use fails its statement and is replaced.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > super::CHECK_IF_IDLE_FOR {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            // The URL was checked above: connections are made as they are needed.
            .connect_lazy_with(options.clone())
    }

    /// The pool of the API's reads of documents.
    fn readers(&self) -> &PgPool {
        &self.reads
    }

    /// Notes `n` documents inserted, each with its job; analyzes their tables in the
    /// background when they may have outgrown their statistics (see [`ANALYZE_AFTER_JOBS`]
    /// and [`ANALYZE_DOCUMENTS_FROM`]).
    fn jobs_queued(&self, n: usize) {
        self.documents_inserted(n as u64);
        let queued = self.analyzed.queued.fetch_add(n as u64, Ordering::SeqCst) + n as u64;
        if queued < ANALYZE_AFTER_JOBS {
            return;
        }
        {
            let Ok(mut last) = self.analyzed.last.lock() else {
                return;
            };
            if last.is_some_and(|at| at.elapsed() < ANALYZE_AT_MOST_EVERY) {
                return;
            }
            *last = Some(std::time::Instant::now());
        }
        self.analyzed.queued.store(0, Ordering::SeqCst);
        self.analyze("jobs, outbox");
    }

    /// Analyzes the documents' tables when this handle's inserts doubled them since the
    /// last time, while they are young (see [`ANALYZE_DOCUMENTS_FROM`]).
    fn documents_inserted(&self, n: u64) {
        let total = self.analyzed.documents.fetch_add(n, Ordering::SeqCst) + n;
        let last = self.analyzed.documents_analyzed.load(Ordering::SeqCst);
        if total < ANALYZE_DOCUMENTS_FROM.max(2 * last) || last >= ANALYZE_DOCUMENTS_UNTIL {
            return;
        }
        // One analysis a doubling, however many callers see it at once.
        if self
            .analyzed
            .documents_analyzed
            .compare_exchange(last, total, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return;
        }
        self.analyze("documents, document_bytes");
    }

    /// Analyzes `tables` in the background.
    fn analyze(&self, tables: &'static str) {
        let pool = self.pool.clone();
        tokio::spawn(async move {
            // A role that may not analyze them leaves it to autovacuum.
            if let Err(e) = sqlx::query(&format!("ANALYZE {tables}"))
                .execute(&pool)
                .await
            {
                tracing::debug!(error = %e, tables, "could not analyze");
            }
        });
    }

    /// Notes a commit made without waiting for its flush (see `make_durable`).
    fn committed_unflushed(&self) {
        self.unflushed.fetch_add(1, Ordering::SeqCst);
    }

    /// Flushes the log: everything any process logged before this call is on disk after
    /// it. One flush for every caller meanwhile. A message written to the log in a
    /// transaction of its own is the smallest write whose commit waits for a flush, and
    /// that flush covers everything logged before it.
    async fn flush_log(&self) -> Result<()> {
        self.flush
            .barrier(|| async {
                let covers = self.unflushed.load(Ordering::SeqCst);
                sqlx::query("SELECT pg_logical_emit_message(true, 'docintel.flush', '')")
                    .execute(&self.pool)
                    .await
                    .map_err(std::io::Error::other)?;
                self.flushed.fetch_max(covers, Ordering::SeqCst);
                Ok(())
            })
            .await
            .map_err(|e| match e.downcast::<sqlx::Error>() {
                Ok(e) => Error::from(e),
                Err(e) => Error::from(e),
            })
    }

    /// Runs the pending migrations; a failing one leaves the schema as it was (each runs
    /// in a transaction) and is named in the error.
    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }
}

row_mappers!(PgRow);

/// `url` without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((credentials, host)) => {
                let user = credentials.split(':').next().unwrap_or_default();
                format!("{scheme}://{user}@{host}")
            }
            None => url.to_owned(),
        },
        None => "(not a URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_never_reach_a_message() {
        assert_eq!(
            super::redact_url("postgres://app:s3cret@db.internal:5432/docintel"),
            "postgres://app@db.internal:5432/docintel"
        );
        assert_eq!(
            super::redact_url("postgres://db:5432/x"),
            "postgres://db:5432/x"
        );
        assert_eq!(super::redact_url("s3cret"), "(not a URL)");
    }
}
