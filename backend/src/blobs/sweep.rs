//! Removing what no document owns: blobs whose upload was committed but whose document
//! row was never written (the process died between the two, or the store refused the
//! row), blobs of documents deleted while their blob could not be, and staged uploads a
//! killed process left. Only objects older than a grace period are looked at, so an
//! upload between its commit and its row is never taken for an orphan.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::StreamExt;
use time::OffsetDateTime;

use super::{Blobs, Listed, derived_owner};
use crate::error::Result;
use crate::store::Store;

/// How many keys are checked against the documents at once.
const BATCH: usize = 500;

/// What one sweep looked at and removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub examined: u64,
    pub removed: u64,
}

/// Removes every object older than `grace` that no document names.
pub async fn sweep(blobs: &Blobs, store: &dyn Store, grace: Duration) -> Result<Swept> {
    let cutoff = OffsetDateTime::now_utc() - grace;
    let mut swept = Swept::default();
    let mut batch: Vec<Listed> = Vec::with_capacity(BATCH);
    let mut listing = blobs.store().list();
    while let Some(listed) = listing.next().await {
        let listed = listed?;
        if listed.modified > cutoff {
            continue;
        }
        swept.examined += 1;
        if listed.staging {
            blobs.store().remove_listed(&listed).await?;
            swept.removed += 1;
            continue;
        }
        batch.push(listed);
        if batch.len() == BATCH {
            swept.removed += remove_unowned(blobs, store, &mut batch).await?;
        }
    }
    swept.removed += remove_unowned(blobs, store, &mut batch).await?;
    Ok(swept)
}

async fn remove_unowned(blobs: &Blobs, store: &dyn Store, batch: &mut Vec<Listed>) -> Result<u64> {
    let owners: Vec<String> = batch
        .iter()
        .map(|l| derived_owner(&l.key).unwrap_or(&l.key).to_owned())
        .collect();
    let known: HashSet<String> = store
        .existing_blob_keys(&owners)
        .await?
        .into_iter()
        .collect();
    let mut removed = 0;
    for (listed, owner) in batch.drain(..).zip(owners) {
        if !known.contains(&owner) {
            tracing::info!(key = %listed.key, "removing a blob no document owns");
            blobs.store().remove_listed(&listed).await?;
            removed += 1;
        }
    }
    Ok(removed)
}
