//! The server's side: the fork server it keeps (started once, started again if it dies),
//! exchanging a document for its reply with a forked child under a deadline, and reading
//! the reply without trusting it.

use std::io::IoSlice;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use nix::sys::socket::{
    AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType, sendmsg, socketpair,
};
use tokio::net::unix::pipe;

use super::walls::Walls;
use super::*;

/// The fork servers of one parser program, each started on first use: one for parsing,
/// and one for OCR, which loads the Tesseract engine once (kept apart so that the
/// engine's memory is not copied into every parser child).
pub struct Zygote {
    program: Option<std::path::PathBuf>,
    running: [tokio::sync::Mutex<Option<Arc<Running>>>; 2],
    /// The walls the start-up probe saw the kernel enforce: every child must hold them.
    walls: std::sync::Mutex<Option<Walls>>,
}

struct Running {
    /// Killed when dropped: the fork server, and (by their death signal) its children.
    _process: tokio::process::Child,
    /// Non-blocking, `SOCK_SEQPACKET`.
    control: OwnedFd,
}

impl std::fmt::Debug for Zygote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Zygote")
            .field("program", &self.program)
            .finish_non_exhaustive()
    }
}

/// Which of a program's fork servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flavour {
    Parse = 0,
    Ocr = 1,
}

/// A child forked for one task: its pipes and its pid.
struct Forked {
    pid: i32,
    stdin: pipe::Sender,
    stdout: pipe::Receiver,
    stderr: pipe::Receiver,
    /// Carries the raw wait status once the child has ended.
    status: pipe::Receiver,
}

impl Zygote {
    /// No fork server: parsing runs elsewhere ([`super::super::Isolation::InProcess`]).
    pub fn none() -> Self {
        Self {
            program: None,
            running: Default::default(),
            walls: Default::default(),
        }
    }

    /// The fork server of `program` (a binary that hands [`ARG`] to [`child_main`]).
    pub fn new(program: &Path) -> Self {
        Self {
            program: Some(program.to_owned()),
            ..Self::none()
        }
    }

