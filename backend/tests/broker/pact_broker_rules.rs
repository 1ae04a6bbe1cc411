//! The Pact Broker's own scenarios for pending and WIP pacts, the default selection,
//! selector validation and the matrix, each run on SQLite and on PostgreSQL (a
//! throwaway cluster, or a scratch database on `DOCINTEL_TEST_DATABASE_URL`).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use docintel_backend::store::{PgStore, Store};
use docintel_broker::{
    BrokerError, Caller, ForVerification, Matrix, MatrixQuery, MatrixSelector, PublishRequest,
    Selection, VerificationRequest,
};
use docintel_testkit::postgres::TestDatabase;
use serde_json::{Value, json};

use crate::*;

/// One `#[tokio::test]` per scenario and store: `sqlite::…` and `postgres::…`.
macro_rules! on_both_stores {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario(crate::fixture().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $scenario() {
                    let (db, f) = super::postgres_fixture().await;
                    super::$scenario(f).await;
                    drop(db);
                }
            )*
        }
    };
}

on_both_stores!(
    wip_pacts_include_the_latest_pact_for_each_consumer_tag,
    a_wip_pact_verified_through_its_url_stays_wip_and_pending,
    a_pact_is_not_pending_for_a_new_branch_if_it_was_verified_successfully_before_the_branch_existed,
    a_pact_is_not_pending_for_a_new_provider_tag_if_another_tag_verified_it_before_the_tag_existed,
    without_selectors_the_latest_main_branch_pacts_and_the_deployed_and_released_ones_are_verified,
    selectors_are_refused_in_the_pact_brokers_words_and_order,
    can_i_deploy_with_latest_weighs_each_integrated_pacticipants_latest_version,
    can_i_merge_weighs_the_latest_version_of_each_main_branch,
    several_selectors_with_an_environment_weigh_the_other_integrations_there_too,
    matrix_queries_are_refused_in_the_pact_brokers_words,
    a_replica_answers_from_what_another_replica_wrote,
);

async fn postgres_fixture() -> (TestDatabase, Fixture) {
    let db = TestDatabase::create().await;
    let store: Arc<dyn Store> = Arc::new(
        PgStore::connect(&db.url)
            .await
            .unwrap_or_else(|e| panic!("connecting to {}: {e}", db.url)),
    );
    let f = Fixture {
        broker: Broker::new(store.clone(), false),
        store,
        _dir: tempfile::tempdir().unwrap(),
    };
    (db, f)
}

/// Lets the clock move on, where a scenario depends on which of two writes came first.
async fn tick() {
    tokio::time::sleep(Duration::from_millis(5)).await;
}

/// Publishes `consumer`'s pact from a version with `tag` and no branch; its sha.
async fn publish_tagged(
    f: &Fixture,
    who: Caller,
    consumer: &str,
    version: &str,
    tag: &str,
    description: &str,
) -> String {
    let content = pact(consumer, description);
    let request: PublishRequest = serde_json::from_value(json!({
        "pacticipantName": consumer,
        "pacticipantVersionNumber": version,
        "tags": [tag],
        "contracts": [{
            "consumerName": consumer,
            "providerName": "docintel",
            "specification": "pact",
            "contentType": "application/json",
            "content": base64::engine::general_purpose::STANDARD.encode(content.to_string()),
        }]
    }))
    .unwrap();
    f.broker.publish(who, request).await.unwrap().pacts[0]
        .sha
        .clone()
}

fn result(version: &str, success: bool) -> VerificationRequest {
    serde_json::from_value(json!({
        "success": success,
        "providerApplicationVersion": version,
    }))
    .unwrap()
}

/// docintel `version`, tagged `tag` (and on no branch), verifies the pact with `sha`.
async fn verify_tagged(f: &Fixture, sha: &str, version: &str, tag: &str, success: bool) {
    f.broker
        .add_tag(PROVIDER, "docintel", version, tag)
        .await
        .unwrap();
    f.broker
        .publish_verification(PROVIDER, "web", "docintel", sha, result(version, success))
        .await
        .unwrap();
}

