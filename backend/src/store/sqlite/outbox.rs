//! The outbox: table `outbox`. The relay reads it on the read path.

use super::*;

crate::store::sql::outbox::outbox_store!(SqliteStore);

impl SqliteStore {
    /// On the read path: a WAL reader sees every commit made before it starts and never
    /// waits for the writer, so the relay's read costs no hand-off to a write
    /// connection's thread.
    async fn read_pending_events(&self, limit: u32) -> Result<Vec<OutboxRow>> {
        self.reads.with(|c| {
            let mut stmt = c.prepare_cached(PENDING_EVENTS)?;
            stmt.query_map(rusqlite::params![limit], |r| {
                Ok(OutboxRow {
                    seq: r.get(0)?,
                    topic: r.get(1)?,
                    payload: r.get(2)?,
                })
            })?
            .collect()
        })
    }
}
