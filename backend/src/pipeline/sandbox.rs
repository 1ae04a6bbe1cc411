//! Parsing untrusted documents in a child process, so that nothing a document does to a
//! parser can reach the server.
//!
//! Each document gets a fresh process (`<program> __parse`): one JSON line (the request)
//! then the document's bytes go in on stdin, one reply comes out on stdout. The process
//! starts with only the environment it needs and, before it reads anything, gives up its
//! capabilities, root and the way back to them ([`super::privileges`]). On reading the
//! request it asks the kernel to limit it (address space, CPU time, file size, no core
//! dumps); the server kills its whole process group at the deadline. A stack
//! overflow, an abort, an allocation past the limit or an endless loop therefore ends that
//! one process, and the job fails with a reason that says which. Nothing is shared
//! between two documents' parsers.
//!
//! Starting a process costs ~2.5 ms of CPU here (page faults of a large binary), so a few
//! are started ahead of need ([`Spares`]): they have loaded and wait for their request,
//! and a document does not wait for a process to start. Each still serves one document.
//!
//! Reply: one JSON line ([`Header`]), then `text_len` bytes of UTF-8 text, then
//! `thumbnail_len` bytes of PNG. The server trusts none of it blindly: lengths are
//! bounded before anything is read, the text must be UTF-8 and the frame exact.

use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Context, Extraction, Limits, Tools};
use crate::model::ContentType;

/// The first argument that turns a binary into a parser process.
pub const ARG: &str = "__parse";
/// A thumbnail bigger than this is not one.
const MAX_THUMBNAIL: u64 = 16 << 20;
const MAX_HEADER: u64 = 64 << 10;
/// How long after its deadline a parser is killed.
const KILL_GRACE: Duration = Duration::from_millis(500);

pub const CRASHED: &str = "the document could not be parsed: the parser crashed on it";

pub fn too_slow(limit: Duration) -> String {
    format!(
        "the document could not be parsed: it took longer than the {}s limit",
        limit.as_secs()
    )
}

/// What the parser process is asked to do with the bytes on its stdin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Task {
    /// Text, page count, thumbnail and warnings of a document.
    Extract { content_type: ContentType },
    /// The first page of a PDF as a thumbnail.
    Thumbnail,
}

#[derive(Debug, Serialize, Deserialize)]
struct Request {
    task: Task,
    tools: Tools,
    limits: Limits,
    timeout_ms: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    outcome: Result<Meta, String>,
    text_len: u64,
    thumbnail_len: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    pages: Option<u32>,
    warnings: Vec<String>,
}

// --- the server's side

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
        .envs(super::privileges::child_env(std::env::vars_os()))
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

// --- the parser process's side

static ALLOCATION_FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A global allocator that remembers whether an allocation was ever refused. Under the
/// address-space limit some parsers meet a refusal they recover from (std's
/// `read_to_end` reserves fallibly, and lopdf then keeps a truncated stream as if it were
/// whole); the parser process reports such a document as over the memory limit instead
/// of returning what it could read. Binaries that run [`child_main`] install it:
///
/// ```ignore
/// #[global_allocator]
/// static ALLOCATOR: WatchedAllocator<std::alloc::System> = WatchedAllocator(std::alloc::System);
/// ```
pub struct WatchedAllocator<A>(pub A);

// SAFETY: every call is forwarded unchanged to the wrapped allocator, which upholds the
// GlobalAlloc contract; the wrapper only reads the returned pointer.
unsafe impl<A: std::alloc::GlobalAlloc> std::alloc::GlobalAlloc for WatchedAllocator<A> {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        note(unsafe { self.0.alloc(layout) })
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { self.0.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        note(unsafe { self.0.alloc_zeroed(layout) })
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        note(unsafe { self.0.realloc(ptr, layout, new_size) })
    }
}

