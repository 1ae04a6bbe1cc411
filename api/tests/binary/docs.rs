//! Every `docintel …` and `cargo run -p docintel-api -- …` in README.md's and docs/*.md's
//! shell blocks names a command and options this binary has (the blocks themselves are
//! checked in tests/e2e/docs.rs).

use docintel_testkit::shell_blocks;

#[test]
fn the_documents_invocations_of_docintel_parse() {
    let (checked, failures) =
        shell_blocks::check_invocations(crate::workspace_root(), "docintel", crate::docintel());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The README's serve and key commands, operations, scaling out, the model, OpenAPI.
    assert!(
        checked >= 10,
        "only {checked} invocations of docintel found"
    );
}
