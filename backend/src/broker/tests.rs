//! The broker's rules on a real (SQLite) store: which pacts each selector picks, when a
//! pact is pending or work in progress, and what can-i-deploy answers.

use std::sync::Arc;

use base64::Engine;
use serde_json::{Value, json};

use super::*;
use crate::store::{SqliteStore, Store};

struct Fixture {
    broker: Broker,
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

fn team(n: u128) -> Caller {
    Caller {
        tenant: TenantId(uuid::Uuid::from_u128(n)),
        admin: false,
    }
}

const ADMIN: Caller = Caller {
    tenant: TenantId(uuid::Uuid::from_u128(99)),
    admin: true,
};
/// docintel's CI: docintel is the platform's pacticipant, an admin key's.
const PROVIDER: Caller = Caller {
    tenant: TenantId(uuid::Uuid::from_u128(7)),
    admin: true,
};

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("db.sqlite"))
        .await
        .unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    Fixture {
        broker: Broker::new(store.clone(), false),
        store,
        _dir: dir,
    }
}

fn pact(consumer: &str, description: &str) -> Value {
    json!({
        "consumer": { "name": consumer },
        "provider": { "name": "docintel" },
        "interactions": [{ "description": description }],
        "metadata": { "pactSpecification": { "version": "3.0.0" } }
    })
}

fn request(consumer: &str, version: &str, branch: Option<&str>, content: &Value) -> PublishRequest {
    serde_json::from_value(json!({
        "pacticipantName": consumer,
        "pacticipantVersionNumber": version,
        "branch": branch,
        "contracts": [{
            "consumerName": consumer,
            "providerName": "docintel",
            "specification": "pact",
            "contentType": "application/json",
            "content": base64::engine::general_purpose::STANDARD.encode(content.to_string()),
        }]
    }))
    .unwrap()
}

impl Fixture {
    /// Publishes `consumer`'s pact (with one interaction named `description`); its sha.
    async fn publish(
        &self,
        who: Caller,
        consumer: &str,
        version: &str,
        branch: &str,
        description: &str,
    ) -> String {
        let published = self
            .broker
            .publish(
                who,
                request(
                    consumer,
                    version,
                    Some(branch),
                    &pact(consumer, description),
                ),
            )
            .await
            .unwrap();
        published.pacts[0].sha.clone()
    }

    /// docintel `version` (on `branch`) verifies the pact with `sha`.
    async fn verify(&self, consumer: &str, sha: &str, version: &str, branch: &str, success: bool) {
        self.broker
            .add_branch(PROVIDER, "docintel", branch, version)
            .await
            .unwrap();
        let request: VerificationRequest = serde_json::from_value(json!({
            "success": success,
            "providerApplicationVersion": version,
        }))
        .unwrap();
        self.broker
            .publish_verification(PROVIDER, consumer, "docintel", sha, request)
            .await
            .unwrap();
    }

    async fn select(&self, request: Value) -> Vec<VerifiablePact> {
        let request: ForVerification = serde_json::from_value(request).unwrap();
        self.broker
            .pacts_for_verification("docintel", &request)
            .await
            .unwrap()
    }

    async fn production(&self) -> String {
        let request: EnvironmentRequest =
            serde_json::from_value(json!({ "name": "production", "production": true })).unwrap();
        self.broker
            .create_environment(ADMIN, request)
            .await
            .unwrap()
            .uuid
    }

    async fn can_i_deploy(&self, pacticipant: &str, version: &str) -> Matrix {
        self.broker
            .matrix(&MatrixQuery {
                selectors: vec![MatrixSelector {
                    pacticipant: pacticipant.to_owned(),
                    version: Some(version.to_owned()),
                    ..MatrixSelector::default()
                }],
                environment: Some("production".to_owned()),
                ..MatrixQuery::default()
            })
            .await
            .unwrap()
    }
}

/// (consumer, the versions) of each selected pact, sorted.
fn picked(pacts: &[VerifiablePact]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<_> = pacts
        .iter()
        .map(|p| (p.consumer.clone(), p.consumer_versions.clone()))
        .collect();
    out.sort();
    out
}

