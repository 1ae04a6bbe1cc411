//! What one document costs the embedded store from upload to its events' relay: the
//! statements SQLite runs and the hand-offs to connection threads, pinned so that a
//! change that adds one fails here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use time::OffsetDateTime;
use tracing::Instrument;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{Layer, Registry};

use super::{PING, STATEMENT};
use crate::events::Event;
use crate::model::{ContentType, Extracted, Quota};
use crate::store::{InlineBytes, JobResult, NewDocument, SqliteStore, Store};

/// What one connection thread was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sent {
    /// A statement SQLite ran.
    Statement(String),
    /// A text sqlx handed over to run (one or more statements).
    Text(String),
    /// A check that the connection is alive.
    Ping,
}

/// What each counted span saw, by the span's `counted` field.
fn seen() -> &'static Mutex<HashMap<u64, Vec<Sent>>> {
    static SEEN: OnceLock<Mutex<HashMap<u64, Vec<Sent>>>> = OnceLock::new();
    SEEN.get_or_init(Default::default)
}

/// Files the store's events under the `counted` span they happened in. The events come
/// from the connections' threads, which enter the span of the call that sent the work.
struct Counter;

struct CountedAs(u64);

#[derive(Default)]
struct Fields {
    counted: Option<u64>,
    text: String,
}

