//! The checks, each generic over how the store is opened, one file per topic, and the
//! helpers they share.

mod audit;
mod broker;
mod coordination;
mod documents;
mod events;
mod jobs;
mod quotas;
mod registry;

pub use audit::*;
pub use broker::*;
pub use coordination::*;
pub use documents::*;
pub use events::*;
pub use jobs::*;
pub use quotas::*;
pub use registry::*;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use docintel_backend::events::Event;
use docintel_backend::model::{ContentType, Extracted, ListFilter, TenantId};
use docintel_backend::store::{
    ClaimedJob, Completion, JobResult, KeptResponse, NewDocument, Store, StoredResponse,
};
use docintel_backend::webhooks::NewWebhook;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Factory;

async fn tenant(store: &dyn Store, name: &str) -> TenantId {
    store
        .create_tenant(name, OffsetDateTime::now_utc())
        .await
        .expect("tenant")
        .id
}

/// Subscribes `tenant` to `types` of events, at a public URL.
pub(crate) async fn subscribe(
    store: &dyn Store,
    tenant: TenantId,
    types: &[&str],
) -> docintel_backend::webhooks::Webhook {
    let new = NewWebhook {
        url: "https://example.com/hook".into(),
        description: None,
        event_types: types.iter().map(|t| t.to_string()).collect(),
    };
    store
        .create_webhook(tenant, &new, "whsec_x", OffsetDateTime::now_utc())
        .await
        .expect("webhook")
}

/// Inserts a queued text document (with its `doc.uploaded` event); returns its id.
pub(crate) async fn upload(store: &dyn Store, tenant: TenantId, name: &str) -> Uuid {
    let (doc, uploaded) = new_doc(tenant, name);
    store
        .insert_document(
            &doc,
            &[uploaded],
            None,
            docintel_backend::model::Quota::UNLIMITED,
        )
        .await
        .expect("insert")
        .expect("inserted");
    doc.id
}

/// A queued text document to insert, and its `doc.uploaded` event.
fn new_doc(tenant: TenantId, name: &str) -> (NewDocument, Event) {
    let id = Uuid::now_v7();
    let doc = NewDocument {
        id,
        tenant_id: tenant,
        filename: name.to_owned(),
        content_type: ContentType::Text,
        size_bytes: 5,
        sha256: "0".repeat(64),
        blob_key: format!("{}/{}", tenant.0.simple(), id.simple()),
        created_at: OffsetDateTime::now_utc(),
        inline_bytes: None,
    };
    let uploaded = Event::uploaded(
        id,
        tenant,
        doc.created_at,
        name,
        "text/plain",
        5,
        &doc.sha256,
    );
    (doc, uploaded)
}

fn processed(text: &str) -> JobResult {
    JobResult::Processed {
        text: text.to_owned(),
        extracted: Extracted::default(),
        warnings: Vec::new(),
        classification: None,
        thumbnail_key: None,
        pages: vec![
            (1, format!("{{\"text\":{text:?},\"page\":1}}")),
            (2, "{\"page\":2}".to_owned()),
        ],
    }
}

async fn claim(store: &dyn Store, owner: &str) -> Option<ClaimedJob> {
    store
        .claim_job(owner, Duration::from_secs(30))
        .await
        .expect("claim")
}

/// Claims the next job and completes it as processed with `text`.
pub(crate) async fn process_next(store: &dyn Store, text: &str) -> ClaimedJob {
    let now = OffsetDateTime::now_utc();
    let job = claim(store, "w").await.expect("a queued job");
    let result = processed(text);
    let events = Event::of_job(&job, &result, now);
    assert!(
        store
            .complete_job(&job, "w", &result, &events, now)
            .await
            .expect("complete")
    );
    job
}