fn of(consumer: &str, versions: &[&str]) -> (String, Vec<String>) {
    (
        consumer.to_owned(),
        versions.iter().map(|v| v.to_string()).collect(),
    )
}

#[tokio::test]
async fn each_selector_picks_the_pacts_the_pact_broker_would() {
    let f = fixture().await;
    let (web, mobile) = (team(1), team(2));
    f.publish(web, "web", "1.0.0", "main", "a").await;
    f.publish(web, "web", "1.1.0", "main", "b").await;
    f.publish(web, "web", "2.0.0-feat", "feat", "c").await;
    f.publish(mobile, "mobile", "3.0.0", "main", "d").await;
    // The same content again: one pact to verify, for two consumer versions.
    f.publish(mobile, "mobile", "3.0.1", "main", "d").await;
    f.broker
        .add_branch(PROVIDER, "docintel", "main", "p1")
        .await
        .unwrap();

    let main = f
        .select(json!({ "consumerVersionSelectors": [{ "mainBranch": true }] }))
        .await;
    assert_eq!(
        picked(&main),
        [of("mobile", &["3.0.1"]), of("web", &["1.1.0"])]
    );

    let feat = f
        .select(json!({ "consumerVersionSelectors": [{ "branch": "feat" }] }))
        .await;
    assert_eq!(picked(&feat), [of("web", &["2.0.0-feat"])]);
    let matching = f
        .select(json!({
            "providerVersionBranch": "feat",
            "consumerVersionSelectors": [{ "matchingBranch": true }]
        }))
        .await;
    assert_eq!(picked(&matching), [of("web", &["2.0.0-feat"])]);
    let fallback = f
        .select(
            json!({ "consumerVersionSelectors": [{ "branch": "nope", "fallbackBranch": "main" }] }),
        )
        .await;
    assert_eq!(
        picked(&fallback),
        [of("mobile", &["3.0.1"]), of("web", &["1.1.0"])]
    );
    // No selectors: the latest pact of each consumer.
    let latest = f.select(json!({})).await;
    assert_eq!(
        picked(&latest),
        [of("mobile", &["3.0.1"]), of("web", &["2.0.0-feat"])]
    );
    let only_mobile = f
        .select(
            json!({ "consumerVersionSelectors": [{ "mainBranch": true, "consumer": "mobile" }] }),
        )
        .await;
    assert_eq!(picked(&only_mobile), [of("mobile", &["3.0.1"])]);

    // Deployed versions, merged with the main branch where the content is the same.
    let env = f.production().await;
    f.broker
        .record(web, "web", "1.0.0", &env, None, false)
        .await
        .unwrap();
    f.broker
        .record(mobile, "mobile", "3.0.0", &env, None, false)
        .await
        .unwrap();
    let deployed = f
        .select(json!({ "consumerVersionSelectors": [{ "mainBranch": true }, { "deployedOrReleased": true }] }))
        .await;
    assert_eq!(
        picked(&deployed),
        [
            of("mobile", &["3.0.1", "3.0.0"]),
            of("web", &["1.0.0"]),
            of("web", &["1.1.0"])
        ]
    );
    let mobile_pact = deployed.iter().find(|p| p.consumer == "mobile").unwrap();
    assert_eq!(mobile_pact.reasons.len(), 2, "{mobile_pact:?}");
    // Deployed is not released; a release of web 1.1.0 is picked only by `released`.
    f.broker
        .record(web, "web", "1.1.0", &env, None, true)
        .await
        .unwrap();
    let released = f
        .select(json!({ "consumerVersionSelectors": [{ "released": true }] }))
        .await;
    assert_eq!(picked(&released), [of("web", &["1.1.0"])]);
    let in_production = f
        .select(json!({ "consumerVersionSelectors": [{ "deployed": true, "environment": "production" }] }))
        .await;
    assert_eq!(
        picked(&in_production),
        [of("mobile", &["3.0.0"]), of("web", &["1.0.0"])]
    );
    let nowhere: ForVerification = serde_json::from_value(
        json!({ "consumerVersionSelectors": [{ "environment": "nowhere" }] }),
    )
    .unwrap();
    let Err(BrokerError::Invalid(errors)) =
        f.broker.pacts_for_verification("docintel", &nowhere).await
    else {
        panic!("an unknown environment accepted");
    };
    assert_eq!(
        errors["consumerVersionSelectors"],
        ["environment with name 'nowhere' does not exist"]
    );

    // Selectors the Pact Broker refuses are refused, with its reasons.
    let bad: ForVerification = serde_json::from_value(json!({ "consumerVersionSelectors": [
        { "mainBranch": true },
        { "branch": "main", "latest": false },
        { "matchingBranch": true },
        { "tag": "prod", "deployed": true },
        { "consumer": "web" },
    ] }))
    .unwrap();
    let Err(BrokerError::Invalid(errors)) = f.broker.pacts_for_verification("docintel", &bad).await
    else {
        panic!("invalid selectors accepted");
    };
    assert_eq!(
        errors["consumerVersionSelectors"],
        [
            "cannot specify a branch with latest=false (at index 1)",
            "the providerVersionBranch must be specified when the selector matchingBranch=true is used (at index 2)",
            "cannot specify the field tag with the field deployed (at index 3)",
            "must specify a value for environment or tag or branch, or specify mainBranch=true, matchingBranch=true, latest=true, deployed=true, released=true or deployedOrReleased=true (at index 4)",
        ]
    );
}

