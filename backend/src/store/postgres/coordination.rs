//! Processes on one database: a leader per task holds a session advisory lock on a
//! connection of its own (PostgreSQL drops the lock the moment that connection ends, so
//! a killed leader is replaced within a follower's next try), and wake-ups travel by
//! LISTEN/NOTIFY (the triggers of `0002_wakeups.sql`), as do changes of documents, which
//! every process forgets from its cache (`0024_document_changes.sql`).

use sqlx::postgres::PgListener;

use super::*;
use crate::store::doc_cache::DocCache;
use crate::store::{CoordinationStore, Held, LeaderTask, Leadership, Wakes};

/// Advisory lock keys, one per task ("docintel" in the high bytes, then the task).
fn lock_key(task: LeaderTask) -> i64 {
    0x646f_6369_0000_0000
        + match task {
            LeaderTask::Relay => 1,
            LeaderTask::BlobSweep => 2,
        }
}

struct Lock {
    conn: Option<PgConnection>,
}

#[async_trait]
impl Held for Lock {
    async fn still_held(&mut self) -> bool {
        let Some(conn) = self.conn.as_mut() else {
            return false;
        };
        // The lock lives exactly as long as this session.
        let alive = tokio::time::timeout(std::time::Duration::from_secs(2), conn.ping()).await;
        if !matches!(alive, Ok(Ok(()))) {
            self.conn = None;
            return false;
        }
        true
    }
}

#[async_trait]
impl CoordinationStore for PgStore {
    fn is_shared(&self) -> bool {
        true
    }

    async fn try_lead(&self, task: LeaderTask) -> Result<Option<Leadership>> {
        let mut conn = PgConnection::connect_with(&self.options).await?;
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(lock_key(task))
            .fetch_one(&mut conn)
            .await?;
        if !got {
            let _ = conn.close().await;
            return Ok(None);
        }
        Ok(Some(Leadership::new(Lock { conn: Some(conn) })))
    }

    async fn make_durable(&self) -> Result<()> {
        // Uploads commit without waiting for the disk (`dialect::UNFLUSHED_COMMIT`), so
        // that their tenant's usage row is locked for the commit only, not for a flush,
        // and so do claims and results (whose loss a new claim repairs); every other
        // commit waits for its own flush (synchronous_commit = on, the default). Only when
        // this handle has made such commits that no flush covers yet does an
        // acknowledgement wait, for one flush shared by every caller meanwhile.
        if self.flushed.load(Ordering::SeqCst) >= self.unflushed.load(Ordering::SeqCst) {
            return Ok(());
        }
        self.flush_log().await
    }

    async fn make_all_durable(&self) -> Result<()> {
        // Other processes' uploads too: flushed whatever this handle committed.
        self.flush_log().await
    }

    async fn listen(&self, wakes: Wakes) -> Result<Option<tokio::task::JoinHandle<()>>> {
        let mut listener = own_listener(&self.options, WAKE_LISTENER_NAME).await?;
        listener
            .listen_all(["docintel_jobs", "docintel_events", "docintel_deliveries"])
            .await?;
        Ok(Some(tokio::spawn(async move {
            loop {
                // After a lost connection the listener reconnects and listens again;
                // what was notified meanwhile is found by the waiters' polling.
                match listener.recv().await {
                    Ok(n) => match n.channel() {
                        "docintel_jobs" => wakes.jobs.notify_waiters(),
                        "docintel_events" => wakes.events.notify_one(),
                        _ => wakes.deliveries.notify_one(),
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "lost the wake-up channel; polling until it is back");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        })))
    }

    async fn watch_documents(&self) -> Result<Option<tokio::task::JoinHandle<()>>> {
        let listener = document_listener(&self.options).await?;
        // Listening before resuming: every change committed after this is heard.
        self.docs.resume();
        // A session that dies without a word (a network cut) would leave the cache in use
        // with nothing heard: every process says it is alive on the channel, and a
        // listener that hears nothing, not even that, for a while gives its session up.
        let pool = self.pool.clone();
        let heartbeat = tokio::spawn(async move {
            let mut every = tokio::time::interval(HEARTBEAT);
            loop {
                every.tick().await;
                let sent = sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(DOCUMENTS_CHANNEL)
                    .bind(ALIVE)
                    .execute(&pool)
                    .await;
                if let Err(e) = sent {
                    tracing::debug!(error = %e, "could not say this process is alive");
                }
            }
        });
        let docs = PauseOnDrop(self.docs.clone(), heartbeat);
        let options = self.options.clone();
        Ok(Some(tokio::spawn(async move {
            let mut listener = Some(listener);
            loop {
                let Some(l) = listener.as_mut() else {
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    match document_listener(&options).await {
                        Ok(l) => {
                            // Changes made while disconnected went unheard: forget all.
                            docs.0.resume();
                            listener = Some(l);
                            tracing::info!("document changes heard again; cache in use");
                        }
                        Err(e) => tracing::debug!(error = %e, "document listener still down"),
                    }
                    continue;
                };
                // Dropping the wait on its deadline drops the session too.
                match tokio::time::timeout(SILENCE, l.try_recv()).await {
                    Ok(Ok(Some(n))) if n.payload() == ALIVE => {}
                    Ok(Ok(Some(n))) => match Uuid::parse_str(n.payload()) {
                        Ok(id) => docs.0.forget(id),
                        // Not a document id: forget everything rather than guess.
                        Err(_) => docs.0.resume(),
                    },
                    Ok(Ok(None) | Err(_)) | Err(_) => {
                        docs.0.pause();
                        listener = None;
                        tracing::warn!(
                            "lost the document change channel; reading documents from the database until it is back"
                        );
                    }
                }
            }
        })))
    }
}

/// How often each process says it is alive on [`DOCUMENTS_CHANNEL`].
const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(5);
/// A listener that hears nothing this long takes its session for lost.
const SILENCE: std::time::Duration = std::time::Duration::from_secs(15);
/// The payload of a process's heartbeat (never a document id).
const ALIVE: &str = "alive";

/// The channel of `0024_document_changes.sql`: a changed document's id.
const DOCUMENTS_CHANNEL: &str = "docintel_documents";

/// The listener's `application_name`, so operators (and tests) can tell its session.
pub const DOCUMENT_LISTENER_NAME: &str = "docintel document listener";

/// The wake-up listener's `application_name`.
const WAKE_LISTENER_NAME: &str = "docintel wake-up listener";

/// A listener on a connection of its own, named `name`: it holds its connection for as
/// long as it lives, which must not be one of the pool's (the pool's size is what work gets).
async fn own_listener(options: &PgConnectOptions, name: &str) -> Result<PgListener> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect_with(options.clone().application_name(name))
        .await?;
    Ok(PgListener::connect_with(&pool).await?)
}

/// A connection of its own listening to document changes.
async fn document_listener(options: &PgConnectOptions) -> Result<PgListener> {
    let mut listener = own_listener(options, DOCUMENT_LISTENER_NAME).await?;
    // A lost connection is our cue to pause the cache: reconnect explicitly.
    listener.eager_reconnect(false);
    listener.listen(DOCUMENTS_CHANNEL).await?;
    Ok(listener)
}

/// The watcher's hold on the cache and its heartbeat: when the watcher stops (aborted),
/// nothing hears changes any more, so the cache is bypassed.
struct PauseOnDrop(Arc<DocCache>, tokio::task::JoinHandle<()>);

impl Drop for PauseOnDrop {
    fn drop(&mut self) {
        self.0.pause();
        self.1.abort();
    }
}
