//! Concurrent uploads inserted together: the uploads waiting for the store go in one
//! transaction ([`crate::store::DocumentStore::insert_documents`]), each with its own
//! quota check and idempotency key, instead of a transaction (and on PostgreSQL a lock
//! of the tenant's usage row and several round trips) each. Nothing waits to fill a
//! group: one upload alone is inserted at once, and what arrives meanwhile goes next.

use std::sync::Arc;

use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use crate::events::Event;
use crate::model::{Document, Quota};
use crate::store::{KeptResponse, NewDocument, Store, StoredResponse, Upload};
use crate::{Error, Result};

/// Uploads inserted in one transaction at most: the statements' values stay far under
/// either database's limit, and one group's failure (retried one by one) stays cheap.
const MAX_GROUP: usize = 64;

/// Uploads queued beyond this make the next wait (each holds its row and inline bytes).
const MAX_QUEUED: usize = 1024;

/// The response an upload keeps under an `Idempotency-Key`, owned.
pub(crate) struct Kept {
    pub key: String,
    pub response: StoredResponse,
    pub forget_before: OffsetDateTime,
}

struct Pending {
    doc: Arc<NewDocument>,
    event: Event,
    kept: Option<Kept>,
    /// The request's caller, for the audit trail (the inserting task has none of its own).
    caller: Option<crate::audit::Caller>,
    reply: oneshot::Sender<Result<Option<Document>>>,
}

impl Pending {
    fn upload(&self) -> Upload<'_> {
        Upload {
            doc: &self.doc,
            events: std::slice::from_ref(&self.event),
            kept: self.kept.as_ref().map(|k| KeptResponse {
                key: &k.key,
                response: &k.response,
                forget_before: k.forget_before,
            }),
            caller: self.caller.as_ref(),
        }
    }
}

/// The queue of uploads to insert, and the task inserting them.
pub(crate) struct Uploads {
    queue: mpsc::Sender<Pending>,
    store: Arc<dyn Store>,
    defaults: Quota,
}

impl Uploads {
    /// Starts the inserting task (it ends when this is dropped).
    pub(crate) fn start(store: Arc<dyn Store>, defaults: Quota) -> Self {
        let (queue, waiting) = mpsc::channel(MAX_QUEUED);
        tokio::spawn(insert_waiting(store.clone(), defaults, waiting));
        Self {
            queue,
            store,
            defaults,
        }
    }

    /// Inserts `doc` with `event` (and `kept`) as
    /// [`crate::store::DocumentStore::insert_document`] does, with the uploads waiting
    /// meanwhile.
    pub(crate) async fn insert(
        &self,
        doc: Arc<NewDocument>,
        event: Event,
        kept: Option<Kept>,
    ) -> Result<Option<Document>> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            doc,
            event,
            kept,
            caller: crate::audit::current(),
            reply,
        };
        match self.queue.send(pending).await {
            Ok(()) => answer.await.map_err(|_| Error::Unavailable {
                service: "database",
                detail: "the upload was dropped before its insert ended".into(),
            })?,
            // The task is gone (its runtime ended): insert it here.
            Err(mpsc::error::SendError(pending)) => {
                self.store
                    .insert_upload(pending.upload(), self.defaults)
                    .await
            }
        }
    }
}

/// Inserts what is waiting, a group at a time, and answers each upload.
async fn insert_waiting(
    store: Arc<dyn Store>,
    defaults: Quota,
    mut waiting: mpsc::Receiver<Pending>,
) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while waiting.recv_many(&mut group, MAX_GROUP).await > 0 {
        let uploads: Vec<Upload<'_>> = group.iter().map(Pending::upload).collect();
        let outcomes = insert_group(&*store, defaults, &uploads).await;
        drop(uploads);
        for (pending, outcome) in group.drain(..).zip(outcomes) {
            // An upload whose request has gone is inserted all the same (as one whose
            // client left after its commit).
            let _ = pending.reply.send(outcome);
        }
    }
}

