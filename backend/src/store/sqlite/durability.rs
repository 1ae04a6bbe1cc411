//! Group commit for the embedded store. SQLite runs in WAL mode with
//! `synchronous=NORMAL`: a commit appends to the log and returns without waiting for the
//! disk. What the server acknowledges must be on disk first, so before an answer the
//! façade calls `make_durable`, which flushes the log once (fdatasync) for every commit
//! made up to that call. Callers that arrive while a flush runs wait for it and then share
//! the next one: under load one flush covers many uploads.
//!
//! A checkpoint copies the log into the database file and flushes that file itself
//! (SQLite does so at `synchronous=NORMAL`), so a commit the log no longer holds is on disk
//! already.

use std::path::{Path, PathBuf};

use super::Durability;
use crate::error::{Error, Result};
use crate::group_flush::GroupFlush;

pub(super) struct WalSync {
    /// `<database>-wal`; `None` when acknowledgements need not wait for the disk.
    wal: Option<PathBuf>,
    group: GroupFlush,
}

impl WalSync {
    pub fn new(database: &Path, durability: Durability) -> Result<Self> {
        let wal = (durability == Durability::Full).then(|| {
            let mut name = database.as_os_str().to_owned();
            name.push("-wal");
            PathBuf::from(name)
        });
        if wal.is_some() {
            // The log and database files were just created or opened: make their names
            // durable in the folder once, so a flushed log is found after a power cut.
            if let Some(folder) = database.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::File::open(folder)?.sync_all()?;
            }
        }
        Ok(Self {
            wal,
            group: GroupFlush::default(),
        })
    }

    /// Returns once every commit made before the call is on disk.
    pub async fn barrier(&self) -> Result<()> {
        let Some(wal) = &self.wal else {
            return Ok(());
        };
        self.group
            .barrier(|| async {
                let wal = wal.clone();
                tokio::task::spawn_blocking(move || match std::fs::File::open(&wal) {
                    Ok(f) => f.sync_data(),
                    // No log: everything was checkpointed into the (flushed) database file.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(e),
                })
                .await
                .map_err(std::io::Error::other)?
            })
            .await
            .map_err(Error::Io)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn callers_that_wait_for_a_flush_share_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("d.db");
        std::fs::write(dir.path().join("d.db-wal"), b"log").unwrap();
        let sync = Arc::new(WalSync::new(&db, Durability::Full).unwrap());
        let calls: Vec<_> = (0..50)
            .map(|_| {
                let sync = sync.clone();
                tokio::spawn(async move { sync.barrier().await })
            })
            .collect();
        for call in calls {
            call.await.unwrap().unwrap();
        }
        // The first caller flushes for itself; the 49 that arrived meanwhile share one.
        assert_eq!(sync.group.flushes(), 2);
        // A later caller is not covered by an earlier flush.
        sync.barrier().await.unwrap();
        assert_eq!(sync.group.flushes(), 3);
    }

    #[tokio::test]
    async fn normal_durability_never_flushes() {
        let dir = tempfile::tempdir().unwrap();
        let sync = WalSync::new(&dir.path().join("d.db"), Durability::Normal).unwrap();
        sync.barrier().await.unwrap();
        assert_eq!(sync.group.flushes(), 0);
    }
}