/// Whether the one pact `request` selects is pending.
async fn pending(f: &Fixture, mut request: Value) -> bool {
    request["includePendingStatus"] = json!(true);
    let pacts = f.select(request).await;
    assert_eq!(pacts.len(), 1, "{pacts:?}");
    pacts[0].pending
}

async fn refused(f: &Fixture, request: Value) -> std::collections::BTreeMap<String, Vec<String>> {
    let request: ForVerification = serde_json::from_value(request).unwrap();
    match f.broker.pacts_for_verification("docintel", &request).await {
        Err(BrokerError::Invalid(errors)) => errors,
        other => panic!("accepted: {other:?}"),
    }
}

async fn wip_pacts_include_the_latest_pact_for_each_consumer_tag(f: Fixture) {
    let web = team(1);
    f.publish(web, "web", "1.0.0", "main", "a").await;
    let older = publish_tagged(&f, web, "web", "1.1.0", "feat-x", "x1").await;
    let tagged = publish_tagged(&f, web, "web", "1.2.0", "feat-x", "x2").await;
    f.broker
        .add_branch(PROVIDER, "docintel", "main", "p0")
        .await
        .unwrap();
    let on_main = json!({
        "providerVersionBranch": "main",
        "includePendingStatus": true,
        "includeWipPactsSince": "2020-01-01",
        "consumerVersionSelectors": [{ "mainBranch": true }]
    });
    let pacts = f.select(on_main.clone()).await;
    let wip = pacts
        .iter()
        .find(|p| p.sha == tagged)
        .expect("the latest pact tagged feat-x is work in progress");
    assert!(wip.wip && wip.pending, "{wip:?}");
    assert_eq!(
        wip.reasons,
        ["latest version of web tagged 'feat-x' (1.2.0)"]
    );
    assert!(
        pacts.iter().all(|p| p.sha != older),
        "only the tag's latest pact: {pacts:?}"
    );

    // With provider tags instead of a branch, the same.
    let as_dev = json!({
        "providerVersionTags": ["dev"],
        "includePendingStatus": true,
        "includeWipPactsSince": "2020-01-01",
        "consumerVersionSelectors": [{ "mainBranch": true }]
    });
    assert!(
        f.select(as_dev.clone())
            .await
            .iter()
            .any(|p| p.sha == tagged && p.wip)
    );
    // A success by a provider version tagged dev (on no branch) ends it for dev only.
    verify_tagged(&f, &tagged, "p1", "dev", true).await;
    assert!(f.select(as_dev).await.iter().all(|p| p.sha != tagged));
    assert!(
        f.select(on_main)
            .await
            .iter()
            .any(|p| p.sha == tagged && p.wip)
    );
}

async fn a_wip_pact_verified_through_its_url_stays_wip_and_pending(f: Fixture) {
    let web = team(1);
    let main = f.publish(web, "web", "1.0.0", "main", "a").await;
    let feat = f.publish(web, "web", "2.0.0", "feat", "c").await;
    f.broker
        .add_branch(PROVIDER, "docintel", "main", "p1")
        .await
        .unwrap();
    let ask = json!({
        "providerVersionBranch": "main",
        "includePendingStatus": true,
        "includeWipPactsSince": "2020-01-01",
        "consumerVersionSelectors": [{ "mainBranch": true }]
    });
    let pacts = f.select(ask.clone()).await;
    let wip = pacts.iter().find(|p| p.sha == feat).expect("feat is WIP");
    let explicit = pacts.iter().find(|p| p.sha == main).unwrap();
    // What the URLs carry, read back as the results resource reads it.
    let through_wip_url = Selection::from_metadata(&wip.metadata);
    assert_eq!(
        through_wip_url,
        Selection {
            wip: true,
            pending: None
        }
    );
    assert_eq!(
        Selection::from_metadata(&explicit.metadata),
        Selection {
            wip: false,
            pending: Some(true)
        }
    );

    f.broker
        .publish_selected_verification(
            PROVIDER,
            "web",
            "docintel",
            &feat,
            through_wip_url,
            result("p1", true),
        )
        .await
        .unwrap();
    let recorded = f.broker.verifications("web", "docintel").await.unwrap();
    assert!(recorded.last().is_some_and(|v| v.wip && v.success));
    let again = f.select(ask.clone()).await;
    let still = again
        .iter()
        .find(|p| p.sha == feat)
        .expect("still WIP after a successful WIP verification");
    assert!(still.wip && still.pending, "{still:?}");
    // Selected explicitly, it is no longer pending for main: that success counts there.
    assert!(
        !pending(
            &f,
            json!({
                "providerVersionBranch": "main",
                "consumerVersionSelectors": [{ "branch": "feat" }]
            })
        )
        .await
    );
    // A verification outside WIP (from a selected pact's URL) ends its WIP status.
    f.verify("web", &feat, "p2", "main", true).await;
    assert!(f.select(ask).await.iter().all(|p| p.sha != feat));

    // Metadata it cannot read only annotates nothing.
    for unreadable in ["%%%", "not base64!", &"QQ".repeat(10_000)] {
        assert_eq!(Selection::from_metadata(unreadable), Selection::default());
    }
}

