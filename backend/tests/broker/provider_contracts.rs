//! Provider contracts: comparisons made once per pact and document content, counted by
//! can-i-deploy (a failed self-verification fails them), behind a real verification of
//! the same pact, and documents counted against the provider's team.

use super::*;

/// A provider of team 3's, `billing`, with one operation.
fn document(with_total: bool) -> Value {
    let mut properties = json!({ "id": { "type": "string" } });
    if with_total {
        properties["total"] = json!({ "type": "number" });
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "billing", "version": "1" },
        "paths": { "/invoices/{id}": { "get": { "responses": { "200": {
            "description": "an invoice",
            "content": { "application/json": { "schema": {
                "type": "object", "properties": properties
            } } }
        } } } } }
    })
}

const BILLING: Caller = Caller {
    tenant: uuid::Uuid::from_u128(3),
    admin: false,
};

fn contract_request(doc: &Value, self_verified: bool) -> ProviderContractRequest {
    ProviderContractRequest {
        content: Some(base64::engine::general_purpose::STANDARD.encode(doc.to_string())),
        specification: Some("oas".into()),
        content_type: Some("application/json".into()),
        self_verification: json!({ "success": self_verified }),
        ..ProviderContractRequest::default()
    }
}

/// `web`'s pact with billing, asking for an invoice's `total`.
fn asking_for_total(version: &str) -> PublishRequest {
    let content = json!({
        "consumer": { "name": "web" },
        "provider": { "name": "billing" },
        "interactions": [{
            "description": "an invoice",
            "request": { "method": "GET", "path": "/invoices/7" },
            "response": { "status": 200, "body": { "id": "7", "total": 12.5 } }
        }],
        "metadata": { "pactSpecification": { "version": "3.0.0" } }
    });
    serde_json::from_value(json!({
        "pacticipantName": "web",
        "pacticipantVersionNumber": version,
        "contracts": [{
            "consumerName": "web",
            "providerName": "billing",
            "specification": "pact",
            "contentType": "application/json",
            "content": base64::engine::general_purpose::STANDARD.encode(content.to_string()),
        }]
    }))
    .unwrap()
}

async fn deploy(f: &Fixture, production: &str, pacticipant: &str, version: &str) {
    f.broker
        .record(ADMIN, pacticipant, version, production, None, false)
        .await
        .unwrap();
}

#[tokio::test]
async fn comparisons_count_in_can_i_deploy_once_per_content_and_behind_verifications() {
    let f = fixture().await;
    let production = f.production().await;
    let web = team(1);
    f.broker
        .publish_provider_contract(
            BILLING,
            "billing",
            "1",
            contract_request(&document(false), true),
        )
        .await
        .unwrap();
    deploy(&f, &production, "billing", "1").await;
    let sha = f
        .broker
        .publish(web, asking_for_total("1"))
        .await
        .unwrap()
        .pacts[0]
        .sha
        .clone();
    let m = f.can_i_deploy("web", "1").await;
    assert!(!m.deployable);
    let reasons: Vec<&str> = m.reasons.iter().map(|(_, t)| t.as_str()).collect();
    assert!(
        reasons.iter().any(|r| r.contains(
            "the pact expects `total`, which GET /invoices/{id}'s 200 does not document"
        )),
        "{reasons:#?}"
    );

    // The same document as version 2, and again as version 3: one comparison in all.
    for v in ["2", "3"] {
        f.broker
            .publish_provider_contract(
                BILLING,
                "billing",
                v,
                contract_request(&document(false), true),
            )
            .await
            .unwrap();
    }
    let comparisons = f
        .store
        .broker_list(CONTRACT_COMPARISON, None)
        .await
        .unwrap();
    assert_eq!(comparisons.len(), 1);

    // A document with the field: compatible — unless the provider's own tests failed.
    f.broker
        .publish_provider_contract(
            BILLING,
            "billing",
            "4",
            contract_request(&document(true), false),
        )
        .await
        .unwrap();
    deploy(&f, &production, "billing", "4").await;
    let m = f.can_i_deploy("web", "1").await;
    assert!(!m.deployable);
    assert!(
        m.reasons.iter().any(
            |(_, t)| t.contains("own verification of the OpenAPI document of version 4 failed")
        ),
        "{:#?}",
        m.reasons
    );
    f.broker
        .publish_provider_contract(
            BILLING,
            "billing",
            "5",
            contract_request(&document(true), true),
        )
        .await
        .unwrap();
    deploy(&f, &production, "billing", "5").await;
    let m = f.can_i_deploy("web", "1").await;
    assert!(m.deployable);
    // The row's result is the comparison, and it can be read where the row links to it.
    let compared = m.rows[0].verification.clone().expect("a comparison");
    let read = f
        .broker
        .verification("web", "billing", &compared.id)
        .await
        .unwrap();
    assert_eq!((read.id, read.success), (compared.id, true));

    // A real verification of the pact by version 5 takes precedence over the comparison.
    let request: VerificationRequest = serde_json::from_value(json!({
        "success": false,
        "providerApplicationVersion": "5",
    }))
    .unwrap();
    f.broker
        .publish_verification(BILLING, "web", "billing", &sha, request)
        .await
        .unwrap();
    assert!(!f.can_i_deploy("web", "1").await.deployable);
}

