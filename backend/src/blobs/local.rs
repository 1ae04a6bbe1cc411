//! Blobs in a local folder. Writes go to a temp file under `.tmp/` and are fsynced, then
//! renamed into place, so a reader never sees a half-written blob and an acknowledged
//! one survives a crash. (object_store's local backend renames too, but does not fsync.)

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use futures_util::stream::{self, BoxStream, StreamExt};
use time::OffsetDateTime;
use tokio::io::AsyncWriteExt;

use super::{BlobStore, BlobWriter, Listed};
use crate::error::Result;

const STAGING: &str = ".tmp";

#[derive(Debug, Clone)]
pub struct LocalBlobs {
    root: PathBuf,
}

impl LocalBlobs {
    /// Opens (creating if needed) a blob folder. Temp files a crash left behind are
    /// removed by the sweep, not here: another process may share the folder.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(root.join(STAGING))?;
        Ok(Self { root })
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every file under the root, as (key, staging, modified); blocking.
    fn walk(&self) -> std::io::Result<Vec<Listed>> {
        let mut found = Vec::new();
        let mut folders = vec![self.root.clone()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder)? {
                let entry = entry?;
                let meta = entry.metadata()?;
                if meta.is_dir() {
                    folders.push(entry.path());
                    continue;
                }
                let path = entry.path();
                let Ok(relative) = path.strip_prefix(&self.root) else {
                    continue;
                };
                let key = relative.to_string_lossy().into_owned();
                let staging = relative.starts_with(STAGING);
                let modified = meta
                    .modified()
                    .map(OffsetDateTime::from)
                    .unwrap_or_else(|_| OffsetDateTime::now_utc());
                found.push(Listed {
                    key,
                    staging,
                    modified,
                });
            }
        }
        Ok(found)
    }
}

#[async_trait]
impl BlobStore for LocalBlobs {
    async fn create(&self) -> Result<Box<dyn BlobWriter>> {
        let tmp = self
            .root
            .join(STAGING)
            .join(uuid::Uuid::new_v4().simple().to_string());
        let file = tokio::fs::File::create(&tmp).await?;
        Ok(Box::new(TempFile {
            file: Some(file),
            tmp,
            root: self.root.clone(),
        }))
    }

    async fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let mut w = self.create().await?;
        w.write(bytes).await?;
        w.commit(key).await
    }

    async fn read(&self, key: &str) -> Result<Vec<u8>> {
        Ok(tokio::fs::read(self.path(key)).await?)
    }

    async fn read_stream(&self, key: &str) -> Result<super::BlobReader> {
        Ok(Box::new(tokio::fs::File::open(self.path(key)).await?))
    }

    async fn exists(&self, key: &str) -> Result<bool> {
        Ok(tokio::fs::try_exists(self.path(key)).await?)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        match tokio::fs::remove_file(self.path(key)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    fn list(&self) -> BoxStream<'_, Result<Listed>> {
        let me = self.clone();
        stream::once(async move {
            match tokio::task::spawn_blocking(move || me.walk()).await {
                Ok(Ok(found)) => stream::iter(found.into_iter().map(Ok)).boxed(),
                Ok(Err(e)) => stream::iter([Err(e.into())]).boxed(),
                Err(e) => stream::iter([Err(std::io::Error::other(e).into())]).boxed(),
            }
        })
        .flatten()
        .boxed()
    }

    async fn remove_listed(&self, listed: &Listed) -> Result<()> {
        self.delete(&listed.key).await
    }
}

/// A blob being written to a temp file. Dropping it removes the file.
struct TempFile {
    file: Option<tokio::fs::File>,
    tmp: PathBuf,
    root: PathBuf,
}

#[async_trait]
impl BlobWriter for TempFile {
    async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        if let Some(f) = self.file.as_mut() {
            f.write_all(chunk).await?;
        }
        Ok(())
    }

    async fn commit(mut self: Box<Self>, key: &str) -> Result<()> {
        if let Some(mut f) = self.file.take() {
            f.flush().await?;
            f.sync_all().await?;
        }
        let dest = self.root.join(key);
        let parent = dest.parent().unwrap_or(&self.root).to_owned();
        let created = !tokio::fs::try_exists(&parent).await?;
        tokio::fs::create_dir_all(&parent).await?;
        tokio::fs::rename(&self.tmp, &dest).await?;
        self.tmp = PathBuf::new();
        // The new name is durable only once its folder is (and a new folder's own name,
        // once the root is).
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || {
            std::fs::File::open(&parent)?.sync_all()?;
            if created {
                std::fs::File::open(&root)?.sync_all()?;
            }
            Ok::<_, std::io::Error>(())
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}
