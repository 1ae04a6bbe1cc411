//! Parser processes end to end: replies, crashes, limits and malformed frames.

use std::os::unix::fs::PermissionsExt;

use docintel_testkit::proc_status as status;

use super::server::why_it_died;
use super::*;

fn reply(task: Task, input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    serve(
        task,
        &Tools::none(),
        &Limits::default(),
        input,
        Instant::now() + Duration::from_secs(10),
        Walls::default(),
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
    let pdf = super::super::extract(
        &Tools::none(),
        &limits,
        ContentType::Pdf,
        include_bytes!("../warmup.pdf"),
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
        &include_bytes!("../fixtures/pdf-extract-missing-object.pdf")[..],
        include_bytes!("../fixtures/pdf-extract-no-mediabox.pdf"),
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
        "{{\"outcome\":{{\"Ok\":{{\"pages\":null,\"warnings\":[],\"ocr\":null,\"walls\":{{\"landlock\":false,\"seccomp\":false}}}}}},\"text_len\":{},\"thumbnail_len\":0}}\n",
        limits.max_text_bytes + 1
    );
    assert!(
        decode_reply(huge.as_bytes(), &limits)
            .unwrap_err()
            .contains("oversized")
    );
    let latin1 = b"{\"outcome\":{\"Ok\":{\"pages\":null,\"warnings\":[],\"ocr\":null,\"walls\":{\"landlock\":true,\"seccomp\":true}}},\"text_len\":1,\"thumbnail_len\":0}\n\xE9";
    assert!(decode_reply(latin1, &limits).unwrap_err().contains("UTF-8"));
}

// The backend's unit-test binary is the parser program of the tests below: run as
// `<it> __parse`, it becomes the fork server before the test harness starts.
// SAFETY (of running before main): it reads /proc and, as a parser, never returns.
#[ctor::ctor]
fn parser_program() {
    let is_parser = std::fs::read("/proc/self/cmdline")
        .is_ok_and(|cmdline| cmdline.split(|b| *b == 0).nth(1) == Some(ARG.as_bytes()));
    if is_parser {
        child_main();
    }
}

/// What a test makes a parser child do, as a compromised parser would.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Hook {
    /// Read `/etc/passwd`.
    Open { seccomp: bool },
    /// Connect to a TCP port on loopback.
    Connect { port: u16, seccomp: bool },
    /// Replace itself with `/bin/true`.
    Exec { seccomp: bool },
    /// Write through a null pointer.
    Segfault,
    /// Recurse without end.
    StackOverflow,
    /// Allocate more than the memory limit.
    Allocate { bytes: u64 },
    /// Never answer.
    Spin,
    /// Answer something that is not a reply.
    Garbage,
    /// Start `sleep <tag>` (a grandchild), then never answer.
    SpawnAndSpin { tag: u32 },
    /// Fork, as the fork server does.
    Fork,
    /// Reap a child, as the fork server does.
    Wait,
    /// Receive a message on stdin, as the fork server does on its control socket.
    Receive,
    /// A task that needs the Tools walls, sent to the parse fork server all the same.
    Misrouted,
}

impl Hook {
    pub fn profile(self) -> walls::Profile {
        match self {
            Hook::SpawnAndSpin { .. } | Hook::Misrouted => walls::Profile::Tools,
            _ => walls::Profile::Parse,
        }
    }

    /// Landlock alone, or the Tools walls, are put up per child: the OCR fork server's.
    pub(super) fn server(self) -> server::Flavour {
        match self {
            Hook::Open { seccomp: false }
            | Hook::Connect { seccomp: false, .. }
            | Hook::Exec { seccomp: false }
            | Hook::SpawnAndSpin { .. } => server::Flavour::Ocr,
            _ => server::Flavour::Parse,
        }
    }

