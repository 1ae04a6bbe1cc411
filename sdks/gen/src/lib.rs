//! Generates `docintel-sdk`'s client code from `openapi/v2.json`: the committed 3.1
//! document is down-converted to 3.0.3 ([`convert`]) and fed to progenitor
//! ([`generate`]). The output is committed with an `@generated` header.

pub mod convert;
pub mod generate;

use std::path::PathBuf;

/// The workspace root (this crate lives in `sdks/gen/`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What `sdks/rust/src/generated.rs` must contain for the committed `openapi/v2.json`.
pub fn expected_sdk_source() -> anyhow::Result<String> {
    let spec = std::fs::read_to_string(workspace_root().join("openapi/v2.json"))?;
    generate::sdk_source(&spec)
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_sdk_code_is_what_the_spec_generates() {
        let expected = super::expected_sdk_source().unwrap();
        let committed =
            std::fs::read_to_string(super::workspace_root().join("sdks/rust/src/generated.rs"))
                .unwrap();
        assert!(
            committed == expected,
            "sdks/rust/src/generated.rs is out of date: run `cargo run -p docintel-sdk-gen`"
        );
    }

    #[test]
    fn generated_code_is_marked() {
        let code = super::expected_sdk_source().unwrap();
        assert!(code.starts_with("// @generated"));
    }
}