async fn a_pact_is_not_pending_for_a_new_branch_if_it_was_verified_successfully_before_the_branch_existed(
    f: Fixture,
) {
    let web = team(1);
    let a = f.publish(web, "web", "1.0.0", "main", "a").await;
    // A branch in use before main's success...
    f.broker
        .add_branch(PROVIDER, "docintel", "old-feat", "p0")
        .await
        .unwrap();
    tick().await;
    f.verify("web", &a, "p1", "main", true).await;
    tick().await;
    let on = |branch: &str| {
        json!({
            "providerVersionBranch": branch,
            "consumerVersionSelectors": [{ "mainBranch": true }]
        })
    };
    assert!(!pending(&f, on("main")).await);
    assert!(
        !pending(&f, on("new-feat")).await,
        "a branch not used yet inherits main's earlier success"
    );
    // ...does not inherit it: it has to verify the pact itself.
    assert!(pending(&f, on("old-feat")).await);
    // Once used (after the success), the new branch still inherits it.
    f.broker
        .add_branch(PROVIDER, "docintel", "new-feat", "p2")
        .await
        .unwrap();
    assert!(!pending(&f, on("new-feat")).await);
    // A failure inherits nothing.
    let b = f.publish(web, "web", "1.1.0", "main", "b").await;
    f.verify("web", &b, "p3", "main", false).await;
    assert!(pending(&f, on("brand-new")).await);
    // Nor does a success by a provider version on no branch.
    f.broker
        .publish_verification(PROVIDER, "web", "docintel", &b, result("p4", true))
        .await
        .unwrap();
    assert!(pending(&f, on("brand-new")).await);
    // Without a provider branch or tags, any success ends pending.
    assert!(
        !pending(
            &f,
            json!({ "consumerVersionSelectors": [{ "mainBranch": true }] })
        )
        .await
    );
}

async fn a_pact_is_not_pending_for_a_new_provider_tag_if_another_tag_verified_it_before_the_tag_existed(
    f: Fixture,
) {
    let web = team(1);
    let a = f.publish(web, "web", "1.0.0", "main", "a").await;
    f.broker
        .add_tag(PROVIDER, "docintel", "p0", "old")
        .await
        .unwrap();
    tick().await;
    verify_tagged(&f, &a, "p1", "prod", true).await;
    tick().await;
    let as_tagged = |tags: &[&str]| {
        json!({
            "providerVersionTags": tags,
            "consumerVersionSelectors": [{ "mainBranch": true }]
        })
    };
    assert!(!pending(&f, as_tagged(&["prod"])).await);
    assert!(!pending(&f, as_tagged(&["new"])).await);
    assert!(pending(&f, as_tagged(&["old"])).await);
    // Pending for one of the tags is pending.
    assert!(pending(&f, as_tagged(&["new", "old"])).await);
}