#[tokio::test]
async fn only_the_owner_publishes_documents_and_they_count_against_its_bytes() {
    let f = fixture().await;
    // Room for one of the two documents, not for both.
    let (small, large) = (
        document(false).to_string().len() as u64,
        document(true).to_string().len() as u64,
    );
    let broker = f.broker.clone().with_quota(Quota {
        bytes: small + large - 1,
        ..TENANT_QUOTA
    });
    broker
        .publish_provider_contract(
            BILLING,
            "billing",
            "1",
            contract_request(&document(false), true),
        )
        .await
        .unwrap();
    let r = broker
        .publish_provider_contract(
            team(1),
            "billing",
            "2",
            contract_request(&document(false), true),
        )
        .await;
    assert!(matches!(r, Err(BrokerError::Forbidden(_))), "{r:?}");
    let r = broker
        .publish_provider_contract(
            team(1),
            "docintel",
            "2",
            contract_request(&document(false), true),
        )
        .await;
    assert!(matches!(r, Err(BrokerError::Forbidden(_))), "{r:?}");
    assert_eq!(
        broker
            .usage(&BILLING.tenant.to_string())
            .await
            .unwrap()
            .bytes,
        small
    );
    // A second, different document does not fit; the same one again costs nothing.
    let r = broker
        .publish_provider_contract(
            BILLING,
            "billing",
            "2",
            contract_request(&document(true), true),
        )
        .await;
    assert!(matches!(r, Err(BrokerError::QuotaExceeded(_))), "{r:?}");
    broker
        .publish_provider_contract(
            BILLING,
            "billing",
            "2",
            contract_request(&document(false), true),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn an_operators_delete_takes_the_documents_with_it() {
    let f = fixture().await;
    for (v, doc) in [
        ("1", document(false)),
        ("2", document(true)),
        ("3", document(true)),
    ] {
        f.broker
            .publish_provider_contract(BILLING, "billing", v, contract_request(&doc, true))
            .await
            .unwrap();
    }
    let stored = |f: &Fixture| {
        let store = f.store.clone();
        async move {
            store
                .broker_list(PROVIDER_CONTRACT_CONTENT, Some("billing"))
                .await
                .unwrap()
                .len()
        }
    };
    assert_eq!(stored(&f).await, 2);
    // Version 1's document goes with it; version 2's stays, version 3 shares it.
    f.broker
        .delete_version(ADMIN, "billing", "1")
        .await
        .unwrap();
    assert_eq!(stored(&f).await, 1);
    f.broker
        .delete_version(ADMIN, "billing", "2")
        .await
        .unwrap();
    assert_eq!(stored(&f).await, 1);
    assert!(f.broker.provider_contract("billing", "3").await.is_ok());
    f.broker.delete_pacticipant(ADMIN, "billing").await.unwrap();
    assert_eq!(stored(&f).await, 0);
    assert!(f.broker.provider_contract("billing", "3").await.is_err());
}

#[tokio::test]
async fn a_failing_rows_reason_names_a_few_mismatches_and_counts_the_rest() {
    let f = fixture().await;
    let production = f.production().await;
    f.broker
        .publish_provider_contract(
            BILLING,
            "billing",
            "1",
            contract_request(&document(false), true),
        )
        .await
        .unwrap();
    deploy(&f, &production, "billing", "1").await;
    let mut request = asking_for_total("1");
    let mut content: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(
                request.contracts.as_ref().unwrap()[0]
                    .content
                    .as_ref()
                    .unwrap(),
            )
            .unwrap(),
    )
    .unwrap();
    for field in ["a", "b", "c", "d"] {
        content["interactions"][0]["response"]["body"][field] = json!(1);
    }
    request.contracts.as_mut().unwrap()[0].content =
        Some(base64::engine::general_purpose::STANDARD.encode(content.to_string()));
    f.broker.publish(team(1), request).await.unwrap();
    let m = f.can_i_deploy("web", "1").await;
    let reason = m
        .reasons
        .iter()
        .find(|(kind, _)| *kind == "error")
        .map(|(_, t)| t.clone())
        .unwrap();
    assert_eq!(reason.matches("the pact expects").count(), 3, "{reason}");
    assert!(reason.ends_with("(and 2 more)"), "{reason}");
}