#[tokio::test]
async fn a_pact_is_pending_until_the_provider_branch_verifies_it_and_wip_until_then() {
    let f = fixture().await;
    let web = team(1);
    let a = f.publish(web, "web", "1.0.0", "main", "a").await;
    let c = f.publish(web, "web", "2.0.0-feat", "feat", "c").await;
    f.broker
        .add_branch(PROVIDER, "docintel", "main", "p0")
        .await
        .unwrap();
    let ask = json!({
        "providerVersionBranch": "main",
        "includePendingStatus": true,
        "includeWipPactsSince": "2020-01-01",
        "consumerVersionSelectors": [{ "mainBranch": true }]
    });

    let before = f.select(ask.clone()).await;
    let pact_a = before.iter().find(|p| p.sha == a).unwrap();
    assert!(pact_a.pending && !pact_a.wip);
    let pact_c = before
        .iter()
        .find(|p| p.sha == c)
        .expect("feat's pact is WIP");
    assert!(pact_c.pending && pact_c.wip);

    // A failed verification changes nothing; a successful one from main ends pending
    // on main only.
    f.verify("web", &a, "p1", "main", false).await;
    assert!(
        f.select(ask.clone())
            .await
            .iter()
            .find(|p| p.sha == a)
            .unwrap()
            .pending
    );
    f.verify("web", &a, "p2", "main", true).await;
    assert!(
        !f.select(ask.clone())
            .await
            .iter()
            .find(|p| p.sha == a)
            .unwrap()
            .pending
    );
    let mut on_other = ask.clone();
    on_other["providerVersionBranch"] = json!("other");
    assert!(
        f.select(on_other)
            .await
            .iter()
            .find(|p| p.sha == a)
            .unwrap()
            .pending
    );

    // Once main has verified the WIP pact, it is no longer work in progress.
    f.verify("web", &c, "p2", "main", true).await;
    assert!(f.select(ask.clone()).await.iter().all(|p| p.sha != c));
    // WIP pacts are only those published since the date asked for.
    let d = f.publish(web, "web", "2.1.0-feat", "feat", "d").await;
    let mut later = ask.clone();
    later["includeWipPactsSince"] = json!("2999-01-01");
    assert!(f.select(later).await.iter().all(|p| p.sha != d));
    assert!(f.select(ask).await.iter().any(|p| p.sha == d && p.wip));
}

