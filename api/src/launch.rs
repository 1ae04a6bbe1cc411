//! Starting docintel, the one way: open the backend, build the state, register the event
//! schemas, bind, start the background work (processing workers, event relay, webhook
//! sender) and serve. `docintel serve`, the end-to-end tests and the governance gate all
//! start the app through [`Launch`], so what they test is what runs.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use axum::extract::FromRef;
use docintel_backend::{Backend, Config, Listener, RelayHandle, Sweeper, WorkerPool};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::deliveries::{SenderState, WebhookSender};
use crate::publishing::EventsConfig;
use crate::ratelimit::{IpLimits, Limit};
use crate::serve::ServeLimits;
use crate::state::{AppState, Clock, system_clock};
use crate::versions::{ApiVersion, VERSIONS};

/// How often the tenants' own rate limits are read again (`docintel tenants limit`).
const RATE_LIMIT_RELOAD: Duration = Duration::from_secs(30);

pub use crate::role::Role;

/// Everything a running docintel is started from.
pub struct Launch {
    pub config: Config,
    /// What this process does.
    pub role: Role,
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
    /// Where the embedded Pact Broker is served (`None`: not at all).
    pub broker_path: Option<String>,
    /// The URL clients reach this server at, for absolute links (`--public-url`).
    pub public_url: Option<String>,
    /// Record every answer to this file, or to a new file in this folder
    /// (`--record-traffic`, see [`crate::traffic`]).
    pub record_traffic: Option<PathBuf>,
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
    #[error("{0}")]
    Role(String),
    #[error(transparent)]
    Record(#[from] crate::traffic::OpenError),
}

impl Launch {
    /// The defaults of `docintel serve` over `config`, on a free loopback port.
    pub fn new(config: Config) -> Self {
        Self {
            config,
            role: Role::All,
            events: EventsConfig::default(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            serve_limits: ServeLimits::default(),
            rate_limit: Limit::DEFAULT,
            ip_rate_limit: IpLimits::DEFAULT,
            clock: system_clock(),
            default_tenant: false,
            broker_path: Some(crate::publishing::DEFAULT_BROKER_PATH.to_owned()),
            public_url: None,
            record_traffic: None,
            versions: VERSIONS,
        }
    }

    /// Starts everything the role needs and serves until [`Running::stop`] (or the value
    /// is dropped).
    pub async fn start(self) -> Result<Running, LaunchError> {
        self.check_role()?;
        // A worker serves health and metrics only, which no API document describes:
        // there is nothing of its answers to hold against the documents.
        let recorder = self
            .record_traffic
            .as_deref()
            .filter(|_| self.role.serves_api())
            .map(crate::traffic::Recorder::open)
            .transpose()?;
        let role = self.role;
        let folder = self.config.data_dir.display().to_string();
        let backend = Backend::open(self.config)
            .await
            .map_err(|source| LaunchError::Open { folder, source })?;
        let first_key = if self.default_tenant && role.serves_api() {
            let key = backend.ensure_default_tenant().await?;
            // Shown once: it must not be lost once shown.
            backend.make_durable().await?;
            key
        } else {
            None
        };
        let state = AppState::new(backend)
            .await?
            .with_role(role)
            .with_registry_path(self.events.embedded_path().map(str::to_owned))
            .with_broker_path(self.broker_path.clone())
            .with_public_url(self.public_url.clone())
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
        let background = if role.runs_background() {
            let listening = state.backend.listen().await?;
            let workers = state.backend.start_workers().await?;
            let relay = crate::publishing::start_relay(&state, &self.events, addr)?;
            let sender = crate::deliveries::start(SenderState::from_ref(&state));
            let broker_sender = crate::broker_routes::start_sender(&state, addr);
            Some(Background {
                workers,
                _relay: relay,
                _sender: sender,
                _broker_sender: broker_sender,
                _listening: listening,
                _sweeper: state.backend.start_sweeper(),
            })
        } else {
            None
        };
        // Workers check keys too (the registry they serve takes admin keys): every process
        // forgets a revoked key within the watch interval.
        state.spawn_key_watcher();
        // Serving documents from memory needs every replica's changes heard.
        let documents = if role.serves_api() {
            Some(state.backend.watch_documents().await?)
        } else {
            None
        };
        let app = if role.serves_api() {
            state.spawn_rate_limit_reloader(RATE_LIMIT_RELOAD);
            crate::app_with(state.clone(), self.versions)
        } else {
            crate::ops_app(state.clone())
        };
        let (stop, stopped) = oneshot::channel();
        let server = tokio::spawn(crate::serve::serve(
            listener,
            app,
            self.serve_limits,
            recorder,
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
            background,
            _documents: documents,
        })
    }

    /// Roles split the work of one database between processes: they need a database
    /// that several processes share.
    fn check_role(&self) -> Result<(), LaunchError> {
        if self.role == Role::All {
            return Ok(());
        }
        let role = match self.role {
            Role::Api => "api",
            _ => "worker",
        };
        if self.config.database_url.is_none() {
            return Err(LaunchError::Role(format!(
                "--role {role} needs --database-url (a PostgreSQL database shared with the \
                 other processes); the embedded store serves one process, --role all"
            )));
        }
        Ok(())
    }
}

/// The background work of a process that runs it.
struct Background {
    workers: WorkerPool,
    _relay: RelayHandle,
    _sender: WebhookSender,
    _broker_sender: Option<crate::broker_routes::BrokerWebhookSender>,
    _listening: Listener,
    _sweeper: Sweeper,
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
    background: Option<Background>,
    /// Hears other processes' changes of documents while it lives.
    _documents: Option<Listener>,
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
    /// work and hands its jobs in flight back to the queue, attempt uncounted (another
    /// process, or the next start, resumes them).
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let served = match (&mut self.server).await {
            Ok(result) => result,
            Err(e) => Err(std::io::Error::other(e)),
        };
        if let Some(background) = self.background.take()
            && let Err(e) = background.workers.stop().await
        {
            tracing::warn!(error = %e, "could not hand back the jobs in flight; their leases will expire");
        }
        served
    }
}