#[inline]
fn note(ptr: *mut u8) -> *mut u8 {
    if ptr.is_null() {
        ALLOCATION_FAILED.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    ptr
}

fn memory_limit_reason(limits: &Limits) -> String {
    format!(
        "the document could not be parsed: it exceeded the memory limit ({} MiB)",
        limits.memory_bytes >> 20
    )
}

/// The parser process: call it first thing in `main` when the first argument is [`ARG`].
/// Never returns.
pub fn child_main() -> ! {
    // A tool (tesseract, pdftoppm) that dies before reading all its input must give the
    // parser EPIPE, not kill it with SIGPIPE. The Rust runtime ignores SIGPIPE before
    // `main`, but a parser entered earlier (the test binaries enter from a constructor)
    // inherits the default that `Command` restores in children.
    // SAFETY: SIG_IGN installs no handler code; nothing else touches signals yet.
    let _ = unsafe {
        nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGPIPE,
            nix::sys::signal::SigHandler::SigIgn,
        )
    };
    // Before anything else, and while this is the only thread.
    if let Err(e) = super::privileges::renounce() {
        let _ = writeln!(std::io::stderr(), "docintel parser: {e}");
        std::process::exit(3);
    }
    let code = match child() {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "docintel parser: {e}");
            3
        }
    };
    std::process::exit(code)
}

fn child() -> Result<(), String> {
    warm_up();
    // Waits here (as a spare) until the server sends the request line.
    let mut stdin = std::io::BufReader::new(std::io::stdin().lock());
    let mut line = Vec::new();
    std::io::BufRead::read_until(&mut (&mut stdin).take(MAX_HEADER), b'\n', &mut line)
        .map_err(|e| format!("reading the request: {e}"))?;
    if line.is_empty() {
        // The server stopped before it had a document for this spare.
        return Ok(());
    }
    let request: Request = serde_json::from_slice(&line).map_err(|e| e.to_string())?;
    confine(&request.limits, Duration::from_millis(request.timeout_ms))?;
    let mut input = Vec::new();
    stdin
        .read_to_end(&mut input)
        .map_err(|e| format!("reading the document: {e}"))?;
    let deadline = Instant::now() + Duration::from_millis(request.timeout_ms);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if ALLOCATION_FAILED.load(std::sync::atomic::Ordering::Relaxed) {
        // Refused while reading the input: nothing was parsed yet.
        return write_reply(Err(memory_limit_reason(&request.limits)), &mut out)
            .and_then(|()| out.flush())
            .map_err(|e| format!("writing the reply: {e}"));
    }
    serve(
        request.task,
        &request.tools,
        &request.limits,
        &input,
        deadline,
        &mut out,
    )
    .and_then(|()| out.flush())
    .map_err(|e| format!("writing the reply: {e}"))?;
    drop(out);
    // The reply is whole: tell the server now rather than after the kernel has torn this
    // process down (exit closes descriptors only after unmapping its memory).
    let _ = nix::unistd::close(1);
    Ok(())
}

/// Parses a tiny PDF of our own while this process is a spare: the code it touches is
/// paged in and lopdf's thread pool started before a document waits on it (measured with
/// stage_bench: median latency +1.21 ms → +0.77 ms over in-process; an image warm-up too
/// cost more CPU per document than it saved).
fn warm_up() {
    let limits = Limits::default();
    let deadline = Instant::now() + Duration::from_secs(5);
    let pdf = include_bytes!("warmup.pdf");
    let _ = super::extract(&Tools::none(), &limits, ContentType::Pdf, pdf, deadline);
}

/// Asks the kernel to hold this process (and what it starts) to `limits`.
fn confine(limits: &Limits, timeout: Duration) -> Result<(), String> {
    use nix::sys::resource::{Resource, setrlimit};
    let cpu = timeout.as_secs() + 1;
    let set = |what, soft, hard| {
        setrlimit(what, soft, hard).map_err(|e| format!("setrlimit {what:?}: {e}"))
    };
    set(
        Resource::RLIMIT_AS,
        limits.memory_bytes,
        limits.memory_bytes,
    )?;
    // SIGXCPU at the soft limit, SIGKILL a second later.
    set(Resource::RLIMIT_CPU, cpu, cpu + 1)?;
    set(Resource::RLIMIT_CORE, 0, 0)?;
    // Rendered pages are written to a temp folder: bounded like any other output.
    set(
        Resource::RLIMIT_FSIZE,
        limits.max_inflated_bytes,
        limits.max_inflated_bytes,
    )?;
    Ok(())
}

