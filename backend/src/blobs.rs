//! Blob storage in a local folder. Writes go to a temp file in the same folder tree and
//! are renamed into place only when complete, so a reader never sees a half-written blob.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::error::{IngestError, Result};
use crate::pipeline::sniff::{SNIFF_LEN, TextCheck};

/// Where the thumbnail of the document stored at `blob_key` goes.
pub fn thumbnail_key(blob_key: &str) -> String {
    format!("{blob_key}.thumb.png")
}

#[derive(Debug, Clone)]
pub struct LocalBlobs {
    root: PathBuf,
}

impl LocalBlobs {
    /// Opens (creating if needed) a blob folder and removes temp files a crash left behind.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        let tmp = root.join(".tmp");
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp)?;
        }
        std::fs::create_dir_all(&tmp)?;
        Ok(Self { root })
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    /// Starts streaming a new blob; nothing is visible until [`PendingBlob::commit`].
    pub async fn begin(&self, limit: u64) -> Result<PendingBlob> {
        let tmp = self
            .root
            .join(".tmp")
            .join(uuid::Uuid::new_v4().simple().to_string());
        let file = tokio::fs::File::create(&tmp).await?;
        Ok(PendingBlob {
            file: Some(file),
            tmp,
            limit,
            size: 0,
            sha: Sha256::new(),
            head: Vec::new(),
            text: TextCheck::default(),
        })
    }

    /// Stores a whole blob at once, atomically like [`Self::begin`].
    pub async fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let mut pending = self.begin(u64::MAX).await?;
        pending.write(bytes).await?;
        pending.commit(self, key).await
    }

    pub async fn read(&self, key: &str) -> Result<Vec<u8>> {
        Ok(tokio::fs::read(self.path(key)).await?)
    }

    /// Deletes a blob; a blob that is already gone is not an error.
    pub async fn delete(&self, key: &str) -> Result<()> {
        match tokio::fs::remove_file(self.path(key)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    pub fn exists(&self, key: &str) -> bool {
        self.path(key).exists()
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// A blob being written. Dropping it without committing removes the temp file.
#[derive(Debug)]
pub struct PendingBlob {
    file: Option<tokio::fs::File>,
    tmp: PathBuf,
    limit: u64,
    size: u64,
    sha: Sha256,
    head: Vec<u8>,
    text: TextCheck,
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
        if let Some(f) = self.file.as_mut() {
            f.write_all(chunk).await?;
        }
        Ok(())
    }

    pub fn facts(&self) -> BlobFacts {
        BlobFacts {
            size: self.size,
            sha256: hex::encode(self.sha.clone().finalize()),
            head: self.head.clone(),
            is_text: self.text.finish(),
        }
    }

    /// Makes the blob durable and visible under `key`.
    pub async fn commit(mut self, blobs: &LocalBlobs, key: &str) -> Result<()> {
        if let Some(mut f) = self.file.take() {
            f.flush().await?;
            f.sync_all().await?;
        }
        let dest = blobs.path(key);
        if let Some(parent) = dest.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::rename(&self.tmp, &dest).await?;
        self.tmp = PathBuf::new();
        Ok(())
    }
}

impl Drop for PendingBlob {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn nothing_is_visible_until_commit_and_drop_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = LocalBlobs::open(dir.path()).unwrap();
        let mut p = blobs.begin(100).await.unwrap();
        p.write(b"hello").await.unwrap();
        assert!(!blobs.exists("t/a"));
        p.commit(&blobs, "t/a").await.unwrap();
        assert_eq!(blobs.read("t/a").await.unwrap(), b"hello");

        let mut p = blobs.begin(100).await.unwrap();
        p.write(b"half").await.unwrap();
        drop(p);
        assert_eq!(
            std::fs::read_dir(dir.path().join(".tmp")).unwrap().count(),
            0
        );
    }

    #[tokio::test]
    async fn limit_is_enforced_while_streaming() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = LocalBlobs::open(dir.path()).unwrap();
        let mut p = blobs.begin(8).await.unwrap();
        p.write(b"12345").await.unwrap();
        let err = p.write(b"6789").await.unwrap_err();
        assert!(matches!(
            err,
            crate::Error::Ingest(IngestError::TooLarge { limit: 8 })
        ));
    }

    #[tokio::test]
    async fn facts_hash_and_sniff_the_stream() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = LocalBlobs::open(dir.path()).unwrap();
        let mut p = blobs.begin(100).await.unwrap();
        p.write(b"ab").await.unwrap();
        p.write(b"c").await.unwrap();
        let f = p.facts();
        assert_eq!(f.size, 3);
        assert_eq!(
            f.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(f.is_text);
        assert_eq!(f.head, b"abc");
    }
}
