//! A real docintel server for the checks that need one: embedded SQLite in a temporary
//! folder, workers, relay and webhook sender, on a loopback port.

use std::net::SocketAddr;
use std::time::Duration;

use docintel_api::events::EventsConfig;
use docintel_api::{AppState, app};
use docintel_backend::pipeline::Isolation;
use docintel_backend::{Backend, Config, WorkerConfig};

pub struct Server {
    pub base: String,
    pub addr: SocketAddr,
    pub backend: Backend,
    _dir: tempfile::TempDir,
    _background: docintel_api::background::Background,
}

impl Server {
    /// Starts a server that parses documents as `parser` says (the gate's binary parses
    /// in child processes of itself, as docintel does).
    pub async fn start(parser: Isolation) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut config = Config::new(dir.path());
        config.isolation = parser;
        config.workers = WorkerConfig {
            workers: 2,
            poll: Duration::from_millis(20),
            ..WorkerConfig::default()
        };
        let backend = Backend::open(config).await?;
        let events = EventsConfig::default();
        let state = AppState::new(backend.clone())
            .await?
            .with_default_rate_limit(docintel_api::ratelimit::Limit {
                quota: 0,
                window: Duration::from_secs(1),
            });
        docintel_api::events::register_schemas(&state, &events).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let background = docintel_api::background::start(&state, &events, addr).await?;
        tokio::spawn(docintel_api::serve::serve(
            listener,
            app(state),
            docintel_api::serve::ServeLimits::default(),
            std::future::pending(),
        ));
        Ok(Self {
            base: format!("http://{addr}"),
            addr,
            backend,
            _dir: dir,
            _background: background,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}