    pub fn wall_off(self, filters: &walls::Filters) -> Walls {
        match self {
            Hook::Open { seccomp: false }
            | Hook::Connect { seccomp: false, .. }
            | Hook::Exec { seccomp: false } => walls::landlock_only(self.profile()),
            _ => walls::wall_off(self.profile(), filters, &[]),
        }
    }

    pub fn run(self) -> Result<Extraction, String> {
        let outcome: std::io::Result<()> = match self {
            Hook::Open { .. } => std::fs::read("/etc/passwd").map(drop),
            Hook::Connect { port, .. } => {
                std::net::TcpStream::connect(("127.0.0.1", port)).map(drop)
            }
            Hook::Exec { .. } => {
                let path = c"/bin/true";
                let argv = [path.as_ptr(), std::ptr::null()];
                let envp = [std::ptr::null()];
                // SAFETY: null-terminated arrays of C strings that live across the call;
                // execve returns only if refused.
                unsafe { nix::libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
                Err(std::io::Error::last_os_error())
            }
            Hook::Segfault => {
                // SAFETY: not safe at all: the crash is the point.
                unsafe { std::ptr::null_mut::<u8>().write_volatile(1) };
                Ok(())
            }
            Hook::StackOverflow => {
                fn deeper(n: u64) -> u64 {
                    let frame = std::hint::black_box([n; 64]);
                    // Never true (the stack ends first); it lets the function return.
                    if frame[0] == u64::MAX {
                        return 0;
                    }
                    deeper(frame[1] + 1) + frame[0]
                }
                deeper(0);
                Ok(())
            }
            Hook::Allocate { bytes } => {
                let v = vec![1u8; bytes as usize];
                std::hint::black_box(&v);
                Ok(())
            }
            Hook::Spin => loop {
                std::hint::spin_loop();
            },
            Hook::Garbage => {
                let _ = std::io::stdout().write_all(b"garbage");
                // SAFETY: ends this child at once, as a crash in the middle of a reply would.
                unsafe { nix::libc::_exit(0) }
            }
            Hook::Fork => {
                // SAFETY: this child is one thread; a new child exits at once.
                match unsafe { nix::unistd::fork() } {
                    Ok(nix::unistd::ForkResult::Child) => unsafe { nix::libc::_exit(0) },
                    Ok(nix::unistd::ForkResult::Parent { .. }) => Ok(()),
                    Err(e) => Err(e.into()),
                }
            }
            // Not refused, this would say there is no child (ECHILD).
            Hook::Wait => nix::sys::wait::waitpid(None, Some(nix::sys::wait::WaitPidFlag::WNOHANG))
                .map(drop)
                .map_err(Into::into),
            // Not refused, this would say stdin is not a socket (ENOTSOCK).
            Hook::Receive => nix::sys::socket::recvmsg::<()>(
                0,
                &mut [std::io::IoSliceMut::new(&mut [0u8; 1])],
                None,
                nix::sys::socket::MsgFlags::MSG_DONTWAIT,
            )
            .map(drop)
            .map_err(Into::into),
            Hook::Misrouted => Ok(()),
            Hook::SpawnAndSpin { tag } => {
                let _ = std::process::Command::new("sleep")
                    .arg(tag.to_string())
                    .spawn();
                loop {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        };
        match outcome {
            Ok(()) => Ok(Extraction {
                text: "not refused".to_owned(),
                ..Extraction::default()
            }),
            Err(e) => Err(format!("{self:?} refused: {e}")),
        }
    }
}

fn program() -> std::path::PathBuf {
    std::env::current_exe().unwrap()
}

fn ctx(timeout: Duration) -> Context {
    Context {
        timeout,
        zygote: std::sync::Arc::new(Zygote::new(&program())),
        ..Context::bare()
    }
}

async fn hook(ctx: &Context, hook: Hook) -> Result<Extraction, String> {
    run(&program(), ctx, Task::Hook(hook), bytes::Bytes::new()).await
}

#[tokio::test]
async fn each_wall_refuses_files_the_network_and_programs() {
    let ctx = ctx(Duration::from_secs(10));
    let walls = probe(&program(), &ctx).await.unwrap();
    assert_eq!(walls, Walls::ALL, "this kernel has Landlock and seccomp");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Landlock alone is less than the probe saw: a child asked for it would refuse to
    // parse, so those hooks go through a fork server that was not probed.
    let unprobed = self::ctx(Duration::from_secs(10));
    for seccomp in [true, false] {
        let ctx = if seccomp { &ctx } else { &unprobed };
        // seccomp answers EPERM for a call not on its list; Landlock EACCES.
        let refusal = if seccomp {
            "Operation not permitted"
        } else {
            "Permission denied"
        };
        for h in [
            Hook::Open { seccomp },
            Hook::Connect { port, seccomp },
            Hook::Exec { seccomp },
        ] {
            let e = hook(ctx, h).await.unwrap_err();
            assert!(e.contains("refused") && e.contains(refusal), "{h:?}: {e}");
        }
    }
    // Nothing reached the listener.
    listener.set_nonblocking(true).unwrap();
    assert!(listener.accept().is_err());
    // Without walls the same hooks succeed: the test can tell.
    assert!(Hook::Open { seccomp: false }.run().is_ok());
}

#[tokio::test]
async fn a_child_cannot_fork_wait_or_receive_as_its_fork_server_does() {
    let ctx = ctx(Duration::from_secs(10));
    assert_eq!(probe(&program(), &ctx).await.unwrap(), Walls::ALL);
    for h in [Hook::Fork, Hook::Wait, Hook::Receive] {
        let e = hook(&ctx, h).await.unwrap_err();
        assert!(
            e.contains("refused") && e.contains("Operation not permitted"),
            "{h:?}: {e}"
        );
    }
    let e = hook(&ctx, Hook::Misrouted).await.unwrap_err();
    assert!(
        e.contains("needs walls this parser process does not put up"),
        "{e}"
    );
    // Each failed its document, and the fork server still serves.
    let e = run(&program(), &ctx, TEXT, bytes::Bytes::from_static(b"after"))
        .await
        .unwrap();
    assert_eq!((e.text.as_str(), e.walls), ("after", Walls::ALL));
}

#[tokio::test]
async fn the_parse_fork_server_holds_the_walls_its_children_inherit() {
    let ctx = ctx(Duration::from_secs(10));
    let e = run(&program(), &ctx, TEXT, bytes::Bytes::from_static(b"one"))
        .await
        .unwrap();
    assert_eq!(e.walls, Walls::ALL);
    let pids = ctx.zygote.pids().await;
    assert_eq!(pids.len(), 1, "only the parse fork server: {pids:?}");
    let s = status(pids[0]);
    assert_eq!(s.get("NoNewPrivs").map(String::as_str), Some("1"));
    // 2: filtered; one filter, its own (a child stacks a second).
    assert_eq!(s.get("Seccomp").map(String::as_str), Some("2"), "{s:?}");
    assert_eq!(
        s.get("Seccomp_filters").map(String::as_str),
        Some("1"),
        "{s:?}"
    );
    // A child holds that filter and its own: seen while one spins.
    let server = pids[0];
    let spinning = tokio::spawn({
        let ctx = Context {
            timeout: Duration::from_secs(3),
            ..ctx.clone()
        };
        async move { hook(&ctx, Hook::Spin).await }
    });
    let mut child = None;
    for _ in 0..200 {
        let children = std::fs::read_to_string(format!("/proc/{server}/task/{server}/children"))
            .unwrap_or_default();
        child = children
            .split_whitespace()
            .find_map(|p| p.parse::<i32>().ok());
        if child.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let child = child.expect("the spinning child");
    // Its own filter goes up right after fork: give it a moment.
    let mut filters = None;
    for _ in 0..200 {
        filters = status(child).get("Seccomp_filters").cloned();
        if filters.as_deref() == Some("2") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(filters.as_deref(), Some("2"));
    assert!(spinning.await.unwrap().unwrap_err().contains("took longer"));
    // The OCR fork server puts up nothing of its own: its children wall off per task.
    let ocr = Task::Ocr {
        content_type: ContentType::Png,
        pages: 1,
    };
    let _ = run(
        &program(),
        &ctx,
        ocr,
        bytes::Bytes::from_static(b"not a png"),
    )
    .await;
    let pids = ctx.zygote.pids().await;
    assert_eq!(pids.len(), 2, "{pids:?}");
    assert_eq!(
        status(pids[1]).get("Seccomp").map(String::as_str),
        Some("0")
    );
}

#[test]
fn the_parse_fork_server_forks_only_tasks_behind_the_parse_walls() {
    let pdf = ContentType::Pdf;
    let tasks = [
        TEXT,
        Task::Extract { content_type: pdf },
        Task::Thumbnail,
        Task::RenderFirstPage,
        Task::Ocr {
            content_type: pdf,
            pages: 1,
        },
        Task::Ocr {
            content_type: ContentType::Png,
            pages: 1,
        },
    ];
    for task in tasks {
        for engine in [true, false] {
            if task.server() == server::Flavour::Parse {
                assert_eq!(task.profile(engine), walls::Profile::Parse, "{task:?}");
            }
        }
    }
    // What runs programs goes elsewhere: the test can tell.
    assert_eq!(Task::RenderFirstPage.server(), server::Flavour::Ocr);
}

#[test]
fn a_child_stacks_a_small_filter() {
    let (parse, child) = walls::Filters::compile().lengths().unwrap();
    assert!(
        child * 3 < parse,
        "{child} instructions, the allow-list {parse}"
    );
}

/// Whether process `pid` has Tesseract's library mapped.
fn maps_tesseract(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/maps")).is_ok_and(|m| m.contains("libtesseract"))
}

#[tokio::test]
async fn ocr_runs_the_engine_loaded_once_behind_the_parsers_walls() {
    let ctx = Context {
        // OCR is on, but the program cannot be run: only the engine can read the image.
        tools: Tools {
            tesseract: Some("/nonexistent/tesseract".into()),
            pdftoppm: None,
            ocr_library: true,
        },
        ..ctx(Duration::from_secs(30))
    };
    assert_eq!(probe(&program(), &ctx).await.unwrap(), Walls::ALL);
    let (png, _) = crate::pipeline::tesseract::tests::text_image().expect("pdftoppm draws it");
    let task = Task::Ocr {
        content_type: ContentType::Png,
        pages: 1,
    };
    for _ in 0..2 {
        let read = run(&program(), &ctx, task, bytes::Bytes::from(png.clone()))
            .await
            .unwrap();
        assert!(read.text.contains("Invoice"), "{:?}", read.text);
        assert_eq!(read.walls, Walls::ALL);
        assert!(read.searchable_pdf.is_some());
    }
    // Two fork servers: only OCR's has the engine, so parser children do not copy it.
    let pids = ctx.zygote.pids().await;
    assert_eq!(pids.len(), 2, "{pids:?}");
    assert_eq!(pids.iter().filter(|p| maps_tesseract(**p)).count(), 1);
    // A scanned PDF's pages need pdftoppm, which this child may not run: a reason, not a crash.
    let scanned = Task::Ocr {
        content_type: ContentType::Pdf,
        pages: 1,
    };
    let pdf = docintel_testkit::pdf(&["Invoice number 2026 total due"]);
    let e = run(&program(), &ctx, scanned, bytes::Bytes::from(pdf))
        .await
        .unwrap_err();
    assert!(e.contains("pdftoppm"), "{e}");
}

#[tokio::test]
async fn a_dead_hung_or_lying_parser_fails_the_document_with_a_reason() {
    let ctx = ctx(Duration::from_secs(2));
    let cases = [
        (Hook::Segfault, CRASHED),
        // Entered from a constructor, before std installs its stack overflow handler,
        // this binary's children die without saying so; `docintel` says (see
        // `how_a_parser_died_is_told` and the binary's hostile-input tests).
        (Hook::StackOverflow, CRASHED),
        (
            Hook::Allocate { bytes: 2 << 30 },
            "exceeded the memory limit (1024 MiB)",
        ),
        (Hook::Garbage, "the parser's reply is unusable"),
        (Hook::Spin, "took longer than the 2s limit"),
    ];
    for (h, expected) in cases {
        let started = Instant::now();
        let e = hook(&ctx, h).await.unwrap_err();
        assert!(e.contains(expected), "{h:?}: {e}");
        assert!(started.elapsed() < Duration::from_secs(20), "{h:?}");
    }
    // And the fork server still serves.
    let task = Task::Extract {
        content_type: ContentType::Text,
    };
    let e = run(&program(), &ctx, task, bytes::Bytes::from_static(b"after"))
        .await
        .unwrap();
    assert_eq!(e.text, "after");
}

#[test]
fn how_a_parser_died_is_told() {
    use std::os::unix::process::ExitStatusExt;
    let limits = Limits::default();
    let signalled = |s: i32| ExitStatus::from_raw(s);
    assert!(why_it_died(signalled(nix::libc::SIGXCPU), b"", &limits).contains("CPU time limit"));
    assert!(
        why_it_died(
            signalled(nix::libc::SIGABRT),
            b"memory allocation of 1073741824 bytes failed",
            &limits
        )
        .contains("memory limit (1024 MiB)")
    );
    assert!(
        why_it_died(
            signalled(nix::libc::SIGSEGV),
            b"thread 'main' has overflowed its stack",
            &limits
        )
        .contains("nested too deeply")
    );
    assert_eq!(
        why_it_died(signalled(nix::libc::SIGSEGV), b"", &limits),
        CRASHED
    );
}

#[tokio::test]
async fn the_deadline_kills_what_the_parser_started_too() {
    let ctx = ctx(Duration::from_millis(500));
    let tag = 100_000 + std::process::id();
    let e = hook(&ctx, Hook::SpawnAndSpin { tag }).await.unwrap_err();
    assert!(e.contains("took longer"), "{e}");
    // Killed with its parser's group, then reaped by init; give it a moment.
    let alive = || {
        std::fs::read_dir("/proc").unwrap().flatten().any(|p| {
            let cmdline = std::fs::read(p.path().join("cmdline")).unwrap_or_default();
            let stat = std::fs::read_to_string(p.path().join("stat")).unwrap_or_default();
            cmdline == format!("sleep\0{tag}\0").as_bytes() && !stat.contains(") Z ")
        })
    };
    let mut gone = false;
    for _ in 0..100 {
        if !alive() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone, "sleep {tag} outlived its parser");
}

#[tokio::test]
async fn a_fork_server_that_dies_is_started_again() {
    let ctx = ctx(Duration::from_secs(10));
    let program = program();
    let text = |s: &'static str| {
        run(
            &program,
            &ctx,
            Task::Extract {
                content_type: ContentType::Text,
            },
            bytes::Bytes::from_static(s.as_bytes()),
        )
    };
    assert_eq!(text("one").await.unwrap().text, "one");
    let zygotes = ctx.zygote.pids().await;
    assert_eq!(zygotes.len(), 1);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(zygotes[0]),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert_eq!(text("two").await.unwrap().text, "two");
    assert_ne!(ctx.zygote.pids().await, zygotes);
}

#[tokio::test]
async fn a_program_that_is_not_a_parser_is_refused_by_the_probe() {
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("parser.sh");
    std::fs::write(&program, "#!/bin/sh\necho 'I am not docintel'\n").unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    let ctx = Context {
        zygote: std::sync::Arc::new(Zygote::new(&program)),
        ..Context::bare()
    };
    let e = probe(&program, &ctx).await.unwrap_err();
    assert!(
        e.contains("does not work as docintel's parser process"),
        "{e}"
    );
}
