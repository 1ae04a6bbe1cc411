//! A real ClamAV daemon (Debian's `clamav-daemon`, which `./test` installs) on a unix
//! socket in a temp folder, with a signature database written here: the EICAR test file
//! as a hash signature (`.hdb`) and as a body signature (`.ndb`, so that it is also
//! found inside another file, e.g. a PDF). No signature is downloaded.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The EICAR anti-virus test file: harmless, and every scanner's test signature.
pub const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
/// The name clamd gives it here (clamd appends `.UNOFFICIAL` to a local signature).
pub const EICAR_SIGNATURE: &str = "Docintel-Test-EICAR";

pub struct Clamd {
    dir: tempfile::TempDir,
    pub socket: PathBuf,
    child: Option<Child>,
}

impl Clamd {
    /// The clamd this test binary shares (started once, ~5 s), for tests that do not
    /// stop it.
    pub fn shared() -> &'static Clamd {
        static SHARED: OnceLock<Clamd> = OnceLock::new();
        SHARED.get_or_init(Clamd::start)
    }

    /// A clamd of one's own (to kill and restart).
    pub fn start() -> Self {
        Self::start_with_stream_max("100M")
    }

    /// One that scans streams of at most `max` (clamd's `StreamMaxLength`, e.g. `1M`).
    pub fn start_with_stream_max(max: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("db");
        std::fs::create_dir_all(&db).expect("db folder");
        std::fs::create_dir_all(dir.path().join("tmp")).expect("tmp folder");
        std::fs::write(
            db.join("eicar.hdb"),
            format!("44d88612fea8a8f36de82e1278abb02f:68:{EICAR_SIGNATURE}\n"),
        )
        .expect("hdb");
        let hex: String = EICAR.iter().map(|b| format!("{b:02x}")).collect();
        std::fs::write(
            db.join("eicar.ndb"),
            format!("{EICAR_SIGNATURE}:0:*:{hex}\n"),
        )
        .expect("ndb");
        let socket = dir.path().join("clamd.sock");
        let user = if unsafe { libc::geteuid() } == 0 {
            "User root\n"
        } else {
            ""
        };
        std::fs::write(
            dir.path().join("clamd.conf"),
            format!(
                "DatabaseDirectory {}\nLocalSocket {}\nTemporaryDirectory {}\nForeground yes\n\
                 {user}StreamMaxLength {max}\nMaxFileSize 100M\nMaxScanSize 400M\n",
                db.display(),
                socket.display(),
                dir.path().join("tmp").display(),
            ),
        )
        .expect("clamd.conf");
        let mut me = Self {
            dir,
            socket,
            child: None,
        };
        me.resume();
        me
    }

    /// `unix:/path` for `--clamd`.
    pub fn address(&self) -> String {
        format!("unix:{}", self.socket.display())
    }

    /// Kills clamd (documents then cannot be scanned).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(&self.socket);
    }

    /// Starts clamd again on the same socket and waits until it answers.
    pub fn resume(&mut self) {
        self.kill();
        let conf = self.dir.path().join("clamd.conf");
        let log_path = self.dir.path().join("clamd.log");
        let log = std::fs::File::create(&log_path).expect("clamd.log");
        // Spawned from a thread that lives as long as the process: the child's
        // PR_SET_PDEATHSIG fires when the spawning thread ends, and a test's thread ends
        // before the shared clamd should.
        static SPAWNER: Mutex<()> = Mutex::new(());
        let _one = SPAWNER.lock().unwrap_or_else(|e| e.into_inner());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut command = Command::new(clamd_bin());
            command
                .arg("-c")
                .arg(&conf)
                .stdout(Stdio::null())
                .stderr(log);
            // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                use std::os::unix::process::CommandExt;
                command.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            let _ = tx.send(command.spawn());
            loop {
                std::thread::park();
            }
        });
        let mut child = rx.recv().expect("the spawning thread").unwrap_or_else(|e| {
            panic!(
                "start clamd ({}): {e}; run: apt-get install clamav-daemon",
                clamd_bin()
            )
        });
        let started = Instant::now();
        while !self.answers() {
            if let Ok(Some(status)) = child.try_wait() {
                let err = std::fs::read_to_string(&log_path).unwrap_or_default();
                panic!("clamd exited at start ({status}): {err}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "clamd did not answer PING within 120 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        self.child = Some(child);
    }

    /// Whether clamd answers `PING` now.
    pub fn answers(&self) -> bool {
        let Ok(mut s) = UnixStream::connect(&self.socket) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        let mut reply = [0u8; 5];
        s.write_all(b"zPING\0").is_ok() && s.read_exact(&mut reply).is_ok() && &reply == b"PONG\0"
    }
}

impl Drop for Clamd {
    fn drop(&mut self) {
        self.kill();
    }
}

fn clamd_bin() -> String {
    std::env::var("CLAMD_BIN").unwrap_or_else(|_| {
        ["/usr/sbin/clamd", "/usr/bin/clamd"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap_or("clamd")
            .to_owned()
    })
}