/// Does `task` on `input` and writes the reply frame. Pure but for the tools it may run:
/// what the fuzzer drives.
pub fn serve(
    task: Task,
    tools: &Tools,
    limits: &Limits,
    input: &[u8],
    deadline: Instant,
    out: &mut impl Write,
) -> std::io::Result<()> {
    // The parsers unwrap on some malformed input (pdf-extract does, found by the fuzzer):
    // a panic is that document's failure, said as such, not a crash of the process.
    let run = || match task {
        Task::Extract { content_type } => {
            super::extract(tools, limits, content_type, input, deadline)
        }
        Task::Thumbnail => match super::pdf_thumbnail(tools, limits, input, deadline) {
            Some(png) => png.map(|png| Extraction {
                thumbnail: Some(png),
                ..Extraction::default()
            }),
            None => Err("PDFs cannot be rendered here".to_owned()),
        },
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_or_else(|_| {
        Err(format!(
            "the document could not be parsed: the {} parser failed on it (malformed input)",
            match task {
                Task::Extract {
                    content_type: ContentType::Text,
                } => "text",
                Task::Extract {
                    content_type: ContentType::Png | ContentType::Jpeg,
                } => "image",
                _ => "PDF",
            }
        ))
    });
    // A parser that recovered from a refused allocation may have read only part of the
    // document: its result is not the document's.
    let result = match result {
        Ok(_) if ALLOCATION_FAILED.load(std::sync::atomic::Ordering::Relaxed) => {
            Err(memory_limit_reason(limits))
        }
        other => other,
    };
    write_reply(result, out)
}

fn write_reply(result: Result<Extraction, String>, out: &mut impl Write) -> std::io::Result<()> {
    let (header, text, thumbnail) = match result {
        Ok(e) => (
            Header {
                outcome: Ok(Meta {
                    pages: e.pages,
                    warnings: e.warnings,
                }),
                text_len: e.text.len() as u64,
                thumbnail_len: e.thumbnail.as_ref().map_or(0, |t| t.len() as u64),
            },
            e.text,
            e.thumbnail.unwrap_or_default(),
        ),
        Err(reason) => (
            Header {
                outcome: Err(reason),
                text_len: 0,
                thumbnail_len: 0,
            },
            String::new(),
            Vec::new(),
        ),
    };
    serde_json::to_writer(&mut *out, &header)?;
    out.write_all(b"\n")?;
    out.write_all(text.as_bytes())?;
    out.write_all(&thumbnail)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn reply(task: Task, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        serve(
            task,
            &Tools::none(),
            &Limits::default(),
            input,
            Instant::now() + Duration::from_secs(10),
            &mut out,
        )
        .unwrap();
        out
    }

    const TEXT: Task = Task::Extract {
        content_type: ContentType::Text,
    };

    #[test]
    fn replies_round_trip_and_failures_keep_their_reason() {
        let limits = Limits::default();
        let e = decode_reply(&reply(TEXT, "héllo".as_bytes()), &limits).unwrap();
        assert_eq!(e.text, "héllo");
        assert_eq!(e.thumbnail, None);
        let pdf = Task::Extract {
            content_type: ContentType::Pdf,
        };
        let e = decode_reply(&reply(pdf, b"%PDF-1.4 junk"), &limits).unwrap_err();
        assert!(e.starts_with("malformed PDF"), "{e}");
    }

    #[test]
    fn the_warm_up_documents_parse() {
        let limits = Limits::default();
        let deadline = Instant::now() + Duration::from_secs(5);
        let pdf = super::super::extract(
            &Tools::none(),
            &limits,
            ContentType::Pdf,
            include_bytes!("warmup.pdf"),
            deadline,
        )
        .unwrap();
        assert_eq!(pdf.text, "warm up");
    }

    #[test]
    fn a_parser_that_panics_fails_its_document_with_a_reason() {
        // Found by fuzz/fuzz_targets/parser_process.rs: pdf-extract 0.10 unwraps a missing
        // object (lib.rs:177) and expects a MediaBox (lib.rs:2405).
        let pdf = Task::Extract {
            content_type: ContentType::Pdf,
        };
        for bytes in [
            &include_bytes!("fixtures/pdf-extract-missing-object.pdf")[..],
            include_bytes!("fixtures/pdf-extract-no-mediabox.pdf"),
        ] {
            let e = decode_reply(&reply(pdf, bytes), &Limits::default()).unwrap_err();
            assert_eq!(
                e,
                "the document could not be parsed: the PDF parser failed on it (malformed input)"
            );
        }
    }

    #[test]
    fn a_lying_reply_is_refused() {
        let limits = Limits::default();
        let good = reply(TEXT, b"hello");
        // Truncated, extended, no header, a length past the limit, text that is not UTF-8.
        assert!(decode_reply(&good[..good.len() - 1], &limits).is_err());
        assert!(decode_reply(&[good.as_slice(), b"x"].concat(), &limits).is_err());
        assert!(decode_reply(b"hello", &limits).is_err());
        let huge = format!(
            "{{\"outcome\":{{\"Ok\":{{\"pages\":null,\"warnings\":[]}}}},\"text_len\":{},\"thumbnail_len\":0}}\n",
            limits.max_text_bytes + 1
        );
        assert!(
            decode_reply(huge.as_bytes(), &limits)
                .unwrap_err()
                .contains("oversized")
        );
        let latin1 = b"{\"outcome\":{\"Ok\":{\"pages\":null,\"warnings\":[]}},\"text_len\":1,\"thumbnail_len\":0}\n\xE9";
        assert!(decode_reply(latin1, &limits).unwrap_err().contains("UTF-8"));
    }

    /// A stand-in parser program: a shell script. These tests are about how the server
    /// treats a parser process that misbehaves; the real one is tested through the
    /// `docintel` binary in the workspace's tests.
    fn script(dir: &Path, body: &str) -> std::path::PathBuf {
        let path = dir.join("parser.sh");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn ctx(timeout: Duration) -> Context {
        Context {
            timeout,
            ..Context::bare()
        }
    }

    #[tokio::test]
    async fn a_dead_hung_or_lying_parser_fails_the_document_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("kill -SEGV $$", CRASHED),
            ("kill -XCPU $$", "exceeded the CPU time limit"),
            (
                "echo 'memory allocation of 1073741824 bytes failed' >&2; kill -ABRT $$",
                "exceeded the memory limit (1024 MiB)",
            ),
            (
                "echo \"thread 'main' has overflowed its stack\" >&2; kill -ABRT $$",
                "nested too deeply",
            ),
            ("echo garbage", "the parser's reply is unusable"),
            ("exec sleep 30", "took longer than the 1s limit"),
            // What the parser writes before it hangs changes nothing.
            ("echo '{}'; exec sleep 30", "took longer than the 1s limit"),
        ];
        for (body, expected) in cases {
            let program = script(dir.path(), body);
            let started = Instant::now();
            let e = run(&program, &ctx(Duration::from_secs(1)), TEXT, b"x".to_vec())
                .await
                .unwrap_err();
            assert!(e.contains(expected), "{body}: {e}");
            assert!(started.elapsed() < Duration::from_secs(20), "{body}");
        }
    }

    #[tokio::test]
    async fn the_deadline_kills_what_the_parser_started_too() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("grandchild.pid");
        let program = script(
            dir.path(),
            &format!("sleep 300 & echo $! > {}; wait", pidfile.display()),
        );
        let e = run(&program, &ctx(Duration::from_millis(500)), TEXT, vec![])
            .await
            .unwrap_err();
        assert!(e.contains("took longer"), "{e}");
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // Reaped by init once killed; give it a moment.
        let mut gone = false;
        for _ in 0..100 {
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            if state.is_empty() || state.contains(") Z ") {
                gone = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(gone, "the grandchild {pid} outlived its parser");
    }

    #[tokio::test]
    async fn a_program_that_is_not_a_parser_is_refused_by_the_probe() {
        let dir = tempfile::tempdir().unwrap();
        let program = script(dir.path(), "echo 'I am not docintel'");
        let e = probe(&program, &Context::bare()).await.unwrap_err();
        assert!(
            e.contains("does not work as docintel's parser process"),
            "{e}"
        );
    }
}
