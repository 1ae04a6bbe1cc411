//! The work a running server does besides answering requests: the processing workers,
//! the event relay and the webhook sender. One place starts them all, for the binary, the
//! tests and the governance gate alike.

use std::net::SocketAddr;

use docintel_backend::{RelayHandle, WorkerPool};

use crate::events::EventsConfig;
use crate::notify::Notifier;
use crate::state::AppState;

/// The running background tasks; dropping this stops them (their work stays in the
/// database).
pub struct Background {
    _workers: WorkerPool,
    _relay: RelayHandle,
    _notifier: Notifier,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("starting the workers: {0}")]
    Workers(#[from] docintel_backend::Error),
    #[error("starting the event relay: {0}")]
    Relay(#[from] docintel_backend::events::relay::EncodeError),
}

/// Starts the workers, the relay (`listening` is where this process serves, for the
/// embedded registry) and the webhook sender. Register the schemas first
/// ([`crate::events::register_schemas`]): nothing should be published with a schema the
/// registry refuses.
pub async fn start(
    state: &AppState,
    events: &EventsConfig,
    listening: SocketAddr,
) -> Result<Background, StartError> {
    Ok(Background {
        _workers: state.backend.start_workers().await?,
        _relay: crate::events::start_relay(state, events, listening)?,
        _notifier: crate::notify::start(state.clone()),
    })
}
