//! What every handler shares, and the parts of it ([`AuthState`]) that middleware and
//! extractors take on their own through axum's `FromRef`.

use std::sync::Arc;

use axum::extract::FromRef;
use docintel_backend::Backend;
use time::OffsetDateTime;

use crate::auth::{AuthState, KeyCache, ProcessToken};
use crate::metrics::Metrics;
use crate::pagination::PageTokens;
use crate::ratelimit::{IpLimits, Limit, Limits};
use crate::role::Role;

/// Default path prefix of the embedded registry.
pub const DEFAULT_REGISTRY_PATH: &str = "/registry";
/// Where the embedded Pact Broker is served by default.
pub const DEFAULT_BROKER_PATH: &str = "/broker";

/// The clock deciding whether a sunset has passed; injectable so tests need not wait.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(OffsetDateTime::now_utc)
}

/// Cloned for every request by axum's `State`, hence one `Arc` inside.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub backend: Backend,
    pub page_tokens: PageTokens,
    pub keys: Arc<KeyCache>,
    pub idempotency: crate::idempotency::KeyLocks,
    /// Decides when deprecated routes are past their sunset.
    pub clock: Clock,
    /// Where the embedded schema registry is served; `None` when an external one is used.
    pub registry_path: Option<String>,
    /// Where the embedded Pact Broker is served; `None` when it is off.
    pub broker_path: Option<String>,
    /// The URL clients reach this server at (`https://docintel.example.com`), for absolute
    /// links; `None`: the address each client connected to.
    pub public_url: Option<String>,
    /// Lets this process's relay write to its own embedded registry.
    pub registry_token: Arc<ProcessToken>,
    pub metrics: Arc<Metrics>,
    pub limits: Arc<Limits>,
    /// Requests without a known key, per client address.
    pub ip_limits: IpLimits,
    /// Running webhook senders (for readiness).
    pub webhook_sender_alive: Arc<std::sync::atomic::AtomicUsize>,
    /// What this process does (decides what readiness checks).
    pub role: Role,
    /// The client webhooks go out through.
    pub outbound: crate::deliveries::Outbound,
}

impl AppState {
    /// Builds the state; the page-token signing key is persisted so tokens survive restarts.
    pub async fn new(backend: Backend) -> docintel_backend::Result<Self> {
        let secret = backend.secret("page_tokens").await?;
        let per_tenant = tenant_limits(&backend).await?;
        let mut limits = Limits::new(Limit::DEFAULT, per_tenant);
        if let Some(store) = backend.shared_quota_store() {
            // Other API replicas serve the same keys: one quota between them.
            limits.share_through(store);
        }
        Ok(Self(Arc::new(Shared {
            page_tokens: PageTokens::new(&secret),
            keys: Default::default(),
            idempotency: Default::default(),
            clock: system_clock(),
            registry_path: Some(DEFAULT_REGISTRY_PATH.to_owned()),
            registry_token: Arc::new(ProcessToken::random()),
            broker_path: Some(DEFAULT_BROKER_PATH.to_owned()),
            public_url: None,
            metrics: Default::default(),
            limits: Arc::new(limits),
            ip_limits: IpLimits::new(IpLimits::DEFAULT),
            webhook_sender_alive: Default::default(),
            role: Role::All,
            outbound: crate::deliveries::Outbound::new(&backend.config().webhooks)
                .map_err(docintel_backend::Error::Config)?,
            backend,
        })))
    }

    /// Replaces the clock that decides sunsets (tests use a fixed one).
    pub fn with_clock(self, clock: Clock) -> Self {
        self.modify(|s| s.clock = clock)
    }

    pub fn with_role(self, role: Role) -> Self {
        self.modify(|s| s.role = role)
    }

    /// Serves the embedded registry under `path`, or (`None`) not at all.
    pub fn with_registry_path(self, path: Option<String>) -> Self {
        self.modify(|s| s.registry_path = path)
    }

    /// Serves the embedded Pact Broker under `path`, or (`None`) not at all.
    pub fn with_broker_path(self, path: Option<String>) -> Self {
        self.modify(|s| s.broker_path = path)
    }

    /// Sets the URL clients reach this server at (no trailing `/`).
    pub fn with_public_url(self, url: Option<String>) -> Self {
        self.modify(|s| s.public_url = url)
    }

