//! Blob storage: the documents' bytes and thumbnails, behind [`BlobStore`]. The local
//! folder is the default (`local.rs`); S3-compatible object storage and memory go
//! through the `object_store` crate (`object.rs`). Whatever the store, a blob becomes
//! visible only once complete, and an upload that is refused or cut leaves nothing a
//! reader can see; what a killed process left behind is removed by [`sweep`].
//!
//! A document no larger than `inline_max_bytes` (64 KiB unless configured otherwise) gets
//! no blob of its own: its bytes go into the database, in the transaction that writes its
//! row (table `document_bytes`), so they are durable with it and go with it. That spares
//! a small upload the file (or object) it would create, flush and rename, which cost more
//! than everything else the server does for it. Readers do not see the difference: every
//! read, existence check and delete here looks in the database first.

mod local;
mod object;
pub mod sweep;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use futures_util::stream::BoxStream;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::error::{IngestError, Result};
use crate::pipeline::sniff::{SNIFF_LEN, TextCheck};
use crate::store::{InlineBytes, Store};

pub use local::LocalBlobs;
pub use object::ObjectBlobs;

/// Where a document's thumbnail goes, beside its bytes.
pub fn thumbnail_key(blob_key: &str) -> String {
    format!("{blob_key}{THUMBNAIL_SUFFIX}")
}

const THUMBNAIL_SUFFIX: &str = ".thumb.png";

/// Where the searchable PDF OCR wrote for a document goes, beside its bytes.
pub fn searchable_key(blob_key: &str) -> String {
    format!("{blob_key}{SEARCHABLE_SUFFIX}")
}

const SEARCHABLE_SUFFIX: &str = ".searchable.pdf";

/// The blob a derived blob (a thumbnail, a searchable PDF) belongs to (`None`: not a
/// derived blob's key).
pub fn derived_owner(key: &str) -> Option<&str> {
    key.strip_suffix(THUMBNAIL_SUFFIX)
        .or_else(|| key.strip_suffix(SEARCHABLE_SUFFIX))
}

/// A place blobs are kept.
#[async_trait]
pub trait BlobStore: Send + Sync + fmt::Debug {
    /// Starts a blob whose key is given at [`BlobWriter::commit`]; until then no reader
    /// sees it, and dropping the writer discards it.
    async fn create(&self) -> Result<Box<dyn BlobWriter>>;
    /// Stores a whole blob at once, atomically like [`Self::create`].
    async fn put(&self, key: &str, bytes: &[u8]) -> Result<()>;
    async fn read(&self, key: &str) -> Result<Vec<u8>>;
    /// Reads a blob as it is needed, without holding it whole.
    async fn read_stream(&self, key: &str) -> Result<BlobReader>;
    /// Whether a committed blob is stored under `key` (without reading it).
    async fn exists(&self, key: &str) -> Result<bool>;
    /// Deletes a blob; one that is already gone is not an error.
    async fn delete(&self, key: &str) -> Result<()>;
    /// Every stored object, committed or not, with its last change: what [`sweep`] looks
    /// through.
    fn list(&self) -> BoxStream<'_, Result<Listed>>;
    /// Removes an object [`Self::list`] named (a committed blob or an unfinished one).
    async fn remove_listed(&self, listed: &Listed) -> Result<()>;
}

/// A blob being read, chunk by chunk.
pub type BlobReader = Box<dyn tokio::io::AsyncRead + Send + Unpin>;

/// An object found by [`BlobStore::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The blob key, or for an unfinished upload, where it is staged.
    pub key: String,
    /// An upload that was never committed (its process stopped midway).
    pub staging: bool,
    pub modified: OffsetDateTime,
}

/// A blob being written.
#[async_trait]
pub trait BlobWriter: Send {
    async fn write(&mut self, chunk: &[u8]) -> Result<()>;
    /// Makes the blob durable and visible under `key`.
    async fn commit(self: Box<Self>, key: &str) -> Result<()>;
}

/// Documents no larger than this keep their bytes in the database unless configured
/// otherwise: 64 KiB.
pub const DEFAULT_INLINE_MAX_BYTES: u64 = 64 * 1024;
/// The most `inline_max_bytes` may be: a pending upload holds that much in memory.
pub const MAX_INLINE_MAX_BYTES: u64 = 1024 * 1024;