async fn without_selectors_the_latest_main_branch_pacts_and_the_deployed_and_released_ones_are_verified(
    f: Fixture,
) {
    let (web, cli, legacy) = (team(1), team(2), team(3));
    f.publish(web, "web", "1.0.0", "main", "a").await;
    f.publish(web, "web", "1.1.0", "main", "b").await;
    f.publish(web, "web", "2.0.0", "feat", "c").await;
    // No main branch: its latest pact.
    f.publish(cli, "cli", "0.1.0", "topic", "d").await;
    f.publish(cli, "cli", "0.2.0", "topic-2", "e").await;
    // A main branch only ever used as a tag: the latest pact with that tag.
    publish_tagged(&f, legacy, "legacy", "5.0.0", "trunk", "f").await;
    publish_tagged(&f, legacy, "legacy", "5.1.0", "other", "g").await;
    f.broker
        .set_main_branch(legacy, "legacy", Some("trunk".to_owned()))
        .await
        .unwrap();
    let env = f.production().await;
    f.broker
        .record(web, "web", "1.0.0", &env, None, false)
        .await
        .unwrap();
    f.broker
        .record(cli, "cli", "0.1.0", &env, None, true)
        .await
        .unwrap();
    let selected = f.select(json!({})).await;
    assert_eq!(
        picked(&selected),
        [
            of("cli", &["0.1.0"]),
            of("cli", &["0.2.0"]),
            of("legacy", &["5.0.0"]),
            of("web", &["1.0.0"]),
            of("web", &["1.1.0"]),
        ]
    );
}

async fn selectors_are_refused_in_the_pact_brokers_words_and_order(f: Fixture) {
    // No consumer has a pact yet: selectors are still validated, environments too.
    f.broker
        .add_branch(PROVIDER, "docintel", "main", "p0")
        .await
        .unwrap();
    let errors = refused(
        &f,
        json!({ "consumerVersionSelectors": [
            { "mainBranch": true },
            { "environment": "nowhere" },
            { "consumer": " ", "latest": true },
            { "tag": "t", "branch": "b", "deployed": true },
        ] }),
    )
    .await;
    assert_eq!(
        errors["consumerVersionSelectors"],
        [
            "environment with name 'nowhere' does not exist (at index 1)",
            "consumer cannot be blank (at index 2)",
            "cannot specify both a tag and a branch (at index 3)",
            "cannot specify the fields branch/tag with the field deployed (at index 3)",
        ]
    );
    let errors = refused(&f, json!({ "includeWipPactsSince": "last tuesday" })).await;
    assert_eq!(errors["includeWipPactsSince"], ["must be a date"]);
    let errors = refused(
        &f,
        json!({ "providerVersionBranch": "", "includePendingStatus": true }),
    )
    .await;
    assert_eq!(
        errors["providerVersionBranch"],
        [
            "when pending or WIP pacts are enabled and there are no tags provided, the provider version branch must not be an empty string, as it is used in the calculations for WIP/pending. A value must be provided (recommended), or it must not be set at all."
        ]
    );
    // Each provider tag is weighed against every WIP candidate: bounded.
    let tags: Vec<String> = (0..=docintel_broker::MAX_SELECTORS)
        .map(|i| format!("t{i}"))
        .collect();
    let errors = refused(
        &f,
        json!({ "providerVersionTags": tags, "includeWipPactsSince": "2020-01-01" }),
    )
    .await;
    assert_eq!(
        errors["providerVersionTags"],
        [format!(
            "at most {} tags may be given",
            docintel_broker::MAX_SELECTORS
        )]
    );
    // An empty branch without pending or WIP is what some clients send: accepted.
    assert!(
        f.select(json!({ "providerVersionBranch": "" }))
            .await
            .is_empty()
    );
}

fn version_of(pacticipant: &str, version: &str) -> MatrixSelector {
    MatrixSelector {
        pacticipant: pacticipant.to_owned(),
        version: Some(version.to_owned()),
        ..MatrixSelector::default()
    }
}

async fn matrix(f: &Fixture, query: MatrixQuery) -> Matrix {
    f.broker.matrix(&query).await.unwrap()
}

