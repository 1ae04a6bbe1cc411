//! Every command of the official `pact-broker` CLI (`npm ci --prefix tests/thirdparty`)
//! against the embedded broker, run as its users run them: each team with its own key,
//! the operator with an admin key. Each command's printout is checked, and the broker's
//! state where the command changes it. The webhook commands are tested with webhooks.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::broker::{cli, committed_pact, write_pact};
use crate::common::TestServer;

/// The CLI's broker commands this test runs, and what it checks of each.
const COMMANDS: [(&str, &str); 24] = [
    ("publish", "a team publishes its pacts from a branch"),
    ("list-latest-pact-versions", "the latest pact of each pair"),
    (
        "get-pacts",
        "a provider's pacts by branch, latest, downloaded",
    ),
    ("create-environment", "admin only"),
    ("update-environment", "admin only; renamed, same uuid"),
    ("delete-environment", "admin only; gone from the list"),
    ("describe-environment", "by uuid"),
    ("list-environments", "every environment"),
    ("record-deployment", "the owner's; counted by can-i-deploy"),
    ("record-undeployment", "the owner's; no longer counted"),
    ("record-release", "the owner's; counted by can-i-deploy"),
    ("record-support-ended", "the owner's; no longer counted"),
    ("can-i-deploy", "yes and no, as recorded"),
    ("can-i-merge", "against the provider's main branch"),
    (
        "create-or-update-pacticipant",
        "creates, merges, the owner's only",
    ),
    ("describe-pacticipant", "the attributes set"),
    ("list-pacticipants", "every pacticipant"),
    ("delete-branch", "the owner's; its pacts no longer on it"),
    ("create-version-tag", "the owner's"),
    ("delete-version-tag", "the owner's; the version stays"),
    (
        "describe-version",
        "a version, the latest with a tag, those deployed",
    ),
    ("create-or-update-version", "a version on a branch"),
    ("generate-uuid", "a UUID"),
    ("provider-states", "the states the pacts name, by branch"),
];

/// Tested with webhooks (tests/e2e/webhooks.rs).
const WEBHOOK_COMMANDS: [&str; 4] = [
    "create-webhook",
    "create-or-update-webhook",
    "delete-webhook",
    "test-webhook",
];

/// In the CLI's list but not commands to a broker: they run a Pact Broker of their own
/// (Ruby, Docker) or print help.
const NOT_BROKER_COMMANDS: [&str; 3] = ["ruby", "docker", "help"];

/// Runs the CLI, noting each command run so the test can show it ran them all.
struct Session<'a> {
    s: &'a TestServer,
    ran: BTreeSet<String>,
}

