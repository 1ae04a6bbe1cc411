//! The server's side: starting parser processes (and spares), exchanging a document for
//! its reply under a deadline, and reading the reply without trusting it.

use super::*;

/// Parser processes started ahead of need, each waiting for its one request.
pub struct Spares {
    program: Option<std::path::PathBuf>,
    keep: usize,
    ready: std::sync::Mutex<Vec<tokio::process::Child>>,
}

impl std::fmt::Debug for Spares {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spares")
            .field("program", &self.program)
            .field("keep", &self.keep)
            .finish_non_exhaustive()
    }
}

impl Spares {
    /// No spares: every document starts its parser when it needs it.
    pub fn none() -> Self {
        Self {
            program: None,
            keep: 0,
            ready: Default::default(),
        }
    }

    /// Keeps `keep` parsers of `program` started (one per worker is enough: a worker
    /// parses one document at a time).
    pub fn new(program: &Path, keep: usize) -> Self {
        Self {
            program: Some(program.to_owned()),
            keep,
            ready: Default::default(),
        }
    }

    /// A started parser of `program`: a waiting spare if one is alive, else a new one.
    fn take(&self, program: &Path) -> std::io::Result<tokio::process::Child> {
        if self.program.as_deref() == Some(program) {
            let mut ready = self.ready.lock().unwrap_or_else(|p| p.into_inner());
            while let Some(mut spare) = ready.pop() {
                if matches!(spare.try_wait(), Ok(None)) {
                    return Ok(spare);
                }
            }
        }
        start(program)
    }

    /// Starts parsers until `keep` wait (after a document, off its critical path).
    pub fn refill(&self) {
        let Some(program) = &self.program else { return };
        let mut ready = self.ready.lock().unwrap_or_else(|p| p.into_inner());
        while ready.len() < self.keep {
            match start(program) {
                Ok(child) => ready.push(child),
                Err(e) => {
                    tracing::warn!(error = %e, "could not start a spare parser");
                    break;
                }
            }
        }
    }
}

