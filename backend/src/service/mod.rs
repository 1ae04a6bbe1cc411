//! What the backend does, one file per domain: each adds its operations to
//! [`crate::Backend`]. The store persists; these decide.

mod audit;
mod documents;
mod events;
mod idempotency;
mod operations;
mod tenants;
mod uploads;
mod webhooks;
mod workers;

pub(crate) use documents::Renders;
pub use documents::{Submitted, Thumbnail};
pub use tenants::KeySpec;
pub(crate) use uploads::Uploads;

#[cfg(test)]
mod tests;
