//! Parser processes end to end: replies, crashes, limits and malformed frames.

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
        include_bytes!("../warmup.pdf"),
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
