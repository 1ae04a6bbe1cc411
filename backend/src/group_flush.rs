//! A flush to disk that concurrent callers share (group commit): a caller waits until
//! a flush that started after its call has finished. While one flush runs, every caller
//! that arrives waits for it and then shares the next one, so under load one `fsync`
//! covers many writers.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub(crate) struct GroupFlush {
    /// Barriers requested, and the highest of them known to be on disk.
    requested: AtomicU64,
    flushed: AtomicU64,
    flushing: tokio::sync::Mutex<()>,
    /// Flushes made (for tests and measurements).
    flushes: AtomicU64,
}

impl GroupFlush {
    /// Returns once `flush` (this caller's, or another's started after this call) has
    /// made everything written before the call durable.
    pub(crate) async fn barrier<F, Fut>(&self, flush: F) -> std::io::Result<()>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = std::io::Result<()>>,
    {
        // Every write before this call is covered by any flush that starts after it.
        let ticket = self.requested.fetch_add(1, Ordering::SeqCst) + 1;
        if self.flushed.load(Ordering::SeqCst) >= ticket {
            return Ok(());
        }
        let _turn = self.flushing.lock().await;
        if self.flushed.load(Ordering::SeqCst) >= ticket {
            // The flush that ran while this call waited started after it: shared.
            return Ok(());
        }
        let covers = self.requested.load(Ordering::SeqCst);
        flush().await?;
        self.flushed.fetch_max(covers, Ordering::SeqCst);
        self.flushes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn flushes(&self) -> u64 {
        self.flushes.load(Ordering::SeqCst)
    }
}