impl Session<'_> {
    async fn run(&mut self, token: &str, args: &[&str]) -> (bool, String) {
        self.ran.insert(args[0].to_owned());
        cli(self.s, token, args).await
    }

    async fn ok(&mut self, token: &str, args: &[&str]) -> String {
        let (ok, printed) = self.run(token, args).await;
        assert!(ok, "pact-broker {args:?} failed:\n{printed}");
        printed
    }

    /// A command the broker refuses: it fails, printing why.
    async fn refused(&mut self, token: &str, args: &[&str], why: &str) -> String {
        let (ok, printed) = self.run(token, args).await;
        assert!(!ok, "pact-broker {args:?} succeeded:\n{printed}");
        assert!(printed.contains(why), "pact-broker {args:?}:\n{printed}");
        printed
    }

    async fn json(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let r = self
            .s
            .client
            .get(self.s.url(&format!("/broker{path}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

/// The word after `marker` in `printed`.
fn word_after<'a>(printed: &'a str, marker: &str) -> &'a str {
    let at = printed
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker:?} in:\n{printed}"));
    printed[at + marker.len()..]
        .split_whitespace()
        .next()
        .unwrap()
}

/// docintel (admin key) publishes the result of verifying `consumer`'s pact of `version`
/// as provider version `provider_version` on main, as pact_verifier does.
async fn verify(s: &TestServer, consumer: &str, version: &str, provider_version: &str, ok: bool) {
    let put = s
        .client
        .put(s.url(&format!(
            "/broker/pacticipants/docintel/branches/main/versions/{provider_version}"
        )))
        .bearer_auth(&s.admin_key)
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{}", put.status());
    let pact: Value = s
        .client
        .get(s.url(&format!(
            "/broker/pacts/provider/docintel/consumer/{consumer}/version/{version}"
        )))
        .bearer_auth(&s.admin_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = pact["_links"]["pb:publish-verification-results"]["href"]
        .as_str()
        .unwrap();
    let r = s
        .client
        .post(url)
        .bearer_auth(&s.admin_key)
        .json(&json!({ "success": ok, "providerApplicationVersion": provider_version }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
}

#[tokio::test]
async fn every_command_of_the_pact_broker_cli_works_against_the_embedded_broker() {
    let s = TestServer::start().await;
    let admin = s.admin_key.clone();
    let analytics = s.backend.create_key("analytics-team").await.unwrap();
    let sdk = s.backend.create_key("sdk-team").await.unwrap();
    let mut run = Session {
        s: &s,
        ran: BTreeSet::new(),
    };
    let pacts = tempfile::tempdir().unwrap();

    // generate-uuid, for the operator's scripts.
    let printed = run.ok(&analytics, &["generate-uuid"]).await;
    uuid::Uuid::parse_str(printed.trim()).unwrap_or_else(|_| panic!("not a UUID: {printed}"));

    // Environments: the operator's.
    run.refused(
        &analytics,
        &["create-environment", "--name", "staging"],
        "only an admin key may create environments",
    )
    .await;
    let printed = run
        .ok(
            &admin,
            &["create-environment", "--name", "production", "--production"],
        )
        .await;
    let production = word_after(&printed, "with UUID ").to_owned();
    let printed = run
        .ok(&admin, &["create-environment", "--name", "staging"])
        .await;
    let staging = word_after(&printed, "with UUID ").to_owned();
    let update = [
        "update-environment",
        "--uuid",
        &staging,
        "--name",
        "qa",
        "--display-name",
        "Quality Assurance",
        "--contact-name",
        "Ops",
    ];
    run.refused(
        &analytics,
        &update,
        "only an admin key may update environments",
    )
    .await;
    let printed = run.ok(&admin, &update).await;
    assert!(printed.contains("Updated qa environment"), "{printed}");
    let printed = run
        .ok(&analytics, &["describe-environment", "--uuid", &staging])
        .await;
    for shown in ["Name: qa", "Display Name: Quality Assurance", "Name: Ops"] {
        assert!(printed.contains(shown), "{shown}:\n{printed}");
    }
    let printed = run.ok(&analytics, &["list-environments"]).await;
    for shown in [production.as_str(), staging.as_str(), "qa", "production"] {
        assert!(printed.contains(shown), "{shown}:\n{printed}");
    }
    assert!(!printed.contains("staging"), "{printed}");

    // Consumer teams publish: analytics from main, the SDK from a feature branch.
    let analytics_pact = write_pact(
        pacts.path(),
        &committed_pact("analytics-team-docintel.json"),
    );
    let analytics_pact = analytics_pact.to_str().unwrap();
    let printed = run
        .ok(
            &analytics,
            &[
                "publish",
                analytics_pact,
                "--consumer-app-version",
                "1.0.0",
                "--branch",
                "main",
            ],
        )
        .await;
    assert!(
        printed.contains("Pact successfully published for analytics-team version 1.0.0"),
        "{printed}"
    );
    let sdk_pact = write_pact(pacts.path(), &committed_pact("docintel-sdk-docintel.json"));
    run.ok(
        &sdk,
        &[
            "publish",
            sdk_pact.to_str().unwrap(),
            "--consumer-app-version",
            "2.0.0",
            "--branch",
            "feat-x",
        ],
    )
    .await;
    let printed = run.ok(&sdk, &["list-latest-pact-versions"]).await;
    for shown in [
        "\"analytics-team\"",
        "\"1.0.0\"",
        "\"docintel-sdk\"",
        "\"2.0.0\"",
    ] {
        assert!(printed.contains(shown), "{shown}:\n{printed}");
    }

    // Pacticipants: a team creates and changes its own, not another team's.
    let printed = run
        .ok(
            &analytics,
            &[
                "create-or-update-pacticipant",
                "--name",
                "analytics-team",
                "--display-name",
                "Analytics",
                "--repository-url",
                "https://git.example.com/analytics",
            ],
        )
        .await;
    assert!(
        printed.contains("Pacticipant 'analytics-team' updated successfully"),
        "{printed}"
    );
    run.refused(
        &sdk,
        &[
            "create-or-update-pacticipant",
            "--name",
            "analytics-team",
            "--display-name",
            "Mine",
        ],
        "belongs to another team",
    )
    .await;
    let printed = run
        .ok(
            &analytics,
            &[
                "create-or-update-pacticipant",
                "--name",
                "analytics-batch",
                "--main-branch",
                "trunk",
            ],
        )
        .await;
    assert!(
        printed.contains("Pacticipant 'analytics-batch' created successfully"),
        "{printed}"
    );
    let printed = run
        .ok(&sdk, &["describe-pacticipant", "--name", "analytics-team"])
        .await;
    for shown in [
        "Display Name: Analytics",
        "Main Branch: main",
        "Repo URL: https://git.example.com/analytics",
    ] {
        assert!(printed.contains(shown), "{shown}:\n{printed}");
    }
    let (_, batch) = run.json(&sdk, "/pacticipants/analytics-batch").await;
    assert_eq!(batch["mainBranch"], "trunk");
    // The new one is analytics': another team may not write as it.
    run.refused(
        &sdk,
        &[
            "create-or-update-version",
            "--pacticipant",
            "analytics-batch",
            "--version",
            "1",
            "--branch",
            "trunk",
        ],
        "belongs to another team",
    )
    .await;
    let printed = run.ok(&sdk, &["list-pacticipants"]).await;
    for shown in [
        "\"analytics-team\"",
        "\"Analytics\"",
        "\"analytics-batch\"",
        "\"docintel-sdk\"",
        "\"docintel\"",
    ] {
        assert!(printed.contains(shown), "{shown}:\n{printed}");
    }

    // Versions and tags.
    let printed = run
        .ok(
            &analytics,
            &[
                "create-or-update-version",
                "--pacticipant",
                "analytics-team",
                "--version",
                "1.1.0",
                "--branch",
                "feat-y",
            ],
        )
        .await;
    assert!(printed.contains("feat-y"), "{printed}");
    let (_, v) = run
        .json(&sdk, "/pacticipants/analytics-team/versions/1.1.0")
        .await;
    assert_eq!(v["_embedded"]["branchVersions"][0]["name"], "feat-y");
    let tag = [
        "create-version-tag",
        "--pacticipant",
        "analytics-team",
        "--version",
        "1.0.0",
        "--tag",
        "prod",
    ];
    let printed = run.ok(&analytics, &tag).await;
    assert!(printed.contains("with tag 'prod' - Success"), "{printed}");
    let printed = run
        .ok(
            &sdk,
            &[
                "describe-version",
                "--pacticipant",
                "analytics-team",
                "--version",
                "1.0.0",
            ],
        )
        .await;
    assert!(
        printed.contains("1.0.0") && printed.contains("prod"),
        "{printed}"
    );
    let latest_prod = [
        "describe-version",
        "--pacticipant",
        "analytics-team",
        "--latest",
        "prod",
    ];
    let printed = run.ok(&sdk, &latest_prod).await;
    assert!(printed.contains("1.0.0"), "{printed}");
    let untag = [
        "delete-version-tag",
        "--pacticipant",
        "analytics-team",
        "--version",
        "1.0.0",
        "--tag",
        "prod",
    ];
    run.refused(&sdk, &untag, "belongs to another team").await;
    let printed = run.ok(&analytics, &untag).await;
    assert!(
        printed.contains("Successfully deleted tag 'prod' from version '1.0.0'"),
        "{printed}"
    );
    let (_, v) = run
        .json(&sdk, "/pacticipants/analytics-team/versions/1.0.0")
        .await;
    assert_eq!(v["_embedded"]["tags"], json!([]));
    run.refused(&sdk, &latest_prod, "not found").await;
    assert_eq!(v["number"], "1.0.0");

    // A provider's pacts, and the provider states they name.
    let printed = run.ok(&sdk, &["get-pacts", "--provider", "docintel"]).await;
    assert!(
        printed.contains("Pact between analytics-team (1.0.0) and docintel"),
        "{printed}"
    );
    assert!(
        !printed.contains("docintel-sdk"),
        "not on its main branch:\n{printed}"
    );
    let printed = run
        .ok(
            &sdk,
            &[
                "get-pacts",
                "--provider",
                "docintel",
                "--branch",
                "feat-x",
                "--latest",
            ],
        )
        .await;
    assert!(
        printed.contains("Pact between docintel-sdk (2.0.0) and docintel"),
        "{printed}"
    );
    assert!(!printed.contains("analytics-team"), "{printed}");
    let downloads = tempfile::tempdir().unwrap();
    run.ok(
        &sdk,
        &[
            "get-pacts",
            "--provider",
            "docintel",
            "--consumer",
            "analytics-team",
            "--branch",
            "main",
            "--download",
            "--download-dir",
            downloads.path().to_str().unwrap(),
        ],
    )
    .await;
    let downloaded: Value = serde_json::from_slice(
        &std::fs::read(downloads.path().join("analytics-team-docintel-1.0.0.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        downloaded["interactions"],
        committed_pact("analytics-team-docintel.json")["interactions"]
    );
    let printed = run
        .ok(&sdk, &["provider-states", "list", "--provider", "docintel"])
        .await;
    assert!(
        printed.contains("a processed invoice document exists with id"),
        "{printed}"
    );
    assert!(printed.contains("analytics-team"), "{printed}");
    assert!(
        !printed.contains("an expired key"),
        "the SDK's pact is not on main:\n{printed}"
    );
    let printed = run
        .ok(
            &sdk,
            &[
                "provider-states",
                "list",
                "--provider",
                "docintel",
                "--branch",
                "feat-x",
                "--json",
            ],
        )
        .await;
    let json_start = printed.find('{').unwrap();
    let states: Value = serde_json::from_str(&printed[json_start..]).unwrap();
    assert!(
        states["providerStates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|st| {
                st["name"] == "an expired key" && st["consumers"] == json!(["docintel-sdk"])
            }),
        "{states}"
    );

    // A branch comes off its versions at its owner's word; they and their pacts stay.
    let delete_branch = [
        "delete-branch",
        "--pacticipant",
        "docintel-sdk",
        "--branch",
        "feat-x",
    ];
    run.refused(&analytics, &delete_branch, "belongs to another team")
        .await;
    let printed = run.ok(&sdk, &delete_branch).await;
    assert!(
        printed.contains("Successfully deleted branch 'feat-x' of pacticipant 'docintel-sdk'"),
        "{printed}"
    );
    let printed = run
        .ok(
            &sdk,
            &["get-pacts", "--provider", "docintel", "--branch", "feat-x"],
        )
        .await;
    assert!(!printed.contains("docintel-sdk"), "{printed}");
    let (status, _) = run
        .json(
            &sdk,
            "/pacts/provider/docintel/consumer/docintel-sdk/version/2.0.0",
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // docintel p1 verifies analytics 1.0.0 and is deployed: analytics may deploy and merge.
    verify(&s, "analytics-team", "1.0.0", "p1", true).await;
    let (status, _) = s
        .client
        .post(s.url(&format!(
            "/broker/pacticipants/docintel/versions/p1/deployed-versions/environment/{production}"
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(status, StatusCode::CREATED);
    let can_i_deploy = |pacticipant: &'static str, version: &'static str| {
        [
            "can-i-deploy",
            "--pacticipant",
            pacticipant,
            "--version",
            version,
            "--to-environment",
            "production",
        ]
    };
    let printed = run
        .ok(&analytics, &can_i_deploy("analytics-team", "1.0.0"))
        .await;
    assert!(printed.contains("Computer says yes"), "{printed}");
    let printed = run
        .ok(
            &analytics,
            &[
                "can-i-merge",
                "--pacticipant",
                "analytics-team",
                "--version",
                "1.0.0",
            ],
        )
        .await;
    assert!(printed.contains("Computer says yes"), "{printed}");

    // analytics 1.2.0 asks for what docintel p1 fails: can-i-merge and can-i-deploy say no.
    let mut changed = committed_pact("analytics-team-docintel.json");
    changed["interactions"][0]["description"] = json!("a request docintel p1 fails");
    let changed = write_pact(pacts.path(), &changed);
    run.ok(
        &analytics,
        &[
            "publish",
            changed.to_str().unwrap(),
            "--consumer-app-version",
            "1.2.0",
            "--branch",
            "main",
        ],
    )
    .await;
    verify(&s, "analytics-team", "1.2.0", "p1", false).await;
    run.refused(
        &analytics,
        &[
            "can-i-merge",
            "--pacticipant",
            "analytics-team",
            "--version",
            "1.2.0",
        ],
        "Computer says no",
    )
    .await;
    run.refused(
        &analytics,
        &can_i_deploy("analytics-team", "1.2.0"),
        "Computer says no",
    )
    .await;

    // Deployed anyway, 1.2.0 stops docintel p1; undeployed, it no longer does.
    let deploy = [
        "record-deployment",
        "--pacticipant",
        "analytics-team",
        "--version",
        "1.2.0",
        "--environment",
        "production",
    ];
    run.refused(&sdk, &deploy, "belongs to another team").await;
    let printed = run.ok(&analytics, &deploy).await;
    assert!(
        printed.contains(
            "Recorded deployment of analytics-team version 1.2.0 to production environment"
        ),
        "{printed}"
    );
    run.refused(&admin, &can_i_deploy("docintel", "p1"), "Computer says no")
        .await;
    let printed = run
        .ok(
            &sdk,
            &[
                "describe-version",
                "--pacticipant",
                "analytics-team",
                "--environment",
                "production",
            ],
        )
        .await;
    assert!(
        printed.contains("1.2.0") && printed.contains("Deployed"),
        "{printed}"
    );
    let undeploy = [
        "record-undeployment",
        "--pacticipant",
        "analytics-team",
        "--environment",
        "production",
    ];
    run.refused(&sdk, &undeploy, "belongs to another team")
        .await;
    let printed = run.ok(&analytics, &undeploy).await;
    assert!(
        printed.contains("Undeployed analytics-team from production environment"),
        "{printed}"
    );
    let printed = run.ok(&admin, &can_i_deploy("docintel", "p1")).await;
    assert!(printed.contains("Computer says yes"), "{printed}");
    let (_, listed) = run
        .json(&sdk, &format!("/environments/{production}/deployed-versions/currently-deployed?pacticipant=analytics-team"))
        .await;
    assert_eq!(listed["_embedded"]["deployedVersions"], json!([]));
    run.refused(&analytics, &undeploy, "not currently deployed")
        .await;

    // Released, the same; its end of support, the same.
    let release = [
        "record-release",
        "--pacticipant",
        "analytics-team",
        "--version",
        "1.2.0",
        "--environment",
        "production",
    ];
    let printed = run.ok(&analytics, &release).await;
    assert!(
        printed
            .contains("Recorded release of analytics-team version 1.2.0 to production environment"),
        "{printed}"
    );
    run.refused(&admin, &can_i_deploy("docintel", "p1"), "Computer says no")
        .await;
    let ended = [
        "record-support-ended",
        "--pacticipant",
        "analytics-team",
        "--version",
        "1.2.0",
        "--environment",
        "production",
    ];
    let printed = run.ok(&analytics, &ended).await;
    assert!(
        printed.contains("Recorded support ended for application analytics-team, version 1.2.0 from production environment"),
        "{printed}"
    );
    let printed = run.ok(&admin, &can_i_deploy("docintel", "p1")).await;
    assert!(printed.contains("Computer says yes"), "{printed}");
    run.refused(&analytics, &ended, "No currently released versions found")
        .await;

    // An environment is deleted by the operator only.
    let delete = ["delete-environment", "--uuid", &staging];
    let (ok, _) = run.run(&analytics, &delete).await;
    assert!(!ok);
    let printed = run.ok(&admin, &delete).await;
    assert!(printed.contains("deleted successfully"), "{printed}");
    let printed = run.ok(&analytics, &["list-environments"]).await;
    assert!(
        !printed.contains(&staging) && printed.contains(&production),
        "{printed}"
    );

    let table: BTreeSet<String> = COMMANDS.iter().map(|(c, _)| c.to_string()).collect();
    assert_eq!(run.ran, table, "the commands run are the table's");
}

#[tokio::test]
async fn the_cli_has_no_broker_command_this_test_does_not_know() {
    let s = TestServer::start().await;
    let (ok, help) = cli(&s, &s.key, &["--help"]).await;
    assert!(ok, "{help}");
    let listed: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(listed.contains(&"publish"), "{help}");
    let known: Vec<&str> = COMMANDS
        .iter()
        .map(|(c, _)| *c)
        .chain(WEBHOOK_COMMANDS)
        .chain(NOT_BROKER_COMMANDS)
        .collect();
    let unknown: Vec<&&str> = listed.iter().filter(|c| !known.contains(c)).collect();
    assert!(
        unknown.is_empty(),
        "pact-broker has commands tests/e2e/broker_cli.rs does not run: {unknown:?}"
    );
    let gone: Vec<&&str> = known.iter().filter(|c| !listed.contains(c)).collect();
    assert!(gone.is_empty(), "no longer in the CLI: {gone:?}");
}

/// Sends `body` (JSON) with `method` to the broker's `path`; status and JSON answer.
async fn send(
    s: &TestServer,
    token: Option<&str>,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = s.client.request(method, s.url(path));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    if let Some(b) = body {
        request = request.json(&b);
    }
    let r = request.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_resources_the_cli_uses_refuse_bad_input_in_the_brokers_dialect() {
    use reqwest::Method;
    let s = TestServer::start().await;
    let admin = s.admin_key.clone();
    let team = s.backend.create_key("analytics-team").await.unwrap();
    let other = s.backend.create_key("sdk-team").await.unwrap();
    let pacts = tempfile::tempdir().unwrap();
    let pact = write_pact(
        pacts.path(),
        &committed_pact("analytics-team-docintel.json"),
    );
    let publish = [
        "publish",
        pact.to_str().unwrap(),
        "--consumer-app-version",
        "1.0.0",
        "--branch",
        "main",
    ];
    assert!(cli(&s, &team, &publish).await.0);
    let (status, env) = send(
        &s,
        Some(&admin),
        Method::POST,
        "/broker/environments",
        Some(json!({ "name": "production", "production": true })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let env = env["uuid"].as_str().unwrap().to_owned();
    let (status, deployed) = send(
        &s,
        Some(&team),
        Method::POST,
        &format!(
            "/broker/pacticipants/analytics-team/versions/1.0.0/deployed-versions/environment/{env}"
        ),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let uuid = deployed["uuid"].as_str().unwrap().to_owned();
    let deployment = format!("/broker/deployed-versions/{uuid}");

    // Undeploying: only `false` ends it; no other team's key; no unknown or wrong uuid.
    for (body, status, field) in [
        (
            json!({ "currentlyDeployed": true }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "currentlyDeployed",
        ),
        (
            json!({ "currentlyDeployed": "no" }),
            StatusCode::BAD_REQUEST,
            "currentlyDeployed",
        ),
        (json!([false]), StatusCode::BAD_REQUEST, "body"),
    ] {
        let (got, answer) = send(
            &s,
            Some(&team),
            Method::PATCH,
            &deployment,
            Some(body.clone()),
        )
        .await;
        assert_eq!(got, status, "{body}: {answer}");
        assert!(answer["errors"][field].is_array(), "{body}: {answer}");
    }
    let (status, answer) = send(
        &s,
        Some(&other),
        Method::PATCH,
        &deployment,
        Some(json!({ "currentlyDeployed": false })),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    for path in [
        "/broker/deployed-versions/00000000-0000-0000-0000-000000000000".to_owned(),
        "/broker/deployed-versions/..%2f..%2fversions".to_owned(),
        format!("/broker/released-versions/{uuid}"),
    ] {
        let (status, answer) = send(
            &s,
            Some(&team),
            Method::PATCH,
            &path,
            Some(json!({ "currentlySupported": false })),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {answer}");
        assert!(answer["error"].is_string(), "{answer}");
    }
    let (_, still) = send(&s, Some(&other), Method::GET, &deployment, None).await;
    assert_eq!(still["currentlyDeployed"], true, "{still}");
    let r = s
        .client
        .patch(s.url(&deployment))
        .bearer_auth(&team)
        .body("currentlyDeployed=false")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Environments: the operator's; names as when created; contacts bounded.
    let environment = format!("/broker/environments/{env}");
    let body = json!({ "name": "prod", "production": true });
    let (status, _) = send(&s, Some(&team), Method::PUT, &environment, Some(body)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    send(
        &s,
        Some(&admin),
        Method::POST,
        "/broker/environments",
        Some(json!({ "name": "test", "production": false })),
    )
    .await;
    let huge = json!([{ "name": "x".repeat(20_000) }]);
    for (body, field) in [
        (json!({ "name": "test", "production": true }), "name"),
        (json!({ "name": "prod uction", "production": true }), "name"),
        (json!({ "name": "prod" }), "production"),
        (
            json!({ "name": "prod", "production": true, "contacts": huge }),
            "contacts",
        ),
        (
            json!({ "name": "prod", "production": true, "contacts": "ops" }),
            "contacts",
        ),
        (
            json!({ "name": "prod", "production": true, "displayName": "a\u{202e}b" }),
            "displayName",
        ),
    ] {
        let (status, answer) = send(
            &s,
            Some(&admin),
            Method::PUT,
            &environment,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(answer["errors"][field].is_array(), "{body}: {answer}");
    }
    let (_, unchanged) = send(&s, Some(&team), Method::GET, &environment, None).await;
    assert_eq!(unchanged["name"], "production", "{unchanged}");

    // Pacticipants: a JSON object with a valid name, strings for its attributes.
    for (body, field) in [
        (json!(["analytics-batch"]), "body"),
        (json!({ "displayName": "No name" }), "name"),
        (json!({ "name": 7 }), "name"),
        (json!({ "name": "bad\u{200b}name" }), "pacticipantName"),
        (
            json!({ "name": "analytics-batch", "mainBranch": ["main"] }),
            "mainBranch",
        ),
        (
            json!({ "name": "analytics-batch", "repositoryUrl": "u".repeat(300) }),
            "repositoryUrl",
        ),
    ] {
        let (status, answer) = send(
            &s,
            Some(&team),
            Method::POST,
            "/broker/pacticipants",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(answer["errors"][field].is_array(), "{body}: {answer}");
    }
    let (status, _) = send(
        &s,
        Some(&team),
        Method::GET,
        "/broker/pacticipants/analytics-batch",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was created");
    let (status, answer) = send(
        &s,
        Some(&other),
        Method::POST,
        "/broker/pacticipants",
        Some(json!({ "name": "analytics-team", "displayName": "Mine" })),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");

    // What is not there is a 404 in the broker's words, at the root too.
    for path in [
        "/broker/pacticipants/analytics-team/versions/1.0.0/tags/nope",
        "/broker/pacticipants/analytics-team/branches/nope",
        "/broker/pacts/provider/nope/branch",
        "/pacts/provider/nope/branch/latest",
        "/pacts/provider/docintel/provider-states/environment/nope",
    ] {
        let (status, answer) = send(&s, Some(&team), Method::GET, path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {answer}");
        assert!(answer["error"].is_string(), "{path}: {answer}");
    }
    for path in [
        "/broker/pacticipants/analytics-team/versions/1.0.0/tags/nope",
        "/broker/pacticipants/analytics-team/branches/nope",
    ] {
        let (status, _) = send(&s, Some(&team), Method::DELETE, path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    // The root's resources need a key like the rest.
    let (status, _) = send(
        &s,
        None,
        Method::GET,
        "/pacts/provider/docintel/provider-states",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
