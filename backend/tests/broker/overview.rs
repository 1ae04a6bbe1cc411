//! What the pages and badges read: each integration's latest pact and its state, a
//! pair's latest pact by consumer and provider tag, and a pair's matrix filtered per side.

use super::*;

fn side(pacticipant: &str) -> MatrixSelector {
    MatrixSelector {
        pacticipant: pacticipant.to_owned(),
        ..MatrixSelector::default()
    }
}

#[tokio::test]
async fn a_pact_is_verified_failed_or_unknown_by_its_own_contents_results() {
    let f = fixture().await;
    let web = team(1);
    let first = f.publish(web, "web", "1.0.0", "main", "a").await;
    f.broker.add_tag(web, "web", "1.0.0", "prod").await.unwrap();
    let state = |p: Option<LatestPact>| p.map(|p| (p.consumer_version, p.status));
    let latest = |tag: Option<&'static str>, provider_tag: Option<&'static str>| {
        let broker = f.broker.clone();
        async move {
            broker
                .latest_pact("web", "docintel", tag, provider_tag)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        state(latest(None, None).await),
        Some(("1.0.0".into(), PactStatus::Unknown))
    );
    f.verify("web", &first, "p1", "main", true).await;
    assert_eq!(
        state(latest(None, None).await),
        Some(("1.0.0".into(), PactStatus::Verified))
    );
    // A new content is unknown until verified, whatever the older one's result.
    let second = f.publish(web, "web", "1.1.0", "main", "b").await;
    assert_eq!(
        state(latest(None, None).await),
        Some(("1.1.0".into(), PactStatus::Unknown))
    );
    f.verify("web", &second, "p2", "main", false).await;
    assert_eq!(
        state(latest(None, None).await),
        Some(("1.1.0".into(), PactStatus::Failed))
    );
    // By consumer tag, and by the tag of the provider version that verified.
    assert_eq!(
        state(latest(Some("prod"), None).await),
        Some(("1.0.0".into(), PactStatus::Verified))
    );
    assert_eq!(
        state(latest(Some("prod"), Some("prod")).await),
        Some(("1.0.0".into(), PactStatus::Unknown))
    );
    f.broker
        .add_tag(PROVIDER, "docintel", "p1", "prod")
        .await
        .unwrap();
    assert_eq!(
        state(latest(Some("prod"), Some("prod")).await),
        Some(("1.0.0".into(), PactStatus::Verified))
    );
    assert_eq!(state(latest(Some("nope"), None).await), None);
    assert!(
        f.broker
            .latest_pact("nobody", "docintel", None, None)
            .await
            .unwrap()
            .is_none()
    );
    let v = f
        .broker
        .version_pact("web", "docintel", "1.0.0")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((v.sha, v.status), (first, PactStatus::Verified));
}

#[tokio::test]
async fn the_index_reads_only_the_integrations_it_shows() {
    let f = fixture().await;
    for (n, consumer) in ["c", "a", "b"].iter().enumerate() {
        let sha = f
            .publish(team(n as u128 + 1), consumer, "1", "main", "x")
            .await;
        if *consumer == "a" {
            f.verify(consumer, &sha, "p1", "main", true).await;
        }
    }
    let (shown, total) = f.broker.integrations(2).await.unwrap();
    assert_eq!(total, 3);
    let shown: Vec<(&str, PactStatus)> = shown
        .iter()
        .map(|i| (i.consumer.as_str(), i.status))
        .collect();
    assert_eq!(
        shown,
        [("a", PactStatus::Verified), ("b", PactStatus::Unknown)]
    );
}

#[tokio::test]
async fn a_pairs_matrix_filters_each_side_newest_first() {
    let f = fixture().await;
    let web = team(1);
    let a = f.publish(web, "web", "1.0.0", "main", "a").await;
    let b = f.publish(web, "web", "2.0.0-feat", "feat", "b").await;
    f.verify("web", &a, "p1", "main", true).await;
    f.verify("web", &a, "p2", "main", false).await;
    f.verify("web", &b, "p3", "feat", true).await;
    let lines = |rows: Vec<PairRow>| -> Vec<(String, Option<String>, PactStatus)> {
        rows.into_iter()
            .map(|r| {
                let status = r.status();
                (
                    r.consumer_version.number,
                    r.provider_version.map(|v| v.number),
                    status,
                )
            })
            .collect()
    };
    let all = f
        .broker
        .pair_matrix(&side("web"), &side("docintel"), 100)
        .await
        .unwrap()
        .0;
    assert_eq!(
        lines(all),
        [
            ("2.0.0-feat".into(), Some("p3".into()), PactStatus::Verified),
            ("1.0.0".into(), Some("p2".into()), PactStatus::Failed),
            ("1.0.0".into(), Some("p1".into()), PactStatus::Verified),
        ]
    );
    let main = MatrixSelector {
        branch: Some("main".into()),
        ..side("web")
    };
    let latest_provider = MatrixSelector {
        latest: true,
        ..side("docintel")
    };
    assert_eq!(
        lines(
            f.broker
                .pair_matrix(&main, &latest_provider, 100)
                .await
                .unwrap()
                .0
        ),
        [("1.0.0".into(), Some("p2".into()), PactStatus::Failed)]
    );
    let feat_provider = MatrixSelector {
        branch: Some("feat".into()),
        ..side("docintel")
    };
    assert_eq!(
        lines(
            f.broker
                .pair_matrix(&main, &feat_provider, 100)
                .await
                .unwrap()
                .0
        ),
        [("1.0.0".into(), None, PactStatus::Unknown)]
    );
    assert!(
        f.broker
            .pair_matrix(&side("nobody"), &side("docintel"), 100)
            .await
            .is_err()
    );
    // At the limit it stops, and says there is more.
    let (two, more) = f
        .broker
        .pair_matrix(&side("web"), &side("docintel"), 2)
        .await
        .unwrap();
    assert_eq!((two.len(), more), (2, true));
    let (three, more) = f
        .broker
        .pair_matrix(&side("web"), &side("docintel"), 3)
        .await
        .unwrap();
    assert_eq!((three.len(), more), (3, false));
}