impl tracing::field::Visit for Fields {
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        if field.name() == "counted" {
            self.counted = Some(value);
        }
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if matches!(field.name(), "summary" | "db.statement") {
            self.text.push_str(value);
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "sql" {
            self.text = format!("{value:?}");
        }
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Counter {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let (Some(n), Some(span)) = (fields.counted, ctx.span(id)) {
            span.extensions_mut().insert(CountedAs(n));
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        let target = event.metadata().target();
        if ![STATEMENT, PING, "sqlx::query"].contains(&target) {
            return;
        }
        let Some(n) = ctx.event_scope(event).and_then(|scope| {
            scope
                .into_iter()
                .find_map(|s| s.extensions().get::<CountedAs>().map(|c| c.0))
        }) else {
            return;
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        let sent = match target {
            PING => Sent::Ping,
            STATEMENT => Sent::Statement(fields.text),
            // A connection the pool opens sets itself up first: once per connection (at
            // most 8), not per document.
            _ if fields.text.starts_with("PRAGMA ") => return,
            _ => Sent::Text(fields.text),
        };
        seen().lock().unwrap().entry(n).or_default().push(sent);
    }
}

/// Runs `f` in a span of its own; what the store was sent meanwhile.
async fn count<T>(f: impl std::future::Future<Output = T>) -> (T, Vec<Sent>) {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    INSTALLED.get_or_init(|| {
        tracing::subscriber::set_global_default(Registry::default().with(Counter))
            .expect("no other test installs a global subscriber");
    });
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out = f
        .instrument(tracing::trace_span!("counted", counted = n))
        .await;
    let sent = seen().lock().unwrap().remove(&n).unwrap_or_default();
    (out, sent)
}

/// Hand-offs to a connection's thread: each text sqlx runs, each BEGIN, COMMIT and
/// ROLLBACK (sent on their own). Pings are counted apart: a connection idle for a second
/// is checked, which a slow machine can make happen anywhere.
fn handoffs(sent: &[Sent]) -> usize {
    sent.iter()
        .filter(|s| match s {
            Sent::Text(_) => true,
            Sent::Ping => false,
            Sent::Statement(sql) => is_transaction_control(sql),
        })
        .count()
}

fn is_transaction_control(sql: &str) -> bool {
    let word = sql
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    ["BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"].contains(&word.as_str())
}

fn statements(sent: &[Sent]) -> Vec<String> {
    sent.iter()
        .filter_map(|s| match s {
            Sent::Statement(sql) => {
                Some(sql.split_whitespace().take(4).collect::<Vec<_>>().join(" "))
            }
            _ => None,
        })
        .collect()
}

/// One stage's cost: (statements SQLite ran, hand-offs).
fn cost(stage: &str, sent: &[Sent]) -> (usize, usize) {
    let statements = statements(sent);
    println!(
        "{stage}: {} statements, {} hand-offs",
        statements.len(),
        handoffs(sent)
    );
    for s in &statements {
        println!("  {s}");
    }
    (statements.len(), handoffs(sent))
}

#[tokio::test]
async fn a_document_costs_a_known_number_of_statements_and_hand_offs() {
    let started = std::time::Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&dir.path().join("db.sqlite"))
            .await
            .unwrap(),
    );
    let now = OffsetDateTime::now_utc();
    let tenant = store.create_tenant("t", now).await.unwrap();
    let new_doc = |id: uuid::Uuid| {
        let bytes = b"hello world".to_vec();
        let doc = NewDocument {
            id,
            tenant_id: tenant.id,
            filename: "note.txt".into(),
            content_type: ContentType::Text,
            size_bytes: bytes.len() as u64,
            sha256: "0".repeat(64),
            blob_key: format!("{}/{id}", tenant.id.0),
            created_at: now,
            inline_bytes: Some(InlineBytes(bytes)),
        };
        let uploaded = Event::uploaded(
            id,
            tenant.id,
            now,
            "note.txt",
            "text/plain",
            11,
            &doc.sha256,
        );
        (doc, uploaded)
    };
    let (doc, uploaded) = new_doc(uuid::Uuid::now_v7());
    // As the API uploads: within a request whose caller is known (an audit entry).
    let (inserted, upload) = count(crate::audit::as_operator(
        tenant.id,
        store.insert_document(&doc, &[uploaded], None, Quota::default()),
    ))
    .await;
    assert!(inserted.unwrap().is_some());

    let (job, claim) = count(store.claim_job("w-0", Duration::from_secs(60))).await;
    let job = job.unwrap().expect("the upload's job");
    let result = JobResult::Processed {
        text: "hello world".into(),
        extracted: Extracted::default(),
        warnings: Vec::new(),
        classification: None,
        thumbnail_key: None,
        pages: vec![(1, "{}".into())],
    };
    let events = Event::of_job(&job, &result, now);
    let (done, complete) = count(store.complete_job(&job, "w-0", &result, &events, now)).await;
    assert!(done.unwrap());

    // The relay: one batch read and marked sent; the webhook sender: what is due.
    let (relayed, relay) = count(async {
        let rows = store.pending_events(100).await.unwrap();
        let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
        store.mark_sent(&seqs, now).await.unwrap();
        rows.len()
    })
    .await;
    assert_eq!(relayed, 1 + events.len());
    let (due, webhooks) =
        count(store.claim_deliveries(now, now + Duration::from_secs(60), 16)).await;
    assert!(due.unwrap().is_empty());

    // Uploads inserted together cost what one does.
    let caller = crate::audit::Caller {
        tenant: Some(tenant.id),
        actor: Some(crate::audit::OPERATOR.into()),
        address: None,
        request_id: None,
    };
    let group: Vec<(NewDocument, Event)> = (0..4).map(|_| new_doc(uuid::Uuid::now_v7())).collect();
    let uploads: Vec<crate::store::Upload<'_>> = group
        .iter()
        .map(|(doc, uploaded)| crate::store::Upload {
            doc,
            events: std::slice::from_ref(uploaded),
            kept: None,
            caller: Some(&caller),
        })
        .collect();
    let (outcomes, together) = count(store.insert_documents(&uploads, Quota::default())).await;
    assert!(outcomes.unwrap().iter().all(|o| matches!(o, Ok(Some(_)))));
    assert_eq!(
        cost("4 uploads together", &together),
        cost("upload", &upload)
    );

    let costs = [
        cost("upload", &upload),
        cost("claim", &claim),
        cost("completion", &complete),
        cost("relay", &relay),
        cost("webhook sender", &webhooks),
    ];
    let pings = [&upload, &claim, &complete, &relay, &webhooks]
        .iter()
        .flat_map(|sent| sent.iter())
        .filter(|s| **s == Sent::Ping)
        .count();
    assert!(
        pings == 0 || started.elapsed() > Duration::from_secs(1),
        "{pings} connections were checked though none was idle for a second"
    );
    let total = costs
        .iter()
        .fold((0, 0), |(s, h), (s1, h1)| (s + s1, h + h1));
    println!("in all: {} statements, {} hand-offs", total.0, total.1);
    assert_eq!(costs, [(9, 4), (4, 3), (8, 4), (1, 1), (1, 1)]);
}
