//! The embedded store has one process: it always leads and nobody else wakes it.

use super::*;
use crate::store::{CoordinationStore, Held, LeaderTask, Leadership, Wakes};

struct Alone;

#[async_trait]
impl Held for Alone {
    async fn still_held(&mut self) -> bool {
        true
    }
}

#[async_trait]
impl CoordinationStore for SqliteStore {
    fn is_shared(&self) -> bool {
        false
    }

    async fn try_lead(&self, _task: LeaderTask) -> Result<Option<Leadership>> {
        Ok(Some(Leadership::new(Alone)))
    }

    async fn make_durable(&self) -> Result<()> {
        self.wal_sync.barrier().await
    }

    async fn listen(&self, _wakes: Wakes) -> Result<Option<tokio::task::JoinHandle<()>>> {
        Ok(None)
    }

    async fn watch_documents(&self) -> Result<Option<tokio::task::JoinHandle<()>>> {
        Ok(None)
    }
}
