//! The real `docintel` binary as an operator runs it: `serve` on a free port, `keys create`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::docintel;

pub struct Served {
    pub child: Child,
    pub base: String,
    /// The key printed at first start, if one was.
    pub first_key: Option<String>,
    /// The lines of stderr up to the one that says where it listens.
    pub startup: Vec<String>,
    /// Every later line of stderr.
    pub logs: std::sync::mpsc::Receiver<String>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `docintel serve` on a free port and reads its start-up messages.
pub fn serve(data_dir: &Path, extra: &[&str]) -> Served {
    serve_env(data_dir, extra, &[])
}

pub fn serve_env(data_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Served {
    let mut child = Command::new(docintel())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .envs(env.iter().copied())
        .env("DOCINTEL_DATA_DIR", data_dir)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn docintel serve");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let mut first_key = None;
    let mut startup = Vec::new();
    let base = loop {
        let line = lines
            .next()
            .expect("docintel exited before listening")
            .expect("read stderr");
        startup.push(line.clone());
        if let Some(key) = line.trim().strip_prefix("dik_") {
            first_key = Some(format!("dik_{key}"));
        }
        if let Some(rest) = line.split("address=").nth(1) {
            let addr = rest.split_whitespace().next().expect("address");
            break format!("http://{addr}");
        }
        // JSON logs (`--log-format json`).
        if let Ok(v) = serde_json::from_str::<Value>(&line)
            && let Some(addr) = v["fields"]["address"].as_str()
        {
            break format!("http://{addr}");
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    let (tx, logs) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    Served {
        child,
        base,
        first_key,
        startup,
        logs,
    }
}

/// An admin key (schema registry writes) of the tenant `ops`.
pub fn create_admin_key(data_dir: &Path) -> String {
    let data_dir = data_dir.to_str().expect("a UTF-8 path");
    docintel_keys(&[
        "create",
        "--admin",
        "--tenant",
        "ops",
        "--data-dir",
        data_dir,
    ])
}

pub fn create_key(data_dir: &Path, tenant: &str) -> String {
    let data_dir = data_dir.to_str().expect("a UTF-8 path");
    docintel_keys(&["create", "--tenant", tenant, "--data-dir", data_dir])
}

/// Runs `docintel keys ARGS`; the key it prints.
pub fn docintel_keys(args: &[&str]) -> String {
    let out = Command::new(docintel())
        .arg("keys")
        .args(args)
        .output()
        .expect("run keys create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let key = stdout.trim_end_matches('\n');
    assert!(!key.contains('\n'), "only the key on stdout: {stdout:?}");
    key.to_owned()
}

/// The pids of `pid`'s children, from every one of its threads (/proc/<pid>/task/*/children).
pub fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|c| {
            c.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok())
                .collect::<Vec<_>>()
        })
        .collect()
}
