//! Which pacts each selector picks, pending and WIP pacts, and can-i-deploy.

use serde_json::json;

use crate::*;

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
    // No selectors: each consumer's latest pact from its main branch (the Pact
    // Broker's default), not feat's newer one.
    let latest = f.select(json!({})).await;
    assert_eq!(
        picked(&latest),
        [of("mobile", &["3.0.1"]), of("web", &["1.1.0"])]
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
        ["environment with name 'nowhere' does not exist (at index 0)"]
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
    // A provider branch first used after that success inherits it.
    let mut on_other = ask.clone();
    on_other["providerVersionBranch"] = json!("other");
    assert!(
        !f.select(on_other)
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
