//! Regenerates `sdks/rust/src/generated.rs` from `openapi/v2.json`:
//!
//! ```sh
//! cargo run -p docintel-sdk-gen                        # rewrite
//! cargo run -p docintel-sdk-gen -- --check             # exit 1 if the committed file is stale
//! cargo run -p docintel-sdk-gen -- --openapi30 FILE    # write the 3.0.3 conversion only
//! ```
//!
//! `--openapi30` gives generators that read only OpenAPI 3.0 the same input progenitor
//! gets.

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, path] = args.as_slice()
        && flag == "--openapi30"
    {
        let spec =
            std::fs::read_to_string(docintel_sdk_gen::workspace_root().join("openapi/v2.json"))?;
        let converted = docintel_sdk_gen::convert::to_openapi_30(serde_json::from_str(&spec)?);
        std::fs::write(path, serde_json::to_string_pretty(&converted)? + "\n")?;
        eprintln!("wrote {path}");
        return Ok(());
    }
    let out = docintel_sdk_gen::workspace_root().join("sdks/rust/src/generated.rs");
    let code = docintel_sdk_gen::expected_sdk_source()?;
    if args.iter().any(|a| a == "--check") {
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
