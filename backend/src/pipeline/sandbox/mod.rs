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

/// Why a document over the memory limit failed: what the parser process reports on an
/// allocation refused, and the server for a parser that died of one.
fn memory_limit_reason(limits: &Limits) -> String {
    format!(
        "the document could not be parsed: it exceeded the memory limit ({} MiB)",
        limits.memory_bytes >> 20
    )
}

mod child;
mod server;

pub use child::{WatchedAllocator, child_main, serve};
pub use server::{Spares, decode_reply, probe, run, run_started};

#[cfg(test)]
mod tests;
