//! Regenerates `sdks/rust/src/generated.rs` from `openapi/v2.json`:
//!
//! ```sh
//! cargo run -p docintel-sdk-gen            # rewrite
//! cargo run -p docintel-sdk-gen -- --check # exit 1 if the committed file is stale
//! ```

fn main() -> anyhow::Result<()> {
    let out = docintel_sdk_gen::workspace_root().join("sdks/rust/src/generated.rs");
    let code = docintel_sdk_gen::expected_sdk_source()?;
    if std::env::args().any(|a| a == "--check") {
        let committed = std::fs::read_to_string(&out).unwrap_or_default();
        anyhow::ensure!(
            committed == code,
            "sdks/rust/src/generated.rs is out of date: run `cargo run -p docintel-sdk-gen`"
        );
        eprintln!("sdks/rust/src/generated.rs is up to date");
    } else {
        std::fs::write(&out, code)?;
        eprintln!("wrote {}", out.display());
    }
    Ok(())
}