/// Each upload's outcome: together, else (the transaction failed) each alone, so that
/// one upload's failure is no other's.
async fn insert_group(
    store: &dyn Store,
    defaults: Quota,
    uploads: &[Upload<'_>],
) -> Vec<Result<Option<Document>>> {
    match store.insert_documents(uploads, defaults).await {
        Ok(outcomes) if outcomes.len() == uploads.len() => outcomes,
        Ok(_) => uploads
            .iter()
            .map(|_| Err(Error::Corrupt("a group insert lost outcomes".into())))
            .collect(),
        Err(e) if uploads.len() == 1 => vec![Err(e)],
        Err(e) => {
            tracing::debug!(error = %e, uploads = uploads.len(), "a group of uploads failed: inserting each alone");
            let mut outcomes = Vec::with_capacity(uploads.len());
            for upload in uploads {
                outcomes.push(store.insert_upload(*upload, defaults).await);
            }
            outcomes
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::IngestError;
    use crate::model::{ContentType, TenantId};
    use crate::store::{SqliteStore, TenantStore};

    async fn store(dir: &std::path::Path) -> (Arc<dyn Store>, TenantId) {
        let store = SqliteStore::open(&dir.join("docintel.db")).await.unwrap();
        let tenant = store
            .create_tenant("t", OffsetDateTime::now_utc())
            .await
            .unwrap()
            .id;
        (Arc::new(store), tenant)
    }

    fn upload(tenant: TenantId, id: uuid::Uuid) -> (Arc<NewDocument>, Event) {
        let doc = NewDocument {
            id,
            tenant_id: tenant,
            filename: "a.txt".into(),
            content_type: ContentType::Text,
            size_bytes: 5,
            sha256: "0".repeat(64),
            blob_key: format!("{}/{id}", tenant.0),
            created_at: OffsetDateTime::now_utc(),
            inline_bytes: None,
        };
        let event = Event::uploaded(
            id,
            tenant,
            doc.created_at,
            "a.txt",
            "text/plain",
            5,
            &doc.sha256,
        );
        (Arc::new(doc), event)
    }

    /// A group whose transaction fails (two uploads of one id) is inserted one by one:
    /// the uploads around the duplicate are stored, and only the duplicate fails.
    #[tokio::test]
    async fn a_failed_group_is_inserted_one_upload_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let (store, tenant) = store(dir.path()).await;
        let twice = uuid::Uuid::now_v7();
        let docs = [
            upload(tenant, twice),
            upload(tenant, twice),
            upload(tenant, uuid::Uuid::now_v7()),
        ];
        let uploads: Vec<Upload<'_>> = docs
            .iter()
            .map(|(doc, event)| Upload {
                doc,
                events: std::slice::from_ref(event),
                kept: None,
                caller: None,
            })
            .collect();
        assert!(
            store
                .insert_documents(&uploads, Quota::UNLIMITED)
                .await
                .is_err()
        );
        let outcomes = insert_group(&*store, Quota::UNLIMITED, &uploads).await;
        assert!(matches!(outcomes[0], Ok(Some(_))), "{:?}", outcomes[0]);
        assert!(
            matches!(outcomes[1], Err(Error::Database(_))),
            "{:?}",
            outcomes[1]
        );
        assert!(matches!(outcomes[2], Ok(Some(_))), "{:?}", outcomes[2]);
        assert_eq!(store.tenant_usage(tenant).await.unwrap().documents, 2);
    }

    /// Uploads racing through the queue: each answered once, exactly the quota stored.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn racing_uploads_through_the_queue_are_each_answered() {
        let dir = tempfile::tempdir().unwrap();
        let (store, tenant) = store(dir.path()).await;
        let quota = Quota {
            max_bytes: None,
            max_documents: Some(30),
        };
        let uploads = Arc::new(Uploads::start(store.clone(), quota));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let uploads = uploads.clone();
            tasks.push(tokio::spawn(async move {
                let (doc, event) = upload(tenant, uuid::Uuid::now_v7());
                match uploads.insert(doc.clone(), event, None).await {
                    Ok(Some(stored)) => {
                        assert_eq!(stored.id, doc.id);
                        true
                    }
                    Err(Error::Ingest(IngestError::QuotaExceeded(_))) => false,
                    other => panic!("unexpected outcome {other:?}"),
                }
            }));
        }
        let mut stored = 0;
        for task in tasks {
            stored += usize::from(task.await.unwrap());
        }
        assert_eq!(stored, 30);
        assert_eq!(store.tenant_usage(tenant).await.unwrap().documents, 30);
    }
}