/// The blob store a process uses, chosen by `--blob-store`, and the database that keeps
/// small documents' bytes.
#[derive(Clone)]
pub struct Blobs {
    store: Arc<dyn BlobStore>,
    inline: Option<Inline>,
}

/// Where small documents' bytes are kept: their rows' database.
#[derive(Clone)]
struct Inline {
    db: Arc<dyn Store>,
    /// Larger documents get a blob of their own; 0: none are kept inline (those kept
    /// before are still read).
    max_bytes: u64,
}

impl fmt::Debug for Blobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Blobs")
            .field("store", &self.store)
            .field(
                "inline_max_bytes",
                &self.inline.as_ref().map(|i| i.max_bytes),
            )
            .finish()
    }
}

/// Where blobs go, as `--blob-store` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobLocation {
    /// A local folder (`file:///path`; the default is `<data dir>/blobs`).
    Folder(std::path::PathBuf),
    /// An S3 bucket and key prefix (`s3://bucket/prefix`), configured by the usual
    /// `AWS_*` variables (`AWS_ENDPOINT`, `AWS_REGION`, `AWS_ALLOW_HTTP`, credentials).
    S3 { bucket: String, prefix: String },
    /// Process memory (`memory://`): gone at exit; for tests and trials.
    Memory,
}

impl std::str::FromStr for BlobLocation {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let usage = "expected file:///PATH, s3://BUCKET[/PREFIX] or memory://";
        if let Some(path) = s.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(format!(
                    "{s}: a file:// location needs an absolute path; {usage}"
                ));
            }
            return Ok(Self::Folder(path.into()));
        }
        if let Some(rest) = s.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(format!("{s}: no bucket; {usage}"));
            }
            return Ok(Self::S3 {
                bucket: bucket.to_owned(),
                prefix: prefix.trim_matches('/').to_owned(),
            });
        }
        if s == "memory://" {
            return Ok(Self::Memory);
        }
        Err(format!("{s}: {usage}"))
    }
}

impl Blobs {
    pub fn new(store: impl BlobStore + 'static) -> Self {
        Self {
            store: Arc::new(store),
            inline: None,
        }
    }

    /// Keeps the bytes of documents up to `max_bytes` in `db` (see the module's notes),
    /// and reads those kept there.
    pub fn with_inline(mut self, db: Arc<dyn Store>, max_bytes: u64) -> Self {
        self.inline = Some(Inline { db, max_bytes });
        self
    }

    /// The bytes kept in the database under `key`, if any. Derived blobs (thumbnails,
    /// searchable PDFs) never are.
    async fn inline_bytes(&self, key: &str) -> Result<Option<Vec<u8>>> {
        match &self.inline {
            Some(inline) if derived_owner(key).is_none() => inline.db.inline_blob(key).await,
            _ => Ok(None),
        }
    }

    /// Opens the store at `location` (for S3, settings come from the environment).
    pub fn open(location: &BlobLocation) -> Result<Self> {
        Ok(match location {
            BlobLocation::Folder(path) => Self::new(LocalBlobs::open(path)?),
            BlobLocation::S3 { bucket, prefix } => Self::new(ObjectBlobs::s3(bucket, prefix)?),
            BlobLocation::Memory => Self::new(ObjectBlobs::memory()),
        })
    }

    /// Starts streaming a new blob of at most `limit` bytes; nothing is visible until
    /// [`PendingBlob::commit`].
    pub async fn begin(&self, limit: u64) -> Result<PendingBlob> {
        Ok(PendingBlob {
            store: self.store.clone(),
            writer: None,
            kept: Vec::new(),
            inline_max: self.inline.as_ref().map_or(0, |i| i.max_bytes),
            limit,
            size: 0,
            sha: Sha256::new(),
            head: Vec::new(),
            text: TextCheck::default(),
        })
    }

