//! Shared helpers for the end-to-end tests: a real docintel server on a loopback port
//! with its own data folder, real PDFs, and problem-document assertions.

use std::path::PathBuf;
use std::time::Duration;

use docintel_api::publishing::EventsConfig;
use docintel_api::{Launch, Running};
use docintel_backend::{Backend, Config, WorkerConfig};
use reqwest::{Response, StatusCode};
use serde_json::Value;

use docintel_testkit::postgres::TestDatabase;
pub use docintel_testkit::{
    PNG_1X1, assert_problem, pdf, pdf_pages, pdftotext, scanned_pdf, wait_done_at,
};

/// Documents are parsed as the shipped server parses them, in child processes; the
/// program is this test binary, which answers `__parse` as `docintel` does (main.rs).
pub fn parser() -> docintel_backend::pipeline::Isolation {
    docintel_backend::pipeline::Isolation::this_program().expect("this test binary's path")
}

pub struct TestServer {
    pub base: String,
    pub key: String,
    pub client: reqwest::Client,
    pub backend: Backend,
    pub dir: tempfile::TempDir,
    /// A key of the same tenant that may also write to the schema registry.
    pub admin_key: String,
    /// The PostgreSQL database it keeps its state in (the suite's second pass).
    pub database_url: Option<String>,
    /// Serving until the test ends.
    _running: Running,
    /// Dropped after the server (fields drop in order).
    _database: Option<TestDatabase>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts a server whose config `tweak` may change (e.g. a small upload limit).
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        Self::launch(|launch| tweak(&mut launch.config)).await
    }

    /// Starts a server whose events go where `events` says (an external registry, Kafka).
    pub async fn start_with_events(events: EventsConfig) -> Self {
        Self::launch(|launch| launch.events = events).await
    }

    /// Starts a server as `docintel serve` starts, after `tweak` changed how (a fixed
    /// clock, a rate limit): two workers polling often, documents parsed in child
    /// processes, a tenant `acme` with a key and an admin key. With
    /// `DOCINTEL_TEST_DATABASE_URL` set, its state is in a fresh PostgreSQL database on
    /// that server (the suite's second pass), else in the embedded SQLite. With
    /// `DOCINTEL_RECORD_TRAFFIC` naming a folder, every answer is recorded into a file of
    /// its own there (checked by `docintel-governance check --traffic`).
    pub async fn launch(tweak: impl FnOnce(&mut Launch)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = TestDatabase::from_env().await;
        let mut config = Config::new(dir.path());
        config.database_url = database.as_ref().map(|db| db.url.clone());
        config.workers = WorkerConfig {
            workers: 2,
            poll: Duration::from_millis(20),
            ..WorkerConfig::default()
        };
        config.isolation = parser();
        let mut launch = Launch::new(config);
        launch.record_traffic = std::env::var_os("DOCINTEL_RECORD_TRAFFIC").map(|dir| {
            let dir = PathBuf::from(dir);
            std::fs::create_dir_all(&dir).expect("the traffic recording folder");
            dir
        });
        tweak(&mut launch);
        let running = launch.start().await.expect("start docintel");
        let backend = running.backend().clone();
        let key = backend.create_key("acme").await.expect("key");
        let admin_key = backend.create_admin_key("acme").await.expect("admin key");
        Self {
            base: running.base_url(),
            key,
            client: reqwest::Client::new(),
            backend,
            dir,
            admin_key,
            database_url: database.as_ref().map(|db| db.url.clone()),
            _running: running,
            _database: database,
        }
    }

    /// Another server on the same state (folder and database), as a second replica:
    /// what it caches is its own.
    pub async fn replica(&self) -> Running {
        let mut config = Config::new(self.dir.path());
        config.database_url = self.database_url.clone();
        config.isolation = parser();
        Launch::new(config).start().await.expect("start a replica")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(&self.key)
    }

    /// GETs `path` with the tenant's key; the JSON body of a 2xx answer.
    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.get(path).send().await.expect("get");
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.expect("json")
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

    /// Every stored document's bytes (temp files and derived blobs excluded): blob files, and
    /// small documents' bytes kept in the database (`document_bytes:<document id>`).
    pub async fn stored_blobs(&self) -> Vec<PathBuf> {
        let mut stored: Vec<PathBuf> = self
            .all_blob_files()
            .into_iter()
            .filter(|p| {
                let p = p.to_string_lossy();
                !p.ends_with(".thumb.png") && !p.ends_with(".searchable.pdf")
            })
            .collect();
        let query = "SELECT document_id FROM document_bytes ORDER BY document_id";
        let inline: Vec<String> = match &self.backend.config().database_url {
            Some(url) => {
                let pool = sqlx::PgPool::connect(url).await.expect("connect");
                let ids = sqlx::query_scalar(query).fetch_all(&pool).await;
                pool.close().await;
                ids
            }
            None => {
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(self.dir.path().join("docintel.db"))
                    .read_only(true);
                let pool = sqlx::SqlitePool::connect_with(options)
                    .await
                    .expect("connect");
                let ids = sqlx::query_scalar(query).fetch_all(&pool).await;
                pool.close().await;
                ids
            }
        }
        .expect("document_bytes");
        stored.extend(
            inline
                .into_iter()
                .map(|id| PathBuf::from(format!("document_bytes:{id}"))),
        );
        stored
    }

    /// Every stored thumbnail.
    pub fn thumbnail_files(&self) -> Vec<PathBuf> {
        self.all_blob_files()
            .into_iter()
            .filter(|p| p.to_string_lossy().ends_with(".thumb.png"))
            .collect()
    }

    pub fn all_blob_files(&self) -> Vec<PathBuf> {
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
        let v = self.get_json("/v2/documents?limit=100").await;
        v["items"].as_array().expect("items").len()
    }
}

/// Every operation the committed documents (openapi/v1.json, openapi/v2.json) declare:
/// (lower-case method, path as written, the operation), so that tests derived from them
/// cover a new operation without anyone adding it.
pub fn declared_operations() -> Vec<(String, String, Value)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi");
    let mut ops = Vec::new();
    for version in ["v1", "v2"] {
        let doc: Value =
            serde_json::from_slice(&std::fs::read(root.join(format!("{version}.json"))).unwrap())
                .unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                    ops.push((method.clone(), path.clone(), op.clone()));
                }
            }
        }
    }
    ops
}
