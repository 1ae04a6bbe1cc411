//! Every `docintel-bench …` in README.md's and docs/*.md's shell blocks names a scenario
//! and options the harness has (the blocks themselves are checked in tests/e2e/docs.rs).

use std::path::Path;

use docintel_testkit::shell_blocks;

#[test]
fn the_documents_invocations_of_the_harness_parse() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let (checked, failures) = shell_blocks::check_invocations(
        &root,
        "docintel-bench",
        Path::new(env!("CARGO_BIN_EXE_docintel-bench")),
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Soak, overload, hostile and faults in docs/reliability.md.
    assert!(
        checked >= 4,
        "only {checked} invocations of docintel-bench found"
    );
}