    /// The walls every child holds, once the start-up probe has run.
    pub fn walls(&self) -> Option<Walls> {
        *self.walls.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The pid of the running fork server, if any.
    #[cfg(test)]
    pub(super) async fn pids(&self) -> Vec<i32> {
        let mut pids = Vec::new();
        for server in &self.running {
            let running = server.lock().await;
            pids.extend(
                running
                    .iter()
                    .filter_map(|r| r._process.id())
                    .filter_map(|p| i32::try_from(p).ok()),
            );
        }
        pids
    }

    fn required(&self) -> Walls {
        self.walls().unwrap_or_default()
    }

    /// The running fork server of `program`, started if there is none. Only the program
    /// this `Zygote` was made for: another's fork server would have no owner to keep it
    /// (and its children) alive.
    async fn running(&self, program: &Path, flavour: Flavour) -> std::io::Result<Arc<Running>> {
        if self.program.as_deref() != Some(program) {
            return Err(std::io::Error::other(format!(
                "the fork server is not set up for {}",
                program.display()
            )));
        }
        let mut running = self.running[flavour as usize].lock().await;
        if let Some(r) = running.as_ref() {
            return Ok(r.clone());
        }
        let started = Arc::new(start(program, flavour)?);
        *running = Some(started.clone());
        Ok(started)
    }

    /// Forgets `dead` (if it is still the current one), so that the next fork starts a new
    /// fork server.
    async fn forget(&self, dead: &Arc<Running>, flavour: Flavour) {
        let mut running = self.running[flavour as usize].lock().await;
        if running.as_ref().is_some_and(|r| Arc::ptr_eq(r, dead)) {
            *running = None;
        }
    }

    /// A fresh child of `program`'s fork server; a fork server found dead is started again
    /// once.
    async fn fork(&self, program: &Path, flavour: Flavour) -> std::io::Result<Forked> {
        let mut last = None;
        for _ in 0..2 {
            let running = self.running(program, flavour).await?;
            match fork_from(&running).await {
                Ok(forked) => return Ok(forked),
                Err(e) => {
                    tracing::warn!(error = %e, "the parser fork server is gone; starting another");
                    self.forget(&running, flavour).await;
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no fork server")))
    }
}

/// Starts a fork server of `program`, its control socket as its stdin.
fn start(program: &Path, flavour: Flavour) -> std::io::Result<Running> {
    let (ours, theirs) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
    )
    .map_err(std::io::Error::from)?;
    // The fork server blocks on its end.
    nix::fcntl::fcntl(
        &theirs,
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::empty()),
    )
    .map_err(std::io::Error::from)?;
    let mut command = tokio::process::Command::new(program);
    command
        .arg(ARG)
        // Nothing of the server's environment but what parsing needs: it holds secrets.
        .env_clear()
        .envs(super::super::privileges::child_env(std::env::vars_os()));
    if flavour == Flavour::Ocr {
        // One thread: OpenMP would start a pool, and a fork server must stay one thread.
        command.arg(OCR_ARG).env("OMP_THREAD_LIMIT", "1");
    }
    let process = command
        .stdin(Stdio::from(theirs))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        // Not in the server's process group: a terminal's Ctrl-C reaches the server, which
        // stops it.
        .process_group(0)
        .kill_on_drop(true)
        .spawn()?;
    Ok(Running {
        _process: process,
        control: ours,
    })
}

/// Asks `running` for a child; returns once its pid is known.
async fn fork_from(running: &Running) -> std::io::Result<Forked> {
    let (stdin, child_stdin) = pipe::pipe()?;
    let (child_stdout, stdout) = pipe::pipe()?;
    let (child_stderr, stderr) = pipe::pipe()?;
    let (child_status, mut status) = pipe::pipe()?;
    let given = [
        child_stdin.into_blocking_fd()?,
        child_stdout.into_blocking_fd()?,
        child_stderr.into_blocking_fd()?,
        child_status.into_blocking_fd()?,
    ];
    let raw: Vec<i32> = given.iter().map(AsRawFd::as_raw_fd).collect();
    loop {
        let sent = sendmsg::<()>(
            running.control.as_raw_fd(),
            &[IoSlice::new(b"f")],
            &[ControlMessage::ScmRights(&raw)],
            MsgFlags::MSG_NOSIGNAL,
            None,
        );
        match sent {
            Ok(_) => break,
            // Its queue is full: it is forking for others.
            Err(nix::errno::Errno::EAGAIN) => {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    // The child has its copies (or will have none if the fork server died).
    drop(given);
    let mut pid = [0u8; 4];
    status.read_exact(&mut pid).await?;
    Ok(Forked {
        pid: i32::from_le_bytes(pid),
        stdin,
        stdout,
        stderr,
        status,
    })
}

/// Runs `task` over `bytes` in a fresh child of `program`'s fork server.
pub async fn run(
    program: &Path,
    ctx: &Context,
    task: Task,
    bytes: bytes::Bytes,
) -> Result<Extraction, String> {
    run_started(program, ctx, task, bytes)
        .await
        .unwrap_or_else(Err)
}

/// [`run`], telling apart a child that could not be started (`Err`: says nothing about
/// the document) from the child's outcome (`Ok`).
pub async fn run_started(
    program: &Path,
    ctx: &Context,
    task: Task,
    bytes: bytes::Bytes,
) -> Result<Result<Extraction, String>, String> {
    let limits = ctx.limits;
    let request = Request {
        task,
        tools: ctx.tools.clone(),
        limits,
        timeout_ms: u64::try_from(ctx.timeout.as_millis()).unwrap_or(u64::MAX),
        require: ctx.zygote.required(),
    };
    let mut request = serde_json::to_vec(&request).map_err(|e| e.to_string())?;
    request.push(b'\n');
    let child = ctx
        .zygote
        .fork(program, task.server())
        .await
        .map_err(|e| format!("could not start the parser ({}): {e}", program.display()))?;
    Ok(exchange(child, ctx, request, bytes).await)
}

async fn exchange(
    child: Forked,
    ctx: &Context,
    request: Vec<u8>,
    bytes: bytes::Bytes,
) -> Result<Extraction, String> {
    let limits = ctx.limits;
    let deadline = tokio::time::Instant::now() + ctx.timeout + KILL_GRACE;
    let Forked {
        pid,
        mut stdin,
        stdout,
        mut stderr,
        mut status,
    } = child;
    // Whatever happens, nothing the parser started outlives it. (A process group's id is
    // not reused while the group has members, so this never reaches a stranger.)
    let kill_group = || {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
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
    // not waited for while the kernel tears it down (the fork server reaps it).
    if let Ok(reply) = read_frame(&out, &limits) {
        kill_group();
        return reply;
    }
    // No usable reply: how the parser ended says why.
    let status = tokio::time::timeout_at(deadline, async move {
        let mut raw = [0u8; 4];
        status
            .read_exact(&mut raw)
            .await
            .map(|_| ExitStatus::from_raw(i32::from_le_bytes(raw)))
    })
    .await;
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
        // The fork server died before it could say: the child died with it.
        Ok(Err(_)) => Err(CRASHED.to_owned()),
        Err(_) => Err(too_slow(ctx.timeout)),
    }
}

/// The reason shown to the document's owner for a parser that did not exit normally.
pub(super) fn why_it_died(status: ExitStatus, stderr: &[u8], limits: &Limits) -> String {
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
    if header.text_len > limits.max_text_bytes
        || header.thumbnail_len > MAX_THUMBNAIL
        || header.layout_len > limits.max_layout_bytes() + MAX_HEADER
        || header.pdf_len > limits.max_inflated_bytes
    {
        return Err(bad("oversized"));
    }
    let lens = [
        header.text_len,
        header.thumbnail_len,
        header.layout_len,
        header.pdf_len,
    ];
    if body.len() as u64 != lens.iter().sum::<u64>() {
        return Err(bad("its length is wrong"));
    }
    let mut parts = lens.iter().scan(0usize, |at, len| {
        let part = &body[*at..*at + *len as usize];
        *at += *len as usize;
        Some(part)
    });
    let mut next = || parts.next().unwrap_or_default();
    let (text, thumbnail, layout, pdf) = (next(), next(), next(), next());
    let text = std::str::from_utf8(text).map_err(|_| bad("text is not UTF-8"))?;
    let layout: Vec<crate::layout::Page> = if layout.is_empty() {
        Vec::new()
    } else {
        serde_json::from_slice(layout).map_err(|e| bad(&format!("layout: {e}")))?
    };
    Ok(header.outcome.map(|meta| Extraction {
        text: text.to_owned(),
        pages: meta.pages,
        thumbnail: (!thumbnail.is_empty()).then(|| thumbnail.to_vec()),
        warnings: meta.warnings,
        ocr: meta.ocr,
        walls: meta.walls,
        layout,
        searchable_pdf: (!pdf.is_empty()).then(|| pdf.to_vec()),
    }))
}

/// Checks that `program` is a working parser under `limits`: it must extract a text
/// document in a forked child. Run before any job is taken. Learns which walls the kernel
/// puts up around a child (every later child must hold them) and says once when one is
/// missing.
pub async fn probe(program: &Path, ctx: &Context) -> Result<Walls, String> {
    let task = Task::Extract {
        content_type: ContentType::Text,
    };
    let ctx = Context {
        timeout: Duration::from_secs(30),
        ..ctx.clone()
    };
    let probe = bytes::Bytes::from_static(b"probe");
    let walls = match run(program, &ctx, task, probe).await {
        Ok(e) if e.text == "probe" => Ok(e.walls),
        Ok(e) => Err(format!("it answered {:?}", e.text)),
        Err(e) => Err(e),
    }
    .map_err(|e| {
        format!(
            "{} does not work as docintel's parser process ({e}); run the docintel binary, \
             or choose another `Isolation`",
            program.display()
        )
    })?;
    if !walls.landlock {
        tracing::warn!(
            "this kernel does not enforce Landlock: parser children are not walled off from \
             the filesystem and the network (only by seccomp and their user)"
        );
    }
    if !walls.seccomp {
        tracing::warn!(
            "seccomp filters are not available: parser children may make any system call"
        );
    }
    *ctx.zygote.walls.lock().unwrap_or_else(|p| p.into_inner()) = Some(walls);
    Ok(walls)
}
