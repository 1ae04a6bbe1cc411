//! Webhooks' rules: which events a publication fires and how often, which provider
//! versions are to verify a pact, who may see and make which webhooks, the bound on a
//! team's queue, and retrying and disabling. The host's HTTP client is the one boundary
//! replaced here (by `Endpoint`, which answers a fixed status); tests/e2e/broker_webhooks.rs
//! sends to a real receiver.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use docintel_broker::webhooks::{
    self, Delivery, DeliveryPolicy, Execution, OutgoingRequest, Sent, WEBHOOK_DELIVERY,
    WEBHOOK_EXECUTION, parse_webhook,
};
use docintel_broker::*;
use serde_json::json;

use super::{ADMIN, PROVIDER, fixture, team};

/// The host's sending, replaced: answers `status`, and keeps what it was asked to send.
struct Endpoint {
    status: u16,
    sent: Mutex<Vec<OutgoingRequest>>,
    policy: Mutex<DeliveryPolicy>,
}

impl Endpoint {
    fn answering(status: u16) -> Self {
        Self {
            status,
            sent: Mutex::default(),
            policy: Mutex::new(DeliveryPolicy {
                retry_window: Duration::from_secs(3600),
                disable_after: 1000,
                disable_after_failing_for: Duration::from_secs(3600),
            }),
        }
    }
}

#[async_trait]
impl WebhookSink for Endpoint {
    async fn check_target(&self, url: &str) -> Result<(), String> {
        if url.starts_with("https://") {
            Ok(())
        } else {
            Err("https only here".to_owned())
        }
    }

    async fn send(&self, request: &OutgoingRequest) -> Sent {
        self.sent.lock().unwrap().push(request.clone());
        Sent {
            status: Some(self.status),
            body: None,
            error: None,
        }
    }

    fn backoff(&self, _attempts: u32) -> Duration {
        Duration::ZERO
    }

    fn policy(&self) -> DeliveryPolicy {
        *self.policy.lock().unwrap()
    }
}

fn hook(provider: Option<&str>, consumer: Option<&str>, events: &[&str]) -> webhooks::WebhookInput {
    let mut body = json!({
        "events": events.iter().map(|e| json!({ "name": e })).collect::<Vec<_>>(),
        "request": { "method": "POST", "url": "https://ci.example.com/build?v=${pactbroker.consumerVersionNumber}" },
    });
    if let Some(p) = provider {
        body["provider"] = json!({ "name": p });
    }
    if let Some(c) = consumer {
        body["consumer"] = json!({ "name": c });
    }
    parse_webhook(&body).unwrap()
}

/// The events queued, in order.
async fn queued(f: &super::Fixture) -> Vec<(String, String)> {
    f.store
        .broker_list(WEBHOOK_DELIVERY, None)
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            let d: Delivery = serde_json::from_str(&r.body).unwrap();
            (d.trigger.event, d.trigger.provider_version)
        })
        .collect()
}