#[tokio::test]
async fn can_i_deploy_says_yes_only_with_a_successful_verification_in_the_environment() {
    let f = fixture().await;
    let web = team(1);
    let env = f.production().await;
    let good = f.publish(web, "web", "1.0.0", "main", "good").await;
    let bad = f.publish(web, "web", "1.1.0", "main", "bad").await;
    f.publish(web, "web", "1.2.0", "main", "unverified").await;

    // Nothing of docintel in production yet: no.
    let m = f.can_i_deploy("web", "1.0.0").await;
    assert!(!m.deployable);
    assert!(
        m.reasons
            .iter()
            .any(|(k, t)| *k == "error" && t.contains("no version is currently recorded")),
        "{:?}",
        m.reasons
    );

    f.verify("web", &good, "p1", "main", true).await;
    f.verify("web", &bad, "p1", "main", false).await;
    f.broker
        .record(PROVIDER, "docintel", "p1", &env, None, false)
        .await
        .unwrap();
    let m = f.can_i_deploy("web", "1.0.0").await;
    assert!(m.deployable, "{:?}", m.reasons);
    assert_eq!((m.success, m.failed, m.unknown), (1, 0, 0));
    let m = f.can_i_deploy("web", "1.1.0").await;
    assert!(!m.deployable);
    assert!(
        m.reasons.iter().any(|(_, t)| t.contains("failed")),
        "{:?}",
        m.reasons
    );
    let m = f.can_i_deploy("web", "1.2.0").await;
    assert!(!m.deployable);
    assert_eq!(m.unknown, 1, "{:?}", m.reasons);

    // docintel itself: the consumers production runs must have verified pacts with it.
    f.broker
        .record(web, "web", "1.1.0", &env, None, false)
        .await
        .unwrap();
    assert!(!f.can_i_deploy("docintel", "p1").await.deployable);
    f.broker
        .record(web, "web", "1.0.0", &env, None, false)
        .await
        .unwrap();
    assert!(
        f.can_i_deploy("docintel", "p1").await.deployable,
        "the 1.1.0 deployment was replaced"
    );
}

#[tokio::test]
async fn publications_are_owned_checked_and_idempotent() {
    let f = fixture().await;
    let (web, other) = (team(1), team(2));
    let sha = f.publish(web, "web", "1.0.0", "main", "a").await;
    // The same pact with its keys in another order is the same content.
    let reordered: Value = serde_json::from_str(
        r#"{"metadata":{"pactSpecification":{"version":"3.0.0"}},"interactions":[{"description":"a"}],"provider":{"name":"docintel"},"consumer":{"name":"web"}}"#,
    )
    .unwrap();
    let again = f
        .broker
        .publish(web, request("web", "1.0.0", Some("main"), &reordered))
        .await
        .unwrap();
    assert_eq!(again.pacts[0].sha, sha);
    // Other content for the same version: a conflict, and the stored pact is kept.
    assert!(matches!(
        f.broker
            .publish(web, request("web", "1.0.0", None, &pact("web", "changed")))
            .await,
        Err(BrokerError::Conflict(_))
    ));
    assert_eq!(
        f.broker.pact("web", "docintel", "1.0.0").await.unwrap().sha,
        sha
    );
    // Another team may not publish as web, nor record its deployments; an admin may.
    assert!(matches!(
        f.broker
            .publish(other, request("web", "2.0.0", None, &pact("web", "x")))
            .await,
        Err(BrokerError::Forbidden(_))
    ));
    assert!(
        f.broker.version("web", "2.0.0").await.is_err(),
        "nothing stored"
    );
    let env = f.production().await;
    assert!(matches!(
        f.broker
            .record(other, "web", "1.0.0", &env, None, false)
            .await,
        Err(BrokerError::Forbidden(_))
    ));
    f.broker
        .record(ADMIN, "web", "1.0.0", &env, None, false)
        .await
        .unwrap();
    // docintel is the platform's: no tenant can claim it first or speak for it.
    let (stored, _) = f
        .broker
        .put_pact(web, "web", "docintel", "1.0.0", pact("web", "a"))
        .await
        .unwrap();
    let verdict = |success: bool| -> VerificationRequest {
        serde_json::from_value(json!({ "success": success, "providerApplicationVersion": "evil" }))
            .unwrap()
    };
    assert!(matches!(
        f.broker
            .publish_verification(web, "web", "docintel", &stored.sha, verdict(true))
            .await,
        Err(BrokerError::Forbidden(_))
    ));
    assert!(
        f.broker
            .verifications("web", "docintel")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        f.broker.add_branch(web, "docintel", "main", "evil").await,
        Err(BrokerError::Forbidden(_))
    ));
    f.broker
        .publish_verification(PROVIDER, "web", "docintel", &stored.sha, verdict(true))
        .await
        .unwrap();
    // Environments are the admin's.
    let staging: EnvironmentRequest = serde_json::from_value(json!({ "name": "staging" })).unwrap();
    assert!(matches!(
        f.broker.create_environment(web, staging).await,
        Err(BrokerError::Forbidden(_))
    ));
    // A consumer name that does not match the content, or a control character: 400.
    for bad in [
        request("web", "3.0.0", None, &pact("mobile", "a")),
        request("we\nb", "3.0.0", None, &pact("we\nb", "a")),
    ] {
        assert!(matches!(
            f.broker.publish(web, bad).await,
            Err(BrokerError::Invalid(_))
        ));
    }
}

