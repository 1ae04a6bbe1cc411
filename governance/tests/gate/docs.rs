//! Every `docintel-governance …` and `cargo run -p docintel-governance -- …` in README.md's
//! and docs/*.md's shell blocks names a command and options the gate has (the blocks
//! themselves are checked in tests/e2e/docs.rs).

use std::path::Path;

use docintel_testkit::shell_blocks;

#[test]
fn the_documents_invocations_of_the_gate_parse() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let (checked, failures) = shell_blocks::check_invocations(
        &root,
        "docintel-governance",
        Path::new(env!("CARGO_BIN_EXE_docintel-governance")),
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // check (twice), check against a broker, diff, changelog, release.
    assert!(
        checked >= 5,
        "only {checked} invocations of docintel-governance found"
    );
}
