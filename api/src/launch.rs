//! Starting docintel, the one way: open the backend, build the state, register the event
//! schemas, bind, start the background work (processing workers, event relay, webhook
//! sender) and serve. `docintel serve`, the end-to-end tests and the governance gate all
//! start the app through [`Launch`], so what they test is what runs.

use std::net::SocketAddr;
use std::time::Duration;

use docintel_backend::{Backend, Config, RelayHandle, WorkerPool};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::deliveries::WebhookSender;
use crate::deprecation::{Clock, system_clock};
use crate::publishing::EventsConfig;
use crate::ratelimit::{IpLimits, Limit};
use crate::serve::ServeLimits;
use crate::state::AppState;
use crate::versions::{ApiVersion, VERSIONS};

/// How often the tenants' own rate limits are read again (`docintel tenants limit`).
const RATE_LIMIT_RELOAD: Duration = Duration::from_secs(30);

/// Everything a running docintel is started from.
pub struct Launch {
    pub config: Config,
    pub events: EventsConfig,
    /// Where to listen; port 0 picks a free one (see [`Running::addr`]).
    pub listen: SocketAddr,
    pub serve_limits: ServeLimits,
    /// Requests per API key of tenants without their own limit.
    pub rate_limit: Limit,
    /// Requests without a known API key, per client address.
    pub ip_rate_limit: Limit,
    /// Decides when deprecated versions are past their sunset (tests set a fixed one).
    pub clock: Clock,
    /// The API versions served (the table in [`crate::versions`]).
    pub versions: &'static [ApiVersion],
    /// Create the default tenant and a first key when there is no tenant yet (the binary
    /// does, so a first start needs no setup; tests make their own).
    pub default_tenant: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("opening the backend (data folder {folder})")]
    Open {
        folder: String,
        source: docintel_backend::Error,
    },
    #[error("preparing the service")]
    Backend(#[from] docintel_backend::Error),
    #[error("registering the event schemas; docintel will not start")]
    Schemas(#[from] docintel_backend::registry::client::RegisterError),
    #[error("binding {address}")]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("starting the event relay")]
    Relay(#[from] docintel_backend::events::relay::EncodeError),
}

impl Launch {
    /// The defaults of `docintel serve` over `config`, on a free loopback port.
    pub fn new(config: Config) -> Self {
        Self {
            config,
            events: EventsConfig::default(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            serve_limits: ServeLimits::default(),
            rate_limit: Limit::DEFAULT,
            ip_rate_limit: IpLimits::DEFAULT,
            clock: system_clock(),
            default_tenant: false,
            versions: VERSIONS,
        }
    }

    /// Starts everything and serves until [`Running::stop`] (or the value is dropped).
    pub async fn start(self) -> Result<Running, LaunchError> {
        let folder = self.config.data_dir.display().to_string();
        let backend = Backend::open(self.config)
            .await
            .map_err(|source| LaunchError::Open { folder, source })?;
        let first_key = if self.default_tenant {
            backend.ensure_default_tenant().await?
        } else {
            None
        };
        let state = AppState::new(backend)
            .await?
            .with_registry_path(self.events.embedded_path().map(str::to_owned))
            .with_default_rate_limit(self.rate_limit)
            .with_ip_rate_limit(self.ip_rate_limit)
            .with_clock(self.clock);
        // Before anything is written: events must never be produced with a schema the
        // registry refuses.
        let registered = crate::publishing::register_schemas(&state, &self.events).await?;
        tracing::debug!(subjects = registered.len(), "event schemas registered");
        let listener = tokio::net::TcpListener::bind(self.listen)
            .await
            .map_err(|source| LaunchError::Bind {
                address: self.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| LaunchError::Bind {
            address: self.listen,
            source,
        })?;
        let workers = state.backend.start_workers().await?;
        let relay = crate::publishing::start_relay(&state, &self.events, addr)?;
        let sender = crate::deliveries::start(state.clone());
        state.spawn_rate_limit_reloader(RATE_LIMIT_RELOAD);
        let (stop, stopped) = oneshot::channel();
        let server = tokio::spawn(crate::serve::serve(
            listener,
            crate::app_with(state.clone(), self.versions),
            self.serve_limits,
            async {
                // A dropped sender stops the server as `stop` would.
                let _ = stopped.await;
            },
        ));
        Ok(Running {
            addr,
            state,
            first_key,
            stop: Some(stop),
            server,
            _background: (workers, relay, sender),
        })
    }
}

/// A started docintel. Dropping it stops serving and the background work (which stays
/// in the database for the next start).
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    pub state: AppState,
    /// The default tenant's key, when this start created it (shown once: only its hash
    /// is stored).
    pub first_key: Option<String>,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
    _background: (WorkerPool, RelayHandle, WebhookSender),
}

impl Running {
    /// `http://<addr>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn backend(&self) -> &Backend {
        &self.state.backend
    }

    /// Stops accepting, lets the requests in flight finish, then stops the background
    /// work. Jobs cut short are taken again at the next start.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match (&mut self.server).await {
            Ok(result) => result,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }
}
