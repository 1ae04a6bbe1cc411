//! Time per pipeline stage for a small one-page text PDF (release build):
//!
//! ```sh
//! cargo build --release -p docintel-api --bin docintel
//! cargo run --release -p docintel-backend --example stage_bench -- target/release/docintel
//! ```
//! Each stage runs in a loop and reports its mean time per document. Given the path of a
//! `docintel` binary, it also runs the whole pipeline with parsing in a child process of
//! it (as the server does) and prints what that isolation costs per document, one at a
//! time and with two in flight.

use std::time::Instant;

use docintel_backend::classify::Model;
use docintel_backend::model::ContentType;
use docintel_backend::pipeline::{self, Context, Isolation, Tools, sniff};

// The same real PDFs the end-to-end tests upload.
use docintel_testkit::pdf;

fn time<T>(name: &str, n: u32, mut f: impl FnMut() -> T) {
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(f());
    }
    let per = start.elapsed() / n;
    println!("{name:<34} {:>10.1} µs", per.as_secs_f64() * 1e6);
}

fn main() {
    let model = Model::default_model().expect("model");
    let pdf = pdf(&[
        "INVOICE 2026-117",
        "Total due: 1,250.00 EUR",
        "Payable within 30 days",
    ]);
    let pdf = pdf.as_slice();
    assert!(matches!(
        pipeline::process(&Context::bare(), ContentType::Pdf, pdf),
        pipeline::Outcome::Processed { .. }
    ));
    let text = "INVOICE 2026-117\nTotal due: 1,250.00 EUR\nPayable within 30 days";
    let bare = Context::bare();
    let with_model = Context {
        model: Some(std::sync::Arc::new(model.clone())),
        ..Context::bare()
    };
    let tools = Context {
        tools: Tools::detect(),
        ..with_model.clone()
    };
    println!("stage (1-page text PDF, {} bytes)     mean", pdf.len());
    time("sniff (magic bytes + UTF-8 check)", 100_000, || {
        let mut c = sniff::TextCheck::default();
        c.feed(pdf);
        sniff::sniff(pdf, c.finish())
    });
    time("PDF text layer + metadata", 2_000, || {
        pipeline::process(&bare, ContentType::Pdf, pdf)
    });
    time("language (whatlang)", 20_000, || whatlang::detect(text));
    time("classify (shipped model)", 20_000, || model.classify(text));
    time("whole pipeline, no external tools", 2_000, || {
        pipeline::process(&with_model, ContentType::Pdf, pdf)
    });
    if tools.tools.pdftoppm.is_some() {
        time("whole pipeline + pdftoppm thumbnail", 50, || {
            pipeline::process(&tools, ContentType::Pdf, pdf)
        });
    }
    if let Some(program) = std::env::args_os().nth(1) {
        isolation(&with_model, program.into(), pdf);
    }
}

/// The same document through `pipeline::run`, in this process and in a parser child
/// forked by the fork server.
fn isolation(ctx: &Context, program: std::path::PathBuf, pdf: &[u8]) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let n = 500;
    let mean = |ctx: &Context, parallel: usize| {
        let ctx = std::sync::Arc::new(ctx.clone());
        rt.block_on(async {
            let start = Instant::now();
            let mut tasks = tokio::task::JoinSet::new();
            for lane in 0..parallel {
                let (ctx, pdf) = (ctx.clone(), pdf.to_vec());
                tasks.spawn(async move {
                    for _ in 0..n / parallel + usize::from(lane < n % parallel) {
                        let out = pipeline::run(ctx.clone(), ContentType::Pdf, pdf.clone()).await;
                        assert!(
                            matches!(out, pipeline::Outcome::Processed { .. }),
                            "{out:?}"
                        );
                    }
                });
            }
            while tasks.join_next().await.is_some() {}
            start.elapsed() / n as u32
        })
    };
    let isolated = Context {
        zygote: std::sync::Arc::new(pipeline::sandbox::Zygote::new(&program)),
        isolation: Isolation::Process { program },
        ..ctx.clone()
    };
    // Back to back: what each document costs when the machine does nothing else.
    for parallel in [1, 2] {
        let inside = mean(ctx, parallel);
        let outside = mean(&isolated, parallel);
        println!(
            "back to back, {parallel} in flight: in-process {:>8.1} µs, parser child {:>8.1} µs: +{:.2} ms per document ({:.1}×)",
            inside.as_secs_f64() * 1e6,
            outside.as_secs_f64() * 1e6,
            (outside.as_secs_f64() - inside.as_secs_f64()) * 1e3,
            outside.as_secs_f64() / inside.as_secs_f64()
        );
    }
    // Documents 20 ms apart, as in a server that is not saturated: the median latency of
    // one document.
    let latency = |ctx: &Context| {
        let ctx = std::sync::Arc::new(ctx.clone());
        rt.block_on(async {
            let mut times = Vec::new();
            for _ in 0..200 {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                let start = Instant::now();
                let out = pipeline::run(ctx.clone(), ContentType::Pdf, pdf.to_vec()).await;
                times.push(start.elapsed());
                assert!(
                    matches!(out, pipeline::Outcome::Processed { .. }),
                    "{out:?}"
                );
            }
            times.sort();
            times[times.len() / 2]
        })
    };
    let inside = latency(ctx);
    let outside = latency(&isolated);
    println!(
        "20 ms apart, median latency: in-process {:>8.1} µs, parser child {:>8.1} µs: +{:.2} ms per document",
        inside.as_secs_f64() * 1e6,
        outside.as_secs_f64() * 1e6,
        (outside.as_secs_f64() - inside.as_secs_f64()) * 1e3
    );
}
