//! Shared helpers for the end-to-end tests: a real docintel server on a loopback port
//! with its own data folder, real PDFs, and problem-document assertions.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use docintel_api::events::EventsConfig;
use docintel_api::{AppState, app};
use docintel_backend::{Backend, Config, WorkerConfig};
use reqwest::{Response, StatusCode};
use serde_json::Value;

pub mod binary;
#[path = "pdf.rs"]
mod pdf_builder;
#[allow(unused_imports)]
pub use pdf_builder::{pdf, pdf_pages, scanned_pdf};

/// The `docintel` binary of this workspace, built on first use (integration tests of
/// this package cannot name another package's binary, so it is built here).
pub fn docintel() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("test exe");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>");
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "-q", "-p", "docintel-api", "--bin", "docintel"]);
        if profile_dir.ends_with("release") {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("run cargo build");
        assert!(status.success(), "building the docintel binary failed");
        profile_dir.join("docintel")
    })
}

/// Documents are parsed as the shipped server parses them: in child processes of the
/// `docintel` binary.
pub fn parser() -> docintel_backend::pipeline::Isolation {
    docintel_backend::pipeline::Isolation::Process {
        program: docintel().to_owned(),
    }
}

pub struct TestServer {
    pub base: String,
    pub key: String,
    pub client: reqwest::Client,
    pub backend: Backend,
    pub dir: tempfile::TempDir,
    /// A key of the same tenant that may also write to the schema registry.
    pub admin_key: String,
    _background: docintel_api::background::Background,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts a server whose config `tweak` may change (e.g. a small upload limit).
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        Self::start_full(tweak, |s| s).await
    }

    /// Starts a server with a changed config and application state (e.g. a fixed clock).
    pub async fn start_full(
        tweak: impl FnOnce(&mut Config),
        tweak_state: impl FnOnce(AppState) -> AppState,
    ) -> Self {
        Self::launch(tweak, tweak_state, EventsConfig::default()).await
    }

    /// Starts a server whose events go where `events` says (an external registry, Kafka).
    pub async fn start_with_events(events: EventsConfig) -> Self {
        Self::launch(|_| {}, |s| s, events).await
    }

    async fn launch(
        tweak: impl FnOnce(&mut Config),
        tweak_state: impl FnOnce(AppState) -> AppState,
        events: EventsConfig,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::new(dir.path());
        config.workers = WorkerConfig {
            workers: 2,
            poll: Duration::from_millis(20),
            ..WorkerConfig::default()
        };
        config.isolation = parser();
        tweak(&mut config);
        let backend = Backend::open(config).await.expect("open backend");
        let key = backend.create_key("acme").await.expect("key");
        let admin_key = backend.create_admin_key("acme").await.expect("admin key");
        let state = tweak_state(
            AppState::new(backend.clone())
                .await
                .expect("state")
                .with_registry_path(events.embedded_path().map(str::to_owned)),
        );
        docintel_api::events::register_schemas(&state, &events)
            .await
            .expect("register the event schemas");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let background = docintel_api::background::start(&state, &events, addr)
            .await
            .expect("background work");
        tokio::spawn(docintel_api::serve::serve(
            listener,
            app(state),
            docintel_api::serve::ServeLimits::default(),
            std::future::pending(),
        ));
        Self {
            base: format!("http://{addr}"),
            key,
            client: reqwest::Client::new(),
            backend,
            dir,
            admin_key,
            _background: background,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(&self.key)
    }

    pub fn delete(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.delete(self.url(path)).bearer_auth(&self.key)
    }

    pub async fn upload_as(&self, key: &str, filename: &str, bytes: Vec<u8>) -> Response {
        self.client
            .post(self.url("/v2/documents"))
            .query(&[("filename", filename)])
            .bearer_auth(key)
            .body(bytes)
            .send()
            .await
            .expect("upload")
    }

    pub async fn upload(&self, filename: &str, bytes: Vec<u8>) -> Response {
        self.upload_as(&self.key, filename, bytes).await
    }

    /// Uploads and returns the new document's id.
    pub async fn upload_ok(&self, filename: &str, bytes: Vec<u8>) -> String {
        let r = self.upload(filename, bytes).await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        let v: Value = r.json().await.expect("json");
        v["id"].as_str().expect("id").to_owned()
    }

    /// Polls a document until it is processed or failed.
    pub async fn wait_done(&self, id: &str) -> Value {
        wait_done_at(&self.client, &self.base, &self.key, id, 1000).await
    }

    /// Every stored document blob (temp files and thumbnails excluded).
    pub fn blob_files(&self) -> Vec<PathBuf> {
        self.all_blob_files()
            .into_iter()
            .filter(|p| !p.to_string_lossy().ends_with(".thumb.png"))
            .collect()
    }

    /// Every stored thumbnail.
    pub fn thumbnail_files(&self) -> Vec<PathBuf> {
        self.all_blob_files()
            .into_iter()
            .filter(|p| p.to_string_lossy().ends_with(".thumb.png"))
            .collect()
    }

    fn all_blob_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.file_name().is_some_and(|n| n == ".tmp") {
                    continue;
                }
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.push(p);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.dir.path().join("blobs"), &mut out);
        out
    }

    pub async fn document_count(&self) -> usize {
        let v: Value = self
            .get("/v2/documents?limit=100")
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        v["items"].as_array().expect("items").len()
    }
}

/// Polls `base`'s document `id` every 10 ms, at most `attempts` times, until it is
/// processed or failed.
pub async fn wait_done_at(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    id: &str,
    attempts: u32,
) -> Value {
    for _ in 0..attempts {
        let v: Value = client
            .get(format!("{base}/v2/documents/{id}"))
            .bearer_auth(key)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        if v["status"] == "processed" || v["status"] == "failed" {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("document {id} did not finish processing");
}

/// Asserts `r` is an RFC 9457 problem with this status and code, whose request id is the
/// response's `X-Request-Id`; returns the body.
pub async fn assert_problem(r: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(r.status(), status, "status");
    let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(ct, "application/problem+json");
    let rid = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let instance = r.url().path().to_owned();
    let v: Value = r.json().await.expect("problem json");
    assert_eq!(v["status"], status.as_u16());
    assert_eq!(v["code"], code, "code in {v}");
    assert_eq!(v["type"], format!("/problems/{code}"));
    assert_eq!(v["request_id"], rid);
    assert_eq!(v["instance"], instance);
    assert!(!v["title"].as_str().unwrap().is_empty());
    assert!(!v["detail"].as_str().unwrap().is_empty());
    v
}

/// The smallest valid PNG (1×1, grey).
pub const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3A, 0x7E, 0x9B,
    0x55, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x60, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x01, 0x48, 0xAF, 0xA4, 0x71, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];
