//! Blobs in a local folder. Writes go to a temp file under `.tmp/` and are fsynced, then
//! renamed into place, so a reader never sees a half-written blob and an acknowledged
//! one survives a crash. (object_store's local backend renames too, but does not fsync.)
//!
//! A new name is durable once its folder is flushed. Blobs of one tenant share a folder,
//! so concurrent uploads share that flush ([`GroupFlush`]): under load one folder `fsync`
//! covers many blobs. Each blob's own bytes are flushed, and renamed, in one blocking
//! step (one hand-off to the blocking pool rather than one per call).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures_util::stream::{self, BoxStream, StreamExt};
use time::OffsetDateTime;
use tokio::io::AsyncWriteExt;

use super::{BlobStore, BlobWriter, Listed};
use crate::error::Result;
use crate::group_flush::GroupFlush;

const STAGING: &str = ".tmp";

#[derive(Clone)]
pub struct LocalBlobs {
    root: PathBuf,
    folders: Arc<FolderFlushes>,
}

impl std::fmt::Debug for LocalBlobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalBlobs")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

/// One shared flush per folder that received a blob (one per tenant, a few bytes each).
#[derive(Default)]
struct FolderFlushes(Mutex<HashMap<PathBuf, Arc<GroupFlush>>>);

impl FolderFlushes {
    /// Returns once `folder`'s entries made before the call are durable.
    async fn flush(&self, folder: PathBuf) -> std::io::Result<()> {
        let group = {
            let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
            all.entry(folder.clone()).or_default().clone()
        };
        group
            .barrier(|| async move {
                tokio::task::spawn_blocking(move || std::fs::File::open(&folder)?.sync_all())
                    .await
                    .map_err(std::io::Error::other)?
            })
            .await
    }
}

impl LocalBlobs {
    /// Opens (creating if needed) a blob folder. Temp files a crash left behind are
    /// removed by the sweep, not here: another process may share the folder.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(root.join(STAGING))?;
        Ok(Self {
            root,
            folders: Default::default(),
        })
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    /// A fresh temp file's name.
    fn staging_name(&self) -> PathBuf {
        self.root
            .join(STAGING)
            .join(uuid::Uuid::new_v4().simple().to_string())
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
        let tmp = self.staging_name();
        let file = tokio::fs::File::create(&tmp).await?;
        Ok(Box::new(TempFile {
            file: Some(file),
            tmp,
            blobs: self.clone(),
        }))
    }

    async fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let tmp = self.staging_name();
        let dest = self.path(key);
        let bytes = bytes.to_vec();
        let root = self.root.clone();
        let folder = tokio::task::spawn_blocking(move || {
            let written = (|| {
                let mut file = std::fs::File::create(&tmp)?;
                std::io::Write::write_all(&mut file, &bytes)?;
                install(Some(file), &tmp, &dest, &root)
            })();
            if written.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            written
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok(self.folders.flush(folder).await?)
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
    blobs: LocalBlobs,
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
        let file = match self.file.take() {
            Some(mut f) => {
                f.flush().await?;
                Some(f.into_std().await)
            }
            None => None,
        };
        let (tmp, dest, root) = (
            self.tmp.clone(),
            self.blobs.path(key),
            self.blobs.root.clone(),
        );
        let folder = tokio::task::spawn_blocking(move || install(file, &tmp, &dest, &root))
            .await
            .map_err(std::io::Error::other)??;
        self.tmp = PathBuf::new();
        Ok(self.blobs.folders.flush(folder).await?)
    }
}

/// Flushes `file` (written at `tmp`) and renames it to `dest`; blocking. Returns the
/// folder whose flush makes the new name durable. A folder made here is made durable in
/// the root at once (a tenant's first blob).
fn install(
    file: Option<std::fs::File>,
    tmp: &Path,
    dest: &Path,
    root: &Path,
) -> std::io::Result<PathBuf> {
    if let Some(f) = file {
        f.sync_all()?;
    }
    let folder = dest.parent().unwrap_or(root).to_owned();
    if !folder.exists() {
        std::fs::create_dir_all(&folder)?;
        std::fs::File::open(root)?.sync_all()?;
    }
    std::fs::rename(tmp, dest)?;
    Ok(folder)
}

impl Drop for TempFile {
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
    async fn concurrent_blobs_of_a_folder_share_its_flush() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = LocalBlobs::open(dir.path()).unwrap();
        let puts: Vec<_> = (0..50)
            .map(|i| {
                let blobs = blobs.clone();
                tokio::spawn(async move { blobs.put(&format!("t/{i}"), b"bytes").await })
            })
            .collect();
        for put in puts {
            put.await.unwrap().unwrap();
        }
        for i in 0..50 {
            assert_eq!(
                std::fs::read(dir.path().join(format!("t/{i}"))).unwrap(),
                b"bytes"
            );
        }
        let folders = blobs.folders.0.lock().unwrap();
        let flushes = folders[&dir.path().join("t")].flushes();
        // Each blob is durable only after a flush that started after its rename; 50 at
        // once need far fewer than 50.
        assert!((1..50).contains(&flushes), "{flushes} folder flushes");
        // Nothing is left in the staging folder.
        assert_eq!(
            std::fs::read_dir(dir.path().join(STAGING)).unwrap().count(),
            0
        );
    }
}
