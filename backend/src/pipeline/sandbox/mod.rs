//! Parsing untrusted documents in a child process, so that nothing a document does to a
//! parser can reach the server.
//!
//! The server starts its parser program once (`<program> __parse`): a fork server
//! ([`zygote`]) that drops its privileges, loads and warms the parsers and then forks a
//! fresh child per document. The child limits itself (address space, CPU time, file size,
//! no core dumps) and holds its walls ([`walls`]: Landlock and seccomp; a parsing child
//! inherits them from its fork server, which put them up once, and stacks a small filter
//! of its own; an OCR child puts up its task's) before it reads the document; the server
//! kills its whole process group at the deadline. A stack overflow, an abort, an
//! allocation past the limit, an endless loop or a forbidden system call therefore ends
//! or fails that one child, and the job fails with a reason that says which. Nothing is shared between two documents' children: each is a copy of the same
//! warmed process, and exits.
//!
//! On the child's stdin: one JSON line (the request), then the document's bytes. Reply on
//! its stdout: one JSON line ([`Header`]), then `text_len` bytes of UTF-8 text,
//! `thumbnail_len` bytes of PNG, `layout_len` bytes of the pages' layout (JSON) and
//! `pdf_len` bytes of searchable PDF. The server trusts none of it blindly: lengths are
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
/// The second argument that makes it the OCR fork server (Tesseract loaded once).
const OCR_ARG: &str = "ocr";
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
    /// Text, page count, thumbnail and warnings of a document, and whether it needs OCR.
    Extract { content_type: ContentType },
    /// OCR of an image, or of the first `pages` pages of a scanned PDF.
    Ocr {
        content_type: ContentType,
        pages: u32,
    },
    /// The first page of a PDF as a thumbnail, drawn in process (hayro).
    Thumbnail,
    /// The same, drawn by pdftoppm: for what the built-in renderer cannot draw.
    RenderFirstPage,
    /// A test's misbehaving child.
    #[cfg(test)]
    Hook(tests::Hook),
}

impl Task {
    /// Which fork server forks the task's child. The parse fork server's children inherit
    /// the Parse walls, so whatever may need others (running pdftoppm or tesseract) is
    /// forked by the OCR fork server, whose children put up their task's walls.
    fn server(self) -> server::Flavour {
        match self {
            Task::Extract { .. } | Task::Thumbnail => server::Flavour::Parse,
            Task::Ocr { .. } | Task::RenderFirstPage => server::Flavour::Ocr,
            #[cfg(test)]
            Task::Hook(hook) => hook.server(),
        }
    }

    /// The walls the task's child works behind: only what runs external programs gets the
    /// looser profile. With the OCR engine loaded (`engine`), OCR of an image runs none;
    /// a scanned PDF's pages are still drawn by pdftoppm.
    pub fn profile(self, engine: bool) -> walls::Profile {
        match self {
            Task::Extract { .. } | Task::Thumbnail => walls::Profile::Parse,
            Task::Ocr { content_type, .. } if engine && content_type != ContentType::Pdf => {
                walls::Profile::Parse
            }
            Task::Ocr { .. } | Task::RenderFirstPage => walls::Profile::Tools,
            #[cfg(test)]
            Task::Hook(hook) => hook.profile(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Request {
    task: Task,
    tools: Tools,
    limits: Limits,
    timeout_ms: u64,
    /// Walls the child must hold, or fail the document rather than parse without them.
    require: Walls,
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    outcome: Result<Meta, String>,
    text_len: u64,
    thumbnail_len: u64,
    #[serde(default)]
    layout_len: u64,
    #[serde(default)]
    pdf_len: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    pages: Option<u32>,
    warnings: Vec<String>,
    ocr: Option<u32>,
    walls: Walls,
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
pub mod walls;
mod zygote;

pub use child::{WatchedAllocator, child_main, serve};
pub use server::{Zygote, decode_reply, probe, run, run_started};
pub use walls::Walls;

#[cfg(test)]
mod tests;
