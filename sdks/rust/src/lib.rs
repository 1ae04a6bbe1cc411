//! # docintel-sdk
//!
//! The Rust SDK for [docintel](https://github.com/docintel/docintel), the document
//! intelligence API: upload a PDF, image or text file, wait for it to be processed, and
//! read its text, metadata and classification.
//!
//! ```no_run
//! use std::time::Duration;
//! use docintel_sdk::TryStreamExt;
//!
//! # async fn run() -> Result<(), docintel_sdk::Error> {
//! let client = docintel_sdk::Client::builder("http://127.0.0.1:8080")
//!     .api_key(std::env::var("DOCINTEL_API_KEY").unwrap_or_default())
//!     .build()?;
//!
//! // Upload and wait: retried safely (an Idempotency-Key is sent), typed errors.
//! let doc = client
//!     .upload_and_wait(b"Invoice 42, total 10 EUR".to_vec(), "invoice.txt", Duration::from_secs(30))
//!     .await?;
//! println!("{} is {} ({} words)", doc.id, doc.status, doc.metadata.word_count.unwrap_or(0));
//! println!("{}", client.text(doc.id).await?);
//!
//! // Every document, page after page.
//! let all: Vec<_> = client.list_documents(Default::default()).try_collect().await?;
//! println!("{} documents", all.len());
//!
//! // Typed errors carry the server's problem document.
//! match client.document(docintel_sdk::uuid::Uuid::nil()).await {
//!     Err(docintel_sdk::Error::Api(p)) if p.status == 404 => println!("gone: {}", p.detail),
//!     other => println!("{other:?}"),
//! }
//! # Ok(()) }
//! ```
//!
//! The [`Client`] adds to the generated client (in [`raw`](Client::raw), produced by
//! progenitor from the API's OpenAPI document): retries with exponential backoff and
//! jitter for idempotent requests and uploads (honouring `Retry-After`; see
//! [`RetryPolicy`]), an `Idempotency-Key` per upload, pagination as a stream or page by
//! page ([`Client::list_documents_page`]), [`Client::upload_and_wait`],
//! typed [`Error`]s, and a warning when the server announces that an operation you use
//! is deprecated ([`Client::deprecation_notices`]), webhook subscriptions
//! ([`Client::create_webhook`] and the rest), [`construct_event`] to verify and parse
//! a delivery in your receiver, and where each word is on its page
//! ([`Client::layout_pages`], [`find_words`], [`PixelBox`] in pixels of a thumbnail).
//! Errors of `raw()` calls convert into [`Error`] with `?`.
//!
//! The SDK speaks `/v2`, the current API, only ([`Client::api_version`] is the version it
//! was generated for). `examples/first_program.rs` is a complete first program (upload,
//! result, listing page by page, errors, a webhook delivery),
//! `examples/webhook_receiver.rs` a webhook receiver and `examples/highlight_word.rs`
//! a word's box on the document's thumbnail.

#![warn(missing_docs)]

mod audit;
mod client;
mod error;
#[allow(clippy::all, unused_imports, dead_code, missing_docs)]
#[rustfmt::skip]
mod generated;
mod hooks;
mod keys;
mod layout;
mod subscriptions;
mod usage;
mod webhook;

pub use audit::AuditFilter;
pub use client::{Client, ClientBuilder, ListFilter, MAX_UPLOAD_BYTES, USER_AGENT, Uploaded};
pub use error::{ApiProblem, Error, Result};
pub use hooks::{DeprecationNotice, RetryPolicy};
pub use layout::{FoundWord, PixelBox, find_words, png_size};
pub use webhook::{WebhookError, construct_event, sign_webhook, verify_webhook};

// What the public API names, so users need no guess at crates and versions.
pub use bytes;
pub use chrono;
/// The stream traits [`Client::list_documents`] is used with (`try_next`, `try_collect`).
pub use futures::stream::{Stream, StreamExt, TryStreamExt};
pub use uuid;

/// The API's data types, generated from its OpenAPI document.
pub mod types {
    pub use crate::generated::types::*;
}

/// The generated client with every operation's builder (see [`Client::raw`]).
pub use generated::Client as RawClient;

/// Every Rust block of the README compiles (`cargo test --doc -p docintel-sdk`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