async fn clear_queue(f: &super::Fixture) {
    for scope in f.store.broker_scopes(WEBHOOK_DELIVERY).await.unwrap() {
        f.store
            .broker_delete(WEBHOOK_DELIVERY, &scope, None)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_publication_fires_content_changed_once_and_only_when_the_content_changed() {
    let f = fixture().await;
    let ci = Endpoint::answering(200);
    let every = [
        webhooks::CONTRACT_PUBLISHED,
        webhooks::CONTRACT_CONTENT_CHANGED,
        webhooks::CONTRACT_REQUIRING_VERIFICATION_PUBLISHED,
    ];
    // Another team's pact names docintel first; web's first pact is before the webhook.
    f.publish(team(2), "app", "1", "main", "z").await;
    f.publish(team(1), "web", "0", "main", "first").await;
    f.broker
        .save_webhook(
            PROVIDER,
            None,
            hook(Some("docintel"), Some("web"), &every),
            &ci,
        )
        .await
        .unwrap();
    let event = |e: &str| (e.to_owned(), String::new());

    f.publish(team(1), "web", "1", "main", "a").await;
    assert_eq!(
        queued(&f).await,
        [
            event(webhooks::CONTRACT_PUBLISHED),
            event(webhooks::CONTRACT_CONTENT_CHANGED)
        ],
        "docintel has no main branch head nor deployment yet: nobody is to verify"
    );
    clear_queue(&f).await;
    // The same content, under the same version and under a new one: published, unchanged.
    f.publish(team(1), "web", "1", "main", "a").await;
    f.publish(team(1), "web", "2", "main", "a").await;
    assert_eq!(
        queued(&f).await,
        [
            event(webhooks::CONTRACT_PUBLISHED),
            event(webhooks::CONTRACT_PUBLISHED)
        ]
    );
    clear_queue(&f).await;
    f.publish(team(1), "web", "3", "main", "b").await;
    assert_eq!(
        queued(&f).await,
        [
            event(webhooks::CONTRACT_PUBLISHED),
            event(webhooks::CONTRACT_CONTENT_CHANGED)
        ]
    );
    // Another consumer's pacts fire nothing of a webhook naming this one.
    clear_queue(&f).await;
    f.publish(team(2), "app", "2", "main", "y").await;
    assert!(queued(&f).await.is_empty());
}

#[tokio::test]
async fn the_main_branch_head_and_each_deployed_version_is_to_verify_once() {
    let f = fixture().await;
    let ci = Endpoint::answering(200);
    let sha = f.publish(team(1), "web", "1", "main", "a").await;
    f.broker
        .save_webhook(
            PROVIDER,
            None,
            hook(
                Some("docintel"),
                None,
                &[webhooks::CONTRACT_REQUIRING_VERIFICATION_PUBLISHED],
            ),
            &ci,
        )
        .await
        .unwrap();
    // docintel's main has head p2 (p1 before it); p1 is deployed, p3 (a branch) released.
    f.verify("web", &sha, "p1", "main", true).await;
    f.broker
        .add_branch(PROVIDER, "docintel", "main", "p2")
        .await
        .unwrap();
    f.broker
        .add_branch(PROVIDER, "docintel", "feat", "p3")
        .await
        .unwrap();
    let production = f.production().await;
    f.broker
        .record(PROVIDER, "docintel", "p1", &production, None, false)
        .await
        .unwrap();
    f.broker
        .record(PROVIDER, "docintel", "p3", &production, None, true)
        .await
        .unwrap();
    f.broker
        .record(
            PROVIDER,
            "docintel",
            "p2",
            &production,
            Some("b".into()),
            false,
        )
        .await
        .unwrap();
    clear_queue(&f).await;

    f.publish(team(1), "web", "2", "main", "b").await;
    let mut versions: Vec<String> = queued(&f).await.into_iter().map(|(_, v)| v).collect();
    versions.sort();
    assert_eq!(versions, ["p1", "p2", "p3"], "each once, though p2 is both");
    // Content p1 has verified already needs no verification by p1 again.
    clear_queue(&f).await;
    f.publish(team(1), "web", "3", "main", "a").await;
    let mut versions: Vec<String> = queued(&f).await.into_iter().map(|(_, v)| v).collect();
    versions.sort();
    assert_eq!(versions, ["p2", "p3"]);
}

#[tokio::test]
async fn verification_results_fire_published_and_their_outcome() {
    let f = fixture().await;
    let ci = Endpoint::answering(200);
    let sha = f.publish(team(1), "web", "1", "main", "a").await;
    f.broker
        .save_webhook(
            PROVIDER,
            None,
            hook(
                Some("docintel"),
                Some("web"),
                &[
                    webhooks::VERIFICATION_PUBLISHED,
                    webhooks::VERIFICATION_SUCCEEDED,
                    webhooks::VERIFICATION_FAILED,
                ],
            ),
            &ci,
        )
        .await
        .unwrap();
    assert!(queued(&f).await.is_empty());
    f.verify("web", &sha, "p1", "main", false).await;
    assert_eq!(
        queued(&f).await,
        [
            (webhooks::VERIFICATION_PUBLISHED.to_owned(), "p1".to_owned()),
            (webhooks::VERIFICATION_FAILED.to_owned(), "p1".to_owned())
        ]
    );
}

#[tokio::test]
async fn teams_make_and_see_webhooks_only_for_what_they_own() {
    let f = fixture().await;
    let ci = Endpoint::answering(200);
    f.publish(team(1), "web", "1", "main", "a").await;
    f.publish(team(2), "app", "1", "main", "a").await;
    let (mine, _) = f
        .broker
        .save_webhook(
            team(1),
            None,
            hook(None, Some("web"), &["contract_published"]),
            &ci,
        )
        .await
        .unwrap();
    for (input, why) in [
        (
            hook(None, Some("app"), &["contract_published"]),
            "another team's consumer",
        ),
        (
            hook(Some("docintel"), None, &["contract_published"]),
            "the platform's provider",
        ),
        (hook(None, None, &["contract_published"]), "every pact"),
    ] {
        let refused = f.broker.save_webhook(team(1), None, input, &ci).await;
        assert!(
            matches!(refused, Err(BrokerError::Forbidden(_))),
            "{why}: {refused:?}"
        );
    }
    // A pair where one side is its own is its to hook (it is party to those pacts).
    f.broker
        .save_webhook(
            team(1),
            None,
            hook(Some("docintel"), Some("web"), &["contract_published"]),
            &ci,
        )
        .await
        .unwrap();
    assert_eq!(f.broker.webhooks(team(1), None).await.unwrap().len(), 2);
    assert!(f.broker.webhooks(team(2), None).await.unwrap().is_empty());
    assert!(matches!(
        f.broker.webhook(team(2), &mine.uuid).await,
        Err(BrokerError::NotFound(_))
    ));
    assert!(matches!(
        f.broker.delete_webhook(team(2), &mine.uuid).await,
        Err(BrokerError::NotFound(_))
    ));
    let taken = f
        .broker
        .save_webhook(
            team(2),
            Some(&mine.uuid),
            hook(None, Some("app"), &["contract_published"]),
            &ci,
        )
        .await;
    assert!(matches!(taken, Err(BrokerError::Forbidden(_))), "{taken:?}");
    assert_eq!(f.broker.webhook(team(1), &mine.uuid).await.unwrap(), mine);
    assert_eq!(f.broker.webhooks(ADMIN, None).await.unwrap().len(), 2);
    // A target the host refuses is refused at creation.
    let mut http = hook(None, Some("web"), &["contract_published"]);
    http.request.url = "http://internal/".into();
    assert!(matches!(
        f.broker.save_webhook(team(1), None, http, &ci).await,
        Err(BrokerError::Invalid(_))
    ));
}

#[tokio::test]
async fn a_teams_queue_is_bounded_and_what_does_not_fit_is_logged() {
    let f = fixture().await;
    let ci = Endpoint::answering(200);
    f.publish(team(1), "web", "0", "main", "a").await;
    let (w, _) = f
        .broker
        .save_webhook(
            team(1),
            None,
            hook(None, Some("web"), &["contract_published"]),
            &ci,
        )
        .await
        .unwrap();
    let limit = webhooks::MAX_QUEUED_PER_TENANT as usize;
    for i in 1..=limit + 2 {
        f.publish(team(1), "web", &i.to_string(), "main", "a").await;
    }
    assert_eq!(queued(&f).await.len(), limit);
    let logged: Vec<Execution> = f
        .store
        .broker_list(WEBHOOK_EXECUTION, Some(&w.uuid))
        .await
        .unwrap()
        .into_iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(logged.len(), 2);
    assert!(
        logged
            .iter()
            .all(|e| !e.success && e.logs.contains("not queued"))
    );
}

#[tokio::test]
async fn failures_are_retried_then_given_up_and_a_failing_webhook_is_disabled() {
    let f = fixture().await;
    let down = Endpoint::answering(503);
    {
        let mut policy = down.policy.lock().unwrap();
        policy.disable_after = 3;
        policy.disable_after_failing_for = Duration::ZERO;
    }
    f.publish(team(1), "web", "0", "main", "a").await;
    let (w, _) = f
        .broker
        .save_webhook(
            team(1),
            None,
            hook(None, Some("web"), &["contract_published"]),
            &down,
        )
        .await
        .unwrap();
    f.publish(team(1), "web", "1", "main", "a").await;
    let attempt = || async {
        let claimed = f
            .broker
            .claim_webhook_deliveries(Duration::from_secs(30), 16)
            .await
            .unwrap();
        // A claimed delivery is not claimed again while its lease holds.
        assert!(
            f.broker
                .claim_webhook_deliveries(Duration::from_secs(30), 16)
                .await
                .unwrap()
                .is_empty()
        );
        let n = claimed.len();
        for d in claimed {
            f.broker
                .attempt_webhook_delivery(&down, "https://broker", d)
                .await
                .unwrap();
        }
        n
    };
    assert_eq!(attempt().await, 1);
    assert_eq!(attempt().await, 1, "retried");
    let sent = down.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].url, "https://ci.example.com/build?v=1");
    assert_eq!(attempt().await, 1);
    let now = f.broker.webhook(team(1), &w.uuid).await.unwrap();
    assert!(!now.enabled, "disabled after 3 failures in a row");
    assert!(now.disabled_reason.unwrap().contains("503"));
    // A disabled webhook's deliveries are dropped, not sent.
    assert_eq!(attempt().await, 1);
    assert_eq!(down.sent.lock().unwrap().len(), 3);
    assert!(queued(&f).await.is_empty());
    // Enabling it again (an update) starts its count over.
    let again = f
        .broker
        .save_webhook(
            team(1),
            Some(&w.uuid),
            hook(None, Some("web"), &["contract_published"]),
            &down,
        )
        .await
        .unwrap()
        .0;
    assert!(again.enabled && again.consecutive_failures == 0);

    // Past the retry window a delivery is given up.
    down.policy.lock().unwrap().retry_window = Duration::ZERO;
    f.publish(team(1), "web", "2", "main", "a").await;
    // Times are milliseconds, and this endpoint's backoff is zero: an attempt in the
    // millisecond of the publish would still be inside a window of zero.
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(attempt().await, 1);
    assert!(queued(&f).await.is_empty());
}