#[tokio::test]
async fn the_operator_may_limit_the_broker_to_some_tenants() {
    let f = fixture().await;
    assert!(f.broker.admits("anyone", false), "open by default");
    let limited = f.broker.clone().with_tenants(Some(vec!["sdk-team".into()]));
    assert!(limited.admits("sdk-team", false));
    assert!(!limited.admits("customer", false));
    assert!(limited.admits("customer", true), "admin keys always");
}

#[tokio::test]
async fn only_admins_delete_and_a_delete_takes_what_belongs_to_it() {
    let f = fixture().await;
    let (web, app) = (team(1), team(2));
    let env = f.production().await;
    let web_sha = f.publish(web, "web", "1.0.0", "main", "a").await;
    f.publish(web, "web", "1.1.0", "main", "b").await;
    let app_sha = f.publish(app, "app", "2.0.0", "main", "c").await;
    f.verify("web", &web_sha, "p1", "main", true).await;
    f.verify("app", &app_sha, "p1", "main", true).await;
    f.verify("app", &app_sha, "p2", "main", true).await;
    f.broker
        .record(web, "web", "1.0.0", &env, None, false)
        .await
        .unwrap();

    // A team may not delete, not even its own.
    for denied in [
        f.broker.delete_pacticipant(web, "web").await,
        f.broker.delete_version(web, "web", "1.0.0").await,
        f.broker.delete_pact(web, "web", "docintel", "1.0.0").await,
    ] {
        assert!(
            matches!(denied, Err(BrokerError::Forbidden(_))),
            "{denied:?}"
        );
    }
    assert!(matches!(
        f.broker.delete_pacticipant(ADMIN, "nobody").await,
        Err(BrokerError::NotFound(_))
    ));

    // One pact: the version stays, the other version's pact too.
    f.broker
        .delete_pact(ADMIN, "web", "docintel", "1.1.0")
        .await
        .unwrap();
    assert!(f.broker.pact("web", "docintel", "1.1.0").await.is_err());
    assert!(f.broker.version("web", "1.1.0").await.is_ok());
    assert!(f.broker.pact("web", "docintel", "1.0.0").await.is_ok());

    // A provider version: its results go, the other version's stay.
    f.broker
        .delete_version(ADMIN, "docintel", "p2")
        .await
        .unwrap();
    assert!(f.broker.version("docintel", "p2").await.is_err());
    let left = f.broker.verifications("app", "docintel").await.unwrap();
    let versions: Vec<_> = left.iter().map(|v| v.provider_version.as_str()).collect();
    assert_eq!(versions, ["p1"]);

    // A pacticipant: its versions, pacts and deployments go; another consumer's stay.
    f.broker.delete_pacticipant(ADMIN, "web").await.unwrap();
    assert!(f.broker.pacticipant("web").await.is_err());
    assert!(f.broker.versions("web").await.unwrap().is_empty());
    assert!(f.broker.pact("web", "docintel", "1.0.0").await.is_err());
    assert!(f.broker.pact("app", "docintel", "2.0.0").await.is_ok());
    let selected = f.select(json!({})).await;
    assert_eq!(picked(&selected), [of("app", &["2.0.0"])]);
    // The name is free again: a new team may claim it.
    f.publish(app, "web", "9.0.0", "main", "d").await;
}

