//! The parser process's side: confining itself, parsing the one document it is given and
//! writing the reply frame.

use super::*;

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

/// The parser program (the fork server and its children): call it first thing in `main`
/// when the first argument is [`ARG`]. Never returns.
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
    if let Err(e) = super::super::privileges::renounce() {
        let _ = writeln!(std::io::stderr(), "docintel parser: {e}");
        std::process::exit(3);
    }
    // Read from /proc: a parser entered from a constructor may run before std has its args.
    let ocr_server = std::fs::read("/proc/self/cmdline")
        .is_ok_and(|cmdline| cmdline.split(|b| *b == 0).nth(2) == Some(OCR_ARG.as_bytes()));
    if ocr_server {
        // The OCR fork server: the engine loaded once, for every OCR child.
        if let Err(e) = super::super::tesseract::load() {
            let _ = writeln!(
                std::io::stderr(),
                "docintel parser: OCR runs the tesseract program instead of its library: {e}"
            );
        }
    }
    warm_up();
    let filters = super::walls::Filters::compile();
    let code = match super::zygote::serve_forks(&filters, !ocr_server) {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "docintel parser: {e}");
            3
        }
    };
    // SAFETY: ends the process without the loaded libraries' exit handlers (Tesseract's
    // would report its cached model as a leak); nothing is left to flush.
    unsafe { nix::libc::_exit(code) }
}

/// A forked child: reads its request, confines itself, parses its one document and writes
/// the reply. `held`: the walls it inherited and completed (a parse fork server's child),
/// or `None` to put up its task's own. Returns the exit code.
pub(super) fn parse_one(filters: &super::walls::Filters, held: Option<Walls>) -> i32 {
    match parse(filters, held) {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "docintel parser: {e}");
            3
        }
    }
}

fn parse(filters: &super::walls::Filters, held: Option<Walls>) -> Result<(), String> {
    let mut stdin = std::io::BufReader::new(std::io::stdin().lock());
    let mut line = Vec::new();
    std::io::BufRead::read_until(&mut (&mut stdin).take(MAX_HEADER), b'\n', &mut line)
        .map_err(|e| format!("reading the request: {e}"))?;
    if line.is_empty() {
        // The server stopped before it sent the request.
        return Ok(());
    }
    let request: Request = serde_json::from_slice(&line).map_err(|e| e.to_string())?;
    confine(&request.limits, Duration::from_millis(request.timeout_ms))?;
    let (walls, misrouted) = match held {
        // Only the Parse walls are inherited: a task that needs others is not run here.
        Some(walls) => (
            walls,
            request.task.profile(request.tools.ocr_engine().is_some()) != walls::Profile::Parse,
        ),
        None => (wall_off(request.task, &request.tools, filters), false),
    };
    let mut input = Vec::new();
    stdin
        .read_to_end(&mut input)
        .map_err(|e| format!("reading the document: {e}"))?;
    let deadline = Instant::now() + Duration::from_millis(request.timeout_ms);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let refused = if misrouted {
        Some(
            "the document could not be parsed: its task needs walls this parser process does \
             not put up"
                .to_owned(),
        )
    } else if !walls.holds(request.require) {
        // Never parse with less than the server was promised.
        Some(format!(
            "the document could not be parsed: the parser could not be walled off ({walls:?}, \
             {:?} required)",
            request.require
        ))
    } else if ALLOCATION_FAILED.load(std::sync::atomic::Ordering::Relaxed) {
        // Refused while reading the input: nothing was parsed yet.
        Some(memory_limit_reason(&request.limits))
    } else {
        None
    };
    match refused {
        Some(reason) => write_reply(Err(reason), walls, &mut out),
        None => serve(
            request.task,
            &request.tools,
            &request.limits,
            &input,
            deadline,
            walls,
            &mut out,
        ),
    }
    .and_then(|()| out.flush())
    .map_err(|e| format!("writing the reply: {e}"))?;
    drop(out);
    // The reply is whole: tell the server now rather than after the kernel has torn this
    // process down (exit closes descriptors only after unmapping its memory).
    let _ = nix::unistd::close(1);
    Ok(())
}