#[tokio::test]
async fn concurrent_creates_never_take_a_team_past_its_cap() {
    let f = fixture().await;
    let ci = Endpoint::answering(200);
    f.publish(team(1), "web", "0", "main", "a").await;
    let creates = (0..webhooks::MAX_WEBHOOKS_PER_TENANT + 5).map(|_| {
        f.broker.save_webhook(
            team(1),
            None,
            hook(None, Some("web"), &["contract_published"]),
            &ci,
        )
    });
    let results = futures_util::future::join_all(creates).await;
    let made = results.iter().filter(|r| r.is_ok()).count();
    assert!(made <= webhooks::MAX_WEBHOOKS_PER_TENANT, "{made}");
    assert!(
        results
            .iter()
            .all(|r| r.is_ok() || matches!(r, Err(BrokerError::QuotaExceeded(_)))),
        "{results:?}"
    );
    assert_eq!(f.broker.webhooks(team(1), None).await.unwrap().len(), made);
    assert!(made > 0);
}

#[tokio::test]
async fn a_deleted_pacticipants_webhooks_go_with_it_and_never_hear_its_successor() {
    let f = fixture().await;
    let ci = Endpoint::answering(200);
    f.publish(team(1), "web", "1", "main", "a").await;
    f.broker
        .save_webhook(
            team(1),
            None,
            hook(Some("docintel"), Some("web"), &["contract_published"]),
            &ci,
        )
        .await
        .unwrap();
    clear_queue(&f).await;
    f.broker.delete_pacticipant(ADMIN, "web").await.unwrap();
    assert!(f.broker.webhooks(team(1), None).await.unwrap().is_empty());
    // Another team takes the name: its publications reach no webhook of the first team.
    f.publish(team(2), "web", "1", "main", "b").await;
    assert!(queued(&f).await.is_empty(), "{:?}", queued(&f).await);
}