/// A pact of `consumer` with `provider`, as `publish` takes it.
fn contract(consumer: &str, provider: &str, version: &str) -> PublishRequest {
    let content = json!({
        "consumer": { "name": consumer },
        "provider": { "name": provider },
        "interactions": [{ "description": format!("{consumer} asks {provider}") }],
        "metadata": { "pactSpecification": { "version": "3.0.0" } }
    });
    serde_json::from_value(json!({
        "pacticipantName": consumer,
        "pacticipantVersionNumber": version,
        "contracts": [{
            "consumerName": consumer,
            "providerName": provider,
            "specification": "pact",
            "contentType": "application/json",
            "content": base64::engine::general_purpose::STANDARD.encode(content.to_string()),
        }]
    }))
    .unwrap()
}

fn verdict(version: &str, test_results: Value) -> VerificationRequest {
    serde_json::from_value(json!({
        "success": true,
        "providerApplicationVersion": version,
        "testResults": test_results,
    }))
    .unwrap()
}

fn forbidden<T: std::fmt::Debug>(what: &str, r: Result<T>) {
    assert!(matches!(r, Err(BrokerError::Forbidden(_))), "{what}: {r:?}");
}

#[tokio::test]
async fn a_provider_named_in_another_teams_pact_is_nobodys_until_an_operator_grants_it() {
    let f = fixture().await;
    let (web, intruder, payments_team) = (team(1), team(2), team(3));
    let published = f
        .broker
        .publish(web, contract("web", "payments", "1.0.0"))
        .await
        .unwrap();
    let sha = published.pacts[0].sha.clone();
    assert_eq!(f.broker.pacticipant("payments").await.unwrap().owner, None);

    // Every way of writing as payments is closed to tenants, the naming team included.
    for who in [intruder, web] {
        forbidden(
            "verify",
            f.broker
                .publish_verification(who, "web", "payments", &sha, verdict("1", Value::Null))
                .await,
        );
        forbidden(
            "branch",
            f.broker.add_branch(who, "payments", "main", "1").await,
        );
        forbidden("tag", f.broker.add_tag(who, "payments", "1", "prod").await);
        forbidden(
            "main branch",
            f.broker
                .set_main_branch(who, "payments", Some("main".into()))
                .await,
        );
        forbidden(
            "publish as it",
            f.broker
                .publish(who, contract("payments", "ledger", "1"))
                .await,
        );
        forbidden(
            "put a pact as it",
            f.broker
                .put_pact(
                    who,
                    "payments",
                    "ledger",
                    "1",
                    json!({
                        "consumer": { "name": "payments" },
                        "provider": { "name": "ledger" },
                        "interactions": [],
                        "metadata": { "pactSpecification": { "version": "3.0.0" } }
                    }),
                )
                .await,
        );
        forbidden("grant", f.broker.grant(who, "payments", who.tenant).await);
    }
    assert!(
        f.broker
            .verifications("web", "payments")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(f.broker.versions("payments").await.unwrap().is_empty());
    assert_eq!(f.broker.pacticipant("payments").await.unwrap().owner, None);

    // The operator grants it; its team verifies, others still may not.
    f.broker
        .grant(ADMIN, "payments", payments_team.tenant)
        .await
        .unwrap();
    f.broker
        .publish_verification(
            payments_team,
            "web",
            "payments",
            &sha,
            verdict("1", Value::Null),
        )
        .await
        .unwrap();
    forbidden(
        "verify after the grant",
        f.broker
            .publish_verification(intruder, "web", "payments", &sha, verdict("2", Value::Null))
            .await,
    );
    assert_eq!(
        f.broker
            .verifications("web", "payments")
            .await
            .unwrap()
            .len(),
        1
    );
    // A name nobody has used is its first publisher's.
    f.broker
        .publish(intruder, contract("fresh", "ledger", "1"))
        .await
        .unwrap();
    forbidden(
        "another team's",
        f.broker
            .publish(web, contract("fresh", "ledger", "2"))
            .await,
    );
}

#[tokio::test]
async fn test_results_are_capped_and_kept_apart_from_what_selection_reads() {
    let f = fixture().await;
    let sha = f.publish(team(1), "web", "1.0.0", "main", "a").await;
    let big = |bytes: usize| json!([{ "interactionDescription": "x".repeat(bytes) }]);
    let too_big = f
        .broker
        .publish_verification(
            PROVIDER,
            "web",
            "docintel",
            &sha,
            verdict("1", big(MAX_TEST_RESULTS_BYTES)),
        )
        .await;
    assert!(
        matches!(too_big, Err(BrokerError::TooLarge(_))),
        "{too_big:?}"
    );
    assert!(
        f.broker
            .verifications("web", "docintel")
            .await
            .unwrap()
            .is_empty()
    );

    let results = big(100_000);
    let (made, _) = f
        .broker
        .publish_verification(
            PROVIDER,
            "web",
            "docintel",
            &sha,
            verdict("1", results.clone()),
        )
        .await
        .unwrap();
    assert_eq!(made.test_results, results, "the answer shows them");
    let listed = f.broker.verifications("web", "docintel").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].test_results.is_null(), "lists do not carry them");
    let one = f
        .broker
        .verification("web", "docintel", &made.id)
        .await
        .unwrap();
    assert_eq!(one.test_results, results, "a result on its own does");
}

