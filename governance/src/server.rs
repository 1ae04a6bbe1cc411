//! A real docintel server for the checks that need one: embedded SQLite in a temporary
//! folder, workers, relay and webhook sender, on a loopback port, started the way
//! `docintel serve` starts (`docintel_api::Launch`).

use std::net::SocketAddr;
use std::time::Duration;

use docintel_api::Launch;
use docintel_backend::pipeline::Isolation;
use docintel_backend::{Backend, Config, WorkerConfig};

pub struct Server {
    pub base: String,
    pub addr: SocketAddr,
    running: docintel_api::Running,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts a server that parses documents as `parser` says (the gate's binary parses
    /// in child processes of itself, as docintel does). `tweak` may change how it starts
    /// (e.g. a clock past a sunset).
    pub async fn start_with(
        parser: Isolation,
        tweak: impl FnOnce(&mut Launch),
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut config = Config::new(dir.path());
        config.isolation = parser;
        config.workers = WorkerConfig {
            workers: 2,
            poll: Duration::from_millis(20),
            ..WorkerConfig::default()
        };
        let mut launch = Launch::new(config);
        // The gate sends bursts no client would: no per-key limit.
        launch.rate_limit = docintel_api::ratelimit::Limit {
            quota: 0,
            window: Duration::from_secs(1),
        };
        tweak(&mut launch);
        let running = launch.start().await?;
        Ok(Self {
            base: running.base_url(),
            addr: running.addr,
            running,
            _dir: dir,
        })
    }

    pub async fn start(parser: Isolation) -> anyhow::Result<Self> {
        Self::start_with(parser, |_| {}).await
    }

    pub fn backend(&self) -> &Backend {
        self.running.backend()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}
