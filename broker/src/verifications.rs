//! Verification results: what a provider version found of a pact's content.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;

use crate::names::check_name;
use crate::pacts::Pact;
use crate::quota::Usage;
use crate::records::{self, Verification, now, pair};
use crate::requests::VerificationRequest;
use crate::{Broker, BrokerError, Caller, MAX_TEST_RESULTS_BYTES, Result, VerifiablePact};

/// The longest `metadata` segment read; a longer one is ignored like any unreadable one.
const MAX_METADATA_BYTES: usize = 4096;

/// How the pact a verification is published for was selected, as its URL's `metadata`
/// segment says (the Pact Broker's `w` and `p` keys).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Selection {
    pub wip: bool,
    pub pending: Option<bool>,
}

/// The `metadata` segment of a selected pact's URL, encoded as the Pact Broker does (a
/// query string in unpadded URL-safe base64); empty when there is nothing to say.
pub(crate) fn pact_metadata(pact: &VerifiablePact, include_pending_status: bool) -> String {
    let query = if pact.wip {
        "w=true".to_owned()
    } else if include_pending_status {
        format!("p={}", pact.pending)
    } else {
        return String::new();
    };
    URL_SAFE_NO_PAD.encode(query)
}

impl Selection {
    /// Reads a `metadata` segment. As with the Pact Broker, metadata it cannot read
    /// (another client's, a hand-edited URL) is ignored rather than refused: it only
    /// annotates the result, and the publisher may only annotate its own results.
    pub fn from_metadata(metadata: &str) -> Self {
        if metadata.len() > MAX_METADATA_BYTES {
            return Self::default();
        }
        let trimmed = metadata.trim_end_matches('=');
        let Some(bytes) = URL_SAFE_NO_PAD
            .decode(trimmed)
            .ok()
            .or_else(|| STANDARD.decode(metadata).ok())
        else {
            return Self::default();
        };
        let mut selection = Self::default();
        for (key, value) in form_urlencoded::parse(&bytes) {
            match (key.as_ref(), value.as_ref()) {
                ("w", "true") => selection.wip = true,
                ("p", "true") => selection.pending = Some(true),
                ("p", "false") => selection.pending = Some(false),
                _ => {}
            }
        }
        selection
    }
}

impl Broker {
    // ---- verification results ----

    /// Records a verification of a pact's content by a provider version.
    pub async fn publish_verification(
        &self,
        caller: Caller,
        consumer: &str,
        provider: &str,
        sha: &str,
        request: VerificationRequest,
    ) -> Result<(Verification, Pact)> {
        self.publish_selected_verification(
            caller,
            consumer,
            provider,
            sha,
            Selection::default(),
            request,
        )
        .await
    }

    /// Records a verification of a pact's content, published through the URL
    /// `for-verification` gave it: a work-in-progress pact's verification stays WIP.
    pub async fn publish_selected_verification(
        &self,
        caller: Caller,
        consumer: &str,
        provider: &str,
        sha: &str,
        selection: Selection,
        request: VerificationRequest,
    ) -> Result<(Verification, Pact)> {
        let pact = self.pact_by_sha(consumer, provider, sha).await?;
        let Some(success) = request.success else {
            return Err(BrokerError::invalid("success", "is missing"));
        };
        let number = request.provider_application_version.unwrap_or_default();
        check_name("providerApplicationVersion", &number)?;
        let test_results = serde_json::to_string(&request.test_results).unwrap_or_default();
        if test_results.len() > MAX_TEST_RESULTS_BYTES {
            return Err(BrokerError::TooLarge(format!(
                "testResults is {} bytes of JSON; the broker keeps at most {MAX_TEST_RESULTS_BYTES}",
                test_results.len()
            )));
        }
        self.claim(caller, provider).await?;
        let adding = Usage {
            bytes: test_results.len() as u64,
            ..self.new_version(provider, &number).await?
        };
        self.make_room(caller, adding).await?;
        self.touch_version(provider, &number, None, &[], request.build_url.as_deref())
            .await?;
        let verification = Verification {
            id: uuid::Uuid::now_v7().to_string(),
            sha: sha.to_owned(),
            provider_version: number,
            success,
            build_url: request.build_url,
            verified_by: request.verified_by,
            test_results: Value::Null,
            created_at: now(),
            wip: selection.wip,
            pending: selection.pending,
        };
        let scope = pair(consumer, provider);
        if !request.test_results.is_null() {
            // Stored as measured: serialised once.
            self.records
                .0
                .broker_insert(
                    records::TEST_RESULTS,
                    &scope,
                    &verification.id,
                    &test_results,
                )
                .await?;
        }
        self.records
            .insert(
                records::VERIFICATION,
                &scope,
                &verification.id,
                &verification,
            )
            .await?;
        self.verification_published(&pact, &verification).await;
        Ok((
            Verification {
                test_results: request.test_results,
                ..verification
            },
            pact,
        ))
    }

    /// Verifications of the pair, oldest first.
    pub async fn verifications(&self, consumer: &str, provider: &str) -> Result<Vec<Verification>> {
        Ok(self
            .records
            .list::<Verification>(records::VERIFICATION, Some(&pair(consumer, provider)))
            .await?
            .into_iter()
            .map(|s| s.value)
            .collect())
    }

    pub async fn verification(
        &self,
        consumer: &str,
        provider: &str,
        id: &str,
    ) -> Result<Verification> {
        let scope = pair(consumer, provider);
        let stored = self
            .records
            .get::<Verification>(records::VERIFICATION, &scope, id)
            .await?
            .map(|s| s.value);
        let mut verification = match stored {
            Some(v) => v,
            // A comparison of the pact with the provider's OpenAPI document counts as a
            // verification in the matrix, which links to it by the same kind of id.
            None => self
                .comparisons_as_verifications(std::slice::from_ref(&scope))
                .await?
                .into_iter()
                .map(|(_, v)| v)
                .find(|v| v.id == id)
                .ok_or_else(|| {
                    BrokerError::NotFound(format!("No verification result with id '{id}' found"))
                })?,
        };
        if let Some(results) = self
            .records
            .get::<Value>(records::TEST_RESULTS, &scope, id)
            .await?
        {
            verification.test_results = results.value;
        }
        Ok(verification)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_the_pact_broker_writes_is_read() {
        // `w=true`, and a selected pact's `s[][b]=feat&p=false` as Rack escapes it,
        // in unpadded and padded URL-safe base64.
        assert_eq!(
            Selection::from_metadata("dz10cnVl"),
            Selection {
                wip: true,
                pending: None
            }
        );
        let selected = Selection {
            wip: false,
            pending: Some(false),
        };
        assert_eq!(
            Selection::from_metadata("cyU1QiU1RCU1QmIlNUQ9ZmVhdCZwPWZhbHNl"),
            selected
        );
        assert_eq!(
            Selection::from_metadata("cyU1QiU1RCU1QmIlNUQ9ZmVhdCZwPWZhbHNl=="),
            selected
        );
        assert_eq!(Selection::from_metadata(""), Selection::default());
    }
}