async fn can_i_deploy_with_latest_weighs_each_integrated_pacticipants_latest_version(f: Fixture) {
    let web = team(1);
    let a = f.publish(web, "web", "1.0.0", "main", "a").await;
    f.verify("web", &a, "p1", "main", true).await;
    // What `pact-broker can-i-deploy --pacticipant web --version 1.0.0` asks (latest=true).
    let latest = || MatrixQuery {
        selectors: vec![version_of("web", "1.0.0")],
        latest: true,
        ..MatrixQuery::default()
    };
    assert!(matrix(&f, latest()).await.deployable);
    // docintel's latest version has not verified the pact: no, though p1 did.
    f.broker
        .add_branch(PROVIDER, "docintel", "main", "p2")
        .await
        .unwrap();
    let m = matrix(&f, latest()).await;
    assert!(!m.deployable, "{:?}", m.reasons);
    assert_eq!((m.success, m.unknown), (0, 1), "{:?}", m.reasons);
    assert!(
        m.reasons
            .iter()
            .any(|(k, t)| *k == "error" && t.contains("version p2 of docintel")),
        "{:?}",
        m.reasons
    );
    f.verify("web", &a, "p2", "main", true).await;
    assert!(matrix(&f, latest()).await.deployable);
}

async fn can_i_merge_weighs_the_latest_version_of_each_main_branch(f: Fixture) {
    let web = team(1);
    let a = f.publish(web, "web", "1.0.0", "feat", "a").await;
    f.verify("web", &a, "p1", "main", true).await;
    f.verify("web", &a, "p2", "other", false).await;
    // What `pact-broker can-i-merge --pacticipant web --version 1.0.0` asks.
    let merge = || MatrixQuery {
        selectors: vec![version_of("web", "1.0.0")],
        latest: true,
        main_branch: true,
        ..MatrixQuery::default()
    };
    let m = matrix(&f, merge()).await;
    assert!(m.deployable, "main's latest verified it: {:?}", m.reasons);
    assert!(
        m.reasons.iter().all(|(k, _)| *k != "warning"),
        "the main branch says where: {:?}",
        m.reasons
    );
    // Overall, docintel's latest version (p2, of another branch) failed it.
    let latest = MatrixQuery {
        main_branch: false,
        ..merge()
    };
    assert!(!matrix(&f, latest).await.deployable);
    // A newer main version that has not verified it: no.
    f.broker
        .add_branch(PROVIDER, "docintel", "main", "p3")
        .await
        .unwrap();
    let m = matrix(&f, merge()).await;
    assert!(!m.deployable);
    assert_eq!(m.unknown, 1, "{:?}", m.reasons);
    // A pacticipant whose main branch has no version at all: no, and why.
    f.broker
        .set_main_branch(PROVIDER, "docintel", Some("trunk".to_owned()))
        .await
        .unwrap();
    let m = matrix(&f, merge()).await;
    assert!(!m.deployable);
    assert!(
        m.reasons.iter().any(|(_, t)| t
            == "There is no verified pact between version 1.0.0 of web and the latest version of docintel from the main branch (no versions exist for this branch)"),
        "{:?}",
        m.reasons
    );
}

async fn several_selectors_with_an_environment_weigh_the_other_integrations_there_too(f: Fixture) {
    let (web, mobile) = (team(1), team(2));
    let env = f.production().await;
    let a = f.publish(web, "web", "1.0.0", "main", "a").await;
    let m = f.publish(mobile, "mobile", "2.0.0", "main", "m").await;
    f.broker
        .record(mobile, "mobile", "2.0.0", &env, None, false)
        .await
        .unwrap();
    f.verify("web", &a, "p1", "main", true).await;
    // Deploying web 1.0.0 and docintel p1 together to production: mobile runs there,
    // and p1 has not verified its pact.
    let together = |environment: Option<&str>| MatrixQuery {
        selectors: vec![version_of("web", "1.0.0"), version_of("docintel", "p1")],
        environment: environment.map(str::to_owned),
        ..MatrixQuery::default()
    };
    let answer = matrix(&f, together(Some("production"))).await;
    assert!(!answer.deployable, "{:?}", answer.reasons);
    assert_eq!(
        (answer.success, answer.unknown),
        (1, 1),
        "{:?}",
        answer.reasons
    );
    // Without an environment only the selected versions are weighed.
    assert!(matrix(&f, together(None)).await.deployable);
    f.verify("mobile", &m, "p1", "main", true).await;
    let answer = matrix(&f, together(Some("production"))).await;
    assert!(answer.deployable, "{:?}", answer.reasons);
    assert_eq!(answer.success, 2);
}

