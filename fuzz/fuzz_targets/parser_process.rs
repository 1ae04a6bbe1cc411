//! Fuzzes what a parser process does with one upload (the code behind `docintel __parse`):
//! sniffing, then the extraction task under the parser's budgets, then the server's
//! reading of the reply frame. In production a crash here ends only that parser process
//! and fails the document; under the fuzzer any panic, abort or stack overflow is a
//! finding, and so is a reply the server cannot read.
//!
//! RUSTC_BOOTSTRAP=1 cargo fuzz run parser_process -- -max_total_time=600 -rss_limit_mb=2048
#![no_main]

use std::time::{Duration, Instant};

use docintel_backend::model::ContentType;
use docintel_backend::pipeline::sandbox::{self, Task};
use docintel_backend::pipeline::{Limits, Tools, sniff};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut check = sniff::TextCheck::default();
    check.feed(data);
    let head = &data[..data.len().min(sniff::SNIFF_LEN)];
    // Uploads are sniffed first; the fuzzer also tries bytes as a type they are not.
    let content_type = sniff::sniff(head, check.finish()).unwrap_or(match data.first() {
        Some(b) if b % 2 == 0 => ContentType::Pdf,
        _ => ContentType::Png,
    });
    // Smaller budgets than the server's, so that each run stays fast.
    let limits = Limits {
        memory_bytes: 1 << 30,
        max_inflated_bytes: 16 << 20,
        max_text_bytes: 4 << 20,
        ..Limits::default()
    };
    let mut reply = Vec::new();
    sandbox::serve(
        Task::Extract { content_type },
        &Tools::none(),
        &limits,
        data,
        Instant::now() + Duration::from_secs(10),
        sandbox::Walls::default(),
        &mut reply,
    )
    .expect("writing to a Vec cannot fail");
    if let Err(reason) = sandbox::decode_reply(&reply, &limits) {
        assert!(
            !reason.starts_with("the parser's reply is unusable"),
            "the server could not read the parser's reply: {reason}"
        );
    }
});
