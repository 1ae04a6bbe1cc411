//! The SDKs are consumers like any other: each publishes its committed pact under its
//! package's version and records the release (a library is released, not deployed), and
//! docintel's CI asks can-i-deploy before a server change ships. A change that breaks
//! what a released SDK sends or reads is refused, naming the SDK and its version.

use std::path::Path;

use docintel_governance::checks::contracts::Provider;

use crate::broker::{broker_source, cli, cli_ok, committed_pact, write_pact};
use crate::common::{self, TestServer};

/// Each SDK's pacticipant name, its pact, and the file that holds its package version.
const SDKS: &[(&str, &str, &str)] = &[
    (
        "docintel-sdk",
        "docintel-sdk-docintel.json",
        "sdks/rust/Cargo.toml",
    ),
    (
        "docintel-sdk-python",
        "docintel-sdk-python-docintel.json",
        "sdks/python/src/docintel/_version.py",
    ),
    (
        "docintel-sdk-typescript",
        "docintel-sdk-typescript-docintel.json",
        "sdks/typescript/package.json",
    ),
];

/// The package version a file declares: `version = "…"` (Cargo.toml), `"version": "…"`
/// (package.json) or `__version__ = "…"` (Python).
fn package_version(manifest: &str) -> String {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(manifest))
        .unwrap_or_else(|e| panic!("{manifest}: {e}"));
    text.lines()
        .map(str::trim)
        .find_map(|l| {
            let rest = l
                .strip_prefix("version = ")
                .or_else(|| l.strip_prefix("\"version\": "))
                .or_else(|| l.strip_prefix("__version__ = "))?;
            Some(rest.trim_end_matches(',').trim_matches('"').to_owned())
        })
        .unwrap_or_else(|| panic!("{manifest} declares no version"))
}

#[tokio::test]
async fn a_server_change_that_breaks_a_released_sdk_is_refused_by_can_i_deploy() {
    let s = TestServer::start().await;
    let pacts = tempfile::tempdir().unwrap();
    let sdk_team = s.backend.create_key("sdk-team").await.unwrap();
    cli_ok(
        &s,
        &s.admin_key,
        &["create-environment", "--name", "production", "--production"],
    )
    .await;

    // Each SDK's release: its pact published under the package version, then released.
    let mut released = Vec::new();
    for (name, file, manifest) in SDKS {
        let pact = committed_pact(file);
        assert_eq!(pact["consumer"]["name"], *name, "{file}");
        let version = package_version(manifest);
        let path = write_pact(pacts.path(), &pact);
        let printed = cli_ok(
            &s,
            &sdk_team,
            &[
                "publish",
                path.to_str().unwrap(),
                "--consumer-app-version",
                &version,
                "--branch",
                "main",
            ],
        )
        .await;
        assert!(printed.contains("successfully published"), "{printed}");
        cli_ok(
            &s,
            &sdk_team,
            &[
                "record-release",
                "--pacticipant",
                name,
                "--version",
                &version,
                "--environment",
                "production",
            ],
        )
        .await;
        released.push((*name, version));
    }

    let can_i_deploy = |version: &'static str| {
        let s = &s;
        async move {
            cli(
                s,
                &s.key,
                &[
                    "can-i-deploy",
                    "--pacticipant",
                    "docintel",
                    "--version",
                    version,
                    "--to-environment",
                    "production",
                ],
            )
            .await
        }
    };

    // Today's server satisfies every released SDK: verified, results published, yes.
    let today = Provider::start(common::parser()).await.unwrap();
    let source = broker_source(&s, "today", false);
    let result = today
        .verify_with(source.pact_source(), source.publish_options().as_ref())
        .await
        .unwrap();
    assert!(result.result, "{}", result.output.join("\n"));
    let (ok, printed) = can_i_deploy("today").await;
    assert!(ok, "{printed}");
    assert!(printed.contains("Computer says yes"), "{printed}");
    for (name, version) in &released {
        assert!(
            printed.contains(name) && printed.contains(version.as_str()),
            "can-i-deploy did not weigh {name} {version}:\n{printed}"
        );
    }

    // A server change: uploads now refused above 16 bytes. Every SDK uploads in its
    // contract, so every released SDK breaks, and can-i-deploy says no, naming them.
    let next = Provider::start_with(common::parser(), |l| l.config.max_upload_bytes = 16)
        .await
        .unwrap();
    let source = broker_source(&s, "next", false);
    let result = next
        .verify_with(source.pact_source(), source.publish_options().as_ref())
        .await
        .unwrap();
    assert!(!result.result, "{}", result.output.join("\n"));
    let (ok, printed) = can_i_deploy("next").await;
    assert!(!ok, "{printed}");
    assert!(printed.contains("Computer says no"), "{printed}");
    for (name, _) in &released {
        assert!(printed.contains(name), "{name} not named:\n{printed}");
    }
}