async fn matrix_queries_are_refused_in_the_pact_brokers_words(f: Fixture) {
    f.publish(team(1), "web", "1.0.0", "main", "a").await;
    let refused = |query: MatrixQuery| {
        let broker = f.broker.clone();
        async move {
            match broker.matrix(&query).await {
                Err(BrokerError::Invalid(errors)) => errors,
                other => panic!("accepted: {other:?}"),
            }
        }
    };
    let errors = refused(MatrixQuery {
        selectors: vec![
            MatrixSelector {
                latest: true,
                ..version_of("web", "1.0.0")
            },
            version_of("nobody", "1"),
            version_of("nobody", "2"),
        ],
        tag: Some("prod".to_owned()),
        main_branch: true,
        ..MatrixQuery::default()
    })
    .await;
    assert_eq!(
        errors["q"],
        [
            "A version number and latest flag cannot both be specified for web",
            "Pacticipant nobody not found",
            "Cannot specify more than one of tag, environment and mainBranch.",
        ]
    );
    let errors = refused(MatrixQuery {
        selectors: vec![version_of("web", "1.0.0")],
        environment: Some("nowhere".to_owned()),
        latest: true,
        ..MatrixQuery::default()
    })
    .await;
    assert_eq!(
        errors["q"],
        ["Cannot specify both latest=true and an environment."]
    );
    assert_eq!(
        errors["environment"],
        ["Environment with name 'nowhere' does not exist"]
    );
}

/// Two replicas over one store, one of them keeping its answers: each answer of the one
/// that keeps them follows every write the other makes (publish, verification, delete),
/// and equals what a replica that keeps nothing computes from the records.
async fn a_replica_answers_from_what_another_replica_wrote(f: Fixture) {
    let keeping = Broker::new(f.store.clone(), false);
    let computing = Broker::new(f.store.clone(), false).with_read_cache(0);
    let request: ForVerification = serde_json::from_value(json!({
        "consumerVersionSelectors": [{ "mainBranch": true }],
        "includePendingStatus": true,
    }))
    .unwrap();
    let deploy = MatrixQuery {
        selectors: vec![version_of("web", "2.0.0")],
        latest: true,
        ..MatrixQuery::default()
    };
    // What the keeping replica answers, checked against a fresh computation.
    let answers = || async {
        let chosen = keeping
            .pacts_for_verification("docintel", &request)
            .await
            .unwrap();
        let fresh = computing
            .pacts_for_verification("docintel", &request)
            .await
            .unwrap();
        assert_eq!(chosen, fresh);
        let deployable = keeping.matrix(&deploy).await.map(|m| m.deployable);
        let fresh = computing.matrix(&deploy).await.map(|m| m.deployable);
        assert_eq!(format!("{deployable:?}"), format!("{fresh:?}"));
        (
            chosen
                .iter()
                .map(|p| (p.consumer_versions.clone(), p.pending))
                .collect::<Vec<_>>(),
            deployable.ok(),
        )
    };
    let web = team(1);
    f.publish(web, "web", "1.0.0", "main", "a").await;
    assert_eq!(
        answers().await,
        (vec![(vec!["1.0.0".to_owned()], true)], Some(false))
    );
    // Asked twice at the same generation: the kept answer.
    assert_eq!(
        answers().await,
        (vec![(vec!["1.0.0".to_owned()], true)], Some(false))
    );
    let b = f.publish(web, "web", "2.0.0", "main", "b").await;
    assert_eq!(
        answers().await,
        (vec![(vec!["2.0.0".to_owned()], true)], Some(false))
    );
    f.verify("web", &b, "p1", "main", true).await;
    assert_eq!(
        answers().await,
        (vec![(vec!["2.0.0".to_owned()], false)], Some(true))
    );
    f.broker
        .delete_version(ADMIN, "web", "2.0.0")
        .await
        .unwrap();
    assert_eq!(
        answers().await,
        (vec![(vec!["1.0.0".to_owned()], true)], Some(false))
    );
}
