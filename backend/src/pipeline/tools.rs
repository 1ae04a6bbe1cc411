//! External programs the pipeline uses when they are installed: Tesseract for OCR and
//! poppler's `pdftoppm` for rendering PDF pages. They run as subprocesses of a parser
//! child (no C library linked into docintel, so a crash or a hang in them cannot take the
//! server down), with a deadline after which they are killed. Where Tesseract's library
//! is installed, OCR children use it instead ([`super::tesseract`]).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Which helpers exist on this machine; probed once at start.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Tools {
    pub tesseract: Option<PathBuf>,
    pub pdftoppm: Option<PathBuf>,
    /// OCR may use Tesseract's library, loaded once by the OCR fork server, instead of
    /// starting `tesseract` for each page (it does when the library loads there).
    #[serde(default)]
    pub ocr_library: bool,
}

fn probe(name: &str, arg: &str) -> Option<PathBuf> {
    let ok = Command::new(name)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then(|| PathBuf::from(name))
}

impl Tools {
    pub fn detect() -> Self {
        let tesseract = probe("tesseract", "--version");
        Self {
            ocr_library: tesseract.is_some(),
            tesseract,
            pdftoppm: probe("pdftoppm", "-v"),
        }
    }

    pub fn none() -> Self {
        Self::default()
    }

    /// The Tesseract engine OCR uses in this process: loaded here (the OCR fork server's
    /// children) and allowed by `ocr_library`; else OCR starts the program.
    pub fn ocr_engine(&self) -> Option<&'static super::tesseract::Engine> {
        super::tesseract::loaded().filter(|_| self.ocr_library)
    }
}

/// Runs `cmd` with `input` on stdin; returns stdout, or an error after `deadline`.
fn run(mut cmd: Command, input: &[u8], deadline: Instant, what: &str) -> Result<Vec<u8>, String> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start {what}: {e}"))?;
    // Feed stdin and drain stdout/stderr on threads, so a full pipe never blocks the
    // deadline check.
    let mut stdin = child.stdin.take();
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || {
        if let Some(s) = stdin.as_mut() {
            let _ = s.write_all(&input);
        }
    });
    let mut stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.read_to_end(&mut out);
        }
        out
    });
    let mut stderr = child.stderr.take();
    let err_reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.take(4096).read_to_end(&mut out);
        }
        out
    });
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{what} did not finish in time and was stopped"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("{what} failed: {e}")),
        }
    };
    let _ = feeder.join();
    let out = reader.join().unwrap_or_default();
    let err = err_reader.join().unwrap_or_default();
    if !status.success() {
        // The tool's last line of stderr, else how it ended (exit code or signal).
        let said = String::from_utf8_lossy(&err)
            .trim()
            .lines()
            .last()
            .map(str::to_owned)
            .unwrap_or_else(|| status.to_string());
        return Err(format!("{what} failed: {said}"));
    }
    Ok(out)
}

impl Tools {
    /// OCR of one image (PNG or JPEG bytes) with Tesseract's English model: its words
    /// with their boxes and confidence, as Tesseract's TSV.
    pub fn ocr_tsv(&self, image: &[u8], deadline: Instant) -> Option<Result<String, String>> {
        let tesseract = self.tesseract.as_ref()?;
        let mut cmd = Command::new(tesseract);
        cmd.args(["stdin", "stdout", "-l", "eng", "--psm", "3", "tsv"])
            .env("OMP_THREAD_LIMIT", "1");
        Some(
            run(cmd, image, deadline, "OCR (tesseract)")
                .map(|b| String::from_utf8_lossy(&b).into_owned()),
        )
    }

    /// The pages `first..=last` of a PDF as PNG images (`scale` = longest side in px):
    /// one pdftoppm per page, writing to a pipe (no temporary file, so the process that
    /// runs it needs no folder it may write).
    pub fn render_pdf(
        &self,
        pdf: &[u8],
        first: u32,
        last: u32,
        scale: u32,
        deadline: Instant,
    ) -> Option<Result<Vec<Vec<u8>>, String>> {
        let pdftoppm = self.pdftoppm.as_ref()?;
        let page = |n: u32| {
            let mut cmd = Command::new(pdftoppm);
            cmd.args(["-png", "-singlefile", "-scale-to", &scale.to_string()])
                .args(["-f", &n.to_string(), "-l", &n.to_string(), "-"]);
            run(cmd, pdf, deadline, "PDF rendering (pdftoppm)")
        };
        Some((first..=last).map(page).collect())
    }
}
