//! The shell blocks of README.md and docs/*.md (`sh`, `bash`, `console`) stay true: each
//! parses with `bash -n`; every command a dry run of it records names a package, binary,
//! example or test that exists (the flags of `docintel`, `docintel-governance` and
//! `docintel-bench` are checked by those binaries' own tests, which Cargo builds them
//! for); and the blocks marked `<!-- doc-test: server -->` run against a real server.
//! A block that calls a server and cannot run here is listed in `NOT_RUN`, with why.

use std::collections::BTreeMap;
use std::path::PathBuf;

use docintel_testkit::shell_blocks::{self, Block, option};
use serde_json::Value;

use crate::common::{TestServer, pdf};

/// Blocks that call a server but do not run here: (file, the block's first line, why).
const NOT_RUN: &[(&str, &str, &str)] = &[
    (
        "docs/contracts.md",
        "export PACT_BROKER_BASE_URL=",
        "a consumer team's CI against a deployed broker, with the official CLI (the CLI \
         against the embedded broker is tests/e2e/broker.rs)",
    ),
    (
        "docs/contracts.md",
        "docintel-governance check --broker-url",
        "docintel's CI against a deployed broker; the gate's broker source is tested in \
         tests/e2e/broker.rs",
    ),
    (
        "docs/contracts.md",
        "pact-broker publish contracts/pacts/docintel-sdk-python",
        "an SDK release's CI against a deployed broker; tests/e2e/sdk_releases.rs does the \
         same with the official CLI against the embedded broker",
    ),
    (
        "docs/contracts.md",
        "pact-broker create-webhook",
        "a provider team's set-up against a deployed broker; tests/e2e/broker_webhooks.rs \
         runs these commands with the official CLI against the embedded broker",
    ),
    (
        "docs/scaling-out.md",
        "# Shared services",
        "a cluster: PostgreSQL, an S3 server, a Kafka broker and four docintel processes",
    ),
];

