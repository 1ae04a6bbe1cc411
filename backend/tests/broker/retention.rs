//! Selection follows publishes, tags and deletes in any order, and what `clean` keeps:
//! after it, every selector and can-i-deploy answers as before about what is kept, and
//! what it deleted is gone.

use super::*;

const SELECTORS: &str = r#"{
    "consumerVersionSelectors": [
        { "mainBranch": true }, { "branch": "feat" }, { "tag": "beta", "latest": true },
        { "deployedOrReleased": true }, { "latest": true }
    ],
    "providerVersionBranch": "main",
    "includePendingStatus": true,
    "includeWipPactsSince": "2020-01-01"
}"#;

fn numbers(versions: Vec<Stored<Version>>) -> Vec<String> {
    versions.into_iter().map(|v| v.key).collect()
}

#[tokio::test]
async fn the_latest_per_branch_and_tag_follow_publishes_tags_and_deletes_in_any_order() {
    let f = fixture().await;
    let web = team(1);
    // 1.9.0 exists before 2.0.0 but publishes its pact after it: latest is by version.
    f.broker
        .add_branch(web, "web", "main", "1.9.0")
        .await
        .unwrap();
    f.publish(web, "web", "2.0.0", "main", "new").await;
    f.publish(web, "web", "1.9.0", "main", "old").await;
    let main = json!({ "consumerVersionSelectors": [{ "mainBranch": true }] });
    assert_eq!(
        picked(&f.select(main.clone()).await),
        [of("web", &["2.0.0"])]
    );
    // A tag given after the pact was published.
    f.broker.add_tag(web, "web", "1.9.0", "beta").await.unwrap();
    let beta = json!({ "consumerVersionSelectors": [{ "tag": "beta", "latest": true }] });
    assert_eq!(picked(&f.select(beta).await), [of("web", &["1.9.0"])]);
    // The head deleted: the one before it is the latest again.
    f.broker
        .delete_version(ADMIN, "web", "2.0.0")
        .await
        .unwrap();
    assert_eq!(picked(&f.select(main).await), [of("web", &["1.9.0"])]);
}

#[tokio::test]
async fn clean_keeps_what_selection_and_can_i_deploy_answer_and_deletes_the_rest() {
    clean_keeps_what_is_answered(fixture().await).await;
}

/// The same on PostgreSQL: the store's SQL (its (scope, key) reads above all) is one text
/// for both.
#[tokio::test]
async fn clean_keeps_what_selection_and_can_i_deploy_answer_on_postgresql_too() {
    let db = docintel_testkit::postgres::TestDatabase::create().await;
    let store: Arc<dyn Store> = Arc::new(
        docintel_backend::store::PgStore::connect(&db.url)
            .await
            .unwrap(),
    );
    clean_keeps_what_is_answered(Fixture {
        broker: Broker::new(store.clone(), false),
        store,
        _dir: tempfile::tempdir().unwrap(),
    })
    .await;
}

async fn clean_keeps_what_is_answered(f: Fixture) {
    let web = team(1);
    let env = f.production().await;
    let mut sha = std::collections::HashMap::new();
    for (version, branch, content) in [
        ("1.0.0", "main", "a"),
        ("1.1.0", "main", "b"),
        ("1.2.0", "main", "c"),
        ("1.3.0", "main", "d"),
        ("1.3.1", "feat", "e"),
        ("1.4.0", "main", "f"),
        ("1.5.0", "main", "b"),
    ] {
        sha.insert(
            content,
            f.publish(web, "web", version, branch, content).await,
        );
    }
    f.broker.add_tag(web, "web", "1.1.0", "beta").await.unwrap();
    f.broker
        .record(web, "web", "1.2.0", &env, None, false)
        .await
        .unwrap();
    f.verify("web", &sha["a"], "p0", "main", true).await;
    f.verify("web", &sha["b"], "p1", "main", true).await;
    f.verify("web", &sha["c"], "p1", "main", true).await;
    f.verify("web", &sha["c"], "p2", "main", true).await;
    f.verify("web", &sha["d"], "p2", "main", true).await;
    f.verify("web", &sha["f"], "p3", "main", false).await;
    f.broker
        .record(PROVIDER, "docintel", "p2", &env, None, false)
        .await
        .unwrap();
    let selectors: Value = serde_json::from_str(SELECTORS).unwrap();
    let verdicts = |m: Matrix| (m.deployable, m.reasons, m.rows.len());
    let before = f.select(selectors.clone()).await;
    let web_before = verdicts(f.can_i_deploy("web", "1.2.0").await);
    let docintel_before = verdicts(f.can_i_deploy("docintel", "p2").await);
    assert!(web_before.0 && docintel_before.0, "{web_before:?}");

    // Everything here is recent: with the Pact Broker's 90 days nothing goes.
    let by_age = f.broker.clean(&Retention::default()).await.unwrap();
    assert_eq!((by_age.versions, by_age.pacts), (0, 0), "{by_age:?}");

    let retention = Retention {
        max_age_days: None,
        batch: 2,
        ..Retention::default()
    };
    let dry = f
        .broker
        .clean(&Retention {
            dry_run: true,
            ..retention.clone()
        })
        .await
        .unwrap();
    assert_eq!(numbers(f.broker.versions("web").await.unwrap()).len(), 7);
    let done = f.broker.clean(&retention).await.unwrap();
    assert_eq!(dry, done, "the dry run counts what the clean deletes");
    // web: 1.0.0, 1.3.0, 1.4.0 (contents a, d, f and their three verifications). Kept:
    // the latest overall and on main (1.5.0), on feat, tagged beta, deployed; docintel's
    // p3 the latest, p2 deployed, p1 the latest on main to verify b, p0 the first on main
    // (when a provider branch began decides whether earlier successes count).
    assert_eq!(
        (
            done.versions,
            done.pacts,
            done.contents,
            done.verifications,
            done.batches
        ),
        (3, 3, 3, 3, 2),
        "{done:?}"
    );
    assert_eq!(
        numbers(f.broker.versions("web").await.unwrap()),
        ["1.1.0", "1.2.0", "1.3.1", "1.5.0"]
    );
    assert_eq!(
        numbers(f.broker.versions("docintel").await.unwrap()),
        ["p0", "p1", "p2", "p3"]
    );
    for gone in ["a", "d", "f"] {
        assert!(matches!(
            f.broker.pact_by_sha("web", "docintel", &sha[gone]).await,
            Err(BrokerError::NotFound(_))
        ));
    }
    assert!(matches!(
        f.broker.pact("web", "docintel", "1.0.0").await,
        Err(BrokerError::NotFound(_))
    ));
    let mut verified: Vec<(String, String)> = f
        .broker
        .verifications("web", "docintel")
        .await
        .unwrap()
        .into_iter()
        .map(|v| (v.provider_version, v.sha))
        .collect();
    verified.sort();
    let mut expected = vec![
        ("p1".to_owned(), sha["b"].clone()),
        ("p1".to_owned(), sha["c"].clone()),
        ("p2".to_owned(), sha["c"].clone()),
    ];
    expected.sort();
    assert_eq!(verified, expected);

    assert_eq!(f.select(selectors).await, before);
    assert_eq!(verdicts(f.can_i_deploy("web", "1.2.0").await), web_before);
    assert_eq!(
        verdicts(f.can_i_deploy("docintel", "p2").await),
        docintel_before
    );
    let again = f.broker.clean(&retention).await.unwrap();
    assert_eq!((again.versions, again.pacts), (0, 0), "{again:?}");
}
