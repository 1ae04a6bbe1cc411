//! Parsing untrusted documents in a child process, so that nothing a document does to a
//! parser can reach the server.
//!
//! Each document gets a fresh process (`<program> __parse <request>`): the bytes go in on
//! stdin, one reply comes out on stdout. The child first asks the kernel to limit it
//! (address space, CPU time, file size, no core dumps); the server kills its whole process
//! group at the deadline. A stack overflow, an abort, an allocation past the limit or an
//! endless loop therefore ends that one process, and the job fails with a reason that
//! says which. Nothing is shared between two documents' parsers.
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

/// Runs `task` over `bytes` in a fresh parser process started from `program`.
pub async fn run(
    program: &Path,
    ctx: &Context,
    task: Task,
    bytes: Vec<u8>,
) -> Result<Extraction, String> {
    let limits = ctx.limits;
    let request = Request {
        task,
        tools: ctx.tools.clone(),
        limits,
        timeout_ms: u64::try_from(ctx.timeout.as_millis()).unwrap_or(u64::MAX),
    };
    let request = serde_json::to_string(&request).map_err(|e| e.to_string())?;
    let mut child = tokio::process::Command::new(program)
        .arg(ARG)
        .arg(request)
        // mimalloc reserves 1 GiB of address space up front by default, which the
        // address-space limit would refuse.
        .env("MIMALLOC_ARENA_RESERVE", "64MiB")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: the deadline kills OCR and rendering with it.
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("could not start the parser ({}): {e}", program.display()))?;
    let pid = child.id();
    let (Some(mut stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err("the parser's pipes are missing".to_owned());
    };
    let cap = MAX_HEADER + limits.max_text_bytes + MAX_THUMBNAIL;
    let exchange = async {
        let feed = async move {
            // A child that dies early closes its stdin: the write fails, the status says why.
            let _ = stdin.write_all(&bytes).await;
        };
        let read_out = async move {
            let mut out = Vec::new();
            let _ = stdout.take(cap + 1).read_to_end(&mut out).await;
            out
        };
        let read_err = async move {
            let mut err = Vec::new();
            let _ = stderr.take(8 << 10).read_to_end(&mut err).await;
            err
        };
        let ((), out, err) = tokio::join!(feed, read_out, read_err);
        (child.wait().await, out, err)
    };
    // The parser stops its OCR and rendering at `ctx.timeout` itself, with a precise
    // reason; the kill a moment later is for parsing that cannot be stopped.
    let finished = tokio::time::timeout(ctx.timeout + KILL_GRACE, exchange).await;
    // Whatever happened, nothing the parser started outlives it. (A process group's id is
    // not reused while the group has members, so this never reaches a stranger.)
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let (status, out, err) = match finished {
        Ok(done) => done,
        Err(_) => {
            tracing::warn!(pid, "parser stopped at the deadline");
            return Err(too_slow(ctx.timeout));
        }
    };
    match status {
        Ok(status) if status.success() => decode_reply(&out, &limits),
        Ok(status) => {
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
        Err(e) => Err(format!("the parser could not be waited for: {e}")),
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
    let meta = header.outcome?;
    let text = std::str::from_utf8(&body[..text_len]).map_err(|_| bad("text is not UTF-8"))?;
    Ok(Extraction {
        text: text.to_owned(),
        pages: meta.pages,
        thumbnail: (thumbnail_len > 0).then(|| body[text_len..].to_vec()),
        warnings: meta.warnings,
    })
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
    let request = std::env::args()
        .nth(2)
        .ok_or("usage: <program> __parse <request>")?;
    let request: Request = serde_json::from_str(&request).map_err(|e| e.to_string())?;
    confine(&request.limits, Duration::from_millis(request.timeout_ms))?;
    let mut input = Vec::new();
    std::io::stdin()
        .lock()
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
    .map_err(|e| format!("writing the reply: {e}"))
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
    let result = match task {
        Task::Extract { content_type } => {
            super::extract(tools, limits, content_type, input, deadline)
        }
        Task::Thumbnail => match super::pdf_thumbnail(tools, input, deadline) {
            Some(png) => png.map(|png| Extraction {
                thumbnail: Some(png),
                ..Extraction::default()
            }),
            None => Err("PDFs cannot be rendered here".to_owned()),
        },
    };
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
