//! What one process of a deployment does (API, background work, or both).

/// What one process does. Several processes on one database (`--database-url`) split
/// the work: API replicas answer HTTP, workers process, relay events and deliver webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Role {
    /// Everything in one process (the default, and the only role on the embedded store).
    #[default]
    All,
    /// Serves the API; never runs jobs, relays events or delivers webhooks.
    Api,
    /// Runs jobs, the event relay (one process at a time leads it) and webhook
    /// deliveries; serves only `/healthz`, `/readyz` and `/metrics`.
    Worker,
}

impl Role {
    pub fn serves_api(self) -> bool {
        self != Role::Worker
    }

    pub fn runs_background(self) -> bool {
        self != Role::Api
    }
}
