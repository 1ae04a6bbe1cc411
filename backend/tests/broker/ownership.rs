//! Who may write as a pacticipant, the operator's limits, deletes and grants.

use serde_json::{Value, json};

use crate::*;

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
