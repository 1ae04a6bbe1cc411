//! What the broker keeps: test results apart, selective reads, bounded selectors and
//! names, and the quota.

use docintel_broker::record_kinds as records;

use serde_json::{Value, json};

use crate::*;

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
    let used = broker.usage(&web.tenant.to_string()).await.unwrap();
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
