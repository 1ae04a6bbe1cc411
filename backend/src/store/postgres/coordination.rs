//! Processes on one database: a leader per task holds a session advisory lock on a
//! connection of its own (PostgreSQL drops the lock the moment that connection ends, so
//! a killed leader is replaced within a follower's next try), and wake-ups travel by
//! LISTEN/NOTIFY (the triggers of `0002_wakeups.sql`).

use sqlx::postgres::PgListener;

use super::*;
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
        // synchronous_commit = on (the default): a commit returns once it is flushed.
        Ok(())
    }

    async fn listen(&self, wakes: Wakes) -> Result<Option<tokio::task::JoinHandle<()>>> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
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
}
