//! Blobs in object storage through the `object_store` crate: S3-compatible servers, or
//! memory. An upload is staged under `staging/` (kept in memory up to one part, then
//! sent as a multipart upload, which the server shows to no one until it is complete)
//! and moved to its key on commit, so a reader never sees a partial blob.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::stream::{BoxStream, StreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::buffered::BufWriter;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ClientConfigKey, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};
use time::OffsetDateTime;
use tokio::io::AsyncWriteExt;

use super::{BlobStore, BlobWriter, Listed};
use crate::error::{Error, Result};

/// S3's smallest part; what an upload holds in memory before it streams out in parts.
const PART: usize = 5 * 1024 * 1024;
const STAGING: &str = "staging";

#[derive(Debug, Clone)]
pub struct ObjectBlobs {
    store: Arc<dyn ObjectStore>,
    /// Key prefix inside the bucket ("" for none), without slashes at either end.
    prefix: String,
}

/// A storage failure: a missing object is the I/O error every store gives; anything else
/// (refused, unreachable, timed out) is the service being unavailable for now.
fn storage(e: object_store::Error) -> Error {
    match e {
        object_store::Error::NotFound { path, .. } => Error::Io(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("no blob at {path}"),
        )),
        other => Error::Unavailable {
            service: "object storage",
            detail: other.to_string(),
        },
    }
}

impl ObjectBlobs {
    /// The bucket, configured by the `AWS_*` environment variables (`AWS_ENDPOINT`,
    /// `AWS_REGION`, `AWS_ALLOW_HTTP`, `AWS_ACCESS_KEY_ID`, …).
    pub fn s3(bucket: &str, prefix: &str) -> Result<Self> {
        let store = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            // A request that cannot reach the server is answered 503 within seconds,
            // not after the client's default of minutes of retries.
            .with_retry(RetryConfig {
                max_retries: 2,
                retry_timeout: Duration::from_secs(10),
                ..RetryConfig::default()
            })
            // Set key by key: replacing the client options would drop what the
            // environment set (AWS_ALLOW_HTTP among them).
            .with_config(
                AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout),
                "3s",
            )
            .with_config(AmazonS3ConfigKey::Client(ClientConfigKey::Timeout), "60s")
            .build()
            .map_err(|e| Error::Config(format!("--blob-store s3://{bucket}: {e}")))?;
        Ok(Self {
            store: Arc::new(store),
            prefix: prefix.to_owned(),
        })
    }

    pub fn memory() -> Self {
        Self {
            store: Arc::new(InMemory::new()),
            prefix: String::new(),
        }
    }

    fn path(&self, key: &str) -> Path {
        if self.prefix.is_empty() {
            Path::from(key)
        } else {
            Path::from(format!("{}/{key}", self.prefix))
        }
    }

    /// `location` relative to the prefix.
    fn key_of<'a>(&self, location: &'a str) -> &'a str {
        if self.prefix.is_empty() {
            location
        } else {
            location
                .strip_prefix(self.prefix.as_str())
                .and_then(|rest| rest.strip_prefix('/'))
                .unwrap_or(location)
        }
    }
}

#[async_trait]
impl BlobStore for ObjectBlobs {
    async fn create(&self) -> Result<Box<dyn BlobWriter>> {
        let staged = self.path(&format!("{STAGING}/{}", uuid::Uuid::new_v4().simple()));
        Ok(Box::new(Staged {
            writer: Some(BufWriter::with_capacity(
                self.store.clone(),
                staged.clone(),
                PART,
            )),
            staged,
            blobs: self.clone(),
        }))
    }

    async fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        // One PUT: the object appears whole or not at all.
        self.store
            .put(&self.path(key), PutPayload::from(bytes.to_vec()))
            .await
            .map_err(storage)?;
        Ok(())
    }

    async fn read(&self, key: &str) -> Result<Vec<u8>> {
        let got = self.store.get(&self.path(key)).await.map_err(storage)?;
        Ok(got.bytes().await.map_err(storage)?.to_vec())
    }

    async fn read_stream(&self, key: &str) -> Result<super::BlobReader> {
        let got = self.store.get(&self.path(key)).await.map_err(storage)?;
        let stream = got.into_stream().map(|r| r.map_err(std::io::Error::other));
        Ok(Box::new(tokio_util::io::StreamReader::new(stream)))
    }

    async fn exists(&self, key: &str) -> Result<bool> {
        match self.store.head(&self.path(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(storage(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<()> {
        match self.store.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(storage(e)),
        }
    }

    fn list(&self) -> BoxStream<'_, Result<Listed>> {
        let prefix = (!self.prefix.is_empty()).then(|| Path::from(self.prefix.as_str()));
        self.store
            .list(prefix.as_ref())
            .map(move |meta| {
                let meta = meta.map_err(storage)?;
                let key = self.key_of(meta.location.as_ref()).to_owned();
                let modified = OffsetDateTime::from_unix_timestamp(meta.last_modified.timestamp())
                    .unwrap_or_else(|_| OffsetDateTime::now_utc());
                Ok(Listed {
                    staging: key.starts_with(&format!("{STAGING}/")),
                    key,
                    modified,
                })
            })
            .boxed()
    }

    async fn remove_listed(&self, listed: &Listed) -> Result<()> {
        self.delete(&listed.key).await
    }
}

/// An upload being staged. Dropped before its commit, it is aborted (a multipart upload
/// already begun is cancelled on the server).
struct Staged {
    writer: Option<BufWriter>,
    staged: Path,
    blobs: ObjectBlobs,
}

#[async_trait]
impl BlobWriter for Staged {
    async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        if let Some(w) = self.writer.as_mut() {
            w.put(bytes::Bytes::copy_from_slice(chunk))
                .await
                .map_err(storage)?;
        }
        Ok(())
    }

    async fn commit(mut self: Box<Self>, key: &str) -> Result<()> {
        if let Some(mut w) = self.writer.take() {
            w.shutdown().await.map_err(|e| Error::Unavailable {
                service: "object storage",
                detail: e.to_string(),
            })?;
        }
        // Server-side copy, then the staged object is removed.
        let moved = self
            .blobs
            .store
            .rename(&self.staged, &self.blobs.path(key))
            .await;
        if moved.is_err() {
            let _ = self.blobs.store.delete(&self.staged).await;
        }
        moved.map_err(storage)
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        let Some(mut writer) = self.writer.take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = writer.abort().await {
                    tracing::debug!(error = %e, "could not abort a refused upload; the sweep removes it");
                }
            });
        }
    }
}