/// The programs whose flags their own tests check against the binary.
const CHECKED_BY_THEIR_BINARY: &[&str] = &["docintel", "docintel-governance", "docintel-bench"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn blocks() -> Vec<Block> {
    let blocks = shell_blocks::blocks(&root());
    assert!(
        blocks.len() >= 15,
        "only {} shell blocks found",
        blocks.len()
    );
    blocks
}

#[test]
fn every_shell_block_parses() {
    let broken: Vec<String> = blocks()
        .iter()
        .filter_map(|b| b.syntax_error().map(|e| format!("{}: {e}", b.name())))
        .collect();
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

/// The workspace's packages and the folders they live in.
fn packages() -> BTreeMap<String, PathBuf> {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let members = manifest
        .lines()
        .find_map(|l| l.strip_prefix("members = "))
        .expect("the workspace's members");
    let mut packages: BTreeMap<String, PathBuf> = members
        .trim_matches(|c| c == '[' || c == ']')
        .split(',')
        .map(|m| root().join(m.trim().trim_matches('"')))
        .chain([root()])
        .map(|dir| {
            let text = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
            let name = text
                .lines()
                .find_map(|l| l.strip_prefix("name = "))
                .unwrap()
                .trim_matches('"')
                .to_owned();
            (name, dir)
        })
        .collect();
    assert!(packages.contains_key("docintel-api"), "{packages:?}");
    packages.retain(|_, dir| dir.is_dir());
    packages
}

/// What is wrong with one `cargo …` command line, if anything.
fn check_cargo(argv: &[String], packages: &BTreeMap<String, PathBuf>) -> Option<String> {
    let subcommand = argv.get(1)?.as_str();
    let end = argv.iter().position(|a| a == "--").unwrap_or(argv.len());
    let options = &argv[2..end];
    let package = option(options, "-p");
    let dir = match package {
        Some(p) => match packages.get(p) {
            Some(dir) => dir.clone(),
            None => return Some(format!("no package {p}")),
        },
        None => root(),
    };
    if let Some(example) = option(options, "--example")
        && !dir.join("examples").join(format!("{example}.rs")).is_file()
    {
        return Some(format!("no example {example} in {}", dir.display()));
    }
    if let Some(bin) = option(options, "--bin") {
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        if !manifest.contains(&format!("name = \"{bin}\"")) {
            return Some(format!("no binary {bin} in {}", dir.display()));
        }
    }
    if package == Some("docintel-sdk-gen") {
        let args = &argv[(end + 1).min(argv.len())..];
        let known = match args {
            [] => true,
            [flag] => flag == "--check",
            [flag, _file] => flag == "--openapi30",
            _ => false,
        };
        if !known {
            return Some(format!(
                "docintel-sdk-gen takes --check or --openapi30 FILE, not {args:?}"
            ));
        }
    }
    if subcommand == "test"
        && let Some(test) = option(options, "--test")
    {
        if test != "e2e" || package.is_some() {
            return Some(format!("no test binary {test} at the workspace's root"));
        }
        // The filter, if any: the first word that is neither an option nor its value.
        let mut words = options.iter().peekable();
        while let Some(word) = words.next() {
            if ["--test", "-p", "--package", "-j", "--features"].contains(&word.as_str()) {
                words.next();
            } else if !word.starts_with('-')
                && !root()
                    .join("tests/e2e")
                    .join(format!("{word}.rs"))
                    .is_file()
            {
                return Some(format!("no module {word} in tests/e2e"));
            }
        }
    }
    None
}

#[test]
fn every_command_names_what_exists() {
    let packages = packages();
    let mut problems = Vec::new();
    let mut ours = 0;
    for invocation in blocks().iter().flat_map(Block::invocations) {
        let argv = &invocation.argv;
        let problem = match invocation.program() {
            Some((program, _)) if CHECKED_BY_THEIR_BINARY.contains(&program) => {
                ours += 1;
                None
            }
            Some((program, _)) if !packages.contains_key(program) => {
                Some(format!("no program {program}"))
            }
            _ if argv[0] == "cargo" => check_cargo(argv, &packages),
            Some(_) | None => None,
        };
        if let Some(problem) = problem {
            problems.push(format!(
                "{}: {}: {problem}",
                invocation.block,
                argv.join(" ")
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(ours >= 20, "only {ours} invocations of docintel's programs");
}

fn first_line(block: &Block) -> &str {
    block.text.lines().next().unwrap_or("").trim()
}

fn calls_a_server(block: &Block) -> bool {
    block
        .invocations()
        .iter()
        .any(|i| ["curl", "pact-broker"].contains(&i.argv[0].as_str()))
}

#[test]
fn blocks_that_call_a_server_run_or_say_why_not() {
    let blocks = blocks();
    let excused = |b: &Block| {
        NOT_RUN
            .iter()
            .any(|(file, first, _)| b.file == *file && first_line(b).starts_with(first))
    };
    let unexplained: Vec<String> = blocks
        .iter()
        .filter(|b| calls_a_server(b) && !b.runs_against_server && !excused(b))
        .map(Block::name)
        .collect();
    assert!(
        unexplained.is_empty(),
        "these blocks call a server: mark them `{}` or list them in NOT_RUN with why: {unexplained:?}",
        shell_blocks::SERVER_MARKER
    );
    for (file, first, _) in NOT_RUN {
        let listed = blocks
            .iter()
            .find(|b| b.file == *file && first_line(b).starts_with(first));
        assert!(
            listed.is_some_and(|b| calls_a_server(b) && !b.runs_against_server),
            "NOT_RUN names {file}: {first}, which is no unmarked block that calls a server"
        );
    }
    // The README's walk-through, the audit trail's and the registry's examples run.
    let run: Vec<String> = blocks
        .iter()
        .filter(|b| b.runs_against_server)
        .map(|b| b.file.clone())
        .collect();
    assert_eq!(
        run,
        ["README.md", "docs/api.md", "docs/events-and-registry.md"]
    );
}

/// A block's placeholders, replaced before it runs: the documented address, the key, a
/// processed document's id and a real page token.
fn substitute(text: &str, server: &TestServer, id: &str, page_token: &str) -> String {
    text.replace("page_token=…", &format!("page_token={page_token}"))
        .replace("http://127.0.0.1:8080", &server.base)
        .replace("dik_…", &server.key)
        .replace("01a1ffb4-…", id)
}

/// In a block that runs, `curl` is the real one, failing on an error status and
/// reporting each status and exit code; `… keys create [--admin]` prints the server's
/// key (or admin key); any other command fails.
const RUN_PRELUDE: &str = r#"
curl() {
    "$__DOC_TEST_CURL" -sS --fail-with-body -w '%{stderr}doc-test-status %{http_code}\n' "$@"
    echo "doc-test-exit $?" >&2
}
command_not_found_handle() {
    printf '%s\0' "$@" $'\x1e' >> "$__DOC_TEST_LOG"
    if [[ " $* " != *" keys create "* ]]; then
        echo "doc-test: $1 does not run here" >&2
        return 127
    elif [[ " $* " == *" --admin "* ]]; then
        echo "$__DOC_TEST_ADMIN_KEY"
    else
        echo "$__DOC_TEST_KEY"
    fi
}
"#;

#[tokio::test]
async fn the_marked_blocks_run_against_a_server() {
    let server = TestServer::start().await;
    let id = server
        .upload_ok("invoice.pdf", pdf(&["INVOICE 42", "Total due: 100 EUR"]))
        .await;
    let done = server.wait_done(&id).await;
    assert_eq!(done["status"], "processed", "{done}");
    server.upload_ok("letter.pdf", pdf(&["Dear reader"])).await;
    let page: Value = server.get_json("/v2/documents?limit=1").await;
    let page_token = page["next_page"]
        .as_str()
        .expect("a second page")
        .to_owned();

    let curl = shell_blocks::find_program("curl");
    let marked: Vec<Block> = blocks()
        .into_iter()
        .filter(|b| b.runs_against_server)
        .collect();
    assert!(!marked.is_empty());
    for block in marked {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("invoice.pdf"),
            pdf(&["INVOICE 7", "Total due: 10 EUR"]),
        )
        .unwrap();
        let log = dir.path().join(".invocations");
        let ran = Block {
            text: substitute(&block.text, &server, &id, &page_token),
            ..block.clone()
        };
        let env = [
            ("__DOC_TEST_CURL", curl.to_str().unwrap().to_owned()),
            ("__DOC_TEST_KEY", server.key.clone()),
            ("__DOC_TEST_ADMIN_KEY", server.admin_key.clone()),
        ];
        let (dir_path, log_path) = (dir.path().to_owned(), log.clone());
        // Off the runtime's thread: the server answers on it.
        let out = tokio::task::spawn_blocking(move || {
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            ran.run_in(&dir_path, &log_path, RUN_PRELUDE, &env)
        })
        .await
        .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let report = format!(
            "{}:\n--- stdout\n{}\n--- stderr\n{stderr}",
            block.name(),
            String::from_utf8_lossy(&out.stdout)
        );
        let words = |prefix: &str| -> Vec<String> {
            stderr
                .lines()
                .filter_map(|l| l.strip_prefix(prefix))
                .map(str::to_owned)
                .collect()
        };
        let statuses = words("doc-test-status ");
        let exits = words("doc-test-exit ");
        let curls = block
            .invocations()
            .iter()
            .filter(|i| i.argv[0] == "curl")
            .count();
        assert_eq!(statuses.len(), curls, "{report}");
        assert!(
            statuses.iter().all(|s| s.starts_with('2')),
            "{statuses:?}\n{report}"
        );
        assert!(exits.iter().all(|e| e == "0"), "{exits:?}\n{report}");
        assert!(out.status.success(), "{report}");
        for argv in shell_blocks::read_log(&log) {
            assert!(
                argv.windows(2).any(|w| w == ["keys", "create"]),
                "{argv:?} ran in {report}"
            );
        }
    }
    // The walk-through deleted the document it read.
    let gone = server
        .get(&format!("/v2/documents/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
}

/// The SDKs' READMEs and docs/sdk.md's table of supported servers name the API version
/// the SDKs were generated for: the committed document's, not an older one.
#[test]
fn the_sdk_pages_name_the_api_version_the_sdks_were_generated_for() {
    let spec: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("openapi/v2.json")).unwrap())
            .unwrap();
    let version = spec["info"]["version"].as_str().unwrap();
    for page in [
        "sdks/rust/README.md",
        "sdks/python/README.md",
        "sdks/typescript/README.md",
    ] {
        let text = std::fs::read_to_string(root().join(page)).unwrap();
        assert!(
            text.contains(&format!("**{version}**")) || text.contains(&format!("API {version}")),
            "{page} does not name API version {version}"
        );
    }
    let sdk = std::fs::read_to_string(root().join("docs/sdk.md")).unwrap();
    assert!(
        sdk.contains(&format!("| API v2 {version} |")),
        "docs/sdk.md's table of supported servers does not name API v2 {version}"
    );
}