    /// Reads the tenants' own request limits again (`docintel tenants limit` writes them).
    pub async fn reload_rate_limits(&self) -> docintel_backend::Result<()> {
        self.limits.set_tenants(tenant_limits(&self.backend).await?);
        Ok(())
    }

    /// Reloads the tenants' limits every `every` while the state lives.
    pub fn spawn_rate_limit_reloader(&self, every: std::time::Duration) {
        let weak = Arc::downgrade(&self.0);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(shared) = weak.upgrade() else { return };
                shared.ip_limits.forget_idle();
                // Shared quota windows end within a day (the longest window allowed).
                let day_before =
                    (time::OffsetDateTime::now_utc().unix_timestamp() - 2 * 86_400) * 1000;
                if let Err(e) = shared.backend.forget_quota_windows(day_before).await {
                    tracing::warn!(error = %e, "could not forget old quota windows");
                }
                if let Err(e) = AppState(shared).reload_rate_limits().await {
                    tracing::warn!(error = %e, "could not reload the tenants' rate limits");
                }
            }
        });
    }

    /// Follows the store's key generation, so that a key revoked or changed by another
    /// process stops working here within [`crate::auth::KEY_WATCH_INTERVAL`].
    pub fn spawn_key_watcher(&self) {
        let weak = Arc::downgrade(&self.0);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(crate::auth::KEY_WATCH_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut emptied = std::time::Instant::now();
            loop {
                tick.tick().await;
                let Some(shared) = weak.upgrade() else { return };
                match shared.backend.key_generation().await {
                    Ok(generation) => shared.keys.observe(generation),
                    Err(e) => {
                        // Unknown: nothing may be served from before.
                        tracing::debug!(error = %e, "could not read the key generation");
                        shared.keys.forget_all();
                    }
                }
                if emptied.elapsed() >= crate::auth::TOUCH_INTERVAL {
                    emptied = std::time::Instant::now();
                    shared.keys.forget_all();
                }
            }
        });
    }

    /// Sets the limit of requests without a known API key, per client address.
    pub fn with_ip_rate_limit(self, limit: Limit) -> Self {
        self.modify(|s| s.ip_limits = IpLimits::new(limit))
    }

    /// Sets the request limit of tenants without their own.
    pub fn with_default_rate_limit(self, limit: Limit) -> Self {
        self.modify(|s| match Arc::get_mut(&mut s.limits) {
            Some(limits) => limits.set_default(limit),
            None => unreachable!("the limits are not shared yet"),
        })
    }

    /// Named readiness checks: the database answers, workers and the relay run, and (once
    /// started) the webhook sender runs.
    pub async fn readiness(&self) -> Vec<(&'static str, bool)> {
        use std::sync::atomic::Ordering::SeqCst;
        let mut checks = vec![
            ("database", self.backend.queue_depth().await.is_ok()),
            ("blobs", self.backend.blobs().reachable().await),
        ];
        if self.role.runs_background() {
            let (workers, relay) = self.backend.liveness();
            checks.extend([
                ("workers", workers > 0),
                ("relay", relay > 0),
                ("webhooks", self.webhook_sender_alive.load(SeqCst) > 0),
            ]);
        }
        checks
    }

    /// Changes the state before it is shared (only builders call this).
    fn modify(self, change: impl FnOnce(&mut Shared)) -> Self {
        match Arc::try_unwrap(self.0) {
            Ok(mut shared) => {
                change(&mut shared);
                Self(Arc::new(shared))
            }
            Err(_) => unreachable!("state is not shared yet"),
        }
    }
}

impl FromRef<AppState> for AuthState {
    fn from_ref(state: &AppState) -> AuthState {
        AuthState {
            backend: state.backend.clone(),
            keys: state.keys.clone(),
            limits: state.limits.clone(),
            metrics: state.metrics.clone(),
            process_token: state.registry_token.clone(),
        }
    }
}

impl FromRef<AppState> for Backend {
    fn from_ref(state: &AppState) -> Backend {
        state.backend.clone()
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

async fn tenant_limits(
    backend: &Backend,
) -> docintel_backend::Result<Vec<(docintel_backend::model::TenantId, Limit)>> {
    Ok(backend
        .rate_limits()
        .await?
        .into_iter()
        .map(|(t, quota, window)| {
            (
                t,
                Limit {
                    quota,
                    window: std::time::Duration::from_secs(window.into()),
                },
            )
        })
        .collect())
}