/// Starts a parser process that waits for its request on stdin.
fn start(program: &Path) -> std::io::Result<tokio::process::Child> {
    tokio::process::Command::new(program)
        .arg(ARG)
        // Nothing of the server's environment but what parsing needs: it holds secrets.
        .env_clear()
        .envs(super::super::privileges::child_env(std::env::vars_os()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: the deadline kills OCR and rendering with it.
        .process_group(0)
        // Also ends spares left waiting when the server stops (a server killed outright
        // closes their stdin, and they exit).
        .kill_on_drop(true)
        .spawn()
}

/// Runs `task` over `bytes` in a fresh parser process started from `program`.
pub async fn run(
    program: &Path,
    ctx: &Context,
    task: Task,
    bytes: Vec<u8>,
) -> Result<Extraction, String> {
    run_started(program, ctx, task, bytes)
        .await
        .unwrap_or_else(Err)
}

/// [`run`], telling apart a parser that could not be started (`Err`: says nothing about
/// the document) from the parser's outcome (`Ok`).
pub async fn run_started(
    program: &Path,
    ctx: &Context,
    task: Task,
    bytes: Vec<u8>,
) -> Result<Result<Extraction, String>, String> {
    let limits = ctx.limits;
    let request = Request {
        task,
        tools: ctx.tools.clone(),
        limits,
        timeout_ms: u64::try_from(ctx.timeout.as_millis()).unwrap_or(u64::MAX),
    };
    let mut request = serde_json::to_vec(&request).map_err(|e| e.to_string())?;
    request.push(b'\n');
    let child = ctx
        .spares
        .take(program)
        .map_err(|e| format!("could not start the parser ({}): {e}", program.display()))?;
    let result = exchange(child, ctx, request, bytes).await;
    ctx.spares.refill();
    Ok(result)
}

async fn exchange(
    mut child: tokio::process::Child,
    ctx: &Context,
    request: Vec<u8>,
    bytes: Vec<u8>,
) -> Result<Extraction, String> {
    let limits = ctx.limits;
    let deadline = tokio::time::Instant::now() + ctx.timeout + KILL_GRACE;
    let pid = child.id();
    let (Some(mut stdin), Some(stdout), Some(mut stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err("the parser's pipes are missing".to_owned());
    };
    // Whatever happens, nothing the parser started outlives it. (A process group's id is
    // not reused while the group has members, so this never reaches a stranger.)
    let kill_group = || {
        if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    };
    // Drained on the side, so a chatty parser never blocks on a full pipe; only its start
    // is kept, to tell why a parser died.
    let stderr = tokio::spawn(async move {
        let mut kept = Vec::new();
        let _ = (&mut stderr).take(8 << 10).read_to_end(&mut kept).await;
        let _ = tokio::io::copy(&mut stderr, &mut tokio::io::sink()).await;
        kept
    });
    let cap = MAX_HEADER + limits.max_text_bytes + MAX_THUMBNAIL;
    let talk = async move {
        let feed = async move {
            // A child that dies early closes its stdin: the write fails, the status says why.
            if stdin.write_all(&request).await.is_ok() {
                let _ = stdin.write_all(&bytes).await;
            }
        };
        let read_out = async move {
            let mut out = Vec::new();
            let _ = stdout.take(cap + 1).read_to_end(&mut out).await;
            out
        };
        tokio::join!(feed, read_out).1
    };
    // The parser stops its OCR and rendering at `ctx.timeout` itself, with a precise
    // reason; the kill a moment later is for parsing that cannot be stopped.
    let Ok(out) = tokio::time::timeout_at(deadline, talk).await else {
        kill_group();
        tracing::warn!(pid, "parser stopped at the deadline");
        return Err(too_slow(ctx.timeout));
    };
    // A whole reply is the answer: the parser closes its stdout once it is written, and is
    // not waited for while the kernel tears it down (dropping it reaps it).
    if let Ok(reply) = read_frame(&out, &limits) {
        kill_group();
        return reply;
    }
    // No usable reply: how the parser ended says why.
    let status = tokio::time::timeout_at(deadline, child.wait()).await;
    kill_group();
    let err = stderr.await.unwrap_or_default();
    match status {
        Ok(Ok(status)) if status.success() => decode_reply(&out, &limits),
        Ok(Ok(status)) => {
            let reason = why_it_died(status, &err, &limits);
            tracing::warn!(
                pid,
                %status,
                stderr = %String::from_utf8_lossy(&err).trim(),
                %reason,
                "parser process died"
            );
            Err(reason)
        }
        Ok(Err(e)) => Err(format!("the parser could not be waited for: {e}")),
        Err(_) => Err(too_slow(ctx.timeout)),
    }
}

/// The reason shown to the document's owner for a parser that did not exit normally.
fn why_it_died(status: ExitStatus, stderr: &[u8], limits: &Limits) -> String {
    let stderr = String::from_utf8_lossy(stderr);
    let signal = status.signal();
    if signal == Some(nix::libc::SIGXCPU) {
        "the document could not be parsed: it exceeded the CPU time limit".to_owned()
    } else if stderr.contains("memory allocation of")
        || stderr.contains("unable to allocate")
        || stderr.contains("capacity overflow")
    {
        memory_limit_reason(limits)
    } else if stderr.contains("has overflowed its stack") {
        "the document could not be parsed: it is nested too deeply (the parser ran out of \
         stack)"
            .to_owned()
    } else {
        CRASHED.to_owned()
    }
}

/// Reads a parser's reply, trusting nothing in it.
pub fn decode_reply(frame: &[u8], limits: &Limits) -> Result<Extraction, String> {
    read_frame(frame, limits)?
}

/// A whole, well-formed reply: the parser's outcome; `Err` when the frame is not one.
fn read_frame(frame: &[u8], limits: &Limits) -> Result<Result<Extraction, String>, String> {
    let bad = |what: &str| format!("the parser's reply is unusable: {what}");
    let newline = frame
        .iter()
        .take(MAX_HEADER as usize)
        .position(|b| *b == b'\n')
        .ok_or_else(|| bad("no header"))?;
    let header: Header =
        serde_json::from_slice(&frame[..newline]).map_err(|e| bad(&e.to_string()))?;
    let body = &frame[newline + 1..];
    if header.text_len > limits.max_text_bytes || header.thumbnail_len > MAX_THUMBNAIL {
        return Err(bad("oversized"));
    }
    let (text_len, thumbnail_len) = (header.text_len as usize, header.thumbnail_len as usize);
    if body.len() != text_len + thumbnail_len {
        return Err(bad("its length is wrong"));
    }
    let text = std::str::from_utf8(&body[..text_len]).map_err(|_| bad("text is not UTF-8"))?;
    Ok(header.outcome.map(|meta| Extraction {
        text: text.to_owned(),
        pages: meta.pages,
        thumbnail: (thumbnail_len > 0).then(|| body[text_len..].to_vec()),
        warnings: meta.warnings,
    }))
}

/// Checks that `program` is a working parser under `limits`: it must extract a text
/// document in a child process. Run before any job is taken.
pub async fn probe(program: &Path, ctx: &Context) -> Result<(), String> {
    let task = Task::Extract {
        content_type: ContentType::Text,
    };
    let ctx = Context {
        timeout: Duration::from_secs(30),
        ..ctx.clone()
    };
    match run(program, &ctx, task, b"probe".to_vec()).await {
        Ok(e) if e.text == "probe" => Ok(()),
        Ok(e) => Err(format!("it answered {:?}", e.text)),
        Err(e) => Err(e),
    }
    .map_err(|e| {
        format!(
            "{} does not work as docintel's parser process ({e}); run the docintel binary, \
             or choose another `Isolation`",
            program.display()
        )
    })
}