#[tokio::test]
async fn selection_and_the_matrix_read_only_the_pacticipants_they_answer_about() {
    let f = fixture().await;
    let sha = f.publish(team(1), "web", "1.0.0", "main", "a").await;
    f.verify("web", &sha, "1", "main", true).await;
    // Another team's history, stored broken: a read of any of it would fail to decode.
    let noisy = records::pair("noisy", "elsewhere");
    for (kind, scope) in [
        (records::VERSION, "noisy"),
        (records::VERSION, "elsewhere"),
        (records::PACT, noisy.as_str()),
        (records::VERIFICATION, noisy.as_str()),
        (records::TEST_RESULTS, noisy.as_str()),
        (records::DEPLOYMENT, "noisy"),
        (records::RELEASE, "noisy"),
    ] {
        assert!(
            f.store
                .broker_insert(kind, scope, "1", "{broken")
                .await
                .unwrap()
        );
    }
    let selected = f
        .select(json!({ "consumerVersionSelectors": [{ "mainBranch": true }] }))
        .await;
    assert_eq!(picked(&selected), [of("web", &["1.0.0"])]);
    assert_eq!(
        f.broker
            .latest_provider_pacts("docintel")
            .await
            .unwrap()
            .len(),
        1
    );
    let matrix = f
        .broker
        .matrix(&MatrixQuery {
            selectors: vec![MatrixSelector {
                pacticipant: "web".to_owned(),
                version: Some("1.0.0".to_owned()),
                ..MatrixSelector::default()
            }],
            ..MatrixQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(matrix.rows.len(), 1);
    assert_eq!(matrix.success, 1);
}

#[tokio::test]
async fn selector_lists_beyond_the_limit_are_refused() {
    let f = fixture().await;
    f.publish(team(1), "web", "1.0.0", "main", "a").await;
    let selectors: Vec<Value> = (0..=MAX_SELECTORS)
        .map(|_| json!({ "mainBranch": true }))
        .collect();
    let request: ForVerification =
        serde_json::from_value(json!({ "consumerVersionSelectors": selectors })).unwrap();
    let refused = f.broker.pacts_for_verification("docintel", &request).await;
    assert!(
        matches!(refused, Err(BrokerError::Invalid(_))),
        "{refused:?}"
    );
    let many = MatrixQuery {
        selectors: vec![
            MatrixSelector {
                pacticipant: "web".to_owned(),
                ..MatrixSelector::default()
            };
            MAX_SELECTORS + 1
        ],
        ..MatrixQuery::default()
    };
    let refused = f.broker.matrix(&many).await;
    assert!(
        matches!(refused, Err(BrokerError::Invalid(_))),
        "{refused:?}"
    );
}

#[test]
fn pacticipant_names_have_one_spelling_and_no_hidden_characters() {
    for good in [
        "web",
        "web-app 2",
        "Zürich",
        "ウェブ",
        "org/service",
        "Ωμεγα",
    ] {
        assert!(check_pacticipant_name("name", good).is_ok(), "{good}");
    }
    for bad in [
        "p\u{0430}yments", // a Cyrillic a among Latin letters
        "payments ",
        " payments",
        "pay\u{202E}stnem",
        "pay\u{200B}ments",
        "pay\u{FEFF}ments",
        "..",
        "a..b",
        "\u{03A9}mega", // a Greek letter among Latin ones
        "cafe\u{0301}", // e + a combining accent: not NFC
        "we\nb",
    ] {
        assert!(
            matches!(
                check_pacticipant_name("name", bad),
                Err(BrokerError::Invalid(_))
            ),
            "{bad:?}"
        );
    }
    // Versions, branches and tags take the general rules.
    assert!(check_name("branch", "feature/x").is_ok());
    assert!(check_name("branch", "feature\u{2066}x").is_err());
    assert!(check_name("tags", "prod ").is_err());
}

#[tokio::test]
async fn a_team_keeps_no_more_than_its_quota_and_a_republication_costs_nothing() {
    let f = fixture().await;
    let broker = f.broker.clone().with_quota(Quota {
        pacticipants: 3,
        versions: 2,
        pacts: 3,
        bytes: 1_000_000,
    });
    let (web, app) = (team(1), team(2));
    let over = |r: Result<Published>| {
        assert!(matches!(r, Err(BrokerError::QuotaExceeded(_))), "{r:?}");
    };
    broker
        .publish(web, contract("web", "payments", "1"))
        .await
        .unwrap();
    broker
        .publish(web, contract("web", "payments", "2"))
        .await
        .unwrap();
    // The same pact again adds nothing, at the limit too.
    broker
        .publish(web, contract("web", "payments", "2"))
        .await
        .unwrap();
    // A third version is one too many, and nothing of it is stored.
    over(broker.publish(web, contract("web", "payments", "3")).await);
    assert!(broker.version("web", "3").await.is_err());
    // Naming a third pacticipant fits; a fourth does not (web, payments, ledger, audit).
    broker
        .publish(web, contract("web", "ledger", "2"))
        .await
        .unwrap();
    over(broker.publish(web, contract("web", "audit", "2")).await);
    assert!(broker.pacticipant("audit").await.is_err());
    let used = broker.usage(&web.tenant.0.to_string()).await.unwrap();
    assert_eq!(
        (used.pacticipants, used.versions, used.pacts),
        (3, 2, 3),
        "{used:?}"
    );
    assert!(used.bytes > 0);
    // Another team has its own room.
    broker
        .publish(app, contract("app", "payments", "1"))
        .await
        .unwrap();
    // An operator's delete gives room back.
    broker.delete_version(ADMIN, "web", "1").await.unwrap();
    broker
        .publish(web, contract("web", "payments", "3"))
        .await
        .unwrap();
    // Stored bytes count too.
    let tight = f.broker.clone().with_quota(Quota {
        bytes: 150,
        ..TENANT_QUOTA
    });
    over(
        tight
            .publish(team(5), contract("mobile", "payments", "1"))
            .await,
    );
    // And one publication carries a bounded number of contracts.
    let mut many = contract("web", "payments", "9");
    many.contracts = Some(vec![many.contracts.unwrap()[0].clone(); MAX_CONTRACTS + 1]);
    let refused = broker.publish(web, many).await;
    assert!(
        matches!(refused, Err(BrokerError::Invalid(_))),
        "{refused:?}"
    );
}