/// Puts up the task's walls.
fn wall_off(task: Task, tools: &Tools, filters: &super::walls::Filters) -> Walls {
    #[cfg(test)]
    if let Task::Hook(hook) = task {
        return hook.wall_off(filters);
    }
    let programs: Vec<&Path> = [&tools.tesseract, &tools.pdftoppm]
        .into_iter()
        .flatten()
        .map(|p| p.as_path())
        .collect();
    super::walls::wall_off(
        task.profile(tools.ocr_engine().is_some()),
        filters,
        &programs,
    )
}

/// Parses a tiny PDF, a text and an image once in the fork server, so that every child
/// starts with the parsers' code paged in and their one-time set-up done.
fn warm_up() {
    let limits = Limits::default();
    let pdf = include_bytes!("../warmup.pdf");
    let _ = super::super::extract(&Tools::none(), &limits, ContentType::Pdf, pdf);
    let _ = super::super::extract(&Tools::none(), &limits, ContentType::Text, b"warm up");
    let mut png = Vec::new();
    if image::DynamicImage::new_rgb8(64, 32)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .is_ok()
    {
        let _ = super::super::extract(&Tools::none(), &limits, ContentType::Png, &png);
    }
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
    // Nothing is written to files (pages travel through pipes); bounded all the same.
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
    walls: Walls,
    out: &mut impl Write,
) -> std::io::Result<()> {
    // The parsers unwrap on some malformed input (pdf-extract does, found by the fuzzer):
    // a panic is that document's failure, said as such, not a crash of the process.
    let run = || match task {
        Task::Extract { content_type } => super::super::extract(tools, limits, content_type, input),
        Task::Ocr {
            content_type,
            pages,
        } => super::super::ocr(tools, limits, content_type, pages, input, deadline),
        Task::Thumbnail => {
            super::super::render::first_page_png(input, limits, deadline).map(|png| Extraction {
                thumbnail: Some(png),
                ..Extraction::default()
            })
        }
        Task::RenderFirstPage => {
            match super::super::first_page_by_pdftoppm(tools, limits, input, deadline) {
                Some(png) => png.map(|png| Extraction {
                    thumbnail: Some(png),
                    ..Extraction::default()
                }),
                None => Err("pdftoppm is not installed".to_owned()),
            }
        }
        #[cfg(test)]
        Task::Hook(hook) => hook.run(),
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_or_else(|_| {
        Err(format!(
            "the document could not be parsed: the {} parser failed on it (malformed input)",
            match task {
                Task::Extract {
                    content_type: ContentType::Text,
                } => "text",
                Task::Extract {
                    content_type: ContentType::Png | ContentType::Jpeg | ContentType::Tiff,
                }
                | Task::Ocr { .. } => "image",
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
    write_reply(result, walls, out)
}

fn write_reply(
    result: Result<Extraction, String>,
    walls: Walls,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let (header, text, thumbnail, layout, pdf) = match result {
        Ok(e) => {
            let layout = serde_json::to_vec(&e.layout)?;
            let pdf = e.searchable_pdf.unwrap_or_default();
            let thumbnail = e.thumbnail.unwrap_or_default();
            (
                Header {
                    outcome: Ok(Meta {
                        pages: e.pages,
                        warnings: e.warnings,
                        ocr: e.ocr,
                        walls,
                    }),
                    text_len: e.text.len() as u64,
                    thumbnail_len: thumbnail.len() as u64,
                    layout_len: layout.len() as u64,
                    pdf_len: pdf.len() as u64,
                },
                e.text,
                thumbnail,
                layout,
                pdf,
            )
        }
        Err(reason) => (
            Header {
                outcome: Err(reason),
                text_len: 0,
                thumbnail_len: 0,
                layout_len: 0,
                pdf_len: 0,
            },
            String::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        ),
    };
    serde_json::to_writer(&mut *out, &header)?;
    out.write_all(b"\n")?;
    out.write_all(text.as_bytes())?;
    out.write_all(&thumbnail)?;
    out.write_all(&layout)?;
    out.write_all(&pdf)
}
