//! Recording undeployments and the end of support: the version is no longer counted by
//! the `deployed`/`released` selectors nor by can-i-deploy, and only the version's owner
//! (or an admin) may record it, as for recording the deployment.

use super::*;

#[tokio::test]
async fn an_undeployed_or_unsupported_version_no_longer_counts() {
    let f = fixture().await;
    let web = team(1);
    let env = f.production().await;
    let good = f.publish(web, "web", "1.0.0", "main", "good").await;
    let bad = f.publish(web, "web", "1.1.0", "main", "bad").await;
    f.verify("web", &good, "p1", "main", true).await;
    f.verify("web", &bad, "p1", "main", false).await;

    // web 1.1.0, whose pact docintel p1 fails, runs in production: docintel may not deploy.
    let (deployment, _) = f
        .broker
        .record(web, "web", "1.1.0", &env, None, false)
        .await
        .unwrap();
    assert!(!f.can_i_deploy("docintel", "p1").await.deployable);
    let deployed = json!({ "providerVersionBranch": "main", "consumerVersionSelectors": [{ "deployed": true }] });
    assert_eq!(
        picked(&f.select(deployed.clone()).await),
        [of("web", &["1.1.0"])]
    );
    let listed = f
        .broker
        .currently_in(&env, Some("web"), false)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);

    // Another team may not undeploy web; web may.
    let other = team(2);
    assert!(matches!(
        f.broker.end(other, &deployment.uuid, false).await,
        Err(BrokerError::Forbidden(_))
    ));
    let ended = f.broker.end(web, &deployment.uuid, false).await.unwrap();
    assert!(!ended.deployment.current);
    let undeployed_at = ended.deployment.ended_at.clone();
    assert!(undeployed_at.is_some());
    assert_eq!(ended.pacticipant, "web");

    let m = f.can_i_deploy("docintel", "p1").await;
    assert!(m.deployable, "{:?}", m.reasons);
    assert!(f.select(deployed).await.is_empty());
    assert!(
        f.broker
            .currently_in(&env, Some("web"), false)
            .await
            .unwrap()
            .is_empty()
    );
    // Ending it again changes nothing (not even when).
    let again = f.broker.end(web, &deployment.uuid, false).await.unwrap();
    assert_eq!(again.deployment.ended_at, undeployed_at);

    // The same for a release and its end of support.
    let (release, _) = f
        .broker
        .record(web, "web", "1.1.0", &env, None, true)
        .await
        .unwrap();
    assert!(!f.can_i_deploy("docintel", "p1").await.deployable);
    let released = json!({ "providerVersionBranch": "main", "consumerVersionSelectors": [{ "released": true }] });
    assert_eq!(
        picked(&f.select(released.clone()).await),
        [of("web", &["1.1.0"])]
    );
    // A deployment's uuid is not a release's.
    assert!(matches!(
        f.broker.end(web, &release.uuid, false).await,
        Err(BrokerError::NotFound(_))
    ));
    f.broker.end(web, &release.uuid, true).await.unwrap();
    assert!(f.can_i_deploy("docintel", "p1").await.deployable);
    assert!(f.select(released).await.is_empty());
    assert!(
        f.broker
            .currently_in(&env, None, true)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn only_the_platform_undeploys_docintel() {
    let f = fixture().await;
    let env = f.production().await;
    let sha = f.publish(team(1), "web", "1.0.0", "main", "good").await;
    f.verify("web", &sha, "p1", "main", true).await;
    let (deployment, _) = f
        .broker
        .record(PROVIDER, "docintel", "p1", &env, None, false)
        .await
        .unwrap();
    assert!(f.can_i_deploy("web", "1.0.0").await.deployable);
    assert!(matches!(
        f.broker.end(team(1), &deployment.uuid, false).await,
        Err(BrokerError::Forbidden(_))
    ));
    assert!(f.can_i_deploy("web", "1.0.0").await.deployable);
    f.broker.end(ADMIN, &deployment.uuid, false).await.unwrap();
    // Nothing of docintel in production any more.
    assert!(!f.can_i_deploy("web", "1.0.0").await.deployable);
}

#[tokio::test]
async fn a_team_changes_only_what_it_names_of_its_pacticipant() {
    let f = fixture().await;
    let web = team(1);
    f.publish(web, "web", "1.0.0", "main", "good").await;
    let change = PacticipantChange {
        display_name: Some(Some("Web".into())),
        ..PacticipantChange::default()
    };
    let (p, created) = f
        .broker
        .update_pacticipant(web, "web", change)
        .await
        .unwrap();
    assert!(!created);
    // A merge patch: the main branch publishing set stays.
    assert_eq!(p.main_branch.as_deref(), Some("main"));
    assert_eq!(p.display_name.as_deref(), Some("Web"));
    let rename = PacticipantChange {
        display_name: Some(Some("Not yours".into())),
        ..PacticipantChange::default()
    };
    assert!(matches!(
        f.broker.update_pacticipant(team(2), "web", rename).await,
        Err(BrokerError::Forbidden(_))
    ));
    let hostile = PacticipantChange {
        repository_url: Some(Some("https://x\u{202e}evil".into())),
        ..PacticipantChange::default()
    };
    assert!(matches!(
        f.broker.update_pacticipant(web, "web", hostile).await,
        Err(BrokerError::Invalid(_))
    ));
    assert_eq!(
        f.broker
            .pacticipant("web")
            .await
            .unwrap()
            .display_name
            .as_deref(),
        Some("Web")
    );

    // A tag and a branch come off only at the owner's word; the versions stay.
    f.broker.add_tag(web, "web", "1.0.0", "prod").await.unwrap();
    assert!(matches!(
        f.broker.remove_tag(team(2), "web", "1.0.0", "prod").await,
        Err(BrokerError::Forbidden(_))
    ));
    let v = f
        .broker
        .remove_tag(web, "web", "1.0.0", "prod")
        .await
        .unwrap();
    assert!(v.tags.is_empty());
    assert!(matches!(
        f.broker.remove_tag(web, "web", "1.0.0", "prod").await,
        Err(BrokerError::NotFound(_))
    ));
    assert!(matches!(
        f.broker.delete_branch(team(2), "web", "main").await,
        Err(BrokerError::Forbidden(_))
    ));
    f.broker.delete_branch(web, "web", "main").await.unwrap();
    assert!(f.broker.branches("web").await.unwrap().is_empty());
    assert!(
        f.broker
            .version("web", "1.0.0")
            .await
            .unwrap()
            .branches
            .is_empty()
    );
}

#[tokio::test]
async fn a_pacticipants_deployments_are_bounded_and_its_oldest_ended_ones_make_room() {
    let f = fixture().await;
    let web = team(1);
    let env = f.production().await;
    f.publish(web, "web", "1.0.0", "main", "good").await;
    let deploy = |target: String| {
        f.broker
            .record(web, "web", "1.0.0", &env, Some(target), false)
    };
    let (first, _) = deploy("instance-0".into()).await.unwrap();
    for i in 1..MAX_RECORDED {
        deploy(format!("instance-{i}")).await.unwrap();
    }
    // As many current as kept: a new application instance is refused, nothing written.
    assert!(matches!(
        deploy("one-more".into()).await,
        Err(BrokerError::QuotaExceeded(_))
    ));
    let current = f
        .broker
        .currently_in(&env, Some("web"), false)
        .await
        .unwrap();
    assert_eq!(current.len(), MAX_RECORDED);
    // Redeploying an instance ends its deployment, which makes room for the new one.
    let (again, _) = deploy("instance-0".into()).await.unwrap();
    let current = f
        .broker
        .currently_in(&env, Some("web"), false)
        .await
        .unwrap();
    assert_eq!(current.len(), MAX_RECORDED);
    assert!(current.iter().any(|r| r.deployment.uuid == again.uuid));
    assert!(matches!(
        f.broker.deployment(&first.uuid, false).await,
        Err(BrokerError::NotFound(_))
    ));
}