    /// Stores a whole blob in the blob store (derived blobs such as thumbnails: never kept inline).
    pub async fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        self.store.put(key, bytes).await
    }

    pub async fn read(&self, key: &str) -> Result<Vec<u8>> {
        match self.inline_bytes(key).await? {
            Some(bytes) => Ok(bytes),
            None => self.store.read(key).await,
        }
    }

    pub async fn read_stream(&self, key: &str) -> Result<BlobReader> {
        match self.inline_bytes(key).await? {
            Some(bytes) => Ok(Box::new(std::io::Cursor::new(bytes))),
            None => self.store.read_stream(key).await,
        }
    }

    /// Deletes a blob (kept inline or not); one that is already gone is not an error.
    pub async fn delete(&self, key: &str) -> Result<()> {
        // A deleted document's bytes went with its row; this finds them only when the
        // row stays (an infected document's bytes), so a delete rarely writes to the
        // database.
        if let Some(inline) = &self.inline
            && derived_owner(key).is_none()
            && inline.db.delete_inline_blob(key).await?
        {
            return Ok(());
        }
        self.store.delete(key).await
    }

    /// Deletes a blob whose document row is gone (or was never written): bytes kept
    /// inline went with the row, so only the blob store is asked.
    pub async fn delete_without_row(&self, key: &str) -> Result<()> {
        self.store.delete(key).await
    }

    /// Whether a committed blob is stored under `key` (an inline one is looked for,
    /// not read).
    pub async fn exists(&self, key: &str) -> Result<bool> {
        let inline = match &self.inline {
            Some(inline) if derived_owner(key).is_none() => inline.db.has_inline_blob(key).await?,
            _ => false,
        };
        Ok(inline || self.store.exists(key).await?)
    }

    /// Whether the store answers (a read of a key that does not exist is an answer).
    pub async fn reachable(&self) -> bool {
        self.store.exists(".readiness-probe").await.is_ok()
    }

    /// The blob store proper (what [`sweep`] looks through; bytes kept inline go with
    /// their rows and are never orphaned).
    pub fn store(&self) -> &dyn BlobStore {
        &*self.store
    }
}

/// A blob being written, with what is learnt of it on the way (size, hash, first bytes).
/// Dropping it without committing discards it. Its first `inline_max` bytes are kept in
/// memory; the blob store is written only once it grows larger.
pub struct PendingBlob {
    store: Arc<dyn BlobStore>,
    /// `None` while every byte so far is in `kept`.
    writer: Option<Box<dyn BlobWriter>>,
    kept: Vec<u8>,
    inline_max: u64,
    limit: u64,
    size: u64,
    sha: Sha256,
    head: Vec<u8>,
    text: TextCheck,
}

impl fmt::Debug for PendingBlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingBlob")
            .field("size", &self.size)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

/// What is known of a blob once every byte has been written.
#[derive(Debug, Clone)]
pub struct BlobFacts {
    pub size: u64,
    pub sha256: String,
    pub head: Vec<u8>,
    pub is_text: bool,
}

impl PendingBlob {
    /// Appends a chunk; fails with [`IngestError::TooLarge`] as soon as the limit is crossed,
    /// so an oversize body is never buffered in full.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(IngestError::TooLarge { limit: self.limit }.into());
        }
        if self.head.len() < SNIFF_LEN {
            let take = (SNIFF_LEN - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.sha.update(chunk);
        self.text.feed(chunk);
        if self.writer.is_none() && self.size <= self.inline_max {
            self.kept.extend_from_slice(chunk);
            return Ok(());
        }
        let writer = match self.writer.take() {
            Some(writer) => writer,
            None => self.start_blob().await?,
        };
        self.writer.insert(writer).write(chunk).await
    }

    /// A writer in the blob store, given what was kept in memory so far.
    async fn start_blob(&mut self) -> Result<Box<dyn BlobWriter>> {
        let mut writer = self.store.create().await?;
        let kept = std::mem::take(&mut self.kept);
        if !kept.is_empty() {
            writer.write(&kept).await?;
        }
        Ok(writer)
    }

    pub fn facts(&self) -> BlobFacts {
        BlobFacts {
            size: self.size,
            sha256: hex::encode(self.sha.clone().finalize()),
            head: self.head.clone(),
            is_text: self.text.finish(),
        }
    }

    /// Makes the blob durable and visible under `key`; or, for a document small enough
    /// to be kept in the database, hands back its bytes, which the document's row must
    /// be written with (one transaction: then they are as durable as the row).
    pub async fn commit(mut self, key: &str) -> Result<Option<InlineBytes>> {
        if self.writer.is_none() && self.inline_max > 0 {
            return Ok(Some(InlineBytes(std::mem::take(&mut self.kept))));
        }
        let writer = match self.writer.take() {
            Some(writer) => writer,
            None => self.start_blob().await?,
        };
        writer.commit(key).await?;
        Ok(None)
    }
}

#[cfg(test)]
mod tests;
