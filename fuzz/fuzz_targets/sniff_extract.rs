//! Fuzzes what every upload goes through: type sniffing, then the pipeline's parsers
//! (PDF text layer, image decoding and thumbnails, UTF-8 text). Any panic is a finding
//! (the server survives it, failing the job, but it is still a bug to fix).
//!
//! RUSTC_BOOTSTRAP=1 cargo fuzz run sniff_extract -- -max_total_time=120 -rss_limit_mb=2048
#![no_main]

use docintel_backend::pipeline::{self, Context, sniff};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut check = sniff::TextCheck::default();
    check.feed(data);
    let head = &data[..data.len().min(sniff::SNIFF_LEN)];
    if let Ok(content_type) = sniff::sniff(head, check.finish()) {
        let _ = pipeline::process(&Context::bare(), content_type, data);
    }
});
