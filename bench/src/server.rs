//! A `docintel serve` child process on a free loopback port, with what the scenarios
//! read of it: its address, first key, and its memory and descriptors from /proc.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::Context;

pub struct Server {
    child: Child,
    pub base: String,
    pub key: String,
    program: std::path::PathBuf,
    data: tempfile::TempDir,
}

impl Server {
    /// Starts `program serve` with `extra` options on a fresh data folder.
    pub fn start(program: &Path, extra: &[&str]) -> anyhow::Result<Self> {
        Self::start_with(program, extra, &[])
    }

    /// [`Server::start`], with these variables in the server's environment too.
    pub fn start_with(
        program: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let data = tempfile::tempdir()?;
        let mut child = Command::new(program)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data.path())
            .args(extra)
            .env("RUST_LOG", "warn,docintel=info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let mut lines = BufReader::new(child.stderr.take().context("stderr")?).lines();
        let mut key = None;
        let base = loop {
            let line = lines.next().context("docintel exited before listening")??;
            if let Some(k) = line.trim().strip_prefix("dik_") {
                key = Some(format!("dik_{k}"));
            }
            if let Some(rest) = line.split("address=").nth(1) {
                let addr = rest.split_whitespace().next().unwrap_or_default();
                break format!("http://{addr}");
            }
        };
        // Keep reading so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        Ok(Self {
            child,
            base,
            key: key.context("no first key was printed")?,
            program: program.to_owned(),
            data,
        })
    }

    /// A new admin key (schema registry writes), from `docintel keys create --admin`.
    pub fn admin_key(&self) -> anyhow::Result<String> {
        let out = Command::new(&self.program)
            .args(["keys", "create", "--admin", "--tenant", "ops", "--data-dir"])
            .arg(self.data.path())
            .output()
            .context("running keys create --admin")?;
        anyhow::ensure!(
            out.status.success(),
            "keys create --admin: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8(out.stdout)?.trim().to_owned())
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory, in KiB.
    pub fn rss_kib(&self) -> u64 {
        rss_kib_of(self.pid())
    }

    /// Open descriptors: (files and pipes, sockets). Sockets follow the connections in
    /// flight; a leak shows in the first.
    pub fn open_fds(&self) -> (usize, usize) {
        let mut files = 0;
        let mut sockets = 0;
        for entry in std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .into_iter()
            .flatten()
            .flatten()
        {
            match std::fs::read_link(entry.path()) {
                Ok(target) if target.to_string_lossy().starts_with("socket:") => sockets += 1,
                _ => files += 1,
            }
        }
        (files, sockets)
    }

    /// Whether the process still runs.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// `host:port`.
    pub fn address(&self) -> &str {
        self.base.trim_start_matches("http://")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Resident memory of process `pid`, in KiB (0 once it is gone).
pub fn rss_kib_of(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Percentile `p` (0..=1) of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}
