//! A real PostgreSQL for a test: a scratch database on the server named by
//! `DOCINTEL_TEST_DATABASE_URL`, or else a throwaway cluster of its own (initdb on a free
//! loopback port, in a temporary folder), dropped or stopped when the value is dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

use sqlx::Connection;

/// The server tests use, when set; otherwise each test database gets its own cluster.
pub const URL_VAR: &str = "DOCINTEL_TEST_DATABASE_URL";

/// A database for one test; `url` stays valid while this lives.
pub struct TestDatabase {
    pub url: String,
    _guard: Guard,
}

impl TestDatabase {
    /// A scratch database on the `DOCINTEL_TEST_DATABASE_URL` server, else on a cluster of
    /// its own.
    pub async fn create() -> Self {
        let (guard, url) = match std::env::var(URL_VAR) {
            Ok(admin_url) => scratch_database(admin_url).await,
            Err(_) => own_cluster(),
        };
        Self { url, _guard: guard }
    }

    /// Only when `DOCINTEL_TEST_DATABASE_URL` names a server (the suite's second pass).
    pub async fn from_env() -> Option<Self> {
        match std::env::var(URL_VAR) {
            Ok(_) => Some(Self::create().await),
            Err(_) => None,
        }
    }
}

/// Keeps the database (and the cluster, when the test started one).
enum Guard {
    /// A database on a server the suite did not start; dropped at the end.
    Database { admin_url: String, name: String },
    /// A cluster of the test's own; stopped and removed when dropped.
    Cluster { _cluster: Cluster },
}

async fn scratch_database(admin_url: String) -> (Guard, String) {
    let name = format!("docintel_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("{URL_VAR}={admin_url}: {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create a scratch database");
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(base, _)| base);
    let url = format!("{base}/{name}");
    (Guard::Database { admin_url, name }, url)
}

/// The server programs: `pg_config --bindir`, else Debian's newest
/// `/usr/lib/postgresql/<major>/bin`.
fn bin_dir() -> PathBuf {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return dir;
        }
    }
    let mut majors: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    majors.sort();
    majors.pop().unwrap_or_else(|| {
        panic!(
            "no PostgreSQL server programs (initdb): install them with \
             `apt-get install -y postgresql`, or set DOCINTEL_TEST_DATABASE_URL"
        )
    })
}

/// Runs a server program as `postgres` when this is root (initdb refuses root).
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(1))
            == Some("0")
    })
}

fn own_cluster() -> (Guard, String) {
    let cluster = Cluster::start();
    let url = cluster.url.clone();
    (Guard::Cluster { _cluster: cluster }, url)
}

/// A PostgreSQL server of the test's own, on a free loopback port, in a temporary folder;
/// stopped (immediately) and removed when dropped. It can be stopped and started again on
/// the same port, to test what happens while the database is away.
pub struct Cluster {
    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub url: String,
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl Cluster {
    pub fn start() -> Self {
        let bin = bin_dir();
        let dir = tempfile::tempdir().expect("temp dir");
        if is_root() {
            let status = Command::new("chown")
                .arg("postgres")
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown postgres {}", dir.path().display());
        }
        let out = as_server_user(&bin.join("initdb"))
            .arg("-D")
            .arg(dir.path().join("data"))
            .args(["-A", "trust", "-U", "postgres", "--no-sync"])
            .output()
            .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let cluster = Self {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            bin,
            dir,
            port,
        };
        cluster.resume();
        cluster
    }

    /// Stops the server at once (`-m immediate`: as if it crashed).
    pub fn stop(&self) {
        let _ = self.pg_ctl().args(["-m", "immediate", "stop"]).output();
    }

    /// Starts the stopped server again, on the same port and data.
    pub fn resume(&self) {
        let out = self
            .pg_ctl()
            .arg("-o")
            .arg(format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
                self.port,
                self.dir.path().display()
            ))
            .arg("-l")
            .arg(self.dir.path().join("server.log"))
            .args(["-w", "start"])
            .output()
            .expect("run pg_ctl start");
        assert!(
            out.status.success(),
            "pg_ctl start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn pg_ctl(&self) -> Command {
        let mut c = as_server_user(&self.bin.join("pg_ctl"));
        c.arg("-D").arg(self.dir.path().join("data"));
        c
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        match self {
            // Stopped by its own Drop.
            Guard::Cluster { .. } => {}
            Guard::Database { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime: drop the database from a thread.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    rt.block_on(async {
                        let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut admin)
                            .await?;
                        Ok::<_, sqlx::Error>(())
                    })
                    .map_err(std::io::Error::other)
                })
                .join();
            }
        }
    }
}
